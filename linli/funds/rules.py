"""Who may do what with the community fund's calls and projects (docs/funds.md, docs/roles.md).

- **Run a call** (create it, set its phases, budget and rule, prepare the residents' vote,
  publish the selection, the final report): community administrators (``ADMIN``).
- **Override the selection** (only with a reason, published on the log): community administrators.
- **Review projects, record milestones, spending and acceptance** (``OFFICE``): community
  administrators and workers.
- **Read the office pages**: the office (administrators, workers, party secretary) and the
  street supervisor of the community's street.
- **Submit a project**: a resident of the call's community (and of its courtyards, where the
  call names some) with an account; they edit or withdraw it while submission is open
  (``PROPOSER``: the account that submitted it).
- **Read a call's public pages** (the projects under review and their review notes are the
  proposer's and the office's; eligible projects, results and progress are everyone's).
"""

from __future__ import annotations

import rules

from linli.community.models import Resident
from linli.community.scope import community_id_of, reads_office_or_street, scope_of

ADMIN = "admin"
OFFICE = "office"
PROPOSER = "proposer"


_cid = community_id_of


def runs_calls(user, community) -> bool:
    return community is not None and _cid(community) in scope_of(user).admin_communities


def works_calls(user, community) -> bool:
    return community is not None and _cid(community) in scope_of(user).worker_communities


def reads_office(user, community) -> bool:
    return reads_office_or_street(user, community)


def resident_of(user, call) -> Resident | None:
    """The account's resident record if it may take part in the call (its community, and one
    of its courtyards where the call names some); None otherwise."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    resident = Resident.objects.filter(user=user, community_id=call.community_id).first()
    if resident is None:
        return None
    grids = set(call.process.grids.values_list("pk", flat=True))
    if grids and resident.grid_id not in grids:
        return None
    return resident


def is_proposer(user, project) -> bool:
    return (user is not None and getattr(user, "is_authenticated", False)
            and project.proposer_id is not None and project.proposer_id == user.pk)


def actor_may(actor, project, who: str) -> bool:
    """The project workflow's ``may``."""
    if who == ADMIN:
        return runs_calls(actor, project.call)
    if who == OFFICE:
        return works_calls(actor, project.call)
    if who == PROPOSER:
        return is_proposer(actor, project)
    return False


@rules.predicate
def uses_funds_office(user):
    scope = scope_of(user)
    return bool(scope.office_communities or scope.streets)


rules.add_perm("funds.use_office", uses_funds_office)
