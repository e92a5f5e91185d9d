"""Meal subsidies (linli/canteen/subsidies.py): the best rule met, rounding down to the fen, at most
``max_meals_per_day`` subsidised orders a day, one portion per order, and the month's claim."""

from __future__ import annotations

import datetime as dt

import pytest

from linli.canteen import subsidies
from linli.canteen.models import SubsidyRule
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event

from canteen_menu_helpers import household, make_canteen, meal, order, person, tag

DAY = dt.date(2026, 6, 1)


@pytest.fixture
def canteen(world):
    c = make_canteen(world)
    admin = world.users["admin"]
    subsidies.rule_set(actor=admin, canteen=c, criterion="age_80", percent=50)
    subsidies.rule_set(actor=admin, canteen=c, criterion="low_income", percent=100)
    subsidies.rule_set(actor=admin, canteen=c, criterion="disabled", percent=50)
    return c


def test_no_rule_met_pays_full_price(world, canteen):
    r = person(world, born=1990)
    s = subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=2, on=DAY)
    assert s == subsidies.Subsidy("", 0, 0, 2400)


def test_the_best_rule_applies(world, canteen):
    r = person(world, born=1940, tags=[tag(world, "di-bao", "低保")])     # age_80 (50) and low_income (100)
    s = subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY)
    assert (s.criterion, s.percent, s.subsidy_fen, s.payable_fen) == ("low_income", 100, 1200, 0)
    SubsidyRule.objects.filter(canteen=canteen, criterion="low_income").update(active=False)
    s = subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY)
    assert (s.criterion, s.percent, s.subsidy_fen, s.payable_fen) == ("age_80", 50, 600, 600)


def test_percent_rounds_down_to_the_fen(world, canteen):
    subsidies.rule_set(actor=world.users["admin"], canteen=canteen, criterion="age_80", percent=33)
    r = person(world, born=1940)
    s = subsidies.subsidy_for(canteen, r, price_fen=1001, quantity=1, on=DAY)
    assert s.subsidy_fen == 330          # 330.33 → 330
    assert s.payable_fen == 671
    s = subsidies.subsidy_for(canteen, r, price_fen=999, quantity=1, on=DAY)
    assert (s.subsidy_fen, s.payable_fen) == (329, 670)   # 329.67 → 329, never up


def test_one_portion_per_order_is_subsidised(world, canteen):
    r = person(world, born=1940)
    s = subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=3, on=DAY)
    assert (s.subsidy_fen, s.payable_fen) == (600, 3000)


def test_max_meals_per_day(world, canteen):
    r = person(world, born=1940)
    lunch = meal(canteen, day=DAY, kind="lunch")
    dinner = meal(canteen, day=DAY, kind="dinner")
    first = order(lunch, r, subsidy_fen=600, criterion="age_80")
    s = subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY)
    assert s.subsidy_fen == 0 and s.payable_fen == 1200       # one a day by default
    assert subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1,
                                 on=DAY + dt.timedelta(days=1)).subsidy_fen == 600   # tomorrow: again
    subsidies.rule_set(actor=world.users["admin"], canteen=canteen, criterion="age_80", percent=50,
                       max_meals_per_day=2)
    assert subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY).subsidy_fen == 600
    order(dinner, r, subsidy_fen=600, criterion="age_80")
    assert subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY).subsidy_fen == 0
    # A cancelled order gives its subsidised meal back.
    first.status = "cancelled"
    first.save()
    assert subsidies.subsidy_for(canteen, r, price_fen=1200, quantity=1, on=DAY).subsidy_fen == 600


def test_rule_set_validates_and_records(world, canteen):
    admin = world.users["admin"]
    for bad in ({"criterion": "age_65", "percent": 50}, {"criterion": "age_80", "percent": 101},
                {"criterion": "age_80", "percent": -1}, {"criterion": "age_80", "percent": 50, "max_meals_per_day": 0}):
        with pytest.raises(InvalidInput):
            subsidies.rule_set(actor=admin, canteen=canteen, **bad)
    for who in ("chef", "supervisor", "grid1", "resident", "z_worker"):
        with pytest.raises(PermissionDenied):
            subsidies.rule_set(actor=world.users[who], canteen=canteen, criterion="age_80", percent=10)
    assert SubsidyRule.objects.get(canteen=canteen, criterion="age_80").percent == 50
    assert Event.objects.filter(verb="canteen.rule_set").count() == 3


def test_price_and_quantity_must_be_positive_integers(world, canteen):
    r = person(world, born=1940)
    for price, qty in ((0, 1), (-100, 1), (12.5, 1), (1200, 0)):
        with pytest.raises(InvalidInput):
            subsidies.subsidy_for(canteen, r, price_fen=price, quantity=qty, on=DAY)


def test_claim_totals_by_criterion(world, canteen):
    old = person(world, born=1940)
    poor = person(world, born=1990, hh=household(world), tags=[tag(world, "dibao", "低保户")])
    young = person(world, born=1990)
    days = [DAY, DAY + dt.timedelta(days=1)]
    for day in days:
        m = meal(canteen, day=day)
        order(m, old, status="served", subsidy_fen=600, criterion="age_80")
        order(m, poor, status="delivered", delivery=True, subsidy_fen=1200, criterion="low_income")
        order(m, young, status="served")                      # no subsidy: not in the claim
    other_month = meal(canteen, day=dt.date(2026, 7, 1))
    order(other_month, old, status="served", subsidy_fen=600, criterion="age_80")
    cancelled = meal(canteen, day=DAY, kind="dinner")
    order(cancelled, old, status="cancelled", subsidy_fen=600, criterion="age_80")
    pending = meal(canteen, day=DAY + dt.timedelta(days=2))
    order(pending, poor, status="ordered", subsidy_fen=1200, criterion="low_income")
    data = subsidies.claim(canteen, 2026, 6)
    by = {b["criterion"]: b for b in data["by_criterion"]}
    assert by["age_80"]["orders"] == 2 and by["age_80"]["subsidy_fen"] == 1200
    assert by["low_income"]["orders"] == 2 and by["low_income"]["subsidy_fen"] == 2400
    assert data["subsidy_fen"] == 3600 and data["orders"] == 4
    assert len(data["rows"]) == 4
    with pytest.raises(InvalidInput):
        subsidies.claim(canteen, 2026, 13)
