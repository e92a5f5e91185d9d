"""Booking a service's slot, the waiting list, cancelling and marking (docs/services.md, "Bookings").

Capacity is exact under concurrency by one pattern: a place is taken by ONE conditional UPDATE of
``Slot.booked`` inside the booking's transaction (``booked < capacity``, and for a resident without
priority ``booked < capacity − priority_places`` while the slot still holds its priority places);
0 rows means full — a ``waiting`` booking, or ``Conflict("full")`` with ``waitlist=False``. A place
goes back by ``booked − 1`` in the cancellation's transaction, which also promotes the first
waiting booking (priority first, then the oldest). The CHECK ``booked <= capacity`` is the
backstop; the conditional UNIQUE (slot, resident) over open bookings refuses a second booking.

A booking's state changes through the ``services`` workflow (:data:`BOOKING`): its moves write
the events ``services.cancelled``, ``services.late_cancelled``, ``services.promoted``,
``services.attended`` and ``services.no_show``; creating a booking writes ``services.booked`` or
``services.waitlisted``. Event data never holds a name.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core import events
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.core.workflow import SYSTEM, Move, Workflow
from linli.points.models import IdempotencyKey

from . import priority as priority_rules
from . import rules
from .models import Booking, Slot

B = Booking.Status
C = Booking.Channel

RESIDENT_CHANNELS = (C.ONLINE, C.API)
STAFF_CHANNELS = (C.PHONE, C.WALK_IN)
NO_SHOW_WINDOW = dt.timedelta(days=90)
NO_SHOW_AFTER = dt.timedelta(hours=2)     # the job marks "booked" as no-show this long after the slot ends
REMIND_AHEAD = dt.timedelta(hours=24)
PRIORITY_DEFAULT = dt.timedelta(hours=24)  # priority places are held until this long before the start

# Rule names of the workflow below.
SELF = "self"                # the resident's own account
RUN = "run"                  # the office or the provider's staff (rules.may_run_service)
SELF_OR_RUN = "self_or_run"

# Events that are not workflow moves (registered in apps.py).
EVENTS = {
    "services.booked": gettext_lazy("booked a service"),
    "services.waitlisted": gettext_lazy("joined a service's waiting list"),
    "services.reminded": gettext_lazy("reminded a resident of a booking"),
}


def _may(actor, booking, who: str) -> bool:
    if who == SELF:
        return booking.resident.user_id is not None and actor.pk == booking.resident.user_id
    if who == RUN:
        return rules.may_run_service(actor, booking.slot.service)
    if who == SELF_OR_RUN:
        return _may(actor, booking, SELF) or _may(actor, booking, RUN)
    return False


BOOKING = Workflow(
    "services_booking", verb_prefix="services", model=Booking, may=_may,
    places=lambda b: {"community": b.slot.service.community},
    event_data=lambda b: {"slot": b.slot_id, "service": b.slot.service_id, "priority": b.priority},
    illegal_message=gettext_lazy("This booking is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this booking."),
    moves=[
        Move("cancel", {B.BOOKED, B.WAITING}, B.CANCELLED, who=SELF_OR_RUN, label=gettext_lazy("Cancel the booking"),
             verb="cancelled", message=gettext_lazy("The booking is cancelled."),
             event_label=gettext_lazy("cancelled a service booking")),
        Move("cancel_late", {B.BOOKED}, B.LATE_CANCELLED, who=SELF, label=gettext_lazy("Cancel the booking"),
             verb="late_cancelled", message=gettext_lazy("The booking is cancelled; it counts as a no-show."),
             event_label=gettext_lazy("cancelled a service booking late")),
        Move("promote", {B.WAITING}, B.BOOKED, who=SYSTEM, label=gettext_lazy("Move up from the waiting list"),
             verb="promoted", event_label=gettext_lazy("moved up from a service's waiting list")),
        Move("attend", {B.BOOKED, B.NO_SHOW}, B.ATTENDED, who=RUN, label=gettext_lazy("Attended"),
             verb="attended", event_label=gettext_lazy("marked a booking as attended")),
        Move("no_show", {B.BOOKED, B.ATTENDED}, B.NO_SHOW, who=RUN, label=gettext_lazy("Did not come"),
             verb="no_show", event_label=gettext_lazy("marked a booking as a no-show")),
        Move("auto_no_show", {B.BOOKED}, B.NO_SHOW, who=SYSTEM, label=gettext_lazy("Did not come"),
             verb="no_show", event_label=gettext_lazy("marked a booking as a no-show")),
    ],
)


# --- reading -------------------------------------------------------------------------------------


def priority_until(slot):
    return slot.priority_until or (slot.starts_at - PRIORITY_DEFAULT)


def holds_priority(slot, at) -> bool:
    """Whether the slot still holds its priority places at ``at``."""
    return bool(slot.priority_places) and at < priority_until(slot)


def priority_booked_sql():
    """The slot's booked bookings by residents with priority, in SQL (for the outer slot row)."""
    return Coalesce(Subquery(
        Booking.objects.filter(slot=OuterRef("pk"), status=B.BOOKED, priority=True).order_by()
        .values("slot").annotate(n=Count("pk")).values("n")[:1]), Value(0))


