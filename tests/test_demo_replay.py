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
SAMPLE = 30
PER_KIND = 3
# Facts of an event that name the case itself, different on a fresh case.
OWN_FACTS = {"number", "master"}


# Move verbs that mark a kind of life.
KIND_VERBS = {
    "case.rejected": "rejected", "case.merged": "merged", "case.transferred": "transferred",
    "case.returned": "returned", "case.visited_back": "visited back", "case.rated": "rated",
    "case.closed_unrated": "closed unrated",
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
    }
    return made[move]()


def test_the_history_has_every_kind_of_life(history):
    _sample, by_kind = sampled(history)
    assert set(by_kind) == {"rejected", "merged", "transferred", "returned", "visited back", "rated",
                            "closed unrated", "reopened", "closed satisfied", "still open"}
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
                case.master_id is None, case.closed_at is None, case.needs_triage) == (
            simulated.status, simulated.unit_id, simulated.first_unit_id, simulated.rating, simulated.reopen_count,
            simulated.return_count, simulated.master_id is None, simulated.closed_at is None,
            simulated.needs_triage), simulated.number

