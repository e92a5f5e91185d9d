"""Community fund projects: the call, projects, review, vote, selection, override, implementation,
acceptance, report, recompute and import — each move, each role and each bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone, translation
from PIL import Image

from linli.books import services as books
from linli.books.models import Account, Voucher
from linli.core.errors import InvalidInput, PermissionDenied, RateLimited
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.disclosure.models import Entry
from linli.funds import selection, selectors, services
from linli.funds.models import Acceptance, Call, Milestone, Project
from linli.transparency import keys
from linli.voting import phases
from linli.voting.models import Ballot, Vote
from linli.voting.phases import PhaseClosed
from linli.voting.services import cast

P = Project.State
POOL = 5_000_000  # ¥50,000.00 in the fund, not yet given to a project


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    keys.keygen("board.example.org", tmp_path / "signing.key")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def funded(world):
    """The books with ¥50,000 received for the fund (Dr bank / Cr 3102.00), posted."""
    books.install_chart(actor=None, community=world.community)
    accounts = books.accounts_by_code(world.community)
    books.post_vouchers(community=world.community, vouchers=[books.VoucherInput(
        date=dt.date(2026, 1, 5), summary="街道拨付社区保障资金",
        lines=(books.LineInput(account=accounts["1002"], debit=POOL),
               books.LineInput(account=accounts["3102.00"], credit=POOL)))])
    return world


def starts_for(key: str, now=None) -> tuple[dict, dt.datetime]:
    """Phase starts, one day apart, such that ``key`` started an hour ago."""
    now = now or timezone.now()
    index = services.PHASE_KEYS.index(key)
    base = now - dt.timedelta(days=index, hours=1)
    starts = {k: base + dt.timedelta(days=i) for i, k in enumerate(services.PHASE_KEYS)}
    return starts, base + dt.timedelta(days=len(services.PHASE_KEYS))


def at_phase(call: Call, key: str) -> Call:
    starts, ends = starts_for(key)
    phases.set_phases(actor=None, process=call.process, specs=services.phase_specs(starts), ends_at=ends)
    call.process.refresh_from_db()
    return Call.objects.get(pk=call.pk)


def new_call(world, *, key="submission", budget=1_000_000, **kw) -> Call:
    starts, ends = starts_for(key)
    return services.call_create(actor=world.users["admin"], community=world.community, year=2026,
                                title="2026年社区微更新", budget_fen=budget,
                                specs=services.phase_specs(starts), ends_at=ends, **kw)


def submit(world, call, who="resident", *, title="楼道加装扶手", lines=(("扶手", 300_000),), **kw) -> Project:
    fields = dict(description="老人上下楼不便，在两栋楼道加装扶手。", place="1号院", beneficiaries="1号院老人",
                  budget_lines=list(lines))
    fields.update(kw)
    return services.project_submit(actor=world.users[who], call=call, title=title, **fields)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (20, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def voters(world):
    """The Y community's adults (every resident of the fixture is an adult)."""
    return [r for r in world.residents]


def ballot_for(vote: Vote, *project_ids) -> dict:
    question = vote.questions.get()
    by_ref = {o.ref: o.pk for o in question.options.all()}
    return {str(question.pk): [by_ref[f"project:{pid}"] for pid in project_ids]}


def run_to_vote(world, *, costs=(400_000, 300_000, 500_000), budget=1_000_000, **kw):
    """A call with three eligible projects and its vote open."""
    call = new_call(world, budget=budget, **kw)
    projects = [submit(world, call, "resident" if i == 0 else "worker", title=f"项目{i}",
                       lines=(("材料", cost),)) for i, cost in enumerate(costs)]
    call = at_phase(call, "review")
    for p in projects:
        services.project_review(actor=world.users["worker"], project=p, eligible=True)
    call = at_phase(call, "vote")
    services.vote_prepare(actor=world.users["admin"], call=call)
    call.refresh_from_db()
    return call, [Project.objects.get(pk=p.pk) for p in projects]


def cast_many(world, call, baskets):
    vote = call.vote
    for resident, basket in zip(voters(world), baskets):
        cast(vote=vote, resident=resident, choices=ballot_for(vote, *[p.pk for p in basket]), channel="booth",
             actor=world.users["worker"])


