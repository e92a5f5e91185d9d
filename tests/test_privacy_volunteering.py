"""Personal data planted in issue 11's free text stays where docs/roles.md says it may be.

Resident 2's name, mobile number, ID number and door, read from the registry, are written into
a need's description, a gift's note and a rating comment, and the numbers and door into an
activity's description (``test_roles_volunteering.build_scene``); resident 2 volunteers and opts in to the
honour list. Then:

- no page of the two apps shows a phone or ID number or a door to anyone; the pages of another
  resident, of outsiders and the public ones show none of the planted values, the name included;
  no link or URL of any page carries a planted value;
- the API answers a resident with their own balance only, whatever the request names, and
  carries no planted value;
- the honour list names volunteers who opted in, masked, and no one else;
- the monthly summary (and its entry on the board) holds no name, no number, no balance of a
  resident;
- no event (``Event.data`` and every other column), notification or log record carries one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.parse

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.masking import mask_name
from linli.core.models import Event

from planted import EVERYTHING, LINK, NUMBERS, found, stored_hits
from test_roles_volunteering import ROLES, build_scene, client_for, crawl, starts, url



@pytest.fixture
def scene(world, settings, tmp_path):
    return build_scene(world, settings, tmp_path)


# Who may read the name the office itself wrote on the needs board (their own words); numbers and
# doors reach no one. Resident 2 ("res2") is the planted person: their own pages are theirs.
NAME_READERS = {"admin", "worker", "secretary", "grid1"}


@pytest.mark.parametrize("who", [r for r in ROLES if r != "res2"], ids=[str(r) for r in ROLES if r != "res2"])
def test_pages_show_no_number_or_door_and_others_no_name(scene, who):
    import html

    person = scene["person"]
    seen = crawl(client_for(scene, who), starts(scene))
    known = {url("volunteers:activity", scene["activity"]): ("phone", "id_number", "door"),
             url("volunteers:office_hours", scene["soon"]): ("name", "door")}
    assert sum(1 for r in seen.values() if r.status_code == 200) >= 1
    leaks, links = {}, {}
    for address, response in seen.items():
        assert found(urllib.parse.unquote(address), person) == [], address
        if response.status_code != 200:
            continue
        text = response.content.decode(errors="replace")
        for link in LINK.findall(text):
            hit = found(urllib.parse.unquote(html.unescape(link)), person)
            if hit:
                links[link] = hit
        which = NUMBERS + ("door",) if who in NAME_READERS else EVERYTHING
        hit = found(text, person, which)
        hit = [h for h in hit if h not in known.get(address, ())]
        if hit:
            leaks[address] = hit
    assert leaks == {}
    assert links == {}


# Free text typed by one person and shown to others: the organiser's description on the residents'
# activity page, a rating's comment on the organiser's hours page (numbers, doors and the names of
# the volunteer and the rater gone, for a building leader too).


def test_the_hours_page_shows_a_rating_comment_without_door(scene):
    page = client_for(scene, "worker").get(url("volunteers:office_hours", scene["soon"]))
    assert page.status_code == 200 and "谢谢" in page.content.decode()
    assert found(page.content.decode(), scene["person"], NUMBERS + ("door",)) == []


def test_the_residents_activity_page_scrubs_the_description(scene):
    page = client_for(scene, "resident").get(url("volunteers:activity", scene["activity"]))
    assert page.status_code == 200 and "上门前打电话" in page.content.decode()
    assert found(page.content.decode(), scene["person"]) == []


def test_a_residents_points_pages_hold_only_their_own_rows(scene):
    """Resident 0's points page shows their own statement: their grant and their meal; nothing of
    resident 2's grant, gift or balance."""
    client = client_for(scene, "resident")
    page = client.get(url("points:mine")).content.decode()
    other = scene["other_account"].__class__.objects.get(pk=scene["other_account"].pk)
    mine = scene["account"].__class__.objects.get(pk=scene["account"].pk)
    assert str(mine.balance) in page
    assert "送给社区" not in page
    assert found(page, scene["person"]) == []
    # resident 2's own page: their gift, their balance, in their own words.
    theirs = client_for(scene, "res2").get(url("points:mine")).content.decode()
    assert str(other.balance) in theirs


# --- the API --------------------------------------------------------------------------------------


