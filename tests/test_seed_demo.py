"""The demo community (linli seed-demo, linli demo): its shape, its people, its accounts.

Most tests seed a small version (300 households in the real 11 courtyards); the
age structure is checked on the full-scale plan, which needs no database, and one
slow test writes the full community.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client
from django.utils import translation

from linli.demo import community as demo
from linli.community.models import (
    Building, Community, District, Grid, Household, Organisation, Resident, StaffRole, Street, Tag, Unit,
)
from linli.community.services import ResidentFacts, resident_blind_indexes
from linli.core.models import Event
from linli.core.validators import id_birth_date, id_gender, validate_id_number, validate_phone

SMALL = 300
YEAR = demo.REFERENCE_YEAR
K = Organisation.Kind
Role = StaffRole.Role


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English, whatever catalogue is compiled."""
    with translation.override("en"):
        yield


def seed(households=SMALL, seed_value=11, *extra):
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", "--households", str(households), "--seed", str(seed_value), *extra,
                 stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def point_in_polygon(point, ring) -> bool:
    """Even-odd ray casting on [lat, lon] pairs."""
    y, x = point
    inside = False
    for i in range(len(ring)):
        y1, x1 = ring[i]
        y2, x2 = ring[(i + 1) % len(ring)]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def snapshot():
    """What a seed decides, as comparable values (blind indexes, ages, places)."""
    rows = Resident.objects.order_by("pk").values_list(
        "id_index", "name_index", "surname_index", "phone_index", "birth_year", "gender", "relation",
        "is_party_member", "grid__code", "building__name", "household__unit__number", "household__room")
    return list(rows), {m.__name__: m.objects.count() for m in (Household, Resident, Building, Unit, Organisation)}


def table_counts():
    User = get_user_model()
    return {m.__name__: m.objects.count() for m in (
        District, Street, Community, Grid, Building, Unit, Household, Resident, Tag, Organisation, StaffRole,
        User, Event, Resident.tags.through)}


@pytest.fixture
def small_demo(db):
    seed()
    return Community.objects.get(code=demo.COMMUNITY_CODE)


# --- determinism -------------------------------------------------------------------------

def test_plan_is_the_same_for_the_same_seed_and_differs_for_another():
    a = demo.plan_demo(seed=5, households=SMALL)
    b = demo.plan_demo(seed=5, households=SMALL)
    c = demo.plan_demo(seed=6, households=SMALL)
    people = lambda p: [(r.name, r.id_number, r.phone, r.address, r.age, r.tags) for r in p.residents()]
    assert people(a) == people(b)
    assert [(h.building, h.unit, h.room, h.kind) for h in a.households] == \
           [(h.building, h.unit, h.room, h.kind) for h in b.households]
    assert people(a) != people(c)
    assert len({r.id_number for r in a.residents()} & {r.id_number for r in c.residents()}) < 5


def test_seeding_is_deterministic_in_the_database(db):
    def seeded(seed_value):
        sid = transaction.savepoint()
        seed(SMALL, seed_value)
        snap = snapshot()
        transaction.savepoint_rollback(sid)
        assert not Community.objects.exists()
        return snap

    first, again, other = seeded(11), seeded(11), seeded(12)
    assert first == again
    assert first[0] != other[0]
    assert first[1]["Household"] == other[1]["Household"] == SMALL
    assert {r[0] for r in first[0]} != {r[0] for r in other[0]}


def test_ages_are_counted_from_the_reference_date_not_today():
    plan = demo.plan_demo(seed=3, households=SMALL)
    for person in plan.residents():
        assert person.birth_year == YEAR - person.age


# --- scale and structure ---------------------------------------------------------------------

