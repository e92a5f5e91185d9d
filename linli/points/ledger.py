"""The 睦邻积分 ledger: accounts, posting, reversal, balances, statements (docs/points.md).

Every movement of points is :func:`post`: one transaction, its postings (integers, summing to
zero, at least two), then ``posted`` set true — the database's triggers (migration 0002) check
the sum again and move the cached balances, and the account's CHECK refuses a balance below
zero. This module never compares a balance with an amount in Python: a redemption that the
balance does not cover is refused by the database, which is what keeps 100 simultaneous
redemptions exact (PostgreSQL serialises them on the account row's lock; SQLite on its one
writer).

Callers authorise: these functions check the ledger's own rules, not who the actor is.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection as default_connection, transaction as db_transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core import bulk, events
from linli.core.errors import Conflict, InvalidInput
from linli.core.models import Event

from .audit import AuditResult, audit  # noqa: F401  (the ledger's audit: linli/points/audit.py)
from .models import Account, Posting, Transaction

POSTED = "points.posted"
REVERSED = "points.reversed"
# The rows of one ``UPDATE … SET posted`` of :func:`post_bulk` (SQLite's limit on variables
# is far above; PostgreSQL plans an index scan in id order).
POST_BATCH = 900


@dataclass(frozen=True)
class Draft:
    """A transaction of history for :func:`post_bulk` (the demo)."""

    kind: str
    lines: list[tuple[Account, int]]
    at: dt.datetime
    memo: str = ""
    source: tuple[str, str] | None = None
    actor: Any = None


@dataclass(frozen=True)
class StatementLine:
    at: dt.datetime
    kind: str
    memo: str
    amount: int
    running_balance: int
    transaction_id: int


# ----------------------------------------------------------------------------------------------
# Accounts


def account_for(resident) -> Account:
    """The resident's account, made on first use (no event: an empty account moves nothing)."""
    try:
        return Account.objects.get(resident=resident)
    except Account.DoesNotExist:
        account, _created = Account.objects.get_or_create(
            resident=resident, defaults={"community_id": resident.community_id, "kind": Account.Kind.RESIDENT})
        return account


def _single(community, kind: str) -> Account:
    account, _created = Account.objects.get_or_create(community=community, kind=kind)
    return account


def issuance(community) -> Account:
    """The community's issuance account: its balance is minus the points outstanding."""
    return _single(community, Account.Kind.ISSUANCE)


def expiry_account(community) -> Account:
    return _single(community, Account.Kind.EXPIRY)


def pool(community) -> Account:
    """The community pool: points residents gave to the community."""
    return _single(community, Account.Kind.POOL)


def partner_account(partner) -> Account:
    try:
        return Account.objects.get(partner=partner)
    except Account.DoesNotExist:
        account, _created = Account.objects.get_or_create(
            partner=partner, defaults={"community_id": partner.community_id, "kind": Account.Kind.PARTNER})
        return account


def balance(account: Account) -> int:
    """The account's cached balance, as the database holds it now."""
    return Account.objects.values_list("balance", flat=True).get(pk=account.pk)


# ----------------------------------------------------------------------------------------------
# Posting


def _unbalanced(message=None) -> InvalidInput:
    return InvalidInput(message or _("A points transaction needs at least two lines, none of them zero, "
                                     "that add up to zero."), code="unbalanced")


def _check(community, kind: str, lines, memo: str, source) -> tuple[list[tuple[Account, int]], str, str]:
    if kind not in Transaction.Kind.values:
        raise InvalidInput(_("Unknown kind of points transaction."), code="invalid_kind", field="kind")
    lines = list(lines or ())
    if len(lines) < 2:
        raise _unbalanced()
    for account, amount in lines:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise _unbalanced()
        if account.pk is None or account.community_id != community.pk:
            raise InvalidInput(_("Every account of a points transaction belongs to its community."),
                               code="wrong_community")
    if sum(amount for _account, amount in lines) != 0:
        raise _unbalanced()
    if len(memo or "") > 200:
        raise InvalidInput(_("The memo is at most 200 characters long."), code="invalid", field="memo")
    source_type, source_id = ("", "") if source is None else (str(source[0]), str(source[1]))
    if source is not None and not (0 < len(source_type) <= 64 and 0 < len(source_id) <= 64):
        raise InvalidInput(_("A transaction's source is a type and an id, each 1 to 64 characters."),
                           code="invalid", field="source")
    return lines, source_type, source_id


