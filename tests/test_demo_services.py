"""The demo's bookable services, rooms and activities (linli.demo.services_demo, issue 12): half a
year of slots, bookings, room bookings and activities in bulk, the next four weeks through the
services.

A small demo (300 households, its history) is seeded once for the checks (seeding is most of the
time); the checks read what the bulk writer and the services wrote. Determinism: the parts'
counts do not depend on the clock's minute, so a second seeding with the same seed in another
database would give the same plan (the test compares the history's rows, which are the plan).
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.test import Client
from django.utils import timezone, translation

from linli.community.models import Community, Resident, StaffRole
from linli.core.models import Event as LogEvent
from linli.demo import community as demo
from linli.demo import services_demo
from linli.services import priority, rooms
from linli.services.models import Booking, Event, EventSignup, Provider, Room, RoomBooking, Service, Slot

PERSONAL_KEYS = {"name", "phone", "id_number", "address", "door", "birth_date", "username"}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def seeded(db, tmp_path, settings):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "disclosure-signing.key")
    out = io.StringIO()
    call_command("seed_demo", "--households", "300", "--seed", "11", stdout=out, stderr=io.StringIO())
    return Community.objects.get(code=demo.COMMUNITY_CODE), out.getvalue()


def _keys(data) -> set:
    if isinstance(data, dict):
        return set(data).union(*(_keys(v) for v in data.values()))
    if isinstance(data, (list, tuple)):
        return set().union(*(_keys(v) for v in data))
    return set()


def _services_and_their_history(community, out):
    assert "Services:" in out
    services = {s.code: s for s in Service.objects.filter(community=community)}
    assert set(services) == {code for code, *_rest in services_demo.SERVICES}
    assert {s.kind for s in services.values()} == {"clinic", "haircut", "dental", "legal", "counselling",
                                                  "housekeeping"}
    assert Provider.objects.filter(community=community).count() == len(services_demo.PROVIDERS)
    now = timezone.now()
    past = Booking.objects.filter(slot__service__community=community, slot__starts_at__lt=now)
    assert past.filter(status="attended").count() > 200
    assert past.filter(status="no_show").count() >= 5
    assert past.filter(status="cancelled").exists() and past.filter(status="late_cancelled").exists()
    # Slots for the next four weeks, for every service.
    ahead = Slot.objects.filter(service__community=community, starts_at__gt=now,
                                starts_at__lte=now + timezone.timedelta(weeks=4))
    assert set(ahead.values_list("service__code", flat=True)) == set(services)
    # A full slot with a waiting list, and bookings by phone, at the desk and online.
    assert Booking.objects.filter(slot__starts_at__gt=now, status="waiting").exists()
    channels = set(Booking.objects.filter(slot__service__community=community).values_list("channel", flat=True))
    assert {"online", "phone"} <= channels


def _no_capacity_is_exceeded(community):
    holding = Q(bookings__status__in=("booked", "attended", "no_show"))
    for slot in Slot.objects.filter(service__community=community).annotate(n=Count("bookings", filter=holding)):
        assert slot.booked == slot.n, slot
        assert slot.booked <= slot.capacity
    assert not (Booking.objects.filter(status__in=("booked", "waiting")).values("slot", "resident")
                .annotate(n=Count("pk")).filter(n__gt=1).exists())
    taking = Q(signups__status__in=("confirmed", "attended"))
    events = Event.objects.filter(community=community).annotate(n=Sum("signups__party_size", filter=taking))
    assert events.count() >= 10
    for event in events:
        assert event.taken == (event.n or 0), event
        assert event.taken <= event.capacity
    # No two live bookings of a room overlap, and each is inside the room's opening hours.
    live = list(RoomBooking.objects.filter(room__community=community, status__in=("requested", "approved"))
                .select_related("room").order_by("room", "starts_at"))
    assert len(live) > 50
    for a, b in zip(live, live[1:]):
        if a.room_id == b.room_id:
            assert a.ends_at <= b.starts_at, (a, b)
    for booking in live:
        assert rooms.is_open(booking.room, booking.starts_at, booking.ends_at), booking
        assert booking.attendees <= booking.room.capacity


def _priority_follows_the_needs(community):
    sample = Booking.objects.filter(slot__service__community=community).select_related(
        "slot__service", "resident")[:150]
    for booking in sample:
        assert booking.priority == priority.matches(booking.slot.service, booking.resident), booking


def _rooms_and_activities(community):
    codes = set(Room.objects.filter(community=community).values_list("code", flat=True))
    assert {"law-theatre", "legal-aid", "memory-hall"} <= codes
    now = timezone.now()
    coming = RoomBooking.objects.filter(room__community=community, starts_at__gt=now)
    assert coming.filter(status="requested").exists() and coming.filter(status="declined").exists()
    assert all(b.reason for b in coming.filter(status="declined"))
    events = Event.objects.filter(community=community)
    done = events.filter(status="done")
    assert done.count() >= 8 and all(e.summary for e in done)
    assert {"children", "elders", "families"} <= set(events.values_list("audience", flat=True))
    assert EventSignup.objects.filter(event__in=done, status="attended").exists()
    upcoming = events.filter(status="open", starts_at__gt=now)
    assert upcoming.count() >= 5
    assert EventSignup.objects.filter(event__in=upcoming, status="confirmed").exists()
    # One coming activity is staffed by volunteers (a volunteers' activity with slots).
    assert upcoming.filter(staff_activity__isnull=False).exists()


def _the_demo_accounts(community):
    User = get_user_model()
    clinic = User.objects.get(username="clinic")
    role = StaffRole.objects.get(user=clinic)
    assert role.role == "unit_staff" and Provider.objects.filter(organisation=role.organisation).exists()
    assert Client().login(username="clinic", password=demo.DEMO_PASSWORD)
    resident = Resident.objects.get(community=community, user__username="resident")
    haircut = Booking.objects.filter(resident=resident, slot__service__kind="haircut", status="booked",
                                     slot__starts_at__gt=timezone.now())
    assert haircut.count() == 1 and haircut.get().channel == "online"


def _no_personal_data_in_the_events(community):
    rows = list(LogEvent.objects.filter(verb__startswith="services.").values_list("data", flat=True))
    assert len(rows) > 500
    names = {p.reveal() for p in Resident.objects.filter(community=community, service_bookings__isnull=False)
             .values_list("name", flat=True).distinct()[:80]}
    for data in rows:
        assert not PERSONAL_KEYS & _keys(data)
        assert not any(name and name in str(data) for name in names)


def _deterministic_per_seed(community):
    """The plan is the seed's: the same seed picks the same people (and so the same bookings)."""
    from linli.demo.disclosure import replay_clock

    def plan(seed):
        with replay_clock() as clock:
            p = services_demo._Services(community, seed, clock, services_demo.ServicesResult())
            p.people()
        return p.pool, p.elders

    assert plan(11) == plan(11)
    assert plan(11) != plan(12)


def test_the_demo_services_rooms_and_activities(seeded):
    community, out = seeded
    _services_and_their_history(community, out)
    _no_capacity_is_exceeded(community)
    _priority_follows_the_needs(community)
    _rooms_and_activities(community)
    _the_demo_accounts(community)
    _no_personal_data_in_the_events(community)
    _deterministic_per_seed(community)