def test_full_scale_plan_has_the_paper_structure():
    plan = demo.plan_demo()   # seed 2024, 14,789 households, no database
    people = list(plan.residents())
    n = len(people)
    ages = [p.age for p in people]
    assert len(plan.households) == 14_789
    assert 32_000 <= n <= 34_500                        # about 33,000, ~2.23 a household
    assert 0.12 <= sum(a < 18 for a in ages) / n <= 0.145
    assert 0.23 <= sum(a >= 60 for a in ages) / n <= 0.28
    assert 0.025 <= sum(a >= 80 for a in ages) / n <= 0.06
    alone = [h for h in plan.households if len(h.members) == 1 and h.members[0].age >= 60]
    assert 0.09 <= len(alone) / len(plan.households) <= 0.14
    assert 0.04 <= sum(p.is_party_member for p in people) / n <= 0.065
    kinds = Counter(h.kind for h in plan.households)
    assert kinds["three_generation"] > 500 and kinds["elder_couple"] > 1000 and kinds["couple_child"] > 2000
    assert len(plan.grids) == 11 and len(plan.buildings) == 160
    assert len({r.id_number for r in people}) == n
    phones = [r.phone for r in people if r.phone]
    assert len(set(phones)) == len(phones)


def test_small_demo_counts_and_all_ages(small_demo):
    c = small_demo
    assert Household.objects.filter(community=c).count() == SMALL
    residents = Resident.objects.filter(community=c)
    n = residents.count()
    assert 2.0 * SMALL <= n <= 2.5 * SMALL
    children = residents.filter(birth_year__gt=YEAR - 18).count()
    working = residents.filter(birth_year__lte=YEAR - 18, birth_year__gt=YEAR - 60).count()
    elders = residents.filter(birth_year__lte=YEAR - 60).count()
    oldest = residents.filter(birth_year__lte=YEAR - 80).count()
    assert children > 0 and working > 0 and elders > 0 and oldest > 0
    assert children + working + elders == n
    assert working > elders > children / 2
    relations = set(residents.values_list("relation", flat=True))
    assert {"head", "spouse", "child", "parent", "grandchild"} <= relations
    assert residents.filter(is_party_member=True).exists()
    # every household has exactly one head
    heads = Counter(residents.filter(relation="head").values_list("household_id", flat=True))
    assert len(heads) == SMALL and set(heads.values()) == {1}


def test_elders_living_alone_are_tagged_and_tags_are_plausible(small_demo):
    c = small_demo
    tags = {t.code: t for t in Tag.objects.filter(community=c)}
    assert sorted(tags) == sorted(code for code, _ in demo.TAGS)
    assert {t.name for t in tags.values()} == {"独居老人", "高龄老人", "残疾人", "低保户", "退役军人", "留守儿童"}
    alone_elders = set()
    for h in Household.objects.filter(community=c).prefetch_related("residents"):
        members = list(h.residents.all())
        if len(members) == 1 and members[0].birth_year <= YEAR - 60:
            alone_elders.add(members[0].pk)
    assert len(alone_elders) >= SMALL * 0.06
    assert set(tags["alone-elder"].residents.values_list("pk", flat=True)) == alone_elders
    over_80 = set(Resident.objects.filter(community=c, birth_year__lte=YEAR - 80).values_list("pk", flat=True))
    assert set(tags["over-80"].residents.values_list("pk", flat=True)) == over_80
    for code in ("left-behind-child",):
        for r in tags[code].residents.all():
            assert r.birth_year > YEAR - 18 and r.relation == "grandchild"
    for r in tags["veteran"].residents.all():
        assert r.gender == "M" and r.birth_year <= YEAR - 22
    n = Resident.objects.filter(community=c).count()
    assert tags["disabled"].residents.count() < 0.08 * n


