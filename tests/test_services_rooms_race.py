"""Ten requests at once for overlapping times in one room: exactly one stands, the others are
told "overlap" (the room's row lock, then the overlap check, then the insert). SQLite here;
PostgreSQL with LINLI_DATABASE_URL (docs/services.md, "Rooms")."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from linli.core.errors import Conflict
from linli.core.models import Event as LogEvent
from linli.services import rooms
from linli.services.models import Room, RoomBooking

THREADS = 10


def _retrying(fn):
    """SQLite's shared in-memory test database answers "table is locked" at once where a database
    file waits (busy_timeout): wait here the same way. PostgreSQL never needs it. The whole service
    is retried: it is one transaction, so a refused start changed nothing."""
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
def test_ten_overlapping_requests_one_stands(world):
    room = rooms.room_create(actor=world.users["admin"], community=world.community, code="law-theatre",
                             name="法治剧场", capacity=80, opening={d: [["08:00", "21:00"]] for d in rooms.DAYS})
    day = timezone.localdate() + dt.timedelta(days=3)
    base = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    actors = [world.users[w] for w in ("leader", "secretary", "unit_staff", "admin", "worker")]
    barrier = threading.Barrier(THREADS, timeout=60)
    made, refused, errors = [], [], []

    def attempt(i):
        start = base + dt.timedelta(minutes=i)  # every pair of these hours overlaps
        try:
            barrier.wait()
            booking = _retrying(lambda: rooms.request(
                actor=actors[i % len(actors)], room=room, starts_at=start, ends_at=start + dt.timedelta(hours=1),
                purpose=f"活动{i}", attendees=10))
            made.append(booking.pk)
        except Conflict as exc:
            refused.append(exc.code)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [], errors[:3]
    assert len(made) == 1, (connection.vendor, made, refused)
    assert refused == ["overlap"] * (THREADS - 1)
    assert RoomBooking.objects.filter(room=room).count() == 1
    assert LogEvent.objects.filter(verb="services.room_requested").count() == 1
    # Each took the lock; the refused ones rolled their increment back with the rest.
    assert Room.objects.get(pk=room.pk).lock_version == 1
