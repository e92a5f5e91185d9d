"""API keys for Open311 and other systems: issue, check, revoke, and a per-key rate limit.

A key reads ``lk_<prefix>_<secret>``: ``lk_`` and eight lowercase letters or
digits (the prefix, stored in clear so operators can name a key), an
underscore, then 32 URL-safe random characters. Only the SHA-256 of the whole
key is stored; the plaintext is shown once, when the key is created.

The rate limit is a fixed one-minute window counted in the database
(:class:`~linli.cases.models.ApiKeyUsage`), so it holds however many web
processes and servers answer requests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Community
from linli.core import events
from linli.core import errors as core_errors
from linli.core.errors import InvalidInput

from .models import ApiKey, ApiKeyUsage

KEY_PREFIX = "lk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8          # "lk_" + 8 characters: what ApiKey.prefix holds
SECRET_LENGTH = 32
KEY_LENGTH = PREFIX_LENGTH + 1 + SECRET_LENGTH
MAX_RATE_PER_MINUTE = 100_000
MAX_NAME = 80
WINDOW = dt.timedelta(minutes=1)
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


class RateLimited(core_errors.RateLimited):
    """Too many requests with one key in the current minute."""


@dataclass(frozen=True)
class ApiClient:
    """The actor a keyed request acts as: the event log names the key, never a person."""

    api_key: ApiKey

    pk = None
    is_authenticated = False

    @property
    def username(self) -> str:
        return f"apikey:{self.api_key.prefix}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = KEY_PREFIX + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH - len(KEY_PREFIX)))
    secret = secrets.token_urlsafe(24)  # 24 bytes → 32 characters
    return prefix, f"{prefix}_{secret}"


def _check_rate(rate_per_minute) -> int:
    try:
        rate = int(rate_per_minute)
    except (TypeError, ValueError):
        rate = 0
    if isinstance(rate_per_minute, float) or not (1 <= rate <= MAX_RATE_PER_MINUTE):
        raise InvalidInput(
            _("The rate is a whole number of requests per minute, from 1 to %(max)d.") % {"max": MAX_RATE_PER_MINUTE},
            code="rate", field="rate_per_minute")
    return rate


@transaction.atomic
def apikey_create(*, actor, community: Community, name: str, rate_per_minute: int = 600) -> tuple[ApiKey, str]:
    """Issue a key for a community. Returns (key row, plaintext key); the plaintext
    is not stored anywhere and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the key a name, e.g. the system that will use it."), code="name", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(_("A key's name has at most %(n)d characters.") % {"n": MAX_NAME},
                           code="name", field="name")
    rate = _check_rate(rate_per_minute)
    for attempt in range(5):
        prefix, plaintext = _new_key()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(community=community, name=name, prefix=prefix,
                                                key_hash=_hash(plaintext), rate_per_minute=rate)
            break
        except IntegrityError:  # the prefix was taken: draw another
            if attempt == 4:
                raise
    events.record(actor=actor, verb="apikey.created", target=api_key, community=community,
                  data={"prefix": api_key.prefix, "rate_per_minute": rate})
    return api_key, plaintext


@transaction.atomic
def apikey_revoke(*, actor, api_key: ApiKey) -> ApiKey:
    """Stop a key working at once. Revoking a revoked key changes nothing."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if not api_key.active:
        return api_key
    api_key.active = False
    api_key.save(update_fields=["active"])
    events.record(actor=actor, verb="apikey.revoked", target=api_key, community=api_key.community,
                  data={"prefix": api_key.prefix})
    return api_key


def authenticate(key: str | None) -> ApiKey | None:
    """The active key this plaintext is, or None (missing, malformed, unknown, wrong or revoked)."""
    if not key or not isinstance(key, str) or len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return None
    if key[PREFIX_LENGTH] != "_":
        return None
    api_key = ApiKey.objects.select_related("community").filter(prefix=key[:PREFIX_LENGTH]).first()
    if api_key is None:
        # Hash anyway, so an unknown prefix takes as long as a wrong secret.
        hmac.compare_digest(_hash(key), "0" * 64)
        return None
    if not hmac.compare_digest(_hash(key), api_key.key_hash) or not api_key.active:
        return None
    return api_key


def _increment(api_key: ApiKey, window: dt.datetime) -> int | None:
    """Add one to the window's counter and read it back in one statement (UPDATE …
    RETURNING, SQLite 3.35+ and PostgreSQL); None when the window has no row yet."""
    connection = connections[ApiKeyUsage.objects.db]
    table = connection.ops.quote_name(ApiKeyUsage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "count" = "count" + 1 WHERE "api_key_id" = %s AND "window_start" = %s '
            'RETURNING "count"',
            [api_key.pk, connection.ops.adapt_datetimefield_value(window)])
        row = cursor.fetchone()
    return row[0] if row else None


def apikey_hit(api_key: ApiKey, *, now: dt.datetime | None = None) -> int:
    """Count one request against the key's current one-minute window; raise
    :class:`RateLimited` past the key's rate. Returns the requests left in the window.

    The counter row is incremented and read back by one ``UPDATE … SET count =
    count + 1 … RETURNING count``, a transaction of its own: two servers counting
    at once queue on the row's lock, and each reads its own increment. Only the
    first request of a window opens a transaction, to create the row.
    """
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    # Nearly always the window's row exists: one statement, its own transaction.
    count = _increment(api_key, window)
    if count is None:
        count = _open_window(api_key, window, now)
    if count > api_key.rate_per_minute:
        retry_after = max(1, int((window + WINDOW - now).total_seconds() + 0.999))
        raise RateLimited(
            _("Too many requests with this api_key: at most %(n)d a minute. Try again in %(s)d seconds.")
            % {"n": api_key.rate_per_minute, "s": retry_after},
            retry_after=retry_after)
    return api_key.rate_per_minute - count


def _open_window(api_key: ApiKey, window: dt.datetime, now: dt.datetime) -> int:
    """The first request of a window: create its row (or, losing a race, count in the winner's)."""
    with transaction.atomic():
        count = _increment(api_key, window)
        if count is None:
            try:
                with transaction.atomic():
                    ApiKeyUsage.objects.create(api_key=api_key, window_start=window, count=1)
                count = 1
            except IntegrityError:  # another server opened the window first
                count = _increment(api_key, window)
            else:
                # Once a minute per key: forget finished windows, note when the key was last used.
                ApiKeyUsage.objects.filter(api_key=api_key, window_start__lt=window).delete()
                ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return count
