"""The life of a case: who may make each move, illegal moves, reopening, merging, returning,
transferring, 首接负责, idempotent intake, validation, classification, default categories and
who sees which cases. State is built through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connection
from django.core.management.base import CommandError

from factories import _role, _user, move_case_to
from linli.cases import deadlines, selectors
from linli.cases.defaults import default_specs, install_default_categories
from linli.cases.models import Case, CaseCounter, Category, RoutingRule, TimeLimit
from linli.cases.services import (
    Intake, case_accept, case_contact, case_dispatch, case_merge, case_rate, case_reject, case_resolve,
    case_return, case_start, case_submit, case_transfer, case_visit_back,
)
from linli.cases.workflow import CASE, IllegalTransition, allowed_moves, transition
from linli.community.models import Organisation, StaffRole
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.models import Event

S = Case.Status
R = StaffRole.Role
LIFT_TEXT = "3栋2单元电梯坏了，老人下不了楼"


@dataclass
class CasesWorld:
    world: object
    users: dict
    categories: dict
    property_company: Organisation
    other_property: Organisation
    street_department: Organisation

    @property
    def y(self):
        return self.world.community

    @property
    def resident(self):
        return self.world.residents[0]


@pytest.fixture
def cw(world) -> CasesWorld:
    """Y with the default categories, a second property company with its own staff, a
    street department, a second resident account, and grid boundaries on the map."""
    y, street = world.community, world.street
    # A square community split into two courtyards, west G01 and east G02.
    y.boundary = [[30.0, 104.0], [30.0, 104.1], [30.1, 104.1], [30.1, 104.0]]
    y.save(update_fields=["boundary"])
    world.grids[0].boundary = [[30.0, 104.0], [30.0, 104.05], [30.1, 104.05], [30.1, 104.0]]
    world.grids[1].boundary = [[30.0, 104.05], [30.0, 104.1], [30.1, 104.1], [30.1, 104.05]]
    for g in world.grids:
        g.save(update_fields=["boundary"])
    street_department = Organisation.objects.create(
        kind=Organisation.Kind.STREET_DEPARTMENT, name="驷马桥街道城市管理科", street=street)
    install_default_categories(actor=world.users["admin"], community=y)
    other_property = Organisation.objects.create(
        kind=Organisation.Kind.PROPERTY_COMPANY, name="宜居物业", community=y, street=street)
    users = dict(world.users)
    users["other_unit_staff"] = _user("other_unit_staff")
    _role(users["other_unit_staff"], R.UNIT_STAFF, community=y, organisation=other_property)
    users["other_resident"] = _user("other_resident")
    other = world.residents[3]  # another household of G01 (G01-2栋 101)
    other.user = users["other_resident"]
    other.save(update_fields=["user"])
    categories = {c.code: c for c in Category.objects.filter(community=y)}
    return CasesWorld(world, users, categories, world.property_company, other_property, street_department)


def submit(cw: CasesWorld, *, actor="resident", **fields) -> Case:
    values = dict(community=cw.y, channel=Case.Channel.WEB, description=LIFT_TEXT, reporter=cw.resident,
                  place=Case.Place.HOME, category=cw.categories["property-lift"])
    values.update(fields)
    case, created = case_submit(actor=cw.users[actor] if actor else None, intake=Intake(**values))
    assert created
    return case


def bring_to(cw: CasesWorld, state: str, **fields) -> Case:
    """A lift case of the resident's home (grid G01), moved to ``state`` by the right people."""
    u = cw.users
    case = submit(cw, **fields)
    if state == "submitted":
        return case
    if state == "rejected":
        return case_reject(actor=u["worker"], case=case, reason="不属于社区受理范围")
    return move_case_to(case, state, u, resolution="已更换电梯门机，运行正常")


def row(case: Case) -> dict:
    """Every stored value of the case (the sealed contact fields compared by value)."""
    return Case.objects.filter(pk=case.pk).values().get()


# --- the whole loop -------------------------------------------------------------------------------


