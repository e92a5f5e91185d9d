"""The ledger's rules as the database keeps them (migration points/0002, docs/points.md).

Every attempt here is raw SQL — what a bug, a console session or a script might send, past the
services — and each is refused by the database itself with nothing changed. The file runs on
SQLite and, with ``LINLI_DATABASE_URL`` pointing at PostgreSQL, on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linli.community.models import Building, Community, District, Grid, Street, Unit
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.points import ledger
from linli.points.models import Account, Posting, Transaction

from factories import make_id_number, make_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def y(db):
    with transaction.atomic():
        district = District.objects.create(code="510199", name="测试区")
        street = Street.objects.create(district=district, code="510199001", name="测试街道")
        community = Community.objects.create(street=street, code="P", name="测试社区")
        grid = Grid.objects.create(community=community, code="G01", name="1号院")
        building = Building.objects.create(community=community, grid=grid, name="1栋")
        unit = Unit.objects.create(community=community, building=building, number="1")
        community.test_residents = []
        for n in (1, 2):
            household, _ = household_get_or_create(actor=None, unit=unit, room=f"10{n}")
            community.test_residents.append(resident_create(actor=None, household=household, facts=ResidentFacts.clean(
                name=f"测试{n}", id_number=make_id_number(dt.date(1980, 1, n), 700 + n), phone=make_phone(700 + n))))
    return community


@pytest.fixture
def funded(y):
    """Alice holds 10 points from one posted grant."""
    alice = ledger.account_for(y.test_residents[0])
    grant = ledger.post(community=y, kind="grant", lines=[(ledger.issuance(y), -10), (alice, 10)])
    return alice, grant


def sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))
        return cursor.rowcount


def refused(statement: str, params=()):
    """The statement fails with an integrity error; its savepoint is rolled back, the test goes on."""
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            sql(statement, params)


def snapshot():
    return (list(Transaction.objects.order_by("pk").values_list("pk", "kind", "memo", "posted")),
            list(Posting.objects.order_by("pk").values_list("pk", "transaction_id", "account_id", "amount")),
            list(Account.objects.order_by("pk").values_list("pk", "balance")))


def new_unposted(community, lines, kind="gift"):
    """An unposted transaction and its postings, inserted by raw SQL."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql("INSERT INTO points_transaction (community_id, kind, memo, source_type, source_id, posted, created_at, "
        "effective_at) VALUES (%s, %s, '', '', '', %s, %s, %s)", [community.pk, kind, False, now, now])
    txn_id = Transaction.objects.order_by("-pk").values_list("pk", flat=True).first()
    for account, amount in lines:
        sql("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, %s, %s)",
            [txn_id, account.pk, amount, now])
    return txn_id


def test_a_posting_is_never_updated(funded):
    alice, grant = funded
    before = snapshot()
    posting = grant.postings.get(account=alice)
    refused("UPDATE points_posting SET amount = 1000 WHERE id = %s", [posting.pk])
    refused("UPDATE points_posting SET account_id = %s WHERE id = %s", [ledger.pool(alice.community).pk, posting.pk])
    refused("UPDATE points_posting SET created_at = created_at")
    assert snapshot()[1] == before[1]
    assert ledger.balance(alice) == 10


def test_a_posting_is_never_deleted(funded):
    alice, grant = funded
    before = snapshot()
    refused("DELETE FROM points_posting WHERE transaction_id = %s", [grant.pk])
    refused("DELETE FROM points_posting")
    assert snapshot() == before


def test_a_transaction_is_never_deleted(funded):
    alice, grant = funded
    before = snapshot()
    refused("DELETE FROM points_transaction WHERE id = %s", [grant.pk])
    unposted = new_unposted(alice.community, [(alice, -1), (ledger.pool(alice.community), 1)])
    refused("DELETE FROM points_transaction WHERE id = %s", [unposted])
    assert snapshot()[0][0] == before[0][0]


def test_a_transaction_only_changes_from_unposted_to_posted(funded):
    alice, grant = funded
    before = snapshot()
    refused("UPDATE points_transaction SET posted = %s WHERE id = %s", [False, grant.pk])
    refused("UPDATE points_transaction SET memo = 'changed' WHERE id = %s", [grant.pk])
    refused("UPDATE points_transaction SET kind = 'gift' WHERE id = %s", [grant.pk])
    refused("UPDATE points_transaction SET posted = %s WHERE id = %s", [True, grant.pk])  # posted → posted
    assert snapshot() == before
    # Not even an unposted one takes another change than being posted.
    unposted = new_unposted(alice.community, [(alice, -1), (ledger.pool(alice.community), 1)])
    refused("UPDATE points_transaction SET memo = 'x', posted = %s WHERE id = %s", [True, unposted])
    refused("UPDATE points_transaction SET effective_at = created_at WHERE id = %s", [unposted])
    assert not Transaction.objects.get(pk=unposted).posted
    assert ledger.balance(alice) == 10


