"""一月一议 through its services: each move, each role, each bad input (nothing changes)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone, translation
from PIL import Image

from linli.community.models import Resident
from linli.core.errors import InvalidInput, NotFound, PermissionDenied
from linli.core.models import Event
from linli.core.workflow import IllegalTransition
from linli.deliberation import jobs, links, rules, services
from linli.deliberation.models import (
    Attendance, Comment, Decision, Evaluation, Meeting, Proposal, Support, Task, Update, UpdatePhoto,
)
from linli.disclosure.models import Entry
from linli.transparency import keys
from linli.voting import phases
from linli.voting.phases import PhaseClosed, PhaseSpec

KEYS = ("proposals", "council", "execution", "evaluation")


@pytest.fixture
def key(settings, tmp_path):
    settings.LINLI_DISCLOSURE_KEY_FILE = str(tmp_path / "signing.key")
    settings.LINLI_DISCLOSURE_FILES_DIR = str(tmp_path / "files")
    keys.keygen("board.example.org", tmp_path / "signing.key")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def at_phase(rnd, key: str) -> None:
    """Lay the round's phases out so that ``key`` runs now (started an hour ago)."""
    k = KEYS.index(key)
    now = timezone.now()
    specs = [PhaseSpec(name, name.title(), now + dt.timedelta(days=i - k, hours=-1)) for i, name in enumerate(KEYS)]
    phases.set_phases(actor=None, process=rnd.process, specs=specs, ends_at=specs[-1].starts_at + dt.timedelta(days=1))
    rnd.process.refresh_from_db()
    if hasattr(rnd.process, "_prefetched_objects_cache"):
        rnd.process._prefetched_objects_cache = {}


def make_round(world, *, threshold=2, phase="proposals", who="worker"):
    today = timezone.localdate()
    rnd = services.round_create(actor=world.users[who], community=world.community, year=today.year,
                                month=today.month, support_threshold=threshold)
    at_phase(rnd, phase)
    return rnd


def resident_user(world, index: int):
    """Give the world's resident ``index`` an account (resident 0 has one already)."""
    resident = world.residents[index]
    if resident.user_id is None:
        from factories import _user

        resident.user = _user(f"res{index}")
        resident.save(update_fields=["user"])
    return resident.user


def counts():
    return (Proposal.objects.count(), Support.objects.count(), Comment.objects.count(), Decision.objects.count(),
            Attendance.objects.count(), Task.objects.count(), Update.objects.count(), Evaluation.objects.count(),
            Event.objects.count())


# --- a month ------------------------------------------------------------------------------------


def test_round_create_makes_a_process_with_four_phases_and_a_meeting(world):
    rnd = services.round_create(actor=world.users["worker"], community=world.community, year=2026, month=3)
    assert rnd.process.kind == "deliberation"
    assert [p.key for p in rnd.process.phases.all()] == list(KEYS)
    assert Meeting.objects.get(round=rnd).state == "planned"
    assert Event.objects.filter(verb="deliberation.round_created", target_id=str(rnd.pk)).count() == 1
    with pytest.raises(InvalidInput):
        services.round_create(actor=world.users["worker"], community=world.community, year=2026, month=3)


@pytest.mark.parametrize("who", ["secretary", "grid1", "supervisor", "resident", "z_worker", "unit_staff"])
def test_only_the_office_opens_a_month(world, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        services.round_create(actor=world.users[who], community=world.community, year=2026, month=4)
    assert counts() == before


# --- proposals and support ----------------------------------------------------------------------


def test_propose_support_threshold_puts_on_agenda(world):
    rnd = make_round(world, threshold=2)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Repair the bench",
                                body="The bench by the gate is broken. Call 13912345678.", place="1号院")
    assert proposal.state == "open" and proposal.source == "resident"
    assert "13912345678" not in proposal.body  # scrubbed
    services.support(actor=world.users["resident"], proposal=proposal)
    proposal = services.support(actor=resident_user(world, 2), proposal=proposal)
    assert proposal.state == "agenda" and proposal.support_count == 2 and proposal.agenda_at
    assert Event.objects.filter(verb="deliberation_proposal.threshold_reached",
                                target_id=str(proposal.pk)).count() == 1
    assert Event.objects.filter(verb="deliberation.proposal_supported").count() == 2


