"""The books' staff pages: who gets what (200, 403, 404), the voucher form without JavaScript,
the workflow's buttons, receipts, budgets, closing and the Excel downloads."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from linli.books import services
from linli.books.models import Budget, ClosedMonth, Voucher, VoucherAttachment
from linli.books.services import LineInput
from linli.core.models import Event

D = dt.date


@pytest.fixture
def books(world):
    services.install_chart(actor=None, community=world.community)
    return services.accounts_by_code(world.community)


@pytest.fixture
def posted(world, books):
    v = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 2),
                                summary="公共收益入账", lines=[LineInput(books["1002"], debit=123_456),
                                                          LineInput(books["4501"], credit=123_456)])
    services.voucher_submit(actor=world.users["worker"], voucher=v)
    return services.voucher_approve(actor=world.users["secretary"], voucher=v)


def _get(client, user, name, **kwargs):
    client.force_login(user)
    query = kwargs.pop("query", "")
    return client.get(reverse(f"books:{name}", kwargs=kwargs) + query)


LEDGER_PAGES = [("accounts", {}), ("journal", {}), ("vouchers", {}), ("export_ledger", {})]
STATEMENT_PAGES = [("statement", {}), ("budget", {}), ("export_statement", {})]


@pytest.mark.parametrize("who, ledger, statements", [
    ("admin", 200, 200), ("worker", 200, 200), ("secretary", 200, 200),
    ("supervisor", 403, 200),                     # the street: statements only
    ("z_worker", 404, 404),                       # another community's office: not theirs to find
    ("grid1", 403, 403), ("leader", 403, 403), ("unit_staff", 403, 403), ("resident", 403, 403),
    ("nobody", 403, 403),
])
def test_who_sees_what(client, world, books, posted, who, ledger, statements):
    for name, kwargs in LEDGER_PAGES:
        assert _get(client, world.users[who], name, code="Y", **kwargs).status_code == ledger, name
    for name, kwargs in STATEMENT_PAGES:
        assert _get(client, world.users[who], name, code="Y", **kwargs).status_code == statements, name
    voucher = _get(client, world.users[who], "voucher", code="Y", year=posted.year, number=posted.number)
    assert voucher.status_code == ledger


def test_signed_out_goes_to_sign_in(client, world, books):
    response = client.get(reverse("books:accounts", kwargs={"code": "Y"}))
    assert response.status_code == 302 and "login" in response["Location"]


def test_unknown_community_and_voucher_404(client, world, books):
    assert _get(client, world.users["admin"], "accounts", code="NOPE").status_code == 404
    assert _get(client, world.users["admin"], "voucher", code="Y", year=2026, number=99).status_code == 404


def test_menu_entry_for_the_right_roles(client, world, books):
    for who, shown in (("worker", True), ("supervisor", True), ("grid1", False), ("resident", False)):
        client.force_login(world.users[who])
        page = client.get(reverse("home"), follow=True).content.decode()
        assert (reverse("books:home") in page) is shown, who


def test_only_preparers_open_the_voucher_form(client, world, books):
    for who, status in (("worker", 200), ("admin", 200), ("secretary", 403), ("supervisor", 403)):
        assert _get(client, world.users[who], "voucher_new", code="Y").status_code == status, who


def _form(books, lines, *, date="2026-03-05", summary="购买办公用品", then="save", blank=8):
    data = {"date": date, "summary": summary, "then": then, "lines-TOTAL_FORMS": str(max(blank, len(lines))),
            "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "50"}
    for n in range(max(blank, len(lines))):
        code, debit, credit = lines[n] if n < len(lines) else ("", "", "")
        data.update({f"lines-{n}-account": str(books[code].pk) if code else "", f"lines-{n}-summary": "",
                     f"lines-{n}-debit": debit, f"lines-{n}-credit": credit})
    return data


def test_voucher_form_without_javascript(client, world, books):
    client.force_login(world.users["worker"])
    page = client.get(reverse("books:voucher_new", kwargs={"code": "Y"})).content.decode()
    assert page.count('name="lines-') >= 8 * 4 and 'value="8"' in page
    response = client.post(reverse("books:voucher_new", kwargs={"code": "Y"}),
                           _form(books, [("5201", "1,234.50", ""), ("1001", "", "1234.5")], then="submit"))
    assert response.status_code == 302
    v = Voucher.objects.get()
    assert v.status == "submitted" and [(line.debit, line.credit) for line in v.lines.all()] == [(123450, 0),
                                                                                                (0, 123450)]


@pytest.mark.parametrize("lines, message", [
    ([("5201", "10", ""), ("1001", "", "9.99")], "balance"),
    ([("5201", "10.001", ""), ("1001", "", "10.001")], "two decimals"),
    ([("5201", "-10", ""), ("1001", "", "-10")], "more than zero"),
    ([("5201", "abc", ""), ("1001", "", "10")], "not an amount"),
    ([("5201", "10", "")], "at least two lines"),
])
def test_voucher_form_bad_input(client, world, books, settings, lines, message):
    settings.LANGUAGE_CODE = "en"
    client.force_login(world.users["worker"])
    response = client.post(reverse("books:voucher_new", kwargs={"code": "Y"}), _form(books, lines),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Voucher.objects.exists()


def test_account_of_another_community_refused_by_the_form(client, world, books):
    from linli.community.models import Community
    z = Community.objects.get(code="Z")
    services.install_chart(actor=None, community=z)
    z_bank = services.accounts_by_code(z)["1002"]
    data = _form(books, [("5201", "10", ""), ("1001", "", "10")])
    data["lines-1-account"] = str(z_bank.pk)
    client.force_login(world.users["worker"])
    response = client.post(reverse("books:voucher_new", kwargs={"code": "Y"}), data)
    assert response.status_code == 200 and not Voucher.objects.exists()


def test_workflow_buttons(client, world, books):
    u = world.users
    v = services.voucher_create(actor=u["admin"], community=world.community, date=D(2026, 3, 2), summary="x",
                                lines=[LineInput(books["1002"], debit=500), LineInput(books["4101"], credit=500)])
    url = reverse("books:voucher_move", kwargs={"code": "Y", "year": v.year, "number": v.number})
    client.force_login(u["admin"])
    client.post(url, {"move": "submit"})
    page = client.get(reverse("books:voucher", kwargs={"code": "Y", "year": v.year, "number": v.number})).content
    assert b'value="approve"' not in page  # the preparer sees no approve button
    assert client.post(url, {"move": "approve"}).status_code == 403
    client.force_login(u["worker"])
    assert client.post(url, {"move": "approve"}).status_code == 403
    client.force_login(u["supervisor"])
    assert client.post(url, {"move": "approve"}).status_code == 403
    client.force_login(u["secretary"])
    page = client.get(reverse("books:voucher", kwargs={"code": "Y", "year": v.year, "number": v.number})).content
    assert b'value="approve"' in page and b'value="return"' in page
    client.post(url, {"move": "return", "reason": "金额不对"})
    v.refresh_from_db()
    assert v.status == "returned"
    client.force_login(u["worker"])
    client.post(url, {"move": "submit"})
    client.force_login(u["admin"])  # the admin prepared it: still not theirs to approve
    assert client.post(url, {"move": "approve"}).status_code == 403
    client.force_login(u["secretary"])
    client.post(url, {"move": "approve"})
    v.refresh_from_db()
    assert v.status == "approved" and v.approved_by == u["secretary"]
    # Reversal from the page: a new voucher, already submitted.
    client.force_login(u["worker"])
    response = client.post(reverse("books:voucher_reverse", kwargs={"code": "Y", "year": v.year, "number": v.number}),
                           {"date": "2026-03-20"})
    r = Voucher.objects.get(reverses=v)
    assert response.status_code == 302 and r.status == "submitted"
    edit = client.get(reverse("books:voucher_edit", kwargs={"code": "Y", "year": v.year, "number": v.number}))
    assert edit.status_code == 302  # a posted voucher is never edited


def test_receipt_upload_and_download(client, world, books, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    v = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 2),
                                summary="x", lines=[LineInput(books["5201"], debit=500),
                                                    LineInput(books["1001"], credit=500)])
    kwargs = {"code": "Y", "year": v.year, "number": v.number}
    client.force_login(world.users["worker"])
    pdf = b"%PDF-1.4\n%%EOF\n"
    from django.core.files.uploadedfile import SimpleUploadedFile
    client.post(reverse("books:receipt_upload", kwargs=kwargs), {"file": SimpleUploadedFile("a.pdf", pdf)})
    client.post(reverse("books:receipt_upload", kwargs=kwargs),
                {"file": SimpleUploadedFile("a.pdf", b"MZ not a pdf", content_type="application/pdf")})
    a = VoucherAttachment.objects.get()
    got = client.get(reverse("books:receipt", kwargs={**kwargs, "pk": a.pk}))
    assert got.status_code == 200 and b"".join(got.streaming_content) == pdf
    assert got["Content-Type"] == "application/pdf" and got["Content-Disposition"].startswith("attachment")
    assert got["X-Content-Type-Options"] == "nosniff" and "sandbox" in got["Content-Security-Policy"]
    client.force_login(world.users["supervisor"])
    assert client.get(reverse("books:receipt", kwargs={**kwargs, "pk": a.pk})).status_code == 403
    client.force_login(world.users["secretary"])
    assert client.post(reverse("books:receipt_upload", kwargs=kwargs),
                       {"file": SimpleUploadedFile("b.pdf", pdf)}).status_code == 403


def test_budget_and_closing_pages(client, world, books, posted):
    u = world.users
    client.force_login(u["worker"])
    assert client.post(reverse("books:budget_save", kwargs={"code": "Y"}),
                       {"year": "2026", f"budget-{books['4501'].pk}": "5000"}).status_code == 403
    client.force_login(u["admin"])
    client.post(reverse("books:budget_save", kwargs={"code": "Y"}),
                {"year": "2026", f"budget-{books['4501'].pk}": "5,000.00", f"budget-{books['5102'].pk}": "x"})
    assert not Budget.objects.exists()  # one bad figure: the form says so, nothing half-saved past it
    client.post(reverse("books:budget_save", kwargs={"code": "Y"}),
                {"year": "2026", f"budget-{books['4501'].pk}": "5,000.00"})
    assert Budget.objects.get().amount == 500_000
    page = client.get(reverse("books:budget", kwargs={"code": "Y"}) + "?year=2026&month=3").content.decode()
    assert "24.7%" in page  # 1,234.56 of 5,000.00
    client.post(reverse("books:month_action", kwargs={"code": "Y"}), {"year": "2026", "month": "3", "action": "close"})
    assert ClosedMonth.objects.filter(year=2026, month=3).exists()
    client.force_login(u["worker"])
    response = client.post(reverse("books:voucher_new", kwargs={"code": "Y"}),
                           _form(books, [("5201", "10", ""), ("1001", "", "10")], date="2026-03-30"))
    assert response.status_code == 200 and Voucher.objects.count() == 1


def test_excel_downloads(client, world, books, posted):
    client.force_login(world.users["supervisor"])
    response = _get(client, world.users["supervisor"], "export_statement", code="Y", query="?year=2026&month=3")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert response.streaming
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = {r[0]: r for r in wb.worksheets[0].iter_rows(min_row=3, values_only=True)}
    assert round(float(rows["1002"][4]) * 100) == 123_456
    response = _get(client, world.users["secretary"], "export_ledger", code="Y",
                    query="?start=2026-03-01&end=2026-03-31")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    journal = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [round(float(r[6]) * 100) for r in journal] == [123_456, 0]


def test_pages_render_for_the_office(client, world, books, posted):
    client.force_login(world.users["admin"])
    for name, query in (("accounts", ""), ("journal", "?status=approved&q=公共"), ("vouchers", "?status=approved"),
                        ("statement", "?year=2026&month=3"), ("budget", "?year=2026")):
        page = client.get(reverse(f"books:{name}", kwargs={"code": "Y"}) + query)
        assert page.status_code == 200, name
        assert "1,234.56" in page.content.decode(), name
    page = client.get(reverse("books:voucher", kwargs={"code": "Y", "year": 2026, "number": 1})).content.decode()
    assert "¥1,234.56" in page and "记-0001" in page


def test_chart_actions(client, world, books):
    client.force_login(world.users["admin"])
    url = reverse("books:account_action", kwargs={"code": "Y"})
    client.post(url, {"action": "fund_project", "name": "健身器材更新"})
    assert "3102.01" in services.accounts_by_code(world.community)
    client.post(url, {"action": "add", "code": "5104", "name": "环境整治", "kind": "expense", "parent": ""})
    assert services.accounts_by_code(world.community)["5104"].kind == "expense"
    client.force_login(world.users["worker"])
    assert client.post(url, {"action": "fund_project", "name": "x"}).status_code == 403
    assert Event.objects.filter(verb="books.account_created").count() == 2


def test_the_event_log_names_the_books_events(client, world, books, posted, settings):
    client.force_login(world.users["admin"])
    page = client.get(reverse("event_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "approved and posted a voucher" in text and "记-0001" in text
