"""Every write to the books: keyword-only, atomic, one event each (docs/books.md).

A voucher is checked before anything is written — its lines balance (debits = credits, not
zero), no line is zero or negative (a reversal's red-ink lines excepted), every account is an
active head without sub-accounts of the voucher's own community, and its month is not closed —
so a refused voucher leaves no row and no event behind.

:func:`post_vouchers` is the bulk path for history (the demo's year of books, imports): the
same checks per voucher, numbers given in date order, rows and events (created, submitted,
approved: the events the one-by-one road writes) written with ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from linli.community.models import Community
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event

from . import chart, rules
from .models import Account, Budget, ClosedMonth, Voucher, VoucherAttachment, VoucherLine
from .workflow import VOUCHER

S = Voucher.Status
MAX_LINES = 50
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class LineInput:
    """One line as typed: an account, the debit or the credit in fen (the other 0), a summary."""

    account: Account
    debit: int = 0
    credit: int = 0
    summary: str = ""


@dataclass(frozen=True)
class VoucherInput:
    """One voucher for :func:`post_vouchers`."""

    date: dt.date
    summary: str
    lines: tuple[LineInput, ...]
    posted_at: dt.datetime | None = None  # when it was submitted and approved (history); None: now


# ----------------------------------------------------------------------------------------------
# The chart of accounts


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not do this in this community's books."))


def install_chart(*, actor, community: Community) -> int:
    """Install the default chart (:mod:`linli.books.chart`) in the installation's language;
    heads whose code exists are left as they are. Returns how many were created. Actor None:
    the system (a new community, the demo)."""
    from django.conf import settings

    if actor is not None:
        _require(rules.manages_books(actor, community))
    with transaction.atomic():
        existing = {a.code: a for a in Account.objects.filter(community=community)}
        created = 0
        with override(settings.LANGUAGE_CODE):
            for code, name, kind, parent_code in chart.DEFAULT_CHART:
                if code in existing:
                    continue
                existing[code] = Account.objects.create(
                    community=community, code=code, name=str(name), kind=kind,
                    parent=existing.get(parent_code) if parent_code else None)
                created += 1
        events.record(actor=actor, verb="books.chart_installed", community=community, data={"created": created})
    return created


def _clean_code(code: str) -> str:
    code = (code or "").strip()
    if not code or len(code) > 20 or not all(c.isascii() and (c.isdigit() or c == ".") for c in code):
        raise InvalidInput(_("An account code is digits, with dots between levels (5101 or 3102.01)."), field="code")
    return code


def _clean_name(name: str, field: str = "name", max_length: int = 60) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("This field is required."), field=field)
    if len(name) > max_length:
        raise InvalidInput(_("At most %(max)d characters.") % {"max": max_length}, field=field)
    return name


def account_create(*, actor, community: Community, code: str, name: str, kind: str | None = None,
                   parent: Account | None = None) -> Account:
    """A new head, or a sub-account of ``parent`` (same kind). A head that already has lines
    gets no sub-account (its balance would be split between two places)."""
    if actor is not None:
        _require(rules.manages_books(actor, community))
    code, name = _clean_code(code), _clean_name(name)
    if parent is not None:
        if parent.community_id != community.pk:
            raise InvalidInput(_("That account belongs to another community."), field="parent")
        kind = parent.kind
        if parent.lines.exists():
            raise InvalidInput(_("This account already has lines; it cannot get sub-accounts."), field="parent")
    if kind not in Account.Kind.values:
        raise InvalidInput(_("Choose the kind of account."), field="kind")
    with transaction.atomic():
        if Account.objects.filter(community=community, code=code).exists():
            raise InvalidInput(_("There is already an account with this code."), field="code")
        account = Account.objects.create(community=community, code=code, name=name, kind=kind, parent=parent)
        events.record(actor=actor, verb="books.account_created", target=account, community=community,
                      data={"code": code, "kind": kind})
    return account


def fund_project_create(*, actor, community: Community, name: str) -> Account:
    """A sub-account of the community fund for one project (3102.01, 3102.02 …)."""
    fund = Account.objects.filter(community=community, code=chart.FUND_CODE).first()
    if fund is None:
        raise InvalidInput(_("Install the chart of accounts first."))
    codes = Account.objects.filter(parent=fund).values_list("code", flat=True)
    last = max((int(c.rsplit(".", 1)[1]) for c in codes if c.rsplit(".", 1)[-1].isdigit()), default=0)
    return account_create(actor=actor, community=community, code=f"{chart.FUND_CODE}.{last + 1:02d}",
                          name=name, parent=fund)


def account_update(*, actor, account: Account, name: str | None = None, active: bool | None = None) -> Account:
    """Rename a head or switch it on or off; a head with a balance stays on."""
    if actor is not None:
        _require(rules.manages_books(actor, account.community))
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        changed = []
        if name is not None:
            name = _clean_name(name)
            if name != account.name:
                account.name, changed = name, changed + ["name"]
        if active is not None and active != account.active:
            if not active:
                totals = VoucherLine.objects.filter(account=account, voucher__status=S.APPROVED).aggregate(
                    d=Sum("debit"), c=Sum("credit"))
                if (totals["d"] or 0) != (totals["c"] or 0):
                    raise InvalidInput(_("An account with a balance cannot be switched off."), field="active")
            account.active, changed = active, changed + ["active"]
        if changed:
            account.save(update_fields=changed)
            events.record(actor=actor, verb="books.account_changed", target=account, community=account.community,
                          data={"code": account.code, "changed": changed})
    return account


# ----------------------------------------------------------------------------------------------
# Checking a voucher


def is_closed(community, date: dt.date) -> bool:
    return ClosedMonth.objects.filter(community=community, year=date.year, month=date.month).exists()


def _account_states(ids) -> dict[int, tuple[int, bool]]:
    """Each account's community and whether it is on, as stored now (not as the caller holds it)."""
    return {pk: (cid, active) for pk, cid, active in
            Account.objects.filter(pk__in=set(ids)).values_list("pk", "community_id", "active")}


