"""The ledger's audit: does every number agree with every other? (docs/points.md, "Audit")

Three checks, one ``GROUP BY`` (or one scan) each in the database, never a loop over postings
in Python:

1. every posted transaction has at least two postings and they sum to zero;
2. every account's cached ``balance`` equals the sum of its postings in posted transactions;
3. no unposted transaction older than an hour holds postings (a transfer left half-done).

The first failure found, in that order and by id, is named in ``problem``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _


STALE_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class AuditResult:
    ok: bool
    transactions: int
    postings: int
    accounts: int
    problem: str | None = None
    # What the problem points at: ("transaction" | "account", id), or None.
    culprit: tuple[str, int] | None = field(default=None, compare=False)


def _one(cursor, sql: str, params: list):
    cursor.execute(sql, params)
    return cursor.fetchone()


def audit(community=None) -> AuditResult:
    """Audit the ledger of ``community`` (every community's when None)."""
    cid = community.pk if community is not None else None
    t_where, t_params = ("AND t.community_id = %s", [cid]) if cid is not None else ("", [])
    a_where, a_params = ("AND a.community_id = %s", [cid]) if cid is not None else ("", [])
    with connection.cursor() as cursor:
        transactions = _one(cursor, f"SELECT COUNT(*) FROM points_transaction t WHERE 1 = 1 {t_where}", t_params)[0]
        if cid is None:
            postings = _one(cursor, "SELECT COUNT(*) FROM points_posting", [])[0]
        else:
            postings = _one(cursor, "SELECT COUNT(*) FROM points_posting p JOIN points_transaction t "
                                    f"ON t.id = p.transaction_id WHERE 1 = 1 {t_where}", t_params)[0]
        accounts = _one(cursor, f"SELECT COUNT(*) FROM points_account a WHERE 1 = 1 {a_where}", a_params)[0]
        counts = {"transactions": transactions, "postings": postings, "accounts": accounts}

        # 1. Posted transactions that do not balance (or hold fewer than two postings).
        row = _one(cursor, f"""
            SELECT t.id, COALESCE(SUM(p.amount), 0), COUNT(p.id)
            FROM points_transaction t LEFT JOIN points_posting p ON p.transaction_id = t.id
            WHERE t.posted = %s {t_where}
            GROUP BY t.id
            HAVING COALESCE(SUM(p.amount), 0) <> 0 OR COUNT(p.id) < 2
            ORDER BY t.id LIMIT 1""", [True, *t_params])
        if row is not None:
            return AuditResult(ok=False, **counts, culprit=("transaction", row[0]), problem=_(
                "Transaction #%(id)s does not balance: its %(count)s postings sum to %(sum)s.")
                % {"id": row[0], "count": row[2], "sum": row[1]})

        # 2. Cached balances that differ from their postings.
        row = _one(cursor, f"""
            SELECT a.id, a.balance, COALESCE(s.total, 0)
            FROM points_account a LEFT JOIN (
                SELECT p.account_id, SUM(p.amount) AS total
                FROM points_posting p JOIN points_transaction t ON t.id = p.transaction_id
                WHERE t.posted = %s {t_where}
                GROUP BY p.account_id) s ON s.account_id = a.id
            WHERE a.balance <> COALESCE(s.total, 0) {a_where}
            ORDER BY a.id LIMIT 1""", [True, *t_params, *a_params])
        if row is not None:
            return AuditResult(ok=False, **counts, culprit=("account", row[0]), problem=_(
                "Account #%(id)s holds a balance of %(balance)s but its postings sum to %(sum)s.")
                % {"id": row[0], "balance": row[1], "sum": row[2]})

        # 3. Half-done transfers: unposted transactions with postings, older than an hour.
        stale = connection.ops.adapt_datetimefield_value(timezone.now() - STALE_AFTER)
        row = _one(cursor, f"""
            SELECT t.id FROM points_transaction t
            WHERE t.posted = %s AND t.created_at < %s {t_where}
              AND EXISTS (SELECT 1 FROM points_posting p WHERE p.transaction_id = t.id)
            ORDER BY t.id LIMIT 1""", [False, stale, *t_params])
        if row is not None:
            return AuditResult(ok=False, **counts, culprit=("transaction", row[0]), problem=_(
                "Transaction #%(id)s holds postings but was never posted.") % {"id": row[0]})
    return AuditResult(ok=True, **counts)
