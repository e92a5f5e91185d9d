"""Who may do what in the canteen, written once (docs/canteen.md; docs/roles.md, "Canteen (友谊食堂)").

- **Community office** = community_admin / community_worker of the canteen's community
  (:func:`is_office`): everything — settings, dishes, menus, capacity, subsidy rules, delivery
  permits, rounds, the claim, the dashboard; ordering on a resident's behalf.
- **Canteen staff** = ``unit_staff`` of the organisation of the canteen's ``points.Partner``
  (:func:`is_canteen_staff`): the counter, today's orders, the delivery rounds and sheet, the menus of
  their canteen (:func:`may_work_counter`, :func:`may_plan_menus`). Not subsidy rules, not permits.
- **Street supervisor**: counts only (:func:`may_read_counts`: the dashboard), no names.
- **Resident** (:func:`resident_of`): their own orders only.

Every function takes any account (anonymous included) and answers False / None for strangers.
"""

from __future__ import annotations

import rules as django_rules

from linli.community.scope import community_id_of, scope_of
from linli.volunteers.rules import resident_of as _volunteers_resident_of

__all__ = [
    "resident_of", "is_office", "is_canteen_staff", "may_manage", "may_plan_menus", "may_work_counter",
    "may_read_counts", "may_use_office", "office_communities", "canteens_for",
]


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def resident_of(user):
    """The account's resident record (with community, grid and household), or None."""
    return _volunteers_resident_of(user)


def is_office(user, community) -> bool:
    """The community's admin or worker (``community``: a community or a row that has one)."""
    if not _active(user) or community is None:
        return False
    cid = community if isinstance(community, int) else community_id_of(community)
    return cid in scope_of(user).worker_communities


def is_canteen_staff(user, canteen) -> bool:
    """``unit_staff`` of the organisation behind the canteen's points partner."""
    if not _active(user) or canteen is None or canteen.partner_id is None:
        return False
    organisation_id = canteen.partner.organisation_id
    return organisation_id is not None and organisation_id in scope_of(user).organisations


def may_manage(user, canteen) -> bool:
    """Settings, meal times, subsidy rules, delivery permits, the claim: the community's office."""
    return canteen is not None and is_office(user, canteen)


def may_plan_menus(user, canteen) -> bool:
    """Dishes and the week's menu (create, change, publish, copy): the office and the canteen's staff."""
    return may_manage(user, canteen) or is_canteen_staff(user, canteen)


def may_work_counter(user, canteen) -> bool:
    """The counter, today's orders, delivery rounds and sheet: the office and the canteen's staff."""
    return may_manage(user, canteen) or is_canteen_staff(user, canteen)


def may_read_counts(user, community) -> bool:
    """Aggregates without names (the dashboard): the office, the canteens' staff of the community,
    and the street supervisor of the community's street."""
    if community is None or not _active(user):
        return False
    if is_office(user, community):
        return True
    scope = scope_of(user)
    street_id = getattr(community, "street_id", None)
    if street_id is not None and street_id in scope.streets:
        return True
    if scope.organisations:
        from .models import Canteen

        return Canteen.objects.filter(community_id=community_id_of(community),
                                      partner__organisation_id__in=scope.organisations).exists()
    return False


def may_use_office(user, community) -> bool:
    """Reaches the canteen office home of this community (what it shows depends on the role)."""
    return may_read_counts(user, community)


def canteens_for(user, community):
    """The community's canteens this account may open in the office (all for counts readers)."""
    from .models import Canteen

    qs = Canteen.objects.filter(community_id=community_id_of(community)).select_related("partner", "community")
    if not may_read_counts(user, community):
        return qs.none()
    return qs.order_by("-active", "name", "id")


def office_communities(user) -> list:
    """The communities whose canteen office this account reaches (office, canteen staff, supervisor)."""
    from linli.community.models import Community

    from .models import Canteen

    if not _active(user):
        return []
    scope = scope_of(user)
    ids = set(scope.worker_communities)
    if scope.organisations:
        ids |= set(Canteen.objects.filter(partner__organisation_id__in=scope.organisations)
                   .values_list("community_id", flat=True))
    qs = Community.objects.filter(pk__in=ids)
    if scope.streets:
        qs = qs | Community.objects.filter(street_id__in=scope.streets)
    return list(qs.distinct().order_by("code"))


@django_rules.predicate
def reaches_office(user) -> bool:
    return bool(office_communities(user))


OFFICE_PERM = "canteen.use_office"
django_rules.add_perm(OFFICE_PERM, reaches_office)
