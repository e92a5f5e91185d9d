"""The life of an evaluation, as one table of moves (docs/evaluation.md).

    setup ──prepare (the ballot is built and opened)──▶ voting ──count──▶ counted ──publish──▶ published
                                                                  ▲──recount──┘

``prepare`` is made in the phase "preparation", ``count`` (and a recount, while late paper
sheets come in) in "results", ``publish`` in "response" (:mod:`linli.evaluation.services`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import Move, Workflow

from . import rules
from .models import Evaluation

S = Evaluation.State

EVALUATION = Workflow(
    "evaluation", model=Evaluation, may=rules.actor_may, state_field="state",
    places=lambda ev: {"community": ev.community},
    event_data=lambda ev: {"year": ev.year},
    illegal_message=_("This evaluation is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this evaluation."),
    moves=[
        Move("prepare", {S.SETUP}, S.VOTING, who=rules.MANAGE, label=_("Prepare and open the ballot"),
             verb="ballot_prepared", message=_("The ballot is ready; residents can vote in the voting phase."),
             event_label=_("prepared and opened the ballot of a democratic evaluation")),
        Move("count", {S.VOTING, S.COUNTED}, S.COUNTED, who=rules.MANAGE, label=_("Close the ballot and count"),
             verb="counted", message=_("Counted."),
             event_label=_("counted a democratic evaluation")),
        Move("publish", {S.COUNTED}, S.PUBLISHED, who=rules.PUBLISH, label=_("Publish the results and the annual report"),
             verb="published", message=_("Published on the public affairs board."),
             event_label=_("published a democratic evaluation's results and the annual report")),
    ],
)
