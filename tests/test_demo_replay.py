"""The demo's simulated case lives, replayed through the real services.

The demo writes two years of cases in bulk, through the case workflow's table and its
event factory but without a transaction per move. Here sampled lives of every kind are
made again, move by move, on fresh cases through linli.cases.services and
``transition()``, by the same people: each must pass the same checks (state and actor)
and leave the same states, event verbs and facts as the history wrote.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.utils import timezone

from linli.cases import services
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case
from linli.cases.services import Intake
from linli.cases.workflow import CASE, move_by_verb, transition
from linli.community.models import Organisation, StaffRole
from linli.core.models import Event
from linli.demo.case_writer import build_case_history

from factories import _role, _user

S = Case.Status
END = timezone.make_aware(dt.datetime(2025, 7, 20, 16, 0))
SAMPLE = 36
PER_KIND = 3
# Facts of an event that name the case itself, different on a fresh case.
OWN_FACTS = {"number", "master"}


# Move verbs that mark a kind of life.
KIND_VERBS = {
    "case.rejected": "rejected", "case.merged": "merged", "case.transferred": "transferred",
    "case.returned": "returned", "case.visited_back": "visited back", "case.rated": "rated",
    "case.closed_unrated": "closed unrated", "case.closed_unresolved": "closed unresolved",
}


def kinds_of(verbs: set[str], case: Case) -> set[str]:
    """The kinds of life a case's move verbs and its state show."""
    kinds = {KIND_VERBS[verb] for verb in verbs if verb in KIND_VERBS}
    if case.reopen_count:
        kinds.add("reopened")
    if case.status == S.CLOSED and case.rating in (Case.Rating.SATISFIED, Case.Rating.BASIC):
        kinds.add("closed satisfied")
    if case.is_open:
        kinds.add("still open")
    return kinds


def moves_of(events: list[Event]) -> list[tuple]:
    """(verb, from, to, facts) of the moves among a case's events, in order."""
    return [(e.verb, e.data["from"], e.data["to"],
             {k: v for k, v in e.data.items() if k not in {"from", "to", *OWN_FACTS}})
            for e in events if move_by_verb(e.verb) is not None]


def events_of(case: Case) -> list[Event]:
    return list(Event.objects.filter(target_type="cases.case", target_id=str(case.pk))
                .select_related("actor").order_by("created_at", "pk"))


@pytest.fixture
def history(world):
    """A month of the demo's cases for the small world, with a second handling unit and its
    staff (one unit alone is never transferred to or returned from)."""
    department = Organisation.objects.create(kind=Organisation.Kind.STREET_DEPARTMENT,
                                             name="驷马桥街道城市管理科", street=world.street)
    _role(_user("city_staff"), StaffRole.Role.UNIT_STAFF, community=world.community, organisation=department)
    install_default_categories(actor=None, community=world.community)
    build_case_history(community=world.community, seed=3, days=45, end=END, per_day=20)
    return world


def sampled(world) -> tuple[list[Case], dict]:
    """Up to PER_KIND cases of each kind of life, topped up at random to SAMPLE cases."""
    cases = list(Case.objects.filter(community=world.community)
                 .select_related("category", "reporter", "household", "grid", "submitted_by", "community")
                 .order_by("number"))
    verbs: dict[str, set[str]] = {}
    for target_id, verb in Event.objects.filter(target_type="cases.case").values_list("target_id", "verb"):
        verbs.setdefault(target_id, set()).add(verb)
    by_kind: dict[str, list[Case]] = {}
    for case in cases:
        for kind in kinds_of(verbs[str(case.pk)], case):
            by_kind.setdefault(kind, []).append(case)
    rng = random.Random(1)
    chosen = {}
    for kind in sorted(by_kind):
        for case in rng.sample(by_kind[kind], min(PER_KIND, len(by_kind[kind]))):
            chosen[case.pk] = case
    rest = [c for c in cases if c.pk not in chosen]
    for case in rng.sample(rest, max(0, SAMPLE - len(chosen))):
        chosen[case.pk] = case
    return sorted(chosen.values(), key=lambda c: c.number), by_kind


def submit_again(simulated: Case) -> Case:
    """A fresh case with the simulated one's intake, through the intake service."""
    intake = Intake(
        community=simulated.community, channel=simulated.channel, description=simulated.description,
        category=simulated.category, urgency=simulated.urgency, reporter=simulated.reporter,
        contact_name=simulated.contact_name.reveal() if simulated.contact_name else "",
        contact_phone=simulated.contact_phone.reveal() if simulated.contact_phone else "",
        anonymous=simulated.anonymous,
        # A point is kept as its courtyard: the small world's grids have no outline to place it in.
        place=Case.Place.GRID if simulated.place == Case.Place.POINT else simulated.place,
        grid=simulated.grid, household=simulated.household, address=simulated.address)
    case, _created = services.case_submit(actor=simulated.submitted_by, intake=intake)
    return case


