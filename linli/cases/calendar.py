"""The holiday calendar working-day deadlines count against (``linli.cases.deadlines``).

Mainland China's official days off and make-up working days (调休) come from the
``chinese-calendar`` package (pinned in requirements.txt; docs/cases.md says why this one).
It carries the State Council's schedule for each year it knows and refuses the others, so
``load_official`` can say exactly which years it loaded and which the package does not have
yet. Admins add a year the package lacks by hand from the State Council notice.

The calendar is one for the installation (the national schedule), not per community; it is
edited by community administrators (``rules.may_edit_case_settings``). Every write is a
service here, atomic, with one event: ``holiday.added``, ``holiday.changed``,
``holiday.removed``, ``holidays.loaded``.

Rows an admin made or edited are ``Holiday.Source.MANUAL`` and a load never touches them.
Removing an official day leaves a hand-made row that states the ordinary status of that
day (a weekday worked, a weekend off), so the next load does not bring the removed day
back; removing that row in turn lets the next load restore the official day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from django.db import transaction
from django.utils.translation import gettext as _

from linli.core import events
from linli.core.errors import InvalidInput
from linli.core.masking import scrub

from .case_settings import check
from .models import Holiday

PACKAGE = "chinese-calendar"
NAME_MAX = Holiday._meta.get_field("name").max_length
FIRST_YEAR, LAST_YEAR = 2000, 2100

# The package names its holidays in English; the calendar shows the names used in China.
_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def package_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # pragma: no cover - the package is a pinned requirement
        return ""


def _package():
    from chinese_calendar import constants

    return constants


def official_years() -> list[int]:
    """The years the installed package holds the official schedule for."""
    constants = _package()
    return sorted({day.year for day in constants.holidays} | {day.year for day in constants.workdays})


def _zh(name: str) -> str:
    return _NAMES_ZH.get(name, name)[:NAME_MAX]


def official_days(year: int) -> dict[dt.date, tuple[bool, str]] | None:
    """``{date: (is_workday, name)}`` of the official schedule for ``year`` (days off, weekend
    days inside a holiday included, and make-up working days), or None when the package does
    not have that year."""
    if year not in official_years():
        return None
    constants = _package()
    days: dict[dt.date, tuple[bool, str]] = {}
    for day, name in constants.holidays.items():
        if day.year == year:
            days[day] = (False, _zh(name))
    for day, name in constants.workdays.items():
        if day.year == year:
            days[day] = (True, (_zh(name) + "调休")[:NAME_MAX])
    return days


@dataclass
class LoadResult:
    loaded: list[int] = field(default_factory=list)       # years the package had
    unavailable: list[int] = field(default_factory=list)  # years it does not have (yet)
    added: int = 0
    updated: int = 0
    removed: int = 0        # official rows the package no longer lists
    kept_by_hand: int = 0   # official days an admin's row overrides


@transaction.atomic
def load_official(*, actor, years, community=None) -> LoadResult:
    """Load the official days of ``years`` from the package. Idempotent: a second run changes
    nothing and writes no event. Never touches a row set by hand. Writes one
    ``holidays.loaded`` event when anything changed."""
    check(actor, community)
    result = LoadResult()
    for year in sorted(set(int(y) for y in years)):
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidInput(_("Give a year between %(first)d and %(last)d.") % {
                "first": FIRST_YEAR, "last": LAST_YEAR}, field="years")
        days = official_days(year)
        if days is None:
            result.unavailable.append(year)
            continue
        result.loaded.append(year)
        existing = {h.date: h for h in Holiday.objects.select_for_update().filter(date__year=year)}
        for day, (is_workday, name) in sorted(days.items()):
            row = existing.get(day)
            if row is None:
                Holiday.objects.create(date=day, is_workday=is_workday, name=name, source=Holiday.Source.OFFICIAL)
                result.added += 1
            elif row.source == Holiday.Source.MANUAL:
                result.kept_by_hand += 1
            elif (row.is_workday, row.name) != (is_workday, name):
                row.is_workday, row.name = is_workday, name
                row.save(update_fields=["is_workday", "name"])
                result.updated += 1
        stale = [row.pk for d, row in existing.items()
                 if row.source == Holiday.Source.OFFICIAL and d not in days]
        if stale:
            result.removed += Holiday.objects.filter(pk__in=stale).delete()[0]
    if result.added or result.updated or result.removed:
        events.record(actor=actor, verb="holidays.loaded", community=community, data={
            "years": result.loaded, "unavailable": result.unavailable, "added": result.added,
            "updated": result.updated, "removed": result.removed, "kept_by_hand": result.kept_by_hand,
            "package": f"{PACKAGE} {package_version()}",
        })
    return result


def _clean(day, is_workday, name) -> tuple[dt.date, bool, str]:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput(_("Enter a date."), field="date")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(_("Give a year between %(first)d and %(last)d.") % {
            "first": FIRST_YEAR, "last": LAST_YEAR}, field="date")
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise InvalidInput(_("Keep the name to %(n)d characters.") % {"n": NAME_MAX}, field="name")
    return day, bool(is_workday), name


def _data(holiday: Holiday, **more) -> dict:
    # The name is free text an admin typed: the event log shows it scrubbed.
    return {"date": holiday.date.isoformat(), "is_workday": holiday.is_workday, "label": scrub(holiday.name),
            "source": holiday.source, **more}


@transaction.atomic
def holiday_add(*, actor, date, is_workday, name="", community=None) -> Holiday:
    """Add a day by hand: a day off on a weekday, or a working day on a weekend (调休)."""
    check(actor, community)
    date, is_workday, name = _clean(date, is_workday, name)
    if Holiday.objects.filter(date=date).exists():
        raise InvalidInput(_("%(date)s is already in the calendar: change it there.") % {
            "date": date.isoformat()}, field="date")
    weekend = date.weekday() >= 5
    if is_workday and not weekend:
        raise InvalidInput(_("%(date)s is a weekday, a working day anyway: add days off on weekdays and "
                             "working days on weekends.") % {"date": date.isoformat()}, field="is_workday")
    if not is_workday and weekend:
        raise InvalidInput(_("%(date)s is a weekend day, a day off anyway: add days off on weekdays and "
                             "working days on weekends.") % {"date": date.isoformat()}, field="is_workday")
    holiday = Holiday.objects.create(date=date, is_workday=is_workday, name=name, source=Holiday.Source.MANUAL)
    events.record(actor=actor, verb="holiday.added", target=holiday, community=community, data=_data(holiday))
    return holiday


@transaction.atomic
def holiday_change(*, actor, holiday: Holiday, is_workday, name="", community=None) -> Holiday:
    """Change a day's kind or name. The row becomes the admin's: later loads leave it."""
    check(actor, community)
    holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
    _, is_workday, name = _clean(holiday.date, is_workday, name)
    if (holiday.is_workday, holiday.name) == (is_workday, name):
        return holiday
    before = {"was_workday": holiday.is_workday, "was_source": holiday.source}
    holiday.is_workday, holiday.name, holiday.source = is_workday, name, Holiday.Source.MANUAL
    holiday.save(update_fields=["is_workday", "name", "source"])
    events.record(actor=actor, verb="holiday.changed", target=holiday, community=community,
                  data=_data(holiday, **before))
    return holiday


def is_ordinary(holiday: Holiday) -> bool:
    """A hand-made row that says what the weekday rule says anyway: an official day an admin
    removed (an official weekend day inside a holiday is a day off, not an ordinary day)."""
    return holiday.source == Holiday.Source.MANUAL and holiday.is_workday == (holiday.date.weekday() < 5)


@transaction.atomic
def holiday_remove(*, actor, holiday: Holiday, community=None) -> Holiday | None:
    """Remove a day. A hand-made row is deleted (a removed official day comes back at the next
    load); an official day becomes a hand-made ordinary day, so a load does not restore it.
    Returns that row, or None when the row was deleted."""
    check(actor, community)
    holiday = Holiday.objects.select_for_update().get(pk=holiday.pk)
    data = _data(holiday)
    if holiday.source == Holiday.Source.OFFICIAL:
        holiday.is_workday = holiday.date.weekday() < 5
        holiday.source = Holiday.Source.MANUAL
        holiday.save(update_fields=["is_workday", "source"])
        events.record(actor=actor, verb="holiday.removed", target=holiday, community=community,
                      data={**data, "kept_as_ordinary_day": True})
        return holiday
    events.record(actor=actor, verb="holiday.removed", target=holiday, community=community,
                  data={**data, "kept_as_ordinary_day": False})
    holiday.delete()
    return None


def this_and_next_year(today: dt.date | None = None) -> list[int]:
    from django.utils import timezone

    year = (today or timezone.localdate()).year
    return [year, year + 1]