def refusal(exc: IntegrityError) -> Exception:
    """The user's error for the database's refusal of a posting (``exc`` otherwise)."""
    message = str(exc)
    if "points_account_not_negative" in message:
        return Conflict(_("There are not enough points for this."), code="insufficient_points")
    if "points_transaction_one_per_source" in message or "points_transaction.source_id" in message:
        return Conflict(_("This has already been posted to the points ledger."), code="already_posted")
    if "reverses_id" in message:
        return Conflict(_("This transaction has already been reversed."), code="already_reversed")
    if "sum to zero" in message:
        return _unbalanced()
    return exc


def _post(*, community, kind, lines, actor, memo, source, reverses, at) -> tuple[Transaction, int]:
    lines, source_type, source_id = _check(community, kind, lines, memo, source)
    now = timezone.now()
    with db_transaction.atomic():  # a savepoint: a refusal leaves the caller's transaction usable
        if source_type and Transaction.objects.filter(kind=kind, source_type=source_type,
                                                      source_id=source_id).exists():
            raise Conflict(_("This has already been posted to the points ledger."), code="already_posted")
        try:
            with db_transaction.atomic():
                txn = Transaction.objects.create(
                    community=community, kind=kind, memo=memo or "", reverses=reverses, source_type=source_type,
                    source_id=source_id, actor=actor if getattr(actor, "pk", None) else None, posted=False,
                    created_at=now, effective_at=at or now)
                Posting.objects.bulk_create(
                    [Posting(transaction=txn, account=account, amount=amount, created_at=now)
                     for account, amount in lines])
                # The database checks the sum and moves the balances (or refuses a negative one).
                Transaction.objects.filter(pk=txn.pk).update(posted=True)
        except IntegrityError as exc:
            error = refusal(exc)
            if error is exc:
                raise
            raise error from exc
    txn.posted = True
    return txn, sum(amount for _account, amount in lines if amount > 0)


def post(*, community, kind, lines: list[tuple[Account, int]], actor=None, memo: str = "",
         source: tuple[str, str] | None = None, reverses: Transaction | None = None,
         at: dt.datetime | None = None) -> Transaction:
    """Post one transaction: ``lines`` are ``(account, amount)``, amount > 0 raising the balance.

    Raises ``InvalidInput(code="unbalanced")`` (sum ≠ 0, fewer than two lines, an amount 0),
    ``Conflict(code="insufficient_points")`` when the database refuses a balance below zero,
    ``Conflict(code="already_posted")`` for a ``source`` already posted with this kind."""
    with db_transaction.atomic():
        txn, moved = _post(community=community, kind=kind, lines=lines, actor=actor, memo=memo, source=source,
                           reverses=reverses, at=at)
        events.record(actor=actor, verb=POSTED, target=txn, community=community,
                      data={"kind": kind, "transaction": txn.pk, "total": moved})
    return txn


