"""Expiry of points: FIFO lots (a property test), the daily job, the notice (docs/points.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.models import Event
from linli.points import earning, expiry, ledger
from linli.points.expiry import add_months, due, lots
from linli.points.models import NoticeSent, Policy, Transaction
from linli.points.notifications_earn import messages as expiry_messages

MONTHS = 24
START = dt.date(2024, 1, 1)


# --- pure ------------------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 15), 2) == dt.date(2025, 1, 15)
    assert add_months(dt.date(2024, 2, 29), 24) == dt.date(2026, 2, 28)


def test_debits_spend_the_oldest_lot_first():
    moves = [(dt.date(2024, 1, 1), 10), (dt.date(2024, 6, 1), 10), (dt.date(2024, 7, 1), -4)]
    left = lots(moves, months=MONTHS)
    assert [(lot.credited_on, lot.points) for lot in left] == [(dt.date(2024, 1, 1), 6), (dt.date(2024, 6, 1), 10)]
    assert due(moves, months=MONTHS, on=dt.date(2026, 1, 1)) == 6
    assert due(moves, months=MONTHS, on=dt.date(2025, 12, 31)) == 0
    assert due(moves, months=MONTHS, on=dt.date(2026, 6, 1)) == 16


@st.composite
def histories(draw):
    """Movements of a resident's account: credits, and debits never beyond the balance."""
    moves = []
    balance = 0
    day = START
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        day += dt.timedelta(days=draw(st.integers(min_value=0, max_value=60)))
        if balance and draw(st.booleans()):
            amount = -draw(st.integers(min_value=1, max_value=balance))
        else:
            amount = draw(st.integers(min_value=1, max_value=30))
        balance += amount
        moves.append((day, amount))
    on = day + dt.timedelta(days=draw(st.integers(min_value=0, max_value=900)))
    return moves, on


def _unit_model(moves, months, on):
    """An independent model: every point a coin stamped with its day, spent from the front."""
    coins = []
    for day, amount in moves:
        if amount > 0:
            coins.extend([day] * amount)
        else:
            del coins[:-amount]
    return coins, sum(1 for day in coins if add_months(day, months) <= on)


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(min_value=1, max_value=36))
def test_expiry_is_fifo_never_negative_and_never_takes_points_inside_the_window(history, months):
    moves, on = history
    balance = sum(amount for _day, amount in moves)
    coins, expected_due = _unit_model(moves, months, on)
    points = due(moves, months=months, on=on)
    # FIFO: the same as spending the oldest coin first.
    assert points == expected_due
    left = lots(moves, months=months)
    assert sum(lot.points for lot in left) == balance == len(coins)
    # Never negative.
    assert 0 <= points <= balance
    # Never a point earned inside the window: after expiring, every lot not yet due is whole as
    # it was, and nothing due remains.
    after = lots(moves + [(on, -points)], months=months)
    inside_before = [(lot.credited_on, lot.points) for lot in left if lot.expires_on > on]
    inside_after = [(lot.credited_on, lot.points) for lot in after if lot.expires_on > on]
    assert inside_after == inside_before
    assert due(moves + [(on, -points)], months=months, on=on) == 0
    assert sum(lot.points for lot in after) == balance - points >= 0


# --- the ledger ------------------------------------------------------------------------------


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _grant(resident, points, day, n):
    return earning.grant(actor=None, resident=resident, points=points, source=("test.expiry", str(n)),
                         memo="", at=_at(day))


@pytest.mark.django_db
def test_expire_due_moves_only_the_old_points_to_the_expiry_account_once(world):
    resident = world.residents[0]
    today = timezone.localdate()
    old_day = add_months(today, -MONTHS) - dt.timedelta(days=3)
    _grant(resident, 30, old_day, 1)
    _grant(resident, 20, today - dt.timedelta(days=10), 2)
    account = ledger.account_for(resident)
    assert ledger.balance(account) == 50

    assert expiry.expiring(account)[0] == (add_months(old_day, MONTHS), 30)
    assert expiry.expire_due(community=world.community) == 30
    account.refresh_from_db()
    assert account.balance == 20
    assert ledger.balance(ledger.expiry_account(world.community)) == 30
    txn = Transaction.objects.get(kind="expiry")
    assert txn.source_type == "points.expiry"
    # A second run the same day finds nothing due and moves nothing.
    assert expiry.expire_due(community=world.community) == 0
    assert Transaction.objects.filter(kind="expiry").count() == 1
    assert ledger.audit(world.community).ok


@pytest.mark.django_db
def test_a_redemption_spends_the_oldest_points_so_less_expires(world):
    resident = world.residents[0]
    today = timezone.localdate()
    _grant(resident, 30, add_months(today, -MONTHS) - dt.timedelta(days=40), 1)
    _grant(resident, 25, today - dt.timedelta(days=5), 2)
    account = ledger.account_for(resident)
    pool = ledger.pool(world.community)
    ledger.post(community=world.community, kind="adjustment", lines=[(account, -20), (pool, 20)],
                at=_at(add_months(today, -MONTHS) - dt.timedelta(days=35)))
    assert expiry.expire_due(community=world.community) == 10
    account.refresh_from_db()
    assert account.balance == 25


@pytest.mark.django_db
def test_the_notice_is_sent_once_per_month_of_expiry_and_reaches_only_the_resident(world):
    resident = world.residents[0]  # linked to the "resident" account
    Policy.objects.create(community=world.community, expiry_notice_days=30)
    today = timezone.localdate()
    _grant(resident, 12, add_months(today, -MONTHS) + dt.timedelta(days=10), 1)
    _grant(world.residents[1], 9, today - dt.timedelta(days=3), 2)  # nothing expiring soon
    assert expiry.notify_expiring(community=world.community) == 1
    assert expiry.notify_expiring(community=world.community) == 0
    assert NoticeSent.objects.count() == 1
    event = Event.objects.get(verb="points.expiry_noticed")
    assert event.data["points"] == 12
    [(_event, message)] = list(expiry_messages([event]))
    assert list(message.user_ids) == [world.users["resident"].pk]
    assert message.url == "/points/me"


@pytest.mark.django_db
def test_the_jobs_are_registered_and_run(world):
    from linli.core import registry

    names = {job.name for job in registry.jobs()}
    assert {"points.expire", "points.expiry_notice"} <= names
    _grant(world.residents[0], 5, add_months(timezone.localdate(), -MONTHS) - dt.timedelta(days=1), 1)
    assert expiry.expire_job() == {"expired": 5}
    assert expiry.notice_job() == {"notices": 0}
