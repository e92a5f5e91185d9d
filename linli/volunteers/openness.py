"""Openness of volunteering and 睦邻积分 (docs/volunteers.md, "Service hours, approval and points").

- :func:`monthly_summary`: the month's points issued, redeemed and expired, and hours and points
  per team, for the community as a whole. **No personal balance and no name** is in it: totals
  and team totals only (a team is a group, and its total hides each member's).
- :func:`publish_summary`: the summary, as text, on the 三务公开 board (residential affairs),
  through ``disclosure.services.publish_as_server``, once per month and community.
- :func:`publish_due`: the job ``volunteers.publish_summary`` (daily): from the
  ``LINLI_VOLUNTEER_SUMMARY_DAY``-th day of a month on (default 5, so that last month's records
  have days to be approved), last month's summary of every community that had volunteers or a
  points movement, once.
- :func:`honour_list`: volunteers who opted in (``honour_opt_in``), masked names, approved hours
  of the year, most hours first.
"""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import Conflict
from linli.core.models import Event
from linli.points.models import Posting

from .models import ServiceRecord, Team, Volunteer

SUMMARY_VERB = "volunteers.summary_published"


def _month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime(year, month, 1))
    last = calendar.monthrange(year, month)[1]
    return start, start + dt.timedelta(days=last)


def _moved(community, start, end, *, kind: str, account_kind: str) -> int:
    """Points credited to accounts of ``account_kind`` by posted transactions of ``kind`` that
    count in [start, end) and were not reversed."""
    total = (Posting.objects.filter(
        transaction__community=community, transaction__kind=kind, transaction__posted=True,
        transaction__reversed_by__isnull=True, transaction__effective_at__gte=start,
        transaction__effective_at__lt=end, account__kind=account_kind, amount__gt=0,
    ).aggregate(s=Sum("amount"))["s"])
    return int(total or 0)


def monthly_summary(community, year: int, month: int) -> dict:
    """``{"year", "month", "issued", "redeemed", "expired", "records", "hours", "volunteers",
    "teams": [{"team", "kind", "hours", "points", "records"}]}``: totals only."""
    start, end = _month_bounds(year, month)
    approved = ServiceRecord.objects.filter(activity__community=community, status="approved",
                                            check_in_at__gte=start, check_in_at__lt=end)
    totals = approved.aggregate(minutes=Sum("minutes"), points=Sum("points"), records=Count("id"),
                                volunteers=Count("volunteer", distinct=True))
    teams = []
    per_team = (approved.filter(activity__team__isnull=False)
                .values("activity__team").annotate(minutes=Sum("minutes"), points=Sum("points"), records=Count("id")))
    names = {t.pk: t for t in Team.objects.filter(pk__in=[row["activity__team"] for row in per_team])}
    for row in sorted(per_team, key=lambda r: (-(r["minutes"] or 0), r["activity__team"])):
        team = names[row["activity__team"]]
        teams.append({"team": team.name, "kind": team.get_kind_display(),
                      "hours": round((row["minutes"] or 0) / 60, 1), "points": int(row["points"] or 0),
                      "records": row["records"]})
    return {
        "year": year, "month": month,
        "issued": _moved(community, start, end, kind="grant", account_kind="resident"),
        "redeemed": _moved(community, start, end, kind="redemption", account_kind="partner"),
        "expired": _moved(community, start, end, kind="expiry", account_kind="expiry"),
        "records": totals["records"] or 0,
        "hours": round((totals["minutes"] or 0) / 60, 1),
        "points": int(totals["points"] or 0),
        "volunteers": totals["volunteers"] or 0,
        "teams": teams,
    }


def summary_text(summary: dict) -> tuple[str, str]:
    """The board entry's title and body."""
    title = _("Volunteer service and points, %(year)s-%(month)02d") % summary
    lines = [
        _("Approved service: %(records)s records, %(hours)s hours, by %(volunteers)s volunteers.") % summary,
        _("Points issued: %(issued)s. Redeemed at partners: %(redeemed)s. Expired: %(expired)s.") % summary,
    ]
    if summary["teams"]:
        lines.append("")
        lines.append(_("By team:"))
        for row in summary["teams"]:
            lines.append(_("- %(team)s: %(hours)s hours, %(points)s points") % row)
    lines.append("")
    lines.append(_("Totals only: no resident's balance or name is published."))
    return title, "\n".join(lines)


