"""Staff pages of the books, under /books/<community code>/ (docs/books.md, "Pages").

Every page first finds the community among those the account may read statements of; any other
code answers 404, as one that does not exist. Then the page's own right: the ledger (office),
preparing (administrators and workers), approving (the workflow's rule), managing
(administrators); a missing right answers 403.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core import registry
from linli.core import views as core_views
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.web import staff_page

from . import export, rules, selectors, services, statements
from .forms import (
    BLANK_LINES, AccountForm, FundProjectForm, LineFormSet, PeriodForm, ReceiptForm, ReturnForm, VoucherForm,
)
from .models import Account, Voucher, VoucherAttachment
from .money import fen_from_text, yuan_text
from .workflow import VOUCHER, allowed_moves

USE = "books.use_books"
PAGE_SIZE = 50

# Hook point: what a higher app offers to do with a month's statement (the board's "draft this for
# the public board"). fn(user, community, year, month) -> [(label, url)] or [(label, url, fields)]:
# a pair is a link; a triple a button that POSTs ``fields`` (a dict, sent as hidden inputs with the
# CSRF token) to ``url``. The function decides who sees what; return [] for nothing.
STATEMENT_ACTIONS = "books.statement_actions"


class _Refused(Exception):
    def __init__(self, response):
        self.response = response


def _community(request, code, need=rules.reads_statements):
    community = selectors.community_for(request.user, code)
    if community is None:
        raise _Refused(core_views.not_found(request))
    if not need(request.user, community):
        raise _Refused(core_views.forbidden(request))
    return community


def _guarded(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _Refused as refused:
            return refused.response
        except PermissionDenied:
            return core_views.forbidden(request)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return staff_page(USE)(wrapped)


def _month(request) -> tuple[int, int]:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
        month = int(request.GET.get("month") or today.month)
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month


def statement_actions(user, community, year: int, month: int) -> list[dict]:
    """What the ``books.statement_actions`` hook offers for this month: dicts with ``label``,
    ``url`` and ``fields`` (None: a link; a dict: a POST button with these hidden fields)."""
    actions = []
    for offer in registry.hooks(STATEMENT_ACTIONS):
        for item in offer(user, community, year, month) or ():
            label, url, *rest = item
            actions.append({"label": label, "url": url, "fields": dict(rest[0]) if rest else None})
    return actions


def _context(request, community, **extra):
    user = request.user
    return {"community": community, "may_ledger": rules.reads_ledger(user, community),
            "may_prepare": rules.keeps_books(user, community), "may_manage": rules.manages_books(user, community),
            **extra}


@_guarded
def home(request):
    communities = selectors.communities_for(request.user)
    if len(communities) == 1:
        community = communities[0]
        if rules.reads_ledger(request.user, community):
            return redirect("books:accounts", code=community.code)
        return redirect("books:statement", code=community.code)
    return render(request, "books/home.html", {"communities": communities})


# ----------------------------------------------------------------------------------------------
# Accounts


@_guarded
def accounts(request, code):
    community = _community(request, code, rules.reads_ledger)
    rows = selectors.balances(community)
    return render(request, "books/accounts.html", _context(
        request, community, rows=rows, account_form=AccountForm(accounts=rows), fund_form=FundProjectForm(),
        kinds=Account.Kind.choices))


@_guarded
@require_POST
def account_action(request, code):
    community = _community(request, code, rules.manages_books)
    action = request.POST.get("action", "")
    try:
        if action == "install":
            created = services.install_chart(actor=request.user, community=community)
            messages.success(request, _("Chart of accounts installed: %(count)d accounts added.") % {"count": created})
        elif action == "add":
            form = AccountForm(request.POST, accounts=selectors.accounts(community))
            if not form.is_valid():
                raise InvalidInput(_("Check the account's code and name."))
            parent = form.accounts.get(form.cleaned_data["parent"] or "")
            kind = request.POST.get("kind") or None
            services.account_create(actor=request.user, community=community, code=form.cleaned_data["code"],
                                    name=form.cleaned_data["name"], kind=kind, parent=parent)
            messages.success(request, _("Account added."))
        elif action == "fund_project":
            services.fund_project_create(actor=request.user, community=community, name=request.POST.get("name", ""))
            messages.success(request, _("Fund project added."))
        elif action in ("rename", "switch_off", "switch_on"):
            account = Account.objects.filter(community=community, pk=_int(request.POST.get("account"))).first()
            if account is None:
                raise InvalidInput(_("Choose an account."))
            if action == "rename":
                services.account_update(actor=request.user, account=account, name=request.POST.get("name", ""))
            else:
                services.account_update(actor=request.user, account=account, active=action == "switch_on")
            messages.success(request, _("Account changed."))
        else:
            raise InvalidInput(_("Unknown action."))
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("books:accounts", code=community.code)


def _int(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------
# Journal and vouchers


@_guarded
def journal(request, code):
    community = _community(request, code, rules.reads_ledger)
    chart_rows = selectors.accounts(community)
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    account = next((a for a in chart_rows if str(a.pk) == request.GET.get("account")), None)
    status = request.GET.get("status") or ""
    text = (request.GET.get("q") or "").strip()[:100]
    lines = selectors.journal(community, start=start, end=end, account=account, status=status, text=text)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "books/journal.html", _context(
        request, community, page=page, chart=chart_rows, start=start, end=end, account=account, status=status,
        q=text, statuses=Voucher.Status.choices, url_params=query.urlencode()))


@_guarded
def voucher_list(request, code):
    community = _community(request, code, rules.reads_ledger)
    status = request.GET.get("status") or ""
    page = Paginator(selectors.vouchers(community, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "books/vouchers.html", _context(
        request, community, page=page, status=status, statuses=Voucher.Status.choices,
        url_params=f"status={status}" if status in Voucher.Status.values else ""))


def _line_forms(request, community, voucher=None):
    accounts = selectors.leaf_accounts(community)
    if request.method == "POST":
        return LineFormSet(request.POST, prefix="lines", form_kwargs={"accounts": accounts})
    initial = []
    if voucher is not None:
        initial = [{"account": str(line.account_id), "summary": line.summary,
                    "debit": yuan_text(line.debit) if line.debit else "",
                    "credit": yuan_text(line.credit) if line.credit else ""} for line in voucher.lines.all()]
    initial += [{}] * max(BLANK_LINES - len(initial), 2)
    return LineFormSet(prefix="lines", initial=initial, form_kwargs={"accounts": accounts})


def _voucher_form(request, community, voucher=None):
    """The form for a new voucher (voucher None) or a draft's changes; on a valid POST, saved."""
    if request.method == "POST":
        form = VoucherForm(request.POST)
        lines = _line_forms(request, community, voucher)
        if form.is_valid() and lines.is_valid():
            try:
                typed = []
                for n, line_form in enumerate(lines.forms, start=1):
                    if line_form.is_blank():
                        continue
                    try:
                        typed.append(line_form.line())
                    except InvalidInput as exc:
                        raise InvalidInput(_("Line %(n)d: %(error)s") % {"n": n, "error": exc.message}, field="lines")
                kwargs = dict(actor=request.user, date=form.cleaned_data["date"],
                              summary=form.cleaned_data["summary"], lines=typed)
                if voucher is None:
                    saved = services.voucher_create(community=community, **kwargs)
                    messages.success(request, _("Voucher %(number)s saved as a draft.") % {"number": saved.label})
                else:
                    saved = services.voucher_update(voucher=voucher, **kwargs)
                    messages.success(request, _("Voucher %(number)s changed.") % {"number": saved.label})
                if request.POST.get("then") == "submit":
                    services.voucher_submit(actor=request.user, voucher=saved)
                    messages.success(request, str(VOUCHER.move("submit").message))
                return None, None, redirect("books:voucher", code=community.code, year=saved.year,
                                            number=saved.number)
            except InvalidInput as exc:
                form.add_error(None, str(exc))
    else:
        initial = {"date": timezone.localdate()}
        if voucher is not None:
            initial = {"date": voucher.date, "summary": voucher.summary}
        form = VoucherForm(initial=initial)
        lines = _line_forms(request, community, voucher)
    return form, lines, None