def with_priority_booked(slots):
    """``slots`` (a Slot queryset) with ``priority_booked`` read in the same query."""
    return slots.annotate(priority_booked=priority_booked_sql())


def held_places(slot, at) -> int:
    """Places still held for residents with priority: the priority places not yet taken by one of
    them (a resident with priority who books takes a held place first), until ``priority_until``."""
    if not holds_priority(slot, at):
        return 0
    taken = getattr(slot, "priority_booked", None)
    if taken is None:
        taken = Booking.objects.filter(slot=slot, status=B.BOOKED, priority=True).count()
    return max(slot.priority_places - taken, 0)


def places_left(slot, *, priority: bool, at=None) -> int:
    """Places a resident with (or without) priority could take now (never below 0)."""
    at = at or timezone.now()
    free = slot.capacity - slot.booked
    if not priority:
        free -= held_places(slot, at)
    return max(free, 0)


def open_bookings(resident, service, *, at=None):
    """The resident's booked or waiting bookings of the service whose slots have not ended."""
    at = at or timezone.now()
    return Booking.objects.filter(resident=resident, slot__service=service, status__in=Booking.OPEN,
                                  slot__ends_at__gt=at)


def no_shows(resident, service, *, at=None) -> int:
    """No-shows and late cancellations of the service in the last 90 days."""
    at = at or timezone.now()
    return Booking.objects.filter(resident=resident, slot__service=service,
                                  status__in=(B.NO_SHOW, B.LATE_CANCELLED),
                                  slot__starts_at__gte=at - NO_SHOW_WINDOW).count()


def is_late(booking, at=None) -> bool:
    """Whether the resident cancelling now would cancel late (counted as a no-show)."""
    at = at or timezone.now()
    if booking.status != B.BOOKED:
        return False
    return at >= booking.slot.starts_at - dt.timedelta(hours=booking.slot.service.cancel_hours)


def waiting_list(slot):
    """Waiting bookings in the order they move up: priority first, then the oldest."""
    return Booking.objects.filter(slot=slot, status=B.WAITING).order_by("-priority", "created_at", "id")


# --- booking -------------------------------------------------------------------------------------


def _request_hash(slot, resident, channel, note, waitlist) -> str:
    text = f"{slot.pk}|{resident.pk}|{channel}|{note}|{int(bool(waitlist))}"
    return hashlib.sha256(text.encode()).hexdigest()


def _check_actor(actor, slot, resident, channel) -> None:
    if channel not in C.values:
        raise InvalidInput(_("Choose how the booking was made."), code="channel", field="channel")
    service = slot.service
    if resident.community_id != service.community_id:
        raise PermissionDenied(_("This service is offered in another community."), code="other_community")
    if channel in RESIDENT_CHANNELS:
        if actor is None or not getattr(actor, "pk", None) or resident.user_id != actor.pk:
            raise PermissionDenied(_("You may book only for yourself."), code="not_yours")
        return
    if not rules.may_run_service(actor, service):
        raise PermissionDenied(_("Only the community office or the provider's staff book for a resident."),
                               code="not_staff")


