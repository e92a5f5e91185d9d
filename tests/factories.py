"""Helpers the tests share: valid identity numbers, users with roles, the small world's shape.

Kept out of conftest.py on purpose: pytest imports every conftest.py under the module name
``conftest``, so ``from conftest import ...`` picks whichever was imported last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from linli.community.models import Building, Community, Grid, Organisation, Resident, StaffRole, Street
from linli.core.validators import id_check_digit

PASSWORD = "pw-for-tests-only"


def make_id_number(birth: dt.date, serial: int, area: str = "510106") -> str:
    """A valid 18-character ID number (GB 11643 check digit)."""
    first17 = f"{area}{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_digit(first17)


def make_phone(n: int) -> str:
    return f"139{n:08d}"


@dataclass
class World:
    community: Community
    other_community: Community
    street: Street
    grids: list[Grid]
    buildings: list[Building]
    households: list = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    users: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    property_company: Organisation | None = None
    other_resident: Resident | None = None


def _user(username, **extra):
    User = get_user_model()
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


def _role(user, role, community=None, street=None, organisation=None, grids=(), buildings=()):
    r = StaffRole.objects.create(user=user, role=role, community=community, street=street,
                                 organisation=organisation)
    if grids:
        r.grids.set(grids)
    if buildings:
        r.buildings.set(buildings)
    return r


# The states a case passes through on its usual road, in order, and who moves it each step.
CASE_ROAD = ("submitted", "accepted", "dispatched", "in_progress", "resolved", "closed")


def move_case_to(case, state: str, users: dict, *, resolution: str = "已处理完毕"):
    """A submitted case moved along the usual road to ``state`` by the right people: the worker
    accepts and dispatches, the unit's staff start and resolve, the resident rates (closed)."""
    from linli.cases.models import Case
    from linli.cases.services import case_accept, case_dispatch, case_rate, case_resolve, case_start

    steps = (
        lambda c: case_accept(actor=users["worker"], case=c),
        lambda c: case_dispatch(actor=users["worker"], case=c),
        lambda c: case_start(actor=users["unit_staff"], case=c),
        lambda c: case_resolve(actor=users["unit_staff"], case=c, resolution=resolution),
        lambda c: case_rate(actor=users["resident"], case=c, rating=Case.Rating.SATISFIED),
    )
    for step in steps[:CASE_ROAD.index(state)]:
        case = step(case)
    return case
