"""The canteen's counter (linli/canteen/orders.py ``counter_lookup``, ``counter_sell``,
``order_serve``; the page ``canteen:counter``): the QR code finds the resident, expired and wrong
codes are refused, a pre-order is served with one tap, an on-site meal is sold and served; staff of
another canteen are refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone, translation

from linli.canteen import orders
from linli.canteen.models import Meal, Order
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.points import tokens

from test_canteen_orders import balance, give, setup_canteen

pytestmark = pytest.mark.django_db


@pytest.fixture
def lunchtime(world, monkeypatch):
    """Tomorrow's lunch, and the clock at half past its start (the counter's day)."""
    k = setup_canteen(world)
    now = k.meal.starts_at + dt.timedelta(minutes=30)
    monkeypatch.setattr(timezone, "now", lambda: now)
    k.now = now
    return k


def test_a_code_finds_the_resident_and_the_lookup_is_recorded_without_names(world, lunchtime):
    k = lunchtime
    r = world.residents[0]
    found = orders.counter_lookup(actor=k.staff, canteen=k.canteen, token=tokens.resident_token(r))
    assert found.pk == r.pk
    event = Event.objects.get(verb="canteen.counter_lookup")
    assert event.community_id == world.community.pk and r.name.reveal() not in str(event.data)
    assert event.target_type == "canteen.canteen" and event.target_id == str(k.canteen.pk)


def test_expired_wrong_and_other_community_codes_are_refused(world, lunchtime):
    k = lunchtime
    r = world.residents[0]
    old = tokens.resident_token(r, at=k.now - dt.timedelta(minutes=5))
    with translation.override("en"):
        with pytest.raises(InvalidInput) as caught:
            orders.counter_lookup(actor=k.staff, canteen=k.canteen, token=old)
        assert caught.value.code == "qr_expired" and "expired" in str(caught.value.message)
        for token in ("", "garbage", f"{r.pk}.{tokens.window_of()}.0000000000000000",
                      tokens.resident_token(world.other_resident)):
            with pytest.raises(InvalidInput) as caught:
                orders.counter_lookup(actor=k.staff, canteen=k.canteen, token=token)
            assert caught.value.code == "qr_wrong"
    assert not Event.objects.filter(verb="canteen.counter_lookup").exists()


def test_staff_of_another_canteen_and_other_accounts_are_refused(world, lunchtime):
    k = lunchtime
    token = tokens.resident_token(world.residents[0])
    for actor in (k.other_staff, world.users["resident"], world.users["grid1"], world.users["unit_staff"],
                  world.users["z_worker"]):
        with pytest.raises(PermissionDenied):
            orders.counter_lookup(actor=actor, canteen=k.canteen, token=token)
    # The office works the counter too.
    assert orders.counter_lookup(actor=world.users["worker"], canteen=k.canteen, token=token).pk == \
        world.residents[0].pk


def test_sell_on_site_serves_and_pays_at_once_even_after_the_cut_off(world, lunchtime):
    k = lunchtime
    r = world.residents[1]
    assert k.now > k.meal.cutoff_at
    order, created = orders.counter_sell(actor=k.staff, canteen=k.canteen, resident=r, meal=k.meal, quantity=2,
                                         payment="cash")
    assert created and order.status == "served" and order.paid and order.channel == "counter" and not order.delivery
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 2
    with pytest.raises(PermissionDenied):
        orders.counter_sell(actor=k.other_staff, canteen=k.canteen, resident=world.residents[2], meal=k.meal)
    with pytest.raises(Conflict) as caught:
        orders.counter_sell(actor=k.staff, canteen=k.canteen, resident=r, meal=k.meal)
    assert caught.value.code == "already_ordered"


def test_sell_with_points_moves_them_through_the_ledger(world, lunchtime):
    k = lunchtime
    r = world.residents[0]
    give(r, 100)
    order, _ = orders.counter_sell(actor=k.staff, canteen=k.canteen, resident=r, meal=k.meal, payment="points")
    assert order.points == 60 and balance(r) == 40 and order.status == "served"


# --- the page ---------------------------------------------------------------------------------------


def staff_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def url(world) -> str:
    return f"/canteen/{world.community.code}/counter/"


def test_the_counter_page_for_staff_only(world, lunchtime):
    k = lunchtime
    page = staff_client(k.staff).get(url(world))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="token"' in html and "autofocus" in html
    assert "no-store" in page["Cache-Control"]
    for user in (k.other_staff, world.users["resident"], world.users["grid1"]):
        assert staff_client(user).get(url(world)).status_code == 403
    assert Client().get(url(world)).status_code == 302


def test_scan_then_serve_a_pre_order_with_one_tap(world, lunchtime):
    k = lunchtime
    r = world.residents[0]
    order, _ = orders.order_place(actor=world.users["resident"], resident=r, meal=k.meal, channel="online",
                                  at=k.meal.cutoff_at - dt.timedelta(hours=1))
    client = staff_client(k.staff)
    found = client.post(url(world), {"action": "lookup", "token": tokens.resident_token(r)})
    html = found.content.decode()
    assert found.status_code == 200
    assert str(r.name) in html and r.name.reveal() not in html  # masked only
    assert "Serve lunch" in html
    who = re.search(r'name="who" value="([^"]+)"', html).group(1)
    assert found.request["PATH_INFO"] == url(world)  # nothing about the resident in the URL
    served = client.post(url(world), {"action": "serve", "who": who, "order": order.pk})
    assert served.status_code == 200 and "Served" in served.content.decode()
    order.refresh_from_db()
    assert order.status == "served" and order.paid
    again = client.post(url(world), {"action": "serve", "who": who, "order": order.pk})
    assert again.status_code == 409 and Order.objects.get(pk=order.pk).status == "served"


def test_sell_from_the_page_and_a_refusal_in_words(world, lunchtime):
    k = lunchtime
    r = world.residents[1]
    client = staff_client(k.staff)
    html = client.post(url(world), {"action": "lookup", "token": tokens.resident_token(r)}).content.decode()
    who = re.search(r'name="who" value="([^"]+)"', html).group(1)
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', html).group(1)
    body = {"action": "sell", "who": who, "meal": k.meal.pk, "quantity": "1", "payment": "mobile", "nonce": nonce}
    sold = client.post(url(world), body)
    assert sold.status_code == 200 and "Sold and served" in sold.content.decode()
    order = Order.objects.get(resident=r)
    assert order.status == "served" and order.payment == "mobile" and order.paid
    # A double tap sells once.
    assert client.post(url(world), body).status_code == 200 and Order.objects.filter(resident=r).count() == 1
    # Full: refused in words, nothing changed.
    Meal.objects.filter(pk=k.meal.pk).update(onsite_capacity=1)
    other = world.residents[2]
    html = client.post(url(world), {"action": "lookup", "token": tokens.resident_token(other)}).content.decode()
    who = re.search(r'name="who" value="([^"]+)"', html).group(1)
    refused = client.post(url(world), {**body, "who": who, "nonce": "1" * 32})
    assert refused.status_code == 409 and "full" in refused.content.decode()
    assert not Order.objects.filter(resident=other).exists()


def test_expired_or_wrong_codes_on_the_page(world, lunchtime):
    k = lunchtime
    client = staff_client(k.staff)
    old = tokens.resident_token(world.residents[0], at=k.now - dt.timedelta(minutes=5))
    expired = client.post(url(world), {"action": "lookup", "token": old})
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    wrong = client.post(url(world), {"action": "lookup", "token": "nonsense"})
    assert wrong.status_code == 400 and "not a valid resident code" in wrong.content.decode()
    forged = client.post(url(world), {"action": "serve", "who": "forged:value", "order": "1"})
    assert forged.status_code == 400 and "Scan the resident&#x27;s code again" in forged.content.decode()
    # A "who" made for another account does not work for this one.
    html = staff_client(world.users["worker"]).post(
        url(world), {"action": "lookup", "token": tokens.resident_token(world.residents[0])}).content.decode()
    who = re.search(r'name="who" value="([^"]+)"', html).group(1)
    assert client.post(url(world), {"action": "serve", "who": who, "order": "1"}).status_code == 400