def test_a_resident_case_goes_round_the_closed_loop(cw):
    u = cw.users
    case = submit(cw)
    assert (case.status, case.grid, case.household, case.needs_triage) == (
        S.SUBMITTED, cw.world.grids[0], cw.resident.household, False)
    case = case_accept(actor=u["worker"], case=case)
    assert case.status == S.ACCEPTED and case.accepted_at is not None
    assert case.response_due is not None and case.resolve_due is not None
    case = case_dispatch(actor=u["worker"], case=case)
    assert (case.status, case.unit, case.first_unit) == (S.DISPATCHED, cw.property_company, cw.property_company)
    case = case_start(actor=u["unit_staff"], case=case)
    assert case.status == S.IN_PROGRESS and case.first_contact_at is not None
    case = case_resolve(actor=u["unit_staff"], case=case, resolution="已更换电梯门机，运行正常")
    assert case.status == S.RESOLVED and case.resolved_at is not None
    case = case_rate(actor=u["resident"], case=case, rating=Case.Rating.BASIC, comment="修得挺快")
    assert (case.status, case.rating, case.rating_comment) == (S.CLOSED, "basic", "修得挺快")
    assert case.closed_at is not None
    verbs = list(Event.objects.filter(target_type="cases.case", target_id=str(case.pk))
                 .order_by("id").values_list("verb", flat=True))
    assert verbs == ["case.submitted", "case.accepted", "case.dispatched", "case.started", "case.resolved", "case.rated"]
    dispatch = Event.objects.get(verb="case.dispatched", target_id=str(case.pk))
    assert dispatch.data == {"from": "accepted", "to": "dispatched", "number": case.number,
                             "unit": cw.property_company.pk}


def test_allowed_moves_lists_what_this_actor_may_do_now(cw):
    case = bring_to(cw, "dispatched")
    assert allowed_moves(cw.users["unit_staff"], case) == ["return", "start", "contact", "resolve"]
    assert allowed_moves(cw.users["worker"], case) == ["transfer", "return", "start", "contact", "resolve",
                                                       "close_unresolved"]
    assert allowed_moves(cw.users["resident"], case) == []
    assert allowed_moves(cw.users["other_unit_staff"], case) == []


# --- who may make each move -------------------------------------------------------------------------

ACTORS = ["admin", "worker", "grid1", "grid2", "secretary", "leader", "unit_staff", "other_unit_staff",
          "supervisor", "z_worker", "resident", "other_resident", "nobody"]
OFFICE = {"admin", "worker", "grid1"}          # the community's workers and the case's grid worker
UNIT = OFFICE | {"unit_staff"}                 # and the staff of the unit the case is with


def _master(cw):
    return submit(cw, description="2单元电梯又停了，跟昨天一样")


MOVES = {
    "accept": ("submitted", OFFICE, lambda cw, a, c: case_accept(actor=a, case=c)),
    "reject": ("submitted", OFFICE, lambda cw, a, c: case_reject(actor=a, case=c, reason="重复反映")),
    "merge": ("submitted", OFFICE, lambda cw, a, c: case_merge(actor=a, case=c, master=cw.master)),
    "dispatch": ("accepted", OFFICE, lambda cw, a, c: case_dispatch(actor=a, case=c)),
    "transfer": ("dispatched", OFFICE, lambda cw, a, c: case_transfer(
        actor=a, case=c, unit=cw.other_property, reason="该楼栋由宜居物业管理")),
    "return": ("dispatched", UNIT, lambda cw, a, c: case_return(actor=a, case=c, reason="不是本公司管理的楼栋")),
    "start": ("dispatched", UNIT, lambda cw, a, c: case_start(actor=a, case=c)),
    "contact": ("dispatched", UNIT, lambda cw, a, c: case_contact(actor=a, case=c)),
    "resolve": ("in_progress", UNIT, lambda cw, a, c: case_resolve(actor=a, case=c, resolution="已修好")),
    "rate": ("resolved", {"resident"}, lambda cw, a, c: case_rate(actor=a, case=c, rating="satisfied")),
    "visit_back": ("resolved", OFFICE, lambda cw, a, c: case_visit_back(actor=a, case=c, rating="basic")),
    "close_unrated": ("resolved", set(), lambda cw, a, c: transition(c, "close_unrated", actor=a)),
}


@pytest.mark.parametrize("move", list(MOVES))
def test_only_the_right_people_may_make_each_move(cw, move):
    state, allowed, make = MOVES[move]
    cw.master = _master(cw)
    case = bring_to(cw, state)
    before, events = row(case), Event.objects.count()
    for name in ACTORS:
        if name in allowed:
            continue
        with pytest.raises(PermissionDenied):
            make(cw, cw.users[name], case)
        assert row(case) == before, name
    assert Event.objects.count() == events
    for name in sorted(allowed):
        fresh = bring_to(cw, state)
        before = row(fresh)
        make(cw, cw.users[name], fresh)
        assert row(fresh) != before, name
        assert Event.objects.filter(verb=CASE.verb(move), target_id=str(fresh.pk), actor=cw.users[name]).count() == 1


