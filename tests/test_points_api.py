"""The points API: GET balance, GET catalogue, POST redemptions (linli/points/api_redeem.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from linli.points import catalogue, ledger, partners, redeem as redeeming, tokens
from linli.points.models import IdempotencyKey, Item, Redemption, Transaction

pytestmark = pytest.mark.django_db
URL = "/api/v1/points"


def give(resident, points: int):
    community = resident.community
    ledger.post(community=community, kind="grant",
                lines=[(ledger.issuance(community), -points), (ledger.account_for(resident), points)])


@pytest.fixture
def shop(world):
    admin = world.users["admin"]
    canteen = partners.partner_create(actor=admin, community=world.community, name="幸福食堂", kind="canteen")
    meal = catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="lunch",
                                 name="午餐", kind="meal", points=10, stock=3)
    barber = partners.partner_create(actor=admin, community=world.community, name="巷口理发", kind="barber")
    cut = catalogue.item_create(actor=admin, community=world.community, partner=barber, code="cut", name="理发",
                                kind="haircut", points=30)
    key, plaintext = partners.key_create(actor=admin, partner=canteen, name="till")
    return {"canteen": canteen, "meal": meal, "barber": barber, "cut": cut, "key": key, "plaintext": plaintext}


def as_resident(world) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users["resident"])
    return client


def keyed(shop) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {shop['plaintext']}")


def post(client, body, **headers):
    return client.post(URL + "/redemptions", json.dumps(body), content_type="application/json", **headers)


def state(world, shop):
    """What must not move when a request is refused."""
    return (redeeming.balance_of(world.residents[0]), Item.objects.get(pk=shop["meal"].pk).stock,
            Redemption.objects.count(), Transaction.objects.count())


def test_openapi_lists_the_three_endpoints(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/points/balance" in doc["paths"] and "get" in doc["paths"]["/api/v1/points/balance"]
    assert "get" in doc["paths"]["/api/v1/points/catalogue"]
    redemptions = doc["paths"]["/api/v1/points/redemptions"]["post"]
    assert {"201", "409", "400"} <= set(redemptions["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in redemptions["parameters"])


def test_balance_for_the_signed_in_resident(world, shop):
    give(world.residents[0], 42)
    body = as_resident(world).get(URL + "/balance").json()
    assert body["balance"] == 42 and isinstance(body["expiring"], list) and body["account"]
    assert world.residents[0].name.reveal() not in json.dumps(body)


def test_balance_refuses_keys_staff_and_strangers(world, shop):
    assert Client().get(URL + "/balance").status_code == 401
    assert keyed(shop).get(URL + "/balance").status_code == 403
    staff = Client()
    staff.force_login(world.users["worker"])
    assert staff.get(URL + "/balance").json()["code"] == "not_resident"


def test_catalogue_for_a_resident_and_for_a_key(world, shop):
    items = as_resident(world).get(URL + "/catalogue").json()["items"]
    assert [i["code"] for i in items] == ["lunch", "cut"]
    assert items[0] == {"code": "lunch", "name": "午餐", "points": 10, "stock": 3, "partner": "幸福食堂",
                        "kind": "meal"}
    assert items[1]["stock"] is None
    # A key sees its own partner's items only.
    assert [i["code"] for i in keyed(shop).get(URL + "/catalogue").json()["items"]] == ["lunch"]


def test_resident_redeems_online(world, shop):
    give(world.residents[0], 25)
    response = post(as_resident(world), {"item": "lunch", "quantity": 2})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["balance"] == 5 and body["points"] == 20 and Redemption.objects.get(pk=body["id"]).channel == "online"


def test_409s_change_nothing(world, shop):
    give(world.residents[0], 25)
    client = as_resident(world)
    before = state(world, shop)
    response = post(client, {"item": "lunch", "quantity": 3})
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"
    response = post(client, {"item": "cut"})
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"
    give(world.residents[0], 100)
    before = state(world, shop)
    response = post(client, {"item": "lunch", "quantity": 4})
    assert response.status_code == 409 and response.json()["code"] == "out_of_stock"
    assert state(world, shop) == before


@pytest.mark.parametrize("body, status, code", [
    ({"item": "nothing"}, 400, "unknown_item"),
    ({"item": "lunch", "quantity": 0}, 400, "quantity"),
    ({"item": "lunch", "quantity": 21}, 400, "quantity"),
    ({"item": "lunch", "quantity": "x"}, 422, "invalid"),
    ({"quantity": 1}, 422, "required"),
    ({"item": "lunch", "extra": 1}, 422, "unknown_field"),
])
def test_bad_input_changes_nothing(world, shop, body, status, code):
    give(world.residents[0], 100)
    before = state(world, shop)
    response = post(as_resident(world), body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert state(world, shop) == before


def test_idempotency_key_replays_and_conflicts(world, shop):
    give(world.residents[0], 100)
    client = as_resident(world)
    first = post(client, {"item": "lunch"}, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = post(client, {"item": "lunch"}, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert redeeming.balance_of(world.residents[0]) == 90 and Redemption.objects.count() == 1
    before = state(world, shop)
    other = post(client, {"item": "lunch", "quantity": 2}, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    bad = post(client, {"item": "lunch"}, HTTP_IDEMPOTENCY_KEY="has space")
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key"
    assert state(world, shop) == before and IdempotencyKey.objects.count() == 1


def test_partner_key_redeems_with_the_residents_code(world, shop):
    r = world.residents[0]
    give(r, 50)
    client = keyed(shop)
    response = post(client, {"item": "lunch", "resident_qr": tokens.resident_token(r)})
    assert response.status_code == 201 and response.json()["balance"] == 40
    redemption = Redemption.objects.get()
    assert redemption.channel == "counter" and redemption.key == shop["key"]
    before = state(world, shop)
    # Another partner's item, no code, an expired or forged code: refused, nothing moved.
    assert post(client, {"item": "cut", "resident_qr": tokens.resident_token(r)}).json()["code"] == "unknown_item"
    assert post(client, {"item": "lunch"}).json()["code"] == "resident_qr"
    old = tokens.resident_token(r, at=timezone.now() - dt.timedelta(minutes=5))
    assert post(client, {"item": "lunch", "resident_qr": old}).json()["code"] == "qr_expired"
    assert post(client, {"item": "lunch", "resident_qr": "1.2.abc"}).json()["code"] == "qr_wrong"
    assert state(world, shop) == before


def test_wrong_or_revoked_key_is_401(world, shop):
    give(world.residents[0], 50)
    token = tokens.resident_token(world.residents[0])
    wrong = Client(HTTP_AUTHORIZATION="Bearer pk_nothing_here")
    assert wrong.get(URL + "/catalogue").status_code == 401
    partners.key_revoke(actor=world.users["admin"], key=shop["key"])
    before = state(world, shop)
    response = post(keyed(shop), {"item": "lunch", "resident_qr": token})
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert keyed(shop).get(URL + "/catalogue").status_code == 401
    assert state(world, shop) == before


def test_session_post_needs_csrf(world, shop):
    give(world.residents[0], 50)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["resident"])
    response = post(client, {"item": "lunch"})
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    assert redeeming.balance_of(world.residents[0]) == 50


def test_staff_at_the_counter_by_session(world, shop):
    r = world.residents[0]
    give(r, 50)
    staff = Client()
    staff.force_login(world.users["worker"])
    response = post(staff, {"item": "lunch", "resident_qr": tokens.resident_token(r)})
    assert response.status_code == 201 and Redemption.objects.get().channel == "counter"
    secretary = Client()
    secretary.force_login(world.users["secretary"])
    refused = post(secretary, {"item": "lunch", "resident_qr": tokens.resident_token(r)})
    assert refused.status_code == 400 and refused.json()["code"] == "unknown_item"
    assert redeeming.balance_of(r) == 40
