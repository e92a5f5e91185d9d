"""The case pages through Django's test client: who may open what, intake errors, the
whole loop (resident → worker → handling unit → resident), the plain-words timeline,
the console queues, and the three-rates dashboard with its drill-down and exports.

Most pages are read in English (the Chinese catalogue is completed separately), so
assertions use the English msgids; one test checks a Chinese form error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from linli.cases import services
from linli.cases.models import Case, CaseNote, Category, IdempotencyKey, TimeLimit
from linli.core.models import Event

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINLI_TRIAGE_CONFIDENCE = 0.5


@pytest.fixture
def cats(world):
    """Two categories of Y: property (to the property company) and greenery (no unit)."""
    y = world.community
    prop = Category.objects.create(community=y, code="property", name_zh="物业", name_en="Property",
                                   keywords="电梯\n漏水\nelevator", default_unit=world.property_company, position=1)
    green = Category.objects.create(community=y, code="greenery", name_zh="绿化", name_en="Greenery",
                                    keywords="树木\n草坪", position=2)
    for category in (prop, green):
        TimeLimit.objects.create(category=category, urgency="normal", response_amount=2, response_unit="hours",
                                 resolve_amount=3, resolve_unit="working_days")
        TimeLimit.objects.create(category=category, urgency="urgent", response_amount=1, response_unit="hours",
                                 resolve_amount=1, resolve_unit="working_days")
    Category.objects.create(community=world.other_community, code="property", name_zh="物业Z",
                            name_en="Property Z", keywords="电梯")
    return {"property": prop, "greenery": green}


def as_user(client, world, name):
    client.force_login(world.users[name])
    client.defaults.update(EN)
    return client


def text(response) -> str:
    return response.content.decode()


def jpeg(name="photo.jpg", size=(64, 48)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def intake(**overrides) -> dict:
    data = {"description": "电梯坏了三天，老人上不了楼", "category": "", "place": "home", "grid": "",
            "latitude": "", "longitude": "", "address": "", "token": "t-1"}
    data.update(overrides)
    return data


def submit_as_resident(client, world, **overrides):
    as_user(client, world, "resident")
    return client.post("/cases/new/", intake(**overrides))


def case_events(case):
    return Event.objects.filter(target_type="cases.case", target_id=str(case.pk))


# --- who may open what -----------------------------------------------------------------------------

@pytest.mark.parametrize("url, username, status", [
    ("/cases/", "resident", 200),
    ("/cases/", "nobody", 200),
    ("/cases/new/", "resident", 200),
    ("/cases/new/", "nobody", 200),  # a page saying the account is not linked
    ("/cases/console/", "worker", 200),
    ("/cases/console/", "grid1", 200),
    ("/cases/console/", "unit_staff", 200),
    ("/cases/console/", "supervisor", 200),
    ("/cases/console/", "resident", 403),
    ("/cases/console/", "nobody", 403),
    ("/cases/console/new/", "worker", 200),
    ("/cases/console/new/", "grid1", 200),
    ("/cases/console/new/", "unit_staff", 403),
    ("/cases/console/new/", "supervisor", 403),
    ("/cases/console/new/", "resident", 403),
    ("/cases/console/rates/", "worker", 200),
    ("/cases/console/rates/", "supervisor", 200),
    ("/cases/console/rates/", "unit_staff", 200),
    ("/cases/console/rates/", "resident", 403),
    ("/cases/console/rates/export.csv", "resident", 403),
    ("/cases/report/", "nobody", 404),  # anonymous intake is off by default
])
def test_each_page_is_open_only_to_its_roles(client, world, cats, url, username, status):
    response = as_user(client, world, username).get(url)
    assert response.status_code == status


@pytest.mark.parametrize("url", ["/cases/", "/cases/new/", "/cases/console/", "/cases/console/rates/"])
def test_signed_out_visitors_are_sent_to_sign_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_personal_pages_are_never_cached(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    for url in ("/cases/", "/cases/new/", f"/cases/{case.number}/"):
        assert "no-store" in client.get(url)["Cache-Control"]
    as_user(client, world, "worker")
    for url in ("/cases/console/", f"/cases/console/{case.number}/", "/cases/console/new/", "/cases/console/rates/"):
        assert "no-store" in client.get(url)["Cache-Control"]


def test_account_without_household_is_told_to_ask_the_office(client, world, cats):
    response = as_user(client, world, "nobody").get("/cases/new/")
    assert "Your account is not linked to a household yet" in text(response)
    assert "<textarea" not in text(response)


# --- resident intake ----------------------------------------------------------------------------

def test_resident_submits_and_lands_on_the_case_page(client, world, cats):
    response = submit_as_resident(client, world, photos=[jpeg()])
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.number}/"
    assert case.channel == "web"
    assert case.reporter == world.residents[0]
    assert case.household == world.households[0]
    assert case.grid == world.grids[0]
    assert case.category == cats["property"]  # the classifier was sure enough
    assert case.needs_triage is False
    assert case.photos.count() == 1
    page = client.get(response["Location"])
    assert f"Your request {case.number} was received." in text(page)
    assert "We received your request." in text(page)
    photo = case.photos.get()
    assert f"/cases/{case.number}/photos/{photo.pk}/" in text(page)
    assert client.get(f"/cases/{case.number}/photos/{photo.pk}/")["Content-Type"] == "image/jpeg"


def test_a_double_submit_of_the_same_form_makes_one_case(client, world, cats):
    submit_as_resident(client, world)
    second = client.post("/cases/new/", intake())
    assert Case.objects.count() == 1
    assert second["Location"] == f"/cases/{Case.objects.get().number}/"


@pytest.mark.parametrize("data, field, message", [
    ({"description": ""}, "description", "This field is required."),
    ({"description": "坏了"}, "description", "Describe the problem in a few words."),
    ({"place": "grid", "grid": ""}, "grid", "Choose the courtyard."),
    ({"place": "point"}, "latitude", "Give the point: latitude and longitude, or use your location."),
    ({"place": "point", "latitude": "95", "longitude": "104"}, "latitude",
     "Ensure this value is less than or equal to 90."),
    ({"place": "point", "latitude": "39.9", "longitude": "116.4"}, "latitude",
     "This point is outside the community."),
    ({"category": "999999"}, "category", "Select a valid choice. 999999 is not one of the available choices."),
])
def test_intake_errors_are_shown_at_their_field_and_nothing_is_written(client, world, cats, data, field, message):
    events_before = Event.objects.count()
    response = submit_as_resident(client, world, **data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert "Please correct the marked fields." in text(response)
    assert message.replace("'", "&#x27;") in text(response)
    assert Case.objects.count() == 0
    assert Event.objects.count() == events_before


def test_another_communitys_category_is_refused(client, world, cats):
    z_category = Category.objects.get(community=world.other_community)
    response = submit_as_resident(client, world, category=str(z_category.pk))
    assert "category" in response.context["form"].errors
    assert Case.objects.count() == 0


def test_a_file_that_is_not_a_photo_is_refused_by_content(client, world, cats):
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = submit_as_resident(client, world, photos=[fake])
    assert response.context["form"].errors["photos"] == ["This file is not a JPEG, PNG or WebP photo."]
    assert Case.objects.count() == 0


def test_five_photos_are_too_many(client, world, cats):
    response = submit_as_resident(client, world, photos=[jpeg(f"p{i}.jpg") for i in range(5)])
    assert response.context["form"].errors["photos"] == ["At most 4 photos."]
    assert Case.objects.count() == 0


def test_intake_errors_are_in_chinese_by_default(client, world, cats):
    client.force_login(world.users["resident"])
    response = client.post("/cases/new/", intake(description=""))
    assert response.context["form"].errors["description"] == ["这个字段是必填项。"]
    assert Case.objects.count() == 0


def test_point_on_the_map_finds_its_courtyard(client, world, cats):
    grid = world.grids[1]
    grid.boundary = [[30.70, 104.05], [30.70, 104.06], [30.71, 104.06], [30.71, 104.05]]
    grid.save()
    response = submit_as_resident(client, world, place="point", latitude="30.705", longitude="104.055")
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.place, case.grid, case.latitude, case.longitude) == ("point", grid, 30.705, 104.055)


def test_the_suggestion_endpoint_names_a_category_with_its_confidence(client, world, cats):
    as_user(client, world, "resident")
    response = client.post("/cases/suggest/", {"description": "楼道漏水，电梯也坏了"})
    assert response.json() == {"category": cats["property"].pk, "name": "Property", "confidence": 1.0,
                               "confident": True}
    unsure = client.post("/cases/suggest/", {"description": "门口有棵树木歪了，电梯也坏了"})
    assert unsure.json() == {"category": cats["property"].pk, "name": "Property", "confidence": 0.25,
                             "confident": False}
    nothing = client.post("/cases/suggest/", {"description": "有人在楼下唱歌"})
    assert nothing.json() == {"category": None, "name": "", "confidence": 0.0, "confident": False}
    assert client.get("/cases/suggest/").status_code == 405


def test_the_suggestion_endpoint_is_closed_to_strangers(client, world, cats):
    assert client.post("/cases/suggest/", {"description": "电梯坏了好几天", "community": "Y"}).status_code == 404
    as_user(client, world, "z_worker")
    assert client.post("/cases/suggest/", {"description": "电梯坏了好几天", "community": "Y"}).status_code == 404
    answer = client.post("/cases/suggest/", {"description": "电梯坏了好几天", "community": "Z"}).json()
    assert answer["name"] == "Property Z"


def test_an_unsure_description_waits_in_the_triage_queue(client, world, cats):
    submit_as_resident(client, world, description="楼下有人每天晚上唱歌到很晚")
    case = Case.objects.get()
    assert (case.category, case.needs_triage) == (None, True)
    response = as_user(client, world, "worker").get("/cases/console/?queue=triage")
    assert [c.number for c in response.context["page"].object_list] == [case.number]
    counts = {q["code"]: q["count"] for q in response.context["queues"]}
    due_today = counts.pop("due_today")  # its response clock may end before or after midnight
    assert due_today in (0, 1)
    assert counts == {"action": 1, "triage": 1, "accept": 0, "unit": 0, "mine": 0, "progress": 0, "rating": 0,
                      "overdue": 0}


def test_my_requests_lists_only_my_own(client, world, cats):
    submit_as_resident(client, world)
    mine = Case.objects.get()
    services.case_submit(actor=world.users["worker"], intake=services.Intake(
        community=world.community, channel="phone", description="另一户的电梯坏了",
        reporter=world.residents[2], place="grid", grid=world.grids[0]))
    response = client.get("/cases/")
    assert [c.number for c in response.context["page"].object_list] == [mine.number]
    assert "submitted" in text(response)


# --- the whole loop ---------------------------------------------------------------------------------

def move(client, case, name, data=None, **extra):
    payload = {f"{name}-{key}": value for key, value in (data or {}).items()}
    return client.post(f"/cases/console/{case.number}/{name}/", payload, **extra)


def resolved_case(client, world, cats, **overrides):
    """A resident's case taken through accept, dispatch, start and resolve, through the pages."""
    submit_as_resident(client, world, **overrides)
    case = Case.objects.get()
    as_user(client, world, "worker")
    assert move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"}).status_code == 302
    assert move(client, case, "dispatch", {"unit": world.property_company.pk}).status_code == 302
    as_user(client, world, "unit_staff")
    assert move(client, case, "start").status_code == 302
    assert move(client, case, "resolve", {"resolution": "已更换电梯控制板，运行正常"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "resolved"
    return case


def test_the_whole_loop_through_the_pages(client, world, cats):
    submit_as_resident(client, world, photos=[jpeg()])
    case = Case.objects.get()
    assert case.status == "submitted"

    as_user(client, world, "worker")
    console = client.get("/cases/console/?queue=accept")
    assert [c.number for c in console.context["page"].object_list] == [case.number]
    page = client.get(f"/cases/console/{case.number}/")
    assert list(page.context["forms"]) == ["accept", "reject"]
    assert str(world.residents[0].name) in text(page)  # masked
    assert world.residents[0].name.reveal() not in text(page)
    response = move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"})
    assert response["Location"] == f"/cases/console/{case.number}/"
    case.refresh_from_db()
    assert case.status == "accepted" and case.response_due is not None

    page = client.get(f"/cases/console/{case.number}/")
    assert list(page.context["forms"]) == ["dispatch", "contact", "close_unresolved"]
    dispatch = page.context["forms"]["dispatch"]
    assert dispatch["unit"].value() == world.property_company.pk  # pre-filled by the routing rules
    move(client, case, "dispatch", {"unit": world.property_company.pk})
    case.refresh_from_db()
    assert (case.status, case.unit) == ("dispatched", world.property_company)
    page = client.get(f"/cases/console/{case.number}/")
    # The unit's own work is there for the office, folded away under "on the unit's behalf".
    assert [m["name"] for m in page.context["moves"]] == ["contact", "transfer", "close_unresolved"]
    assert [m["name"] for m in page.context["behalf"]] == ["start", "resolve", "return"]

    as_user(client, world, "unit_staff")
    queue = client.get("/cases/console/?queue=unit")
    assert [c.number for c in queue.context["page"].object_list] == [case.number]
    page = client.get(f"/cases/console/{case.number}/")
    assert [m["name"] for m in page.context["moves"]] == ["contact", "start", "resolve", "return"]
    assert page.context["behalf"] == []
    move(client, case, "start")
    response = client.post(f"/cases/console/{case.number}/resolve/",
                           {"resolve-resolution": "已更换电梯控制板，运行正常", "resolve-photos": [jpeg("after.jpg")]})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "resolved"
    assert list(case.photos.values_list("stage", flat=True)) == ["intake", "resolution"]

    as_user(client, world, "resident")
    page = client.get(f"/cases/{case.number}/")
    assert page.context["rating_form"] is not None
    response = client.post(f"/cases/{case.number}/rate/", {"rate-rating": "satisfied", "rate-comment": "很快"})
    assert response["Location"] == f"/cases/{case.number}/"
    case.refresh_from_db()
    assert (case.status, case.rating, case.rating_comment) == ("closed", "satisfied", "很快")
    page = client.get(f"/cases/{case.number}/")
    assert "Thank you for your rating." in text(page)
    assert page.context["rating_form"] is None
    assert [step["text"] for step in page.context["timeline"]] == [
        "We received your request.",
        "Accepted by the community office.",
        "Passed to 安居物业 to handle.",
        "Work has started.",
        "Done: 已更换电梯控制板，运行正常",
        "You rated the handling: satisfied. The request is closed.",
    ]
    assert [e.verb for e in case_events(case).order_by("id")] == [
        "case.submitted", "case.accepted", "case.dispatched", "case.started", "case.resolved", "case.rated"]


def test_an_unsatisfied_rating_reopens_the_case(client, world, cats):
    case = resolved_case(client, world, cats)
    as_user(client, world, "resident")
    response = client.post(f"/cases/{case.number}/rate/", {"rate-rating": "unsatisfied", "rate-comment": "还是坏的"})
    case.refresh_from_db()
    assert (case.status, case.reopen_count, case.unit) == ("dispatched", 1, world.property_company)
    page = client.get(response["Location"])
    assert "We are sorry. Your request was reopened and will be handled again." in text(page)
    assert page.context["timeline"][-1]["text"] == (
        "You were not satisfied, so the request was reopened and sent back to be handled again.")
    as_user(client, world, "unit_staff")
    queue = client.get("/cases/console/?queue=unit")
    assert [c.number for c in queue.context["page"].object_list] == [case.number]


def test_a_rating_without_a_choice_is_a_form_error(client, world, cats):
    case = resolved_case(client, world, cats)
    as_user(client, world, "resident")
    response = client.post(f"/cases/{case.number}/rate/", {"rate-rating": ""})
    assert response.status_code == 400
    assert response.context["rating_form"].errors["rating"] == ["This field is required."]
    case.refresh_from_db()
    assert case.status == "resolved"


def test_visit_back_by_phone_records_the_rating(client, world, cats):
    case = resolved_case(client, world, cats)
    as_user(client, world, "worker")
    move(client, case, "visit_back", {"rating": "basic", "comment": "电话回访"})
    case.refresh_from_db()
    assert (case.status, case.rating) == ("closed", "basic")
    as_user(client, world, "resident")
    timeline = client.get(f"/cases/{case.number}/").context["timeline"]
    assert timeline[-1]["text"] == ("At the visit-back call you rated the handling: basically satisfied. "
                                    "The request is closed.")


def test_internal_notes_are_hidden_from_the_resident(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, "worker")
    move(client, case, "note", {"text": "居民情绪激动，注意沟通"})
    move(client, case, "note", {"text": "明天上午派人维修", "public": "on"})
    assert list(CaseNote.objects.values_list("internal", flat=True)) == [True, False]
    staff_page = text(client.get(f"/cases/console/{case.number}/"))
    assert "居民情绪激动，注意沟通" in staff_page and "明天上午派人维修" in staff_page
    as_user(client, world, "resident")
    page = client.get(f"/cases/{case.number}/")
    assert "居民情绪激动" not in text(page)
    assert [step["text"] for step in page.context["timeline"]] == [
        "We received your request.",
        "Message from the community: 明天上午派人维修",
    ]


def test_a_rejection_tells_the_resident_why(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, "worker")
    empty = move(client, case, "reject", {"reason": ""})
    assert empty.status_code == 400
    assert empty.context["forms"]["reject"].errors["reason"] == ["This field is required."]
    move(client, case, "reject", {"reason": "属于市政道路，请拨打12345"})
    as_user(client, world, "resident")
    timeline = client.get(f"/cases/{case.number}/").context["timeline"]
    assert timeline[-1]["text"] == "Not accepted: 属于市政道路，请拨打12345"


def test_accepting_needs_a_category(client, world, cats):
    submit_as_resident(client, world, description="楼下有人每天晚上唱歌到很晚")
    case = Case.objects.get()
    as_user(client, world, "worker")
    response = move(client, case, "accept", {"category": "", "urgency": "normal"})
    assert response.status_code == 400
    assert response.context["forms"]["accept"].errors["category"] == ["This field is required."]
    case.refresh_from_db()
    assert case.status == "submitted"


def test_the_unit_hands_a_case_back_with_a_reason(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, "worker")
    move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"})
    move(client, case, "dispatch", {"unit": world.property_company.pk})
    as_user(client, world, "unit_staff")
    response = move(client, case, "return", {"reason": "不属于物业管理范围"})
    assert response["Location"] == "/cases/console/"  # no longer with the unit: out of its sight
    case.refresh_from_db()
    assert (case.status, case.unit, case.return_count) == ("accepted", None, 1)
    as_user(client, world, "resident")
    timeline = client.get(f"/cases/{case.number}/").context["timeline"]
    assert timeline[-1]["text"] == (
        "The unit handed it back to the community office, which is finding the right unit.")
    assert "不属于物业管理范围" not in text(client.get(f"/cases/{case.number}/"))


def test_a_stale_page_cannot_move_a_case_twice(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, "worker")
    move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"})
    response = move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"})
    assert response["Location"] == f"/cases/console/{case.number}/"
    assert "This case is accepted now; the step “accepted” is not possible." in text(client.get(response["Location"]))
    assert case_events(case).filter(verb="case.accepted").count() == 1


def test_unit_staff_may_not_accept_or_see_other_cases(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, "unit_staff")
    assert client.get(f"/cases/console/{case.number}/").status_code == 404
    assert move(client, case, "accept", {"category": cats["property"].pk, "urgency": "normal"}).status_code == 404
    case.refresh_from_db()
    assert case.status == "submitted"


def test_the_dispatched_unit_may_not_accept_or_dispatch(client, world, cats):
    case = resolved_case(client, world, cats)
    as_user(client, world, "unit_staff")
    assert move(client, case, "visit_back", {"rating": "satisfied"}).status_code == 403
    case.refresh_from_db()
    assert case.status == "resolved"


@pytest.mark.parametrize("username", ["z_worker", "grid2", "nobody"])
def test_cases_out_of_scope_are_not_found(client, world, cats, username):
    submit_as_resident(client, world)
    case = Case.objects.get()
    as_user(client, world, username)
    assert client.get(f"/cases/{case.number}/").status_code == 404
    assert client.get(f"/cases/console/{case.number}/").status_code in (403, 404)
    assert move(client, case, "accept", {"category": cats["property"].pk}).status_code in (403, 404)


def test_staff_opening_the_resident_page_go_to_the_console_page(client, world, cats):
    submit_as_resident(client, world)
    case = Case.objects.get()
    response = as_user(client, world, "worker").get(f"/cases/{case.number}/")
    assert response["Location"] == f"/cases/console/{case.number}/"


def test_merging_a_duplicate_into_a_similar_open_case(client, world, cats):
    submit_as_resident(client, world)
    first = Case.objects.get()
    submit_as_resident(client, world, token="t-2", description="电梯又坏了，还是没人修")
    second = Case.objects.exclude(pk=first.pk).get()
    as_user(client, world, "worker")
    page = client.get(f"/cases/console/{second.number}/")
    assert [c.number for c in page.context["similar"]] == [first.number]
    move(client, second, "merge", {"master": first.number})
    second.refresh_from_db()
    assert (second.status, second.master) == ("merged", first)
    as_user(client, world, "resident")
    timeline = client.get(f"/cases/{second.number}/").context["timeline"]
    assert timeline[-1]["text"] == (
        f"Joined with request {first.number} about the same problem; it is handled there.")


def test_transfer_moves_the_case_to_another_unit(client, world, cats):
    from linli.community.models import Organisation

    works = Organisation.objects.create(kind=Organisation.Kind.STREET_DEPARTMENT, name="城市管理科",
                                        street=world.street)
    case = resolved_case(client, world, cats)
    as_user(client, world, "resident")
    client.post(f"/cases/{case.number}/rate/", {"rate-rating": "unsatisfied"})
    as_user(client, world, "worker")
    response = move(client, case, "transfer", {"unit": works.pk, "reason": "需要市政维修"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.unit, case.first_unit) == ("dispatched", works, works)


# --- staff intake ------------------------------------------------------------------------------------

def staff_intake(**overrides) -> dict:
    data = {"community": "", "channel": "phone", "description": "电梯按钮失灵", "category": "",
            "urgency": "normal", "resident_phone": "", "contact_name": "", "place": "grid", "grid": "",
            "latitude": "", "longitude": "", "address": "", "token": "s-1"}
    data.update(overrides)
    return {f"intake-{k}": v for k, v in data.items()}


def test_a_phone_call_from_a_registered_resident_is_linked_to_them(client, world, cats):
    caller = world.residents[2]
    as_user(client, world, "worker")
    response = client.post("/cases/console/new/", staff_intake(
        community=world.community.pk, resident_phone=caller.phone.reveal(), place="home"))
    case = Case.objects.get()
    assert response["Location"] == f"/cases/console/{case.number}/"
    assert (case.channel, case.reporter, case.household, case.contact_phone) == (
        "phone", caller, caller.household, None)
    page = text(client.get(response["Location"]))
    assert str(caller.phone) in page and caller.phone.reveal() not in page


def test_a_phone_call_from_an_unknown_number_keeps_it_as_the_contact(client, world, cats):
    as_user(client, world, "worker")
    client.post("/cases/console/new/", staff_intake(
        community=world.community.pk, resident_phone="13800001111", contact_name="李先生", grid=world.grids[1].pk))
    case = Case.objects.get()
    assert (case.reporter, case.contact_phone.reveal(), case.grid) == (None, "13800001111", world.grids[1])
    page = text(client.get(f"/cases/console/{case.number}/"))
    assert "13800001111" not in page and str(case.contact_phone) in page


def test_a_phone_call_needs_a_number_to_reply_to(client, world, cats):
    as_user(client, world, "worker")
    response = client.post("/cases/console/new/", staff_intake(community=world.community.pk,
                                                               grid=world.grids[0].pk))
    assert response.context["form"].errors["resident_phone"] == ["Leave a phone number so that we can reply."]
    assert Case.objects.count() == 0


def test_home_needs_a_registered_resident(client, world, cats):
    as_user(client, world, "worker")
    response = client.post("/cases/console/new/", staff_intake(
        community=world.community.pk, resident_phone="13800001111", place="home"))
    assert response.context["form"].errors["place"] == [
        "Only a registered resident's home can be chosen: give their mobile number, or choose the courtyard."]
    assert Case.objects.count() == 0


def test_a_grid_worker_reports_from_patrol_in_their_own_grid_only(client, world, cats):
    as_user(client, world, "grid1")
    refused = client.post("/cases/console/new/", staff_intake(
        community=world.community.pk, channel="patrol", grid=world.grids[1].pk, description="2号院草坪被占"))
    assert "grid" in refused.context["form"].errors
    assert Case.objects.count() == 0
    client.post("/cases/console/new/", staff_intake(
        community=world.community.pk, channel="patrol", grid=world.grids[0].pk, description="1号院草坪被占用堆物",
        token="s-2"))
    case = Case.objects.get()
    assert (case.channel, case.grid, case.submitted_by, case.category) == (
        "patrol", world.grids[0], world.users["grid1"], cats["greenery"])


# --- anonymous intake ------------------------------------------------------------------------------

def anonymous(**overrides) -> dict:
    data = {"community": "Y", "description": "小区门口路灯不亮了", "category": "", "place": "grid",
            "grid": "", "latitude": "", "longitude": "", "address": "", "contact_phone": "13912345678",
            "contact_name": "", "token": "a-1"}
    data.update(overrides)
    return data


def test_anonymous_intake_needs_the_setting_and_a_phone(client, world, cats, settings):
    settings.LINLI_ANONYMOUS_INTAKE = True
    client.defaults.update(EN)
    assert client.get("/cases/report/?community=Y").status_code == 200
    missing = client.post("/cases/report/", anonymous(grid=world.grids[0].pk, contact_phone=""))
    assert missing.context["form"].errors["contact_phone"] == ["This field is required."]
    bad = client.post("/cases/report/", anonymous(grid=world.grids[0].pk, contact_phone="12345"))
    assert bad.context["form"].errors["contact_phone"] == ["A mobile number has 11 digits and starts with 13 to 19."]
    assert Case.objects.count() == 0
    response = client.post("/cases/report/", anonymous(grid=world.grids[0].pk))
    case = Case.objects.get()
    assert response["Location"] == "/cases/report/done/"
    assert (case.anonymous, case.reporter, case.submitted_by, case.contact_phone.reveal()) == (
        True, None, None, "13912345678")
    done = client.get("/cases/report/done/")
    assert case.number in text(done)
    assert "13912345678" not in text(done)


def test_anonymous_intake_is_limited_per_client(client, world, cats, settings):
    settings.LINLI_ANONYMOUS_INTAKE = True
    client.defaults.update(EN)
    for n in range(5):
        response = client.post("/cases/report/", anonymous(grid=world.grids[0].pk, token=f"a-{n}"),
                               REMOTE_ADDR="203.0.113.9")
        assert response.status_code == 302
    blocked = client.post("/cases/report/", anonymous(grid=world.grids[0].pk, token="a-6"), REMOTE_ADDR="203.0.113.9")
    assert blocked.status_code == 429
    assert "Too many requests from your connection in the last hour." in text(blocked)
    assert Case.objects.count() == 5
    other = client.post("/cases/report/", anonymous(grid=world.grids[0].pk, token="a-7"), REMOTE_ADDR="203.0.113.10")
    assert other.status_code == 302
    # Only a keyed hash of the address is kept.
    assert not IdempotencyKey.objects.filter(scope__contains="203.0.113").exists()


# --- the three rates ---------------------------------------------------------------------------------

@pytest.fixture
def rated_world(world, cats):
    """Three cases of this month: A resolved and rated satisfied (G01), B dispatched (G02), C submitted (G01)."""
    worker, unit = world.users["worker"], world.users["unit_staff"]

    def submit(text, grid):
        case, _ = services.case_submit(actor=worker, intake=services.Intake(
            community=world.community, channel="phone", description=text, reporter=world.residents[0],
            place="grid", grid=grid))
        return case

    a = submit("电梯坏了请修理", world.grids[0])
    services.case_accept(actor=worker, case=a)
    services.case_dispatch(actor=worker, case=a)
    services.case_resolve(actor=unit, case=a, resolution="修好了")
    services.case_rate(actor=world.users["resident"], case=a, rating="satisfied")
    b = submit("电梯漏水严重", world.grids[1])
    services.case_accept(actor=worker, case=b)
    services.case_dispatch(actor=worker, case=b)
    c = submit("电梯门关不上", world.grids[0])
    return {"a": a, "b": b, "c": c}


def drill(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return sorted(c.number for c in response.context["page"].object_list)


def test_dashboard_totals_and_each_number_opens_its_cases(client, world, rated_world):
    a, b, c = rated_world["a"], rated_world["b"], rated_world["c"]
    response = as_user(client, world, "worker").get("/cases/console/rates/")
    total = response.context["total"]
    assert total["submitted"] == 3
    cells = {cell["name"]: (cell["numerator"], cell["denominator"], cell["pct"]) for cell in total["cells"]}
    # Responded (accepted, from receipt): A and B; C is still within its time.
    assert cells == {"response": (2, 2, "100.0%"), "resolution": (1, 2, "50.0%"), "satisfaction": (1, 1, "100.0%")}
    assert drill(client, total["submitted_url"]) == sorted([a.number, b.number, c.number])
    by_name = {cell["name"]: cell for cell in total["cells"]}
    assert drill(client, by_name["resolution"]["denominator_url"]) == sorted([a.number, b.number])
    assert drill(client, by_name["resolution"]["numerator_url"]) == [a.number]
    page = text(response)
    assert by_name["resolution"]["denominator_url"].replace("&", "&amp;") in page
    assert "vendor/echarts/echarts.min.js" in page


def test_dashboard_ranks_the_courtyards(client, world, rated_world):
    response = as_user(client, world, "worker").get("/cases/console/rates/?by=grid&rate=resolution")
    rows = [(r["row"].rank, r["label"], r["row"].counts["submitted"], r["cells"][1]["pct"])
            for r in response.context["rows"]]
    assert rows == [(1, "1号院", 2, "100.0%"), (2, "2号院", 1, "0.0%")]
    g2 = response.context["rows"][1]
    assert drill(client, g2["cells"][1]["denominator_url"]) == [rated_world["b"].number]
    query = parse_qs(urlsplit(g2["submitted_url"]).query)
    assert query["grid"] == [str(world.grids[1].pk)] and query["measure"] == ["submitted"]
    chart = response.context["chart"]["ranking"]
    assert (chart["groups"], chart["values"]) == (["1号院", "2号院"], [100.0, 0.0])


def test_dashboard_is_scoped_to_the_reader(client, world, rated_world):
    response = as_user(client, world, "grid2").get("/cases/console/rates/")
    assert response.context["total"]["submitted"] == 1
    response = as_user(client, world, "z_worker").get("/cases/console/rates/")
    assert response.context["total"]["submitted"] == 0


def test_dashboard_shows_the_period_in_effect(client, world, rated_world):
    response = as_user(client, world, "worker").get("/cases/console/rates/?start=2025-03&by=unit")
    page = text(response)
    assert 'name="start" value="2025-03"' in page
    assert f'name="end" value="{timezone.localdate():%Y-%m}"' in page
    assert "start=2025-03&amp;end=" in page  # the export links carry the same period


def test_dashboard_period_errors_are_form_errors(client, world, rated_world):
    response = as_user(client, world, "worker").get("/cases/console/rates/?start=2025-05&end=2025-01")
    assert response.context["form"].errors["end"] == ["The end of the period comes before its start."]
    assert "total" not in response.context


def test_the_default_period_is_the_last_twelve_months(client, world, rated_world):
    response = as_user(client, world, "worker").get("/cases/console/rates/")
    today = timezone.localdate()
    start, end = response.context["start"], response.context["end"]
    assert (end.year, end.month) == (today.year, today.month)
    assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 11
    assert start.day == 1
    assert len(response.context["months"]) == 1  # only this month has cases


def test_export_csv_and_excel(client, world, rated_world):
    as_user(client, world, "worker")
    response = client.get("/cases/console/rates/export.csv?by=grid")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="three-rates-grid-')
    body = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["grid", "cases"]
    assert [row[:2] for row in rows[1:]] == [["1号院", "2"], ["2号院", "1"]]
    assert rows[1][-3:] == ["100.0%", "100.0%", "100.0%"]
    xlsx = client.get("/cases/console/rates/export.xlsx?by=unit")
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "handling unit"
    assert [row[0] for row in values[1:]] == ["安居物业", "(none)"]
    assert client.get("/cases/console/rates/export.csv?start=2025-05&end=2025-01").status_code == 400


def test_console_filters_by_status_grid_and_dates(client, world, rated_world):
    a, b, c = rated_world["a"], rated_world["b"], rated_world["c"]
    as_user(client, world, "worker")
    assert drill(client, "/cases/console/?status=closed") == [a.number]
    assert drill(client, f"/cases/console/?grid={world.grids[0].pk}") == sorted([a.number, c.number])
    assert drill(client, "/cases/console/?grid=none") == []
    assert drill(client, f"/cases/console/?unit={world.property_company.pk}") == sorted([a.number, b.number])
    today = timezone.localdate()
    assert drill(client, f"/cases/console/?date_from={today + dt.timedelta(days=1)}") == []
    assert drill(client, f"/cases/console/?date_to={today}") == sorted([a.number, b.number, c.number])
    assert drill(client, f"/cases/console/?number={b.number}") == [b.number]
    bad = client.get("/cases/console/?date_from=2025-05-02&date_to=2025-05-01")
    assert bad.context["form"].errors["date_to"] == ["The end of the period comes before its start."]
    assert bad.context["page"] is None


def test_every_page_renders_in_chinese_by_default(client, world, rated_world):
    case = rated_world["b"]
    client.force_login(world.users["worker"])
    for url in ("/cases/console/", "/cases/console/?queue=accept", f"/cases/console/{case.number}/",
                "/cases/console/new/", "/cases/console/rates/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in text(response)
    client.force_login(world.users["resident"])
    for url in ("/cases/", "/cases/new/", f"/cases/{case.number}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in text(response)
