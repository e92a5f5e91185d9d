"""The resident's voting pages (docs/voting.md, "What residents see"): the list of votes open to
them, the ballot of each kind cast through the pages (form → confirm → receipt), the refusals
(second vote by any channel, not eligible, outside the phase), that no receipt code ever travels
in a URL, large-text mode, and the "Votes open to you" home action."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from linli.community.services import ResidentFacts, resident_create
from linli.voting import services
from linli.voting.home import home_actions
from linli.voting.models import Ballot, Option, Participation, Vote
from linli.voting.phases import PhaseSpec

from factories import _user, make_id_number, make_phone
from tests.browser.conftest import browser  # noqa: F401  (the module-scoped system Chromium)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def make_vote(world, *, kind="choice", eligibility="adults", rule=None, questions=None, open_now=True,
              grids=(), open_vote=True, **options) -> Vote:
    """A process whose "voting" phase runs now (or starts tomorrow) and a vote in it."""
    now = timezone.now()
    admin = world.users["admin"]
    if open_now:
        specs = [PhaseSpec("voting", "Voting", now - dt.timedelta(hours=1))]
    else:
        specs = [PhaseSpec("notice", "Notice", now - dt.timedelta(hours=1)),
                 PhaseSpec("voting", "Voting", now + dt.timedelta(days=1))]
    process = services.process_create(actor=admin, community=world.community, kind="vote", title="Courtyard matters",
                                      grids=grids, specs=specs, ends_at=now + dt.timedelta(days=5))
    if questions is None:
        questions = [("Paint the railings green?", ["Yes", "No"])]
    vote = services.vote_create(actor=admin, process=process, title="Railings", kind=kind, eligibility=eligibility,
                                rule=rule or ("majority" if kind == "choice" else "tally"), questions=questions,
                                phase_key="voting", **options)
    if open_vote:
        vote = services.vote_open(actor=admin, vote=vote)
    return vote


def ballot_url(vote):
    return reverse("voting:ballot", args=[vote.process.community.code, vote.pk])


def options_of(vote):
    return [list(q.options.order_by("order", "id")) for q in vote.questions.order_by("order", "id")]


@pytest.fixture
def voter(client, world):
    client.force_login(world.users["resident"])
    return world.residents[0]


def cast_through_pages(client, vote, data: dict):
    """Confirm, then cast what the confirm page carries, as a browser would."""
    confirm = client.post(ballot_url(vote), {"step": "confirm", **data}, **EN)
    assert confirm.status_code == 200, confirm.content.decode()[:2000]
    html = confirm.content.decode()
    assert "A vote cannot be changed" in html
    carried = re.findall(r'<input type="hidden" name="(q\d+|c\d+)" value="([^"]*)">', html)
    payload: dict = {}
    for name, value in carried:
        payload.setdefault(name, []).append(value)
    return client.post(ballot_url(vote), {"step": "cast", **payload}, **EN)


def receipt_code(response) -> str:
    match = re.search(r'class="receipt-code"[^>]*><strong>([^<]+)</strong>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', html)


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_open_votes_with_their_dates_and_why_not(client, world, voter):
    mine = make_vote(world)
    theirs = make_vote(world, grids=[world.grids[1]])  # the other courtyard
    response = client.get(reverse("voting:my_votes", args=["Y"]), **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert ballot_url(mine) in html and "Vote now" in html
    assert "Voting from" in html
    assert "Votes you cannot take part in" in html and "other courtyards" in html
    assert ballot_url(theirs) not in html
    assert "no-store" in response["Cache-Control"]


def test_another_communitys_list_is_not_found_and_staff_are_sent_away(client, world, voter):
    assert client.get(reverse("voting:my_votes", args=["Z"])).status_code == 404
    client.force_login(world.users["worker"])
    response = client.get(reverse("voting:my_votes", args=["Y"]), **EN)
    assert response.status_code == 403 and "Only residents vote" in response.content.decode()


def test_signed_out_goes_to_sign_in(client, world):
    response = client.get(reverse("voting:my_votes", args=["Y"]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_votes_root_sends_a_resident_to_their_community(client, world, voter):
    response = client.get(reverse("voting:my_votes_home"))
    assert response.status_code == 302 and response["Location"] == reverse("voting:my_votes", args=["Y"])


# --- casting each kind --------------------------------------------------------------------


def test_a_choice_vote_cast_through_the_pages(client, world, voter):
    vote = make_vote(world)
    [[yes, no]] = options_of(vote)
    form = client.get(ballot_url(vote), **EN)
    html = form.content.decode()
    assert form.status_code == 200
    assert html.count('type="radio"') == 2
    assert f'<label class="choice" for="id_q{yes.question_id}_0">' in html  # labels tied to inputs
    response = cast_through_pages(client, vote, {f"q{yes.question_id}": str(no.pk)})
    assert response.status_code == 200
    code = receipt_code(response)
    ballot = Ballot.objects.get(vote=vote)
    assert ballot.choices == {str(yes.question_id): [no.pk]}
    assert ballot.receipt_hash == services.receipt_hash(code)
    participation = Participation.objects.get(vote=vote)
    assert participation.channel == "web" and participation.resident_id == voter.pk
    assert "no-store" in response["Cache-Control"]


def test_the_receipt_code_is_never_in_a_url(client, world, voter):
    vote = make_vote(world)
    [[yes, _no]] = options_of(vote)
    response = cast_through_pages(client, vote, {f"q{yes.question_id}": str(yes.pk)})
    code = receipt_code(response)
    normalized = services.normalize_code(code)
    html = response.content.decode()
    assert not response.has_header("Location")
    for url in urls_in(html):
        assert code not in url and normalized not in services.normalize_code(url)
    # The way to check it later is a form page of its own, reached without the code.
    assert "How to check that your vote was counted" in html
    try:
        receipt_page = reverse("voting:receipt", args=["Y", vote.pk])
    except Exception:  # the count helper's page is not installed
        receipt_page = None
    if receipt_page:
        assert f'href="{receipt_page}"' in html
    # The code is not kept anywhere the next page could show it.
    assert code not in client.get(ballot_url(vote), **EN).content.decode()
    assert code not in client.get(reverse("voting:my_votes", args=["Y"]), **EN).content.decode()


def test_change_my_choices_goes_back_with_the_ticks_kept(client, world, voter):
    vote = make_vote(world)
    [[_yes, no]] = options_of(vote)
    response = client.post(ballot_url(vote), {"step": "edit", f"q{no.question_id}": str(no.pk)}, **EN)
    assert response.status_code == 200
    assert re.search(rf'value="{no.pk}" id="id_q{no.question_id}_1" checked', response.content.decode())
    assert not Ballot.objects.filter(vote=vote).exists()


def test_a_choice_left_empty_is_marked_next_to_the_question_and_at_the_top(client, world, voter):
    vote = make_vote(world)
    response = client.post(ballot_url(vote), {"step": "confirm"}, **EN)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and "Please correct the marked questions" in html
    assert "Choose one answer to this question." in html
    assert 'aria-describedby="id_q' in html and "has-error" in html
    assert not Participation.objects.filter(vote=vote).exists()


def test_an_approval_vote_states_its_maximum_and_enforces_it(client, world, voter):
    vote = make_vote(world, kind="approval", max_choices=2,
                     questions=[("Which repairs first?", ["Lift", "Roof", "Gate"])])
    [[lift, roof, gate]] = options_of(vote)
    name = f"q{lift.question_id}"
    form = client.get(ballot_url(vote), **EN).content.decode()
    assert form.count('type="checkbox"') == 3 and "Tick at most 2." in form
    too_many = client.post(ballot_url(vote), {"step": "confirm", name: [lift.pk, roof.pk, gate.pk]}, **EN)
    assert too_many.status_code == 400 and "Tick at most 2." in too_many.content.decode()
    response = cast_through_pages(client, vote, {name: [str(lift.pk), str(gate.pk)]})
    assert response.status_code == 200
    receipt_code(response)
    assert Ballot.objects.get(vote=vote).choices == {str(lift.question_id): sorted([lift.pk, gate.pk])}


def test_a_knapsack_vote_shows_costs_and_the_budget_and_the_server_checks_it(client, world, voter):
    vote = make_vote(world, kind="approval", budget_fen=1_000_000,
                     questions=[("Fund projects", [("Benches", 600_000, "project:1"), ("Lights", 500_000, "project:2"),
                                                   ("Books", 300_000, "project:3")])])
    [[benches, lights, books]] = options_of(vote)
    name = f"q{benches.question_id}"
    html = client.get(ballot_url(vote), **EN).content.decode()
    assert "¥10,000.00" in html and "¥6,000.00" in html and 'data-budget="1000000"' in html
    assert 'data-cost="600000"' in html and "voting/ballot.js" in html
    over = client.post(ballot_url(vote), {"step": "confirm", name: [benches.pk, lights.pk]}, **EN)
    assert over.status_code == 400 and "more than the budget" in over.content.decode()
    confirm = client.post(ballot_url(vote), {"step": "confirm", name: [benches.pk, books.pk]}, **EN)
    assert "Together: ¥9,000.00 of the budget of ¥10,000.00." in confirm.content.decode()
    response = cast_through_pages(client, vote, {name: [str(benches.pk), str(books.pk)]})
    assert response.status_code == 200
    assert Ballot.objects.get(vote=vote).choices == {str(benches.question_id): sorted([benches.pk, books.pk])}


def test_a_rating_ballot_has_three_big_answers_per_criterion_and_a_scrubbed_comment(client, world, voter):
    vote = make_vote(world, kind="rating", eligibility="households",
                     questions=[("The committee listens", []), ("The office answers on time", [])])
    first, second = options_of(vote)
    html = client.get(ballot_url(vote), **EN).content.decode()
    assert html.count("rate rate-satisfied") == 2 and html.count("rate rate-unsatisfied") == 2
    assert "Your comment (optional)" in html
    satisfied = next(o for o in first if o.ref == Option.SATISFIED)
    data = {f"q{satisfied.question_id}": str(satisfied.pk),
            f"c{satisfied.question_id}": "Call me on 13912345678 about it"}
    confirm = client.post(ballot_url(vote), {"step": "confirm", **data}, **EN).content.decode()
    assert "13912345678" not in confirm  # read back as it will be stored
    response = cast_through_pages(client, vote, data)
    assert response.status_code == 200
    stored = Ballot.objects.get(vote=vote).choices
    assert stored[str(satisfied.question_id)] == satisfied.pk
    assert str(second[0].question_id) not in stored  # a criterion may be left unrated
    assert "13912345678" not in stored["comments"][str(satisfied.question_id)]


def test_a_rating_ballot_with_nothing_rated_is_refused(client, world, voter):
    vote = make_vote(world, kind="rating", eligibility="households", questions=[("The committee listens", [])])
    response = client.post(ballot_url(vote), {"step": "confirm"}, **EN)
    assert response.status_code == 400 and "Rate at least 1 criterion." in response.content.decode()


def test_an_owners_vote_is_cast_by_an_owner(client, world, voter):
    voter.is_owner = True
    voter.save(update_fields=["is_owner"])
    household = voter.household
    household.floor_area = Decimal("88.50")
    household.save(update_fields=["floor_area"])
    vote = make_vote(world, eligibility="owners", rule="owners")
    [[yes, _no]] = options_of(vote)
    response = cast_through_pages(client, vote, {f"q{yes.question_id}": str(yes.pk)})
    assert response.status_code == 200
    assert Ballot.objects.get(vote=vote).weight_area == Decimal("88.50")


def test_a_tampered_option_is_refused_and_nothing_is_stored(client, world, voter):
    vote = make_vote(world)
    other = make_vote(world)
    [[yes, _no]] = options_of(vote)
    [[foreign, _x]] = options_of(other)
    response = client.post(ballot_url(vote), {"step": "cast", f"q{yes.question_id}": str(foreign.pk)}, **EN)
    assert response.status_code == 400
    assert not Participation.objects.filter(vote=vote).exists() and not Ballot.objects.filter(vote=vote).exists()


# --- refusals -------------------------------------------------------------------------------


def test_a_second_cast_is_refused_and_the_page_says_when_and_how(client, world, voter):
    vote = make_vote(world)
    [[yes, no]] = options_of(vote)
    cast_through_pages(client, vote, {f"q{yes.question_id}": str(yes.pk)})
    again = client.post(ballot_url(vote), {"step": "cast", f"q{yes.question_id}": str(no.pk)}, **EN)
    html = again.content.decode()
    assert again.status_code == 200  # the page is the "already voted" page, before any cast is tried
    assert "You have already voted" in html and "online" in html
    assert Ballot.objects.filter(vote=vote).count() == 1
    assert Ballot.objects.get(vote=vote).choices == {str(yes.question_id): [yes.pk]}
    assert client.get(ballot_url(vote), **EN).content.decode().count("You have already voted") >= 1


def test_a_race_lost_at_the_database_answers_409_with_the_already_voted_page(client, world, voter, monkeypatch):
    """The page's own check passes, then another channel's vote lands first: cast's
    AlreadyVoted becomes the already-voted page with 409."""
    vote = make_vote(world)
    [[yes, _no]] = options_of(vote)
    real_cast = services.cast

    def booth_first(**kwargs):
        real_cast(vote=vote, resident=voter, choices={str(yes.question_id): [yes.pk]}, channel="booth",
                      actor=world.users["worker"])
        return real_cast(**kwargs)

    monkeypatch.setattr("linli.voting.views_ballot.services.cast", booth_first)
    response = client.post(ballot_url(vote), {"step": "cast", f"q{yes.question_id}": str(yes.pk)}, **EN)
    monkeypatch.undo()
    assert response.status_code == 409
    assert "at a booth" in response.content.decode()
    assert Ballot.objects.filter(vote=vote).count() == 1


def test_a_booth_vote_blocks_the_web_and_the_page_never_shows_the_choices(client, world, voter):
    vote = make_vote(world)
    booth = vote.booths.create(name="Service centre desk")
    [[yes, no]] = options_of(vote)
    services.cast(vote=vote, resident=voter, choices={str(yes.question_id): [no.pk]}, channel="booth",
                  actor=world.users["worker"], booth=booth)
    response = client.get(ballot_url(vote), **EN)
    html = response.content.decode()
    assert "You have already voted" in html and "at a booth" in html and "Service centre desk" in html
    assert ">No<" not in html and 'type="radio"' not in html
    listing = client.get(reverse("voting:my_votes", args=["Y"]), **EN).content.decode()
    assert "Already voted" in listing and ballot_url(vote) not in listing


def test_a_paper_sheet_taken_blocks_the_web_for_the_whole_household(client, world, voter):
    vote = make_vote(world, eligibility="households")
    spouse = world.residents[1]
    assert spouse.household_id == voter.household_id
    services.mark_paper(vote=vote, resident=spouse, actor=world.users["worker"])
    html = client.get(ballot_url(vote), **EN).content.decode()
    assert "Your household has already voted" in html and "paper" in html and "ballot box" in html


def test_an_ineligible_resident_is_refused_with_the_reason(client, world, voter):
    vote = make_vote(world, grids=[world.grids[1]])
    [[yes, _no]] = options_of(vote)
    response = client.get(ballot_url(vote), **EN)
    assert response.status_code == 403 and "other courtyards" in response.content.decode()
    post = client.post(ballot_url(vote), {"step": "cast", f"q{yes.question_id}": str(yes.pk)}, **EN)
    assert post.status_code == 403 and not Participation.objects.exists()


def test_not_an_owner_and_under_eighteen_are_refused(client, world, voter):
    owners = make_vote(world, eligibility="owners", rule="owners")
    response = client.get(ballot_url(owners), **EN)
    assert response.status_code == 403 and "not registered as an owner" in response.content.decode()
    # A 16-year-old of the same household, with an account of her own.
    born = dt.date(timezone.localdate().year - 16, 6, 1)
    teen = resident_create(actor=None, household=voter.household, facts=ResidentFacts.clean(
        name="小青", id_number=make_id_number(born, 777), phone=make_phone(777), relation="child"))
    teen.user = _user("teen")
    teen.save(update_fields=["user"])
    adults = make_vote(world)
    client.force_login(teen.user)
    response = client.get(ballot_url(adults), **EN)
    assert response.status_code == 403 and "aged 18 or over" in response.content.decode()
    listing = client.get(reverse("voting:my_votes", args=["Y"]), **EN).content.decode()
    assert "aged 18 or over" in listing


def test_outside_the_phase_the_page_refuses_in_plain_words(client, world, voter):
    vote = make_vote(world, open_now=False)
    [[yes, _no]] = options_of(vote)
    response = client.get(ballot_url(vote), **EN)
    html = response.content.decode()
    assert response.status_code == 403
    assert "You can vote only during the phase" in html and "Notice" in html
    post = client.post(ballot_url(vote), {"step": "cast", f"q{yes.question_id}": str(yes.pk)}, **EN)
    assert post.status_code == 403 and not Participation.objects.exists()
    listing = client.get(reverse("voting:my_votes", args=["Y"]), **EN).content.decode()
    assert "Opening soon" in listing


def test_a_closed_vote_takes_no_ballot(client, world, voter):
    vote = make_vote(world)
    services.vote_close(actor=world.users["admin"], vote=vote)
    response = client.get(ballot_url(vote), **EN)
    assert response.status_code == 403 and "closed" in response.content.decode()


def test_a_draft_vote_and_another_communitys_vote_are_not_found(client, world, voter):
    draft = make_vote(world, open_vote=False)
    assert client.get(ballot_url(draft)).status_code == 404
    assert client.get(reverse("voting:ballot", args=["Z", draft.pk])).status_code == 404


def test_a_vote_not_taken_online_sends_to_the_booth(client, world, voter):
    vote = make_vote(world, channels=["booth", "paper"])
    response = client.get(ballot_url(vote), **EN)
    assert response.status_code == 403 and "not taken online" in response.content.decode()


# --- large text, phone size -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["choice", "rating"])
def test_large_text_mode_renders_every_step(client, world, voter, kind):
    client.cookies["linli_text"] = "large"
    questions = [("Paint the railings green?", ["Yes", "No"])] if kind == "choice" else [("The committee listens", [])]
    vote = make_vote(world, kind=kind, eligibility="households", questions=questions)
    [[first, *_rest]] = options_of(vote)
    for response in (client.get(reverse("voting:my_votes", args=["Y"]), **EN), client.get(ballot_url(vote), **EN),
                     client.post(ballot_url(vote), {"step": "confirm", f"q{first.question_id}": str(first.pk)}, **EN)):
        html = response.content.decode()
        assert response.status_code == 200
        assert 'class="text-large"' in html and 'name="viewport"' in html
        assert "voting/ballot.css" in html
    response = cast_through_pages(client, vote, {f"q{first.question_id}": str(first.pk)})
    assert 'class="text-large"' in response.content.decode() and "receipt-code" in response.content.decode()


def test_the_ballot_needs_no_script():
    """Everything the pages do works as plain forms: the one script only shows a running total."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "linli" / "voting"
    script = (root / "static" / "voting" / "ballot.js").read_text(encoding="utf-8")
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "submit" not in script
    for template in (root / "templates" / "voting" / "ballot").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and " onclick=" not in text


