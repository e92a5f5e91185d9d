"""The demo community, Y社区, at the scale of the paper.

Eleven real courtyards (linli/community/data/y_community.json, from OpenStreetMap)
become grids; their buildings get units, floors and rooms so that exactly the
asked number of households (14,789 by default) live in them; about 2.23 people
live in each, with the age structure of an older central-Chengdu community:
children, working adults, a quarter aged 60 and over, many elders living alone.
Party organisations, handling units and one sign-in for every role complete it.

Two steps, so that the people can be checked without a database:

* :func:`plan_demo` is pure: ``(seed, households, geometry) → DemoPlan``.
  Everything random comes from ``random.Random`` seeded with the seed and a
  phase name, ages are counted against :data:`REFERENCE_DATE`, and nothing
  iterates a set or depends on the clock, so one seed gives one community.
* :func:`build_demo` writes a plan in one transaction with ``bulk_create``,
  and records one ``community.seeded`` event.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _, gettext_lazy

from linli.community.models import (
    Building, Community, District, Grid, Household, Organisation, Resident, StaffRole, Street, Tag, Unit,
)
from linli.community.services import ResidentFacts
from linli.core import bulk, events
from linli.core.validators import id_check_digit

from . import names

# Ages are whole years counted against this day (Resident.age counts by birth
# year, so "age" below is REFERENCE_YEAR - birth_year): a seed gives the same
# community whatever day it is built.
REFERENCE_DATE = dt.date(2026, 1, 1)
REFERENCE_YEAR = REFERENCE_DATE.year

DEFAULT_SEED = 2024
DEFAULT_HOUSEHOLDS = 14_789
MIN_HOUSEHOLDS = 200        # a few households in every building
MAX_HOUSEHOLDS = 200_000

DEMO_PASSWORD = "linli-demo-2026"
DISTRICT_CODE, DISTRICT_NAME = "510106", "金牛区"
STREET_CODE, STREET_NAME = "510106017", "沙河源街道"
COMMUNITY_CODE, COMMUNITY_NAME = "510106017001", "Y社区"

BATCH = 2000

R = Resident.Relation
K = Organisation.Kind

TAGS = (
    ("alone-elder", "独居老人"),
    ("over-80", "高龄老人"),
    ("disabled", "残疾人"),
    ("low-income", "低保户"),
    ("veteran", "退役军人"),
    ("left-behind-child", "留守儿童"),
)


class DemoError(Exception):
    """The demo cannot be built here (bad arguments, or it is already there)."""


# ---------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------

def load_geometry() -> dict:
    """The shipped map of Y社区 (courtyards, buildings), read from the package."""
    text = resources.files("linli.community").joinpath("data", "y_community.json").read_text("utf-8")
    return json.loads(text)


# ---------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------

@dataclass
class PersonPlan:
    name: str
    id_number: str
    relation: str
    age: int
    phone: str = ""
    address: str = ""
    note: str = ""
    is_party_member: bool = False
    tags: tuple[str, ...] = ()

    @property
    def gender(self) -> str:
        return "M" if int(self.id_number[16]) % 2 else "F"

    @property
    def birth_year(self) -> int:
        return int(self.id_number[6:10])


@dataclass
class HouseholdPlan:
    grid: int          # index into DemoPlan.grids
    building: int      # index into DemoPlan.buildings
    unit: str
    room: str
    kind: str
    members: list[PersonPlan] = field(default_factory=list)


@dataclass
class BuildingPlan:
    grid: int
    name: str
    style: str
    floors: int
    units: tuple[str, ...]
    latitude: float
    longitude: float
    osm_id: str


@dataclass
class GridPlan:
    code: str
    name: str
    latitude: float
    longitude: float
    boundary: list
    road: str
    door_number: int


@dataclass
class DemoPlan:
    seed: int
    community: dict
    grids: list[GridPlan]
    buildings: list[BuildingPlan]
    households: list[HouseholdPlan]
    resident_account: tuple[int, int]   # (household index, member index)

    def residents(self):
        for household in self.households:
            yield from household.members

    @property
    def resident_count(self) -> int:
        return sum(len(h.members) for h in self.households)


# Building styles: (floors range, units range, rooms per floor range).
STYLES = {
    "walkup": ((6, 7), (2, 4), (2, 2)),      # 1980s–90s 老小区, no lift
    "midrise": ((11, 17), (2, 3), (2, 3)),   # 2000s 小高层
    "highrise": ((20, 33), (2, 2), (3, 4)),  # 2010s 高层
}
STYLE_NAMES = ("walkup", "midrise", "highrise")
# Share of each style per courtyard, from what the courtyards are (杨柳新屯 and
# 泉水社区 are old walk-up estates; 天悦城 and 源上金府 recent towers).
COURTYARD_STYLES = {
    "G01": (0.9, 0.1, 0.0), "G02": (0.3, 0.7, 0.0), "G03": (0.0, 0.3, 0.7),
    "G04": (0.4, 0.6, 0.0), "G05": (0.0, 0.5, 0.5), "G06": (0.85, 0.15, 0.0),
    "G07": (0.0, 0.2, 0.8), "G08": (0.0, 0.4, 0.6), "G09": (0.5, 0.5, 0.0),
    "G10": (0.0, 0.6, 0.4), "G11": (0.3, 0.7, 0.0),
}
DEFAULT_STYLE_MIX = (0.4, 0.5, 0.1)

# Household kinds and their base shares. Elders cluster in the old walk-ups,
# young families in the towers (the multipliers below).
KINDS = (
    ("elder_alone", 0.130),             # 独居老人
    ("single_adult", 0.140),
    ("elder_couple", 0.135),
    ("couple", 0.100),
    ("couple_child", 0.180),
    ("couple_two_children", 0.030),
    ("three_generation", 0.060),
    ("elder_with_child", 0.060),
    ("single_parent", 0.035),
    ("skipped_generation", 0.020),      # grandparents raising a grandchild
    ("elder_couple_with_child", 0.050),
    ("shared_rental", 0.030),
)
ELDER_KINDS = ("elder_alone", "elder_couple", "elder_with_child", "elder_couple_with_child",
               "skipped_generation")
YOUNG_KINDS = ("single_adult", "couple", "couple_child", "couple_two_children", "shared_rental")
STYLE_KIND_FACTOR = {"walkup": (1.45, 0.8), "midrise": (1.0, 1.0), "highrise": (0.6, 1.2)}

ELDER_AGES = ((60, 64, 30), (65, 69, 27), (70, 74, 20), (75, 79, 12), (80, 84, 8), (85, 89, 4),
              (90, 94, 1.5), (95, 100, 0.4))
# Those who live alone are older: mostly widowed.
ALONE_ELDER_AGES = ((60, 64, 12), (65, 69, 18), (70, 74, 22), (75, 79, 19), (80, 84, 15), (85, 89, 9),
                    (90, 94, 3.5), (95, 101, 1))


def _weighted(rng: random.Random, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def _band(rng: random.Random, bands) -> int:
    lo, hi, _w = rng.choices(bands, weights=[b[2] for b in bands], k=1)[0]
    return rng.randint(lo, hi)


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, ties by position)."""
    wsum = sum(weights)
    exact = [total * w / wsum for w in weights]
    parts = [math.floor(x) for x in exact]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def plan_places(rng: random.Random, geometry: dict, households: int):
    """Grids, buildings and the (building, unit, room) of every household."""
    grids: list[GridPlan] = []
    buildings: list[BuildingPlan] = []
    shapes = []  # per building: (units, rooms per floor)
    roads = geometry["community"].get("roads") or ["泉水东路"]
    for gi, yard in enumerate(geometry["courtyards"]):
        road = (yard.get("nearby_roads") or roads)[0]
        grids.append(GridPlan(
            code=yard["code"], name=yard["name"], latitude=yard["center"][0], longitude=yard["center"][1],
            boundary=yard["boundary"], road=road, door_number=rng.randint(1, 300),
        ))
        mix = COURTYARD_STYLES.get(yard["code"], DEFAULT_STYLE_MIX)
        for bi, b in enumerate(yard["buildings"]):
            style = _weighted(rng, STYLE_NAMES, mix)
            (f_lo, f_hi), (u_lo, u_hi), (r_lo, r_hi) = STYLES[style]
            floors, units, rooms = rng.randint(f_lo, f_hi), rng.randint(u_lo, u_hi), rng.randint(r_lo, r_hi)
            buildings.append(BuildingPlan(
                grid=gi, name=f"{bi + 1}栋", style=style, floors=floors,
                units=tuple(str(u + 1) for u in range(units)),
                latitude=b["position"][0], longitude=b["position"][1], osm_id=b.get("osm_id") or "",
            ))
            shapes.append((units, rooms))
    if households < len(buildings):
        raise DemoError(_("The demo needs at least one household per building (%(n)d).") % {"n": len(buildings)})
    # Every building gets one household, the rest go by capacity; the floors
    # then follow from how many live there (about 92% of rooms occupied).
    capacity = [b.floors * len(b.units) * shapes[i][1] for i, b in enumerate(buildings)]
    targets = [1 + n for n in apportion(households - len(buildings), capacity)]
    slots = []  # (building index, unit, room)
    for i, b in enumerate(buildings):
        units, rooms = shapes[i]
        occupancy = rng.uniform(0.88, 0.97)
        per_floor = units * rooms
        b.floors = max(1, math.ceil(targets[i] / (per_floor * occupancy)))
        b.floors = max(b.floors, math.ceil(targets[i] / per_floor))
        taken = sorted(rng.sample(range(b.floors * per_floor), targets[i]))
        for s in taken:
            unit, rest = divmod(s, b.floors * rooms)
            floor, pos = divmod(rest, rooms)
            slots.append((i, str(unit + 1), f"{floor + 1}{pos + 1:02d}"))
    return grids, buildings, slots


