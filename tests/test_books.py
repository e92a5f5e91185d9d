"""The community's books: services, the voucher workflow, reversal, statements worked by hand,
the bulk path and the Excel export (docs/books.md)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from linli.books import export, selectors, services, statements
from linli.books.models import Account, Budget, ClosedMonth, Voucher, VoucherAttachment, VoucherLine
from linli.books.money import fen_from_text, format_fen
from linli.books.services import LineInput, VoucherInput
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition

D = dt.date


@pytest.fixture
def books(world):
    services.install_chart(actor=world.users["admin"], community=world.community)
    acc = services.accounts_by_code(world.community)
    acc["project"] = services.fund_project_create(actor=world.users["admin"], community=world.community,
                                                  name="楼道照明改造")
    return acc


def _line(account, debit=0, credit=0, summary=""):
    return LineInput(account=account, debit=debit, credit=credit, summary=summary)


def _post(world, date, summary, lines):
    """A voucher prepared by the worker and approved by the party secretary."""
    v = services.voucher_create(actor=world.users["worker"], community=world.community, date=date,
                                summary=summary, lines=lines)
    services.voucher_submit(actor=world.users["worker"], voucher=v)
    return services.voucher_approve(actor=world.users["secretary"], voucher=v)


def _example(world, acc):
    """The hand-worked example of docs/books.md."""
    _post(world, D(2026, 1, 5), "期初余额", [_line(acc["1002"], debit=10_000_000), _line(acc["3101"], credit=10_000_000)])
    _post(world, D(2026, 1, 10), "拨入保障资金", [_line(acc["1002"], debit=5_000_000),
                                                 _line(acc["project"], credit=5_000_000)])
    _post(world, D(2026, 1, 20), "公共收益", [_line(acc["1002"], debit=120_000), _line(acc["4501"], credit=120_000)])
    _post(world, D(2026, 2, 3), "老年助餐", [_line(acc["5102"], debit=80_000), _line(acc["1002"], credit=80_000)])
    _post(world, D(2026, 2, 15), "楼道灯具", [_line(acc["project"], debit=2_000_000), _line(acc["1002"], credit=2_000_000)])
    services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 2, 20),
                            summary="办公用品", lines=[_line(acc["5201"], debit=10_000), _line(acc["1002"], credit=10_000)])


# --- money ------------------------------------------------------------------------------------


def test_money_parse_and_format():
    assert fen_from_text("1,234.56") == 123456
    assert fen_from_text("¥12") == 1200
    assert fen_from_text("１２.５") == 1250
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(-5) == "-¥0.05"
    for bad in ("", "abc", "1.234", "-3", "1e3000", "NaN"):
        with pytest.raises(InvalidInput):
            fen_from_text(bad)


# --- the chart ---------------------------------------------------------------------------------


def test_chart_installed_once_with_one_event(world, books):
    assert {"1001", "1002", "1121", "3101", "3102", "3102.00", "4101", "4401", "4501", "5102"} <= set(books)
    assert books["3102.00"].parent == books["3102"]
    assert books["project"].code == "3102.01" and books["project"].kind == Account.Kind.FUND
    assert services.install_chart(actor=world.users["admin"], community=world.community) == 0
    assert Event.objects.filter(verb="books.chart_installed").count() == 2


def test_only_admins_change_the_chart(world, books):
    with pytest.raises(PermissionDenied):
        services.account_create(actor=world.users["worker"], community=world.community, code="5104", name="x",
                                kind="expense")
    with pytest.raises(InvalidInput):
        services.account_create(actor=world.users["admin"], community=world.community, code="5102", name="dup",
                                kind="expense")
    a = services.account_create(actor=world.users["admin"], community=world.community, code="5104",
                                name="环境整治", kind="expense")
    assert a.kind == "expense" and Event.objects.filter(verb="books.account_created", target_id=str(a.pk)).exists()


def test_account_with_balance_stays_on(world, books):
    _post(world, D(2026, 1, 5), "x", [_line(books["1002"], debit=100), _line(books["3101"], credit=100)])
    with pytest.raises(InvalidInput):
        services.account_update(actor=world.users["admin"], account=books["1002"], active=False)
    services.account_update(actor=world.users["admin"], account=books["1121"], active=False)
    assert not Account.objects.get(pk=books["1121"].pk).active


# --- bad vouchers: refused, nothing written ----------------------------------------------------


@pytest.mark.parametrize("case", ["unbalanced", "zero", "negative", "both_sides", "one_line", "other_community",
                                  "closed_month", "parent_account", "switched_off", "year_1900", "no_summary"])
def test_bad_voucher_refused_and_nothing_written(world, books, case):
    from linli.community.models import Community
    bank, fund = books["1002"], books["3101"]
    lines = [_line(bank, debit=100), _line(fund, credit=100)]
    date = D(2026, 3, 1)
    if case == "unbalanced":
        lines = [_line(bank, debit=100), _line(fund, credit=99)]
    elif case == "zero":
        lines = [_line(bank, debit=0), _line(fund, credit=0)]
    elif case == "negative":
        lines = [_line(bank, debit=-100), _line(fund, credit=-100)]
    elif case == "both_sides":
        lines = [_line(bank, debit=100, credit=100), _line(fund, credit=0, debit=0)]
    elif case == "one_line":
        lines = [_line(bank, debit=100)]
    elif case == "other_community":
        z = Community.objects.get(code="Z")
        services.install_chart(actor=None, community=z)
        lines = [_line(bank, debit=100), _line(services.accounts_by_code(z)["3101"], credit=100)]
    elif case == "closed_month":
        services.month_close(actor=world.users["admin"], community=world.community, year=2026, month=3)
    elif case == "parent_account":
        lines = [_line(bank, debit=100), _line(books["3102"], credit=100)]
    elif case == "switched_off":
        services.account_update(actor=world.users["admin"], account=books["1121"], active=False)
        lines = [_line(books["1121"], debit=100), _line(fund, credit=100)]
    elif case == "year_1900":
        date = D(1900, 1, 1)
    summary = "" if case == "no_summary" else "坏凭证"
    before = (Voucher.objects.count(), VoucherLine.objects.count(), Event.objects.count())
    with pytest.raises(InvalidInput) as exc:
        services.voucher_create(actor=world.users["worker"], community=world.community, date=date, summary=summary,
                                lines=lines)
    assert str(exc.value)
    assert (Voucher.objects.count(), VoucherLine.objects.count(), Event.objects.count()) == before


def test_unbalanced_message_is_translated(world, books):
    from django.utils import translation
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as exc:
        services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 1),
                                summary="x", lines=[_line(books["1002"], debit=100), _line(books["3101"], credit=99)])
    assert "¥1.00" in str(exc.value) and "¥0.99" in str(exc.value)


def test_only_bookkeepers_prepare(world, books):
    for who in ("secretary", "grid1", "supervisor", "resident", "z_worker"):
        with pytest.raises(PermissionDenied):
            services.voucher_create(actor=world.users[who], community=world.community, date=D(2026, 3, 1),
                                    summary="x", lines=[_line(books["1002"], debit=1), _line(books["3101"], credit=1)])


# --- the workflow -------------------------------------------------------------------------------


def test_numbers_per_community_per_year(world, books):
    lines = [_line(books["1002"], debit=1), _line(books["3101"], credit=1)]
    a = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2025, 12, 31),
                                summary="a", lines=lines)
    b = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 1, 1),
                                summary="b", lines=lines)
    c = services.voucher_create(actor=world.users["admin"], community=world.community, date=D(2026, 1, 2),
                                summary="c", lines=lines)
    assert (a.year, a.label, b.label, c.label) == (2025, "记-0001", "记-0001", "记-0002")


def test_two_person_approval(world, books):
    u = world.users
    v = services.voucher_create(actor=u["admin"], community=world.community, date=D(2026, 3, 2), summary="x",
                                lines=[_line(books["1002"], debit=500), _line(books["4101"], credit=500)])
    with pytest.raises(IllegalTransition):
        services.voucher_approve(actor=u["secretary"], voucher=v)  # not submitted yet
    services.voucher_submit(actor=u["admin"], voucher=v)
    with pytest.raises(PermissionDenied):
        services.voucher_approve(actor=u["admin"], voucher=v)  # its own preparer
    with pytest.raises(PermissionDenied):
        services.voucher_approve(actor=u["worker"], voucher=v)  # workers prepare, never approve
    v = services.voucher_return(actor=u["secretary"], voucher=v, reason="缺发票")
    assert v.status == "returned" and v.returned_reason == "缺发票"
    v = services.voucher_update(actor=u["worker"], voucher=v, date=D(2026, 3, 3), summary="捐赠",
                                lines=[_line(books["1002"], debit=600), _line(books["4101"], credit=600)])
    services.voucher_submit(actor=u["worker"], voucher=v)
    v = services.voucher_approve(actor=u["admin"], voucher=v)  # the admin no longer prepared it
    assert v.status == "approved" and v.approved_by == u["admin"]
    verbs = list(Event.objects.filter(target_type="books.voucher", target_id=str(v.pk)).order_by("id")
                 .values_list("verb", flat=True))
    assert verbs == ["voucher.created", "voucher.submitted", "voucher.returned", "voucher.changed",
                     "voucher.submitted", "voucher.approved"]
    with pytest.raises(InvalidInput):
        services.voucher_update(actor=u["worker"], voucher=v, date=D(2026, 3, 3), summary="改",
                                lines=[_line(books["1002"], debit=1), _line(books["4101"], credit=1)])


def test_closed_month_refuses_posting(world, books):
    u = world.users
    v = services.voucher_create(actor=u["worker"], community=world.community, date=D(2026, 4, 2), summary="x",
                                lines=[_line(books["1002"], debit=500), _line(books["4101"], credit=500)])
    services.voucher_submit(actor=u["worker"], voucher=v)
    with pytest.raises(InvalidInput):  # a voucher of the month is not posted yet
        services.month_close(actor=u["admin"], community=world.community, year=2026, month=4)
    services.voucher_approve(actor=u["secretary"], voucher=v)
    services.month_close(actor=u["admin"], community=world.community, year=2026, month=4)
    with pytest.raises(PermissionDenied):
        services.month_reopen(actor=u["worker"], community=world.community, year=2026, month=4)
    with pytest.raises(InvalidInput):
        services.voucher_reverse(actor=u["worker"], voucher=v, date=D(2026, 4, 30))
    services.month_reopen(actor=u["admin"], community=world.community, year=2026, month=4)
    assert not ClosedMonth.objects.exists()


def test_reversal(world, books):
    u = world.users
    v = _post(world, D(2026, 5, 6), "误记", [_line(books["5103"], debit=30_000), _line(books["1002"], credit=30_000)])
    r = services.voucher_reverse(actor=u["worker"], voucher=v, date=D(2026, 5, 8))
    assert r.reverses == v and r.status == "submitted" and r.label == "记-0002"
    assert [(line.account.code, line.debit, line.credit) for line in r.lines.all()] == [
        ("5103", -30_000, 0), ("1002", 0, -30_000)]
    with pytest.raises(InvalidInput):
        services.voucher_reverse(actor=u["worker"], voucher=v, date=D(2026, 5, 8))  # once
    with pytest.raises(PermissionDenied):
        services.voucher_approve(actor=u["worker"], voucher=r)
    services.voucher_approve(actor=u["secretary"], voucher=r)
    bal = {a.code: a.balance for a in selectors.balances(world.community)}
    assert bal["5103"] == 0 and bal["1002"] == 0
    with pytest.raises(InvalidInput):
        services.voucher_reverse(actor=u["worker"], voucher=r)  # a reversal is not reversed
    assert Event.objects.filter(verb="voucher.reversal_created", target_id=str(r.pk)).count() == 1


# --- receipts ----------------------------------------------------------------------------------


def _png() -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


def test_receipts_checked_by_content(world, books, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    v = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 2),
                                summary="x", lines=[_line(books["5201"], debit=500), _line(books["1001"], credit=500)])
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    a = services.attachment_add(actor=world.users["worker"], voucher=v, name="发票.pdf", content=pdf)
    import hashlib
    assert a.content_type == "application/pdf" and a.sha256 == hashlib.sha256(pdf).hexdigest() and a.size == len(pdf)
    assert services.attachment_add(actor=world.users["worker"], voucher=v, name="x.png",
                                   content=_png()).content_type == "image/png"
    for bad in (b"<html>not a receipt</html>", b"%PDF-1.4 truncated", b"\x89PNG\r\n\x1a\nbroken", b""):
        with pytest.raises(InvalidInput):
            services.attachment_add(actor=world.users["worker"], voucher=v, name="x.pdf", content=bad)
    with pytest.raises(InvalidInput):
        services.attachment_add(actor=world.users["worker"], voucher=v, name="big.pdf",
                                content=b"%PDF-" + b"0" * (20 * 1024 * 1024) + b"%%EOF")
    assert VoucherAttachment.objects.count() == 2


# --- statements worked by hand -----------------------------------------------------------------


def test_monthly_statement_by_hand(world, books):
    _example(world, books)
    s = statements.monthly_statement(world.community, 2026, 2)
    rows = {r.code: r for r in s.rows}
    assert (rows["1002"].opening, rows["1002"].debit, rows["1002"].credit, rows["1002"].closing) == (
        15_120_000, 0, 2_080_000, 13_040_000)
    assert rows["3101"].closing_credit == 10_000_000
    assert rows["3102"].closing_credit == 3_000_000 and rows["3102.01"].level == 1
    assert rows["4501"].opening_credit == 120_000 and rows["5102"].closing_debit == 80_000
    assert "5201" in rows and rows["5201"].debit == 0  # the draft is not counted
    t = s.totals
    assert (t.opening_debit, t.opening_credit) == (15_120_000, 15_120_000)
    assert (t.debit, t.credit) == (2_080_000, 2_080_000)
    assert (t.closing_debit, t.closing_credit) == (13_120_000, 13_120_000)
    fund = {f.code: f for f in s.fund}
    assert (fund["3102.01"].opening, fund["3102.01"].received, fund["3102.01"].spent, fund["3102.01"].closing) == (
        5_000_000, 0, 2_000_000, 3_000_000)
    assert (s.revenue, s.expense, s.surplus, s.posted, s.pending) == (0, 80_000, -80_000, 2, 1)


def test_revenue_and_expense_carried_into_next_year(world, books):
    _example(world, books)
    s = statements.monthly_statement(world.community, 2027, 1)
    rows = {r.code: r for r in s.rows}
    assert rows["4501"].opening == 0 and rows["5102"].opening == 0
    assert rows["3101"].opening_credit == 10_000_000 + 120_000 - 80_000
    assert s.totals.opening_debit == s.totals.opening_credit == 13_040_000


def test_budget_against_actual(world, books):
    _example(world, books)
    services.budget_set(actor=world.users["admin"], community=world.community, year=2026, account=books["5102"],
                        amount=1_000_000)
    services.budget_set(actor=world.users["admin"], community=world.community, year=2026, account=books["4501"],
                        amount=500_000)
    with pytest.raises(InvalidInput):
        services.budget_set(actor=world.users["admin"], community=world.community, year=2026,
                            account=books["1002"], amount=1)
    with pytest.raises(PermissionDenied):
        services.budget_set(actor=world.users["worker"], community=world.community, year=2026,
                            account=books["5102"], amount=1)
    r = statements.budget_vs_actual(world.community, 2026, 2)
    exp = {b.code: b for b in r.expense}
    rev = {b.code: b for b in r.revenue}
    assert (exp["5102"].budget, exp["5102"].actual, exp["5102"].remaining, exp["5102"].used_percent_text) == (
        1_000_000, 80_000, 920_000, "8.0%")
    assert (rev["4501"].actual, rev["4501"].used_percent_text) == (120_000, "24.0%")
    assert r.expense_total.actual == 80_000 and r.revenue_total.budget == 500_000
    assert Budget.objects.count() == 2


def test_rendered_text(world, books):
    from django.utils import translation
    _example(world, books)
    with translation.override("en"):
        title, body = statements.render_statement(statements.monthly_statement(world.community, 2026, 2))
        assert "2026-02" in title and world.community.name in title
        assert "151,200.00" in body and "130,400.00" in body and "Community fund by project" in body
        lines = body.splitlines()
        total = next(line for line in lines if line.endswith("Total"))
        assert total.count("131,200.00") == 2
        btitle, bbody = statements.render_budget(statements.budget_vs_actual(world.community, 2026, 2))
        assert "2026" in btitle and "800.00" in bbody
    services.account_update(actor=world.users["admin"], account=books["1002"], name="银行存款")
    services.account_update(actor=world.users["admin"], account=books["5102"], name="为老服务（助餐）")
    with translation.override("zh-hans"):
        title, body = statements.render_statement(statements.monthly_statement(world.community, 2026, 2))
        # Names come last: codes and figures line up whatever the font does with Chinese.
        rows = [line for line in body.splitlines() if line.startswith("1002") or line.startswith("5102")]
        assert len(rows) == 2 and rows[0].index("银行存款") == rows[1].index("为老服务（助餐）")
        assert rows[0].index("130,400.00") + len("130,400.00") == rows[1].rindex("800.00") + len("800.00")
        assert "1121" not in body  # heads with nothing to show are left out


# --- the bulk path ------------------------------------------------------------------------------


def test_post_vouchers_bulk(world, books):
    u = world.users
    year = [VoucherInput(date=D(2026, 1, 1) + dt.timedelta(days=i), summary=f"第{i}笔",
                         lines=(_line(books["5101"], debit=100 + i), _line(books["1002"], credit=100 + i)))
            for i in range(365)]
    rows = services.post_vouchers(community=world.community, vouchers=year, preparer=u["worker"],
                                  approver=u["secretary"])
    assert len(rows) == 365 and rows[-1].label == "记-0365"
    assert Voucher.objects.filter(status="approved").count() == 365
    assert Event.objects.filter(verb="voucher.approved").count() == 365
    assert Event.objects.filter(verb="voucher.created").count() == 365
    bal = {a.code: a.balance for a in selectors.balances(world.community)}
    assert bal["5101"] == sum(100 + i for i in range(365))
    bad = [VoucherInput(date=D(2026, 12, 31), summary="坏", lines=(_line(books["5101"], debit=1),
                                                                   _line(books["1002"], credit=2)))]
    with pytest.raises(InvalidInput):
        services.post_vouchers(community=world.community, vouchers=bad)
    with pytest.raises(PermissionDenied):
        services.post_vouchers(community=world.community, vouchers=year[:1], preparer=u["admin"], approver=u["admin"])
    assert Voucher.objects.count() == 365
    from django.utils import timezone
    at = timezone.make_aware(dt.datetime(2027, 1, 4, 10, 0))
    [late] = services.post_vouchers(community=world.community, vouchers=[VoucherInput(
        date=D(2027, 1, 3), summary="历史凭证", lines=year[0].lines, posted_at=at)], preparer=u["worker"], approver=u["admin"])
    assert late.approved_at == at and late.label == "记-0001"
    assert set(Event.objects.filter(target_id=str(late.pk), target_type="books.voucher")
               .values_list("created_at", flat=True)) == {at}


# --- Excel -------------------------------------------------------------------------------------


def _cents(value) -> int:
    return round(float(value) * 100)


def test_excel_exports_match_the_figures(world, books):
    _example(world, books)
    wb = load_workbook(io.BytesIO(export.ledger_workbook(world.community, D(2026, 2, 1), D(2026, 2, 28))))
    journal = list(wb.worksheets[0].iter_rows(values_only=True))[1:]
    assert len(journal) == 4  # two posted vouchers of February, two lines each; the draft is not there
    assert sum(_cents(r[6]) for r in journal) == sum(_cents(r[7]) for r in journal) == 2_080_000
    gl = {r[0]: r for r in wb.worksheets[1].iter_rows(min_row=3, values_only=True)}
    assert _cents(gl["1002"][2]) == 15_120_000 and _cents(gl["1002"][4]) == 2_080_000
    assert _cents(gl["1002"][5]) == 13_040_000
    s = statements.monthly_statement(world.community, 2026, 2)
    wb = load_workbook(io.BytesIO(export.statements_workbook(s, statements.budget_vs_actual(world.community, 2026, 2))))
    sheet = {r[0]: r for r in wb.worksheets[0].iter_rows(min_row=3, values_only=True)}
    assert _cents(sheet["1002"][2]) == 15_120_000 and _cents(sheet["1002"][6]) == 13_040_000
    total = sheet[None] if None in sheet else sheet[""]
    assert _cents(total[6]) == _cents(total[7]) == 13_120_000
    fund = {r[0]: r for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert _cents(fund["3102.01"][4]) == 2_000_000
    assert len(wb.worksheets) == 3