def test_residents_have_valid_unique_personal_data(small_demo):
    residents = list(Resident.objects.filter(community=small_demo).select_related("grid"))
    ids, phones, local, notes = set(), set(), 0, 0
    for r in residents:
        id_number = r.id_number.reveal()
        assert validate_id_number(id_number, today=dt.date(2026, 1, 1)) == id_number
        assert id_gender(id_number) == r.gender
        birth = id_birth_date(id_number)
        assert birth.year == r.birth_year and r.birth_date.reveal() == birth.isoformat()
        ids.add(id_number)
        local += id_number.startswith("5101")
        phone = r.phone.reveal() if r.phone is not None else ""
        if phone:
            assert validate_phone(phone) == phone
            phones.add(phone)
        if YEAR - r.birth_year < 14:
            assert not phone, "young children have no phone"
        address = r.address.reveal()
        assert address.startswith(("四川省", "重庆市", "北京市", "上海市")) or "省" in address or "自治区" in address
        if r.note is not None:
            notes += 1
        name = r.name.reveal()
        assert 2 <= len(name) <= 4 and " " not in name
        assert {**resident_blind_indexes(name=name, id_number=id_number, phone=phone)} == {
            "name_index": r.name_index, "surname_index": r.surname_index,
            "id_index": r.id_index, "phone_index": r.phone_index}
        # what the registry form would accept
        ResidentFacts.clean(name=name, id_number=id_number, phone=phone, address=address,
                            relation=r.relation)
    assert len(ids) == len(residents)
    assert len(phones) == sum(1 for r in residents if r.phone is not None)
    assert local >= 0.6 * len(residents)           # mostly Chengdu area codes
    assert local < len(residents)                  # and some from elsewhere
    assert notes < 0.02 * len(residents)
    here = sum(1 for r in residents if r.address.reveal().startswith("四川省成都市金牛区"))
    assert here >= 0.4 * len(residents)


# --- places -------------------------------------------------------------------------------

def test_eleven_grids_inside_their_courtyards(small_demo):
    geometry = demo.load_geometry()
    grids = list(Grid.objects.filter(community=small_demo).order_by("code"))
    assert [g.code for g in grids] == [f"G{i:02d}" for i in range(1, 12)]
    assert [g.name for g in grids] == [y["name"] for y in geometry["courtyards"]]
    assert small_demo.latitude and small_demo.longitude and len(small_demo.boundary) >= 3
    for g in grids:
        assert point_in_polygon((g.latitude, g.longitude), g.boundary), g.code
        buildings = list(g.buildings.order_by("pk"))
        assert len(buildings) >= 10
        assert [b.name for b in buildings] == [f"{i}栋" for i in range(1, len(buildings) + 1)]
        for b in buildings:
            assert point_in_polygon((b.latitude, b.longitude), g.boundary), (g.code, b.name)
            assert 2 <= b.units.count() <= 4
            assert b.floors >= 1
        assert g.households.exists()
    # every household's room is on a floor its building has, in a unit of its building
    for h in Household.objects.filter(community=small_demo).select_related("building", "unit"):
        assert h.unit.building_id == h.building_id and h.grid_id == h.building.grid_id
        assert 1 <= int(h.room[:-2]) <= h.building.floors


def test_plan_works_for_any_courtyard_map():
    geometry = {
        "community": {"name": "T", "center": [30.0, 104.0], "boundary": [[29.9, 103.9], [29.9, 104.1], [30.1, 104.1]]},
        "courtyards": [
            {"code": "G01", "name": "甲院", "center": [30.0, 104.0], "boundary": [[29.99, 103.99], [29.99, 104.01], [30.01, 104.01], [30.01, 103.99]],
             "buildings": [{"osm_id": None, "synthetic": True, "position": [30.0, 104.0]}] * 3},
            {"code": "G02", "name": "乙院", "center": [30.05, 104.05], "boundary": [[30.04, 104.04], [30.04, 104.06], [30.06, 104.06]],
             "buildings": [{"osm_id": "way/1", "synthetic": False, "position": [30.05, 104.05]}] * 2},
        ],
    }
    plan = demo.plan_demo(seed=1, households=250, geometry=geometry)
    assert len(plan.households) == 250 and len(plan.grids) == 2
    assert [b.name for b in plan.buildings] == ["1栋", "2栋", "3栋", "1栋", "2栋"]
    assert plan.buildings[3].osm_id == "way/1"
    rooms = [(h.building, h.unit, h.room) for h in plan.households]
    assert len(set(rooms)) == len(rooms)


