"""Time limits: hours, working days across weekends, holidays and make-up working days (调休),
the response deadline a case gets at receipt and the resolution deadline it gets when accepted."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from linli.cases import deadlines
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category, Holiday, TimeLimit, TimeUnit
from linli.cases.services import Intake, case_accept, case_reject, case_submit

SHANGHAI = timezone.get_fixed_timezone(8 * 60)


def at(text: str) -> dt.datetime:
    """A moment in Chengdu's (the installation's) time: '2025-03-07 10:00'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def calendar_2025(db):
    """The 2025 Qingming and May Day days off, with the Sunday worked before May Day."""
    Holiday.objects.create(date=dt.date(2025, 4, 4), name="清明节")
    for day in range(1, 6):
        Holiday.objects.create(date=dt.date(2025, 5, day), name="劳动节")
    Holiday.objects.create(date=dt.date(2025, 4, 27), is_workday=True, name="劳动节调休")


@pytest.mark.parametrize("start,days,expected", [
    ("2025-03-05 10:00", 1, "2025-03-06 10:00"),   # Wednesday → Thursday
    ("2025-03-07 10:00", 1, "2025-03-10 10:00"),   # Friday → Monday, over the weekend
    ("2025-03-07 16:30", 5, "2025-03-14 16:30"),   # a full working week
    ("2025-03-06 23:00", 2, "2025-03-10 23:00"),   # Thursday night, same clock time
    ("2025-03-08 14:00", 1, "2025-03-11 09:00"),   # received on Saturday: Monday is the first day
    ("2025-03-09 08:00", 2, "2025-03-12 09:00"),   # received on Sunday
    ("2025-04-03 15:00", 1, "2025-04-07 15:00"),   # Qingming Friday is a day off
    ("2025-04-04 11:00", 1, "2025-04-08 09:00"),   # received on the holiday itself
    ("2025-04-25 10:00", 1, "2025-04-27 10:00"),   # Friday → the worked Sunday (调休)
    ("2025-04-27 10:00", 1, "2025-04-28 10:00"),   # received on the worked Sunday: a normal day
    ("2025-04-29 09:30", 2, "2025-05-06 09:30"),   # Tuesday → over May Day 1–5 → Tuesday after
    ("2025-04-30 18:00", 1, "2025-05-06 18:00"),
    ("2025-05-02 12:00", 1, "2025-05-07 09:00"),   # received during the May Day break
])
def test_working_days_skip_weekends_and_holidays_and_count_make_up_days(calendar_2025, start, days, expected):
    assert deadlines.add_working_days(at(start), days) == at(expected)
    assert deadlines.due(at(start), days, TimeUnit.WORKING_DAYS) == at(expected)


def test_hours_are_clock_hours_whatever_the_day(calendar_2025):
    assert deadlines.due(at("2025-04-03 22:30"), 24, TimeUnit.HOURS) == at("2025-04-04 22:30")
    assert deadlines.due(at("2025-03-08 14:00"), 2, TimeUnit.HOURS) == at("2025-03-08 16:00")


def test_a_day_is_a_working_day_by_weekday_unless_the_calendar_says_otherwise(calendar_2025):
    calendar = dict(Holiday.objects.values_list("date", "is_workday"))
    assert deadlines.is_working_day(dt.date(2025, 4, 3), calendar)
    assert not deadlines.is_working_day(dt.date(2025, 4, 4), calendar)    # Friday, holiday
    assert not deadlines.is_working_day(dt.date(2025, 4, 26), calendar)   # Saturday
    assert deadlines.is_working_day(dt.date(2025, 4, 27), calendar)       # Sunday, worked
    assert deadlines.is_working_day(dt.date(2025, 4, 27), None) is False


def test_a_moment_in_utc_is_counted_in_local_days(calendar_2025):
    # Friday 2025-03-07 20:00 in Chengdu is 12:00 UTC; one working day ends Monday 20:00 local.
    utc = dt.datetime(2025, 3, 7, 12, 0, tzinfo=dt.timezone.utc)
    assert deadlines.add_working_days(utc, 1) == at("2025-03-10 20:00")


@pytest.fixture
def categories(world):
    install_default_categories(actor=None, community=world.community)
    return {c.code: c for c in Category.objects.filter(community=world.community)}


def _submitted(world, category, urgency="normal", description="楼下垃圾桶满了没人收", channel=Case.Channel.WEB):
    case, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=channel, description=description,
        reporter=world.residents[0], place=Case.Place.HOME, category=category, urgency=urgency))
    return case


def _accepted(world, category, urgency="normal"):
    return case_accept(actor=world.users["worker"], case=_submitted(world, category, urgency))


def test_the_response_clock_starts_at_receipt_and_the_resolution_clock_at_acceptance(world, categories):
    case = _submitted(world, categories["sanitation-waste"])           # 2 h, 2 working days
    assert case.response_due == case.created_at + dt.timedelta(hours=2)
    assert case.resolve_due is None and case.expected_reply_by == case.response_due
    normal = case_accept(actor=world.users["worker"], case=case)
    urgent = _accepted(world, categories["sanitation-waste"], "urgent")  # 1 h, 12 h
    assert normal.response_due == normal.created_at + dt.timedelta(hours=2)   # not moved by accepting
    assert normal.resolve_due == deadlines.add_working_days(normal.accepted_at, 2)
    assert urgent.response_due == urgent.created_at + dt.timedelta(hours=1)
    assert urgent.resolve_due == urgent.accepted_at + dt.timedelta(hours=12)
    assert (normal.response_reminded, normal.resolve_reminded) == (False, False)
    # Accepting is the response: the resident is no longer waiting for one.
    assert normal.responded_at == normal.accepted_at and normal.expected_reply_by is None


