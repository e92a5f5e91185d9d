"""Canteens, dishes, meals and the week's menu (linli/canteen/canteens.py, menus.py): meal times
validated, meals from the meal time, capacity never below what is taken, price changes that never
touch existing orders, publish / cancel through the workflow, copy last week."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.canteen import canteens, menus
from linli.canteen.models import Canteen, Dish, Meal, MealTime, Order
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition

from canteen_menu_helpers import make_canteen, order, person


@pytest.fixture
def canteen(world):
    return make_canteen(world)


def _future_monday(weeks=1):
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)


def _dishes(world, canteen, n=2):
    return [menus.dish_create(actor=world.users["chef"], canteen=canteen, name=f"菜{i}", price_fen=800 + i,
                              tags=["soft", "low_salt"]) for i in range(n)]


def test_canteen_create_has_default_times_and_an_event(world, canteen):
    times = {t.kind: t for t in canteen.times.all()}
    assert set(times) == {"lunch", "dinner"}
    assert times["lunch"].cutoff == dt.time(9, 30) and times["lunch"].delivery_from == dt.time(11, 15)
    assert times["dinner"].serves_from == dt.time(17, 0) and times["dinner"].cutoff == dt.time(15, 0)
    assert Event.objects.filter(verb="canteen.canteen_created", target_id=str(canteen.pk)).exists()


def test_canteen_create_is_the_offices(world):
    for who in ("grid1", "supervisor", "resident", "z_worker", "unit_staff"):
        with pytest.raises(PermissionDenied):
            canteens.canteen_create(actor=world.users[who], community=world.community, name="x")
    assert not Canteen.objects.exists()


def test_cutoff_after_serving_is_refused(world, canteen):
    admin = world.users["admin"]
    with pytest.raises(InvalidInput) as exc:
        canteens.mealtime_set(actor=admin, canteen=canteen, kind="breakfast", serves_from=dt.time(7, 0),
                              serves_until=dt.time(9, 0), cutoff=dt.time(20, 0))
    assert exc.value.code == "cutoff_late"
    with pytest.raises(InvalidInput):
        canteens.mealtime_set(actor=admin, canteen=canteen, kind="lunch", serves_from=dt.time(13, 0),
                              serves_until=dt.time(11, 0), cutoff=dt.time(9, 0))
    with pytest.raises(InvalidInput):
        canteens.mealtime_set(actor=admin, canteen=canteen, kind="lunch", serves_from=dt.time(11, 0),
                              serves_until=dt.time(13, 0), cutoff=dt.time(9, 0), delivery_from=dt.time(14, 0))
    assert not MealTime.objects.filter(canteen=canteen, kind="breakfast").exists()
    canteens.mealtime_set(actor=admin, canteen=canteen, kind="breakfast", serves_from=dt.time(7, 0),
                          serves_until=dt.time(9, 0), cutoff=dt.time(6, 0))
    assert MealTime.objects.filter(canteen=canteen, kind="breakfast").exists()


def test_dish_create_validates_price_and_tags(world, canteen):
    chef = world.users["chef"]
    for bad in ({"price_fen": 0}, {"price_fen": -500}, {"price_fen": 12.5}, {"tags": ["sweet"]}, {"name": " "}):
        kw = {"name": "红烧肉", "price_fen": 1500, "tags": [], **bad}
        with pytest.raises(InvalidInput):
            menus.dish_create(actor=chef, canteen=canteen, **kw)
    with pytest.raises(PermissionDenied):
        menus.dish_create(actor=world.users["grid1"], canteen=canteen, name="x", price_fen=100)
    assert not Dish.objects.exists()
    dish = menus.dish_create(actor=chef, canteen=canteen, name="清蒸鱼", price_fen=1800, tags=["soft", "low_salt"])
    assert dish.tags == ["low_salt", "soft"]
    menus.dish_update(actor=chef, dish=dish, price_fen=1900, active=False)
    dish.refresh_from_db()
    assert dish.price_fen == 1900 and not dish.active
    assert Event.objects.filter(verb="canteen.dish_saved").count() == 2


def test_meal_create_takes_the_meal_time_and_refuses_the_past(world, canteen):
    dishes = _dishes(world, canteen)
    day = _future_monday() + dt.timedelta(days=2)
    m = menus.meal_create(actor=world.users["chef"], canteen=canteen, day=day, kind="lunch", price_fen=1200,
                          onsite_capacity=40, delivery_capacity=10, dishes=dishes)
    local = timezone.localtime(m.starts_at)
    assert (local.date(), local.time()) == (day, dt.time(11, 0))
    assert timezone.localtime(m.cutoff_at).time() == dt.time(9, 30)
    assert m.status == "draft" and [i.dish_id for i in m.items.all()] == [d.pk for d in dishes]
    with pytest.raises(InvalidInput) as exc:
        menus.meal_create(actor=world.users["chef"], canteen=canteen, day=day, kind="lunch", price_fen=1200,
                          onsite_capacity=40, delivery_capacity=10)
    assert exc.value.code == "duplicate"
    with pytest.raises(InvalidInput) as exc:
        menus.meal_create(actor=world.users["chef"], canteen=canteen, day=timezone.localdate() - dt.timedelta(1),
                          kind="lunch", price_fen=1200, onsite_capacity=40, delivery_capacity=10)
    assert exc.value.code == "past"
    with pytest.raises(InvalidInput) as exc:
        menus.meal_create(actor=world.users["chef"], canteen=canteen, day=day, kind="breakfast", price_fen=1200,
                          onsite_capacity=40, delivery_capacity=10)
    assert exc.value.code == "no_mealtime"
    for bad in ({"price_fen": -1}, {"price_fen": 0}, {"onsite_capacity": -1}, {"delivery_capacity": 1.5}):
        kw = {"price_fen": 1200, "onsite_capacity": 40, "delivery_capacity": 10, **bad}
        with pytest.raises(InvalidInput):
            menus.meal_create(actor=world.users["chef"], canteen=canteen, day=day, kind="dinner", **kw)
    assert Meal.objects.count() == 1


def test_another_communitys_dish_or_an_inactive_one_is_refused(world, canteen):
    dish = _dishes(world, canteen, 1)[0]
    menus.dish_update(actor=world.users["chef"], dish=dish, active=False)
    with pytest.raises(InvalidInput):
        menus.meal_create(actor=world.users["chef"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=1, delivery_capacity=1, dishes=[dish])


def test_capacity_below_taken_is_refused_and_price_change_keeps_orders(world, canteen):
    m = menus.meal_create(actor=world.users["admin"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=10, delivery_capacity=5, dishes=_dishes(world, canteen),
                          publish=True)
    r = person(world, born=1940)
    o = order(m, r, quantity=3)
    order(m, person(world, born=1941), delivery=True, quantity=2)
    with pytest.raises(InvalidInput) as exc:
        menus.meal_update(actor=world.users["admin"], meal=m, onsite_capacity=2)
    assert exc.value.code == "below_taken" and exc.value.field == "onsite_capacity"
    with pytest.raises(InvalidInput) as exc:
        menus.meal_update(actor=world.users["admin"], meal=m, delivery_capacity=1, price_fen=900)
    assert exc.value.code == "below_taken" and exc.value.field == "delivery_capacity"
    m.refresh_from_db()
    assert (m.onsite_capacity, m.delivery_capacity, m.price_fen) == (10, 5, 1200)   # nothing changed
    m = menus.meal_update(actor=world.users["admin"], meal=m, onsite_capacity=3, delivery_capacity=2, price_fen=1500)
    assert (m.onsite_capacity, m.delivery_capacity, m.price_fen) == (3, 2, 1500)
    o.refresh_from_db()
    assert o.unit_price_fen == 1200 and o.payable_fen == 3600
    assert menus.places_left(m, False) == 0 and menus.places_left(m, True) == 0
    assert Event.objects.filter(verb="canteen.meal_updated").count() == 1


def test_take_places_is_conditional(world, canteen):
    m = menus.meal_create(actor=world.users["admin"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=3, delivery_capacity=0)
    assert menus.take_places(m, delivery=False, quantity=2)
    assert not menus.take_places(m, delivery=False, quantity=2)
    assert not menus.take_places(m, delivery=True, quantity=1)
    assert menus.take_places(m, delivery=False, quantity=1)
    menus.give_places(m, delivery=False, quantity=3)
    m.refresh_from_db()
    assert m.onsite_taken == 0


def test_publish_needs_dishes_and_goes_through_the_workflow(world, canteen):
    m = menus.meal_create(actor=world.users["chef"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=3, delivery_capacity=1)
    with pytest.raises(InvalidInput) as exc:
        menus.meal_publish(actor=world.users["chef"], meal=m)
    assert exc.value.code == "no_dishes"
    menus.meal_update(actor=world.users["chef"], meal=m, dishes=_dishes(world, canteen))
    with pytest.raises(PermissionDenied):
        menus.meal_publish(actor=world.users["grid1"], meal=m)
    m = menus.meal_publish(actor=world.users["chef"], meal=m)
    assert m.status == "published"
    with pytest.raises(IllegalTransition):
        menus.meal_publish(actor=world.users["chef"], meal=m)
    ev = Event.objects.get(verb="canteen.meal_published")
    assert ev.data["from"] == "draft" and ev.data["to"] == "published"


def test_meal_cancel_cancels_live_orders(world, canteen):
    m = menus.meal_create(actor=world.users["admin"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=10, delivery_capacity=5, dishes=_dishes(world, canteen),
                          publish=True)
    a = order(m, person(world, born=1940), quantity=2)
    b = order(m, person(world, born=1941), delivery=True)
    with pytest.raises(InvalidInput):
        menus.meal_cancel(actor=world.users["admin"], meal=m, reason="")
    m, n = menus.meal_cancel(actor=world.users["admin"], meal=m, reason="kitchen repairs")
    assert n == 2 and m.status == "cancelled"
    assert set(Order.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True)) == {"cancelled"}
    m.refresh_from_db()
    assert (m.onsite_taken, m.delivery_taken) == (0, 0)
    ev = Event.objects.get(verb="canteen.meal_cancelled")
    assert ev.data["orders_cancelled"] == 2
    with pytest.raises(InvalidInput):
        menus.meal_update(actor=world.users["admin"], meal=m, price_fen=100)


def test_week_copy_and_week_menu(world, canteen):
    chef = world.users["chef"]
    dishes = _dishes(world, canteen, 3)
    src = _future_monday(1)
    dst = _future_monday(2)
    menus.meal_create(actor=chef, canteen=canteen, day=src, kind="lunch", price_fen=1200, onsite_capacity=30,
                      delivery_capacity=8, dishes=dishes[:2], note="soft rice", publish=True)
    menus.meal_create(actor=chef, canteen=canteen, day=src + dt.timedelta(days=1), kind="dinner", price_fen=1000,
                      onsite_capacity=20, delivery_capacity=5, dishes=dishes[2:])
    gone = menus.meal_create(actor=chef, canteen=canteen, day=src + dt.timedelta(days=2), kind="lunch",
                             price_fen=1000, onsite_capacity=20, delivery_capacity=5, dishes=dishes[2:])
    menus.meal_cancel(actor=chef, meal=gone, reason="closed")
    kept = menus.meal_create(actor=chef, canteen=canteen, day=dst, kind="lunch", price_fen=1300, onsite_capacity=1,
                             delivery_capacity=1, dishes=dishes[:1])
    made = menus.week_copy(actor=chef, canteen=canteen, from_monday=src, to_monday=dst)
    assert [(m.day, m.kind) for m in made] == [(dst + dt.timedelta(days=1), "dinner")]
    kept.refresh_from_db()
    assert kept.price_fen == 1300
    copy = made[0]
    assert copy.status == "draft" and copy.price_fen == 1000 and copy.delivery_capacity == 5
    assert [i.dish_id for i in copy.items.all()] == [dishes[2].pk]
    assert timezone.localtime(copy.starts_at).time() == dt.time(17, 0)
    with pytest.raises(InvalidInput):
        menus.week_copy(actor=chef, canteen=canteen, from_monday=src + dt.timedelta(days=1), to_monday=dst)
    with pytest.raises(PermissionDenied):
        menus.week_copy(actor=world.users["grid1"], canteen=canteen, from_monday=src, to_monday=dst)
    week = menus.week_menu(canteen, src)
    assert len(week) == 7 and [m.kind for m in week[0][1]] == ["lunch"] and week[1][1] == []   # drafts hidden
    office = menus.week_menu(canteen, src, drafts=True)
    assert [m.kind for m in office[1][1]] == ["dinner"]
    assert menus.week_publish(actor=chef, canteen=canteen, monday=dst) == 2
    assert Event.objects.filter(verb="canteen.week_copied").count() == 1


def test_other_canteens_staff_may_not_plan(world, canteen):
    other = make_canteen(world, name="第二食堂", staff="chef2")
    with pytest.raises(PermissionDenied):
        menus.dish_create(actor=world.users["chef2"], canteen=canteen, name="x", price_fen=100)
    menus.dish_create(actor=world.users["chef2"], canteen=other, name="x", price_fen=100)


@pytest.mark.django_db(transaction=True)
def test_capacity_change_racing_orders_never_goes_below_taken(world):
    """Twelve threads take a place each while the office lowers the capacity from 10 to 6: however
    they interleave, places taken never exceed the capacity, and every refusal changed nothing."""
    import threading
    import time

    from django.db import OperationalError, connections, transaction

    def retrying(fn):
        for _ in range(3000):
            try:
                return fn()
            except OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.005)
        raise AssertionError("the database stayed locked")

    canteen = make_canteen(world)
    m = menus.meal_create(actor=world.users["admin"], canteen=canteen, day=_future_monday(), kind="lunch",
                          price_fen=1200, onsite_capacity=10, delivery_capacity=0)
    barrier = threading.Barrier(13, timeout=60)
    taken, lowered, errors = [], [], []

    def take():
        try:
            barrier.wait()

            def once():
                with transaction.atomic():
                    return menus.take_places(m, delivery=False, quantity=1)
            taken.append(retrying(once))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    def lower():
        try:
            barrier.wait()
            retrying(lambda: menus.meal_update(actor=world.users["admin"], meal=Meal.objects.get(pk=m.pk),
                                               onsite_capacity=6))
            lowered.append(True)
        except InvalidInput as exc:
            lowered.append(exc.code)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(12)] + [threading.Thread(target=lower)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [], errors[:3]
    m.refresh_from_db()
    assert m.onsite_taken == sum(taken) <= m.onsite_capacity
    if lowered == [True]:
        assert m.onsite_capacity == 6 and m.onsite_taken == 6
    else:
        assert lowered == ["below_taken"] and m.onsite_capacity == 10 and m.onsite_taken == 10