# --- the call and its budget -----------------------------------------------------------------------


def test_call_is_a_fund_process_with_the_eight_phases(funded):
    call = new_call(funded)
    assert call.process.kind == "fund" and call.state == "open"
    assert [p.key for p in call.process.phases.all()] == list(services.PHASE_KEYS)
    assert phases.current(call.process).key == "submission"
    assert Event.objects.filter(verb="funds.call_created", target_id=str(call.pk)).count() == 1


def test_the_budget_must_be_in_the_fund_and_open_calls_reserve_theirs(funded):
    new_call(funded, budget=3_000_000)
    with translation.override("en"), pytest.raises(InvalidInput) as e:
        new_call(funded, budget=2_500_000)
    assert "not yet given to a project" in str(e.value.message) and e.value.field == "budget_fen"
    assert Call.objects.count() == 1
    assert services.available_fen(funded.community) == 2_000_000
    new_call(funded, budget=2_000_000)


def test_without_the_books_there_is_no_call(world):
    with pytest.raises(InvalidInput) as e:
        new_call(world)
    assert e.value.field == "budget_fen" and Call.objects.count() == 0


@pytest.mark.parametrize("who", ["worker", "secretary", "resident", "z_worker", "supervisor"])
def test_only_an_administrator_opens_a_call(funded, who):
    starts, ends = starts_for("call")
    with pytest.raises(PermissionDenied):
        services.call_create(actor=funded.users[who], community=funded.community, year=2026, title="x",
                             budget_fen=100, specs=services.phase_specs(starts), ends_at=ends)
    assert Call.objects.count() == 0


@pytest.mark.parametrize("bad", [
    {"budget": 0}, {"rule": "lottery"}, {"ballot_kind": "ranked"}, {"max_projects": 0},
    {"min_projects": 3, "max_projects": 2}, {"min_budget_share_percent": 50},
    {"min_budget_share_percent": 120, "ballot_kind": "knapsack"}, {"eligibility": "everyone"},
])
def test_bad_call_settings_are_refused(funded, bad):
    with pytest.raises(InvalidInput):
        new_call(funded, **bad)
    assert Call.objects.count() == 0


def test_the_required_phases_cannot_be_switched_off(funded):
    starts, ends = starts_for("call")
    with pytest.raises(InvalidInput):
        services.call_create(actor=funded.users["admin"], community=funded.community, year=2026, title="x",
                             budget_fen=100, specs=services.phase_specs(starts, disabled=["vote"]), ends_at=ends)
    call = services.call_create(actor=funded.users["admin"], community=funded.community, year=2026, title="x",
                                budget_fen=100, specs=services.phase_specs(starts, disabled=["call"]),
                                ends_at=ends)
    assert not call.process.phases.get(key="call").enabled


def test_call_settings_change_only_while_announced(funded):
    call = new_call(funded, key="call")
    call = services.call_update(actor=funded.users["admin"], call=call, budget_fen=2_000_000, rule="equal-shares",
                                ballot_kind="knapsack", min_budget_share_percent=50)
    assert (call.budget_fen, call.rule, call.ballot_kind) == (2_000_000, "equal-shares", "knapsack")
    call = at_phase(call, "submission")
    with pytest.raises(PhaseClosed):
        services.call_update(actor=funded.users["admin"], call=call, budget_fen=1, rule="greedy",
                             ballot_kind="approval")
    assert Call.objects.get(pk=call.pk).budget_fen == 2_000_000


# --- projects ------------------------------------------------------------------------------------------


def test_a_resident_submits_a_project_with_budget_lines(funded):
    call = new_call(funded)
    p = submit(funded, call, lines=(("扶手", 200_000), ("安装", 50_000)), own_contribution_fen=10_000,
               proposer_kind="group", proposer_name="1号院老年协会")
    assert p.state == P.SUBMITTED and p.cost_fen == 250_000 and p.proposer == funded.users["resident"]
    assert p.budget_lines == [{"item": "扶手", "amount_fen": 200_000}, {"item": "安装", "amount_fen": 50_000}]
    assert p.proposer_name == "1号院老年协会"
    assert Event.objects.filter(verb="funds.project_submitted", target_id=str(p.pk)).count() == 1


