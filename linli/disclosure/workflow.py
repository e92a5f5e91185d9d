"""The life of a board entry, as one table of moves (docs/disclosure.md).

    draft ──submit──▶ submitted ──publish (a second person)──▶ published ──withdraw──▶ withdrawn
      ▲   └─(looks like it holds a phone or ID number)─▶ held        │
      └──────return (with a note)── submitted / held                └─ a correction: a new entry

``submit`` decides between ``submitted`` and ``held`` (:mod:`linli.disclosure.pii`); the author
masks the numbers and submits again. ``publish`` is the approval: made by someone with the
section's approving role who is not the author, it appends the entry's leaf and signs a
checkpoint in the same transaction (:func:`linli.disclosure.services.publish`).
``publish_as_server`` is the same for ``linli disclosure publish`` (actor None): whoever runs the
command on the server approves what it imports, and the event says so.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import SYSTEM, Move, Workflow

from . import rules
from .models import Entry

E = Entry.State

ENTRY = Workflow(
    "disclosure", model=Entry, may=rules.actor_may, state_field="state",
    places=lambda entry: {"community": entry.community},
    event_data=lambda entry: {"section": entry.section, "log_index": entry.log_index},
    illegal_message=_("This entry is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=_("You may not do this with this entry."),
    moves=[
        Move("submit", {E.DRAFT, E.HELD}, None, who=rules.AUTHOR, label=_("Submit for approval"),
             verb="submitted", message=_("Submitted for approval."),
             event_label=_("submitted a board entry for approval")),
        Move("return", {E.SUBMITTED, E.HELD}, E.DRAFT, who=rules.APPROVER, label=_("Return to the author"),
             verb="returned", form="note", message=_("Returned to the author."),
             event_label=_("returned a board entry to its author")),
        Move("publish", {E.SUBMITTED}, E.PUBLISHED, who=rules.APPROVER, label=_("Approve and publish"),
             verb="published", message=_("Approved and published."),
             event_label=_("approved and published a board entry")),
        Move("publish_as_server", {E.DRAFT}, E.PUBLISHED, who=SYSTEM, label=_("Publish from the server"),
             verb="published_by_server",
             event_label=_("published a board entry from the server (approved by whoever ran the command)")),
        Move("withdraw", {E.PUBLISHED}, E.WITHDRAWN, who=rules.ADMIN, label=_("Withdraw"),
             verb="withdrawn", form="withdraw", message=_("Withdrawn. The tombstone stays on the board."),
             event_label=_("withdrew a published board entry")),
    ],
)