class _People:
    """Makes valid, unique people: ID numbers, phones, names, addresses."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.ids: set[str] = set()      # membership only, never iterated
        self.phones: set[str] = set()
        self._surnames = [s for s, _ in names.SURNAMES]
        self._surname_w = [w for _, w in names.SURNAMES]
        self._prefixes = [p for p, _ in names.MOBILE_PREFIXES]
        self._prefix_w = [w for _, w in names.MOBILE_PREFIXES]
        self._bands = sorted(names.GIVEN_NAMES)

    def surname(self) -> str:
        return _weighted(self.rng, self._surnames, self._surname_w)

    def given_name(self, birth_year: int, gender: str) -> str:
        band = next(b for b in self._bands if birth_year <= b)
        pool = names.GIVEN_NAMES[band]
        if self.rng.random() < 0.12:
            return self.rng.choice(pool["1" + gender])
        return self.rng.choice(pool[gender])

    def area(self, origin: str, birth_year: int) -> tuple[str, str]:
        rng = self.rng
        if origin == "chengdu":
            table = names.CHENGDU_OLD_AREAS if birth_year <= 1975 and rng.random() < 0.08 else names.CHENGDU_AREAS
        elif origin == "sichuan":
            table = names.SICHUAN_AREAS
        else:
            table = names.OTHER_AREAS
        code, _w, prefix = rng.choices(table, weights=[t[1] for t in table], k=1)[0]
        return code, prefix

    def id_number(self, area: str, birth_year: int, gender: str) -> str:
        rng = self.rng
        days = 366 if birth_year % 4 == 0 and (birth_year % 100 or birth_year % 400 == 0) else 365
        while True:
            birth = dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(days))
            serial = rng.randrange(500) * 2 + (1 if gender == "M" else 0)
            first17 = f"{area}{birth:%Y%m%d}{serial:03d}"
            if first17 not in self.ids:
                self.ids.add(first17)
                return first17 + id_check_digit(first17)

    def phone(self) -> str:
        while True:
            number = _weighted(self.rng, self._prefixes, self._prefix_w) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


def _has_phone(rng: random.Random, age: int) -> bool:
    if age < 14:
        return False
    if age >= 85:
        return rng.random() < 0.45
    if age >= 75:
        return rng.random() < 0.85
    return True


def _party_member(rng: random.Random, age: int) -> bool:
    if age < 18:
        return False
    rate = 0.035 if age < 35 else 0.06 if age < 60 else 0.09
    return rng.random() < rate


def _member_ages(rng: random.Random, kind: str) -> list[tuple[str, int, str | None]]:
    """(relation, age, gender or None for random) of a household's members, head first."""
    def spouse_of(age):
        return max(22, age - rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6)) if rng.random() < 0.85
                   else age + rng.randint(0, 4))

    def child_of(mother_age):
        return mother_age - rng.randint(22, 36)

    if kind == "elder_alone":
        return [(R.HEAD, _band(rng, ALONE_ELDER_AGES), "F" if rng.random() < 0.66 else "M")]
    if kind == "single_adult":
        age = rng.randint(20, 59) if rng.random() < 0.4 else rng.randint(22, 38)
        return [(R.HEAD, age, None)]
    if kind == "elder_couple":
        head = _band(rng, ELDER_AGES)
        return [(R.HEAD, head, "M"), (R.SPOUSE, max(58, spouse_of(head)), "F")]
    if kind == "couple":
        head = rng.randint(24, 34) if rng.random() < 0.55 else rng.randint(45, 59)
        return [(R.HEAD, head, "M"), (R.SPOUSE, spouse_of(head), "F")]
    if kind in ("couple_child", "couple_two_children", "three_generation"):
        if kind == "couple_child":   # many of these children are grown up and still at home
            head = rng.randint(30, 44) if rng.random() < 0.35 else rng.randint(45, 59)
        else:
            head = rng.randint(30, 48)
        wife = spouse_of(head)
        members = [(R.HEAD, head, "M"), (R.SPOUSE, wife, "F")]
        first = child_of(wife)
        if first < 1:
            first = rng.randint(1, 6)
        members.append((R.CHILD, first, None))
        if kind == "couple_two_children" or (kind == "three_generation" and rng.random() < 0.3):
            second = first - rng.randint(2, 8)
            members.append((R.CHILD, second if second >= 1 else 1, None))
        if kind == "three_generation":
            father = head + rng.randint(24, 32)
            if rng.random() < 0.45:
                members.append((R.PARENT, father, "M"))
                members.append((R.PARENT, max(father - rng.randint(0, 5), head + 20), "F"))
            else:
                members.append((R.PARENT, father - rng.randint(0, 4), "F" if rng.random() < 0.7 else "M"))
        return members
    if kind == "elder_with_child":
        head = _band(rng, ALONE_ELDER_AGES)
        return [(R.HEAD, head, "F" if rng.random() < 0.62 else "M"), (R.CHILD, max(20, head - rng.randint(24, 34)), None)]
    if kind == "single_parent":
        head = rng.randint(28, 50)
        child = head - rng.randint(22, 34)
        return [(R.HEAD, head, "F" if rng.random() < 0.75 else "M"), (R.CHILD, child if child >= 1 else 2, None)]
    if kind == "skipped_generation":
        head = rng.randint(56, 76)
        return [(R.HEAD, head, "M"), (R.SPOUSE, spouse_of(head), "F"), (R.GRANDCHILD, rng.randint(3, 16), None)]
    if kind == "elder_couple_with_child":
        head = _band(rng, ELDER_AGES)
        wife = max(58, spouse_of(head))
        return [(R.HEAD, head, "M"), (R.SPOUSE, wife, "F"), (R.CHILD, max(22, min(wife - 24, rng.randint(25, 42))), None)]
    if kind == "shared_rental":
        return [(R.HEAD, rng.randint(21, 35), None), (R.OTHER, rng.randint(21, 35), None)]
    raise ValueError(kind)


