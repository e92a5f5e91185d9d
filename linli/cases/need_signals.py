"""What residents' cases say about their households' needs, for the need tags of linli.community.

The need tags live in linli.community, below this app, which must not import
it; it offers the hook point ``community.need_signals``
(:data:`linli.community.needs.NEED_SIGNALS`) and CasesConfig.ready() registers
:func:`case_signals` there. The case rules (linli.community.needs.CASE_RULES)
read the facts this returns.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from linli.community.models import Community
from linli.community.needs import CaseFact

from .models import Case


def case_signals(community: Community, since: dt.datetime) -> list[CaseFact]:
    """The community's cases created at or after ``since`` that can speak for a household:
    placed at it, or reported by one of its residents, oldest first. Rejected and merged
    cases do not count."""
    rows = (
        Case.objects.filter(community=community, created_at__gte=since)
        .exclude(status__in=(Case.Status.REJECTED, Case.Status.MERGED))
        .filter(Q(household__isnull=False) | Q(reporter__isnull=False))
        .order_by("created_at", "pk")
        .values_list("number", "household_id", "reporter__household_id", "category__code",
                     "category__parent__code", "description", "created_at")
    )
    return [
        CaseFact(number, household_id or reporter_household, household_id is not None,
                 tuple(c for c in (code, parent) if c), description or "", created_at)
        for number, household_id, reporter_household, code, parent, description, created_at in rows
    ]
