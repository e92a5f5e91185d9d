"""The life of a case: one state machine, one place that says who may move it.

    submitted ─accept→ accepted ─dispatch→ dispatched ─start→ in_progress ─resolve→ resolved
        │                 ↑  ↑                │   ↑ transfer                            │
        reject            │  └─── return ─────┘   └──────── rate: unsatisfied (reopen) ─┤
        ↓                 │                                                             rate / visit-back
     rejected        merge (from submitted or accepted) → merged                        ↓
                                                                                      closed

Every transition is checked here (from-state and actor), changes the case,
keeps the three rates' rollup right and writes one event in the same
transaction. Views, the API, Open311 and jobs all call :func:`transition`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import rollup
from .models import Case

S = Case.Status


class IllegalTransition(InvalidInput):
    code = "illegal_transition"
    status = 409


# Who may make a move: a label that `actor_may` understands.
OFFICE = "office"          # community admin/worker of the case's community, or its grid's worker
UNIT = "unit"              # staff of the unit the case is with (or the office, on its behalf)
REPORTER = "reporter"      # the resident who asked
SYSTEM = "system"          # periodic jobs only (actor None)


@dataclass(frozen=True)
class Move:
    sources: frozenset
    target: str | None  # None: decided by the move itself (rate)
    who: str
    label: object


MOVES: dict[str, Move] = {
    "accept": Move(frozenset({S.SUBMITTED}), S.ACCEPTED, OFFICE, gettext_lazy("accepted")),
    "reject": Move(frozenset({S.SUBMITTED}), S.REJECTED, OFFICE, gettext_lazy("rejected")),
    "dispatch": Move(frozenset({S.ACCEPTED}), S.DISPATCHED, OFFICE, gettext_lazy("dispatched")),
    "transfer": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.DISPATCHED, OFFICE,
                     gettext_lazy("transferred")),
    "return": Move(frozenset({S.DISPATCHED}), S.ACCEPTED, UNIT, gettext_lazy("returned by the unit")),
    "start": Move(frozenset({S.DISPATCHED}), S.IN_PROGRESS, UNIT, gettext_lazy("work started")),
    "contact": Move(frozenset({S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS}), None, UNIT,
                    gettext_lazy("resident contacted")),
    "resolve": Move(frozenset({S.DISPATCHED, S.IN_PROGRESS}), S.RESOLVED, UNIT, gettext_lazy("resolved")),
    "rate": Move(frozenset({S.RESOLVED}), None, REPORTER, gettext_lazy("rated")),
    "visit_back": Move(frozenset({S.RESOLVED}), None, OFFICE, gettext_lazy("visit-back recorded")),
    "close_unrated": Move(frozenset({S.RESOLVED}), S.CLOSED, SYSTEM, gettext_lazy("closed without rating")),
    "merge": Move(frozenset({S.SUBMITTED, S.ACCEPTED}), S.MERGED, OFFICE, gettext_lazy("merged")),
}


def actor_may(actor, case: Case, who: str) -> bool:
    if who == SYSTEM:
        return actor is None
    if actor is None:
        return False
    scope = scope_of(actor)
    office = case.community_id in scope.worker_communities or (
        case.grid_id is not None and case.grid_id in scope.grids)
    if who == OFFICE:
        return office
    if who == UNIT:
        return office or (case.unit_id is not None and case.unit_id in scope.organisations)
    if who == REPORTER:
        return bool(
            (case.reporter_id and case.reporter_id == scope.resident_id)
            or (case.submitted_by_id and case.submitted_by_id == actor.pk and not scope.is_staff)
        )
    return False


def allowed_moves(actor, case: Case) -> list[str]:
    """The moves this actor may make on this case now (for pages and the API)."""
    return [name for name, move in MOVES.items()
            if case.status in move.sources and move.who != SYSTEM and actor_may(actor, case, move.who)]


@transaction.atomic
def transition(case: Case, move_name: str, *, actor, apply=None, data: dict | None = None) -> Case:
    """Check and make one move. ``apply(case, now)`` sets the move's own fields
    and may return the target status (for moves whose target depends on input)."""
    move = MOVES.get(move_name)
    if move is None:
        raise IllegalTransition(_("Unknown action."))
    # Re-read under a row lock: two workers clicking at once make one move.
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status not in move.sources:
        raise IllegalTransition(
            _("This case is %(status)s; the step “%(move)s” is not possible now.")
            % {"status": case.get_status_display(), "move": move.label}
        )
    if not actor_may(actor, case, move.who):
        raise PermissionDenied(_("You may not do this with this case."))
    now = timezone.now()
    before = case.status
    counted = rollup.snapshot(case)  # the three rates' counts as they were, for the rollup
    target = apply(case, now) if apply else None
    case.status = target or move.target or case.status
    case.save()
    rollup.record(counted, case)
    events.record(
        actor=actor, verb=f"case.{move_name}", target=case, community=case.community, grid=case.grid,
        data={"from": before, "to": case.status, "number": case.number, **(data or {})},
    )
    return case