def _plan_household(people: _People, household: HouseholdPlan, grid: GridPlan, building: BuildingPlan) -> None:
    rng = people.rng
    roll = rng.random()
    origin = "chengdu" if roll < 0.72 else "sichuan" if roll < 0.90 else "other"
    if household.kind in ELDER_KINDS and origin != "chengdu" and rng.random() < 0.5:
        origin = "chengdu"
    door = (f"四川省成都市金牛区{grid.road}{grid.door_number}号{grid.name}"
            f"{building.name}{household.unit}单元{household.room}号")
    hukou_here = origin == "chengdu" and rng.random() < 0.8
    low_income = rng.random() < (0.04 if household.kind in ("elder_alone", "single_parent") else 0.01)
    left_behind = household.kind == "skipped_generation"
    head_surname = people.surname()
    # Heads of these kinds are men (the husband is listed as head in most registers).
    for relation, age, gender in _member_ages(rng, household.kind):
        age = max(1, min(age, 104))
        birth_year = REFERENCE_YEAR - age
        gender = gender or ("M" if rng.random() < 0.5 else "F")
        if relation in (R.CHILD, R.GRANDCHILD) and rng.random() < 0.9:
            surname = head_surname if household.members[0].gender == "M" else people.surname()
        elif relation == R.HEAD:
            surname = head_surname
        elif relation == R.PARENT and gender == "M":
            surname = head_surname
        else:
            surname = people.surname()
        person_origin = origin
        if relation in (R.CHILD, R.GRANDCHILD) and age < 18 and rng.random() < 0.6:
            person_origin = "chengdu"   # born here
        elif relation in (R.SPOUSE, R.OTHER) and rng.random() < 0.3:
            r = rng.random()
            person_origin = "chengdu" if r < 0.6 else "sichuan" if r < 0.9 else "other"
        area, prefix = people.area(person_origin, birth_year)
        id_number = people.id_number(area, birth_year, gender)
        if hukou_here and person_origin == "chengdu":
            address = door
        else:
            address = f"{prefix}{rng.choice(names.STREET_NAMES)}{rng.randint(1, 399)}号"
        person = PersonPlan(
            name=surname + people.given_name(birth_year, gender),
            id_number=id_number, relation=relation, age=age,
            phone=people.phone() if _has_phone(rng, age) else "",
            address=address, is_party_member=_party_member(rng, age),
        )
        household.members.append(person)
    alone = len(household.members) == 1
    for person in household.members:
        age, tags = person.age, []
        if alone and age >= 60:
            tags.append("alone-elder")
        if age >= 80:
            tags.append("over-80")
        disabled_rate = 0.005 if age < 18 else 0.015 if age < 60 else 0.04 if age < 80 else 0.08
        if rng.random() < disabled_rate:
            tags.append("disabled")
        if low_income:
            tags.append("low-income")
        if person.gender == "M" and age >= 22:
            if rng.random() < (0.02 if age < 40 else 0.05 if age < 60 else 0.06):
                tags.append("veteran")
        if left_behind and person.relation == R.GRANDCHILD and age < 18:
            tags.append("left-behind-child")
        person.tags = tuple(tags)
        note_rate = 0.03 if (alone and age >= 80) else 0.01 if age >= 75 else 0.001
        if rng.random() < note_rate:
            person.note = rng.choice(names.SENSITIVE_NOTES)