def _check(community, date, summary, lines, *, reversal=False, closed=None, parents=None,
           states=None) -> tuple[str, list]:
    """The voucher's summary and lines, checked; InvalidInput (translated) for the first fault."""
    if not isinstance(date, dt.date):
        raise InvalidInput(_("Enter the voucher's date."), field="date")
    if not 2000 <= date.year <= 2100:
        raise InvalidInput(_("Enter a date between 2000 and 2100."), field="date")
    summary = _clean_name(summary, "summary", 200)
    lines = list(lines)
    if len(lines) < 2:
        raise InvalidInput(_("A voucher has at least two lines."), field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(_("A voucher has at most %(max)d lines.") % {"max": MAX_LINES}, field="lines")
    if parents is None:
        parents = set(Account.objects.filter(community=community, parent__isnull=False)
                      .values_list("parent_id", flat=True))
    if states is None:
        states = _account_states(line.account.pk for line in lines if line.account is not None)
    debit = credit = 0
    for n, line in enumerate(lines, start=1):
        account = line.account
        state = states.get(account.pk) if account is not None else None
        if state is None or state[0] != community.pk:
            raise InvalidInput(_("Line %(n)d: that account belongs to another community.") % {"n": n}, field="lines")
        if not state[1]:
            raise InvalidInput(_("Line %(n)d: the account %(account)s is switched off.")
                               % {"n": n, "account": account}, field="lines")
        if account.pk in parents:
            raise InvalidInput(_("Line %(n)d: %(account)s has sub-accounts; post to one of them.")
                               % {"n": n, "account": account}, field="lines")
        d, c = int(line.debit or 0), int(line.credit or 0)
        if (d == 0) == (c == 0):
            raise InvalidInput(_("Line %(n)d: enter an amount on the debit side or on the credit side, not both.")
                               % {"n": n}, field="lines")
        if (d < 0 or c < 0) and not reversal:
            raise InvalidInput(_("Line %(n)d: an amount must be more than zero.") % {"n": n}, field="lines")
        if len(line.summary or "") > 200:
            raise InvalidInput(_("Line %(n)d: the summary is longer than 200 characters.") % {"n": n}, field="lines")
        debit, credit = debit + d, credit + c
    if debit != credit:
        from .money import format_fen
        raise InvalidInput(_("Debits (%(debit)s) and credits (%(credit)s) do not balance.")
                           % {"debit": format_fen(debit), "credit": format_fen(credit)}, field="lines")
    if debit == 0:
        raise InvalidInput(_("A voucher's total cannot be zero."), field="lines")
    if (closed is not None and (date.year, date.month) in closed) or (closed is None and is_closed(community, date)):
        raise InvalidInput(_("The books of %(month)s are closed; date the voucher in an open month.")
                           % {"month": f"{date:%Y-%m}"}, field="date")
    return summary, lines


def _lock_community(community):
    """Voucher numbers are given under the community's row lock: two vouchers at once, two numbers."""
    Community.objects.select_for_update().filter(pk=community.pk).first()


def _next_number(community, year) -> int:
    return (Voucher.objects.filter(community=community, year=year).aggregate(m=Max("number"))["m"] or 0) + 1


def _write_lines(voucher, lines):
    VoucherLine.objects.bulk_create([
        VoucherLine(voucher=voucher, position=n, account=line.account, summary=(line.summary or "").strip(),
                    debit=int(line.debit or 0), credit=int(line.credit or 0))
        for n, line in enumerate(lines, start=1)])


def _total(lines) -> int:
    return sum(int(line.debit or 0) for line in lines)


# ----------------------------------------------------------------------------------------------
# Vouchers one by one


def voucher_create(*, actor, community: Community, date: dt.date, summary: str, lines) -> Voucher:
    """A draft voucher with the next number of its year (记-0001 …)."""
    _require(actor is not None and rules.keeps_books(actor, community))
    summary, lines = _check(community, date, summary, lines)
    with transaction.atomic():
        _lock_community(community)
        voucher = Voucher.objects.create(community=community, year=date.year, number=_next_number(community, date.year),
                                         date=date, summary=summary, prepared_by=actor)
        _write_lines(voucher, lines)
        events.record(actor=actor, verb="voucher.created", target=voucher, community=community,
                      data={"number": voucher.label, "year": voucher.year, "total": _total(lines)})
    return voucher


def voucher_update(*, actor, voucher: Voucher, date: dt.date, summary: str, lines) -> Voucher:
    """Rewrite a draft or returned voucher (its number stays; the date stays in its year).
    Whoever rewrites it becomes its preparer."""
    _require(actor is not None and rules.keeps_books(actor, voucher))
    summary, lines = _check(voucher.community, date, summary, lines, reversal=voucher.reverses_id is not None)
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if voucher.status not in (S.DRAFT, S.RETURNED) or voucher.reverses_id is not None:
            raise InvalidInput(_("Only a draft or returned voucher can be changed; a posted one is reversed."))
        if date.year != voucher.year:
            raise InvalidInput(_("The date must stay in %(year)d, the year of the voucher's number.")
                               % {"year": voucher.year}, field="date")
        voucher.date, voucher.summary, voucher.prepared_by = date, summary, actor
        voucher.save(update_fields=["date", "summary", "prepared_by"])
        voucher.lines.all().delete()
        _write_lines(voucher, lines)
        events.record(actor=actor, verb="voucher.changed", target=voucher, community=voucher.community,
                      data={"number": voucher.label, "year": voucher.year, "total": _total(lines)})
    return voucher


def _recheck(voucher):
    """A voucher about to move is checked again against today's chart and closed months."""
    lines = [LineInput(account=line.account, debit=line.debit, credit=line.credit, summary=line.summary)
             for line in voucher.lines.select_related("account")]
    _check(voucher.community, voucher.date, voucher.summary, lines, reversal=voucher.reverses_id is not None)


def voucher_submit(*, actor, voucher: Voucher) -> Voucher:
    def apply(v, now):
        _recheck(v)
        v.submitted_by, v.submitted_at, v.returned_reason = actor, now, ""
    return VOUCHER.transition(voucher, "submit", actor=actor, apply=apply)


def voucher_approve(*, actor, voucher: Voucher) -> Voucher:
    """Approve and post (by a second person)."""
    def apply(v, now):
        _recheck(v)
        v.approved_by, v.approved_at = actor, now
    return VOUCHER.transition(voucher, "approve", actor=actor, apply=apply)


def voucher_return(*, actor, voucher: Voucher, reason: str) -> Voucher:
    reason = _clean_name(reason, "reason", 300)

    def apply(v, now):
        v.returned_reason = reason
    return VOUCHER.transition(voucher, "return", actor=actor, apply=apply)


def voucher_reverse(*, actor, voucher: Voucher, date: dt.date | None = None) -> Voucher:
    """红字冲销: a new voucher whose lines are the posted one's negated, pointing at it, created
    already submitted (its content is fixed) for a second person to approve. A voucher is
    reversed once."""
    _require(actor is not None and rules.keeps_books(actor, voucher))
    date = date or timezone.localdate()
    with transaction.atomic():
        original = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if original.status != S.APPROVED:
            raise InvalidInput(_("Only a posted voucher is reversed; change a draft instead."))
        if original.reverses_id is not None:
            raise InvalidInput(_("A reversal is not reversed again; enter a new voucher instead."))
        if Voucher.objects.filter(reverses=original).exists():
            raise InvalidInput(_("This voucher has already been reversed."))
        community = original.community
        lines = [LineInput(account=line.account, debit=-line.debit, credit=-line.credit, summary=line.summary)
                 for line in original.lines.select_related("account")]
        summary = _("Reversal of %(number)s (%(year)d): %(summary)s") % {
            "number": original.label, "year": original.year, "summary": original.summary}
        summary, lines = _check(community, date, summary[:200], lines, reversal=True)
        _lock_community(community)
        now = timezone.now()
        reversal = Voucher.objects.create(
            community=community, year=date.year, number=_next_number(community, date.year), date=date,
            summary=summary, status=S.SUBMITTED, prepared_by=actor, submitted_by=actor, submitted_at=now,
            reverses=original)
        _write_lines(reversal, lines)
        events.record(actor=actor, verb="voucher.reversal_created", target=reversal, community=community, at=now,
                      data={"number": reversal.label, "year": reversal.year, "reverses": original.label,
                            "reverses_year": original.year})
    return reversal


# ----------------------------------------------------------------------------------------------
# Receipts


def receipt_type(content: bytes) -> str | None:
    """The content type of a PDF, JPEG, PNG or WebP file, read from its bytes; None otherwise."""
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]:
        return "application/pdf"
    if content[:3] == b"\xff\xd8\xff" or content[:8] == b"\x89PNG\r\n\x1a\n" or (
            content[:4] == b"RIFF" and content[8:12] == b"WEBP"):
        from PIL import Image, UnidentifiedImageError
        try:
            with Image.open(io.BytesIO(content)) as image:
                fmt = image.format
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return None
        return {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}.get(fmt)
    return None


