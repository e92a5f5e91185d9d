"""The catalogue, partners, keys, the counter code, redemption, cancelling and the monthly
settlement (linli/points/{catalogue,partners,redeem,tokens}.py; docs/points.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.points import catalogue, ledger, partners, redeem as redeeming, tokens
from linli.points.models import Account, Item, Posting, Redemption, Transaction

pytestmark = pytest.mark.django_db


def give(resident, points: int):
    """Points for a resident, as a grant from the community's issuance."""
    community = resident.community
    ledger.post(community=community, kind="grant", memo="test",
                lines=[(ledger.issuance(community), -points), (ledger.account_for(resident), points)])


def balance(resident) -> int:
    return redeeming.balance_of(resident)


@pytest.fixture
def shop(world):
    admin = world.users["admin"]
    canteen = partners.partner_create(actor=admin, community=world.community, name="幸福食堂", kind="canteen",
                                      organisation=world.property_company)
    meal = catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="lunch",
                                 name="午餐", kind="meal", points=10, stock=5)
    haircut = catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="cut",
                                    name="理发", kind="haircut", points=30)
    return canteen, meal, haircut


# --- the counter code -------------------------------------------------------------------------


def test_token_accepts_its_window_and_the_next_only(world):
    r = world.residents[0]
    at = timezone.now()
    token = tokens.resident_token(r, at=at)
    assert tokens.resident_from_token(world.community, token, at=at) == r
    assert tokens.resident_from_token(world.community, token, at=at + dt.timedelta(seconds=30)) == r
    with pytest.raises(InvalidInput) as caught:
        tokens.resident_from_token(world.community, token, at=at + dt.timedelta(seconds=61))
    assert caught.value.code == "qr_expired"


def test_token_rotates_and_carries_no_name(world):
    r = world.residents[0]
    at = timezone.now()
    first, later = tokens.resident_token(r, at=at), tokens.resident_token(r, at=at + dt.timedelta(seconds=60))
    assert first != later
    assert r.name.reveal() not in first and r.phone.reveal() not in first


def test_forged_or_other_community_token_is_wrong(world):
    r = world.residents[0]
    token = tokens.resident_token(r)
    rid, window, sig = token.split(".")
    for bad in (f"{world.residents[1].pk}.{window}.{sig}", f"{rid}.{window}.{'0' * len(sig)}", "garbage", "",
                "1.2", "x" * 500):
        with pytest.raises(InvalidInput) as caught:
            tokens.resident_from_token(world.community, bad)
        assert caught.value.code == "qr_wrong", bad
    with pytest.raises(InvalidInput) as caught:
        tokens.resident_from_token(world.other_community, token)
    assert caught.value.code == "qr_wrong"


# --- catalogue and partners -------------------------------------------------------------------


def test_only_the_office_manages_the_catalogue(world, shop):
    canteen, meal, _cut = shop
    for who in ("resident", "secretary", "grid1", "unit_staff", "supervisor", "z_worker"):
        with pytest.raises(PermissionDenied):
            catalogue.item_create(actor=world.users[who], community=world.community, partner=canteen,
                                  code="x" + who[:3], name="x", kind="meal", points=1)
        with pytest.raises(PermissionDenied):
            catalogue.stock_add(actor=world.users[who], item=meal, quantity=1)
    assert Item.objects.count() == 2


def test_item_rules(world, shop):
    canteen, meal, _cut = shop
    admin = world.users["admin"]
    with pytest.raises(Conflict) as caught:
        catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="lunch", name="再来",
                              kind="meal", points=3)
    assert caught.value.code == "code_taken"
    for points in (0, -1, 1.5, True):
        with pytest.raises(InvalidInput):
            catalogue.item_create(actor=admin, community=world.community, partner=canteen, code="p", name="p",
                                  kind="meal", points=points)
    assert catalogue.stock_add(actor=admin, item=meal, quantity=3).stock == 8
    assert catalogue.item_update(actor=admin, item=meal, points=12).points == 12
    assert Event.objects.filter(verb="points.stock_added").count() == 1


