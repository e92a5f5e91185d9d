"""Who hears of the canteen's delivery events, and in which words: the ``canteen_delivery`` recipe
of linli.notify (registered in apps.py; docs/canteen.md, "Delivery").

- ``canteen.welfare_check_opened``: the grid workers of the elder's courtyard (else the community's
  admins and workers) — "Welfare check: case N, respond by HH:MM", linking to the case. The case's
  own ``case.submitted`` message reaches the office as usual; this one says why it is urgent.
- ``canteen.round_planned``: the round's volunteer (their own account) — a round on that day,
  linking to the round page. No stop, door or name is put into a message.
"""

from __future__ import annotations

from typing import Iterator

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases.models import Case
from linli.community.models import StaffRole
from linli.core.registry import Message

from .models import DeliveryRound

R = StaffRole.Role
VERBS = ("canteen.welfare_check_opened", "canteen.round_planned")


def _staff(q: Q) -> list[int]:
    return list(StaffRole.objects.filter(q, active=True, user__is_active=True)
                .values_list("user_id", flat=True).distinct())


def welfare_recipients(case: Case) -> list[int]:
    """The grid workers of the case's courtyard; the community's office when it has none."""
    if case.grid_id:
        workers = _staff(Q(role=R.GRID_WORKER, community_id=case.community_id, grids=case.grid_id))
        if workers:
            return workers
    return _staff(Q(role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER), community_id=case.community_id))


def messages(events: list) -> Iterator[tuple[object, Message]]:
    case_ids = {int(e.data.get("case")) for e in events
                if e.verb == "canteen.welfare_check_opened" and str((e.data or {}).get("case", "")).isdigit()}
    cases = Case.objects.in_bulk(case_ids)
    round_ids = {int(e.target_id) for e in events if e.verb == "canteen.round_planned" and e.target_id.isdigit()}
    rounds = DeliveryRound.objects.select_related("volunteer__resident", "meal").in_bulk(round_ids)
    for event in events:
        data = event.data or {}
        if event.verb == "canteen.welfare_check_opened":
            case = cases.get(int(data["case"])) if str(data.get("case", "")).isdigit() else None
            if case is None:
                continue
            due = timezone.localtime(case.response_due).strftime("%H:%M") if case.response_due else ""
            yield event, Message(
                user_ids=welfare_recipients(case),
                title=_("Welfare check: case %(number)s") % {"number": case.number},
                body=(_("A meal delivery found nobody at home at an elder living alone. Check on them and "
                        "respond by %(due)s.") % {"due": due}) if due else
                _("A meal delivery found nobody at home at an elder living alone. Check on them now."),
                url=reverse("cases:detail", args=[case.number]), community_id=case.community_id)
        elif event.verb == "canteen.round_planned":
            round_ = rounds.get(int(event.target_id)) if event.target_id.isdigit() else None
            if round_ is None or round_.volunteer_id is None or not round_.volunteer.resident.user_id:
                continue
            yield event, Message(
                user_ids=[round_.volunteer.resident.user_id],
                title=_("A meal delivery round for you on %(day)s") % {"day": round_.meal.day.isoformat()},
                body=_("The canteen planned a delivery round for you. The stops are on the round's page on "
                       "that day."),
                url=reverse("canteen:round", args=[round_.pk]), community_id=event.community_id)
