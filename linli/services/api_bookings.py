"""The services' slots and bookings API (``/api/v1/services/``; docs/services.md, "API").

The web app's session (CSRF-checked on POST). A resident reads the slots of their community's
services and books, lists and cancels their own bookings; the office or a provider's staff read
the slots of a community (``community=<code>``) and book for a resident of it (``"resident"``).

``POST bookings`` never joins a waiting list: a full slot is a 409 ``full`` (the pages offer the
waiting list). It honours ``Idempotency-Key``: a retry with the same body returns the first
booking (200, the same body); the same key with another body is a 409 ``idempotency_conflict``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from linli.cases.api import SessionWithCsrf
from linli.community.models import Community, Resident
from linli.core.api import ERRORS
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.points.models import IdempotencyKey

from . import bookings, priority, rules
from .models import Booking, Service, Slot

router = Router(auth=[SessionWithCsrf()], tags=["services"])

IDEMPOTENCY_KEY_MAX = 200
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
MAX_RANGE_DAYS = 62


# --- schemas ------------------------------------------------------------------------------------


class SlotOut(Schema):
    id: int
    service: str = Field(..., description="The service's code.")
    starts_at: str
    ends_at: str
    capacity: int
    booked: int
    places_left: int = Field(..., description="Places the caller (or, for staff, a resident without priority) "
                                              "could take now; held priority places count only for residents "
                                              "with a matching need.")
    priority_places_held: int = Field(..., description="Places still held for residents with priority.")


class SlotsOut(Schema):
    slots: list[SlotOut]


class BookingIn(Schema):
    """A resident books ``slot`` for themselves; staff add ``resident`` (the resident's id)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    slot: int
    resident: Optional[int] = None
    note: str = Field("", max_length=200)


class BookingOut(Schema):
    id: int
    status: str = Field(..., description="booked, waiting, cancelled, late_cancelled, attended or no_show.")
    slot: int


class MyBookingOut(BookingOut):
    service: str
    service_name: str
    starts_at: str
    ends_at: str
    place: str


class MyBookingsOut(Schema):
    bookings: list[MyBookingOut]


# --- helpers ------------------------------------------------------------------------------------


def _idempotency(scope: str, key: str | None) -> tuple[str, str] | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidInput(_("An Idempotency-Key is 1 to %(n)d printable characters without spaces.")
                           % {"n": IDEMPOTENCY_KEY_MAX}, code="idempotency_key", field="Idempotency-Key")
    return scope, key


def _day(value: str | None, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("A day is written YYYY-MM-DD."), code="date", field=field) from None


def _iso(moment) -> str:
    return timezone.localtime(moment).isoformat()


def _body(booking) -> dict:
    return {"id": booking.pk, "status": booking.status, "slot": booking.slot_id}


def _community_for(request, code: str | None):
    """(community, resident or None): the resident's own community, or for staff the one named."""
    resident = rules.resident_of(request.auth)
    if code:
        community = Community.objects.filter(code=code).first()
        if community is None:
            raise NotFound(_("No such community."), code="not_found")
        if resident is not None and resident.community_id == community.pk:
            return community, resident
        if not rules.may_book_for(request.auth, community):
            raise PermissionDenied(_("You may not read this community's bookings."), code="not_staff")
        return community, None
    if resident is None:
        raise PermissionDenied(_("Staff name the community: add community=<code>."), code="not_resident")
    return resident.community, resident


# --- endpoints ----------------------------------------------------------------------------------


@router.get("/slots", response={200: SlotsOut, **ERRORS}, summary="A service's open slots")
def slot_list(request, service: str = Query(..., max_length=32), community: Optional[str] = Query(None),
              from_: Optional[str] = Query(None, alias="from"), to: Optional[str] = Query(None)):
    place, resident = _community_for(request, community)
    found = Service.objects.filter(community=place, code=service.strip().lower(), active=True).first()
    if found is None:
        raise NotFound(_("There is no such service."), code="unknown_service")
    today = timezone.localdate()
    first = _day(from_, "from") or today
    last = _day(to, "to") or first + dt.timedelta(days=27)
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput(_("Ask for at most %(n)d days, from before to.") % {"n": MAX_RANGE_DAYS},
                           code="range", field="to")
    now = timezone.now()
    start = max(timezone.make_aware(dt.datetime.combine(first, dt.time.min)), now)
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    has_priority = resident is not None and priority.matches(found, resident)
    slots = bookings.with_priority_booked(Slot.objects.filter(
        service=found, status=Slot.Status.OPEN, starts_at__gt=start, starts_at__lt=end).order_by("starts_at", "id"))
    return {"slots": [{
        "id": s.pk, "service": found.code, "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at),
        "capacity": s.capacity, "booked": s.booked,
        "places_left": bookings.places_left(s, priority=has_priority, at=now),
        "priority_places_held": bookings.held_places(s, now),
    } for s in slots]}


@router.post("/bookings", response={200: BookingOut, 201: BookingOut, **ERRORS}, summary="Book a slot",
             description="201 with the booking. 409 ``full``, ``already_booked``, ``too_many``, ``closed`` or "
                         "``idempotency_conflict``; 403 ``no_show_limit`` (ask the office), another "
                         "community's slot or resident; 200 with the first booking for a retried "
                         "``Idempotency-Key``.")
def booking_create(request, payload: BookingIn,
                   idempotency_key: Optional[str] = Header(None, alias="Idempotency-Key")):
    user = request.auth
    slot = Slot.objects.select_related("service__community").filter(pk=payload.slot).first()
    if slot is None:
        raise NotFound(_("There is no such time."), code="unknown_slot")
    if payload.resident is None:
        resident = rules.resident_of(user)
        if resident is None:
            raise PermissionDenied(_("This account is not linked to a resident: name the resident."),
                                   code="not_resident")
        channel = Booking.Channel.API
    else:
        resident = Resident.objects.filter(pk=payload.resident).first()
        own = rules.resident_of(user)
        if resident is not None and own is not None and own.pk == resident.pk:
            channel = Booking.Channel.API
        else:
            if not rules.may_run_service(user, slot.service):
                raise PermissionDenied(_("Only the community office or the provider's staff book for a resident."),
                                       code="not_staff")
            if resident is None or resident.community_id != slot.service.community_id:
                raise NotFound(_("There is no such resident in this community."), code="unknown_resident")
            channel = Booking.Channel.PHONE
    idempotency = _idempotency(f"services.bookings:{user.pk}", idempotency_key)
    booking, created = bookings.book(actor=user, slot=slot, resident=resident, channel=channel,
                                     note=payload.note, idempotency=idempotency, waitlist=False)
    if created:
        return Status(201, _body(booking))
    stored = IdempotencyKey.objects.filter(scope=idempotency[0], key=idempotency[1]).values_list(
        "response", flat=True).first()
    return Status(200, stored or _body(booking))


@router.get("/bookings", response={200: MyBookingsOut, **ERRORS}, summary="My bookings")
def booking_list(request):
    resident = rules.resident_of(request.auth)
    if resident is None:
        raise PermissionDenied(_("This account is not linked to a resident."), code="not_resident")
    rows = (Booking.objects.filter(resident=resident).select_related("slot__service")
            .order_by("-slot__starts_at", "-id")[:200])
    return {"bookings": [{
        **_body(b), "service": b.slot.service.code, "service_name": b.slot.service.name,
        "starts_at": _iso(b.slot.starts_at), "ends_at": _iso(b.slot.ends_at), "place": b.slot.service.place,
    } for b in rows]}


@router.post("/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS}, summary="Cancel a booking",
             description="200 with the booking: ``cancelled``, or ``late_cancelled`` when the resident cancels "
                         "within the service's cancellation hours (it counts as a no-show). 409 ``closed`` "
                         "once the time has started.")
def booking_cancel(request, booking_id: int):
    user = request.auth
    booking = Booking.objects.select_related("slot__service", "resident").filter(pk=booking_id).first()
    own = rules.resident_of(user)
    if booking is None or not ((own is not None and booking.resident_id == own.pk)
                               or rules.may_run_service(user, booking.slot.service)):
        raise NotFound(_("No such booking."), code="not_found")
    booking = bookings.cancel(actor=user, booking=booking)
    return _body(booking)