def plan_demo(*, seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS, geometry: dict | None = None,
              progress: "Progress | None" = None) -> DemoPlan:
    """The whole demo community in memory. Pure: the same arguments give the same plan."""
    if not MIN_HOUSEHOLDS <= households <= MAX_HOUSEHOLDS:
        raise DemoError(_("The number of households must be between %(lo)s and %(hi)s.")
                        % {"lo": f"{MIN_HOUSEHOLDS:,}", "hi": f"{MAX_HOUSEHOLDS:,}"})
    if seed < 0:
        raise DemoError(_("The seed must be zero or a positive number."))
    geometry = geometry if geometry is not None else load_geometry()
    grids, buildings, slots = plan_places(random.Random(f"{seed}:places"), geometry, households)
    rng = random.Random(f"{seed}:people")
    people = _People(rng)
    kinds = [k for k, _ in KINDS]
    weights_by_style = {}
    for style, (elder, young) in STYLE_KIND_FACTOR.items():
        weights_by_style[style] = [
            w * (elder if k in ELDER_KINDS else young if k in YOUNG_KINDS else 1.0) for k, w in KINDS
        ]
    planned: list[HouseholdPlan] = []
    if progress:
        progress.start(_("planning"), len(slots))
    for n, (bi, unit, room) in enumerate(slots, 1):
        building = buildings[bi]
        kind = _weighted(rng, kinds, weights_by_style[building.style])
        household = HouseholdPlan(grid=building.grid, building=bi, unit=unit, room=room, kind=kind)
        _plan_household(people, household, grids[building.grid], building)
        planned.append(household)
        if progress and n % 500 == 0:
            progress.update(n)
    if progress:
        progress.finish(len(slots))
    return DemoPlan(
        seed=seed, community=geometry["community"], grids=grids, buildings=buildings, households=planned,
        resident_account=_pick_resident_account(planned),
    )


