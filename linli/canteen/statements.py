"""The canteen's monthly statement and its publication on the 三务公开 board (docs/canteen.md,
"Statements").

- :func:`monthly_statement`: counts and sums of one canteen's month (meals by their day): meals
  served on site, delivered, not at home, welfare checks opened, the subsidy by criterion in fen
  (the same figures as the street's claim, :func:`linli.canteen.subsidies.claim`), points taken,
  and what meals served and delivered cost in cash and by mobile payment. **No name and no
  resident** is in it: totals only.
- :func:`publish_statement`: the statement as text on the board, in the FINANCIAL section
  (subsidies are public money), through ``disclosure.services.publish_as_server``, once per
  canteen and month (``canteen.statement_published`` remembers it).
- :func:`publish_due`: the job ``canteen.publish_statements`` (daily): from the
  :data:`STATEMENT_DAY`-th of a month on (``LINLI_CANTEEN_STATEMENT_DAY``, default 5: late
  deliveries and corrections have days to come in), last month's statement of every canteen that
  had orders that month, once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, PermissionDenied
from linli.core.models import Event

from . import rules, subsidies
from .models import Canteen, Order

PUBLISHED_VERB = "canteen.statement_published"
EVENTS = {PUBLISHED_VERB: gettext_lazy("published the canteen's monthly statement")}
O = Order.Status


def statement_day() -> int:
    return int(getattr(settings, "LINLI_CANTEEN_STATEMENT_DAY", 5))


def yuan(fen: int) -> str:
    """12.34 from 1234 fen (integers only, no float on the way)."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    return subsidies.month_range(year, month)


def monthly_statement(canteen, year: int, month: int) -> dict:
    """``{"canteen", "name", "year", "month", "first", "last", "served", "served_portions",
    "delivered", "delivered_portions", "not_home", "welfare_checks", "subsidy_fen",
    "subsidies": [{"criterion", "label", "orders", "portions", "subsidy_fen"}], "points",
    "cash_fen", "mobile_fen"}``."""
    first, last = _month(year, month)
    month_orders = Order.objects.filter(canteen=canteen, meal__day__gte=first, meal__day__lte=last)
    done = Q(status__in=(O.SERVED, O.DELIVERED))
    totals = month_orders.aggregate(
        served=Count("pk", filter=Q(status=O.SERVED)),
        served_portions=Sum("quantity", filter=Q(status=O.SERVED)),
        delivered=Count("pk", filter=Q(status=O.DELIVERED)),
        delivered_portions=Sum("quantity", filter=Q(status=O.DELIVERED)),
        not_home=Count("pk", filter=Q(status=O.NOT_HOME)),
        welfare_checks=Count("welfare_case", distinct=True, filter=Q(welfare_case__isnull=False)),
        points=Sum("points", filter=~Q(status=O.CANCELLED) & Q(payment=Order.Payment.POINTS)),
        cash_fen=Sum("payable_fen", filter=done & Q(payment=Order.Payment.CASH)),
        mobile_fen=Sum("payable_fen", filter=done & Q(payment=Order.Payment.MOBILE)),
    )
    claim = subsidies.claim(canteen, year, month)
    return {
        "canteen": canteen.pk, "name": canteen.name, "year": year, "month": month, "first": first, "last": last,
        **{key: int(value or 0) for key, value in totals.items()},
        "subsidy_fen": claim["subsidy_fen"],
        "subsidies": [{key: row[key] for key in ("criterion", "label", "orders", "portions", "subsidy_fen")}
                      for row in claim["by_criterion"]],
    }


def statement_text(statement: dict) -> tuple[str, str]:
    """The board entry's title and body (the site's language)."""
    s = statement
    title = _("%(name)s: monthly statement %(year)s-%(month)02d") % s
    lines = [
        _("Meals served on site: %(served)s (%(served_portions)s portions).") % s,
        _("Meals delivered to homes: %(delivered)s (%(delivered_portions)s portions).") % s,
        _("Deliveries where nobody was at home: %(not_home)s; welfare checks opened: %(welfare_checks)s.") % s,
        _("Meal subsidies: %(yuan)s yuan in all.") % {"yuan": yuan(s["subsidy_fen"])},
    ]
    for row in s["subsidies"]:
        lines.append(_("- %(label)s: %(orders)s meals, %(yuan)s yuan") % {
            "label": row["label"], "orders": row["orders"], "yuan": yuan(row["subsidy_fen"])})
    lines += [
        _("Paid in points: %(points)s points.") % s,
        _("Paid in cash: %(cash)s yuan; by mobile payment: %(mobile)s yuan.") % {
            "cash": yuan(s["cash_fen"]), "mobile": yuan(s["mobile_fen"])},
        "",
        _("Totals only: no resident's name or order is published."),
    ]
    return title, "\n".join(lines)


def period_of(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def published_entry_id(canteen, year: int, month: int) -> int | None:
    """The board entry of that month's statement, if it was published."""
    data = (Event.objects.filter(verb=PUBLISHED_VERB, community_id=canteen.community_id,
                                 data__canteen=canteen.pk, data__period=period_of(year, month))
            .values_list("data", flat=True).first())
    return int(data["entry"]) if data else None


def may_read(user, canteen) -> bool:
    """The statement page: the community's office (the board then shows it to everyone)."""
    return rules.may_manage(user, canteen)


def may_publish(user, canteen) -> bool:
    """The community's office."""
    return rules.may_manage(user, canteen)


def publish_statement(*, actor, canteen, year: int, month: int, now=None):
    """Publish the month's statement on the board (financial affairs), once. ``actor`` None: the
    server (the job). Returns the board entry."""
    from linli.disclosure.models import Section
    from linli.disclosure.services import publish_as_server

    if actor is not None and not may_publish(actor, canteen):
        raise PermissionDenied(_("You may not publish for this canteen."))
    first, last = _month(year, month)
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    if end > (now or timezone.now()):
        raise Conflict(_("A month is published once it has ended."), code="month_not_over")
    with transaction.atomic():
        # Two workers at once: the canteen's row queues them, the second sees the first's event.
        Canteen.objects.select_for_update().filter(pk=canteen.pk).exists()
        if published_entry_id(canteen, year, month) is not None:
            raise Conflict(_("This month's statement is already on the board."), code="already_published")
        title, body = statement_text(monthly_statement(canteen, year, month))
        entry = publish_as_server(community=canteen.community, section=Section.FINANCE, title=title[:200],
                                  body=body, period_start=first, period_end=last)
        events.record(actor=actor, verb=PUBLISHED_VERB, target=canteen, community=canteen.community,
                      data={"canteen": canteen.pk, "period": period_of(year, month), "entry": entry.pk})
    return entry


def last_month(today: dt.date) -> tuple[int, int]:
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def publish_due(now=None) -> dict:
    """Publish last month's statement of every canteen that had orders that month and has none on
    the board. Before :func:`statement_day`, nothing."""
    today = timezone.localdate(now or timezone.now())
    if today.day < statement_day():
        return {"published": 0}
    year, month = last_month(today)
    first, last = _month(year, month)
    ids = (Order.objects.filter(meal__day__gte=first, meal__day__lte=last).exclude(status=O.CANCELLED)
           .order_by().values_list("canteen_id", flat=True).distinct())
    published = 0
    for canteen in Canteen.objects.filter(pk__in=list(ids)).select_related("community").order_by("pk"):
        try:
            publish_statement(actor=None, canteen=canteen, year=year, month=month, now=now)
        except Conflict as refusal:
            if refusal.code != "already_published":
                raise
            continue
        published += 1
    return {"published": published}
