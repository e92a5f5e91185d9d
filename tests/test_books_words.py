"""The books in the bookkeeper's words, and the books' link to the board.

An account of the chart is 科目 (not 账号, a login's account) and a voucher waiting for its
approver is 待审核 (not 待受理, a case waiting to be accepted): the books' strings that share an
English msgid with another app carry the context "books". The statement and budget pages offer,
through the ``books.statement_actions`` hook that the board fills, to draft the month's
statement for the public board — to those who may write finance entries only.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from linli.books import services, statements
from linli.books.models import Voucher
from linli.books.services import LineInput
from linli.books.views import STATEMENT_ACTIONS, statement_actions
from linli.core import registry
from linli.disclosure.models import Entry, Section

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
D = dt.date


@pytest.fixture
def books(world):
    services.install_chart(actor=None, community=world.community)
    return services.accounts_by_code(world.community)


@pytest.fixture
def vouchers(world, books):
    """One posted voucher and one submitted, waiting for its approver (March 2026)."""
    posted = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 2),
                                     summary="收到公共收益", lines=[LineInput(books["1002"], debit=50_000),
                                                               LineInput(books["4501"], credit=50_000)])
    services.voucher_submit(actor=world.users["worker"], voucher=posted)
    services.voucher_approve(actor=world.users["secretary"], voucher=posted)
    waiting = services.voucher_create(actor=world.users["worker"], community=world.community, date=D(2026, 3, 5),
                                      summary="购买办公用品", lines=[LineInput(books["5201"], debit=8_000),
                                                                LineInput(books["1002"], credit=8_000)])
    services.voucher_submit(actor=world.users["worker"], voucher=waiting)
    return posted, Voucher.objects.get(pk=waiting.pk)


def _main(response) -> str:
    """The visible text of the page's own part, in <main> (the site header's menu says 账号 for the
    signed-in account, rightly); tags and the contents of scripts dropped."""
    html = response.content.decode()
    start = html.find("<main")
    assert start >= 0
    html = html[start:html.find("</main>", start)]
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# --- words -------------------------------------------------------------------------------------


def test_books_pages_in_chinese_say_kemu_and_daishenhe(client, world, vouchers):
    posted, waiting = vouchers
    client.force_login(world.users["admin"])
    code = world.community.code
    pages = {
        "accounts": reverse("books:accounts", kwargs={"code": code}),
        "journal": reverse("books:journal", kwargs={"code": code}),
        "vouchers": reverse("books:vouchers", kwargs={"code": code}),
        "voucher": reverse("books:voucher", kwargs={"code": code, "year": waiting.year, "number": waiting.number}),
        "new": reverse("books:voucher_new", kwargs={"code": code}),
        "statement": reverse("books:statement", kwargs={"code": code}) + "?year=2026&month=3",
        "budget": reverse("books:budget", kwargs={"code": code}) + "?year=2026&month=3",
    }
    for name, url in pages.items():
        response = client.get(url, **ZH)
        assert response.status_code == 200, name
        text = _main(response)
        assert "科目" in text, name
        assert "账号" not in text, name
        assert "待受理" not in text, name
    for name in ("vouchers", "voucher", "journal"):
        assert "待审核" in _main(client.get(pages[name], **ZH)), name
    # The accounts page's columns are totals since the books began, not the month's.
    accounts_page = _main(client.get(pages["accounts"], **ZH))
    assert "本期借方" not in accounts_page


def test_statement_text_for_the_board_says_kemu(world, vouchers):
    statement = statements.monthly_statement(world.community, 2026, 3)
    budget = statements.budget_vs_actual(world.community, 2026, 3)
    with translation.override("zh-hans"):
        for title, body in (statements.render_statement(statement), statements.render_budget(budget)):
            assert "科目" in body and "账号" not in body
        assert str(Voucher.Status.SUBMITTED.label) == "待审核"
        assert str(Voucher._meta.get_field("summary").verbose_name) == "摘要"
    with translation.override("en"):
        title, body = statements.render_statement(statement)
        assert "Account" in body


def test_other_apps_keep_their_words(world):
    """The context changes the books only: a login's account stays 账号, a case's status 待受理."""
    with translation.override("zh-hans"):
        assert translation.gettext("Account") == "账号"
        assert translation.gettext("submitted") == "待受理"
        assert translation.pgettext("books", "Account") == "科目"


# --- the link to the board -----------------------------------------------------------------------


def _board_forms(response) -> list[tuple[str, dict]]:
    """(action, hidden fields) of each form that goes to the board's back office."""
    html = response.content.decode()
    found = []
    for form in re.finditer(r'<form method="post" action="([^"]+)">(.*?)</form>', html, flags=re.S):
        action, inner = form.group(1), form.group(2)
        if "/office/generate/" not in action:
            continue
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', inner))
        found.append((action, fields))
    return found