# --- redeeming ----------------------------------------------------------------------------------


def test_online_redemption_moves_points_and_stock(world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 35)
    redemption, created = redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=2,
                                           channel="online")
    assert created and redemption.points == 20
    assert balance(r) == 15
    meal.refresh_from_db()
    assert meal.stock == 3
    assert Account.objects.get(partner=meal.partner).balance == 20
    txn = redemption.transaction
    assert txn.kind == "redemption" and sum(p.amount for p in txn.postings.all()) == 0
    event = Event.objects.get(verb="points.redeemed")
    assert event.data["points"] == 20 and r.name.reveal() not in str(event.data)


def test_insufficient_points_changes_nothing(world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 15)
    with pytest.raises(Conflict) as caught:
        redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=2, channel="online")
    assert caught.value.code == "insufficient_points"
    meal.refresh_from_db()
    assert meal.stock == 5 and balance(r) == 15
    assert not Redemption.objects.exists() and not Transaction.objects.filter(kind="redemption").exists()


def test_out_of_stock_changes_nothing(world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 100)
    with pytest.raises(Conflict) as caught:
        redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=6, channel="online")
    assert caught.value.code == "out_of_stock"
    meal.refresh_from_db()
    assert meal.stock == 5 and balance(r) == 100 and not Redemption.objects.exists()


def test_unlimited_item_has_no_stock_to_run_out(world, shop):
    _canteen, _meal, cut = shop
    r = world.residents[0]
    give(r, 60)
    redeeming.redeem(actor=world.users["resident"], resident=r, item=cut, quantity=2, channel="online")
    cut.refresh_from_db()
    assert cut.stock is None and balance(r) == 0


def test_who_may_redeem(world, shop):
    canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 100)
    # Online: only the resident's own account.
    for who in ("admin", "nobody", "unit_staff"):
        with pytest.raises(PermissionDenied):
            redeeming.redeem(actor=world.users[who], resident=r, item=meal, channel="online")
    # At the counter: the partner's organisation's staff, the office; not the secretary or a resident.
    for who in ("secretary", "resident", "grid1", "z_worker"):
        with pytest.raises(PermissionDenied):
            redeeming.redeem(actor=world.users[who], resident=r, item=meal, channel="counter")
    redeeming.redeem(actor=world.users["unit_staff"], resident=r, item=meal, channel="counter")
    redeeming.redeem(actor=world.users["worker"], resident=r, item=meal, channel="counter")
    assert balance(r) == 80
    # Another community's resident cannot spend here.
    with pytest.raises(InvalidInput):
        redeeming.redeem(actor=world.users["worker"], resident=world.other_resident, item=meal, channel="counter")


def test_bad_quantity_and_withdrawn_item(world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 100)
    for q in (0, -1, 21, 1.5, True):
        with pytest.raises(InvalidInput):
            redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=q, channel="online")
    catalogue.item_update(actor=world.users["admin"], item=meal, active=False)
    with pytest.raises(InvalidInput) as caught:
        redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, channel="online")
    assert caught.value.code == "item_inactive"
    assert balance(r) == 100


def test_idempotent_retry_returns_the_first(world, shop):
    _canteen, meal, haircut = shop
    r = world.residents[0]
    give(r, 100)
    user = world.users["resident"]
    first, created = redeeming.redeem(actor=user, resident=r, item=meal, channel="online", idempotency=("s", "k1"))
    again, created_again = redeeming.redeem(actor=user, resident=r, item=meal, channel="online",
                                            idempotency=("s", "k1"))
    assert created and not created_again and again.pk == first.pk
    assert balance(r) == 90 and Redemption.objects.count() == 1
    with pytest.raises(Conflict) as caught:
        redeeming.redeem(actor=user, resident=r, item=haircut, channel="online", idempotency=("s", "k1"))
    assert caught.value.code == "idempotency_conflict"
    assert balance(r) == 90