def _closed_unrated(case, now):
    case.closed_at = now


def replay(simulated: Case, event: Event, case: Case) -> Case:
    """Make the move ``event`` records on ``case``, by the same actor, as the pages, the API or
    the deadline job make it."""
    move, actor, data = move_by_verb(event.verb).name, event.actor, event.data
    unit = Organisation.objects.get(pk=data["unit"]) if "unit" in data else None
    made = {
        "accept": lambda: services.case_accept(actor=actor, case=case, category=simulated.category,
                                               urgency=simulated.urgency),
        "reject": lambda: services.case_reject(actor=actor, case=case, reason=simulated.reject_reason),
        "merge": lambda: services.case_merge(actor=actor, case=case, master=submit_again(simulated)),
        "dispatch": lambda: services.case_dispatch(actor=actor, case=case, unit=unit),
        "transfer": lambda: services.case_transfer(actor=actor, case=case, unit=unit, reason=data["reason"]),
        "return": lambda: services.case_return(actor=actor, case=case, reason=data["reason"]),
        "contact": lambda: services.case_contact(actor=actor, case=case),
        "start": lambda: services.case_start(actor=actor, case=case),
        "resolve": lambda: services.case_resolve(actor=actor, case=case, resolution=simulated.resolution),
        "rate": lambda: services.case_rate(actor=actor, case=case, rating=data["rating"]),
        "visit_back": lambda: services.case_visit_back(actor=actor, case=case, rating=data["rating"]),
        "close_unrated": lambda: transition(case, "close_unrated", actor=None, apply=_closed_unrated,
                                            data={"after_days": data["after_days"]}),
        "close_unresolved": lambda: services.case_close_unresolved(
            actor=actor, case=case, kind=simulated.unresolved_kind, explanation=simulated.unresolved_explanation),
    }
    return made[move]()


def test_the_history_has_every_kind_of_life(history):
    _sample, by_kind = sampled(history)
    assert set(by_kind) == {"rejected", "merged", "transferred", "returned", "visited back", "rated",
                            "closed unrated", "closed unresolved", "reopened", "closed satisfied", "still open"}
    assert {move_by_verb(e.verb).name for e in Event.objects.filter(target_type="cases.case")
            if move_by_verb(e.verb) is not None} == set(CASE.table)


def test_sampled_lives_replay_through_the_services_with_the_same_states_and_events(history):
    sample, by_kind = sampled(history)
    assert len(sample) == SAMPLE
    assert all(any(c in sample for c in cases) for cases in by_kind.values())
    for simulated in sample:
        written = events_of(simulated)
        case = submit_again(simulated)
        for event in written:
            if move_by_verb(event.verb) is not None:
                case = replay(simulated, event, case)
        case = Case.objects.get(pk=case.pk)
        replayed = events_of(case)
        assert [e.verb for e in replayed][0] == [e.verb for e in written][0] == "case.submitted"
        assert moves_of(replayed) == moves_of(written), simulated.number
        assert [e.actor_id for e in replayed if move_by_verb(e.verb)] == \
            [e.actor_id for e in written if move_by_verb(e.verb)], simulated.number
        assert (case.status, case.unit_id, case.first_unit_id, case.rating, case.reopen_count, case.return_count,
                case.master_id is None, case.closed_at is None, case.needs_triage, case.unresolved_kind,
                case.unresolved_explanation) == (
            simulated.status, simulated.unit_id, simulated.first_unit_id, simulated.rating, simulated.reopen_count,
            simulated.return_count, simulated.master_id is None, simulated.closed_at is None,
            simulated.needs_triage, simulated.unresolved_kind, simulated.unresolved_explanation), simulated.number



# The year's history (8 cases a day) at its end: at most this many overdue cases, and of them at
# most OLD_CEILING submitted over 60 days before (stuck, resolved months later after all).
CEILING = 25
OLD_CEILING = 5


# --- how the history reads and counts (issue 8, C7) ---------------------------------------------

# Staff's hotline notes name the call ("来电人反映", "居民来电", "李阿姨来电称"); "来电" alone
# also means the power came back.
HOTLINE = re.compile(r"来电(人|反映|称)|居民来电")
DESK = re.compile(r"来访|到社区|到窗口")
NAMED = re.compile(r"(女士|先生|阿姨|大爷|大姐)(来电|到社区)")


