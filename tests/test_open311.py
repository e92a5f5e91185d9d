"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML, keys, rate limits,
errors in the spec's format, jurisdictions, public fields only, and the PyPI `georeport`
client reading from a live server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import io
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from linli.cases import apikeys, open311
from linli.cases.apikeys import apikey_create, apikey_hit, apikey_revoke, authenticate
from linli.cases.models import ApiKey, ApiKeyUsage, Case, CaseNote, Category, IdempotencyKey, TimeLimit
from linli.cases.services import Intake, case_accept, case_dispatch, case_merge, case_reject, case_resolve, case_submit
from linli.community.models import Community, District, Street
from linli.core.models import Event

BASE = "/open311/v2"
PHONE = "13912345678"
UTC = dt.timezone.utc
# Two courtyards side by side; the community has no boundary of its own beyond them.
G01 = [[30.700, 104.050], [30.700, 104.060], [30.710, 104.060], [30.710, 104.050]]
G02 = [[30.700, 104.060], [30.700, 104.070], [30.710, 104.070], [30.710, 104.060]]
INSIDE_G01 = {"lat": "30.705", "long": "104.055"}
OUTSIDE = {"lat": "31.5", "long": "105.5"}


class Setup:
    pass


@pytest.fixture
def o311(world):
    y, z = world.community, world.other_community
    g1, g2 = world.grids
    for grid, ring in ((g1, G01), (g2, G02)):
        grid.boundary = ring
        grid.latitude = (ring[0][0] + ring[2][0]) / 2
        grid.longitude = (ring[0][1] + ring[2][1]) / 2
        grid.save()
    s = Setup()
    s.world = world
    s.property = Category.objects.create(
        community=y, code="property", name_zh="物业管理", name_en="Property management",
        description="Lifts, doors, stair lights", keywords="物业\n门禁\n", default_unit=world.property_company,
        position=10)
    s.lift = Category.objects.create(
        community=y, parent=s.property, code="property-lift", name_zh="电梯", name_en="Lifts",
        keywords="电梯\n困人", default_unit=world.property_company, position=1)
    s.noise = Category.objects.create(community=y, code="noise", name_zh="噪音扰民", name_en="Noise",
                                      keywords="噪音", position=20)
    s.retired = Category.objects.create(community=y, code="retired", name_zh="旧类", name_en="Old", active=False,
                                        position=30)
    s.z_noise = Category.objects.create(community=z, code="noise", name_zh="Z噪音", name_en="Z noise", position=1)
    TimeLimit.objects.create(category=s.property, urgency="normal", response_amount=2, response_unit="hours",
                             resolve_amount=5, resolve_unit="working_days")
    TimeLimit.objects.create(category=s.property, urgency="urgent", response_amount=1, response_unit="hours",
                             resolve_amount=24, resolve_unit="hours")
    TimeLimit.objects.create(category=s.lift, urgency="normal", response_amount=1, response_unit="hours",
                             resolve_amount=2, resolve_unit="working_days")
    TimeLimit.objects.create(category=s.noise, urgency="normal", response_amount=2, response_unit="hours",
                             resolve_amount=3, resolve_unit="working_days")
    s.key_row, s.key = apikey_create(actor=None, community=y, name="12345 hotline", rate_per_minute=600)
    s.z_key_row, s.z_key = apikey_create(actor=None, community=z, name="Z app", rate_per_minute=600)
    s.client = Client(headers={"Accept-Language": "en"})
    return s


def post(s, data, fmt="json", headers=None, key="default"):
    body = dict(data)
    if key == "default":
        body["api_key"] = s.key
    elif key is not None:
        body["api_key"] = key
    return s.client.post(f"{BASE}/requests.{fmt}", urlencode(body, doseq=True),
                         content_type="application/x-www-form-urlencoded; charset=utf-8", headers=headers or {})


def good(**extra):
    data = {"service_code": "property-lift", **INSIDE_G01, "description": "3栋电梯困人，请尽快处理",
            "first_name": "三", "last_name": "张", "phone": PHONE, "email": "zhang@example.org", "public": "true",
            "attribute[urgency]": "urgent", "attribute[floor]": "3"}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def xml_root(response, tag):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(response.content)
    assert root.tag == tag
    return root


def xml_dicts(root):
    return [{child.tag: child.text for child in item} for item in root]


def errors(response, fmt):
    """The spec's error list, read from either format."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    root = xml_root(response, "errors")
    assert [item.tag for item in root] == ["error"] * len(root)
    return [{"code": int(item.findtext("code")), "description": item.findtext("description")} for item in root]


def submit(s, description="楼下噪音很大，每天晚上", category=None, public=True, **extra):
    """A case raised by phone; published (the caller agreed) unless ``public=False``."""
    case, _ = case_submit(actor=None, intake=Intake(
        community=s.world.community, channel=Case.Channel.PHONE, description=description,
        category=category or s.noise, contact_phone="13700000001", **extra))
    Case.objects.filter(pk=case.pk).update(public=public)
    case.public = public
    return case


@pytest.fixture(autouse=True)
def _fresh_feed_cache():
    """The feed is cached for a few seconds per query: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


# ---------------------------------------------------------------- discovery ---


def test_discovery_names_the_georeport_v2_endpoint_in_both_formats(o311):
    response = o311.client.get(f"{BASE}/discovery.json")
    assert response.status_code == 200
    body = response.json()
    assert body["changeset"] == open311.CHANGESET
    assert body["endpoints"] == [{
        "specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://testserver/open311/v2/",
        "changeset": open311.CHANGESET, "type": "production", "formats": ["text/xml", "application/json"]}]
    assert "linli apikey create" in body["key_service"]
    root = xml_root(o311.client.get(f"{BASE}/discovery.xml"), "discovery")
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]