# --- organisations -----------------------------------------------------------------------

def test_party_organisation_and_handling_units(small_demo):
    c = small_demo
    grids = set(Grid.objects.filter(community=c))
    local = Organisation.objects.filter(community=c)
    committee = local.get(kind=K.PARTY_COMMITTEE)
    branches = list(local.filter(kind=K.PARTY_BRANCH).prefetch_related("grids"))
    assert len(branches) == 12
    for b in branches:
        assert b.parent == committee and b.grids.exists()
    assert set().union(*[set(b.grids.all()) for b in branches]) == grids
    groups = list(local.filter(kind=K.PARTY_GROUP).select_related("parent").prefetch_related("grids", "parent__grids"))
    assert len(groups) == 10
    for g in groups:
        assert g.parent.kind == K.PARTY_BRANCH
        assert g.grids.count() == 1 and set(g.grids.all()) <= set(g.parent.grids.all())
    assert local.filter(kind=K.RESIDENTS_COMMITTEE).count() == 1
    assert local.filter(kind=K.PROPERTY_COMPANY).count() == 1
    # The volunteers' partner, and issue 12's: the canteen's organisation and the service providers'.
    assert local.filter(kind=K.PARTNER).count() >= 1
    street_units = Organisation.objects.filter(street=c.street, community__isnull=True)
    departments = set(street_units.filter(kind=K.STREET_DEPARTMENT).values_list("name", flat=True))
    assert any("城市管理" in n for n in departments) and any("社会事务" in n for n in departments)
    assert any("综治" in n for n in departments)
    utilities = " ".join(street_units.filter(kind=K.UTILITY).values_list("name", flat=True))
    assert "水" in utilities and "供电" in utilities and "燃气" in utilities
    handling = [o for o in Organisation.objects.all() if o.is_handling_unit]
    assert len(handling) >= 1 + 3 + 3 + 1


# --- accounts ----------------------------------------------------------------------------------

EXPECTED_ROLES = {
    "admin": Role.COMMUNITY_ADMIN, "worker": Role.COMMUNITY_WORKER, "secretary": Role.PARTY_SECRETARY,
    "leader": Role.BUILDING_LEADER, "property": Role.UNIT_STAFF, "supervisor": Role.STREET_SUPERVISOR,
    **{f"grid{i:02d}": Role.GRID_WORKER for i in range(1, 12)},
}


def test_every_demo_account_has_its_role_and_can_sign_in(small_demo):
    c = small_demo
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=demo.demo_usernames())}
    assert sorted(users) == sorted([*EXPECTED_ROLES, "resident"])
    assert len({u.password for u in users.values()}) == 1      # hashed once, shared
    for username, role in EXPECTED_ROLES.items():
        roles = list(StaffRole.objects.filter(user=users[username]))
        assert [r.role for r in roles] == [role], username
    for i, grid in enumerate(Grid.objects.filter(community=c).order_by("code"), 1):
        role = StaffRole.objects.get(user=users[f"grid{i:02d}"])
        assert list(role.grids.all()) == [grid] and role.community == c
    leader = StaffRole.objects.get(user=users["leader"])
    assert leader.buildings.count() == 2 and {b.grid.code for b in leader.buildings.all()} == {"G01"}
    prop = StaffRole.objects.get(user=users["property"])
    assert prop.organisation.kind == K.PROPERTY_COMPANY and prop.organisation.community == c
    assert StaffRole.objects.get(user=users["supervisor"]).street == c.street
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(u.is_superuser for n, u in users.items() if n != "admin")
    resident = Resident.objects.get(user=users["resident"])
    assert resident.grid.code == "G01" and resident.community == c
    assert not StaffRole.objects.filter(user=users["resident"]).exists()
    for username in users:
        assert Client().login(username=username, password=demo.DEMO_PASSWORD), username
    assert not Client().login(username="admin", password="wrong")


