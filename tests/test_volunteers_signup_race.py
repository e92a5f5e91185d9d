"""Twenty volunteers signing up at once for the last three places: exactly three confirmed, the
rest waiting, nobody lost (SQLite here; PostgreSQL with LINLI_DATABASE_URL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, connections

from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core.models import Event
from linli.volunteers import activities
from linli.volunteers.models import Signup

from factories import make_id_number, make_phone
from volunteer_activity_helpers import make_activity, volunteer_for

THREADS = 20


def _retrying(fn):
    """SQLite's shared in-memory test database answers "table is locked" at once where a database
    file waits (busy_timeout): wait here the same way. PostgreSQL never needs it. The whole service
    is retried: it is one transaction, so a refused start changed nothing."""
    for _ in range(3000):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005)
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_for_the_last_three_places(world):
    import datetime as dt

    people = []
    unit = world.households[0].unit
    for i in range(THREADS + 2):
        household, _ = household_get_or_create(actor=None, unit=unit, room=f"5{i:02d}")
        r = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
            name=f"志愿者{i}", id_number=make_id_number(dt.date(1980, 1, 1 + i), 700 + i), phone=make_phone(700 + i)))
        people.append(volunteer_for(r))
    a = make_activity(world, slots=5)
    for v in people[:2]:  # two places taken already: three left
        activities.signup(actor=v.resident.user, activity=a, volunteer=v)
    racers = people[2:]
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes, errors = [], []

    def attempt(v):
        try:
            barrier.wait()
            row = _retrying(lambda: activities.signup(actor=v.resident.user, activity=a, volunteer=v))
            outcomes.append(row.status)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(v,)) for v in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [], errors[:3]
    assert sorted(outcomes) == ["confirmed"] * 3 + ["waiting"] * (THREADS - 3), (connection.vendor, outcomes)
    assert Signup.objects.filter(activity=a, status="confirmed").count() == 5
    assert Signup.objects.filter(activity=a, status="waiting").count() == THREADS - 3
    assert Event.objects.filter(verb="volunteers.signed_up", target_type="volunteers.signup").count() == THREADS + 2
    # The waiting list keeps the order they came in: the first waiting moves up on a withdrawal.
    first_waiting = Signup.objects.filter(activity=a, status="waiting").order_by("created_at", "id").first()
    confirmed = Signup.objects.filter(activity=a, status="confirmed").select_related("volunteer__resident").first()
    activities.withdraw(actor=confirmed.volunteer.resident.user, signup=confirmed)
    assert Signup.objects.get(pk=first_waiting.pk).status == "confirmed"