@pytest.mark.parametrize("who", ["nobody", "z_worker", "supervisor"])
def test_who_is_not_of_the_community_cannot_submit(funded, who):
    call = new_call(funded)
    with pytest.raises(PermissionDenied):
        submit(funded, call, who)
    assert Project.objects.count() == 0


def test_a_resident_of_another_courtyard_cannot_submit_to_a_courtyard_call(funded):
    starts, ends = starts_for("submission")
    other = funded.grids[1] if funded.residents[0].grid_id == funded.grids[0].pk else funded.grids[0]
    call = services.call_create(actor=funded.users["admin"], community=funded.community, year=2026, title="2号院",
                                budget_fen=100_000, specs=services.phase_specs(starts), ends_at=ends, grids=[other])
    with pytest.raises(PermissionDenied):
        submit(funded, call, lines=(("x", 1000),))


@pytest.mark.parametrize("bad", [
    {"lines": ()}, {"lines": (("扶手", 0),)}, {"lines": (("", 100),)}, {"lines": (("扶手", 2_000_000),)},
    {"lines": (("扶手", "100"),)}, {"title": ""}, {"place": ""}, {"own_contribution_fen": -1},
    {"proposer_kind": "group", "proposer_name": ""}, {"lines": tuple(("x", 1) for _ in range(21))},
])
def test_bad_projects_are_refused_with_nothing_stored(funded, bad):
    call = new_call(funded)
    with pytest.raises(InvalidInput):
        submit(funded, call, **bad)
    assert Project.objects.count() == 0


def test_a_flood_of_projects_is_stopped(funded):
    call = new_call(funded)
    for i in range(services.MAX_PROJECTS_PER_PROPOSER):
        submit(funded, call, title=f"项目{i}", lines=(("x", 1000),))
    with translation.override("en"), pytest.raises(RateLimited) as e:
        submit(funded, call, title="再来一个", lines=(("x", 1000),))
    assert "most one account may" in str(e.value.message)
    assert Project.objects.count() == services.MAX_PROJECTS_PER_PROPOSER


def test_submission_outside_its_phase_is_refused_in_plain_words(funded):
    call = new_call(funded, key="call")
    with translation.override("en"), pytest.raises(PhaseClosed) as e:
        submit(funded, call)
    assert e.value.status == 403 and "submit a project" in str(e.value.message)
    assert Project.objects.count() == 0


def test_the_proposer_edits_while_submission_is_open_and_not_after(funded):
    call = new_call(funded)
    p = submit(funded, call)
    p = services.project_update(actor=funded.users["resident"], project=p, title="楼道扶手和照明",
                                description="d", place="1号院", beneficiaries="老人",
                                budget_lines=[("扶手", 300_000), ("灯", 20_000)])
    assert p.title == "楼道扶手和照明" and p.cost_fen == 320_000
    with pytest.raises(PermissionDenied):
        services.project_update(actor=funded.users["worker"], project=p, title="x", description="d", place="p",
                                beneficiaries="b", budget_lines=[("x", 1)])
    call = at_phase(call, "review")
    with pytest.raises(PhaseClosed):
        services.project_update(actor=funded.users["resident"], project=p, title="改", description="d",
                                place="p", beneficiaries="b", budget_lines=[("x", 1)])
    assert Project.objects.get(pk=p.pk).title == "楼道扶手和照明"


def test_withdraw_by_the_proposer_only(funded):
    call = new_call(funded)
    p = submit(funded, call)
    with pytest.raises(PermissionDenied):
        services.project_withdraw(actor=funded.users["worker"], project=p)
    p = services.project_withdraw(actor=funded.users["resident"], project=p)
    assert p.state == P.WITHDRAWN
    with pytest.raises(IllegalTransition):
        services.project_withdraw(actor=funded.users["resident"], project=p)


# --- review ---------------------------------------------------------------------------------------------


