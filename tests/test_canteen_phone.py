"""Orders taken by phone (linli/canteen/views_phone.py, ``canteen:phone_order``): the office finds the caller by a POSTed search (never in a URL), see the masked name and
whether meals may be delivered, and order through ``order_place`` with channel ``phone``; every
rule of an online order holds, and a refusal changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from linli.canteen.models import Meal, Order

from test_canteen_orders import eligible, ineligible, setup_canteen, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(world, monkeypatch):
    """Tomorrow's lunch, the clock two hours before its cut-off."""
    k = setup_canteen(world)
    now = k.meal.cutoff_at - dt.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return k


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _url(world) -> str:
    return f"/canteen/{world.community.code}/counter/phone/"


def _choose(client, world, resident) -> str:
    phone = resident.phone.reveal()
    found = client.post(_url(world), {"action": "find", "query": phone})
    html = found.content.decode()
    assert found.status_code == 200 and phone not in found.request["QUERY_STRING"]
    assert resident.name.masked in html and resident.name.reveal() not in html
    who = re.search(r'name="who" value="([^"]+)"', html).group(1)
    chosen = client.post(_url(world), {"action": "choose", "who": who})
    assert chosen.status_code == 200
    return who


def test_staff_order_a_delivered_lunch_for_a_caller(world, morning):
    k = morning
    elder = eligible(world)[0]
    client = _client(world.users["worker"])
    who = _choose(client, world, elder)
    done = client.post(_url(world), {"action": "order", "who": who, "meal": k.meal.pk, "where": "delivery",
                                     "quantity": "1", "payment": "cash", "nonce": "ab" * 8})
    assert done.status_code == 302
    order = Order.objects.get()
    assert (order.resident_id, order.channel, order.delivery, order.placed_by_id) == (elder.pk, "phone", True,
                                                                                      world.users["worker"].pk)
    assert Meal.objects.get(pk=k.meal.pk).delivery_taken == 1


def test_delivery_for_a_caller_who_is_not_eligible_is_refused_and_nothing_changes(world, morning):
    k = morning
    plain = ineligible(world)
    client = _client(world.users["worker"])
    who = _choose(client, world, plain)
    before = snapshot(k.meal)
    refused = client.post(_url(world), {"action": "order", "who": who, "meal": k.meal.pk, "where": "delivery",
                                        "quantity": "1", "payment": "cash"})
    assert refused.status_code == 400 and "Not done." in refused.content.decode()
    assert snapshot(k.meal) == before


def test_points_and_bad_quantities_are_refused(world, morning):
    k = morning
    client = _client(world.users["admin"])
    who = _choose(client, world, eligible(world)[0])
    before = snapshot(k.meal)
    for body in ({"payment": "points", "quantity": "1"}, {"payment": "cash", "quantity": "0"},
                 {"payment": "cash", "quantity": "-2"}, {"payment": "cash", "quantity": "999"}):
        answer = client.post(_url(world), {"action": "order", "who": who, "meal": k.meal.pk, "where": "onsite",
                                           **body})
        assert answer.status_code == 400, body
    assert snapshot(k.meal) == before


def test_only_the_office(world, morning):
    k = morning
    for user in (k.staff, k.other_staff, world.users["resident"], world.users["grid1"]):
        assert _client(user).get(_url(world)).status_code == 403
    assert _client(world.users["worker"]).get(_url(world)).status_code == 200
    assert Client().get(_url(world)).status_code == 302
