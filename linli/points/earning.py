"""Earning 睦邻积分 for service hours: the rules, the caps, the grant (docs/points.md, "Earning,
caps, gifts and expiry").

- :func:`points_for` turns minutes of one activity type into points: the community's rate per
  hour (its :class:`~linli.points.models.EarningRule`, else :data:`DEFAULT_RULES`) × minutes / 60
  × each multiplier's percent / 100, **rounded down once, at the end** (integer arithmetic, so
  90 minutes at 10/h with the night multiplier is 22, never 22.5 nor 21).
- :func:`grant` moves points from the community's issuance account to the resident's, through
  :func:`linli.points.ledger.post`, after the policy's daily and yearly caps: a grant that would
  pass a cap is **cut down to what is left** of it; with nothing left it posts nothing and
  returns None (the caller's record keeps the reason, :data:`CAPPED`).
- :func:`rules_set`, :func:`multipliers_set`, :func:`policy_set`: the office rules page's writes,
  one event each.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import ledger
from .models import Account, EarningRule, Multiplier, Policy, Posting

# The activity types (codes shared with linli/volunteers/skills.py, which sits above us).
ACTIVITY_TYPES = (
    ("visit", gettext_lazy("Visiting elders")),
    ("escort", gettext_lazy("Accompanying to the clinic")),
    ("meal_delivery", gettext_lazy("Delivering meals")),
    ("cleanup", gettext_lazy("Cleaning up the neighbourhood")),
    ("patrol", gettext_lazy("Safety patrol")),
    ("tutoring", gettext_lazy("Homework help")),
    ("event", gettext_lazy("Helping at an event")),
    ("other", gettext_lazy("Other help")),
)
MULTIPLIERS = (
    ("night", gettext_lazy("At night")),
    ("weather", gettext_lazy("In bad weather")),
    ("hard", gettext_lazy("Hard work")),
)

# Points per hour of a community with no EarningRule rows, and multipliers' percents without rows.
DEFAULT_RULES = {"visit": 10, "escort": 12, "meal_delivery": 10, "cleanup": 8, "patrol": 8, "tutoring": 10,
                 "event": 6, "other": 6}
DEFAULT_MULTIPLIERS = {"night": 150, "weather": 150, "hard": 130}

# Bounds the office page enforces (a typo of 1000 points an hour is refused in words).
MAX_PER_HOUR = 200
MAX_PERCENT = 500
POLICY_FIELDS = ("daily_cap", "yearly_cap", "expiry_months", "expiry_notice_days", "gift_max", "gift_month_max")

SOURCE_TYPE_RECORD = "volunteers.servicerecord"
CAPPED = "cap_reached"  # the reason a caller keeps when grant() returns None


def rates(community) -> tuple[dict[str, int], dict[str, int]]:
    """The community's points per hour by activity type and multipliers' percents: its rows
    over the defaults."""
    per_hour = dict(DEFAULT_RULES)
    per_hour.update(EarningRule.objects.filter(community=community).values_list("activity_type", "points_per_hour"))
    percents = dict(DEFAULT_MULTIPLIERS)
    percents.update(Multiplier.objects.filter(community=community).values_list("code", "percent"))
    return per_hour, percents


def compute_points(per_hour: int, minutes: int, percents: list[int] | tuple[int, ...] = ()) -> int:
    """per_hour × minutes / 60 × Π(percent / 100), rounded down once (pure)."""
    numerator = per_hour * minutes
    denominator = 60
    for percent in percents:
        numerator *= percent
        denominator *= 100
    return numerator // denominator


def points_for(*, community, activity_type: str, minutes: int, multipliers=()) -> int:
    """Points for ``minutes`` of ``activity_type`` with the named multipliers (each counted once)."""
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        raise InvalidInput(_("The minutes served must be a whole number, zero or more."), code="invalid_minutes")
    per_hour, percents = rates(community)
    if activity_type not in per_hour:
        raise InvalidInput(_("There is no earning rule for this kind of activity."), code="unknown_activity_type")
    codes = list(dict.fromkeys(multipliers or ()))
    unknown = [c for c in codes if c not in percents]
    if unknown:
        raise InvalidInput(_("There is no such multiplier."), code="unknown_multiplier")
    return compute_points(per_hour[activity_type], minutes, [percents[c] for c in codes])


def policy_of(community) -> Policy:
    """The community's policy; the defaults (unsaved) when it has none."""
    policy = Policy.objects.filter(community=community).first()
    return policy or Policy(community=community)