_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def attachment_add(*, actor, voucher: Voucher, name: str, content: bytes) -> VoucherAttachment:
    """A receipt with a voucher not yet posted: PDF or image by content, at most 20 MB."""
    _require(actor is not None and rules.keeps_books(actor, voucher))
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(_("A receipt is at most 20 MB."), field="file")
    if not content:
        raise InvalidInput(_("The file is empty."), field="file")
    content_type = receipt_type(content)
    if content_type is None:
        raise InvalidInput(_("A receipt is a PDF file or an image (JPEG, PNG or WebP)."), field="file")
    name = " ".join((name or "").split())[:120] or _("receipt")
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
        if voucher.status == S.APPROVED:
            raise InvalidInput(_("A posted voucher's receipts are fixed."), field="file")
        attachment = VoucherAttachment(voucher=voucher, name=name, content_type=content_type, size=len(content),
                                       sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor)
        # A random file name: the uploaded one may say who paid whom.
        attachment.file.save(f"{secrets.token_hex(12)}.{_EXTENSIONS[content_type]}", ContentFile(content), save=True)
        events.record(actor=actor, verb="voucher.receipt_added", target=voucher, community=voucher.community,
                      data={"number": voucher.label, "year": voucher.year, "sha256": attachment.sha256,
                            "size": attachment.size})
    return attachment


