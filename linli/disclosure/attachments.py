"""Attachments of board entries: PDF or image, recognised by content, hashed, stored by hash.

A file is accepted only if its bytes say what it is — never its name or declared type:

* a PDF starts with ``%PDF-`` and ends (within its last kilobyte) with ``%%EOF``; it is stored
  byte for byte;
* an image is whatever :func:`linli.cases.photos.clean_image` accepts (JPEG, PNG or WebP that
  Pillow opens and decodes, with the same decompression-bomb guards), re-encoded from bare
  pixels so that no EXIF (the place a phone wrote, its make) reaches the public board. The
  stored, hashed file is the re-encoded one (JPEG, or PNG where the image has transparency).

At most :data:`MAX_BYTES` (20 MB) as uploaded. The SHA-256 of the stored bytes goes into the
entry's leaf; the bytes live under the data dir, content-addressed
(``<LINLI_DISCLOSURE_FILES_DIR>/<first two hex digits>/<sha256>``), written once. A withdrawal
deletes them unless another entry that is not withdrawn holds the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.utils.translation import gettext as _

from linli.cases.photos import clean_image, read_upload
from linli.core.errors import InvalidInput
from linli.core.masking import scrub

from .leaf import sha256_hex

MAX_BYTES = 20 * 1024 * 1024
MAX_FILES = 10
PDF = "application/pdf"
TYPES = (PDF, "image/jpeg", "image/png")
_EXTENSIONS = {PDF: "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks, not yet stored."""

    name: str
    content: bytes
    content_type: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.content)


def files_dir() -> Path:
    configured = getattr(settings, "LINLI_DISCLOSURE_FILES_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "disclosure-files"


def too_big() -> InvalidInput:
    return InvalidInput(_("An attachment may be at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
                        code="attachment_too_big", field="attachments")


def not_accepted() -> InvalidInput:
    return InvalidInput(_("An attachment must be a PDF or an image (JPEG, PNG or WebP)."),
                        code="attachment_type", field="attachments")


def too_many() -> InvalidInput:
    return InvalidInput(_("At most %(n)d attachments.") % {"n": MAX_FILES}, code="attachment_too_many",
                        field="attachments")


def _read(upload) -> bytes:
    try:
        return read_upload(upload, MAX_BYTES)
    except InvalidInput as exc:  # the photo reader's words: this is an attachment
        raise too_big() from exc


def is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


def _clean_name(name: str, content_type: str) -> str:
    """The file name shown on the board: no folders, identifiers masked, the right extension."""
    stem = PurePath(str(name or "").replace("\\", "/")).name
    stem = scrub(stem).strip(". ")[:150]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{stem or _('attachment')}.{_EXTENSIONS[content_type]}"


def check_file(upload, *, name: str | None = None) -> CheckedFile:
    """Check one upload (an UploadedFile, a file object or bytes). Raises InvalidInput with
    code attachment_too_big or attachment_type."""
    data = _read(upload)
    name = name if name is not None else getattr(upload, "name", "")
    if is_pdf(data):
        return CheckedFile(name=_clean_name(name, PDF), content=data, content_type=PDF)
    try:
        image = clean_image(data, max_bytes=MAX_BYTES)
    except InvalidInput as exc:
        if exc.code == "photo_not_image":
            raise not_accepted() from exc
        raise InvalidInput(exc.message, code="attachment_too_big", field="attachments") from exc
    return CheckedFile(name=_clean_name(name, image.content_type), content=image.content,
                       content_type=image.content_type)


def check_files(uploads) -> list[CheckedFile]:
    uploads = [u for u in (uploads or []) if u is not None]
    if len(uploads) > MAX_FILES:
        raise too_many()
    return [u if isinstance(u, CheckedFile) else check_file(u) for u in uploads]


def relative_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def store(checked: CheckedFile) -> str:
    """Write the bytes once under their hash; returns the path relative to :func:`files_dir`."""
    rel = relative_path(checked.sha256)
    target = files_dir() / rel
    if target.exists() and sha256_hex(target.read_bytes()) == checked.sha256:
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(checked.content)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return rel


def read_bytes(attachment) -> bytes | None:
    """The stored bytes of an attachment, or None when they are gone (withdrawn, or missing)."""
    if not attachment.path:
        return None
    try:
        return (files_dir() / attachment.path).read_bytes()
    except FileNotFoundError:
        return None


def delete_unless_used(sha256: str) -> bool:
    """Delete the bytes with this hash unless an attachment that still has its bytes uses them."""
    from .models import Attachment

    if Attachment.objects.filter(sha256=sha256).exclude(path="").exists():
        return False
    target = files_dir() / relative_path(sha256)
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True
