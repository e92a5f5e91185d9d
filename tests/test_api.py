"""The JSON API /api/v1/: intake, my cases, one case, transitions, rates, auth, errors, OpenAPI."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import ExifTags, Image

from linli.cases import apikeys, services
from linli.cases.models import ApiKey, Case, CasePhoto, Category, IdempotencyKey, TimeLimit
from linli.community.models import Organisation
from linli.core.models import Event

URL = "/api/v1"
DESCRIPTION = "楼道里堆满了垃圾，很久没人清理"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def categories(world):
    """Two categories of Y with time limits (the property company handles both), one of Z."""
    made = {}
    for community, code, zh, en, words in (
            (world.community, "sanitation", "环境卫生", "Sanitation", "垃圾\n清理"),
            (world.community, "lift", "电梯", "Lifts", "电梯"),
            (world.other_community, "sanitation", "环境卫生", "Sanitation", "垃圾")):
        category = Category.objects.create(
            community=community, code=code, name_zh=zh, name_en=en, keywords=words,
            default_unit=world.property_company if community == world.community else None)
        TimeLimit.objects.create(category=category, urgency="normal", response_amount=2, response_unit="hours",
                                 resolve_amount=5, resolve_unit="working_days")
        TimeLimit.objects.create(category=category, urgency="urgent", response_amount=1, response_unit="hours",
                                 resolve_amount=24, resolve_unit="hours")
        made[(community.code, code)] = category
    return made


def client_for(user=None, **kwargs) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def post(client, path, body, **headers):
    return client.post(URL + path, data=json.dumps(body), content_type="application/json", headers=headers)


def jpeg(gps=True) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "PHONE-MODEL-X"
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "N"
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 10)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def photo(name="p.jpg", data=None):
    return SimpleUploadedFile(name, data if data is not None else jpeg(), content_type="image/jpeg")


def new_key(world, community=None, rate=600) -> str:
    _row, key = apikeys.apikey_create(actor=None, community=community or world.community, name="hotline",
                                      rate_per_minute=rate)
    return key


def resident_case(world, categories, **extra) -> Case:
    case, _ = services.case_submit(actor=world.users["resident"], intake=services.Intake(
        community=world.community, channel="web", description=DESCRIPTION, reporter=world.residents[0],
        place="grid", grid=world.grids[0], **extra))
    return case


def z_case(world, categories) -> Case:
    case, _ = services.case_submit(actor=world.users["z_worker"], intake=services.Intake(
        community=world.other_community, channel="phone", description="垃圾没人收，味道很大",
        contact_phone="13912345678", place="grid", grid=world.other_community.grids.get()))
    return case


# --- OpenAPI and docs ----------------------------------------------------------------------------

def test_openapi_document_is_valid_json_listing_every_path(db):
    response = client_for().get(URL + "/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Linli API"
    assert document["info"]["version"] == "1"
    # The suite installs the plug-in app tests/parcels beside Linli's own; its paths are its test's.
    assert {path for path in document["paths"] if not path.startswith("/api/v1/parcels/")} == {
        "/api/v1/cases", "/api/v1/cases/mine", "/api/v1/cases/{number}",
        "/api/v1/cases/{number}/photos/{photo_id}", "/api/v1/cases/{number}/transitions", "/api/v1/rates",
        "/api/v1/points/balance", "/api/v1/points/catalogue", "/api/v1/points/redemptions",
        "/api/v1/canteen/meals", "/api/v1/canteen/orders", "/api/v1/canteen/orders/{order_id}/cancel",
        "/api/v1/services/slots", "/api/v1/services/bookings", "/api/v1/services/bookings/{booking_id}/cancel"}
    create = document["paths"]["/api/v1/cases"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert create["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["photos"]["maxItems"] == 4
    assert {"201", "200", "409", "422"} <= set(create["responses"])
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "field"}
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}


def test_docs_page_loads_nothing_from_another_site(db):
    client = client_for()
    response = client.get(URL + "/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert 'src="/api/v1/docs/assets/swagger-ui-bundle.js"' in html
    settings_json = html.split('id="swagger-settings">', 1)[1].split("</script>", 1)[0]
    assert json.loads(settings_json)["url"] == "/api/v1/openapi.json"
    for name, kind in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                       ("swagger-ui-init.js", "text/javascript")):
        asset = client.get(f"{URL}/docs/assets/{name}")
        assert asset.status_code == 200 and asset["Content-Type"] == kind
        asset.close()
    assert client.get(f"{URL}/docs/assets/swagger-ui.css.map").status_code == 404
    assert client.get(f"{URL}/docs/assets/..%2F..%2Fmain.py").status_code == 404


def test_unknown_api_path_answers_in_the_error_format(db):
    response = client_for().get(URL + "/nothing/here")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "field": None}


# --- authentication ------------------------------------------------------------------------------

def test_no_credentials_is_401_in_the_error_format(db):
    response = post(client_for(), "/cases", {"description": DESCRIPTION})
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated", "field": None,
        "message": "Sign in, or send an API key as “Authorization: Bearer <key>” or “X-Api-Key”."}
    assert response["WWW-Authenticate"] == 'Bearer realm="linli"'
    assert client_for().get(URL + "/cases/mine").status_code == 401


def test_wrong_or_revoked_key_is_401_even_with_a_session(world, categories):
    key = new_key(world)
    client = client_for(world.users["resident"])
    wrong = key[:-1] + ("a" if key[-1] != "a" else "b")
    assert client.get(URL + "/cases/mine", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert client.get(URL + "/cases/mine", headers={"X-Api-Key": "nonsense"}).status_code == 401
    apikeys.apikey_revoke(actor=None, api_key=ApiKey.objects.get())
    response = client_for().get(URL + "/rates", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_key_works_as_bearer_and_as_x_api_key_without_csrf(world, categories):
    key = new_key(world)
    client = client_for(enforce_csrf_checks=True)
    body = {"description": DESCRIPTION, "grid": "G01", "contact_phone": "13912345678"}
    first = post(client, "/cases", body, Authorization=f"Bearer {key}")
    second = post(client, "/cases", body, **{"X-Api-Key": key})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["channel"] == "api"
    assert first.json()["allowed_actions"] == [] and first.json()["contact"] is None
    submitted = Event.objects.filter(verb="case.submitted").order_by("id").first()
    assert submitted.actor_id is None and submitted.actor_label == f"apikey:{key[:11]}"


def test_session_post_needs_the_csrf_token(world, categories):
    client = client_for(world.users["resident"], enforce_csrf_checks=True)
    body = {"description": DESCRIPTION, "grid": "G01"}
    refused = post(client, "/cases", body)
    assert refused.status_code == 403
    assert refused.json() == {"code": "csrf_failed", "field": None,
                              "message": "The CSRF check failed: send the X-CSRFToken header with the session's token."}
    assert Case.objects.count() == 0
    client.get(URL + "/docs")  # any page that renders a token sets the cookie
    token = client.cookies["csrftoken"].value
    assert post(client, "/cases", body, **{"X-CSRFToken": token}).status_code == 201
    assert client.get(URL + "/cases/mine").status_code == 200  # reads need no token


def test_key_over_its_rate_is_429_with_retry_after(world, categories):
    key = new_key(world, rate=2)
    client = client_for()
    headers = {"Authorization": f"Bearer {key}"}
    assert [client.get(URL + "/rates", headers=headers).status_code for _ in range(2)] == [200, 200]
    response = client.get(URL + "/rates", headers=headers)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.json()["field"] is None
    assert 1 <= int(response["Retry-After"]) <= 60


# --- intake --------------------------------------------------------------------------------------

def test_resident_raises_a_case_and_sees_their_own_contact_masked(world, categories):
    response = post(client_for(world.users["resident"]), "/cases", {"description": DESCRIPTION, "grid": "G01"})
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["number"] == case.number and body["number"].startswith("Y-")
    assert (body["status"], body["status_label"], body["channel"]) == ("submitted", "submitted", "web")
    assert body["category"] == {"code": "sanitation", "name": "Sanitation"}  # suggested with confidence
    assert body["needs_triage"] is False
    assert body["grid"] == {"code": "G01", "name": "1号院"}
    assert body["mine"] is True
    assert body["contact"] == {"name": "王**1", "phone": "139****0001"}
    assert body["allowed_actions"] == []
    assert case.reporter == world.residents[0] and case.submitted_by == world.users["resident"]
    assert "13900000001" not in response.content.decode()


def test_staff_never_see_the_reporters_contact(world, categories):
    case = resident_case(world, categories, contact_phone="13800001111", contact_name="王小明")
    for name in ("worker", "grid1", "supervisor"):
        body = client_for(world.users[name]).get(f"{URL}/cases/{case.number}").json()
        assert body["contact"] is None and body["mine"] is False, name
        text = json.dumps(body, ensure_ascii=False)
        assert "13800001111" not in text and "138****1111" not in text and "王小明" not in text


def test_intake_with_photos_strips_their_metadata(world, categories):
    client = client_for(world.users["resident"])
    response = client.post(URL + "/cases", data={
        "description": DESCRIPTION, "grid": "G01", "urgency": "urgent", "photos": [photo("a.jpg"), photo("b.jpg")]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["urgency"] == "urgent"
    assert [(p["stage"], p["content_type"], p["width"], p["height"]) for p in body["photos"]] == [
        ("intake", "image/jpeg", 80, 60)] * 2
    served = client.get(body["photos"][0]["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    data = b"".join(served.streaming_content)
    assert b"PHONE-MODEL-X" not in data and len(Image.open(io.BytesIO(data)).getexif()) == 0
    assert client_for(world.users["z_worker"]).get(body["photos"][0]["url"]).status_code == 404


def test_five_photos_or_a_fake_photo_are_refused_and_nothing_is_created(world, categories):
    client = client_for(world.users["resident"])
    five = client.post(URL + "/cases", data={"description": DESCRIPTION, "grid": "G01",
                                             "photos": [photo(f"{i}.jpg") for i in range(5)]})
    assert five.status_code == 400
    assert five.json() == {"code": "photo_too_many", "message": "At most 4 photos.", "field": "photos"}
    fake = client.post(URL + "/cases", data={"description": DESCRIPTION, "grid": "G01",
                                             "photos": [photo("x.jpg", b"not an image at all")]})
    assert fake.status_code == 400
    assert fake.json() == {"code": "photo_not_image", "field": "photos",
                           "message": "This file is not a JPEG, PNG or WebP photo."}
    other_file = client.post(URL + "/cases", data={"description": DESCRIPTION, "grid": "G01",
                                                   "attachment": photo()})
    assert other_file.status_code == 422 and other_file.json()["field"] == "attachment"
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_staff_enter_a_phone_call_with_the_callers_contact(world, categories):
    client = client_for(world.users["worker"])
    response = post(client, "/cases", {"description": "电梯坏了，老人下不了楼", "channel": "phone", "grid": "G02",
                                       "contact_name": "刘先生", "contact_phone": "13912345678"})
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["category"]["code"], body["mine"], body["contact"]) == ("phone", "lift", False, None)
    assert "accept" in body["allowed_actions"]
    case = Case.objects.get()
    assert case.reporter is None and case.contact_phone.reveal() == "13912345678"
    no_channel = post(client, "/cases", {"description": DESCRIPTION, "grid": "G01", "contact_phone": "13912345678"})
    assert no_channel.status_code == 400
    assert no_channel.json() == {"code": "channel_required", "field": "channel",
                                 "message": "Say how the request came in: phone, walk-in or patrol."}
    web = post(client, "/cases", {"description": DESCRIPTION, "grid": "G01", "channel": "web"})
    assert web.status_code == 403 and web.json()["code"] == "channel"
    home = post(client, "/cases", {"description": DESCRIPTION, "place": "home", "channel": "walk_in",
                                   "contact_phone": "13912345678"})
    assert home.status_code == 400 and home.json()["field"] == "place"
    no_contact = post(client, "/cases", {"description": DESCRIPTION, "grid": "G01", "channel": "phone"})
    assert no_contact.status_code == 400 and no_contact.json()["code"] == "contact_required"


def test_grid_worker_reports_a_patrol_finding_without_a_contact(world, categories):
    response = post(client_for(world.users["grid1"]), "/cases",
                    {"description": "巡查发现1号院路灯不亮", "channel": "patrol", "grid": "G01"})
    assert response.status_code == 201
    assert (response.json()["channel"], response.json()["grid"]["code"]) == ("patrol", "G01")
    assert Case.objects.get().submitted_by == world.users["grid1"]


def test_account_without_resident_or_staff_role_may_not_raise_cases(world, categories):
    response = post(client_for(world.users["nobody"]), "/cases", {"description": DESCRIPTION, "grid": "G01"})
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "field": None,
                               "message": "Only residents and community staff may raise cases here."}


def test_resident_cannot_raise_a_case_in_another_community(world, categories):
    response = post(client_for(world.users["resident"]), "/cases",
                    {"description": DESCRIPTION, "grid": "G01", "community": "Z"})
    assert response.status_code == 400
    assert response.json() == {"code": "community", "message": "Unknown community.", "field": "community"}
    keyed = post(client_for(), "/cases", {"description": DESCRIPTION, "grid": "G01", "community": "Z",
                                          "contact_phone": "13912345678"}, **{"X-Api-Key": new_key(world)})
    assert keyed.status_code == 400 and keyed.json()["field"] == "community"
    assert Case.objects.count() == 0


def test_point_on_the_map_finds_its_courtyard_and_outside_is_refused(world, categories):
    world.grids[1].boundary = [[30.0, 104.0], [30.0, 104.01], [30.01, 104.01], [30.01, 104.0]]
    world.grids[1].save()
    client = client_for(world.users["resident"])
    inside = post(client, "/cases", {"description": DESCRIPTION, "place": "point", "lat": 30.005, "lon": 104.005})
    assert inside.status_code == 201
    assert (inside.json()["grid"]["code"], inside.json()["lat"], inside.json()["lon"]) == ("G02", 30.005, 104.005)
    outside = post(client, "/cases", {"description": DESCRIPTION, "place": "point", "lat": 31.0, "lon": 104.0})
    assert outside.status_code == 400
    assert outside.json() == {"code": "place_outside", "message": "This point is outside the community.",
                              "field": "lat"}
    no_point = post(client, "/cases", {"description": DESCRIPTION, "place": "point"})
    assert no_point.json() == {"code": "place", "message": "Mark the point on the map.", "field": "lat"}


def test_resident_may_choose_home_and_anonymous(world, categories):
    response = post(client_for(world.users["resident"]), "/cases",
                    {"description": DESCRIPTION, "place": "home", "anonymous": True})
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.place, case.household, case.grid, case.anonymous) == (
        "home", world.residents[0].household, world.grids[0], True)


@pytest.mark.parametrize("body, status, expected", [
    ({}, 422, {"code": "required", "message": "This field is required.", "field": "description"}),
    ({"description": DESCRIPTION, "urgency": "very"}, 422,
     {"code": "invalid", "message": "Choose one of: normal, urgent.", "field": "urgency"}),
    ({"description": DESCRIPTION, "lat": "north"}, 422,
     {"code": "invalid", "message": "Enter a number.", "field": "lat"}),
    ({"description": DESCRIPTION, "lat": 91, "lon": 104}, 422,
     {"code": "invalid", "message": "This number is out of range.", "field": "lat"}),
    ({"description": DESCRIPTION, "grid": "G01", "colour": "red"}, 422,
     {"code": "unknown_field", "message": "Unknown field.", "field": "colour"}),
    ({"description": 12345}, 422, {"code": "invalid", "message": "Enter text.", "field": "description"}),
    ({"description": "脏", "grid": "G01"}, 400,
     {"code": "description_short", "message": "Describe the problem in a few words.", "field": "description"}),
    ({"description": DESCRIPTION, "grid": "G09"}, 400,
     {"code": "place", "message": "Unknown courtyard.", "field": "grid"}),
    ({"description": DESCRIPTION}, 400, {"code": "place", "message": "Choose the courtyard.", "field": "grid"}),
    ({"description": DESCRIPTION, "grid": "G01", "category": "lift-z"}, 400,
     {"code": "category", "message": "Unknown category.", "field": "category"}),
    ({"description": DESCRIPTION, "grid": "G01", "contact_phone": "12345"}, 400,
     {"code": "contact_phone", "message": "A mobile number has 11 digits and starts with 13 to 19.",
      "field": "contact_phone"}),
])
def test_bad_intake_gets_one_error_format_and_changes_nothing(world, categories, body, status, expected):
    response = post(client_for(world.users["resident"]), "/cases", body)
    assert (response.status_code, response.json()) == (status, expected)
    assert Case.objects.count() == 0 and Event.objects.filter(verb="case.submitted").count() == 0


def test_body_that_is_not_json_or_not_an_object_is_400(world, categories):
    client = client_for(world.users["resident"])
    broken = client.post(URL + "/cases", data="{description:", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json() == {"code": "bad_json", "message": "The body is not valid JSON.", "field": None}
    listed = client.post(URL + "/cases", data="[1, 2]", content_type="application/json")
    assert listed.json()["message"] == "The body must be a JSON object."
    nan = client.post(URL + "/cases", data='{"description": "楼下垃圾很多", "lat": NaN}',
                      content_type="application/json")
    assert nan.json()["code"] == "bad_json"
    xml = client.post(URL + "/cases", data="<case/>", content_type="application/xml")
    assert xml.status_code == 400 and xml.json()["code"] == "unsupported_media_type"


# --- idempotency ---------------------------------------------------------------------------------

def test_same_idempotency_key_twice_makes_one_case(world, categories):
    client = client_for(world.users["resident"])
    body = {"description": DESCRIPTION, "grid": "G01"}
    first = post(client, "/cases", body, **{"Idempotency-Key": "retry-7f3a"})
    again = post(client, "/cases", body, **{"Idempotency-Key": "retry-7f3a"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.get().scope == f"user:{world.users['resident'].pk}"
    assert Event.objects.filter(verb="case.submitted").count() == 1


def test_same_idempotency_key_with_another_body_is_409(world, categories):
    client = client_for(world.users["resident"])
    post(client, "/cases", {"description": DESCRIPTION, "grid": "G01"}, **{"Idempotency-Key": "k1"})
    response = post(client, "/cases", {"description": DESCRIPTION, "grid": "G02"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json() == {"code": "idempotency_conflict", "field": None,
                               "message": "This Idempotency-Key was used for a different request."}
    assert Case.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_account_or_api_key(world, categories):
    key = new_key(world)
    body = {"description": DESCRIPTION, "grid": "G01", "contact_phone": "13912345678"}
    by_key = post(client_for(), "/cases", body, **{"Idempotency-Key": "same", "X-Api-Key": key})
    by_key_again = post(client_for(), "/cases", body, Authorization=f"Bearer {key}", **{"Idempotency-Key": "same"})
    by_worker = post(client_for(world.users["worker"]), "/cases", {**body, "channel": "phone"},
                     **{"Idempotency-Key": "same"})
    assert (by_key.status_code, by_key_again.status_code, by_worker.status_code) == (201, 200, 201)
    assert by_key.json()["number"] == by_key_again.json()["number"] != by_worker.json()["number"]
    api_key = ApiKey.objects.get()
    assert set(IdempotencyKey.objects.values_list("scope", flat=True)) == {
        f"apikey:{api_key.pk}", f"user:{world.users['worker'].pk}"}


def test_malformed_idempotency_key_is_refused(world, categories):
    response = post(client_for(world.users["resident"]), "/cases", {"description": DESCRIPTION, "grid": "G01"},
                    **{"Idempotency-Key": "x" * 201})
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("idempotency_key", "Idempotency-Key")
    assert Case.objects.count() == 0


# --- reading -------------------------------------------------------------------------------------

def test_my_cases_are_mine_only_newest_first_and_paginated(world, categories):
    mine = [resident_case(world, categories) for _ in range(3)]
    other_user = get_user_model().objects.create_user("resident4", password="x")
    world.residents[3].user = other_user
    world.residents[3].save(update_fields=["user"])
    services.case_submit(actor=other_user, intake=services.Intake(
        community=world.community, channel="web", description=DESCRIPTION, reporter=world.residents[3],
        place="grid", grid=world.grids[1]))
    client = client_for(world.users["resident"])
    page1 = client.get(URL + "/cases/mine?page_size=2").json()
    assert (page1["count"], page1["page"], page1["page_size"], page1["pages"]) == (3, 1, 2, 2)
    assert [c["number"] for c in page1["items"]] == [mine[2].number, mine[1].number]
    page2 = client.get(URL + "/cases/mine?page_size=2&page=2").json()
    assert [c["number"] for c in page2["items"]] == [mine[0].number]
    assert all(c["mine"] and c["contact"]["phone"] == "139****0001" for c in page1["items"] + page2["items"])
    assert client.get(URL + "/cases/mine?status=closed").json()["count"] == 0
    bad = client.get(URL + "/cases/mine?page=0")
    assert bad.status_code == 422 and bad.json()["field"] == "page" and bad.json()["code"] == "invalid"


def test_my_cases_need_an_account_not_a_key(world, categories):
    response = client_for().get(URL + "/cases/mine", headers={"X-Api-Key": new_key(world)})
    assert response.status_code == 403
    assert response.json() == {"code": "account_required", "field": None,
                               "message": "This needs a signed-in account, not an API key."}


def test_one_case_is_seen_only_within_scope(world, categories):
    case = resident_case(world, categories)
    other = z_case(world, categories)
    path = f"{URL}/cases/{case.number}"
    for name in ("resident", "worker", "grid1", "secretary", "supervisor"):
        assert client_for(world.users[name]).get(path).status_code == 200, name
    for name in ("z_worker", "grid2", "nobody", "unit_staff", "leader"):
        response = client_for(world.users[name]).get(path)
        assert response.status_code == 404, name
        assert response.json() == {"code": "not_found", "message": "No such case.", "field": None}
    # Another community's case is a 404, exactly like a case that does not exist.
    worker = client_for(world.users["worker"])
    assert worker.get(f"{URL}/cases/{other.number}").json() == worker.get(f"{URL}/cases/Y-19990101-0001").json()
    assert client_for(world.users["z_worker"]).get(f"{URL}/cases/{other.number}").status_code == 200
    assert worker.get(f"{URL}/cases/{case.pk}").status_code == 404  # numbers, never bare ids


def test_key_reads_its_own_communitys_cases_only(world, categories):
    case, other = resident_case(world, categories), z_case(world, categories)
    headers = {"Authorization": f"Bearer {new_key(world)}"}
    seen = client_for().get(f"{URL}/cases/{case.number}", headers=headers)
    assert seen.status_code == 200
    assert seen.json()["contact"] is None and seen.json()["allowed_actions"] == []
    assert client_for().get(f"{URL}/cases/{other.number}", headers=headers).status_code == 404


# --- transitions ---------------------------------------------------------------------------------

def move(user, case, body, **kwargs):
    return post(client_for(user), f"/cases/{case.number}/transitions", body, **kwargs)


def test_the_closed_loop_through_the_api(world, categories):
    u = world.users
    case = resident_case(world, categories)
    accepted = move(u["worker"], case, {"action": "accept", "category": "lift", "urgency": "urgent"})
    assert accepted.status_code == 200
    assert (accepted.json()["status"], accepted.json()["category"]["code"], accepted.json()["urgency"]) == (
        "accepted", "lift", "urgent")
    assert accepted.json()["response_due"] is not None
    assert move(u["worker"], case, {"action": "dispatch"}).json()["unit"] == {
        "id": world.property_company.pk, "name": "安居物业"}
    unit = client_for(u["unit_staff"])
    view = unit.get(f"{URL}/cases/{case.number}").json()
    assert set(view["allowed_actions"]) == {"return", "start", "contact", "resolve"}
    assert move(u["unit_staff"], case, {"action": "start"}).json()["status"] == "in_progress"
    resolved = unit.post(f"{URL}/cases/{case.number}/transitions",
                         data={"action": "resolve", "resolution": "已清理楼道垃圾", "photos": [photo()]})
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolution"] == "已清理楼道垃圾"
    assert [p["stage"] for p in resolved.json()["photos"]] == ["resolution"]
    assert client_for(u["resident"]).get(f"{URL}/cases/{case.number}").json()["allowed_actions"] == ["rate"]
    rated = move(u["resident"], case, {"action": "rate", "rating": "satisfied", "comment": "谢谢"})
    assert (rated.json()["status"], rated.json()["rating"], rated.json()["rating_comment"]) == (
        "closed", "satisfied", "谢谢")
    verbs = list(Event.objects.filter(target_id=str(case.pk), verb__startswith="case.")
                 .order_by("id").values_list("verb", flat=True))
    assert verbs == ["case.submitted", "case.accepted", "case.dispatched", "case.started", "case.resolved", "case.rated"]


def test_unsatisfied_rating_reopens_the_case(world, categories):
    case = resident_case(world, categories)
    for user, body in (("worker", {"action": "accept"}), ("worker", {"action": "dispatch"}),
                       ("unit_staff", {"action": "resolve", "resolution": "已处理"})):
        assert move(world.users[user], case, body).status_code == 200
    reopened = move(world.users["resident"], case, {"action": "rate", "rating": "unsatisfied"}).json()
    assert (reopened["status"], reopened["reopen_count"], reopened["rating"]) == ("dispatched", 1, "unsatisfied")


def test_moves_the_account_may_not_make_are_403(world, categories):
    case = resident_case(world, categories)
    response = move(world.users["resident"], case, {"action": "accept"})
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "message": "You may not do this with this case.",
                               "field": None}
    assert move(world.users["secretary"], case, {"action": "accept"}).status_code == 403
    key = new_key(world)
    keyed = post(client_for(), f"/cases/{case.number}/transitions", {"action": "accept"},
                 Authorization=f"Bearer {key}")
    assert keyed.status_code == 403 and keyed.json()["code"] == "account_required"
    case.refresh_from_db()
    assert case.status == "submitted"


def test_moves_on_cases_out_of_scope_are_404(world, categories):
    case = resident_case(world, categories)
    for name in ("z_worker", "grid2", "unit_staff"):
        assert move(world.users[name], case, {"action": "accept"}).status_code == 404, name


def test_move_the_case_is_not_ready_for_is_409(world, categories):
    case = resident_case(world, categories)
    assert move(world.users["worker"], case, {"action": "accept"}).status_code == 200
    again = move(world.users["worker"], case, {"action": "accept"})
    assert again.status_code == 409
    assert again.json() == {"code": "illegal_transition", "field": None,
                            "message": "This case is accepted; the step “accepted” is not possible now."}
    assert move(world.users["worker"], case, {"action": "resolve", "resolution": "好了"}).status_code == 409


def test_transition_input_errors(world, categories):
    case = resident_case(world, categories)
    worker = world.users["worker"]
    unknown = move(worker, case, {"action": "fly"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "action"
    assert unknown.json()["message"].startswith("Choose one of: accept, reject, dispatch,")
    no_reason = move(worker, case, {"action": "reject"})
    assert no_reason.status_code == 400
    assert no_reason.json() == {"code": "invalid", "field": "reason",
                                "message": "Say why the case is rejected; the resident will read it."}
    bad_category = move(worker, case, {"action": "accept", "category": "nope"})
    assert bad_category.json() == {"code": "category", "message": "Unknown category.", "field": "category"}
    photo_on_accept = client_for(worker).post(f"{URL}/cases/{case.number}/transitions",
                                              data={"action": "accept", "photos": [photo()]})
    assert photo_on_accept.status_code == 400 and photo_on_accept.json()["code"] == "photos"
    case.refresh_from_db()
    assert case.status == "submitted" and CasePhoto.objects.count() == 0


def test_reject_transfer_return_and_merge(world, categories):
    u = world.users
    rejected = resident_case(world, categories)
    body = move(u["worker"], rejected, {"action": "reject", "reason": "不属于社区管辖"}).json()
    assert (body["status"], body["reject_reason"]) == ("rejected", "不属于社区管辖")

    case = resident_case(world, categories)
    move(u["worker"], case, {"action": "accept"})
    move(u["worker"], case, {"action": "dispatch"})
    department = Organisation.objects.create(kind=Organisation.Kind.STREET_DEPARTMENT, name="城市管理科",
                                             street=world.street)
    foreign = move(u["worker"], case, {"action": "transfer", "unit": 999999, "reason": "x"})
    assert foreign.json() == {"code": "unit", "field": "unit",
                              "message": "This unit cannot handle cases of this community."}
    no_unit = move(u["worker"], case, {"action": "transfer", "reason": "城管负责"})
    assert no_unit.json()["code"] == "unit_required"
    moved = move(u["worker"], case, {"action": "transfer", "unit": department.pk, "reason": "城管负责"}).json()
    assert (moved["status"], moved["unit"]["name"]) == ("dispatched", "城市管理科")
    # The property company no longer holds the case: it can no longer see it.
    assert move(u["unit_staff"], case, {"action": "return", "reason": "不归我们"}).status_code == 404
    returned = move(u["worker"], case, {"action": "return", "reason": "派错了"}).json()
    assert (returned["status"], returned["unit"]) == ("accepted", None)

    master, duplicate = resident_case(world, categories), resident_case(world, categories)
    merged = move(u["worker"], duplicate, {"action": "merge", "master": master.number}).json()
    assert (merged["status"], merged["master"]) == ("merged", master.number)
    other = z_case(world, categories)
    bad = move(u["worker"], master, {"action": "merge", "master": other.number})
    assert bad.json() == {"code": "master", "field": "master",
                          "message": "Choose another open case of this community."}


def test_staff_record_a_visit_back_rating(world, categories):
    case = resident_case(world, categories)
    for user, body in (("worker", {"action": "accept"}), ("worker", {"action": "dispatch"}),
                       ("unit_staff", {"action": "contact"}), ("unit_staff", {"action": "resolve", "resolution": "已修好"})):
        assert move(world.users[user], case, body).status_code == 200, body
    body = move(world.users["worker"], case, {"action": "visit_back", "rating": "basic"}).json()
    assert (body["status"], body["rating"]) == ("closed", "basic")
    assert body["first_contact_at"] is not None


# --- rates ---------------------------------------------------------------------------------------

def test_rates_by_grid_for_staff(world, categories):
    first, second = resident_case(world, categories), resident_case(world, categories)
    move(world.users["worker"], first, {"action": "accept"})
    period = f"{timezone.localtime():%Y-%m}"
    response = client_for(world.users["worker"]).get(f"{URL}/rates?group=grid&period={period}")
    assert response.status_code == 200
    body = response.json()
    assert (body["group"], body["period"]) == ("grid", period)
    assert body["total"]["counts"]["submitted"] == 2 and body["total"]["counts"]["accepted"] == 1
    assert body["total"]["rates"] == {"response": 1.0, "resolution": 0.0, "satisfaction": None}
    assert [(r["key"], r["label"], r["counts"]["submitted"]) for r in body["rows"]] == [
        (world.grids[0].pk, "1号院", 2)]
    last_year = client_for(world.users["worker"]).get(
        f"{URL}/rates?group=category&period={timezone.localtime().year - 1}").json()
    assert last_year["total"]["counts"]["submitted"] == 0 and last_year["rows"] == []
    assert second.number  # both counted above


def test_rates_refuse_residents_bad_periods_and_groups(world, categories):
    assert client_for(world.users["resident"]).get(URL + "/rates").status_code == 403
    worker = client_for(world.users["worker"])
    bad_period = worker.get(URL + "/rates?period=2025-13")
    assert bad_period.status_code == 400
    assert bad_period.json() == {"code": "period", "field": "period",
                                 "message": "A period is a year (2025), a month (2025-03) or a quarter (2025-Q1)."}
    assert worker.get(URL + "/rates?period=2025-Q2").status_code == 200
    bad_group = worker.get(URL + "/rates?group=street")
    assert bad_group.status_code == 422 and bad_group.json()["field"] == "group"


def test_key_reads_its_communitys_rates(world, categories):
    resident_case(world, categories)
    z_case(world, categories)
    body = client_for().get(URL + "/rates?group=community", headers={"X-Api-Key": new_key(world)}).json()
    assert [(r["label"], r["counts"]["submitted"]) for r in body["rows"]] == [("Y社区", 1)]


def test_unit_returning_a_case_sees_the_result_once_then_loses_it(world, categories):
    case = resident_case(world, categories)
    move(world.users["worker"], case, {"action": "accept"})
    move(world.users["worker"], case, {"action": "dispatch"})
    returned = move(world.users["unit_staff"], case, {"action": "return", "reason": "不归物业管"})
    assert returned.status_code == 200
    assert (returned.json()["status"], returned.json()["unit"], returned.json()["allowed_actions"]) == (
        "accepted", None, [])
    assert client_for(world.users["unit_staff"]).get(f"{URL}/cases/{case.number}").status_code == 404


def test_oversized_json_body_is_400(world, categories, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client_for(world.users["resident"]), "/cases", {"description": "很" * 2000, "grid": "G01"})
    assert response.status_code == 400
    assert response.json() == {"code": "too_big", "message": "The request is too large.", "field": None}


# --- issue 8: personal data in what keys and outsiders read -------------------------------------

def _identifying_case(world, categories):
    """A phone call whose texts name the reporter and contact, a door, a phone and an ID number."""
    worker = world.users["worker"]
    resident = world.residents[0]
    name = resident.name.reveal()
    case, _ = services.case_submit(actor=worker, intake=services.Intake(
        community=world.community, channel="phone", reporter=resident, contact_name="李四海",
        contact_phone="13700000003", place="grid", grid=world.grids[0], address="7-2-301 门口",
        description=f"我是{name}，住14栋1单元602室，电话13911112222，身份证510104199001011234，楼道垃圾没人清理"))
    services.case_accept(actor=worker, case=case)
    services.case_dispatch(actor=worker, case=Case.objects.get(pk=case.pk))
    services.case_resolve(actor=worker, case=Case.objects.get(pk=case.pk),
                          resolution="已联系李四海，14栋1单元602室门口垃圾已清理")
    return Case.objects.get(pk=case.pk), name


# The door as written ("602室", not "602": three digits alone also turn up in a timestamp's
# microseconds or an id, which made the test fail by chance).
PERSONAL = ("李四海", "14栋", "602室", "7-2-301", "13911112222", "13700000003", "510104199001011234")


def test_a_key_reads_case_text_scrubbed_of_names_numbers_and_doors(world, categories):
    case, name = _identifying_case(world, categories)
    response = client_for().get(f"{URL}/cases/{case.number}", headers={"X-Api-Key": new_key(world)})
    assert response.status_code == 200
    body = response.json()
    assert "楼道垃圾没人清理" in body["description"] and "垃圾已清理" in body["resolution"]
    text = response.content.decode()
    for personal in PERSONAL + (name,):
        assert personal not in text, personal
    # The office still reads what the resident wrote.
    office = client_for(world.users["worker"]).get(f"{URL}/cases/{case.number}").json()
    assert "14栋1单元602室" in office["description"] and office["address"] == "7-2-301 门口"


def test_the_street_supervisor_reads_case_text_scrubbed_through_the_api(world, categories):
    case, name = _identifying_case(world, categories)
    response = client_for(world.users["supervisor"]).get(f"{URL}/cases/{case.number}")
    assert response.status_code == 200
    for personal in PERSONAL + (name,):
        assert personal not in response.content.decode(), personal


# --- issue 8: bodies refused before they are read -----------------------------------------------

class _CountingStream:
    def __init__(self, size):
        self.size, self.read_bytes = size, 0

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n

    def readline(self, n=-1):
        return self.read(n if n and n > 0 else 8192)


def _raw(path, size, **environ):
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.wsgi import WSGIRequest
    from django.test.client import RequestFactory

    stream = _CountingStream(size)
    env = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="POST", CONTENT_LENGTH=str(size),
                                         CONTENT_TYPE="multipart/form-data; boundary=B", HTTP_ACCEPT_LANGUAGE="en",
                                         **environ)
    env["wsgi.input"] = stream
    handler = BaseHandler()
    handler.load_middleware()
    return handler.get_response(WSGIRequest(env)), stream


@pytest.mark.parametrize("who", ["nobody", "key", "session"])
def test_a_300_mb_body_is_refused_before_a_byte_is_read(world, categories, who):
    environ = {}
    if who == "key":
        environ["HTTP_X_API_KEY"] = new_key(world)
    elif who == "session":
        client = client_for(world.users["worker"])
        environ["HTTP_COOKIE"] = f"sessionid={client.cookies['sessionid'].value}"
    response, stream = _raw(URL + "/cases", 300 * 1024 * 1024, **environ)
    assert stream.read_bytes == 0
    # Refused by its size before anyone looks at the credentials (or lack of them).
    assert response.status_code == 400 and json.loads(response.content)["code"] == "too_big"
    assert not Case.objects.exists()


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_too_deep_is_400_in_the_error_format(world, categories, depth):
    body = '{"description": ' + "[" * depth + "]" * depth + "}"
    response = client_for(world.users["resident"]).post(URL + "/cases", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "bad_json", "message": "The body is not valid JSON.", "field": None}


def test_the_openapi_schema_states_what_the_server_enforces(db):
    document = json.loads(client_for().get(URL + "/openapi.json").content)
    create = document["paths"][URL + "/cases"]["post"]["requestBody"]["content"]
    for kind in ("application/json", "multipart/form-data"):
        schema = create[kind]["schema"]
        assert (schema["properties"]["description"]["minLength"],
                schema["properties"]["description"]["maxLength"]) == (5, 4000)
        assert schema["dependentRequired"] == {"lat": ["lon"], "lon": ["lat"]}
        rules = {json.dumps(rule["if"], sort_keys=True): rule["then"] for rule in schema["allOf"]}
        assert rules['{"properties": {"place": {"const": "point"}}, "required": ["place"]}'] == {
            "required": ["lat", "lon"]}
        assert "required" in schema["properties"]["contact_phone"]["description"].lower()
    move = document["paths"][URL + "/cases/{number}/transitions"]["post"]["requestBody"]["content"]
    needs = {rule["if"]["properties"]["action"]["const"]: rule["then"]["required"]
             for rule in move["application/json"]["schema"]["allOf"]}
    assert needs == {"reject": ["reason"], "transfer": ["unit", "reason"], "return": ["reason"],
                     "resolve": ["resolution"], "rate": ["rating"], "visit_back": ["rating"], "merge": ["master"],
                     "close_unresolved": ["kind", "explanation"]}
    assert move["multipart/form-data"]["schema"]["properties"]["photos"]["maxItems"] == 4


def test_every_router_refuses_an_oversized_body_before_authentication_reads_it(world, categories):
    """A router of another app (the test parcels app, session auth with its CSRF check, which
    reads the form) gets the same cap: the API wraps every view."""
    client = client_for(world.users["resident"])
    response, stream = _raw(URL + "/parcels/P1/collect", 300 * 1024 * 1024,
                            HTTP_COOKIE=f"sessionid={client.cookies['sessionid'].value}; csrftoken={'a' * 32}")
    assert stream.read_bytes == 0
    assert response.status_code == 400
    assert json.loads(response.content) == {"code": "too_big", "message": "The request is too large.",
                                            "field": None}
