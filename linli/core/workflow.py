"""One state machine helper for every workflow: a declared table of moves and one ``transition()``.

A workflow is a table: each :class:`Move` names the states it may start from,
the state it leads to, who may make it, how pages label it, what form collects
its input, what the actor is told afterwards and the event verb it writes.
:meth:`Workflow.transition` is the only way a row changes state: it re-reads
the row under a lock, checks the move and the actor, lets the caller set the
move's own fields, saves, and writes exactly one event, all in one
transaction. Illegal moves raise :class:`IllegalTransition` and change nothing.

    CASE = Workflow("case", model=Case, moves=[
        Move("accept", {S.SUBMITTED}, S.ACCEPTED, who=OFFICE, verb="accepted",
             label=_("accept"), event_label=_("accepted a case")),
        ...
    ], may=rules.actor_may, places=lambda c: {"community": c.community, "grid": c.grid})

The event verb is ``<workflow>.<move.verb>``, past tense (``case.accepted``):
an event says what happened. Each workflow registers its verbs' labels for
the event log (:mod:`linli.core.registry`).

History that is written in bulk (the demo's two years of cases) goes through
:meth:`Workflow.check_move` and :meth:`Workflow.event` — the same table and
the same event shape, without a row lock per move.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events, registry
from .errors import InvalidInput, PermissionDenied

# The actor of a move only periodic jobs make (actor None).
SYSTEM = "system"


class IllegalTransition(InvalidInput):
    """The row is not in a state for this move (or the move does not exist)."""

    code = "illegal_transition"
    status = 409


@dataclass(frozen=True)
class Move:
    """One row of a workflow's table.

    ``sources``: the states it may start from. ``target``: the state it leads to, or None when
    the move decides (``apply`` returns the state) or leaves the state as it is. ``who``: a rule
    name the workflow's ``may(actor, obj, who)`` understands; :data:`SYSTEM` means periodic jobs
    only. ``label``: the move as a button or menu names it. ``verb``: the event's verb, past
    tense, after the workflow's name. ``form``: the name of the form that collects its input,
    for pages and the API. ``message``: what the actor is told once it is done.
    ``event_label``: how the event log reads it.
    """

    name: str
    sources: frozenset
    target: str | None
    who: str
    label: Any
    verb: str
    form: str = ""
    message: Any = ""
    event_label: Any = ""

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))


@dataclass
class Workflow:
    """A model's state machine. ``state_field``: the model's state field. ``may(actor, obj, who)``:
    whether an actor may make moves labelled ``who`` on ``obj``. ``places(obj)``: the event's
    ``community`` / ``grid`` / ``street`` keywords. ``event_data(obj)``: facts every event of
    this workflow carries (a case's number). ``before_save(obj)`` / ``after_save(token, obj)``:
    hooks around the save, in the transaction (a rollup kept in step). ``webhook``: whether
    partners' webhooks may subscribe to this workflow's events. ``jobs_too``: the ``who``
    labels whose moves jobs and commands (actor None, the server's own rights) may make as
    well as the people ``may`` admits (a classifier promoted by the daily job or by a person)."""

    name: str
    model: Any
    moves: Iterable[Move]
    may: Callable[[Any, Any, str], bool]
    state_field: str = "status"
    places: Callable[[Any], dict] = lambda obj: {}
    event_data: Callable[[Any], dict] = lambda obj: {}
    before_save: Callable[[Any], Any] | None = None
    after_save: Callable[[Any, Any], None] | None = None
    webhook: bool = False
    jobs_too: frozenset = frozenset()
    illegal_message: Any = None
    denied_message: Any = None
    # The first part of its event verbs, where it is not the workflow's name: an app with several
    # workflows whose events all read ``<app>.<what happened>`` (canteen, services).
    verb_prefix: str = ""
    table: dict = dataclasses.field(init=False, repr=False)

    def __post_init__(self):
        self.table = {}
        for move in self.moves:
            if move.name in self.table:
                raise ValueError(f"{self.name}: move {move.name!r} declared twice")
            self.table[move.name] = move
        self.moves = tuple(self.table.values())
        existing = _workflows.get(self.name)
        if existing is not None and (existing.model is not self.model or set(existing.table) != set(self.table)):
            raise ValueError(f"workflow {self.name!r} declared twice, with different moves")
        for move in self.moves:
            registry.register_event(self.verb(move.name), move.event_label or move.label, webhook=self.webhook)
        _workflows[self.name] = self

    # --- the table ------------------------------------------------------------------------------

    def move(self, name: str) -> Move:
        move = self.table.get(name)
        if move is None:
            raise IllegalTransition(_("Unknown action."))
        return move

    def verb(self, move_name: str) -> str:
        return f"{self.verb_prefix or self.name}.{self.table[move_name].verb}"

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def state_label(self, obj) -> Any:
        display = getattr(obj, f"get_{self.state_field}_display", None)
        return display() if display else self.state_of(obj)

    def allowed(self, actor, obj) -> list[str]:
        """The moves this actor may make on this row now (for pages and the API)."""
        state = self.state_of(obj)
        return [m.name for m in self.moves
                if state in m.sources and m.who != SYSTEM and self.actor_may(actor, obj, m.who)]

    def actor_may(self, actor, obj, who: str) -> bool:
        if actor is None:
            return who == SYSTEM or who in self.jobs_too
        if who == SYSTEM:
            return False
        return bool(self.may(actor, obj, who))

    def check_move(self, move_name: str, state: str) -> Move:
        """The move, if it may start from ``state``; IllegalTransition otherwise. (For history
        written in bulk, which checks each simulated move against the same table.)"""
        move = self.move(move_name)
        if state not in move.sources:
            raise self._illegal(state, move)
        return move

    def _illegal(self, status, move: Move) -> IllegalTransition:
        return IllegalTransition(
            (self.illegal_message or _("This is %(status)s; the step “%(move)s” is not possible now."))
            % {"status": status, "move": move.label})

    # --- making a move --------------------------------------------------------------------------

    def transition(self, obj, move_name: str, *, actor, apply=None, data: dict | None = None):
        """Check and make one move; returns the row as saved.

        ``apply(obj, now)`` sets the move's own fields, may raise InvalidInput to refuse (nothing
        is saved), and may return the target state (for moves whose target depends on input).
        ``data``: facts for the event, beyond ``from``, ``to`` and the workflow's own.
        """
        with transaction.atomic():
            move = self.move(move_name)
            # Re-read under a row lock: two people clicking at once make one move.
            obj = type(obj).objects.select_for_update().get(pk=obj.pk)
            before = self.state_of(obj)
            if before not in move.sources:
                raise self._illegal(self.state_label(obj), move)
            if not self.actor_may(actor, obj, move.who):
                raise PermissionDenied(self.denied_message or _("You may not do this."))
            now = timezone.now()
            token = self.before_save(obj) if self.before_save else None
            target = apply(obj, now) if apply else None
            setattr(obj, self.state_field, target or move.target or before)
            obj.save()
            if self.after_save:
                self.after_save(token, obj)
            events.record(actor=actor, verb=self.verb(move_name), target=obj, at=now,
                          data=self._data(obj, before, data), **self.places(obj))
        return obj

    def event(self, obj, move_name: str, *, actor, before: str, at, data: dict | None = None):
        """The event :meth:`transition` would write for this move, unsaved (the event factory
        for history written in bulk). The move is checked against the table."""
        self.check_move(move_name, before)
        return events.build(actor=actor, verb=self.verb(move_name), target=obj, at=at,
                            data=self._data(obj, before, data), **self.places(obj))

    def _data(self, obj, before: str, extra: dict | None) -> dict:
        return {"from": before, "to": self.state_of(obj), **self.event_data(obj), **(extra or {})}


_workflows: dict[str, Workflow] = {}


def workflows() -> list[Workflow]:
    """Every declared workflow (for docs and tests)."""
    return sorted(_workflows.values(), key=lambda w: w.name)


def transition(workflow: Workflow, obj, move_name: str, *, actor, apply=None, data=None):
    """``workflow.transition(...)``, for callers that read better with a function."""
    return workflow.transition(obj, move_name, actor=actor, apply=apply, data=data)
