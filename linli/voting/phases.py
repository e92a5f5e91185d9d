"""A process's phases: one after another, no gap, no overlap (docs/voting.md).

A process is laid out by its phases' starts: each enabled phase runs from its own start to the
next enabled phase's start, the last one to the process's end. A disabled phase is kept (a
community may switch it back on) with zero length at the boundary where it would sit, and is
never current. :func:`arrange` is the pure layout; :func:`set_phases` stores it.

Every write of the apps built on processes (proposals, support, votes, reviews …) first calls
:func:`require`: it raises :class:`PhaseClosed` unless the phase that allows the action is
enabled and current, with a message that names the action, that phase, its dates and the
phase that is current instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import rules
from .models import Phase, Process, Vote

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    name: str
    starts_at: dt.datetime
    enabled: bool = True


class PhaseClosed(PermissionDenied):
    code = "phase_closed"


def arrange(specs: list[PhaseSpec], *, ends_at: dt.datetime) -> list[tuple[PhaseSpec, dt.datetime, dt.datetime]]:
    """``(spec, starts, ends)`` for every spec, in the given order (pure).

    Enabled phases end where the next enabled one starts, the last at ``ends_at``. A disabled
    phase gets zero length at the boundary it sits on: the start of the next enabled phase
    (the end of the previous one), or ``ends_at`` after the last. Raises InvalidInput when the
    enabled phases' starts do not strictly increase, when ``ends_at`` is not after the last
    start, when no phase is enabled, or when a key is empty or repeated.
    """
    if not specs:
        raise InvalidInput(_("A process needs at least one phase."), field="phases")
    seen: set[str] = set()
    for spec in specs:
        if not KEY_RE.match(spec.key or ""):
            raise InvalidInput(_("A phase key is lower-case letters, digits, “-” or “_” (at most 32)."),
                               field="phases")
        if spec.key in seen:
            raise InvalidInput(_("Two phases have the key “%(key)s”.") % {"key": spec.key}, field="phases")
        seen.add(spec.key)
        if not (spec.name or "").strip():
            raise InvalidInput(_("Every phase needs a name."), field="phases")
        if spec.starts_at is None or timezone.is_naive(spec.starts_at):
            raise InvalidInput(_("Every phase needs a start date and time."), field="phases")
    enabled = [i for i, s in enumerate(specs) if s.enabled]
    if not enabled:
        raise InvalidInput(_("At least one phase must be enabled."), field="phases")
    for before, after in zip(enabled, enabled[1:]):
        if not specs[after].starts_at > specs[before].starts_at:
            raise InvalidInput(
                _("The phase “%(later)s” must start after “%(earlier)s” starts.")
                % {"later": specs[after].name, "earlier": specs[before].name}, field="phases")
    if ends_at is None or timezone.is_naive(ends_at) or not ends_at > specs[enabled[-1]].starts_at:
        raise InvalidInput(_("The process must end after its last phase starts."), field="ends_at")

    out = []
    for i, spec in enumerate(specs):
        following = next((j for j in enabled if j > i), None)
        boundary = specs[following].starts_at if following is not None else ends_at
        if spec.enabled:
            out.append((spec, spec.starts_at, boundary))
        else:
            out.append((spec, boundary, boundary))
    return out


def set_phases(*, actor, process: Process, specs: list[PhaseSpec], ends_at: dt.datetime) -> list[Phase]:
    """Lay out and store the process's phases (one event ``voting.phases_set``).

    Phases are matched by key: a kept phase keeps its row (and, if its start did not move,
    that its opening was announced); a phase a vote of the process still uses cannot be
    removed or disabled.
    """
    if actor is not None and not rules.may_run(actor, process.community):
        raise PermissionDenied(_("You may not run processes in this community."))
    laid = arrange(list(specs), ends_at=ends_at)
    with transaction.atomic():
        process = Process.objects.select_for_update().get(pk=process.pk)
        existing = {p.key: p for p in Phase.objects.filter(process=process)}
        used = set(Vote.objects.filter(process=process).values_list("phase_key", flat=True))
        wanted = {spec.key: spec for spec, _s, _e in laid}
        for key in used:
            if key not in wanted or not wanted[key].enabled:
                raise InvalidInput(_("A vote of this process takes ballots in the phase “%(key)s”: keep it enabled.")
                                   % {"key": key}, field="phases")
        gone = [p.pk for key, p in existing.items() if key not in wanted]
        Phase.objects.filter(pk__in=gone).delete()
        kept: list[Phase] = []
        for order, (spec, starts, ends) in enumerate(laid, start=1):
            phase = existing.get(spec.key) or Phase(process=process, key=spec.key)
            if phase.pk and phase.starts_at != starts:
                phase.opened_at = None
            phase.name = spec.name.strip()[:80]
            phase.order = order
            phase.starts_at, phase.ends_at, phase.enabled = starts, ends, spec.enabled
            phase.save()
            kept.append(phase)
        events.record(actor=actor, verb="voting.phases_set", target=process, community=process.community,
                      data={"phases": [p.key for p in kept if p.enabled], "kind": process.kind})
    return kept


def _phases(process: Process) -> list[Phase]:
    return list(process.phases.all())  # uses a prefetch when there is one


def current(process: Process, at: dt.datetime | None = None) -> Phase | None:
    """The enabled phase running at ``at`` (now), or None before the start and after the end."""
    at = at or timezone.now()
    return next((p for p in _phases(process) if p.enabled and p.starts_at <= at < p.ends_at), None)


def next_phase(process: Process, at: dt.datetime | None = None) -> Phase | None:
    """The first enabled phase that starts after ``at`` (now)."""
    at = at or timezone.now()
    return next((p for p in _phases(process) if p.enabled and p.starts_at > at), None)


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def require(process: Process, key: str, *, action: str, at: dt.datetime | None = None) -> Phase:
    """The phase ``key`` if it is enabled and current; :class:`PhaseClosed` otherwise.

    ``action``: what the caller is about to do, translated, as a short phrase (“vote”,
    “propose a topic”); the message names it.
    """
    at = at or timezone.now()
    phases = _phases(process)
    phase = next((p for p in phases if p.key == key), None)
    now = current(process, at)
    if phase is not None and phase.enabled and phase.starts_at <= at < phase.ends_at:
        return phase
    if now is not None:
        state = _("The current phase is “%(current)s” (until %(ends)s).") % {
            "current": now.name, "ends": _when(now.ends_at)}
    elif phases and all(p.ends_at <= at for p in phases if p.enabled):
        state = _("The process has ended.")
    else:
        state = _("No phase is running now.")
    if phase is None or not phase.enabled:
        message = _("You cannot %(action)s: this process has no such phase running at all.") % {"action": action}
    else:
        message = _("You can %(action)s only during the phase “%(phase)s”, from %(starts)s to %(ends)s.") % {
            "action": action, "phase": phase.name, "starts": _when(phase.starts_at), "ends": _when(phase.ends_at)}
    raise PhaseClosed(f"{message} {state}")
