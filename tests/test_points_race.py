"""100 simultaneous redemptions against one balance: exactly as many succeed as the balance allows,
the rest are refused with 409, the final balance is exact and never negative (linli/points/redeem.py).

Threads, each with its own database connection. On PostgreSQL (``LINLI_DATABASE_URL``) the
database's CHECK on the account and the row lock the balance trigger takes decide; on SQLite the
writers queue (one writer at a time) and the same CHECK decides. Nothing in Python reads the
balance first: the 409s come from the database's refusal.
"""

from __future__ import annotations

import queue
import random
import threading
import time

import pytest
from django.db import OperationalError, close_old_connections, connection, connections

from linli.core.errors import Conflict
from linli.points import catalogue, ledger, partners, redeem as redeeming
from linli.points.models import Account, Item, Posting, Redemption

REDEMPTIONS = 100
PRICE = 7
BALANCE = 250  # floor(250 / 7) = 35 succeed


def _threads() -> int:
    # PostgreSQL's default max_connections is 100: stay below 90 with the test's own.
    return 80 if connection.vendor == "postgresql" else REDEMPTIONS


def _attempt(redeem_once) -> str:
    """One redemption: "ok", the refusal's code, or the unexpected error. SQLite's in-memory test
    database (shared cache) answers a locked table at once, where a file database's busy timeout
    would wait (the bench runs on a file): here the thread waits and tries again, as that would."""
    while True:
        try:
            redeem_once()
            return "ok"
        except Conflict as exc:
            return exc.code
        except OperationalError as exc:
            if connection.vendor == "sqlite" and "locked" in str(exc):
                time.sleep(random.uniform(0.001, 0.01))
                continue
            return repr(exc)
        except Exception as exc:  # noqa: BLE001 — counted and shown by the test
            return repr(exc)


def _race(world, *, item):
    r = world.residents[0]
    user = world.users["resident"]
    work = queue.Queue()
    for i in range(REDEMPTIONS):
        work.put(i)
    n = _threads()
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            while True:
                try:
                    work.get_nowait()
                except queue.Empty:
                    return
                result = _attempt(lambda: redeeming.redeem(actor=user, resident=r, item=item, channel="online"))
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
def test_hundred_redemptions_against_one_balance(world):
    admin = world.users["admin"]
    canteen = partners.partner_create(actor=admin, community=world.community, name="食堂", kind="canteen")
    item = catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="meal",
                                 name="一餐", kind="meal", points=PRICE)
    r = world.residents[0]
    ledger.post(community=world.community, kind="grant",
                lines=[(ledger.issuance(world.community), -BALANCE), (ledger.account_for(r), BALANCE)])
    outcomes = _race(world, item=item)
    expected = BALANCE // PRICE
    assert len(outcomes) == REDEMPTIONS
    assert outcomes.count("ok") == expected, outcomes
    assert outcomes.count("insufficient_points") == REDEMPTIONS - expected, outcomes
    account = Account.objects.get(resident=r)
    assert account.balance == BALANCE - expected * PRICE >= 0
    assert sum(Posting.objects.filter(account=account).values_list("amount", flat=True)) == account.balance
    assert Redemption.objects.count() == expected
    assert Account.objects.get(partner=canteen).balance == expected * PRICE
    assert ledger.audit(world.community).ok


@pytest.mark.django_db(transaction=True)
def test_hundred_redemptions_against_a_small_stock(world):
    admin = world.users["admin"]
    canteen = partners.partner_create(actor=admin, community=world.community, name="食堂", kind="canteen")
    item = catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="soap",
                                 name="肥皂", kind="goods", points=1, stock=12)
    r = world.residents[0]
    ledger.post(community=world.community, kind="grant",
                lines=[(ledger.issuance(world.community), -BALANCE), (ledger.account_for(r), BALANCE)])
    outcomes = _race(world, item=item)
    assert outcomes.count("ok") == 12, outcomes
    assert outcomes.count("out_of_stock") == REDEMPTIONS - 12, outcomes
    assert Item.objects.get(pk=item.pk).stock == 0
    assert Account.objects.get(resident=r).balance == BALANCE - 12
    assert ledger.audit(world.community).ok
