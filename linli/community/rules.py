"""Permissions on places and people, as django-rules predicates.

Read them as sentences: a user may view a household if they are office staff
of its community, or the grid worker of its grid, or the leader of its
building, or live in it. Handling-unit staff and street supervisors match
none of these, so they see no personal data.
"""

import rules

from .scope import scope_of


@rules.predicate
def is_office_staff_of_place(user, obj):
    return obj is not None and obj.community_id in scope_of(user).office_communities


@rules.predicate
def is_grid_worker_of_place(user, obj):
    return obj is not None and obj.grid_id in scope_of(user).grids


@rules.predicate
def is_building_leader_of_place(user, obj):
    return obj is not None and obj.building_id in scope_of(user).buildings


@rules.predicate
def lives_in_household(user, household):
    return household is not None and household.pk == scope_of(user).household_id


@rules.predicate
def is_member_of_household_of(user, resident):
    return resident is not None and resident.household_id == scope_of(user).household_id


@rules.predicate
def may_reveal_resident(user, resident):
    return resident is not None and scope_of(user).may_reveal(resident)


# Which protected field each kind of reveal right opens (docs/roles.md): field → the roles.
# ``office``: a community admin or worker of the resident's community; ``grid``: the grid worker
# of the resident's courtyard; ``building``: the leader of the resident's building (a volunteer,
# the building's contact: the phone only); ``self``: the resident, their own record.
OFFICE, GRID, BUILDING, SELF = "office", "grid", "building", "self"
REVEAL_RIGHTS = {
    "name": {OFFICE, GRID, SELF},
    "phone": {OFFICE, GRID, BUILDING, SELF},
    "id_number": {OFFICE, GRID, SELF},
    "address": {OFFICE, GRID, SELF},
    "birth_date": {OFFICE, GRID, SELF},
    "note": {OFFICE, GRID},
}


def reveal_roles(user, resident) -> set[str]:
    """The reveal rights the account holds over this resident (several roles: the union)."""
    if resident is None or user is None or not getattr(user, "is_authenticated", False):
        return set()
    scope = scope_of(user)
    held = set()
    if resident.community_id in scope.reveal_communities:
        held.add(OFFICE)
    if resident.grid_id is not None and resident.grid_id in scope.grids:
        held.add(GRID)
    if resident.building_id is not None and resident.building_id in scope.buildings:
        held.add(BUILDING)
    if resident.pk == scope.resident_id:
        held.add(SELF)
    return held


def revealable_fields(user, resident) -> tuple[str, ...]:
    """The protected fields of this resident the account may reveal, in the table's order."""
    held = reveal_roles(user, resident)
    return tuple(name for name, roles in REVEAL_RIGHTS.items() if roles & held)


def may_reveal_field(user, resident, field: str) -> bool:
    return field in revealable_fields(user, resident)


@rules.predicate
def is_community_worker_of_place(user, obj):
    return obj is not None and obj.community_id in scope_of(user).worker_communities


@rules.predicate
def is_community_worker_of(user, community):
    return community is not None and community.pk in scope_of(user).worker_communities


@rules.predicate
def uploaded_batch(user, batch):
    return batch is not None and user.is_authenticated and batch.created_by_id == user.pk


@rules.predicate
def sees_registry(user):
    return scope_of(user).sees_registry


@rules.predicate
def is_street_supervisor(user):
    return bool(scope_of(user).streets)


@rules.predicate
def is_staff_anywhere(user):
    return scope_of(user).is_staff


@rules.predicate
def sees_event(user, event):
    if event is None:
        return False
    scope = scope_of(user)
    return (
        event.community_id in scope.office_communities
        or (event.grid_id is not None and event.grid_id in scope.grids)
        or (event.street_id is not None and event.street_id in scope.streets)
    )


@rules.predicate
def sees_events(user):
    scope = scope_of(user)
    return bool(scope.office_communities or scope.grids or scope.streets)


sees_place = is_office_staff_of_place | is_grid_worker_of_place | is_building_leader_of_place

rules.add_perm("community.view_household", sees_place | lives_in_household)
rules.add_perm("community.view_resident", sees_place | is_member_of_household_of)
rules.add_perm("community.reveal_resident", may_reveal_resident)
rules.add_perm("community.change_resident", is_community_worker_of_place | is_grid_worker_of_place)
rules.add_perm("community.import_residents", is_community_worker_of)
# A previewed import is applied by the account that uploaded it, while it may still import there.
rules.add_perm("community.apply_import", uploaded_batch & is_community_worker_of_place)
rules.add_perm("community.search_registry", sees_registry)
rules.add_perm("community.view_street_overview", is_street_supervisor)
rules.add_perm("community.use_console", is_staff_anywhere)
rules.add_perm("core.view_event", sees_event)
rules.add_perm("core.browse_events", sees_events)

# Need tags (linli.community.needs, docs/needs.md): personal data, scoped like the registry.
# Seen by whoever sees the household (staff only: a resident does not see how the office
# tags them); set, confirmed or dismissed by the community's workers and the grid's worker.
rules.add_perm("community.view_household_needs", sees_place)
rules.add_perm("community.change_household_needs", is_community_worker_of_place | is_grid_worker_of_place)
rules.add_perm("community.view_needs", sees_registry | is_street_supervisor)
rules.add_perm("community.export_needs", sees_registry)
rules.add_perm("community.recompute_needs", is_community_worker_of)
