"""The service centre's rooms: opening hours (a booking across the lunch closure is refused),
no overlap, approval that re-checks under the lock, bad input refused with nothing changed, the
office's week grid (docs/services.md, "Rooms")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.community.models import Organisation
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event as LogEvent
from linli.core.workflow import IllegalTransition
from linli.services import notifications_events, rooms
from linli.services.models import Room, RoomBooking

OPENING = {day: [["08:30", "12:00"], ["14:00", "21:00"]] for day in rooms.DAYS}
OPENING["sun"] = []


def _day(weekday=2, weeks=1):
    """A local date ``weeks`` weeks ahead on ``weekday`` (0 = Monday)."""
    today = timezone.localdate()
    return today + dt.timedelta(days=7 * weeks + (weekday - today.weekday()))


def _at(day, hhmm):
    hours, minutes = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hours, minutes)))


@pytest.fixture
def room(world):
    return rooms.room_create(actor=world.users["admin"], community=world.community, code="memory-hall",
                             name="记忆馆", capacity=30, opening=OPENING, floor_area=120)


def _ask(world, room, who="leader", start="09:00", end="10:00", day=None, attendees=10, **kw):
    day = day or _day()
    return rooms.request(actor=world.users[who], room=room, starts_at=_at(day, start), ends_at=_at(day, end),
                         purpose=kw.pop("purpose", "楼栋议事会"), attendees=attendees, **kw)


# --- opening hours ---------------------------------------------------------------------------------


def test_is_open_needs_one_whole_period_of_the_day(room):
    wed, sun = _day(2), _day(6)
    assert rooms.is_open(room, _at(wed, "08:30"), _at(wed, "12:00"))
    assert rooms.is_open(room, _at(wed, "19:00"), _at(wed, "21:00"))
    # Across the lunch closure: both ends are inside opening hours, the middle is not.
    assert not rooms.is_open(room, _at(wed, "11:00"), _at(wed, "15:00"))
    assert not rooms.is_open(room, _at(wed, "08:00"), _at(wed, "09:00"))
    assert not rooms.is_open(room, _at(wed, "20:00"), _at(wed, "21:30"))
    assert not rooms.is_open(room, _at(sun, "09:00"), _at(sun, "10:00"))  # closed all day
    assert not rooms.is_open(room, _at(wed, "20:00"), _at(wed + dt.timedelta(days=1), "09:00"))
    assert not rooms.is_open(room, _at(wed, "10:00"), _at(wed, "09:00"))
    # Seconds count: half a minute before opening, or past closing, is outside.
    assert not rooms.is_open(room, _at(wed, "08:30") - dt.timedelta(seconds=30), _at(wed, "09:00"))
    assert not rooms.is_open(room, _at(wed, "11:00"), _at(wed, "12:00") + dt.timedelta(seconds=30))
    assert rooms.is_open(room, _at(wed, "08:30") + dt.timedelta(seconds=30), _at(wed, "11:59"))


def test_a_booking_across_the_lunch_closure_is_refused(world, room):
    with pytest.raises(InvalidInput) as err:
        _ask(world, room, start="11:00", end="15:00")
    assert err.value.code == "closed_hours"
    with pytest.raises(InvalidInput) as err:
        _ask(world, room, day=_day(6))
    assert err.value.code == "closed_hours"
    assert not RoomBooking.objects.exists()
    assert not LogEvent.objects.filter(verb="services.room_requested").exists()


def test_opening_hours_are_validated(world):
    for bad in ({"mon": [["09:00", "08:00"]]}, {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]},
                {"mon": [["8:00", "12:00"]]}, {"funday": []}, {"mon": "08:00-12:00"}):
        with pytest.raises(InvalidInput) as err:
            rooms.room_create(actor=world.users["admin"], community=world.community, code="x", name="X",
                              capacity=5, opening=bad)
        assert err.value.code == "opening"
    parsed = rooms.parse_opening_text("mon 14:00-21:00 08:30-12:00\nsat 09:00-11:00")
    assert parsed["mon"] == [["08:30", "12:00"], ["14:00", "21:00"]] and parsed["sun"] == []
    assert rooms.parse_opening_text(rooms.opening_text(parsed)) == parsed


# --- requests, overlap, approval -----------------------------------------------------------------


def test_office_is_approved_at_once_others_wait(world, room):
    office = _ask(world, room, who="worker", start="09:00", end="10:00")
    assert office.status == "approved" and office.decided_by == world.users["worker"]
    leader = _ask(world, room, who="leader", start="10:00", end="11:00")  # back to back is fine
    assert leader.status == "requested"
    secretary = _ask(world, room, who="secretary", start="14:00", end="15:00")
    assert secretary.status == "requested"
    events = LogEvent.objects.filter(verb="services.room_requested").order_by("id")
    assert [e.data["status"] for e in events] == ["approved", "requested", "requested"]
    rooms.approve(actor=world.users["admin"], booking=leader)
    leader.refresh_from_db()
    assert leader.status == "approved" and leader.decided_by == world.users["admin"]
    assert LogEvent.objects.filter(verb="services.room_approved", target_id=str(leader.pk)).count() == 1


def test_a_room_without_approval_is_booked_at_once(world):
    free = rooms.room_create(actor=world.users["admin"], community=world.community, code="activity-1",
                             name="活动室一", capacity=20, opening=OPENING, needs_approval=False)
    assert _ask(world, free, who="leader").status == "approved"


def test_overlap_is_refused(world, room):
    _ask(world, room, who="worker", start="09:00", end="10:00")
    for start, end in (("09:30", "10:30"), ("08:30", "09:01"), ("09:00", "10:00"), ("09:10", "09:20")):
        with pytest.raises(Conflict) as err:
            _ask(world, room, start=start, end=end)
        assert err.value.code == "overlap"
    # A pending request blocks the time too.
    _ask(world, room, start="15:00", end="16:00")
    with pytest.raises(Conflict):
        _ask(world, room, who="admin", start="15:30", end="17:00")
    assert RoomBooking.objects.count() == 2
    # Another room at the same time is fine.
    other = rooms.room_create(actor=world.users["admin"], community=world.community, code="law-theatre",
                              name="法治剧场", capacity=80, opening=OPENING)
    assert _ask(world, other, start="09:30", end="10:30").status == "requested"


def test_a_cancelled_or_declined_booking_frees_the_time(world, room):
    first = _ask(world, room, start="09:00", end="10:00")
    with pytest.raises(InvalidInput) as err:
        rooms.decline(actor=world.users["admin"], booking=first, reason="  ")
    assert err.value.code == "reason"
    rooms.decline(actor=world.users["admin"], booking=first, reason="那天有消防检查")
    first.refresh_from_db()
    assert (first.status, first.reason) == ("declined", "那天有消防检查")
    second = _ask(world, room, start="09:00", end="10:00")
    with pytest.raises(PermissionDenied):
        rooms.cancel(actor=world.users["secretary"], booking=second)  # not theirs, not the office
    rooms.cancel(actor=world.users["leader"], booking=second)
    assert _ask(world, room, who="secretary", start="09:30", end="10:30").status == "requested"
    with pytest.raises(IllegalTransition):
        rooms.approve(actor=world.users["admin"], booking=second)


def test_approval_rechecks_overlap_opening_hours_and_time_under_the_lock(world, room):
    request = _ask(world, room, start="09:00", end="10:00")
    # A booking that reached the table by another path (history written in bulk).
    RoomBooking.objects.create(room=room, starts_at=request.starts_at + dt.timedelta(minutes=30),
                               ends_at=request.ends_at + dt.timedelta(minutes=30), purpose="x", attendees=3,
                               requested_by=world.users["admin"], status="approved")
    with pytest.raises(Conflict) as err:
        rooms.approve(actor=world.users["admin"], booking=request)
    assert err.value.code == "overlap"
    request.refresh_from_db()
    assert request.status == "requested"
    assert not LogEvent.objects.filter(verb="services.room_approved").exists()

    later = _ask(world, room, start="19:00", end="20:00")
    rooms.room_update(actor=world.users["admin"], room=room,
                      opening={**OPENING, rooms.DAYS[_day().weekday()]: [["08:30", "12:00"]]})
    with pytest.raises(InvalidInput) as err:
        rooms.approve(actor=world.users["admin"], booking=later)
    assert err.value.code == "closed_hours"

    soon = _ask(world, room, day=_day(weeks=2), start="09:00", end="10:00")
    RoomBooking.objects.filter(pk=soon.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=5))
    with pytest.raises(InvalidInput) as err:
        rooms.approve(actor=world.users["admin"], booking=soon)
    assert err.value.code == "past"
    with pytest.raises(PermissionDenied):
        rooms.approve(actor=world.users["leader"], booking=later)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case, error, code", [
    ("end_before_start", InvalidInput, "ends_before_start"),
    ("past", InvalidInput, "past"),
    ("too_many_people", InvalidInput, "too_many_people"),
    ("zero_people", InvalidInput, "attendees"),
    ("no_purpose", InvalidInput, "purpose_required"),
    ("other_community_staff", PermissionDenied, "not_requester"),
    ("resident", PermissionDenied, "not_requester"),
    ("other_community_organisation", InvalidInput, "other_community"),
])
def test_bad_requests_change_nothing(world, room, case, error, code):
    day = _day()
    args = dict(actor=world.users["leader"], room=room, starts_at=_at(day, "09:00"), ends_at=_at(day, "10:00"),
                purpose="读书会", attendees=10)
    if case == "end_before_start":
        args["ends_at"] = _at(day, "08:45")
    elif case == "past":
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        args.update(starts_at=_at(yesterday, "09:00"), ends_at=_at(yesterday, "10:00"))
    elif case == "too_many_people":
        args["attendees"] = 31
    elif case == "zero_people":
        args["attendees"] = 0
    elif case == "no_purpose":
        args["purpose"] = "   "
    elif case == "other_community_staff":
        args["actor"] = world.users["z_worker"]
    elif case == "resident":
        args["actor"] = world.users["resident"]
    elif case == "other_community_organisation":
        args["actor"] = world.users["admin"]
        args["organisation"] = Organisation.objects.create(kind="partner", name="别处的社会组织",
                                                           community=world.other_community, street=world.street)
    with pytest.raises(error) as err:
        rooms.request(**args)
    assert err.value.code == code
    assert not RoomBooking.objects.exists()
    assert Room.objects.get(pk=room.pk).lock_version == 0  # refused before the lock


def test_partner_staff_ask_for_their_own_organisation(world, room):
    booking = _ask(world, room, who="unit_staff")
    assert booking.status == "requested" and booking.organisation == world.property_company
    other = Organisation.objects.create(kind="partner", name="彩虹社工", community=world.community,
                                        street=world.street)
    with pytest.raises(PermissionDenied):
        _ask(world, room, who="unit_staff", start="10:00", end="11:00", organisation=other)


def test_only_the_office_manages_rooms(world):
    with pytest.raises(PermissionDenied):
        rooms.room_create(actor=world.users["leader"], community=world.community, code="a", name="A", capacity=5)
    with pytest.raises(PermissionDenied):
        rooms.room_create(actor=world.users["z_worker"], community=world.community, code="a", name="A", capacity=5)
    rooms.room_create(actor=world.users["admin"], community=world.community, code="a", name="A", capacity=5)
    with pytest.raises(Conflict):
        rooms.room_create(actor=world.users["admin"], community=world.community, code="a", name="B", capacity=5)


# --- notifications ---------------------------------------------------------------------------------


def test_the_office_hears_of_requests_and_the_requester_of_decisions(world, room):
    booking = _ask(world, room)
    rooms.approve(actor=world.users["admin"], booking=booking)
    events = list(LogEvent.objects.filter(verb__startswith="services.room_").order_by("id"))
    told = {e.verb: set(m.user_ids) for e, m in notifications_events.messages(events)}
    assert told["services.room_requested"] == {world.users["admin"].pk, world.users["worker"].pk}
    assert told["services.room_approved"] == {world.users["leader"].pk}


# --- pages -----------------------------------------------------------------------------------------


def test_the_office_week_grid_and_approving_from_it(client, world, room):
    booking = _ask(world, room, purpose="电话13812345678的读书会")
    client.force_login(world.users["admin"])
    url = reverse("services:office_rooms", args=["Y"]) + f"?week={_day().isoformat()}"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Requests to decide" in text and "记忆馆" in text
    assert "13812345678" not in text  # the purpose is shown scrubbed
    answer = client.post(url, {"action": "approve", "booking": booking.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "approved"


def test_the_request_page_says_why_in_words(client, world, room):
    client.force_login(world.users["leader"])
    day = _day()
    url = reverse("services:office_room_request", args=["Y"])
    answer = client.post(url, {"room": room.pk, "starts_at": f"{day}T11:00", "ends_at": f"{day}T15:00",
                               "purpose": "议事会", "attendees": 8}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    assert "The room is closed at that time" in answer.content.decode()
    assert not RoomBooking.objects.exists()
    answer = client.post(url, {"room": room.pk, "starts_at": f"{day}T09:00", "ends_at": f"{day}T10:00",
                               "purpose": "议事会", "attendees": 8}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302
    assert RoomBooking.objects.get().status == "requested"
    # The leader sees the grid but no approve buttons.
    page = client.get(reverse("services:office_rooms", args=["Y"]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Requests to decide" not in page.content.decode()


def test_residents_and_other_communities_do_not_reach_the_rooms(client, world, room):
    client.force_login(world.users["resident"])
    assert client.get(reverse("services:office_rooms", args=["Y"])).status_code == 403
    client.force_login(world.users["z_worker"])
    assert client.get(reverse("services:office_rooms", args=["Y"])).status_code == 404
    client.force_login(world.users["leader"])
    assert client.get(reverse("services:office_room", args=["Y", room.pk])).status_code == 404


def test_the_office_edits_a_room(client, world, room):
    client.force_login(world.users["admin"])
    url = reverse("services:office_room", args=["Y", room.pk])
    assert client.get(url).status_code == 200
    answer = client.post(url, {"name": "记忆馆", "capacity": 40, "opening": "mon 09:00-17:00",
                               "needs_approval": "on", "active": "on"})
    assert answer.status_code == 302
    room.refresh_from_db()
    assert room.capacity == 40 and room.opening["mon"] == [["09:00", "17:00"]] and room.opening["tue"] == []
    answer = client.post(reverse("services:office_room_new", args=["Y"]),
                         {"code": "legal-aid", "name": "法律援助室", "capacity": 6, "opening": "mon 25:00-26:00"},
                         HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and not Room.objects.filter(code="legal-aid").exists()
