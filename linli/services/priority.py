"""Priority for residents with a matching need (docs/services.md, "Priority places").

A service names need-category codes (``Service.need_categories``, e.g. ``["health"]``); a
resident whose household has a *confirmed* :class:`~linli.community.models.HouseholdNeed` whose
category — or that category's parent — has one of those codes gets priority: the slot's held
places (``Slot.priority_places``, until ``Slot.priority_until``) are theirs to take, and on a
waiting list they come before everyone else.
"""

from __future__ import annotations

from django.db.models import Q

from linli.community.models import HouseholdNeed


def matches(service, resident) -> bool:
    """Whether the resident's household has a confirmed need the service gives priority to."""
    codes = [c for c in (service.need_categories or []) if isinstance(c, str) and c]
    if not codes or resident is None or resident.household_id is None:
        return False
    return HouseholdNeed.objects.filter(
        Q(category__code__in=codes) | Q(category__parent__code__in=codes),
        household_id=resident.household_id, status=HouseholdNeed.Status.CONFIRMED,
        category__community_id=service.community_id,
    ).exists()

