"""The office's decisions on the need tags the rules suggested for the demo community.

``needs_recompute`` suggests tags from the registry and the case history (docs/needs.md); in a
community that has used Linli for two years the grid workers have long gone through most of
them. Left undecided, the demo's first page would ask a worker to decide some 4,000 tags at
once. Here each suggestion is confirmed (most), dismissed with a reason (a few: circumstances
changed, the household declined) or left waiting (about one in twelve: the
newest), by the grid worker of the household's courtyard, through the need workflow's moves:
the rows as ``household_need_confirm`` / ``household_need_dismiss`` leave them, and the events
their transitions write, built by ``NEED.event`` and written in bulk (:mod:`linli.core.bulk`; one
transaction per service call would take minutes here).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from linli.community.models import Community, HouseholdNeed
from linli.community.needs import NEED
from linli.core import bulk
from linli.core.models import Event

from .case_lives import _staff

CONFIRMED = 0.86
DISMISSED = 0.06        # the rest stays suggested, waiting for a decision
DISMISS_REASONS = (
    "上门核实后情况已变化，暂不需要。",
    "户主表示不需要，已记录本人意愿。",
    "登记信息有误，已与户主核对更正。",
)


def decide_suggestions(*, community: Community, seed: int, now: dt.datetime | None = None) -> dict:
    """Confirm, dismiss or leave each suggested tag of ``community``; returns the counts."""
    now = now or timezone.now()
    rng = random.Random(seed * 7919 + 17)
    staff = _staff(community)   # the case history's own staff lists: courtyard → grid workers, office
    deciders, office = staff.grid, staff.office
    S = HouseholdNeed.Status
    needs = list(HouseholdNeed.objects.filter(community=community, status=S.SUGGESTED)
                 .select_related("household__grid", "category", "community").order_by("pk"))
    counts = {"confirmed": 0, "dismissed": 0, "waiting": 0}
    changed, built = [], []
    for need in needs:
        r = rng.random()
        if r >= CONFIRMED + DISMISSED:
            counts["waiting"] += 1
            continue
        who = rng.choice(deciders.get(need.household.grid_id) or office or [None])
        at = min(now, need.assigned_at + dt.timedelta(seconds=rng.uniform(5, 600)))
        move = "confirm" if r < CONFIRMED else "dismiss"
        need.status = S.CONFIRMED if move == "confirm" else S.DISMISSED
        need.decided_at, need.decided_by = at, who
        if move == "confirm":
            need.decision_reason, need.expires_at = None, None
        else:
            need.decision_reason = rng.choice(DISMISS_REASONS)
        built.append(NEED.event(need, move, actor=who, before=S.SUGGESTED, at=at, data={"previous": S.SUGGESTED}))
        changed.append(need)
        counts["confirmed" if move == "confirm" else "dismissed"] += 1
    with transaction.atomic():
        bulk.update(HouseholdNeed, changed, ["status", "decided_at", "decided_by", "decision_reason", "expires_at"])
        bulk.insert(Event, built)
    return counts