@_guarded
def voucher_new(request, code):
    community = _community(request, code, rules.keeps_books)
    form, lines, done = _voucher_form(request, community)
    if done:
        return done
    return render(request, "books/voucher_form.html", _context(request, community, form=form, lines=lines,
                                                               voucher=None))


def _voucher(request, community, year, number) -> Voucher:
    voucher = selectors.voucher_get(community, year, number)
    if voucher is None:
        raise _Refused(core_views.not_found(request))
    return voucher


@_guarded
def voucher_edit(request, code, year, number):
    community = _community(request, code, rules.keeps_books)
    voucher = _voucher(request, community, year, number)
    if voucher.status not in (Voucher.Status.DRAFT, Voucher.Status.RETURNED) or voucher.reverses_id:
        messages.error(request, _("Only a draft or returned voucher can be changed; a posted one is reversed."))
        return redirect("books:voucher", code=community.code, year=voucher.year, number=voucher.number)
    form, lines, done = _voucher_form(request, community, voucher)
    if done:
        return done
    return render(request, "books/voucher_form.html", _context(request, community, form=form, lines=lines,
                                                               voucher=voucher))


@_guarded
def voucher_detail(request, code, year, number):
    community = _community(request, code, rules.reads_ledger)
    voucher = _voucher(request, community, year, number)
    lines = list(voucher.lines.select_related("account"))
    moves = allowed_moves(request.user, voucher)
    reversal = Voucher.objects.filter(reverses=voucher).first()
    may_reverse = (voucher.status == Voucher.Status.APPROVED and reversal is None and not voucher.reverses_id
                   and rules.keeps_books(request.user, community))
    return render(request, "books/voucher.html", _context(
        request, community, voucher=voucher, lines=lines, moves=moves, reversal=reversal, may_reverse=may_reverse,
        total_debit=sum(line.debit for line in lines), total_credit=sum(line.credit for line in lines),
        attachments=list(voucher.attachments.all()), return_form=ReturnForm(), receipt_form=ReceiptForm(),
        may_attach=voucher.status != Voucher.Status.APPROVED and rules.keeps_books(request.user, community),
        waiting_for_other=(voucher.status == Voucher.Status.SUBMITTED and rules.approves_in(request.user, community)
                           and "approve" not in moves)))


