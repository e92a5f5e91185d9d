"""Sign-in throttling: per account and per address, with locks, every failure recorded.

docs/operations.md, "Sign-in", states the policy. In short:

* Every attempt first writes a ``SignInFailure`` row (pessimistically: it is deleted when the
  password turns out right), then counts the rows before it. The rows are the counters, in the
  database, so the limits hold across many web processes, and two parallel attempts cannot both
  miss each other (each counts after its own insert).
* An **account** is locked after ``LINLI_SIGNIN_ACCOUNT_LIMITS`` failures: ``(count, window,
  lock)`` in seconds, e.g. 5 failures within 15 minutes lock it for 15 minutes after the last.
  While locked the right password is refused too. Accounts are keyed by a hash of the typed
  name, so a name that does not exist locks alike and answers alike: the messages never tell
  whether an account exists.
* An **address** that failed ``LINLI_SIGNIN_ADDRESS_LIMITS`` times (any accounts) is refused
  for a while: one client cannot try one password on many accounts.
* Refused attempts are recorded (kind ``locked``/``throttled``) but do not count again, so a
  lock ends when it says it ends.
* A successful sign-in clears the account's earlier failures from the count (they stay in the
  record the user and the admins read); an admin with ``core.unlock_account`` clears them with
  :func:`unlock_account`, which writes a ``signin.unlocked`` event.

Nothing here logs a name, an address or a password.
"""

from __future__ import annotations

import ipaddress
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import events
from .models import SignInFailure

log = logging.getLogger("linli.signin")

# (failures, within seconds, locked for seconds after the last of them)
DEFAULT_ACCOUNT_LIMITS = ((5, 15 * 60, 15 * 60), (20, 24 * 3600, 24 * 3600))
DEFAULT_ADDRESS_LIMITS = ((20, 15 * 60, 15 * 60),)
# Failed sign-ins are kept this long, then the daily job deletes them.
DEFAULT_KEEP_DAYS = 90
# How far back "recent failed sign-ins" on the user's own page goes.
RECENT_DAYS = 30


def _limits(name: str, default) -> tuple[tuple[int, int, int], ...]:
    return tuple(tuple(int(x) for x in tier) for tier in getattr(settings, name, default))


def account_limits():
    return _limits("LINLI_SIGNIN_ACCOUNT_LIMITS", DEFAULT_ACCOUNT_LIMITS)


def address_limits():
    return _limits("LINLI_SIGNIN_ADDRESS_LIMITS", DEFAULT_ADDRESS_LIMITS)


# ----------------------------------------------------------------------------------------------
# Keys and addresses


def account_key(username: str) -> str:
    """A keyed hash of the typed account name, normalised (NFKC, case-folded, trimmed)."""
    normal = unicodedata.normalize("NFKC", username or "").strip().casefold()
    return salted_hmac("linli.signin.account", normal, algorithm="sha256").hexdigest()[:40]


def client_address(request) -> str:
    """The client's address; behind a reverse proxy, LINLI_CLIENT_IP_HEADER names the header."""
    if request is None:
        return ""
    header = getattr(settings, "LINLI_CLIENT_IP_HEADER", "") or "REMOTE_ADDR"
    return (request.META.get(header) or request.META.get("REMOTE_ADDR") or "").split(",")[0].strip()


def address_key(address: str) -> str:
    """A keyed hash of the address counted: an IPv4 address, or an IPv6 /64 (one subscriber's
    network, in which a client picks new addresses at will)."""
    unit = address or "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        if ip.version == 6 and ip.ipv4_mapped:
            unit = str(ip.ipv4_mapped)
        elif ip.version == 6:
            unit = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return salted_hmac("linli.signin.address", unit, algorithm="sha256").hexdigest()[:40]