def book(*, actor, slot, resident, channel, note="", idempotency=None, at=None,
         waitlist=True) -> tuple[Booking, bool]:
    """Book ``resident`` a place on ``slot``; returns (booking, created).

    A resident books for themselves (``online`` / ``api``); the office or the provider's staff for
    any resident of the community (``phone`` / ``walk_in``). Full: a ``waiting`` booking, or with
    ``waitlist=False`` ``Conflict("full")``. Refused, nothing changed: ``closed`` (started,
    cancelled, the service withdrawn), ``already_booked``, ``too_many`` (``max_active``),
    ``no_show_limit`` (online only: ask the office), another community (``PermissionDenied``),
    and with ``idempotency=(scope, key)`` the same key with another request
    (``idempotency_conflict``); the same key with the same request returns the first booking."""
    at = at or timezone.now()
    note = (note or "").strip()
    if len(note) > 200:
        raise InvalidInput(_("The note is at most 200 characters."), code="note", field="note")
    slot = Slot.objects.select_related("service__community", "service__provider").get(pk=slot.pk)
    _check_actor(actor, slot, resident, channel)
    request_hash = _request_hash(slot, resident, channel, note, waitlist)
    try:
        with transaction.atomic():
            return _book(actor, slot, resident, channel, note, idempotency, request_hash, at, waitlist), True
    except IntegrityError:
        if idempotency is not None:
            found = (IdempotencyKey.objects.filter(scope=idempotency[0], key=idempotency[1])
                     .values_list("request_hash", "response").first())
            if found is not None:
                if found[0] != request_hash:
                    raise Conflict(_("This Idempotency-Key was used for a different request."),
                                   code="idempotency_conflict") from None
                return Booking.objects.select_related("slot__service").get(pk=found[1]["id"]), False
        if Booking.objects.filter(slot=slot, resident=resident, status__in=Booking.OPEN).exists():
            raise _already_booked() from None
        raise _full() from None


def _already_booked() -> Conflict:
    return Conflict(_("You already have a booking for this time."), code="already_booked", field="slot")


def _full() -> Conflict:
    return Conflict(_("Sorry, this time is fully booked."), code="full", field="slot")


def _take_place(slot, *, priority: bool, at) -> bool:
    """ONE conditional UPDATE: whether a place was taken."""
    query = Slot.objects.filter(pk=slot.pk, status=Slot.Status.OPEN, booked__lt=F("capacity"))
    if not priority and holds_priority(slot, at):
        # The held places are the priority places no resident with priority has taken yet,
        # counted in the same statement as the place is taken.
        held = Greatest(F("priority_places") - priority_booked_sql(), Value(0))
        query = query.filter(booked__lt=F("capacity") - held)
    return bool(query.update(booked=F("booked") + 1))


def _book(actor, slot, resident, channel, note, idempotency, request_hash, at, waitlist) -> Booking:
    stored = None
    if idempotency is not None:
        # First, so that a twin with the same key waits here until this one commits, then fails.
        stored = IdempotencyKey.objects.create(scope=idempotency[0], key=idempotency[1],
                                               request_hash=request_hash, status=0, response={})
    service = slot.service
    if slot.status != Slot.Status.OPEN or not service.active or slot.starts_at <= at:
        raise Conflict(_("This time can no longer be booked."), code="closed", field="slot")
    if Booking.objects.filter(slot=slot, resident=resident, status__in=Booking.OPEN).exists():
        raise _already_booked()
    if open_bookings(resident, service, at=at).count() >= service.max_active:
        raise Conflict(_("You already have %(n)d open bookings of this service: that is the most at a time.")
                       % {"n": service.max_active}, code="too_many", field="slot")
    if channel in RESIDENT_CHANNELS and no_shows(resident, service, at=at) >= service.no_show_limit:
        raise PermissionDenied(_("You missed this service several times lately, so it cannot be booked online. "
                                 "Please ask the community office, who can book it for you."),
                               code="no_show_limit")
    has_priority = priority_rules.matches(service, resident)
    taken = _take_place(slot, priority=has_priority, at=at)
    if not taken and not waitlist:
        raise _full()
    status = B.BOOKED if taken else B.WAITING
    booking = Booking.objects.create(slot=slot, resident=resident, status=status, priority=has_priority,
                                     channel=channel, booked_by=actor if getattr(actor, "pk", None) else None,
                                     note=note, created_at=at)
    if stored is not None:
        stored.status = 201
        stored.response = {"id": booking.pk, "status": status, "slot": slot.pk}
        stored.save(update_fields=["status", "response"])
    events.record(actor=actor, verb="services.booked" if taken else "services.waitlisted", target=booking,
                  community=service.community, at=at,
                  data={"slot": slot.pk, "service": service.pk, "channel": channel, "priority": has_priority,
                        "status": status})
    return booking


# --- cancelling and the waiting list -------------------------------------------------------------


def _load(booking) -> Booking:
    try:
        return Booking.objects.select_related("slot__service__community", "resident").get(pk=booking.pk)
    except Booking.DoesNotExist:
        raise NotFound(_("No such booking.")) from None


