"""Welfare checks (上门探视): a meal brought to an elder living alone and nobody answering is a
reason to look in on them at once (docs/canteen.md, "Delivery").

:func:`open_check` runs inside :func:`linli.canteen.delivery.mark_not_home`'s transaction: when
the order's resident meets the criterion ``alone_elder`` (:mod:`linli.canteen.eligibility`: a
household of one aged 60+, or tagged so), it opens ONE urgent case through
``cases.services.case_submit`` — channel ``welfare``, place "home", the resident's household (so
the case lands in that courtyard's grid, where its grid worker sees it), the community's case
category with code ``welfare-check`` when it has an active one (else none: the office triages
it), a response due within :data:`RESPOND_WITHIN` — links it to the order and records
``canteen.welfare_check_opened``. The canteen's notify recipe (:mod:`.notifications`) tells the
grid workers of that courtyard (else the community's office) on the dispatcher's next run (every
10 s).

The case is submitted by the system (no reporter, no submitter): the elder did not ask, and the
volunteer who knocked is not told of its handling. Its description is in the site's language
and names the door and the time, never the person. Marking the same order twice is refused by
the workflow; a second not-at-home of the same household while its welfare case of that day is
still open is linked to that case instead of opening another.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.cases.models import Case, Category, Urgency
from linli.cases.services import Intake, case_submit
from linli.community.models import Resident
from linli.core import events

from . import eligibility
from .models import Order

RESPOND_WITHIN = dt.timedelta(minutes=30)
CATEGORY_CODE = "welfare-check"
CRITERION = "alone_elder"
OPEN_VERB = "canteen.welfare_check_opened"

# A welfare case still being handled (a resolved one was looked into: a later not-at-home is news).
_STILL_OPEN = (Case.Status.SUBMITTED, Case.Status.ACCEPTED, Case.Status.DISPATCHED, Case.Status.IN_PROGRESS)

EVENTS = {
    OPEN_VERB: gettext_lazy("opened a welfare check after a meal delivery found nobody at home"),
}

def lives_alone(resident, *, on: dt.date) -> bool:
    """Whether the resident meets ``alone_elder`` on that day (one query)."""
    return Resident.objects.filter(eligibility.criterion_q(CRITERION, resident.community_id, on),
                                   pk=resident.pk).exists()


def category_for(community) -> Category | None:
    return Category.objects.filter(community=community, code=CATEGORY_CODE, active=True).first()


def description_for(order: Order, at: dt.datetime) -> str:
    """The case's text, in the site's language, with the door and the time and no name."""
    household = order.resident.household
    with translation.override(settings.LANGUAGE_CODE):
        return _("Meal delivery: nobody answered at %(door)s at %(time)s. Elder living alone: please check on "
                 "them within 30 minutes.") % {"door": household.door,
                                               "time": timezone.localtime(at).strftime("%H:%M")}


def _open_case_today(household, day: dt.date) -> Case | None:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return (Case.objects.filter(household=household, channel=Case.Channel.WELFARE, created_at__gte=start,
                                created_at__lt=start + dt.timedelta(days=1))
            .filter(status__in=_STILL_OPEN).order_by("created_at", "pk").first())


def open_check(*, actor, order: Order) -> Case | None:
    """Open (or join) the welfare check of a not-at-home order, in the caller's transaction.
    Returns the case, or None when the resident does not live alone (or the order has one)."""
    if order.status != Order.Status.NOT_HOME or order.welfare_case_id is not None:
        return None
    resident = Resident.objects.select_related("household__building", "household__unit", "household__grid",
                                               "community").get(pk=order.resident_id)
    at = order.outcome_at or timezone.now()
    day = timezone.localdate(at)
    if not lives_alone(resident, on=day):
        return None
    household = resident.household
    case = _open_case_today(household, day)
    joined = case is not None
    if case is None:
        intake = Intake(community=resident.community, channel=Case.Channel.WELFARE,
                        description=description_for(order, at), category=category_for(resident.community),
                        urgency=Urgency.URGENT, place=Case.Place.HOME, household=household,
                        respond_within=RESPOND_WITHIN)
        case, _created = case_submit(actor=None, intake=intake)
    Order.objects.filter(pk=order.pk).update(welfare_case=case)
    order.welfare_case = case
    events.record(actor=actor, verb=OPEN_VERB, target=order, community=resident.community, grid=household.grid,
                  data={"order": order.pk, "round": order.round_id, "case": case.pk, "number": case.number,
                        "joined": joined})
    return case


def opened_q() -> Q:
    """Orders that opened (or joined) a welfare check."""
    return Q(welfare_case__isnull=False)
