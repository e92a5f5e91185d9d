"""Gifts to a neighbour or to the community pool, within the limits (docs/points.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from factories import PASSWORD, make_phone
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.points import earning, gifts, ledger
from linli.points.models import Policy, Transaction

pytestmark = pytest.mark.django_db


def _fund(resident, points, n=1, at=None):
    Policy.objects.get_or_create(community=resident.community, defaults={"daily_cap": 1000, "yearly_cap": 100000})
    earning.grant(actor=None, resident=resident, points=points, source=("test.fund", f"{resident.pk}-{n}"), at=at)


def _bal(resident):
    return ledger.balance(ledger.account_for(resident))


def test_a_gift_to_a_neighbour_and_to_the_pool(world):
    giver, neighbour = world.residents[0], world.residents[1]
    _fund(giver, 100)
    user = world.users["resident"]
    txn = gifts.gift(actor=user, from_resident=giver, to_resident=neighbour, points=30, note="谢谢帮忙")
    assert txn.kind == "gift" and txn.memo == "谢谢帮忙"
    gifts.gift(actor=user, from_resident=giver, points=20)
    assert (_bal(giver), _bal(neighbour), ledger.balance(ledger.pool(world.community))) == (50, 30, 20)
    assert ledger.audit(world.community).ok


@pytest.mark.parametrize("kw, error, code", [
    ({"to": "self", "points": 5}, InvalidInput, "gift_to_self"),
    ({"to": "other_community", "points": 5}, InvalidInput, "other_community"),
    ({"to": "neighbour", "points": 101}, InvalidInput, "gift_too_large"),
    ({"to": "neighbour", "points": 0}, InvalidInput, "invalid_points"),
    ({"to": "neighbour", "points": 150, "gift_max": 200}, Conflict, "insufficient_points"),
])
def test_bad_gifts_are_refused_and_nothing_moves(world, kw, error, code):
    giver = world.residents[0]
    _fund(giver, 120)
    if "gift_max" in kw:
        Policy.objects.filter(community=world.community).update(gift_max=kw["gift_max"], gift_month_max=300)
        ledger.post(community=world.community, kind="adjustment",
                    lines=[(ledger.account_for(giver), -100), (ledger.pool(world.community), 100)])
    to = {"self": giver, "other_community": world.other_resident, "neighbour": world.residents[1]}[kw["to"]]
    before = Transaction.objects.count()
    with pytest.raises(error) as exc:
        gifts.gift(actor=world.users["resident"], from_resident=giver, to_resident=to, points=kw["points"])
    assert exc.value.code == code
    assert Transaction.objects.count() == before


def test_only_the_giver_gives_from_their_account(world):
    giver = world.residents[0]
    _fund(giver, 50)
    for who in ("admin", "worker", "nobody"):
        with pytest.raises(PermissionDenied):
            gifts.gift(actor=world.users[who], from_resident=giver, points=5)
    assert _bal(giver) == 50


def test_the_monthly_limit_counts_the_calendar_month(world):
    giver, neighbour = world.residents[0], world.residents[1]
    _fund(giver, 900)
    user = world.users["resident"]
    now = timezone.localtime()
    month_start = timezone.make_aware(dt.datetime(now.year, now.month, 1, 9))
    last_month = month_start - dt.timedelta(days=2)
    gifts.gift(actor=user, from_resident=giver, to_resident=neighbour, points=100, at=last_month)
    for _ in range(3):
        gifts.gift(actor=user, from_resident=giver, to_resident=neighbour, points=100, at=month_start)
    with pytest.raises(InvalidInput) as exc:
        gifts.gift(actor=user, from_resident=giver, points=1, at=month_start)
    assert exc.value.code == "gift_month_limit"
    assert _bal(neighbour) == 400


def test_a_note_is_scrubbed_of_personal_data(world):
    giver = world.residents[0]
    _fund(giver, 50)
    txn = gifts.gift(actor=world.users["resident"], from_resident=giver, to_resident=world.residents[1], points=5,
                     note="有事打13912345678")
    assert "13912345678" not in txn.memo


# --- the page ----------------------------------------------------------------------------------


def _signed_in(client, world):
    client.login(username="resident", password=PASSWORD)
    return client


def test_the_gift_page_checks_then_gives(client, world):
    giver, neighbour = world.residents[0], world.residents[1]
    _fund(giver, 60)
    c = _signed_in(client, world)
    assert c.get("/points/me/gift", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    form = {"to": "resident", "phone": make_phone(2), "points": "15", "note": ""}
    check = c.post("/points/me/gift", {**form, "step": "check"}, HTTP_ACCEPT_LANGUAGE="en")
    assert check.status_code == 200 and b"Check your gift" in check.content
    # The neighbour appears masked only.
    assert neighbour.name.reveal().encode() not in check.content
    assert neighbour.name.masked.encode() in check.content
    assert _bal(neighbour) == 0
    edit = c.post("/points/me/gift", {**form, "step": "edit"}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"Next: check the gift" in edit.content and b'value="15"' in edit.content
    done = c.post("/points/me/gift", {**form, "step": "give"})
    assert done.status_code == 302 and done["Location"] == "/points/me"
    assert (_bal(giver), _bal(neighbour)) == (45, 15)


def test_the_gift_page_refuses_in_words(client, world):
    _fund(world.residents[0], 60)
    c = _signed_in(client, world)
    unknown = c.post("/points/me/gift", {"to": "resident", "phone": "13800000000", "points": "5", "step": "give"},
                     HTTP_ACCEPT_LANGUAGE="en")
    assert b"No resident of your community has this mobile number." in unknown.content
    big = c.post("/points/me/gift", {"to": "pool", "points": "500", "step": "give"}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"One gift can be at most 100 points." in big.content
    assert _bal(world.residents[0]) == 60


def test_looking_up_numbers_is_limited_and_recorded_without_the_number(client, world):
    """The form cannot be used to test which numbers are residents': 20 look-ups an hour, then 429
    with a plain message, and no look-up is made. Each look-up is an event, without the number."""
    from linli.core.models import Event

    _fund(world.residents[0], 60)
    c = _signed_in(client, world)
    numbers = [f"1370000{n:04d}" for n in range(21)]  # nobody's number
    for number in numbers[:20]:
        r = c.post("/points/me/gift", {"to": "resident", "phone": number, "points": "5", "step": "check"},
                   HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 200 and b"No resident of your community has this mobile number." in r.content
    r = c.post("/points/me/gift", {"to": "resident", "phone": make_phone(2), "points": "5", "step": "check"},
               HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert b"You have looked up 20 mobile numbers recently" in r.content
    assert world.residents[1].name.masked.encode() not in r.content   # nothing was looked up
    lookups = Event.objects.filter(verb="points.recipient_lookup")
    assert lookups.count() == 20 and all(e.data == {"found": False} for e in lookups)
    assert not any(n in str(list(lookups.values())) for n in numbers)
    # The pool needs no look-up and is still open.
    r = c.post("/points/me/gift", {"to": "pool", "points": "5", "step": "give"})
    assert r.status_code == 302 and _bal(world.residents[0]) == 55
    # An hour later the hourly limit has passed.
    lookups.update(created_at=timezone.now() - dt.timedelta(minutes=61))
    r = c.post("/points/me/gift", {"to": "resident", "phone": make_phone(2), "points": "5", "step": "check"},
               HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and world.residents[1].name.masked.encode() in r.content


def test_the_gift_page_is_for_residents(client, world):
    client.login(username="worker", password=PASSWORD)
    assert client.get("/points/me/gift").status_code == 403
    client.logout()
    assert client.get("/points/me/gift").status_code == 302