def test_the_api_answers_only_the_residents_own_balance_whatever_the_request_names(scene):
    world = scene["world"]
    other = scene["other_account"]
    client = client_for(scene, "resident")
    before = other.__class__.objects.get(pk=other.pk).balance
    for query in (f"?account={other.pk}", f"?resident={world.residents[2].pk}", ""):
        response = client.get(f"/api/v1/points/balance{query}")
        assert response.status_code == 200
        assert response.json()["account"] == scene["account"].pk
        assert found(response.content.decode(), scene["person"]) == []
    # A redemption that names another resident's account still spends the caller's own points.
    response = client.post("/api/v1/points/redemptions", data=json.dumps({
        "item": "lunch", "quantity": 1, "resident": world.residents[2].pk, "account": other.pk}),
        content_type="application/json")
    assert response.status_code in (201, 400, 422), response.content
    assert other.__class__.objects.get(pk=other.pk).balance == before
    assert found(client.get("/api/v1/points/catalogue").content.decode(), scene["person"]) == []


# --- the honour list -------------------------------------------------------------------------------


def test_the_honour_list_names_only_who_opted_in_and_masked(scene):
    world = scene["world"]
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(url("volunteers:honour"))
    assert page.status_code == 200
    text = page.content.decode()
    name = world.residents[2].name.reveal()
    assert name not in text and mask_name(name) in text  # opted in: masked
    own = world.residents[0].name.reveal()  # not opted in: absent, masked or not
    assert own not in text
    assert found(text, scene["person"]) == []


# --- the monthly summary ---------------------------------------------------------------------------


def test_the_monthly_summary_holds_no_name_number_or_personal_balance(scene, settings, tmp_path):
    from linli.disclosure.models import Entry
    from linli.transparency import keys
    from linli.volunteers import openness

    from linli.points import earning

    world = scene["world"]
    # Last month (a month is published once it has ended): a grant to resident 2 then.
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    at = timezone.make_aware(dt.datetime(last.year, last.month, 10, 10, 0))
    earning.grant(actor=world.users["admin"], resident=world.residents[2], points=17,
                  source=("tests.summary", "r2"), memo="上月服务", at=at)
    today = last
    summary = openness.monthly_summary(world.community, today.year, today.month)
    assert summary["issued"] == 17
    dumped = json.dumps(summary, ensure_ascii=False, default=str)
    assert found(dumped, scene["person"]) == []
    for resident in world.residents:
        assert resident.name.reveal() not in dumped
    # Balances are not in it: neither resident's balance appears as a per-person figure.
    for key in ("balances", "accounts", "residents"):
        assert key not in summary
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "disclosure-signing.key")
    openness.publish_summary(actor=None, community=world.community, year=today.year, month=today.month)
    entries = list(Entry.objects.filter(community=world.community))
    assert entries
    for entry in entries:
        assert found(entry.title + entry.body, scene["person"]) == [], entry.title
        for resident in world.residents:
            assert resident.name.reveal() not in entry.body
            assert mask_name(resident.name.reveal()) not in entry.body


# --- events, notifications, logs ---------------------------------------------------------------------


def _stored(person) -> dict:
    hits = stored_hits(person)
    return hits


def test_events_and_notifications_hold_no_planted_value(scene):
    from linli.notify import services as notify

    notify.dispatch_new_events(settle_seconds=0)
    verbs = set(Event.objects.values_list("verb", flat=True))
    assert {"points.posted"} <= verbs and any(v.startswith("volunteers.") for v in verbs), verbs
    assert _stored(scene["person"]) == {}
    # Nor any other resident's name, phone or ID number.
    for resident in scene["world"].residents[:3]:
        other = {"name": resident.name.reveal(), "phone": resident.phone.reveal(),
                 "id_number": resident.id_number.reveal(), "door": "\x00never"}
        assert _stored(other) == {}, resident.pk


def test_log_records_hold_no_planted_value_nor_a_qr_code(world, settings, tmp_path, caplog):
    """Building the whole scene (joining, signing up, checking in and out, approving, granting,
    redeeming, gifting) and walking the pages: no log record holds a planted value or a
    resident's counter code."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="linli")
    scene = build_scene(world, settings, tmp_path)
    from linli.points.tokens import resident_token

    token = resident_token(world.residents[0])
    for who in ("resident", "res2", "worker", "canteen", None):
        crawl(client_for(scene, who), starts(scene), limit=60)
    leaks = []
    for record in caplog.records:
        text = record.getMessage() + " " + repr(record.args) + " " + (record.exc_text or "")
        text += " " + json.dumps({k: str(v) for k, v in record.__dict__.items()}, ensure_ascii=False)
        hit = found(text, scene["person"])
        if hit or token in text:
            leaks.append((record.name, record.getMessage()[:200], hit))
    assert leaks == []
