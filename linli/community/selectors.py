"""Reads, always scoped to what the account may see. No look-up by a bare id."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Q, QuerySet

from linli.core.crypto import keyring
from linli.core.errors import NotFound
from linli.core.models import Event
from linli.core.validators import normalize_id_number, normalize_name, normalize_phone, surname_of

from .models import Building, Community, Grid, Household, Resident, Tag
from .scope import scope_of


def households_for(user) -> QuerySet[Household]:
    return Household.objects.filter(scope_of(user).households_q())


def residents_for(user) -> QuerySet[Resident]:
    return Resident.objects.filter(scope_of(user).residents_q())


def household_get(user, pk) -> Household:
    """The household if the account may see it; NotFound otherwise (existence is not leaked)."""
    try:
        return (
            households_for(user)
            .select_related("grid", "building", "unit", "community")
            .get(pk=pk)
        )
    except (Household.DoesNotExist, ValueError, TypeError):
        raise NotFound("household")


def resident_get(user, pk) -> Resident:
    try:
        return (
            residents_for(user)
            .select_related("household", "grid", "building", "household__unit", "community")
            .get(pk=pk)
        )
    except (Resident.DoesNotExist, ValueError, TypeError):
        raise NotFound("resident")


def communities_for(user) -> QuerySet[Community]:
    scope = scope_of(user)
    return Community.objects.filter(
        Q(pk__in=scope.staff_communities) | Q(street_id__in=scope.streets)
    ).select_related("street")


def office_index_communities(user, ids) -> list[Community]:
    """What an app's office index lists: the communities ``ids`` (those whose office the account
    holds in that app), then the other communities of the streets it supervises, each part by
    name. One community: the index sends the account straight to it."""
    communities = list(Community.objects.filter(pk__in=ids).order_by("name", "pk"))
    streets = scope_of(user).streets
    if streets:
        communities += list(Community.objects.filter(street_id__in=streets)
                            .exclude(pk__in=[c.pk for c in communities]).order_by("name", "pk"))
    return communities


def grids_for(user) -> QuerySet[Grid]:
    scope = scope_of(user)
    return Grid.objects.filter(
        Q(community_id__in=scope.office_communities)
        | Q(pk__in=scope.grids)
        | Q(buildings__pk__in=scope.buildings)
    ).distinct()


def buildings_for(user, grid_id=None) -> QuerySet[Building]:
    scope = scope_of(user)
    qs = Building.objects.filter(
        Q(community_id__in=scope.office_communities)
        | Q(grid_id__in=scope.grids)
        | Q(pk__in=scope.buildings)
    ).select_related("grid")
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return qs


def tags_for(user) -> QuerySet[Tag]:
    scope = scope_of(user)
    communities = scope.office_communities | set(
        Grid.objects.filter(pk__in=scope.grids).values_list("community_id", flat=True)
    ) | set(Building.objects.filter(pk__in=scope.buildings).values_list("community_id", flat=True))
    return Tag.objects.filter(community_id__in=communities)


_PHONE_LIKE = re.compile(r"^\+?[\d\s\-]{11,16}$")
_ID_LIKE = re.compile(r"^\d{17}[\dXx]$")


def resident_search(
    user,
    *,
    query: str = "",
    grid_id=None,
    building_id=None,
    age_min: int | None = None,
    age_max: int | None = None,
    tag_id=None,
    today: dt.date | None = None,
) -> QuerySet[Resident]:
    """Find residents within the account's scope.

    The query is matched exactly through blind indexes: an 11-digit mobile
    number, an 18-character ID number, a full name, or a surname. Names are
    sealed, so a fragment of a name cannot be searched; that is deliberate.
    """
    ring = keyring()
    qs = residents_for(user)
    query = (query or "").strip()
    if query:
        if _ID_LIKE.match(query):
            qs = qs.filter(id_index__in=ring.blind_indexes(normalize_id_number(query), "id_number"))
        elif _PHONE_LIKE.match(query):
            qs = qs.filter(phone_index__in=ring.blind_indexes(normalize_phone(query), "phone"))
        else:
            name = normalize_name(query)
            surname = surname_of(name)
            if name == surname:
                qs = qs.filter(surname_index__in=ring.blind_indexes(surname, "surname"))
            else:
                qs = qs.filter(name_index__in=ring.blind_indexes(name, "name"))
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    if building_id:
        qs = qs.filter(building_id=building_id)
    year = (today or dt.date.today()).year
    if age_min is not None:
        qs = qs.filter(birth_year__lte=year - age_min)
    if age_max is not None:
        qs = qs.filter(birth_year__gte=year - age_max)
    if tag_id:
        qs = qs.filter(tags__pk=tag_id)
    return qs.select_related("household", "household__unit", "grid", "building").order_by("grid_id", "building_id", "household_id", "pk")


def events_for(user, *, verb: str = "", target_type: str = "", actor: str = "",
               since: dt.datetime | None = None, until: dt.datetime | None = None) -> QuerySet[Event]:
    scope = scope_of(user)
    q = Q(community_id__in=scope.office_communities) | Q(street_id__in=scope.streets)
    if scope.grids:
        q |= Q(grid_id__in=scope.grids)
    qs = Event.objects.filter(q)
    if verb:
        qs = qs.filter(verb__startswith=verb)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if actor:
        qs = qs.filter(actor_label=actor)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    return qs


def place_names(events) -> dict[tuple[str, int], str]:
    """The names of the courtyards and communities these events happened in, keyed
    ``("grid", id)`` / ``("community", id)``: two queries for a whole page of events."""
    grid_ids = {e.grid_id for e in events if e.grid_id}
    community_ids = {e.community_id for e in events if e.community_id and not e.grid_id}
    names = {("grid", pk): name for pk, name in Grid.objects.filter(pk__in=grid_ids).values_list("pk", "name")}
    names.update({("community", pk): name
                  for pk, name in Community.objects.filter(pk__in=community_ids).values_list("pk", "name")})
    return names


AGE_BANDS = [(0, 17, "0–17"), (18, 34, "18–34"), (35, 59, "35–59"), (60, 79, "60–79"), (80, 200, "80+")]


def street_overview(user, today: dt.date | None = None) -> list[dict]:
    """Aggregates per community for street supervisors: counts, never persons."""
    scope = scope_of(user)
    year = (today or dt.date.today()).year
    communities = Community.objects.filter(street_id__in=scope.streets).order_by("code")
    rows = []
    for community in communities:
        residents = Resident.objects.filter(community=community)
        bands = {
            label: residents.filter(birth_year__lte=year - lo, birth_year__gte=year - hi).count()
            for lo, hi, label in AGE_BANDS
        }
        rows.append({
            "community": community,
            "grids": Grid.objects.filter(community=community).count(),
            "households": Household.objects.filter(community=community).count(),
            "residents": residents.count(),
            "age_bands": bands,
            "living_alone_60": Household.objects.filter(community=community)
                .annotate(n=Count("residents"))
                .filter(n=1, residents__birth_year__lte=year - 60).count(),
        })
    return rows


def registry_counts(user, today: dt.date | None = None) -> dict:
    """Counts within the account's own scope, for the console home."""
    year = (today or dt.date.today()).year
    residents = residents_for(user)
    return {
        "households": households_for(user).count(),
        "residents": residents.count(),
        "elders": residents.filter(birth_year__lte=year - 60).count(),
        "children": residents.filter(birth_year__gt=year - 18).count(),
    }