def _pick_resident_account(households: list[HouseholdPlan]) -> tuple[int, int]:
    """A family head in the first courtyard, with a phone: the `resident` sign-in."""
    for preferred in (True, False):
        for hi, h in enumerate(households):
            head = h.members[0]
            if h.grid != 0 and preferred:
                continue
            if (not preferred or h.kind in ("couple_child", "three_generation")) and 30 <= head.age <= 55 and head.phone:
                return hi, 0
    return 0, 0


# ---------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SignIn:
    username: str
    password: str
    role: str
    sees: str


# Sign-ins the history adds (issue 12, linli/demo/canteen.py and services_demo.py), with what each
# may see: printed after the others where they exist.
HISTORY_SIGN_INS = (
    ("courier", gettext_lazy("delivery volunteer"),
     gettext_lazy("today's lunch round only: doors, masked names, dishes; marks delivered / not at home")),
    ("canteen", gettext_lazy("canteen staff"),
     gettext_lazy("the canteen's counter (QR code), menus, rounds and delivery sheet; names masked")),
    ("clinic", gettext_lazy("service provider's staff"),
     gettext_lazy("the health centre's services: slots, day lists with masked names, attended / no-show")),
)


def demo_usernames(grid_count: int = 11) -> list[str]:
    grid_users = [f"grid{i + 1:02d}" for i in range(grid_count)]
    return ["admin", "worker", *grid_users, "secretary", "leader", "property", "supervisor", "resident"]


# ---------------------------------------------------------------------------
# Writing the plan
# ---------------------------------------------------------------------------

class Progress:
    """A progress bar on a text stream: ``residents  7,000/33,012 ▕████░░░░▏``.

    Redrawn in place on a terminal; elsewhere (logs, pipes) one line per phase.
    """

    WIDTH = 24

    def __init__(self, stream, *, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled and stream is not None
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.label, self.total, self._last = "", 0, -1

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self._last = label, max(total, 1), -1
        self.update(0)

    def _line(self, n: int) -> str:
        filled = round(self.WIDTH * n / self.total)
        bar = "█" * filled + "░" * (self.WIDTH - filled)
        columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in self.label)
        return f"{self.label}{' ' * max(1, 12 - columns)}{n:>9,}/{self.total:,} ▕{bar}▏"

    def update(self, n: int) -> None:
        if not self.enabled or not self.tty:
            return
        step = round(self.WIDTH * n / self.total)
        if step != self._last:
            self._last = step
            self.stream.write("\r" + self._line(n))
            self.stream.flush()

    def finish(self, n: int | None = None) -> None:
        if not self.enabled:
            return
        self.stream.write(("\r" if self.tty else "") + self._line(self.total if n is None else n) + "\n")
        self.stream.flush()


@dataclass
class DemoResult:
    community: Community
    counts: dict
    sign_ins: list[SignIn]
    seconds: float


def demo_exists() -> bool:
    return Community.objects.filter(code=COMMUNITY_CODE).exists()


def _bulk(model, rows):
    """The small tables (grids, buildings, units, accounts, roles): ``bulk_create``, ids returned."""
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[start:start + BATCH])
    return rows


