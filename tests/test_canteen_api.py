"""The canteen API (linli/canteen/api_orders.py): GET meals, POST orders (201, Idempotency-Key,
409s, 400s), GET orders, POST orders/{id}/cancel; the OpenAPI document lists the paths."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from linli.canteen.models import Meal, Order
from linli.points.models import IdempotencyKey

from test_canteen_orders import balance, give, ineligible, linked_user, setup_canteen

pytestmark = pytest.mark.django_db
URL = "/api/v1/canteen"


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def post(client, body, **headers):
    return client.post(URL + "/orders", json.dumps(body), content_type="application/json", **headers)


def state(meal) -> tuple:
    m = Meal.objects.get(pk=meal.pk)
    return Order.objects.count(), m.onsite_taken, m.delivery_taken


def test_openapi_lists_the_canteen_paths(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert "get" in doc["paths"][URL + "/meals"]
    create = doc["paths"][URL + "/orders"]["post"]
    assert {"201", "200", "400", "409"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "get" in doc["paths"][URL + "/orders"]
    assert "post" in doc["paths"][URL + "/orders/{order_id}/cancel"]


def test_meals_of_a_day_with_places_tags_and_what_the_resident_pays(world):
    k = setup_canteen(world)
    client = client_for(world.users["resident"])
    body = client.get(URL + "/meals", {"date": k.day.isoformat()}).json()
    assert body["date"] == k.day.isoformat() and len(body["meals"]) == 1
    meal = body["meals"][0]
    assert meal["id"] == k.meal.pk and meal["kind"] == "lunch" and meal["price_fen"] == 1200
    assert meal["payable_fen"] == 600 and meal["subsidy_fen"] == 600
    assert meal["onsite_left"] == 40 and meal["delivery_left"] == 10 and meal["delivery_allowed"] is True
    assert {"name": "清蒸鱼", "tags": ["low_salt", "soft"], "tag_labels": ["low salt", "soft, easy to chew"]} in \
        meal["dishes"]
    assert meal["ordered"] is None
    assert client.get(URL + "/meals", {"date": (k.day + dt.timedelta(days=1)).isoformat()}).json()["meals"] == []
    bad = client.get(URL + "/meals", {"date": "tomorrow"})
    assert bad.status_code == 400 and bad.json()["code"] == "date"


def test_an_order_is_201_and_a_retry_with_the_same_key_is_the_same_order(world):
    k = setup_canteen(world)
    client = client_for(world.users["resident"])
    body = {"meal": k.meal.pk, "delivery": True, "quantity": 1}
    first = post(client, body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == 201, first.content
    out = first.json()
    assert out["status"] == "ordered" and out["payable_fen"] == 600 and out["subsidy_fen"] == 600 and out["points"] == 0
    again = post(client, body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert again.status_code == 200 and again.json() == out
    other = post(client, {**body, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="order-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert state(k.meal) == (1, 0, 1)
    key = IdempotencyKey.objects.get(key="order-1")
    assert key.scope == f"canteen.orders:{world.users['resident'].pk}"
    order = Order.objects.get()
    assert order.channel == "api" and order.delivery


def test_409s_full_already_ordered_cut_off_insufficient_points(world, monkeypatch):
    k = setup_canteen(world, onsite=1, delivery=1)
    client = client_for(world.users["resident"])
    give(world.residents[0], 10)
    before = state(k.meal)
    refused = post(client, {"meal": k.meal.pk, "payment": "points"})
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_points"
    assert state(k.meal) == before and balance(world.residents[0]) == 10
    assert post(client, {"meal": k.meal.pk}).status_code == 201
    twice = post(client, {"meal": k.meal.pk, "delivery": True})
    assert twice.status_code == 409 and twice.json()["code"] == "already_ordered"
    other = world.residents[1]
    other_client = client_for(linked_user(other, "other"))
    full = post(other_client, {"meal": k.meal.pk})
    assert full.status_code == 409 and full.json()["code"] == "full" and "full" in full.json()["message"]
    late = k.meal.cutoff_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: late)
    cut = post(client_for(other.user), {"meal": k.meal.pk, "delivery": True})  # signed in at that time
    assert cut.status_code == 409 and cut.json()["code"] == "cut_off"
    assert state(k.meal) == (1, 1, 0)


@pytest.mark.parametrize("body, status, code", [
    ({"quantity": 0}, 400, "quantity"),
    ({"quantity": -3}, 400, "quantity"),
    ({"quantity": 4}, 400, "quantity"),
    ({"quantity": 10 ** 12}, 400, "quantity"),
    ({"quantity": 1.5}, 422, "invalid"),
    ({"quantity": "2"}, 422, "invalid"),
    ({"quantity": True}, 422, "invalid"),
    ({"delivery": "yes"}, 422, "invalid"),
    ({"payment": "iou"}, 422, "invalid"),
    ({"price_fen": 1}, 422, "unknown_field"),
])
def test_bad_input_is_refused_and_nothing_changes(world, body, status, code):
    k = setup_canteen(world)
    before = state(k.meal)
    response = post(client_for(world.users["resident"]), {"meal": k.meal.pk, **body})
    assert response.status_code == status, response.content
    assert response.json()["code"] == code and response.json()["message"]
    assert state(k.meal) == before


def test_delivery_not_allowed_is_400_with_the_route_to_the_office(world):
    k = setup_canteen(world)
    r = ineligible(world)
    response = post(client_for(linked_user(r, "plain")), {"meal": k.meal.pk, "delivery": True})
    assert response.status_code == 400
    assert response.json()["code"] == "not_eligible" and "community office" in response.json()["message"]
    assert state(k.meal) == (0, 0, 0)


def test_unknown_other_community_and_non_resident_callers(world):
    k = setup_canteen(world)
    unknown = post(client_for(world.users["resident"]), {"meal": 999999})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_meal"
    other = post(client_for(linked_user(world.other_resident, "zed")), {"meal": k.meal.pk})
    assert other.status_code == 403
    staff = post(client_for(world.users["worker"]), {"meal": k.meal.pk})
    assert staff.status_code == 403 and staff.json()["code"] == "not_resident"
    assert Client().post(URL + "/orders", "{}", content_type="application/json").status_code == 401
    assert Client().get(URL + "/meals").status_code == 401
    assert state(k.meal) == (0, 0, 0)


def test_my_orders_and_cancelling_through_the_api(world):
    k = setup_canteen(world)
    give(world.residents[0], 100)
    client = client_for(world.users["resident"])
    created = post(client, {"meal": k.meal.pk, "payment": "points"}).json()
    assert created["points"] == 60 and balance(world.residents[0]) == 40
    mine = client.get(URL + "/orders").json()["orders"]
    assert [o["id"] for o in mine] == [created["id"]] and mine[0]["may_cancel"] is True
    assert mine[0]["unit_price_fen"] == 1200 and mine[0]["payment"] == "points"
    # Nobody else sees or cancels it.
    other = client_for(linked_user(world.residents[1], "other"))
    assert other.get(URL + "/orders").json()["orders"] == []
    assert other.post(URL + f"/orders/{created['id']}/cancel").status_code == 404
    cancelled = client.post(URL + f"/orders/{created['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert balance(world.residents[0]) == 100 and Meal.objects.get(pk=k.meal.pk).onsite_taken == 0
    again = client.post(URL + f"/orders/{created['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"
