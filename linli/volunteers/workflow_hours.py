"""The ``service_record`` workflow and who may move a record (docs/volunteers.md, "Service hours").

::

    open ──check out (the volunteer by QR, or the organiser)──▶ pending
      ├──mark (the organiser enters both times by hand)──────▶ pending
      └──close (job volunteers.close_forgotten: out = scheduled end)──▶ pending
    pending ──approve (someone other than the volunteer)──▶ approved   (points granted)
            └─reject (a reason required)───────────────▶ rejected

Who approves: the community's admin, workers and party secretary; a grid worker for activities
in their grids. A building leader organises but never approves. Nobody approves their own
record (``own_record``: refused before the workflow is asked).

Who organises an activity (shows the QR, marks hours by hand, reads the records): its organiser,
the community's admin, workers and party secretary, a grid worker for activities in their grids.

The demo writes records in bulk through :data:`SERVICE_RECORD`'s ``check_move`` and ``event``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.community.models import StaffRole
from linli.community.scope import scope_of
from linli.core.workflow import SYSTEM, Move, Workflow

from . import rules
from .models import ServiceRecord

R = StaffRole.Role
VOLUNTEER = "volunteer"      # the volunteer themself (their resident account)
ORGANISER = "organiser"
APPROVER = "approver"
SERVER = frozenset({ORGANISER, APPROVER})  # the demo's seeding and commands (actor None)

OPEN, PENDING, APPROVED, REJECTED = "open", "pending", "approved", "rejected"


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def may_organise(user, activity) -> bool:
    """Show the activity's QR, mark hours by hand, read its records (``rules.may_run_activity``)."""
    return activity is not None and rules.may_run_activity(user, activity)


def may_approve_in(user, activity) -> bool:
    """Approve or reject records of this activity (own records aside: :func:`is_own`)."""
    if not _active(user) or activity is None:
        return False
    community = activity.community
    if rules.is_office(user, community) or rules.is_secretary(user, community):
        return True
    return activity.grid_id is not None and activity.grid_id in rules.grids_of(user, community)


def is_own(user, record) -> bool:
    return rules.is_own_record(user, record)


def approver_communities(user) -> set[int]:
    """Communities where the account approves every record (the records page lists them)."""
    if not _active(user):
        return set()
    scope = scope_of(user)
    keep = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY}
    return {cid for cid, roles in scope.roles.items() if roles & keep}


def actor_may(actor, record, who: str) -> bool:
    if who == VOLUNTEER:
        return is_own(actor, record) or may_organise(actor, record.activity)
    if who == ORGANISER:
        return may_organise(actor, record.activity)
    if who == APPROVER:
        return rules.may_approve(actor, record)
    return False


def _places(record) -> dict:
    activity = record.activity
    return {"community": activity.community, "grid": activity.grid}


SERVICE_RECORD = Workflow(
    "service_record", model=ServiceRecord, may=actor_may, jobs_too=SERVER, places=_places,
    event_data=lambda r: {"activity": r.activity_id, "volunteer": r.volunteer_id},
    illegal_message=_("This service record is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this service record."),
    moves=[
        Move("check_out", {OPEN}, PENDING, who=VOLUNTEER, label=_("Check out"), verb="checked_out",
             message=_("Checked out."), event_label=_("checked out of an activity")),
        Move("mark", {OPEN}, PENDING, who=ORGANISER, label=_("Enter the hours"), form="times", verb="marked",
             message=_("The hours are entered and wait for approval."),
             event_label=_("entered a volunteer's hours by hand")),
        Move("close", {OPEN}, PENDING, who=SYSTEM, label=_("Closed at the scheduled end"),
             verb="closed_automatically",
             event_label=_("a forgotten check-out was closed at the scheduled end")),
        Move("approve", {PENDING}, APPROVED, who=APPROVER, label=_("Approve"), verb="approved",
             message=_("The hours are approved."), event_label=_("approved a volunteer's hours")),
        Move("reject", {PENDING}, REJECTED, who=APPROVER, label=_("Reject"), form="reason", verb="rejected",
             message=_("The hours are rejected; the volunteer sees why."),
             event_label=_("rejected a volunteer's hours")),
    ],
)
