"""Providers, services and their slots (docs/services.md, "Providers, services, slots").

The office creates providers and services; the office or the provider's staff make slots (a
series for one day: every ``every_minutes`` from ``start`` until ``end``) and cancel a slot
(its bookings are cancelled and the residents told). A slot's cancellation goes through the
``services_slot`` workflow (event ``services_slot.cancelled``).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.workflow import Move, Workflow

from . import rules
from .bookings import BOOKING, PRIORITY_DEFAULT, with_priority_booked
from .models import Booking, Provider, Service, Slot

MAX_CAPACITY = 500
MAX_SLOTS_A_DAY = 96
MIN_MINUTES, MAX_MINUTES = 5, 480

EVENTS = {
    "services.provider_created": gettext_lazy("added a service provider"),
    "services.provider_updated": gettext_lazy("changed a service provider"),
    "services.service_created": gettext_lazy("added a bookable service"),
    "services.service_updated": gettext_lazy("changed a bookable service"),
    "services.slots_created": gettext_lazy("opened times for a service"),
}

RUN = "run"

SLOT = Workflow(
    "services_slot", model=Slot, may=lambda actor, slot, who: who == RUN and rules.may_run_service(actor, slot.service),
    places=lambda s: {"community": s.service.community},
    event_data=lambda s: {"slot": s.pk, "service": s.service_id},
    illegal_message=gettext_lazy("This time is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this time."),
    moves=[
        Move("cancel", {Slot.Status.OPEN}, Slot.Status.CANCELLED, who=RUN, label=gettext_lazy("Cancel this time"),
             verb="cancelled", message=gettext_lazy("The time is cancelled; the residents booked are told."),
             event_label=gettext_lazy("cancelled a service's time")),
    ],
)


def _text(value, *, field, max_length, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), code="required", field=field)
    if len(value) > max_length:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": max_length}, code="too_long", field=field)
    return value


def _small(value, *, field, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise InvalidInput(_("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
                           code="number", field=field)
    return value


def _require_office(actor, community) -> None:
    if not rules.may_manage(actor, community):
        raise PermissionDenied(_("Only the community office may do this."), code="not_office")


# --- providers -----------------------------------------------------------------------------------


@transaction.atomic
def provider_create(*, actor, community, name, organisation=None, description="") -> Provider:
    _require_office(actor, community)
    if organisation is not None and organisation.community_id not in (None, community.pk):
        raise InvalidInput(_("This organisation belongs to another community."), code="organisation",
                           field="organisation")
    provider = Provider.objects.create(
        community=community, name=_text(name, field="name", max_length=80), organisation=organisation,
        description=_text(description, field="description", max_length=300, required=False))
    events.record(actor=actor, verb="services.provider_created", target=provider, community=community,
                  data={"provider": provider.pk, "organisation": organisation.pk if organisation else None})
    return provider


@transaction.atomic
def provider_update(*, actor, provider, name=None, description=None, active=None) -> Provider:
    _require_office(actor, provider.community)
    if name is not None:
        provider.name = _text(name, field="name", max_length=80)
    if description is not None:
        provider.description = _text(description, field="description", max_length=300, required=False)
    if active is not None:
        provider.active = bool(active)
    provider.save()
    events.record(actor=actor, verb="services.provider_updated", target=provider, community=provider.community,
                  data={"provider": provider.pk, "active": provider.active})
    return provider


# --- services ------------------------------------------------------------------------------------


def _need_codes(value) -> list[str]:
    codes = []
    for code in value or ():
        code = str(code).strip().lower()
        if not code or len(code) > 40 or not all(ch.isalnum() or ch in "-_" for ch in code):
            raise InvalidInput(_("Need categories are codes such as “health”."), code="need_categories",
                               field="need_categories")
        if code not in codes:
            codes.append(code)
    return codes


def service_create(*, actor, community, provider, code, name, kind, place, description="", need_categories=(),
                   cancel_hours=2, max_active=2, no_show_limit=3) -> Service:
    """A bookable service of ``provider`` (of the same community). Refused: a code in use (``code_taken``)."""
    _require_office(actor, community)
    if provider.community_id != community.pk:
        raise InvalidInput(_("This provider belongs to another community."), code="provider", field="provider")
    code = _text(code, field="code", max_length=32).lower()
    if not all(ch.isalnum() or ch in "-_" for ch in code):
        raise InvalidInput(_("A code is letters, digits and dashes."), code="code", field="code")
    if kind not in Service.Kind.values:
        raise InvalidInput(_("Choose a kind of service."), code="kind", field="kind")
    try:
        with transaction.atomic():
            service = Service.objects.create(
                community=community, provider=provider, code=code, name=_text(name, field="name", max_length=80),
                kind=kind, place=_text(place, field="place", max_length=120),
                description=_text(description, field="description", max_length=300, required=False),
                need_categories=_need_codes(need_categories),
                cancel_hours=_small(cancel_hours, field="cancel_hours", low=0, high=168),
                max_active=_small(max_active, field="max_active", low=1, high=20),
                no_show_limit=_small(no_show_limit, field="no_show_limit", low=1, high=50))
            events.record(actor=actor, verb="services.service_created", target=service, community=community,
                          data={"service": service.pk, "provider": provider.pk, "kind": kind})
    except IntegrityError:
        raise Conflict(_("Another service already uses this code."), code="code_taken", field="code") from None
    return service


@transaction.atomic
def service_update(*, actor, service, name=None, place=None, description=None, need_categories=None,
                   cancel_hours=None, max_active=None, no_show_limit=None, active=None) -> Service:
    _require_office(actor, service.community)
    if name is not None:
        service.name = _text(name, field="name", max_length=80)
    if place is not None:
        service.place = _text(place, field="place", max_length=120)
    if description is not None:
        service.description = _text(description, field="description", max_length=300, required=False)
    if need_categories is not None:
        service.need_categories = _need_codes(need_categories)
    if cancel_hours is not None:
        service.cancel_hours = _small(cancel_hours, field="cancel_hours", low=0, high=168)
    if max_active is not None:
        service.max_active = _small(max_active, field="max_active", low=1, high=20)
    if no_show_limit is not None:
        service.no_show_limit = _small(no_show_limit, field="no_show_limit", low=1, high=50)
    if active is not None:
        service.active = bool(active)
    service.save()
    events.record(actor=actor, verb="services.service_updated", target=service, community=service.community,
                  data={"service": service.pk, "active": service.active})
    return service


# --- slots ---------------------------------------------------------------------------------------


def _aware(day: dt.date, clock: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, clock))


def slots_create(*, actor, service, day, start, end, every_minutes, capacity, priority_places=0,
                 at=None) -> list[Slot]:
    """A series of slots on ``day``: every ``every_minutes`` from ``start`` while a whole slot fits
    before ``end``. Refused: a slot in the past (``past``), one that overlaps an open slot of the
    service or repeats its start (``overlap``), sizes out of range. Priority places are held until
    24 hours before each slot starts."""
    at = at or timezone.now()
    if not rules.may_run_service(actor, service):
        raise PermissionDenied(_("Only the community office or the provider's staff may do this."),
                               code="not_staff")
    every = _small(every_minutes, field="every_minutes", low=MIN_MINUTES, high=MAX_MINUTES)
    capacity = _small(capacity, field="capacity", low=1, high=MAX_CAPACITY)
    priority_places = _small(priority_places, field="priority_places", low=0, high=capacity)
    if not isinstance(day, dt.date) or not isinstance(start, dt.time) or not isinstance(end, dt.time):
        raise InvalidInput(_("Give a day, a start and an end time."), code="time", field="start")
    first, last = _aware(day, start), _aware(day, end)
    if last <= first:
        raise InvalidInput(_("The end comes after the start."), code="time", field="end")
    if first <= at:
        raise InvalidInput(_("A time in the past cannot be booked."), code="past", field="day")
    step = dt.timedelta(minutes=every)
    rows = []
    moment = first
    while moment + step <= last:
        rows.append(Slot(service=service, starts_at=moment, ends_at=moment + step, capacity=capacity,
                         priority_places=priority_places,
                         priority_until=(moment - PRIORITY_DEFAULT) if priority_places else None, created_at=at))
        moment += step
    if not rows:
        raise InvalidInput(_("No whole slot fits between the start and the end."), code="time", field="end")
    if len(rows) > MAX_SLOTS_A_DAY:
        raise InvalidInput(_("At most %(n)d slots a day.") % {"n": MAX_SLOTS_A_DAY}, code="too_many_slots",
                           field="every_minutes")
    try:
        with transaction.atomic():
            if Slot.objects.filter(service=service, status=Slot.Status.OPEN, starts_at__lt=last,
                                   ends_at__gt=first).exists() or \
                    Slot.objects.filter(service=service, starts_at__in=[r.starts_at for r in rows]).exists():
                raise Conflict(_("These times overlap times this service already has."), code="overlap",
                               field="start")
            created = Slot.objects.bulk_create(rows)
            events.record(actor=actor, verb="services.slots_created", target=service, community=service.community,
                          at=at, data={"service": service.pk, "day": day.isoformat(), "slots": len(created),
                                       "capacity": capacity, "priority_places": priority_places})
    except IntegrityError:
        raise Conflict(_("These times overlap times this service already has."), code="overlap",
                       field="start") from None
    if not all(s.pk for s in created):  # backends that return no ids from bulk_create
        created = list(Slot.objects.filter(service=service, starts_at__in=[r.starts_at for r in rows]))
    return created


def slot_cancel(*, actor, slot, reason) -> Slot:
    """Cancel a slot before it starts: every booked or waiting booking is cancelled (never counted
    against the resident) and the residents are told (notify recipe on ``services.cancelled``)."""
    reason = _text(reason, field="reason", max_length=200)
    if slot.starts_at <= timezone.now():
        raise Conflict(_("This time has started; it can no longer be cancelled."), code="closed")
    with transaction.atomic():
        slot = SLOT.transition(slot, "cancel", actor=actor, data={"reason": reason})
        for booking in (Booking.objects.filter(slot=slot, status__in=Booking.OPEN)
                        .select_related("resident", "slot__service__community")):

            def apply(row, moment):
                row.cancelled_at = moment

            BOOKING.transition(booking, "cancel", actor=actor, apply=apply,
                               data={"by_staff": True, "slot_cancelled": True})
        Slot.objects.filter(pk=slot.pk).update(booked=0)
    slot.refresh_from_db()
    return slot


def upcoming_slots(service, *, at=None, days=28):
    """Open slots of the service from now for ``days`` days, in order."""
    at = at or timezone.now()
    return with_priority_booked(Slot.objects.filter(
        service=service, status=Slot.Status.OPEN, starts_at__gt=at,
        starts_at__lte=at + dt.timedelta(days=days)).order_by("starts_at", "id"))
