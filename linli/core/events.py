"""Writing to the event log. Services call :func:`record` inside their transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Event

# Data keys that must never reach the log, whatever a caller passes.
_FORBIDDEN_KEYS = {"name", "phone", "id_number", "address", "birth_date", "note", "value", "password"}


def record(*, actor, verb: str, target=None, community=None, grid=None, street=None, data=None,
           at=None) -> Event:
    """Write one event in the caller's transaction (services are atomic)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events are written inside the service's transaction")
    event = build(actor=actor, verb=verb, target=target, community=community, grid=grid, street=street,
                  data=data, at=at)
    event.save(force_insert=True)
    return event


def build(*, actor, verb: str, target=None, community=None, grid=None, street=None, data=None,
          at=None) -> Event:
    """The event, checked and unsaved: for history written in bulk (``bulk_create``), which
    must hold the same rows :func:`record` writes. ``at`` defaults to now."""
    data = dict(data or {})
    leaked = _FORBIDDEN_KEYS.intersection(_keys(data))
    if leaked:
        raise ValueError(f"personal data keys in an event: {sorted(leaked)}")
    return Event(
        created_at=at or timezone.now(),
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "username", "") or "system",
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        community_id=community.pk if community is not None else None,
        # The community's street by id: no query for a row the event only points at.
        street_id=street.pk if street is not None else (community.street_id if community is not None else None),
        grid_id=grid.pk if grid is not None else None,
        data=data,
    )


def _keys(data) -> set:
    """Every key of a JSON-like value, however deeply nested."""
    if isinstance(data, dict):
        return set(data).union(*(_keys(v) for v in data.values()))
    if isinstance(data, (list, tuple)):
        return set().union(*(_keys(v) for v in data))
    return set()
