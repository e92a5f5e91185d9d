"""Deadlines in hours or working days, against the holiday calendar.

A working day is Monday–Friday unless the calendar marks it a holiday, or a
weekend day the calendar marks as worked (调休). "N working days" from a
moment ends at the same clock time on the N-th following working day; a case
received on a day off starts counting from the next working day's start.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Holiday, TimeUnit

WORKDAY_START = dt.time(9, 0)


def _calendar(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday"))


def is_working_day(day: dt.date, calendar: dict[dt.date, bool] | None = None) -> bool:
    if calendar is not None and day in calendar:
        return calendar[day]
    return day.weekday() < 5


def add_working_days(moment: dt.datetime, days: int) -> dt.datetime:
    local = timezone.localtime(moment)
    calendar = _calendar(local.date(), local.date() + dt.timedelta(days=days * 3 + 30))
    day = local.date()
    clock = local.timetz()
    if not is_working_day(day, calendar):
        # Counting starts at the next working day's start, so that day is a
        # whole working day of the limit (not lost, as it was when counting
        # from the day off itself).
        clock = WORKDAY_START.replace(tzinfo=local.tzinfo)
        day += dt.timedelta(days=1)
        while not is_working_day(day, calendar):
            day += dt.timedelta(days=1)
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            counted += 1
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def due(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit == TimeUnit.WORKING_DAYS:
        return add_working_days(moment, amount)
    return moment + dt.timedelta(hours=amount)