def test_second_support_is_refused_and_changes_nothing(world):
    rnd = make_round(world, threshold=5)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Lights", body="More lights")
    services.support(actor=world.users["resident"], proposal=proposal)
    before = counts()
    with pytest.raises(InvalidInput) as exc:
        services.support(actor=world.users["resident"], proposal=proposal)
    assert exc.value.code == "already_supported"
    assert counts() == before
    proposal.refresh_from_db()
    assert proposal.support_count == 1


def test_proposal_flood_is_limited_per_resident_per_day(world):
    rnd = make_round(world)
    for i in range(services.PROPOSALS_PER_DAY):
        services.propose(actor=world.users["resident"], round=rnd, title=f"Topic {i}", body="Text")
    before = counts()
    with pytest.raises(services.TooManyProposals) as exc:
        services.propose(actor=world.users["resident"], round=rnd, title="One more", body="Text")
    assert exc.value.code == "too_many_proposals" and "24 hours" in str(exc.value)
    assert exc.value.status == 429 and 0 < exc.value.retry_after <= 24 * 3600
    assert counts() == before
    # Another resident is not affected; a day later the first may propose again.
    services.propose(actor=resident_user(world, 2), round=rnd, title="Mine", body="Text")
    Proposal.objects.filter(proposer_resident=world.residents[0]).update(
        created_at=timezone.now() - dt.timedelta(hours=25))
    services.propose(actor=world.users["resident"], round=rnd, title="Next day", body="Text")


@pytest.mark.parametrize("phase", ["council", "execution", "evaluation"])
def test_proposing_and_supporting_outside_their_phase_are_refused(world, phase):
    rnd = make_round(world, phase="proposals")
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix it")
    at_phase(rnd, phase)
    proposal = Proposal.objects.get(pk=proposal.pk)
    before = counts()
    with pytest.raises(PhaseClosed) as exc:
        services.propose(actor=world.users["resident"], round=rnd, title="Late", body="Text")
    assert exc.value.status == 403 and "Proposals" in str(exc.value)
    with pytest.raises(PhaseClosed):
        services.support(actor=world.users["resident"], proposal=proposal)
    assert counts() == before


