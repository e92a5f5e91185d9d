"""Every role of the test world against every page of issue 12's two apps — the canteen
(``/canteen/``: the week's menu, ordering, the counter, delivery rounds, the sheet, the office) and
the services (``/services/``: bookable services, rooms, activities for all ages) — and every POST
a role may not make.

The URL list is generated from the URL configuration of the two namespaces (``canteen``,
``services``): every named pattern is visited, its parameters filled from the scene (``OBJECT``
says which object a page names). A page added later without a row in ``GROUP`` (who may open it)
and, where it names an object, in ``OBJECT``, fails ``test_every_page_of_both_apps_is_classified``:
no new page escapes the crawl.

``ALLOWED_GET`` is the contract's "Who may" list (docs/roles.md, "Canteen (友谊食堂)" and
"Services, rooms and activities") as data. A refused POST changes nothing: every form the pages
offer to a role allowed is submitted again by every role that may not open its page, and every row
of both apps, the cases, the points ledger, the event log and the notifications is compared before
and after.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.test import Client
from django.urls import get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone

from factories import _role, _user
from linli.community.models import Organisation, StaffRole
from linli.core.models import Event

from planted import person_of, planted_text

# The accounts of the test world (tests/conftest.py), plus: the canteen's own staff ("canteen"), a
# provider's staff ("provider"), resident 2 with an account ("res2", the planted person: aged 77,
# alone in her flat — her delivery is the one nobody answers), and resident 4 ("volunteer"), an
# active volunteer assigned to today's delivery round. None is a visitor who is not signed in.
ROLES = ["admin", "worker", "secretary", "grid1", "grid2", "leader", "canteen", "provider", "unit_staff",
         "supervisor", "resident", "res2", "volunteer", "z_worker", "nobody", None]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NAMESPACES = ("canteen", "services")


# --- the scene ----------------------------------------------------------------------------------------


def resident_account(world, index: int, username: str):
    resident = world.residents[index]
    if resident.user_id is None:
        resident.user = _user(username)
        resident.save(update_fields=["user"])
    world.users[username] = resident.user
    return resident.user


def build_scene(world, settings, tmp_path) -> dict:
    """Through the apps' services, as the office, the canteen, a provider and residents would:

    - the friendship canteen (a points partner run by its own organisation, whose staff account is
      "canteen"), a dish, today's lunch and tomorrow's lunch, published;
    - orders: resident 0 and resident 2 (res2) have today's lunch delivered, resident 0 also
      eats tomorrow's on site; today's delivery round in courtyard G01 is run by the volunteer
      (resident 4), out now: resident 0's lunch delivered, resident 2 not at home — a welfare
      check opens for G01's grid worker;
    - a provider (its staff: "provider"), a haircut service, slots the day after tomorrow: resident
      0 booked online, resident 2 booked by the office by phone;
    - a room of the service centre, booked by the party secretary; an event for families (its
      description names resident 2's numbers and door), resident 2 signed up with a party of 2.
    """
    from linli.canteen import canteens, delivery, menus, orders
    from linli.points import partners
    from linli.services import bookings, catalogue, events, rooms
    from linli.volunteers import volunteers

    settings.MEDIA_ROOT = str(tmp_path / "media")
    u, y = world.users, world.community
    person = person_of(world)
    text = planted_text(person)
    now = timezone.now()
    today = timezone.localdate()
    s: dict = {"world": world, "person": person, "tmp": tmp_path, "today": today}
    resident_account(world, 2, "res2")
    resident_account(world, 4, "volunteer")

    # The canteen and its staff.
    canteen_org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="友谊食堂",
                                              community=y, street=world.street)
    u["canteen"] = _user("canteen")
    _role(u["canteen"], StaffRole.Role.UNIT_STAFF, community=y, organisation=canteen_org)
    partner = partners.partner_create(actor=u["admin"], community=y, name="友谊食堂", kind="canteen",
                                      organisation=canteen_org)
    canteen = canteens.canteen_create(actor=u["admin"], community=y, name="友谊食堂", partner=partner,
                                      place="服务中心一楼", grid=world.grids[0])
    dish = menus.dish_create(actor=u["admin"], canteen=canteen, name="清蒸鲈鱼", price_fen=1200, tags=["soft"])
    lunch = menus.meal_create(actor=u["admin"], canteen=canteen, day=today, kind="lunch", price_fen=1200,
                              onsite_capacity=30, delivery_capacity=10, dishes=[dish], publish=True)
    tomorrow = menus.meal_create(actor=u["admin"], canteen=canteen, day=today + dt.timedelta(days=1),
                                 kind="lunch", price_fen=1200, onsite_capacity=30, delivery_capacity=10,
                                 dishes=[dish], publish=True)
    s.update(partner=partner, canteen=canteen, dish=dish, meal=lunch, tomorrow=tomorrow)

    # Orders placed before today's cut-off; the round; one delivered, one nobody answers.
    before = lunch.cutoff_at - dt.timedelta(hours=2)
    mine, _ = orders.order_place(actor=u["resident"], resident=world.residents[0], meal=lunch, delivery=True,
                                 channel="online", at=before)
    theirs, _ = orders.order_place(actor=u["res2"], resident=world.residents[2], meal=lunch, delivery=True,
                                   channel="online", at=before)
    upcoming, _ = orders.order_place(actor=u["resident"], resident=world.residents[0], meal=tomorrow,
                                     delivery=False, channel="online")
    volunteer = volunteers.volunteer_join(actor=u["volunteer"], resident=world.residents[4], skills=["visiting"],
                                          availability=["mon_am"])
    rnd = delivery.round_plan(actor=u["admin"], meal=lunch, grid=world.grids[0], volunteer=volunteer)
    delivery.round_start(actor=u["admin"], round=rnd)
    out_at = max(now, lunch.starts_at)
    mine = delivery.mark_delivered(actor=u["volunteer"], order=type(mine).objects.get(pk=mine.pk), at=out_at)
    theirs = delivery.mark_not_home(actor=u["volunteer"], order=type(theirs).objects.get(pk=theirs.pk), at=out_at,
                                    note="敲门无人应答")
    s.update(order=type(mine).objects.get(pk=mine.pk), other_order=type(theirs).objects.get(pk=theirs.pk),
             upcoming=upcoming, volunteer=volunteer, round=rnd)
    s["case"] = s["other_order"].welfare_case

    # Services: a provider, a haircut service, slots; two bookings.
    clinic_org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="邻里理发队",
                                             community=y, street=world.street)
    u["provider"] = _user("provider")
    _role(u["provider"], StaffRole.Role.UNIT_STAFF, community=y, organisation=clinic_org)
    provider = catalogue.provider_create(actor=u["admin"], community=y, name="邻里理发队", organisation=clinic_org)
    service = catalogue.service_create(actor=u["admin"], community=y, provider=provider, code="haircut",
                                       name="义剪", kind="haircut", place="服务中心二楼")
    slots = catalogue.slots_create(actor=u["admin"], service=service, day=today + dt.timedelta(days=2),
                                   start=dt.time(9, 0), end=dt.time(10, 0), every_minutes=30, capacity=4)
    booking, _ = bookings.book(actor=u["resident"], slot=slots[0], resident=world.residents[0], channel="online")
    other_booking, _ = bookings.book(actor=u["admin"], slot=slots[0], resident=world.residents[2], channel="phone")
    s.update(provider=provider, service=service, slot=slots[0], booking=booking, other_booking=other_booking)

    # Rooms and an event.
    week = {d: [["08:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    room = rooms.room_create(actor=u["admin"], community=y, code="hall", name="多功能厅", capacity=60, opening=week)
    at = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=3), dt.time(14, 0)))
    room_booking = rooms.request(actor=u["secretary"], room=room, starts_at=at, ends_at=at + dt.timedelta(hours=2),
                                 purpose="党员学习", attendees=20)
    start = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=4), dt.time(15, 0)))
    event = events.event_create(actor=u["admin"], community=y, title="亲子手工", audience="families",
                                starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=20,
                                place="活动室", description=f"报名后请联系{person['phone']}，地址{person['door']}")
    signup = events.signup(actor=u["res2"], event=event, resident=world.residents[2], party_size=2)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(minutes=30)):
        photo = events.add_photo(actor=u["admin"], event=event, image=_png("craft.png"))
    s["photo"] = photo
    s.update(room=room, room_booking=room_booking, event=event, signup=signup, text=text)
    return s


def _png(name: str):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def scene(world, settings, tmp_path):
    return build_scene(world, settings, tmp_path)


def client_for(scene, who) -> Client:
    client = Client(raise_request_exception=False, **EN)
    if who is not None:
        client.force_login(scene["world"].users[who])
    return client


# --- URLs from the URL configuration -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def patterns() -> dict[str, tuple[list[str], dict]]:
    """Every named URL of the two namespaces: ``namespace:name`` → (parameters, converters)."""
    found = {}
    for namespace in NAMESPACES:
        resolver = get_resolver().namespace_dict[namespace][1]
        for key in resolver.reverse_dict:
            if not isinstance(key, str):
                continue
            for possibility, _pattern, _defaults, converters in resolver.reverse_dict.getlist(key):
                for _result, params in possibility:
                    found[f"{namespace}:{key}"] = (list(params), dict(converters))
    return found


# The object a page names (its integer parameters are that object's keys), by URL name.
OBJECT = {
    "canteen:meal": "tomorrow",
    "canteen:order": "upcoming",
    "canteen:cancel": "upcoming",
    "canteen:round": "round",
    "canteen:round_stop": "round",
    "canteen:round_move": "post_only",
    "canteen:round_plan": "rounds",
    "canteen:office_meal": "tomorrow",
    "canteen:office_dish": "dish",
    "services:book": "slot",
    "services:cancel": "booking",
    "services:office_service": "service",
    "services:office_slot": "slot",
    "services:event": "event",
    "services:event_photo": "photo",
    "services:office_event": "event",
    "services:event_qr": "event",
    "services:event_qr_state": "event",
    "services:office_room": "room",
}


def _qr(s) -> str:
    from linli.volunteers import qr

    return qr.code_for(s["event"], purpose="in")


# Pages whose parameters are not one object's key: parameter → its value from the scene.
PARAMS = {
    "canteen:round_stop": {"pk": lambda s: s["round"].pk, "order": lambda s: s["order"].pk},
    "canteen:round_move": {"pk": lambda s: s["round"].pk, "move": lambda s: "finish"},
    "services:service": {"service_code": lambda s: s["service"].code},
    "services:event_scan": {"pk": lambda s: s["event"].pk, "code": _qr},
}


def url_of(name: str, s) -> str:
    params, converters = patterns()[name]
    kwargs = {}
    last_month = s["today"].replace(day=1) - dt.timedelta(days=1)
    for param in params:
        converter = type(converters.get(param)).__name__ if param in converters else "StringConverter"
        if param in PARAMS.get(name, {}):
            kwargs[param] = PARAMS[name][param](s)
        elif param in ("code", "community"):
            kwargs[param] = "Y"
        elif param == "year":
            kwargs[param] = last_month.year
        elif param == "month":
            kwargs[param] = last_month.month
        elif param in ("date", "day"):
            kwargs[param] = s["today"].isoformat()
        elif name in OBJECT:
            kwargs[param] = s[OBJECT[name]].pk
        else:
            raise KeyError(f"{name}: which object fills {param!r} ({converter})? Add it to OBJECT or PARAMS.")
    return reverse(name, kwargs=kwargs)


OFFICE = {"admin", "worker"}
RESIDENTS = {"resident", "res2", "volunteer"}
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {None}

# Which group each page belongs to: who may open it is ALLOWED_GET[group].
GROUP = {
    # Canteen: residents' pages (their own orders; the meal and the week's menu of their community).
    "canteen:week": "residents",
    "canteen:meal": "residents",
    "canteen:mine": "residents",
    "canteen:cancel": "order_owner",
    "canteen:order": "order_owner",
    # The counter, the rounds, the sheet: the office and the canteen's staff.
    "canteen:counter": "canteen_staff",
    # Orders by phone: the office alone (the canteen's staff have no registry search).
    "canteen:phone_order": "office",
    # The round list: also the grid workers (their courtyards' rounds).
    "canteen:rounds": "rounds",
    "canteen:sheet": "canteen_staff",
    # Today's round in G01, run by the volunteer: the volunteer (on its day), the office, the
    # canteen's staff, G01's grid worker.
    "canteen:round": "round",
    "canteen:round_stop": "round",
    "canteen:round_move": "post_only",
    "canteen:round_plan": "rounds",
    # The office: menus and dishes with the canteen's staff; rules, permits, the claim, the
    # statement the office alone; the dashboard and the index also for the street (counts).
    "canteen:office": "canteen_counts",
    "canteen:office_index": "canteen_office_index",
    "canteen:office_dashboard": "canteen_counts",
    "canteen:office_menu": "canteen_staff",
    "canteen:office_dishes": "canteen_staff",
    "canteen:office_dish": "canteen_staff",
    "canteen:office_meal": "canteen_staff",
    "canteen:office_meal_new": "canteen_staff",
    "canteen:office_rules": "office",
    "canteen:office_permits": "office",
    # The subsidy claim (what the street reimburses): figures, read by the canteen's staff and the
    # street too. The monthly statement's page (publish): the office.
    "canteen:office_claim": "canteen_counts",
    "canteen:statement": "office",
    # Services: residents' pages. The catalogue, the calendar and one's own lists open for any
    # signed-in account (a staff account's own lists are empty; another community's services and
    # events are not on them: test below); an event and its photos for the community's accounts.
    "services:index": "signed_in",
    "services:service": "residents",
    "services:book": "residents",
    "services:mine": "signed_in",
    "services:cancel": "booking_owner",
    "services:events": "signed_in",
    "services:event": "community",
    "services:my_events": "signed_in",
    "services:event_photo": "community",
    # The QR's landing: checks the signed-in resident in (before the event starts: a 400 that says so).
    "services:event_scan": "scan",
    # The providers' and the office's pages.
    "services:office": "services_counts",
    "services:office_index": "services_office_index",
    "services:office_dashboard": "services_counts",
    "services:office_service": "provider_staff",
    "services:office_slot": "provider_staff",
    # Rooms: whoever may ask for a room (the office, the party secretary, building leaders, staff of
    # the community's organisations).
    "services:office_rooms": "rooms",
    "services:office_room_request": "rooms",
    # Events: the office and the party secretary organise (linli/services/events.py may_run_event).
    "services:office_events": "events_office",
    "services:office_event": "events_office",
    "services:office_event_new": "events_office",
    "services:event_qr": "events_office",
    "services:event_qr_state": "events_office",
    "services:office_room": "office",
    "services:office_room_new": "office",
}

ALLOWED_GET = {
    "residents": RESIDENTS,
    "signed_in": SIGNED_IN,
    "community": SIGNED_IN - {"nobody", "z_worker", "supervisor"},
    "scan": RESIDENTS,
    # The office index (no code) sends an account with one office to it (302): whoever reaches
    # an office of the app somewhere (Z's worker: Z's).
    "canteen_office_index": OFFICE | {"canteen", "supervisor", "z_worker"},
    "services_office_index": OFFICE | {"provider", "secretary", "supervisor", "z_worker"},
    "events_office": OFFICE | {"secretary"},
    "order_owner": {"resident"},
    "booking_owner": {"resident"},
    "canteen_staff": OFFICE | {"canteen"},
    "rounds": OFFICE | {"canteen", "grid1", "grid2"},
    "round": OFFICE | {"canteen", "volunteer", "grid1"},
    "canteen_counts": OFFICE | {"canteen", "supervisor"},
    "office": OFFICE,
    "services_counts": OFFICE | {"provider", "secretary", "supervisor"},
    "provider_staff": OFFICE | {"provider"},
    "rooms": OFFICE | {"secretary", "leader", "canteen", "provider", "unit_staff"},
    "post_only": set(),
}
# Forms that only take a POST answer a GET 405, whoever asks (a visitor is sent to sign in first
# where the view asks for it).
POST_ONLY = {"post_only"}


# What "opens" means beside a 200, for some groups.
OPENS = {"canteen_office_index": (302,), "services_office_index": (302,), "scan": (400,)}


def _expected(group: str, who) -> str:
    if group in POST_ONLY:
        return "refused" if who is None else "405"
    return "200" if who in ALLOWED_GET[group] else "refused"


def _got(response, who, group: str = "") -> str:
    status = response.status_code
    if who is not None and status in OPENS.get(group, ()) and "login" not in response.get("Location", ""):
        return "200"
    if status in (200, 405):
        return "refused" if (who is None and status == 405) else str(status)
    if who is None and status == 302 and "login" in response.get("Location", ""):
        return "refused"
    if who is not None and status in (403, 404):
        return "refused"
    return str(status)


def all_urls(s) -> list[tuple[str, str]]:
    return [(name, url_of(name, s)) for name in sorted(patterns())]


def test_every_page_of_both_apps_is_classified(scene):
    """A new page of either app must say who may open it (GROUP) and what it names (OBJECT)."""
    names = set(patterns())
    assert names, "no URL of the two apps"
    assert sorted(names - set(GROUP)) == []
    for name in names:
        url_of(name, scene)  # raises for a parameter nobody fills


def test_every_role_gets_what_docs_roles_promises(scene):
    """One scene, every role in turn."""
    wrong = {}
    names = sorted(patterns())
    for who in ROLES:
        client = client_for(scene, who)
        for name in names:
            address = url_of(name, scene)  # afresh: a QR code in a URL rotates
            got, want = _got(client.get(address), who, GROUP[name]), _expected(GROUP[name], who)
            if got != want:
                wrong[(str(who), name)] = (got, want)
    assert wrong == {}, "\n".join(f"{w:>10} {n:32} got {g:8} want {x}" for (w, n), (g, x) in sorted(wrong.items()))


def test_the_catalogue_and_calendar_show_another_community_nothing(scene):
    """Any signed-in account opens the services' index and the calendar; only the community's
    accounts find its service and event there."""
    names = (scene["service"].name, scene["event"].title)
    for who in ("resident", "res2"):
        pages = [client_for(scene, who).get(url_of(n, scene)).content.decode()
                 for n in ("services:index", "services:events")]
        assert names[0] in pages[0] and names[1] in pages[1], who
    for who in ("z_worker", "nobody"):
        for n in ("services:index", "services:events"):
            page = client_for(scene, who).get(url_of(n, scene)).content.decode()
            assert not any(name in page for name in names), (who, n)


def test_the_round_is_the_volunteers_only_on_its_day(scene):
    """The round's volunteer opens its page on the day of the round, not the day after."""
    from unittest import mock

    address = url_of("canteen:round", scene)
    assert client_for(scene, "volunteer").get(address).status_code == 200
    later = timezone.now() + dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client_for(scene, "volunteer").get(address).status_code in (403, 404)
        assert client_for(scene, "admin").get(address).status_code == 200


def test_the_welfare_check_reaches_the_grid_worker_of_the_courtyard(scene):
    """Resident 2 (alone, 77) was not at home: the case is G01's grid worker's, not G02's."""
    case = scene["case"]
    assert case is not None and case.channel == "welfare"
    address = reverse("cases:staff_detail", kwargs={"number": case.number})
    assert client_for(scene, "grid1").get(address).status_code == 200
    assert client_for(scene, "grid2").get(address).status_code in (403, 404)


# --- the API ---------------------------------------------------------------------------------------


def test_the_api_answers_a_resident_with_their_own_orders_and_bookings_only(scene):
    mine = client_for(scene, "resident").get("/api/v1/canteen/orders")
    assert mine.status_code == 200
    ids = {o["id"] for o in _items(mine.json())}
    assert scene["order"].pk in ids and scene["other_order"].pk not in ids
    theirs = client_for(scene, "res2").get("/api/v1/canteen/orders")
    assert {o["id"] for o in _items(theirs.json())} >= {scene["other_order"].pk}
    assert scene["order"].pk not in {o["id"] for o in _items(theirs.json())}
    booked = client_for(scene, "resident").get("/api/v1/services/bookings")
    assert booked.status_code == 200
    ids = {b["id"] for b in _items(booked.json())}
    assert scene["booking"].pk in ids and scene["other_booking"].pk not in ids
    for who in ("nobody", None):
        assert client_for(scene, who).get("/api/v1/canteen/orders").status_code in (401, 403, 404), who
        assert client_for(scene, who).get("/api/v1/services/bookings").status_code in (401, 403, 404), who


def _items(payload):
    if isinstance(payload, dict):
        for key in ("items", "orders", "bookings", "results"):
            if key in payload:
                return payload[key]
    return payload


def test_a_resident_may_not_cancel_or_book_for_another_through_the_api(scene):
    before = _snapshot(scene)
    client = client_for(scene, "res2")
    responses = [
        client.post(f"/api/v1/canteen/orders/{scene['upcoming'].pk}/cancel"),
        client.post(f"/api/v1/services/bookings/{scene['booking'].pk}/cancel"),
        client.post("/api/v1/services/bookings", data={"slot": scene["slot"].pk,
                                                       "resident": scene["world"].residents[0].pk},
                    content_type="application/json"),
    ]
    # Naming another resident: refused, or booked for the caller themselves — never for them.
    assert [r.status_code for r in responses[:2]] in ([403, 403], [404, 404], [403, 404], [404, 403])
    from linli.services.models import Booking

    assert not Booking.objects.filter(slot=scene["slot"], resident=scene["world"].residents[0]).exclude(
        pk=scene["booking"].pk).exists()
    after = _snapshot(scene)
    changed = {k for k in before if before[k] != after[k]} - {"services.Booking", "events", "points.IdempotencyKey"}
    assert changed == set()


# --- POSTs: every form a role may not use changes nothing --------------------------------------------


SNAPSHOT_APPS = ("canteen", "services", "cases", "points", "volunteers")


def _snapshot(s) -> dict:
    state = {}
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    state["events"] = list(Event.objects.order_by("pk").values())
    notification = apps.get_model("notify", "Notification")
    state["notifications"] = list(notification.objects.order_by("pk").values())
    return state


class Forms(HTMLParser):
    """The POST forms of a page: (action, [fields]); a named submit button makes a variant each."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[tuple[str, dict, list]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = (a.get("action") or self.page_url, {}, [])
            return
        if self._form is None:
            return
        fields, buttons = self._form[1], self._form[2]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                return
            if kind == "submit":
                buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on")
            else:
                fields[name] = a.get("value", "")
        elif tag == "button" and name:
            buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if "selected" in a or not fields.get(self._select):
                fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[1][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            action, fields, buttons = self._form
            for variant in (buttons or [None]):
                data = dict(fields)
                if variant:
                    data[variant[0]] = variant[1]
                self.forms.append((html.unescape(action), data))
            self._form = None


def harvest(s) -> list[tuple[str, str, dict]]:
    """Every POST form the pages of both apps show to the roles allowed to open them:
    (the URL name of the form's action, its action, its fields)."""
    found = {}
    for who in ("admin", "canteen", "provider", "resident", "volunteer"):
        client = client_for(s, who)
        for name, address in all_urls(s):
            response = client.get(address)
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            parser = Forms(address)
            parser.feed(response.content.decode())
            for action, data in parser.forms:
                path = action.split("?")[0]
                try:
                    match = resolve(path)
                except Resolver404:
                    continue
                target = f"{match.namespace}:{match.url_name}"
                if match.namespace not in NAMESPACES:
                    continue
                key = (action, tuple(sorted(data.items())))
                found.setdefault(key, (target, action, data))
    return list(found.values())


def _may_post(target: str, who) -> bool:
    group = GROUP.get(target)
    if group is None:
        return False
    return who in ALLOWED_POST.get(target, ALLOWED_GET.get(group, set()))


# POSTs to a page allowed to fewer roles than its GET (the page is read by more roles than
# change it): URL name → the roles that may change something there.
ALLOWED_POST = {
    # Starting and finishing a round: whoever runs it (the round's page).
    "canteen:round_move": OFFICE | {"canteen", "volunteer", "grid1"},
    "canteen:office_dashboard": OFFICE,
    "canteen:office": OFFICE | {"canteen"},
    "canteen:office_index": OFFICE | {"canteen"},
    "services:office": OFFICE | {"provider"},
    "services:office_index": OFFICE | {"provider"},
    "services:office_dashboard": OFFICE,
    "services:office_rooms": OFFICE,
}


def test_the_forms_a_role_may_not_use_change_nothing(scene):
    forms = harvest(scene)
    assert len(forms) >= 8, [f[1] for f in forms]
    changed, statuses = {}, {}
    for who in ROLES:
        client = client_for(scene, who)
        for target, action, data in forms:
            if _may_post(target, who):
                continue
            before = _snapshot(scene)
            response = client.post(action, data)
            after = _snapshot(scene)
            if before != after:
                changed[(str(who), action, tuple(sorted(data)))] = sorted(k for k in before if before[k] != after[k])
            status = response.status_code
            if who is None and not (status == 302 and "login" in response.get("Location", "")) and status != 405:
                statuses[(str(who), action)] = status
            if who is not None and status not in (400, 403, 404, 405, 409):
                statuses[(str(who), action)] = status
    assert changed == {}
    assert statuses == {}


# --- the crawl: every link a role is shown opens for that role ---------------------------------------

APPS = ("/canteen/", "/services/")
HREF = re.compile(r'(?:href|action)="(/(?:canteen|services)/[^"#]*)"')


def crawl(client, first, limit=250) -> dict:
    seen: dict = {}
    queue = list(first)
    while queue and len(seen) < limit:
        address = html.unescape(queue.pop(0))
        if address in seen:
            continue
        response = client.get(address)
        seen[address] = response
        if response.status_code == 302 and response["Location"].startswith(APPS):
            queue.append(response["Location"])
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            queue += [a for a in HREF.findall(response.content.decode()) if html.unescape(a) not in seen]
    return seen


def starts(s) -> list[str]:
    return [address for _name, address in all_urls(s)]


def test_every_link_a_role_is_shown_opens_for_it(scene):
    """From every page of both apps, following every link and form under them: a page a role may
    open never offers a link it may not open (no 403, 404 or 500 past the first pages), and no
    account without an office reaches an office page."""
    first = starts(scene)
    broken, offices = {}, {}
    for who in ROLES:
        seen = crawl(client_for(scene, who), first)
        for a, r in seen.items():
            if r.status_code not in (200, 302, 405) and a not in first:
                broken[(str(who), a)] = r.status_code
        reached = {a for a, r in seen.items() if r.status_code == 200}
        if who in RESIDENTS | {"nobody", None, "grid1", "grid2"}:
            offices[str(who)] = sorted(a for a in reached if "/office/" in a)
        if who == "z_worker":
            offices[str(who)] = sorted(a for a in reached if "/Y/" in a)
    assert broken == {}
    assert {w: a for w, a in offices.items() if a} == {}
