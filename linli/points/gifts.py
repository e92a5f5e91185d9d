"""Gifts of points: to another resident of the community, or to the community pool (docs/points.md,
"Earning, caps, gifts and expiry").

A resident gives from their own account only (the actor is the giver's account); one gift is at
most ``Policy.gift_max`` points and a month's gifts (local calendar month, reversed gifts not
counted) at most ``Policy.gift_month_max``; a gift to oneself, to a resident of another community
or beyond the balance (the database refuses, ``insufficient_points``) is refused, nothing moved.
The recipient is found by their mobile number (:func:`find_recipient`): at most
20 look-ups per giver in an hour and 60 in a day (``LOOKUP_LIMITS``), each one an event (``points.recipient_lookup``,
whether found, never the number), so that the form cannot be used to test which numbers belong to
the community's residents. The note goes on both statements scrubbed of phone numbers, ID numbers and the like
(:func:`linli.core.masking.scrub`).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.crypto import keyring
from linli.core.errors import InvalidInput, PermissionDenied, RateLimited
from linli.core.masking import scrub
from linli.core.validators import normalize_phone

from . import ledger
from .earning import policy_of
from .models import Account, Posting

NOTE_MAX = 120
# (look-ups, window): a gift looks its recipient up twice (check, then give), so 20 an hour is ten
# gifts; 60 a day bounds what one account can learn about which numbers are residents'.
LOOKUP_LIMITS = ((20, dt.timedelta(hours=1)), (60, dt.timedelta(days=1)))
LOOKUP_VERB = "points.recipient_lookup"


def find_recipient(*, actor, from_resident, phone: str):
    """The resident of the giver's community with this mobile number, or None. Refused
    (RateLimited) past ``LOOKUP_LIMITS`` look-ups by the giver; each look-up
    is recorded, found or not, without the number."""
    from linli.community.models import Resident
    from linli.core.models import Event

    now = timezone.now()
    with transaction.atomic():
        for limit, window in LOOKUP_LIMITS:
            recent = Event.objects.filter(verb=LOOKUP_VERB, actor=actor, created_at__gte=now - window)
            used = recent.count()
            if used >= limit:
                oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
                wait = max(60, int((oldest + window - now).total_seconds()))
                raise RateLimited(_("You have looked up %(n)s mobile numbers recently. Please try again "
                                    "in %(minutes)s minutes, or give to the community pool.")
                                  % {"n": used, "minutes": -(-wait // 60)}, retry_after=wait)
        found = (Resident.objects.filter(community_id=from_resident.community_id,
                                         phone_index__in=keyring().blind_indexes(normalize_phone(phone), "phone"))
                 .exclude(phone_index="").first())
        events.record(actor=actor, verb=LOOKUP_VERB, community=from_resident.community,
                      data={"found": found is not None})
    return found


def _month_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day = timezone.localdate(at)
    start = dt.datetime(day.year, day.month, 1)
    end = dt.datetime(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return timezone.make_aware(start), timezone.make_aware(end)


def given_this_month(account, *, at=None) -> int:
    """Points the account gave away in ``at``'s month (gifts reversed since not counted)."""
    start, end = _month_bounds(at or timezone.now())
    total = (Posting.objects.filter(account=account, amount__lt=0, transaction__kind="gift",
                                    transaction__posted=True, transaction__reversed_by__isnull=True,
                                    transaction__effective_at__gte=start, transaction__effective_at__lt=end)
             .aggregate(s=Sum("amount"))["s"])
    return -int(total or 0)


def gift(*, actor, from_resident, to_resident=None, points: int, note: str = "", at=None):
    """Move ``points`` from the giver to ``to_resident`` (None: the community pool)."""
    if actor is None or getattr(from_resident, "user_id", None) != getattr(actor, "pk", None):
        raise PermissionDenied(_("You can only give points from your own account."), code="not_own_account")
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidInput(_("Points must be a whole number above zero."), code="invalid_points", field="points")
    if to_resident is not None:
        if to_resident.pk == from_resident.pk:
            raise InvalidInput(_("You cannot give points to yourself."), code="gift_to_self")
        if to_resident.community_id != from_resident.community_id:
            raise InvalidInput(_("Points can be given only within your community."), code="other_community")
    community = from_resident.community
    policy = policy_of(community)
    if points > policy.gift_max:
        raise InvalidInput(_("One gift can be at most %(max)s points.") % {"max": policy.gift_max},
                           code="gift_too_large", field="points")
    at = at or timezone.now()
    with transaction.atomic():
        source = ledger.account_for(from_resident)
        # One gift at a time per giver: the month's total is read under the account's row lock.
        Account.objects.select_for_update().filter(pk=source.pk).first()
        already = given_this_month(source, at=at)
        if already + points > policy.gift_month_max:
            raise InvalidInput(
                _("Gifts are limited to %(max)s points a month; you can still give %(left)s this month.")
                % {"max": policy.gift_month_max, "left": max(0, policy.gift_month_max - already)},
                code="gift_month_limit", field="points")
        target = ledger.account_for(to_resident) if to_resident is not None else ledger.pool(community)
        memo = scrub(note or "").strip()[:NOTE_MAX]
        return ledger.post(community=community, kind="gift", lines=[(source, -points), (target, points)],
                           actor=actor, memo=memo, at=at)
