"""Shared fixtures: a small world of two communities built through the real services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import translation

from linli.community.models import (
    Building, Community, District, Grid, Organisation, StaffRole, Street, Tag, Unit,
)
from linli.community.services import ResidentFacts, household_get_or_create, resident_create

from factories import PASSWORD, World, _role, _user, make_id_number, make_phone  # noqa: F401


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _signing_key_outside_the_data_dir(settings, tmp_path):
    """No test reads or writes the checkpoint signing key of the data dir (the demo makes one
    when none is configured): a missing one in the test's own directory unless it sets another."""
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "disclosure-signing.key")


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts in the site's language: a request through the test client activates the
    language it asked for (LocaleMiddleware) in this thread and leaves it there, so without this a
    test's own ``gettext`` would speak whatever the previous test in the process asked for."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_classifier_cache():
    """Each test's database is new: forget which classifier versions were active."""
    from linli.insight import intake

    intake.clear_cache()


@pytest.fixture
def world(db) -> World:
    """Y community (grids G01, G02; two buildings each; 8 households; 12 residents),
    a second community Z with one resident, and an account for every role."""
    with transaction.atomic():
        district = District.objects.create(code="510106", name="金牛区")
        street = Street.objects.create(district=district, code="510106001", name="驷马桥街道")
        y = Community.objects.create(street=street, code="Y", name="Y社区")
        z = Community.objects.create(street=street, code="Z", name="Z社区")
        grids = [Grid.objects.create(community=y, code=f"G0{i}", name=f"{i}号院") for i in (1, 2)]
        buildings = []
        for g in grids:
            for n in (1, 2):
                buildings.append(Building.objects.create(community=y, grid=g, name=f"{g.code}-{n}栋"))
        tags = {
            "alone": Tag.objects.create(community=y, code="alone-elder", name="独居老人"),
            "disabled": Tag.objects.create(community=y, code="disabled", name="残疾人"),
        }
        w = World(community=y, other_community=z, street=street, grids=grids, buildings=buildings, tags=tags)
        surnames = ["张", "王", "李", "刘", "陈", "杨"]
        serial = 0
        for b in buildings:
            unit = Unit.objects.create(community=y, building=b, number="1")
            for room in ("101", "102"):
                hh, _ = household_get_or_create(actor=None, unit=unit, room=room)
                w.households.append(hh)
                members = 2 if room == "101" else 1
                for m in range(members):
                    serial += 1
                    birth = dt.date(1940 + serial * 3, 1 + serial % 12, 1 + serial % 28)
                    facts = ResidentFacts.clean(
                        name=f"{surnames[serial % 6]}{'小明' if m == 0 else '丽'}{serial}",
                        id_number=make_id_number(birth, serial),
                        phone=make_phone(serial),
                        address=f"四川省成都市金牛区驷马桥路{serial}号",
                        relation="head" if m == 0 else "spouse",
                    )
                    r = resident_create(actor=None, household=hh, facts=facts,
                                        tags=[tags["alone"]] if members == 1 and birth.year < 1960 else [])
                    w.residents.append(r)
        # Z community: one resident, for cross-community checks.
        zg = Grid.objects.create(community=z, code="G01", name="Z1号院")
        zb = Building.objects.create(community=z, grid=zg, name="Z-1栋")
        zu = Unit.objects.create(community=z, building=zb, number="1")
        zh, _ = household_get_or_create(actor=None, unit=zu, room="101")
        w.other_resident = resident_create(actor=None, household=zh, facts=ResidentFacts.clean(
            name="赵云", id_number=make_id_number(dt.date(1980, 5, 5), 901), phone=make_phone(901)))

        w.property_company = Organisation.objects.create(
            kind=Organisation.Kind.PROPERTY_COMPANY, name="安居物业", community=y, street=street)
        R = StaffRole.Role
        u = w.users
        u["admin"] = _user("admin"); _role(u["admin"], R.COMMUNITY_ADMIN, community=y)
        u["worker"] = _user("worker"); _role(u["worker"], R.COMMUNITY_WORKER, community=y)
        u["grid1"] = _user("grid1"); _role(u["grid1"], R.GRID_WORKER, community=y, grids=[grids[0]])
        u["grid2"] = _user("grid2"); _role(u["grid2"], R.GRID_WORKER, community=y, grids=[grids[1]])
        u["secretary"] = _user("secretary"); _role(u["secretary"], R.PARTY_SECRETARY, community=y)
        u["leader"] = _user("leader"); _role(u["leader"], R.BUILDING_LEADER, community=y, buildings=[buildings[0]])
        u["unit_staff"] = _user("unit_staff")
        _role(u["unit_staff"], R.UNIT_STAFF, community=y, organisation=w.property_company)
        u["supervisor"] = _user("supervisor"); _role(u["supervisor"], R.STREET_SUPERVISOR, street=street)
        u["z_worker"] = _user("z_worker"); _role(u["z_worker"], R.COMMUNITY_WORKER, community=z)
        u["resident"] = _user("resident")
        first = w.residents[0]
        first.user = u["resident"]
        first.save(update_fields=["user"])
        u["nobody"] = _user("nobody")
    return w
