"""The service centre's rooms: opening hours, requests, approval, no double booking
(docs/services.md, "Rooms").

A room (the law theatre, the legal aid room, the memory hall, an activity room) is booked for an
interval by a :class:`~linli.services.models.RoomBooking`. Who may ask: the community office,
the party secretary, building leaders and the staff of the community's partner organisations
(unit staff of an organisation of the community). Residents ask through the office. A request by
the office, or for a room that needs no approval, is approved at once; others wait for the office
(:func:`approve` / :func:`decline`). The requester or the office may cancel.

No double booking, under any concurrency: the writer first takes the room's row lock by a
conditional ``UPDATE … SET lock_version = lock_version + 1`` (PostgreSQL: a row lock held until
commit; SQLite: the IMMEDIATE transaction already serialises writers), THEN checks for an overlap
with requested and approved bookings, THEN inserts. Two intervals overlap when
``a.starts_at < b.ends_at and b.starts_at < a.ends_at`` (back to back is fine). Approval re-checks
the overlap (with approved bookings) and the opening hours under the same lock.

Opening hours (``Room.opening``): ``{"mon": [["08:30", "12:00"], ["14:00", "21:00"]], …,
"sun": []}``, local time. A booking must lie wholly inside ONE period of its local day: a
meeting from 11:00 to 15:00 across the lunch closure is refused (``closed_hours``).

Room bookings move through the ``room_booking`` workflow (requested → approved / declined /
cancelled; approved → cancelled); its events are ``services.room_*``.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import Organisation, StaffRole
from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.core.workflow import Move, Workflow

from .models import Room, RoomBooking

R = StaffRole.Role
B = RoomBooking.Status

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = {
    "mon": gettext_lazy("Monday"), "tue": gettext_lazy("Tuesday"), "wed": gettext_lazy("Wednesday"),
    "thu": gettext_lazy("Thursday"), "fri": gettext_lazy("Friday"), "sat": gettext_lazy("Saturday"),
    "sun": gettext_lazy("Sunday"),
}
DEFAULT_OPENING = {day: [["08:30", "12:00"], ["14:00", "21:00"]] for day in DAYS}
LIVE = (B.REQUESTED, B.APPROVED)
MAX_DAYS_AHEAD = 366
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

# Rule names of the workflow below.
OFFICE = "office"
REQUESTER_OR_OFFICE = "requester_or_office"

EVENTS = {
    "services.room_created": gettext_lazy("added a room of the service centre"),
    "services.room_requested": gettext_lazy("asked for a room of the service centre"),
}


# --- who may ---------------------------------------------------------------------------------------


def is_office(user, community) -> bool:
    """The community's admin or worker: rooms, opening hours, approvals (``rules.is_office``)."""
    from . import rules

    return rules.is_office(user, community)


REQUESTER_ROLES = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY, R.BUILDING_LEADER, R.UNIT_STAFF}


def may_request(user, community) -> bool:
    """The office, the party secretary, building leaders and partner organisations' staff of
    the community (the app's rule, ``rules.may_request_room``). Residents ask through the office."""
    from . import rules

    return rules.may_request_room(user, community)


def _staff_organisations(user, community) -> set[int]:
    """The organisations of the community whose unit staff the account is."""
    mine = scope_of(user).organisations
    if not mine:
        return set()
    return set(Organisation.objects.filter(pk__in=mine, community=community).values_list("pk", flat=True))


def _may(actor, booking, who: str) -> bool:
    community = booking.room.community
    if who == OFFICE:
        return is_office(actor, community)
    if who == REQUESTER_OR_OFFICE:
        return actor.pk == booking.requested_by_id or is_office(actor, community)
    return False


ROOM_BOOKING = Workflow(
    "room_booking", verb_prefix="services", model=RoomBooking, may=_may, jobs_too=frozenset({REQUESTER_OR_OFFICE}),
    places=lambda b: {"community": b.room.community},
    event_data=lambda b: {"room": b.room_id},
    illegal_message=gettext_lazy("This room booking is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this room booking."),
    moves=[
        Move("approve", {B.REQUESTED}, B.APPROVED, who=OFFICE, label=gettext_lazy("Approve"), verb="room_approved",
             message=gettext_lazy("The booking is approved; the requester is told."),
             event_label=gettext_lazy("approved a room booking")),
        Move("decline", {B.REQUESTED}, B.DECLINED, who=OFFICE, label=gettext_lazy("Decline"), verb="room_declined",
             message=gettext_lazy("The request is declined; the requester is told why."),
             event_label=gettext_lazy("declined a room booking")),
        Move("cancel", {B.REQUESTED, B.APPROVED}, B.CANCELLED, who=REQUESTER_OR_OFFICE,
             label=gettext_lazy("Cancel the booking"), verb="room_cancelled",
             message=gettext_lazy("The booking is cancelled; the room is free again."),
             event_label=gettext_lazy("cancelled a room booking")),
    ],
)