def may_read_summary(user, community) -> bool:
    """Totals without names: whoever manages volunteers there, and the street supervisor."""
    from . import rules

    return rules.may_read_counts(user, community)


def may_publish(user, community) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return community.pk in scope_of(user).worker_communities


def already_published(community, year: int, month: int) -> bool:
    return Event.objects.filter(verb=SUMMARY_VERB, community_id=community.pk,
                                data__period=f"{year:04d}-{month:02d}").exists()


def publish_summary(*, actor, community, year: int, month: int, now=None):
    """Publish the month's summary on the board (residential affairs), once. ``actor`` None: the
    server (a command or job). Returns the board entry."""
    from linli.core.errors import PermissionDenied
    from linli.disclosure.models import Section
    from linli.disclosure.services import publish_as_server

    if actor is not None and not may_publish(actor, community):
        raise PermissionDenied(_("You may not publish for this community."))
    start, end = _month_bounds(year, month)
    if end > (now or timezone.now()):
        raise Conflict(_("A month is published once it has ended."), code="month_not_over")
    period = f"{year:04d}-{month:02d}"
    with transaction.atomic():
        # Two workers running the job at once: the community's row queues them (SQLite's
        # IMMEDIATE transactions queue every writer anyway), so the second sees the first's entry.
        type(community).objects.select_for_update().filter(pk=community.pk).exists()
        if already_published(community, year, month):
            raise Conflict(_("This month's summary is already on the board."), code="already_published")
        title, body = summary_text(monthly_summary(community, year, month))
        entry = publish_as_server(community=community, section=Section.RESIDENTIAL, title=title, body=body,
                                  period_start=start.date(), period_end=(end - dt.timedelta(days=1)).date())
        events.record(actor=actor, verb=SUMMARY_VERB, target=entry, community=community,
                      data={"period": period, "entry": entry.pk})
    return entry


def publish_due(now=None) -> dict:
    """Publish last month's summary where it is due and not yet on the board: communities with
    a volunteer or a points transaction. Before the summary day of the month, nothing."""
    from django.conf import settings

    from linli.community.models import Community
    from linli.points.models import Transaction

    today = timezone.localdate(now or timezone.now())
    if today.day < settings.LINLI_VOLUNTEER_SUMMARY_DAY:
        return {"published": 0}
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    ids = set(Volunteer.objects.values_list("community_id", flat=True).distinct())
    ids |= set(Transaction.objects.values_list("community_id", flat=True).distinct())
    published = 0
    for community in Community.objects.filter(pk__in=ids).order_by("pk"):
        try:
            publish_summary(actor=None, community=community, year=year, month=month, now=now)
        except Conflict as refusal:
            if refusal.code != "already_published":
                raise
            continue  # on the board already: an earlier run, or another worker just now
        published += 1
    return {"published": published}


def honour_list(community, *, year: int | None = None, limit: int = 100) -> list[dict]:
    """Opted-in volunteers with approved hours (of ``year``, or ever): masked name, hours, most first."""
    q = Q(records__status="approved")
    if year:
        start = timezone.make_aware(dt.datetime(year, 1, 1))
        q &= Q(records__check_in_at__gte=start, records__check_in_at__lt=start.replace(year=year + 1))
    rows = (Volunteer.objects.filter(community=community, honour_opt_in=True)
            .exclude(status=Volunteer.Status.LEFT)
            .annotate(minutes=Sum("records__minutes", filter=q), services=Count("records", filter=q))
            .filter(minutes__gt=0).select_related("resident").order_by("-minutes", "pk")[:limit])
    return [{"name": v.resident.name.masked, "hours": round(v.minutes / 60, 1), "services": v.services}
            for v in rows]