def test_only_the_tick_may_close_an_unrated_case(cw):
    case = bring_to(cw, "resolved")
    moved = transition(case, "close_unrated", actor=None)
    assert moved.status == S.CLOSED and moved.rating == ""
    event = Event.objects.get(verb="case.closed_unrated", target_id=str(case.pk))
    assert (event.actor, event.actor_label) == (None, "system")


# --- illegal moves -----------------------------------------------------------------------------------

ILLEGAL = [
    ("submitted", "dispatch"), ("submitted", "start"), ("submitted", "return"), ("submitted", "transfer"),
    ("submitted", "contact"), ("submitted", "rate"), ("submitted", "visit_back"),
    ("submitted", "close_unrated"),
    ("accepted", "accept"), ("accepted", "reject"), ("accepted", "start"), ("accepted", "return"),
    ("accepted", "rate"),
    ("dispatched", "accept"), ("dispatched", "dispatch"), ("dispatched", "merge"), ("dispatched", "rate"),
    ("in_progress", "start"), ("in_progress", "return"), ("in_progress", "merge"),
    ("resolved", "resolve"), ("resolved", "start"), ("resolved", "contact"), ("resolved", "merge"),
    ("resolved", "transfer"),
    ("closed", "accept"), ("closed", "rate"), ("closed", "visit_back"), ("closed", "resolve"),
    ("closed", "close_unrated"), ("closed", "merge"),
    ("rejected", "accept"), ("rejected", "dispatch"), ("rejected", "merge"),
]


@pytest.mark.parametrize("state,move", ILLEGAL)
def test_an_illegal_move_is_refused_and_changes_nothing(cw, state, move):
    cw.master = _master(cw)
    case = bring_to(cw, state)
    # Someone who could make the move in the right state.
    actor = {"rate": cw.users["resident"], "close_unrated": None}.get(move, cw.users["worker"])
    before, events = row(case), Event.objects.count()
    with pytest.raises(IllegalTransition) as raised:
        MOVES[move][2](cw, actor, case)
    assert raised.value.code == "illegal_transition"
    assert row(case) == before
    assert Event.objects.count() == events


def test_an_unknown_move_is_illegal(cw):
    case = submit(cw)
    with pytest.raises(IllegalTransition):
        transition(case, "teleport", actor=cw.users["worker"])


def test_a_move_with_bad_input_changes_nothing(cw):
    case = bring_to(cw, "submitted")
    before, events = row(case), Event.objects.count()
    with pytest.raises(InvalidInput):
        case_reject(actor=cw.users["worker"], case=case, reason=" ")
    with pytest.raises(InvalidInput) as raised:
        case_accept(actor=cw.users["worker"], case=case, urgency="critical")
    assert raised.value.code == "urgency"
    with pytest.raises(InvalidInput):
        case_accept(actor=cw.users["worker"], case=case,
                    category=Category.objects.create(community=cw.world.other_community, code="x",
                                                     name_zh="其他", name_en="Other"))
    assert row(case) == before and Event.objects.count() == events


def test_a_case_without_a_category_cannot_be_accepted_until_one_is_chosen(cw):
    case = submit(cw, description="我想问一下这个事情怎么办理", category=None)
    assert (case.category, case.needs_triage) == (None, True)
    with pytest.raises(InvalidInput) as raised:
        case_accept(actor=cw.users["worker"], case=case)
    assert raised.value.code == "category_required"
    case = case_accept(actor=cw.users["worker"], case=case, category=cw.categories["other"])
    assert (case.status, case.category, case.needs_triage) == (S.ACCEPTED, cw.categories["other"], False)


# --- reopening, merging, returning, transferring ----------------------------------------------------


def test_an_unsatisfied_rating_reopens_the_case_and_is_counted(cw):
    u = cw.users
    case = bring_to(cw, "resolved")
    first_due = case.resolve_due
    case = case_rate(actor=u["resident"], case=case, rating=Case.Rating.UNSATISFIED, comment="还是坏的")
    assert (case.status, case.reopen_count, case.rating, case.resolved_at) == (S.DISPATCHED, 1, "unsatisfied", None)
    assert case.unit == cw.property_company and case.closed_at is None
    # A fresh resolution deadline from the reopening: the lift's 2 working days.
    assert case.resolve_due == deadlines.add_working_days(case.rated_at, 2)
    assert case.resolve_due >= first_due
    case = case_resolve(actor=u["unit_staff"], case=case, resolution="更换了控制板")
    case = case_visit_back(actor=u["worker"], case=case, rating=Case.Rating.UNSATISFIED)
    assert (case.status, case.reopen_count) == (S.DISPATCHED, 2)
    case = case_resolve(actor=u["unit_staff"], case=case, resolution="整机检修完毕")
    case = case_rate(actor=u["resident"], case=case, rating=Case.Rating.SATISFIED)
    assert (case.status, case.reopen_count, case.rating) == (S.CLOSED, 2, "satisfied")
    rates = list(Event.objects.filter(verb__in=["case.rated", "case.visited_back"], target_id=str(case.pk))
                 .order_by("id").values_list("data__rating", "data__to"))
    assert rates == [("unsatisfied", "dispatched"), ("unsatisfied", "dispatched"), ("satisfied", "closed")]