def test_sign_ins_describe_every_account(small_demo):
    sign_ins = demo.describe_sign_ins(small_demo)
    names = [s.username for s in sign_ins]
    assert names[:len(demo.demo_usernames())] == demo.demo_usernames()
    # Then the history's sign-ins (issue 12), those the history made, in their order.
    history = [name for name, _role, _sees in demo.HISTORY_SIGN_INS]
    assert names[len(demo.demo_usernames()):] == [n for n in history if n in names]
    assert all(s.password == demo.DEMO_PASSWORD and s.role and s.sees for s in sign_ins)
    by_name = {s.username: s for s in sign_ins}
    assert "杨柳新屯" in by_name["grid01"].sees and "兴元绿洲" in by_name["grid11"].sees
    assert "1栋" in by_name["leader"].sees


def test_one_seeded_event_with_counts(small_demo):
    events = list(Event.objects.filter(verb="community.seeded"))
    assert len(events) == 1
    e = events[0]
    assert e.community_id == small_demo.pk and e.actor is None and e.actor_label == "system"
    assert e.data["households"] == SMALL and e.data["seed"] == 11
    assert e.data["residents"] == Resident.objects.count()
    # Besides the events of what the history derives (cases, need tags, hot issues, alerts) and
    # the defaults it installs (categories, the official holidays), one event for the whole community.
    derived = ("case.", "cases.", "needs.", "household_need.", "hotissue.", "alert.", "holidays.",
               "voucher.", "books.", "disclosure.", "transparency.",
               # the year of residents deciding (linli.demo.decide)
               "deliberation", "funds.", "evaluation.", "vote.", "voting.",
               # two years of neighbours helping (linli.demo.volunteers)
               "volunteer", "service_record", "points.",
               # everyday services (linli.demo.canteen, linli.demo.services_demo)
               "canteen.", "services.", "services_slot.")
    assert [e.verb for e in Event.objects.all() if not e.verb.startswith(derived)] == ["community.seeded"]


# --- the command -----------------------------------------------------------------------------

def test_command_reports_and_shows_progress_unless_quiet(db):
    out, err = seed(SMALL, 4)
    assert "300 households" in out and "Y社区" in out
    assert "residents" in err and "▕" in err


def test_quiet_prints_nothing(db):
    out, err = seed(SMALL, 4, "--quiet")
    assert out == "" and err == ""
    assert Household.objects.count() == SMALL


def test_seeding_twice_refuses_and_changes_nothing(small_demo):
    before = table_counts()
    with pytest.raises(CommandError, match="already exists"):
        seed(SMALL, 99)
    assert table_counts() == before


