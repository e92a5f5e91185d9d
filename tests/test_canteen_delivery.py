"""Delivery rounds: the walking order, planning, who sees a round, delivered / not at home with a
photo, a volunteer's round as a volunteers activity (docs/canteen.md, "Delivery")."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from linli.canteen import delivery
from linli.canteen.models import DeliveryRound, Order
from linli.community.models import Building, Grid
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.volunteers import hours
from linli.volunteers.models import Activity, Signup

from canteen_delivery_helpers import jpeg_bytes, make_canteen, make_meal, order_for
from volunteer_activity_helpers import volunteer_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def site(world):
    canteen = make_canteen(world)
    meal = make_meal(canteen)
    orders = [order_for(meal, r) for r in world.residents]
    return world, canteen, meal, orders


def _client(client, user):
    client.force_login(user)
    return client


# --- the walking order -----------------------------------------------------------------------


def _place(world, canteen):
    """The canteen at the origin; courtyard 2 nearer than courtyard 1; in courtyard 2 its second
    building nearer than its first; in courtyard 1 the first nearer."""
    canteen.latitude, canteen.longitude = 30.0, 104.0
    canteen.save(update_fields=["latitude", "longitude"])
    Grid.objects.filter(pk=world.grids[0].pk).update(latitude=30.010, longitude=104.0)
    Grid.objects.filter(pk=world.grids[1].pk).update(latitude=30.002, longitude=104.0)
    b = world.buildings  # G01-1, G01-2, G02-1, G02-2
    Building.objects.filter(pk=b[0].pk).update(latitude=30.009, longitude=104.0)
    Building.objects.filter(pk=b[1].pk).update(latitude=30.011, longitude=104.0)
    Building.objects.filter(pk=b[2].pk).update(latitude=30.004, longitude=104.0)
    Building.objects.filter(pk=b[3].pk).update(latitude=30.001, longitude=104.0)


def test_walking_order_is_grouped_and_follows_the_nearest_neighbour(site):
    world, canteen, meal, orders = site
    _place(world, canteen)
    walk = delivery.walking_order(orders)
    buildings = [o.resident.household.building.name for o in walk]
    assert buildings == ["G02-2栋"] * 3 + ["G02-1栋"] * 3 + ["G01-1栋"] * 3 + ["G01-2栋"] * 3
    # Inside a building: by unit, then door (101 before 102).
    assert [o.resident.household.room for o in walk[:3]] == ["101", "101", "102"]
    # Grouped: each courtyard and building is one run.
    runs = [k for i, k in enumerate(buildings) if i == 0 or buildings[i - 1] != k]
    assert len(runs) == len(set(runs))


def test_walking_order_is_deterministic_whatever_the_input_order(site):
    world, canteen, meal, orders = site
    _place(world, canteen)
    first = [o.pk for o in delivery.walking_order(orders)]
    for seed in range(5):
        shuffled = orders[:]
        random.Random(seed).shuffle(shuffled)
        assert [o.pk for o in delivery.walking_order(shuffled)] == first


def test_without_coordinates_courtyards_and_buildings_go_by_name(site):
    _world, _canteen, _meal, orders = site
    walk = delivery.walking_order(reversed(orders))
    assert [o.resident.household.building.name for o in walk] == (
        ["G01-1栋"] * 3 + ["G01-2栋"] * 3 + ["G02-1栋"] * 3 + ["G02-2栋"] * 3)


def test_natural_order_of_doors():
    assert sorted(["10", "2", "1"], key=delivery.natural_key) == ["1", "2", "10"]


# --- planning ----------------------------------------------------------------------------------


def test_round_plan_numbers_the_stops_in_walking_order_and_takes_them_once(site):
    world, canteen, meal, orders = site
    _place(world, canteen)
    Order.objects.filter(pk=orders[-1].pk).update(status="cancelled")
    Order.objects.filter(pk=orders[-2].pk).update(delivery=False)
    cancelled, onsite = orders.pop(), orders.pop()
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal, runner=world.users["cook"])
    stops = list(delivery.stops_of(round_))
    assert [o.pk for o in stops] == [o.pk for o in delivery.walking_order(orders)]
    assert [o.stop_position for o in stops] == list(range(1, 11))
    assert not Order.objects.filter(pk__in=[cancelled.pk, onsite.pk], round__isnull=False).exists()
    event = Event.objects.get(verb="canteen.round_planned")
    assert event.data["stops"] == 10 and "name" not in str(event.data)
    with pytest.raises(Conflict) as refused:
        delivery.round_plan(actor=world.users["cook"], meal=meal)
    assert refused.value.code == "no_stops"


def test_a_round_per_courtyard(site):
    world, canteen, meal, orders = site
    first = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[0])
    second = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[1])
    assert {o.resident.grid_id for o in delivery.stops_of(first)} == {world.grids[0].pk}
    assert {o.resident.grid_id for o in delivery.stops_of(second)} == {world.grids[1].pk}
    assert first.stops.count() == second.stops.count() == 6


def test_who_may_plan(site):
    world, canteen, meal, orders = site
    for who in ("resident", "unit_staff", "leader", "z_worker", "supervisor"):
        with pytest.raises(PermissionDenied):
            delivery.round_plan(actor=world.users[who], meal=meal, grid=world.grids[0])
    with pytest.raises(PermissionDenied):  # a grid worker: their own courtyard only
        delivery.round_plan(actor=world.users["grid1"], meal=meal, grid=world.grids[1])
    with pytest.raises(PermissionDenied):
        delivery.round_plan(actor=world.users["grid1"], meal=meal)
    round_ = delivery.round_plan(actor=world.users["grid1"], meal=meal, grid=world.grids[0],
                                 runner=world.users["grid1"])
    assert round_.stops.count() == 6 and not DeliveryRound.objects.exclude(pk=round_.pk).exists()


def test_a_draft_meal_has_no_round(world):
    canteen = make_canteen(world)
    meal = make_meal(canteen, status="draft")
    order_for(meal, world.residents[0])
    with pytest.raises(Conflict):
        delivery.round_plan(actor=world.users["admin"], meal=meal)


# --- a volunteer's round --------------------------------------------------------------------------


def test_a_volunteers_round_is_a_volunteers_activity_whose_hours_become_points(site):
    world, canteen, meal, orders = site
    volunteer = volunteer_for(world.residents[3])
    round_ = delivery.round_plan(actor=world.users["admin"], meal=meal, volunteer=volunteer)
    activity = Activity.objects.get(pk=round_.activity_id)
    assert activity.activity_type == "meal_delivery" and activity.slots == 1
    assert Signup.objects.get(activity=activity).volunteer_id == volunteer.pk
    assert Signup.objects.get(activity=activity).status == "confirmed"
    now = timezone.now()
    record = hours.mark(actor=world.users["admin"], activity=activity, volunteer=volunteer,
                        check_in_at=now - dt.timedelta(minutes=28), check_out_at=now)
    record = hours.approve(actor=world.users["secretary"], record=record)
    assert record.status == "approved" and record.points > 0


def test_a_volunteer_and_a_runner_not_both(site):
    world, canteen, meal, orders = site
    volunteer = volunteer_for(world.residents[3])
    with pytest.raises(InvalidInput):
        delivery.round_plan(actor=world.users["admin"], meal=meal, volunteer=volunteer, runner=world.users["cook"])


# --- who sees a round --------------------------------------------------------------------------


def _volunteer_round(world, meal):
    volunteer = volunteer_for(world.residents[3])
    round_ = delivery.round_plan(actor=world.users["admin"], meal=meal, volunteer=volunteer)
    return volunteer, round_


def test_only_the_rounds_volunteer_on_its_day_the_office_and_canteen_staff_see_it(site, client):
    world, canteen, meal, orders = site
    volunteer, round_ = _volunteer_round(world, meal)
    url = reverse("canteen:round", args=[round_.pk])
    for who in ("admin", "worker", "cook"):
        client.logout()
        assert _client(client, world.users[who]).get(url).status_code == 200, who
    client.logout()
    assert _client(client, volunteer.resident.user).get(url).status_code == 200
    for who in ("resident", "unit_staff", "leader", "z_worker", "supervisor", "grid2"):
        client.logout()
        assert _client(client, world.users[who]).get(url).status_code == 404, who
    client.logout()
    assert client.get(url).status_code == 302  # sign in first


def test_the_volunteer_sees_the_round_only_on_its_day(site, client):
    world, canteen, meal, orders = site
    volunteer, round_ = _volunteer_round(world, meal)
    user = volunteer.resident.user
    assert delivery.may_run(user, round_)
    assert not delivery.may_run(user, round_, today=meal.day + dt.timedelta(days=1))
    assert not delivery.may_run(user, round_, today=meal.day - dt.timedelta(days=1))
    meal.day = meal.day + dt.timedelta(days=1)
    meal.save(update_fields=["day"])
    response = _client(client, user).get(reverse("canteen:round", args=[round_.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403 and b"on its day" in response.content
    assert world.residents[0].name.masked.encode() not in response.content


def test_the_round_page_is_for_a_phone_with_masked_names_and_no_script(site, client):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal)
    response = _client(client, world.users["cook"]).get(reverse("canteen:round", args=[round_.pk]),
                                                        HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    for resident in world.residents:
        assert resident.name.masked in html and resident.name.reveal() not in html
        assert resident.phone.reveal() not in html
    assert html.count('capture="environment"') == 12 and html.count('accept="image/*"') == 12
    assert html.count('value="delivered"') == 12 and html.count('value="not_home"') == 12
    assert "<script" not in html.split('<main id="main">')[1]
    # Grouped by courtyard, then building, in walking order.
    assert html.index("1号院") < html.index("G01-1栋") < html.index("G01-2栋") < html.index("2号院")


def test_a_grid_worker_sees_the_rounds_of_their_courtyard(site, client):
    world, canteen, meal, orders = site
    mine = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[0])
    other = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[1])
    assert delivery.may_run(world.users["grid1"], mine) and not delivery.may_run(world.users["grid1"], other)
    rounds = _client(client, world.users["grid1"]).get(reverse("canteen:rounds", args=["Y"]))
    assert rounds.status_code == 200
    assert reverse("canteen:round", args=[mine.pk]).encode() in rounds.content
    assert reverse("canteen:round", args=[other.pk]).encode() not in rounds.content


def test_the_round_list_and_planning_from_it(site, client):
    world, canteen, meal, orders = site
    c = _client(client, world.users["cook"])
    page = c.get(reverse("canteen:rounds", args=["Y"]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b"Plan a round" in page.content
    response = c.post(reverse("canteen:round_plan", args=["Y"]), {"meal": meal.pk, "grid": world.grids[1].pk,
                                                                  "run_myself": "on"})
    assert response.status_code == 302
    round_ = DeliveryRound.objects.get()
    assert round_.grid_id == world.grids[1].pk and round_.runner_id == world.users["cook"].pk
    client.logout()
    assert _client(client, world.users["resident"]).get(reverse("canteen:rounds", args=["Y"])).status_code == 404


# --- delivered / not at home ----------------------------------------------------------------------


def test_delivered_with_a_photo_through_the_page(site, client, media):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal)
    stop = delivery.stops_of(round_)[0]
    c = _client(client, world.users["cook"])
    photo = SimpleUploadedFile("door.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = c.post(reverse("canteen:round_stop", args=[round_.pk, stop.pk]),
                      {"outcome": "delivered", "photo": photo, "note": "放在门口"})
    assert response.status_code == 302
    stop.refresh_from_db()
    assert stop.status == "delivered" and stop.outcome_at is not None and stop.outcome_note == "放在门口"
    assert stop.photo and "door" not in stop.photo.name
    round_.refresh_from_db()
    assert round_.status == "out" and round_.started_at is not None  # the first mark starts the round
    assert Event.objects.filter(verb="canteen.delivered", target_id=str(stop.pk)).count() == 1
    page = c.get(reverse("canteen:round", args=[round_.pk]))
    assert f'id="stop-{stop.pk}" class="round-stop done"'.encode() in page.content


def test_a_bad_photo_is_refused_and_nothing_changes(site, client, media):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal)
    stop = delivery.stops_of(round_)[0]
    bad = SimpleUploadedFile("door.jpg", b"this is not a photo at all", content_type="image/jpeg")
    response = _client(client, world.users["cook"]).post(
        reverse("canteen:round_stop", args=[round_.pk, stop.pk]), {"outcome": "not_home", "photo": bad},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"not a JPEG" in response.content
    stop.refresh_from_db()
    round_.refresh_from_db()
    assert stop.status == "ordered" and not stop.photo and stop.outcome_at is None
    assert round_.status == "planned"
    assert not Event.objects.filter(verb__in=("canteen.not_home", "canteen.round_started")).exists()
    with pytest.raises(InvalidInput):
        delivery.mark_delivered(actor=world.users["cook"], order=stop, photo=b"GIF89a nonsense")


def test_not_home_and_paid_on_delivery(site, client):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal)
    first, second = list(delivery.stops_of(round_))[:2]
    c = _client(client, world.users["cook"])
    c.post(reverse("canteen:round_stop", args=[round_.pk, first.pk]), {"outcome": "delivered", "paid": "on"})
    c.post(reverse("canteen:round_stop", args=[round_.pk, second.pk]), {"outcome": "not_home"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "delivered" and first.paid
    assert second.status == "not_home" and not second.paid


def test_start_and_finish(site):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["cook"], meal=meal)
    round_ = delivery.round_start(actor=world.users["cook"], round=round_)
    assert round_.status == "out" and set(round_.stops.values_list("status", flat=True)) == {"out"}
    with pytest.raises(PermissionDenied):
        delivery.round_finish(actor=world.users["resident"], round=round_)
    round_ = delivery.round_finish(actor=world.users["cook"], round=round_)
    assert round_.status == "done" and round_.finished_at is not None
    assert Event.objects.filter(verb__in=("canteen.round_started", "canteen.round_finished")).count() == 2


def test_an_order_not_on_a_round_is_not_marked(site):
    world, canteen, meal, orders = site
    with pytest.raises(Conflict):
        delivery.mark_delivered(actor=world.users["cook"], order=orders[0])


def test_one_stop_on_its_own_page(site, client):
    world, canteen, meal, orders = site
    round_ = delivery.round_plan(actor=world.users["admin"], meal=meal, grid=world.grids[0])
    stop = delivery.stops_of(round_)[0]
    url = reverse("canteen:round_stop", args=[round_.pk, stop.pk])
    page = _client(client, world.users["grid1"]).get(url)
    assert page.status_code == 200 and page.content.count(b'capture="environment"') == 1
    assert stop.resident.name.masked.encode() in page.content
    client.logout()
    assert _client(client, world.users["grid2"]).get(url).status_code == 404
    other = Order.objects.filter(round__isnull=True).first()
    client.logout()
    assert _client(client, world.users["admin"]).get(
        reverse("canteen:round_stop", args=[round_.pk, other.pk])).status_code == 404


def test_the_volunteer_finds_todays_round_on_their_home_and_the_office_the_check_in_code(site, client):
    world, canteen, meal, orders = site
    volunteer, round_ = _volunteer_round(world, meal)
    with translation.override("en"):
        actions = delivery.home_actions(volunteer.resident.user)
    assert actions == [("Today's meal delivery round", reverse("canteen:round", args=[round_.pk]))]
    assert delivery.home_actions(world.users["resident"]) == []
    page = _client(client, world.users["admin"]).get(reverse("canteen:round", args=[round_.pk]))
    assert reverse("volunteers:qr", args=["Y", round_.activity_id]).encode() in page.content
    client.logout()
    page = _client(client, volunteer.resident.user).get(reverse("canteen:round", args=[round_.pk]))
    assert b"/qr/" not in page.content
    delivery.round_start(actor=world.users["admin"], round=round_)
    delivery.round_finish(actor=world.users["admin"], round=round_)
    assert delivery.home_actions(volunteer.resident.user) == []
