"""Booths, paper ballots and proxy votes (docs/voting.md, "Booth and paper"): codes issued once
and kept only as salted hashes; every sheet typed in by two officers, counted only when they
agree, disputed sheets settled by a third with a reason; every bad entry refused with nothing
changed; reconciliation per booth with its gaps; and the officers' pages — the desk (find the
resident, see whether they may vote and whether they did, then booth ballot, paper sheet or
proxy), the codes and their PDF, the entry pages, the poster."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from linli.community.models import StaffRole
from linli.community.services import ResidentFacts, resident_create
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.voting import paper, services
from linli.voting.models import Ballot, PaperCode, Participation, SheetEntry, Vote
from linli.voting.phases import PhaseClosed, PhaseSpec

from factories import _role, _user, make_id_number, make_phone

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def make_vote(world, *, kind="choice", eligibility="adults", questions=None, open_now=True, open_vote=True,
              **options) -> Vote:
    now = timezone.now()
    admin = world.users["admin"]
    if open_now:
        specs = [PhaseSpec("voting", "Voting", now - dt.timedelta(hours=1))]
    else:
        specs = [PhaseSpec("notice", "Notice", now - dt.timedelta(hours=1)),
                 PhaseSpec("voting", "Voting", now + dt.timedelta(days=1))]
    process = services.process_create(actor=admin, community=world.community, kind="vote", title="Courtyard matters",
                                      specs=specs, ends_at=now + dt.timedelta(days=5))
    questions = questions or [("Paint the railings green?", ["Yes", "No"])]
    vote = services.vote_create(actor=admin, process=process, title="Railings", kind=kind, eligibility=eligibility,
                                rule="majority" if kind == "choice" else "tally", questions=questions,
                                phase_key="voting", **options)
    if open_vote:
        vote = services.vote_open(actor=admin, vote=vote)
    return vote


@pytest.fixture
def officers(world):
    """Three officers of Y: the admin, the worker and a second worker."""
    second = _user("worker2")
    _role(second, StaffRole.Role.COMMUNITY_WORKER, community=world.community)
    return world.users["admin"], world.users["worker"], second


@pytest.fixture
def vote(world):
    return make_vote(world)


@pytest.fixture
def booth(world, vote):
    return paper.booth_create(actor=world.users["worker"], vote=vote, name="Desk 1", place="Service centre")


def yes_no(vote):
    q = vote.questions.get()
    yes, no = q.options.order_by("order", "id")
    return {str(q.pk): [yes.pk]}, {str(q.pk): [no.pk]}


def snapshot(vote):
    return (list(PaperCode.objects.filter(vote=vote).values_list("code_hash", "state").order_by("code_hash")),
            SheetEntry.objects.filter(vote=vote).count(), Ballot.objects.filter(vote=vote).count(),
            Event.objects.filter(verb__startswith="voting.paper").count())


# --- codes -------------------------------------------------------------------------------------


def test_issue_codes_keeps_only_salted_hashes(world, vote, booth):
    codes = paper.issue_codes(actor=world.users["worker"], vote=vote, booth=booth, count=20)
    assert len(codes) == len(set(codes)) == 20
    assert all(len(c) == paper.CODE_LENGTH and set(c) <= set(paper.ALPHABET) for c in codes)
    stored = set(PaperCode.objects.filter(vote=vote, booth=booth).values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256((vote.paper_salt + c).encode()).hexdigest() for c in codes}
    assert set(PaperCode.objects.filter(vote=vote).values_list("state", flat=True)) == {"issued"}
    event = Event.objects.get(verb="voting.paper_issued")
    assert event.data == {"booth": booth.pk, "count": 20}
    dumped = str(list(Event.objects.values_list("data", flat=True)))
    assert not any(c in dumped for c in codes)


@pytest.mark.parametrize("who", ["grid1", "secretary", "leader", "supervisor", "z_worker", "resident"])
def test_only_officers_issue_codes(world, vote, booth, who):
    with pytest.raises(PermissionDenied):
        paper.issue_codes(actor=world.users[who], vote=vote, booth=booth, count=5)
    assert not PaperCode.objects.exists()


@pytest.mark.parametrize("count", [0, -3, paper.MAX_BATCH + 1, "many"])
def test_issue_codes_count_bounds(world, vote, booth, count):
    with pytest.raises(InvalidInput):
        paper.issue_codes(actor=world.users["worker"], vote=vote, booth=booth, count=count)
    assert not PaperCode.objects.exists()


def test_no_paper_for_owners_votes_or_votes_without_the_channel(world):
    owners = make_vote(world, eligibility="owners")
    b = paper.booth_create(actor=world.users["worker"], vote=owners, name="Desk")
    with pytest.raises(InvalidInput) as refused:
        paper.issue_codes(actor=world.users["worker"], vote=owners, booth=b, count=5)
    assert refused.value.code == "channel_closed"
    web_only = make_vote(world, channels=["web", "booth"])
    b2 = paper.booth_create(actor=world.users["worker"], vote=web_only, name="Desk")
    with pytest.raises(InvalidInput):
        paper.issue_codes(actor=world.users["worker"], vote=web_only, booth=b2, count=5)
    assert not PaperCode.objects.exists()


def test_no_codes_for_a_closed_vote_or_another_votes_booth(world, vote, booth):
    other = make_vote(world)
    with pytest.raises(Exception):
        paper.issue_codes(actor=world.users["worker"], vote=other, booth=booth, count=5)
    services.vote_close(actor=world.users["admin"], vote=vote)
    vote.refresh_from_db()
    with pytest.raises(Conflict):
        paper.issue_codes(actor=world.users["worker"], vote=vote, booth=booth, count=5)
    assert not PaperCode.objects.exists()


def test_normalize_code():
    assert paper.normalize_code(" abc-def-ghjk ") == "ABCDEFGHJK"
    for bad in ("ABCDEFGHJ", "ABCDEFGHJKL", "ABCDEFGH0K", "ABCDEFGHIK", "", None):
        with pytest.raises(InvalidInput) as refused:
            paper.normalize_code(bad)
        assert refused.value.code == "bad_code"


# --- double entry ----------------------------------------------------------------------------


def test_two_agreeing_entries_count_the_sheet(world, vote, booth, officers):
    a, b, c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=3)[0]
    yes, _no = yes_no(vote)
    assert paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes) == paper.SheetState.WAITING_SECOND
    assert not Ballot.objects.exists()
    # The second officer types the code as read aloud: lower case, grouped.
    typed = f"{code[:3]}-{code[3:6]} {code[6:]}".lower()
    assert paper.enter_sheet(actor=b, vote=vote, code=typed, choices=yes) == paper.SheetState.COUNTED
    ballot = Ballot.objects.get()
    assert ballot.choices == yes
    assert PaperCode.objects.get(vote=vote, code_hash=paper.code_hash(vote, code)).booth == booth
    assert ballot.receipt_hash == services.receipt_hash(code)
    assert PaperCode.objects.get(code_hash=paper.code_hash(vote, code)).state == "counted"
    # The strip the voter kept checks their ballot.
    from linli.voting.results import check_receipt

    assert check_receipt(vote, f"{code[:3]}-{code[3:6]}-{code[6:]}")
    verbs = list(Event.objects.filter(verb__startswith="voting.paper_").values_list("verb", flat=True)
                 .order_by("pk"))
    assert verbs == ["voting.paper_issued", "voting.paper_entered", "voting.paper_counted"]
    # Events carry neither choices nor codes nor receipts.
    for data in Event.objects.filter(verb__startswith="voting.paper_").values_list("data", flat=True):
        assert set(data) <= {"booth", "count", "reason", "void"}
    # A third reading of a counted sheet: refused, nothing changes.
    before = snapshot(vote)
    with pytest.raises(Conflict) as refused:
        paper.enter_sheet(actor=c, vote=vote, code=code, choices=yes)
    assert refused.value.code == "already_counted"
    assert snapshot(vote) == before


def test_the_same_officer_twice_is_refused(world, vote, booth, officers):
    a, _b, _c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    yes, _no = yes_no(vote)
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    before = snapshot(vote)
    with pytest.raises(InvalidInput) as refused:
        paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    assert refused.value.code == "same_officer"
    assert snapshot(vote) == before


def test_differing_entries_are_flagged_and_settled_by_a_third_officer(world, vote, booth, officers):
    a, b, c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    yes, no = yes_no(vote)
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    assert paper.enter_sheet(actor=b, vote=vote, code=code, choices=no) == paper.SheetState.MISMATCH
    assert not Ballot.objects.exists()
    [row] = paper.reconcile(vote)
    assert row.mismatched == 1 and row.counted == 0 and not row.ok
    [disputed] = paper.mismatches(vote)
    assert [e.officer for e in disputed.entries] == [a, b] and disputed.booth_id == booth.pk
    before = snapshot(vote)
    # A third entry is no way round it; neither officer of the two settles it; a reason is needed.
    with pytest.raises(Conflict) as refused:
        paper.enter_sheet(actor=c, vote=vote, code=code, choices=yes)
    assert refused.value.code == "mismatch_pending"
    with pytest.raises(InvalidInput) as refused:
        paper.resolve_mismatch(actor=a, vote=vote, code=code, choices=yes, reason="I read it again")
    assert refused.value.code == "same_officer"
    with pytest.raises(InvalidInput) as refused:
        paper.resolve_mismatch(actor=c, vote=vote, code=code, choices=yes, reason="   ")
    assert refused.value.code == "reason_required"
    with pytest.raises(PermissionDenied):
        paper.resolve_mismatch(actor=world.users["secretary"], vote=vote, code=code, choices=yes, reason="x")
    assert snapshot(vote) == before
    state = paper.resolve_mismatch(actor=c, vote=vote, code=code, choices=yes,
                                   reason="the tick is in the first box; call 13912345678 if unclear")
    assert state == paper.SheetState.COUNTED
    assert Ballot.objects.get().choices == yes
    event = Event.objects.get(verb="voting.paper_resolved")
    assert "13912345678" not in event.data["reason"]  # free text is scrubbed
    assert paper.reconcile(vote)[0].mismatched == 0
    with pytest.raises(Conflict):
        paper.resolve_mismatch(actor=c, vote=vote, code=code, choices=yes, reason="again")


def test_resolving_needs_a_dispute(world, vote, booth, officers):
    a, _b, c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    yes, _no = yes_no(vote)
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    with pytest.raises(Conflict) as refused:
        paper.resolve_mismatch(actor=c, vote=vote, code=code, choices=yes, reason="why not")
    assert refused.value.code == "no_mismatch"


def test_bad_codes_are_refused_and_change_nothing(world, vote, booth, officers):
    a, b, _c = officers
    codes = paper.issue_codes(actor=a, vote=vote, booth=booth, count=2)
    other_vote = make_vote(world)
    other_booth = paper.booth_create(actor=a, vote=other_vote, name="Other")
    foreign = paper.issue_codes(actor=a, vote=other_vote, booth=other_booth, count=1)[0]
    yes, _no = yes_no(vote)
    before = snapshot(vote)
    for code, expected in [("ZZZZZZZZZZ", "unknown_code"), (foreign, "unknown_code"), ("HELLO", "bad_code")]:
        with pytest.raises(InvalidInput) as refused:
            paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
        assert refused.value.code == expected
    assert snapshot(vote) == before
    # A spoiled code: void with a reason, then refused.
    with pytest.raises(InvalidInput):
        paper.spoil_code(actor=a, vote=vote, code=codes[0], reason="")
    paper.spoil_code(actor=a, vote=vote, code=codes[0], reason="torn while printing")
    before = snapshot(vote)
    with pytest.raises(Conflict) as refused:
        paper.enter_sheet(actor=b, vote=vote, code=codes[0], choices=yes)
    assert refused.value.code == "spoiled_code"
    assert snapshot(vote) == before
    # A code already typed in cannot be spoiled behind the entries' back.
    paper.enter_sheet(actor=a, vote=vote, code=codes[1], choices=yes)
    with pytest.raises(Conflict):
        paper.spoil_code(actor=b, vote=vote, code=codes[1], reason="changed my mind")


def test_an_invalid_reading_is_refused(world, vote, booth, officers):
    a, _b, _c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    q = vote.questions.get()
    both = {str(q.pk): list(q.options.values_list("pk", flat=True))}
    before = snapshot(vote)
    with pytest.raises(InvalidInput):
        paper.enter_sheet(actor=a, vote=vote, code=code, choices=both)
    assert snapshot(vote) == before


def test_two_void_readings_void_the_sheet(world, vote, booth, officers):
    a, b, _c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=None)
    assert paper.enter_sheet(actor=b, vote=vote, code=code, choices=None) == paper.SheetState.VOID
    assert not Ballot.objects.exists()
    assert PaperCode.objects.get().state == "spoiled"
    assert paper.reconcile(vote)[0].void == 1


def test_entries_wait_for_the_phase_and_stop_at_publication(world, officers):
    a, _b, _c = officers
    early = make_vote(world, open_now=False)
    b1 = paper.booth_create(actor=a, vote=early, name="Desk")
    code = paper.issue_codes(actor=a, vote=early, booth=b1, count=1)[0]  # printing before the vote: fine
    yes, _no = yes_no(early)
    with pytest.raises(PhaseClosed):
        paper.enter_sheet(actor=a, vote=early, code=code, choices=yes)
    # History written with its own moment (the demo): in the phase, allowed, and the event says when.
    later = timezone.now() + dt.timedelta(days=2)
    assert paper.enter_sheet(actor=a, vote=early, code=code, choices=yes, at=later) == "waiting_second"
    assert Event.objects.get(verb="voting.paper_entered").created_at == later
    SheetEntry.objects.all().delete()
    draft = make_vote(world, open_vote=False)
    b2 = paper.booth_create(actor=a, vote=draft, name="Desk")
    with pytest.raises(Conflict) as refused:  # a draft's questions may still change: no sheets yet
        paper.issue_codes(actor=a, vote=draft, booth=b2, count=1)
    assert refused.value.code == "draft"
    Vote.objects.filter(pk=early.pk).update(state="published")
    early.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        paper.enter_sheet(actor=a, vote=early, code=code, choices=yes)
    assert refused.value.code == "published"
    assert not SheetEntry.objects.exists()


def test_entries_after_the_vote_closed_still_count(world, vote, booth, officers):
    a, b, _c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    services.vote_close(actor=world.users["admin"], vote=vote)
    vote.refresh_from_db()
    yes, _no = yes_no(vote)
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    assert paper.enter_sheet(actor=b, vote=vote, code=code, choices=yes) == paper.SheetState.COUNTED


def test_courtyard_printed_on_the_sheet_is_typed_in(world, officers):
    a, b, _c = officers
    vote = make_vote(world, kind="rating", eligibility="households", questions=[("Cleanliness", [])],
                     breakdown_by_grid=True)
    bth = paper.booth_create(actor=a, vote=vote, name="Desk")
    code = paper.issue_codes(actor=a, vote=vote, booth=bth, count=1)[0]
    q = vote.questions.get()
    satisfied = q.options.get(ref="satisfied")
    choices = {str(q.pk): satisfied.pk}
    with pytest.raises(InvalidInput) as refused:
        paper.enter_sheet(actor=a, vote=vote, code=code, choices=choices)
    assert refused.value.code == "grid_required"
    grid = world.grids[1]
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=choices, grid=grid.pk)
    # Another courtyard typed by the second officer is a difference like any other.
    assert paper.enter_sheet(actor=b, vote=vote, code=code, choices=choices, grid=world.grids[0].pk) == "mismatch"
    paper.resolve_mismatch(actor=officers[2], vote=vote, code=code, choices=choices, grid=grid.pk,
                           reason="courtyard 2 printed at the top")
    assert Ballot.objects.get().grid == grid


# --- reconciliation -------------------------------------------------------------------------------


def test_reconcile_per_booth(world, vote, officers):
    a, b, _c = officers
    desk1 = paper.booth_create(actor=a, vote=vote, name="Desk 1")
    desk2 = paper.booth_create(actor=a, vote=vote, name="Desk 2")
    codes1 = paper.issue_codes(actor=a, vote=vote, booth=desk1, count=5)
    codes2 = paper.issue_codes(actor=a, vote=vote, booth=desk2, count=2)
    adults = [r for r in world.residents if r.age() >= 18]
    for r in adults[:3]:
        services.mark_paper(vote=vote, resident=r, actor=a, booth=desk1)
    services.mark_paper(vote=vote, resident=adults[3], actor=a, booth=desk2)
    yes, no = yes_no(vote)
    for code in codes1[:2]:
        paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
        paper.enter_sheet(actor=b, vote=vote, code=code, choices=yes)
    paper.enter_sheet(actor=a, vote=vote, code=codes1[2], choices=no)  # waiting for its second entry
    # Desk 2: two sheets typed in for one marked voter — one too many.
    for code in codes2:
        paper.enter_sheet(actor=a, vote=vote, code=code, choices=no)
        paper.enter_sheet(actor=b, vote=vote, code=code, choices=no)
    rows = {r.booth.name: r for r in paper.reconcile(vote)}
    one, two = rows["Desk 1"], rows["Desk 2"]
    assert (one.marked, one.counted, one.pending, one.mismatched, one.gap) == (3, 2, 1, 0, 0)
    assert (one.issued, one.unused) == (5, 2)
    assert not one.ok  # a sheet still waits
    assert (two.marked, two.counted, two.gap, two.extra, two.missing) == (1, 2, -1, 1, 0)
    assert not paper.is_reconciled(vote)
    paper.enter_sheet(actor=b, vote=vote, code=codes1[2], choices=no)
    assert {r.booth.name: r.ok for r in paper.reconcile(vote)} == {"Desk 1": True, "Desk 2": False}


def test_a_marked_voter_cannot_vote_online_and_paper_blocks_the_booth(world, vote, booth, officers):
    a, _b, _c = officers
    resident = world.residents[0]
    services.mark_paper(vote=vote, resident=resident, actor=a, booth=booth)
    yes, _no = yes_no(vote)
    with pytest.raises(services.AlreadyVoted):
        services.cast(vote=vote, resident=resident, choices=yes, channel="web", actor=world.users["resident"])
    with pytest.raises(services.AlreadyVoted):
        services.cast(vote=vote, resident=resident, choices=yes, channel="booth", actor=a, booth=booth)
    assert Participation.objects.filter(vote=vote).count() == 1


# --- pages ---------------------------------------------------------------------------------------


def url(name, vote, *args):
    return reverse(f"voting:{name}", args=[vote.process.community.code, vote.pk, *args])


@pytest.mark.parametrize("who", ["grid1", "leader", "resident", "z_worker", "unit_staff", "secretary"])
def test_pages_are_for_officers(client, world, vote, booth, who):
    client.force_login(world.users[who])
    r = world.residents[0]
    for name, args in [("paper_home", ()), ("paper_desk", (booth.pk,)), ("paper_resident", (booth.pk, r.pk)),
                       ("paper_ballot", (booth.pk, r.pk)), ("paper_codes", (booth.pk,)), ("paper_enter", ()),
                       ("paper_resolve", ()), ("paper_poster", ())]:
        assert client.get(url(name, vote, *args)).status_code in (403, 404), name


def test_the_supervisor_reads_the_reconciliation_only(client, world, vote, booth):
    client.force_login(world.users["supervisor"])
    page = client.get(url("paper_home", vote), **EN)
    assert page.status_code == 200
    assert "Desk 1" in page.content.decode() and "Add a booth" not in page.content.decode()
    assert client.get(url("paper_desk", vote, booth.pk)).status_code == 404
    assert client.post(url("paper_booth_new", vote), {"name": "Mine"}).status_code == 404


def test_desk_finds_the_resident_masked_and_hands_out_a_sheet(client, world, vote, booth):
    client.force_login(world.users["worker"])
    resident = world.residents[0]
    phone = resident.phone.reveal()
    page = client.post(url("paper_desk", vote, booth.pk), {"query": phone}, **EN)
    html = page.content.decode()
    assert page.status_code == 200
    assert resident.name.reveal() not in html and str(resident.name) in html  # masked only
    assert phone not in html
    assert "Not yet" in html and url("paper_resident", vote, booth.pk, resident.pk) in html
    assert all(phone not in link for link in re.findall(r'(?:href|action)="([^"]*)"', html))
    detail = client.get(url("paper_resident", vote, booth.pk, resident.pk), **EN)
    assert "On a paper sheet" in detail.content.decode()
    done = client.post(url("paper_resident", vote, booth.pk, resident.pk), {"action": "paper"}, **EN)
    assert done.status_code == 302
    p = Participation.objects.get(vote=vote)
    assert (p.channel, p.booth, p.recorded_by) == ("paper", booth, world.users["worker"])
    again = client.post(url("paper_desk", vote, booth.pk), {"query": phone}, **EN)
    assert "took a paper sheet" in again.content.decode()
    refused = client.post(url("paper_resident", vote, booth.pk, resident.pk), {"action": "paper"}, **EN)
    assert refused.status_code == 409
    assert Participation.objects.filter(vote=vote).count() == 1
    # The resident's own online ballot now says so.
    client.force_login(world.users["resident"])
    yes, _no = yes_no(vote)
    with pytest.raises(services.AlreadyVoted):
        services.cast(vote=vote, resident=resident, choices=yes, actor=world.users["resident"])


def test_desk_shows_why_a_resident_may_not_vote(client, world, vote, booth):
    client.force_login(world.users["worker"])
    born = timezone.localdate().replace(year=timezone.localdate().year - 10, month=1, day=1)
    minor = resident_create(actor=None, household=world.households[0], facts=ResidentFacts.clean(
        name="小青", id_number=make_id_number(born, 778), phone=make_phone(778), relation="child"))
    page = client.get(url("paper_resident", vote, booth.pk, minor.pk), **EN)
    assert "May not vote" in page.content.decode() and "aged 18 or over" in page.content.decode()
    assert "On a paper sheet" not in page.content.decode()
    assert client.get(url("paper_resident", vote, booth.pk, world.other_resident.pk)).status_code == 404


def test_booth_ballot_and_proxy_through_the_pages(client, world, vote, booth):
    client.force_login(world.users["worker"])
    q = vote.questions.get()
    yes = q.options.order_by("order", "id").first()
    adults = [r for r in world.residents if r.age() >= 18]
    form = client.get(url("paper_ballot", vote, booth.pk, adults[0].pk), **EN)
    assert form.status_code == 200 and "Cast this ballot" in form.content.decode()
    cast = client.post(url("paper_ballot", vote, booth.pk, adults[0].pk), {f"q{q.pk}": str(yes.pk)}, **EN)
    assert cast.status_code == 200
    code = re.search(r'class="receipt-code">([^<]+)<', cast.content.decode()).group(1)
    assert Ballot.objects.filter(receipt_hash=services.receipt_hash(code)).exists()
    assert Participation.objects.get(resident=adults[0]).channel == "booth"
    # Proxy: a reason is required; nothing is cast without it.
    proxy_url = url("paper_ballot", vote, booth.pk, adults[1].pk)
    missing = client.post(proxy_url, {"how": "proxy", f"q{q.pk}": str(yes.pk)}, **EN)
    assert missing.status_code == 400
    assert not Participation.objects.filter(resident=adults[1]).exists()
    ok = client.post(proxy_url, {"how": "proxy", f"q{q.pk}": str(yes.pk), "proxy_reason": "bedridden, visited at home"},
                     **EN)
    assert ok.status_code == 200
    p = Participation.objects.get(resident=adults[1])
    assert (p.channel, p.proxy_reason) == ("proxy", "bedridden, visited at home")
    # A second vote at the booth: refused, nothing changes.
    twice = client.post(url("paper_ballot", vote, booth.pk, adults[0].pk), {f"q{q.pk}": str(yes.pk)}, **EN)
    assert twice.status_code == 409
    assert Ballot.objects.count() == 2


def test_codes_are_shown_once_and_printed_from_the_posted_codes(client, world, vote, booth):
    client.force_login(world.users["worker"])
    page = client.post(url("paper_codes", vote, booth.pk), {"count": "4"}, **EN)
    assert page.status_code == 200
    html = page.content.decode()
    codes = re.findall(r'name="code" value="([A-Z0-9-]+)"', html)
    assert len(codes) == 4
    assert PaperCode.objects.filter(vote=vote).count() == 4
    sheets = client.post(url("paper_sheets_pdf", vote, booth.pk), {"code": codes})
    assert sheets.status_code == 200 and sheets["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(sheets.content))
    assert len(reader.pages) == 4
    assert codes[2] in reader.pages[2].extract_text()
    assert "/votes/Y/v/" in reader.pages[0].extract_text()  # where to check the code
    # Codes that are not this booth's unused codes print nothing.
    forged = client.post(url("paper_sheets_pdf", vote, booth.pk), {"code": codes[:1] + ["ABCDEFGHJK"]})
    assert forged.status_code == 400
    bad = client.post(url("paper_codes", vote, booth.pk), {"count": "0"}, **EN)
    assert bad.status_code == 400
    assert PaperCode.objects.filter(vote=vote).count() == 4


def test_two_officers_type_a_sheet_through_the_pages(client, world, vote, booth, officers):
    a, b, _c = officers
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    services.mark_paper(vote=vote, resident=world.residents[0], actor=a, booth=booth)
    q = vote.questions.get()
    yes, no = q.options.order_by("order", "id")
    client.force_login(a)
    first = client.post(url("paper_enter", vote), {"code": code, f"q{q.pk}": str(yes.pk)}, **EN)
    assert "First entry saved" in first.content.decode()
    same = client.post(url("paper_enter", vote), {"code": code, f"q{q.pk}": str(yes.pk)}, **EN)
    assert same.status_code == 400 and "another officer must type it" in same.content.decode()
    client.force_login(b)
    second = client.post(url("paper_enter", vote), {"code": code, f"q{q.pk}": str(no.pk)}, **EN)
    assert "The two entries differ" in second.content.decode()
    home = client.get(url("paper_home", vote), **EN).content.decode()
    assert "Sheets whose entries differ" in home and "Entries differ: to settle" in home
    client.force_login(officers[2])
    settled = client.post(url("paper_resolve", vote),
                          {"code": code, f"q{q.pk}": str(yes.pk), "reason": "tick in the first box"}, **EN)
    assert settled.status_code == 302
    assert Ballot.objects.get().choices == {str(q.pk): [yes.pk]}
    home = client.get(url("paper_home", vote), **EN).content.decode()
    assert "Adds up" in home


def test_reconciliation_page_says_the_gap_in_words(client, world, vote, booth):
    a = world.users["worker"]
    services.mark_paper(vote=vote, resident=world.residents[0], actor=a, booth=booth)
    client.force_login(a)
    html = client.get(url("paper_home", vote), **EN).content.decode()
    assert "Gap: 1 sheet taken but not typed in" in html
    assert 'class="gap"' in html


def test_void_and_spoil_through_the_pages(client, world, vote, booth, officers):
    a, b, _c = officers
    codes = paper.issue_codes(actor=a, vote=vote, booth=booth, count=2)
    client.force_login(a)
    client.post(url("paper_enter", vote), {"code": codes[0], "void": "on"}, **EN)
    client.force_login(b)
    voided = client.post(url("paper_enter", vote), {"code": codes[0], "void": "on"}, **EN)
    assert "void" in voided.content.decode()
    spoil = client.post(url("paper_spoil", vote), {"code": codes[1], "reason": "printer jam"}, **EN)
    assert spoil.status_code == 302
    assert sorted(PaperCode.objects.values_list("state", flat=True)) == ["spoiled", "spoiled"]
    unknown = client.post(url("paper_enter", vote), {"code": "ZZZZZZZZZZ", "void": "on"}, **EN)
    assert unknown.status_code == 400 and "No sheet of this vote has this code" in unknown.content.decode()


def test_add_a_booth_and_the_poster(client, world, vote):
    client.force_login(world.users["admin"])
    added = client.post(url("paper_booth_new", vote), {"name": "Courtyard 2 table", "place": "under the tree"}, **EN)
    assert added.status_code == 302 and vote.booths.get().name == "Courtyard 2 table"
    assert client.post(url("paper_booth_new", vote), {"name": ""}, **EN).status_code == 400
    poster = client.get(url("paper_poster", vote), **EN)
    assert poster.status_code == 200 and poster["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(poster.content)).pages[0].extract_text()
    assert "Railings" in text and "Courtyard 2 table" in text and "/votes/Y/" in text


def test_large_text_mode_renders_the_desk(client, world, vote, booth):
    from linli.core.views import TEXT_SIZE_COOKIE

    client.force_login(world.users["worker"])
    client.cookies[TEXT_SIZE_COOKIE] = "large"
    page = client.get(url("paper_desk", vote, booth.pk), **EN)
    assert page.status_code == 200
    assert 'class="text-large"' in page.content.decode()
    assert "voting/paper.css" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_second_entries_at_the_same_moment_count_once(world):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("a real race needs PostgreSQL's row locks and concurrent writers")
    vote = make_vote(world)
    a = world.users["admin"]
    seconds = []
    for n in range(6):
        user = _user(f"worker_race{n}")
        _role(user, StaffRole.Role.COMMUNITY_WORKER, community=world.community)
        seconds.append(user)
    booth = paper.booth_create(actor=a, vote=vote, name="Desk")
    code = paper.issue_codes(actor=a, vote=vote, booth=booth, count=1)[0]
    yes, _no = yes_no(vote)
    paper.enter_sheet(actor=a, vote=vote, code=code, choices=yes)
    barrier = threading.Barrier(len(seconds))
    outcomes = []

    def attempt(user):
        try:
            barrier.wait()
            outcomes.append(paper.enter_sheet(actor=user, vote=vote, code=code, choices=yes))
        except Conflict as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # noqa: BLE001 — reported below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in seconds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("counted") == 1 and outcomes.count("already_counted") == len(seconds) - 1, outcomes
    assert Ballot.objects.filter(vote=vote).count() == 1