@pytest.mark.parametrize("args", [
    ["--households", "0"], ["--households", "-5"], ["--households", "199"], ["--households", "200001"],
    ["--seed", "-1"], ["--households", "many"], ["--seed", "1.5"],
])
def test_bad_arguments_give_a_clear_error_and_change_nothing(db, args):
    before = table_counts()
    with pytest.raises(CommandError) as info:
        call_command("seed_demo", *args, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(info.value)
    assert "--households" in message or "--seed" in message or "whole number" in message
    assert table_counts() == before


def test_existing_demo_usernames_refuse_before_writing(db):
    get_user_model().objects.create_user("leader", password="x")
    before = table_counts()
    with pytest.raises(CommandError, match="leader"):
        seed()
    assert table_counts() == before


# --- linli demo --------------------------------------------------------------------------------

def test_demo_command_prints_sign_ins_and_serves_with_host_and_port(small_demo, monkeypatch):
    from linli.demo.management.commands import demo as demo_command

    calls = []
    real = demo_command.call_command

    def spy(name, *args, **kwargs):
        calls.append(name)
        if name == "serve":
            calls.append((kwargs["host"], kwargs["port"]))
            return None
        if name == "collectstatic":
            return None  # writes into LINLI_DATA_DIR; not this test's business
        return real(name, *args, **kwargs)

    monkeypatch.setattr(demo_command, "call_command", spy)
    out = io.StringIO()
    call_command("demo", "--host", "127.0.0.1", "--port", "8123", stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    # already seeded: no seed_demo
    assert calls == ["migrate", "collectstatic", "serve", ("127.0.0.1", 8123)]
    for username in demo.demo_usernames():
        assert f"  {username} " in text
    assert demo.DEMO_PASSWORD in text


def test_demo_command_leaves_a_database_with_other_communities_alone(world):
    before = table_counts()
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out, stderr=io.StringIO())
    assert "not seeded" in out.getvalue()
    assert table_counts() == before


def test_demo_command_rejects_a_bad_port(db):
    with pytest.raises(CommandError, match="port"):
        call_command("demo", "--port", "0", "--no-serve", stdout=io.StringIO())


@pytest.mark.slow
def test_full_scale_seed(db):
    out, _err = seed(demo.DEFAULT_HOUSEHOLDS, demo.DEFAULT_SEED, "--quiet")
    c = Community.objects.get(code=demo.COMMUNITY_CODE)
    assert Household.objects.filter(community=c).count() == 14_789
    assert 32_000 <= Resident.objects.filter(community=c).count() <= 34_500
    assert Grid.objects.filter(community=c).count() == 11
    assert Building.objects.filter(community=c).count() == 160


def test_demo_command_seeds_once_prints_sign_ins_once_and_mentions_hot_issues_and_alerts(db, monkeypatch):
    """Issue 8 C10: seeding through `linli demo` listed the accounts twice (the seed command's
    line, then the table) and said nothing of the hot issues and alerts it built."""
    from linli.demo.management.commands import demo as demo_command

    real = demo_command.call_command
    monkeypatch.setattr(demo_command, "call_command",
                        lambda name, *a, **k: None if name == "collectstatic" else real(name, *a, **k))
    out = io.StringIO()
    call_command("demo", "--no-serve", "--households", str(SMALL), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert Community.objects.filter(code=demo.COMMUNITY_CODE).count() == 1
    everyone = demo.demo_usernames() + [name for name, _role, _sees in demo.HISTORY_SIGN_INS]
    assert text.count(demo.DEMO_PASSWORD) == len(everyone)  # one table row each, nothing else
    lines = text.splitlines()
    for username in everyone:
        assert sum(line.startswith(f"  {username} ") for line in lines) == 1
    assert "Demo accounts" not in text
    assert "Hot issues:" in text and "formed from the history" in text
    assert "Early warning:" in text


# --- the demo resident's own requests (issue 8, C7) ----------------------------------------------

def test_the_demo_residents_requests_are_their_own(small_demo):
    """The resident one signs in as sees "my requests": requests they raised in the app, in the
    first person, in their own courtyard; one being handled, one resolved and awaiting their
    rating, several closed with their rating. No hotline notes about someone else, no other
    courtyard's problems."""
    from linli.cases.models import Case

    user = get_user_model().objects.get(username="resident")
    me = Resident.objects.get(user=user)
    mine = list(Case.objects.filter(reporter=me).order_by("created_at"))
    assert len(mine) >= 5
    for case in mine:
        assert case.channel == Case.Channel.WEB and case.submitted_by_id == user.pk, case.number
        assert "我" in case.description and "来电" not in case.description.replace("没来电", ""), case.description
        assert case.grid_id == me.grid_id, case.description
        if case.place == Case.Place.HOME:
            assert case.household_id == me.household_id
    S = Case.Status
    assert any(c.status in (S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS) for c in mine)
    assert any(c.status == S.RESOLVED and not c.rating for c in mine)
    assert sum(1 for c in mine if c.status == S.CLOSED and c.rating) >= 3
    # Nobody else's words: the hotline and the desk take other residents' requests.
    assert not Case.objects.filter(submitted_by=user).exclude(reporter=me).exists()
