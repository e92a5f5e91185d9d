"""The life of a vote, as one table of moves (docs/voting.md).

    draft ──open──▶ open ──close──▶ closed ──publish──▶ published

``open`` and ``close`` are made by the community's office (``linli.voting.services.vote_open``,
``vote_close``), or by the server (actor None: the demo, commands). ``publish`` is made by
``linli.voting.results.publish``, which counts the ballots and publishes the result on the board
in the same transaction. Questions and options change only while the vote is a draft.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import Move, Workflow

from . import rules
from .models import Vote

V = Vote.State

VOTE = Workflow(
    "vote", model=Vote, may=rules.actor_may, state_field="state",
    places=lambda vote: {"community": vote.process.community},
    event_data=lambda vote: {"process": vote.process_id, "kind": vote.kind},
    jobs_too=frozenset({rules.OFFICE}),
    webhook=True,
    illegal_message=_("This vote is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this vote."),
    moves=[
        Move("open", {V.DRAFT}, V.OPEN, who=rules.OFFICE, label=_("Open the vote"), verb="opened",
             message=_("The vote is open. Ballots are accepted while its phase runs."),
             event_label=_("opened a vote")),
        Move("close", {V.OPEN}, V.CLOSED, who=rules.OFFICE, label=_("Close the vote"), verb="closed",
             message=_("The vote is closed. No more ballots are accepted."),
             event_label=_("closed a vote")),
        Move("publish", {V.CLOSED}, V.PUBLISHED, who=rules.OFFICE, label=_("Count and publish"),
             verb="published", message=_("The result is published on the public affairs board."),
             event_label=_("counted a vote and published its result")),
    ],
)