@_guarded
@require_POST
def voucher_move(request, code, year, number):
    community = _community(request, code, rules.reads_ledger)
    voucher = _voucher(request, community, year, number)
    move = request.POST.get("move", "")
    try:
        if move == "submit":
            services.voucher_submit(actor=request.user, voucher=voucher)
        elif move == "approve":
            services.voucher_approve(actor=request.user, voucher=voucher)
        elif move == "return":
            services.voucher_return(actor=request.user, voucher=voucher, reason=request.POST.get("reason", ""))
        else:
            raise InvalidInput(_("Unknown action."))
        messages.success(request, str(VOUCHER.move(move).message))
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("books:voucher", code=community.code, year=voucher.year, number=voucher.number)


@_guarded
@require_POST
def voucher_reverse(request, code, year, number):
    community = _community(request, code, rules.keeps_books)
    voucher = _voucher(request, community, year, number)
    try:
        reversal = services.voucher_reverse(actor=request.user, voucher=voucher,
                                            date=_date(request.POST.get("date")) or None)
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return redirect("books:voucher", code=community.code, year=voucher.year, number=voucher.number)
    messages.success(request, _("Reversal %(number)s created; a second person approves it.") % {
        "number": reversal.label})
    return redirect("books:voucher", code=community.code, year=reversal.year, number=reversal.number)


@_guarded
@require_POST
def receipt_upload(request, code, year, number):
    community = _community(request, code, rules.keeps_books)
    voucher = _voucher(request, community, year, number)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput(_("Choose a file."))
        if upload.size > services.MAX_ATTACHMENT_BYTES:
            raise InvalidInput(_("A receipt is at most 20 MB."))
        services.attachment_add(actor=request.user, voucher=voucher, name=upload.name, content=upload.read())
        messages.success(request, _("Receipt attached."))
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("books:voucher", code=community.code, year=voucher.year, number=voucher.number)


@_guarded
def receipt_download(request, code, year, number, pk):
    community = _community(request, code, rules.reads_ledger)
    voucher = _voucher(request, community, year, number)
    attachment = VoucherAttachment.objects.filter(voucher=voucher, pk=_int(pk)).first()
    if attachment is None:
        return core_views.not_found(request)
    # Images open in the browser, sandboxed; a PDF (which may carry scripts) is downloaded.
    is_pdf = attachment.content_type == "application/pdf"
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type, as_attachment=is_pdf,
                            filename=f"{attachment.sha256[:16]}.{attachment.file.name.rsplit('.', 1)[-1]}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response


