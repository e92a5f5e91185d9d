"""Priority for residents with a matching need: need tags matched by category and by parent,
places held until ``priority_until``, the waiting list, and the job that releases held places
(linli/services/priority.py, bookings.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from linli.community import needs
from linli.community.models import NeedCategory
from linli.core.errors import Conflict
from linli.services import bookings, catalogue, priority
from linli.services.models import Booking, Slot

pytestmark = pytest.mark.django_db
B = Booking.Status


@pytest.fixture
def setup(world):
    admin = world.users["admin"]
    needs.needs_install_defaults(actor=admin, community=world.community)
    provider = catalogue.provider_create(actor=admin, community=world.community, name="口腔志愿队")
    service = catalogue.service_create(actor=admin, community=world.community, provider=provider, code="teeth",
                                       name="口腔检查", kind="dental", place="服务中心", need_categories=["health"])
    day = timezone.localdate() + dt.timedelta(days=3)
    slot, = catalogue.slots_create(actor=admin, service=service, day=day, start=dt.time(14, 0), end=dt.time(15, 0),
                                   every_minutes=60, capacity=3, priority_places=1)
    return {"service": service, "slot": slot}


def tag(world, i, code):
    category = NeedCategory.objects.get(community=world.community, code=code)
    return needs.household_need_add(actor=world.users["worker"], household=world.residents[i].household,
                                    category=category, reason="登记")


def account(world, i):
    r = world.residents[i]
    if r.user_id is None:
        r.user = get_user_model().objects.create_user(username=f"p{i}", password="x" * 12)
        r.save(update_fields=["user"])
    return r


def book(world, i, slot, **kw):
    r = account(world, i)
    return bookings.book(actor=r.user, slot=slot, resident=r, channel="online", **kw)[0]


def test_matches_by_category_and_by_parent(world, setup):
    service = setup["service"]
    assert not priority.matches(service, world.residents[0])
    tag(world, 0, "health")
    assert priority.matches(service, world.residents[0])
    # A service that names the parent ("service") matches any of its subcategories.
    service.need_categories = ["service"]
    service.save()
    tag(world, 2, "meals")
    assert priority.matches(service, world.residents[2])
    service.need_categories = ["culture"]
    service.save()
    assert not priority.matches(service, world.residents[2])
    service.need_categories = []
    service.save()
    assert not priority.matches(service, world.residents[0])


def test_only_confirmed_needs_count(world, setup):
    need = tag(world, 0, "health")
    needs.household_need_dismiss(actor=world.users["worker"], need=need, reason="已解决")
    assert not priority.matches(setup["service"], world.residents[0])


def test_held_places_go_to_priority_residents_until_priority_until(world, setup):
    slot = setup["slot"]
    assert slot.priority_until == slot.starts_at - dt.timedelta(hours=24)
    tag(world, 4, "health")
    first = book(world, 0, slot)
    second = book(world, 1, slot)
    assert first.status == second.status == B.BOOKED
    assert bookings.places_left(Slot.objects.get(pk=slot.pk), priority=False) == 0
    assert bookings.places_left(Slot.objects.get(pk=slot.pk), priority=True) == 1
    third = book(world, 2, slot)                   # no priority: the last place is held
    assert third.status == B.WAITING
    with pytest.raises(Conflict) as exc:
        book(world, 5, slot, waitlist=False)
    assert exc.value.code == "full"
    needy = book(world, 4, slot)                    # priority: takes the held place
    assert needy.status == B.BOOKED and needy.priority
    assert Slot.objects.get(pk=slot.pk).booked == 3


def test_held_places_are_released_after_priority_until(world, setup):
    slot = setup["slot"]
    book(world, 0, slot)
    book(world, 1, slot)
    waiting = book(world, 2, slot)
    assert waiting.status == B.WAITING
    after = slot.priority_until + dt.timedelta(minutes=1)
    assert bookings.places_left(Slot.objects.get(pk=slot.pk), priority=False, at=after) == 1
    # The hourly job moves the waiting booking up once the hold ends.
    assert bookings.promote_waiting(now=slot.priority_until - dt.timedelta(minutes=1)) == 0
    assert bookings.promote_waiting(now=after) == 1
    assert Booking.objects.get(pk=waiting.pk).status == B.BOOKED
    assert Slot.objects.get(pk=slot.pk).booked == 3


def test_a_freed_held_place_waits_for_priority_residents(world, setup):
    slot = setup["slot"]
    tag(world, 4, "health")
    book(world, 0, slot)
    book(world, 1, slot)
    needy = book(world, 4, slot)
    plain = book(world, 2, slot)
    assert plain.status == B.WAITING
    bookings.cancel(actor=world.residents[4].user, booking=needy)
    # The freed place is a held one: a resident without priority does not get it yet.
    assert Booking.objects.get(pk=plain.pk).status == B.WAITING
    assert Slot.objects.get(pk=slot.pk).booked == 2


def test_a_priority_resident_who_books_takes_a_held_place_not_an_open_one(world, setup):
    """Held places are the priority places no resident with priority has taken: once one has
    booked, the others are open to everyone (not held twice)."""
    slot = setup["slot"]
    tag(world, 4, "health")
    needy = book(world, 4, slot)
    assert needy.status == B.BOOKED and needy.priority
    fresh = Slot.objects.get(pk=slot.pk)
    assert bookings.held_places(fresh, timezone.now()) == 0
    assert bookings.places_left(fresh, priority=False) == fresh.capacity - 1
    others = [book(world, i, slot) for i in range(fresh.capacity - 1)]
    assert [b.status for b in others] == [B.BOOKED] * (fresh.capacity - 1)
    assert Slot.objects.get(pk=slot.pk).booked == fresh.capacity
    # Cancelled, the priority resident's place is held again for the next one with priority.
    bookings.cancel(actor=world.residents[4].user, booking=needy)
    assert bookings.held_places(Slot.objects.get(pk=slot.pk), timezone.now()) == 1