def test_the_hook_point_is_filled_by_the_board(world):
    assert any(fn.__module__ == "linli.disclosure.books_links" for fn in registry.hooks(STATEMENT_ACTIONS))
    assert statement_actions(world.users["supervisor"], world.community, 2026, 3) == []
    offered = statement_actions(world.users["admin"], world.community, 2026, 3)
    assert [a["fields"] for a in offered] == [{"kind": "finance", "month": "2026-03"},
                                             {"kind": "budget", "month": "2026-03"}]


@pytest.mark.parametrize("page", ["statement", "budget"])
def test_draft_buttons_shown_to_admin_not_to_supervisor(client, world, vouchers, page):
    url = reverse(f"books:{page}", kwargs={"code": world.community.code}) + "?year=2026&month=3"
    client.force_login(world.users["admin"])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    forms = _board_forms(response)
    target = reverse("disclosure:office_generate", kwargs={"code": world.community.code})
    assert [(action, fields["kind"], fields["month"]) for action, fields in forms] == [
        (target, "finance", "2026-03"), (target, "budget", "2026-03")]
    assert all("csrfmiddlewaretoken" in fields for _action, fields in forms)
    assert "Draft this statement for the public board" in response.content.decode()

    client.force_login(world.users["supervisor"])  # reads the statements, writes nothing on the board
    response = client.get(url)
    assert response.status_code == 200
    assert _board_forms(response) == []
    assert "public board" not in response.content.decode()


def test_the_button_makes_the_months_draft(client, world, vouchers):
    client.force_login(world.users["admin"])
    page = client.get(reverse("books:statement", kwargs={"code": world.community.code}) + "?year=2026&month=3")
    action, fields = _board_forms(page)[0]
    assert Entry.objects.filter(community=world.community).count() == 0
    response = client.post(action, fields)
    entry = Entry.objects.get(community=world.community)
    assert response.status_code == 302
    assert response["Location"] == reverse("disclosure:office_entry",
                                           kwargs={"code": world.community.code, "pk": entry.pk})
    assert entry.section == Section.FINANCE and entry.state == Entry.State.DRAFT
    assert (entry.period_start, entry.period_end) == (D(2026, 3, 1), D(2026, 3, 31))
    assert entry.author == world.users["admin"]
    statement = statements.monthly_statement(world.community, 2026, 3)
    assert entry.title == statements.render_statement(statement)[0]

    # The budget page's second button: the budget against actual, January to March.
    page = client.get(reverse("books:budget", kwargs={"code": world.community.code}) + "?year=2026&month=3")
    action, fields = _board_forms(page)[1]
    client.post(action, fields)
    budget_entry = Entry.objects.filter(community=world.community).exclude(pk=entry.pk).get()
    assert budget_entry.period_end == D(2026, 3, 31)
    assert budget_entry.title == statements.render_budget(statements.budget_vs_actual(world.community, 2026, 3))[0]