@pytest.mark.parametrize("channel", [Case.Channel.WEB, Case.Channel.PHONE, Case.Channel.WALK_IN,
                                     Case.Channel.PATROL, Case.Channel.API, Case.Channel.OPEN311])
def test_every_channel_gets_its_response_deadline_at_receipt(world, categories, channel):
    case = _submitted(world, categories["property-lift"], channel=channel)  # respond within 1 h
    assert Case.objects.get(pk=case.pk).response_due == case.created_at + dt.timedelta(hours=1)


def test_a_case_without_a_category_gets_the_triage_limit(world, categories):
    # Nothing the keyword rules know: it waits in triage, on the default (standard) limit.
    case = _submitted(world, None, description="想问一下这个事情找谁")
    assert (case.category_id, case.needs_triage) == (None, True)
    assert case.response_due == case.created_at + dt.timedelta(hours=2)
    urgent = _submitted(world, None, "urgent", description="想问一下这个事情找谁，挺急的")
    assert urgent.response_due == urgent.created_at + dt.timedelta(hours=1)


def test_a_case_raised_on_saturday_counts_working_days_from_monday_nine(world, categories):
    TimeLimit.objects.filter(category=categories["disputes"], urgency="normal").update(
        response_amount=1, response_unit=TimeUnit.WORKING_DAYS)
    saturday = at("2025-03-08 14:00")
    with mock.patch("django.utils.timezone.now", return_value=saturday):
        case = _submitted(world, categories["disputes"], description="邻居堆放杂物占用楼道")
    assert case.created_at == saturday
    # Monday 09:00 starts the count; one working day ends on Tuesday 09:00.
    assert case.response_due == at("2025-03-11 09:00")


def test_a_late_acceptance_keeps_the_deadline_it_was_given(world, categories):
    case = _submitted(world, None, description="想问一下这个事情找谁")   # triage: 2 h
    Case.objects.filter(pk=case.pk).update(created_at=case.created_at - dt.timedelta(hours=5),
                                           response_due=case.response_due - dt.timedelta(hours=5))
    case = case_accept(actor=world.users["worker"], case=Case.objects.get(pk=case.pk),
                       category=categories["other"])  # 24 h, had it been known at receipt
    assert case.response_due < case.accepted_at == case.responded_at


def test_rejecting_is_a_response_and_an_old_case_gets_its_deadline_then(world, categories):
    case = _submitted(world, categories["property-lift"])
    Case.objects.filter(pk=case.pk).update(response_due=None)  # received before the clock ran at receipt
    case = case_reject(actor=world.users["worker"], case=Case.objects.get(pk=case.pk), reason="不属于本社区")
    assert case.response_due == case.created_at + dt.timedelta(hours=1)
    assert case.responded_at == case.closed_at and case.expected_reply_by is None


def test_the_urgency_may_be_raised_on_acceptance(world, categories):
    case, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description="燃气味很重，可能漏气了",
        reporter=world.residents[0], place=Case.Place.HOME))
    case = case_accept(actor=world.users["worker"], case=case, urgency="urgent")
    assert (case.category.code, case.urgency) == ("utilities-gas", "urgent")
    assert case.resolve_due == case.accepted_at + dt.timedelta(hours=4)


def test_a_subcategory_without_its_own_limit_uses_its_parents(world, categories):
    TimeLimit.objects.filter(category=categories["sanitation-waste"]).delete()
    case = _accepted(world, categories["sanitation-waste"])
    # The parent, sanitation: 2 h and 3 working days.
    assert case.response_due == case.created_at + dt.timedelta(hours=2)
    assert case.resolve_due == deadlines.add_working_days(case.accepted_at, 3)


def test_a_category_without_any_limit_answers_on_the_triage_limit_and_has_no_resolution_deadline(
        world, categories):
    lonely = Category.objects.create(community=world.community, code="pilot", name_zh="试点", name_en="Pilot")
    case = _accepted(world, lonely)
    assert (case.response_due, case.resolve_due) == (case.created_at + dt.timedelta(hours=2), None)


def test_a_case_sent_through_the_json_api_has_its_response_deadline_from_receipt(world, categories):
    import json

    from django.test import Client

    from linli.cases.apikeys import apikey_create

    _row, key = apikey_create(actor=None, community=world.community, name="hotline")
    response = Client().post("/api/v1/cases", data=json.dumps({
        "description": "三号楼电梯门关不上，按钮没反应", "grid": "G01", "contact_phone": "13912345678"}),
        content_type="application/json", headers={"X-Api-Key": key})
    assert response.status_code == 201
    case = Case.objects.get(number=response.json()["number"])
    assert case.channel == Case.Channel.API
    assert case.response_due == deadlines.response_due_for(case) > case.created_at
    assert response.json()["response_due"] is not None