def _day_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day = timezone.localdate(at)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _year_bounds(at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    year = timezone.localdate(at).year
    return (timezone.make_aware(dt.datetime(year, 1, 1)), timezone.make_aware(dt.datetime(year + 1, 1, 1)))


def granted_between(account, start, end) -> int:
    """Points granted into the account with effective_at in [start, end), grants reversed since
    not counted."""
    total = (Posting.objects.filter(account=account, transaction__kind="grant", transaction__posted=True,
                                    transaction__reversed_by__isnull=True,
                                    transaction__effective_at__gte=start, transaction__effective_at__lt=end)
             .aggregate(s=Sum("amount"))["s"])
    return int(total or 0)


def room_left(account, *, policy, at) -> int:
    """What the daily and yearly caps still allow on ``at``'s day (local time)."""
    day = granted_between(account, *_day_bounds(at))
    year = granted_between(account, *_year_bounds(at))
    return max(0, min(policy.daily_cap - day, policy.yearly_cap - year))


def grant(*, actor, resident, points: int, source: tuple[str, str], memo: str = "", at=None):
    """Issuance → resident, cut to the caps; None when the caps leave nothing (nothing posted).

    A repeated ``source`` raises ``Conflict(code="already_posted")`` from the ledger."""
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise InvalidInput(_("Points must be a whole number above zero."), code="invalid_points")
    at = at or timezone.now()
    community = resident.community
    with transaction.atomic():
        account = ledger.account_for(resident)
        # One grant at a time per resident: the caps are read under the account's row lock.
        Account.objects.select_for_update().filter(pk=account.pk).first()
        allowed = min(points, room_left(account, policy=policy_of(community), at=at))
        if allowed <= 0:
            return None
        if allowed < points:
            memo = (memo + " " if memo else "") + _("(cut to the cap: %(asked)s asked)") % {"asked": points}
        return ledger.post(community=community, kind="grant",
                           lines=[(ledger.issuance(community), -allowed), (account, allowed)],
                           actor=actor, memo=memo[:200], source=source, at=at)


# --- the office rules page's writes -------------------------------------------------------------


def may_edit_rules(user, community) -> bool:
    from linli.community.scope import scope_of

    return (user is not None and getattr(user, "is_authenticated", False) and user.is_active
            and community.pk in scope_of(user).admin_communities)


def may_read_rules(user, community) -> bool:
    from linli.community.scope import reads_office_or_street

    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active
                and reads_office_or_street(user, community))


def _check_admin(actor, community):
    if not may_edit_rules(actor, community):
        raise PermissionDenied(_("Only the community's administrators change the points rules."))


def _whole(value, *, low: int, high: int, code: str, message) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(message, code=code)
    return value


def rules_set(*, actor, community, per_hour: dict[str, int]) -> dict[str, int]:
    """Points per hour by activity type (every type named must be known; 0–MAX_PER_HOUR)."""
    known = dict(ACTIVITY_TYPES)
    clean = {}
    for code, value in per_hour.items():
        if code not in known:
            raise InvalidInput(_("There is no earning rule for this kind of activity."), code="unknown_activity_type")
        clean[code] = _whole(value, low=0, high=MAX_PER_HOUR, code="invalid_rule",
                             message=_("Points per hour must be a whole number from 0 to %(max)s.")
                             % {"max": MAX_PER_HOUR})
    with transaction.atomic():
        _check_admin(actor, community)
        for code, value in clean.items():
            EarningRule.objects.update_or_create(community=community, activity_type=code,
                                                 defaults={"points_per_hour": value})
        events.record(actor=actor, verb="points.rules_changed", community=community, data={"per_hour": clean})
    return clean


def multipliers_set(*, actor, community, percents: dict[str, int]) -> dict[str, int]:
    known = dict(MULTIPLIERS)
    clean = {}
    for code, value in percents.items():
        if code not in known:
            raise InvalidInput(_("There is no such multiplier."), code="unknown_multiplier")
        clean[code] = _whole(value, low=100, high=MAX_PERCENT, code="invalid_multiplier",
                             message=_("A multiplier must be a whole percent from 100 to %(max)s.")
                             % {"max": MAX_PERCENT})
    with transaction.atomic():
        _check_admin(actor, community)
        for code, value in clean.items():
            Multiplier.objects.update_or_create(community=community, code=code, defaults={"percent": value})
        events.record(actor=actor, verb="points.multipliers_changed", community=community, data={"percent": clean})
    return clean


POLICY_BOUNDS = {
    "daily_cap": (1, 1000), "yearly_cap": (1, 100000), "expiry_months": (1, 120),
    "expiry_notice_days": (1, 365), "gift_max": (1, 10000), "gift_month_max": (1, 100000),
}


def policy_set(*, actor, community, **values) -> Policy:
    """The policy's caps, expiry and gift limits; unknown or out-of-range values refused."""
    clean = {}
    for name, value in values.items():
        if name not in POLICY_BOUNDS:
            raise InvalidInput(_("There is no such setting."), code="unknown_setting")
        low, high = POLICY_BOUNDS[name]
        clean[name] = _whole(value, low=low, high=high, code="invalid_policy",
                             message=_("This setting must be a whole number from %(low)s to %(high)s.")
                             % {"low": low, "high": high})
    policy = policy_of(community)
    merged = {name: clean.get(name, getattr(policy, name)) for name in POLICY_FIELDS}
    if merged["daily_cap"] > merged["yearly_cap"]:
        raise InvalidInput(_("The daily cap cannot be above the yearly cap."), code="invalid_policy")
    if merged["gift_max"] > merged["gift_month_max"]:
        raise InvalidInput(_("One gift cannot be above the monthly gift limit."), code="invalid_policy")
    if merged["expiry_notice_days"] >= merged["expiry_months"] * 28:
        raise InvalidInput(_("The notice must come before the points could expire."), code="invalid_policy")
    with transaction.atomic():
        _check_admin(actor, community)
        policy, _created = Policy.objects.update_or_create(community=community, defaults=merged)
        events.record(actor=actor, verb="points.policy_changed", target=policy, community=community,
                      data={"changed": clean})
    return policy
