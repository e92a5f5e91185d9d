"""Who may see what: one account's roles, resolved once per request.

Everything that scopes a read (selectors) or decides a permission (rules)
asks a :class:`Scope`, so the answer to "which households may this account
see?" is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from .models import StaffRole

R = StaffRole.Role
# Roles that see the whole registry of their community.
OFFICE_ROLES = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY}
# Roles that may reveal a protected value (with a reason, audited).
REVEAL_ROLES = {R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.GRID_WORKER, R.BUILDING_LEADER}


@dataclass
class Scope:
    user_id: int | None
    office_communities: set[int] = field(default_factory=set)   # whole registry, masked
    reveal_communities: set[int] = field(default_factory=set)   # may reveal anywhere in them
    admin_communities: set[int] = field(default_factory=set)    # configure, import
    worker_communities: set[int] = field(default_factory=set)   # admin + worker: import, edit
    grids: set[int] = field(default_factory=set)                # grid worker
    buildings: set[int] = field(default_factory=set)            # building leader
    streets: set[int] = field(default_factory=set)              # street supervisor
    organisations: set[int] = field(default_factory=set)        # handling-unit staff
    staff_communities: set[int] = field(default_factory=set)    # any staff role there
    household_id: int | None = None                             # a resident's own household
    resident_id: int | None = None
    roles: dict[int, set[str]] = field(default_factory=dict)    # community id → roles held there

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_communities or self.streets or self.organisations)

    @property
    def sees_registry(self) -> bool:
        return bool(self.office_communities or self.grids or self.buildings)

    def area_q(self, *, buildings: bool = False, units: bool = False, streets: bool = False) -> Q:
        """Rows of the account's staff area, by the field names every scoped model uses
        (``community_id``, ``grid_id``, ``building_id``, ``unit_id``, ``community__street_id``):
        its community offices and grids always; its buildings, handling units and streets
        where the caller's rows have them and the capability lets those roles in."""
        q = Q(pk__in=[])
        if self.office_communities:
            q |= Q(community_id__in=self.office_communities)
        if self.grids:
            q |= Q(grid_id__in=self.grids)
        if buildings and self.buildings:
            q |= Q(building_id__in=self.buildings)
        if units and self.organisations:
            q |= Q(unit_id__in=self.organisations)
        if streets and self.streets:
            q |= Q(community__street_id__in=self.streets)
        return q

    def _place_q(self, own_household_field: str) -> Q:
        q = self.area_q(buildings=True)
        if self.household_id:
            q |= Q(**{own_household_field: self.household_id})
        return q

    def households_q(self) -> Q:
        """Filter for Household rows this account may see."""
        return self._place_q("pk")

    def residents_q(self) -> Q:
        """Filter for Resident rows this account may see."""
        return self._place_q("household_id")

    def may_reveal(self, resident) -> bool:
        """Staff in charge of the resident's place, or the resident themself."""
        return (
            resident.community_id in self.reveal_communities
            or resident.grid_id in self.grids
            or resident.building_id in self.buildings
            or resident.pk == self.resident_id
        )


def _build(user) -> Scope:
    scope = Scope(user_id=user.pk)
    if not user.is_authenticated or not user.is_active:
        return scope
    roles = (
        StaffRole.objects.filter(user=user, active=True)
        .prefetch_related("grids", "buildings")
    )
    for role in roles:
        if role.community_id:
            scope.staff_communities.add(role.community_id)
            scope.roles.setdefault(role.community_id, set()).add(role.role)
        if role.role in OFFICE_ROLES:
            scope.office_communities.add(role.community_id)
        if role.role in (R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER):
            scope.reveal_communities.add(role.community_id)
            scope.worker_communities.add(role.community_id)
        if role.role == R.COMMUNITY_ADMIN:
            scope.admin_communities.add(role.community_id)
        if role.role == R.GRID_WORKER:
            scope.grids.update(g.pk for g in role.grids.all() if g.community_id == role.community_id)
        if role.role == R.BUILDING_LEADER:
            scope.buildings.update(b.pk for b in role.buildings.all() if b.community_id == role.community_id)
        if role.role == R.STREET_SUPERVISOR:
            scope.streets.add(role.street_id)
        if role.role == R.UNIT_STAFF and role.organisation_id:
            scope.organisations.add(role.organisation_id)
    resident = getattr(user, "resident", None)  # the reverse one-to-one, or None
    if resident is not None:
        scope.household_id = resident.household_id
        scope.resident_id = resident.pk
    return scope


def scope_of(user) -> Scope:
    """The account's scope, cached on the user object for the request."""
    cached = getattr(user, "_linli_scope", None)
    if cached is None or cached.user_id != user.pk:
        cached = _build(user)
        try:
            user._linli_scope = cached
        except AttributeError:  # AnonymousUser is a plain object, still settable
            pass
    return cached


def community_id_of(obj) -> int | None:
    """A community's id, from a community or from a row that has one (``community_id``)."""
    if obj is None:
        return None
    return getattr(obj, "community_id", None) or obj.pk


def roles_in(user, community_id: int | None) -> set[str]:
    """The account's active staff roles in one community (a copy; empty for anyone else)."""
    if user is None or community_id is None:
        return set()
    return set(scope_of(user).roles.get(community_id, ()))


def reads_office_or_street(user, community) -> bool:
    """The community's office (admin, worker, party secretary) or the street supervisor of its
    street: who reads an app's office pages without writing (books' statements, fund calls,
    the evaluation, …). ``community``: a community or a row that has one."""
    if community is None:
        return False
    scope = scope_of(user)
    if community_id_of(community) in scope.office_communities:
        return True
    street_id = getattr(community, "street_id", None)
    if street_id is None and hasattr(community, "community"):
        street_id = community.community.street_id
    return street_id is not None and street_id in scope.streets


def forget_scope(user) -> None:
    if hasattr(user, "_linli_scope"):
        del user._linli_scope
