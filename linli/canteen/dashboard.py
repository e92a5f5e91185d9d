"""The canteen's dashboard: counts only, no names (docs/canteen.md, "Dashboard").

- Meals a day over the last 30 days — portions served on site and delivered — as an inline SVG bar
  chart drawn on the server (no JavaScript).
- Delivery coverage of eligible elders: eligible residents (:func:`eligibility.eligible_residents`,
  one SQL query) with at least one delivered meal in the last 30 days, over all eligible residents.
- Not-at-home outcomes and welfare checks opened in the last 30 days; subsidies this month.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from . import eligibility, subsidies
from .models import Order

DAYS = 30
S = Order.Status


def daily_meals(canteen, *, first: dt.date, last: dt.date) -> list[dict]:
    """[{day, onsite, delivered}] for every day from ``first`` to ``last`` (portions)."""
    rows = {r["meal__day"]: r for r in (
        Order.objects.filter(canteen=canteen, meal__day__gte=first, meal__day__lte=last,
                             status__in=(S.SERVED, S.DELIVERED))
        .order_by().values("meal__day")
        .annotate(onsite=Sum("quantity", filter=Q(status=S.SERVED)),
                  delivered=Sum("quantity", filter=Q(status=S.DELIVERED))))}
    days = []
    day = first
    while day <= last:
        row = rows.get(day, {})
        days.append({"day": day, "onsite": row.get("onsite") or 0, "delivered": row.get("delivered") or 0})
        day += dt.timedelta(days=1)
    return days


def bar_chart(days: list[dict], *, width: int = 640, height: int = 200) -> str:
    """Stacked bars (on site below, delivered above) as inline SVG, with a title per bar."""
    top = max([d["onsite"] + d["delivered"] for d in days] + [1])
    pad_left, pad_bottom, pad_top = 36, 22, 8
    inner_h = height - pad_bottom - pad_top
    step = (width - pad_left) / max(len(days), 1)
    bar = max(step * 0.7, 2)
    title = escape(_("Meals a day, last 30 days: on site and delivered"))
    parts = [f'<svg class="canteen-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="canteen-chart-title" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="canteen-chart-title">{title}</title>']
    parts.append(f'<line x1="{pad_left}" y1="{pad_top + inner_h}" x2="{width}" y2="{pad_top + inner_h}" class="axis"/>')
    parts.append(f'<text x="{pad_left - 4}" y="{pad_top + 10}" text-anchor="end" class="tick">{top}</text>')
    parts.append(f'<text x="{pad_left - 4}" y="{pad_top + inner_h}" text-anchor="end" class="tick">0</text>')
    for i, d in enumerate(days):
        x = pad_left + i * step + (step - bar) / 2
        h_on = inner_h * d["onsite"] / top
        h_del = inner_h * d["delivered"] / top
        label = escape(_("%(day)s: %(onsite)d on site, %(delivered)d delivered")
                       % {"day": d["day"].isoformat(), "onsite": d["onsite"], "delivered": d["delivered"]})
        parts.append(f'<g><title>{label}</title>'
                     f'<rect class="onsite" x="{x:.1f}" y="{pad_top + inner_h - h_on:.1f}" width="{bar:.1f}" height="{h_on:.1f}"/>'
                     f'<rect class="delivered" x="{x:.1f}" y="{pad_top + inner_h - h_on - h_del:.1f}" width="{bar:.1f}" '
                     f'height="{h_del:.1f}"/></g>')
        if (len(days) - 1 - i) % 7 == 0:   # every week, counted back from the last day
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle" class="tick">'
                         f'{d["day"].month}/{d["day"].day}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def coverage(canteen, *, today: dt.date) -> dict:
    """Eligible residents, those of them with a delivered meal in the last 30 days, and the share
    in whole percent (None when nobody is eligible)."""
    first = today - dt.timedelta(days=DAYS - 1)
    eligible = eligibility.eligible_residents(canteen, on=today)
    total = eligible.count()
    delivered_to = Order.objects.filter(canteen=canteen, status=S.DELIVERED, meal__day__gte=first,
                                        meal__day__lte=today).values("resident_id")
    covered = eligible.filter(pk__in=delivered_to).count() if total else 0
    return {"eligible": total, "covered": covered, "percent": (covered * 100 // total) if total else None}


def dashboard(canteen, *, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=DAYS - 1)
    days = daily_meals(canteen, first=first, last=today)
    window = Order.objects.filter(canteen=canteen, meal__day__gte=first, meal__day__lte=today)
    outcomes = window.aggregate(not_home=Count("pk", filter=Q(status=S.NOT_HOME)),
                                welfare=Count("pk", filter=Q(welfare_case__isnull=False)))
    month_first = today.replace(day=1)
    month = (Order.objects.filter(canteen=canteen, meal__day__gte=month_first, meal__day__lte=today,
                                  status__in=subsidies.CLAIMED_STATUSES, subsidy_fen__gt=0)
             .aggregate(orders=Count("pk"), fen=Sum("subsidy_fen")))
    return {
        "first": first, "last": today, "days": days, "chart": bar_chart(days),
        "onsite_total": sum(d["onsite"] for d in days), "delivered_total": sum(d["delivered"] for d in days),
        "coverage": coverage(canteen, today=today),
        "not_home": outcomes["not_home"], "welfare_checks": outcomes["welfare"],
        "subsidy_orders": month["orders"] or 0, "subsidy_fen": month["fen"] or 0,
    }