# ----------------------------------------------------------------------------------------------
# Statements, budget, closing, export


@_guarded
def statement(request, code):
    community = _community(request, code)
    year, month = _month(request)
    report = statements.monthly_statement(community, year, month)
    title, body = statements.render_statement(report)
    return render(request, "books/statement.html", _context(
        request, community, report=report, title=title, body=body, year=year, month=month,
        months=range(1, 13), may_statements=True,
        board_actions=statement_actions(request.user, community, year, month)))


@_guarded
def budget(request, code):
    community = _community(request, code)
    year, month = _month(request)
    if "month" not in request.GET:
        today = timezone.localdate()
        month = today.month if year == today.year else 12
    report = statements.budget_vs_actual(community, year, month)
    title, body = statements.render_budget(report)
    heads = []
    if rules.manages_books(request.user, community):
        set_budgets = {b.account_id: b.amount for b in community.budgets.filter(year=year)}
        heads = [(a, yuan_text(set_budgets[a.pk]) if a.pk in set_budgets else "")
                 for a in selectors.accounts(community) if a.kind in (Account.Kind.REVENUE, Account.Kind.EXPENSE)]
    return render(request, "books/budget.html", _context(
        request, community, report=report, title=title, body=body, year=year, month=month, heads=heads,
        months=range(1, 13), board_actions=statement_actions(request.user, community, year, month)))


@_guarded
@require_POST
def budget_save(request, code):
    community = _community(request, code, rules.manages_books)
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        year = 0
    heads = {str(a.pk): a for a in selectors.accounts(community)
             if a.kind in (Account.Kind.REVENUE, Account.Kind.EXPENSE)}
    existing = {b.account_id: b.amount for b in community.budgets.filter(year=year)}
    try:
        # Every figure is read before any is saved: one bad figure saves none.
        wanted = {}
        for key, account in heads.items():
            text = (request.POST.get(f"budget-{key}") or "").strip()
            if not text:
                continue
            try:
                wanted[account] = fen_from_text(text, field="amount")
            except InvalidInput as exc:
                raise InvalidInput(f"{account}: {exc.message}")
        saved = 0
        for account, amount in wanted.items():
            if existing.get(account.pk) != amount:
                services.budget_set(actor=request.user, community=community, year=year, account=account,
                                    amount=amount)
                saved += 1
        messages.success(request, _("Budgets saved: %(count)d changed.") % {"count": saved})
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('books:budget', kwargs={'code': community.code})}?year={year}")


@_guarded
@require_POST
def month_action(request, code):
    community = _community(request, code, rules.manages_books)
    try:
        year, month = int(request.POST.get("year", "")), int(request.POST.get("month", ""))
    except ValueError:
        year, month = 0, 0
    try:
        if request.POST.get("action") == "reopen":
            services.month_reopen(actor=request.user, community=community, year=year, month=month)
            messages.success(request, _("The month's books are open again."))
        else:
            services.month_close(actor=request.user, community=community, year=year, month=month)
            messages.success(request, _("The month's books are closed."))
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('books:statement', kwargs={'code': community.code})}?year={year}&month={month}")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, filename: str) -> FileResponse:
    """The workbook streamed as a download (in chunks; never cached: staff pages are no-store)."""
    return FileResponse(io.BytesIO(content), as_attachment=True, filename=filename, content_type=XLSX)


@_guarded
def export_ledger(request, code):
    community = _community(request, code, rules.reads_ledger)
    form = PeriodForm(request.GET)
    today = timezone.localdate()
    start = end = None
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    start = start or dt.date(today.year, 1, 1)
    end = end or today
    if end < start:
        start, end = end, start
    return _download(export.ledger_workbook(community, start, end),
                     f"ledger-{community.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")


@_guarded
def export_statement(request, code):
    community = _community(request, code)
    year, month = _month(request)
    content = export.statements_workbook(statements.monthly_statement(community, year, month),
                                         statements.budget_vs_actual(community, year, month))
    return _download(content, f"statement-{community.code}-{year}-{month:02d}.xlsx")
