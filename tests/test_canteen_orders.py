"""Canteen orders (linli/canteen/orders.py, payment.py): placing, every refusal of the contract
(each a clear error, nothing changed: no order, no places taken, no points moved), the price kept
after a change, points paid and refunded through the ledger, cancelling, serving, paying; and the
residents' pages (views_orders.py)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from linli.canteen import canteens, eligibility, menus, orders, subsidies
from linli.canteen.models import Canteen, Meal, Order
from linli.community.models import Organisation, StaffRole
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.points import ledger, partners
from linli.points.models import Account, Transaction

from factories import _role, _user

pytestmark = pytest.mark.django_db


# --- the kitchen: a canteen with a partner, its staff, dishes, tomorrow's published lunch ---------


@dataclass
class Kitchen:
    canteen: Canteen
    meal: Meal
    dishes: list
    staff: object
    other_staff: object
    day: dt.date
    users: dict = field(default_factory=dict)


def setup_canteen(world, *, onsite=40, delivery=10, price=1200, day=None, kind="lunch", publish=True,
                  times=None) -> Kitchen:
    """The canteen of ``world.community`` (made once), its staff, and a meal of ``kind`` on ``day``
    (tomorrow), published; residents aged 80+ pay half (the rule for ``age_80``)."""
    admin = world.users["admin"]
    canteen = Canteen.objects.filter(community=world.community).first()
    if canteen is None:
        org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="友谊食堂运营",
                                          community=world.community, street=world.street)
        partner = partners.partner_create(actor=admin, community=world.community, name="友谊食堂", kind="canteen",
                                          organisation=org)
        canteen = canteens.canteen_create(actor=admin, community=world.community, name="友谊食堂", partner=partner,
                                          place="活动中心一楼", times=times)
        staff = _user("canteen_staff")
        _role(staff, StaffRole.Role.UNIT_STAFF, community=world.community, organisation=org)
        other_org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name="别处食堂",
                                                community=world.other_community, street=world.street)
        other_partner = partners.partner_create(actor=_z_admin(world), community=world.other_community,
                                                name="别处食堂", kind="canteen", organisation=other_org)
        canteens.canteen_create(actor=_z_admin(world), community=world.other_community, name="别处食堂",
                                partner=other_partner)
        other = _user("other_canteen_staff")
        _role(other, StaffRole.Role.UNIT_STAFF, community=world.other_community, organisation=other_org)
        subsidies.rule_set(actor=admin, canteen=canteen, criterion="age_80", percent=50)
        menus.dish_create(actor=admin, canteen=canteen, name="清蒸鱼", price_fen=800, tags=["low_salt", "soft"])
        menus.dish_create(actor=admin, canteen=canteen, name="南瓜粥", price_fen=300, tags=["low_sugar", "soft"])
    staff = get_user_model().objects.get(username="canteen_staff")
    other = get_user_model().objects.get(username="other_canteen_staff")
    dishes = list(canteen.dishes.order_by("id"))
    day = day or timezone.localdate() + dt.timedelta(days=1)
    meal = menus.meal_create(actor=admin, canteen=canteen, day=day, kind=kind, price_fen=price,
                             onsite_capacity=onsite, delivery_capacity=delivery, dishes=dishes, publish=publish)
    return Kitchen(canteen=canteen, meal=meal, dishes=dishes, staff=staff, other_staff=other, day=day)


def _z_admin(world):
    user = get_user_model().objects.filter(username="z_admin").first()
    if user is None:
        user = _user("z_admin")
        _role(user, StaffRole.Role.COMMUNITY_ADMIN, community=world.other_community)
    return user


def give(resident, points: int):
    community = resident.community
    ledger.post(community=community, kind="grant",
                lines=[(ledger.issuance(community), -points), (ledger.account_for(resident), points)])


def balance(resident) -> int:
    return Account.objects.filter(resident=resident).values_list("balance", flat=True).first() or 0


def ineligible(world):
    """A resident of Y whom no delivery criterion covers (and who has no permit)."""
    canteen = Canteen.objects.get(community=world.community)
    for r in world.residents:
        if not eligibility.delivery_allowed(canteen, r, on=timezone.localdate())[0]:
            return r
    raise AssertionError("the world has no ineligible resident")


def eligible(world) -> list:
    """Residents of Y other than the first whom a delivery criterion covers."""
    canteen = Canteen.objects.get(community=world.community)
    found = [r for r in world.residents[1:] if eligibility.delivery_allowed(canteen, r, on=timezone.localdate())[0]]
    assert len(found) >= 2, "the world has too few delivery-eligible residents"
    return found


def linked_user(resident, username: str):
    if resident.user_id:
        return resident.user
    user = _user(username)
    resident.user = user
    resident.save(update_fields=["user"])
    return user


def snapshot(meal: Meal, resident=None) -> tuple:
    """What must not move when an order is refused."""
    m = Meal.objects.get(pk=meal.pk)
    return (Order.objects.count(), m.onsite_taken, m.delivery_taken, Transaction.objects.count(),
            balance(resident) if resident is not None else None,
            Event.objects.filter(verb="canteen.order_placed").count())


def place(world, kitchen, resident=None, **kw):
    resident = resident or world.residents[0]
    kw.setdefault("actor", world.users["resident"])
    kw.setdefault("channel", "online")
    return orders.order_place(resident=resident, meal=kw.pop("meal", kitchen.meal), **kw)


# --- placing --------------------------------------------------------------------------------------


def test_an_order_takes_its_places_copies_the_price_and_applies_the_subsidy(world):
    k = setup_canteen(world)
    order, created = place(world, k, quantity=2)
    assert created and order.status == "ordered" and order.channel == "online"
    meal = Meal.objects.get(pk=k.meal.pk)
    assert meal.onsite_taken == 2 and meal.delivery_taken == 0
    assert order.unit_price_fen == 1200
    # Resident 0 is 80+: the rule pays half of one portion; the second portion is full price.
    assert (order.subsidy_criterion, order.subsidy_fen, order.payable_fen) == ("age_80", 600, 1800)
    assert order.paid is False and order.points == 0
    event = Event.objects.get(verb="canteen.order_placed")
    assert event.data["meal"] == k.meal.pk and event.data["quantity"] == 2 and event.data["delivery"] is False
    assert world.residents[0].name.reveal() not in str(event.data)


def test_delivery_for_an_eligible_elder_takes_a_delivery_place(world):
    k = setup_canteen(world)
    order, _ = place(world, k, delivery=True)
    meal = Meal.objects.get(pk=k.meal.pk)
    assert order.delivery and meal.delivery_taken == 1 and meal.onsite_taken == 0


def _refused(world, k, exc_type, code, resident=None, **kw):
    resident = resident or world.residents[0]
    before = snapshot(k.meal, resident)
    with translation.override("en"), pytest.raises(exc_type) as caught:
        place(world, k, resident=resident, **kw)
    assert caught.value.code == code
    assert str(caught.value.message).strip()
    assert snapshot(k.meal, resident) == before, "a refusal changed something"
    return caught.value


def test_a_draft_or_cancelled_meal_is_not_open(world):
    k = setup_canteen(world, publish=False)
    error = _refused(world, k, Conflict, "not_open")
    assert "not open" in str(error.message)
    admin = world.users["admin"]
    menus.meal_publish(actor=admin, meal=k.meal)
    menus.meal_cancel(actor=admin, meal=k.meal, reason="停水")
    _refused(world, k, Conflict, "not_open")


def test_after_the_cut_off_online_and_delivery_are_refused_the_counter_sells_on_site(world):
    k = setup_canteen(world)
    late = k.meal.cutoff_at + dt.timedelta(minutes=1)
    error = _refused(world, k, Conflict, "cut_off", at=late)
    assert "closed at" in str(error.message)
    _refused(world, k, Conflict, "cut_off", at=late, actor=k.staff, channel="counter", delivery=True)
    _refused(world, k, Conflict, "cut_off", at=late, actor=world.users["worker"], channel="phone")
    order, created = place(world, k, at=late, actor=k.staff, channel="counter")
    assert created and order.channel == "counter" and order.paid
    # After the meal ends even the counter is refused.
    _refused(world, k, Conflict, "cut_off", resident=world.residents[1], at=k.meal.ends_at, actor=k.staff,
             channel="counter")


@pytest.mark.parametrize("quantity", [0, -1, 4, 10 ** 9, "2", 1.5, True, None])
def test_zero_negative_absurd_or_non_integer_quantities_are_refused(world, quantity):
    k = setup_canteen(world)
    error = _refused(world, k, InvalidInput, "quantity", quantity=quantity)
    assert "1 to 3" in str(error.message)


def test_delivery_for_someone_not_eligible_names_the_route_to_the_office(world):
    k = setup_canteen(world)
    r = ineligible(world)
    user = linked_user(r, "plain")
    error = _refused(world, k, InvalidInput, "not_eligible", resident=r, actor=user, delivery=True)
    assert "Ask the community office to arrange delivery" in str(error.message)
    # The office's permit is the route: then it is allowed.
    eligibility.permit_grant(actor=world.users["admin"], canteen=k.canteen, resident=r, reason="术后行动不便")
    order, created = place(world, k, resident=r, actor=user, delivery=True)
    assert created and order.delivery


def test_ordering_twice_is_refused_and_allowed_again_after_cancelling(world):
    k = setup_canteen(world)
    first, _ = place(world, k)
    _refused(world, k, Conflict, "already_ordered")
    _refused(world, k, Conflict, "already_ordered", delivery=True)
    orders.order_cancel(actor=world.users["resident"], order=first)
    again, created = place(world, k)
    assert created and again.pk != first.pk


def test_a_full_meal_refuses_and_places_come_back_on_cancelling(world):
    k = setup_canteen(world, onsite=2, delivery=1)
    order, _ = place(world, k, quantity=2)
    error = _refused(world, k, Conflict, "full", resident=world.residents[1], actor=world.users["admin"])
    assert "full" in str(error.message)
    first, second = eligible(world)[:2]
    place(world, k, resident=first, actor=world.users["admin"], delivery=True)
    _refused(world, k, Conflict, "full", resident=second, actor=world.users["admin"], delivery=True)
    orders.order_cancel(actor=world.users["resident"], order=order)
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 0
    _, created = place(world, k, resident=ineligible(world), actor=world.users["admin"])
    assert created


def test_not_enough_points_is_refused_by_the_ledger(world):
    k = setup_canteen(world)
    give(world.residents[0], 5)  # 600 fen at 10 fen a point = 60 points
    error = _refused(world, k, Conflict, "insufficient_points", payment="points")
    with translation.override("en"):
        assert "not enough points" in str(error.message)
    assert balance(world.residents[0]) == 5


def test_another_communitys_resident_and_ordering_for_someone_else_are_refused(world):
    k = setup_canteen(world)
    _refused(world, k, PermissionDenied, "other_community", resident=world.other_resident,
             actor=world.users["z_worker"])
    # A resident may order only for themselves; other communities' staff not at all.
    _refused(world, k, PermissionDenied, "not_own", resident=world.residents[1])
    _refused(world, k, PermissionDenied, "not_own", resident=world.residents[1], actor=world.users["z_worker"],
             channel="phone")
    _refused(world, k, PermissionDenied, "not_own", resident=world.residents[1], actor=k.other_staff,
             channel="counter")
    # The office may order on a resident's behalf.
    order, created = place(world, k, resident=world.residents[1], actor=world.users["worker"], channel="phone")
    assert created and order.placed_by == world.users["worker"]


def test_unknown_payment_or_channel_are_refused(world):
    k = setup_canteen(world)
    _refused(world, k, InvalidInput, "payment", payment="iou")
    _refused(world, k, InvalidInput, "channel", channel="pigeon")
    Canteen.objects.filter(pk=k.canteen.pk).update(partner=None)
    _refused(world, k, InvalidInput, "payment", payment="points")


def test_a_price_changed_after_ordering_keeps_the_orders_price(world):
    k = setup_canteen(world)
    order, _ = place(world, k)
    menus.meal_update(actor=world.users["admin"], meal=k.meal, price_fen=1500)
    order.refresh_from_db()
    assert (order.unit_price_fen, order.subsidy_fen, order.payable_fen) == (1200, 600, 600)
    later, _ = place(world, k, resident=world.residents[1], actor=world.users["admin"])
    assert later.unit_price_fen == 1500


# --- points ---------------------------------------------------------------------------------------


def test_points_pay_through_the_ledger_and_come_back_on_cancelling(world):
    k = setup_canteen(world)
    r = world.residents[0]
    give(r, 100)
    partner_account = ledger.partner_account(k.canteen.partner)
    order, _ = place(world, k, payment="points")
    assert order.points == 60 and order.paid and order.points_transaction is not None
    txn = order.points_transaction
    assert (txn.kind, txn.source_type, txn.source_id) == ("redemption", "canteen.order", str(order.pk))
    assert balance(r) == 40 and ledger.balance(partner_account) == 60
    assert ledger.audit(world.community).ok
    orders.order_cancel(actor=world.users["resident"], order=order)
    assert balance(r) == 100 and ledger.balance(partner_account) == 0
    assert Transaction.objects.filter(reverses=txn).exists()
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 0
    assert ledger.audit(world.community).ok


def test_points_round_up_to_a_whole_point(world):
    k = setup_canteen(world, price=1205)
    give(world.residents[0], 100)
    order, _ = place(world, k, payment="points")
    assert order.payable_fen == 1205 - 602 and order.points == 61  # 603 fen at 10 fen a point


def test_a_free_meal_is_paid_at_once(world):
    k = setup_canteen(world)
    subsidies.rule_set(actor=world.users["admin"], canteen=k.canteen, criterion="age_80", percent=100)
    order, _ = place(world, k, payment="points")
    assert order.payable_fen == 0 and order.points == 0 and order.paid and order.points_transaction is None


# --- cancelling -----------------------------------------------------------------------------------


def test_the_resident_cancels_until_the_cut_off_the_office_until_the_meal_ends(world):
    k = setup_canteen(world)
    order, _ = place(world, k)
    late = k.meal.cutoff_at + dt.timedelta(minutes=5)
    before = snapshot(k.meal)
    with translation.override("en"), pytest.raises(Conflict) as caught:
        orders.order_cancel(actor=world.users["resident"], order=order, at=late)
    assert caught.value.code == "cut_off" and "can no longer be cancelled" in str(caught.value.message)
    assert snapshot(k.meal) == before and Order.objects.get(pk=order.pk).status == "ordered"
    with pytest.raises(Conflict) as caught:
        orders.order_cancel(actor=world.users["worker"], order=order, at=k.meal.ends_at)
    assert caught.value.code == "meal_over"
    done = orders.order_cancel(actor=world.users["worker"], order=order, at=late, reason="家里有事")
    assert done.status == "cancelled" and done.cancel_reason == "家里有事"
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 0
    assert Event.objects.filter(verb="canteen.order_cancelled", target_id=str(order.pk)).count() == 1


def test_nobody_else_cancels_a_residents_order_and_a_served_one_stays(world):
    k = setup_canteen(world)
    order, _ = place(world, k)
    for actor in (world.users["grid1"], world.users["nobody"], k.other_staff):
        with pytest.raises(PermissionDenied):
            orders.order_cancel(actor=actor, order=order)
    assert Order.objects.get(pk=order.pk).status == "ordered"
    orders.order_serve(actor=k.staff, order=order, at=k.meal.starts_at)
    with pytest.raises(Conflict) as caught:
        orders.order_cancel(actor=world.users["admin"], order=order, at=k.meal.starts_at)
    assert caught.value.code == "not_cancellable"
    assert Meal.objects.get(pk=k.meal.pk).onsite_taken == 1


def test_a_cancelled_meal_cancels_its_orders_and_refunds_points(world):
    k = setup_canteen(world)
    give(world.residents[0], 100)
    order, _ = place(world, k, payment="points")
    _meal, count = menus.meal_cancel(actor=world.users["admin"], meal=k.meal, reason="停电")
    assert count == 1 and Order.objects.get(pk=order.pk).status == "cancelled"
    assert balance(world.residents[0]) == 100 and ledger.audit(world.community).ok


# --- serving and paying ---------------------------------------------------------------------------


def test_serving_marks_served_and_paid_only_for_the_counter_on_the_day(world):
    k = setup_canteen(world)
    order, _ = place(world, k, payment="mobile")
    with pytest.raises(Conflict) as caught:
        orders.order_serve(actor=k.staff, order=order, at=k.meal.starts_at - dt.timedelta(days=1))
    assert caught.value.code == "not_today"
    for actor in (k.other_staff, world.users["resident"], world.users["grid1"]):
        with pytest.raises(PermissionDenied):
            orders.order_serve(actor=actor, order=order, at=k.meal.starts_at)
    served = orders.order_serve(actor=k.staff, order=order, at=k.meal.starts_at)
    assert served.status == "served" and served.paid and served.served_at == k.meal.starts_at
    assert Event.objects.filter(verb="canteen.order_served").count() == 1
    delivered, _ = place(world, k, resident=eligible(world)[0], actor=world.users["admin"], delivery=True)
    with pytest.raises(Conflict) as caught:
        orders.order_serve(actor=k.staff, order=delivered, at=k.meal.starts_at)
    assert caught.value.code == "delivery_order"


def test_mark_paid_records_cash_or_mobile_once(world):
    k = setup_canteen(world)
    order, _ = place(world, k)
    with pytest.raises(PermissionDenied):
        orders.order_mark_paid(actor=world.users["resident"], order=order, method="cash")
    with pytest.raises(InvalidInput):
        orders.order_mark_paid(actor=k.staff, order=order, method="points")
    paid = orders.order_mark_paid(actor=k.staff, order=order, method="mobile")
    assert paid.paid and paid.payment == "mobile" and paid.paid_at
    with pytest.raises(Conflict) as caught:
        orders.order_mark_paid(actor=k.staff, order=order, method="cash")
    assert caught.value.code == "already_paid"
    assert Event.objects.filter(verb="canteen.order_paid").count() == 1


def test_idempotency_returns_the_first_order_and_refuses_another_body(world):
    k = setup_canteen(world)
    key = ("canteen.orders:%d" % world.users["resident"].pk, "abc-123")
    first, created = place(world, k, idempotency=key)
    again, created_again = place(world, k, idempotency=key)
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(Conflict) as caught:
        place(world, k, idempotency=key, quantity=2)
    assert caught.value.code == "idempotency_conflict"
    assert Order.objects.count() == 1 and Meal.objects.get(pk=k.meal.pk).onsite_taken == 1


def test_a_cancelled_order_tells_the_resident_when_someone_else_cancelled(world):
    k = setup_canteen(world)
    order, _ = place(world, k)
    orders.order_cancel(actor=world.users["worker"], order=order, reason="食材不足")
    event = Event.objects.get(verb="canteen.order_cancelled")
    with translation.override("en"):
        found = list(orders.notify_messages([event]))
    assert len(found) == 1 and found[0][1].user_ids == [world.users["resident"].pk]
    assert "cancelled" in found[0][1].body


# --- the residents' pages -------------------------------------------------------------------------


def resident_client(world) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users["resident"])
    return client


def test_the_week_page_lists_meals_by_day_with_prices_in_yuan_tags_in_words_and_the_cut_off(world):
    k = setup_canteen(world)
    page = resident_client(world).get("/canteen/")
    assert page.status_code == 200 and page["Cache-Control"].count("no-store")
    html = page.content.decode()
    assert "清蒸鱼" in html and "low salt" in html and "soft, easy to chew" in html
    assert "12.00 yuan" in html and "You pay 6.00 yuan" in html
    assert "Order by 09:30" in html and f"/canteen/meal/{k.meal.pk}/" in html
    assert "<table" not in html


def test_the_week_page_for_an_account_that_is_no_resident(world):
    setup_canteen(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users["worker"])
    page = client.get("/canteen/")
    assert page.status_code == 403 and "not linked to a resident" in page.content.decode()
    assert Client().get("/canteen/").status_code == 302  # sign in first


def test_ordering_on_the_meal_page_checks_confirms_and_a_double_tap_orders_once(world):
    k = setup_canteen(world)
    client = resident_client(world)
    url = f"/canteen/meal/{k.meal.pk}/"
    form = client.get(url)
    assert form.status_code == 200 and "Delivered to my home" in form.content.decode()
    check = client.post(url, {"step": "check", "where": "delivery", "quantity": "1", "payment": "cash"})
    html = check.content.decode()
    assert check.status_code == 200 and "Yes, order" in html and "6.00 yuan" in html
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', html).group(1)
    body = {"step": "order", "where": "delivery", "quantity": "1", "payment": "cash", "nonce": nonce}
    done = client.post(url, body)
    assert done.status_code == 302
    order = Order.objects.get()
    assert done["Location"] == f"/canteen/orders/{order.pk}/" and order.delivery and order.channel == "online"
    twice = client.post(url, body)
    assert twice.status_code == 302 and Order.objects.count() == 1
    assert Meal.objects.get(pk=k.meal.pk).delivery_taken == 1
    assert "Delivered to my home" in client.get(done["Location"]).content.decode()


def test_the_meal_page_says_why_delivery_is_not_offered_and_how_to_ask(world):
    k = setup_canteen(world)
    Canteen.objects.filter(pk=k.meal.canteen_id).update(phone="028-8888 0000")
    r = ineligible(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(linked_user(r, "plain"))
    html = client.get(f"/canteen/meal/{k.meal.pk}/").content.decode()
    assert "Delivered to my home" not in html
    assert "Ask the community office to arrange delivery for you" in html and "028-8888 0000" in html
    refused = client.post(f"/canteen/meal/{k.meal.pk}/", {"step": "check", "where": "delivery", "quantity": "1",
                                                         "payment": "cash"})
    assert refused.status_code == 400 and Order.objects.count() == 0


def test_a_refusal_on_the_meal_page_is_shown_in_words_and_nothing_changes(world):
    k = setup_canteen(world, onsite=1)
    place(world, k, resident=world.residents[1], actor=world.users["admin"])
    client = resident_client(world)
    page = client.post(f"/canteen/meal/{k.meal.pk}/", {"step": "order", "where": "onsite", "quantity": "1",
                                                       "payment": "cash", "nonce": "0" * 32})
    assert page.status_code == 409 and "Sorry, this meal is full." in page.content.decode()
    assert Order.objects.count() == 1


def test_my_orders_and_the_cancel_confirm_page(world):
    k = setup_canteen(world)
    give(world.residents[0], 100)
    order, _ = place(world, k, payment="points")
    client = resident_client(world)
    mine = client.get("/canteen/mine/").content.decode()
    assert "Coming up" in mine and f"/canteen/orders/{order.pk}/cancel/" in mine and "Ordered" in mine
    confirm = client.get(f"/canteen/orders/{order.pk}/cancel/").content.decode()
    assert "60 points you paid will come back" in confirm
    done = client.post(f"/canteen/orders/{order.pk}/cancel/")
    assert done.status_code == 302 and done["Location"] == "/canteen/mine/"
    assert Order.objects.get(pk=order.pk).status == "cancelled" and balance(world.residents[0]) == 100


def test_another_residents_order_pages_are_not_found(world):
    k = setup_canteen(world)
    order, _ = place(world, k, resident=world.residents[1], actor=world.users["admin"])
    client = resident_client(world)
    assert client.get(f"/canteen/orders/{order.pk}/").status_code == 404
    assert client.post(f"/canteen/orders/{order.pk}/cancel/").status_code == 404
    assert Order.objects.get(pk=order.pk).status == "ordered"


def test_the_pages_work_in_large_text_mode(world):
    k = setup_canteen(world)
    client = resident_client(world)
    from linli.core.views import TEXT_SIZE_COOKIE

    client.cookies[TEXT_SIZE_COOKIE] = "large"
    for url in ("/canteen/", f"/canteen/meal/{k.meal.pk}/", "/canteen/mine/"):
        page = client.get(url)
        assert page.status_code == 200 and 'class="text-large"' in page.content.decode()
