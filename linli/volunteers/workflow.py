"""The needs board's state machine (docs/volunteers.md). The service record's workflow lives in
``workflow_hours.py`` (the "hours" part).

Need::

    open ──plan (an activity is made for it)──▶ planned ──close──▶ closed
      │                                           └─reopen (its activities were cancelled)──▶ open
      ├──close (helped without an activity)──▶ closed
      └──decline (reason required)──▶ declined

``plan`` and ``reopen`` are made by whoever may organise in the need's place (the activities
part calls :func:`linli.volunteers.needs.need_planned` when it creates an activity for a need);
``close`` and ``decline`` by whoever manages needs there (the office, the party secretary, the
need's grid worker). The server (actor None: the demo, commands) may make every move.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import Move, Workflow

from . import rules
from .models import Need

N = Need.Status
ORGANISE = "organise"


def _may(actor, obj, who: str) -> bool:
    if who == ORGANISE:
        # A need of no grid: only those who organise anywhere in the community.
        if obj.grid_id is None:
            return rules.office_grids(actor, obj.community) is None
        return rules.may_organise(actor, obj.community, obj.grid_id)
    return rules.actor_may(actor, obj, who)


NEED = Workflow(
    "volunteers_need", model=Need, may=_may, jobs_too=frozenset({rules.MANAGE, ORGANISE}),
    places=lambda n: {"community": n.community, "grid": n.grid},
    event_data=lambda n: {"need": n.pk, "source": n.source, "activity_type": n.activity_type},
    illegal_message=_("This need is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this need."),
    moves=[
        Move("plan", {N.OPEN}, N.PLANNED, who=ORGANISE, label=_("Plan an activity"), verb="planned",
             message=_("An activity answers this need."), event_label=_("planned an activity for a need")),
        Move("reopen", {N.PLANNED}, N.OPEN, who=ORGANISE, label=_("Reopen"), verb="reopened",
             message=_("The need is open again."), event_label=_("reopened a need")),
        Move("close", {N.OPEN, N.PLANNED}, N.CLOSED, who=rules.MANAGE, label=_("Close"), verb="closed",
             message=_("The need is closed."), event_label=_("closed a need")),
        Move("decline", {N.OPEN}, N.DECLINED, who=rules.MANAGE, label=_("Decline"), form="reason",
             verb="declined", message=_("The need is declined; the reason is kept with it."),
             event_label=_("declined a need")),
    ],
)
