"""Who may do what with bookable services, rooms and activities, written once
(docs/services.md; docs/roles.md, "Services, rooms and activities").

- **community_admin, community_worker** of the community (:func:`is_office`, :func:`may_manage`):
  everything in the app for that community (providers, services, slots, rooms, events, dashboards;
  booking on a resident's behalf); names masked on lists.
- **Provider staff** (:func:`is_provider_staff`): ``unit_staff`` of the provider's organisation —
  their services' slots, the day's bookings list (masked names), attended / no-show marking,
  booking by phone / walk-in for a resident of the community.
- **Room requests** (:func:`may_request_room`): the office, the party secretary, building leaders
  and staff of an organisation of the community (partners, the residents' committee…). Residents
  ask through the office.
- **Counts** (:func:`may_read_counts`): the office, provider staff (their own services), the party
  secretary and the street supervisor of the community's street — aggregates only, no names.
- **Resident** (:func:`resident_of`): their own bookings and sign-ups only.

Every function takes any account (anonymous included) and answers False / empty for strangers.
"""

from __future__ import annotations

import rules as django_rules

from linli.community.models import StaffRole
from linli.community.scope import community_id_of, roles_in, scope_of
from linli.volunteers import rules as volunteer_rules

R = StaffRole.Role


def _cid(community) -> int | None:
    """A community's id from a Community, a row with ``community_id``, or an int."""
    if isinstance(community, int):
        return community
    return community_id_of(community)


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def resident_of(user):
    """The account's resident record (with community, grid and household), or None."""
    return volunteer_rules.resident_of(user)


def is_office(user, community) -> bool:
    """The community's admin or worker."""
    if not _active(user) or community is None:
        return False
    return _cid(community) in scope_of(user).worker_communities


def may_manage(user, community) -> bool:
    """Everything in the app for the community: the office."""
    return is_office(user, community)


def is_provider_staff(user, provider) -> bool:
    """Unit staff of the provider's organisation (the office is not provider staff: see
    :func:`may_run_provider`)."""
    if provider is None or not _active(user) or provider.organisation_id is None:
        return False
    return provider.organisation_id in scope_of(user).organisations


def may_run_provider(user, provider) -> bool:
    """The provider's slots, day lists and marking: the office or the provider's own staff."""
    if provider is None:
        return False
    return is_office(user, provider.community_id) or is_provider_staff(user, provider)


def may_run_service(user, service) -> bool:
    return service is not None and may_run_provider(user, service.provider)


def staff_providers(user, community=None):
    """The active providers whose staff pages ``user`` reaches (all of the community for the office)."""
    from .models import Provider

    if not _active(user):
        return Provider.objects.none()
    scope = scope_of(user)
    qs = Provider.objects.none()
    if scope.worker_communities:
        qs = qs | Provider.objects.filter(community_id__in=scope.worker_communities)
    if scope.organisations:
        qs = qs | Provider.objects.filter(organisation_id__in=scope.organisations)
    if community is not None:
        qs = qs.filter(community_id=_cid(community))
    return qs.distinct().order_by("name", "id")


def is_secretary(user, community) -> bool:
    return _active(user) and community is not None and R.PARTY_SECRETARY in roles_in(user, _cid(community))


def office_nav(user, community) -> dict:
    """Which of the app's office sections the account's navigation offers (only those it may open)."""
    return {"nav_rooms": may_request_room(user, community),
            "nav_events": is_office(user, community) or is_secretary(user, community),
            "nav_services": may_use_office(user, community)}


def may_request_room(user, community) -> bool:
    """Ask for a room of the service centre: the office, the party secretary, building leaders,
    and staff of an organisation that belongs to the community."""
    if not _active(user) or community is None:
        return False
    cid = _cid(community)
    if is_office(user, cid):
        return True
    roles = roles_in(user, cid)
    if R.PARTY_SECRETARY in roles or R.BUILDING_LEADER in roles:
        return True
    orgs = scope_of(user).organisations
    if not orgs:
        return False
    from linli.community.models import Organisation

    return Organisation.objects.filter(pk__in=orgs, community_id=cid).exists()


def may_read_counts(user, community) -> bool:
    """Aggregates without names (dashboards): the office, the party secretary, provider staff of a
    provider of the community, and the street supervisor of the community's street."""
    if community is None or not _active(user):
        return False
    cid = _cid(community)
    if is_office(user, cid) or R.PARTY_SECRETARY in roles_in(user, cid):
        return True
    scope = scope_of(user)
    street_id = getattr(community, "street_id", None)
    if street_id is None:
        from linli.community.models import Community

        street_id = Community.objects.filter(pk=cid).values_list("street_id", flat=True).first()
    if street_id is not None and street_id in scope.streets:
        return True
    if scope.organisations:
        from .models import Provider

        return Provider.objects.filter(community_id=cid, organisation_id__in=scope.organisations).exists()
    return False


def may_use_office(user, community) -> bool:
    """Reaches the services office home of the community (what it shows depends on the role)."""
    return may_read_counts(user, community) or staff_providers(user, community).exists()


def office_communities(user) -> list:
    """The communities whose services office this account reaches."""
    from linli.community.models import Community

    if not _active(user):
        return []
    scope = scope_of(user)
    if not (scope.staff_communities or scope.streets or scope.organisations):
        return []
    qs = Community.objects.filter(pk__in=scope.staff_communities)
    if scope.streets:
        qs = qs | Community.objects.filter(street_id__in=scope.streets)
    if scope.organisations:
        from .models import Provider

        ids = Provider.objects.filter(organisation_id__in=scope.organisations).values_list("community_id", flat=True)
        qs = qs | Community.objects.filter(pk__in=list(ids))
    return [c for c in qs.distinct().order_by("code") if may_use_office(user, c)]


def may_book_for(user, community) -> bool:
    """Book for any resident of the community (phone / walk-in): the office or staff of one of the
    community's providers."""
    return is_office(user, community) or (
        _active(user) and staff_providers(user, community).exists()
    )


@django_rules.predicate
def reaches_office(user) -> bool:
    return bool(office_communities(user))


OFFICE_PERM = "services.use_office"
django_rules.add_perm(OFFICE_PERM, reaches_office)
