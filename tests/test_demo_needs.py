"""The demo's office decides most suggested need tags, through the need workflow's moves."""

from __future__ import annotations

import pytest

from linli.community.models import HouseholdNeed
from linli.community.needs import needs_install_defaults, needs_recompute
from linli.core.models import Event
from linli.demo.needs import decide_suggestions

pytestmark = pytest.mark.django_db
S = HouseholdNeed.Status


def test_most_suggestions_are_decided_by_the_courtyards_grid_worker_each_with_its_event(world):
    needs_install_defaults(actor=None, community=world.community)
    needs_recompute(community=world.community)
    suggested = HouseholdNeed.objects.filter(community=world.community, status=S.SUGGESTED).count()
    assert suggested >= 2, "the world's registry should give the rules something to suggest"
    before = Event.objects.count()

    counts = decide_suggestions(community=world.community, seed=3)

    assert sum(counts.values()) == suggested
    decided = HouseholdNeed.objects.filter(community=world.community).exclude(status=S.SUGGESTED)
    assert decided.count() == counts["confirmed"] + counts["dismissed"] > 0
    events = Event.objects.order_by("pk")[before:]
    assert sorted((e.target_id, e.verb) for e in events) == sorted(
        (str(n.pk), "household_need.confirmed" if n.status == S.CONFIRMED else "household_need.dismissed")
        for n in decided)
    grid_workers = {world.grids[0].pk: world.users["grid1"].pk, world.grids[1].pk: world.users["grid2"].pk}
    for need in decided.select_related("household"):
        assert need.decided_by_id == grid_workers[need.household.grid_id]
        assert need.decided_at >= need.assigned_at
        if need.status == S.DISMISSED:
            assert need.decision_reason   # a dismissal always says why (sealed)
        else:
            assert need.expires_at is None
    # The same seed decides the same way; running it again finds nothing left but the waiting.
    again = decide_suggestions(community=world.community, seed=3)
    assert again["confirmed"] + again["dismissed"] <= counts["waiting"]
