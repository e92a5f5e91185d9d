"""The demo's case history (linli.demo.case_lives, case_writer): deterministic, and every case
lived by the rules of the one state machine, the time limits and the deadline job."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone, translation

from linli.cases import deadlines
from linli.cases.defaults import install_default_categories
from linli.cases.jobs import WATCHED_STATUSES, run_tick
from linli.cases.models import Case, Category, Holiday
from linli.cases.services import time_limit_for
from linli.cases.workflow import move_by_verb
from linli.community.models import Community
from linli.core.events import _FORBIDDEN_KEYS
from linli.core.models import Event
from linli.demo.case_lives import SPRING_FESTIVAL, HistoryError, _History
from linli.demo.case_texts import THEMES
from linli.demo.case_writer import build_case_history

S = Case.Status
END = timezone.make_aware(dt.datetime(2025, 7, 20, 16, 0))
DAYS = 30
PER_DAY = 20
JOB_VERBS = {"case.reminded", "case.marked_overdue", "case.escalated"}


def build(world, seed=7, **extra):
    options = {"days": DAYS, "end": END, "per_day": PER_DAY, **extra}
    return build_case_history(community=world.community, seed=seed, **options)


def cases_of(world):
    return list(Case.objects.filter(community=world.community).select_related("master").order_by("created_at", "pk"))


def events_by_case():
    by_case: dict[str, list[Event]] = {}
    for e in Event.objects.filter(target_type="cases.case").order_by("created_at", "pk"):
        by_case.setdefault(e.target_id, []).append(e)
    return by_case


def snapshot(world):
    cases = list(Case.objects.filter(community=world.community).order_by("number").values_list(
        "number", "channel", "status", "urgency", "description", "category__code", "grid__code", "place",
        "reporter_id", "unit_id", "first_unit_id", "created_at", "accepted_at", "dispatched_at", "first_contact_at",
        "resolved_at", "closed_at", "response_due", "resolve_due", "rating", "rating_comment", "reopen_count",
        "return_count", "master__number", "response_overdue", "resolve_overdue", "escalation", "resolution",
        "reject_reason", "needs_triage"))
    contacts = [(c.contact_name.reveal() if c.contact_name else None,
                 c.contact_phone.reveal() if c.contact_phone else None)
                for c in Case.objects.filter(community=world.community).order_by("number")]
    events = list(Event.objects.filter(target_type="cases.case").order_by("created_at", "pk").values_list(
        "verb", "created_at", "data", "actor_label", "grid_id"))
    return cases, contacts, events


# --- determinism -------------------------------------------------------------------------

def test_the_same_seed_writes_the_same_history_and_another_seed_another(world):
    install_default_categories(actor=None, community=world.community)

    def written(seed):
        sid = transaction.savepoint()
        build(world, seed=seed)
        snap = snapshot(world)
        transaction.savepoint_rollback(sid)
        assert not Case.objects.exists()
        return snap

    first, again, other = written(7), written(7), written(8)
    assert first == again
    assert len(first[0]) > 400
    assert [c[4] for c in first[0]] != [c[4] for c in other[0]]


# --- the state machine --------------------------------------------------------------------

def test_every_case_s_events_replay_its_status_in_time_order(world):
    build(world)
    by_case = events_by_case()
    for case in cases_of(world):
        events = by_case[str(case.pk)]
        assert events[0].verb == "case.submitted"
        assert events[0].created_at == case.created_at
        assert events[0].data["number"] == case.number
        times = [e.created_at for e in events]
        assert times == sorted(times) and len(set(times)) == len(times), case.number
        assert times[-1] <= END
        status = S.SUBMITTED
        for e in events[1:]:
            assert e.data["number"] == case.number
            if e.verb in JOB_VERBS:
                # The response clock runs from receipt: a case waiting to be accepted is watched too.
                assert status in WATCHED_STATUSES, (case.number, e.verb, status)
                continue
            move = move_by_verb(e.verb)
            assert e.data["from"] == status, (case.number, e.verb)
            assert status in move.sources, (case.number, e.verb, status)
            if move.target is not None:
                assert e.data["to"] == move.target
            status = e.data["to"]
        assert status == case.status, case.number


def test_timestamps_agree_with_each_status(world):
    build(world)
    for c in cases_of(world):
        assert c.created_at <= END
        if c.accepted_at:
            assert c.accepted_at > c.created_at
            assert c.response_due > c.created_at and c.resolve_due > c.accepted_at
        if c.first_contact_at:
            assert c.first_contact_at > c.accepted_at
        if c.status == S.SUBMITTED:
            assert c.accepted_at is None and c.closed_at is None and c.unit_id is None
        elif c.status == S.REJECTED:
            assert c.accepted_at is None and c.unit_id is None
            assert c.reject_reason and c.closed_at > c.created_at
        elif c.status == S.MERGED:
            assert c.master is not None and c.master.created_at < c.created_at
            assert c.master.status != S.MERGED and c.closed_at > c.created_at
            assert c.unit_id is None
        elif c.status in (S.DISPATCHED, S.IN_PROGRESS):
            assert c.unit_id and c.dispatched_at >= c.accepted_at
            assert c.resolved_at is None and c.closed_at is None
        elif c.status == S.RESOLVED:
            assert c.unit_id and c.resolved_at > c.dispatched_at >= c.accepted_at
            assert c.first_contact_at <= c.resolved_at and c.closed_at is None
        elif c.status == S.CLOSED and c.unresolved_kind:
            # Nothing more could be done: the office explained why and closed it, never resolved;
            # a rating on it is the unsatisfied one before its reopening.
            assert c.unit_id and c.accepted_at < c.first_contact_at < c.closed_at
            assert c.resolved_at is None and c.unresolved_explanation
            assert not c.rating or (c.rating == Case.Rating.UNSATISFIED and c.reopen_count)
        elif c.status == S.CLOSED:
            assert c.unit_id and c.first_unit_id
            assert c.accepted_at < c.first_contact_at <= c.resolved_at < c.closed_at
            assert c.accepted_at < c.dispatched_at < c.resolved_at
            if c.rating:
                assert c.rating in (Case.Rating.SATISFIED, Case.Rating.BASIC) and c.rated_at == c.closed_at
        if c.reopen_count and c.is_open:
            # Reopened by an unsatisfied rating: back with its unit from that moment.
            assert c.rating == Case.Rating.UNSATISFIED and c.dispatched_at == c.rated_at
        assert c.escalation in (0, 1, 2)


def test_the_history_has_every_outcome_and_the_last_days_are_still_open(world):
    result = build(world)
    cases = cases_of(world)
    statuses = Counter(c.status for c in cases)
    assert result["cases"] == len(cases) == sum(statuses.values())
    assert 450 <= len(cases) <= 900
    older = [c for c in cases if c.created_at < END - dt.timedelta(days=14)]
    assert sum(c.status == S.CLOSED for c in older) > 0.85 * len(older)
    assert statuses[S.REJECTED] and statuses[S.MERGED]
    open_kinds = {s for s in Case.OPEN_STATUSES if statuses[s]}
    assert len(open_kinds) >= 3, statuses
    assert result["open"] == sum(statuses[s] for s in Case.OPEN_STATUSES)
    recent = [c for c in cases if c.created_at > END - dt.timedelta(days=3)]
    assert sum(c.is_open for c in recent) > len(recent) / 2
    assert any(c.reopen_count for c in cases) and result["reopened"] == sum(1 for c in cases if c.reopen_count)
    assert any(c.response_overdue or c.resolve_overdue for c in cases)
    assert Counter(c.rating for c in cases if c.rating)[Case.Rating.SATISFIED] > 0
    channels = Counter(c.channel for c in cases)
    assert channels.most_common(1)[0][0] == Case.Channel.WEB
    assert {Case.Channel.PHONE, Case.Channel.WALK_IN, Case.Channel.PATROL, Case.Channel.OPEN311,
            Case.Channel.API} <= set(channels)


def test_web_cases_have_a_resident_reporter_and_the_others_a_contact(world):
    build(world)
    residents = {r.pk for r in world.residents}
    for c in cases_of(world):
        if c.channel == Case.Channel.WEB and not c.anonymous:
            assert c.reporter_id in residents
        if c.reporter_id is None and c.channel != Case.Channel.PATROL:
            assert c.contact_phone and len(c.contact_phone.reveal()) == 11
        if c.place == Case.Place.HOME:
            assert c.household_id and c.household.grid_id == c.grid_id
        assert c.grid_id in {g.pk for g in world.grids}


def test_categories_say_who_set_them_as_the_services_record_it(world):
    """The demo's retraining needs labels: accepted cases carry staff's confirmation, cases a
    machine categorised and nobody has accepted yet are not labels (issue 8 B d)."""
    build(world)
    cases = cases_of(world)
    human = set(Case.HUMAN_CATEGORY_SOURCES)
    for c in cases:
        if c.accepted_at is not None:
            assert c.category_source == Case.CategorySource.STAFF_ACCEPT, c.number
        elif c.category_id is None:
            assert c.category_source == Case.CategorySource.NONE, c.number
    assert sum(c.category_source in human for c in cases) > len(cases) / 2


def test_texts_vary_and_events_hold_no_personal_data(world):
    build(world)
    cases = cases_of(world)
    descriptions = [c.description for c in cases]
    assert len(set(descriptions)) > 0.85 * len(descriptions)
    assert all(c.resolution for c in cases if c.resolved_at)
    for data in Event.objects.filter(target_type="cases.case").values_list("data", flat=True):
        assert not _FORBIDDEN_KEYS.intersection(data)


# --- time limits and the deadline job --------------------------------------------------------

def test_deadlines_are_the_time_limits_counted_on_the_holiday_calendar(world):
    # A weekday off and a worked Sunday inside the month: working-day limits must count them.
    Holiday.objects.create(date=dt.date(2025, 7, 8), name="test holiday")
    Holiday.objects.create(date=dt.date(2025, 7, 13), is_workday=True, name="调休")
    build(world)
    by_case = events_by_case()
    categories = {x.code: x for x in Category.objects.filter(community=world.community)}
    checked = 0
    for c in cases_of(world):
        # The response clock from receipt, by the category the case came in with (else the
        # triage limit), as the intake service sets it.
        came_in = by_case[str(c.pk)][0].data["category"]
        probe = Case(category=categories.get(came_in), urgency=c.urgency, created_at=c.created_at)
        assert c.response_due == deadlines.response_due_for(probe), c.number
        if c.accepted_at is None:
            continue
        limit = time_limit_for(c)
        # A reopened case's resolution deadline runs from the unsatisfied rating that reopened it.
        reopened = [e.created_at for e in by_case[str(c.pk)] if e.data.get("rating") == Case.Rating.UNSATISFIED]
        start = reopened[-1] if reopened else c.accepted_at
        assert c.resolve_due == deadlines.due(start, limit.resolve_amount, limit.resolve_unit), c.number
        checked += 1
    assert checked > 400


def test_flags_and_escalations_agree_with_the_job_s_events(world):
    build(world)
    by_case = events_by_case()
    for c in cases_of(world):
        events = by_case[str(c.pk)]
        overdue = [e for e in events if e.verb == "case.marked_overdue"]
        assert c.response_overdue == any(e.data["deadline"] == "response" for e in overdue)
        reopened = [e.created_at for e in events if e.verb in ("case.rated", "case.visited_back")
                    and e.data["rating"] == Case.Rating.UNSATISFIED]
        since = reopened[-1] if reopened else c.created_at
        assert c.resolve_overdue == any(e.data["deadline"] == "resolution" and e.created_at > since for e in overdue)
        levels = [e.data["level"] for e in events if e.verb == "case.escalated"]
        assert levels == sorted(levels) and c.escalation == max(levels, default=0)


def test_the_deadline_job_finds_nothing_left_to_do_at_the_end(world):
    build(world)
    before = Event.objects.count()
    report = run_tick(now=END)
    assert (report.reminders, report.overdue, report.escalations, report.closed) == (0, 0, 0, 0)
    assert Event.objects.count() == before


# --- volume and seasons ------------------------------------------------------------------------

def test_volume_follows_the_seasons_the_week_and_the_spring_festival(world):
    install_default_categories(actor=None, community=world.community)
    end = timezone.make_aware(dt.datetime(2025, 12, 31, 23, 0))
    drafts = _History(community=world.community, seed=3, days=365, end=end, per_day=18).drafts()
    per_day = Counter(timezone.localtime(d.at).date() for d in drafts)
    assert 14 <= len(drafts) / 365 <= 24

    def mean(days):
        days = list(days)
        return sum(per_day[d] for d in days) / len(days)

    festival = SPRING_FESTIVAL[2025]
    around = [festival + dt.timedelta(days=n) for n in range(-1, 6)]
    ordinary = [dt.date(2025, 3, 1) + dt.timedelta(days=n) for n in range(60)]
    assert mean(around) < 0.7 * mean(ordinary)
    hot = {"water", "power"}
    month_count = Counter((timezone.localtime(d.at).month, d.theme.code in hot) for d in drafts)
    assert month_count[(7, True)] > 1.6 * month_count[(1, True)]
    phone = Counter((timezone.localtime(d.at).weekday() >= 5, d.channel) for d in drafts)
    weekend_share = phone[(True, Case.Channel.PHONE)] / sum(v for (w, _c), v in phone.items() if w)
    weekday_share = phone[(False, Case.Channel.PHONE)] / sum(v for (w, _c), v in phone.items() if not w)
    assert weekend_share < 0.7 * weekday_share
    evening = Counter((timezone.localtime(d.at).month in (6, 7, 8), timezone.localtime(d.at).hour >= 20)
                      for d in drafts if d.theme.code == "noise")
    summer_share = evening[(True, True)] / (evening[(True, True)] + evening[(True, False)])
    winter_share = evening[(False, True)] / (evening[(False, True)] + evening[(False, False)])
    assert summer_share > winter_share


def test_every_theme_finds_a_category_of_the_default_tree(world):
    install_default_categories(actor=None, community=world.community)
    history = _History(community=world.community, seed=1, days=5, end=END, per_day=5)
    found = {theme.code: history.theme_category[theme.code].code for theme in THEMES}
    assert found["lift"] == "property-lift" and found["water"] == "utilities-water"
    assert found["noise"] == "noise" and found["neighbour"] == "disputes" and found["fire"] == "safety-fire"
    assert found["sanitation"] == "sanitation-waste" and found["drains"] == "sanitation-drains"
    parents = {c.parent_id for c in history.categories if c.parent_id}
    assert all(history.theme_category[t.code].pk not in parents for t in THEMES)


# --- refusing, and the demo command --------------------------------------------------------------

def test_a_community_with_cases_is_refused_and_nothing_changes(world):
    build(world)
    before = (Case.objects.count(), Event.objects.count())
    with translation.override("en"), pytest.raises(HistoryError, match="already has cases"):
        build(world, seed=9)
    assert (Case.objects.count(), Event.objects.count()) == before


def test_bad_arguments_are_refused(world):
    with pytest.raises(HistoryError):
        build(world, days=0)
    with pytest.raises(HistoryError):
        build(world, seed=-1)
    assert not Case.objects.exists()


def test_seed_demo_writes_the_history_unless_told_not_to(db):
    def seeded(*extra):
        sid = transaction.savepoint()
        out = io.StringIO()
        call_command("seed_demo", "--households", "300", "--seed", "5", *extra, stdout=out, stderr=io.StringIO())
        community = Community.objects.get()
        # The canteen's welfare checks (issue 12) are cases too, counted in its own summary line.
        counts = (Case.objects.filter(community=community).exclude(channel=Case.Channel.WELFARE).count(),
                  Event.objects.filter(target_type="cases.case").count(), out.getvalue())
        transaction.savepoint_rollback(sid)
        return counts

    with translation.override("en"):
        cases, events, out = seeded()
    assert 150 < cases < 400 and events > 5 * cases
    assert f"Case history: {cases:,} cases over two years" in out
    assert seeded("--no-cases")[:2] == (0, 0)


def test_seeded_history_is_not_notified_by_the_first_worker_run(db):
    import io

    from django.core.management import call_command

    from linli.notify.models import Notification
    from linli.notify.services import dispatch_new_events

    call_command("seed_demo", "--households", "200", "--seed", "5", "--quiet",
                 stdout=io.StringIO(), stderr=io.StringIO())
    counts = dispatch_new_events()
    assert counts["notifications"] == 0
    assert Notification.objects.count() == 0
