"""Who may do what in 一月一议, written once (docs/deliberation.md, docs/roles.md).

- **Run it** (``OFFICE``: create a month, add topics, put on the agenda, moderate, run the
  meeting, write minutes and decisions, tasks and progress): the community's admin and workers.
- **Read the office pages**: those, the party secretary, and the street supervisor of the
  community's street.
- **Take part** (propose, support, comment, evaluate): a resident of the community with an
  account, living in the process's scope (its courtyards, or anywhere in the community).
- Council members sign in to a meeting with their staff account; resident representatives with
  their resident account.
"""

from __future__ import annotations

import rules as django_rules

from linli.community.models import StaffRole
from linli.community.scope import scope_of

R = StaffRole.Role
OFFICE = "office"


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def office_community_ids(user) -> set[int]:
    """Communities whose 一月一议 this account runs: community admin or worker (the same as the
    voting engine's ``may_run``: the process is theirs too)."""
    if not _active(user):
        return set()
    return set(scope_of(user).worker_communities)


def may_run(user, community) -> bool:
    """Writes in the office of this community."""
    return community is not None and community.pk in office_community_ids(user)


def may_read_office(user, community) -> bool:
    """Reads the office pages: those who run it, the party secretary, the street supervisor."""
    if community is None or not _active(user):
        return False
    scope = scope_of(user)
    return (community.pk in scope.worker_communities or community.pk in scope.office_communities
            or community.street_id in scope.streets)


def resident_of(user):
    """The account's resident record, or None."""
    if not _active(user):
        return None
    from linli.community.models import Resident

    return Resident.objects.filter(user=user).select_related("community", "grid").first()


def in_scope(resident, process) -> bool:
    """Whether a resident lives where the process is held (its courtyards, or the community)."""
    if resident is None or resident.community_id != process.community_id:
        return False
    grids = set(process.grids.values_list("pk", flat=True))
    return not grids or resident.grid_id in grids


def actor_may(actor, obj, who: str) -> bool:
    """The workflows' ``may``: ``OFFICE`` for the office of the row's community."""
    if who == OFFICE:
        return bool(actor is not None and obj.community_id in office_community_ids(actor))
    return False


@django_rules.predicate
def runs_any(user):
    if not _active(user):
        return False
    scope = scope_of(user)
    return bool(scope.worker_communities or scope.office_communities or scope.streets)


django_rules.add_perm("deliberation.use_office", runs_any)
