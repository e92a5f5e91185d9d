"""Personal data planted in issue 10's free text stays where docs/roles.md says it may be.

A resident's name, mobile number, ID number and door, read from the registry, are written into
a proposal, a comment, the minutes of a council meeting, a fund project's description, an
evaluation comment and a proxy's reason (``test_roles_decide.build_scene``). Then:

- no page of the four apps shows a phone or ID number or a door to anyone but the one who
  wrote it (their own project); pages outside the community, and the public ones, show none of
  the planted values; the minutes the party secretary and the street read carry no name of a
  resident who took part; no link or URL of any page carries a planted value;
- what is published on the board (minutes, decisions, the fund's selection, the evaluation's
  results and report, a vote's ballot list) carries no phone or ID number, and the minutes no
  door or name of a resident who took part; evaluation comments are never published;
- no event (``Event.data`` and every other column), notification or log leaf carries one;
- ballots cannot be joined to voters: no column links them, no time is stored, and their
  random primary keys do not follow the order of casting;
- the ``linli`` logger (and the root logger) records, while casting, entering paper sheets and
  publishing, no planted value and no receipt or paper code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import urllib.parse

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.utils import timezone

from linli.core.models import Event
from linli.disclosure.models import Entry
from linli.evaluation import services as evaluation
from linli.evaluation.models import Criterion, Evaluation
from linli.funds import services as funds
from linli.funds.models import Call, Project
from linli.transparency.models import Leaf
from linli.voting import paper, results, services as voting
from linli.voting.models import Ballot, Participation, PaperCode, random_key
from linli.voting.phases import PhaseSpec

from planted import EVERYTHING, LINK, NUMBERS, found, stored_hits
from test_roles_decide import EVAL_KEYS, ROLES, STARTS, _fund_phase, _relay, build_scene, client_for, crawl



@pytest.fixture
def scene(world, settings, tmp_path):
    return build_scene(world, settings, tmp_path)




def board_urls(community) -> list[str]:
    urls = ["/disclosure/Y/", "/disclosure/Y/feed.atom"]
    for index in Entry.objects.filter(community=community).exclude(log_index=None).values_list("log_index", flat=True):
        urls += [f"/disclosure/Y/e/{index}/", f"/disclosure/Y/e/{index}/content"]
    return urls


# --- pages, links and URLs ------------------------------------------------------------------------

# Where the one who wrote the words reads them as written: the proposer's own project.
OWN_WORDS = {"resident": ("/funds/Y/p/",)}
# Accounts with no part in the community's registry or its office: none of the planted values.
OUTSIDERS = {"grid1", "leader", "unit_staff", "z_worker", "nobody", None}


@pytest.mark.parametrize("who", ROLES, ids=[str(r) for r in ROLES])
def test_pages_show_no_number_or_door_and_outsiders_nothing(scene, who):
    person = scene["person"]
    seen = crawl(client_for(scene, who), STARTS + board_urls(scene["world"].community))
    assert sum(1 for r in seen.values() if r.status_code == 200) >= 3
    leaks, links = {}, {}
    for url, response in seen.items():
        # The URL itself never holds a planted value, whatever it answers.
        assert found(urllib.parse.unquote(url), person) == [], url
        if response.status_code != 200:
            continue
        text = response.content.decode(errors="replace")
        for link in LINK.findall(text):
            hit = found(urllib.parse.unquote(html_unescape(link)), person)
            if hit:
                links[link] = hit
        which = EVERYTHING if who in OUTSIDERS else NUMBERS + ("door",)
        if any(url.startswith(prefix) for prefix in OWN_WORDS.get(who, ())):
            continue
        hit = found(text, person, which)
        if hit:
            leaks[url] = hit
    assert leaks == {}
    assert links == {}


def html_unescape(value: str) -> str:
    import html

    return html.unescape(value)


def test_the_minutes_the_readers_see_name_no_resident_who_took_part(scene):
    """The party secretary and the street read the minutes as the board shows them; the office
    reads its own words, numbers and doors masked."""
    url = f"/deliberation/Y/office/m/{scene['meeting'].pk}/"
    person = scene["person"]
    for who in ("secretary", "supervisor"):
        page = client_for(scene, who).get(url)
        assert page.status_code == 200 and "议事会召开" in page.content.decode()
        assert found(page.content.decode(), person) == [], who
    page = client_for(scene, "worker").get(url).content.decode()
    assert person["name"] in page  # the office wrote it and keeps it
    assert found(page, person, NUMBERS + ("door",)) == []


def test_a_project_page_masks_what_its_proposer_typed_for_everyone_else(scene):
    url = f"/funds/Y/p/{scene['project'].pk}/"
    person = scene["person"]
    own = client_for(scene, "resident").get(url).content.decode()
    assert person["phone"] in own  # their own words, as written
    for who in ("admin", "worker", "secretary", "supervisor"):
        for page in (url, f"/funds/Y/office/p/{scene['project'].pk}/"):
            text = client_for(scene, who).get(page).content.decode()
            assert "老人上下楼不便" in text and found(text, person, NUMBERS + ("door",)) == [], (who, page)


# --- what is stored beside: events, notifications, the log ----------------------------------------


def _stored(person) -> dict:
    hits = stored_hits(person)
    for leaf in Leaf.objects.all():
        hit = found(bytes(leaf.data).decode(errors="replace"), person, NUMBERS)
        if hit:
            hits[f"leaf {leaf.index}"] = hit
    return hits


def test_events_notifications_and_leaves_hold_no_planted_value(scene):
    from linli.voting import jobs

    from linli.notify import services as notify

    jobs.announce_phases()  # the phases that opened tell the residents in scope
    notify.dispatch_new_events(settle_seconds=0)
    assert apps.get_model("notify", "Notification").objects.exists()
    assert Event.objects.filter(verb__in=("deliberation.proposal_submitted", "deliberation.commented",
                                          "funds.project_submitted", "voting.cast")).count() >= 5
    assert Leaf.objects.exists()
    assert _stored(scene["person"]) == {}


def test_the_board_carries_no_number_and_the_minutes_no_door_or_name(scene):
    person = scene["person"]
    meeting = scene["meeting"]
    entries = list(Entry.objects.filter(community=scene["world"].community, state="published"))
    assert meeting.log_index is not None and len(entries) >= 3
    for entry in entries:
        assert found(entry.title + entry.body, person, NUMBERS) == [], entry.title
    minutes = Entry.objects.get(community=scene["world"].community, log_index=meeting.log_index)
    assert "议事会召开" in minutes.body and found(minutes.title + minutes.body, person) == []
    anonymous = Client()
    for url in board_urls(scene["world"].community):
        response = anonymous.get(url)
        assert found(response.content.decode(errors="replace"), person, NUMBERS) == [], url


# --- the evaluation: comments stay in the office, scrubbed; never published -----------------------


def test_evaluation_comments_are_scrubbed_in_the_office_and_never_published(scene):
    world, person = scene["world"], scene["person"]
    u = world.users
    ev = scene["evaluation"]
    _relay(ev.process, EVAL_KEYS, "results")
    ev = evaluation.count(actor=u["worker"], evaluation=Evaluation.objects.get(pk=ev.pk))
    stored = [b.choices.get("comments", {}) for b in Ballot.objects.filter(vote=ev.vote)]
    assert any(stored) and all(found(json.dumps(c, ensure_ascii=False), person, NUMBERS) == [] for c in stored)
    office = client_for(scene, "worker").get(f"/evaluation/Y/office/{ev.year}/").content.decode()
    assert "等了很久" in office and found(office, person, NUMBERS + ("door",)) == []
    for criterion in Criterion.objects.filter(target__evaluation=ev):
        evaluation.respond(actor=u["worker"], evaluation=ev, criterion=criterion, text="我们将缩短办理时间。")
    _relay(ev.process, EVAL_KEYS, "response")
    ev = evaluation.publish(actor=u["admin"], evaluation=Evaluation.objects.get(pk=ev.pk))
    assert ev.results_log_index is not None and ev.report_log_index is not None
    for entry in Entry.objects.filter(community=world.community, state="published"):
        assert "等了很久" not in entry.body
        assert found(entry.title + entry.body, person, NUMBERS) == []
    public = Client().get(f"/evaluation/Y/{ev.year}/")
    assert public.status_code == 200
    assert "等了很久" not in public.content.decode() and found(public.content.decode(), person) == []
    assert _stored(person) == {}


# --- the fund: a proposer's own details never reach the others --------------------------------


def test_a_proposers_own_details_reach_neither_the_ballot_nor_the_board(scene):
    """The proposer writes their own name, phone, ID number and door into the project; once it is
    on the ballot everyone reads it, without any of them, and the selection on the board holds
    none."""
    world = scene["world"]
    u = world.users
    me = world.residents[0]
    household = me.household
    own = {"name": me.name.reveal(), "phone": me.phone.reveal(), "id_number": me.id_number.reveal(),
           "door": f"{household.building.name}{household.unit.number}单元{household.room}室"}
    call = scene["call"]
    project = funds.project_submit(actor=u["resident"], call=call, title="单元门口装雨棚",
                                   description=f"我是{own['name']}，电话{own['phone']}，身份证{own['id_number']}，"
                                               f"住{own['door']}，雨天进出不便。",
                                   place="1号院", beneficiaries="1号院居民", budget_lines=[("雨棚", 200_000)])
    call = _fund_phase(call, "review")
    for p in Project.objects.filter(call=call, state="submitted"):
        funds.project_review(actor=u["worker"], project=p, eligible=True)
    call = _fund_phase(call, "vote")
    funds.vote_prepare(actor=u["admin"], call=call)
    call = Call.objects.get(pk=call.pk)
    question = call.vote.questions.get()
    option = question.options.get(ref=f"project:{project.pk}")
    for resident in world.residents[1:4]:
        voting.cast(vote=call.vote, resident=resident, choices={str(question.pk): [option.pk]}, channel="booth",
                    actor=u["worker"])
    call = _fund_phase(call, "selection")
    call = funds.select(actor=u["admin"], call=call)
    assert call.log_index is not None
    for who in (None, "nobody", "supervisor", "secretary", "worker"):
        client = client_for(scene, who)
        for url in (f"/funds/Y/c/{call.pk}/", f"/funds/Y/p/{project.pk}/"):
            page = client.get(url)
            assert page.status_code == 200, (who, url)
            text = page.content.decode()
            assert "雨天进出不便" in text or url.endswith(f"/c/{call.pk}/")
            assert found(text, own) == [], (who, url)
    assert own["phone"] in client_for(scene, "resident").get(f"/funds/Y/p/{project.pk}/").content.decode()
    for entry in Entry.objects.filter(community=world.community, state="published"):
        assert found(entry.title + entry.body, own) == [], entry.title
    assert _stored(own) == {}


# --- ballots are secret ---------------------------------------------------------------------------


def test_a_ballot_has_no_column_that_leads_to_its_voter(db):
    fields = {f.name: f for f in Ballot._meta.get_fields()}
    assert fields["id"].primary_key and fields["id"].default is random_key  # drawn at random, no sequence
    for f in fields.values():
        assert not isinstance(f, (models.DateTimeField, models.DateField, models.TimeField)), f.name
        related = getattr(f, "related_model", None)
        assert related not in (Participation, apps.get_model("community", "Resident"),
                               apps.get_model("community", "Household"), apps.get_model("auth", "User"),
                               PaperCode), f.name
    for f in Participation._meta.get_fields():
        assert getattr(f, "related_model", None) is not Ballot, f.name
    # The admin site shows neither who took part nor what was voted (docs/roles.md).
    from django.contrib import admin

    assert Ballot not in admin.site._registry and Participation not in admin.site._registry
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, Ballot._meta.db_table)]
    assert not [c for c in columns if re.search(r"time|date|created|resident|household|user|participation|officer",
                                                c)]


def test_ballots_keep_no_order_of_casting(world, settings, tmp_path):
    """Twelve residents vote one after the other; read back in their storage order (the primary
    key, the table's own order) the ballots do not follow the order of casting."""
    u = world.users
    now = timezone.now()
    process = voting.process_create(actor=u["admin"], community=world.community, kind="vote", title="顺序",
                                    specs=[PhaseSpec("voting", "投票", now - dt.timedelta(hours=1))],
                                    ends_at=now + dt.timedelta(days=2))
    vote = voting.vote_create(actor=u["admin"], process=process, title="路灯", kind="choice", eligibility="adults",
                              rule="majority", questions=[("换路灯吗？", ["换", "不换"])], phase_key="voting")
    vote = voting.vote_open(actor=u["admin"], vote=vote)
    question = vote.questions.get()
    yes = question.options.order_by("order", "id").first()
    order = []
    for resident in world.residents[:12]:
        receipt = voting.cast(vote=vote, resident=resident, choices={str(question.pk): [yes.pk]}, channel="booth",
                              actor=u["worker"])
        order.append(receipt.receipt_hash)
    assert len(order) == 12
    by_pk = list(Ballot.objects.filter(vote=vote).order_by("pk").values_list("receipt_hash", flat=True))
    as_listed = list(Ballot.objects.filter(vote=vote).values_list("receipt_hash", flat=True))
    assert sorted(by_pk) == sorted(order)
    assert by_pk != order and as_listed != order  # a chance of 2 in 12! that this fails by luck
    keys = list(Ballot.objects.filter(vote=vote).values_list("pk", flat=True))
    assert len(set(keys)) == 12 and max(keys) - min(keys) > 10**9  # random, not a sequence
    if connection.vendor == "sqlite":
        # The key is the table's rowid: no hidden row number counts the insertions.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT rowid, id FROM {Ballot._meta.db_table} WHERE vote_id = %s", [vote.pk])
            assert all(rowid == pk for rowid, pk in cursor.fetchall())
    # Participations are kept in the order of casting; nothing leads from one to a ballot.
    assert Participation.objects.filter(vote=vote).count() == 12


# --- the logs -----------------------------------------------------------------------------------


def test_log_records_hold_no_planted_value_and_no_code(scene, caplog):
    """Casting (web through the page, booth, proxy with the planted reason), issuing and entering
    paper sheets by two officers, and publishing the result: no log record holds a planted value,
    a receipt code or a paper code."""
    world, person = scene["world"], scene["person"]
    u = world.users
    vote = scene["vote"]
    question = vote.questions.get()
    yes = question.options.order_by("order", "id").first()
    secrets = []
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="linli")
    client = client_for(scene, "resident")
    response = client.post(f"/votes/Y/v/{vote.pk}/ballot", {"step": "cast", f"q{question.pk}": [str(yes.pk)]})
    assert response.status_code == 200
    secrets += re.findall(r'class="receipt-code"[^>]*><strong>([^<]+)</strong>', response.content.decode())
    assert secrets, "the receipt is shown once, in the response"
    booth = scene["booth"]
    receipt = voting.cast(vote=vote, resident=world.residents[6], choices={str(question.pk): [yes.pk]},
                          channel="booth", actor=u["worker"], booth=booth)
    secrets.append(receipt.code)
    receipt = voting.cast(vote=vote, resident=world.residents[7], choices={str(question.pk): [yes.pk]},
                          channel="proxy", actor=u["admin"], booth=booth,
                          proxy_reason=f"卧床，{person['name']}代为，电话{person['phone']}，住{person['door']}")
    secrets.append(receipt.code)
    codes = paper.issue_codes(actor=u["worker"], vote=vote, booth=booth, count=2)
    secrets += codes + list(scene["codes"])
    voting.mark_paper(vote=vote, resident=world.residents[8], actor=u["worker"], booth=booth)
    sheet = {str(question.pk): [yes.pk]}
    assert paper.enter_sheet(actor=u["worker"], vote=vote, code=codes[0], choices=sheet) == "waiting_second"
    officer = client_for(scene, "admin")
    page = officer.post(f"/votes/Y/office/v/{vote.pk}/paper/enter", {"code": codes[0], f"q{question.pk}": [str(yes.pk)]})
    assert page.status_code in (200, 302)
    assert PaperCode.objects.filter(vote=vote, state="counted").count() == 1
    published = results.publish(actor=u["admin"], vote=vote, force_reason="按时公布")
    assert published.state == "published"
    secrets += [scene["proxy"].code, scene["booth_receipt"].code, scene["evaluation_receipt"].code]
    assert caplog.records is not None
    leaks = []
    for record in caplog.records:
        text = record.getMessage() + " " + repr(record.args) + " " + (record.exc_text or "")
        text += " " + json.dumps({k: str(v) for k, v in record.__dict__.items()}, ensure_ascii=False)
        hit = found(text, person)
        if hit or any(code in text or code.replace("-", "") in text for code in secrets):
            leaks.append((record.name, record.getMessage()[:200], hit))
    assert leaks == []
    # Nor do events: a cast records the channel and the booth, never the choices or the receipt.
    for event in Event.objects.filter(verb__startswith="voting."):
        row = json.dumps(event.data, ensure_ascii=False)
        assert not any(code in row or code.replace("-", "") in row for code in secrets), event.verb
        assert "choices" not in event.data and "receipt" not in json.dumps(event.data)
    assert _stored(person) == {}