# --- opening hours ---------------------------------------------------------------------------------


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def clean_opening(opening) -> dict:
    """The opening hours as stored: every day present, periods ``[["HH:MM", "HH:MM"], …]`` sorted,
    each ending after it starts, none overlapping. ``InvalidInput`` (``opening``) otherwise."""
    bad = InvalidInput(_("Write the opening hours as periods like 08:30-12:00, one day per line, the "
                         "periods of a day in order and not overlapping."), code="opening", field="opening")
    if not isinstance(opening, dict) or set(opening) - set(DAYS):
        raise bad
    clean = {}
    for day in DAYS:
        periods = opening.get(day) or []
        if not isinstance(periods, (list, tuple)):
            raise bad
        rows = []
        for period in periods:
            if (not isinstance(period, (list, tuple)) or len(period) != 2
                    or not all(isinstance(p, str) and _HHMM.match(p) for p in period)):
                raise bad
            start, end = period
            if _minutes(end) <= _minutes(start):
                raise bad
            rows.append([start, end])
        rows.sort(key=lambda p: _minutes(p[0]))
        for before, after in zip(rows, rows[1:]):
            if _minutes(after[0]) < _minutes(before[1]):
                raise bad
        clean[day] = rows
    return clean


def parse_opening_text(text: str) -> dict:
    """The office form's text: one line per day, ``mon 08:30-12:00 14:00-21:00`` (a day with no
    periods, or missing, is closed)."""
    opening = {day: [] for day in DAYS}
    for line in (text or "").splitlines():
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        day = parts[0].lower()[:3]
        if day not in DAYS:
            raise InvalidInput(_("Begin each line with a day: mon, tue, wed, thu, fri, sat or sun."),
                               code="opening", field="opening")
        for part in parts[1:]:
            start, sep, end = part.partition("-")
            if not sep:
                raise InvalidInput(_("Write each period as 08:30-12:00."), code="opening", field="opening")
            opening[day].append([start.strip(), end.strip()])
    return clean_opening(opening)


def opening_text(opening: dict) -> str:
    return "\n".join(f"{day} " + " ".join(f"{a}-{b}" for a, b in (opening or {}).get(day, []))
                     for day in DAYS).replace(" \n", "\n").strip()


def periods_on(room, day: dt.date) -> list[tuple[str, str]]:
    return [tuple(p) for p in (room.opening or {}).get(DAYS[day.weekday()], [])]


def is_open(room, starts_at, ends_at) -> bool:
    """Whether the whole interval lies inside ONE opening period of its local day."""
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        return False
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    start_min = start.hour * 60 + start.minute  # seconds: the start rounds down, the end up
    if end.date() == start.date():
        end_min = end.hour * 60 + end.minute + (1 if end.second or end.microsecond else 0)
    elif end.date() == start.date() + dt.timedelta(days=1) and end.time() == dt.time(0, 0):
        end_min = 24 * 60  # until midnight
    else:
        return False
    return any(_minutes(a) <= start_min and end_min <= _minutes(b) for a, b in periods_on(room, start.date()))


# --- rooms -----------------------------------------------------------------------------------------


def _clean_room_fields(*, code, name, capacity, description, floor_area):
    code = (code or "").strip().lower()
    name = (name or "").strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", code):
        raise InvalidInput(_("Give the room a short code of letters, digits and dashes."), code="code", field="code")
    if not name or len(name) > 80:
        raise InvalidInput(_("Give the room a name (80 characters at most)."), code="name", field="name")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 2000:
        raise InvalidInput(_("Say how many people the room holds (1 to 2,000)."), code="capacity", field="capacity")
    if floor_area is not None and (isinstance(floor_area, bool) or not isinstance(floor_area, int)
                                   or not 1 <= floor_area <= 30000):
        raise InvalidInput(_("Give the floor area in whole square metres."), code="floor_area", field="floor_area")
    description = (description or "").strip()
    if len(description) > 300:
        raise InvalidInput(_("The description is too long (300 characters at most)."), code="description",
                           field="description")
    return code, name, description