def truncated(address: str) -> str:
    """What people may read of an address: IPv4 without its last byte, IPv6 its /48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:3]) + ".x"
    return f"{ipaddress.ip_network(f'{ip}/48', strict=False).network_address}/48"


# ----------------------------------------------------------------------------------------------
# Counting


def _blocked_until(times: list[datetime], tiers, now: datetime) -> datetime | None:
    """``times``: the counted failures, newest first. The latest moment a tier's lock runs to,
    if one is still running."""
    until = None
    for count, window, lock in tiers:
        if len(times) >= count and times[0] - times[count - 1] <= timedelta(seconds=window):
            ends = times[0] + timedelta(seconds=lock)
            if ends > now and (until is None or ends > until):
                until = ends
    return until


def _horizon(tiers) -> timedelta:
    return timedelta(seconds=max((window + lock for _, window, lock in tiers), default=0))


def _times(rows, tiers, now, *, exclude_pk=None) -> list[datetime]:
    largest = max((count for count, _, _ in tiers), default=0)
    rows = rows.filter(kind=SignInFailure.WRONG, created_at__gte=now - _horizon(tiers))
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return list(rows.order_by("-created_at", "-pk").values_list("created_at", flat=True)[:largest])


def account_locked_until(key: str, now: datetime | None = None, *, exclude_pk=None) -> datetime | None:
    now = now or timezone.now()
    tiers = account_limits()
    rows = SignInFailure.objects.filter(account_key=key, cleared_at__isnull=True)
    return _blocked_until(_times(rows, tiers, now, exclude_pk=exclude_pk), tiers, now)


def address_blocked_until(key: str, now: datetime | None = None, *, exclude_pk=None) -> datetime | None:
    now = now or timezone.now()
    tiers = address_limits()
    rows = SignInFailure.objects.filter(address_key=key)
    return _blocked_until(_times(rows, tiers, now, exclude_pk=exclude_pk), tiers, now)


def user_locked_until(user) -> datetime | None:
    """When the account's lock ends, or None (for the admin and the user's own page)."""
    keys = set(SignInFailure.objects.filter(user=user).values_list("account_key", flat=True).distinct())
    keys.add(account_key(user.get_username()))
    ends = [t for t in (account_locked_until(k) for k in keys) if t is not None]
    return max(ends) if ends else None


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def locked_message(until: datetime) -> str:
    return _("Too many failed sign-ins for this account. Try again after %(time)s, or ask your "
             "community office to unlock it.") % {"time": _when(until)}


def throttled_message(until: datetime) -> str:
    return _("Too many failed sign-ins from your network. Try again after %(time)s.") % {"time": _when(until)}


# ----------------------------------------------------------------------------------------------
# The attempt


@dataclass
class Attempt:
    row: SignInFailure

    def succeeded(self) -> None:
        """The password was right: the attempt was no failure, and earlier ones stop counting."""
        now = timezone.now()
        SignInFailure.objects.filter(pk=self.row.pk).delete()
        SignInFailure.objects.filter(account_key=self.row.account_key, kind=SignInFailure.WRONG,
                                     cleared_at__isnull=True).update(cleared_at=now)

    def failed(self) -> datetime | None:
        """The name or password was wrong: the row stays. Returns when the lock ends, if this
        failure completed one."""
        log.info("sign-in failed (record %s)", self.row.pk)
        return account_locked_until(self.row.account_key)


def begin(request, username: str) -> tuple[Attempt | None, str | None]:
    """Record the attempt before the password is checked. Returns ``(attempt, None)`` when the
    password may be checked, or ``(None, message)`` when the attempt is refused outright."""
    now = timezone.now()
    address = client_address(request)
    user_model = get_user_model()
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first() if username else None
    row = SignInFailure.objects.create(
        created_at=now, user=user, account_key=account_key(username), address_key=address_key(address),
        address=truncated(address), kind=SignInFailure.WRONG,
    )
    blocked = address_blocked_until(row.address_key, now, exclude_pk=row.pk)
    if blocked is not None:
        SignInFailure.objects.filter(pk=row.pk).update(kind=SignInFailure.THROTTLED)
        log.warning("sign-in refused: too many failures from one address (record %s)", row.pk)
        return None, throttled_message(blocked)
    locked = account_locked_until(row.account_key, now, exclude_pk=row.pk)
    if locked is not None:
        SignInFailure.objects.filter(pk=row.pk).update(kind=SignInFailure.LOCKED)
        log.warning("sign-in refused: account locked (record %s)", row.pk)
        return None, locked_message(locked)
    return Attempt(row), None


class ThrottledLoginMixin:
    """For Django's authentication forms: checks the throttle before the password, records the
    outcome after it. The messages are the same whether or not the account exists."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        attempt, refusal = begin(self.request, username)
        if refusal is not None:
            raise forms.ValidationError(refusal, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            until = attempt.failed()
            if until is not None:
                raise forms.ValidationError(locked_message(until), code="locked")
            raise
        attempt.succeeded()
        return cleaned


class SignInForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


# ----------------------------------------------------------------------------------------------
# Services and reads


@transaction.atomic
def unlock_account(*, actor, user) -> int:
    """Lift a lock: the account's failures stop counting (they stay on record). Writes one
    ``signin.unlocked`` event. Returns how many failures were cleared."""
    from django.core.exceptions import PermissionDenied

    if not (actor.is_superuser or actor.has_perm("core.unlock_account")):
        raise PermissionDenied(_("You may not unlock accounts."))
    keys = set(SignInFailure.objects.filter(user=user).values_list("account_key", flat=True).distinct())
    keys.add(account_key(user.get_username()))
    cleared = SignInFailure.objects.filter(account_key__in=keys, kind=SignInFailure.WRONG,
                                           cleared_at__isnull=True).update(cleared_at=timezone.now())
    events.record(actor=actor, verb="signin.unlocked", target=user, data={"failures_cleared": cleared})
    return cleared


def recent_failures(user, *, days: int = RECENT_DAYS, limit: int = 20):
    """The user's own failed sign-ins of the last ``days`` days, newest first."""
    if user is None or not getattr(user, "pk", None):
        return SignInFailure.objects.none()
    since = timezone.now() - timedelta(days=days)
    return SignInFailure.objects.filter(user=user, created_at__gte=since).order_by("-created_at", "-pk")[:limit]


def purge_old() -> dict:
    """The daily job: delete failures older than LINLI_SIGNIN_KEEP_DAYS."""
    days = int(getattr(settings, "LINLI_SIGNIN_KEEP_DAYS", DEFAULT_KEEP_DAYS))
    deleted, _ignored = SignInFailure.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return {"deleted": deleted}
