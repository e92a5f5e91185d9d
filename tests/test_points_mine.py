"""The resident's own points page: own only, paginated, running balance right (docs/points.md)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from factories import PASSWORD
from linli.points import earning, ledger
from linli.points.models import Policy
from linli.points.views_earn import PER_PAGE, statement_lines

pytestmark = pytest.mark.django_db


def _history(world, n=45):
    """n grants to the signed-in resident, one a day, plus some to a neighbour and a redemption-like debit."""
    Policy.objects.create(community=world.community, daily_cap=1000, yearly_cap=100000)
    me, neighbour = world.residents[0], world.residents[1]
    start = timezone.now() - dt.timedelta(days=n + 1)
    for i in range(n):
        earning.grant(actor=None, resident=me, points=i + 1, source=("test.mine", str(i)), memo=f"m{i}",
                      at=start + dt.timedelta(days=i))
        earning.grant(actor=None, resident=neighbour, points=7, source=("test.other", str(i)), memo="theirs",
                      at=start + dt.timedelta(days=i))
    ledger.post(community=world.community, kind="adjustment",
                lines=[(ledger.account_for(me), -11), (ledger.pool(world.community), 11)], memo="spent")
    return me, neighbour


def _login(client, who="resident"):
    client.login(username=who, password=PASSWORD)
    return client


def test_statement_lines_carry_the_running_balance(world):
    me, _neighbour = _history(world, n=10)
    lines = statement_lines(ledger.account_for(me))
    running = 0
    for line in lines:
        running += line["amount"]
        assert line["balance"] == running
    assert lines[-1]["balance"] == ledger.balance(ledger.account_for(me)) == sum(range(1, 11)) - 11
    assert [line["memo"] for line in lines][:2] == ["m0", "m1"]


def test_the_page_shows_my_lines_newest_first_paginated_with_running_balance(client, world):
    me, _neighbour = _history(world)
    c = _login(client)
    first = c.get("/points/me", HTTP_ACCEPT_LANGUAGE="en")
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]
    total = sum(range(1, 46)) - 11
    page = first.context["page"]
    assert page.paginator.count == 46 and len(page.object_list) == PER_PAGE
    assert first.context["balance"] == total
    # Newest first: the debit, then the last grant; the running balance after each line.
    assert [(line["amount"], line["balance"]) for line in page.object_list[:2]] == [(-11, total), (45, total + 11)]
    assert b"theirs" not in first.content
    last = c.get("/points/me?page=3", HTTP_ACCEPT_LANGUAGE="en").context["page"]
    assert [(line["amount"], line["balance"]) for line in last.object_list] == [(6, 21), (5, 15), (4, 10), (3, 6), (2, 3), (1, 1)]
    # Each page's lines chain: the balance after a line minus its amount is the next (older) line's.
    lines = list(page.object_list)
    for newer, older in zip(lines, lines[1:]):
        assert newer["balance"] - newer["amount"] == older["balance"]
    html = first.content.decode()
    assert re.search(r"Page 1 of 3", html)


def test_nobody_else_sees_a_residents_statement(client, world):
    me, neighbour = _history(world, n=5)
    neighbour_user = world.users["nobody"]
    neighbour.user = neighbour_user
    neighbour.save(update_fields=["user"])
    c = _login(client, "nobody")
    page = c.get("/points/me", HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["balance"] == 35
    assert b"m0" not in page.content and b"spent" not in page.content
    # The page takes no id: asking for another's is not possible; staff without a resident get none.
    for who in ("admin", "worker", "secretary"):
        client.logout()
        assert _login(client, who).get("/points/me").status_code == 403
    client.logout()
    assert client.get("/points/me").status_code == 302


def test_an_empty_account_and_the_expiring_points(client, world):
    c = _login(client)
    empty = c.get("/points/me", HTTP_ACCEPT_LANGUAGE="en")
    assert empty.status_code == 200 and b"No points yet" in empty.content
    earning.grant(actor=None, resident=world.residents[0], points=8, source=("t", "x"))
    shown = c.get("/points/me", HTTP_ACCEPT_LANGUAGE="en")
    assert shown.context["expiring"][0][1] == 8
    assert b"Expiring soonest" in shown.content


def test_the_home_page_links_my_points_once_there_is_an_account(world):
    from linli.points.views_earn import home_actions

    user = world.users["resident"]
    assert home_actions(user) == []
    earning.grant(actor=None, resident=world.residents[0], points=6, source=("t", "home"))
    user = type(user).objects.get(pk=user.pk)
    with translation.override("en"):
        assert home_actions(user) == [("My points (6)", "/points/me")]
    assert home_actions(world.users["admin"]) == []
