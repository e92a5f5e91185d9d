"""Who hears of a case's events, and in which words: the cases recipe of linli.notify.

Registered in CasesConfig.ready() as ``registry.Recipe("cases", verbs=("case.*",), ...)``;
linli.notify turns each :class:`~linli.core.registry.Message` into inbox notifications
(never for the event's own actor) and e-mail copies. docs/notifications.md has the table.

Words name the case by its number, the handling unit by its name and deadlines by
their time; text staff wrote for the resident (a reason) is scrubbed of phone and ID
numbers. Nothing else about the resident is ever put into a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Organisation, StaffRole
from linli.core.masking import scrub
from linli.core.registry import Message

from .models import Case

R = StaffRole.Role
S = Case.Status


def case_messages(events: list) -> Iterator[tuple[object, Message]]:
    """(event, message) for each message the batch's case events call for; the batch's cases
    are read in one query."""
    ids = {int(e.target_id) for e in events if e.target_type == "cases.case" and e.target_id.isdigit()}
    cases = Case.objects.select_related("community", "reporter__user", "submitted_by", "unit").in_bulk(ids)
    for event in events:
        case = cases.get(int(event.target_id)) if event.target_id.isdigit() else None
        if case is None or event.target_type != "cases.case":
            continue
        url = reverse("cases:detail", args=[case.number])
        for user_ids, title, body in _messages(event, case):
            yield event, Message(user_ids=user_ids, title=title, body=body, url=url, community_id=case.community_id)


@dataclass(frozen=True)
class _Words:
    """The non-personal facts a message may name."""

    number: str
    unit: str = ""
    reason: str = ""
    due: str = ""


def _messages(event, case: Case) -> Iterator[tuple[Iterable[int], str, str]]:
    """(recipient user ids, title, body) for each message this event calls for."""
    verb = event.verb
    data = event.data or {}
    w = _Words(number=case.number)

    if verb == "case.submitted":
        yield (_office(case), _("New case %(number)s") % vars(w),
               _("A new case was submitted in %(community)s. Accept it, or reject it with a reason.")
               % {"community": case.community.name})
    elif verb == "case.accepted":
        yield (_resident_user_ids(case), _("Your request %(number)s was accepted") % vars(w),
               _("The community office accepted your request and will pass it to the unit that handles it."))
    elif verb == "case.rejected":
        w = _Words(number=case.number, reason=scrub(case.reject_reason))
        yield (_resident_user_ids(case), _("Your request %(number)s was not accepted") % vars(w),
               _("Reason: %(reason)s") % vars(w))
    elif verb in ("case.dispatched", "case.transferred"):
        unit = _unit(data.get("unit"), case)
        if unit is None:
            return
        w = _Words(number=case.number, unit=unit.name, due=_when(case.resolve_due))
        if verb == "case.dispatched":
            yield (_resident_user_ids(case), _("Your request %(number)s was sent to %(unit)s") % vars(w),
                   _("%(unit)s will handle your request. You will be told when it is resolved.") % vars(w))
            title = _("Case %(number)s dispatched to %(unit)s") % vars(w)
        else:
            title = _("Case %(number)s transferred to %(unit)s") % vars(w)
        body = (_("A case is now with your unit. Contact the resident and resolve it by %(due)s.") % vars(w)
                if w.due else _("A case is now with your unit. Contact the resident and resolve it."))
        yield (_unit_staff(unit.pk), title, body)
    elif verb == "case.returned":
        w = _Words(number=case.number, reason=scrub(str(data.get("reason", ""))))
        yield (_office(case), _("Case %(number)s returned by the unit") % vars(w),
               _("The handling unit returned the case. Reason: %(reason)s") % vars(w))
    elif verb == "case.resolved":
        yield (_resident_user_ids(case), _("Your request %(number)s was resolved") % vars(w),
               _("The unit has finished handling your request. Please rate the handling: "
                 "satisfied, basically satisfied or unsatisfied."))
    elif verb == "case.closed_unresolved":
        # The resident's own request: told in full, as on their page (the office explained it already).
        w = _Words(number=case.number, reason=scrub(case.unresolved_explanation))
        yield (_resident_user_ids(case), _("Your request %(number)s was closed: it could not be resolved") % vars(w),
               _("Why: %(reason)s") % vars(w))
        if case.unit_id:
            yield (_unit_staff(case.unit_id), _("Case %(number)s closed by the community office") % vars(w),
                   _("The office closed the case as not resolvable; nothing more is needed from your unit."))
    elif verb in ("case.rated", "case.visited_back") and data.get("to") == S.DISPATCHED and case.unit_id:
        yield (_unit_staff(case.unit_id), _("Case %(number)s reopened") % vars(w),
               _("The resident was not satisfied with the result, so the case is back with your unit."))
    elif verb == "case.reminded":
        response = _deadline_kind(data) == "response"
        w = _Words(number=case.number, due=_when(case.response_due if response else case.resolve_due))
        holders = (_unit_staff(case.unit_id) if case.unit_id and case.status in (S.DISPATCHED, S.IN_PROGRESS)
                   else _office(case))
        if not response:
            body = _("Resolve the case by %(due)s.") % vars(w)
        elif case.status == S.SUBMITTED:  # the response clock runs from receipt
            body = _("Accept the case, or reject it with a reason, by %(due)s.") % vars(w)
        else:
            body = _("Contact the resident by %(due)s.") % vars(w)
        yield (holders, _("Case %(number)s is nearly due") % vars(w), body)
    elif verb == "case.marked_overdue":
        response = _deadline_kind(data) == "response"
        yield (_community_admins(case), _("Case %(number)s is overdue") % vars(w),
               (_("The time limit for responding to it has passed.") if case.status == S.SUBMITTED
                else _("The time limit for the first contact has passed.")) if response
               else _("The time limit for resolving it has passed."))
    elif verb == "case.escalated":
        if _level(data) >= 2:
            yield (_street_supervisors(case), _("Case %(number)s escalated to the street") % vars(w),
                   _("The case is overdue and has been escalated to the street for supervision."))
        else:
            yield (_community_admins(case), _("Case %(number)s escalated to the community") % vars(w),
                   _("The case is overdue and has been escalated to the community office."))


def _deadline_kind(data: dict) -> str:
    kind = str(data.get("kind") or data.get("deadline") or "resolve")
    return "response" if kind.startswith("respon") else "resolve"


def _level(data: dict) -> int:
    for key in ("level", "escalation", "to"):
        try:
            return int(data[key])
        except (KeyError, TypeError, ValueError):
            continue
    return 1


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _unit(unit_id, case: Case) -> Organisation | None:
    """The unit the event names, if it may handle the case's cases; else the case's unit now."""
    if isinstance(unit_id, int):
        unit = Organisation.objects.filter(pk=unit_id, street_id=case.community.street_id).first()
        if unit is not None and unit.is_handling_unit:
            return unit
    return case.unit


def _staff(q: Q) -> list[int]:
    return list(StaffRole.objects.filter(q, active=True, user__is_active=True)
                .values_list("user_id", flat=True).distinct())


def _office(case: Case) -> list[int]:
    """Community workers and admins of the case's community, and its grid's workers."""
    q = Q(role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER), community_id=case.community_id)
    if case.grid_id:
        q |= Q(role=R.GRID_WORKER, community_id=case.community_id, grids=case.grid_id)
    return _staff(q)


def _community_admins(case: Case) -> list[int]:
    return _staff(Q(role=R.COMMUNITY_ADMIN, community_id=case.community_id))


def _street_supervisors(case: Case) -> list[int]:
    return _staff(Q(role=R.STREET_SUPERVISOR, street_id=case.community.street_id))


def _unit_staff(unit_id: int) -> list[int]:
    return _staff(Q(role=R.UNIT_STAFF, organisation_id=unit_id))


def _resident_user_ids(case: Case) -> list[int]:
    """The reporter's own account, or whoever submitted it if that is not staff."""
    reporter_user = case.reporter.user if case.reporter_id and case.reporter.user_id else None
    if reporter_user is not None:
        return [reporter_user.pk] if reporter_user.is_active else []
    user = case.submitted_by
    if user is not None and user.is_active and not StaffRole.objects.filter(user=user, active=True).exists():
        return [user.pk]
    return []
