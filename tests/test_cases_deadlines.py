"""Time limits: hours, working days across weekends, holidays and make-up working days (调休),
and the deadlines a case gets when it is accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.cases import deadlines
from linli.cases.defaults import install_default_categories
from linli.cases.models import Case, Category, Holiday, TimeLimit, TimeUnit
from linli.cases.services import Intake, case_accept, case_submit

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


def _accepted(world, category, urgency="normal"):
    case, _ = case_submit(actor=world.users["resident"], intake=Intake(
        community=world.community, channel=Case.Channel.WEB, description="楼下垃圾桶满了没人收",
        reporter=world.residents[0], place=Case.Place.HOME, category=category, urgency=urgency))
    return case_accept(actor=world.users["worker"], case=case)


def test_accepting_sets_the_deadlines_of_the_category_and_urgency(world, categories):
    normal = _accepted(world, categories["sanitation-waste"])           # 2 h, 2 working days
    urgent = _accepted(world, categories["sanitation-waste"], "urgent")  # 1 h, 12 h
    assert normal.response_due == normal.accepted_at + dt.timedelta(hours=2)
    assert normal.resolve_due == deadlines.add_working_days(normal.accepted_at, 2)
    assert urgent.response_due == urgent.accepted_at + dt.timedelta(hours=1)
    assert urgent.resolve_due == urgent.accepted_at + dt.timedelta(hours=12)
    assert (normal.response_reminded, normal.resolve_reminded) == (False, False)


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
    assert case.response_due == case.accepted_at + dt.timedelta(hours=2)
    assert case.resolve_due == deadlines.add_working_days(case.accepted_at, 3)


def test_a_category_without_any_limit_has_no_deadlines(world, categories):
    lonely = Category.objects.create(community=world.community, code="pilot", name_zh="试点", name_en="Pilot")
    case = _accepted(world, lonely)
    assert (case.response_due, case.resolve_due) == (None, None)