def _insert(model, rows, progress: Progress | None, label: str, *, ids: bool = False) -> None:
    """The big tables (households, residents, their tags): :mod:`linli.core.bulk` in batches,
    counted on ``progress``; with ``ids``, each row gets its id back."""
    if progress:
        progress.start(label, len(rows))
    write = bulk.insert_with_ids if ids else bulk.insert
    for start in range(0, len(rows), BATCH):
        write(model, rows[start:start + BATCH], batch_size=BATCH)
        if progress:
            progress.update(min(start + BATCH, len(rows)))
    if progress:
        progress.finish(len(rows))


def build_demo(*, seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS, geometry: dict | None = None,
               progress: Progress | None = None) -> DemoResult:
    """Plan and write the demo community; refuse (DemoError, nothing written) if it is there."""
    started = time.perf_counter()
    if demo_exists():
        raise DemoError(_("The demo community %(name)s (%(code)s) already exists in this database; "
                          "nothing was changed.") % {"name": COMMUNITY_NAME, "code": COMMUNITY_CODE})
    plan = plan_demo(seed=seed, households=households, geometry=geometry, progress=progress)
    usernames = demo_usernames(len(plan.grids))
    User = get_user_model()
    taken = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if taken:
        raise DemoError(_("These demo accounts already exist: %(names)s; nothing was changed.")
                        % {"names": ", ".join(taken)})
    with transaction.atomic():
        community = _write(plan, usernames, progress)
        # Before the first query over what was just written: on PostgreSQL a test database's
        # statistics may still describe the tables as nearly empty (they were analysed between
        # earlier tests), and the elders-alone count below then took a nested loop over 33,000
        # residents for minutes. ANALYZE in the loading transaction counts its own new rows.
        _analyze()
        counts = demo_counts(community)
        events.record(actor=None, verb="community.seeded", target=community, community=community,
                      data={"seed": seed, **counts})
    return DemoResult(community=community, counts=counts, sign_ins=describe_sign_ins(community),
                      seconds=time.perf_counter() - started)


def _write(plan: DemoPlan, usernames: list[str], progress: Progress | None) -> Community:
    district, _created = District.objects.get_or_create(code=DISTRICT_CODE, defaults={"name": DISTRICT_NAME})
    street, _created = Street.objects.get_or_create(
        code=STREET_CODE, defaults={"name": STREET_NAME, "district": district})
    c = plan.community
    community = Community.objects.create(
        street=street, code=COMMUNITY_CODE, name=COMMUNITY_NAME,
        latitude=c["center"][0], longitude=c["center"][1], boundary=c["boundary"],
    )
    grids = _bulk(Grid, [
        Grid(community=community, code=g.code, name=g.name, latitude=g.latitude, longitude=g.longitude,
             boundary=g.boundary) for g in plan.grids
    ])
    buildings = _bulk(Building, [
        Building(community=community, grid=grids[b.grid], name=b.name, floors=b.floors,
                 latitude=b.latitude, longitude=b.longitude, osm_id=b.osm_id) for b in plan.buildings
    ])
    units = {}
    unit_rows = []
    for bi, b in enumerate(plan.buildings):
        for number in b.units:
            unit = Unit(community=community, building=buildings[bi], number=number)
            units[(bi, number)] = unit
            unit_rows.append(unit)
    _bulk(Unit, unit_rows)
    tags = {code: Tag(community=community, code=code, name=name) for code, name in TAGS}
    _bulk(Tag, list(tags.values()))

    tenure = plan_tenure(plan)
    household_rows = [
        Household(community=community, grid=grids[h.grid], building=buildings[h.building],
                  unit=units[(h.building, h.unit)], room=h.room, floor_area=tenure[hi][0])
        for hi, h in enumerate(plan.households)
    ]
    _insert(Household, household_rows, progress, _("households"), ids=True)

    users = _write_accounts(plan, community, street, grids, buildings, usernames)

    resident_rows, tag_links = [], []
    account_hh, account_member = plan.resident_account
    for hi, h in enumerate(plan.households):
        household = household_rows[hi]
        for mi, p in enumerate(h.members):
            facts = ResidentFacts(name=p.name, id_number=p.id_number, phone=p.phone, address=p.address,
                                  note=p.note, relation=p.relation, is_party_member=p.is_party_member,
                                  is_owner=tenure[hi][1] and p.relation in OWNER_RELATIONS)
            resident = Resident(community=community, household=household, grid_id=household.grid_id,
                                building_id=household.building_id, **facts.as_model_fields())
            if (hi, mi) == (account_hh, account_member):
                resident.user = users["resident"]
            resident_rows.append(resident)
            tag_links.extend((resident, code) for code in p.tags)
    _insert(Resident, resident_rows, progress, _("residents"), ids=True)
    Through = Resident.tags.through
    _insert(Through, [Through(resident_id=r.pk, tag_id=tags[code].pk) for r, code in tag_links],
            progress, _("tags"))

    _write_organisations(plan, community, street, grids, users)
    return community