def reverse(*, actor, transaction: Transaction, reason: str) -> Transaction:
    """Post the reversal of ``transaction``: its postings negated, ``reverses`` pointing at it.

    Refused: without a reason; for an unposted transaction; for a reversal; for a transaction
    already reversed; and, by the database, when a balance would go below zero (the points were
    spent: reverse that spending first)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the transaction is reversed."), code="reason_required", field="reason")
    if len(reason) > 200:
        raise InvalidInput(_("The reason is at most 200 characters long."), code="invalid", field="reason")
    with db_transaction.atomic():
        original = Transaction.objects.select_for_update().select_related("community").get(pk=transaction.pk)
        if not original.posted:
            raise Conflict(_("Only a posted transaction can be reversed."), code="not_posted")
        if original.kind == Transaction.Kind.REVERSAL:
            raise Conflict(_("A reversal cannot be reversed."), code="reversal_of_reversal")
        if Transaction.objects.filter(reverses=original).exists():
            raise Conflict(_("This transaction has already been reversed."), code="already_reversed")
        lines = [(posting.account, -posting.amount)
                 for posting in original.postings.select_related("account").order_by("id")]
        txn, moved = _post(community=original.community, kind=Transaction.Kind.REVERSAL, lines=lines, actor=actor,
                           memo=reason, source=None, reverses=original, at=None)
        events.record(actor=actor, verb=REVERSED, target=txn, community=original.community,
                      data={"transaction": txn.pk, "reverses": original.pk, "kind": original.kind,
                            "total": moved, "reason": reason})
    return txn


def post_bulk(*, community, drafts: list[Draft]) -> int:
    """Write history: every draft as a posted transaction, in one database transaction.

    The transactions go in unposted, then their postings (``linli.core.bulk.insert``, the ids read
    back in insertion order: the caller is the only writer of the ledger meanwhile — on PostgreSQL
    the table is locked to make sure), then ``UPDATE … SET posted`` in batches of ids, so the
    database's own triggers check every sum and move the balances. Drafts go in the order they
    happened: a balance that would go below zero on the way refuses the whole bulk. An unbalanced
    draft is refused before anything is written. One ``points.posted`` event per transaction.
    Returns how many transactions."""
    checked = [(_check(community, d.kind, d.lines, d.memo, d.source), d) for d in drafts]
    if not checked:
        return 0
    now = timezone.now()
    with db_transaction.atomic():
        conn = db_transaction.get_connection()
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("LOCK TABLE points_transaction IN SHARE ROW EXCLUSIVE MODE")
        try:
            ids = [t.pk for t in bulk.insert_with_ids(Transaction, (
                Transaction(community=community, kind=d.kind, memo=d.memo or "", source_type=st, source_id=si,
                            actor=d.actor if getattr(d.actor, "pk", None) else None, posted=False, created_at=now,
                            effective_at=d.at)
                for (_lines, st, si), d in checked))]
            bulk.insert(Posting, (
                Posting(transaction_id=tid, account_id=account.pk, amount=amount, created_at=now)
                for tid, ((lines, _st, _si), _d) in zip(ids, checked) for account, amount in lines))
            table = Transaction._meta.db_table
            with conn.cursor() as cursor:
                for start in range(0, len(ids), POST_BATCH):
                    batch = ids[start:start + POST_BATCH]
                    cursor.execute(f"UPDATE {table} SET posted = %s WHERE id IN ({', '.join(['%s'] * len(batch))})",
                                   [True, *batch])
        except IntegrityError as exc:
            error = refusal(exc)
            if error is exc:
                raise
            raise error from exc
        bulk.insert(Event, (
            events.build(actor=d.actor, verb=POSTED, target=Transaction(pk=tid), community=community, at=d.at,
                         data={"kind": d.kind, "transaction": tid,
                               "total": sum(amount for _account, amount in lines if amount > 0)})
            for tid, ((lines, _st, _si), d) in zip(ids, checked)))
    return len(ids)


# ----------------------------------------------------------------------------------------------
# Reading


def statement(account: Account, *, since: dt.datetime | None = None,
              until: dt.datetime | None = None) -> list[StatementLine]:
    """The account's posted movements from ``since`` (inclusive) to ``until`` (exclusive), oldest
    first, by the moment each counts for (``effective_at``), one line per transaction, each with
    the balance after it."""
    postings = Posting.objects.filter(account_id=account.pk, transaction__posted=True)
    running = 0
    if since is not None:
        running = postings.filter(transaction__effective_at__lt=since).aggregate(s=Sum("amount"))["s"] or 0
        postings = postings.filter(transaction__effective_at__gte=since)
    if until is not None:
        postings = postings.filter(transaction__effective_at__lt=until)
    rows = (postings.values("transaction_id", "transaction__effective_at", "transaction__kind", "transaction__memo")
            .annotate(amount=Sum("amount")).order_by("transaction__effective_at", "transaction_id"))
    lines = []
    for row in rows:
        running += row["amount"]
        lines.append(StatementLine(at=row["transaction__effective_at"], kind=row["transaction__kind"],
                                   memo=row["transaction__memo"], amount=row["amount"], running_balance=running,
                                   transaction_id=row["transaction_id"]))
    return lines


# ----------------------------------------------------------------------------------------------
# The flush's erase path (hook ``transparency.flush``; migration 0002)


@contextmanager
def erasing_for_flush(connection=None):
    """While Django's ``flush`` empties every table, the ledger's DELETE rules give way."""
    connection = connection or default_connection
    tables = connection.introspection.table_names()
    if "points_ledger_erasing" not in tables:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO points_ledger_erasing (flag) VALUES (1)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM points_ledger_erasing")
