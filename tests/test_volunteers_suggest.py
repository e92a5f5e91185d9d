"""Suggested volunteers: each factor (skill, walking distance, availability, fairness) moves the
order; fairness spreads the work; the score is monotone in each factor (docs/volunteers.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.volunteers import activities, skills as vocab, suggest
from linli.volunteers.models import ServiceRecord

from volunteer_activity_helpers import make_activity, volunteer_for

WANTED = frozenset({"visiting"})


def facts(key, **kw):
    base = dict(skills=frozenset({"visiting"}), walk_minutes=5.0, available=True, recent_minutes=0, order=(0, key))
    base.update(kw)
    return suggest.Facts(key=key, **base)


def order(cands, wanted=WANTED):
    return [s.volunteer for s in suggest.rank(wanted=wanted, candidates=cands)]


# --- the pure ranking ------------------------------------------------------------------------------


def test_walking_minutes_is_haversine_times_1_3_at_80_m_a_minute():
    # One hundredth of a degree of latitude is 1,111.95 m on the sphere of 6,371 km.
    m = suggest.walking_minutes((30.0, 104.0), (30.01, 104.0))
    assert m == pytest.approx(1111.95 * 1.3 / 80, rel=1e-4)
    assert suggest.walking_minutes(None, (30.0, 104.0)) is None


def test_identical_candidates_keep_the_tie_break_order():
    assert order([facts("b", order=(2,)), facts("a", order=(1,))]) == ["a", "b"]


def test_skill_moves_the_order():
    assert order([facts("a", skills=frozenset()), facts("b")]) == ["b", "a"]
    # A share of the skills asked counts: two of two before one of two.
    two = frozenset({"escort", "driving"})
    assert order([facts("a", skills=frozenset({"driving"})), facts("b", skills=two)], wanted=two) == ["b", "a"]


def test_distance_moves_the_order():
    assert order([facts("far", walk_minutes=25.0), facts("near", walk_minutes=3.0)]) == ["near", "far"]
    # Unknown sits between near and far.
    assert order([facts("far", walk_minutes=29.0), facts("unknown", walk_minutes=None),
                  facts("near", walk_minutes=1.0)]) == ["near", "unknown", "far"]


def test_availability_moves_the_order():
    assert order([facts("busy", available=False), facts("free")]) == ["free", "busy"]


def test_fairness_moves_the_order():
    assert order([facts("tired", recent_minutes=20 * 60), facts("fresh", recent_minutes=60)]) == ["fresh", "tired"]


def test_fairness_spreads_the_work():
    """Filling one place at a time and counting the hours served, six equal volunteers share
    twelve two-hour activities two each: nobody is asked a third time before everyone twice."""
    served = {k: 0 for k in "abcdef"}
    for _ in range(12):
        best = order([facts(k, recent_minutes=m, order=(k,)) for k, m in served.items()])[0]
        served[best] += 120
    assert set(served.values()) == {240}


def test_reasons_are_words():
    with translation.override("en"):
        s = suggest.rank(wanted=WANTED, candidates=[facts("a", walk_minutes=6.4, recent_minutes=150)],
                         half_day_label="Saturday morning")[0]
    assert s.reasons == ["Has the skills asked for: Visiting and chatting.", "About 6 minutes' walk away.",
                         "Usually free then (Saturday morning).", "Served about 2 hours in the last 90 days."]
    assert 0 < s.score <= 100


def test_limit():
    assert len(suggest.rank(wanted=WANTED, candidates=[facts(i) for i in range(30)], limit=10)) == 10


skill_sets = st.frozensets(st.sampled_from(vocab.SKILL_CODES), max_size=4)
minutes = st.one_of(st.none(), st.floats(min_value=0, max_value=120, allow_nan=False))
served = st.integers(min_value=0, max_value=200 * 60)


@settings(max_examples=200, deadline=None)
@given(wanted=skill_sets, has=skill_sets, extra=skill_sets, walk=minutes, shorter=st.floats(0, 60),
       available=st.booleans(), recent=served, less=st.integers(0, 200 * 60))
def test_score_is_monotone_in_each_factor(wanted, has, extra, walk, shorter, available, recent, less):
    base = facts("x", skills=has, walk_minutes=walk, available=available, recent_minutes=recent)
    s = suggest.score(wanted=wanted, facts=base)
    more_skills = facts("x", skills=has | extra, walk_minutes=walk, available=available, recent_minutes=recent)
    assert suggest.score(wanted=wanted, facts=more_skills) >= s
    if walk is not None:
        nearer = facts("x", skills=has, walk_minutes=max(0.0, walk - shorter), available=available,
                       recent_minutes=recent)
        assert suggest.score(wanted=wanted, facts=nearer) >= s
    free = facts("x", skills=has, walk_minutes=walk, available=True, recent_minutes=recent)
    assert suggest.score(wanted=wanted, facts=free) >= s
    rested = facts("x", skills=has, walk_minutes=walk, available=available, recent_minutes=max(0, recent - less))
    assert suggest.score(wanted=wanted, facts=rested) >= s


# --- from the rows ---------------------------------------------------------------------------------


@pytest.fixture
def placed(world):
    """Courtyard G01 beside the activity, G02 about 19 minutes' walk away."""
    g1, g2 = world.grids
    g1.latitude, g1.longitude = 30.7000, 104.0500
    g2.latitude, g2.longitude = 30.7100, 104.0500
    g1.save()
    g2.save()
    return world