def test_cancel_reverses_and_restores_stock_once(world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 50)
    redemption, _ = redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=2,
                                     channel="online")
    with pytest.raises(PermissionDenied):
        redeeming.cancel(actor=world.users["resident"], redemption=redemption, reason="不要了")
    with pytest.raises(InvalidInput):
        redeeming.cancel(actor=world.users["unit_staff"], redemption=redemption, reason=" ")
    redeeming.cancel(actor=world.users["unit_staff"], redemption=redemption, reason="做错了")
    meal.refresh_from_db()
    assert balance(r) == 50 and meal.stock == 5
    assert Transaction.objects.filter(kind="reversal", reverses=redemption.transaction).count() == 1
    with pytest.raises(Conflict):
        redeeming.cancel(actor=world.users["unit_staff"], redemption=redemption, reason="again")


# --- partner keys -------------------------------------------------------------------------------


def test_key_shown_once_hash_stored_revoked_stops(world, shop):
    canteen, _meal, _cut = shop
    key, plaintext = partners.key_create(actor=world.users["admin"], partner=canteen, name="收银台")
    assert plaintext.startswith(key.prefix) and key.key_hash != plaintext and plaintext not in str(key.__dict__)
    assert partners.authenticate(plaintext) == key
    assert partners.authenticate(plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert partners.authenticate(None) is None and partners.authenticate("pk_short") is None
    with pytest.raises(PermissionDenied):
        partners.key_revoke(actor=world.users["unit_staff"], key=key)
    partners.key_revoke(actor=world.users["admin"], key=key)
    assert partners.authenticate(plaintext) is None


def test_key_redeems_only_its_partners_items(world, shop):
    canteen, meal, _cut = shop
    barber = partners.partner_create(actor=world.users["admin"], community=world.community, name="巷口理发",
                                     kind="barber")
    other = catalogue.item_create(actor=world.users["admin"], community=world.community, partner=barber,
                                  code="trim", name="修面", kind="haircut", points=5)
    key, _plain = partners.key_create(actor=world.users["admin"], partner=canteen, name="till")
    r = world.residents[0]
    give(r, 50)
    client = redeeming.KeyClient(key)
    redeeming.redeem(actor=client, resident=r, item=meal, channel="counter", key=key)
    with pytest.raises(PermissionDenied):
        redeeming.redeem(actor=client, resident=r, item=other, channel="counter", key=key)
    assert balance(r) == 40
    assert Event.objects.get(verb="points.redeemed").actor_label == f"partnerkey:{key.prefix}"


# --- settlement ---------------------------------------------------------------------------------


def test_settlement_closes_a_past_month_once(world, shop):
    canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 100)
    redemption, _ = redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, quantity=3,
                                     channel="online")
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1))
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.make_aware(dt.datetime(last_month.year, last_month.month, 10, 12)))
    this_month = timezone.localdate()
    with pytest.raises(Conflict) as caught:
        redeeming.settle_month(actor=world.users["admin"], partner=canteen, year=this_month.year,
                               month=this_month.month)
    assert caught.value.code == "month_open"
    with pytest.raises(PermissionDenied):
        redeeming.settle_month(actor=world.users["unit_staff"], partner=canteen, year=last_month.year,
                               month=last_month.month)
    result = redeeming.settlement(canteen, last_month.year, last_month.month)
    assert result.total == 30 and result.count == 1 and not result.settled
    txn = redeeming.settle_month(actor=world.users["admin"], partner=canteen, year=last_month.year,
                                 month=last_month.month)
    assert txn.kind == "settlement"
    assert Account.objects.get(partner=canteen).balance == 0
    with pytest.raises(Conflict) as caught:
        redeeming.settle_month(actor=world.users["admin"], partner=canteen, year=last_month.year,
                               month=last_month.month)
    assert caught.value.code == "already_posted"
    assert Transaction.objects.filter(kind="settlement").count() == 1
    # A settled month's redemption can no longer be cancelled.
    with pytest.raises(Conflict) as caught:
        redeeming.cancel(actor=world.users["admin"], redemption=redemption, reason="late")
    assert caught.value.code == "settled"
    assert ledger.audit(world.community).ok


