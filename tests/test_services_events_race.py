"""Twelve sign-ups at once for four places: exactly four confirmed and eight waiting, the counter
exact (one conditional UPDATE per sign-up). SQLite here; PostgreSQL with LINLI_DATABASE_URL
(docs/services.md, "Activities for all ages")."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections
from django.utils import timezone

from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core.models import Event as LogEvent
from linli.services import events
from linli.services.models import Event, EventSignup

from factories import make_id_number, make_phone

THREADS = 12
CAPACITY = 4


def _retrying(fn):
    """As tests/test_volunteers_signup_race.py: SQLite's shared in-memory database says "locked"
    where a file would wait; the whole one-transaction service is retried."""
    deadline, tries = time.monotonic() + 240, 0
    while time.monotonic() < deadline:
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            tries += 1
            # Random, growing waits: threads retrying in step starve each other on a loaded machine.
            time.sleep(random.uniform(0.001, min(0.05, 0.002 * 2 ** min(tries, 5))))
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_twelve_sign_ups_for_four_places(world):
    unit = world.households[0].unit
    people = []
    for i in range(THREADS):
        household, _ = household_get_or_create(actor=None, unit=unit, room=f"6{i:02d}")
        resident = resident_create(actor=None, household=household, facts=ResidentFacts.clean(
            name=f"居民{i}", id_number=make_id_number(dt.date(1985, 1, 1 + i % 28), 600 + i),
            phone=make_phone(600 + i)))
        resident.user = get_user_model().objects.create_user(username=f"race{i}", password="x")
        resident.save(update_fields=["user"])
        people.append(resident)
    start = timezone.now() + dt.timedelta(days=2)
    event = events.event_create(actor=world.users["worker"], community=world.community, title="社区电影夜",
                                audience="all", starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                capacity=CAPACITY, place="广场")
    barrier = threading.Barrier(THREADS, timeout=60)
    outcomes, errors = [], []

    def attempt(resident):
        try:
            barrier.wait()
            row = _retrying(lambda: events.signup(actor=resident.user, event=event, resident=resident))
            outcomes.append(row.status)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [], errors[:3]
    assert sorted(outcomes) == ["confirmed"] * CAPACITY + ["waiting"] * (THREADS - CAPACITY), (connection.vendor,
                                                                                                outcomes)
    assert Event.objects.get(pk=event.pk).taken == CAPACITY
    assert EventSignup.objects.filter(event=event, status="confirmed").count() == CAPACITY
    assert EventSignup.objects.filter(event=event, status="waiting").count() == THREADS - CAPACITY
    assert LogEvent.objects.filter(verb="services.signed_up").count() == CAPACITY
    assert LogEvent.objects.filter(verb="services.signup_waiting").count() == THREADS - CAPACITY
    # The first waiting moves up when a confirmed one cancels.
    first_waiting = EventSignup.objects.filter(event=event, status="waiting").order_by("created_at", "id").first()
    confirmed = EventSignup.objects.filter(event=event, status="confirmed").select_related("resident").first()
    events.cancel_signup(actor=confirmed.resident.user, signup=confirmed)
    assert EventSignup.objects.get(pk=first_waiting.pk).status == "confirmed"
    assert Event.objects.get(pk=event.pk).taken == CAPACITY