def cancel(*, actor, booking, at=None) -> Booking:
    """Cancel a booking before its slot starts. By the resident from ``cancel_hours`` before the
    start it is a late cancellation (``late_cancelled``, counted as a no-show); staff cancelling
    never count one. A booked place goes back and the first waiting booking moves up, in the same
    transaction."""
    at = at or timezone.now()
    with transaction.atomic():
        booking = _load(booking)
        slot = booking.slot
        if slot.starts_at <= at:
            raise Conflict(_("This time has started; it can no longer be cancelled."), code="closed")
        was_booked = booking.status == B.BOOKED
        by_resident = actor is not None and actor.pk == booking.resident.user_id
        move = "cancel_late" if by_resident and is_late(booking, at) else "cancel"

        def apply(row, moment):
            row.cancelled_at = at

        row = BOOKING.transition(booking, move, actor=actor, apply=apply,
                                 data={"by_staff": not by_resident})
        if was_booked:
            Slot.objects.filter(pk=slot.pk, booked__gt=0).update(booked=F("booked") - 1)
            promote_next(slot, at=at)
    return row


def promote_next(slot, *, at=None) -> Booking | None:
    """Give a free place to the first waiting booking that may take it (priority ones first, then
    the oldest), in the caller's transaction; told by notification (``services.promoted``)."""
    at = at or timezone.now()
    slot = Slot.objects.get(pk=slot.pk)
    if slot.status != Slot.Status.OPEN or slot.starts_at <= at:
        return None
    for candidate in waiting_list(slot):
        if not _take_place(slot, priority=candidate.priority, at=at):
            # Priority ones come first: if this one finds no place, nobody after it does (only held
            # places may be left, and those wait for residents with priority).
            return None

        def apply(row, moment):
            row.promoted_at = at

        return BOOKING.transition(candidate, "promote", actor=None, apply=apply)
    return None


def promote_waiting(*, now=None) -> int:
    """Move up waiting bookings where places came free (held priority places released after
    ``priority_until``). Returns how many moved up."""
    now = now or timezone.now()
    slots = (Slot.objects.filter(status=Slot.Status.OPEN, starts_at__gt=now, booked__lt=F("capacity"),
                                 bookings__status=B.WAITING).distinct())
    moved = 0
    for slot in slots:
        while True:
            with transaction.atomic():
                if promote_next(slot, at=now) is None:
                    break
            moved += 1
    return moved


# --- marking -------------------------------------------------------------------------------------


def mark(*, actor, booking, attended: bool, at=None) -> Booking:
    """The provider's staff or the office mark a booking attended or a no-show, from the slot's start
    (a mistake may be corrected the same way)."""
    at = at or timezone.now()
    booking = _load(booking)
    if booking.slot.starts_at > at:
        raise Conflict(_("This time has not started yet."), code="not_started")

    def apply(row, moment):
        row.marked_at = at
        row.marked_by = actor

    return BOOKING.transition(booking, "attend" if attended else "no_show", actor=actor, apply=apply)


def mark_no_shows(*, now=None) -> int:
    """Bookings still ``booked`` two hours after their slot ended become no-shows. Returns how many."""
    now = now or timezone.now()
    due = list(Booking.objects.filter(status=B.BOOKED, slot__ends_at__lte=now - NO_SHOW_AFTER)
               .values_list("pk", flat=True))
    done = 0
    for pk in due:
        booking = Booking(pk=pk)

        def apply(row, moment):
            row.marked_at = now

        try:
            BOOKING.transition(booking, "auto_no_show", actor=None, apply=apply)
        except InvalidInput:
            continue  # marked meanwhile
        done += 1
    return done


def remind(*, now=None) -> int:
    """Remind each resident with a booked place the day before, once (``reminded_at``; the notify
    recipe tells them). Returns how many."""
    now = now or timezone.now()
    due = list(Booking.objects.filter(status=B.BOOKED, reminded_at__isnull=True, slot__status=Slot.Status.OPEN,
                                      slot__starts_at__gt=now, slot__starts_at__lte=now + REMIND_AHEAD)
               .select_related("slot__service__community").order_by("slot__starts_at", "id"))
    done = 0
    for booking in due:
        with transaction.atomic():
            # Conditional: two workers never remind twice.
            if not Booking.objects.filter(pk=booking.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue
            events.record(actor=None, verb="services.reminded", target=booking,
                          community=booking.slot.service.community, at=now,
                          data={"slot": booking.slot_id, "service": booking.slot.service_id})
            done += 1
    return done
