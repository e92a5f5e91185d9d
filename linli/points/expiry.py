"""Points expire (docs/points.md, "Earning, caps, gifts and expiry").

Each credit to a resident's account (a grant, a gift received, a redemption given back) is a
*lot* that expires ``Policy.expiry_months`` after the local day it counts for. Every debit (a
redemption, a gift given, an expiry) spends the **oldest lots first (FIFO)** — the points that
would expire soonest go first, which is what a resident would choose. Since every lot lives
the same number of months, the lots that are due are always the oldest ones, so an expiry
posting spends exactly them and never a point earned inside the window.

- :func:`lots` (pure): the remaining lots after a list of ``(at, amount)`` movements.
- :func:`due` (pure): the points of the lots whose expiry day has come.
- :func:`expiring`: ``[(date, points)]`` still to expire, soonest first.
- :func:`expire_due` (job ``points.expire``, daily): resident → expiry account, once per account
  and day (the transaction's source), through :func:`linli.points.ledger.post`.
- :func:`notify_expiring` (job ``points.expiry_notice``, daily): an event
  ``points.expiry_noticed`` (and so a notification, linli/points/notifications_earn.py) for an
  account with points expiring within ``Policy.expiry_notice_days``, once per account and month of
  expiry (``NoticeSent``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.core import events
from linli.core.errors import Conflict

from . import ledger
from .models import Account, NoticeSent, Posting

log = logging.getLogger(__name__)

SOURCE_TYPE = "points.expiry"


@dataclass
class Lot:
    credited_on: dt.date
    expires_on: dt.date
    points: int


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lots(movements, *, months: int) -> list[Lot]:
    """The lots left after ``movements`` — ``(day, amount)`` pairs in the order they count,
    ``day`` a date — credits adding lots and debits spending the oldest first. A debit beyond
    every lot (impossible for a resident: the database refuses a negative balance) spends what
    there is."""
    remaining: list[Lot] = []
    head = 0
    for day, amount in movements:
        if amount > 0:
            remaining.append(Lot(day, add_months(day, months), amount))
            continue
        need = -amount
        while need and head < len(remaining):
            lot = remaining[head]
            take = min(need, lot.points)
            lot.points -= take
            need -= take
            if lot.points == 0:
                head += 1
    return [lot for lot in remaining[head:] if lot.points > 0]


def due(movements, *, months: int, on: dt.date) -> int:
    """Points whose expiry day is ``on`` or before."""
    return sum(lot.points for lot in lots(movements, months=months) if lot.expires_on <= on)


def _movements(account_ids) -> dict[int, list[tuple[dt.date, int]]]:
    """Each account's posted movements in the order they count (effective time, then id)."""
    out: dict[int, list] = defaultdict(list)
    rows = (Posting.objects.filter(account_id__in=account_ids, transaction__posted=True)
            .order_by("account_id", "transaction__effective_at", "transaction_id", "id")
            .values_list("account_id", "transaction__effective_at", "amount"))
    tz = timezone.get_current_timezone()
    for account_id, at, amount in rows.iterator(chunk_size=5000):
        out[account_id].append((at.astimezone(tz).date(), amount))
    return out


def _months(community) -> tuple[int, int]:
    from .earning import policy_of

    policy = policy_of(community)
    return policy.expiry_months, policy.expiry_notice_days


def expiring(account, *, at=None, movements=None) -> list[tuple[dt.date, int]]:
    """``[(expiry day, points)]`` of the account's lots, soonest first. ``movements``: the
    account's ``(day, amount)`` pairs in order, when the caller has read them already (the
    points page reads the statement once for both)."""
    months, _notice = _months(account.community)
    if movements is None:
        movements = _movements([account.pk]).get(account.pk, [])
    by_day: dict[dt.date, int] = defaultdict(int)
    for lot in lots(movements, months=months):
        by_day[lot.expires_on] += lot.points
    return sorted(by_day.items())


def _resident_accounts(community):
    return Account.objects.filter(community=community, kind="resident", balance__gt=0).order_by("id")


def expire_due(*, community, at=None) -> int:
    """Expire what is due in the community's resident accounts; returns the points expired."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    months, _notice = _months(community)
    accounts = list(_resident_accounts(community))
    movements = _movements([a.pk for a in accounts])
    total = 0
    target = None
    for account in accounts:
        points = due(movements.get(account.pk, []), months=months, on=today)
        if points <= 0:
            continue
        target = target or ledger.expiry_account(community)
        try:
            with transaction.atomic():
                # Under the account's row lock (a redemption's balance update waits for it), read
                # the lots again: what a redemption spent meanwhile is not expired twice.
                Account.objects.select_for_update().filter(pk=account.pk).first()
                points = due(_movements([account.pk]).get(account.pk, []), months=months, on=today)
                if points <= 0:
                    continue
                ledger.post(community=community, kind="expiry", lines=[(account, -points), (target, points)],
                            actor=None, memo=today.isoformat(),
                            source=(SOURCE_TYPE, f"{account.pk}:{today.isoformat()}"), at=at)
        except Conflict as exc:  # already expired today, or spent meanwhile: the next run looks again
            log.info("points: account %s not expired (%s)", account.pk, exc.code)
            continue
        total += points
    return total


def notify_expiring(*, community, at=None) -> int:
    """Tell each resident with points expiring within the notice days, once per month of expiry;
    returns the notices recorded."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    months, notice_days = _months(community)
    horizon = today + dt.timedelta(days=notice_days)
    accounts = list(_resident_accounts(community).filter(resident__isnull=False))
    movements = _movements([a.pk for a in accounts])
    sent = 0
    for account in accounts:
        soon = [lot for lot in lots(movements.get(account.pk, []), months=months) if today < lot.expires_on <= horizon]
        if not soon:
            continue
        first = min(lot.expires_on for lot in soon)
        period = f"{first:%Y-%m}"
        try:
            with transaction.atomic():
                NoticeSent.objects.create(account=account, kind="expiry", period=period)
                events.record(actor=None, verb="points.expiry_noticed", target=account, community=community,
                              data={"points": sum(lot.points for lot in soon), "first": first.isoformat()})
        except IntegrityError:
            continue  # told already for this month
        sent += 1
    return sent


def _communities():
    from linli.community.models import Community

    return Community.objects.filter(pk__in=Account.objects.filter(kind="resident").values("community_id")
                                    ).order_by("id")


def expire_job() -> dict:
    """Job ``points.expire`` (daily)."""
    return {"expired": sum(expire_due(community=c) for c in _communities())}


def notice_job() -> dict:
    """Job ``points.expiry_notice`` (daily)."""
    return {"notices": sum(notify_expiring(community=c) for c in _communities())}