# ----------------------------------------------------------------------------------------------
# Budgets and closing


def budget_set(*, actor, community: Community, year: int, account: Account, amount: int) -> Budget:
    """The year's budget of a revenue or expense head, in fen (0 keeps a row saying zero)."""
    if actor is not None:
        _require(rules.manages_books(actor, community))
    if account.community_id != community.pk:
        raise InvalidInput(_("That account belongs to another community."), field="account")
    if account.kind not in (Account.Kind.REVENUE, Account.Kind.EXPENSE):
        raise InvalidInput(_("Budgets are set for revenue and expense heads."), field="account")
    if not isinstance(amount, int) or amount < 0:
        raise InvalidInput(_("A budget is zero or more."), field="amount")
    if not 2000 <= int(year) <= 2100:
        raise InvalidInput(_("Enter a year between 2000 and 2100."), field="year")
    with transaction.atomic():
        budget, created = Budget.objects.select_for_update().get_or_create(
            community=community, year=year, account=account, defaults={"amount": amount})
        before = None if created else budget.amount
        if not created:
            budget.amount = amount
            budget.save(update_fields=["amount"])
        events.record(actor=actor, verb="books.budget_set", target=budget, community=community,
                      data={"year": year, "code": account.code, "amount": amount, "before": before})
    return budget


