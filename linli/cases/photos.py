"""Photos with a case: checked by their content, stripped of metadata, stored re-encoded.

A resident's phone writes the place (GPS), the phone's make and model and the
time into every photo's EXIF. None of it may reach the handling unit or the
disk, so an upload is never stored as sent: it is decoded (only JPEG, PNG and
WebP, recognised by their bytes, never by name or declared type), turned the
way the camera held it, shrunk to at most 2048 px on the longest side and
encoded again from bare pixels, which carry no metadata at all.

Sizes are checked before decoding: the file's bytes, then the pixel count the
header declares and that count times the bits each pixel is stored in (a 16-bit
RGB PNG takes twice what an 8-bit one does), so a small file that would unpack to
gigabytes (a decompression bomb) is refused without being unpacked; only the
ordinary colour modes are accepted. A big photo is decoded reduced: JPEG at a
reduced DCT scale (``draft``), the others reduced right after decoding (``reduce``),
before any copy is made, so one photo adds at most about the size of its pixels
to a worker's memory.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import struct
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.core.errors import InvalidInput

from .models import CasePhoto

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
# The decoded image's budget in bits: what 40 million 8-bit RGB pixels hold. A pixel counts
# the bits the file stores it in, at least 24: a 16-bit RGB PNG (48 bits) may have 20 million.
MAX_PIXEL_BITS = MAX_PIXELS * 24
# Photos' colour modes; 16-bit and float greyscale ("I;16", "I", "F") are not photos.
ACCEPTED_MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr"}
# Pillow's own guard, for every decode in this process: warn past MAX_PIXELS, refuse past twice.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
MAX_SIDE = 2048
MAX_PHOTOS = 4
JPEG_QUALITY = 85
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class CleanImage:
    """A checked photo, re-encoded without metadata, not yet stored."""

    content: bytes
    content_type: str
    width: int
    height: int
    sha256: str

    def attach(self, case, stage: str):
        """Store the photo with a case; at most four per stage of one case."""
        if stage not in CasePhoto.Stage.values:
            raise ValueError(f"unknown photo stage {stage!r}")
        with transaction.atomic():
            # Counted under the case's row lock, so two uploads at once cannot make five.
            type(case).objects.select_for_update().filter(pk=case.pk).exists()
            if CasePhoto.objects.filter(case=case, stage=stage).count() >= MAX_PHOTOS:
                raise _too_many()
            photo = CasePhoto(case=case, stage=stage, content_type=self.content_type,
                              width=self.width, height=self.height, sha256=self.sha256)
            # A random name: the uploaded name may say who or where, and must not be guessable.
            name = f"{secrets.token_hex(12)}.{_EXTENSIONS[self.content_type]}"
            photo.image.save(name, ContentFile(self.content), save=True)
        return photo


def _too_big_bytes() -> InvalidInput:
    return InvalidInput(_("A photo may be at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
                        code="photo_too_big", field="photos")


def _too_many() -> InvalidInput:
    return InvalidInput(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, code="photo_too_many", field="photos")


def _not_image() -> InvalidInput:
    return InvalidInput(_("This file is not a JPEG, PNG or WebP photo."), code="photo_not_image", field="photos")


def read_upload(upload, max_bytes: int) -> bytes:
    """The upload's bytes (an UploadedFile, a file object or bytes), reading no more than one
    byte past the limit. Raises InvalidInput (code photo_too_big) beyond it."""
    if isinstance(upload, (bytes, bytearray, memoryview)):
        data = bytes(upload)
        if len(data) > max_bytes:
            raise _too_big_bytes()
        return data
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _too_big_bytes()
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_big_bytes()
    return data


def _open(data: bytes) -> Image.Image:
    # Pillow's own bomb guard warns (or raises) on its own, larger limit; ours comes first,
    # and a warning is turned into the same clear refusal.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_big_pixels(None)


def _too_big_pixels(max_pixels: int | None) -> InvalidInput:
    millions = (max_pixels or MAX_PIXELS) // 1_000_000
    return InvalidInput(_("A photo may have at most %(n)d million pixels.") % {"n": millions},
                        code="photo_too_big", field="photos")


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # IHDR colour type → channels


def _bits_per_pixel(image: Image.Image, data: bytes) -> int:
    """The bits the file stores a pixel in, from the header (at least 24: Pillow holds RGB
    pixels in 32 bits whatever the file says)."""
    if image.format == "PNG" and len(data) >= 26:
        depth, colour = data[24], data[25]
        bits = depth * _PNG_CHANNELS.get(colour, 4)
    else:
        bits = 8 * len(image.getbands())
    return max(bits, 24)


def _reduced(image: Image.Image) -> Image.Image:
    """An image decoded at full size, reduced by a whole factor at once to about MAX_SIDE,
    so that the copies that follow (turning, converting) are small."""
    factor = max(image.size) // MAX_SIDE
    if factor < 2:
        return image
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    return image.reduce(factor)


def clean_image(upload, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                max_pixel_bits: int = MAX_PIXEL_BITS) -> CleanImage:
    """Check one uploaded photo (an UploadedFile, a file object or bytes) and
    re-encode it without metadata. Raises InvalidInput with code photo_too_big
    or photo_not_image."""
    data = read_upload(upload, max_bytes)
    try:
        probe = _open(data)
        if probe.format not in ACCEPTED_FORMATS:
            raise _not_image()
        width, height = probe.size
        if width < 1 or height < 1:
            raise _not_image()
        if width * height > max_pixels:
            raise _too_big_pixels(max_pixels)
        if probe.mode not in ACCEPTED_MODES:
            raise _not_image()
        if width * height * _bits_per_pixel(probe, data) > max_pixel_bits:
            raise _too_big_pixels(max_pixel_bits // _bits_per_pixel(probe, data))
        probe.verify()  # structure and checksums, without decoding the pixels
        image = _open(data)  # verify() leaves the image unusable: open it again
        if image.format == "JPEG":
            # Decode big JPEGs at a reduced scale straight away (DCT scaling).
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
        image.load()
        image = _reduced(image)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, EOFError, IndexError,
            KeyError, struct.error, ZeroDivisionError):
        raise _not_image()
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block: keep the pixels as stored, the block is dropped anyway
        pass
    return _encode(image)


def _encode(image: Image.Image) -> CleanImage:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info) or (
        image.mode in ("RGB", "L") and "transparency" in image.info)
    mode = "RGBA" if has_alpha else "RGB"
    image = image.convert(mode)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Bare pixels in a new image: no EXIF, XMP, ICC profile, text chunks or comments survive.
    bare = Image.frombytes(mode, image.size, image.tobytes())
    out = io.BytesIO()
    if has_alpha:
        bare.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        content_type = "image/jpeg"
    content = out.getvalue()
    return CleanImage(content=content, content_type=content_type, width=bare.width, height=bare.height,
                      sha256=hashlib.sha256(content).hexdigest())


def clean_images(files) -> list[CleanImage]:
    """Check the photos of one request: at most four, each cleaned by :func:`clean_image`."""
    files = [f for f in (files or []) if f is not None]
    if len(files) > MAX_PHOTOS:
        raise _too_many()
    return [clean_image(f) for f in files]
