"""Who the canteen helps (linli/canteen/eligibility.py): criteria from the registry — birth year,
one-person households, fact tags by code AND by name, confirmed need tags — delivery by criteria
or by a permit, and the eligible population in one SQL query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.canteen import canteens, eligibility
from linli.canteen.models import DeliveryPermit
from linli.community.models import HouseholdNeed, NeedCategory
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event

from canteen_menu_helpers import household, make_canteen, person, tag

ON = dt.date(2026, 6, 1)


@pytest.fixture
def canteen(world):
    return make_canteen(world)


def test_age_bands_count_by_birth_year(world):
    r = person(world, born=1946, hh=household(world))
    person(world, born=1990, hh=r.household)  # not alone
    assert eligibility.criteria_met(r, on=ON) == {"age_60", "age_70", "age_80"}
    young = person(world, born=1967)
    assert eligibility.criteria_met(young, on=ON) == set()
    assert "age_60" in eligibility.criteria_met(young, on=dt.date(2027, 1, 1))


def test_one_person_household_of_60_plus_is_an_alone_elder(world):
    alone = person(world, born=1960)
    assert "alone_elder" in eligibility.criteria_met(alone, on=ON)
    hh = household(world)
    couple = person(world, born=1950, hh=hh)
    person(world, born=1952, hh=hh, relation="spouse")
    assert "alone_elder" not in eligibility.criteria_met(couple, on=ON)
    young_single = person(world, born=1990)
    assert "alone_elder" not in eligibility.criteria_met(young_single, on=ON)


def test_alone_elder_tag_matches_by_code_and_by_name(world):
    hh = household(world)
    by_code = person(world, born=1985, hh=hh, tags=[tag(world, "alone-elder", "独居老人")])
    person(world, born=1988, hh=hh)
    assert "alone_elder" in eligibility.criteria_met(by_code, on=ON)
    hh2 = household(world)
    # An import derived another code from the name: the name still counts.
    by_name = person(world, born=1985, hh=hh2, tags=[tag(world, "du-ju-lao-ren", "独居老人")])
    person(world, born=1988, hh=hh2)
    assert "alone_elder" in eligibility.criteria_met(by_name, on=ON)


def test_disabled_low_income_tekun_by_code_and_name(world):
    d1 = person(world, born=1990, tags=[tag(world, "disabled", "残疾")])
    d2 = person(world, born=1990, tags=[tag(world, "can-ji-ren", "残疾人")])
    assert "disabled" in eligibility.criteria_met(d1, on=ON)
    assert "disabled" in eligibility.criteria_met(d2, on=ON)
    low1 = person(world, born=1990, tags=[tag(world, "dibao", "低保对象")])
    low2 = person(world, born=1990, tags=[tag(world, "di-bao-hu", "低保户")])
    assert eligibility.criteria_met(low1, on=ON) == {"low_income"}
    assert eligibility.criteria_met(low2, on=ON) == {"low_income"}
    tk = person(world, born=1990, tags=[tag(world, "te-kun", "特困人员")])
    assert eligibility.criteria_met(tk, on=ON) == {"tekun"}
    other = person(world, born=1990, tags=[tag(world, "party", "党员")])
    assert eligibility.criteria_met(other, on=ON) == set()


def test_low_income_is_the_households(world):
    hh = household(world)
    person(world, born=1970, hh=hh, tags=[tag(world, "low-income", "低收入户")])
    child = person(world, born=2010, hh=hh, relation="child")
    assert "low_income" in eligibility.criteria_met(child, on=ON)
    # Disability is the person's own, not the household's.
    person(world, born=1971, hh=hh, tags=[tag(world, "disabled", "残疾人")])
    assert "disabled" not in eligibility.criteria_met(child, on=ON)


def _need(world, hh, status):
    cat = NeedCategory.objects.get_or_create(community=world.community, code="elderly-care",
                                             defaults={"name_zh": "养老照护", "name_en": "Elderly care"})[0]
    from django.utils import timezone
    return HouseholdNeed.objects.create(community=world.community, household=hh, category=cat, source="staff",
                                        status=status, assigned_at=timezone.now())


def test_confirmed_elderly_care_need_of_a_one_person_household(world):
    single = person(world, born=1975)           # 51: no age rule makes them an alone elder
    assert "alone_elder" not in eligibility.criteria_met(single, on=ON)
    need = _need(world, single.household, HouseholdNeed.Status.SUGGESTED)
    assert "alone_elder" not in eligibility.criteria_met(single, on=ON)  # suggested is not enough
    HouseholdNeed.objects.filter(pk=need.pk).update(status=HouseholdNeed.Status.CONFIRMED)
    assert "alone_elder" in eligibility.criteria_met(single, on=ON)
    hh = household(world)
    pair = person(world, born=1975, hh=hh)
    person(world, born=1976, hh=hh)
    _need(world, hh, HouseholdNeed.Status.CONFIRMED)
    assert "alone_elder" not in eligibility.criteria_met(pair, on=ON)   # two people live there


def test_delivery_allowed_by_criteria_or_permit(world, canteen):
    hh = household(world)
    old = person(world, born=1940, hh=hh)
    person(world, born=1980, hh=hh)
    assert eligibility.delivery_allowed(canteen, old, on=ON) == (True, "age_80")
    hh2 = household(world)
    seventy = person(world, born=1954, hh=hh2)
    person(world, born=1980, hh=hh2)
    assert eligibility.delivery_allowed(canteen, seventy, on=ON) == (False, "not_eligible")
    canteens.canteen_update(actor=world.users["admin"], canteen=canteen, delivery_criteria=["age_70"])
    canteen.refresh_from_db()
    assert eligibility.delivery_allowed(canteen, seventy, on=ON) == (True, "age_70")
    assert eligibility.delivery_allowed(canteen, world.other_resident, on=ON) == (False, "other_community")


def test_permit_grant_revoke_and_expiry(world, canteen):
    from django.utils import timezone

    today = timezone.localdate()
    r = person(world, born=1990, hh=household(world))
    person(world, born=1991, hh=r.household)
    assert eligibility.delivery_allowed(canteen, r, on=today) == (False, "not_eligible")
    permit = eligibility.permit_grant(actor=world.users["worker"], canteen=canteen, resident=r,
                                      reason="recovering from an operation", until=today + dt.timedelta(days=10))
    assert eligibility.delivery_allowed(canteen, r, on=today) == (True, "permit")
    assert eligibility.delivery_allowed(canteen, r, on=today + dt.timedelta(days=11)) == (False, "not_eligible")
    assert r in eligibility.eligible_residents(canteen, on=today)
    with pytest.raises(InvalidInput) as exc:
        eligibility.permit_grant(actor=world.users["worker"], canteen=canteen, resident=r, reason="again")
    assert exc.value.code == "duplicate"
    eligibility.permit_revoke(actor=world.users["worker"], permit=permit)
    assert eligibility.delivery_allowed(canteen, r, on=today) == (False, "not_eligible")
    verbs = list(Event.objects.filter(verb__startswith="canteen.permit_").values_list("verb", flat=True))
    assert sorted(verbs) == ["canteen.permit_granted", "canteen.permit_revoked"]
    assert all("reason" not in e.data for e in Event.objects.filter(verb="canteen.permit_granted"))


def test_permits_are_the_offices(world, canteen):
    r = person(world, born=1990)
    for who in ("chef", "grid1", "supervisor", "resident", "z_worker"):
        with pytest.raises(PermissionDenied):
            eligibility.permit_grant(actor=world.users[who], canteen=canteen, resident=r, reason="x")
    with pytest.raises(PermissionDenied):
        eligibility.permit_grant(actor=world.users["worker"], canteen=canteen, resident=world.other_resident,
                                 reason="x")
    with pytest.raises(InvalidInput):
        eligibility.permit_grant(actor=world.users["worker"], canteen=canteen, resident=r, reason="  ")
    assert not DeliveryPermit.objects.exists()


def test_eligible_residents_agrees_with_criteria_met_in_one_query(world, canteen):
    person(world, born=1944)                                    # age_80 + alone
    person(world, born=1990, tags=[tag(world, "can-ji", "残疾人")])
    person(world, born=1962)                                    # alone elder (64)
    hh = household(world)
    person(world, born=1955, hh=hh)                             # 71, not alone: not eligible
    person(world, born=1956, hh=hh)
    from linli.community.models import Resident

    with CaptureQueriesContext(connection) as ctx:
        eligible = set(eligibility.eligible_residents(canteen, on=ON).values_list("pk", flat=True))
    assert len(ctx.captured_queries) == 1
    expected = {r.pk for r in Resident.objects.filter(community=world.community)
                if set(canteen.delivery_criteria) & eligibility.criteria_met(r, on=ON)}
    assert eligible == expected
    assert len(eligible) >= 3


def test_unknown_criterion_is_refused():
    with pytest.raises(InvalidInput):
        eligibility.criterion_q("age_65", 1, ON)