# --- the home page ------------------------------------------------------------------------


def test_home_offers_votes_open_to_you_until_voted(client, world, voter):
    assert home_actions(world.users["resident"]) == []
    vote = make_vote(world)
    make_vote(world, grids=[world.grids[1]])  # not theirs: not counted
    with translation.override("en"):
        [(label, url)] = home_actions(world.users["resident"])
        assert label == "Votes open to you (1)" and url == reverse("voting:my_votes", args=["Y"])
    assert home_actions(world.users["worker"]) == []
    home = client.get(reverse("my_home"), **EN).content.decode()
    assert "Votes open to you (1)" in home and "I have a request" in home
    [[yes, _no]] = options_of(vote)
    cast_through_pages(client, vote, {f"q{yes.question_id}": str(yes.pk)})
    assert home_actions(world.users["resident"]) == []


# --- in a browser: a phone, both text sizes, WCAG 2.1 AA ------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("size", ["normal", "large"])
def test_the_pages_pass_axe_on_a_phone_at_both_sizes(transactional_db, live_server, world, browser, size):  # noqa: F811
    """Each step on a 360-px phone in Chinese: no axe violation, nothing wider than the screen,
    44-px targets; the knapsack's running total appears with the script, and the vote is cast."""
    from tests.browser.test_accessibility_browser import PHONE, check, require_axe, sign_in

    require_axe()
    knapsack = make_vote(world, kind="approval", budget_fen=1_000_000, questions=[
        ("社区基金项目", [("院坝长椅", 600_000, "project:1"), ("楼道灯", 500_000, "project:2"),
                    ("图书角", 300_000, "project:3")])])
    rating = make_vote(world, kind="rating", eligibility="households", questions=[("居委会听取意见", [])])
    make_vote(world, grids=[world.grids[1]])
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = live_server.url
    try:
        page.goto(f"{base}/accounts/login/")
        if size == "large":
            with page.expect_navigation():
                page.click("form.text-size button")
        sign_in(page, base, "resident")
        page.goto(f"{base}/votes/Y/")
        check(page, f"{size}-votes-01-list")
        page.goto(base + ballot_url(rating))
        check(page, f"{size}-votes-02-rating")
        page.goto(base + ballot_url(knapsack))
        check(page, f"{size}-votes-03-knapsack")
        page.click("label[for=id_q{}_0]".format(knapsack.questions.get().pk))
        page.click("label[for=id_q{}_1]".format(knapsack.questions.get().pk))
        total = page.locator("p.running")
        assert total.is_visible() and "¥11,000.00" in total.inner_text() and "over" in total.get_attribute("class")
        with page.expect_navigation():
            page.click("form.ballot button[type=submit]")
        check(page, f"{size}-votes-04-errors")
        page.click("label[for=id_q{}_1]".format(knapsack.questions.get().pk))  # untick: within the budget
        with page.expect_navigation():
            page.click("form.ballot button[type=submit]")
        check(page, f"{size}-votes-05-confirm")
        with page.expect_navigation():
            page.click("button[value=cast]")
        check(page, f"{size}-votes-06-receipt")
        assert "/receipt" not in page.url and page.locator(".receipt-code").is_visible()
        page.goto(base + ballot_url(knapsack))
        check(page, f"{size}-votes-07-already")
        if size == "large":
            assert float(page.evaluate("getComputedStyle(document.body).fontSize").rstrip("px")) >= 20
    finally:
        context.close()
    assert Ballot.objects.filter(vote=knapsack).count() == 1
