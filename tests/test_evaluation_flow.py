"""The annual democratic evaluation end to end: phases, the ballot through the voting engine,
results per courtyard with suppression under 10, year on year, responses required before
publishing, the published entries verify, the annual report, roles and pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from linli.community.models import Organisation, Unit
from linli.community.services import ResidentFacts, household_get_or_create, resident_create
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.disclosure import selectors as board_selectors, services as board
from linli.disclosure.models import Entry
from linli.evaluation import selectors, services, tally
from linli.evaluation.models import Evaluation, Target
from linli.transparency import keys
from linli.voting import phases, services as voting
from linli.voting.models import Option
from linli.voting.phases import PhaseClosed

from factories import PASSWORD, make_id_number, make_phone

ORDER = ("preparation", "voting", "results", "response")


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")


@pytest.fixture
def big(world):
    """12 more households in courtyard 1 (16 there) and 2 more in courtyard 2 (6 there)."""
    serial = 500
    with transaction.atomic():
        for grid_index, extra in ((0, 12), (1, 2)):
            building = world.buildings[grid_index * 2]
            unit = Unit.objects.create(community=world.community, building=building, number="9")
            for n in range(extra):
                serial += 1
                hh, _ = household_get_or_create(actor=None, unit=unit, room=f"{n + 1:02d}01")
                world.households.append(hh)
                world.residents.append(resident_create(actor=None, household=hh, facts=ResidentFacts.clean(
                    name=f"居民{serial}", id_number=make_id_number(dt.date(1970, 3, 3), serial),
                    phone=make_phone(serial), relation="head")))
        Organisation.objects.create(kind=Organisation.Kind.PARTY_BRANCH, name="第一党支部",
                                    community=world.community, street=world.street)
    return world


def enter(evaluation, key):
    """Re-lay the phases so that ``key`` is the current one (time moves on)."""
    now = timezone.now()
    at = ORDER.index(key)
    specs = [phases.PhaseSpec(k, k, now + dt.timedelta(hours=i - at) - dt.timedelta(minutes=1))
             for i, k in enumerate(ORDER)]
    phases.set_phases(actor=None, process=evaluation.process, specs=specs,
                      ends_at=now + dt.timedelta(hours=len(ORDER) - at + 1))
    evaluation.process.refresh_from_db()
    return Evaluation.objects.get(pk=evaluation.pk)


def create(world, year=2026, who="admin"):
    now = timezone.now()
    return services.evaluation_create(
        actor=world.users[who], community=world.community, year=year,
        preparation_starts=now - dt.timedelta(minutes=1), voting_starts=now + dt.timedelta(days=1),
        results_starts=now + dt.timedelta(days=2), response_starts=now + dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=4))


def prepared(world, year=2026, criteria=("服务态度", "办事效率")):
    ev = create(world, year)
    services.target_add(actor=world.users["worker"], evaluation=ev, kind="committee", label="居民委员会",
                        criteria=list(criteria))
    ev = services.ballot_prepare(actor=world.users["worker"], evaluation=ev)
    return enter(ev, "voting")


def rate_all(world, ev, residents, code_for):
    """Each resident votes at the booth; ``code_for(i, question)`` the rating code."""
    vote = ev.vote
    options = {(o.question_id, o.ref): o.pk for o in Option.objects.filter(question__vote=vote)}
    questions = list(vote.questions.order_by("order", "id"))
    for i, resident in enumerate(residents):
        choices = {str(q.pk): options[(q.pk, code_for(i, q))] for q in questions}
        voting.cast(vote=vote, resident=resident, choices=choices, channel="booth", actor=world.users["worker"])


def counted(world, ev):
    ev = enter(ev, "results")
    return services.count(actor=world.users["worker"], evaluation=ev)


# --- phases and setup -----------------------------------------------------------------------------


def test_create_lays_out_the_four_phases(world):
    ev = create(world)
    assert ev.process.kind == "evaluation"
    assert [p.key for p in ev.process.phases.all()] == list(ORDER)
    assert phases.current(ev.process).key == "preparation"
    assert Event.objects.filter(verb="evaluation.created").count() == 1
    with pytest.raises(InvalidInput):
        create(world)  # one per year


def test_the_defaults_name_posts_not_people(big):
    ev = create(big)
    added = services.defaults_install(actor=big.users["worker"], evaluation=ev)
    kinds = [t.kind for t in added]
    assert kinds[0] == "committee" and "branch" in kinds and "post" in kinds
    labels = " ".join(t.label for t in added)
    assert "第一党支部" in labels
    assert "worker" not in labels and "admin" not in labels  # account names never appear
    assert all(t.criteria.count() >= 3 for t in added)
    # grid workers' posts per courtyard
    assert any(big.grids[0].name in t.label for t in added if t.kind == "post")


def test_setup_only_in_preparation_and_only_by_office(big):
    ev = create(big)
    with pytest.raises(PermissionDenied):
        services.target_add(actor=big.users["secretary"], evaluation=ev, kind="committee", label="居委会",
                            criteria=["服务"])
    with pytest.raises(PermissionDenied):
        services.target_add(actor=big.users["resident"], evaluation=ev, kind="committee", label="居委会",
                            criteria=["服务"])
    ev = enter(ev, "voting")
    with pytest.raises(PhaseClosed):
        services.target_add(actor=big.users["worker"], evaluation=ev, kind="committee", label="居委会",
                            criteria=["服务"])
    assert not Target.objects.filter(evaluation=ev).exists()


def test_the_ballot_is_a_household_rating_vote_per_courtyard(big):
    ev = prepared(big)
    vote = ev.vote
    assert (vote.kind, vote.eligibility, vote.rule, vote.breakdown_by_grid, vote.phase_key, vote.state) == \
        ("rating", "households", "tally", True, "voting", "open")
    assert vote.questions.count() == 2
    assert set(Option.objects.filter(question__vote=vote).values_list("ref", flat=True)) == set(tally.RATINGS)
    assert all(c.question_id for c in selectors.criteria(ev))


# --- counting, suppression, responses, publishing -------------------------------------------------


def voters_by_grid(world):
    """One resident per household, courtyard 1 first."""
    seen, out = set(), {0: [], 1: []}
    for r in world.residents:
        if r.household_id in seen:
            continue
        seen.add(r.household_id)
        out[world.grids.index(r.grid)].append(r)
    return out


def test_results_per_courtyard_hide_groups_under_ten(big):
    ev = prepared(big)
    groups = voters_by_grid(big)
    assert len(groups[0]) == 16 and len(groups[1]) == 6
    rate_all(big, ev, groups[0] + groups[1], lambda i, q: "satisfied" if i % 4 else "unsatisfied")
    ev = counted(big, ev)
    assert ev.state == "counted" and ev.vote.state == "closed"
    assert ev.results["ballots"] == 22 and ev.results["households"] == 22
    by_grid = {g["name"]: g["ballots"] for g in ev.results["grids"]}
    # courtyard 2 has 6 ballots: hidden; then courtyard 1 too (the whole minus it would show them)
    assert by_grid == {big.grids[0].name: None, big.grids[1].name: None}
    rows = selectors.rows(ev)
    assert rows[0].answers == 22 and all(cell.counts is None for cell in rows[0].cells)


def test_a_courtyard_with_ten_or_more_is_shown_and_a_small_one_is_not(big):
    ev = prepared(big)
    groups = voters_by_grid(big)
    # 16 in courtyard 1, none in courtyard 2: nothing small to hide.
    rate_all(big, ev, groups[0], lambda i, q: "basic")
    ev = counted(big, ev)
    row = selectors.rows(ev)[0]
    cells = {c.grid: c for c in row.cells}
    assert cells[big.grids[0].name].counts == {"satisfied": 0, "basic": 16, "unsatisfied": 0}
    assert cells[big.grids[0].name].percent == "100.0"
    assert cells[big.grids[1].name].counts is None
    title, body = selectors.results_text(ev)
    assert "100.0%" in body


def test_responses_are_required_under_80_before_publishing(big, key):
    ev = prepared(big)
    groups = voters_by_grid(big)
    # question 1: 12 of 16 satisfied = 75 %; question 2: all satisfied
    rate_all(big, ev, groups[0], lambda i, q: "satisfied" if (i % 4 or q.order > 1) else "unsatisfied")
    ev = counted(big, ev)
    rows = selectors.rows(ev)
    assert [r.below for r in rows] == [True, False] and rows[0].percent == "75.0"
    ev = enter(ev, "response")
    with pytest.raises(InvalidInput) as refused:
        services.publish(actor=big.users["admin"], evaluation=ev)
    assert refused.value.code == "responses_missing" and "服务态度" in str(refused.value.message)
    assert Entry.objects.filter(community=big.community).count() == 0
    ev.refresh_from_db()
    assert ev.state == "counted"
    with pytest.raises(InvalidInput):
        services.respond(actor=big.users["worker"], evaluation=ev, criterion=rows[0].criterion,
                         text="请拨打13912345678联系")  # a phone number is refused
    services.respond(actor=big.users["worker"], evaluation=ev, criterion=rows[0].criterion,
                     text="下半年增加周末值班，每月公布办理情况。")
    with pytest.raises(PermissionDenied):
        services.publish(actor=big.users["worker"], evaluation=ev)  # the admin publishes
    ev = services.publish(actor=big.users["admin"], evaluation=ev)
    assert ev.state == "published" and ev.vote.state == "published"
    results = board_selectors.entry_for_office(big.community, Entry.objects.get(
        community=big.community, log_index=ev.results_log_index).pk)
    assert "下半年增加周末值班" in results.body and "75.0%" in results.body
    assert board_selectors.verify(big.community).ok


def test_the_annual_report_lists_the_years_logged_records(big, key):
    march = board.publish_as_server(community=big.community, section="finance", title="三月收支",
                                    body="…", period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31))
    board.publish_as_server(community=big.community, section="party", title="去年党费",
                            body="…", period_start=dt.date(2025, 12, 1), period_end=dt.date(2025, 12, 31))
    title, body, counts = selectors.annual_report(big.community, 2026)
    assert counts["finance"] == 1 and counts["party"] == 0
    assert f"#{march.log_index} 2026-03  三月收支" in body and "去年党费" not in body


def test_published_entries_verify_and_year_on_year(big, key):
    groups = voters_by_grid(big)
    last = prepared(big, 2025)
    rate_all(big, last, groups[0], lambda i, q: "satisfied" if i % 2 else "unsatisfied")  # 50 %
    last = counted(big, last)
    last = enter(last, "response")
    for row in selectors.rows(last):
        services.respond(actor=big.users["worker"], evaluation=last, criterion=row.criterion, text="整改。")
    last = services.publish(actor=big.users["admin"], evaluation=last)

    ev = prepared(big, 2026)
    rate_all(big, ev, groups[0], lambda i, q: "satisfied")  # 100 %
    ev = counted(big, ev)
    rows = selectors.rows(ev)
    assert selectors.previous(ev) == last
    assert rows[0].last_percent == "50.0" and rows[0].change == "+50.0"
    ev = enter(ev, "response")
    ev = services.publish(actor=big.users["admin"], evaluation=ev)
    report = Entry.objects.get(community=big.community, log_index=ev.report_log_index)
    # the report covers the board's entries of 2026 only
    assert report.period_start == dt.date(2026, 1, 1)
    results = Entry.objects.get(community=big.community, log_index=ev.results_log_index)
    assert "50.0%" in results.body and "+50.0" in results.body
    assert board_selectors.verify(big.community).ok
    verbs = list(Event.objects.filter(target_type="evaluation.evaluation", target_id=str(ev.pk))
                 .values_list("verb", flat=True))
    assert "evaluation.published" in verbs and "evaluation.counted" in verbs


def test_publishing_only_in_its_phase_and_once(big, key):
    ev = prepared(big)
    rate_all(big, ev, voters_by_grid(big)[0], lambda i, q: "satisfied")
    ev = counted(big, ev)
    with pytest.raises(PhaseClosed):
        services.publish(actor=big.users["admin"], evaluation=ev)
    ev = enter(ev, "response")
    services.publish(actor=big.users["admin"], evaluation=ev)
    with pytest.raises(InvalidInput):
        services.publish(actor=big.users["admin"], evaluation=Evaluation.objects.get(pk=ev.pk))


# --- pages and roles --------------------------------------------------------------------------------


def client_for(world, who):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username=world.users[who].username, password=PASSWORD)
    return c


def test_office_pages_by_role(big):
    ev = create(big)
    url = f"/evaluation/{big.community.code}/office/{ev.year}/"
    assert client_for(big, "worker").get(url).status_code == 200
    assert client_for(big, "secretary").get(url).status_code == 200
    assert client_for(big, "supervisor").get(url).status_code == 200
    assert client_for(big, "resident").get(url).status_code == 403
    assert client_for(big, "z_worker").get(url).status_code == 404
    # the supervisor reads but changes nothing
    r = client_for(big, "supervisor").post(url + "defaults")
    assert r.status_code == 403 and not Target.objects.filter(evaluation=ev).exists()
    r = client_for(big, "worker").post(url + "defaults")
    assert r.status_code == 302 and Target.objects.filter(evaluation=ev).exists()


def test_office_refuses_outside_the_phase_with_403(big):
    ev = enter(create(big), "voting")
    r = client_for(big, "worker").post(f"/evaluation/{big.community.code}/office/{ev.year}/target-add",
                                       {"kind": "committee", "label": "居委会", "criteria": "服务"})
    assert r.status_code == 403 and b"preparation" in r.content
    assert not Target.objects.filter(evaluation=ev).exists()


def test_public_pages(big, key):
    ev = prepared(big)
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = anon.get(f"/evaluation/{big.community.code}/")
    assert page.status_code == 200 and f"/votes/{big.community.code}/v/{ev.vote_id}/ballot".encode() in page.content
    assert anon.get(f"/evaluation/{big.community.code}/{ev.year}/").status_code == 404  # not published
    rate_all(big, ev, voters_by_grid(big)[0], lambda i, q: "satisfied")
    ev = enter(counted(big, ev), "response")
    services.publish(actor=big.users["admin"], evaluation=ev)
    page = anon.get(f"/evaluation/{big.community.code}/{ev.year}/")
    assert page.status_code == 200 and b"100.0%" in page.content and b"fewer than 10" in page.content


def test_a_past_year_is_written_step_by_step_with_at(big, key):
    """The demo's road: last year's evaluation, each step at a moment inside its phase."""
    start = timezone.now() - dt.timedelta(days=400)
    day = dt.timedelta(days=1)
    ev = services.evaluation_create(actor=big.users["admin"], community=big.community, year=2025,
                                    preparation_starts=start, voting_starts=start + day,
                                    results_starts=start + 10 * day, response_starts=start + 12 * day,
                                    ends_at=start + 20 * day)
    with pytest.raises(PhaseClosed):
        services.defaults_install(actor=big.users["worker"], evaluation=ev)  # now: the process has ended
    services.defaults_install(actor=big.users["worker"], evaluation=ev, at=start + dt.timedelta(hours=1))
    ev = services.ballot_prepare(actor=big.users["worker"], evaluation=ev, at=start + dt.timedelta(hours=2))
    vote = ev.vote
    options = {(o.question_id, o.ref): o.pk for o in Option.objects.filter(question__vote=vote)}
    for i, resident in enumerate(voters_by_grid(big)[0]):
        choices = {str(q.pk): options[(q.pk, "satisfied" if i % 3 else "unsatisfied")] for q in vote.questions.all()}
        voting.cast(vote=vote, resident=resident, choices=choices, channel="booth", actor=big.users["worker"],
                    at=start + 2 * day)
    ev = services.count(actor=big.users["worker"], evaluation=ev, at=start + 11 * day)
    missing = selectors.missing_responses(ev)
    assert missing  # 10 of 16 satisfied: 62.5 %
    for criterion in missing:
        services.respond(actor=big.users["worker"], evaluation=ev, criterion=criterion, text="逐项整改。",
                         at=start + 11 * day)
    ev = services.publish(actor=big.users["admin"], evaluation=ev, at=start + 13 * day)
    assert ev.state == "published" and ev.results["ballots"] == 16
    assert selectors.rows(ev)[0].percent == "62.5"


def test_the_office_page_through_count_responses_and_publish(big, key):
    ev = prepared(big)
    admin, worker = client_for(big, "admin"), client_for(big, "worker")
    url = f"/evaluation/{big.community.code}/office/{ev.year}/"
    page = worker.get(url)
    assert page.status_code == 200 and b"Turnout" in page.content and b"0 of 22 households" in page.content
    rate_all(big, ev, voters_by_grid(big)[0], lambda i, q: "unsatisfied" if i % 2 else "basic")
    ev = enter(ev, "results")
    assert worker.post(url + "count").status_code == 302
    page = worker.get(url)
    assert b"No response yet" in page.content and b"50.0%" in page.content
    assert Client().get(url).status_code == 302  # signed out: to the sign-in page
    zh = Client()  # the community's language
    zh.login(username=big.users["worker"].username, password=PASSWORD)
    assert zh.get(url).status_code == 200
    ev = enter(ev, "response")
    refused = admin.post(url + "publish")
    assert refused.status_code == 400 and b"Still missing" in refused.content
    for row in selectors.rows(Evaluation.objects.get(pk=ev.pk)):
        assert worker.post(url + "respond", {"criterion": row.criterion.pk, "text": "改进服务。"}).status_code == 302
    assert worker.post(url + "publish").status_code == 403  # the admin publishes
    assert admin.post(url + "publish").status_code == 302
    assert Evaluation.objects.get(pk=ev.pk).state == "published"


def test_comments_reach_the_office_scrubbed_and_unattributed(big):
    ev = prepared(big)
    vote = ev.vote
    question = vote.questions.order_by("order", "id").first()
    options = {o.ref: o.pk for o in Option.objects.filter(question=question)}
    voting.cast(vote=vote, resident=voters_by_grid(big)[0][0], channel="booth", actor=big.users["worker"],
                choices={str(question.pk): options["unsatisfied"],
                         "comments": {str(question.pk): "晚上办事没人，电话13912345678打不通"}})
    ev = counted(big, ev)
    notes = selectors.comments(ev)
    (texts,) = notes.values()
    assert len(texts) == 1 and "13912345678" not in texts[0] and "晚上办事没人" in texts[0]
    page = client_for(big, "worker").get(f"/evaluation/{big.community.code}/office/{ev.year}/")
    assert "晚上办事没人" in page.content.decode() and "13912345678" not in page.content.decode()
    # the published texts never carry comments
    assert "晚上办事没人" not in selectors.results_text(ev)[1]
