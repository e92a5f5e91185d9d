"""The life of a case: its table of moves, on the one state machine of linli.core.workflow.

    submitted ─accept→ accepted ─dispatch→ dispatched ─start→ in_progress ─resolve→ resolved
        │                 ↑  ↑                │   ↑ transfer                            │
        reject            │  └─── return ─────┘   └──────── rate: unsatisfied (reopen) ─┤
        ↓                 │                                                             rate / visit-back
     rejected        merge (from submitted or accepted) → merged                        ↓
                                                                                      closed
    accepted, dispatched or in_progress ─close_unresolved (the office explains why)→ closed

:data:`CASE` is the only place that says which moves there are, from which
states, to which, who may make them (a rule of linli.cases.rules), how pages
name them, which form collects their input, what the actor is told and which
event they write. Views, the API, Open311 and the deadline job read it; every
move goes through :func:`transition`, which checks the state and the actor,
keeps the three rates' rollup right and writes one event, in one transaction.

Events a case has outside its moves (it was submitted, a note was added, the
deadline job reminded, flagged or escalated it) are in :data:`OTHER_EVENTS`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from linli.core.workflow import SYSTEM, IllegalTransition, Move, Workflow

from . import rollup, rules
from .models import Case
from .rules import OFFICE, REPORTER, UNIT

S = Case.Status

__all__ = ["AUDIT_EVENTS", "CASE", "IllegalTransition", "OTHER_EVENTS", "SYSTEM", "allowed_moves", "move_by_verb", "transition"]

# ``message``: what the actor is told once the move is made, with the case's number.
# ``label``: the move in the history of a case and in "the step … is not possible".
CASE = Workflow(
    "case", model=Case, may=rules.actor_may, webhook=True,
    places=lambda c: {"community": c.community, "grid": c.grid},
    event_data=lambda c: {"number": c.number},
    before_save=rollup.snapshot,  # the three rates' counts as they were, for the rollup
    after_save=rollup.record,
    illegal_message=gettext_lazy("This case is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not do this with this case."),
    moves=[
        Move("accept", {S.SUBMITTED}, S.ACCEPTED, OFFICE, gettext_lazy("accepted"), "accepted",
             form="AcceptForm", message=gettext_lazy("Case %(number)s accepted.")),
        Move("reject", {S.SUBMITTED}, S.REJECTED, OFFICE, gettext_lazy("rejected"), "rejected",
             form="RejectForm", message=gettext_lazy("Case %(number)s rejected.")),
        Move("dispatch", {S.ACCEPTED}, S.DISPATCHED, OFFICE, gettext_lazy("dispatched"), "dispatched",
             form="DispatchForm", message=gettext_lazy("Case %(number)s dispatched.")),
        Move("transfer", {S.DISPATCHED, S.IN_PROGRESS}, S.DISPATCHED, OFFICE, gettext_lazy("transferred"),
             "transferred", form="TransferForm", message=gettext_lazy("Case %(number)s transferred.")),
        Move("return", {S.DISPATCHED}, S.ACCEPTED, UNIT, gettext_lazy("returned by the unit"), "returned",
             form="ReturnForm", message=gettext_lazy("Case %(number)s handed back to the community office.")),
        Move("start", {S.DISPATCHED}, S.IN_PROGRESS, UNIT, gettext_lazy("work started"), "started",
             form="StartForm", message=gettext_lazy("Work on case %(number)s started.")),
        # Target None: the state stays; the move records the first contact.
        Move("contact", {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS}, None, UNIT, gettext_lazy("resident contacted"),
             "contacted", form="ContactForm",
             message=gettext_lazy("Contact with the resident recorded for case %(number)s.")),
        Move("resolve", {S.DISPATCHED, S.IN_PROGRESS}, S.RESOLVED, UNIT, gettext_lazy("resolved"), "resolved",
             form="ResolveForm", message=gettext_lazy("Case %(number)s resolved.")),
        # Target None: the rating decides (closed, or reopened to the unit when unsatisfied).
        Move("rate", {S.RESOLVED}, None, REPORTER, gettext_lazy("rated"), "rated",
             form="RatingForm", message=gettext_lazy("Thank you for your rating.")),
        Move("visit_back", {S.RESOLVED}, None, OFFICE, gettext_lazy("visit-back recorded"), "visited_back",
             form="VisitBackForm", message=gettext_lazy("Visit-back rating recorded for case %(number)s.")),
        Move("close_unrated", {S.RESOLVED}, S.CLOSED, SYSTEM, gettext_lazy("closed without rating"),
             "closed_unrated"),
        # 诉求无法实现: what the resident asks cannot be done (the owners must decide, the law
        # forbids it, a court's matter …); the office explains why and closes the case, which
        # counts accepted, not resolved. From a reopened case too (dispatched again).
        Move("close_unresolved", {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS}, S.CLOSED, OFFICE,
             gettext_lazy("closed: could not be resolved"), "closed_unresolved", form="CloseUnresolvedForm",
             message=gettext_lazy("Case %(number)s closed as not resolvable; the resident was told why.")),
        Move("merge", {S.SUBMITTED, S.ACCEPTED}, S.MERGED, OFFICE, gettext_lazy("merged"), "merged",
             form="MergeForm", message=gettext_lazy("Case %(number)s merged.")),
    ],
)

# The case's events that are not moves, with their labels (registered in CasesConfig.ready()).
OTHER_EVENTS = {
    "case.submitted": gettext_lazy("submitted"),
    "case.noted": gettext_lazy("note added"),
    "case.reminded": gettext_lazy("reminder: a deadline is near"),
    "case.marked_overdue": gettext_lazy("deadline passed"),
    "case.escalated": gettext_lazy("escalated"),
    "case.contact_revealed": gettext_lazy("contact number shown"),
}
# Audit records, not news: partners' webhooks never receive them.
AUDIT_EVENTS = frozenset({"case.contact_revealed"})


def transition(case: Case, move_name: str, *, actor, apply=None, data: dict | None = None) -> Case:
    """Check and make one move (:meth:`linli.core.workflow.Workflow.transition`)."""
    return CASE.transition(case, move_name, actor=actor, apply=apply, data=data)


def allowed_moves(actor, case: Case) -> list[str]:
    """The moves this actor may make on this case now, in the table's order (pages and the API)."""
    return CASE.allowed(actor, case)


def move_by_verb(verb: str) -> Move | None:
    """The move an event records (``case.accepted`` → accept), or None for other events."""
    return _BY_VERB.get(verb)


_BY_VERB = {CASE.verb(move.name): move for move in CASE.moves}
