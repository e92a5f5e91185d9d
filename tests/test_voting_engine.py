"""The voting engine's core: eligibility from the registry, the roll, casting by every channel,
one person one vote across channels (with a race on PostgreSQL), ballots' validation, the vote
workflow, the office pages, and the registry's floor areas and owners."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone, translation

from factories import PASSWORD, _user, make_id_number, make_phone
from linli.community.importer import import_residents, parse_floor_area
from linli.community.models import Household, Resident
from linli.community.services import ResidentFacts, household_set_floor_area, resident_create
from linli.core.errors import InvalidInput, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.voting import ballots, eligibility, services
from linli.voting.models import Ballot, Booth, Participation, Vote
from linli.voting.phases import PhaseClosed, PhaseSpec
from linli.voting.services import AlreadyVoted, receipt_hash
from linli.voting.web import refuse

TODAY = dt.date(2026, 6, 1)


def make_process(world, *, grids=(), running=True):
    now = timezone.now()
    start = now - dt.timedelta(days=1) if running else now + dt.timedelta(days=1)
    return services.process_create(
        actor=world.users["worker"], community=world.community, kind="vote", title="加装电梯意见征集",
        grids=grids, specs=[PhaseSpec("vote", "Voting", start)], ends_at=now + dt.timedelta(days=5))


def make_vote(world, *, kind="choice", eligibility_="adults", rule="majority", questions=None, grids=(),
              running=True, open_=True, **options):
    process = make_process(world, grids=grids, running=running)
    questions = questions or [("同意加装电梯吗？", ["同意", "不同意", "弃权"])]
    vote = services.vote_create(actor=world.users["worker"], process=process, title="加装电梯", kind=kind,
                                eligibility=eligibility_, rule=rule, questions=questions, **options)
    if open_:
        vote = services.vote_open(actor=world.users["worker"], vote=vote)
    return vote


def first_choice(vote):
    return {str(q.pk): [q.options.first().pk] for q in vote.questions.all()}


def web_user(resident, name):
    if resident.user_id:
        return resident.user
    resident.user = _user(name)
    resident.save(update_fields=["user"])
    return resident.user


def new_resident(world, household, *, serial, birth, owner=False):
    return resident_create(actor=None, household=household, facts=ResidentFacts.clean(
        name=f"测试{serial}", id_number=make_id_number(birth, serial), phone=make_phone(serial),
        relation="child", is_owner=owner))


# --- eligibility --------------------------------------------------------------------------------


def test_eligibility_reasons(world):
    vote = make_vote(world, grids=[world.grids[0]], open_=False)
    inside = next(r for r in world.residents if r.grid_id == world.grids[0].pk)
    outside = next(r for r in world.residents if r.grid_id == world.grids[1].pk)
    with translation.override("en"):
        assert eligibility.eligible(vote, inside, today=TODAY) == (True, "")
        ok, reason = eligibility.eligible(vote, outside, today=TODAY)
        assert not ok and "courtyard" in reason
        ok, reason = eligibility.eligible(vote, world.other_resident, today=TODAY)
        assert not ok and "another community" in reason
        child = new_resident(world, inside.household, serial=501, birth=dt.date(2012, 3, 3))
        ok, reason = eligibility.eligible(vote, child, today=TODAY)
        assert not ok and "18" in reason
        ok, reason = eligibility.eligible(vote, None)
        assert not ok


def test_the_year_of_turning_18_reads_the_birth_date(world):
    vote = make_vote(world, open_=False)
    r = new_resident(world, world.households[0], serial=502, birth=dt.date(2008, 7, 15))
    assert not eligibility.eligible(vote, r, today=dt.date(2026, 7, 14))[0]
    assert eligibility.eligible(vote, r, today=dt.date(2026, 7, 15))[0]


def test_owners_vote_needs_an_owner_of_record_and_a_floor_area(world):
    vote = make_vote(world, eligibility_="owners", rule="owners", open_=False)
    r = world.residents[0]
    with translation.override("en"):
        ok, reason = eligibility.eligible(vote, r)
        assert not ok and "owner" in reason
        Resident.objects.filter(pk=r.pk).update(is_owner=True)
        r.refresh_from_db()
        ok, reason = eligibility.eligible(vote, r)
        assert not ok and "floor area" in reason
        household_set_floor_area(actor=None, household=r.household, floor_area="88.5")
        r.refresh_from_db()
        assert eligibility.eligible(vote, r) == (True, "")
    assert eligibility.voter_key(vote, r) == f"h:{r.household_id}"


def test_roll_counts_people_households_and_owner_parts(world):
    vote = make_vote(world, grids=[world.grids[0]], open_=False)
    in_grid = [r for r in world.residents if r.grid_id == world.grids[0].pk]
    households = {r.household_id for r in in_grid}
    summary = eligibility.roll(vote, today=TODAY)
    assert (summary.people, summary.households, summary.owners) == (len(in_grid), len(households), 0)
    # Two owners of one flat count once (one 专有部分, one owner); a flat with no area is not on the roll.
    hh = in_grid[0].household
    Resident.objects.filter(household=hh).update(is_owner=True)
    household_set_floor_area(actor=None, household=hh, floor_area=Decimal("90.25"))
    other = next(r for r in in_grid if r.household_id != hh.pk)
    Resident.objects.filter(pk=other.pk).update(is_owner=True)  # no floor area
    summary = eligibility.roll(vote, today=TODAY)
    assert summary.owners == 1 and summary.owner_area == Decimal("90.25")
    new_resident(world, hh, serial=503, birth=dt.date(2015, 1, 1))
    assert eligibility.roll(vote, today=TODAY).people == len(in_grid)  # a child is not on it


# --- casting ----------------------------------------------------------------------------------


def test_web_cast_stores_participation_and_ballot_apart(world):
    vote = make_vote(world)
    r = world.residents[0]
    receipt = services.cast(vote=vote, resident=r, choices=first_choice(vote), actor=world.users["resident"])
    assert receipt.receipt_hash == receipt_hash(receipt.code) == receipt_hash(receipt.code.lower().replace("-", " "))
    p = Participation.objects.get(vote=vote)
    assert (p.voter_key, p.channel, p.resident_id) == (f"r:{r.pk}", "web", r.pk)
    b = Ballot.objects.get(vote=vote)
    assert b.receipt_hash == receipt.receipt_hash and b.choices == first_choice(vote) and b.grid_id is None
    assert not {f.name for f in Ballot._meta.get_fields()} & {"created_at", "participation", "resident"}
    event = Event.objects.get(verb="voting.cast")
    assert event.data == {"channel": "web", "booth": None}
    assert receipt.code not in str(event.data) and receipt.receipt_hash not in str(event.data)


def test_web_cast_only_for_oneself(world):
    vote = make_vote(world)
    with pytest.raises(PermissionDenied):
        services.cast(vote=vote, resident=world.residents[1], choices=first_choice(vote),
                      actor=world.users["resident"])
    with pytest.raises(PermissionDenied):
        services.cast(vote=vote, resident=world.residents[0], choices=first_choice(vote),
                      actor=world.users["worker"])
    assert not Participation.objects.exists()


def test_booth_and_proxy_by_an_officer(world):
    vote = make_vote(world)
    booth = Booth.objects.create(vote=vote, name="3号院门口")
    services.cast(vote=vote, resident=world.residents[1], choices=first_choice(vote), channel="booth",
                  actor=world.users["worker"], booth=booth)
    with pytest.raises(InvalidInput):
        services.cast(vote=vote, resident=world.residents[2], choices=first_choice(vote), channel="proxy",
                      actor=world.users["worker"])
    services.cast(vote=vote, resident=world.residents[2], choices=first_choice(vote), channel="proxy",
                  actor=world.users["admin"], proxy_reason="卧床，家属代为填写")
    with pytest.raises(PermissionDenied):
        services.cast(vote=vote, resident=world.residents[3], choices=first_choice(vote), channel="booth",
                      actor=world.users["grid1"])
    with pytest.raises(PermissionDenied):
        services.cast(vote=vote, resident=world.residents[3], choices=first_choice(vote), channel="booth",
                      actor=world.users["z_worker"])
    rows = {p.voter_key: (p.channel, p.booth_id, p.recorded_by_id, p.proxy_reason)
            for p in Participation.objects.filter(vote=vote)}
    assert rows[f"r:{world.residents[1].pk}"] == ("booth", booth.pk, world.users["worker"].pk, "")
    assert rows[f"r:{world.residents[2].pk}"][0] == "proxy"
    assert Ballot.objects.filter(vote=vote).count() == 2


def test_a_channel_the_vote_does_not_take_is_refused(world):
    vote = make_vote(world, channels=["web"])
    with pytest.raises(InvalidInput) as caught:
        services.cast(vote=vote, resident=world.residents[1], choices=first_choice(vote), channel="booth",
                      actor=world.users["worker"])
    assert caught.value.code == "channel_closed"
    with pytest.raises(InvalidInput):
        services.mark_paper(vote=vote, resident=world.residents[1], actor=world.users["worker"])
    with pytest.raises(InvalidInput):
        services.cast(vote=vote, resident=world.residents[0], choices=first_choice(vote), channel="paper",
                      actor=world.users["resident"])


def test_one_person_one_vote_across_channels(world):
    vote = make_vote(world)
    r = world.residents[0]
    services.mark_paper(vote=vote, resident=r, actor=world.users["worker"])
    for channel, actor, extra in (("web", world.users["resident"], {}), ("booth", world.users["worker"], {}),
                                  ("proxy", world.users["worker"], {"proxy_reason": "外出"})):
        with pytest.raises(AlreadyVoted) as caught:
            services.cast(vote=vote, resident=r, choices=first_choice(vote), channel=channel, actor=actor, **extra)
        assert caught.value.status == 409 and caught.value.code == "already_voted"
    with pytest.raises(AlreadyVoted):
        services.mark_paper(vote=vote, resident=r, actor=world.users["worker"])
    assert Participation.objects.filter(vote=vote).count() == 1 and not Ballot.objects.exists()
    assert Event.objects.filter(verb="voting.paper_marked").count() == 1
    assert not Event.objects.filter(verb="voting.cast").exists()


def test_one_vote_per_household(world):
    vote = make_vote(world, eligibility_="households")
    hh = world.residents[0].household
    a, b = [r for r in world.residents if r.household_id == hh.pk][:2]
    services.cast(vote=vote, resident=a, choices=first_choice(vote), channel="booth", actor=world.users["worker"])
    with pytest.raises(AlreadyVoted):
        services.cast(vote=vote, resident=b, choices=first_choice(vote), channel="booth", actor=world.users["worker"])
    assert eligibility.has_voted(vote, b)


def test_owners_ballot_carries_the_area_and_the_grid_when_asked(world):
    vote = make_vote(world, eligibility_="owners", rule="owners", breakdown_by_grid=True)
    r = world.residents[0]
    Resident.objects.filter(pk=r.pk).update(is_owner=True)
    household_set_floor_area(actor=None, household=r.household, floor_area="72.40")
    r.refresh_from_db()
    services.cast(vote=vote, resident=r, choices=first_choice(vote), channel="booth", actor=world.users["worker"])
    b = Ballot.objects.get(vote=vote)
    assert b.weight_area == Decimal("72.40") and b.grid_id == r.grid_id


def test_a_question_or_option_holding_a_phone_number_is_refused_before_anyone_votes(world):
    # the result is published on the board, which refuses such text: refuse it at the start
    process = make_process(world)
    for questions in ([("联系13912345678报名", ["同意", "不同意"])], [("同意吗？", ["同意，联系13912345678", "不同意"])]):
        with pytest.raises(InvalidInput) as caught:
            services.vote_create(actor=world.users["worker"], process=process, title="测试", kind="choice",
                                 eligibility="adults", rule="majority", questions=questions)
        assert caught.value.code == "pii_held"
    assert not process.votes.exists()


def test_an_owners_vote_hands_out_no_paper_sheet(world):
    # An owners' ballot is weighed by the flat's floor area, which an anonymous sheet cannot carry:
    # the engine refuses the sheet itself, not only the booth desk's page.
    vote = make_vote(world, eligibility_="owners", rule="owners")
    r = world.residents[0]
    Resident.objects.filter(pk=r.pk).update(is_owner=True)
    household_set_floor_area(actor=None, household=r.household, floor_area="60.00")
    r.refresh_from_db()
    with pytest.raises(InvalidInput) as caught:
        services.mark_paper(vote=vote, resident=r, actor=world.users["worker"])
    assert caught.value.code == "channel_closed"
    assert not Participation.objects.filter(vote=vote).exists()
    assert not Event.objects.filter(verb="voting.paper_marked").exists()


def test_casting_needs_the_phase_and_an_open_vote(world):
    early = make_vote(world, running=False)
    with pytest.raises(PhaseClosed):
        services.cast(vote=early, resident=world.residents[0], choices=first_choice(early),
                      actor=world.users["resident"])
    draft = make_vote(world, open_=False)
    with pytest.raises(services.VoteNotOpen):
        services.cast(vote=draft, resident=world.residents[0], choices=first_choice(draft),
                      actor=world.users["resident"])
    vote = make_vote(world)
    services.vote_close(actor=world.users["admin"], vote=vote)
    with pytest.raises(services.VoteNotOpen):
        services.cast(vote=vote, resident=world.residents[0], choices=first_choice(vote),
                      actor=world.users["resident"])
    assert not Participation.objects.exists()


def test_ineligible_resident_is_refused_and_nothing_is_stored(world):
    vote = make_vote(world, grids=[world.grids[1]])
    with pytest.raises(PermissionDenied) as caught:
        services.cast(vote=vote, resident=world.residents[0], choices=first_choice(vote),
                      actor=world.users["resident"])
    assert caught.value.code == "not_eligible"
    assert not Participation.objects.exists() and not Ballot.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_of_one_voter_one_counts(world):
    if connection.vendor != "postgresql":
        pytest.skip("a real race needs PostgreSQL's row locks and concurrent writers")
    vote = make_vote(world)
    r = world.residents[0]
    officer = world.users["worker"]
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt(i):
        try:
            barrier.wait()
            services.cast(vote=vote, resident=r, choices=first_choice(vote), channel="booth", actor=officer)
            outcomes.append("ok")
        except AlreadyVoted:
            outcomes.append("already")
        except Exception as exc:  # noqa: BLE001 — reported below
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("already") == 19, outcomes
    assert Participation.objects.filter(vote=vote).count() == 1 and Ballot.objects.filter(vote=vote).count() == 1


# --- ballots ----------------------------------------------------------------------------------


def _ids(vote):
    return [(q.pk, [o.pk for o in q.options.all()]) for q in vote.questions.prefetch_related("options")]


def test_choice_ballot_needs_exactly_one_per_question(world):
    vote = make_vote(world, questions=[("甲", ["是", "否"]), ("乙", ["是", "否"])], open_=False)
    (q1, o1), (q2, o2) = _ids(vote)
    assert ballots.validate(vote, {str(q1): o1[0], q2: [str(o2[1])]}) == {str(q1): [o1[0]], str(q2): [o2[1]]}
    for bad, code in (({str(q1): [o1[0]]}, "ballot_choice_count"),
                      ({str(q1): o1, str(q2): [o2[0]]}, "ballot_choice_count"),
                      ({str(q1): [o2[0]], str(q2): [o2[0]]}, "ballot_unknown_option"),
                      ({"999999": [1]}, "ballot_unknown_question"),
                      ({str(q1): ["x"]}, "ballot_unreadable"),
                      ("nope", "ballot_unreadable")):
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, bad)
        assert caught.value.code == code


def test_approval_min_max(world):
    vote = make_vote(world, kind="approval", rule="tally", min_choices=1, max_choices=2,
                     questions=[("选项目", ["甲", "乙", "丙"])], open_=False)
    [(q, o)] = _ids(vote)
    assert ballots.validate(vote, {str(q): [o[1], o[0]]}) == {str(q): sorted([o[0], o[1]])}
    with translation.override("en"):
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, {str(q): []})
        assert caught.value.code == "ballot_too_few" and "at least 1" in str(caught.value.message)
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, {str(q): o})
        assert caught.value.code == "ballot_too_many" and "at most 2" in str(caught.value.message)
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, {str(q): [o[0], o[0]]})
        assert caught.value.code == "ballot_duplicate"


def test_knapsack_budget_and_least_share(world):
    vote = make_vote(world, kind="approval", rule="tally", budget_fen=1_000_00, min_budget_share_percent=50,
                     questions=[("社区基金项目", [("儿童角", 600_00, "project:1"), ("读书会", 300_00, "project:2"),
                                             ("花园", 200_00, "project:3")])], open_=False)
    [(q, o)] = _ids(vote)
    assert ballots.validate(vote, {str(q): [o[0], o[1]]}) == {str(q): [o[0], o[1]]}  # 900 of 1000
    with translation.override("en"):
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, {str(q): o})  # 1100 > 1000
        assert caught.value.code == "ballot_over_budget" and "1,100.00" in str(caught.value.message)
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, {str(q): [o[2]]})  # 200 < 500
        assert caught.value.code == "ballot_below_share" and "500.00" in str(caught.value.message)
    assert ballots.validate(vote, {str(q): [o[1], o[2]]})  # exactly 500: the least share is met


def test_rating_ballot_with_comments_scrubbed(world):
    vote = make_vote(world, kind="rating", eligibility_="households", rule="tally",
                     questions=[("居委会服务态度", []), ("办事效率", [])], open_=False)
    (q1, o1), (q2, o2) = _ids(vote)
    refs = [o.ref for o in vote.questions.first().options.all()]
    assert refs == ["satisfied", "basic", "unsatisfied"]
    out = ballots.validate(vote, {str(q1): o1[0], "comments": {str(q1): "请回电 13912345678 谢谢", str(q2): " "}})
    assert out[str(q1)] == o1[0] and str(q2) not in out
    assert "13912345678" not in out["comments"][str(q1)] and set(out["comments"]) == {str(q1)}
    for bad, code in (({}, "ballot_too_few"), ({str(q1): [o1[0], o1[1]]}, "ballot_rating_count"),
                      ({str(q1): o1[0], "comments": {str(q1): "长" * 501}}, "ballot_comment_long")):
        with pytest.raises(InvalidInput) as caught:
            ballots.validate(vote, bad)
        assert caught.value.code == code
    plain = make_vote(world, open_=False)
    with pytest.raises(InvalidInput) as caught:
        ballots.validate(plain, {**first_choice(plain), "comments": {"1": "x"}})
    assert caught.value.code == "ballot_comments"


def test_invalid_ballot_changes_nothing(world):
    vote = make_vote(world)
    with pytest.raises(InvalidInput):
        services.cast(vote=vote, resident=world.residents[0], choices={}, actor=world.users["resident"])
    assert not Participation.objects.exists() and not Event.objects.filter(verb="voting.cast").exists()


# --- the vote's settings and workflow ---------------------------------------------------------


def test_vote_settings_are_checked(world):
    process = make_process(world)
    base = dict(actor=world.users["worker"], process=process, title="t", questions=[("q", ["a", "b"])])
    for kind, elig, rule, extra in (("choice", "adults", "owners", {}),            # owners' rule, not owners
                                    ("approval", "adults", "majority", {}),        # approval counts only
                                    ("choice", "adults", "majority", {"budget_fen": 100}),
                                    ("choice", "adults", "majority", {"phase_key": "nope"}),
                                    ("choice", "adults", "majority", {"channels": ["fax"]}),
                                    ("choice", "adults", "quorum", {"quorum_percent": 0})):
        with pytest.raises(InvalidInput):
            services.vote_create(kind=kind, eligibility=elig, rule=rule, **base, **extra)
    with pytest.raises(InvalidInput):
        services.vote_create(kind="choice", eligibility="adults", rule="majority",
                             **{**base, "questions": [("q", ["only one"])]})
    assert not Vote.objects.exists()


def test_questions_change_only_while_draft_and_moves_are_the_offices(world):
    vote = make_vote(world, open_=False)
    services.vote_set_questions(actor=world.users["worker"], vote=vote, questions=[("新问题", ["是", "否"])])
    assert [q.text for q in vote.questions.all()] == ["新问题"]
    with pytest.raises(PermissionDenied):
        services.vote_open(actor=world.users["grid1"], vote=vote)
    vote = services.vote_open(actor=world.users["worker"], vote=vote)
    assert vote.state == "open" and Event.objects.filter(verb="vote.opened").count() == 1
    with pytest.raises(services.VoteNotOpen):
        services.vote_set_questions(actor=world.users["worker"], vote=vote, questions=[("再改", ["是", "否"])])
    with pytest.raises(IllegalTransition):
        services.vote_open(actor=world.users["worker"], vote=vote)
    vote = services.vote_close(actor=None, vote=vote)  # the server may close too
    assert vote.state == "closed"


# --- pages ------------------------------------------------------------------------------------


def client_for(user):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_refuse_renders_the_message_with_the_errors_status(world, rf):
    request = rf.get("/votes/Y/v/1/ballot")
    request.user = world.users["resident"]
    with translation.override("en"):
        response = refuse(request, PhaseClosed("Voting has not begun."))
        assert response.status_code == 403 and b"Voting has not begun." in response.content
        assert refuse(request, AlreadyVoted("twice")).status_code == 409
        assert refuse(request, InvalidInput("bad")).status_code == 400


def test_office_pages_create_a_process_and_a_vote_and_open_it(world):
    c = client_for(world.users["worker"])
    assert c.get("/votes/Y/office/").status_code == 200
    assert c.get("/votes/Y/office/new?kind=deliberation").status_code == 200
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    data = {"title": "三号院停车", "kind": "vote", "description": "", "grids": [world.grids[0].pk],
            "ends_at": (now + dt.timedelta(days=10)).strftime(fmt),
            "phase-TOTAL_FORMS": "3", "phase-INITIAL_FORMS": "0",
            "phase-0-key": "ask", "phase-0-name": "征集", "phase-0-starts_at": (now - dt.timedelta(days=2)).strftime(fmt),
            "phase-0-enabled": "on",
            "phase-1-key": "vote", "phase-1-name": "表决", "phase-1-starts_at": (now - dt.timedelta(hours=1)).strftime(fmt),
            "phase-1-enabled": "on",
            "phase-2-key": "", "phase-2-name": "", "phase-2-starts_at": ""}
    response = c.post("/votes/Y/office/new", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    process = world.community.processes.get()
    assert [p.key for p in process.phases.all()] == ["ask", "vote"] and list(process.grids.all()) == [world.grids[0]]
    assert c.get(f"/votes/Y/office/p/{process.pk}/").status_code == 200
    assert c.get(f"/votes/Y/office/p/{process.pk}/phases").status_code == 200
    response = c.post(f"/votes/Y/office/p/{process.pk}/vote/new", {
        "title": "划线停车", "kind": "choice", "eligibility": "households", "rule": "quorum", "phase_key": "vote",
        "quorum_percent": "50", "min_choices": "0", "min_budget_share_percent": "0", "channels": ["web", "booth"],
        "questions": "同意划线停车吗？\n同意\n不同意\n\n收费标准\n每月50元 | 0\n每月80元",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    vote = process.votes.get()
    assert [q.text for q in vote.questions.all()] == ["同意划线停车吗？", "收费标准"]
    assert vote.channels == ["web", "booth"]
    page = c.get(f"/votes/Y/office/v/{vote.pk}/")
    assert page.status_code == 200 and b"Open the vote" in page.content
    assert c.post(f"/votes/Y/office/v/{vote.pk}/move", {"move": "open"}).status_code == 302
    vote.refresh_from_db()
    assert vote.state == "open"
    services.cast(vote=vote, resident=world.residents[0], choices=first_choice(vote), channel="booth",
                  actor=world.users["worker"])
    page = c.get(f"/votes/Y/office/v/{vote.pk}/")
    assert b"1 of " in page.content
    again = c.post(f"/votes/Y/office/v/{vote.pk}/move", {"move": "open"})
    assert again.status_code == 409


def test_office_pages_are_the_offices(world):
    assert client_for(world.users["grid1"]).get("/votes/Y/office/").status_code == 403
    assert client_for(world.users["z_worker"]).get("/votes/Y/office/").status_code == 404
    reader = client_for(world.users["supervisor"])
    assert reader.get("/votes/Y/office/").status_code == 200
    assert reader.get("/votes/Y/office/new").status_code == 404


# --- the registry: floor areas and owners -----------------------------------------------------


def test_parse_floor_area():
    assert parse_floor_area("89.5") == Decimal("89.50")
    assert parse_floor_area(" 102.35㎡") == Decimal("102.35")
    assert parse_floor_area("76 平方米") == Decimal("76.00")
    for bad in ("", "0", "-3", "1.234", "abc", "1e9", "NaN"):
        assert parse_floor_area(bad) is None


def test_import_reads_owner_and_floor_area(world):
    birth = dt.date(1970, 2, 2)
    number = make_id_number(birth, 777)
    csv = ("姓名,身份证号,院落,楼栋,单元,房号,业主,建筑面积\n"
           f"测试业主,{number},G01,G01-1栋,1,301,是,95.6\n").encode("utf-8")
    result = import_residents(actor=world.users["admin"], community=world.community, content=csv)
    assert result.ok, result.errors
    r = Resident.objects.get(community=world.community, household__room="301")
    assert r.is_owner and r.household.floor_area == Decimal("95.60")
    assert Event.objects.filter(verb="household.floor_area_set").count() == 1
    # A blank owner cell keeps what is registered; a changed area updates the household.
    csv = ("姓名,身份证号,院落,楼栋,单元,房号,业主,建筑面积\n"
           f"测试业主,{number},G01,G01-1栋,1,301,,96\n").encode("utf-8")
    result = import_residents(actor=world.users["admin"], community=world.community, content=csv)
    assert result.ok and result.summary["updated"] == 1
    r.refresh_from_db()
    assert r.is_owner and Household.objects.get(pk=r.household_id).floor_area == Decimal("96.00")
    bad = ("姓名,身份证号,院落,楼栋,单元,房号,业主,建筑面积\n"
           f"测试业主,{number},G01,G01-1栋,1,301,也许,很大\n").encode("utf-8")
    result = import_residents(actor=world.users["admin"], community=world.community, content=bad)
    assert {e["code"] for e in result.errors} == {"yes_no", "floor_area"}


@pytest.fixture
def board_key(settings, tmp_path):
    from linli.transparency import keys

    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")


def test_office_publishes_through_results(world, board_key):
    vote = make_vote(world, channels=["web", "booth"])
    services.cast(vote=vote, resident=world.residents[1], choices=first_choice(vote), channel="booth",
                  actor=world.users["worker"])
    c = client_for(world.users["admin"])
    page = c.get(f"/votes/Y/office/v/{vote.pk}/")
    assert b'name="force_reason"' in page.content and b"/paper/" in page.content
    assert client_for(world.users["supervisor"]).post(
        f"/votes/Y/office/v/{vote.pk}/move", {"move": "publish"}).status_code == 404
    response = c.post(f"/votes/Y/office/v/{vote.pk}/move", {"move": "publish"})
    assert response.status_code == 302
    vote.refresh_from_db()
    assert vote.state == "published" and vote.log_index is not None and vote.result_sha256
    assert c.post(f"/votes/Y/office/v/{vote.pk}/move", {"move": "close"}).status_code == 409


def test_cast_many_is_all_or_nothing_with_the_same_checks(world):
    vote = make_vote(world, eligibility_="households", channels=["web", "booth", "proxy"])
    heads = [r for r in world.residents if r.relation == "head"]
    choice = first_choice(vote)
    items = [services.BulkBallot(heads[0], choice, "web"), services.BulkBallot(heads[1], choice, "booth"),
             services.BulkBallot(heads[2], choice, "proxy", proxy_reason="住院")]
    receipts = services.cast_many(vote=vote, items=items, actor=None)
    assert len(receipts) == 3 and Ballot.objects.filter(vote=vote).count() == 3
    assert {b.receipt_hash for b in Ballot.objects.filter(vote=vote)} == {r.receipt_hash for r in receipts}
    cast_events = Event.objects.filter(verb="voting.cast").order_by("id")
    assert cast_events.count() == 3 and cast_events[0].actor_id == world.users["resident"].pk
    before = (Participation.objects.count(), Ballot.objects.count(), Event.objects.count())
    spouse = next(r for r in world.residents if r.household_id == heads[0].household_id and r.pk != heads[0].pk)
    for bad in ([services.BulkBallot(heads[3], choice), services.BulkBallot(spouse, choice)],    # household voted
                [services.BulkBallot(heads[3], choice), services.BulkBallot(heads[3], choice)],  # twice in the batch
                [services.BulkBallot(heads[3], choice), services.BulkBallot(heads[4], {})],      # invalid ballot
                [services.BulkBallot(heads[3], choice, "proxy")],                               # no reason
                [services.BulkBallot(world.other_resident, choice)]):                           # other community
        with pytest.raises((InvalidInput, PermissionDenied)):
            services.cast_many(vote=vote, items=bad, actor=world.users["worker"])
    with pytest.raises(PermissionDenied):
        services.cast_many(vote=vote, items=[services.BulkBallot(heads[3], choice, "web")], actor=world.users["worker"])
    with pytest.raises(PermissionDenied):
        services.cast_many(vote=vote, items=[services.BulkBallot(heads[3], choice)], actor=world.users["grid1"])
    assert (Participation.objects.count(), Ballot.objects.count(), Event.objects.count()) == before