# Floor areas (建筑面积 of the flat, m²) by building kind, and the share of flats lived in by
# their owners (the rest rented; shared rentals always). Owners of record: the head and spouse.
FLOOR_AREAS = {"walkup": (45, 90), "midrise": (62, 125), "highrise": (75, 140)}
OWNER_OCCUPIED = {"walkup": 0.86, "midrise": 0.8, "highrise": 0.72}
UNKNOWN_AREA = 0.02          # flats whose area the registry has not been told
OWNER_RELATIONS = (Resident.Relation.HEAD, Resident.Relation.SPOUSE)


def plan_tenure(plan: "DemoPlan") -> list[tuple[Decimal | None, bool]]:
    """Per household of the plan: the flat's floor area (None: unknown) and whether its family
    owns it. Drawn from its own stream of the seed, so the rest of the plan does not move."""
    rng = random.Random(f"{plan.seed}:tenure")
    out = []
    for h in plan.households:
        style = plan.buildings[h.building].style
        lo, hi = FLOOR_AREAS[style]
        area = Decimal(rng.randint(lo * 100, hi * 100)) / 100
        owned = rng.random() < OWNER_OCCUPIED[style] and h.kind != "shared_rental"
        out.append((None if rng.random() < UNKNOWN_AREA else area, owned))
    return out


def _analyze() -> None:
    """Refresh the planner's statistics after a bulk load, in the loading transaction.

    Without them SQLite has no idea that a phone's blind index matches one row
    and a community id 33,000: it may walk the community index for a phone
    look-up (25 ms instead of under 1 ms at full scale).
    """
    bulk.analyze(Resident, Household, Building, Unit, Grid, Resident.tags.through)


def _write_accounts(plan, community, street, grids, buildings, usernames) -> dict:
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)   # hashed once, shared by every demo account
    users = {}
    for username in usernames:
        admin = username == "admin"
        users[username] = User(username=username, password=password, is_staff=admin, is_superuser=admin)
    _bulk(User, list(users.values()))
    if users["admin"].pk is None:
        for u in User.objects.filter(username__in=usernames):
            users[u.username].pk = u.pk
            users[u.username].id = u.pk
    return users


def _write_organisations(plan, community, street, grids, users) -> None:
    """Party committee, 12 branches, 10 groups, residents' committee, handling units; staff roles."""
    def org(kind, name, *, local=True, parent=None, on=()):
        o = Organisation.objects.create(kind=kind, name=name, community=community if local else None,
                                        street=street, parent=parent)
        if on:
            o.grids.set(on)
        return o

    committee = org(K.PARTY_COMMITTEE, f"中共{COMMUNITY_NAME}委员会", on=grids)
    branches = []
    for g in grids:
        branches.append(org(K.PARTY_BRANCH, f"{g.name}网格党支部", parent=committee, on=[g]))
    branches.append(org(K.PARTY_BRANCH, "离退休党员党支部", parent=committee, on=grids))
    # Ten residents' party groups, in the ten courtyards with most households.
    per_grid = [0] * len(grids)
    for h in plan.households:
        per_grid[h.grid] += 1
    busiest = sorted(range(len(grids)), key=lambda i: (-per_grid[i], i))[:10]
    for i in sorted(busiest):
        org(K.PARTY_GROUP, f"{grids[i].name}居民党小组", parent=branches[i], on=[grids[i]])
    org(K.RESIDENTS_COMMITTEE, f"{COMMUNITY_NAME}居民委员会", on=grids)
    property_company = org(K.PROPERTY_COMPANY, "蓉城安居物业服务有限公司", on=grids)
    for name in ("城市管理科", "社会事务科", "综治中心", "应急管理办公室", "社区发展治理办公室"):
        org(K.STREET_DEPARTMENT, f"{STREET_NAME}{name}", local=False)
    for name in ("成都市自来水有限责任公司金牛供水服务所", "国网成都供电公司金牛供电中心", "成都燃气金牛服务站"):
        org(K.UTILITY, name, local=False)
    org(K.PARTNER, "金牛区乐邻社会工作服务中心", on=grids)

    Role = StaffRole.Role
    roles = [
        (users["admin"], StaffRole(user=users["admin"], role=Role.COMMUNITY_ADMIN, community=community), [], []),
        (users["worker"], StaffRole(user=users["worker"], role=Role.COMMUNITY_WORKER, community=community), [], []),
    ]
    for i, g in enumerate(grids):
        user = users[f"grid{i + 1:02d}"]
        roles.append((user, StaffRole(user=user, role=Role.GRID_WORKER, community=community), [g], []))
    roles.append((users["secretary"], StaffRole(user=users["secretary"], role=Role.PARTY_SECRETARY,
                                                community=community), [], []))
    first_grid_buildings = list(Building.objects.filter(grid=grids[0]).order_by("pk")[:2])
    roles.append((users["leader"], StaffRole(user=users["leader"], role=Role.BUILDING_LEADER,
                                             community=community), [], first_grid_buildings))
    roles.append((users["property"], StaffRole(user=users["property"], role=Role.UNIT_STAFF, community=community,
                                               organisation=property_company), [], []))
    roles.append((users["supervisor"], StaffRole(user=users["supervisor"], role=Role.STREET_SUPERVISOR,
                                                 street=street), [], []))
    _bulk(StaffRole, [r for _u, r, _g, _b in roles])
    if roles[0][1].pk is None:
        for _u, r, _g, _b in roles:
            r.pk = StaffRole.objects.get(user=r.user, role=r.role).pk
    GridLink, BuildingLink = StaffRole.grids.through, StaffRole.buildings.through
    _bulk(GridLink, [GridLink(staffrole_id=r.pk, grid_id=g.pk) for _u, r, gs, _b in roles for g in gs])
    _bulk(BuildingLink, [BuildingLink(staffrole_id=r.pk, building_id=b.pk) for _u, r, _g, bs in roles for b in bs])