def test_outsiders_cannot_propose_or_support(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix it")
    from factories import _user

    other = world.other_resident
    other.user = _user("zres")
    other.save(update_fields=["user"])
    before = counts()
    for user in (world.users["worker"], world.users["nobody"], other.user):
        with pytest.raises(PermissionDenied):
            services.propose(actor=user, round=rnd, title="X", body="Y")
        with pytest.raises(PermissionDenied):
            services.support(actor=user, proposal=proposal)
    assert counts() == before


def test_a_courtyard_process_admits_only_its_residents(world):
    today = timezone.localdate()
    rnd = services.round_create(actor=world.users["worker"], community=world.community, year=today.year,
                                month=today.month, grids=[world.grids[1]])
    at_phase(rnd, "proposals")
    with pytest.raises(PermissionDenied):  # resident 0 lives in G01
        services.propose(actor=world.users["resident"], round=rnd, title="X", body="Y")
    g2 = next(i for i, r in enumerate(world.residents) if r.grid_id == world.grids[1].pk)
    assert services.propose(actor=resident_user(world, g2), round=rnd, title="X", body="Y").pk


def test_topics_from_staff_case_and_hot_issue(world):
    rnd = make_round(world)
    topic = services.topic_create(actor=world.users["worker"], round=rnd, title="Parking", body="Rules for parking")
    assert topic.source == "staff"
    with pytest.raises(PermissionDenied):
        services.topic_create(actor=world.users["resident"], round=rnd, title="X", body="Y")
    with pytest.raises(InvalidInput):
        services.topic_from_case(actor=world.users["worker"], round=rnd, number="NOPE-1")
    with pytest.raises(NotFound):
        services.topic_from_hotissue(actor=world.users["worker"], round=rnd, hotissue_id=999999)


def test_topic_from_a_case_and_a_hot_issue_with_real_rows(world):
    from linli.cases import services as case_services
    from linli.insight.models import HotIssue, HotIssueMember

    rnd = make_round(world)
    case, _created = case_services.case_submit(actor=world.users["worker"], intake=case_services.Intake(
        community=world.community, channel="phone", description="Street lamp out at the north gate again",
        reporter=world.residents[0], place="grid", grid=world.grids[0]))
    topic = services.topic_from_case(actor=world.users["worker"], round=rnd, number=case.number)
    assert topic.source == "case" and topic.source_ref == f"case:{case.number}"
    now = timezone.now()
    issue = HotIssue.objects.create(community=world.community, title="Lamp out", place="1号院", first_at=now,
                                    last_at=now, heat=3.0)
    HotIssueMember.objects.create(hot_issue=issue, case=case)
    actions = links.hotissue_actions(world.users["worker"], issue)
    assert actions and f"/hotissue/{issue.pk}" in actions[0][1]
    assert links.hotissue_actions(world.users["secretary"], issue) == []
    topic = services.topic_from_hotissue(actor=world.users["worker"], round=rnd, hotissue_id=issue.pk)
    assert topic.source == "hotissue" and topic.title == "Lamp out"


# --- discussion ---------------------------------------------------------------------------------


def test_comment_and_moderation_with_reason(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix it")
    item = services.comment(actor=resident_user(world, 2), proposal=proposal, body="Yes! ID 510106194301010010")
    assert "510106194301010010" not in item.body
    with pytest.raises(PermissionDenied):
        services.hide_comment(actor=world.users["resident"], comment=item, reason="rude")
    with pytest.raises(InvalidInput):
        services.hide_comment(actor=world.users["worker"], comment=item, reason="  ")
    item = services.hide_comment(actor=world.users["worker"], comment=item, reason="Personal attack")
    assert item.state == "hidden" and item.hidden_reason == "Personal attack"
    event = Event.objects.get(verb="deliberation_comment.hidden")
    assert event.data["reason"] == "moderated"
    with pytest.raises(IllegalTransition):
        services.hide_comment(actor=world.users["worker"], comment=item, reason="again")
    from linli.deliberation import selectors

    assert selectors.comments_for(proposal, world.users["resident"]) == []
    assert selectors.comments_for(proposal, world.residents[2].user) == [item]  # its author sees it, and why


def test_commenting_outside_its_phases_is_refused(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Bench", body="Fix it")
    at_phase(rnd, "execution")
    with pytest.raises(PhaseClosed):
        services.comment(actor=world.users["resident"], proposal=Proposal.objects.get(pk=proposal.pk), body="Hi")


def test_decline_shows_the_reason(world):
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Pool", body="Build a pool")
    with pytest.raises(PermissionDenied):
        services.decline(actor=world.users["supervisor"], proposal=proposal, reason="No")
    proposal = services.decline(actor=world.users["worker"], proposal=proposal, reason="Not the community's to decide")
    assert proposal.state == "declined" and proposal.state_reason


# --- the meeting --------------------------------------------------------------------------------


def agenda_round(world, n=2):
    rnd = make_round(world, threshold=50)
    props = [services.topic_create(actor=world.users["worker"], round=rnd, title=f"Topic {i}", body="Body")
             for i in range(n)]
    props = [services.put_on_agenda(actor=world.users["worker"], proposal=p) for p in props]
    at_phase(rnd, "council")
    return rnd, props


def test_qr_sign_in_and_staff_attendance(world):
    rnd, props = agenda_round(world)
    meeting = Meeting.objects.get(round=rnd)
    token = services.sign_in_token(meeting)
    row = services.attend_by_token(actor=world.users["admin"], meeting=meeting, token=token)
    assert row.role == "member" and row.via == "qr"
    row = services.attend_by_token(actor=world.users["resident"], meeting=meeting, token=token)
    assert row.role == "representative" and row.resident_id == world.residents[0].pk
    with pytest.raises(InvalidInput) as exc:
        services.attend_by_token(actor=world.users["resident"], meeting=meeting, token=token)
    assert exc.value.code == "already_attending"
    with pytest.raises(InvalidInput):
        services.attend_by_token(actor=world.users["worker"], meeting=meeting, token=token + "x")
    with pytest.raises(PermissionDenied):
        services.attend_by_token(actor=world.users["nobody"], meeting=meeting, token=token)
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="representative",
                             resident=world.residents[3])
    with pytest.raises(PermissionDenied):
        services.attend_by_staff(actor=world.users["resident"], meeting=meeting, role="member",
                                 user=world.users["worker"])
    assert meeting.attendance.count() == 3


def test_expired_sign_in_token_is_refused(world, settings):
    rnd, props = agenda_round(world)
    meeting = Meeting.objects.get(round=rnd)
    token = services.sign_in_token(meeting)
    from django.core import signing

    real = signing.TimestampSigner.unsign

    def late(self, value, max_age=None):
        return real(self, value, max_age=-1)

    signing.TimestampSigner.unsign = late
    try:
        with pytest.raises(InvalidInput) as exc:
            services.attend_by_token(actor=world.users["admin"], meeting=meeting, token=token)
    finally:
        signing.TimestampSigner.unsign = real
    assert exc.value.code == "token_expired"


def test_closing_needs_minutes_and_attendance(world, key):
    rnd, props = agenda_round(world)
    meeting = Meeting.objects.get(round=rnd)
    before = counts()
    with pytest.raises(InvalidInput) as exc:
        services.meeting_close(actor=world.users["worker"], meeting=meeting, report="  ")
    assert exc.value.field == "report" and "minutes" in str(exc.value)
    with pytest.raises(InvalidInput) as exc:
        services.meeting_close(actor=world.users["worker"], meeting=meeting, report="We met.")
    assert exc.value.code == "no_attendance"
    assert counts() == before
    assert Meeting.objects.get(pk=meeting.pk).state == "planned"


def closed_meeting(world, rnd, props):
    meeting = Meeting.objects.get(round=rnd)
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="member", user=world.users["admin"])
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="representative",
                             resident=world.residents[1])
    d = services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=props[0],
                               text="Repair it by next month", votes_for=7, votes_against=1, votes_abstain=1)
    name = world.residents[1].name.reveal()
    report = f"The council met. {name} spoke for courtyard 1, phone 13912345678."
    meeting = services.meeting_close(actor=world.users["worker"], meeting=meeting, report=report)
    return meeting, Decision.objects.get(pk=d.pk), name


