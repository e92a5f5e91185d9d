"""Who may do what with volunteers, teams, needs, activities and service hours, written once
(docs/volunteers.md; docs/roles.md, "Volunteers and points (睦邻积分)").

- **community_admin, community_worker** of the community (:func:`is_office`): every office page
  and action of the app; names masked by default.
- **party_secretary**: teams, needs, activities (organiser), approves records of others.
- **grid_worker**: needs and activities of their grids, organises there, approves records of
  others there, sees the volunteers whose courtyard is one of their grids (masked).
- **building_leader**: organises activities in the grids that hold their buildings; approves
  nothing, sees no volunteers list.
- **street_supervisor**: counts only (:func:`may_read_counts`), no names.
- **resident**: their own volunteer record, sign-ups, records (:func:`resident_of`).
- Nobody approves their own service record (:func:`may_approve`, :func:`is_own_record`).

Every function takes any account (anonymous included) and answers False / empty for strangers.
"""

from __future__ import annotations

import rules as django_rules

from linli.community.models import StaffRole
from linli.community.scope import community_id_of, roles_in, scope_of

R = StaffRole.Role

# Workflow rule names (the ``who`` of linli.volunteers.workflow moves).
OFFICE = "office"            # admin, worker
MANAGE = "manage"            # office, party secretary, grid worker of the row's grid
APPROVER = "approver"        # may_approve(actor, record)


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def resident_of(user):
    """The account's resident record (with community and grid), or None."""
    if not _active(user):
        return None
    from linli.community.models import Resident

    return Resident.objects.filter(user=user).select_related("community", "grid", "household").first()


def is_office(user, community) -> bool:
    """The community's admin or worker: every office page and action of both apps."""
    if not _active(user) or community is None:
        return False
    return community_id_of(community) in scope_of(user).worker_communities


def is_secretary(user, community) -> bool:
    return _active(user) and R.PARTY_SECRETARY in roles_in(user, community_id_of(community))


def grids_of(user, community) -> set[int]:
    """The grid worker's grids in this community (empty for anyone else)."""
    if not _active(user) or community is None:
        return set()
    cid = community_id_of(community)
    if R.GRID_WORKER not in roles_in(user, cid):
        return set()
    from linli.community.models import Grid

    mine = scope_of(user).grids
    return set(Grid.objects.filter(pk__in=mine, community_id=cid).values_list("pk", flat=True)) if mine else set()


def building_grids_of(user, community) -> set[int]:
    """The grids holding the building leader's buildings in this community."""
    if not _active(user) or community is None:
        return set()
    cid = community_id_of(community)
    if R.BUILDING_LEADER not in roles_in(user, cid):
        return set()
    from linli.community.models import Building

    mine = scope_of(user).buildings
    if not mine:
        return set()
    return set(Building.objects.filter(pk__in=mine, community_id=cid).values_list("grid_id", flat=True))


def office_grids(user, community) -> set[int] | None:
    """Which part of the community the account manages (needs, volunteers): ``None`` for the whole
    community (office, party secretary), a set of grid ids for a grid worker, empty for others."""
    if is_office(user, community) or is_secretary(user, community):
        return None
    return grids_of(user, community)


def may_manage(user, community, grid=None) -> bool:
    """Needs (post, decline, close, the board) — ``grid``: the need's grid (a Grid, an id or None).

    With ``grid=None`` a grid worker may use the board (their grids' rows only) but not act on a
    need that belongs to no grid."""
    scope = office_grids(user, community)
    if scope is None:
        return True
    if not scope:
        return False
    gid = getattr(grid, "pk", grid)
    return gid is None or gid in scope


def may_manage_row(user, row) -> bool:
    """:func:`may_manage` for a row with ``community`` and ``grid_id`` (a Need, an Activity)."""
    scope = office_grids(user, row.community)
    if scope is None:
        return True
    return row.grid_id is not None and row.grid_id in scope


