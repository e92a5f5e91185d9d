"""The installation's checkpoint signing key, kept outside the database (docs/transparency.md).

The key file holds one line, the Go ``golang.org/x/mod/sumdb/note`` signer key
``PRIVATE+KEY+<name>+<key id hex>+base64(0x01 ‖ seed)``, mode 0600, written by :func:`keygen`
(``linli disclosure keygen``). Its path is ``settings.LINLI_DISCLOSURE_KEY_FILE`` (default
``<data dir>/disclosure-signing.key``). The verifier key served at ``/disclosure/<code>/log/key`` is
``<name>+<key id hex>+base64(0x01 ‖ public key)``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from linli.core import signednote
from linli.core.errors import LinliError
from linli.core.signednote import Signer, Verifier


class SigningKeyMissing(LinliError):
    """No signing key is configured (or its file cannot be read as one)."""

    code = "signing_key_missing"
    status = 503

    def __init__(self, message=None):
        super().__init__(message or _(
            "No checkpoint signing key is configured: run “linli disclosure keygen” and set "
            "LINLI_DISCLOSURE_KEY_FILE. Nothing was published; the board stays as it was."))


def key_file() -> Path:
    configured = getattr(settings, "LINLI_DISCLOSURE_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "disclosure-signing.key"


def site_host() -> str:
    """The host the site is served at: the first configured host that is not a loopback or a
    wildcard, else ``localhost``."""
    configured = getattr(settings, "LINLI_DISCLOSURE_HOST", "") or ""
    if configured:
        return configured
    loopback = set(getattr(settings, "LOOPBACK_HOSTS", ())) | {"testserver"}
    for host in settings.ALLOWED_HOSTS:
        host = host.lstrip(".")
        if host and host not in loopback and "*" not in host:
            return host
    return "localhost"


def default_key_name() -> str:
    """``settings.LINLI_DISCLOSURE_KEY_NAME``, else the site's host."""
    return getattr(settings, "LINLI_DISCLOSURE_KEY_NAME", "") or site_host()


def keygen(name: str, out: Path) -> Verifier:
    """Write a new signer key for ``name`` to ``out`` (mode 0600; refuses to overwrite) and return
    its verifier. Raises ``FileExistsError`` or ``signednote.NoteError`` (an invalid name)."""
    signer = signednote.generate_signer(name)
    out = Path(out)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(str(signer) + "\n")
    return signer.verifier


def signer() -> Signer:
    """The signing key from the key file. Raises :class:`SigningKeyMissing`."""
    path = key_file()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise SigningKeyMissing() from None
    try:
        key = signednote.parse_signer(text.strip())
    except signednote.NoteError:
        raise SigningKeyMissing(_("The checkpoint signing key file cannot be read as a signer key.")) from None
    if key.alg != signednote.ALG_ED25519:
        raise SigningKeyMissing(_("The checkpoint signing key file holds a witness key, not a log key."))
    return key


def verifier() -> Verifier:
    return signer().verifier


def verifier_key_text() -> str:
    """``name+<key id hex>+base64(0x01 ‖ public key)``. Raises :class:`SigningKeyMissing`."""
    return str(verifier())


def fingerprint_of(verifier_text: str) -> str:
    """Five groups of four hex digits of SHA-256(verifier key text): short enough to read aloud
    from a poster and compare with what a checker fetched."""
    digest = hashlib.sha256(verifier_text.encode("utf-8")).hexdigest()[:20]
    return " ".join(digest[i:i + 4] for i in range(0, 20, 4))


def fingerprint() -> str:
    return fingerprint_of(verifier_key_text())


def origin_for(community) -> str:
    """The checkpoint origin of a community's log: ``<host>/disclosure/<code>``, fixed once the log
    exists (the stored one wins, so a later change of host does not fork the log)."""
    from .models import Log

    stored = Log.objects.filter(community=community).values_list("origin", flat=True).first()
    return stored or f"{site_host()}/disclosure/{community.code}"