def test_an_invalid_rating_is_refused(cw):
    case = bring_to(cw, "resolved")
    with pytest.raises(InvalidInput):
        case_rate(actor=cw.users["resident"], case=case, rating="great")
    assert Case.objects.get(pk=case.pk).status == S.RESOLVED


def test_a_duplicate_is_merged_into_an_open_case(cw):
    u = cw.users
    master = bring_to(cw, "accepted")
    duplicate = submit(cw, description="2单元电梯停了，跟邻居说的一样")
    merged = case_merge(actor=u["worker"], case=duplicate, master=master)
    assert (merged.status, merged.master, merged.is_open) == (S.MERGED, master, False)
    assert merged.closed_at is not None
    assert list(master.duplicates.all()) == [merged]
    event = Event.objects.get(verb="case.merged", target_id=str(duplicate.pk))
    assert event.data["master"] == master.number


def test_a_case_cannot_be_merged_into_itself_a_closed_case_or_another_community(cw):
    u = cw.users
    case = submit(cw)
    closed = bring_to(cw, "closed")
    z_case, _ = case_submit(actor=u["z_worker"], intake=Intake(
        community=cw.world.other_community, channel=Case.Channel.PHONE, description="Z社区电梯坏了",
        contact_phone="13900000901"))
    events = Event.objects.count()
    for master in (case, closed, z_case):
        with pytest.raises(InvalidInput):
            case_merge(actor=u["worker"], case=case, master=master)
    assert Case.objects.get(pk=case.pk).status == S.SUBMITTED and Event.objects.count() == events


def test_a_returned_case_is_dispatched_again_and_the_first_unit_stays_responsible(cw):
    u = cw.users
    case = bring_to(cw, "dispatched")
    with pytest.raises(InvalidInput):
        case_return(actor=u["unit_staff"], case=case, reason="")
    case = case_return(actor=u["unit_staff"], case=case, reason="该楼栋不归本公司管理")
    assert (case.status, case.unit, case.return_count, case.first_unit) == (
        S.ACCEPTED, None, 1, cw.property_company)
    assert Event.objects.get(verb="case.returned", target_id=str(case.pk)).data["reason"] == "该楼栋不归本公司管理"
    # Plain re-dispatch to another unit: 首接负责 keeps the first unit as owner.
    case = case_dispatch(actor=u["worker"], case=case, unit=cw.other_property)
    assert (case.status, case.unit, case.first_unit) == (S.DISPATCHED, cw.other_property, cw.property_company)
    assert case_return(actor=u["other_unit_staff"], case=case, reason="也不归我们").return_count == 2


def test_a_transfer_moves_the_case_and_its_ownership_to_the_new_unit(cw):
    u = cw.users
    case = bring_to(cw, "in_progress")
    with pytest.raises(InvalidInput):
        case_transfer(actor=u["worker"], case=case, unit=cw.other_property, reason=" ")
    with pytest.raises(InvalidInput):
        case_transfer(actor=u["worker"], case=case, unit=cw.property_company, reason="同一单位")
    case = case_transfer(actor=u["worker"], case=case, unit=cw.other_property, reason="该楼栋由宜居物业管理")
    assert (case.status, case.unit, case.first_unit) == (S.DISPATCHED, cw.other_property, cw.other_property)
    with pytest.raises(PermissionDenied):
        case_start(actor=u["unit_staff"], case=case)
    assert case_start(actor=u["other_unit_staff"], case=case).status == S.IN_PROGRESS


