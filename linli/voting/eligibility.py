"""Who may vote, from the registry (docs/voting.md).

A vote's scope is its process's: the whole community, or the grids (courtyards) the process
names. Within it:

- ``adults``: every resident aged 18 or over; one vote each (``r:<resident id>``).
- ``households``: one vote per household, cast by any of its members aged 18 or over
  (``h:<household id>``).
- ``owners``: one vote per 专有部分 (exclusive part, here: a household's flat), cast by an owner
  of record (``Resident.is_owner``) of a flat whose floor area is known (``h:<household id>``),
  weighed by that floor area.

The owners' roll follows the Supreme People's Court's interpretation on the division of
ownership of buildings (法释〔2009〕7号, arts. 8–9): the area is the exclusive parts' floor
area as registered, and the number of owners is counted by exclusive parts, one part one
owner. Its exception (one buyer holding several parts counts once; unsold parts of the
developer count once) cannot be seen in the registry, which records people by the flat
they live in; docs/voting.md says what a community does about it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _

from linli.community.models import Household, Resident

from .models import Participation, Vote

ADULT_AGE = 18


@dataclass(frozen=True)
class RollSummary:
    people: int          # residents aged 18 or over in scope
    households: int      # households in scope with at least one such resident
    owners: int          # exclusive parts in scope with an owner of record and a known floor area
    owner_area: Decimal  # the sum of those parts' floor areas (m²)


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


def is_adult(resident: Resident, *, today: dt.date | None = None) -> bool:
    """Aged 18 or over on ``today``. The birth year (in clear) decides, except in the year a
    resident turns 18, when the sealed birth date is read (never shown, never logged)."""
    today = _today(today)
    years = today.year - resident.birth_year
    if years != ADULT_AGE:
        return years > ADULT_AGE
    try:
        born = dt.date.fromisoformat(resident.birth_date.reveal()) if resident.birth_date else None
    except (ValueError, TypeError):
        born = None
    if born is None:
        return False  # unknown day in the year of turning 18: not yet, to be safe
    return (today.month, today.day) >= (born.month, born.day)


def scope_grid_ids(vote: Vote) -> set[int]:
    """The grids of the vote's process (empty: the whole community)."""
    process = vote.process
    cache = getattr(process, "_scope_grid_ids", None)
    if cache is None:
        cache = set(process.grids.values_list("pk", flat=True))
        process._scope_grid_ids = cache
    return cache


def in_scope(vote: Vote, resident: Resident) -> bool:
    if resident.community_id != vote.process.community_id:
        return False
    grids = scope_grid_ids(vote)
    return not grids or resident.grid_id in grids


def voter_key(vote: Vote, resident: Resident) -> str:
    """``r:<resident id>`` for "adults"; ``h:<household id>`` for "households" and "owners"."""
    if vote.eligibility == Vote.Eligibility.ADULTS:
        return f"r:{resident.pk}"
    return f"h:{resident.household_id}"


def eligible(vote: Vote, resident: Resident | None, *, today: dt.date | None = None) -> tuple[bool, str]:
    """Whether this resident may vote in this vote, and if not, why (translated)."""
    if resident is None:
        return False, _("Your account is not linked to a resident of the registry.")
    if resident.household_id is None:
        return False, _("You are not registered in a household.")
    if resident.community_id != vote.process.community_id:
        return False, _("This vote is for another community.")
    if not in_scope(vote, resident):
        return False, _("This vote is for other courtyards than yours.")
    if vote.eligibility == Vote.Eligibility.OWNERS:
        if not resident.is_owner:
            return False, _("This vote is for owners of record; you are not registered as an owner.")
        if resident.household.floor_area is None:
            return False, _("The floor area of your flat is not in the registry; ask the community office to add it.")
        return True, ""
    if not is_adult(resident, today=today):
        return False, _("This vote is for residents aged 18 or over.")
    return True, ""


def _residents_in_scope(vote: Vote):
    qs = Resident.objects.filter(community_id=vote.process.community_id)
    grids = scope_grid_ids(vote)
    if grids:
        qs = qs.filter(grid_id__in=grids)
    return qs


def roll(vote: Vote, *, today: dt.date | None = None) -> RollSummary:
    """The size of the electorate from the registry, as of ``today``."""
    today = _today(today)
    residents = _residents_in_scope(vote)
    cutoff = today.year - ADULT_AGE
    clear = residents.filter(birth_year__lt=cutoff).values_list("pk", "household_id")
    adult_households = {}
    for pk, household in clear:
        adult_households[pk] = household
    for r in residents.filter(birth_year=cutoff).only("pk", "household_id", "birth_year", "birth_date"):
        if is_adult(r, today=today):
            adult_households[r.pk] = r.household_id
    owner_households = Household.objects.filter(
        pk__in=residents.filter(is_owner=True).values("household_id"), floor_area__isnull=False)
    figures = owner_households.aggregate(area=Sum("floor_area"))
    return RollSummary(
        people=len(adult_households),
        households=len(set(adult_households.values())),
        owners=owner_households.count(),
        owner_area=Decimal(figures["area"] or 0),
    )



def has_voted(vote: Vote, resident: Resident) -> bool:
    """Whether this resident (for household and owners' votes: their household) took part,
    by any channel, a paper sheet taken included."""
    return Participation.objects.filter(vote=vote, voter_key=voter_key(vote, resident)).exists()