def room_create(*, actor, community, code, name, capacity, opening=None, needs_approval=True, description="",
                floor_area=None) -> Room:
    """A room of the service centre (the office only). ``opening`` defaults to every day
    08:30–12:00 and 14:00–21:00."""
    if not is_office(actor, community):
        raise PermissionDenied(_("Only the community office manages the rooms."), code="not_office")
    code, name, description = _clean_room_fields(code=code, name=name, capacity=capacity, description=description,
                                                 floor_area=floor_area)
    opening = clean_opening(DEFAULT_OPENING if opening is None else opening)
    with transaction.atomic():
        if Room.objects.filter(community=community, code=code).exists():
            raise Conflict(_("A room with this code exists already."), code="room_code_taken")
        room = Room.objects.create(community=community, code=code, name=name, capacity=capacity, opening=opening,
                                   needs_approval=bool(needs_approval), description=description,
                                   floor_area=floor_area)
        events.record(actor=actor, verb="services.room_created", target=room, community=community,
                      data={"room": room.pk, "capacity": capacity})
    return room


def room_update(*, actor, room, name=None, capacity=None, opening=None, needs_approval=None, description=None,
                floor_area=None, active=None) -> Room:
    """Change a room's settings (the office). Bookings already made keep their times; the new
    opening hours apply to new requests and to approvals."""
    if not is_office(actor, room.community):
        raise PermissionDenied(_("Only the community office manages the rooms."), code="not_office")
    _code, name, description = _clean_room_fields(
        code=room.code, name=room.name if name is None else name, capacity=room.capacity if capacity is None else capacity,
        description=room.description if description is None else description,
        floor_area=room.floor_area if floor_area is None else floor_area)
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room.pk)
        room.name, room.description = name, description
        if capacity is not None:
            room.capacity = capacity
        if floor_area is not None:
            room.floor_area = floor_area
        if opening is not None:
            room.opening = clean_opening(opening)
        if needs_approval is not None:
            room.needs_approval = bool(needs_approval)
        if active is not None:
            room.active = bool(active)
        room.save()
        events.record(actor=actor, verb="services.room_updated", target=room, community=room.community,
                      data={"room": room.pk})
    return room


EVENTS["services.room_updated"] = gettext_lazy("changed a room of the service centre")


# --- requests --------------------------------------------------------------------------------------


def _lock_room(room) -> None:
    """The room's row lock (see the module's docstring), until the transaction ends."""
    if not Room.objects.filter(pk=room.pk).update(lock_version=F("lock_version") + 1):
        raise NotFound(_("No such room."))