def test_dispatch_follows_routing_rules_then_the_category_default(cw):
    u = cw.users
    RoutingRule.objects.create(community=cw.y, category=cw.categories["property-lift"], grid=cw.world.grids[1],
                               unit=cw.other_property)
    in_g01 = case_dispatch(actor=u["worker"], case=bring_to(cw, "accepted"))
    in_g02 = case_dispatch(actor=u["worker"], case=bring_to(
        cw, "accepted", household=cw.world.households[4]))  # a home in G02
    assert (in_g01.unit, in_g02.unit) == (cw.property_company, cw.other_property)
    assert Event.objects.get(verb="case.dispatched", target_id=str(in_g02.pk)).data["unit"] == cw.other_property.pk


def test_dispatch_refuses_units_that_cannot_handle_this_community(cw):
    u = cw.users
    committee = Organisation.objects.create(kind=Organisation.Kind.RESIDENTS_COMMITTEE, name="Y居委会",
                                            community=cw.y, street=cw.world.street)
    z_property = Organisation.objects.create(kind=Organisation.Kind.PROPERTY_COMPANY, name="Z物业",
                                             community=cw.world.other_community, street=cw.world.street)
    case = bring_to(cw, "accepted", category=cw.categories["other"])
    case.category.default_unit = None
    case.category.save(update_fields=["default_unit"])
    for unit in (committee, z_property):
        with pytest.raises(InvalidInput):
            case_dispatch(actor=u["worker"], case=case, unit=unit)
    with pytest.raises(InvalidInput) as raised:
        case_dispatch(actor=u["worker"], case=case)
    assert raised.value.code == "unit_required"
    assert Case.objects.get(pk=case.pk).status == S.ACCEPTED


# --- intake -------------------------------------------------------------------------------------------


def test_a_retried_submission_with_the_same_key_returns_the_same_case(cw):
    intake = dict(community=cw.y, channel=Case.Channel.API, description=LIFT_TEXT, contact_phone="13912345678")
    first, created = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-1"))
    cases, events = Case.objects.count(), Event.objects.count()
    again, created_again = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-1"))
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)
    other_scope, created_other = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:2", "k-1"))
    assert created_other and other_scope.pk != first.pk


def test_a_retry_finds_its_key_on_insert_and_undoes_everything_it_began(cw):
    """Intake does not look the key up first (a retry and a concurrent twin alike find
    out on the key's unique constraint); the savepoint takes back the retry's case,
    its event and its case number."""
    intake = dict(community=cw.y, channel=Case.Channel.API, description=LIFT_TEXT, contact_phone="13912345678")
    winner, _ = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-race"))
    cases, events = Case.objects.count(), Event.objects.count()
    again, created = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-race"))
    assert (again.pk, created) == (winner.pk, False)
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)
    prefix, n = winner.number.rsplit("-", 1)
    assert submit(cw).number == f"{prefix}-{int(n) + 1:04d}"


def test_an_invalid_retry_still_gets_the_case_its_first_attempt_created(cw):
    lift = cw.categories["property-lift"]
    intake = dict(community=cw.y, channel=Case.Channel.API, description=LIFT_TEXT, contact_phone="13912345678",
                  category=lift)
    first, _ = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-withdrawn"))
    Category.objects.filter(pk=lift.pk).update(active=False)
    lift.refresh_from_db()
    again, created = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-withdrawn"))
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(InvalidInput):  # without the key, the same request is refused
        case_submit(actor=None, intake=Intake(**intake))


@pytest.mark.parametrize("change", [{"description": "2单元电梯坏了，另外一台"}, {"urgency": "urgent"},
                                    {"contact_phone": "13912345679"}, {"latitude": 30.05, "longitude": 104.02}])
def test_the_same_key_with_a_different_request_is_a_conflict(cw, change):
    intake = dict(community=cw.y, channel=Case.Channel.API, description=LIFT_TEXT, contact_phone="13912345678")
    case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-1"))
    cases, events = Case.objects.count(), Event.objects.count()
    with pytest.raises(InvalidInput) as raised:
        case_submit(actor=None, intake=Intake(**{**intake, **change}), idempotency=("apikey:1", "k-1"))
    assert raised.value.code == "idempotency_conflict"
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)


def test_a_retry_after_validation_filled_in_the_place_is_not_a_conflict(cw):
    # The first submission's grid comes from the point; the retry sends the same point.
    intake = dict(community=cw.y, channel=Case.Channel.API, description=LIFT_TEXT,
                  contact_phone="139 1234 5678", latitude=30.05, longitude=104.07)
    first, _ = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-2"))
    assert first.grid == cw.world.grids[1]
    again, created = case_submit(actor=None, intake=Intake(**intake), idempotency=("apikey:1", "k-2"))
    assert (again.pk, created) == (first.pk, False)


