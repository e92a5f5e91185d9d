"""Who may do what with the democratic evaluation (docs/evaluation.md, docs/roles.md).

=====================================  ==============================================
reads the office pages (``READ``)      community admin, community worker, party secretary;
                                       the street's supervisor (reads only)
prepares, counts, writes responses     community admin, community worker
(``MANAGE``)
publishes (``PUBLISH``)                community admin
=====================================  ==============================================

The published results and the annual report are public. Nothing here lets anyone see who
voted what: the voting engine stores ballots apart from participation.
"""

from __future__ import annotations

import rules

from linli.community.models import StaffRole
from linli.community.scope import roles_in as scope_roles_in
from linli.community.scope import scope_of

R = StaffRole.Role
MANAGE = "manage"
PUBLISH = "publish"

READ_ROLES = frozenset({R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER, R.PARTY_SECRETARY})
MANAGE_ROLES = frozenset({R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER})
PUBLISH_ROLES = frozenset({R.COMMUNITY_ADMIN})


def roles_in(user, community_id: int) -> set[str]:
    """The account's active roles in one community (``community.scope``, cached per request)."""
    return scope_roles_in(user, community_id)


def office_communities(user) -> list[int]:
    if user is None:
        return []
    return sorted(c for c, held in scope_of(user).roles.items() if held & READ_ROLES)


def may_read(user, community) -> bool:
    if community is None:
        return False
    if roles_in(user, community.pk) & READ_ROLES:
        return True
    return community.street_id in scope_of(user).streets


def may_manage(user, community) -> bool:
    return community is not None and bool(roles_in(user, community.pk) & MANAGE_ROLES)


def may_publish(user, community) -> bool:
    return community is not None and bool(roles_in(user, community.pk) & PUBLISH_ROLES)


def actor_may(actor, evaluation, who: str) -> bool:
    """The workflow's ``may``."""
    if who == MANAGE:
        return may_manage(actor, evaluation.community)
    if who == PUBLISH:
        return may_publish(actor, evaluation.community)
    return False


@rules.predicate
def uses_office(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(office_communities(user)) or bool(scope_of(user).streets)


rules.add_perm("evaluation.use_office", uses_office)