def test_review_eligible_ineligible_with_reasons_and_cost(funded):
    call = new_call(funded)
    a, b = submit(funded, call), submit(funded, call, title="广场舞音响", lines=(("音响", 80_000),))
    with pytest.raises(PhaseClosed):
        services.project_review(actor=funded.users["worker"], project=a, eligible=True)
    call = at_phase(call, "review")
    with pytest.raises(InvalidInput) as e:
        services.project_review(actor=funded.users["worker"], project=b, eligible=False)
    assert e.value.field == "reason"
    with pytest.raises(InvalidInput):
        services.project_review(actor=funded.users["worker"], project=a, eligible=True, cost_fen=250_000)
    a = services.project_review(actor=funded.users["worker"], project=a, eligible=True, cost_fen=250_000,
                                reason="扶手询价后为2500元")
    assert a.state == P.ELIGIBLE and a.cost_fen == 250_000 and a.reviewed_cost_fen == 250_000
    b = services.project_review(actor=funded.users["worker"], project=b, eligible=False, reason="属于个人活动，不在资助范围")
    assert b.state == P.INELIGIBLE and b.review_reason.startswith("属于")
    # Reviewed again while review lasts.
    b = services.project_review(actor=funded.users["admin"], project=b, eligible=True, reason="复核后可以资助")
    assert b.state == P.ELIGIBLE and b.cost_fen == 80_000
    assert Event.objects.filter(verb="funds.project_reviewed").count() == 3


@pytest.mark.parametrize("who", ["resident", "secretary", "supervisor", "z_worker", "grid1"])
def test_only_the_office_reviews(funded, who):
    call = new_call(funded)
    p = submit(funded, call)
    call = at_phase(call, "review")
    with pytest.raises(PermissionDenied):
        services.project_review(actor=funded.users[who], project=p, eligible=True)
    assert Project.objects.get(pk=p.pk).state == P.SUBMITTED


# --- the vote -------------------------------------------------------------------------------------------


def test_the_vote_offers_the_eligible_projects(funded):
    call, projects = run_to_vote(funded, max_projects=2)
    vote = call.vote
    assert vote.kind == "approval" and vote.state == "open" and vote.phase_key == "vote"
    assert vote.max_choices == 2 and vote.budget_fen is None
    options = list(vote.questions.get().options.order_by("pk"))
    assert [o.ref for o in options] == [f"project:{p.pk}" for p in projects]
    assert [o.cost_fen for o in options] == [p.cost_fen for p in projects]


def test_the_vote_waits_for_every_review_and_its_phase(funded):
    call = new_call(funded)
    submit(funded, call)
    with pytest.raises(PhaseClosed):
        services.vote_prepare(actor=funded.users["admin"], call=call)
    call = at_phase(call, "vote")
    with pytest.raises(InvalidInput) as e:
        services.vote_prepare(actor=funded.users["admin"], call=call)
    assert e.value.code == "not_reviewed" and Vote.objects.count() == 0


def test_an_approval_ballot_over_the_most_projects_is_refused(funded):
    call, projects = run_to_vote(funded, max_projects=2)
    resident = funded.residents[0]
    with pytest.raises(InvalidInput):
        cast(vote=call.vote, resident=resident, choices=ballot_for(call.vote, *[p.pk for p in projects]),
             actor=funded.users["resident"])
    assert Ballot.objects.count() == 0


def test_a_knapsack_ballot_over_the_budget_or_under_its_share_is_refused(funded):
    call, (a, b, c) = run_to_vote(funded, ballot_kind="knapsack", min_budget_share_percent=50)
    vote = call.vote
    assert vote.budget_fen == call.budget_fen and vote.min_budget_share_percent == 50
    resident = funded.residents[0]
    with pytest.raises(InvalidInput):  # 400k + 300k + 500k > 1,000k
        cast(vote=vote, resident=resident, choices=ballot_for(vote, a.pk, b.pk, c.pk), actor=funded.users["resident"])
    with pytest.raises(InvalidInput):  # 300k < half of the budget
        cast(vote=vote, resident=resident, choices=ballot_for(vote, b.pk), actor=funded.users["resident"])
    assert Ballot.objects.count() == 0
    cast(vote=vote, resident=resident, choices=ballot_for(vote, a.pk, c.pk), actor=funded.users["resident"])
    assert Ballot.objects.count() == 1