def test_close_publishes_minutes_and_decisions_and_moves_the_agenda(world, key):
    rnd, props = agenda_round(world, n=2)
    meeting, decision, name = closed_meeting(world, rnd, props)
    assert meeting.state == "closed" and meeting.attendance_count == 2 and meeting.log_index is not None
    assert decision.state == "adopted" and decision.log_index is not None
    assert Proposal.objects.get(pk=props[0].pk).state == "decided"
    assert Proposal.objects.get(pk=props[1].pk).state == "deferred"
    minutes = Entry.objects.get(log_index=meeting.log_index, community=world.community)
    assert minutes.section == "residential" and minutes.state == "published"
    assert name not in minutes.body and "13912345678" not in minutes.body
    assert "for 7, against 1, abstained 1" in minutes.body
    assert Entry.objects.filter(log_index=decision.log_index, community=world.community).exists()
    assert Event.objects.filter(verb="deliberation_decision.adopted").count() == 1
    assert Event.objects.filter(verb="deliberation_proposal.deferred").count() == 1
    assert Event.objects.filter(verb="deliberation_meeting.closed").count() == 1


def test_a_decision_without_a_majority_is_rejected(world, key):
    rnd, props = agenda_round(world, n=1)
    meeting = Meeting.objects.get(round=rnd)
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="member", user=world.users["admin"])
    d = services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=props[0], text="Do it",
                               votes_for=3, votes_against=2, votes_abstain=1)
    services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Minutes")
    assert Decision.objects.get(pk=d.pk).state == "rejected"