def month_close(*, actor, community: Community, year: int, month: int) -> ClosedMonth:
    """结账: no voucher dated in the month is written or posted afterwards. Refused while a
    voucher of the month is not yet posted."""
    if actor is not None:
        _require(rules.manages_books(actor, community))
    if not (1 <= int(month) <= 12 and 2000 <= int(year) <= 2100):
        raise InvalidInput(_("Choose a month."), field="month")
    with transaction.atomic():
        _lock_community(community)
        if ClosedMonth.objects.filter(community=community, year=year, month=month).exists():
            raise InvalidInput(_("This month is already closed."))
        pending = Voucher.objects.filter(community=community, date__year=year, date__month=month).exclude(
            status=S.APPROVED).count()
        if pending:
            raise InvalidInput(_("%(count)d vouchers of this month are not posted yet; approve or move them first.")
                               % {"count": pending})
        closed = ClosedMonth.objects.create(community=community, year=year, month=month, closed_by=actor)
        events.record(actor=actor, verb="books.month_closed", target=closed, community=community,
                      data={"year": year, "month": month})
    return closed


def month_reopen(*, actor, community: Community, year: int, month: int) -> None:
    """反结账, by an administrator (the event says who and when)."""
    if actor is not None:
        _require(rules.manages_books(actor, community))
    with transaction.atomic():
        closed = ClosedMonth.objects.filter(community=community, year=year, month=month).first()
        if closed is None:
            raise InvalidInput(_("This month is not closed."))
        events.record(actor=actor, verb="books.month_reopened", community=community,
                      data={"year": year, "month": month})
        closed.delete()


# ----------------------------------------------------------------------------------------------
# The bulk path


