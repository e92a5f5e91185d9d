"""Excel workbooks of the ledger and the statements (openpyxl, written in write-only mode).

Amounts are written as numbers in yuan, exact to the fen (``Decimal(fen) / 100``), formatted
``#,##0.00``; the sheets a spreadsheet user expects from 用友/金蝶: the journal (序时账), the
general ledger (总账: opening, debits, credits, closing per head for the period), the monthly
statement, the fund by project and budget against actual.
"""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from . import selectors
from .money import fen_to_decimal
from .statements import BudgetReport, Statement

MONEY = "#,##0.00"


def _money(ws, fen):
    cell = WriteOnlyCell(ws, value=fen_to_decimal(fen))
    cell.number_format = MONEY
    return cell


def _bold(ws, text):
    cell = WriteOnlyCell(ws, value=str(text))
    cell.font = Font(bold=True)
    return cell


def _save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def ledger_workbook(community, start: dt.date, end: dt.date) -> bytes:
    """Journal and general ledger of posted vouchers dated in [start, end]."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Journal"))
    ws.append([_bold(ws, h) for h in (_("Date"), _("Voucher"), _("Summary"), _("Account code"), pgettext("books", "Account"),
                                     _("Line summary"), _("Debit"), _("Credit"))])
    lines = selectors.journal(community, start=start, end=end, status="approved")
    for line in lines.iterator(chunk_size=2000):
        v = line.voucher
        ws.append([v.date, f"{v.year} {v.label}", v.summary, line.account.code, line.account.name, line.summary,
                   _money(ws, line.debit), _money(ws, line.credit)])
    gl = wb.create_sheet(_("General ledger"))
    gl.append([_bold(gl, _("Period")), f"{start.isoformat()} – {end.isoformat()}"])
    gl.append([_bold(gl, h) for h in (_("Account code"), pgettext("books", "Account"), _("Opening balance (Dr − Cr)"), _("Debits"),
                                     _("Credits"), _("Closing balance (Dr − Cr)"))])
    accounts = selectors.accounts(community)
    opening = selectors.rollup(accounts, selectors.carried_surplus(community, accounts, start))
    period = selectors.rollup(accounts, selectors.sums(community, start=start, end=end))
    for a in accounts:
        od, oc = opening[a.pk]
        d, c = period[a.pk]
        gl.append([a.code, ("  " * a.level) + a.name, _money(gl, od - oc), _money(gl, d), _money(gl, c),
                   _money(gl, od - oc + d - c)])
    return _save(wb)


def statements_workbook(statement: Statement, budget: BudgetReport | None = None) -> bytes:
    """The monthly statement (trial balance and the fund by project) and, if given, budget
    against actual."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Monthly statement"))
    ws.append([_bold(ws, statement.community_name), f"{statement.year}-{statement.month:02d}"])
    ws.append([_bold(ws, h) for h in (_("Account code"), pgettext("books", "Account"), _("Opening Dr"), _("Opening Cr"), _("Debits"),
                                     _("Credits"), _("Closing Dr"), _("Closing Cr"))])
    for r in statement.rows:
        ws.append([r.code, ("  " * r.level) + r.name, *(_money(ws, v) for v in (
            r.opening_debit, r.opening_credit, r.debit, r.credit, r.closing_debit, r.closing_credit))])
    t = statement.totals
    ws.append(["", _bold(ws, _("Total")), *(_money(ws, v) for v in (
        t.opening_debit, t.opening_credit, t.debit, t.credit, t.closing_debit, t.closing_credit))])
    fs = wb.create_sheet(_("Fund by project"))
    fs.append([_bold(fs, h) for h in (_("Account code"), _("Project"), _("Opening"), _("Received"), _("Spent"),
                                     _("Closing"))])
    for f in statement.fund:
        fs.append([f.code, f.name, *(_money(fs, v) for v in (f.opening, f.received, f.spent, f.closing))])
    if statement.fund_total is not None:
        f = statement.fund_total
        fs.append(["", _bold(fs, _("Total")), *(_money(fs, v) for v in (f.opening, f.received, f.spent, f.closing))])
    if budget is not None:
        bs = wb.create_sheet(_("Budget against actual"))
        bs.append([_bold(bs, statement.community_name), _("January to %(month)s") % {
            "month": f"{budget.year}-{budget.upto_month:02d}"}])
        bs.append([_bold(bs, h) for h in (_("Account code"), pgettext("books", "Account"), _("Budget"), _("Actual"), _("Remaining"),
                                         _("Used"))])
        for row in (*budget.revenue, budget.revenue_total, *budget.expense, budget.expense_total):
            bs.append([row.code, ("  " * row.level) + row.name,
                       _money(bs, row.budget) if row.budget is not None else None, _money(bs, row.actual),
                       _money(bs, row.remaining) if row.remaining is not None else None, row.used_percent_text])
    return _save(wb)
