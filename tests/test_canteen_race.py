"""Capacity is exact under concurrency (linli/canteen/orders.py): many orders at once for a meal
with few places take exactly the places there are; the rest are refused "full"; the counter never
goes over the capacity and equals the orders' portions.

Threads, each with its own database connection. On SQLite the IMMEDIATE transactions queue the
writers; on PostgreSQL (``LINLI_DATABASE_URL``) the conditional UPDATE re-checks the meal's row
after a concurrent commit, and the CHECK is the backstop. Nothing reads a count first.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection, connections
from django.utils import timezone

from linli.canteen import orders
from linli.canteen.models import Meal, Order
from linli.community.models import Unit
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core.errors import Conflict

from factories import make_id_number, make_phone
from test_canteen_orders import setup_canteen


def _elders(world, n: int) -> list:
    """``n`` residents aged 80 or more (delivery-eligible), one household each."""
    units = list(Unit.objects.filter(community=world.community).order_by("id"))
    people = []
    for i in range(n):
        hh, _ = household_get_or_create(actor=None, unit=units[i % len(units)], room=f"{500 + i}")
        birth = dt.date(1940, 1 + i % 12, 1 + i % 28)
        people.append(resident_create(actor=None, household=hh, facts=ResidentFacts.clean(
            name=f"周{i}", id_number=make_id_number(birth, 300 + i), phone=make_phone(300 + i))))
    return people


def _attempt(call) -> str:
    """One order: "ok", the refusal's code, or the unexpected error. SQLite's in-memory test
    database answers a locked table at once where a file database would wait: retry, as that would."""
    tries = 0
    while True:
        try:
            call()
            return "ok"
        except Conflict as exc:
            return exc.code
        except OperationalError as exc:
            if connection.vendor == "sqlite" and "locked" in str(exc):
                tries += 1
                time.sleep(random.uniform(0.001, min(0.05, 0.002 * 2 ** min(tries, 5))))
                continue
            return repr(exc)
        except Exception as exc:  # noqa: BLE001 — counted and shown by the test
            return repr(exc)


def _race(calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            result = _attempt(call)
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_old_connections()
    return outcomes


def _order(actor, resident, meal, **kw):
    return lambda: orders.order_place(actor=actor, resident=resident, meal=meal, channel="phone", **kw)


@pytest.mark.django_db(transaction=True)
def test_forty_delivery_orders_at_once_for_ten_places(world):
    k = setup_canteen(world, onsite=5, delivery=10)
    admin = world.users["admin"]
    people = _elders(world, 40)
    outcomes = _race([_order(admin, r, k.meal, delivery=True) for r in people])
    assert len(outcomes) == 40
    assert outcomes.count("ok") == 10, outcomes
    assert outcomes.count("full") == 30, outcomes
    meal = Meal.objects.get(pk=k.meal.pk)
    assert meal.delivery_taken == 10 == Order.objects.filter(meal=meal, delivery=True).count()
    assert meal.onsite_taken == 0


@pytest.mark.django_db(transaction=True)
def test_thirty_on_site_orders_of_two_at_once(world):
    k = setup_canteen(world, onsite=21, delivery=0)
    admin = world.users["admin"]
    people = _elders(world, 30)
    outcomes = _race([_order(admin, r, k.meal, quantity=2) for r in people])
    assert outcomes.count("ok") == 10, outcomes  # 10 × 2 = 20 ≤ 21; an 11th would need 22
    assert outcomes.count("full") == 20, outcomes
    meal = Meal.objects.get(pk=k.meal.pk)
    assert meal.onsite_taken == 20 == sum(Order.objects.filter(meal=meal).values_list("quantity", flat=True))


@pytest.mark.django_db(transaction=True)
def test_one_resident_ordering_ten_times_at_once_gets_one_order(world):
    k = setup_canteen(world, onsite=30, delivery=0)
    r = world.residents[0]
    user = world.users["resident"]
    calls = [lambda: orders.order_place(actor=user, resident=r, meal=k.meal, channel="online") for _ in range(10)]
    outcomes = _race(calls)
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("already_ordered") == 9, outcomes
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 1 and Order.objects.count() == 1
    assert timezone.now() < k.meal.cutoff_at