@pytest.mark.parametrize("fields,code,field", [
    ({"description": "坏了"}, "description_short", "description"),
    ({"description": "    漏  "}, "description_short", "description"),
    ({"description": "电梯" * 2001}, "description_long", "description"),
    ({"latitude": 31.5, "longitude": 104.05}, "place_outside", "lat"),
    ({"latitude": 30.05, "longitude": None}, "place", "lat"),
    ({"urgency": "critical"}, "urgency", "urgency"),
    ({"reporter": None, "contact_phone": ""}, "contact_required", "contact_phone"),
    ({"reporter": None, "contact_phone": "12345"}, "contact_phone", "contact_phone"),
])
def test_bad_intake_gets_a_clear_error_and_changes_nothing(cw, fields, code, field):
    cases, events = Case.objects.count(), Event.objects.count()
    values = dict(community=cw.y, channel=Case.Channel.WEB, description=LIFT_TEXT, reporter=cw.resident,
                  place=Case.Place.POINT)
    values.update(fields)
    with pytest.raises(InvalidInput) as raised:
        case_submit(actor=cw.users["resident"], intake=Intake(**values))
    assert (raised.value.code, raised.value.field) == (code, field)
    assert (Case.objects.count(), Event.objects.count()) == (cases, events)


def test_a_category_grid_or_home_of_another_community_is_refused(cw):
    z = cw.world.other_community
    z_category = Category.objects.create(community=z, code="property", name_zh="物业管理", name_en="Property")
    z_grid = z.grids.get()
    cases = Case.objects.count()
    attempts = [
        ({"category": z_category}, "category"),
        ({"grid": z_grid, "place": Case.Place.GRID}, "place"),
        ({"household": cw.world.other_resident.household}, "place"),
        ({"reporter": cw.world.other_resident, "place": Case.Place.HOME}, "place"),
    ]
    for fields, code in attempts:
        values = dict(community=cw.y, channel=Case.Channel.WEB, description=LIFT_TEXT, reporter=cw.resident,
                      place=Case.Place.HOME)
        values.update(fields)
        with pytest.raises(InvalidInput) as raised:
            case_submit(actor=cw.users["worker"], intake=Intake(**values))
        assert raised.value.code == code, fields
    assert Case.objects.count() == cases


def test_a_point_on_the_map_places_the_case_in_its_courtyard(cw):
    case = submit(cw, place=Case.Place.POINT, latitude=30.02, longitude=104.08)
    assert (case.grid, case.household) == (cw.world.grids[1], None)


def test_case_numbers_count_up_per_community_and_local_day(cw):
    first, second = submit(cw), submit(cw)
    prefix, n1 = first.number.rsplit("-", 1)
    assert prefix.startswith("Y-") and second.number == f"{prefix}-{int(n1) + 1:04d}"


def test_numbers_continue_after_those_given_out_before_the_day_had_a_counter(cw):
    first = submit(cw)
    prefix, n1 = first.number.rsplit("-", 1)
    CaseCounter.objects.all().delete()  # as on an installation upgraded mid-day
    Case.objects.filter(pk=first.pk).update(number=f"{prefix}-0041")
    assert submit(cw).number == f"{prefix}-0042"
    assert submit(cw).number == f"{prefix}-0043"


def test_a_failed_intake_gives_its_number_back(cw):
    first = submit(cw)
    with pytest.raises(InvalidInput):
        submit(cw, description="短")
    prefix, n1 = first.number.rsplit("-", 1)
    assert submit(cw).number == f"{prefix}-{int(n1) + 1:04d}"


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the in-memory shared-cache SQLite test database answers 'table is locked' instead of waiting; "
    "a real SQLite file serialises writers, and bench/intake_bench.py runs it under load"))
def test_concurrent_intakes_get_distinct_consecutive_numbers(cw, transactional_db):
    """Each thread has its own database connection, as separate server processes would."""
    import threading

    start = threading.Barrier(6, timeout=60)
    numbers, errors = [], []

    def intake():
        try:
            start.wait()
            for _ in range(5):
                numbers.append(submit(cw).number)
        except Exception as error:  # the assertion below names it
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=intake) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequence == list(range(sequence[0], sequence[0] + 30))


@pytest.mark.parametrize("text,code", [
    ("3栋电梯坏了，困人了", "property-lift"),
    ("楼上的广场舞音响太吵了", "noise"),
    ("小区门口的路灯不亮好几天了", "roads-lighting"),
    ("我家停水两天了，水压也低", "utilities-water"),
    ("垃圾桶满了没人收垃圾", "sanitation-waste"),
    ("楼道里有人飞线充电给电动车充电", "safety-fire"),
    ("我家低保申请需要什么证明材料", "social-security"),
])
def test_default_keyword_rules_suggest_the_right_category(cw, text, code):
    case = submit(cw, description=text, category=None)
    assert (case.category.code, case.suggested_category.code, case.needs_triage) == (code, code, False)
    assert case.suggestion_source == "keywords"