# --- pages --------------------------------------------------------------------------------------


def _login(client, world, who):
    client.force_login(world.users[who])
    return client


def test_catalogue_page_confirms_then_redeems_once(client, world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 25)
    _login(client, world, "resident")
    page = client.get(reverse("points:catalogue"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "午餐" in page.content.decode() and "25" in page.content.decode()
    confirm = client.post(reverse("points:catalogue"), {"item": meal.pk, "quantity": 1, "step": "confirm"},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert confirm.status_code == 200 and not Redemption.objects.exists()
    nonce = confirm.context["nonce"]
    data = {"item": meal.pk, "quantity": 2, "step": "redeem", "nonce": nonce}
    done = client.post(reverse("points:catalogue"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200 and balance(r) == 5
    client.post(reverse("points:catalogue"), data)  # a double tap
    assert Redemption.objects.count() == 1 and balance(r) == 5
    refused = client.post(reverse("points:catalogue"), {"item": meal.pk, "quantity": 1, "step": "redeem",
                                                        "nonce": "f" * 32}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 409 and "not enough points" in refused.content.decode()


def test_catalogue_page_refuses_an_account_without_a_resident(client, world, shop):
    _login(client, world, "worker")
    assert client.get(reverse("points:catalogue")).status_code == 403


def test_my_qr_page_shows_an_svg_and_a_valid_code(client, world):
    _login(client, world, "resident")
    page = client.get(reverse("points:my_qr"))
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and "my_qr.js" in body
    assert tokens.resident_from_token(world.community, page.context["token"]) == world.residents[0]
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]


def test_counter_page_redeems_and_masks(client, world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 30)
    _login(client, world, "unit_staff")
    url = reverse("points:counter", args=[world.community.code])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    data = {"resident_qr": tokens.resident_token(r), "item": meal.pk, "quantity": 2,
            "nonce": page.context["form"].initial["nonce"]}
    done = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    body = done.content.decode()
    assert done.status_code == 200 and "Points left: 10" in body
    assert r.name.reveal() not in body and done.context["result"]["who"].count("*") >= 1
    data["nonce"] = "a" * 32
    data["quantity"] = 2
    refused = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 409 and "not enough points" in refused.content.decode()
    data["resident_qr"] = "1.2.3"
    assert client.post(url, data, HTTP_ACCEPT_LANGUAGE="en").status_code == 400
    assert client.post(url, {"resident_qr": tokens.resident_token(r)}).status_code == 400  # no item chosen
    assert balance(r) == 10


def test_counter_staff_cancel_a_mistake_with_a_reason(client, world, shop):
    _canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 30)
    redemption, _ = redeeming.redeem(actor=world.users["unit_staff"], resident=r, item=meal, quantity=2,
                                     channel="counter")
    counter = reverse("points:counter", args=[world.community.code])
    url = reverse("points:counter_cancel", args=[world.community.code, redemption.pk])
    # Only the counter's staff and the office; a resident or another community's worker is refused.
    for who in ("resident", "secretary", "z_worker"):
        client.force_login(world.users[who])
        assert client.get(url).status_code in (403, 404), who
        assert client.post(url, {"reason": "x"}).status_code in (403, 404), who
    assert balance(r) == 10
    _login(client, world, "unit_staff")
    assert url in client.get(counter, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Cancel this redemption" in page.content.decode()
    assert r.name.reveal() not in page.content.decode()
    empty = client.post(url, {"reason": "  "}, HTTP_ACCEPT_LANGUAGE="en")
    assert empty.status_code == 400 and balance(r) == 10
    done = client.post(url, {"reason": "点错了菜"}, HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 302 and done["Location"].startswith(counter)
    meal.refresh_from_db()
    assert balance(r) == 30 and meal.stock == 5
    redemption.refresh_from_db()
    assert redemption.status == Redemption.Status.CANCELLED
    assert Event.objects.filter(verb="points.redemption_cancelled", actor=world.users["unit_staff"]).count() == 1
    # Once cancelled: no button on the counter, and a second cancel is refused in words.
    assert url not in client.get(counter).content.decode()
    again = client.post(url, {"reason": "again"}, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 409 and "already cancelled" in again.content.decode()
    assert balance(r) == 30


def test_counter_page_is_for_the_partners_staff_and_office(client, world, shop):
    url = reverse("points:counter", args=[world.community.code])
    for who, status in (("secretary", 403), ("resident", 403), ("z_worker", 403), ("worker", 200)):
        client.force_login(world.users[who])
        assert client.get(url).status_code == status, who


def test_office_pages(client, world, shop):
    canteen, meal, _cut = shop
    url = reverse("points:office", args=[world.community.code])
    for who in ("unit_staff", "secretary", "resident"):
        client.force_login(world.users[who])
        assert client.get(url).status_code == 403
    _login(client, world, "admin")
    assert client.get(url).status_code == 200
    made = client.post(reverse("points:office_key_create", args=[world.community.code]),
                       {"partner": canteen.pk, "name": "平板"})
    plaintext = made.context["new_key"]["plaintext"]
    assert made.status_code == 200 and plaintext in made.content.decode()
    assert plaintext not in client.get(url).content.decode()  # shown once
    client.post(reverse("points:office_item_update", args=[world.community.code, meal.pk]), {"stock_add": "4"})
    meal.refresh_from_db()
    assert meal.stock == 9
    client.post(reverse("points:office_item_create", args=[world.community.code]),
                {"partner": canteen.pk, "code": "soap", "name": "肥皂", "kind": "goods", "points": 3, "stock": ""})
    assert Item.objects.filter(code="soap", stock__isnull=True).exists()


def test_settlement_page_csv_and_close(client, world, shop):
    canteen, meal, _cut = shop
    r = world.residents[0]
    give(r, 100)
    redemption, _ = redeeming.redeem(actor=world.users["resident"], resident=r, item=meal, channel="online")
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    Redemption.objects.filter(pk=redemption.pk).update(
        created_at=timezone.make_aware(dt.datetime(last.year, last.month, 5, 9)))
    month = f"{last.year:04d}-{last.month:02d}"
    url = reverse("points:settlement", args=[world.community.code])
    client.force_login(world.users["unit_staff"])
    page = client.get(url, {"partner": canteen.pk, "month": month})
    assert page.status_code == 200 and page.context["result"].total == 10
    csv_body = client.get(url, {"partner": canteen.pk, "month": month, "format": "csv"}).content.decode("utf-8-sig")
    assert "lunch" in csv_body and csv_body.strip().splitlines()[-1].startswith("total,,,,10")
    assert r.name.reveal() not in csv_body
    assert client.post(url, {"partner": canteen.pk, "month": month}).status_code == 403
    client.force_login(world.users["admin"])
    client.post(url, {"partner": canteen.pk, "month": month})
    client.post(url, {"partner": canteen.pk, "month": month})
    assert Transaction.objects.filter(kind="settlement").count() == 1
    assert Posting.objects.filter(account__partner=canteen).count() == 2


def test_console_links_lead_to_the_office_and_the_counters(world, shop):
    canteen, _meal, _cut = shop
    office = reverse("points:office", args=[world.community.code])
    counter = reverse("points:counter", args=[world.community.code]) + f"?partner={canteen.pk}"
    assert {url for _label, url in partners.console_links(world.users["worker"])} == {office, counter}
    assert [url for _label, url in partners.console_links(world.users["unit_staff"])] == [counter]
    assert partners.console_links(world.users["secretary"]) == []
    assert partners.console_links(world.users["resident"]) == []
