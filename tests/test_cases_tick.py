"""The periodic deadline job: reminders, overdue flags, escalation to community then street,
closing unrated cases; safe to run twice and alongside another run. Time is simulated with
the job's ``now``, never by freezing the clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from linli.cases import jobs
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category
from linli.cases.services import (
    Intake, case_accept, case_contact, case_dispatch, case_rate, case_reject, case_resolve, case_submit,
)
from linli.core import registry
from linli.core.models import Event

S = Case.Status
MINUTE = dt.timedelta(minutes=1)
TICK_VERBS = ("case.reminded", "case.marked_overdue", "case.escalated", "case.closed_unrated")


@pytest.fixture
def categories(world):
    install_default_categories(actor=None, community=world.community)
    return {c.code: c for c in Category.objects.filter(community=world.community)}


def urgent_lift_case(world, categories, *, accepted=True, dispatched=True) -> Case:
    """An urgent lift case: respond within 1 hour of receipt, resolve within 4 hours of acceptance."""
    case, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description="电梯困人了，快来人",
        reporter=world.residents[0], place=Case.Place.HOME, category=categories["property-lift"],
        urgency="urgent"))
    assert case.response_due == case.created_at + dt.timedelta(hours=1)
    if not accepted:
        return case
    case = case_accept(actor=world.users["worker"], case=case)
    if dispatched:
        case = case_dispatch(actor=world.users["worker"], case=case)
    assert case.resolve_due == case.accepted_at + dt.timedelta(hours=4)
    return case


def waiting_case(world, categories) -> Case:
    """Received, nobody has accepted or rejected it: its response clock runs from receipt."""
    return urgent_lift_case(world, categories, accepted=False)


def tick_events(case=None):
    qs = Event.objects.filter(verb__in=TICK_VERBS)
    if case is not None:
        qs = qs.filter(target_id=str(case.pk))
    return [(e.verb, e.data.get("deadline"), e.data.get("level")) for e in qs.order_by("id")]


def fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_nothing_happens_while_there_is_time(world, categories):
    case = urgent_lift_case(world, categories)
    report = jobs.run_tick(now=case.accepted_at + dt.timedelta(minutes=44))
    assert report.changes == 0 and tick_events() == []


def test_a_reminder_comes_once_when_a_quarter_of_the_time_is_left(world, categories):
    case = waiting_case(world, categories)
    now = case.created_at + dt.timedelta(minutes=45)  # 15 of 60 minutes left, nobody has accepted it
    report = jobs.run_tick(now=now)
    assert (report.reminders, report.overdue, report.escalations) == (1, 0, 0)
    assert tick_events(case) == [("case.reminded", "response", None)]
    assert (fresh(case).response_reminded, fresh(case).resolve_reminded) == (True, False)
    event = Event.objects.get(verb="case.reminded")
    assert (event.actor, event.data["number"], event.data["unit"]) == (None, case.number, None)
    assert jobs.run_tick(now=now + MINUTE).changes == 0
    assert len(tick_events()) == 1


def test_the_resolution_reminder_is_separate(world, categories):
    case = urgent_lift_case(world, categories)
    case_contact(actor=world.users["unit_staff"], case=case)
    report = jobs.run_tick(now=case.accepted_at + dt.timedelta(hours=3, minutes=1))  # 59 of 240 minutes left
    assert report.reminders == 1
    assert tick_events(case) == [("case.reminded", "resolution", None)]


def test_an_unaccepted_case_is_flagged_and_escalated_to_the_community_once(world, categories):
    case = waiting_case(world, categories)
    now = case.response_due + MINUTE
    report = jobs.run_tick(now=now)
    assert (report.reminders, report.overdue, report.escalations) == (0, 1, 1)
    case = fresh(case)
    assert (case.response_overdue, case.resolve_overdue, case.escalation) == (True, False, 1)
    assert tick_events(case) == [("case.marked_overdue", "response", None), ("case.escalated", "response", 1)]
    assert Event.objects.get(verb="case.escalated").data["to"] == "community"
    # Run twice: nothing changes, nothing is written.
    before = Case.objects.filter(pk=case.pk).values().get()
    assert jobs.run_tick(now=now).changes == 0
    assert jobs.run_tick(now=now + MINUTE).changes == 0
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert len(tick_events()) == 2


def test_still_unanswered_after_the_limit_again_goes_to_the_street(world, categories):
    case = waiting_case(world, categories)
    jobs.run_tick(now=case.response_due + MINUTE)
    # One more hour (the response limit) after the deadline: level 2.
    assert jobs.run_tick(now=case.response_due + dt.timedelta(minutes=59)).changes == 0
    report = jobs.run_tick(now=case.response_due + dt.timedelta(minutes=61))
    assert (report.overdue, report.escalations) == (0, 1)
    assert fresh(case).escalation == 2
    escalated = Event.objects.filter(verb="case.escalated").order_by("id")
    assert [(e.data["level"], e.data["to"], e.data["deadline"]) for e in escalated] == [
        (1, "community", "response"), (2, "street", "response")]
    assert jobs.run_tick(now=case.response_due + dt.timedelta(minutes=90)).changes == 0


def test_a_late_first_run_goes_straight_to_the_level_it_finds(world, categories):
    case = waiting_case(world, categories)
    report = jobs.run_tick(now=case.response_due + dt.timedelta(hours=3))  # 3 h without a response
    assert (report.reminders, report.overdue, report.escalations) == (0, 1, 1)
    assert tick_events(case) == [("case.marked_overdue", "response", None), ("case.escalated", "response", 2)]
    assert fresh(case).escalation == 2


def test_an_accepted_case_has_responded_and_is_watched_for_its_resolution(world, categories):
    case = urgent_lift_case(world, categories)  # accepted within its hour: that is the response
    assert jobs.run_tick(now=case.response_due + MINUTE).changes == 0
    report = jobs.run_tick(now=case.resolve_due + MINUTE)
    assert (report.overdue, report.escalations) == (1, 1)
    assert tick_events(case) == [("case.marked_overdue", "resolution", None), ("case.escalated", "resolution", 1)]
    assert (fresh(case).response_overdue, fresh(case).resolve_overdue) == (False, True)


def test_a_late_acceptance_ends_the_response_watch_but_keeps_the_flags(world, categories):
    case = waiting_case(world, categories)
    jobs.run_tick(now=case.response_due + MINUTE)
    case = case_accept(actor=world.users["worker"], case=fresh(case))
    assert (case.response_overdue, case.escalation) == (True, 1)
    # Answered now: no street escalation for the response however long after.
    assert jobs.run_tick(now=case.response_due + dt.timedelta(minutes=90)).changes == 0
    assert [e[0] for e in tick_events(case)] == ["case.marked_overdue", "case.escalated"]


def test_a_rejected_case_is_answered(world, categories):
    case = case_reject(actor=world.users["worker"], case=waiting_case(world, categories), reason="不属于本社区")
    assert jobs.run_tick(now=case.response_due + dt.timedelta(hours=5)).changes == 0


def test_a_case_waiting_for_dispatch_also_runs_late(world, categories):
    case = urgent_lift_case(world, categories, dispatched=False)
    assert jobs.run_tick(now=case.resolve_due + MINUTE).overdue == 1
    assert Event.objects.get(verb="case.marked_overdue").data["unit"] is None


def test_resolved_and_closed_cases_are_not_flagged(world, categories):
    case = urgent_lift_case(world, categories)
    case_resolve(actor=world.users["unit_staff"], case=case, resolution="已放出被困人员并修复")
    report = jobs.run_tick(now=case.resolve_due + dt.timedelta(hours=8))
    assert (report.reminders, report.overdue, report.escalations, report.closed) == (0, 0, 0, 0)


def test_a_second_worker_that_read_the_case_before_the_first_wrote_changes_nothing(world, categories):
    case = waiting_case(world, categories)
    stale = Case.objects.select_related("community__street", "grid", "category").get(pk=case.pk)
    now = case.response_due + dt.timedelta(hours=2)
    first = jobs.run_tick(now=now)
    assert first.changes == 2
    second = jobs.TickReport()
    jobs._check_deadlines(stale, now, {}, second)  # decided on what it read, before the first wrote
    assert second.changes == 0
    assert len(tick_events()) == 2


def test_an_acceptance_between_reading_and_writing_is_not_flagged(world, categories):
    case = waiting_case(world, categories)
    stale = Case.objects.select_related("community__street", "grid", "category").get(pk=case.pk)
    case_accept(actor=world.users["worker"], case=case)
    report = jobs.TickReport()
    jobs._check_deadlines(stale, case.response_due + MINUTE, {}, report)
    assert report.changes == 0 and fresh(case).response_overdue is False


def test_an_unsatisfied_rating_gives_a_fresh_deadline_and_fresh_flags(world, categories):
    case = urgent_lift_case(world, categories)
    jobs.run_tick(now=case.resolve_due + MINUTE)
    case = case_resolve(actor=world.users["unit_staff"], case=case, resolution="已修复")
    case = case_rate(actor=world.users["resident"], case=case, rating="unsatisfied")
    assert (case.resolve_overdue, case.resolve_reminded) == (False, False)
    assert case.resolve_due == case.rated_at + dt.timedelta(hours=4)
    report = jobs.run_tick(now=case.resolve_due + MINUTE)
    assert (report.overdue, report.escalations) == (1, 0)  # already at the community; levels only go up
    assert tick_events(case)[-1] == ("case.marked_overdue", "resolution", None)


# --- closing unrated cases ----------------------------------------------------------------------------


def resolved_case(world, categories) -> Case:
    case = urgent_lift_case(world, categories)
    return case_resolve(actor=world.users["unit_staff"], case=case, resolution="已修复，运行正常")


def test_a_resolved_case_nobody_rates_is_closed_after_the_visit_back_days(world, categories):
    case = resolved_case(world, categories)
    assert jobs.run_tick(now=case.resolved_at + dt.timedelta(days=7) - MINUTE).closed == 0
    now = case.resolved_at + dt.timedelta(days=7, minutes=1)
    assert jobs.run_tick(now=now).closed == 1
    case = fresh(case)
    assert (case.status, case.rating, case.closed_at) == (S.CLOSED, "", now)
    event = Event.objects.get(verb="case.closed_unrated")
    assert (event.actor, event.actor_label, event.data["from"], event.data["to"]) == (
        None, "system", "resolved", "closed")
    assert jobs.run_tick(now=now).changes == 0
    assert jobs.run_tick(now=now + dt.timedelta(days=30)).changes == 0
    assert Event.objects.filter(verb="case.closed_unrated").count() == 1


def test_the_visit_back_days_are_a_setting(world, categories, settings):
    settings.LINLI_VISIT_BACK_DAYS = 3
    case = resolved_case(world, categories)
    assert jobs.run_tick(now=case.resolved_at + dt.timedelta(days=3, minutes=1)).closed == 1


def test_a_rated_case_is_left_as_the_resident_left_it(world, categories):
    case = resolved_case(world, categories)
    case_rate(actor=world.users["resident"], case=case, rating="basic")
    assert jobs.run_tick(now=case.resolved_at + dt.timedelta(days=8)).closed == 0
    assert fresh(case).rating == "basic"


# --- how it is run ------------------------------------------------------------------------------------


def test_the_command_runs_the_tick_as_of_a_given_moment(world, categories, capsys):
    case = waiting_case(world, categories)
    moment = timezone.localtime(case.response_due + MINUTE).replace(tzinfo=None).isoformat()
    with translation.override("en"):
        call_command("cases_tick", "--now", moment)
    assert capsys.readouterr().out.strip() == (
        "Reminders: 0, overdue: 1, escalations: 1, closed without rating: 0.")
    with translation.override("en"):
        call_command("cases_tick", "--now", moment)
    assert capsys.readouterr().out.strip() == (
        "Reminders: 0, overdue: 0, escalations: 0, closed without rating: 0.")
    with pytest.raises(CommandError):
        call_command("cases_tick", "--now", "yesterday")


def test_the_worker_runs_the_tick_as_a_declared_job(world, categories):
    job = next(j for j in registry.jobs() if j.name == "cases.tick")
    assert registry.resolve_job(job)() == {"reminders": 0, "overdue": 0, "escalations": 0, "closed": 0,
                                           "clocks_started": 0}


# --- cases received before the response clock ran from receipt -----------------------------------------


def test_old_rows_get_their_response_deadline_from_receipt_in_bulk_with_one_event(world, categories):
    recent = waiting_case(world, categories)
    old = waiting_case(world, categories)
    answered = urgent_lift_case(world, categories)
    untriaged, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description="想问一下这个事情找谁",
        reporter=world.residents[0], place=Case.Place.HOME))
    now = recent.created_at + dt.timedelta(minutes=10)
    # As the rows were before: no response deadline until acceptance.
    Case.objects.filter(pk__in=[recent.pk, old.pk, answered.pk, untriaged.pk]).update(response_due=None)
    Case.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=3))
    Event.objects.all().delete()
    report = jobs.run_tick(now=now)
    assert report.clocks_started == 3
    assert fresh(recent).response_due == recent.created_at + dt.timedelta(hours=1)
    assert fresh(untriaged).response_due == untriaged.created_at + dt.timedelta(hours=2)  # the triage limit
    old = fresh(old)
    assert old.response_due == old.created_at + dt.timedelta(hours=1)
    # Long past its deadline: flagged and escalated in the same UPDATE, without a per-case event.
    assert (old.response_overdue, old.response_reminded, old.escalation) == (True, True, 2)
    assert fresh(answered).response_due is None  # answered already: its history is left as it was
    assert tick_events() == [] and report.changes == 0
    [event] = Event.objects.all()
    assert (event.verb, event.actor, event.community_id, event.data) == (
        "cases.response_clocks_started", None, world.community.pk, {"cases": 3, "overdue": 1})
    assert jobs.run_tick(now=now).changes == 0 and jobs.run_tick(now=now).clocks_started == 0
    # From here on they are watched like any case: the recent one is reminded in its last quarter.
    assert jobs.run_tick(now=recent.created_at + dt.timedelta(minutes=46)).reminders == 1
    assert Event.objects.count() == 2


def test_the_office_is_told_to_answer_a_case_waiting_to_be_accepted(world, categories):
    from linli.cases.notifications import case_messages

    case = waiting_case(world, categories)
    jobs.run_tick(now=case.created_at + dt.timedelta(minutes=50))
    jobs.run_tick(now=case.response_due + MINUTE)
    with translation.override("en"):
        bodies = {event.verb: message.body for event, message in case_messages(
            list(Event.objects.filter(verb__in=("case.reminded", "case.marked_overdue"))))}
    due = timezone.localtime(case.response_due).strftime("%Y-%m-%d %H:%M")
    assert bodies == {"case.reminded": f"Accept the case, or reject it with a reason, by {due}.",
                      "case.marked_overdue": "The time limit for responding to it has passed."}
