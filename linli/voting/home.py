"""The ``community.home_actions`` hook: "Votes open to you" on the resident's home page.

The link shows only while at least one vote of the resident's community is open, in its voting
phase, taken online, open to this resident and not yet voted by them (or their household); it
leads to ``/votes/<code>/`` (``linli.voting.views_ballot.my_votes``). Cases' "I have a request"
stays the page's big first button: cases registers its actions first.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Resident
from linli.community.scope import scope_of
from linli.core.errors import LinliError

from .eligibility import eligible, voter_key
from .models import Participation, Phase, Vote


def votes_open_to(resident: Resident, *, now=None) -> list[Vote]:
    """The votes ``resident`` can cast online now, not yet voted (by any channel)."""
    now = now or timezone.now()
    votes = list(Vote.objects.filter(process__community_id=resident.community_id, state=Vote.State.OPEN)
                 .select_related("process"))
    if not votes:
        return []
    running = set(Phase.objects.filter(process_id__in={v.process_id for v in votes}, enabled=True,
                                       starts_at__lte=now, ends_at__gt=now).values_list("process_id", "key"))
    found = []
    today = timezone.localdate()
    for vote in votes:
        if (vote.process_id, vote.phase_key) not in running or "web" not in (vote.channels or ()):
            continue
        ok, _reason = eligible(vote, resident, today=today)
        if not ok:
            continue
        try:
            key = voter_key(vote, resident)
        except LinliError:
            continue
        if not Participation.objects.filter(vote=vote, voter_key=key).exists():
            found.append(vote)
    return found


def home_actions(user) -> list[tuple[str, str]]:
    resident_id = scope_of(user).resident_id
    if resident_id is None:
        return []
    resident = Resident.objects.select_related("community").filter(pk=resident_id).first()
    if resident is None:
        return []
    count = len(votes_open_to(resident))
    if not count:
        return []
    return [(_("Votes open to you (%(count)d)") % {"count": count},
             reverse("voting:my_votes", args=[resident.community.code]))]
