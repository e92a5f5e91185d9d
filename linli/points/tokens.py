"""The resident's counter code (docs/points.md, "Catalogue, partners and redemption").

A resident shows a QR code on their phone at a partner's counter (the canteen, the barber); the
cashier scans it or types it. The code reads ``<resident id>.<window>.<signature>``: the window is
the number of :data:`WINDOW_SECONDS`-long periods since the epoch, the signature an HMAC (the
server's secret key, salted for this purpose) of the community, the resident and the window. A
code is accepted in its own window and the next one only — at most 60 seconds — so a photo of
somebody's screen is worth nothing a minute later. The code carries no name, phone or door: the
resident's row id only, which says nothing without the registry.
"""

from __future__ import annotations

import datetime as dt
import hmac

from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from linli.community.models import Resident
from linli.core.errors import InvalidInput

WINDOW_SECONDS = 30
SALT = "linli.points.resident_qr"
SIGNATURE_LENGTH = 16
MAX_TOKEN_LENGTH = 64


def window_of(at: dt.datetime | None = None) -> int:
    return int((at or timezone.now()).timestamp()) // WINDOW_SECONDS


def _signature(community_id: int, resident_id: int, window: int) -> str:
    return salted_hmac(SALT, f"{community_id}|{resident_id}|{window}", algorithm="sha256").hexdigest()[
        :SIGNATURE_LENGTH]


def resident_token(resident: Resident, *, at: dt.datetime | None = None) -> str:
    """The counter code of ``resident`` for the window of ``at`` (now)."""
    window = window_of(at)
    return f"{resident.pk}.{window}.{_signature(resident.community_id, resident.pk, window)}"


def seconds_left(at: dt.datetime | None = None) -> int:
    """Seconds until the current window ends (the page refreshes before the code expires)."""
    now = (at or timezone.now()).timestamp()
    return WINDOW_SECONDS - int(now) % WINDOW_SECONDS


def _wrong():
    return InvalidInput(_("This is not a valid resident code. Ask the resident to show their code again."),
                        code="qr_wrong", field="resident_qr")


def resident_from_token(community, token: str, *, at: dt.datetime | None = None) -> Resident:
    """The resident whose code ``token`` is, in ``community``. Refused: a malformed or forged code,
    another community's resident (``qr_wrong``); a code older than the previous window
    (``qr_expired``)."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise _wrong()
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise _wrong()
    resident_id, window = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2].lower(), _signature(community.pk, resident_id, window)):
        raise _wrong()
    now = window_of(at)
    if window > now:
        raise _wrong()
    if window < now - 1:
        raise InvalidInput(_("This code has expired. Ask the resident to show the code on their phone again."),
                           code="qr_expired", field="resident_qr")
    resident = Resident.objects.filter(pk=resident_id, community=community).first()
    if resident is None:
        raise _wrong()
    return resident