def test_no_edits_after_the_meeting_closed(world, key):
    rnd, props = agenda_round(world, n=2)
    meeting, decision, _name = closed_meeting(world, rnd, props)
    before = counts()
    with pytest.raises(InvalidInput) as exc:
        services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=props[0], text="Other",
                               votes_for=1, votes_against=0, votes_abstain=0)
    assert exc.value.code == "meeting_closed"
    with pytest.raises(InvalidInput):
        services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="member",
                                 user=world.users["worker"])
    with pytest.raises(InvalidInput):
        services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Again")
    assert counts() == before
    assert Decision.objects.get(pk=decision.pk).text == "Repair it by next month"


def test_decisions_only_for_agenda_proposals_and_typed_counts(world):
    rnd = make_round(world, threshold=50)
    open_one = services.topic_create(actor=world.users["worker"], round=rnd, title="Open", body="B")
    at_phase(rnd, "council")
    meeting = Meeting.objects.get(round=rnd)
    with pytest.raises(InvalidInput):
        services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=open_one, text="X",
                               votes_for=1, votes_against=0, votes_abstain=0)
    with pytest.raises(InvalidInput):
        services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=open_one, text="X",
                               votes_for=0, votes_against=0, votes_abstain=0)


def test_the_meeting_writes_only_in_the_council_phase(world, key):
    rnd, props = agenda_round(world)
    at_phase(rnd, "execution")
    meeting = Meeting.objects.get(round=rnd)
    with pytest.raises(PhaseClosed):
        services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=props[0], text="X",
                               votes_for=1, votes_against=0, votes_abstain=0)
    with pytest.raises(PhaseClosed):
        services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Minutes")


# --- execution and evaluation -------------------------------------------------------------------


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def executing(world, *, weighted=False):
    rnd, props = agenda_round(world, n=1)
    meeting = Meeting.objects.get(round=rnd)
    services.attend_by_staff(actor=world.users["worker"], meeting=meeting, role="member", user=world.users["admin"])
    services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=props[0], text="Fix it",
                           votes_for=5, votes_against=0, votes_abstain=0, weighted=weighted)
    services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Minutes")
    at_phase(rnd, "execution")
    return rnd, Decision.objects.get(proposal=props[0])


def test_tasks_progress_photos_rollup_and_done(world, key):
    rnd, decision = executing(world, weighted=True)
    due = timezone.localdate() + dt.timedelta(days=10)
    t1 = services.task_add(actor=world.users["worker"], decision=decision, title="Buy", owner="Property company",
                           due_date=due, weight=1)
    assert Decision.objects.get(pk=decision.pk).state == "executing"
    assert Event.objects.filter(verb="deliberation_decision.started").count() == 1
    t2 = services.task_add(actor=world.users["worker"], decision=decision, title="Install", owner="Workers",
                           due_date=due, weight=3)
    services.progress_update(actor=world.users["worker"], task=t1, progress=100, note="Bought", photos=[png()])
    services.progress_update(actor=world.users["worker"], task=t2, progress=50, note="Half done")
    decision = Decision.objects.get(pk=decision.pk)
    r = services.rollup(decision)
    assert r.weighted and r.percent == int((100 * 1 + 50 * 3) / 4)
    decision.weighted = False
    assert services.rollup(decision).percent == 75
    assert UpdatePhoto.objects.count() == 1
    with pytest.raises(InvalidInput) as exc:
        services.decision_complete(actor=world.users["worker"], decision=decision)
    assert exc.value.code == "not_done"
    with pytest.raises(InvalidInput):
        services.progress_update(actor=world.users["worker"], task=t2, progress=101, note="Too much")
    with pytest.raises(PermissionDenied):
        services.progress_update(actor=world.users["resident"], task=t2, progress=60, note="I did it")
    services.progress_update(actor=world.users["worker"], task=t2, progress=100, note="Done")
    decision = services.decision_complete(actor=world.users["worker"], decision=decision)
    assert decision.state == "done" and decision.done_at
    from linli.deliberation import selectors

    kinds = [i["kind"] for i in selectors.timeline(Decision.objects.get(pk=decision.pk))]
    assert kinds[0] == "decided" and kinds[-1] == "done" and kinds.count("update") == 3


