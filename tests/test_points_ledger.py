"""The points ledger's services (linli/points/ledger.py, docs/points.md "The ledger")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse as url
from django.utils import timezone

from linli.core.errors import Conflict, InvalidInput
from linli.core.models import Event
from linli.points import ledger
from linli.points.models import Account, Posting, Transaction


def _grant(community, account, points, **kwargs):
    return ledger.post(community=community, kind="grant", lines=[(ledger.issuance(community), -points),
                                                                  (account, points)], **kwargs)


def _balances(*accounts):
    return [ledger.balance(a) for a in accounts]


@pytest.fixture
def y(world):
    return world.community


def test_accounts_are_made_once_per_owner(world, y):
    resident = world.residents[0]
    assert ledger.account_for(resident).pk == ledger.account_for(resident).pk
    assert ledger.issuance(y).pk == ledger.issuance(y).pk
    assert len({ledger.issuance(y).pk, ledger.pool(y).pk, ledger.expiry_account(y).pk}) == 3
    assert ledger.issuance(world.other_community).pk != ledger.issuance(y).pk
    account = ledger.account_for(resident)
    assert (account.kind, account.community_id, account.balance) == ("resident", y.pk, 0)


def test_post_moves_balances_and_records_one_event(world, y):
    alice = ledger.account_for(world.residents[0])
    txn = _grant(y, alice, 30, actor=world.users["admin"], memo="visit", source=("test.source", "1"))
    assert txn.posted
    assert _balances(alice, ledger.issuance(y)) == [30, -30]
    assert Posting.objects.filter(transaction=txn).count() == 2
    event = Event.objects.get(verb="points.posted")
    assert event.data == {"kind": "grant", "transaction": txn.pk, "total": 30}
    assert event.target_id == str(txn.pk) and event.community_id == y.pk


@pytest.mark.parametrize("lines", [
    [("resident", 5), ("issuance", -4)],    # does not sum to zero
    [("resident", 5)],                      # one line
    [("resident", 0), ("issuance", 0)],     # zero amounts
    [],
])
def test_unbalanced_posts_are_refused_with_nothing_written(world, y, lines):
    accounts = {"resident": ledger.account_for(world.residents[0]), "issuance": ledger.issuance(y)}
    with pytest.raises(InvalidInput) as exc:
        ledger.post(community=y, kind="grant", lines=[(accounts[k], n) for k, n in lines])
    assert exc.value.code == "unbalanced"
    assert Transaction.objects.count() == 0 and Posting.objects.count() == 0
    assert not Event.objects.filter(verb="points.posted").exists()


def test_an_account_of_another_community_is_refused(world, y):
    other = ledger.issuance(world.other_community)
    with pytest.raises(InvalidInput) as exc:
        ledger.post(community=y, kind="grant", lines=[(other, -5), (ledger.account_for(world.residents[0]), 5)])
    assert exc.value.code == "wrong_community"


def test_spending_beyond_the_balance_is_refused_by_the_database_and_the_callers_transaction_survives(world, y):
    alice, bob = ledger.account_for(world.residents[0]), ledger.account_for(world.residents[1])
    _grant(y, alice, 10)
    with transaction.atomic():
        with pytest.raises(Conflict) as exc:
            ledger.post(community=y, kind="gift", lines=[(alice, -11), (bob, 11)])
        assert exc.value.code == "insufficient_points" and exc.value.status == 409
        # The caller's transaction is still usable: the refusal was inside a savepoint.
        ledger.post(community=y, kind="gift", lines=[(alice, -10), (bob, 10)])
    assert _balances(alice, bob) == [0, 10]
    assert Transaction.objects.filter(kind="gift").count() == 1


def test_a_source_is_posted_once_per_kind(world, y):
    alice = ledger.account_for(world.residents[0])
    _grant(y, alice, 10, source=("volunteers.servicerecord", "7"))
    with pytest.raises(Conflict) as exc:
        _grant(y, alice, 10, source=("volunteers.servicerecord", "7"))
    assert exc.value.code == "already_posted"
    assert ledger.balance(alice) == 10
    # Another kind may name the same source (an expiry of what a grant gave).
    ledger.post(community=y, kind="adjustment", lines=[(alice, -1), (ledger.issuance(y), 1)],
                source=("volunteers.servicerecord", "7"))


def test_reverse_negates_and_is_refused_twice_and_for_reversals(world, y):
    alice = ledger.account_for(world.residents[0])
    grant = _grant(y, alice, 25)
    admin = world.users["admin"]
    with pytest.raises(InvalidInput) as exc:
        ledger.reverse(actor=admin, transaction=grant, reason="  ")
    assert exc.value.code == "reason_required"
    reversal = ledger.reverse(actor=admin, transaction=grant, reason="granted twice by mistake")
    assert (reversal.kind, reversal.reverses_id, reversal.memo) == ("reversal", grant.pk, "granted twice by mistake")
    assert _balances(alice, ledger.issuance(y)) == [0, 0]
    assert sorted(reversal.postings.values_list("amount", flat=True)) == [-25, 25]
    event = Event.objects.get(verb="points.reversed")
    assert event.data["reverses"] == grant.pk and event.data["total"] == 25
    with pytest.raises(Conflict) as exc:
        ledger.reverse(actor=admin, transaction=grant, reason="again")
    assert exc.value.code == "already_reversed"
    with pytest.raises(Conflict) as exc:
        ledger.reverse(actor=admin, transaction=reversal, reason="undo the undo")
    assert exc.value.code == "reversal_of_reversal"
    assert Transaction.objects.count() == 2


def test_reversing_spent_points_is_refused(world, y):
    alice, bob = ledger.account_for(world.residents[0]), ledger.account_for(world.residents[1])
    grant = _grant(y, alice, 10)
    ledger.post(community=y, kind="gift", lines=[(alice, -8), (bob, 8)])
    with pytest.raises(Conflict) as exc:
        ledger.reverse(actor=world.users["admin"], transaction=grant, reason="wrong person")
    assert exc.value.code == "insufficient_points"
    assert _balances(alice, bob) == [2, 8]


def test_statement_lines_and_running_balance(world, y):
    alice = ledger.account_for(world.residents[0])
    t0 = timezone.now() - dt.timedelta(days=10)
    _grant(y, alice, 10, at=t0, memo="first")
    _grant(y, alice, 5, at=t0 + dt.timedelta(days=2), memo="second")
    ledger.post(community=y, kind="redemption", lines=[(alice, -12), (ledger.pool(y), 12)],
                at=t0 + dt.timedelta(days=5), memo="lunch")
    lines = ledger.statement(alice)
    assert [(l.kind, l.amount, l.running_balance, l.memo) for l in lines] == [
        ("grant", 10, 10, "first"), ("grant", 5, 15, "second"), ("redemption", -12, 3, "lunch")]
    since = ledger.statement(alice, since=t0 + dt.timedelta(days=1))
    assert [(l.amount, l.running_balance) for l in since] == [(5, 15), (-12, 3)]
    until = ledger.statement(alice, until=t0 + dt.timedelta(days=5))
    assert [l.amount for l in until] == [10, 5]
    assert ledger.statement(ledger.account_for(world.residents[1])) == []


def test_post_bulk_posts_history_through_the_triggers(world, y):
    alice, bob = ledger.account_for(world.residents[0]), ledger.account_for(world.residents[1])
    issuance = ledger.issuance(y)
    t0 = timezone.now() - dt.timedelta(days=300)
    drafts = [ledger.Draft("grant", [(issuance, -20), (alice, 20)], t0, source=("demo.record", "1")),
              ledger.Draft("grant", [(issuance, -7), (bob, 7)], t0 + dt.timedelta(days=1)),
              ledger.Draft("gift", [(alice, -5), (bob, 5)], t0 + dt.timedelta(days=2), memo="thanks")]
    assert ledger.post_bulk(community=y, drafts=drafts) == 3
    assert _balances(alice, bob, issuance) == [15, 12, -27]
    assert Transaction.objects.filter(posted=True).count() == 3
    assert Event.objects.filter(verb="points.posted").count() == 3
    assert list(Transaction.objects.order_by("pk").values_list("effective_at", flat=True)) == [
        t0, t0 + dt.timedelta(days=1), t0 + dt.timedelta(days=2)]
    assert ledger.audit(y).ok


def test_post_bulk_refuses_an_unbalanced_draft_with_nothing_written(world, y):
    alice = ledger.account_for(world.residents[0])
    issuance = ledger.issuance(y)
    now = timezone.now()
    with pytest.raises(InvalidInput):
        ledger.post_bulk(community=y, drafts=[ledger.Draft("grant", [(issuance, -5), (alice, 5)], now),
                                              ledger.Draft("grant", [(issuance, -5), (alice, 6)], now)])
    assert Transaction.objects.count() == 0 and Posting.objects.count() == 0


def test_post_bulk_refuses_history_that_overdraws_with_nothing_written(world, y):
    alice, bob = ledger.account_for(world.residents[0]), ledger.account_for(world.residents[1])
    issuance = ledger.issuance(y)
    now = timezone.now()
    with pytest.raises(Conflict) as exc:
        ledger.post_bulk(community=y, drafts=[ledger.Draft("grant", [(issuance, -5), (alice, 5)], now),
                                              ledger.Draft("gift", [(alice, -6), (bob, 6)], now)])
    assert exc.value.code == "insufficient_points"
    assert Transaction.objects.count() == 0 and Posting.objects.count() == 0
    assert _balances(alice, bob, issuance) == [0, 0, 0]


# --- the office page -----------------------------------------------------------------------------


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_ledger_page_is_for_community_admins_only(world, y):
    _grant(y, ledger.account_for(world.residents[0]), 10)
    page = url("points:office_ledger", kwargs={"code": y.code})
    for name in ("worker", "secretary", "grid1", "supervisor", "resident", "unit_staff", "z_worker"):
        assert _client(world.users[name]).get(page).status_code == 403, name
    response = _client(world.users["admin"]).get(page)
    assert response.status_code == 200
    body = response.content.decode()
    assert "The ledger adds up" in body and "no-store" in response["Cache-Control"]
    # No resident's name on the page: accounts are numbers.
    assert str(world.residents[0].name) not in body


def test_reversal_from_the_office_page_needs_a_reason(world, y):
    alice = ledger.account_for(world.residents[0])
    grant = _grant(y, alice, 10)
    client = _client(world.users["admin"])
    page = url("points:office_reverse", kwargs={"code": y.code, "pk": grant.pk})
    assert client.get(page).status_code == 200
    response = client.post(page, {"reason": ""})
    assert response.status_code == 200 and ledger.balance(alice) == 10
    response = client.post(page, {"reason": "entered for the wrong volunteer"})
    assert response.status_code == 302
    assert ledger.balance(alice) == 0
    assert Transaction.objects.get(reverses=grant).memo == "entered for the wrong volunteer"
    # A worker cannot reverse.
    other = _grant(y, alice, 3)
    assert _client(world.users["worker"]).post(
        url("points:office_reverse", kwargs={"code": y.code, "pk": other.pk}), {"reason": "x"}).status_code == 403
    assert ledger.balance(alice) == 3
