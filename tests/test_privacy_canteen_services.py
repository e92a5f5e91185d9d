"""Personal data in issue 12's two apps stays where docs/roles.md says it may be.

Resident 2 (``res2``: 77, alone in her flat; ``tests/planted.py`` reads her name, mobile number,
ID number and door from the registry) has today's lunch delivered and is not at home (a welfare
check opens), is booked for a haircut by the office by phone with her particulars written into
the booking's note, and signs up for a family event whose description carries her numbers and
door (``test_roles_canteen_services.build_scene``); the volunteer's not-at-home note names her too.
Then:

- no page of the two apps shows her phone or ID number to anyone else, nor her full name; her door
  only on the pages of the round that delivers to her (its volunteer, the office, the canteen's
  staff, her courtyard's grid worker) — never to another resident, the street supervisor, a
  provider, outsiders; no link or URL carries a planted value;
- the street supervisor's pages show no name at all, masked or not;
- the printable delivery sheet shows masked names and doors, never a full name, phone or ID number;
- the counter shows the scanned resident's masked name only;
- the API answers each resident with their own rows and no planted value;
- the monthly statement and its entry on the board hold no name, masked or not, and no number;
- no event, notification or log record carries a planted value (nor a resident's QR code).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import logging
import urllib.parse

import pytest
from django.utils import timezone

from linli.core.masking import mask_name

from planted import EVERYTHING, LINK, NUMBERS, found, stored_hits
from test_roles_canteen_services import (
    ROLES, build_scene, client_for, crawl, starts, url_of,
)


@pytest.fixture
def scene(world, settings, tmp_path):
    s = build_scene(world, settings, tmp_path)
    from linli.services import bookings

    # The office writes down what resident 2 said on the phone, in a second slot's booking.
    later = s["slot"].__class__.objects.filter(service=s["service"]).exclude(pk=s["slot"].pk).order_by("starts_at")
    if later.exists():
        bookings.book(actor=world.users["admin"], slot=later.first(), resident=world.residents[2],
                      channel="phone", note=s["text"][:200])
    return s


# The roles that see the door of resident 2 on the pages of the round that delivers to her.
DOOR_READERS = {"admin", "worker", "canteen", "volunteer", "grid1"}


OTHERS = [r for r in ROLES if r != "res2"]


@pytest.mark.parametrize("who", OTHERS, ids=[str(r) for r in OTHERS])
def test_pages_show_no_number_name_or_door_beyond_the_round(scene, who):
    """Every role but resident 2 herself (a role a test: one crawl of both apps each)."""
    person = scene["person"]
    leaks, links, reached = {}, {}, {}
    for who in [who]:
        seen = crawl(client_for(scene, who), starts(scene))
        reached[str(who)] = sum(1 for r in seen.values() if r.status_code == 200)
        for address, response in seen.items():
            assert found(urllib.parse.unquote(address), person) == [], address
            if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
                continue
            text = response.content.decode(errors="replace")
            for link in LINK.findall(text):
                hit = found(urllib.parse.unquote(html.unescape(link)), person)
                if hit:
                    links[(str(who), link)] = hit
            which = ("name",) + NUMBERS if who in DOOR_READERS else EVERYTHING
            hit = found(text, person, which)
            if hit:
                leaks[(str(who), address)] = hit
    if who in ("admin", "resident", "canteen", "volunteer", "provider"):
        assert reached[str(who)] >= 3, reached
    assert leaks == {}
    assert links == {}


def test_the_street_supervisor_sees_no_name_masked_or_not(scene):
    world = scene["world"]
    seen = crawl(client_for(scene, "supervisor"), starts(scene))
    reached = {a: r for a, r in seen.items() if r.status_code == 200}
    assert reached, "the supervisor reaches no page (the dashboards are theirs)"
    names = [r.name.reveal() for r in world.residents]
    for address, response in reached.items():
        text = response.content.decode(errors="replace")
        shown = [n for n in names if n in text or mask_name(n) in text]
        assert shown == [], address


def test_the_delivery_sheet_shows_masked_names_and_doors_only(scene):
    from pypdf import PdfReader

    response = client_for(scene, "canteen").get(url_of("canteen:sheet", scene))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/pdf")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    world = scene["world"]
    assert found(text, scene["person"], ("name",) + NUMBERS) == []
    for resident in (world.residents[0], world.residents[2]):
        assert resident.name.reveal() not in text
    # The stops are there, by masked name (the text layer may split a name's characters).
    squeezed = text.replace(" ", "").replace("\n", "")
    assert mask_name(world.residents[2].name.reveal()).replace(" ", "") in squeezed


def test_the_counter_shows_the_scanned_residents_masked_name_only(scene):
    from linli.canteen import orders
    from linli.points.tokens import resident_token

    world = scene["world"]
    token = resident_token(world.residents[2])
    found_resident = orders.counter_lookup(actor=world.users["canteen"], canteen=scene["canteen"], token=token)
    assert found_resident.pk == world.residents[2].pk
    client = client_for(scene, "canteen")
    page = client.get(url_of("canteen:counter", scene))
    assert page.status_code == 200
    posted = None
    for field in ("token", "code", "qr", "resident_qr"):
        response = client.post(url_of("canteen:counter", scene), {field: token, "action": "lookup"})
        if response.status_code == 200 and mask_name(world.residents[2].name.reveal()) in response.content.decode():
            posted = response
            break
    assert posted is not None, "the counter page did not find the resident by their code"
    text = posted.content.decode()
    assert found(text, scene["person"], ("name",) + NUMBERS) == []
    assert token not in urllib.parse.unquote(posted.get("Location", ""))


# --- the API --------------------------------------------------------------------------------------------


def test_the_api_carries_no_planted_value_to_another_resident(scene):
    client = client_for(scene, "resident")
    day = scene["today"].isoformat()
    for address in (f"/api/v1/canteen/meals?date={day}", "/api/v1/canteen/orders", "/api/v1/services/bookings",
                    f"/api/v1/services/slots?service={scene['service'].code}&from={day}"
                    f"&to={(scene['today'] + dt.timedelta(days=7)).isoformat()}"):
        response = client.get(address)
        assert response.status_code == 200, (address, response.status_code)
        assert found(response.content.decode(), scene["person"]) == [], address


# --- the statement on the board ---------------------------------------------------------------------------


def test_the_monthly_statement_and_its_board_entry_hold_no_name_or_number(scene, settings, tmp_path):
    from linli.canteen import statements
    from linli.disclosure.models import Entry
    from linli.transparency import keys

    world = scene["world"]
    last = scene["today"].replace(day=1) - dt.timedelta(days=1)
    summary = statements.monthly_statement(scene["canteen"], last.year, last.month)
    this = statements.monthly_statement(scene["canteen"], scene["today"].year, scene["today"].month)
    for statement in (summary, this):
        dumped = json.dumps(statement, ensure_ascii=False, default=str)
        assert found(dumped, scene["person"]) == []
        for resident in world.residents:
            assert resident.name.reveal() not in dumped and mask_name(resident.name.reveal()) not in dumped
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "disclosure-signing.key")
    statements.publish_statement(actor=world.users["admin"], canteen=scene["canteen"], year=last.year,
                                 month=last.month)
    entries = list(Entry.objects.filter(community=world.community))
    assert entries
    for entry in entries:
        words = entry.title + entry.body
        assert found(words, scene["person"]) == [], entry.title
        for resident in world.residents:
            assert resident.name.reveal() not in words and mask_name(resident.name.reveal()) not in words


# --- events, notifications, logs -----------------------------------------------------------------------------


def test_events_and_notifications_hold_no_planted_value(scene):
    from linli.core.models import Event
    from linli.notify import services as notify

    notify.dispatch_new_events(settle_seconds=0)
    verbs = set(Event.objects.values_list("verb", flat=True))
    assert {"canteen.order_placed", "canteen.not_home", "canteen.welfare_check_opened"} <= verbs, verbs
    assert any(v.startswith("services.") for v in verbs), verbs
    hits = stored_hits(scene["person"])
    # A notification to the grid worker may say where to knock (the door): nothing else.
    hits = {k: [h for h in v if not (k.startswith("notification") and h == "door")] for k, v in hits.items()}
    assert {k: v for k, v in hits.items() if v} == {}
    for resident in scene["world"].residents[:5]:
        other = {"name": resident.name.reveal(), "phone": resident.phone.reveal(),
                 "id_number": resident.id_number.reveal(), "door": "\x00never"}
        assert stored_hits(other) == {}, resident.pk


def test_the_welfare_case_names_no_one(scene):
    case = scene["case"]
    assert case is not None
    text = case.description + " " + getattr(case, "title", "")
    assert found(text, scene["person"], ("name",) + NUMBERS) == []
    assert mask_name(scene["person"]["name"]) not in text


def test_log_records_hold_no_planted_value_nor_a_qr_code(world, settings, tmp_path, caplog):
    """Building the whole scene (ordering, the round, the welfare check, booking, signing up) and
    walking the pages: no log record holds a planted value or a resident's counter code."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="linli")
    scene = build_scene(world, settings, tmp_path)
    from linli.canteen import orders
    from linli.points.tokens import resident_token

    token = resident_token(world.residents[2])
    orders.counter_lookup(actor=world.users["canteen"], canteen=scene["canteen"], token=token)
    for who in ("resident", "res2", "volunteer", "worker", "canteen", "provider", "supervisor", None):
        crawl(client_for(scene, who), starts(scene), limit=80)
    leaks = []
    for record in caplog.records:
        text = record.getMessage() + " " + repr(record.args) + " " + (record.exc_text or "")
        text += " " + json.dumps({k: str(v) for k, v in record.__dict__.items()}, ensure_ascii=False)
        hit = found(text, scene["person"])
        if hit or token in text:
            leaks.append((record.name, record.getMessage()[:200], hit))
    assert leaks == []


def test_a_day_later_the_volunteer_reaches_no_door(scene):
    """The volunteer sees the round's doors on its day only."""
    from unittest import mock

    later = timezone.now() + dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        seen = crawl(client_for(scene, "volunteer"), starts(scene))
    for address, response in seen.items():
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            assert found(response.content.decode(), scene["person"], EVERYTHING) == [], address
