"""The services API: GET slots, POST bookings (Idempotency-Key, 409 full / already_booked /
too_many), GET bookings, POST bookings/{id}/cancel, and the OpenAPI document
(linli/services/api_bookings.py)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from linli.services import catalogue
from linli.services.models import Booking, Slot

pytestmark = pytest.mark.django_db
URL = "/api/v1/services"


@pytest.fixture
def svc(world):
    admin = world.users["admin"]
    provider = catalogue.provider_create(actor=admin, community=world.community, name="义剪队",
                                         organisation=world.property_company)
    service = catalogue.service_create(actor=admin, community=world.community, provider=provider, code="haircut",
                                       name="义剪", kind="haircut", place="活动室", max_active=1)
    day = timezone.localdate() + dt.timedelta(days=2)
    slots = catalogue.slots_create(actor=admin, service=service, day=day, start=dt.time(9, 0), end=dt.time(10, 0),
                                   every_minutes=30, capacity=1)
    return {"service": service, "slots": slots}


def login(world, name) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[name])
    return client


def post(client, path, body=None, **headers):
    return client.post(URL + path, json.dumps(body or {}), content_type="application/json", **headers)


def test_openapi_lists_the_paths(db):
    doc = Client().get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    assert "get" in paths["/api/v1/services/slots"]
    create = paths["/api/v1/services/bookings"]["post"]
    assert {"201", "409", "400", "403"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert "get" in paths["/api/v1/services/bookings"]
    assert "post" in paths["/api/v1/services/bookings/{booking_id}/cancel"]


def test_slots_for_the_resident(world, svc):
    body = login(world, "resident").get(URL + "/slots", {"service": "haircut"}).json()
    assert [s["id"] for s in body["slots"]] == [s.pk for s in svc["slots"]]
    first = body["slots"][0]
    assert first["capacity"] == 1 and first["booked"] == 0 and first["places_left"] == 1
    assert first["service"] == "haircut" and first["starts_at"] < first["ends_at"]
    day = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    assert login(world, "resident").get(URL + "/slots", {"service": "haircut", "from": day}).json()["slots"] == []
    bad = login(world, "resident").get(URL + "/slots", {"service": "haircut", "from": "2024-13-01"})
    assert bad.status_code == 400 and bad.json()["code"] == "date"
    assert login(world, "resident").get(URL + "/slots", {"service": "nope"}).status_code == 404
    assert Client().get(URL + "/slots", {"service": "haircut"}).status_code == 401
    # Staff name the community; a stranger may not.
    assert login(world, "unit_staff").get(URL + "/slots", {"service": "haircut", "community": "Y"}).status_code == 200
    assert login(world, "z_worker").get(URL + "/slots", {"service": "haircut", "community": "Y"}).status_code == 403


def test_book_201_then_409_full_and_already_booked(world, svc):
    slot = svc["slots"][0]
    client = login(world, "resident")
    made = post(client, "/bookings", {"slot": slot.pk})
    assert made.status_code == 201, made.content
    assert made.json() == {"id": made.json()["id"], "status": "booked", "slot": slot.pk}
    assert Booking.objects.get(pk=made.json()["id"]).channel == "api"
    again = post(client, "/bookings", {"slot": slot.pk})
    assert again.status_code == 409 and again.json()["code"] == "already_booked"
    # Someone else: full (the API never joins a waiting list).
    staff = login(world, "worker")
    full = post(staff, "/bookings", {"slot": slot.pk, "resident": world.residents[1].pk})
    assert full.status_code == 409 and full.json()["code"] == "full"
    assert Slot.objects.get(pk=slot.pk).booked == 1
    assert not Booking.objects.filter(status="waiting").exists()
    # max_active is 1: a second time is too many.
    many = post(client, "/bookings", {"slot": svc["slots"][1].pk})
    assert many.status_code == 409 and many.json()["code"] == "too_many"


def test_staff_book_for_a_resident_and_strangers_are_refused(world, svc):
    slot = svc["slots"][0]
    made = post(login(world, "unit_staff"), "/bookings", {"slot": slot.pk, "resident": world.residents[2].pk})
    assert made.status_code == 201
    assert Booking.objects.get(pk=made.json()["id"]).channel == "phone"
    for name in ("grid1", "supervisor", "z_worker"):
        refused = post(login(world, name), "/bookings", {"slot": svc["slots"][1].pk,
                                                          "resident": world.residents[3].pk})
        assert refused.status_code == 403, name
    # Another community's resident.
    other = post(login(world, "worker"), "/bookings", {"slot": svc["slots"][1].pk,
                                                        "resident": world.other_resident.pk})
    assert other.status_code == 404
    # A resident may not book for a neighbour.
    assert post(login(world, "resident"), "/bookings",
                {"slot": svc["slots"][1].pk, "resident": world.residents[3].pk}).status_code == 403
    assert post(login(world, "resident"), "/bookings", {"slot": 999999}).status_code == 404
    assert post(login(world, "resident"), "/bookings", {"slot": "x"}).status_code in (400, 422)
    assert post(login(world, "resident"), "/bookings", {"slot": slot.pk, "extra": 1}).status_code in (400, 422)


def test_idempotency_key(world, svc):
    slot = svc["slots"][0]
    client = login(world, "resident")
    first = post(client, "/bookings", {"slot": slot.pk}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    again = post(client, "/bookings", {"slot": slot.pk}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == first.json()
    other = post(client, "/bookings", {"slot": svc["slots"][1].pk}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    bad = post(client, "/bookings", {"slot": slot.pk}, HTTP_IDEMPOTENCY_KEY="has space")
    assert bad.status_code == 400 and bad.json()["code"] == "idempotency_key"
    assert Booking.objects.count() == 1


def test_my_bookings_and_cancel(world, svc):
    slot = svc["slots"][0]
    client = login(world, "resident")
    made = post(client, "/bookings", {"slot": slot.pk}).json()
    mine = client.get(URL + "/bookings").json()["bookings"]
    assert [b["id"] for b in mine] == [made["id"]] and mine[0]["service"] == "haircut"
    assert world.residents[0].name.reveal() not in json.dumps(mine)
    # Nobody else sees or cancels it.
    neighbour = login(world, "worker")
    assert neighbour.get(URL + "/bookings").status_code == 403
    assert post(login(world, "grid1"), f"/bookings/{made['id']}/cancel").status_code == 404
    done = post(client, f"/bookings/{made['id']}/cancel")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert Slot.objects.get(pk=slot.pk).booked == 0
    twice = post(client, f"/bookings/{made['id']}/cancel")
    assert twice.status_code == 409