# ----------------------------------------------------------------- services ---


def test_services_are_the_communitys_active_categories_with_string_codes(o311):
    response = o311.client.get(f"{BASE}/services.json", {"jurisdiction_id": "Y"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == [
        {"service_code": "property-lift", "service_name": "Lifts", "description": None, "metadata": True,
         "type": "realtime", "keywords": "电梯, 困人", "group": "Property management"},
        {"service_code": "property", "service_name": "Property management",
         "description": "Lifts, doors, stair lights", "metadata": True, "type": "realtime",
         "keywords": "物业, 门禁", "group": "Property management"},
        {"service_code": "noise", "service_name": "Noise", "description": None, "metadata": True,
         "type": "realtime", "keywords": "噪音", "group": "Noise"},
    ]


def test_services_in_xml_carry_the_same_fields(o311):
    root = xml_root(o311.client.get(f"{BASE}/services.xml", {"jurisdiction_id": "Y"}), "services")
    assert [item.tag for item in root] == ["service"] * 3
    assert xml_dicts(root)[2] == {"service_code": "noise", "service_name": "Noise", "description": None,
                                  "metadata": "true", "type": "realtime", "keywords": "噪音", "group": "Noise"}


def test_service_names_follow_the_accept_language(o311):
    response = Client(headers={"Accept-Language": "zh-hans"}).get(f"{BASE}/services.json", {"jurisdiction_id": "Y"})
    assert [s["service_name"] for s in response.json()] == ["电梯", "物业管理", "噪音扰民"]


def test_service_definition_asks_urgency_and_floor_for_property_categories(o311):
    response = o311.client.get(f"{BASE}/services/property-lift.json", {"jurisdiction_id": "Y"})
    assert response.status_code == 200
    assert response.json() == {"service_code": "property-lift", "attributes": [
        {"variable": True, "code": "urgency", "datatype": "singlevaluelist", "required": False,
         "datatype_description": None, "order": 1, "description": "How urgent is it?",
         "values": [{"key": "normal", "name": "normal"}, {"key": "urgent", "name": "urgent"}]},
        {"variable": True, "code": "floor", "datatype": "string", "required": False,
         "datatype_description": "A floor number, e.g. 3 or B1.", "order": 2,
         "description": "Which floor is it on?", "values": []},
        CONTACT_NOTICE,
    ]}
    root = xml_root(o311.client.get(f"{BASE}/services/property-lift.xml", {"jurisdiction_id": "Y"}),
                    "service_definition")
    assert root.findtext("service_code") == "property-lift"
    attributes = root.find("attributes")
    assert [a.findtext("code") for a in attributes] == ["urgency", "floor", "contact"]
    assert [(v.findtext("key"), v.findtext("name")) for v in attributes[0].find("values")] == [
        ("normal", "normal"), ("urgent", "urgent")]
    assert attributes[0].findtext("variable") == "true"


# Issue 8 B f: every definition states what each request needs: a phone or an e-mail address.
CONTACT_NOTICE = {
    "variable": False, "code": "contact", "datatype": "string", "required": False, "datatype_description": None,
    "order": 90, "values": [],
    "description": "A way to reply is required: a phone number (phone) or an e-mail address (email). The report "
                   "is published on the public feed only with public=true, and then without names, phone numbers "
                   "or doors."}


def test_a_service_without_questions_states_only_the_contact_requirement(o311):
    response = o311.client.get(f"{BASE}/services/noise.json", {"jurisdiction_id": "Y"})
    assert response.json() == {"service_code": "noise", "attributes": [CONTACT_NOTICE]}


# --------------------------------------------------------------------- POST ---


def test_posting_a_request_raises_an_open311_case_in_the_keys_community(o311):
    response = post(o311, good(media_url="https://photos.example.org/lift.jpg"))
    assert response.status_code == 200
    case = Case.objects.get()
    assert response.json() == [{
        "service_request_id": case.number,
        "service_notice": "First reply within 1 hour; resolved within 24 hours.",
        "account_id": None}]
    assert case.community == o311.world.community
    assert case.channel == "open311"
    assert case.category == o311.lift and case.urgency == "urgent"
    assert case.place == "point" and case.grid == o311.world.grids[0]
    assert (case.latitude, case.longitude) == (30.705, 104.055)
    assert case.address == "floor 3"
    assert case.contact_phone.reveal() == PHONE
    assert case.contact_name.reveal() == "张三"
    assert case.submitted_by is None and case.reporter is None
    assert [n.text for n in CaseNote.objects.filter(case=case)] == [
        "Open311 media_url: https://photos.example.org/lift.jpg"]
    event = Event.objects.get(verb="case.submitted")
    assert event.actor_label == f"apikey:{o311.key_row.prefix}"


def test_posting_in_xml_answers_in_xml(o311):
    response = post(o311, good(**{"attribute[urgency]": None, "attribute[floor]": None}), fmt="xml")
    assert response.status_code == 200
    root = xml_root(response, "service_requests")
    assert xml_dicts(root) == [{"service_request_id": Case.objects.get().number,
                                "service_notice": "First reply within 1 hour; resolved within 2 working days.",
                                "account_id": None}]


def test_an_address_string_is_enough_and_names_the_courtyard(o311):
    response = post(o311, good(lat=None, long=None, address_string="2号院 1栋 东门", **{"attribute[floor]": None}))
    assert response.status_code == 200
    case = Case.objects.get()
    assert (case.place, case.grid, case.latitude) == ("grid", o311.world.grids[1], None)
    assert case.address == "2号院 1栋 东门"


def test_a_retry_with_the_same_idempotency_key_returns_the_same_request_and_one_case(o311):
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = post(o311, good(media_url="https://photos.example.org/a.jpg"), headers=headers)
    again = post(o311, good(media_url="https://photos.example.org/a.jpg"), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert Case.objects.count() == 1
    assert CaseNote.objects.count() == 1
    assert IdempotencyKey.objects.get().scope == f"apikey:{o311.key_row.pk}"
    other = post(o311, good(description="另一件事：电梯门关不上"), headers=headers)
    assert other.status_code == 400
    assert errors(other, "json") == [{"code": 400, "description":
                                      "This Idempotency-Key was used for a different request."}]
    assert Case.objects.count() == 1


def test_the_same_idempotency_key_from_another_api_key_is_another_request(o311):
    _row, second_key = apikey_create(actor=None, community=o311.world.community, name="second app")
    headers = {"Idempotency-Key": "same-key"}
    a = post(o311, good(), headers=headers).json()[0]["service_request_id"]
    b = post(o311, good(), headers=headers, key=second_key).json()[0]["service_request_id"]
    assert a != b and Case.objects.count() == 2


def test_without_idempotency_key_each_post_is_a_new_case(o311):
    post(o311, good())
    post(o311, good())
    assert Case.objects.count() == 2


# ------------------------------------------------------------------- tokens ---


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_is_the_request_id_itself(o311, fmt):
    number = post(o311, good()).json()[0]["service_request_id"]
    response = o311.client.get(f"{BASE}/tokens/{number}.{fmt}", {"jurisdiction_id": "Y"})
    assert response.status_code == 200
    body = response.json() if fmt == "json" else xml_dicts(xml_root(response, "service_requests"))
    assert body == [{"service_request_id": number, "token": number}]


# ---------------------------------------------------------------- GET reads ---


def test_a_request_is_shown_as_an_array_of_one_with_public_fields_only(o311):
    number = post(o311, good(description="电梯困人，联系我13912345678")).json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    Case.objects.filter(pk=case.pk).update(created_at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
                                           updated_at=dt.datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    response = o311.client.get(f"{BASE}/requests/{number}.json", {"jurisdiction_id": "Y"})
    assert response.status_code == 200
    assert response.json() == [{
        "service_request_id": number, "status": "open", "status_notes": None, "service_name": "Lifts",
        "service_code": "property-lift", "description": "电梯困人，联系我139****5678",
        "agency_responsible": None,
        "service_notice": "First reply within 1 hour; resolved within 24 hours.",
        "requested_datetime": "2026-03-01T10:00:00+08:00", "updated_datetime": "2026-03-01T10:30:00+08:00",
        "expected_datetime": None, "address": "floor 3", "lat": 30.705, "long": 104.055, "media_url": None,
    }]
    root = xml_root(o311.client.get(f"{BASE}/requests/{number}.xml", {"jurisdiction_id": "Y"}), "service_requests")
    assert [item.tag for item in root] == ["request"]
    assert xml_dicts(root)[0]["requested_datetime"] == "2026-03-01T10:00:00+08:00"
    assert xml_dicts(root)[0]["lat"] == "30.705"


def test_handling_shows_the_unit_the_due_time_and_the_result(o311):
    worker = o311.world.users["worker"]
    case = submit(o311, category=o311.property, latitude=30.705, longitude=104.055, place=Case.Place.POINT)
    case = case_accept(actor=worker, case=case)
    case = case_dispatch(actor=worker, case=case)
    case = case_resolve(actor=worker, case=case, resolution="已修好，住户王先生13811112222确认")
    shown = o311.client.get(f"{BASE}/requests/{case.number}.json", {"jurisdiction_id": "Y"}).json()[0]
    assert shown["status"] == "open"  # resolved, awaiting the resident's rating
    assert shown["agency_responsible"] == "安居物业"
    assert shown["status_notes"] == "已修好，住户王先生138****2222确认"
    assert shown["expected_datetime"] == timezone.localtime(case.resolve_due).isoformat(timespec="seconds")
    assert shown["expected_datetime"].endswith("+08:00")


def test_rejected_and_merged_cases_are_closed_with_a_note(o311):
    worker = o311.world.users["worker"]
    rejected = case_reject(actor=worker, case=submit(o311), reason="不属于社区受理范围")
    master = submit(o311, description="楼下噪音很大，第一次反映")
    second = submit(o311, description="楼下噪音很大，第二次反映")
    merged = case_merge(actor=worker, case=second, master=master)
    body = o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Y", "status": "closed"}).json()
    by_id = {r["service_request_id"]: r for r in body}
    assert set(by_id) == {rejected.number, merged.number}
    assert by_id[rejected.number]["status_notes"] == "不属于社区受理范围"
    assert by_id[merged.number]["status_notes"] == f"Duplicate of {master.number}."
    assert by_id[rejected.number]["updated_datetime"] == timezone.localtime(
        Case.objects.get(pk=rejected.pk).closed_at).isoformat(timespec="seconds")
    open_ids = [r["service_request_id"] for r in
                o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Y", "status": "open"}).json()]
    assert open_ids == [master.number]


def test_a_case_closed_as_not_resolvable_is_closed_with_why(o311):
    from linli.cases.services import case_close_unresolved

    worker = o311.world.users["worker"]
    case = case_dispatch(actor=worker, case=case_accept(actor=worker, case=submit(o311, category=o311.property)))
    case_close_unresolved(actor=worker, case=case, kind=Case.Unresolved.OWNERS,
                          explanation="需业主表决，已电话告知13811112222")
    shown = o311.client.get(f"{BASE}/requests/{case.number}.json", {"jurisdiction_id": "Y"}).json()[0]
    assert (shown["status"], shown["status_notes"]) == ("closed", "需业主表决，已电话告知138****2222")


def test_a_home_case_shows_its_courtyard_never_the_home(o311):
    world = o311.world
    home = world.households[0]
    case, _ = case_submit(actor=None, intake=Intake(
        community=world.community, channel=Case.Channel.PHONE, description="家里水管漏水了",
        category=o311.property,
        contact_phone="13700000002", place=Case.Place.HOME, household=home, address="幸福巷88号 3栋"))
    Case.objects.filter(pk=case.pk).update(public=True)
    shown = o311.client.get(f"{BASE}/requests/{case.number}.json", {"jurisdiction_id": "Y"}).json()[0]
    assert home.grid_id == world.grids[0].pk
    assert (shown["address"], shown["lat"], shown["long"]) == ("1号院", 30.705, 104.055)
    assert "幸福巷" not in response_text(o311, case.number)


def response_text(s, number):
    return "".join(s.client.get(f"{BASE}/requests/{number}.{fmt}", {"jurisdiction_id": "Y"}).content.decode()
                   for fmt in ("json", "xml"))


def test_requests_filter_by_ids_code_status_and_dates(o311):
    noise = submit(o311)
    lift = submit(o311, description="电梯坏了，停在三楼", category=o311.lift)
    old = submit(o311, description="很久以前的噪音问题")
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=100))

    def ids(**params):
        response = o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Y", **params})
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [lift.number, noise.number]  # the last 90 days, newest first
    assert ids(service_code="noise") == [noise.number]
    assert ids(service_code="noise,property-lift") == [lift.number, noise.number]
    assert ids(status="closed") == []
    assert ids(status="open,closed") == [lift.number, noise.number]
    since = (timezone.now() - dt.timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (timezone.now() - dt.timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=since, end_date=until) == [old.number]
    # service_request_id overrides every other argument, dates included.
    assert sorted(ids(service_request_id=f"{old.number}, {noise.number}", status="closed")) == sorted(
        [old.number, noise.number])
    assert ids(service_request_id="Y-19990101-0001") == []


def test_requests_come_a_page_at_a_time(o311, monkeypatch):
    """Issue 8 A3: the feed is paged (it used to answer up to 1,000 rows at once)."""
    monkeypatch.setattr(open311, "PAGE_SIZE", 2)
    numbers = [submit(o311, description=f"噪音问题第{i}次").number for i in range(3)]

    def page(**params):
        body = o311.client.get(f"{BASE}/requests.xml", {"jurisdiction_id": "Y", **params})
        return [item.findtext("service_request_id") for item in xml_root(body, "service_requests")]

    assert page() == numbers[:0:-1]
    assert page(page="2") == numbers[:1]
    assert page(page="3") == []
    assert page(page_size="3") == numbers[::-1]
    for wrong in ({"page": "0"}, {"page_size": "201"}, {"page_size": "x"}):
        response = o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Y", **wrong})
        assert response.status_code == 400
        assert errors(response, "json")[0]["code"] == 400


def test_personal_data_from_a_post_never_appears_in_any_read(o311):
    number = post(o311, good(email="zhang.san@example.org")).json()[0]["service_request_id"]
    texts = []
    for fmt in ("json", "xml"):
        for path, params in ((f"requests.{fmt}", {}), (f"requests/{number}.{fmt}", {}),
                             (f"tokens/{number}.{fmt}", {}), (f"requests.{fmt}", {"service_request_id": number})):
            response = o311.client.get(f"{BASE}/{path}", {"jurisdiction_id": "Y", **params})
            assert response.status_code == 200
            texts.append(response.content.decode())
    assert all(number in text for text in texts)
    for personal in (PHONE, "5678", "张三", "zhang.san", "example.org"):
        assert not any(personal in text for text in texts), personal


# ------------------------------------------------------------- jurisdictions ---


def test_jurisdiction_id_selects_the_community(o311):
    y = o311.client.get(f"{BASE}/services.json", {"jurisdiction_id": "Y"}).json()
    z = o311.client.get(f"{BASE}/services.json", {"jurisdiction_id": "Z"}).json()
    assert [s["service_name"] for s in y] == ["Lifts", "Property management", "Noise"]
    assert [s["service_name"] for s in z] == ["Z noise"]
    number = post(o311, good()).json()[0]["service_request_id"]
    assert o311.client.get(f"{BASE}/requests/{number}.json", {"jurisdiction_id": "Z"}).status_code == 404
    assert o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Z"}).json() == []


def test_a_key_posts_into_its_own_community(o311):
    response = post(o311, {"service_code": "noise", **INSIDE_G01, "description": "Z社区的噪音问题",
                           "phone": PHONE}, key=o311.z_key)
    # Z's grids have no boundary: the point is outside Z.
    assert errors(response, "json") == [{"code": 400, "description": "lat: This point is outside the community."}]
    ok = post(o311, {"service_code": "noise", "address_string": "Z1号院", "description": "Z社区的噪音问题",
                     "phone": PHONE, "jurisdiction_id": "Z"}, key=o311.z_key)
    assert ok.status_code == 200
    assert Case.objects.get().community == o311.world.other_community


@pytest.mark.django_db
def test_jurisdiction_id_is_optional_when_the_installation_serves_one_community():
    district = District.objects.create(code="510107", name="武侯区")
    street = Street.objects.create(district=district, code="510107001", name="某街道")
    only = Community.objects.create(street=street, code="SOLO", name="独社区")
    Category.objects.create(community=only, code="noise", name_zh="噪音", name_en="Noise")
    client = Client(headers={"Accept-Language": "en"})
    assert [s["service_code"] for s in client.get(f"{BASE}/services.json").json()] == ["noise"]
    assert client.get(f"{BASE}/requests.json").json() == []
    assert [s["service_code"] for s in client.get(f"{BASE}/services.json", {"jurisdiction_id": ""}).json()] == [
        "noise"]


# ------------------------------------------------------------------- errors ---

ERROR_CASES = [
    # (name, how, status, description)
    ("missing service_code", lambda s, f: post(s, good(service_code=None), f), 400,
     "service_code was not provided."),
    ("unknown service_code", lambda s, f: post(s, good(service_code="potholes"), f), 400,
     "service_code potholes was not found."),
    ("inactive service_code", lambda s, f: post(s, good(service_code="retired"), f), 400,
     "service_code retired was not found."),
    ("description too long", lambda s, f: post(s, good(description="长" * 4001), f), 400,
     "description: at most 4000 characters."),
    ("description too short", lambda s, f: post(s, good(description="坏"), f), 400,
     "description: Describe the problem in a few words."),
    ("place outside", lambda s, f: post(s, good(**OUTSIDE), f), 400,
     "lat: This point is outside the community."),
    ("no place", lambda s, f: post(s, good(lat=None, long=None), f), 400,
     "Send the place: lat and long, or address_string."),
    ("address_id only", lambda s, f: post(s, good(lat=None, long=None, address_id="1"), f), 400,
     "address_id is not supported here: send lat and long, or address_string."),
    ("lat without long", lambda s, f: post(s, good(long=None), f), 400, "lat and long: send both, or neither."),
    ("lat not a number", lambda s, f: post(s, good(lat="nan"), f), 400, "lat: send a number in WGS84 degrees."),
    ("no phone or e-mail", lambda s, f: post(s, good(phone=None, email=None), f), 400,
     "Send a phone number or an e-mail address, so that the community can reply."),
    ("bad phone", lambda s, f: post(s, good(phone="12345"), f), 400,
     "phone: A mobile number has 11 digits and starts with 13 to 19."),
    ("bad attribute value", lambda s, f: post(s, good(**{"attribute[urgency]": "asap"}), f), 400,
     "attribute[urgency]: choose one of normal, urgent."),
    ("attribute not offered", lambda s, f: post(s, good(service_code="noise", **{"attribute[floor]": None,
                                                                                 "attribute[urgency]": None,
                                                                                 "attribute[colour]": "red"}), f),
     400, "attribute[colour] is not part of service noise."),
    ("floor too long", lambda s, f: post(s, good(**{"attribute[floor]": "12345678901"}), f), 400,
     "attribute[floor]: at most 10 characters on one line."),
    ("bad media_url", lambda s, f: post(s, good(media_url="javascript:alert(1)"), f), 400,
     "media_url: send one http or https address."),
    ("idempotency key too long", lambda s, f: post(s, good(), f, headers={"Idempotency-Key": "k" * 201}), 400,
     "Idempotency-Key: at most 200 characters."),
    ("jurisdiction missing", lambda s, f: s.client.get(f"{BASE}/services.{f}"), 400,
     "jurisdiction_id was not provided: this installation serves several communities."),
    ("bad start_date", lambda s, f: s.client.get(f"{BASE}/requests.{f}", {"jurisdiction_id": "Y",
                                                                         "start_date": "yesterday"}), 400,
     "start_date: use the w3 format, e.g. 2026-01-01T00:00:00+08:00."),
    ("span too long", lambda s, f: s.client.get(f"{BASE}/requests.{f}", {
        "jurisdiction_id": "Y", "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}), 400,
     "start_date and end_date may be at most 90 days apart."),
    ("bad status", lambda s, f: s.client.get(f"{BASE}/requests.{f}", {"jurisdiction_id": "Y",
                                                                     "status": "pending"}), 400,
     "status: use open, closed or both, separated by a comma."),
    ("unknown service_code filter", lambda s, f: s.client.get(f"{BASE}/requests.{f}", {
        "jurisdiction_id": "Y", "service_code": "potholes"}), 400, "service_code potholes was not found."),
    ("missing api_key", lambda s, f: post(s, good(), f, key=None), 403,
     "api_key was not provided: posting a request needs one."),
    ("wrong api_key", lambda s, f: post(s, good(), f, key=s.key[:-1] + ("A" if s.key[-1] != "A" else "B")), 403,
     "Invalid or revoked api_key."),
    ("malformed api_key", lambda s, f: post(s, good(), f, key="xyz"), 403, "Invalid or revoked api_key."),
    ("revoked api_key", lambda s, f: (apikey_revoke(actor=None, api_key=s.key_row), post(s, good(), f))[1], 403,
     "Invalid or revoked api_key."),
    ("api_key of another jurisdiction", lambda s, f: post(s, good(jurisdiction_id="Z"), f), 403,
     "This api_key is not valid for jurisdiction_id Z."),
    ("unknown request id", lambda s, f: s.client.get(f"{BASE}/requests/Y-19990101-0001.{f}",
                                                    {"jurisdiction_id": "Y"}), 404,
     "service_request_id Y-19990101-0001 was not found."),
    ("unknown token", lambda s, f: s.client.get(f"{BASE}/tokens/nope.{f}", {"jurisdiction_id": "Y"}), 404,
     "service_request_id nope was not found."),
    ("unknown service definition", lambda s, f: s.client.get(f"{BASE}/services/potholes.{f}",
                                                            {"jurisdiction_id": "Y"}), 404,
     "service_code potholes was not found."),
    ("unknown jurisdiction", lambda s, f: s.client.get(f"{BASE}/services.{f}", {"jurisdiction_id": "sfgov.org"}),
     404, "jurisdiction_id sfgov.org was not found."),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("name, how, status, description", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_come_in_the_spec_format_and_change_nothing(o311, fmt, name, how, status, description):
    events_before = Event.objects.count()
    response = how(o311, fmt)
    assert response.status_code == status
    assert errors(response, fmt) == [{"code": status, "description": description}]
    assert Case.objects.count() == 0
    assert CaseNote.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0
    assert Event.objects.exclude(verb="apikey.revoked").count() == events_before


@pytest.mark.parametrize("path", ["services.csv", "services", "requests/Y-1.html", "", "nothing/here.json"])
def test_unknown_formats_and_resources_are_404_in_the_spec_format(o311, path):
    response = o311.client.get(f"{BASE}/{path}", {"jurisdiction_id": "Y"})
    assert response.status_code == 404
    assert [e["code"] for e in errors(response, "xml")] == [404]


def test_a_wrong_method_is_refused_in_the_spec_format(o311):
    response = o311.client.post(f"{BASE}/services.json", {"jurisdiction_id": "Y"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert errors(response, "json") == [{"code": 405, "description": "Use GET here."}]


def test_only_the_api_is_csrf_exempt(o311):
    strict = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    response = strict.post(f"{BASE}/requests.json", urlencode({**good(), "api_key": o311.key}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert strict.post("/accounts/login/", {"username": "admin", "password": "x"}).status_code == 403


# ---------------------------------------------------------------- rate limit ---


def test_a_keys_rate_limit_answers_429_in_the_spec_format(o311):
    row, key = apikey_create(actor=None, community=o311.world.community, name="tight", rate_per_minute=3)
    statuses = [post(o311, good(description=f"电梯困人第{i}次"), key=key).status_code for i in range(3)]
    assert statuses == [200, 200, 200]
    for fmt in ("json", "xml"):
        refused = post(o311, good(description="电梯困人第四次"), fmt=fmt, key=key)
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        [error] = errors(refused, fmt)
        assert error["code"] == 429
        assert error["description"].startswith("Too many requests with this api_key: at most 3 a minute.")
    assert Case.objects.count() == 3
    # A read that presents the key counts too; other keys and keyless reads are not affected.
    assert o311.client.get(f"{BASE}/services.json", {"api_key": key}).status_code == 429
    assert post(o311, good(description="另一个系统的请求")).status_code == 200
    assert o311.client.get(f"{BASE}/services.json", {"jurisdiction_id": "Y"}).status_code == 200
    assert ApiKeyUsage.objects.get(api_key=row).count == 6


def test_the_rate_limit_window_is_one_fixed_minute_counted_in_the_database(o311):
    row, _key = apikey_create(actor=None, community=o311.world.community, name="tight", rate_per_minute=2)
    minute = dt.datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert apikey_hit(row, now=minute + dt.timedelta(seconds=1)) == 1
    assert apikey_hit(row, now=minute + dt.timedelta(seconds=59)) == 0
    with pytest.raises(apikeys.RateLimited) as refused:
        apikey_hit(row, now=minute + dt.timedelta(seconds=59, microseconds=500))
    assert refused.value.retry_after == 1
    # The next minute starts afresh, and the finished window is forgotten.
    assert apikey_hit(row, now=minute + dt.timedelta(minutes=1)) == 1
    assert list(ApiKeyUsage.objects.filter(api_key=row).values_list("window_start", "count")) == [
        (minute + dt.timedelta(minutes=1), 1)]
    row.refresh_from_db()
    assert row.last_used_at == minute + dt.timedelta(minutes=1)


# ---------------------------------------------------------------------- keys ---


def test_a_key_is_stored_only_as_its_hash(o311):
    row, key = o311.key_row, o311.key
    assert key.startswith(row.prefix + "_") and len(row.prefix) == 11 and row.prefix.startswith("lk_")
    assert len(key) == 44
    assert key not in row.key_hash and row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert authenticate(key) == row
    assert authenticate(key + "x") is None
    assert authenticate(row.prefix + "_" + "A" * 32) is None
    assert authenticate(None) is None
    apikey_revoke(actor=None, api_key=row)
    assert authenticate(key) is None
    assert list(Event.objects.filter(verb__startswith="apikey.", target_id=str(row.pk))
                .order_by("id").values_list("verb", flat=True)) == ["apikey.created", "apikey.revoked"]


def test_apikey_create_prints_the_key_as_the_last_word_and_it_works(o311):
    out = io.StringIO()
    call_command("apikey", "create", "区 12345 热线", "--community", "Y", "--rate", "3", stdout=out)
    key = out.getvalue().split()[-1]
    row = authenticate(key)
    assert (row.name, row.community.code, row.rate_per_minute) == ("区 12345 热线", "Y", 3)
    assert post(o311, good(), key=key).status_code == 200

    listing = io.StringIO()
    call_command("apikey", "list", "--community", "Y", stdout=listing)
    assert row.prefix in listing.getvalue() and "区 12345 热线" in listing.getvalue()
    assert key not in listing.getvalue() and key[12:] not in listing.getvalue()
    assert o311.z_key_row.prefix not in listing.getvalue()

    call_command("apikey", "revoke", row.prefix, stdout=io.StringIO())
    assert authenticate(key) is None
    assert post(o311, good(), key=key).status_code == 403


@pytest.mark.parametrize("args, message", [
    (["create", "feed", "--community", "NOPE"], "Unknown community NOPE."),
    (["create", "feed", "--community", "Y", "--rate", "0"],
     "The rate is a whole number of requests per minute, from 1 to 100000."),
    (["create", "feed", "--community", "Y", "--rate", "fast"],
     "The rate is a whole number of requests per minute, from 1 to 100000."),
    (["create", "  ", "--community", "Y"], "Give the key a name, e.g. the system that will use it."),
    (["revoke", "lk_00000000"], "No API key has the prefix lk_00000000."),
    (["list", "--community", "NOPE"], "Unknown community NOPE."),
])
def test_apikey_command_errors_are_clear_and_change_nothing(o311, args, message):
    from django.utils import translation

    before = ApiKey.objects.count()
    with translation.override("en"), pytest.raises(CommandError) as failed:
        call_command("apikey", *args, stdout=io.StringIO())
    assert str(failed.value) == message
    assert ApiKey.objects.count() == before


# ------------------------------------------------------- the georeport client ---


@pytest.fixture
def live(o311, live_server, transactional_db, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "*")
    o311.live_url = live_server.url + BASE
    return o311


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_definitions_and_requests(live, fmt):
    from georeport import GeoReport

    number = post(live, good()).json()[0]["service_request_id"]
    second = post(live, good(service_code="noise", description="广场舞噪音太大",
                             **{"attribute[urgency]": None, "attribute[floor]": None})).json()[0]["service_request_id"]
    client = GeoReport(live.live_url, jurisdiction="Y", output_format=fmt)

    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["property-lift", "property", "noise"]
    definition = client.get_service_definition("property-lift")
    assert definition["service_code"] == "property-lift"
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert [a["code"] for a in attributes] == ["urgency", "floor", "contact"]

    def listed(found):  # xmltodict gives a lone <request> as a dict, several as a list
        return found if isinstance(found, list) else [found]

    requests = listed(client.get_service_requests())
    assert [r["service_request_id"] for r in requests] == [second, number]
    assert [r["service_request_id"] for r in listed(client.get_service_requests(service_code="noise"))] == [second]
    one = client.get_service_request(number)
    assert one["service_request_id"] == number
    assert one["status"] == "open"
    assert one["service_code"] == "property-lift"
    assert one["requested_datetime"].endswith("+08:00")


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the in-memory shared-cache SQLite test database answers 'table is locked' instead of waiting; "
    "a real SQLite file (WAL, IMMEDIATE transactions) queues writers"))
def test_concurrent_hits_on_one_key_are_all_counted(o311, transactional_db):
    """Each thread has its own database connection, as separate servers would."""
    import threading

    row, _key = apikey_create(actor=None, community=o311.world.community, name="busy", rate_per_minute=25)
    minute = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
    outcomes = []
    start = threading.Barrier(8, timeout=60)

    def client():
        try:
            start.wait()
            for _ in range(5):
                try:
                    apikey_hit(row, now=minute)
                    outcomes.append("ok")
                except apikeys.RateLimited:
                    outcomes.append("429")
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert (outcomes.count("ok"), outcomes.count("429")) == (25, 15)
    assert ApiKeyUsage.objects.get(api_key=row, window_start=minute).count == 40


# ------------------------------------------- issue 8: what the public feed may show ---


def feed_text(s, *numbers):
    """Every read a stranger can make of these cases, in both formats."""
    responses = []
    for fmt in ("json", "xml"):
        responses.append(s.client.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "Y"}))
        responses.append(s.client.get(f"{BASE}/requests.{fmt}", {"jurisdiction_id": "Y", "status": "open,closed",
                                                                  "service_request_id": ",".join(numbers)}))
        for number in numbers:
            responses.append(s.client.get(f"{BASE}/requests/{number}.{fmt}", {"jurisdiction_id": "Y"}))
    # A 404 names the number it was asked for; it says nothing else.
    return "\n".join(r.content.decode() for r in responses if r.status_code == 200)


def test_only_cases_made_public_are_published_never_private_or_anonymous_ones(o311):
    private = submit(o311, description="家里噪音很大，私下反映", public=False)
    anonymous = submit(o311, description="匿名反映楼下噪音", anonymous=True)  # public, but anonymous
    published = submit(o311, description="广场噪音很大，可以公开")
    cache.clear()
    text = feed_text(o311, private.number, anonymous.number, published.number)
    assert published.number in text
    assert private.number not in text and "私下" not in text
    assert anonymous.number not in text and "匿名" not in text
    for case in (private, anonymous):
        response = o311.client.get(f"{BASE}/requests/{case.number}.json", {"jurisdiction_id": "Y"})
        assert response.status_code == 404
        assert errors(response, "json")[0]["code"] == 404


def test_a_post_is_private_unless_the_client_says_public_true(o311):
    kept = post(o311, good(public=None)).json()[0]["service_request_id"]
    shown = post(o311, good(description="2栋电梯困人，可以公开")).json()[0]["service_request_id"]
    assert Case.objects.get(number=kept).public is False
    assert Case.objects.get(number=shown).public is True
    assert [r["service_request_id"] for r in o311.client.get(f"{BASE}/requests.json", {"jurisdiction_id": "Y"}
                                                               ).json()] == [shown]
    response = post(o311, good(public="yes"))
    assert response.status_code == 400 and errors(response, "json")[0]["description"] == (
        "public: send true or false.")
    # The token answers for the client's own unpublished request: it tells only its number.
    assert o311.client.get(f"{BASE}/tokens/{kept}.json", {"jurisdiction_id": "Y"}).json() == [
        {"service_request_id": kept, "token": kept}]


def test_published_text_carries_no_names_phones_id_numbers_or_doors(o311):
    world = o311.world
    resident = world.residents[0]
    name = resident.name.reveal()
    worker = world.users["worker"]
    case, _ = case_submit(actor=None, intake=Intake(
        community=world.community, channel=Case.Channel.PHONE, category=o311.property,
        description=f"我是{name}，住14栋1单元602室，身份证510104199001011234，电梯坏了",
        reporter=resident, contact_name="李四海", contact_phone="13700000003",
        address="7-2-301 门口", latitude=30.705, longitude=104.055, place=Case.Place.POINT))
    Case.objects.filter(pk=case.pk).update(public=True)
    case_accept(actor=worker, case=case)
    case_dispatch(actor=worker, case=Case.objects.get(pk=case.pk))
    case_resolve(actor=worker, case=Case.objects.get(pk=case.pk),
                 resolution="已联系李四海，14栋1单元602室电梯已修好")
    text = feed_text(o311, case.number)
    assert case.number in text and "电梯坏了" in text and "电梯已修好" in text
    for personal in (name, "李四海", "14栋", "602", "7-2-301", "510104199001011234", "13700000003"):
        assert personal not in text, personal


def test_the_feed_is_cached_per_query_for_a_short_while(o311, django_assert_max_num_queries):
    first = submit(o311, description="广场噪音很大，第一次")
    params = {"jurisdiction_id": "Y", "status": "open"}
    assert [r["service_request_id"] for r in o311.client.get(f"{BASE}/requests.json", params).json()] == [
        first.number]
    submit(o311, description="广场噪音很大，第二次")
    with django_assert_max_num_queries(1):  # the jurisdiction's look-up; the list comes from the cache
        again = o311.client.get(f"{BASE}/requests.json", params).json()
    assert [r["service_request_id"] for r in again] == [first.number]
    other = o311.client.get(f"{BASE}/requests.json", {**params, "page_size": "10"}).json()
    assert len(other) == 2  # another query: another key
    cache.clear()
    assert len(o311.client.get(f"{BASE}/requests.json", params).json()) == 2


# ------------------------------------------------ issue 8: bodies and form limits ---


class CountingStream:
    """A request body of ``size`` bytes, made as it is read, counting what was read."""

    def __init__(self, size: int, head: bytes = b""):
        self.size, self.head, self.read_bytes = size, head, 0

    def read(self, n=-1):
        left = self.size - self.read_bytes
        n = left if n is None or n < 0 else min(n, left)
        chunk = (self.head[self.read_bytes:self.read_bytes + n]).ljust(n, b"x")
        self.read_bytes += n
        return chunk

    def readline(self, n=-1):
        return self.read(n if n and n > 0 else 8192)


def _raw_post(s, path, stream, content_type, size, query=""):
    from django.core.handlers.wsgi import WSGIRequest
    from django.test.client import RequestFactory

    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="POST", CONTENT_TYPE=content_type, CONTENT_LENGTH=str(size),
        HTTP_ACCEPT_LANGUAGE="en", QUERY_STRING=query)
    environ["wsgi.input"] = stream
    from django.core.handlers.base import BaseHandler

    handler = BaseHandler()
    handler.load_middleware()
    return handler.get_response(WSGIRequest(environ))


@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=BOUNDARY",
                                          "application/x-www-form-urlencoded"])
def test_a_big_body_is_refused_before_it_is_read(o311, content_type):
    size = 300 * 1024 * 1024
    head = (b'--BOUNDARY\r\nContent-Disposition: form-data; name="media"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    stream = CountingStream(size, head)
    response = _raw_post(o311, f"{BASE}/requests.json", stream, content_type, size)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(response.content)[0]["code"] == 413
    assert stream.read_bytes == 0
    assert not Case.objects.exists()


def test_an_api_key_in_the_query_string_is_checked_before_the_body_is_read(o311):
    stream = CountingStream(60_000, b"service_code=noise&description=")
    response = _raw_post(o311, f"{BASE}/requests.json", stream, "application/x-www-form-urlencoded", 60_000,
                         query="api_key=wrong")
    assert response.status_code == 403
    assert json.loads(response.content) == [{"code": 403, "description": "Invalid or revoked api_key."}]
    assert stream.read_bytes == 0
    response = o311.client.post(f"{BASE}/requests.json?api_key={o311.key}", urlencode(good()),
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and Case.objects.count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_form_over_djangos_limits_answers_the_open311_error_list(o311, fmt, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    body = urlencode({**good(), **{f"f{i}": "1" for i in range(150)}, "api_key": o311.key})
    response = o311.client.post(f"{BASE}/requests.{fmt}", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert errors(response, fmt)[0]["code"] == 400
    assert not Case.objects.exists()


# ---------------------------------------------------- issue 8 B f: phone or e-mail ---


def test_a_report_needs_a_phone_or_an_email_and_says_so(o311):
    response = post(o311, good(phone=None, email=None))
    assert response.status_code == 400
    assert errors(response, "json")[0]["description"] == (
        "Send a phone number or an e-mail address, so that the community can reply.")
    response = post(o311, good(phone=None, email="not an address"))
    assert errors(response, "json")[0]["description"] == "email: send one e-mail address."
    assert not Case.objects.exists()


def test_an_email_given_with_a_phone_is_kept_sealed(o311):
    number = post(o311, good(email="zhang.san@example.org")).json()[0]["service_request_id"]
    case = Case.objects.get(number=number)
    assert case.contact_email.reveal() == "zhang.san@example.org"
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_email FROM cases_case WHERE id = %s", [case.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1.") and "example.org" not in stored


def test_a_report_whose_only_contact_is_an_email_is_accepted(o311):
    response = post(o311, good(phone=None, email="zhang.san@example.org"))
    assert response.status_code == 200, response.content
    case = Case.objects.get()
    assert case.contact_phone is None or not case.contact_phone.reveal()
    assert case.contact_email.reveal() == "zhang.san@example.org"
