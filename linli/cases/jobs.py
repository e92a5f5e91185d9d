"""The periodic deadline job (``linli cases-tick``): reminders, overdue flags, escalation,
and closing resolved cases nobody rated.

``linli worker`` runs :func:`tick` every minute (registered in CasesConfig.ready());
cron may run ``linli cases-tick`` instead. Never called from a page view.
It is safe to run twice and to run in two processes at once: every change is
a conditional update ("set the flag where it is still unset") and its event is
written only when that update changed the row, in the same transaction.

For each open case not yet resolved (submitted, accepted, dispatched or in
progress), and for each of its two deadlines (response, counted from receipt:
accepted, rejected with a reason or the resident contacted by ``response_due``;
resolution, counted from acceptance: resolved by ``resolve_due``):

* reminder (``case.reminded``, once per deadline): when a quarter or less of the
  time allowed is left;
* overdue (``case.marked_overdue``, once per deadline): when the deadline has passed;
* escalation (``case.escalated``): level 1 (the community) when a deadline has
  passed, level 2 (the street) when it is still not met after the same time
  limit once more, counted from the deadline in the limit's own unit (hours or
  working days). Levels only go up.

Resolved cases not rated within LINLI_VISIT_BACK_DAYS (default 7) days of being
resolved are closed by the workflow move ``close_unrated``.

Cases received before the response clock ran from receipt (submitted, still
unanswered, no ``response_due``) get their deadline from ``created_at`` on the
next tick, in bulk (:func:`start_missing_clocks`): one UPDATE per 500 cases, and
one event per community (``cases.response_clocks_started``, with the count), not
one per case. Those already past their deadline get the overdue flag and the
escalation level they call for in the same UPDATE, without a reminder, an
overdue or an escalation event each: the event says how many; lists and the
rates read the flags and deadlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Case as SqlCase, DateTimeField, Value, When
from django.utils import timezone

from linli.community.models import Community
from linli.core import events

from . import deadlines
from .models import Case
from .workflow import IllegalTransition, transition

S = Case.Status
WORKING_STATUSES = (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS)
# Watched: the response clock runs from receipt, so a case waiting to be accepted is too.
WATCHED_STATUSES = (S.SUBMITTED,) + WORKING_STATUSES
BACKFILL_CHUNK = 500
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
    clocks_started: int = 0  # old cases given a response deadline (not a change a person hears of)

    @property
    def changes(self) -> int:
        return self.reminders + self.overdue + self.escalations + self.closed


class _NoLongerDue(Exception):
    """Raised inside a transition to undo it: the case changed since it was read."""


def tick() -> dict:
    """The job ``cases.tick`` (``linli worker``, registered in CasesConfig.ready()): counts for the log."""
    report = run_tick()
    return {"reminders": report.reminders, "overdue": report.overdue,
            "escalations": report.escalations, "closed": report.closed,
            "clocks_started": report.clocks_started}


def run_tick(*, now: dt.datetime | None = None) -> TickReport:
    """Evaluate every open case's deadlines as of ``now`` (default: the clock)."""
    now = now or timezone.now()
    report = TickReport()
    limits: dict = {}
    report.clocks_started = start_missing_clocks(now=now, limits=limits)
    cases = (Case.objects.filter(status__in=WATCHED_STATUSES)
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
        limits[key] = deadlines.time_limit_for(case)
    return limits[key]


def _unanswered(case: Case) -> bool:
    """Nobody has responded (accepted, rejected, contacted): ``deadlines.awaiting_response_q``."""
    return case.responded_at is None


def _check_deadlines(case: Case, now: dt.datetime, limits: dict, report: TickReport) -> None:
    level = 0
    deadline_for_level = None
    if case.response_due is not None and _unanswered(case):
        # The response clock runs from receipt.
        found = _check_one(case, "response", case.response_due, case.created_at, now, limits, report)
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
            # Only while the deadline that calls for it is still the one read and still unmet.
            changed = (Case.objects.filter(**_still(case, deadline_for_level), escalation__lt=level)
                       .update(escalation=level, updated_at=timezone.now()))
            if changed:
                _record(case, "case.escalated", {"level": level, "to": ESCALATION_TARGET[level],
                                                 "deadline": deadline_for_level})
                report.escalations += 1


def _check_one(case, which: str, due: dt.datetime, start, now, limits, report) -> int:
    """Remind or flag one deadline; returns the escalation level it calls for (0, 1, 2)."""
    reminded_field = "response_reminded" if which == "response" else "resolve_reminded"
    overdue_field = "response_overdue" if which == "response" else "resolve_overdue"
    # The row is changed only if the deadline is still the one read and still unmet.
    still = _still(case, which)
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


def _still(case: Case, which: str) -> dict:
    """The filter of a row whose deadline ``which`` is still the one read and still unmet."""
    if which == "response":
        return {"pk": case.pk, "status__in": WATCHED_STATUSES, "response_due": case.response_due,
                "accepted_at__isnull": True, "first_contact_at__isnull": True}
    return {"pk": case.pk, "status__in": WATCHED_STATUSES, "resolve_due": case.resolve_due}


def _second_deadline(case, which: str, due: dt.datetime, start, limits) -> dt.datetime:
    """The deadline once more: the same limit again, counted from the deadline."""
    limit = _limit(case, limits)
    if which == "response":  # the category's limit, else the triage limit it was given
        return deadlines.due(due, *deadlines.response_limit(case, limit))
    if limit is not None:
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


# --- old cases: the response clock from receipt, in bulk ----------------------------------------

def start_missing_clocks(*, now: dt.datetime | None = None, limits: dict | None = None) -> int:
    """Give every case still waiting for a response and without a response deadline (received
    before the clock ran from receipt) its deadline from ``created_at``; returns how many.

    Only submitted cases: an answered case's response is history the rates already counted
    (its month's published numbers stay as they were). In bulk: one UPDATE a chunk, each row
    changed only if it is still submitted and still without a deadline, and one event per
    community and run. A case already past its deadline gets ``response_overdue`` and the
    escalation level it calls for (1, or 2 past the limit once more) in the same UPDATE,
    with no reminder and no per-case event; the tick then finds nothing more to say of it."""
    now = now or timezone.now()
    limits = {} if limits is None else limits
    waiting = (Case.objects.filter(status=S.SUBMITTED, response_due__isnull=True)
               .select_related("category").only("pk", "community_id", "created_at", "category_id", "urgency",
                                                "category__parent_id")
               .order_by("community_id", "pk"))
    started = 0
    community_cases: list = []
    for case in waiting.iterator(chunk_size=BACKFILL_CHUNK):
        if community_cases and case.community_id != community_cases[0].community_id:
            started += _start_clocks(community_cases, now, limits)
            community_cases = []
        community_cases.append(case)
    if community_cases:
        started += _start_clocks(community_cases, now, limits)
    return started


@transaction.atomic
def _start_clocks(cases: list, now: dt.datetime, limits: dict) -> int:
    """One community's waiting cases: an UPDATE per 500 cases with the same flags, one event."""
    groups: dict[tuple, dict] = {}
    for case in cases:
        limit = _limit(case, limits)
        due = deadlines.response_due_for(case, limit)
        if now < due:
            flags = (False, 0)
        else:
            second = deadlines.due(due, *deadlines.response_limit(case, limit))
            flags = (True, 2 if now > second else 1)
        groups.setdefault(flags, {})[case.pk] = due
    changed = overdue = 0
    for (late, level), dues in groups.items():
        items = list(dues.items())
        for i in range(0, len(items), BACKFILL_CHUNK):
            part = items[i:i + BACKFILL_CHUNK]
            fields = {"response_due": SqlCase(*(When(pk=pk, then=Value(due)) for pk, due in part),
                                              output_field=DateTimeField())}
            if late:
                fields.update(response_overdue=True, response_reminded=True, escalation=level)
            n = (Case.objects.filter(pk__in=[pk for pk, _ in part], status=S.SUBMITTED, response_due__isnull=True)
                 .update(**fields, updated_at=timezone.now()))
            changed += n
            overdue += n if late else 0
    if changed:
        community = Community.objects.get(pk=cases[0].community_id)
        events.record(actor=None, verb="cases.response_clocks_started", target=community,
                      community=community, data={"cases": changed, "overdue": overdue})
    return changed
