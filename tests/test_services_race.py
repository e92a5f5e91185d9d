"""Many simultaneous bookings for one slot: exactly ``capacity`` are booked, the rest are refused
``full`` (the API's ``waitlist=False`` path) or put on the waiting list (the pages' path), and
``Slot.booked`` is exact (linli/services/bookings.py).

Threads, each with its own database connection (the pattern of tests/test_points_race.py). On
PostgreSQL (``LINLI_DATABASE_URL``) the conditional UPDATE re-checks the row after a concurrent
commit; on SQLite the writers queue. The bench's figure is 200 at once for 20 places; here 16 for 4.
"""

from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection, connections, transaction
from django.utils import timezone

from factories import make_id_number, make_phone
from linli.community.models import Unit
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core.errors import Conflict
from linli.services import bookings, catalogue
from linli.services.models import Booking, Slot

ATTEMPTS = 16
CAPACITY = 4


def _attempt(book_once) -> str:
    while True:
        try:
            return book_once().status
        except Conflict as exc:
            return exc.code
        except OperationalError as exc:
            if connection.vendor == "sqlite" and "locked" in str(exc):
                time.sleep(random.uniform(0.001, 0.01))
                continue
            return repr(exc)
        except Exception as exc:  # noqa: BLE001 — counted and shown by the test
            return repr(exc)


def _setup(world):
    admin = world.users["admin"]
    with transaction.atomic():
        unit = Unit.objects.create(community=world.community, building=world.buildings[0], number="9")
        people = []
        for i in range(ATTEMPTS):
            household, _ = household_get_or_create(actor=None, unit=unit, room=f"{100 + i}")
            people.append(resident_create(actor=None, household=household, facts=ResidentFacts.clean(
                name=f"钱多{i}", id_number=make_id_number(dt.date(1950, 1, 1 + i % 28), 500 + i),
                phone=make_phone(500 + i))))
    provider = catalogue.provider_create(actor=admin, community=world.community, name="义诊队")
    service = catalogue.service_create(actor=admin, community=world.community, provider=provider, code="clinic",
                                       name="义诊", kind="clinic", place="服务中心")
    slot, = catalogue.slots_create(actor=admin, service=service, day=timezone.localdate() + dt.timedelta(days=1),
                                   start=dt.time(9, 0), end=dt.time(11, 0), every_minutes=120, capacity=CAPACITY)
    return people, slot


def _race(world, people, slot, *, waitlist):
    actor = world.users["worker"]
    work = queue.Queue()
    for person in people:
        work.put(person)
    n = len(people)
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            while True:
                try:
                    person = work.get_nowait()
                except queue.Empty:
                    return
                result = _attempt(lambda: bookings.book(actor=actor, slot=slot, resident=person, channel="phone",
                                                        waitlist=waitlist)[0])
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_old_connections()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_simultaneous_bookings_without_waiting_list_refuse_full(world):
    people, slot = _setup(world)
    outcomes = _race(world, people, slot, waitlist=False)
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("booked") == CAPACITY, outcomes
    assert outcomes.count("full") == ATTEMPTS - CAPACITY, outcomes
    assert Slot.objects.get(pk=slot.pk).booked == CAPACITY
    assert Booking.objects.filter(slot=slot, status="booked").count() == CAPACITY
    assert not Booking.objects.filter(slot=slot).exclude(status="booked").exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_bookings_with_waiting_list(world):
    people, slot = _setup(world)
    outcomes = _race(world, people, slot, waitlist=True)
    assert outcomes.count("booked") == CAPACITY, outcomes
    assert outcomes.count("waiting") == ATTEMPTS - CAPACITY, outcomes
    assert Slot.objects.get(pk=slot.pk).booked == CAPACITY
    assert Booking.objects.filter(slot=slot, status="waiting").count() == ATTEMPTS - CAPACITY