def saturday_morning(weeks_ahead=1):
    now = timezone.localtime(timezone.now())
    days = (5 - now.weekday()) % 7 + 7 * weeks_ahead
    return (now + dt.timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def test_suggest_from_rows_each_factor(placed):
    w = placed
    a = make_activity(w, starts_at=saturday_morning(), grid=w.grids[0], skills=["visiting"])
    r = w.residents
    near_all = volunteer_for(r[0], skills=["visiting"], availability=["sat_am"], grid=w.grids[0])
    no_skill = volunteer_for(r[1], skills=["repair"], availability=["sat_am"], grid=w.grids[0])
    far = volunteer_for(r[2], skills=["visiting"], availability=["sat_am"], grid=w.grids[1])
    not_free = volunteer_for(r[3], skills=["visiting"], availability=["mon_pm"], grid=w.grids[0])
    tired = volunteer_for(r[4], skills=["visiting"], availability=["sat_am"], grid=w.grids[0])
    past = make_activity(w, starts_at=timezone.now() + dt.timedelta(days=20), grid=w.grids[0])
    ServiceRecord.objects.create(activity=past, volunteer=tired, check_in_at=timezone.now() - dt.timedelta(days=10),
                                 minutes=30 * 60, status="approved")
    # Hours served before the 90 days do not count.
    ServiceRecord.objects.create(activity=a, volunteer=near_all, check_in_at=timezone.now() - dt.timedelta(days=100),
                                 minutes=50 * 60, status="approved")
    got = suggest.suggest(a)
    ranked = [s.volunteer for s in got]
    assert ranked[0] == near_all
    for other in (no_skill, far, not_free, tired):
        assert ranked.index(near_all) < ranked.index(other)
    with translation.override("en"):
        reasons = {s.volunteer.pk: s.reasons for s in suggest.suggest(a)}
    assert any("19 minutes" in x or "18 minutes" in x for x in reasons[far.pk])
    assert "Saturday morning" in reasons[near_all.pk][2]
    assert reasons[tired.pk][3] == "Served about 30 hours in the last 90 days."


def test_suggest_leaves_out_who_cannot_come(world):
    a = make_activity(world)
    r = world.residents
    signed = volunteer_for(r[0])
    activities.signup(actor=signed.resident.user, activity=a, volunteer=signed)
    volunteer_for(r[1], status="paused")
    volunteer_for(world.other_resident)
    ok = volunteer_for(r[2])
    assert [s.volunteer for s in suggest.suggest(a)] == [ok]