def test_a_transaction_is_inserted_unposted(y):
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    refused("INSERT INTO points_transaction (community_id, kind, memo, source_type, source_id, posted, created_at, "
            "effective_at) VALUES (%s, 'grant', '', '', '', %s, %s, %s)", [y.pk, True, now, now])
    assert Transaction.objects.count() == 0


def test_posting_an_unbalanced_transaction_is_refused(funded):
    alice, _grant = funded
    pool = ledger.pool(alice.community)
    before = snapshot()
    with transaction.atomic():
        txn = new_unposted(alice.community, [(alice, -5), (pool, 4)])
        refused("UPDATE points_transaction SET posted = %s WHERE id = %s", [True, txn])
        assert not Transaction.objects.get(pk=txn).posted
        assert snapshot()[2] == before[2]  # no balance moved
        # Dropped unsaved: on PostgreSQL the deferred trigger would refuse it at commit anyway
        # (the test below; Django's test teardown checks deferred constraints).
        transaction.set_rollback(True)


def test_posting_a_transaction_with_one_posting_or_none_is_refused(funded):
    alice, _grant = funded
    before = snapshot()
    empty = new_unposted(alice.community, [])
    refused("UPDATE points_transaction SET posted = %s WHERE id = %s", [True, empty])
    assert snapshot()[2] == before[2]


def test_a_zero_posting_is_refused(funded):
    alice, _grant = funded
    txn = new_unposted(alice.community, [])
    refused("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, 0, %s)",
            [txn, alice.pk, connection.ops.adapt_datetimefield_value(timezone.now())])
    assert not Posting.objects.filter(transaction_id=txn).exists()


def test_a_negative_resident_balance_is_refused(y, funded):
    alice, _grant = funded
    bob = ledger.account_for(y.test_residents[1])
    before = snapshot()
    txn = new_unposted(alice.community, [(alice, -11), (bob, 11)])
    refused("UPDATE points_transaction SET posted = %s WHERE id = %s", [True, txn])
    assert not Transaction.objects.get(pk=txn).posted
    assert snapshot()[2] == before[2]
    # Nor can the balance be written below zero directly.
    refused("UPDATE points_account SET balance = -1 WHERE id = %s", [alice.pk])
    assert ledger.balance(alice) == 10 and ledger.balance(bob) == 0


def test_adding_a_posting_to_a_posted_transaction_is_refused(funded):
    alice, grant = funded
    before = snapshot()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    refused("INSERT INTO points_posting (transaction_id, account_id, amount, created_at) VALUES (%s, %s, %s, %s)",
            [grant.pk, alice.pk, 5, now])
    assert snapshot() == before


def test_posting_by_sql_moves_the_balances_and_issuance_may_go_negative(funded):
    alice, _grant = funded
    pool = ledger.pool(alice.community)
    txn = new_unposted(alice.community, [(alice, -4), (pool, 3), (pool, 1)])
    assert (ledger.balance(alice), ledger.balance(pool)) == (10, 0)  # unposted moves nothing
    assert sql("UPDATE points_transaction SET posted = %s WHERE id = %s", [True, txn]) == 1
    assert (ledger.balance(alice), ledger.balance(pool)) == (6, 4)
    assert ledger.balance(ledger.issuance(alice.community)) == -10
    assert ledger.audit(alice.community).ok


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_at_commit_a_transaction_that_does_not_balance(funded):
    alice, _grant = funded
    pool = ledger.pool(alice.community)
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            new_unposted(alice.community, [(alice, -5), (pool, 4)])
            # What COMMIT would run: the deferred constraint trigger.
            sql("SET CONSTRAINTS points_posting_balanced IMMEDIATE")
    with transaction.atomic():
        new_unposted(alice.community, [(alice, -5), (pool, 5)])
        sql("SET CONSTRAINTS points_posting_balanced IMMEDIATE")  # a balanced one passes
        sql("SET CONSTRAINTS points_posting_balanced DEFERRED")


def test_the_flush_erase_path_opens_deletion_only_while_held(funded):
    alice, grant = funded
    refused("DELETE FROM points_posting WHERE transaction_id = %s", [grant.pk])
    with transaction.atomic():
        with ledger.erasing_for_flush(connection):
            assert sql("DELETE FROM points_posting WHERE transaction_id = %s", [grant.pk]) == 2
            assert sql("DELETE FROM points_transaction WHERE id = %s", [grant.pk]) == 1
        transaction.set_rollback(True)
    refused("DELETE FROM points_posting WHERE transaction_id = %s", [grant.pk])
    assert Posting.objects.filter(transaction=grant).count() == 2
