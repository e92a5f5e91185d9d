"""Meal subsidies (助餐补贴): the canteen's rules, what one order is subsidised, and the month's claim
the street reimburses (docs/canteen.md, "Subsidies").

- A :class:`~linli.canteen.models.SubsidyRule` per criterion: the share of the price (percent) the
  subsidy pays, and how many subsidised meals a resident may have a day.
- :func:`subsidy_for`: the best (highest percent) active rule whose criterion the resident meets.
  The subsidy covers ONE portion of an order — the resident's own meal; further portions (for a
  companion) are paid in full. A resident has at most ``max_meals_per_day`` subsidised orders a day
  (their live orders of that day in this canteen with a subsidy count). The subsidy rounds DOWN to
  whole fen: ``price_fen * percent // 100``.
- :func:`claim`: subsidy fen by criterion for the orders served or delivered in a month.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import eligibility, rules
from .models import Order, SubsidyRule

EVENTS = {"canteen.rule_set": gettext_lazy("set a canteen subsidy rule")}

MAX_MEALS_PER_DAY = 3
# Orders whose meal reached the resident: what the street reimburses.
CLAIMED_STATUSES = (Order.Status.SERVED, Order.Status.DELIVERED)


class Subsidy(NamedTuple):
    criterion: str       # "" when none applies
    percent: int
    subsidy_fen: int
    payable_fen: int


def subsidised_today(canteen, resident, on: dt.date) -> int:
    """The resident's live subsidised orders of that day in this canteen."""
    return (Order.objects.filter(canteen=canteen, resident=resident, meal__day=on, subsidy_fen__gt=0)
            .exclude(status=Order.Status.CANCELLED).count())


def best_rule(canteen, resident, *, on: dt.date):
    """The highest-percent active rule the resident meets (ties: the rule's criterion order), or None."""
    rules_ = [r for r in canteen.subsidy_rules.filter(active=True, percent__gt=0) if r.criterion in eligibility.CRITERIA]
    if not rules_:
        return None
    met = eligibility.criteria_met(resident, on=on)
    order = {code: i for i, code in enumerate(eligibility.CRITERIA_ORDER)}
    fitting = sorted((r for r in rules_ if r.criterion in met), key=lambda r: (-r.percent, order[r.criterion]))
    return fitting[0] if fitting else None


def subsidy_for(canteen, resident, *, price_fen: int, quantity: int, on: dt.date) -> Subsidy:
    """What the subsidy pays of an order of ``quantity`` portions at ``price_fen`` each, on ``on``."""
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        raise InvalidInput(_("The price must be a positive whole number of fen."), code="price", field="price_fen")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidInput(_("Order at least one portion."), code="quantity", field="quantity")
    total = price_fen * quantity
    rule = best_rule(canteen, resident, on=on)
    if rule is None or subsidised_today(canteen, resident, on) >= rule.max_meals_per_day:
        return Subsidy("", 0, 0, total)
    subsidy = price_fen * rule.percent // 100
    return Subsidy(rule.criterion, rule.percent, subsidy, total - subsidy)


def rule_set(*, actor, canteen, criterion: str, percent: int, max_meals_per_day: int = 1,
             active: bool = True) -> SubsidyRule:
    """Create or change the canteen's rule for one criterion (the office). Existing orders keep
    the subsidy they were given."""
    if actor is not None and not rules.may_manage(actor, canteen):
        raise PermissionDenied(_("Only the community office sets subsidy rules."))
    if criterion not in eligibility.CRITERIA:
        raise InvalidInput(_("Unknown criterion."), code="criterion", field="criterion")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise InvalidInput(_("The share is a whole number from 0 to 100."), code="percent", field="percent")
    if (isinstance(max_meals_per_day, bool) or not isinstance(max_meals_per_day, int)
            or not 1 <= max_meals_per_day <= MAX_MEALS_PER_DAY):
        raise InvalidInput(_("Between 1 and %(max)d subsidised meals a day.") % {"max": MAX_MEALS_PER_DAY},
                           code="max_meals", field="max_meals_per_day")
    with transaction.atomic():
        rule, created = SubsidyRule.objects.update_or_create(
            canteen=canteen, criterion=criterion,
            defaults={"percent": percent, "max_meals_per_day": max_meals_per_day, "active": bool(active)})
        events.record(actor=actor, verb="canteen.rule_set", target=rule, community=canteen.community,
                      data={"canteen": canteen.pk, "criterion": criterion, "percent": percent,
                            "max_meals_per_day": max_meals_per_day, "active": bool(active), "created": created})
    return rule


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise InvalidInput(_("No such month."), code="month")
    first = dt.date(year, month, 1)
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
    return first, last


def claim(canteen, year: int, month: int) -> dict:
    """The month's subsidy claim: served and delivered orders with a subsidy, by criterion.

    ``{"canteen", "year", "month", "first", "last", "by_criterion": [{"criterion", "label",
    "orders", "portions", "subsidy_fen", "percent_now"}], "orders", "subsidy_fen", "rows"}``.
    ``rows`` (for the CSV): one per order — id, day, meal, criterion, unit price, portions,
    subsidy, payable, status, resident id (no names)."""
    first, last = month_range(year, month)
    qs = Order.objects.filter(canteen=canteen, meal__day__gte=first, meal__day__lte=last,
                              status__in=CLAIMED_STATUSES, subsidy_fen__gt=0)
    percents = dict(canteen.subsidy_rules.values_list("criterion", "percent"))
    by = []
    for row in (qs.order_by().values("subsidy_criterion")
                .annotate(orders=Count("pk"), portions=Sum("quantity"), fen=Sum("subsidy_fen"))
                .order_by("subsidy_criterion")):
        code = row["subsidy_criterion"]
        by.append({"criterion": code, "label": eligibility.label(code), "orders": row["orders"],
                   "portions": row["portions"] or 0, "subsidy_fen": row["fen"] or 0,
                   "percent_now": percents.get(code)})
    rows = list(qs.order_by("meal__day", "meal__starts_at", "pk").values_list(
        "pk", "meal__day", "meal__kind", "subsidy_criterion", "unit_price_fen", "quantity", "subsidy_fen",
        "payable_fen", "status", "resident_id"))
    return {
        "canteen": canteen.pk, "year": year, "month": month, "first": first, "last": last,
        "by_criterion": by, "orders": sum(b["orders"] for b in by),
        "subsidy_fen": sum(b["subsidy_fen"] for b in by), "rows": rows,
    }


CLAIM_COLUMNS = ("order", "day", "meal", "criterion", "unit_price_fen", "quantity", "subsidy_fen",
                 "payable_fen", "status", "resident_id")