def test_a_text_no_rule_recognises_goes_to_triage(cw):
    case = submit(cw, description="请社区的同志来我家看看", category=None)
    assert (case.category, case.suggested_category, case.needs_triage) == (None, None, True)
    assert list(selectors.triage_queue(cw.users["worker"])) == [case]
    assert list(selectors.acceptance_queue(cw.users["worker"])) == []


# --- default categories -------------------------------------------------------------------------------


def test_default_categories_have_names_keywords_limits_and_units(cw):
    y = cw.y
    specs = default_specs()
    assert Category.objects.filter(community=y).count() == len(specs) == 24
    assert Category.objects.filter(community=y, parent__isnull=True).count() == 12
    assert TimeLimit.objects.filter(category__community=y).count() == 48
    lift = cw.categories["property-lift"]
    assert (lift.name_zh, lift.name_en, lift.parent.code) == ("电梯", "Lifts", "property")
    assert "电梯" in lift.keywords.splitlines()
    assert lift.default_unit == cw.property_company
    assert cw.categories["noise"].default_unit == cw.street_department
    assert cw.categories["utilities-water"].default_unit is None  # no utility in this street yet
    normal = TimeLimit.objects.get(category=cw.categories["property"], urgency="normal")
    urgent = TimeLimit.objects.get(category=cw.categories["property"], urgency="urgent")
    assert (normal.response_amount, normal.response_unit, normal.resolve_amount, normal.resolve_unit) == (
        2, "hours", 5, "working_days")
    assert (urgent.response_amount, urgent.response_unit, urgent.resolve_amount, urgent.resolve_unit) == (
        1, "hours", 24, "hours")
    event = Event.objects.get(verb="cases.categories_installed")
    assert (event.actor, len(event.data["categories"]), event.data["time_limits"]) == (cw.users["admin"], 24, 48)


def test_installing_the_defaults_twice_adds_nothing(cw):
    counts = (Category.objects.count(), TimeLimit.objects.count(), Event.objects.count())
    assert install_default_categories(actor=cw.users["admin"], community=cw.y) == []
    assert (Category.objects.count(), TimeLimit.objects.count(), Event.objects.count()) == counts


def test_default_units_are_chosen_by_kind_and_name(world):
    street = world.street
    K = Organisation.Kind
    social = Organisation.objects.create(kind=K.STREET_DEPARTMENT, name="驷马桥街道社会事务科", street=street)
    city = Organisation.objects.create(kind=K.STREET_DEPARTMENT, name="驷马桥街道城市管理科", street=street)
    order = Organisation.objects.create(kind=K.STREET_DEPARTMENT, name="驷马桥街道综治中心", street=street)
    water = Organisation.objects.create(kind=K.UTILITY, name="金牛供水服务所", street=street)
    power = Organisation.objects.create(kind=K.UTILITY, name="金牛供电中心", street=street)
    gas = Organisation.objects.create(kind=K.UTILITY, name="成都燃气金牛服务站", street=street)
    install_default_categories(actor=None, community=world.community)
    units = dict(Category.objects.filter(community=world.community).values_list("code", "default_unit"))
    assert units["property"] == world.property_company.pk
    assert (units["elderly"], units["social-security"], units["sanitation"], units["noise"]) == (
        social.pk, social.pk, city.pk, city.pk)
    assert (units["disputes"], units["safety-order"]) == (order.pk, order.pk)
    assert (units["utilities-water"], units["utilities-power"], units["utilities-gas"]) == (
        water.pk, power.pk, gas.pk)


def test_only_the_communitys_admin_may_install_the_defaults(world):
    for name in ("worker", "z_worker", "supervisor", "resident"):
        with pytest.raises(PermissionDenied):
            install_default_categories(actor=world.users[name], community=world.community)
    assert Category.objects.count() == 0


def test_the_install_defaults_command(world, capsys):
    call_command("cases_install_defaults", "--community", "Z")
    assert "24" in capsys.readouterr().out
    assert Category.objects.filter(community=world.other_community).count() == 24
    call_command("cases_install_defaults", "--community", "Z")
    assert Category.objects.filter(community=world.other_community).count() == 24
    with pytest.raises(CommandError):
        call_command("cases_install_defaults", "--community", "NOPE")