# --- selection, override, publication -------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["greedy", "equal-shares"])
def test_selection_by_the_rule_is_stored_hashed_and_published(funded, key, rule):
    call, (a, b, c) = run_to_vote(funded, rule=rule)
    cast_many(funded, call, [[a, b], [a], [c], [a, c], [b]])
    call = at_phase(call, "selection")
    call = services.select(actor=funded.users["admin"], call=call)
    instance, approvals, min_votes, r = selectors.call_instance(call)
    expected = selection.select(rule, instance, approvals, min_votes=min_votes)
    assert call.selected == call.computed == expected and call.state == "selected"
    assert call.result_sha256 == services.result_hash(call, expected)
    entry = Entry.objects.get(community=funded.community, log_index=call.log_index)
    assert entry.section == "finance" and call.result_sha256 in entry.body
    states = {p.pk: Project.objects.get(pk=p.pk).state for p in (a, b, c)}
    assert {pid for pid, s in states.items() if s == P.SELECTED} == {int(x) for x in expected}
    assert Project.objects.get(pk=a.pk).votes == 3
    assert Vote.objects.get(pk=call.vote_id).state == "published"
    assert services.recompute(call)[0]


def test_greedy_with_a_least_vote_threshold(funded, key):
    call, (a, b, c) = run_to_vote(funded, min_votes=2)
    cast_many(funded, call, [[a, b], [a], [c]])
    call = services.select(actor=funded.users["admin"], call=at_phase(call, "selection"))
    assert call.selected == [str(a.pk)]  # b and c have one vote each, under the threshold


def test_selection_only_once_by_an_admin_in_its_phase(funded, key):
    call, (a, b, c) = run_to_vote(funded)
    cast_many(funded, call, [[a]])
    with pytest.raises(PhaseClosed):
        services.select(actor=funded.users["admin"], call=call)
    call = at_phase(call, "selection")
    with pytest.raises(PermissionDenied):
        services.select(actor=funded.users["worker"], call=call)
    call = services.select(actor=funded.users["admin"], call=call)
    with pytest.raises(InvalidInput):
        services.select(actor=funded.users["admin"], call=call)


def test_an_override_needs_a_reason_and_is_published(funded, key):
    call, (a, b, c) = run_to_vote(funded)
    cast_many(funded, call, [[a, b], [a], [b]])
    call = services.select(actor=funded.users["admin"], call=at_phase(call, "selection"))
    assert set(call.selected) == {str(a.pk), str(b.pk)}
    digest, entries = call.result_sha256, Entry.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput) as e:
        services.override(actor=funded.users["admin"], call=call, selected=[a.pk, c.pk], reason="  ")
    assert e.value.field == "reason" and "reason" in str(e.value.message)
    with pytest.raises(InvalidInput):  # over the budget
        services.override(actor=funded.users["admin"], call=call, selected=[a.pk, b.pk, c.pk], reason="r")
    with pytest.raises(PermissionDenied):
        services.override(actor=funded.users["worker"], call=call, selected=[a.pk, c.pk], reason="r")
    call.refresh_from_db()
    assert set(call.selected) == {str(a.pk), str(b.pk)} and Entry.objects.count() == entries
    call = services.override(actor=funded.users["admin"], call=call, selected=[a.pk, c.pk],
                             reason="2号项目已由物业公司出资完成")
    assert call.selected == [str(a.pk), str(c.pk)] and call.result_sha256 == digest
    assert Project.objects.get(pk=b.pk).state == P.NOT_SELECTED and Project.objects.get(pk=c.pk).state == P.SELECTED
    entry = Entry.objects.get(community=funded.community, log_index=call.override_log_index)
    assert "物业公司出资" in entry.body
    assert services.recompute(call)[0]  # the rule's result stands as published


# --- implementation, acceptance, report -----------------------------------------------------------------


def selected_call(world):
    call, (a, b, c) = run_to_vote(world)
    cast_many(world, call, [[a, b], [a], [b]])
    call = services.select(actor=world.users["admin"], call=at_phase(call, "selection"))
    return call, Project.objects.get(pk=a.pk)


