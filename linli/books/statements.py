"""Statements generated from the ledger: the monthly statement and budget against actual.

Both are plain dataclasses with amounts in integer fen, built from posted vouchers only, and
rendered as (title, body) text for the board (三务公开栏): the body is a fixed-width table meant
for ``<pre>``, aligned for Chinese characters (two columns each). docs/books.md, "Statements",
gives a small example worked by hand.

The monthly statement is a trial balance (科目余额表): per head, opening balance, the month's
debits and credits, closing balance — balances in the debit or the credit column by their
sign, so each pair of totals is equal — and the community fund by project. Revenue and expense
heads start each year at zero: the earlier years' revenue less expense is shown in unrestricted
net assets (3101), the carry-forward computed rather than booked.
"""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import chart, selectors
from .models import Account, Budget, ClosedMonth, Voucher
from .money import format_fen

K = Account.Kind


@dataclass(frozen=True)
class StatementRow:
    code: str
    name: str
    kind: str
    level: int
    opening: int  # debit − credit
    debit: int
    credit: int
    closing: int  # debit − credit

    @property
    def opening_debit(self) -> int:
        return max(self.opening, 0)

    @property
    def opening_credit(self) -> int:
        return max(-self.opening, 0)

    @property
    def closing_debit(self) -> int:
        return max(self.closing, 0)

    @property
    def closing_credit(self) -> int:
        return max(-self.closing, 0)


@dataclass(frozen=True)
class Totals:
    opening_debit: int
    opening_credit: int
    debit: int
    credit: int
    closing_debit: int
    closing_credit: int


@dataclass(frozen=True)
class FundRow:
    """One project of the community fund (credit side: what it holds)."""

    code: str
    name: str
    opening: int
    received: int
    spent: int
    closing: int


@dataclass(frozen=True)
class Statement:
    community_code: str
    community_name: str
    year: int
    month: int
    start: dt.date
    end: dt.date
    rows: tuple[StatementRow, ...]
    totals: Totals
    fund: tuple[FundRow, ...]
    fund_total: FundRow | None
    revenue: int  # the month's revenue (credit − debit of revenue heads)
    expense: int  # the month's expenses (debit − credit of expense heads)
    posted: int  # vouchers posted in the month
    pending: int  # vouchers of the month not posted (not included)
    closed: bool

    @property
    def surplus(self) -> int:
        return self.revenue - self.expense


def _month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def monthly_statement(community, year: int, month: int) -> Statement:
    start, end = _month_bounds(int(year), int(month))
    accounts = selectors.accounts(community)
    opening = selectors.rollup(accounts, selectors.carried_surplus(community, accounts, start))
    period = selectors.rollup(accounts, selectors.sums(community, start=start, end=end))
    rows = []
    for a in accounts:
        od, oc = opening[a.pk]
        d, c = period[a.pk]
        row = StatementRow(a.code, a.name, a.kind, a.level, od - oc, d, c, od - oc + d - c)
        if row.opening or row.debit or row.credit or row.closing or a.level == 0:
            rows.append(row)
    top = [r for r in rows if r.level == 0]
    totals = Totals(*(sum(getattr(r, f) for r in top) for f in
                      ("opening_debit", "opening_credit", "debit", "credit", "closing_debit", "closing_credit")))
    fund_head = next((r for r in rows if r.code == chart.FUND_CODE), None)
    fund_ids = {a.pk for a in accounts if a.parent_id and a.kind == K.FUND}
    fund = tuple(FundRow(r.code, r.name, -r.opening, r.credit, r.debit, -r.closing)
                 for r, a in _with_accounts(rows, accounts) if a.pk in fund_ids)
    fund_total = (FundRow(fund_head.code, fund_head.name, -fund_head.opening, fund_head.credit, fund_head.debit,
                          -fund_head.closing) if fund_head else None)
    revenue = sum(r.credit - r.debit for r in top if r.kind == K.REVENUE)
    expense = sum(r.debit - r.credit for r in top if r.kind == K.EXPENSE)
    month_vouchers = Voucher.objects.filter(community=community, date__range=(start, end))
    posted = month_vouchers.filter(status=Voucher.Status.APPROVED).count()
    pending = month_vouchers.exclude(status=Voucher.Status.APPROVED).count()
    closed = ClosedMonth.objects.filter(community=community, year=year, month=month).exists()
    return Statement(community.code, community.name, int(year), int(month), start, end, tuple(rows), totals,
                     fund, fund_total, revenue, expense, posted, pending, closed)


