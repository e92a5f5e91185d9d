"""Who may do what with processes and votes (docs/voting.md, docs/roles.md).

- Run processes (create, set phases, create votes, open and close them): a community admin or
  community worker of the process's community (``OFFICE``).
- Act as an officer at a booth (cast for a resident they identified, cast by proxy, hand out
  a paper sheet): the same roles of the same community.
- Read the office pages (turnout counts, never who voted how): the same roles, and the street
  supervisor of the community's street (reads only).
- Residents vote for themselves only: a web ballot's actor is the resident's own account.
"""

from __future__ import annotations

import rules

from linli.community.scope import scope_of

OFFICE = "office"


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def may_run(user, community) -> bool:
    """Community admin or worker of this community."""
    return community is not None and _signed_in(user) and community.pk in scope_of(user).worker_communities


def may_officiate(user, community) -> bool:
    """An officer at a booth: the same roles as :func:`may_run`."""
    return may_run(user, community)


def may_read_office(user, community) -> bool:
    if community is None or not _signed_in(user):
        return False
    return may_run(user, community) or community.street_id in scope_of(user).streets


def actor_may(actor, vote, who: str) -> bool:
    """The vote workflow's ``may``."""
    if who == OFFICE:
        return may_run(actor, vote.process.community)
    return False


def office_communities(user) -> set[int]:
    if not _signed_in(user):
        return set()
    return set(scope_of(user).worker_communities)


@rules.predicate
def uses_voting_office(user):
    return _signed_in(user) and bool(scope_of(user).worker_communities or scope_of(user).streets)


rules.add_perm("voting.use_office", uses_voting_office)