def may_manage_teams(user, community) -> bool:
    """Teams (create, add, remove): the office and the party secretary."""
    return is_office(user, community) or is_secretary(user, community)


def may_see_volunteers(user, community) -> bool:
    """The volunteers list (masked): the office, the party secretary, a grid worker (their grids)."""
    return office_grids(user, community) != set()


def volunteers_visible(user, community):
    """The Volunteer rows the account may list in this community (none for others)."""
    from .models import Volunteer

    qs = Volunteer.objects.filter(community_id=community_id_of(community))
    scope = office_grids(user, community)
    if scope is None:
        return qs
    return qs.filter(grid_id__in=scope) if scope else qs.none()


def may_organise(user, community, grid=None) -> bool:
    """May create and run an activity. ``grid``: the activity's grid (Grid, id or None).

    The office and the party secretary anywhere in the community; a grid worker in their grids;
    a building leader in the grids holding their buildings. With ``grid=None`` the question is
    "somewhere in this community" (a new-activity page before a grid is picked)."""
    if community is None:
        return False
    if is_office(user, community) or is_secretary(user, community):
        return True
    places = grids_of(user, community) | building_grids_of(user, community)
    if not places:
        return False
    gid = getattr(grid, "pk", grid)
    return gid is None or gid in places


def may_run_activity(user, activity) -> bool:
    """The activity's organiser, or anyone who may organise in its place (its office pages)."""
    if not _active(user):
        return False
    if activity.organiser_id == user.pk:
        return True
    if is_office(user, activity.community) or is_secretary(user, activity.community):
        return True
    return activity.grid_id is not None and may_organise(user, activity.community, activity.grid_id)


def is_own_record(user, record) -> bool:
    """Whether the service record is the account's own (their resident's volunteer)."""
    if not _active(user):
        return False
    from linli.community.models import Resident

    resident_id = Resident.objects.filter(user=user).values_list("pk", flat=True).first()
    if resident_id is None:
        return False
    return record.volunteer.resident_id == resident_id


def may_approve(user, record) -> bool:
    """Approve or reject a service record: the office, the party secretary, a grid worker of the
    activity's grid — never the account whose record it is. Building leaders never approve."""
    if not _active(user) or is_own_record(user, record):
        return False
    activity = record.activity
    community = activity.community
    if is_office(user, community) or is_secretary(user, community):
        return True
    return activity.grid_id is not None and activity.grid_id in grids_of(user, community)


def may_read_counts(user, community) -> bool:
    """Counts and summaries without names: everyone who manages, and the street supervisor."""
    if community is None or not _active(user):
        return False
    if office_grids(user, community) != set():
        return True
    street_id = getattr(community, "street_id", None)
    return street_id is not None and street_id in scope_of(user).streets


def may_use_office(user, community) -> bool:
    """Reaches the app's office home for this community (what it shows depends on the role)."""
    return may_read_counts(user, community) or may_organise(user, community)


def actor_may(actor, obj, who: str) -> bool:
    """The workflows' ``may``: rule names above, for a row with ``community`` (and ``grid_id``)."""
    if actor is None:
        return False
    if who == OFFICE:
        return is_office(actor, obj.community)
    if who == MANAGE:
        return may_manage_row(actor, obj)
    if who == APPROVER:
        return may_approve(actor, obj)
    return False


def office_communities(user) -> list:
    """The communities whose volunteers office (:func:`may_use_office`) this account reaches."""
    from linli.community.models import Community

    if not _active(user):
        return []
    scope = scope_of(user)
    if not (scope.staff_communities or scope.streets):
        return []
    qs = Community.objects.filter(pk__in=scope.staff_communities)
    if scope.streets:
        qs = qs | Community.objects.filter(street_id__in=scope.streets)
    return [c for c in qs.distinct().order_by("code") if may_use_office(user, c)]


@django_rules.predicate
def reaches_office(user) -> bool:
    return bool(office_communities(user))


OFFICE_PERM = "volunteers.use_office"
django_rules.add_perm(OFFICE_PERM, reaches_office)
