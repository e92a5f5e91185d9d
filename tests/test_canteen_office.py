"""The canteen's office pages (linli/canteen/views_menu.py) per role: who may open them, who is
refused (and that nothing changes then), and bad input shown on the form: a capacity below the
places taken, a negative price, a cut-off after serving starts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.canteen import menus, subsidies
from linli.canteen.models import DeliveryPermit, Dish, Meal, MealTime, SubsidyRule

from canteen_menu_helpers import household, make_canteen, meal, order, person, tag

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def canteen(world):
    return make_canteen(world)


def _client(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])
    return client


def _url(name, canteen, **kw):
    return reverse(f"canteen:{name}", kwargs={"code": canteen.community.code, **kw}) + f"?c={canteen.pk}"


def _monday(weeks=1):
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


@pytest.mark.parametrize("who,status", [
    ("admin", 200), ("worker", 200), ("chef", 200), ("supervisor", 200),
    ("grid1", 403), ("resident", 403), ("nobody", 403), ("z_worker", 404),
])
def test_office_home_per_role(client, world, canteen, who, status):
    response = _client(client, world, who).get(_url("office", canteen), **EN)
    assert response.status_code == status


def test_anonymous_is_sent_to_sign_in(client, world, canteen):
    response = client.get(_url("office_menu", canteen))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("name,allowed", [
    ("office_menu", {"admin", "worker", "chef"}),
    ("office_dishes", {"admin", "worker", "chef"}),
    ("office_rules", {"admin", "worker"}),
    ("office_permits", {"admin", "worker"}),
    ("office_claim", {"admin", "worker", "chef", "supervisor"}),
    ("office_dashboard", {"admin", "worker", "chef", "supervisor"}),
])
def test_pages_per_role(client, world, canteen, name, allowed):
    for who in ("admin", "worker", "chef", "supervisor"):
        client.force_login(world.users[who])
        response = client.get(_url(name, canteen), **EN)
        assert response.status_code == (200 if who in allowed else 403), (name, who)
    client.force_login(world.users["z_worker"])
    assert client.get(_url(name, canteen), **EN).status_code == 404


def test_office_index_lists_the_communities(client, world, canteen):
    client.force_login(world.users["supervisor"])
    response = client.get(reverse("canteen:office_index"), **EN)
    assert response.status_code in (200, 302)
    client.force_login(world.users["admin"])
    response = client.get(reverse("canteen:office_index"), **EN)
    assert response.status_code == 302 and response["Location"].endswith(f"/canteen/{world.community.code}/office/")


def test_create_a_canteen_from_the_office_page(client, world):
    client.force_login(world.users["worker"])
    url = reverse("canteen:office", kwargs={"code": world.community.code})
    assert b"Open a canteen" in client.get(url, **EN).content
    response = client.post(url, {"action": "create", "name": "长者食堂", "place": "一楼"}, **EN)
    assert response.status_code == 302
    assert MealTime.objects.filter(canteen__name="长者食堂").count() == 2


def test_chef_may_not_change_settings(client, world, canteen):
    client.force_login(world.users["chef"])
    response = client.post(_url("office", canteen), {"action": "time", "c": canteen.pk, "kind": "breakfast",
                                                     "serves_from": "07:00", "serves_until": "09:00",
                                                     "cutoff": "06:00"}, **EN)
    assert response.status_code == 403
    assert not MealTime.objects.filter(canteen=canteen, kind="breakfast").exists()


def test_cutoff_after_serving_is_shown_on_the_form(client, world, canteen):
    client.force_login(world.users["admin"])
    response = client.post(_url("office", canteen), {"action": "time", "c": canteen.pk, "kind": "lunch",
                                                     "serves_from": "11:00", "serves_until": "13:00",
                                                     "cutoff": "12:00"}, **EN)
    assert response.status_code == 200
    assert b"Orders must close before serving starts" in response.content
    assert MealTime.objects.get(canteen=canteen, kind="lunch").cutoff == dt.time(9, 30)


def test_negative_price_is_refused_on_the_dish_form(client, world, canteen):
    client.force_login(world.users["chef"])
    for price in ("-5", "0", "abc", "1.234"):
        response = client.post(_url("office_dishes", canteen), {"name": "红烧肉", "price_fen": price,
                                                                "tags": ["soft"]}, **EN)
        assert response.status_code == 200, price
    assert not Dish.objects.exists()
    response = client.post(_url("office_dishes", canteen), {"name": "红烧肉", "price_fen": "12.5", "tags": ["soft"],
                                                            "active": "on"}, **EN)
    assert response.status_code == 302
    dish = Dish.objects.get()
    assert dish.price_fen == 1250 and dish.tags == ["soft"]
    page = client.get(_url("office_dishes", canteen), **EN).content.decode()
    assert "soft, easy to chew" in page and 'data-tag="soft"' in page


def test_plan_publish_and_copy_from_the_week_page(client, world, canteen):
    chef = world.users["chef"]
    dish = menus.dish_create(actor=chef, canteen=canteen, name="米饭套餐", price_fen=1000, tags=["low_salt"])
    client.force_login(chef)
    monday = _monday(1)
    url = reverse("canteen:office_meal_new", kwargs={"code": world.community.code})
    response = client.post(f"{url}?c={canteen.pk}&day={monday.isoformat()}&kind=lunch",
                           {"price_fen": "12", "onsite_capacity": "40", "delivery_capacity": "10",
                            "dishes": [str(dish.pk)], "note": ""}, **EN)
    assert response.status_code == 302
    m = Meal.objects.get()
    assert (m.day, m.kind, m.price_fen, m.status) == (monday, "lunch", 1200, "draft")
    week = client.get(_url("office_menu", canteen) + f"&week={monday.isoformat()}", **EN).content.decode()
    assert "米饭套餐" in week and "On site: 0 of 40 taken" in week
    response = client.post(_url("office_menu", canteen), {"action": "publish", "week": monday.isoformat()}, **EN)
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.status == "published"
    response = client.post(_url("office_menu", canteen), {"action": "copy",
                                                          "week": (monday + dt.timedelta(7)).isoformat()}, **EN)
    assert response.status_code == 302
    assert Meal.objects.filter(day=monday + dt.timedelta(7), kind="lunch", status="draft").exists()


def test_capacity_below_taken_is_shown_and_nothing_changes(client, world, canteen):
    dish = menus.dish_create(actor=world.users["chef"], canteen=canteen, name="面", price_fen=800)
    m = menus.meal_create(actor=world.users["chef"], canteen=canteen, day=_monday(1), kind="lunch", price_fen=1200,
                          onsite_capacity=10, delivery_capacity=5, dishes=[dish], publish=True)
    order(m, person(world, born=1940), quantity=3)
    client.force_login(world.users["worker"])
    response = client.post(_url("office_meal", canteen, pk=m.pk),
                           {"action": "save", "price_fen": "9", "onsite_capacity": "2", "delivery_capacity": "5",
                            "dishes": [str(dish.pk)], "note": ""}, **EN)
    assert response.status_code == 200
    assert b"places are already taken" in response.content
    m.refresh_from_db()
    assert (m.onsite_capacity, m.price_fen) == (10, 1200)
    response = client.post(_url("office_meal", canteen, pk=m.pk),
                           {"action": "save", "price_fen": "-9", "onsite_capacity": "10", "delivery_capacity": "5",
                            "dishes": [str(dish.pk)], "note": ""}, **EN)
    assert response.status_code == 200
    m.refresh_from_db()
    assert m.price_fen == 1200


def test_refused_meal_actions_change_nothing(client, world, canteen):
    dish = menus.dish_create(actor=world.users["chef"], canteen=canteen, name="面", price_fen=800)
    m = menus.meal_create(actor=world.users["chef"], canteen=canteen, day=_monday(1), kind="lunch", price_fen=1200,
                          onsite_capacity=10, delivery_capacity=5, dishes=[dish])
    other = make_canteen(world, name="第二食堂", staff="chef2")
    client.force_login(world.users["chef2"])            # another canteen's staff
    for data in ({"action": "publish"}, {"action": "cancel", "reason": "x"},
                 {"action": "save", "price_fen": "1", "onsite_capacity": "1", "delivery_capacity": "1"}):
        response = client.post(_url("office_meal", canteen, pk=m.pk), data, **EN)
        assert response.status_code == 403
    m.refresh_from_db()
    assert (m.status, m.price_fen, m.onsite_capacity) == ("draft", 1200, 10)
    client.force_login(world.users["supervisor"])
    assert client.post(_url("office_meal", canteen, pk=m.pk), {"action": "publish"}, **EN).status_code == 403
    m.refresh_from_db()
    assert m.status == "draft"
    assert other.pk != canteen.pk


def test_rules_page_sets_a_rule_and_refuses_staff(client, world, canteen):
    client.force_login(world.users["chef"])
    assert client.post(_url("office_rules", canteen), {"criterion": "age_80", "percent": "50",
                                                       "max_meals_per_day": "1", "active": "on"}, **EN).status_code == 403
    assert not SubsidyRule.objects.exists()
    client.force_login(world.users["admin"])
    response = client.post(_url("office_rules", canteen), {"criterion": "age_80", "percent": "150",
                                                           "max_meals_per_day": "1", "active": "on"}, **EN)
    assert response.status_code == 200 and not SubsidyRule.objects.exists()
    response = client.post(_url("office_rules", canteen), {"criterion": "age_80", "percent": "50",
                                                           "max_meals_per_day": "1", "active": "on"}, **EN)
    assert response.status_code == 302
    assert SubsidyRule.objects.get().percent == 50


def test_permits_page_finds_masked_and_grants(client, world, canteen):
    r = world.residents[4]              # 2026-born 1955, lives with a spouse: not eligible by default
    client.force_login(world.users["worker"])
    phone = r.phone.reveal() if hasattr(r.phone, "reveal") else str(r.phone)
    # The search is a POST: the number never appears in a URL.
    found = client.post(_url("office_permits", canteen), {"action": "find", "query": phone}, **EN)
    assert found.status_code == 200 and phone not in found.request["QUERY_STRING"]
    page = found.content.decode()
    full = r.name.reveal()
    assert r.name.masked in page and full not in page
    response = client.post(_url("office_permits", canteen), {"action": "grant", "resident": r.pk,
                                                             "reason": "after surgery", "until": ""}, **EN)
    assert response.status_code == 302
    permit = DeliveryPermit.objects.get(resident=r)
    page = client.get(_url("office_permits", canteen), **EN).content.decode()
    assert r.name.masked in page and full not in page
    client.force_login(world.users["chef"])
    assert client.post(_url("office_permits", canteen), {"action": "revoke", "permit": permit.pk},
                       **EN).status_code == 403
    permit.refresh_from_db()
    assert permit.revoked_at is None
    client.force_login(world.users["worker"])
    assert client.post(_url("office_permits", canteen), {"action": "revoke", "permit": permit.pk},
                       **EN).status_code == 302
    permit.refresh_from_db()
    assert permit.revoked_at is not None


def test_claim_totals_and_csv_only_for_the_office(client, world, canteen):
    day = timezone.localdate().replace(day=1)
    subsidies.rule_set(actor=world.users["admin"], canteen=canteen, criterion="age_80", percent=50)
    m = meal(canteen, day=day)
    old = person(world, born=1940)
    order(m, old, status="served", subsidy_fen=600, criterion="age_80")
    month = f"{day.year}-{day.month:02d}"
    client.force_login(world.users["supervisor"])
    page = client.get(_url("office_claim", canteen) + f"&month={month}", **EN).content.decode()
    assert "aged 80 or over" in page and "¥6.00" in page and old.name.masked not in page
    assert client.get(_url("office_claim", canteen) + f"&month={month}&format=csv", **EN).status_code == 403
    client.force_login(world.users["admin"])
    response = client.get(_url("office_claim", canteen) + f"&month={month}&format=csv", **EN)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig").splitlines()
    assert body[0].startswith("order,day,meal,criterion") and len(body) == 2 and ",600," in body[1]


def test_dashboard_counts_and_coverage(client, world, canteen):
    today = timezone.localdate()
    hh = household(world)
    old = person(world, born=1930, hh=hh)                       # age 80+: eligible
    person(world, born=1980, hh=hh)
    m = meal(canteen, day=today - dt.timedelta(days=3))
    order(m, old, delivery=True, status="delivered")
    order(m, person(world, born=1990), status="served", quantity=2)
    order(meal(canteen, day=today - dt.timedelta(days=2)), person(world, born=1990), status="not_home",
          delivery=True)
    from linli.canteen import dashboard, eligibility

    data = dashboard.dashboard(canteen, today=today)
    assert data["delivered_total"] == 1 and data["onsite_total"] == 2 and data["not_home"] == 1
    eligible = eligibility.eligible_residents(canteen, on=today).count()
    assert data["coverage"] == {"eligible": eligible, "covered": 1, "percent": 100 // eligible}
    assert "<svg" in str(data["chart"]) and "<rect" in str(data["chart"])
    client.force_login(world.users["supervisor"])
    page = client.get(_url("office_dashboard", canteen), **EN).content.decode()
    assert "<svg" in page and "delivery coverage" in page
    assert old.name.masked not in page
    assert tag  # helpers imported for the other tests


def test_menu_entry_console_link_and_home_action(client, world, canteen):
    from linli.canteen import links

    assert links.sees_office_anywhere(world.users["worker"]) and links.sees_office_anywhere(world.users["chef"])
    assert not links.sees_office_anywhere(world.users["grid1"]) and not links.sees_office_anywhere(world.users["resident"])
    urls = [url for _label, url in links.console_links(world.users["supervisor"])]
    assert reverse("canteen:office", kwargs={"code": world.community.code}) in urls
    assert links.home_actions(world.users["resident"]) == [(links._("Canteen: this week's menu"), reverse("canteen:week"))]
    assert links.home_actions(world.users["worker"]) == []
    canteen.active = False
    canteen.save()
    assert links.home_actions(world.users["resident"]) == []
    client.force_login(world.users["admin"])
    page = client.get(_url("office", canteen), **EN).content.decode()
    assert "Counter" in page and "Delivery rounds" in page
