"""Earning rules, multipliers, caps, the grant and the office rules page (docs/points.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from factories import PASSWORD
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.points import earning, ledger
from linli.points.models import EarningRule, Multiplier, Policy, Transaction

pytestmark = pytest.mark.django_db


def _at(days_ago=0, hour=10):
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_compute_points_rounds_down_once_after_the_multipliers():
    assert earning.compute_points(10, 90) == 15
    assert earning.compute_points(10, 90, [150]) == 22  # 22.5
    assert earning.compute_points(10, 59) == 9  # 9.83
    assert earning.compute_points(8, 60, [150, 130]) == 15  # 15.6
    assert earning.compute_points(12, 0) == 0


def test_points_for_uses_the_defaults(world):
    c = world.community
    assert earning.points_for(community=c, activity_type="visit", minutes=60) == 10
    assert earning.points_for(community=c, activity_type="escort", minutes=60, multipliers=[]) == 12
    assert earning.points_for(community=c, activity_type="event", minutes=120) == 12
    assert earning.points_for(community=c, activity_type="visit", minutes=60, multipliers=["night"]) == 15
    assert earning.points_for(community=c, activity_type="visit", minutes=60, multipliers=["night", "hard"]) == 19
    # A multiplier named twice counts once.
    assert earning.points_for(community=c, activity_type="visit", minutes=60, multipliers=["night", "night"]) == 15


def test_points_for_uses_the_communitys_rows(world):
    c = world.community
    EarningRule.objects.create(community=c, activity_type="visit", points_per_hour=20)
    Multiplier.objects.create(community=c, code="night", percent=200)
    assert earning.points_for(community=c, activity_type="visit", minutes=30, multipliers=["night"]) == 20
    # Another community keeps the defaults.
    assert earning.points_for(community=world.other_community, activity_type="visit", minutes=30) == 5


@pytest.mark.parametrize("kw, code", [
    ({"activity_type": "juggling", "minutes": 60}, "unknown_activity_type"),
    ({"activity_type": "visit", "minutes": -1}, "invalid_minutes"),
    ({"activity_type": "visit", "minutes": 60, "multipliers": ["moon"]}, "unknown_multiplier"),
])
def test_points_for_refuses_bad_input(world, kw, code):
    with pytest.raises(InvalidInput) as exc:
        earning.points_for(community=world.community, **kw)
    assert exc.value.code == code


def test_grant_moves_points_from_issuance_and_records_one_event(world):
    r = world.residents[0]
    txn = earning.grant(actor=world.users["secretary"], resident=r, points=12,
                        source=("volunteers.servicerecord", "1"), memo="visit")
    assert txn.kind == "grant" and txn.posted
    assert ledger.balance(ledger.account_for(r)) == 12
    assert ledger.balance(ledger.issuance(world.community)) == -12
    assert Event.objects.filter(verb="points.posted").count() == 1
    with pytest.raises(Conflict) as exc:
        earning.grant(actor=None, resident=r, points=5, source=("volunteers.servicerecord", "1"), memo="again")
    assert exc.value.code == "already_posted"
    assert ledger.balance(ledger.account_for(r)) == 12


def test_the_daily_cap_cuts_a_grant_to_what_is_left_then_grants_nothing(world):
    r = world.residents[0]
    at = _at(1)
    assert earning.grant(actor=None, resident=r, points=30, source=("t", "1"), memo="", at=at)
    second = earning.grant(actor=None, resident=r, points=30, source=("t", "2"), memo="", at=at)
    assert sum(p.amount for p in second.postings.all() if p.amount > 0) == 10
    assert earning.grant(actor=None, resident=r, points=5, source=("t", "3"), memo="", at=at) is None
    assert ledger.balance(ledger.account_for(r)) == 40
    assert not Transaction.objects.filter(source_id="3").exists()
    # The next day starts again.
    assert earning.grant(actor=None, resident=r, points=5, source=("t", "4"), memo="", at=_at(0))
    assert ledger.balance(ledger.account_for(r)) == 45


def test_the_yearly_cap_counts_the_local_calendar_year(world):
    r = world.residents[0]
    Policy.objects.create(community=world.community, daily_cap=40, yearly_cap=50)
    year = timezone.localdate().year - 1
    def day(month, d): return timezone.make_aware(dt.datetime(year, month, d, 12))
    earning.grant(actor=None, resident=r, points=40, source=("t", "a"), at=day(3, 1))
    cut = earning.grant(actor=None, resident=r, points=40, source=("t", "b"), at=day(3, 2))
    assert cut.postings.get(account=ledger.account_for(r)).amount == 10
    assert earning.grant(actor=None, resident=r, points=1, source=("t", "c"), at=day(12, 31)) is None
    assert earning.grant(actor=None, resident=r, points=1, source=("t", "d"),
                         at=timezone.make_aware(dt.datetime(year + 1, 1, 1, 0, 30)))


def test_a_reversed_grant_frees_the_cap(world):
    r = world.residents[0]
    at = _at(2)
    first = earning.grant(actor=None, resident=r, points=40, source=("t", "1"), at=at)
    ledger.reverse(actor=world.users["admin"], transaction=first, reason="wrong record")
    again = earning.grant(actor=None, resident=r, points=40, source=("t", "2"), at=at)
    assert again.postings.get(account=ledger.account_for(r)).amount == 40


def test_grant_refuses_points_that_are_not_positive_whole_numbers(world):
    for bad in (0, -3, 1.5, True):
        with pytest.raises(InvalidInput):
            earning.grant(actor=None, resident=world.residents[0], points=bad, source=("t", str(bad)))


# --- the office's writes and page --------------------------------------------------------------


def test_only_admins_change_rules_and_each_change_is_one_event(world):
    c = world.community
    for who in ("worker", "secretary", "grid1", "resident", "z_worker"):
        with pytest.raises(PermissionDenied):
            earning.rules_set(actor=world.users[who], community=c, per_hour={"visit": 20})
    earning.rules_set(actor=world.users["admin"], community=c, per_hour={"visit": 20, "escort": 14})
    earning.multipliers_set(actor=world.users["admin"], community=c, percents={"night": 175})
    earning.policy_set(actor=world.users["admin"], community=c, daily_cap=60)
    assert earning.rates(c)[0]["visit"] == 20
    assert earning.rates(c)[1]["night"] == 175
    assert Policy.objects.get(community=c).daily_cap == 60
    verbs = list(Event.objects.filter(verb__startswith="points.").values_list("verb", flat=True).order_by("id"))
    assert verbs == ["points.rules_changed", "points.multipliers_changed", "points.policy_changed"]


@pytest.mark.parametrize("call, code", [
    (lambda a, c: earning.rules_set(actor=a, community=c, per_hour={"visit": 1000}), "invalid_rule"),
    (lambda a, c: earning.rules_set(actor=a, community=c, per_hour={"juggling": 5}), "unknown_activity_type"),
    (lambda a, c: earning.multipliers_set(actor=a, community=c, percents={"night": 50}), "invalid_multiplier"),
    (lambda a, c: earning.policy_set(actor=a, community=c, daily_cap=500, yearly_cap=100), "invalid_policy"),
    (lambda a, c: earning.policy_set(actor=a, community=c, gift_max=400), "invalid_policy"),
    (lambda a, c: earning.policy_set(actor=a, community=c, expiry_months=1, expiry_notice_days=60), "invalid_policy"),
    (lambda a, c: earning.policy_set(actor=a, community=c, colour=3), "unknown_setting"),
])
def test_bad_rules_are_refused_and_nothing_changes(world, call, code):
    with pytest.raises(InvalidInput) as exc:
        call(world.users["admin"], world.community)
    assert exc.value.code == code
    assert not Event.objects.filter(verb__startswith="points.").exists()
    assert not EarningRule.objects.exists() and not Multiplier.objects.exists() and not Policy.objects.exists()


def _client(client, world, who):
    client.login(username=world.users[who].username, password=PASSWORD)
    return client


def test_the_rules_page_saves_for_the_admin_and_refuses_bad_input_in_words(client, world):
    c = _client(client, world, "admin")
    url = f"/points/{world.community.code}/office/rules"
    page = c.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b"Points per hour of service" in page.content
    data = {"section": "rules", **{f"rules-rule_{code}": v for code, v in earning.DEFAULT_RULES.items()}}
    data["rules-rule_visit"] = "15"
    assert c.post(url, data).status_code == 302
    assert EarningRule.objects.get(community=world.community, activity_type="visit").points_per_hour == 15
    data["rules-rule_visit"] = "9999"
    bad = c.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 200 and b"less than or equal to 200" in bad.content
    policy = {"section": "policy", "policy-daily_cap": "500", "policy-yearly_cap": "100", "policy-expiry_months": "24",
              "policy-expiry_notice_days": "30", "policy-gift_max": "100", "policy-gift_month_max": "300"}
    bad = c.post(url, policy, HTTP_ACCEPT_LANGUAGE="en")
    assert b"The daily cap cannot be above the yearly cap." in bad.content
    assert not Policy.objects.exists()


@pytest.mark.parametrize("who, get_status, post_status", [
    ("worker", 200, 403), ("secretary", 200, 403), ("supervisor", 200, 403),
    ("grid1", 403, 403), ("resident", 403, 403), ("unit_staff", 403, 403), ("z_worker", 403, 403),
])
def test_who_reads_and_who_changes_the_rules(client, world, who, get_status, post_status):
    c = _client(client, world, who)
    url = f"/points/{world.community.code}/office/rules"
    assert c.get(url).status_code == get_status
    assert c.post(url, {"section": "multipliers", "mult-mult_night": "200", "mult-mult_weather": "150",
                        "mult-mult_hard": "130"}).status_code == post_status
    assert not Multiplier.objects.exists()


def test_the_rules_page_needs_a_sign_in(client, world):
    with translation.override("en"):
        assert client.get(f"/points/{world.community.code}/office/rules").status_code == 302
