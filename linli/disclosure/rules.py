"""Who may do what on the board's back office, written once (docs/disclosure.md, docs/roles.md).

Per community and per section:

=============  ===============================================  ===========================
section        may write, edit, submit and correct (``AUTHOR``)  may approve (``APPROVER``)
=============  ===============================================  ===========================
party          party secretary, community admin, worker         party secretary
residential    community admin, community worker                community admin
finance        community admin, community worker                community admin
=============  ===============================================  ===========================

The approver is never the entry's author (two people see everything that is published).
Only a community admin withdraws a published entry (``ADMIN``) and edits the duties. The
street supervisor reads the office pages of the street's communities but changes nothing.
The server itself (``linli disclosure publish``, actor None) publishes as the system: whoever
runs the command on the server approves what it imports (the workflow's ``SYSTEM`` move).
"""

from __future__ import annotations

import rules

from linli.community.models import StaffRole
from linli.community.scope import forget_scope, scope_of
from linli.community.scope import roles_in as scope_roles_in

R = StaffRole.Role
AUTHOR = "author"
APPROVER = "approver"
ADMIN = "admin"
SYSTEM_ROLE = "system"

AUTHOR_ROLES = {
    "party": (R.PARTY_SECRETARY, R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER),
    "residential": (R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER),
    "finance": (R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER),
}
APPROVER_ROLES = {
    "party": (R.PARTY_SECRETARY,),
    "residential": (R.COMMUNITY_ADMIN,),
    "finance": (R.COMMUNITY_ADMIN,),
}
OFFICE_ROLES = (R.PARTY_SECRETARY, R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER)


def roles_in(user, community_id: int) -> set[str]:
    """The account's active roles in one community (``community.scope``, cached per request)."""
    return scope_roles_in(user, community_id)


def forget(user) -> None:
    forget_scope(user)


def acting_role(held: set[str], allowed) -> str:
    """The first of ``allowed`` the account holds ("" if none): the role the leaf names."""
    return next((role for role in allowed if role in held), "")


def author_role(user, community_id: int, section: str) -> str:
    return acting_role(roles_in(user, community_id), AUTHOR_ROLES.get(section, ()))


def approver_role(user, community_id: int, section: str) -> str:
    return acting_role(roles_in(user, community_id), APPROVER_ROLES.get(section, ()))


def may_author(user, community_id: int, section: str) -> bool:
    return bool(author_role(user, community_id, section))


def may_approve(user, entry) -> bool:
    """A holder of the section's approving role who did not write the entry."""
    if user is None or entry.author_id == user.pk:
        return False
    return bool(approver_role(user, entry.community_id, entry.section))


def is_admin_of(user, community_id: int) -> bool:
    return R.COMMUNITY_ADMIN in roles_in(user, community_id)


def may_use_office(user, community) -> bool:
    """Reads the office pages: any office role in the community, or the street's supervisor."""
    if community is None:
        return False
    if roles_in(user, community.pk) & set(OFFICE_ROLES):
        return True
    return community.street_id in scope_of(user).streets


def may_change(user, community) -> bool:
    """Writes anything at all in this community's office (a street supervisor only reads)."""
    return community is not None and bool(roles_in(user, community.pk) & set(OFFICE_ROLES))


def actor_may(actor, entry, who: str) -> bool:
    """The workflow's ``may``: whether a signed-in account satisfies ``who`` for this entry."""
    if actor is None:
        return False
    if who == AUTHOR:
        return may_author(actor, entry.community_id, entry.section)
    if who == APPROVER:
        return may_approve(actor, entry)
    if who == ADMIN:
        return is_admin_of(actor, entry.community_id)
    return False


def office_communities(user) -> list[int]:
    """Communities whose office pages this account may open (for the menu)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return sorted(c for c, held in scope_of(user).roles.items() if held & set(OFFICE_ROLES))


@rules.predicate
def uses_any_office(user):
    return bool(office_communities(user)) or bool(scope_of(user).streets)


rules.add_perm("disclosure.use_office", uses_any_office)
