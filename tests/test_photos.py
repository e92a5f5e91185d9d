"""Photos with a case: checked by content, stripped of EXIF (GPS, camera), shrunk, stored, served in scope."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from django.utils import translation
from PIL import ExifTags, Image, PngImagePlugin

from linli.cases import services
from linli.cases.models import CasePhoto
from linli.cases.photos import CleanImage, clean_image, clean_images
from linli.cases.views_photos import case_photo
from linli.core.errors import InvalidInput


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def jpeg_with_exif(size=(64, 48), orientation=None) -> bytes:
    """A real JPEG carrying what a phone writes: make, model, GPS position, and an orientation."""
    image = Image.new("RGB", size, (20, 120, 20))
    image.paste((250, 10, 10), (0, 0, 16, 16))  # a red block in the stored top-left corner
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS-R5-SECRET"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (30.0, 40.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (104.0, 3.0, 55.25)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_bytes(size=(40, 30), mode="RGBA", text=None) -> bytes:
    image = Image.new(mode, size, (0, 0, 255, 128) if mode == "RGBA" else (0, 0, 255))
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", text)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes could never hold: a decompression bomb's header."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def refusal(upload, **kwargs) -> dict:
    with pytest.raises(InvalidInput) as caught:
        clean_image(upload, **kwargs)
    return caught.value.as_dict()


def test_original_test_photo_really_carries_gps_and_camera():
    exif = Image.open(io.BytesIO(jpeg_with_exif())).getexif()
    assert exif[ExifTags.Base.Model] == "EOS-R5-SECRET"
    assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"


def test_jpeg_is_reencoded_without_any_exif_gps_or_camera_model():
    clean = clean_image(SimpleUploadedFile("IMG_0001.jpg", jpeg_with_exif(), content_type="image/jpeg"))
    assert clean.content_type == "image/jpeg"
    assert (clean.width, clean.height) == (64, 48)
    stored = Image.open(io.BytesIO(clean.content))
    assert stored.format == "JPEG"
    assert len(stored.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(stored.info)
    assert b"Exif" not in clean.content
    assert b"Canon" not in clean.content and b"EOS-R5-SECRET" not in clean.content
    assert len(clean.sha256) == 64


def test_exif_orientation_is_applied_before_the_metadata_is_dropped():
    # Orientation 6: the camera was turned; the picture is shown rotated 90° clockwise.
    clean = clean_image(jpeg_with_exif(size=(64, 48), orientation=6))
    assert (clean.width, clean.height) == (48, 64)
    shown = Image.open(io.BytesIO(clean.content)).convert("RGB")
    red, green, _blue = shown.getpixel((47 - 4, 4))  # the stored top-left is now top-right
    assert red > 200 and green < 80
    red, green, _blue = shown.getpixel((4, 4))
    assert red < 80 and green > 90


def test_png_with_transparency_stays_png_and_loses_its_text_chunks():
    clean = clean_image(png_bytes(text="Zhang San, Room 101"))
    assert clean.content_type == "image/png"
    stored = Image.open(io.BytesIO(clean.content))
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert (stored.width, stored.height) == (40, 30)
    assert b"Zhang San" not in clean.content
    assert "Author" not in stored.info


def test_opaque_png_and_webp_are_stored_as_jpeg():
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 200, 0)).save(out, "WEBP")
    for data in (png_bytes(mode="RGB"), out.getvalue()):
        clean = clean_image(data)
        assert clean.content_type == "image/jpeg"
        assert Image.open(io.BytesIO(clean.content)).format == "JPEG"


def test_longest_side_is_capped_at_2048_pixels():
    out = io.BytesIO()
    Image.new("RGB", (4096, 1024), (1, 2, 3)).save(out, "JPEG")
    clean = clean_image(out.getvalue())
    assert (clean.width, clean.height) == (2048, 512)


def test_text_file_named_jpg_is_refused_whatever_its_declared_type():
    upload = SimpleUploadedFile("photo.jpg", b"just some text, not a photo", content_type="image/jpeg")
    assert refusal(upload) == {"code": "photo_not_image", "message": "This file is not a JPEG, PNG or WebP photo.",
                               "field": "photos"}


def test_other_image_formats_and_truncated_files_are_refused():
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert refusal(gif.getvalue())["code"] == "photo_not_image"
    jpeg = jpeg_with_exif()
    assert refusal(jpeg[: len(jpeg) // 2])["code"] == "photo_not_image"
    assert refusal(b"")["code"] == "photo_not_image"


def test_image_with_too_many_pixels_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, "PNG")  # 50 million pixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    assert refusal(out.getvalue()) == {"code": "photo_too_big", "field": "photos",
                                       "message": "A photo may have at most 40 million pixels."}


def test_decompression_bomb_header_is_refused_as_too_big():
    assert refusal(png_header_only(50_000, 50_000))["code"] == "photo_too_big"  # past Pillow's own guard too
    assert refusal(png_header_only(9_000, 9_000))["code"] == "photo_too_big"


def test_file_over_the_byte_limit_is_refused():
    data = jpeg_with_exif()
    assert refusal(data, max_bytes=len(data) - 1) == {"code": "photo_too_big", "field": "photos",
                                                      "message": "A photo may be at most 8 MB."}
    assert refusal(SimpleUploadedFile("a.jpg", data), max_bytes=100)["code"] == "photo_too_big"
    assert clean_image(data, max_bytes=len(data)).width == 64


def test_more_than_four_photos_are_refused():
    with pytest.raises(InvalidInput) as caught:
        clean_images([jpeg_with_exif()] * 5)
    assert caught.value.as_dict() == {"code": "photo_too_many", "message": "At most 4 photos.", "field": "photos"}
    assert len(clean_images([jpeg_with_exif()] * 4)) == 4
    assert clean_images([]) == []


# --- stored with a case, served in scope ---------------------------------------------------------

def raise_case(world, photos=()):
    resident = world.residents[0]
    case, _created = services.case_submit(actor=world.users["resident"], intake=services.Intake(
        community=world.community, channel="web", description="楼道里堆满了垃圾，很久没人清理",
        reporter=resident, place="grid", grid=world.grids[0], photos=list(photos)))
    return case


def test_attached_photo_is_stored_under_a_random_name_without_metadata(world, settings):
    case = raise_case(world, clean_images([SimpleUploadedFile("张三家门口.jpg", jpeg_with_exif())]))
    photo = case.photos.get()
    assert (photo.stage, photo.content_type, photo.width, photo.height) == ("intake", "image/jpeg", 64, 48)
    assert "张三" not in photo.image.name and photo.image.name.startswith("cases/")
    assert photo.image.path.startswith(str(settings.MEDIA_ROOT))
    with photo.image.open("rb") as handle:
        data = handle.read()
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    assert len(Image.open(io.BytesIO(data)).getexif()) == 0
    assert b"EOS-R5-SECRET" not in data


def test_a_fifth_photo_of_one_stage_is_refused(world):
    images = clean_images([png_bytes()] * 4)
    case = raise_case(world, images)
    with pytest.raises(InvalidInput) as caught:
        images[0].attach(case, "intake")
    assert caught.value.code == "photo_too_many"
    assert isinstance(images[0].attach(case, "resolution"), CasePhoto)  # the result has its own four
    assert case.photos.filter(stage="intake").count() == 4


def _get_photo(world, user, case, photo):
    request = RequestFactory().get("/")
    request.user = user
    return case_photo(request, number=case.number, photo_id=photo.pk)


def test_photo_is_served_to_the_reporter_and_the_community_staff(world):
    case = raise_case(world, [clean_image(jpeg_with_exif())])
    photo = case.photos.get()
    for name in ("resident", "worker", "grid1"):
        response = _get_photo(world, world.users[name], case, photo)
        assert response.status_code == 200, name
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, max-age=3600"
        body = b"".join(response.streaming_content)
        assert body[:2] == b"\xff\xd8"
        response.file_to_stream.close()  # not response.close(): that signals the end of a request


def test_photo_is_hidden_from_other_communities_other_grids_and_strangers(world):
    case = raise_case(world, [clean_image(jpeg_with_exif())])
    photo = case.photos.get()
    # The street supervisor reads aggregates and scrubbed text, not photos (issue 8 A1).
    for name in ("z_worker", "grid2", "nobody", "unit_staff", "leader", "supervisor"):
        with pytest.raises(Http404):
            _get_photo(world, world.users[name], case, photo)
    other = raise_case(world, [clean_image(png_bytes())])
    with pytest.raises(Http404):  # a photo id of another case, even a visible one
        case_photo(_request(world.users["resident"]), number=case.number, photo_id=other.photos.get().pk)


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_photo_asks_a_signed_out_visitor_to_sign_in(world):
    case = raise_case(world, [clean_image(jpeg_with_exif())])
    response = case_photo(_request(AnonymousUser()), number=case.number, photo_id=case.photos.get().pk)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_clean_image_is_a_plain_value():
    clean = clean_image(png_bytes())
    assert isinstance(clean, CleanImage)
    with pytest.raises(AttributeError):
        clean.content = b""


# --- issue 8 A8: pixels × bit depth, colour modes, decoding reduced -----------------------------

def png_raw(width: int, height: int, depth: int, colour: int) -> bytes:
    """A complete PNG of any bit depth and colour type (Pillow writes no 16-bit RGB), a few
    hundred kilobytes that decode to ``width × height`` pixels of a repeating pattern."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row_bytes = width * channels * depth // 8
    row = b"\0" + (bytes(range(256)) * (row_bytes // 256 + 1))[:row_bytes]
    packer = zlib.compressobj(1)
    idat = b"".join([packer.compress(row) for _ in range(height)] + [packer.flush()])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_16_bit_png_counts_its_bits_and_is_refused_before_decoding():
    data = png_raw(5000, 5000, 16, 2)  # 25 million pixels, under the pixel cap, 48 bits each
    assert len(data) < 2 * 1024 * 1024
    assert refusal(data) == {"code": "photo_too_big", "field": "photos",
                             "message": "A photo may have at most 20 million pixels."}
    assert clean_image(png_raw(300, 200, 16, 2)).content_type == "image/jpeg"  # a small one is fine


def test_a_16_bit_greyscale_png_is_not_a_photo():
    assert refusal(png_raw(64, 64, 16, 0))["code"] == "photo_not_image"


SCRIPT = """
import resource, sys
import django
django.setup()
from linli.cases.photos import clean_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clean = clean_image(data)
assert (clean.width, clean.height) == (2048, 1638), (clean.width, clean.height)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_big_png_is_reduced_as_soon_as_it_is_decoded(tmp_path):
    """20 million pixels hold 80 MB in Pillow; decoded and then converted and shrunk at full
    size the photo added about 200 MB to the process, reduced at once it adds about 100."""
    import os
    import subprocess
    import sys

    path = tmp_path / "big.png"
    path.write_bytes(png_raw(5000, 4000, 8, 2))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip().splitlines()[-1]) < 150  # MB
