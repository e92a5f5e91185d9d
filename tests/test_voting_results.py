"""linli.voting.results: counting stored ballots, publishing on the board, receipts, the pages."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.disclosure import leaf, selectors as board_selectors
from linli.disclosure.models import Entry
from linli.transparency import keys, selectors as tlog
from linli.voting import results, services
from linli.voting.models import Vote
from linli.voting.phases import PhaseSpec


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")
    settings.LANGUAGE_CODE = "en"  # the board's words in English, for the assertions below


def make_vote(world, *, kind="choice", eligibility="adults", rule="majority", options=("Agree", "Against", "Abstain"),
              questions=None, **extra) -> Vote:
    now = timezone.now()
    process = services.process_create(
        actor=world.users["admin"], community=world.community, kind="vote", title="Courtyard gate",
        specs=[PhaseSpec("voting", "Voting", now - dt.timedelta(days=1))], ends_at=now + dt.timedelta(days=1))
    vote = services.vote_create(actor=world.users["admin"], process=process, title="Shall the gate be repaired?",
                                kind=kind, eligibility=eligibility, rule=rule,
                                questions=questions or [("Repair the gate this year?", list(options))], **extra)
    return services.vote_open(actor=world.users["admin"], vote=vote)


def option_ids(vote) -> list[int]:
    return [o.pk for o in vote.questions.get().options.all()]


def cast_booth(world, vote, resident, option) -> services.Receipt:
    question = vote.questions.get()
    return services.cast(vote=vote, resident=resident, choices={str(question.pk): [option]}, channel="booth",
                         actor=world.users["worker"])


# --- count ----------------------------------------------------------------------------------------

def test_count_tallies_stored_ballots_against_the_roll(world):
    vote = make_vote(world)
    yes, no, _abstain = option_ids(vote)
    for resident in world.residents[:5]:
        cast_booth(world, vote, resident, yes)
    for resident in world.residents[5:8]:
        cast_booth(world, vote, resident, no)
    result = results.count(vote)
    assert result.tally["ballots"] == 8
    assert [o["votes"] for o in result.tally["questions"][0]["options"]] == [5, 3, 0]
    assert result.roll.people == 12 and result.decision.eligible == 12
    assert result.decision.passed is True
    assert result.as_json()["labels"]["options"][str(yes)] == "Agree"


def test_count_breakdown_only_for_groups_of_ten(world):
    vote = make_vote(world, kind="approval", rule="tally", breakdown_by_grid=True, options=("A", "B"))
    a, b = option_ids(vote)
    qid = str(vote.questions.get().pk)
    g1, g2 = world.grids
    for i in range(12):
        services.record_ballot(vote=vote, choices={qid: [a]}, receipt=f"{i:064x}", grid=g1)
    for i in range(4):
        services.record_ballot(vote=vote, choices={qid: [b]}, receipt=f"{100 + i:064x}", grid=g2)
    result = results.count(vote)
    # G02 has 4 ballots; showing G01 (12) would give G02 away by subtraction from the total.
    assert result.grids == []
    for i in range(6):
        services.record_ballot(vote=vote, choices={qid: [b]}, receipt=f"{200 + i:064x}", grid=g2)
    result = results.count(vote)
    assert [(g["name"], g["ballots"]) for g in result.grids] == [(g1.name, 12), (g2.name, 10)]


def test_suppression_pools_small_groups_when_the_pool_is_large_enough():
    def group(grid, n):
        return {"grid": grid, "name": f"g{grid}", "ballots": n,
                "tally": {"kind": "choice", "ballots": n, "area": "0.00",
                          "questions": [{"id": "1", "answered": n, "blank": 0, "area": "0.00",
                                         "options": [{"id": "9", "votes": n, "area": "0.00"}]}]}}

    out = results._suppress([group(1, 30), group(2, 6), group(3, 5), group(4, 12)])
    assert [(g["grid"], g["ballots"]) for g in out] == [(1, 30), (4, 12), (None, 11)]
    out = results._suppress([group(1, 30), group(2, 6), group(4, 12)])
    # the pool of 6 is too small: the smallest shown group joins it.
    assert [(g["grid"], g["ballots"]) for g in out] == [(1, 30), (None, 18)]


def test_owners_vote_counts_area_from_the_ballots(world):
    for household, area in zip(world.households, ["80.00", "95.50", "120.25", "60.00", "75.00", "88.00", "90.00",
                                                    "100.00"]):
        household.floor_area = Decimal(area)
        household.save(update_fields=["floor_area"])
    for household in world.households:
        owner = household.residents.first()
        owner.is_owner = True
        owner.save(update_fields=["is_owner"])
    vote = make_vote(world, eligibility="owners", rule="owners")
    yes, no, _abstain = option_ids(vote)
    voters = [h.residents.first() for h in world.households]
    for resident in voters[:5]:
        cast_booth(world, vote, resident, yes)
    cast_booth(world, vote, voters[5], no)
    result = results.count(vote)
    assert result.roll.owners == 8 and result.roll.owner_area == Decimal("708.75")
    assert result.tally["area"] == "518.75"
    # 6 of 8 owners (3/4) with 518.75 of 708.75 m² (73 %) took part; 5 of 6 agree with 430.75 m².
    assert result.decision.participation_met is True
    assert result.decision.passed is True


# --- publish ----------------------------------------------------------------------------------------

def published_vote(world):
    vote = make_vote(world)
    yes, no, _abstain = option_ids(vote)
    receipts = [cast_booth(world, vote, r, yes) for r in world.residents[:4]]
    receipts += [cast_booth(world, vote, r, no) for r in world.residents[4:6]]
    return results.publish(actor=world.users["admin"], vote=vote), receipts


def test_publish_closes_counts_and_puts_one_entry_on_the_board(world, key):
    vote, receipts = published_vote(world)
    assert vote.state == "published"
    entry = Entry.objects.get(community=world.community, log_index=vote.log_index)
    assert entry.section == "residential" and entry.state == "published"
    assert "Shall the gate be repaired?" in entry.title
    assert "Agree: 4 votes (66.7%)" in entry.body and "Outcome: passed." in entry.body
    assert "Ballots counted: 6 (50.0% of the roll)" in entry.body
    # one line per ballot, sorted, receipt hash grouped, choices canonical
    lines = results.parse_lines(entry.body)
    assert len(lines) == 6
    assert [h for h, _ in lines] == sorted(r.receipt_hash for r in receipts)
    assert vote.result_sha256 == hashlib.sha256(leaf.canonical(vote.result)).hexdigest()
    verbs = list(Event.objects.filter(verb__startswith="vote.").values_list("verb", flat=True).order_by("pk"))
    assert verbs[-2:] == ["vote.closed", "vote.published"]


def test_published_body_hashes_to_the_leaf_on_the_log(world, key):
    vote, _receipts = published_vote(world)
    entry = Entry.objects.get(community=world.community, log_index=vote.log_index)
    stored = bytes(tlog.leaf(world.community, entry.log_index))
    import json

    header = json.loads(stored)
    assert header["content_sha256"] == hashlib.sha256(leaf.words_bytes(entry.title, entry.body)).hexdigest()
    assert stored == leaf.leaf_bytes(entry)
    report = board_selectors.verify(world.community)
    assert report.ok, report


def test_publishing_again_is_refused_and_nothing_changes(world, key):
    vote, _ = published_vote(world)
    before = (vote.result_sha256, vote.log_index, Entry.objects.count(), tlog.size(world.community))
    with pytest.raises(Conflict) as refused:
        results.publish(actor=world.users["admin"], vote=vote)
    assert refused.value.code == "published"
    vote.refresh_from_db()
    assert (vote.result_sha256, vote.log_index, Entry.objects.count(), tlog.size(world.community)) == before


def test_publish_by_someone_outside_the_office_is_refused(world, key):
    vote = make_vote(world)
    with pytest.raises(PermissionDenied):
        results.publish(actor=world.users["resident"], vote=vote)
    vote.refresh_from_db()
    assert vote.state == "open" and Entry.objects.count() == 0


def test_a_draft_vote_is_not_published(world, key):
    from linli.core.workflow import IllegalTransition

    vote = make_vote(world)
    draft = services.vote_create(actor=world.users["admin"], process=vote.process, title="Draft", kind="choice",
                                 eligibility="adults", rule="majority", questions=[("Q?", ["a", "b"])])
    with pytest.raises(IllegalTransition):
        results.publish(actor=world.users["admin"], vote=draft)
    draft.refresh_from_db()
    assert draft.state == "draft" and Entry.objects.count() == 0 and tlog.size(world.community) == 0


def test_unreconciled_paper_blocks_publishing_unless_a_reason_is_given(world, key):
    vote = make_vote(world)
    services.mark_paper(vote=vote, resident=world.residents[0], actor=world.users["worker"])
    with pytest.raises(InvalidInput) as refused:
        results.publish(actor=world.users["admin"], vote=vote)
    assert refused.value.code == "paper_unreconciled"
    vote.refresh_from_db()
    assert vote.state == "open" and Entry.objects.count() == 0
    vote = results.publish(actor=world.users["admin"], vote=vote, force_reason="The sheet was lost in the rain.")
    assert vote.state == "published"
    entry = Entry.objects.get(log_index=vote.log_index, community=world.community)
    assert "The sheet was lost in the rain." in entry.body
    event = Event.objects.filter(verb="vote.published").get()
    assert event.data["forced"] is True and event.data["unreconciled_booths"] == 1


def test_hashes_are_written_so_the_board_never_holds_them_as_phone_numbers(world, key):
    vote = make_vote(world)
    qid = str(vote.questions.get().pk)
    yes = option_ids(vote)[0]
    # A hash whose digits would read as a mobile number if written in one piece.
    digest = "ab13812345678" + "c" * 51
    services.record_ballot(vote=vote, choices={qid: [yes]}, receipt=digest)
    vote = results.publish(actor=world.users["admin"], vote=vote)
    assert vote.state == "published"
    assert results.grouped(digest) in Entry.objects.get(log_index=vote.log_index, community=world.community).body


# --- receipts -------------------------------------------------------------------------------------

def test_receipt_found_at_its_line_and_unknown_code_not_found(world, key):
    vote, receipts = published_vote(world)
    order = sorted(receipts, key=lambda r: r.receipt_hash)
    for number, receipt in enumerate(order, start=1):
        assert results.receipt_line(vote, receipt.code) == number
        assert results.check_receipt(vote, receipt.code.lower().replace("-", " ")) is True
    assert results.check_receipt(vote, "2222-3333-4444-5555") is False
    assert results.receipt_line(vote, "2222-3333-4444-5555") is None
    assert results.check_receipt(vote, "") is False


def test_receipt_before_publication_checks_the_stored_ballot(world):
    vote = make_vote(world)
    receipt = cast_booth(world, vote, world.residents[0], option_ids(vote)[0])
    assert results.check_receipt(vote, receipt.code) is True
    assert results.receipt_line(vote, receipt.code) is None
    assert results.check_receipt(vote, "2222-3333-4444-5555") is False


def test_receipt_line_survives_a_withdrawn_entry(world, key):
    from linli.disclosure import services as board

    vote, receipts = published_vote(world)
    entry = Entry.objects.get(log_index=vote.log_index, community=world.community)
    board.withdraw(actor=world.users["admin"], entry=entry, reason="Published twice by mistake")
    first = min(receipts, key=lambda r: r.receipt_hash)
    assert results.receipt_line(vote, first.code) == 1


# --- pages ----------------------------------------------------------------------------------------

def test_results_page_shows_no_figures_before_publication(world):
    vote = make_vote(world)
    cast_booth(world, vote, world.residents[0], option_ids(vote)[0])
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/votes/Y/v/{vote.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "no figures are shown" in page and "Agree" not in page


def test_results_page_after_publication_and_no_names(world, key):
    vote, _ = published_vote(world)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/votes/Y/v/{vote.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Passed." in page and "Agree" in page and f"/disclosure/Y/e/{vote.log_index}/" in page
    for resident in world.residents:
        assert resident.name.reveal() not in page and str(resident.name) not in page


def test_results_page_of_another_community_or_a_draft_is_404(world):
    vote = make_vote(world)
    client = Client()
    assert client.get(f"/votes/Z/v/{vote.pk}/").status_code == 404
    draft = services.vote_create(actor=world.users["admin"], process=vote.process, title="Draft",
                                 kind="choice", eligibility="adults", rule="majority", questions=[("Q?", ["a", "b"])])
    assert client.get(f"/votes/Y/v/{draft.pk}/").status_code == 404


def test_receipt_form_posts_the_code_and_answers_the_line(world, key):
    vote, receipts = published_vote(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = f"/votes/Y/v/{vote.pk}/receipt"
    assert client.get(url).status_code == 200
    first = min(receipts, key=lambda r: r.receipt_hash)
    response = client.post(url, {"code": first.code})
    page = response.content.decode()
    said = "Agree" if receipts.index(first) < 4 else "Against"
    assert "in the published list at line 1" in page and f"<dd>{said}</dd>" in page
    assert "no-store" in response["Cache-Control"]
    assert first.code not in page
    response = client.post(url, {"code": "2222-3333-4444-5555"})
    assert "Not found" in response.content.decode()
    assert client.post(url, {"code": ""}).status_code == 400
