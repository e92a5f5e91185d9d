"""Rotating check-in / check-out codes for an activity (docs/volunteers.md, "Service hours").

A code is ``<window>-<mac>``: ``window`` is the 30-second window it was made in (seconds since
the epoch // 30) and ``mac`` the first 16 hex digits of HMAC-SHA256 over the activity's id, the
purpose ("in" or "out") and the window, keyed by the activity's ``qr_secret``. A code is valid in
its own window and the next one, so it lives at most 60 s; an older one is *expired*, one whose
mac does not match (another activity's, the other purpose's, a typo) is *wrong*.

Nothing personal is in a code: the scanned URL carries the activity's id and the code only.
"""

from __future__ import annotations

import hashlib
import hmac

from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput

WINDOW_SECONDS = 30
PURPOSES = ("in", "out")


def window_of(at=None) -> int:
    at = at or timezone.now()
    return int(at.timestamp()) // WINDOW_SECONDS


def _mac(activity, purpose: str, window: int) -> str:
    message = f"{activity.pk}:{purpose}:{window}".encode()
    return hmac.new(activity.qr_secret.encode(), message, hashlib.sha256).hexdigest()[:16]


def code_for(activity, *, purpose: str, at=None) -> str:
    """The code the organiser's page shows now (or at ``at``) for ``purpose``."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    window = window_of(at)
    return f"{window}-{_mac(activity, purpose, window)}"


def seconds_left(at=None) -> int:
    """Seconds until the code shown now is replaced (the page refreshes then)."""
    at = at or timezone.now()
    return WINDOW_SECONDS - int(at.timestamp()) % WINDOW_SECONDS


def check(activity, code: str, purpose: str, at=None) -> None:
    """Accept a code of this activity and purpose made in the current or the previous window;
    ``InvalidInput`` with code ``qr_wrong`` or ``qr_expired`` otherwise."""
    code = (code or "").strip()
    window_text, _sep, mac = code.partition("-")
    wrong = InvalidInput(_("This code does not belong to this activity's check-in or check-out. "
                           "Scan the code the organiser is showing now."), code="qr_wrong", field="code")
    if purpose not in PURPOSES or not window_text.isdigit() or len(mac) != 16:
        raise wrong
    window = int(window_text)
    if not hmac.compare_digest(mac, _mac(activity, purpose, window)):
        raise wrong
    now = window_of(at)
    if window > now:
        raise wrong
    if now - window > 1:
        raise InvalidInput(_("This code has expired (codes change every 30 seconds). "
                             "Scan the code the organiser is showing now."), code="qr_expired", field="code")
