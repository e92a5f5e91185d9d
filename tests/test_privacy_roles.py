"""Personal data per role, crawled (issue 8, part A): for each role the case list, the case pages
and the event log it reaches carry none of the personal data it may not see.

Planted in one case: the reporter's name (a registry field and written into the text), a mobile
number and an ID-card number written into the description, a home door written into the text (and
the household's own door), an internal note, and reasons (return, transfer) carrying the same
identifiers. docs/roles.md and docs/privacy.md ("Cases") say who sees what.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import translation

from linli.cases import rules as case_rules, services
from linli.cases.models import Case, Category, IdempotencyKey, TimeLimit
from linli.community import rules as community_rules
from linli.community.models import Organisation, Resident
from linli.community.services import resident_reveal
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.masking import mask_name, mask_phone
from linli.core.models import Event

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PHONE = "13987654321"
ID_NUMBER = "51010619790203123X"
DOOR = "9栋3单元1204室"
NOTE = "内部备注暗号"


def page(client, user, url, method="get", data=None):
    client.force_login(user)
    response = getattr(client, method)(url, data or {}, **EN)
    return response.status_code, response.content.decode()


@pytest.fixture
def planted(world):
    """A home case of the resident (G01), with the property company, a note and reasons."""
    y = world.community
    category = Category.objects.create(community=y, code="property", name_zh="物业", name_en="Property",
                                       default_unit=world.property_company)
    TimeLimit.objects.create(category=category, urgency="normal", response_amount=2, resolve_amount=3)
    resident = world.residents[0]
    name = resident.name.reveal()
    u = world.users
    u["resident"].username = "wangxm.13987"  # an account name that says who it is
    u["resident"].save(update_fields=["username"])
    description = f"我是{name}，家住{DOOR}，身份证{ID_NUMBER}，电话{PHONE}，楼道灯坏了"
    case, _ = services.case_submit(actor=u["resident"], intake=services.Intake(
        community=y, channel=Case.Channel.WEB, description=description, reporter=resident,
        place=Case.Place.HOME, category=category))
    case = services.case_accept(actor=u["worker"], case=case)
    case = services.case_dispatch(actor=u["worker"], case=case)
    reason = f"{name}说{DOOR}不归我们管，回电{PHONE}"
    case = services.case_return(actor=u["unit_staff"], case=case, reason=reason)
    case = services.case_dispatch(actor=u["worker"], case=case)
    other = Organisation.objects.create(kind=Organisation.Kind.PROPERTY_COMPANY, name="另一家物业",
                                        community=y, street=world.street)
    case = services.case_transfer(actor=u["worker"], case=case, unit=other, reason=reason)
    case = services.case_transfer(actor=u["worker"], case=case, unit=world.property_company, reason=reason)
    services.case_note(actor=u["worker"], case=case, text=f"{NOTE}：{name}白天不在家")
    case.refresh_from_db()
    with translation.override("en"):   # the pages are read in English (EN)
        door = case.household.door
    return {"case": case, "name": name, "resident": resident, "phone": resident.phone.reveal(), "door": door}


def identifiers(p) -> dict:
    """Every form of the planted personal data a page could leak."""
    return {
        "name": p["name"], "masked name": mask_name(p["name"]),
        "phone in text": PHONE, "registry phone": p["phone"], "masked phone": mask_phone(p["phone"]),
        "id number": ID_NUMBER, "door in text": DOOR, "household door": p["door"], "note": NOTE,
        "account name": "wangxm.13987",
    }


def pages_of(p) -> list[str]:
    number = p["case"].number
    # The console opens on "needs action"; "?queue=all" lists every case the role reaches.
    return ["/cases/console/", "/cases/console/?queue=all", f"/cases/console/{number}/", "/console/events/",
            f"/console/events/?target={number}", f"/api/v1/cases/{number}",
            # The other pages a staff role lands on: none may quote the case's people.
            "/console/", "/console/needs/", "/console/street/", "/cases/console/rates/",
            "/insight/hot-issues/", "/insight/alerts/"]


def crawl(client, user, p, api=True) -> str:
    seen = []
    for url in pages_of(p) if api else [u for u in pages_of(p) if not u.startswith("/api/")]:
        status, body = page(client, user, url)
        if status == 200:
            seen.append(body)
    return "\n".join(seen)


def leaks(body: str, p, allowed=()) -> list[str]:
    return [label for label, value in identifiers(p).items() if label not in allowed and value in body]


# --- the crawl, per role -----------------------------------------------------------------------------

def test_street_supervisor_sees_no_person_in_any_page(client, world, planted):
    supervisor = world.users["supervisor"]
    status, detail = page(client, supervisor, f"/cases/console/{planted['case'].number}/")
    assert status == 200 and "楼道灯坏了" in detail  # the problem, scrubbed
    status, listing = page(client, supervisor, "/cases/console/?queue=all")
    assert status == 200 and "楼道灯坏了" in listing and planted["case"].number in listing
    body = crawl(client, supervisor, planted)
    assert leaks(body, planted) == []


def test_handling_unit_sees_the_problem_and_no_identity(client, world, planted):
    staff = world.users["unit_staff"]
    status, detail = page(client, staff, f"/cases/console/{planted['case'].number}/")
    assert status == 200 and "楼道灯坏了" in detail
    assert 'action="/cases/console/%s/reveal-contact/"' % planted["case"].number in detail  # the audited reveal
    # The unit reads its own notes (it works the case) but not names, numbers or doors in them.
    assert leaks(crawl(client, staff, planted), planted, allowed=("note",)) == []


@pytest.mark.parametrize("username", ["worker", "grid1", "secretary"])
def test_office_sees_names_and_door_masked_never_typed_numbers(client, world, planted, username):
    # The pages only: the JSON API gives the office the text as written (linli/cases/api.py).
    body = crawl(client, world.users[username], planted, api=False)
    assert planted["door"] in body
    assert mask_name(planted["name"]) in body
    assert leaks(body, planted, allowed=("name", "masked name", "door in text", "household door",
                                         "masked phone", "note", "account name")) == []


def test_building_leader_reaches_no_case(client, world, planted):
    leader = world.users["leader"]
    status, _ = page(client, leader, f"/cases/console/{planted['case'].number}/")
    assert status == 404
    assert leaks(crawl(client, leader, planted), planted) == []


def test_grid_worker_of_another_courtyard_reaches_nothing(client, world, planted):
    other = world.users["grid2"]
    assert page(client, other, f"/cases/console/{planted['case'].number}/")[0] == 404
    assert leaks(crawl(client, other, planted), planted) == []


def test_resident_sees_own_words_but_no_internal_note(client, world, planted):
    status, body = page(client, world.users["resident"], f"/cases/{planted['case'].number}/")
    assert status == 200 and PHONE in body  # their own text, as they wrote it
    assert NOTE not in body


def test_anonymous_case_shows_the_unit_no_identity_and_no_reveal(client, world, planted):
    case = planted["case"]
    Case.objects.filter(pk=case.pk).update(anonymous=True)
    staff = world.users["unit_staff"]
    status, body = page(client, staff, f"/cases/console/{case.number}/")
    assert status == 200
    assert "/reveal-contact/" not in body
    assert leaks(body, planted, allowed=("note",)) == []
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.case_contact_reveal(actor=staff, case=case, reason="回电")
    assert not Event.objects.filter(verb="case.contact_revealed").exists()


# --- A2: the audited reveal of the contact -------------------------------------------------------------

def test_unit_reveals_the_contact_once_with_one_scrubbed_event(client, world, planted):
    case = planted["case"]
    staff = world.users["unit_staff"]
    status, body = page(client, staff, f"/cases/console/{case.number}/reveal-contact/", "post",
                        {"contact-reason": f"回电问{planted['name']}的{DOOR}"})
    assert status == 200 and planted["phone"] in body
    event = Event.objects.get(verb="case.contact_revealed")
    assert event.actor == staff and event.data["field"] == "reporter_phone"
    assert planted["phone"] not in str(event.data) and planted["name"] not in event.data["reason"]
    assert DOOR not in event.data["reason"]
    # Not kept anywhere: the page read again shows the masked value only.
    assert planted["phone"] not in page(client, staff, f"/cases/console/{case.number}/")[1]


@pytest.mark.parametrize("username, allowed", [
    ("unit_staff", True), ("worker", True), ("grid1", True),
    ("supervisor", False), ("secretary", False), ("leader", False), ("resident", False),
])
def test_who_may_reveal_a_case_contact(world, planted, username, allowed):
    user = world.users[username]
    if allowed:
        assert services.case_contact_reveal(actor=user, case=planted["case"], reason="回电") == planted["phone"]
    else:
        with pytest.raises(PermissionDenied):
            services.case_contact_reveal(actor=user, case=planted["case"], reason="回电")
        assert not Event.objects.filter(verb="case.contact_revealed").exists()


def test_contact_reveal_needs_a_reason(world, planted):
    with pytest.raises(InvalidInput):
        services.case_contact_reveal(actor=world.users["unit_staff"], case=planted["case"], reason=" ")


def test_supervisor_is_refused_the_reveal_page(client, world, planted):
    status, _ = page(client, world.users["supervisor"], f"/cases/console/{planted['case'].number}/reveal-contact/",
                     "post", {"contact-reason": "看看"})
    assert status == 403


# --- A5: reasons are scrubbed where they enter the event ------------------------------------------------

@pytest.mark.parametrize("verb", ["case.returned", "case.transferred"])
def test_reasons_in_events_carry_no_identifier(world, planted, verb):
    reasons = [e.data["reason"] for e in Event.objects.filter(verb=verb)]
    assert reasons
    for reason in reasons:
        assert PHONE not in reason and DOOR not in reason and planted["name"] not in reason
        assert mask_name(planted["name"]) not in reason
        assert "回电" in reason  # the rest of the reason stays


def test_reveal_reason_is_scrubbed_in_the_event(world, planted):
    resident = planted["resident"]
    resident_reveal(actor=world.users["worker"], resident=resident, field="phone",
                    reason=f"给{planted['name']}回电 {PHONE} {DOOR}")
    reason = Event.objects.filter(verb="resident.revealed").latest("id").data["reason"]
    assert planted["name"] not in reason and PHONE not in reason and DOOR not in reason
    assert mask_name(planted["name"]) not in reason


def test_event_log_scrubs_reasons_written_before(client, world, planted):
    """An old event with a raw reason: the log page masks numbers and doors when it shows it."""
    event = Event.objects.filter(verb="case.returned").latest("id")
    event.data = {**event.data, "reason": f"旧理由 {PHONE} {DOOR}"}
    event.save(update_fields=["data"])
    status, body = page(client, world.users["supervisor"], "/console/events/")
    assert status == 200 and "旧理由" in body and PHONE not in body and DOOR not in body


# --- A4: reveal rights per field, per role ----------------------------------------------------------------

@pytest.mark.parametrize("username, field, allowed", [
    ("leader", "phone", True),
    ("leader", "id_number", False), ("leader", "note", False), ("leader", "birth_date", False),
    ("leader", "name", False), ("leader", "address", False),
    ("worker", "id_number", True), ("worker", "note", True), ("grid1", "birth_date", True),
    ("secretary", "phone", False), ("unit_staff", "phone", False), ("supervisor", "phone", False),
    ("resident", "id_number", True), ("resident", "note", False),
])
def test_reveal_rights_per_field_and_role(world, username, field, allowed):
    resident = world.residents[0]  # in the leader's building and grid1's courtyard
    user = world.users[username]
    assert community_rules.may_reveal_field(user, resident, field) is allowed
    before = Event.objects.filter(verb="resident.revealed").count()
    if allowed:
        resident_reveal(actor=user, resident=resident, field=field, reason="核对信息")
        assert Event.objects.filter(verb="resident.revealed").count() == before + 1
    else:
        with pytest.raises(PermissionDenied):
            resident_reveal(actor=user, resident=resident, field=field, reason="核对信息")
        assert Event.objects.filter(verb="resident.revealed").count() == before


def test_building_leader_page_offers_the_phone_only(client, world):
    resident = world.residents[0]
    status, body = page(client, world.users["leader"], f"/console/residents/{resident.pk}/")
    assert status == 200
    assert 'value="phone"' in body
    for field in ("id_number", "note", "birth_date", "name", "address"):
        assert f'value="{field}"' not in body
    status, _ = page(client, world.users["leader"], f"/console/residents/{resident.pk}/", "post",
                     {"field": "id_number", "reason": "核对信息"})
    assert status in (400, 403) or resident.id_number.reveal() not in _
    assert not Event.objects.filter(verb="resident.revealed").exists()


# --- A8: the anonymous-intake limit, counted atomically ---------------------------------------------------

def test_quota_counts_inside_the_transaction(world):
    from django.db import transaction

    key = "anon:test"
    y = world.community
    passed = 0
    for i in range(4):
        with transaction.atomic():
            if services.intake_quota_allows(key, limit=2, window=dt.timedelta(hours=1)):
                services.case_submit(actor=None, intake=services.Intake(
                    community=y, channel=Case.Channel.WEB, description="路灯不亮了好几天",
                    contact_phone="13800000000"), idempotency=(key, f"t-{i}"))
                passed += 1
    assert passed == 2
    assert IdempotencyKey.objects.filter(scope=key).count() == 2


def test_anonymous_posts_beyond_the_limit_are_refused(client, world, settings):
    from linli.cases import views

    settings.LINLI_ANONYMOUS_INTAKE = True
    codes = []
    for i in range(views.ANONYMOUS_PER_HOUR + 2):
        response = client.post("/cases/report/", {
            "community": world.community.code, "description": "路灯不亮了好几天", "place": "grid",
            "grid": world.grids[0].pk, "contact_phone": "13800000000", "token": f"tok-{i}"}, **EN)
        codes.append(response.status_code)
    assert codes.count(302) == views.ANONYMOUS_PER_HOUR
    assert codes[-2:] == [429, 429]


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "the in-memory shared-cache SQLite test database answers 'table is locked' instead of waiting; "
    "on a real SQLite file the settings open every transaction IMMEDIATE, which serialises the "
    "check and the write; the PostgreSQL run checks the advisory lock"))
def test_parallel_anonymous_posts_pass_exactly_the_limit(world, transactional_db, settings):
    import threading

    from django.db import transaction

    settings.LINLI_ANONYMOUS_INTAKE = True
    key, limit, threads = "anon:parallel", 5, 16
    start = threading.Barrier(threads, timeout=60)
    passed, errors = [], []

    def post(i):
        try:
            start.wait()
            with transaction.atomic():
                if services.intake_quota_allows(key, limit=limit, window=dt.timedelta(hours=1)):
                    services.case_submit(actor=None, intake=services.Intake(
                        community=world.community, channel=Case.Channel.WEB, description="路灯不亮了好几天",
                        contact_phone="13800000000"), idempotency=(key, f"p-{i}"))
                    passed.append(i)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    workers = [threading.Thread(target=post, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert errors == []
    assert len(passed) == limit
    assert IdempotencyKey.objects.filter(scope=key).count() == limit


def test_case_view_table(world, planted):
    case = planted["case"]
    u = world.users
    assert case_rules.case_view(u["worker"], case) == case_rules.FULL
    assert case_rules.case_view(u["grid1"], case) == case_rules.FULL
    assert case_rules.case_view(u["unit_staff"], case) == case_rules.UNIT_VIEW
    assert case_rules.case_view(u["supervisor"], case) == case_rules.SCRUBBED
    assert Resident.objects.filter(pk=planted["resident"].pk).exists()


def test_reveal_page_without_a_reason_shows_the_error_and_records_nothing(client, world, planted):
    staff = world.users["unit_staff"]
    url = f"/cases/console/{planted['case'].number}/reveal-contact/"
    status, body = page(client, staff, url, "post", {"contact-reason": ""})
    assert status == 400 and planted["phone"] not in body
    assert page(client, staff, url)[0] == 405
    assert not Event.objects.filter(verb="case.contact_revealed").exists()
