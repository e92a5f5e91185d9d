"""Who sees and changes what, for every role of the world, allowed and denied.

The world (tests/conftest.py): community Y with grids G01 (buildings 0, 1) and G02
(buildings 2, 3), two households per building, 12 residents; community Z with one
household and one resident. Accounts: admin, worker, secretary (office of Y),
grid1 (G01), grid2 (G02), leader (building 0), unit_staff (property company of Y),
supervisor (the street), z_worker (office of Z), resident (lives in household 0),
nobody (no role) and the anonymous visitor.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from linli.community.models import Grid, Household, Resident, StaffRole
from linli.community.scope import forget_scope
from linli.community.selectors import (
    events_for, household_get, households_for, registry_counts, resident_get, resident_search,
    residents_for, street_overview,
)
from linli.community.services import ResidentFacts, resident_create, resident_reveal, resident_update
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.models import Event

from factories import make_id_number, make_phone

ROLES = ["admin", "worker", "grid1", "grid2", "secretary", "leader", "unit_staff", "supervisor",
         "z_worker", "resident", "nobody", "anonymous"]
TODAY = dt.date(2026, 1, 1)


def user_of(world, role):
    return AnonymousUser() if role == "anonymous" else world.users[role]


# Which residents each role may see, by name of a place of the world.
def _residents_in(world, place) -> set[int]:
    y = world.residents
    return {
        "Y": {r.pk for r in y},
        "G01": {r.pk for r in y if r.grid_id == world.grids[0].pk},
        "G02": {r.pk for r in y if r.grid_id == world.grids[1].pk},
        "B0": {r.pk for r in y if r.building_id == world.buildings[0].pk},
        "Z": {world.other_resident.pk},
        "own household": {r.pk for r in y if r.household_id == world.households[0].pk},
        "nothing": set(),
    }[place]


def _households_in(world, place) -> set[int]:
    return set(Resident.objects.filter(pk__in=_residents_in(world, place)).values_list("household_id", flat=True))


SEES = {
    "admin": "Y", "worker": "Y", "secretary": "Y", "grid1": "G01", "grid2": "G02", "leader": "B0",
    "unit_staff": "nothing", "supervisor": "nothing", "z_worker": "Z", "resident": "own household",
    "nobody": "nothing", "anonymous": "nothing",
}
COUNTS = {  # (households, residents): the same facts in numbers, for reading
    "admin": (8, 12), "worker": (8, 12), "secretary": (8, 12), "grid1": (4, 6), "grid2": (4, 6),
    "leader": (2, 3), "unit_staff": (0, 0), "supervisor": (0, 0), "z_worker": (1, 1),
    "resident": (1, 2), "nobody": (0, 0), "anonymous": (0, 0),
}


def _db_state():
    """Every row a write could touch, raw, plus the event log."""
    state = {}
    with connection.cursor() as cursor:
        for table in ("community_resident", "community_resident_tags", "community_household", "core_event"):
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            state[table] = cursor.fetchall()
    return state


# Reads ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_the_residents_and_households_of_its_place(world, role):
    user = user_of(world, role)
    residents = set(residents_for(user).values_list("pk", flat=True))
    households = set(households_for(user).values_list("pk", flat=True))
    assert residents == _residents_in(world, SEES[role])
    assert households == _households_in(world, SEES[role])
    assert (len(households), len(residents)) == COUNTS[role]
    assert registry_counts(user, today=TODAY)["residents"] == COUNTS[role][1]


def test_grid_worker_cannot_see_other_grid_residents(world):
    grid1 = world.users["grid1"]
    g2_resident = next(r for r in world.residents if r.grid_id == world.grids[1].pk)
    assert not residents_for(grid1).filter(pk=g2_resident.pk).exists()
    with pytest.raises(NotFound):
        resident_get(grid1, g2_resident.pk)
    assert not resident_search(grid1, query=g2_resident.phone.reveal()).exists()
    assert not resident_search(grid1, grid_id=world.grids[1].pk).exists()  # a filter never widens the scope


def test_community_worker_cannot_see_another_community(world):
    for role, other in (("worker", world.other_resident), ("z_worker", world.residents[0])):
        user = world.users[role]
        assert not resident_search(user, query=other.id_number.reveal()).exists()
        with pytest.raises(NotFound):
            resident_get(user, other.pk)


def test_handling_unit_staff_and_street_supervisor_see_no_personal_data(world):
    for role in ("unit_staff", "supervisor"):
        user = world.users[role]
        assert not residents_for(user).exists() and not households_for(user).exists()
        for r in world.residents:
            assert not resident_search(user, query=r.phone.reveal()).exists()


@pytest.mark.parametrize("role", ROLES)
def test_household_get_finds_only_households_in_scope(world, role):
    user = user_of(world, role)
    visible = _households_in(world, SEES[role])
    for hh in Household.objects.all():
        if hh.pk in visible:
            assert household_get(user, hh.pk) == hh
            assert household_get(user, str(hh.pk)) == hh
        else:
            with pytest.raises(NotFound):
                household_get(user, hh.pk)
    for bad in (None, "", "abc", -1, 10**12, "1 OR 1=1", [1]):
        with pytest.raises(NotFound):
            household_get(user, bad)
        with pytest.raises(NotFound):
            resident_get(user, bad)


@pytest.mark.parametrize("role", ROLES)
def test_resident_search_never_returns_rows_outside_the_scope(world, role):
    user = user_of(world, role)
    visible = _residents_in(world, SEES[role])
    for r in [*world.residents, world.other_resident]:
        expected = {r.pk} if r.pk in visible else set()
        for query in (r.phone.reveal(), r.id_number.reveal(), r.name.reveal(), "+86 " + r.phone.reveal()):
            assert set(resident_search(user, query=query).values_list("pk", flat=True)) == expected, query
    for query in ("张", "王", "", "13900000001", "nobody-at-all"):
        for grid in (None, *world.grids):
            found = set(resident_search(user, query=query, grid_id=grid and grid.pk).values_list("pk", flat=True))
            assert found <= visible
    assert set(resident_search(user, age_min=60, today=TODAY).values_list("pk", flat=True)) <= visible
    assert set(resident_search(user, tag_id=world.tags["alone"].pk).values_list("pk", flat=True)) <= visible


# Permissions ------------------------------------------------------------------

T, F = True, False
# Objects, in order: household 0 (G01, building 0; the resident's), household 2 (G01,
# building 1), household 4 (G02), the Z household.
VIEW_HOUSEHOLD = {
    "admin": [T, T, T, F], "worker": [T, T, T, F], "secretary": [T, T, T, F], "grid1": [T, T, F, F],
    "grid2": [F, F, T, F], "leader": [T, F, F, F], "unit_staff": [F, F, F, F], "supervisor": [F, F, F, F],
    "z_worker": [F, F, F, T], "resident": [T, F, F, F], "nobody": [F, F, F, F], "anonymous": [F, F, F, F],
}
# Residents, in order: 0 (the resident account's own record), 1 (their spouse), 3
# (G01, building 1), 6 (G02), the Z resident.
VIEW_RESIDENT = {
    "admin": [T, T, T, T, F], "worker": [T, T, T, T, F], "secretary": [T, T, T, T, F],
    "grid1": [T, T, T, F, F], "grid2": [F, F, F, T, F], "leader": [T, T, F, F, F],
    "unit_staff": [F] * 5, "supervisor": [F] * 5, "z_worker": [F, F, F, F, T],
    "resident": [T, T, F, F, F], "nobody": [F] * 5, "anonymous": [F] * 5,
}
REVEAL_RESIDENT = {
    "admin": [T, T, T, T, F], "worker": [T, T, T, T, F], "secretary": [F] * 5,  # sees, masked only
    "grid1": [T, T, T, F, F], "grid2": [F, F, F, T, F], "leader": [T, T, F, F, F],
    "unit_staff": [F] * 5, "supervisor": [F] * 5, "z_worker": [F, F, F, F, T],
    "resident": [T, F, F, F, F], "nobody": [F] * 5, "anonymous": [F] * 5,
}
CHANGE_RESIDENT = {
    "admin": [T, T, T, T, F], "worker": [T, T, T, T, F], "secretary": [F] * 5,
    "grid1": [T, T, T, F, F], "grid2": [F, F, F, T, F], "leader": [F] * 5,
    "unit_staff": [F] * 5, "supervisor": [F] * 5, "z_worker": [F, F, F, F, T],
    "resident": [F] * 5, "nobody": [F] * 5, "anonymous": [F] * 5,
}
# Permissions without an object, and import_residents on [Y, Z].
GLOBAL = {  # search_registry, view_street_overview, browse_events, use_console
    "admin": [T, F, T, T], "worker": [T, F, T, T], "secretary": [T, F, T, T], "grid1": [T, F, T, T],
    "grid2": [T, F, T, T], "leader": [T, F, F, T], "unit_staff": [F, F, F, T], "supervisor": [F, T, T, T],
    "z_worker": [T, F, T, T], "resident": [F, F, F, F], "nobody": [F, F, F, F], "anonymous": [F, F, F, F],
}
IMPORT = {role: [F, F] for role in ROLES} | {"admin": [T, F], "worker": [T, F], "z_worker": [F, T]}


def _households(world):
    return [world.households[0], world.households[2], world.households[4],
            world.other_resident.household]


def _residents(world):
    return [world.residents[0], world.residents[1], world.residents[3], world.residents[6], world.other_resident]


@pytest.mark.parametrize("role", ROLES)
def test_object_permissions_of_each_role(world, role):
    user = user_of(world, role)
    assert [user.has_perm("community.view_household", h) for h in _households(world)] == VIEW_HOUSEHOLD[role]
    assert [user.has_perm("community.view_resident", r) for r in _residents(world)] == VIEW_RESIDENT[role]
    assert [user.has_perm("community.reveal_resident", r) for r in _residents(world)] == REVEAL_RESIDENT[role]
    assert [user.has_perm("community.change_resident", r) for r in _residents(world)] == CHANGE_RESIDENT[role]
    # Registering someone in a household needs change_resident on the household.
    assert [user.has_perm("community.change_resident", h) for h in _households(world)] == [
        CHANGE_RESIDENT[role][0], CHANGE_RESIDENT[role][2], CHANGE_RESIDENT[role][3], CHANGE_RESIDENT[role][4]]
    communities = [world.community, world.other_community]
    assert [user.has_perm("community.import_residents", c) for c in communities] == IMPORT[role]
    assert [user.has_perm(p) for p in ("community.search_registry", "community.view_street_overview",
                                       "core.browse_events", "community.use_console")] == GLOBAL[role]


@pytest.mark.parametrize("perm", ["community.view_household", "community.view_resident",
                                  "community.reveal_resident", "community.change_resident",
                                  "community.import_residents", "core.view_event"])
@pytest.mark.parametrize("role", ROLES)
def test_object_permissions_without_an_object_are_denied(world, role, perm):
    assert not user_of(world, role).has_perm(perm, None)


@pytest.mark.parametrize("role", ROLES)
def test_view_permissions_agree_with_the_selectors(world, role):
    """The rules and the selectors answer "may this account see it?" the same way."""
    user = user_of(world, role)
    households = set(households_for(user).values_list("pk", flat=True))
    for hh in Household.objects.all():
        assert user.has_perm("community.view_household", hh) == (hh.pk in households)
    residents = set(residents_for(user).values_list("pk", flat=True))
    for r in Resident.objects.all():
        assert user.has_perm("community.view_resident", r) == (r.pk in residents)
    events = set(events_for(user).values_list("pk", flat=True))
    for e in Event.objects.all():
        assert user.has_perm("core.view_event", e) == (e.pk in events)


# Events and the street overview ---------------------------------------------------

EVENTS = {  # the world's creation events: Y has 8 households + 12 residents, Z 1 + 1
    "admin": 20, "worker": 20, "secretary": 20, "grid1": 10, "grid2": 10, "leader": 0, "unit_staff": 0,
    "supervisor": 22, "z_worker": 2, "resident": 0, "nobody": 0, "anonymous": 0,
}


@pytest.mark.parametrize("role", ROLES)
def test_events_are_scoped_to_the_roles_place(world, role):
    user = user_of(world, role)
    events = list(events_for(user))
    assert len(events) == EVENTS[role]
    for e in events:
        if role in ("admin", "worker", "secretary"):
            assert e.community_id == world.community.pk
        elif role in ("grid1", "grid2"):
            assert e.grid_id == world.grids[0 if role == "grid1" else 1].pk
        elif role == "z_worker":
            assert e.community_id == world.other_community.pk
        elif role == "supervisor":
            assert e.street_id == world.street.pk
    assert events_for(user, verb="resident.").count() == len([e for e in events if e.verb == "resident.created"])


def test_grid_worker_sees_no_events_of_another_grid(world):
    grid1 = world.users["grid1"]
    assert not events_for(grid1).filter(grid_id=world.grids[1].pk).exists()
    assert not events_for(grid1).exclude(grid_id=world.grids[0].pk).exists()


def _personal_strings(world) -> list[str]:
    out = []
    for r in [*world.residents, world.other_resident]:
        for f in ("name", "phone", "id_number", "address"):
            v = getattr(r, f)
            if v is not None:
                out += [v.reveal(), str(v)]
    return out


def test_street_supervisor_gets_aggregates_without_personal_data(world):
    rows = street_overview(world.users["supervisor"], today=TODAY)
    assert [row["community"] for row in rows] == [world.community, world.other_community]
    y, z = rows
    assert set(y) == {"community", "grids", "households", "residents", "age_bands", "living_alone_60"}
    assert (y["grids"], y["households"], y["residents"]) == (2, 8, 12)
    assert (z["grids"], z["households"], z["residents"]) == (1, 1, 1)
    # Birth years 1943, 1946 ... 1976 (every 3 years) in 2026.
    assert y["age_bands"] == {"0–17": 0, "18–34": 0, "35–59": 4, "60–79": 6, "80+": 2}
    assert z["age_bands"] == {"0–17": 0, "18–34": 0, "35–59": 1, "60–79": 0, "80+": 0}
    assert (y["living_alone_60"], z["living_alone_60"]) == (2, 0)  # born 1949 and 1958, alone
    for row in rows:
        for key, value in row.items():
            if key == "age_bands":
                assert all(isinstance(n, int) for n in value.values())
            elif key != "community":
                assert isinstance(value, int)
    text = repr(rows)
    assert not [s for s in _personal_strings(world) if s in text]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "supervisor"])
def test_only_street_supervisors_get_the_street_overview(world, role):
    assert street_overview(user_of(world, role), today=TODAY) == []


# Writes: denied ones change nothing -------------------------------------------------

def _update(world, actor, resident, variant=0):
    r = Resident.objects.get(pk=resident.pk)
    facts = ResidentFacts.clean(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=f"1370000000{variant}",
                                address="改过的地址")
    return resident_update(actor=actor, resident=r, facts=facts)


def _reveal(world, actor, resident, variant=0):
    return resident_reveal(actor=actor, resident=Resident.objects.get(pk=resident.pk), field="phone",
                           reason="上门走访需要联系")


def _create(world, actor, household, variant=0):
    facts = ResidentFacts.clean(name="新来的", id_number=make_id_number(dt.date(1990, 1, 1), 777),
                                phone=make_phone(777))
    return resident_create(actor=actor, household=Household.objects.get(pk=household.pk), facts=facts)


# The target: resident 2 (G01, building 0, household 1) and household 1.
WRITES = {
    "update": (_update, {"admin", "worker", "grid1"}),
    "reveal": (_reveal, {"admin", "worker", "grid1", "leader"}),
    "create": (_create, {"admin", "worker", "grid1"}),
}


def _target(world, action):
    return world.households[1] if action == "create" else world.residents[2]


DENIED = [(role, action) for action in sorted(WRITES) for role in ROLES if role not in WRITES[action][1]]


@pytest.mark.parametrize("role, action", DENIED)
def test_denied_writes_raise_permission_denied_and_change_nothing(world, role, action):
    write, allowed = WRITES[action]
    before = _db_state()
    with pytest.raises(PermissionDenied):
        write(world, user_of(world, role), _target(world, action))
    assert _db_state() == before


@pytest.mark.parametrize("action", sorted(WRITES))
def test_allowed_writes_succeed_and_write_one_event(world, action):
    write, allowed = WRITES[action]
    for variant, role in enumerate(sorted(allowed)):
        count = Event.objects.count()
        result = write(world, world.users[role], _target(world, action), variant=variant)
        assert result
        assert Event.objects.count() == count + 1
        if action == "create":  # the same person once per community
            Resident.objects.filter(pk=result.pk).delete()


def test_building_leader_can_reveal_but_not_change(world):
    leader = world.users["leader"]
    r = world.residents[2]  # building 0
    assert _reveal(world, leader, r) == r.phone.reveal()
    with pytest.raises(PermissionDenied):
        _update(world, leader, r)


def test_party_secretary_sees_the_registry_masked_but_cannot_reveal(world):
    secretary = world.users["secretary"]
    assert residents_for(secretary).count() == 12
    with pytest.raises(PermissionDenied):
        _reveal(world, secretary, world.residents[0])


def test_resident_can_reveal_only_their_own_data(world):
    me, spouse = world.residents[0], world.residents[1]
    user = world.users["resident"]
    assert _reveal(world, user, me) == me.phone.reveal()
    before = _db_state()
    with pytest.raises(PermissionDenied):
        _reveal(world, user, spouse)
    assert _db_state() == before


def test_grid_worker_cannot_move_a_resident_into_another_grid(world):
    grid1 = world.users["grid1"]
    r = Resident.objects.get(pk=world.residents[2].pk)
    g2_household = world.households[4]
    before = _db_state()
    facts = ResidentFacts.clean(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=r.phone.reveal(),
                                address=r.address.reveal())
    with pytest.raises(PermissionDenied):
        resident_update(actor=grid1, resident=r, facts=facts, household=g2_household)
    assert _db_state() == before


def test_nobody_can_move_a_resident_into_another_community(world):
    admin = world.users["admin"]
    r = Resident.objects.get(pk=world.residents[2].pk)
    facts = ResidentFacts.clean(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=r.phone.reveal(),
                                address=r.address.reveal())
    before = _db_state()
    with pytest.raises((PermissionDenied, InvalidInput)):
        resident_update(actor=admin, resident=r, facts=facts, household=world.other_resident.household)
    with pytest.raises(InvalidInput):
        resident_update(actor=None, resident=r, facts=facts, household=world.other_resident.household)
    assert _db_state() == before


def test_office_staff_can_move_a_resident_within_the_community(world):
    r = Resident.objects.get(pk=world.residents[2].pk)
    target = world.households[4]  # G02
    facts = ResidentFacts.clean(name=r.name.reveal(), id_number=r.id_number.reveal(), phone=r.phone.reveal(),
                                address=r.address.reveal())
    assert resident_update(actor=world.users["worker"], resident=r, facts=facts, household=target) == ["household"]
    r = Resident.objects.get(pk=r.pk)
    assert (r.household_id, r.grid_id, r.building_id) == (target.pk, target.grid_id, target.building_id)
    assert r.pk in residents_for(world.users["grid2"]).values_list("pk", flat=True)
    assert r.pk not in residents_for(world.users["grid1"]).values_list("pk", flat=True)


# Accounts whose roles do not count ----------------------------------------------------

def test_an_inactive_role_grants_nothing(world):
    StaffRole.objects.filter(user=world.users["grid1"]).update(active=False)
    user = get_user_model().objects.get(username="grid1")
    assert not residents_for(user).exists()
    assert not user.has_perm("community.view_resident", world.residents[0])


def test_a_deactivated_account_sees_nothing(world):
    user = get_user_model().objects.get(username="admin")
    user.is_active = False
    user.save()
    forget_scope(user)
    assert not residents_for(user).exists() and not households_for(user).exists()
    assert not events_for(user).exists()
    assert not user.has_perm("community.reveal_resident", world.residents[0])


def test_a_grid_outside_the_roles_community_grants_nothing(world):
    z_grid = Grid.objects.get(community=world.other_community)
    role = StaffRole.objects.get(user=world.users["grid2"])
    role.grids.add(z_grid)  # misconfigured: a Y grid worker given a Z grid
    user = get_user_model().objects.get(username="grid2")
    assert world.other_resident.pk not in residents_for(user).values_list("pk", flat=True)
    assert not user.has_perm("community.reveal_resident", world.other_resident)


def test_the_scope_is_rebuilt_for_another_account_on_the_same_object(world):
    user = get_user_model().objects.get(username="grid1")
    assert residents_for(user).count() == 6
    forget_scope(user)
    StaffRole.objects.filter(user=user).delete()
    assert residents_for(user).count() == 0


def test_superuser_without_a_role_cannot_reveal_or_change_residents(world):
    from django.contrib.auth import get_user_model
    from linli.community.services import ResidentFacts, resident_reveal, resident_update
    from linli.core.errors import PermissionDenied as Denied
    from linli.core.models import Event

    root = get_user_model().objects.create_superuser("root", password="x")
    resident = world.residents[0]
    before = Event.objects.count()
    with pytest.raises(Denied):
        resident_reveal(actor=root, resident=resident, field="phone", reason="curious")
    facts = ResidentFacts.clean(name="改名字", id_number=resident.id_number.reveal())
    with pytest.raises(Denied):
        resident_update(actor=root, resident=resident, facts=facts)
    assert Event.objects.count() == before
    assert Resident.objects.get(pk=resident.pk).name.reveal() == resident.name.reveal()
