"""The console and resident pages, through Django's test client, for every role.

Pages render in Simplified Chinese unless the visitor chose English, so the
assertions on wording use the Chinese texts of linli/locale.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from linli.core.models import Event

from tests.conftest import PASSWORD

SEARCH = "/console/residents/"
EVENTS = "/console/events/"


def household_url(household):
    return f"/console/households/{household.pk}/"


def resident_url(resident):
    return f"/console/residents/{resident.pk}/"


def signed_in(client, user):
    client.force_login(user)
    return client


def page_text(response) -> str:
    return response.content.decode()


def plain_values(resident) -> list[str]:
    """The values that must never appear on a page unless revealed."""
    return [value.reveal() for value in (resident.phone, resident.id_number, resident.name, resident.address)
            if value is not None]


def assert_no_plaintext(response, residents, *, except_value: str | None = None):
    text = page_text(response)
    for resident in residents:
        for value in plain_values(resident):
            if value and value != except_value:
                assert value not in text, f"plain personal value on {response.request['PATH_INFO']}"


def reveal_events():
    return Event.objects.filter(verb="resident.revealed")


def search(client, **data):
    """Post the search form and follow its redirect to the results page."""
    response = client.post(SEARCH, {"query": "", **data})
    assert response.status_code == 302, page_text(response)[:2000]
    return response, client.get(response["Location"])


def result_pks(response) -> list[int]:
    return [r.pk for r in response.context["page"].object_list]


# --- Start page, sign-in and sign-out -------------------------------------------------------

def test_anonymous_visitor_is_sent_to_sign_in(client, world):
    assert client.get("/")["Location"] == reverse("login")
    for url in ["/console/", SEARCH, EVENTS, "/console/street/", "/me/",
                household_url(world.households[0]), resident_url(world.residents[0])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("username, target", [
    ("admin", "/console/"), ("grid1", "/console/"), ("supervisor", "/console/"),
    ("unit_staff", "/console/"), ("resident", "/me/"), ("nobody", "/me/"),
])
def test_start_page_sends_each_role_home(client, world, username, target):
    response = signed_in(client, world.users[username]).get("/")
    assert response.status_code == 302
    assert response["Location"] == target


def test_sign_in_page_is_chinese_and_signs_in(client, world):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "登录" in page_text(page)
    response = client.post("/accounts/login/", {"username": "grid1", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == "/console/"


def test_wrong_password_shows_a_translated_error(client, world):
    response = client.post("/accounts/login/", {"username": "grid1", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in page_text(response)


def test_sign_out_is_a_post(client, world):
    signed_in(client, world.users["grid1"])
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/console/").status_code == 302


def test_language_switch_to_english(client, world):
    signed_in(client, world.users["grid1"])
    assert "居民" in page_text(client.get("/console/"))
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    page = page_text(client.get("/console/"))
    assert "Residents" in page
    assert "Sign out" in page
    assert "退出登录" not in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/"})
    assert "退出登录" in page_text(client.get("/console/"))


# --- Console home ------------------------------------------------------------------------

def test_console_home_counts_the_grid_workers_own_grid(client, world):
    response = signed_in(client, world.users["grid1"]).get("/console/")
    assert response.status_code == 200
    assert response.context["counts"]["households"] == 4
    assert response.context["counts"]["residents"] == 6
    text = page_text(response)
    assert "网格员" in text and "1号院" in text
    assert_no_plaintext(response, world.residents)


def test_console_home_for_office_staff_counts_the_community(client, world):
    response = signed_in(client, world.users["admin"]).get("/console/")
    assert response.context["counts"]["residents"] == 12
    assert response.context["import_communities"] == [world.community]


@pytest.mark.parametrize("username", ["supervisor", "unit_staff"])
def test_console_home_without_registry_shows_no_counts(client, world, username):
    response = signed_in(client, world.users[username]).get("/console/")
    assert response.status_code == 200
    assert response.context["counts"] is None
    assert SEARCH not in page_text(response)


@pytest.mark.parametrize("username", ["resident", "nobody"])
def test_console_is_closed_to_accounts_without_a_staff_role(client, world, username):
    signed_in(client, world.users[username])
    for url in ["/console/", SEARCH, EVENTS, "/console/street/",
                household_url(world.households[0]), resident_url(world.residents[0])]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "无权访问" in page_text(response)


# --- The main menu: this app's entries ------------------------------------------------------

COMMUNITY_ENTRIES = ("console", "residents", "needs", "event_log", "street_overview", "my_home")


@pytest.mark.parametrize("username, shown", [
    ("admin", {"console", "residents", "needs", "event_log"}),
    ("grid1", {"console", "residents", "needs", "event_log"}),
    ("supervisor", {"console", "needs", "event_log", "street_overview"}),
    ("unit_staff", {"console"}),
    ("resident", {"my_home"}),
    ("nobody", {"my_home"}),
])
def test_the_menu_entries_this_app_registers(client, world, username, shown):
    from linli.core import registry

    entries = {e.name: e for e in registry.menu_entries() if e.name in COMMUNITY_ENTRIES}
    assert set(entries) == set(COMMUNITY_ENTRIES)
    user = world.users[username]
    assert {name for name, entry in entries.items() if entry.visible(user)} == shown
    # And the page draws them, in order, the current one marked.
    page = page_text(signed_in(client, user).get("/console/" if "console" in shown else "/me/"))
    text = page[page.index('<nav class="main"'):page.index("</nav>")]
    drawn = [name for name in COMMUNITY_ENTRIES if f'href="{reverse(entries[name].url_name)}"' in text]
    assert set(drawn) == shown
    hrefs = [text.index(f'href="{reverse(entries[name].url_name)}"') for name in drawn]
    assert hrefs == sorted(hrefs)
    here = reverse("console") if "console" in shown else reverse("my_home")
    assert f'href="{here}" aria-current="page"' in text


# --- Resident search ---------------------------------------------------------------------

@pytest.mark.parametrize("username", ["unit_staff", "supervisor"])
def test_handling_units_and_supervisors_cannot_use_the_registry(client, world, username):
    signed_in(client, world.users[username])
    assert client.get(SEARCH).status_code == 403
    assert client.post(SEARCH, {"query": "王"}).status_code == 403
    assert client.get(household_url(world.households[0])).status_code == 403
    assert client.get(resident_url(world.residents[0])).status_code == 403


def test_grid_worker_lists_only_their_grid(client, world):
    response = signed_in(client, world.users["grid1"]).get(SEARCH)
    assert response.status_code == 200
    assert sorted(result_pks(response)) == sorted(r.pk for r in world.residents[:6])
    assert_no_plaintext(response, world.residents + [world.other_resident])
    assert str(world.residents[0].phone) in page_text(response)  # masked: 139****0001


def test_search_by_phone_keeps_the_number_out_of_the_url(client, world):
    target = world.residents[4]
    phone = target.phone.reveal()
    redirect, response = search(signed_in(client, world.users["grid1"]), query=phone)
    assert phone not in redirect["Location"]
    assert result_pks(response) == [target.pk]
    assert response.context["form"].cleaned_data["query"] == phone
    assert_no_plaintext(response, [r for r in world.residents if r is not target])
    assert target.id_number.reveal() not in page_text(response)


def test_search_by_phone_with_country_code_and_spaces(client, world):
    target = world.residents[1]
    _, response = search(signed_in(client, world.users["admin"]), query="+86 " + target.phone.reveal())
    assert result_pks(response) == [target.pk]


def test_search_by_id_number(client, world):
    target = world.residents[2]
    _, response = search(signed_in(client, world.users["grid1"]), query=target.id_number.reveal().lower())
    assert result_pks(response) == [target.pk]
    assert target.id_number.reveal() not in page_text(response)


def test_search_by_surname_stays_in_scope(client, world):
    # 王 is the surname of residents 1 (grid 1) and 7 (grid 2).
    _, response = search(signed_in(client, world.users["grid1"]), query="王")
    assert result_pks(response) == [world.residents[0].pk]
    client.force_login(world.users["admin"])
    _, response = search(client, query="王")
    assert result_pks(response) == [world.residents[0].pk, world.residents[6].pk]


def test_search_by_full_name(client, world):
    target = world.residents[3]
    _, response = search(signed_in(client, world.users["worker"]), query=target.name.reveal())
    assert result_pks(response) == [target.pk]


def test_other_community_is_never_found(client, world):
    _, response = search(signed_in(client, world.users["admin"]),
                         query=world.other_resident.phone.reveal())
    assert result_pks(response) == []
    assert "0 位居民" in page_text(response) or "找到 0" in page_text(response)


def test_filters_grid_age_and_tag(client, world):
    signed_in(client, world.users["admin"])
    _, response = search(client, grid=world.grids[1].pk)
    assert sorted(result_pks(response)) == sorted(r.pk for r in world.residents[6:])
    _, response = search(client, building=world.buildings[0].pk)
    assert sorted(result_pks(response)) == sorted(r.pk for r in world.residents[:3])
    _, response = search(client, tag=world.tags["alone"].pk)
    assert sorted(result_pks(response)) == sorted([world.residents[2].pk, world.residents[5].pk])
    year = dt.date.today().year
    _, response = search(client, age_min=year - 1950)  # born 1950 or earlier
    assert sorted(result_pks(response)) == sorted(r.pk for r in world.residents if r.birth_year <= 1950)
    _, response = search(client, age_min=year - 1960, age_max=year - 1955)
    assert sorted(result_pks(response)) == sorted(
        r.pk for r in world.residents if 1955 <= r.birth_year <= 1960)


def test_filters_stay_readable_in_the_url_and_query_sealed(client, world):
    signed_in(client, world.users["admin"])
    redirect, _ = search(client, query="王", grid=world.grids[0].pk, age_min=5)
    params = parse_qs(urlsplit(redirect["Location"]).query)
    assert params["grid"] == [str(world.grids[0].pk)]
    assert params["age_min"] == ["5"]
    assert "王" not in redirect["Location"]
    assert params["q"][0].startswith("v1.")


def test_a_search_link_does_not_open_for_another_account(client, world):
    signed_in(client, world.users["admin"])
    redirect, _ = search(client, query=world.residents[0].phone.reveal())
    client.force_login(world.users["worker"])
    response = client.get(redirect["Location"])
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "此搜索链接对您的账号无效" in page_text(response)


@pytest.mark.parametrize("data, field, message", [
    ({"age_min": "abc"}, "age_min", "输入整数"),
    ({"age_min": "-3"}, "age_min", "确保该值大于或等于0"),
    ({"age_min": "70", "age_max": "60"}, "age_max", "最大年龄小于最小年龄"),
    ({"grid": "999999"}, "grid", "选择一个有效的选项"),
    ({"tag": "x"}, "tag", "选择一个有效的选项"),
    ({"query": "1390000"}, "query", "请输入完整的手机号"),
])
def test_bad_filter_values_are_translated_form_errors(client, world, data, field, message):
    response = signed_in(client, world.users["grid1"]).post(SEARCH, {"query": "", **data})
    assert response.status_code == 200
    assert response.context["form"].has_error(field)
    assert message in page_text(response)
    assert response.context["page"] is None


def test_grid_worker_cannot_filter_by_another_grid(client, world):
    response = signed_in(client, world.users["grid1"]).post(SEARCH, {"grid": world.grids[1].pk})
    assert response.status_code == 200
    assert response.context["form"].has_error("grid")


def test_bad_filter_values_in_the_url_are_form_errors_too(client, world):
    response = signed_in(client, world.users["grid1"]).get(SEARCH, {"age_max": "old"})
    assert response.status_code == 200
    assert response.context["form"].has_error("age_max")
    assert response.context["page"] is None


def test_search_pages_fifty_at_a_time(client, world, monkeypatch):
    from linli.community import views

    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    signed_in(client, world.users["admin"])
    _, first = search(client, grid=world.grids[0].pk)
    assert len(first.context["page"].object_list) == 5
    assert "page=2" in page_text(first)
    second = client.get(first.request["PATH_INFO"] + "?" + first.context["url_params"] + "&page=2")
    assert len(second.context["page"].object_list) == 1


def test_search_page_size_is_fifty():
    from linli.community import views

    assert views.PAGE_SIZE == 50


# --- Household page -----------------------------------------------------------------------

def test_grid_worker_sees_their_household_masked(client, world):
    household = world.households[0]
    response = signed_in(client, world.users["grid1"]).get(household_url(household))
    assert response.status_code == 200
    text = page_text(response)
    assert household.door in text
    for member in world.residents[:2]:
        assert str(member.name) in text
        assert str(member.phone) in text
        assert str(member.id_number) in text
    assert_no_plaintext(response, world.residents)


def test_household_tags_are_listed(client, world):
    household = world.households[1]  # 102 of building 1: one elder living alone
    response = signed_in(client, world.users["grid1"]).get(household_url(household))
    assert [t.code for t in response.context["tags"]] == ["alone-elder"]
    assert "独居老人" in page_text(response)


@pytest.mark.parametrize("username", ["grid2", "z_worker", "leader"])
def test_household_outside_the_scope_is_not_found(client, world, username):
    household = world.households[2]  # grid 1, building 2: not the leader's building
    response = signed_in(client, world.users[username]).get(household_url(household))
    assert response.status_code == 404
    assert "页面不存在" in page_text(response)
    assert household.door not in page_text(response)
    assert_no_plaintext(response, world.residents)


def test_unknown_household_is_not_found(client, world):
    assert signed_in(client, world.users["admin"]).get("/console/households/999999/").status_code == 404


# --- Resident page and reveal -------------------------------------------------------------

def test_resident_page_is_masked_with_a_reveal_form_per_field(client, world):
    resident = world.residents[0]
    response = signed_in(client, world.users["grid1"]).get(resident_url(resident))
    assert response.status_code == 200
    text = page_text(response)
    assert str(resident.phone) in text and str(resident.id_number) in text
    assert text.count('name="reason"') == 5  # every protected field that has a value; no note
    assert_no_plaintext(response, world.residents)


def test_reveal_with_a_reason_shows_the_value_once_and_writes_one_event(client, world):
    resident = world.residents[1]
    signed_in(client, world.users["grid1"])
    response = client.post(resident_url(resident), {"field": "phone", "reason": "上门走访前电话联系"})
    assert response.status_code == 200
    assert resident.phone.reveal() in page_text(response)
    assert_no_plaintext(response, world.residents, except_value=resident.phone.reveal())
    assert response["Cache-Control"].count("no-store") == 1
    events = list(reveal_events())
    assert len(events) == 1
    assert events[0].actor == world.users["grid1"]
    assert events[0].target_id == str(resident.pk)
    assert events[0].data == {"field": "phone", "reason": "上门走访前电话联系"}
    # Shown once: the next visit is masked again, and nothing sits in the session.
    again = client.get(resident_url(resident))
    assert resident.phone.reveal() not in page_text(again)
    assert resident.phone.reveal() not in str(dict(client.session))


def test_reveal_id_number_shows_only_that_field(client, world):
    resident = world.residents[0]
    response = signed_in(client, world.users["worker"]).post(
        resident_url(resident), {"field": "id_number", "reason": "核对低保申请"})
    assert resident.id_number.reveal() in page_text(response)
    assert resident.phone.reveal() not in page_text(response)
    assert reveal_events().count() == 1


def test_reveal_without_a_reason_is_a_form_error_and_no_event(client, world):
    resident = world.residents[0]
    signed_in(client, world.users["grid1"])
    for reason in ["", "   ", "x"]:
        response = client.post(resident_url(resident), {"field": "phone", "reason": reason})
        assert response.status_code == 200
        assert "请说明查看此信息的原因" in page_text(response)
        assert resident.phone.reveal() not in page_text(response)
    assert reveal_events().count() == 0


def test_reveal_of_an_unknown_field_is_refused(client, world):
    response = signed_in(client, world.users["grid1"]).post(
        resident_url(world.residents[0]), {"field": "password", "reason": "测试原因"})
    assert response.status_code == 200
    assert "选择一个有效的选项" in page_text(response)
    assert reveal_events().count() == 0


def test_party_secretary_may_read_but_not_reveal(client, world):
    resident = world.residents[0]
    signed_in(client, world.users["secretary"])
    page = client.get(resident_url(resident))
    assert page.status_code == 200
    assert 'name="reason"' not in page_text(page)
    response = client.post(resident_url(resident), {"field": "phone", "reason": "想看看"})
    assert response.status_code == 403
    assert "无权访问" in page_text(response)
    assert resident.phone.reveal() not in page_text(response)
    assert reveal_events().count() == 0


def test_grid_worker_cannot_reveal_in_another_grid(client, world):
    resident = world.residents[0]  # grid 1
    response = signed_in(client, world.users["grid2"]).post(
        resident_url(resident), {"field": "phone", "reason": "上门走访"})
    assert response.status_code == 404
    assert reveal_events().count() == 0


def test_building_leader_may_reveal_in_their_building(client, world):
    resident = world.residents[2]  # building 1
    response = signed_in(client, world.users["leader"]).post(
        resident_url(resident), {"field": "phone", "reason": "通知停水"})
    assert response.status_code == 200
    assert resident.phone.reveal() in page_text(response)
    assert reveal_events().count() == 1


# --- Event log ----------------------------------------------------------------------------

def test_event_log_shows_the_reveal(client, world):
    resident = world.residents[0]
    signed_in(client, world.users["grid1"])
    client.post(resident_url(resident), {"field": "phone", "reason": "上门走访"})
    response = client.get(EVENTS, {"verb": "resident.revealed"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row["event"].verb for row in rows] == ["resident.revealed"]
    text = page_text(response)
    assert "上门走访" in text and "grid1" in text and "查看了完整信息" in text
    assert_no_plaintext(response, world.residents)


def test_event_log_filters(client, world):
    resident = world.residents[0]
    signed_in(client, world.users["worker"])
    client.post(resident_url(resident), {"field": "phone", "reason": "回访"})
    today = dt.date.today()

    def verbs(**params):
        response = client.get(EVENTS, params)
        assert response.status_code == 200
        return [row["event"].verb for row in response.context["rows"]]

    assert verbs(actor="worker") == ["resident.revealed"]
    assert verbs(actor="grid1") == []
    assert verbs(target_type="community.household").count("household.created") == 8
    assert set(verbs(verb="resident")) == {"resident.created", "resident.revealed"}
    assert "resident.revealed" in verbs(date_from=today.isoformat(), date_to=today.isoformat())
    assert verbs(date_to=(today - dt.timedelta(days=2)).isoformat()) == []


@pytest.mark.parametrize("params, field, message", [
    ({"date_from": "tomorrow"}, "date_from", "输入一个有效的日期"),
    ({"date_from": "2025-05-02", "date_to": "2025-05-01"}, "date_to", "结束日期早于开始日期"),
    ({"target_type": "auth.user"}, "target_type", "选择一个有效的选项"),
])
def test_event_log_bad_filters_are_translated_errors(client, world, params, field, message):
    response = signed_in(client, world.users["admin"]).get(EVENTS, params)
    assert response.status_code == 200
    assert response.context["form"].has_error(field)
    assert message in page_text(response)


def test_grid_worker_sees_only_their_grids_events(client, world):
    response = signed_in(client, world.users["grid2"]).get(EVENTS, {"target_type": "community.resident"})
    grids = {row["event"].grid_id for row in response.context["rows"]}
    assert grids == {world.grids[1].pk}


@pytest.mark.parametrize("username, status", [
    ("admin", 200), ("grid1", 200), ("supervisor", 200), ("unit_staff", 403), ("leader", 403),
    ("resident", 403),
])
def test_who_may_read_the_event_log(client, world, username, status):
    assert signed_in(client, world.users[username]).get(EVENTS).status_code == status


# --- Street overview ----------------------------------------------------------------------

def test_street_supervisor_sees_counts_per_community(client, world):
    response = signed_in(client, world.users["supervisor"]).get("/console/street/")
    assert response.status_code == 200
    rows = {row["community"].code: row for row in response.context["rows"]}
    assert rows["Y"]["residents"] == 12 and rows["Y"]["households"] == 8
    assert rows["Z"]["residents"] == 1
    text = page_text(response)
    assert "Y社区" in text and "Z社区" in text
    for resident in world.residents:
        assert str(resident.name) not in text
    assert_no_plaintext(response, world.residents + [world.other_resident])


@pytest.mark.parametrize("username", ["admin", "grid1", "unit_staff"])
def test_street_overview_is_for_supervisors(client, world, username):
    assert signed_in(client, world.users[username]).get("/console/street/").status_code == 403


# --- The resident's own page --------------------------------------------------------------

def test_resident_sees_their_household_masked(client, world):
    me = world.residents[0]
    response = signed_in(client, world.users["resident"]).get("/me/")
    assert response.status_code == 200
    assert [m.pk for m in response.context["members"]] == [world.residents[0].pk, world.residents[1].pk]
    text = page_text(response)
    assert str(me.phone) in text and str(me.id_number) in text
    assert world.households[0].door in text
    assert_no_plaintext(response, world.residents)


def test_account_without_a_household_is_told_so(client, world):
    response = signed_in(client, world.users["nobody"]).get("/me/")
    assert response.status_code == 200
    assert response.context["resident"] is None
    assert "尚未关联" in page_text(response)


# --- Caching and the admin ----------------------------------------------------------------

@pytest.mark.parametrize("username, url_of", [
    ("grid1", lambda w: "/console/"),
    ("grid1", lambda w: SEARCH),
    ("grid1", lambda w: household_url(w.households[0])),
    ("grid1", lambda w: resident_url(w.residents[0])),
    ("grid1", lambda w: EVENTS),
    ("resident", lambda w: "/me/"),
])
def test_pages_with_personal_data_are_never_cached(client, world, username, url_of):
    response = signed_in(client, world.users[username]).get(url_of(world))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_admin_shows_residents_masked_and_read_only(client, world):
    superuser = get_user_model().objects.create_superuser("root", password=PASSWORD)
    signed_in(client, superuser)
    resident = world.residents[0]
    change = client.get(f"/admin/community/resident/{resident.pk}/change/")
    assert change.status_code == 200
    assert str(resident.phone) in page_text(change)
    assert 'name="phone"' not in page_text(change)
    listing = client.get("/admin/community/resident/")
    assert listing.status_code == 200
    for page in (change, listing, client.get(f"/admin/community/household/{resident.household_id}/change/")):
        assert page.status_code == 200
        assert_no_plaintext(page, world.residents)
    assert client.get("/admin/community/resident/add/").status_code == 403
    assert client.get("/admin/core/event/").status_code == 200
    assert client.get("/admin/community/staffrole/add/").status_code == 200


def test_staff_who_live_in_the_community_also_get_their_home(client, world):
    world.residents[6].user = world.users["grid2"]
    world.residents[6].save(update_fields=["user"])
    text = page_text(signed_in(client, world.users["grid2"]).get("/console/"))
    assert 'href="/me/"' in text
    assert "/me/" not in page_text(signed_in(client, world.users["grid1"]).get("/console/"))
    response = client.get("/me/")
    assert response.context["resident"] is None  # grid1 lives elsewhere


@pytest.mark.parametrize("view_name, status", [("not_found", 404), ("forbidden", 403), ("server_error", 500)])
def test_error_pages_are_plain(rf, world, view_name, status):
    from linli.core import views as core_views

    request = rf.get("/console/households/1/?q=13900000001")
    request.user = world.users["grid1"]
    response = getattr(core_views, view_name)(request)
    assert response.status_code == status
    text = page_text(response)
    assert "grid1" not in text and "13900000001" not in text and "/console/households/1/" not in text
    assert "邻里" in text