def overlapping(room, starts_at, ends_at, *, statuses=LIVE, exclude=None):
    qs = RoomBooking.objects.filter(room=room, status__in=statuses, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs


def _overlap_error() -> Conflict:
    return Conflict(_("The room is already booked (or asked for) at that time. Pick another time or room."),
                    code="overlap")


def _check_times(room, starts_at, ends_at, now) -> None:
    if starts_at is None or ends_at is None or timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput(_("Give the start and the end."), code="times_required", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput(_("The booking must end after it starts."), code="ends_before_start", field="ends_at")
    if starts_at <= now:
        raise InvalidInput(_("That time has already passed. Pick a time in the future."), code="past",
                           field="starts_at")
    if starts_at > now + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(_("Rooms are booked at most a year ahead."), code="too_far", field="starts_at")
    if not is_open(room, starts_at, ends_at):
        raise InvalidInput(_("The room is closed at that time: a booking must fit inside one of its opening "
                             "periods (see the opening hours)."), code="closed_hours", field="starts_at")


def request(*, actor, room, starts_at, ends_at, purpose, attendees, organisation=None, at=None) -> RoomBooking:
    """Ask for ``room`` from ``starts_at`` to ``ends_at``. Approved at once when the room needs no
    approval or the actor is the office; otherwise waits for the office. Refused (nothing
    changed): another community (``PermissionDenied``), the end before the start
    (``ends_before_start``), in the past (``past``), outside the opening hours (``closed_hours``),
    more people than the room holds (``too_many_people``), overlapping a requested or approved
    booking (``overlap``, a Conflict)."""
    now = at or timezone.now()
    room = Room.objects.select_related("community").filter(pk=room.pk).first()
    if room is None:
        raise NotFound(_("No such room."))
    if not may_request(actor, room.community):
        raise PermissionDenied(_("You may not book this community's rooms. Residents ask the community office."),
                               code="not_requester")
    if not room.active:
        raise InvalidInput(_("This room is not in use."), code="room_inactive", field="room")
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput(_("Say what the room is for."), code="purpose_required", field="purpose")
    if len(purpose) > 200:
        raise InvalidInput(_("The purpose is too long (200 characters at most)."), code="purpose_too_long",
                           field="purpose")
    if isinstance(attendees, bool) or not isinstance(attendees, int) or attendees < 1:
        raise InvalidInput(_("Say how many people will come (at least 1)."), code="attendees", field="attendees")
    if attendees > room.capacity:
        raise InvalidInput(_("Too many people for this room: it holds %(n)d.") % {"n": room.capacity},
                           code="too_many_people", field="attendees")
    office = is_office(actor, room.community)
    if organisation is not None:
        if organisation.community_id != room.community_id:
            raise InvalidInput(_("That organisation belongs to another community."), code="other_community",
                               field="organisation")
        if not office and organisation.pk not in _staff_organisations(actor, room.community):
            raise PermissionDenied(_("You may ask only for your own organisation."), code="not_your_organisation")
    elif not office:
        mine = _staff_organisations(actor, room.community)
        if len(mine) == 1:
            organisation = Organisation.objects.get(pk=next(iter(mine)))
    _check_times(room, starts_at, ends_at, now)
    status = B.APPROVED if (office or not room.needs_approval) else B.REQUESTED
    with transaction.atomic():
        _lock_room(room)
        if overlapping(room, starts_at, ends_at).exists():
            raise _overlap_error()
        booking = RoomBooking.objects.create(
            room=room, starts_at=starts_at, ends_at=ends_at, purpose=purpose, attendees=attendees,
            requested_by=actor, organisation=organisation, status=status, created_at=now,
            decided_by=actor if status == B.APPROVED else None, decided_at=now if status == B.APPROVED else None)
        events.record(actor=actor, verb="services.room_requested", target=booking, community=room.community, at=now,
                      data={"room": room.pk, "status": status, "attendees": attendees,
                            "organisation": organisation.pk if organisation else None})
    return booking


def approve(*, actor, booking) -> RoomBooking:
    """Approve a request (the office). Re-checks, under the room's lock, that the time is still
    free of approved bookings, still inside the opening hours and not yet past."""
    room = booking.room
    if not is_office(actor, room.community):
        raise PermissionDenied(_("You may not change this room booking."), code="not_office")

    def apply(obj, now):
        if obj.starts_at <= now:
            raise InvalidInput(_("That time has already passed. Pick a time in the future."), code="past")
        fresh = Room.objects.get(pk=obj.room_id)
        if not is_open(fresh, obj.starts_at, obj.ends_at):
            raise InvalidInput(_("The room is closed at that time: a booking must fit inside one of its opening "
                                 "periods (see the opening hours)."), code="closed_hours")
        if overlapping(fresh, obj.starts_at, obj.ends_at, exclude=obj.pk).exists():
            raise _overlap_error()
        obj.decided_by = actor
        obj.decided_at = now

    with transaction.atomic():
        _lock_room(room)
        return ROOM_BOOKING.transition(booking, "approve", actor=actor, apply=apply)


def decline(*, actor, booking, reason) -> RoomBooking:
    """Decline a request (the office), with the reason the requester reads."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason: the requester reads it."), code="reason", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("The reason is too long (200 characters at most)."), code="reason", field="reason")

    def apply(obj, now):
        obj.decided_by = actor
        obj.decided_at = now
        obj.reason = reason

    return ROOM_BOOKING.transition(booking, "decline", actor=actor, apply=apply)


def cancel(*, actor, booking, reason="") -> RoomBooking:
    """Cancel a request or an approved booking (the requester or the office); the time is free
    again at once."""
    reason = (reason or "").strip()[:200]

    def apply(obj, now):
        if obj.ends_at <= now:
            raise InvalidInput(_("This booking is over; there is nothing to cancel."), code="past")
        if reason:
            obj.reason = reason

    return ROOM_BOOKING.transition(booking, "cancel", actor=actor, apply=apply)


# --- reading ---------------------------------------------------------------------------------------


def week_grid(community, monday: dt.date, *, rooms=None) -> dict:
    """The week's bookings of the community's rooms, for the office's grid: ``{"days": [date…],
    "rows": [{"room", "cells": [[booking…] per day]}]}`` (requested and approved only)."""
    rooms = list(rooms if rooms is not None else Room.objects.filter(community=community, active=True)
                 .order_by("name", "id"))
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    end = start + dt.timedelta(days=7)
    bookings = (RoomBooking.objects.filter(room__in=rooms, status__in=LIVE, starts_at__lt=end, ends_at__gt=start)
                .select_related("organisation").order_by("starts_at", "id"))
    cells = {(r.pk, d): [] for r in rooms for d in days}
    for b in bookings:
        day = timezone.localtime(b.starts_at).date()
        if (b.room_id, day) in cells:
            cells[(b.room_id, day)].append(b)
    return {"days": days, "rows": [{"room": r, "cells": [cells[(r.pk, d)] for d in days]} for r in rooms]}
