"""Who keeps, approves and reads a community's books (docs/books.md, "Roles").

- **Prepare** (write vouchers, attach receipts, submit, propose a reversal): the community's
  administrators and workers — the office's bookkeepers (会计/出纳 are workers there).
- **Approve or return** (审核, which posts): a community administrator or the party secretary
  of that community who neither prepared nor submitted the voucher. Two people, always.
- **Manage** (the chart of accounts, budgets, month closing): community administrators.
- **Read the ledger** (accounts, journal, vouchers, receipts, the ledger export): the office —
  administrators, workers and the party secretary.
- **Read statements** (monthly statement, budget against actual, their export): the office and
  the street supervisor of the community's street. Nobody else: residents read what the board
  (三务公开栏) publishes.
"""

from __future__ import annotations

import rules

from linli.community.models import StaffRole
from linli.community.scope import community_id_of, reads_office_or_street, scope_of

R = StaffRole.Role
APPROVER_ROLES = (R.COMMUNITY_ADMIN, R.PARTY_SECRETARY)


def _approver_communities(user) -> set[int]:
    cached = getattr(user, "_linli_books_approvers", None)
    if cached is None or cached[0] != user.pk:
        ids = set()
        if user.is_authenticated and user.is_active:
            ids = set(StaffRole.objects.filter(user=user, active=True, role__in=APPROVER_ROLES)
                      .values_list("community_id", flat=True))
        cached = (user.pk, ids)
        try:
            user._linli_books_approvers = cached
        except AttributeError:
            pass
    return cached[1]


_cid = community_id_of


def keeps_books(user, community) -> bool:
    return community is not None and _cid(community) in scope_of(user).worker_communities


def approves_in(user, community) -> bool:
    return community is not None and _cid(community) in _approver_communities(user)


def manages_books(user, community) -> bool:
    return community is not None and _cid(community) in scope_of(user).admin_communities


def reads_ledger(user, community) -> bool:
    return community is not None and _cid(community) in scope_of(user).office_communities


def reads_statements(user, community) -> bool:
    return reads_office_or_street(user, community)


def may_approve(user, voucher) -> bool:
    """An approver of the voucher's community who neither prepared nor submitted it."""
    return (voucher is not None and approves_in(user, voucher)
            and user.pk not in (voucher.prepared_by_id, voucher.submitted_by_id))


def voucher_may(actor, voucher, who: str) -> bool:
    """The voucher workflow's ``may``: ``prepare`` or ``approve``."""
    if who == "prepare":
        return keeps_books(actor, voucher)
    if who == "approve":
        return may_approve(actor, voucher)
    return False


@rules.predicate
def uses_books(user):
    scope = scope_of(user)
    return bool(scope.office_communities or scope.streets)


rules.add_perm("books.use_books", uses_books)
rules.add_perm("books.view_ledger", rules.predicate(reads_ledger))
rules.add_perm("books.view_statements", rules.predicate(reads_statements))
rules.add_perm("books.prepare", rules.predicate(keeps_books))
rules.add_perm("books.manage", rules.predicate(manages_books))
rules.add_perm("books.approve_voucher", rules.predicate(may_approve))