def test_execution_writes_only_in_their_phase(world, key):
    rnd, decision = executing(world)
    at_phase(rnd, "evaluation")
    with pytest.raises(PhaseClosed):
        services.task_add(actor=world.users["worker"], decision=decision, title="T", owner="O",
                          due_date=timezone.localdate())


def test_evaluation_once_each_in_its_phase_and_summary_published(world, key):
    rnd, decision = executing(world)
    t = services.task_add(actor=world.users["worker"], decision=decision, title="T", owner="O",
                          due_date=timezone.localdate())
    services.progress_update(actor=world.users["worker"], task=t, progress=100, note="Done")
    with pytest.raises(PhaseClosed):
        services.evaluate(actor=world.users["resident"], decision=decision, rating="satisfied")
    decision = services.decision_complete(actor=world.users["worker"], decision=decision)
    at_phase(rnd, "evaluation")
    decision = Decision.objects.get(pk=decision.pk)
    services.evaluate(actor=world.users["resident"], decision=decision, rating="satisfied", comment="Good work")
    before = counts()
    with pytest.raises(InvalidInput) as exc:
        services.evaluate(actor=world.users["resident"], decision=decision, rating="unsatisfied")
    assert exc.value.code == "already_evaluated"
    with pytest.raises(InvalidInput):
        services.evaluate(actor=resident_user(world, 2), decision=decision, rating="great")
    assert counts() == before
    services.evaluate(actor=resident_user(world, 2), decision=decision, rating="basic")
    assert services.evaluation_counts(decision) == {"satisfied": 1, "basic": 1, "unsatisfied": 0}
    decision = services.publish_evaluation_summary(actor=world.users["worker"], decision=decision)
    entry = Entry.objects.get(community=world.community, log_index=decision.summary_log_index)
    assert "satisfied 1" in entry.body
    with pytest.raises(InvalidInput):
        services.publish_evaluation_summary(actor=world.users["worker"], decision=decision)


def test_the_job_publishes_evaluations_once_the_phase_ended(world, key):
    rnd, decision = executing(world)
    t = services.task_add(actor=world.users["worker"], decision=decision, title="T", owner="O",
                          due_date=timezone.localdate())
    services.progress_update(actor=world.users["worker"], task=t, progress=100, note="Done")
    services.decision_complete(actor=world.users["worker"], decision=decision)
    assert jobs.publish_evaluations() == {"published": 0, "failed": 0}
    later = timezone.now() + dt.timedelta(days=30)
    assert jobs.publish_evaluations(now=later) == {"published": 1, "failed": 0}
    assert Decision.objects.get(pk=decision.pk).summary_log_index is not None
    assert jobs.publish_evaluations(now=later) == {"published": 0, "failed": 0}


def test_rules_office_and_readers(world):
    c = world.community
    assert rules.may_run(world.users["worker"], c) and rules.may_run(world.users["admin"], c)
    assert not rules.may_run(world.users["secretary"], c) and rules.may_read_office(world.users["secretary"], c)
    assert rules.may_read_office(world.users["supervisor"], c) and not rules.may_run(world.users["supervisor"], c)
    assert not rules.may_read_office(world.users["z_worker"], c)
    assert not rules.may_read_office(world.users["resident"], c)
    assert isinstance(rules.resident_of(world.users["resident"]), Resident)


# --- history written through the services (the demo) --------------------------------------------


