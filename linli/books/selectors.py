"""Reads of the books, scoped by :mod:`linli.books.rules`: communities, balances, the journal.

Balances are sums over posted lines (vouchers approved), never stored: a posted voucher is
never edited, so a sum is always the ledger's truth. A head's figures include its
sub-accounts'.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Sum

from linli.community.models import Community
from linli.community.scope import scope_of

from . import chart, rules
from .models import Account, Voucher, VoucherLine

S = Voucher.Status


def communities_for(user) -> list[Community]:
    """The communities whose books (or only statements) the account may read, by name."""
    scope = scope_of(user)
    q = Q(pk__in=scope.office_communities) | Q(street_id__in=scope.streets)
    return list(Community.objects.filter(q).order_by("code"))


def community_for(user, code: str) -> Community | None:
    """The community by code when the account may read at least its statements; None otherwise
    (pages answer 404 alike for a community that does not exist and one that is not theirs)."""
    community = Community.objects.filter(code=str(code or "")[:20]).first()
    if community is None or not rules.reads_statements(user, community):
        return None
    return community


def accounts(community) -> list[Account]:
    """The chart, in code order, each with ``level`` (0 for a head, 1 for its sub-accounts …)."""
    rows = list(Account.objects.filter(community=community).order_by("code"))
    by_id = {a.pk: a for a in rows}
    for a in rows:
        level, parent = 0, by_id.get(a.parent_id)
        while parent is not None:
            level, parent = level + 1, by_id.get(parent.parent_id)
        a.level = level
        a.is_leaf = True
    for a in rows:
        if a.parent_id in by_id:
            by_id[a.parent_id].is_leaf = False
    return rows


def leaf_accounts(community, *, active_only=True) -> list[Account]:
    rows = [a for a in accounts(community) if a.is_leaf]
    return [a for a in rows if a.active] if active_only else rows


def sums(community, *, start: dt.date | None = None, end: dt.date | None = None) -> dict[int, tuple[int, int]]:
    """Posted debits and credits per account (its own lines) dated in [start, end]."""
    q = Q(voucher__community=community, voucher__status=S.APPROVED)
    if start is not None:
        q &= Q(voucher__date__gte=start)
    if end is not None:
        q &= Q(voucher__date__lte=end)
    return {row["account_id"]: (row["d"] or 0, row["c"] or 0)
            for row in VoucherLine.objects.filter(q).values("account_id").annotate(d=Sum("debit"), c=Sum("credit"))}


def rollup(rows: list[Account], own: dict[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Each account's debits and credits including its sub-accounts' (any depth)."""
    by_id = {a.pk: a for a in rows}
    total = {a.pk: [0, 0] for a in rows}
    for account_id, (d, c) in own.items():
        account = by_id.get(account_id)
        while account is not None:
            total[account.pk][0] += d
            total[account.pk][1] += c
            account = by_id.get(account.parent_id)
    return {k: (v[0], v[1]) for k, v in total.items()}


def carried_surplus(community, rows: list[Account], before: dt.date) -> dict[int, tuple[int, int]]:
    """Posted sums before ``before`` with the revenue and expense of earlier years carried to
    unrestricted net assets (3101): the year-end carry-forward, computed rather than booked."""
    own = sums(community, end=before - dt.timedelta(days=1))
    year_start = dt.date(before.year, 1, 1)
    this_year = sums(community, start=year_start, end=before - dt.timedelta(days=1)) if before > year_start else {}
    surplus = next((a for a in rows if a.code == chart.SURPLUS_CODE), None)
    if surplus is None:
        return own
    kinds = {a.pk: a.kind for a in rows}
    carried_d = carried_c = 0
    result = dict(own)
    for account_id, (d, c) in own.items():
        if kinds.get(account_id) in (Account.Kind.REVENUE, Account.Kind.EXPENSE):
            yd, yc = this_year.get(account_id, (0, 0))
            carried_d, carried_c = carried_d + d - yd, carried_c + c - yc
            result[account_id] = (yd, yc)
    sd, sc = result.get(surplus.pk, (0, 0))
    result[surplus.pk] = (sd + carried_d, sc + carried_c)
    return result


def balances(community, *, as_of: dt.date | None = None) -> list[Account]:
    """The chart with each account's posted ``debit``, ``credit`` (all time up to ``as_of``)
    and ``balance`` on its normal side (assets and expenses: debit − credit; others: credit − debit)."""
    rows = accounts(community)
    totals = rollup(rows, sums(community, end=as_of))
    for a in rows:
        a.debit, a.credit = totals[a.pk]
        a.balance = a.debit - a.credit if a.debit_normal else a.credit - a.debit
    return rows


def journal(community, *, start=None, end=None, account: Account | None = None, status: str | None = None,
            text: str = ""):
    """Lines with their vouchers, in date and number order, filtered."""
    qs = VoucherLine.objects.filter(voucher__community=community).select_related("voucher", "account")
    if start:
        qs = qs.filter(voucher__date__gte=start)
    if end:
        qs = qs.filter(voucher__date__lte=end)
    if account is not None:
        qs = qs.filter(Q(account=account) | Q(account__parent=account))
    if status in S.values:
        qs = qs.filter(voucher__status=status)
    if text:
        qs = qs.filter(Q(voucher__summary__icontains=text) | Q(summary__icontains=text))
    return qs.order_by("voucher__date", "voucher__year", "voucher__number", "position")


def vouchers(community, *, status: str | None = None):
    qs = Voucher.objects.filter(community=community).annotate(
        total=Sum("lines__debit"), line_count=Count("lines")).select_related("prepared_by", "approved_by")
    if status in S.values:
        qs = qs.filter(status=status)
    return qs.order_by("-date", "-year", "-number")


def voucher_get(community, year, number) -> Voucher | None:
    try:
        year, number = int(year), int(number)
    except (TypeError, ValueError):
        return None
    return (Voucher.objects.filter(community=community, year=year, number=number)
            .select_related("prepared_by", "submitted_by", "approved_by", "reverses").first())