def demo_counts(community: Community) -> dict:
    year = REFERENCE_YEAR
    residents = Resident.objects.filter(community=community)
    # Elders alone, counted here rather than by an IN (… GROUP BY … HAVING) subquery, whose plan
    # depends on the statistics of tables just loaded: one scan of household ids, whatever the plan.
    size = Counter(residents.values_list("household_id", flat=True))
    elders = list(residents.filter(birth_year__lte=year - 60).values_list("household_id", flat=True))
    return {
        "grids": Grid.objects.filter(community=community).count(),
        "buildings": Building.objects.filter(community=community).count(),
        "units": Unit.objects.filter(community=community).count(),
        "households": Household.objects.filter(community=community).count(),
        "residents": residents.count(),
        "children": residents.filter(birth_year__gt=year - 18).count(),
        "aged_60_plus": len(elders),
        "aged_80_plus": residents.filter(birth_year__lte=year - 80).count(),
        "elders_alone": sum(1 for household in elders if size[household] == 1),
        "party_members": residents.filter(is_party_member=True).count(),
        "organisations": Organisation.objects.filter(community=community).count()
        + Organisation.objects.filter(street=community.street, community__isnull=True).count(),
    }


def describe_sign_ins(community: Community) -> list[SignIn]:
    """The demo accounts as they are in the database, with what each may see."""
    User = get_user_model()
    Role = StaffRole.Role
    usernames = demo_usernames(Grid.objects.filter(community=community).count())
    found = {u.username: u for u in User.objects.filter(username__in=usernames)}
    out = []
    for username in usernames:
        user = found.get(username)
        if user is None:
            continue
        role = (StaffRole.objects.filter(user=user).select_related("organisation", "street")
                .prefetch_related("grids", "buildings").order_by("pk").first())
        if role is None:
            resident = Resident.objects.filter(user=user).select_related("household__building", "household__unit",
                                                                             "grid").first()
            if resident is None:
                continue
            sees = _("own household (%(grid)s %(door)s), masked; reveals only own record") % {
                "grid": resident.grid.name, "door": resident.household.door}
            out.append(SignIn(username, DEMO_PASSWORD, _("resident"), sees))
            continue
        if role.role == Role.COMMUNITY_ADMIN:
            sees = _("whole community; reveals with a reason; imports; Django admin at /admin/")
        elif role.role == Role.COMMUNITY_WORKER:
            sees = _("whole community; reveals with a reason; edits and imports residents")
        elif role.role == Role.GRID_WORKER:
            grids = ", ".join(f"{g.code} {g.name}" for g in role.grids.all().order_by("code"))
            sees = _("own grid only: %(grids)s") % {"grids": grids}
        elif role.role == Role.PARTY_SECRETARY:
            sees = _("whole community, masked; cannot reveal")
        elif role.role == Role.BUILDING_LEADER:
            blds = ", ".join(f"{b.grid.name} {b.name}" for b in role.buildings.select_related("grid").order_by("pk"))
            sees = _("own buildings only: %(buildings)s") % {"buildings": blds}
        elif role.role == Role.UNIT_STAFF:
            sees = _("no personal data; staff of %(org)s") % {"org": role.organisation}
        elif role.role == Role.STREET_SUPERVISOR:
            sees = _("counts per community of %(street)s; no personal data") % {"street": role.street}
        else:
            sees = ""
        out.append(SignIn(username, DEMO_PASSWORD, str(role.get_role_display()), sees))
    present = set(User.objects.filter(username__in=[name for name, _r, _s in HISTORY_SIGN_INS])
                  .values_list("username", flat=True))
    out += [SignIn(name, DEMO_PASSWORD, str(role), str(sees)) for name, role, sees in HISTORY_SIGN_INS
            if name in present]
    return out
