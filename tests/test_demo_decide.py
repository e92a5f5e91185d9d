"""The demo's year of residents deciding (linli.demo.decide): 一月一议, the fund's call, 民主评议.

A small demo (300 households, its history) is seeded once with a signing key in a temporary
data dir; the checks below read what the services wrote.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone, translation

from linli.community.models import Community, Household, Resident
from linli.deliberation.models import Comment, Decision, Evaluation as DecisionEvaluation, Meeting, Proposal, Round
from linli.demo import community as demo
from linli.demo.community import FLOOR_AREAS, plan_demo, plan_tenure
from linli.disclosure.selectors import verify as board_verify
from linli.evaluation import selectors as eval_selectors
from linli.evaluation.models import Evaluation
from linli.funds import services as funds
from linli.funds.models import Call, Project
from linli.insight.models import HotIssue
from linli.transparency import selectors as log_selectors
from linli.transparency.models import Checkpoint, Cosignature
from linli.transparency.verify import verify_log
from linli.voting import paper, results
from linli.voting.models import Ballot, Participation, Vote


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def seeded(db, tmp_path, settings):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "disclosure-signing.key")
    out = io.StringIO()
    call_command("seed_demo", "--households", "300", "--seed", "11", stdout=out, stderr=io.StringIO())
    return Community.objects.get(code=demo.COMMUNITY_CODE), out.getvalue()


def test_tenure_is_deterministic_and_plausible():
    plan = plan_demo(seed=5, households=400)
    tenure = plan_tenure(plan)
    assert tenure == plan_tenure(plan_demo(seed=5, households=400))
    assert tenure != plan_tenure(plan_demo(seed=6, households=400))
    for h, (area, owned) in zip(plan.households, tenure):
        lo, hi = FLOOR_AREAS[plan.buildings[h.building].style]
        assert area is None or Decimal(lo) <= area <= Decimal(hi)
        if h.kind == "shared_rental":
            assert not owned
    owned = sum(1 for _a, o in tenure if o)
    assert 0.6 * len(tenure) < owned < 0.95 * len(tenure)   # most own, some rent


def test_a_year_of_residents_deciding(seeded):
    community, out = seeded

    # The registry knows floor areas and owners: heads and spouses of most households.
    households = Household.objects.filter(community=community)
    assert households.filter(floor_area__isnull=False).count() > 0.9 * households.count()
    owners = Resident.objects.filter(community=community, is_owner=True)
    assert owners.exists() and not owners.exclude(relation__in=("head", "spouse")).exists()
    assert Resident.objects.filter(community=community, relation="head", is_owner=False).exists()

    # 一月一议: twelve months; the past ones with 3+ proposals, a closed meeting and decisions.
    rounds = list(Round.objects.filter(community=community).order_by("year", "month"))
    assert len(rounds) == 12
    for rnd in rounds[:-1]:
        assert rnd.proposals.count() >= 3
        meeting = Meeting.objects.get(round=rnd)
        assert meeting.state == Meeting.State.CLOSED and meeting.log_index is not None
        assert meeting.attendance_count >= 3 and meeting.report
    assert Meeting.objects.get(round=rounds[-1]).state == Meeting.State.PLANNED
    proposals = Proposal.objects.filter(community=community)
    assert proposals.filter(source="staff").exists()
    topic_moment = rounds[-1].process.phases.first().starts_at + dt.timedelta(days=3, hours=11)
    if (topic_moment < timezone.now() - dt.timedelta(hours=1)
            and HotIssue.objects.filter(community=community, first_at__lt=topic_moment).exists()):
        assert proposals.filter(source="hotissue").exists()
    assert proposals.filter(state="declined").exclude(state_reason="").exists()
    reached = [p for p in proposals.select_related("round") if p.support_count >= p.round.support_threshold]
    assert reached and len(reached) < proposals.count()
    hidden = Comment.objects.filter(proposal__community=community, state="hidden")
    assert hidden.exists() and all(c.hidden_reason for c in hidden)
    decisions = Decision.objects.filter(community=community)
    states = dict(decisions.values_list("state").annotate(n=Count("pk")))
    assert states.get("done", 0) >= 3 and states.get("executing", 0) >= 1, states
    assert all(d.log_index is not None for d in decisions)
    assert DecisionEvaluation.objects.filter(decision__community=community).exists()
    assert decisions.filter(summary_log_index__isnull=False).exists()

    # The fund: ~15 projects, some not eligible with reasons, 300+ ballots by every channel.
    call = Call.objects.get(community=community)
    projects = Project.objects.filter(call=call)
    assert projects.count() == 15
    ineligible = projects.filter(state="ineligible")
    assert ineligible.count() == 3 and all(p.review_reason for p in ineligible)
    assert projects.filter(state="implementing").count() == 2
    vote = call.vote
    assert vote.state == Vote.State.PUBLISHED and vote.log_index is not None
    ballots = Ballot.objects.filter(vote=vote)
    assert ballots.count() >= 300
    participations = Participation.objects.filter(vote=vote)
    assert set(participations.values_list("channel", flat=True)) == {"web", "booth", "proxy", "paper"}
    # One person, one vote: one participation per voter key, never more ballots than voters.
    assert participations.values("voter_key").distinct().count() == participations.count()
    assert ballots.count() <= participations.count()
    assert paper.is_reconciled(vote)
    # The selection is the rule's, as `linli funds result` and `recompute` find it again.
    out_json = io.StringIO()
    call_command("funds", "result", "--community", community.code, "--json", stdout=out_json)
    printed = json.loads(out_json.getvalue())
    assert printed == {"call": call.pk, "rule": call.rule, "selected": call.selected}
    assert funds.recompute(call)[0]
    assert set(projects.filter(state__in=("selected", "implementing")).values_list("pk", flat=True)) == {
        int(pk) for pk in call.selected}
    # The two started projects have their money in the books.
    for p in projects.filter(state="implementing"):
        assert p.account_id is not None and p.milestones.exists()

    # Last year's 民主评议: households' ballots, responses under 80 %, published.
    ev = Evaluation.objects.get(community=community)
    assert ev.state == "published" and ev.results_log_index is not None
    assert ev.vote.state == Vote.State.PUBLISHED
    assert Ballot.objects.filter(vote=ev.vote).count() >= 20
    keys = Participation.objects.filter(vote=ev.vote).values_list("voter_key", flat=True)
    assert all(k.startswith("h:") for k in keys) and len(set(keys)) == len(keys)
    assert not eval_selectors.missing_responses(ev)
    assert results.check_receipt(ev.vote, "NOT-A-REAL-CODE") is False

    # The log verifies, its checkpoints signed in time order, the latest witnessed.
    report = verify_log(community)
    assert report.ok, report.message
    assert board_verify(community).ok
    signed = list(Checkpoint.objects.filter(log__community=community).order_by("size")
                  .values_list("signed_at", flat=True))
    assert all(a < b for a, b in zip(signed, signed[1:]))
    assert Cosignature.objects.filter(checkpoint=log_selectors.latest_checkpoint(community)).exists()

    assert "Monthly deliberation: 12 months" in out and "Democratic evaluation" in out
    assert "Community fund: call" in out