# --- who sees which cases -----------------------------------------------------------------------------


def test_each_role_sees_only_its_own_cases(cw):
    u = cw.users
    mine = bring_to(cw, "dispatched")                                   # G01, with the property company
    in_g02 = submit(cw, household=cw.world.households[4], actor="worker", reporter=None,
                    contact_phone="13912345678")                        # G02, submitted by staff
    other_unit = case_dispatch(actor=u["worker"], case=case_accept(actor=u["worker"], case=submit(
        cw, actor="other_resident", reporter=cw.world.residents[3])), unit=cw.other_property)
    z_case, _ = case_submit(actor=u["z_worker"], intake=Intake(
        community=cw.world.other_community, channel=Case.Channel.PHONE, description="Z社区路灯不亮",
        contact_phone="13900000901"))
    seen = {name: set(selectors.cases_for(u[name]).values_list("pk", flat=True)) for name in ACTORS}
    every_y = {mine.pk, in_g02.pk, other_unit.pk}
    assert seen["worker"] == seen["admin"] == seen["secretary"] == every_y
    assert seen["grid1"] == {mine.pk, other_unit.pk}
    assert seen["grid2"] == {in_g02.pk}
    assert seen["unit_staff"] == {mine.pk}
    assert seen["other_unit_staff"] == {other_unit.pk}
    assert seen["supervisor"] == every_y | {z_case.pk}
    assert seen["z_worker"] == {z_case.pk}
    assert seen["resident"] == {mine.pk}
    assert seen["other_resident"] == {other_unit.pk}
    assert seen["leader"] == seen["nobody"] == set()


def test_a_case_is_found_by_id_or_number_only_by_those_who_may_see_it(cw):
    case = bring_to(cw, "dispatched")
    u = cw.users
    assert selectors.case_get(u["unit_staff"], case.pk) == case
    assert selectors.case_get(u["resident"], case.number) == case
    assert selectors.case_get(u["grid1"], str(case.pk)) == case
    for user, key in ((u["grid2"], case.pk), (u["z_worker"], case.number), (u["other_unit_staff"], case.pk),
                      (u["worker"], "Y-19990101-0001"), (u["worker"], ""), (u["worker"], "9" * 30)):
        with pytest.raises(NotFound):
            selectors.case_get(user, key)


def test_queues_show_each_desk_its_work(cw):
    u = cw.users
    to_triage = submit(cw, description="请社区的同志来我家看看", category=None)
    to_accept = submit(cw)
    dispatched = bring_to(cw, "dispatched")
    in_progress = bring_to(cw, "in_progress")
    bring_to(cw, "resolved")
    assert list(selectors.triage_queue(u["worker"])) == [to_triage]
    assert list(selectors.acceptance_queue(u["worker"])) == [to_accept]
    assert set(selectors.unit_queue(u["unit_staff"])) == {dispatched, in_progress}
    assert list(selectors.unit_queue(u["other_unit_staff"])) == []
    assert list(selectors.unit_queue(u["worker"])) == []
    assert list(selectors.overdue_queue(u["worker"])) == []
    later = max(to_triage.response_due, to_accept.response_due) + dt.timedelta(minutes=1)
    # Nobody has accepted or rejected these two: their response clock ran from receipt. The
    # others were accepted (that is the response) and are within their resolution time.
    assert set(selectors.overdue_queue(u["worker"], now=later)) == {to_triage, to_accept}
    assert set(selectors.overdue_queue(u["worker"], now=in_progress.resolve_due
                                       + (in_progress.resolve_due - in_progress.accepted_at))) == {
        to_triage, to_accept, dispatched, in_progress}
    assert list(selectors.overdue_queue(u["grid2"], now=later)) == []


def test_similar_open_cases_are_same_category_and_courtyard_from_the_last_30_days(cw):
    case = submit(cw)
    twin = submit(cw, description="2单元电梯也坏了")
    closed = bring_to(cw, "closed")
    submit(cw, description="垃圾桶满了没人收", category=cw.categories["sanitation-waste"])
    submit(cw, household=cw.world.households[4])  # G02
    assert list(selectors.similar_open_cases(cw.users["worker"], case)) == [twin]
    assert closed not in selectors.similar_open_cases(cw.users["worker"], case)
    assert list(selectors.similar_open_cases(cw.users["worker"], case,
                                             now=case.created_at + dt.timedelta(days=31))) == []
    assert list(selectors.similar_open_cases(cw.users["grid2"], case)) == []
