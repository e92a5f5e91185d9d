"""Who hears of an early-warning alert, and in which words: the recipe linli.notify follows.

``alert.raised`` goes to the community office (admins and workers of the alert's community) and
to the grid workers of its courtyard. The words name the category, the courtyard, the days and
the counts, all from the event's data, so no row is read but the staff roles; the message links
to the alert's page, which lists the cases behind it.
"""

from __future__ import annotations

from typing import Iterable

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.community.models import StaffRole
from linli.core.models import Event
from linli.core.registry import Message, Recipe

R = StaffRole.Role


def alert_messages(events: list[Event]) -> Iterable[tuple[Event, Message]]:
    for event in events:
        if not event.community_id or not event.target_id.isdigit():
            continue
        data = event.data or {}
        words = {"category": data.get("category_name") or data.get("category") or "",
                 "where": data.get("grid_name") or _("cases without a courtyard"),
                 "observed": data.get("observed", ""), "expected": f"{float(data.get('expected') or 0):.1f}",
                 "start": data.get("window_start", ""), "end": data.get("window_end", "")}
        yield event, Message(
            user_ids=sorted(set(_recipients(event)) - {event.actor_id}),
            title=_("Unusual rise: %(category)s, %(where)s") % words,
            body=_("%(observed)s cases from %(start)s to %(end)s, where about %(expected)s were expected. "
                   "The cases behind it are listed under Alerts.") % words,
            url=reverse("insight:alert", args=[int(event.target_id)]),
            community_id=event.community_id,
        )


def _recipients(event: Event) -> list[int]:
    q = Q(role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER), community_id=event.community_id)
    if event.grid_id:
        q |= Q(role=R.GRID_WORKER, community_id=event.community_id, grids=event.grid_id)
    return list(StaffRole.objects.filter(q, active=True, user__is_active=True)
                .values_list("user_id", flat=True).distinct())


ALERTS = Recipe("insight.alerts", verbs=("alert.raised",), messages=alert_messages)