def test_history_with_at_checks_the_phase_then_and_dates_rows_and_events(world, key):
    """A past month seeded through the services: each write is checked against the phase that
    ran at ``at`` and its rows and events carry that time."""
    start = timezone.now() - dt.timedelta(days=120)
    specs = [PhaseSpec(k, k.title(), start + dt.timedelta(days=10 * i)) for i, k in enumerate(KEYS)]
    rnd = services.round_create(actor=None, community=world.community, year=2020, month=1, support_threshold=1,
                                specs=specs, ends_at=start + dt.timedelta(days=60))
    t = lambda days: start + dt.timedelta(days=days, hours=2)  # noqa: E731
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Old", body="Text", at=t(1))
    with pytest.raises(PhaseClosed):
        services.propose(actor=world.users["resident"], round=rnd, title="Late", body="Text", at=t(11))
    proposal = services.support(actor=resident_user(world, 2), proposal=proposal, at=t(2))
    assert proposal.state == "agenda" and proposal.agenda_at == t(2)
    assert Event.objects.get(verb="deliberation_proposal.threshold_reached").created_at == t(2)
    meeting = Meeting.objects.get(round=rnd)
    services.attend_by_staff(actor=None, meeting=meeting, role="member", user=world.users["admin"], at=t(11))
    services.decision_save(actor=world.users["worker"], meeting=meeting, proposal=proposal, text="Yes", votes_for=4,
                           votes_against=0, votes_abstain=0, at=t(12))
    meeting = services.meeting_close(actor=world.users["worker"], meeting=meeting, report="Minutes", at=t(13))
    assert meeting.closed_at == t(13) and Event.objects.get(verb="deliberation_meeting.closed").created_at == t(13)
    decision = Decision.objects.get(proposal=proposal)
    task = services.task_add(actor=world.users["worker"], decision=decision, title="T", owner="O",
                             due_date=t(25).date(), at=t(21))
    services.progress_update(actor=world.users["worker"], task=task, progress=100, note="Done", at=t(24))
    services.decision_complete(actor=world.users["worker"], decision=decision, at=t(25))
    services.evaluate(actor=world.users["resident"], decision=decision, rating="satisfied", at=t(31))
    assert Evaluation.objects.get().created_at == t(31)
    assert Proposal.objects.get(pk=proposal.pk).created_at == t(1)


def test_the_proposer_and_the_comment_author_are_told(world):
    from linli.deliberation import notifications

    rnd = make_round(world, threshold=5)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Pool", body="Build one")
    item = services.comment(actor=resident_user(world, 2), proposal=proposal, body="Rude words")
    services.decline(actor=world.users["worker"], proposal=proposal, reason="Not ours to decide")
    services.hide_comment(actor=world.users["worker"], comment=item, reason="Rude")
    batch = list(Event.objects.filter(verb__in=notifications.VERBS).order_by("id"))
    told = [(e.verb, m.user_ids, m.url) for e, m in notifications.messages(batch)]
    assert told == [
        ("deliberation_proposal.declined", [world.users["resident"].pk], f"/deliberation/Y/p/{proposal.pk}/"),
        ("deliberation_comment.hidden", [world.residents[2].user_id], f"/deliberation/Y/p/{proposal.pk}/"),
    ]
    for _e, message in notifications.messages(batch):
        assert "Pool" not in message.body and "Rude" not in message.body


def test_a_declined_proposal_takes_no_support_and_links(world):
    assert links.home_actions(world.users["resident"]) == []  # no month running
    rnd = make_round(world)
    proposal = services.propose(actor=world.users["resident"], round=rnd, title="Pool", body="Build one")
    services.decline(actor=world.users["worker"], proposal=proposal, reason="No")
    with pytest.raises(InvalidInput) as exc:
        services.support(actor=world.users["resident"], proposal=proposal)
    assert exc.value.code == "closed" and Support.objects.count() == 0
    assert links.process_url(rnd.process) == f"/deliberation/Y/r/{rnd.pk}/"
    assert links.home_actions(world.users["resident"]) == [("Monthly deliberation", "/deliberation/Y/")]
    assert links.home_actions(world.users["worker"]) == []