def _with_accounts(rows, accounts):
    by_code = {a.code: a for a in accounts}
    return [(r, by_code[r.code]) for r in rows]


@dataclass(frozen=True)
class BudgetRow:
    code: str
    name: str
    kind: str
    level: int
    budget: int | None  # None: no budget set
    actual: int  # year to date, on the head's normal side

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else self.budget - self.actual

    @property
    def used_permille(self) -> int | None:
        """Actual as thousandths of the budget, rounded half up (None without a budget > 0)."""
        if not self.budget:
            return None
        return (self.actual * 1000 * 2 + self.budget) // (self.budget * 2)

    @property
    def used_percent_text(self) -> str:
        p = self.used_permille
        if p is None:
            return "—"
        sign = "-" if p < 0 else ""
        return f"{sign}{abs(p) // 10}.{abs(p) % 10}%"


@dataclass(frozen=True)
class BudgetReport:
    community_code: str
    community_name: str
    year: int
    upto_month: int
    end: dt.date
    revenue: tuple[BudgetRow, ...]
    expense: tuple[BudgetRow, ...]
    revenue_total: BudgetRow
    expense_total: BudgetRow


def budget_vs_actual(community, year: int, upto_month: int) -> BudgetReport:
    year, upto_month = int(year), int(upto_month)
    end = _month_bounds(year, upto_month)[1]
    accounts = selectors.accounts(community)
    actual = selectors.rollup(accounts, selectors.sums(community, start=dt.date(year, 1, 1), end=end))
    own_budget = dict(Budget.objects.filter(community=community, year=year).values_list("account_id", "amount"))
    by_id = {a.pk: a for a in accounts}
    child_budget: dict[int, int] = {}
    for account_id, amount in own_budget.items():
        parent = by_id.get(by_id[account_id].parent_id) if account_id in by_id else None
        while parent is not None:
            child_budget[parent.pk] = child_budget.get(parent.pk, 0) + amount
            parent = by_id.get(parent.parent_id)
    sections = {K.REVENUE: [], K.EXPENSE: []}
    for a in accounts:
        if a.kind not in sections:
            continue
        d, c = actual[a.pk]
        value = d - c if a.kind == K.EXPENSE else c - d
        budget = own_budget.get(a.pk, child_budget.get(a.pk))
        if budget is None and not value:
            continue
        sections[a.kind].append(BudgetRow(a.code, a.name, a.kind, a.level, budget, value))

    def total(kind, label):
        top = [r for r in sections[kind] if r.level == 0]
        budgets = [r.budget for r in top if r.budget is not None]
        return BudgetRow("", label, kind, 0, sum(budgets) if budgets else None, sum(r.actual for r in top))

    return BudgetReport(community.code, community.name, year, upto_month, end, tuple(sections[K.REVENUE]),
                        tuple(sections[K.EXPENSE]), total(K.REVENUE, _("Total revenue")),
                        total(K.EXPENSE, _("Total expenses")))


# ----------------------------------------------------------------------------------------------
# Plain text for the board


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out


def _left(text: str, width: int) -> str:
    if not width:  # the last column: as long as it is
        return text
    text = _cut(text, width)
    return text + " " * (width - _width(text))


def _right(text: str, width: int) -> str:
    text = _cut(text, width)
    return " " * (width - _width(text)) + text


def _amount(fen: int | None, blank_zero=True) -> str:
    if fen is None or (blank_zero and fen == 0):
        return ""
    return format_fen(fen, symbol=False)


def _table(headers, rows, widths, aligns, totals=None) -> list[str]:
    """Lines of a table whose last column (names, free width) is left unpadded: every column
    before it holds codes and figures (ASCII), so the figures line up in any font, Chinese
    names included."""
    def line(cells):
        return " ".join((_left if a == "l" else _right)(str(c), w)
                        for c, w, a in zip(cells, widths, aligns)).rstrip()
    rule = "-" * (sum(widths[:-1]) + len(widths) - 1 + 16)
    out = [line(headers), rule, *(line(r) for r in rows), rule]
    if totals is not None:
        out.append(line(totals))
    return out


