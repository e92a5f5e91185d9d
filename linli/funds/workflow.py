"""The life of a fund project, as one table of moves (docs/funds.md).

    submitted ──review──▶ eligible ──select──▶ selected ──start──▶ implementing ──accept──▶ accepted
      │   ▲               │   ▲  └─not_select─▶ not_selected          │  ▲
      │   └───review──────┘   │                (override: reselect)    └──┘ acceptance_failed
      │       ineligible ◀────┘
      └─withdraw─▶ withdrawn

``review`` decides between ``eligible`` and ``ineligible`` (with a reason the proposer sees)
and may be made again while the review phase lasts. ``select`` / ``not_select`` are made by
the selection service for every eligible project at once; ``reselect`` only by an
administrator's override, with a reason. The phase each move needs is checked by the services
(``linli.voting.phases.require``), not here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import Move, Workflow

from . import rules
from .models import Project

P = Project.State

PROJECT = Workflow(
    "funds", model=Project, may=rules.actor_may, state_field="state",
    places=lambda p: {"community": p.call.community},
    event_data=lambda p: {"call": p.call_id, "project": p.pk},
    webhook=True,
    illegal_message=_("This project is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this project."),
    moves=[
        Move("withdraw", {P.SUBMITTED}, P.WITHDRAWN, who=rules.PROPOSER, label=_("Withdraw the project"),
             verb="project_withdrawn", message=_("The project is withdrawn."),
             event_label=_("withdrew a fund project")),
        Move("review", {P.SUBMITTED, P.ELIGIBLE, P.INELIGIBLE}, None, who=rules.OFFICE,
             label=_("Review"), verb="project_reviewed", form="review",
             message=_("The review is saved; the proposer sees it."),
             event_label=_("reviewed a fund project")),
        Move("select", {P.ELIGIBLE}, P.SELECTED, who=rules.ADMIN, label=_("Select"),
             verb="project_selected", event_label=_("selected a fund project by the call's rule")),
        Move("not_select", {P.ELIGIBLE}, P.NOT_SELECTED, who=rules.ADMIN, label=_("Not selected"),
             verb="project_not_selected", event_label=_("did not select a fund project")),
        Move("reselect", {P.SELECTED, P.NOT_SELECTED}, None, who=rules.ADMIN, label=_("Override the selection"),
             verb="project_reselected", form="override",
             event_label=_("changed a fund project's selection by an override")),
        Move("start", {P.SELECTED}, P.IMPLEMENTING, who=rules.OFFICE, label=_("Start the work"),
             verb="project_started", message=_("The project is being carried out; its account is open in the books."),
             event_label=_("started carrying out a fund project")),
        Move("accept", {P.IMPLEMENTING}, P.ACCEPTED, who=rules.OFFICE, label=_("Record the acceptance"),
             verb="project_accepted", form="acceptance", message=_("The acceptance is recorded."),
             event_label=_("recorded that a residents' panel accepted a fund project")),
        Move("acceptance_failed", {P.IMPLEMENTING}, P.IMPLEMENTING, who=rules.OFFICE,
             label=_("Record a failed acceptance"), verb="project_acceptance_failed", form="acceptance",
             message=_("The panel did not accept the project; the work goes on."),
             event_label=_("recorded that a residents' panel did not accept a fund project")),
    ],
)
