"""The periodic deadline job (``linli cases-tick``): reminders, overdue flags, escalation,
and closing resolved cases nobody rated.

``linli worker`` runs :func:`tick` every minute (registered in CasesConfig.ready());
cron may run ``linli cases-tick`` instead. Never called from a page view.
It is safe to run twice and to run in two processes at once: every change is
a conditional update ("set the flag where it is still unset") and its event is
written only when that update changed the row, in the same transaction.

For each open case being worked on (accepted, dispatched or in progress), and
for each of its two deadlines (response: first contact by ``response_due``;
resolution: resolved by ``resolve_due``):

* reminder (``case.reminded``, once per deadline): when a quarter or less of the
  time allowed is left;
* overdue (``case.marked_overdue``, once per deadline): when the deadline has passed;
* escalation (``case.escalated``): level 1 (the community) when a deadline has
  passed, level 2 (the street) when it is still not met after the same time
  limit once more, counted from the deadline in the limit's own unit (hours or
  working days). Levels only go up.

Resolved cases not rated within LINLI_VISIT_BACK_DAYS (default 7) days of being
resolved are closed by the workflow move ``close_unrated``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.core import events

from . import deadlines
from .models import Case
from .services import time_limit_for
from .workflow import IllegalTransition, transition

S = Case.Status
WORKING_STATUSES = (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS)
REMIND_SHARE = 0.25  # remind when this share of the time allowed is left
ESCALATION_TARGET = {1: "community", 2: "street"}


def visit_back_days() -> int:
    return int(getattr(settings, "LINLI_VISIT_BACK_DAYS", 7))


@dataclass
class TickReport:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    closed: int = 0

    @property
    def changes(self) -> int:
        return self.reminders + self.overdue + self.escalations + self.closed


class _NoLongerDue(Exception):
    """Raised inside a transition to undo it: the case changed since it was read."""


def tick() -> dict:
    """The job ``cases.tick`` (``linli worker``, registered in CasesConfig.ready()): counts for the log."""
    report = run_tick()
    return {"reminders": report.reminders, "overdue": report.overdue,
            "escalations": report.escalations, "closed": report.closed}


def run_tick(*, now: dt.datetime | None = None) -> TickReport:
    """Evaluate every open case's deadlines as of ``now`` (default: the clock)."""
    now = now or timezone.now()
    report = TickReport()
    limits: dict = {}
    cases = (Case.objects.filter(status__in=WORKING_STATUSES)
             .exclude(response_due__isnull=True, resolve_due__isnull=True)
             .select_related("community__street", "grid", "category")
             .defer("description", "resolution", "contact_name", "contact_phone", "rating_comment",
                    "reject_reason", "address")
             .order_by("pk"))
    for case in cases.iterator(chunk_size=500):
        _check_deadlines(case, now, limits, report)
    _close_unrated(now, report)
    return report


def _limit(case: Case, limits: dict):
    key = (case.category_id, case.urgency)
    if key not in limits:
        limits[key] = time_limit_for(case) if case.category_id else None
    return limits[key]


def _check_deadlines(case: Case, now: dt.datetime, limits: dict, report: TickReport) -> None:
    level = 0
    deadline_for_level = None
    if case.response_due is not None and case.first_contact_at is None:
        found = _check_one(case, "response", case.response_due, case.accepted_at, now, limits, report)
        if found > level:
            level, deadline_for_level = found, "response"
    if case.resolve_due is not None:
        # A reopened case's resolution deadline runs from the reopening.
        start = case.rated_at if case.reopen_count and case.rated_at else case.accepted_at
        found = _check_one(case, "resolution", case.resolve_due, start, now, limits, report)
        if found > level:
            level, deadline_for_level = found, "resolution"
    if level > case.escalation:
        with transaction.atomic():
            changed = (Case.objects.filter(pk=case.pk, status__in=WORKING_STATUSES, escalation__lt=level)
                       .update(escalation=level, updated_at=timezone.now()))
            if changed:
                _record(case, "case.escalated", {"level": level, "to": ESCALATION_TARGET[level],
                                                 "deadline": deadline_for_level})
                report.escalations += 1


def _check_one(case, which: str, due: dt.datetime, start, now, limits, report) -> int:
    """Remind or flag one deadline; returns the escalation level it calls for (0, 1, 2)."""
    reminded_field = "response_reminded" if which == "response" else "resolve_reminded"
    overdue_field = "response_overdue" if which == "response" else "resolve_overdue"
    due_field = "response_due" if which == "response" else "resolve_due"
    # The row is changed only if the deadline is still the one read and still unmet.
    still = {"pk": case.pk, "status__in": WORKING_STATUSES, due_field: due}
    if which == "response":
        still["first_contact_at__isnull"] = True
    if now < due:
        if getattr(case, reminded_field) or start is None or start >= due:
            return 0
        if due - now <= (due - start) * REMIND_SHARE:
            with transaction.atomic():
                if Case.objects.filter(**still, **{reminded_field: False}).update(
                        **{reminded_field: True}, updated_at=timezone.now()):
                    _record(case, "case.reminded", {"deadline": which, "due": due.isoformat()})
                    report.reminders += 1
        return 0
    if not getattr(case, overdue_field):
        with transaction.atomic():
            if Case.objects.filter(**still, **{overdue_field: False}).update(
                    **{overdue_field: True}, updated_at=timezone.now()):
                _record(case, "case.marked_overdue", {"deadline": which, "due": due.isoformat()})
                report.overdue += 1
    return 2 if now > _second_deadline(case, which, due, start, limits) else 1


def _second_deadline(case, which: str, due: dt.datetime, start, limits) -> dt.datetime:
    """The deadline once more: the same limit again, counted from the deadline."""
    limit = _limit(case, limits)
    if limit is not None:
        if which == "response":
            return deadlines.due(due, limit.response_amount, limit.response_unit)
        return deadlines.due(due, limit.resolve_amount, limit.resolve_unit)
    # No limit on record any more (category changed): the same span again.
    return due + (due - start) if start is not None and start < due else due


def _record(case: Case, verb: str, data: dict) -> None:
    events.record(actor=None, verb=verb, target=case, community=case.community, grid=case.grid,
                  data={"number": case.number, "unit": case.unit_id, **data})


def _close_unrated(now: dt.datetime, report: TickReport) -> None:
    cutoff = now - dt.timedelta(days=visit_back_days())
    pending = (Case.objects.filter(status=S.RESOLVED, resolved_at__lte=cutoff)
               .order_by("pk").values_list("pk", flat=True))
    for pk in list(pending):
        def apply(c, _clock):
            # Re-checked on the locked row: rated or reopened meanwhile means not due.
            if c.resolved_at is None or c.resolved_at > cutoff:
                raise _NoLongerDue
            c.closed_at = now
        try:
            transition(Case(pk=pk), "close_unrated", actor=None, apply=apply,
                       data={"after_days": visit_back_days()})
        except (IllegalTransition, _NoLongerDue, Case.DoesNotExist):
            continue
        report.closed += 1