def test_each_case_is_worded_as_its_channel_and_reporter_word_it(history):
    """The app is the resident's own words (first person); the hotline and the desk are staff's
    notes about a resident (third person, naming a caller only where no resident is known); a
    patrol finding is the grid worker's; a 12345 hand-over says where it came from."""
    rows = list(Case.objects.filter(community=history.community).values_list("channel", "description",
                                                                             "reporter_id"))
    assert {channel for channel, _d, _r in rows} >= {"web", "phone", "walk_in", "patrol"}
    for channel, text, reporter in rows:
        if channel in ("web", "open311"):
            assert "我" in text and not HOTLINE.search(text) and not DESK.search(text) and "巡查" not in text, text
            continue
        assert "我" not in text, text
        if channel == "phone":
            assert HOTLINE.search(text), text
        elif channel == "walk_in":
            assert DESK.search(text), text
        elif channel == "patrol":
            assert "巡查" in text, text
        elif channel == "api":
            assert "市民" in text or "转办" in text, text
        if reporter is not None:
            assert not NAMED.search(text), text


def test_texts_vary(history):
    texts = list(Case.objects.filter(community=history.community).values_list("description", flat=True))
    assert len(texts) > 500
    assert len(set(texts)) / len(texts) >= 0.8


def test_the_response_clock_runs_from_receipt_as_the_intake_service_sets_it(history):
    """Every case's response deadline is the one deadlines.response_due_for gives at intake: from
    created_at, by the category it came in with (else the triage limit) and its urgency."""
    from linli.cases import deadlines
    from linli.cases.models import Category

    intake = {e.target_id: e.data.get("category") for e in Event.objects.filter(verb="case.submitted")}
    categories = {c.code: c for c in Category.objects.filter(community=history.community)}
    cases = list(Case.objects.filter(community=history.community).order_by("number"))
    assert all(c.response_due is not None and c.response_due > c.created_at for c in cases)
    for case in random.Random(2).sample(cases, 120):
        code = intake[str(case.pk)]
        probe = Case(community=case.community, category=categories[code] if code else None,
                     urgency=case.urgency, created_at=case.created_at)
        assert case.response_due == deadlines.response_due_for(probe), case.number
    # Answered after it (accepted, rejected or contacted late): flagged, as the job flags it.
    late = [c for c in cases if c.accepted_at and c.accepted_at > c.response_due
            and not (c.first_contact_at and c.first_contact_at <= c.response_due)]
    assert late and all(c.response_overdue for c in late)


@pytest.fixture
def year(world):
    """Thirteen months of history, about 250 cases a month, on the small world."""
    department = Organisation.objects.create(kind=Organisation.Kind.STREET_DEPARTMENT,
                                             name="驷马桥街道城市管理科", street=world.street)
    _role(_user("city_staff"), StaffRole.Role.UNIT_STAFF, community=world.community, organisation=department)
    install_default_categories(actor=None, community=world.community)
    build_case_history(community=world.community, seed=5, days=400, end=END, per_day=8)
    return world


def test_monthly_resolution_and_satisfaction_are_plausible_not_perfect(year):
    """As the rates dashboard counts them: each of the twelve whole months before the last
    sits in a plausible band below 100 %, and the months differ."""
    from linli.cases import rates

    rows = rates.three_rates(rates.community_reach(year.community.pk), by="month",
                             start=dt.date(2024, 7, 1), end=dt.date(2025, 6, 30))
    assert len(rows) == 12
    for name in ("resolution", "satisfaction"):
        values = []
        for row in rows:
            assert row.counts["submitted"] >= 150, row.key
            value = row.rate(name)
            assert 0.9 <= value < 1.0, (name, row.key, value)
            values.append(value)
        assert 0.94 <= sum(values) / len(values) <= 0.985, (name, values)
        assert max(values) - min(values) >= 0.01, (name, values)
    # Some unresolved past due, some dissatisfied ratings with a reopen, a few rejections.
    cases = Case.objects.filter(community=year.community, created_at__lt=END - dt.timedelta(days=60))
    assert cases.filter(rating=Case.Rating.UNSATISFIED, reopen_count__gt=0).exists()
    assert cases.filter(status=S.REJECTED).exists()
    # What nobody could resolve was closed as such, past its deadline, after the office explained
    # why (counted accepted, not resolved); a few stuck cases are still resolved months later.
    unresolved = cases.filter(status=S.CLOSED).exclude(unresolved_kind="")
    assert unresolved.filter(resolve_overdue=True).exists()
    assert all(c.accepted_at and c.unresolved_explanation for c in unresolved)


def test_the_overdue_backlog_stays_small(year):
    """Cases nobody can resolve are closed unresolved some weeks on, not left open for ever: at
    the history's end the overdue queue (the staff's first page) holds only recent cases and a
    few waiting on a late fix, not a year's leftovers (issue 8, C7)."""
    from linli.cases import selectors

    cases = Case.objects.filter(community=year.community)
    overdue = cases.filter(selectors.overdue_q(END))
    assert overdue.count() <= CEILING, overdue.count()
    old = overdue.filter(created_at__lt=END - dt.timedelta(days=60))
    assert old.count() <= OLD_CEILING, old.count()
    assert not old.exclude(resolve_overdue=True).exclude(response_overdue=True).exists()