CODE_W, AMOUNT_W = 10, 13


def _code(code, level):
    return f"{'  ' * level}{code}"


def render_statement(statement: Statement) -> tuple[str, str]:
    """(title, body) in the active language; the body a fixed-width table for ``<pre>``: code,
    six amount columns, then the account's name; heads with nothing to show are left out."""
    s = statement
    title = _("%(community)s: monthly statement, %(year)d-%(month)02d") % {
        "community": s.community_name, "year": s.year, "month": s.month}
    out = [_("Period: %(start)s to %(end)s. Amounts in yuan.") % {"start": s.start.isoformat(),
                                                                  "end": s.end.isoformat()}, ""]
    widths = [CODE_W] + [AMOUNT_W] * 6 + [0]
    aligns = "l" + "r" * 6 + "l"
    headers = [_("Code"), _("Opening Dr"), _("Opening Cr"), _("Debits"), _("Credits"), _("Closing Dr"),
               _("Closing Cr"), pgettext("books", "Account")]
    rows = [[_code(r.code, r.level), _amount(r.opening_debit), _amount(r.opening_credit), _amount(r.debit),
             _amount(r.credit), _amount(r.closing_debit), _amount(r.closing_credit), r.name]
            for r in s.rows if r.opening or r.debit or r.credit or r.closing]
    t = s.totals
    totals = ["", *(_amount(v, False) for v in (t.opening_debit, t.opening_credit, t.debit, t.credit,
                                                t.closing_debit, t.closing_credit)), _("Total")]
    out += _table(headers, rows, widths, aligns, totals)
    out += ["", _("Revenue this month: %(revenue)s. Expenses this month: %(expense)s. Surplus: %(surplus)s.") % {
        "revenue": format_fen(s.revenue), "expense": format_fen(s.expense), "surplus": format_fen(s.surplus)}]
    if s.fund_total is not None:
        out += ["", _("Community fund by project"), ""]
        fw = [CODE_W] + [AMOUNT_W] * 4 + [0]
        frows = [[f.code, _amount(f.opening, False), _amount(f.received, False), _amount(f.spent, False),
                  _amount(f.closing, False), f.name] for f in s.fund]
        f = s.fund_total
        ftotal = ["", *(_amount(v, False) for v in (f.opening, f.received, f.spent, f.closing)), _("Total")]
        out += _table([_("Code"), _("Opening"), _("Received"), _("Spent"), _("Closing"), _("Project")], frows, fw,
                      "lrrrrl", ftotal)
    out += ["", _("Vouchers posted this month: %(count)d.") % {"count": s.posted}]
    if s.pending:
        out.append(_("Vouchers of this month not yet approved (not included): %(count)d.") % {"count": s.pending})
    out.append(_("The books of this month are closed.") if s.closed else _("The books of this month are not closed yet."))
    return title, "\n".join(out)


def render_budget(report: BudgetReport) -> tuple[str, str]:
    """(title, body): revenue, then expenses: code, budget, actual, remaining, % used, name."""
    r = report
    title = _("%(community)s: budget against actual, %(year)d, January to %(year)d-%(month)02d") % {
        "community": r.community_name, "year": r.year, "month": r.upto_month}
    out = [_("Year to date, up to %(end)s. Amounts in yuan.") % {"end": r.end.isoformat()}, ""]
    widths = [CODE_W, AMOUNT_W, AMOUNT_W, AMOUNT_W, 8, 0]
    headers = [_("Code"), _("Budget"), _("Actual"), _("Remaining"), _("Used"), pgettext("books", "Account")]

    def cells(b, code, name):
        return [code, _amount(b.budget, False), _amount(b.actual, False), _amount(b.remaining, False),
                b.used_percent_text, name]

    for label, section, total in ((_("Revenue"), r.revenue, r.revenue_total),
                                  (_("Expenses"), r.expense, r.expense_total)):
        out += [label, ""]
        out += _table(headers, [cells(b, _code(b.code, b.level), b.name) for b in section], widths, "lrrrrl",
                      cells(total, "", total.name))
        out.append("")
    return title, "\n".join(out).rstrip()