def post_vouchers(*, community: Community, vouchers, preparer=None, approver=None) -> list[Voucher]:
    """Write and post many vouchers at once (a year's history, an import), in one transaction.

    Each voucher passes the same checks as :func:`voucher_create`; they are numbered per year in
    date order after the vouchers already there; each gets the three events of the one-by-one
    road (created, submitted, approved), built by the same factories. ``preparer`` and
    ``approver``, when given, must hold those roles and differ; None is the system (an import
    run by a command)."""
    if preparer is not None:
        _require(rules.keeps_books(preparer, community))
    if approver is not None:
        _require(rules.approves_in(approver, community))
    if preparer is not None and approver is not None and preparer.pk == approver.pk:
        raise PermissionDenied(_("The approver is never the voucher's preparer."))
    vouchers = sorted(vouchers, key=lambda v: v.date)
    closed = set(ClosedMonth.objects.filter(community=community).values_list("year", "month"))
    parents = set(Account.objects.filter(community=community, parent__isnull=False).values_list("parent_id", flat=True))
    states = _account_states(line.account.pk for v in vouchers for line in v.lines if line.account is not None)
    checked = [(v.date, *_check(community, v.date, v.summary, v.lines, closed=closed, parents=parents, states=states))
               for v in vouchers]
    with transaction.atomic():
        _lock_community(community)
        numbers: dict[int, int] = {}
        now = timezone.now()
        rows = []
        for v, (date, summary, _lines) in zip(vouchers, checked):
            if date.year not in numbers:
                numbers[date.year] = _next_number(community, date.year) - 1
            numbers[date.year] += 1
            at = v.posted_at or now
            rows.append(Voucher(community=community, year=date.year, number=numbers[date.year], date=date,
                                summary=summary, status=S.APPROVED, prepared_by=preparer, submitted_by=preparer,
                                approved_by=approver, submitted_at=at, approved_at=at))
        Voucher.objects.bulk_create(rows, batch_size=500)
        if any(v.pk is None for v in rows):  # backends without RETURNING: read the ids back
            ids = {(y, n): pk for y, n, pk in Voucher.objects.filter(community=community, year__in=list(numbers))
                   .values_list("year", "number", "pk")}
            for v in rows:
                v.pk = v.id = ids[(v.year, v.number)]
        line_rows, event_rows = [], []
        for voucher, (date, summary, lines) in zip(rows, checked):
            for n, line in enumerate(lines, start=1):
                line_rows.append(VoucherLine(voucher_id=voucher.pk, position=n, account=line.account,
                                             summary=(line.summary or "").strip(), debit=int(line.debit or 0),
                                             credit=int(line.credit or 0)))
            data = {"number": voucher.label, "year": voucher.year}
            at = voucher.approved_at
            event_rows.append(events.build(actor=preparer, verb="voucher.created", target=voucher, community=community,
                                           at=at, data={**data, "total": _total(lines)}))
            voucher.status = S.SUBMITTED
            event_rows.append(VOUCHER.event(voucher, "submit", actor=preparer, before=S.DRAFT, at=at))
            voucher.status = S.APPROVED
            event_rows.append(VOUCHER.event(voucher, "approve", actor=approver, before=S.SUBMITTED, at=at))
        VoucherLine.objects.bulk_create(line_rows, batch_size=2000)
        Event.objects.bulk_create(event_rows, batch_size=2000)
    return rows


def accounts_by_code(community) -> dict[str, Account]:
    """The community's heads by code (for callers building :class:`LineInput`)."""
    return {a.code: a for a in Account.objects.filter(community=community)}


__all__ = [
    "LineInput", "VoucherInput", "install_chart", "account_create", "fund_project_create", "account_update",
    "voucher_create", "voucher_update", "voucher_submit", "voucher_approve", "voucher_return", "voucher_reverse",
    "attachment_add", "receipt_type", "budget_set", "month_close", "month_reopen", "post_vouchers",
    "accounts_by_code", "is_closed",
]