def test_implementation_opens_the_account_books_spending_and_records_milestones(funded, key, media):
    call, p = selected_call(funded)
    with pytest.raises(PhaseClosed):
        services.project_start(actor=funded.users["worker"], project=p)
    call = at_phase(call, "implementation")
    p = services.project_start(actor=funded.users["worker"], project=p)
    assert p.state == P.IMPLEMENTING and p.account.code.startswith("3102.") and p.account.parent.code == "3102"
    voucher = services.spending_record(actor=funded.users["worker"], project=p, date=timezone.localdate(),
                                       summary="扶手材料款", amount_fen=120_000)
    assert voucher.status == "draft" and {(ln.account.code, ln.debit, ln.credit) for ln in voucher.lines.all()} == {
        (p.account.code, 120_000, 0), ("1002", 0, 120_000)}
    assert selectors.project_money(p).pending == 120_000
    books.voucher_submit(actor=funded.users["worker"], voucher=voucher)
    books.voucher_approve(actor=funded.users["admin"], voucher=Voucher.objects.get(pk=voucher.pk))
    money = selectors.project_money(p)
    assert (money.spent, money.pending) == (120_000, 0)
    m = services.milestone_record(actor=funded.users["worker"], project=p, title="材料到位",
                                  date=timezone.localdate(), progress=40, photos=[png()])
    assert Project.objects.get(pk=p.pk).progress == 40 and m.photos.count() == 1
    with pytest.raises(InvalidInput):
        services.milestone_record(actor=funded.users["worker"], project=p, title="x", date=timezone.localdate(),
                                  progress=140)
    with pytest.raises(InvalidInput):
        services.spending_record(actor=funded.users["worker"], project=p, date=timezone.localdate(), summary="x",
                                 amount_fen=0)
    with pytest.raises(PermissionDenied):
        services.milestone_record(actor=funded.users["resident"], project=p, title="x", date=timezone.localdate(),
                                  progress=50)
    assert Milestone.objects.count() == 1


def panel(world, n, *, agree=True):
    return [(r, agree) for r in world.residents[1:1 + n]]


def test_acceptance_by_a_panel_of_at_least_three_residents(funded, key, media):
    call, p = selected_call(funded)
    call = at_phase(call, "implementation")
    p = services.project_start(actor=funded.users["worker"], project=p)
    call = at_phase(call, "acceptance")
    today = timezone.localdate()
    with translation.override("en"), pytest.raises(InvalidInput) as e:
        services.acceptance_record(actor=funded.users["worker"], project=p, panel=panel(funded, 2), note="n",
                                   date=today)
    assert "at least 3" in str(e.value.message)
    with pytest.raises(InvalidInput):  # the proposer may not sit on the panel
        services.acceptance_record(actor=funded.users["worker"], project=p, note="n", date=today,
                                   panel=[(funded.residents[0], True)] + panel(funded, 3))
    with pytest.raises(InvalidInput):  # another community's resident
        services.acceptance_record(actor=funded.users["worker"], project=p, note="n", date=today,
                                   panel=[(funded.other_resident, True)] + panel(funded, 3))
    assert Acceptance.objects.count() == 0
    failed = services.acceptance_record(actor=funded.users["worker"], project=p, note="扶手松动", date=today,
                                        panel=panel(funded, 2) + [(r, False) for r in funded.residents[3:5]])
    assert not failed.passed and Project.objects.get(pk=p.pk).state == P.IMPLEMENTING
    ok = services.acceptance_record(actor=funded.users["worker"], project=p, note="整改后验收合格", date=today,
                                    panel=panel(funded, 3))
    assert ok.passed and ok.members.count() == 3
    p.refresh_from_db()
    assert p.state == P.ACCEPTED and p.progress == 100
    call = at_phase(call, "report")
    with pytest.raises(PermissionDenied):
        services.report_publish(actor=funded.users["worker"], call=call)
    call = services.report_publish(actor=funded.users["admin"], call=call)
    assert call.state == "reported"
    entry = Entry.objects.get(community=funded.community, log_index=call.report_log_index)
    assert entry.section == "finance" and f"#{p.pk}" in entry.body
    assert selectors.latest_closed_call(funded.community) == call
    with pytest.raises(InvalidInput):
        services.report_publish(actor=funded.users["admin"], call=call)


