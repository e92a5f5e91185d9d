"""Service hours: check in and out by rotating QR codes or by the organiser's hand, forgotten
check-outs closed by the job, approval by someone else, points granted once, ratings
(docs/volunteers.md, "Service hours, approval and points").

Every write is atomic and records one event: a check-in creates the record
(``volunteers.checked_in``); every later change is a move of :data:`SERVICE_RECORD`
(``service_record.checked_out`` … ``service_record.approved``); a rating is ``volunteers.rated``.

The counting rule, in one place (:func:`counted_minutes`): the minutes between check-in and
check-out, at most the scheduled length plus :data:`GRACE` (30 minutes). Check-in is open from
:data:`EARLY` (30 minutes) before the start to the scheduled end.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.scope import scope_of
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.core.masking import scrub

from . import qr
from .models import Activity, Rating, ServiceRecord, Signup, Volunteer
from .workflow_hours import (
    APPROVED, OPEN, PENDING, SERVICE_RECORD, approver_communities, is_own, may_organise,
)

GRACE = dt.timedelta(minutes=30)
EARLY = dt.timedelta(minutes=30)
SOURCE_TYPE = "volunteers.servicerecord"
CAP_REASON = "cap_reached"


def counted_minutes(activity, check_in_at, check_out_at) -> int:
    """min(actual, scheduled + grace), in whole minutes (never negative)."""
    actual = max(check_out_at - check_in_at, dt.timedelta(0))
    scheduled = activity.ends_at - activity.starts_at
    return int(min(actual, scheduled + GRACE).total_seconds() // 60)


def _places(activity) -> dict:
    return {"community": activity.community, "grid": activity.grid}


def _check_window(activity, at) -> None:
    if activity.status != Activity.Status.OPEN:
        raise InvalidInput(_("This activity is not running (it is done or cancelled)."), code="activity_closed")
    if at < activity.starts_at - EARLY:
        raise InvalidInput(_("Check-in opens 30 minutes before the activity starts."), code="too_early")
    if at > activity.ends_at:
        raise InvalidInput(_("This activity has ended; check-in is closed. Ask the organiser to enter "
                             "your hours."), code="too_late")


def _usable(volunteer, activity) -> None:
    if volunteer.community_id != activity.community_id:
        raise PermissionDenied(_("This activity is in another community."), code="other_community")
    if volunteer.status != Volunteer.Status.ACTIVE:
        raise PermissionDenied(_("This volunteer is not active."), code="volunteer_inactive")
    if volunteer.guardian_id and volunteer.guardian_consent_at is None:
        raise PermissionDenied(_("A guardian has to consent before this young volunteer can serve."),
                               code="guardian_consent")


def _lock_existing(activity, volunteer):
    return (ServiceRecord.objects.select_for_update()
            .filter(activity=activity, volunteer=volunteer).first())


def check_in(*, actor, activity, volunteer, code=None, at=None) -> ServiceRecord:
    """The volunteer checks in by scanning (``code`` of purpose "in"), or the organiser checks
    them in (no code: source "manual"). Needs a confirmed sign-up; refused outside
    [starts_at − 30 min, ends_at]."""
    at = at or timezone.now()
    own = actor is not None and volunteer.resident.user_id == getattr(actor, "pk", None)
    if code is not None or own:
        if not own:
            raise PermissionDenied(_("Only the volunteer checks in with their own phone."), code="not_own")
        qr.check(activity, code, "in", at=at)
        source = ServiceRecord.Source.QR
    else:
        if not may_organise(actor, activity):
            raise PermissionDenied(_("You may not do this with this activity."))
        source = ServiceRecord.Source.MANUAL
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        _check_window(activity, at)
        _usable(volunteer, activity)
        if not Signup.objects.filter(activity=activity, volunteer=volunteer,
                                     status=Signup.Status.CONFIRMED).exists():
            raise PermissionDenied(_("You are not signed up (confirmed) for this activity."),
                                   code="not_signed_up")
        existing = _lock_existing(activity, volunteer)
        if existing is not None:
            if existing.status == OPEN:
                raise Conflict(_("Already checked in at %(time)s.") % {
                    "time": timezone.localtime(existing.check_in_at).strftime("%H:%M")}, code="already_checked_in")
            raise Conflict(_("Your hours for this activity are already recorded."), code="already_recorded")
        record = ServiceRecord.objects.create(activity=activity, volunteer=volunteer, check_in_at=at,
                                              source=source, status=OPEN, created_at=at)
        events.record(actor=actor, verb="volunteers.checked_in", target=record, at=at,
                      data={"activity": activity.pk, "volunteer": volunteer.pk, "source": source},
                      **_places(activity))
    return record


def check_out(*, actor, activity, volunteer, code=None, at=None) -> ServiceRecord:
    """The volunteer checks out by scanning (``code`` of purpose "out"), or the organiser checks
    them out (no code). The record waits for approval."""
    at = at or timezone.now()
    own = actor is not None and volunteer.resident.user_id == getattr(actor, "pk", None)
    if code is not None or own:
        if not own:
            raise PermissionDenied(_("Only the volunteer checks out with their own phone."), code="not_own")
        qr.check(activity, code, "out", at=at)
    record = ServiceRecord.objects.filter(activity=activity, volunteer=volunteer).first()
    if record is None:
        raise InvalidInput(_("You have not checked in to this activity."), code="not_checked_in")
    if record.status != OPEN:
        raise Conflict(_("You have already checked out of this activity."), code="already_checked_out")

    def apply(obj, now):
        if at < obj.check_in_at:
            raise InvalidInput(_("Check-out cannot be before check-in."), code="before_check_in")
        obj.check_out_at = at
        obj.minutes = counted_minutes(obj.activity, obj.check_in_at, at)

    return SERVICE_RECORD.transition(record, "check_out", actor=actor, apply=apply)


def mark(*, actor, activity, volunteer, check_in_at, check_out_at) -> ServiceRecord:
    """The organiser enters a volunteer's hours by hand (source "manual"); the record waits for
    approval. An open record (checked in, never out) is completed instead."""
    if not may_organise(actor, activity):
        raise PermissionDenied(_("You may not do this with this activity."))
    if check_in_at is None or check_out_at is None or check_out_at <= check_in_at:
        raise InvalidInput(_("The end must be after the start."), code="times", field="check_out_at")
    if check_in_at < activity.starts_at - EARLY or check_in_at > activity.ends_at:
        raise InvalidInput(_("The start must lie between 30 minutes before the activity and its end."),
                           code="times", field="check_in_at")
    if check_out_at > timezone.now() + dt.timedelta(minutes=1):
        raise InvalidInput(_("The end cannot be in the future."), code="times", field="check_out_at")
    if activity.status == Activity.Status.CANCELLED:
        raise InvalidInput(_("This activity was cancelled."), code="activity_closed")
    _usable(volunteer, activity)
    minutes = counted_minutes(activity, check_in_at, check_out_at)

    def apply(obj, now):
        obj.check_in_at = check_in_at
        obj.check_out_at = check_out_at
        obj.minutes = minutes
        obj.source = ServiceRecord.Source.MANUAL

    with transaction.atomic():
        record = _lock_existing(activity, volunteer)
        if record is None:
            record = ServiceRecord.objects.create(activity=activity, volunteer=volunteer, check_in_at=check_in_at,
                                                  source=ServiceRecord.Source.MANUAL, status=OPEN)
        elif record.status != OPEN:
            raise Conflict(_("This volunteer's hours for this activity are already recorded."),
                           code="already_recorded")
        return SERVICE_RECORD.transition(record, "mark", actor=actor, apply=apply)


def close_forgotten(*, at=None) -> int:
    """Job ``volunteers.close_forgotten``: open records of activities that ended more than
    :data:`GRACE` ago get check-out = the scheduled end (``closed_automatically``)."""
    at = at or timezone.now()
    ids = list(ServiceRecord.objects.filter(status=OPEN, activity__ends_at__lt=at - GRACE)
               .values_list("pk", flat=True)[:5000])
    closed = 0
    for record in ServiceRecord.objects.filter(pk__in=ids).select_related("activity"):
        def apply(obj, now):
            end = obj.activity.ends_at
            obj.check_out_at = max(end, obj.check_in_at)
            obj.closed_automatically = True
            obj.minutes = counted_minutes(obj.activity, obj.check_in_at, obj.check_out_at)

        try:
            SERVICE_RECORD.transition(record, "close", actor=None, apply=apply)
        except InvalidInput:  # checked out meanwhile
            continue
        closed += 1
    return closed


def _refuse_own(actor, record) -> None:
    if is_own(actor, record):
        raise PermissionDenied(_("Nobody approves their own hours: someone else has to."), code="own_record")


def approve(*, actor, record) -> ServiceRecord:
    """Approve a pending record and grant its points (once: the ledger refuses a second grant
    for the same record). Points = ``points_for`` of the activity's type and multipliers, cut
    down by the daily and yearly caps; 0 with reason ``cap_reached`` when nothing is left."""
    from linli.points import earning

    _refuse_own(actor, record)

    def apply(obj, now):
        activity = obj.activity
        obj.decided_by = actor
        obj.decided_at = now
        points = earning.points_for(community=activity.community, activity_type=activity.activity_type,
                                    minutes=obj.minutes or 0, multipliers=list(activity.multipliers or []))
        granted = 0
        if points > 0:
            tx = earning.grant(actor=actor, resident=obj.volunteer.resident, points=points,
                               source=(SOURCE_TYPE, str(obj.pk)), memo=activity.title[:200], at=now)
            if tx is not None:
                granted = int(tx.postings.filter(amount__gt=0).aggregate(s=Sum("amount"))["s"] or 0)
        obj.points = granted
        if points > 0 and granted < points:
            obj.reason = CAP_REASON

    return SERVICE_RECORD.transition(record, "approve", actor=actor, apply=apply)


def reject(*, actor, record, reason: str) -> ServiceRecord:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason: the volunteer sees it."), code="reason", field="reason")
    _refuse_own(actor, record)

    def apply(obj, now):
        obj.decided_by = actor
        obj.decided_at = now
        obj.reason = reason[:200]

    return SERVICE_RECORD.transition(record, "reject", actor=actor, apply=apply)


def may_rate(user, record) -> bool:
    """The person helped (a resident of the need's household) or the activity's organiser."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    activity = record.activity
    if activity.organiser_id == user.pk:
        return True
    need = activity.need
    resident = getattr(user, "resident", None)
    return bool(need is not None and need.household_id and resident is not None
                and resident.household_id == need.household_id)


def rate(*, actor, record, stars, comment="") -> Rating:
    if not may_rate(actor, record):
        raise PermissionDenied(_("Only the person helped or the organiser rates this service."))
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise InvalidInput(_("Give one to five stars."), code="stars", field="stars")
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise InvalidInput(_("Keep the comment under 300 characters."), code="comment", field="comment")
    if record.status not in (PENDING, APPROVED):
        raise InvalidInput(_("Only a service that took place can be rated."), code="not_served")
    with transaction.atomic():
        if Rating.objects.filter(record=record).exists():
            raise Conflict(_("This service is already rated."), code="already_rated")
        rating = Rating.objects.create(record=record, stars=stars, comment=comment, rated_by=actor)
        events.record(actor=actor, verb="volunteers.rated", target=rating,
                      data={"record": record.pk, "stars": stars}, **_places(record.activity))
    return rating


def shown_comment(rating) -> str:
    """A rating's comment as the organiser and approvers see it: numbers and doors masked, and the
    names of the two people it is most likely to name — the volunteer and whoever rated — removed
    (a building leader may not know either)."""
    names = []
    volunteer = rating.record.volunteer.resident
    rater = getattr(rating.rated_by, "resident", None) if rating.rated_by_id else None
    for person in (volunteer, rater):
        if person is not None and person.name:
            names.append(person.name.reveal())
    return scrub(rating.comment, names=names, doors=True, remove_names=True)


def records_of(volunteer):
    """A volunteer's own records, newest first."""
    return (ServiceRecord.objects.filter(volunteer=volunteer)
            .select_related("activity").order_by("-check_in_at", "-id"))


def pending_for(user):
    """Pending records this account may approve (others' only), oldest first."""
    communities = approver_communities(user)
    grids = scope_of(user).grids if user is not None and user.is_authenticated else set()
    qs = ServiceRecord.objects.filter(status=PENDING).select_related(
        "activity", "volunteer", "volunteer__resident")
    qs = qs.filter(Q(activity__community_id__in=communities) | Q(activity__grid_id__in=grids))
    if user is not None and user.is_authenticated:
        qs = qs.exclude(volunteer__resident__user=user)
    return qs.order_by("check_out_at", "id")


# Writes that are not moves of SERVICE_RECORD (registered in apps.py).
EVENTS = {
    "volunteers.checked_in": gettext_lazy("checked in to an activity"),
    "volunteers.rated": gettext_lazy("rated a service"),
    "volunteers.summary_published": gettext_lazy("published the monthly volunteering summary on the board"),
}
