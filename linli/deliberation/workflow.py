"""The state machines of 一月一议 (docs/deliberation.md).

Proposal::

    open ──(supports reach the threshold: the system / put on the agenda: the office)──▶ agenda
      └──decline (with a reason the proposer sees)──▶ declined
    agenda ──(meeting closed with a decision on it)──▶ decided
           └─(meeting closed without one)──────────▶ deferred

Comment: visible ──hide (with a reason the author sees)──▶ hidden.

Meeting: planned ──close (minutes, attendance, decisions required)──▶ closed.

Decision: draft ──(meeting closed: more than half of the votes cast for)──▶ adopted ──first
task──▶ executing ──complete (every task at 100 %)──▶ done; or draft ──▶ rejected.

The system's moves (``SYSTEM``) are made by the services themselves: the threshold by a
resident's support, the meeting's closing for its decisions and agenda. The office's moves may
also be made by the server (actor None: the demo's seeding, commands; ``jobs_too``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import SYSTEM, Move, Workflow

from . import rules
from .models import Comment, Decision, Meeting, Proposal

# The office's moves the server may make too (actor None: the demo's seeding, commands).
SERVER = frozenset({rules.OFFICE})

P = Proposal.State
C = Comment.State
M = Meeting.State
D = Decision.State


def _proposal_places(obj) -> dict:
    return {"community": obj.community}


PROPOSAL = Workflow(
    "deliberation_proposal", model=Proposal, may=rules.actor_may, state_field="state", jobs_too=SERVER,
    places=_proposal_places, event_data=lambda p: {"round": p.round_id},
    illegal_message=_("This proposal is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this proposal."),
    moves=[
        Move("reach_threshold", {P.OPEN}, P.AGENDA, who=SYSTEM, label=_("Enough support: on the agenda"),
             verb="threshold_reached", event_label=_("a proposal reached its support threshold (on the agenda)")),
        Move("put_on_agenda", {P.OPEN}, P.AGENDA, who=rules.OFFICE, label=_("Put on the agenda"),
             verb="put_on_agenda", message=_("The proposal is on the council's agenda."),
             event_label=_("put a proposal on the council's agenda")),
        Move("decline", {P.OPEN}, P.DECLINED, who=rules.OFFICE, label=_("Do not take up"), form="reason",
             verb="declined", message=_("The proposal is not taken up; the proposer sees why."),
             event_label=_("declined a proposal")),
        Move("decide", {P.AGENDA}, P.DECIDED, who=SYSTEM, label=_("Decided"), verb="decided",
             event_label=_("a proposal was decided by the council")),
        Move("defer", {P.AGENDA}, P.DEFERRED, who=SYSTEM, label=_("Not decided"), verb="deferred",
             event_label=_("a proposal on the agenda was not decided at the meeting")),
    ],
)

COMMENT = Workflow(
    "deliberation_comment", model=Comment, may=lambda actor, obj, who: rules.actor_may(actor, obj.proposal, who),
    state_field="state", jobs_too=SERVER, places=lambda c: {"community": c.proposal.community},
    event_data=lambda c: {"proposal": c.proposal_id},
    illegal_message=_("This comment is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not moderate this discussion."),
    moves=[
        Move("hide", {C.VISIBLE}, C.HIDDEN, who=rules.OFFICE, label=_("Hide"), form="reason", verb="hidden",
             message=_("The comment is hidden; its author sees why."), event_label=_("hid a comment")),
    ],
)

MEETING = Workflow(
    "deliberation_meeting", model=Meeting, may=rules.actor_may, state_field="state", jobs_too=SERVER,
    places=_proposal_places, event_data=lambda m: {"round": m.round_id},
    illegal_message=_("This meeting is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not run this meeting."),
    moves=[
        Move("close", {M.PLANNED}, M.CLOSED, who=rules.OFFICE, label=_("Close the meeting"), form="minutes",
             verb="closed", message=_("The meeting is closed; its minutes and decisions are published."),
             event_label=_("closed a residents' council meeting with its minutes")),
    ],
)

DECISION = Workflow(
    "deliberation_decision", model=Decision, may=rules.actor_may, state_field="state", jobs_too=SERVER,
    places=_proposal_places, event_data=lambda d: {"proposal": d.proposal_id},
    illegal_message=_("This decision is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this decision."),
    moves=[
        Move("adopt", {D.DRAFT}, D.ADOPTED, who=SYSTEM, label=_("Adopted"), verb="adopted",
             event_label=_("a council decision was adopted")),
        Move("reject", {D.DRAFT}, D.REJECTED, who=SYSTEM, label=_("Rejected"), verb="rejected",
             event_label=_("a council decision was rejected")),
        Move("start", {D.ADOPTED}, D.EXECUTING, who=rules.OFFICE, label=_("Start carrying it out"), form="task",
             verb="started", message=_("The first task is set: the decision is being carried out."),
             event_label=_("set the first task of a decision")),
        Move("complete", {D.EXECUTING}, D.DONE, who=rules.OFFICE, label=_("Mark as done"), verb="completed",
             message=_("The decision is done; residents may now evaluate it."),
             event_label=_("marked a decision as done")),
    ],
)