# --- recompute, payload, import --------------------------------------------------------------------------


def test_recompute_finds_a_changed_result(funded, key):
    call, p = selected_call(funded)
    assert services.recompute(call)[0]
    Call.objects.filter(pk=call.pk).update(result_sha256="0" * 64)
    ok, message = services.recompute(Call.objects.get(pk=call.pk))
    assert not ok and "0" * 64 in message


def test_pabulib_payload_and_import_round_trip(funded, key):
    call, p = selected_call(funded)
    meta, projects, votes = selectors.pabulib_payload(call)
    assert meta["rule"] == call.rule and meta["budget"] == str(call.budget_fen) and meta["vote_type"] == "approval"
    assert int(meta["num_votes"]) == len(votes) == 3 and int(meta["num_projects"]) == len(projects) == 3
    assert {row["project_id"] for row in projects} == {str(x.pk) for x in call.projects.all()}
    imported = services.import_pabulib(community=funded.community, meta=meta, projects=projects, votes=votes)
    assert imported.imported and imported.state == "selected" and imported.process.kind == "fund"
    assert phases.current(imported.process) is None
    by_title = {x.title: str(x.pk) for x in imported.projects.all()}
    original = {x.title: str(x.pk) for x in call.projects.all()}
    assert sorted(by_title[t] for t in (x for x, pid in original.items() if pid in call.selected)) == \
        sorted(imported.selected)
    assert services.recompute(imported)[0]
    assert Event.objects.filter(verb="funds.call_imported").count() == 1


@pytest.mark.parametrize("bad", [
    {"meta": {"rule": "lottery", "budget": "100"}}, {"meta": {"rule": "greedy", "budget": "x"}},
    {"meta": {"rule": "greedy", "budget": "100", "vote_type": "ordinal"}},
    {"projects": [{"project_id": "1", "cost": "-5"}]}, {"projects": [{"project_id": "1", "cost": "1"}] * 2},
    {"votes": [{"voter_id": "1", "vote": "1,9"}]},
])
def test_a_bad_pabulib_file_changes_nothing(funded, bad):
    args = {"meta": {"rule": "greedy", "budget": "100", "vote_type": "approval"},
            "projects": [{"project_id": "1", "cost": "60"}, {"project_id": "2", "cost": "50"}],
            "votes": [{"voter_id": "1", "vote": "1,2"}]}
    args.update(bad)
    with pytest.raises(InvalidInput):
        services.import_pabulib(community=funded.community, **args)
    assert Call.objects.count() == 0 and Project.objects.count() == 0


def test_numbers_in_a_title_are_masked_on_the_log_and_the_public_pages(funded, key):
    from django.test import Client
    from django.urls import reverse

    call = new_call(funded)
    p = submit(funded, call, title="扶手 联系13812345678", lines=(("扶手", 100_000),))
    q = submit(funded, call, "worker", title="不合格项目", lines=(("x", 1000),))
    call = at_phase(call, "review")
    services.project_review(actor=funded.users["worker"], project=p, eligible=True)
    services.project_review(actor=funded.users["worker"], project=q, eligible=False, reason="重复申报")
    call = at_phase(call, "vote")
    vote = services.vote_prepare(actor=funded.users["admin"], call=call)
    assert [o.ref for o in vote.questions.get().options.all()] == [f"project:{p.pk}"]  # the ineligible is not on it
    call.refresh_from_db()
    cast_many(funded, call, [[p]])
    call = services.select(actor=funded.users["admin"], call=at_phase(call, "selection"))
    body = Entry.objects.get(community=funded.community, log_index=call.log_index).body
    assert "13812345678" not in body and "138****5678" in body
    page = Client().get(reverse("funds:call", args=["Y", call.pk])).content.decode()
    assert "13812345678" not in page and "138****5678" in page
    assert "不合格项目" not in page and "重复申报" not in page
