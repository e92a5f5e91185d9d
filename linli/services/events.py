"""Activities for all ages (全龄): events for children, elders and families, sign-up with party
sizes, the waiting list, check-in by the rotating QR, volunteers who staff them, photos and a
summary afterwards (docs/services.md, "Activities for all ages").

Places are people: a sign-up for a grandmother and her grandson (``party_size`` 2) takes two.
Taking places is ONE conditional UPDATE inside the sign-up's transaction::

    Event.objects.filter(pk=…, status="open", taken__lte=F("capacity") - party)
                 .update(taken=F("taken") + party)

one row → confirmed; none → the waiting list. Giving places back is ``F("taken") - party`` in the
cancellation's transaction, which then promotes, oldest first, every waiting sign-up whose party
fits in what is free (a party of three waits while a single person behind it may move up when
one place comes free). The database's CHECK ``taken <= capacity`` is the backstop.

Age range: an event may say ``min_age`` / ``max_age``. A resident signing up ALONE must be in
the range on the event's day (``age``); a party of two or more is a grown-up bringing children
(or a child bringing a grandparent) and is not checked person by person.

Check-in: the organiser's page shows a QR code that changes every 30 seconds
(:mod:`linli.volunteers.qr` with ``purpose="in"``, keyed by ``Event.qr_secret``); a resident
scans it with their own phone, signed in (``services:event_scan``), or the organiser marks them.

A staffed event (``staff_slots`` > 0) gets a volunteers' activity of type "event": volunteers
sign up to it in the volunteers app, check in and out there, and their approved hours become
points by that app's rules.

Workflows: ``services_event`` (open → cancelled; open / done → done with a summary) and
``event_signup`` (confirmed / waiting → cancelled; waiting → confirmed; confirmed → attended).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.cases.photos import clean_image
from linli.community.models import Resident
from linli.core import events as log
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.core.masking import scrub
from linli.core.workflow import SYSTEM, Move, Workflow
from linli.volunteers import qr

from . import rooms, rules
from .models import Event, EventPhoto, EventSignup

E = Event.Status
S = EventSignup.Status

MAX_PARTY = 6
MAX_CAPACITY = 2000
MAX_HOURS = 24
MAX_PHOTOS = 30
MAX_SUMMARY = 5000
CHECK_IN_EARLY = dt.timedelta(hours=1)
ACTIVE = (S.CONFIRMED, S.WAITING, S.ATTENDED)

# Rule names of the workflows below.
RUN = "run"                        # may_run_event
SELF_OR_RUN = "self_or_run"        # the resident's own account, or who runs the event

EVENTS = {
    "services.event_created": gettext_lazy("created an activity for residents"),
    "services.signed_up": gettext_lazy("signed up for an activity"),
    "services.signup_waiting": gettext_lazy("joined an activity's waiting list"),
    "services.photo_added": gettext_lazy("added a photo of an activity"),
    "services.event_reminded": gettext_lazy("reminded the residents signed up for an activity"),
}


# --- who may ---------------------------------------------------------------------------------------


def may_create(user, community) -> bool:
    """The community office and the party secretary organise activities for residents."""
    return rules.is_office(user, community) or rules.is_secretary(user, community)


def may_run_event(user, event) -> bool:
    """The event's organiser, the office and the party secretary of its community."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return event.organiser_id == user.pk or may_create(user, event.community)


def _may(actor, obj, who: str) -> bool:
    if who == RUN:
        return may_run_event(actor, obj)
    if who == SELF_OR_RUN:
        return actor.pk == obj.resident.user_id or may_run_event(actor, obj.event)
    return False


EVENT = Workflow(
    "services_event", verb_prefix="services", model=Event, may=_may,
    places=lambda e: {"community": e.community},
    event_data=lambda e: {"event": e.pk, "audience": e.audience},
    illegal_message=gettext_lazy("This activity is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not do this with this activity."),
    moves=[
        Move("cancel", {E.OPEN}, E.CANCELLED, who=RUN, label=gettext_lazy("Cancel the activity"),
             verb="event_cancelled", message=gettext_lazy("The activity is cancelled; everyone signed up is told."),
             event_label=gettext_lazy("cancelled an activity for residents")),
        Move("summarise", {E.OPEN, E.DONE}, E.DONE, who=RUN, label=gettext_lazy("Save the summary"),
             verb="event_summarised", message=gettext_lazy("The summary is saved and shown on the activity's page."),
             event_label=gettext_lazy("wrote the summary of an activity")),
    ],
)

SIGNUP = Workflow(
    "event_signup", verb_prefix="services", model=EventSignup, may=_may,
    places=lambda s: {"community": s.event.community},
    event_data=lambda s: {"event": s.event_id, "party": s.party_size},
    illegal_message=gettext_lazy("This sign-up is %(status)s; the step “%(move)s” is not possible now."),
    denied_message=gettext_lazy("You may not change this sign-up."),
    moves=[
        Move("cancel", {S.CONFIRMED, S.WAITING}, S.CANCELLED, who=SELF_OR_RUN, label=gettext_lazy("Cancel my sign-up"),
             verb="signup_cancelled", message=gettext_lazy("Your sign-up is cancelled."),
             event_label=gettext_lazy("cancelled a sign-up for an activity")),
        Move("promote", {S.WAITING}, S.CONFIRMED, who=SYSTEM, label=gettext_lazy("Move up from the waiting list"),
             verb="signup_promoted", event_label=gettext_lazy("moved up from an activity's waiting list")),
        Move("check_in", {S.CONFIRMED}, S.ATTENDED, who=SELF_OR_RUN, label=gettext_lazy("Check in"),
             verb="checked_in", message=gettext_lazy("Checked in. Enjoy the activity!"),
             event_label=gettext_lazy("checked in at an activity")),
    ],
)


# --- reading ---------------------------------------------------------------------------------------


def places_left(event) -> int:
    return max(0, event.capacity - event.taken)


def waiting_list(event) -> list[EventSignup]:
    return list(EventSignup.objects.filter(event=event, status=S.WAITING).order_by("created_at", "id")
                .select_related("resident"))


def active_signup(event, resident) -> EventSignup | None:
    if resident is None:
        return None
    return EventSignup.objects.filter(event=event, resident=resident, status__in=ACTIVE).first()


def shown_summary(event) -> str:
    """The summary as residents read it: ID and phone numbers masked, doors hidden, and the names
    of the people who signed up replaced."""
    names = [r.name.reveal() for r in Resident.objects.filter(event_signups__event=event).distinct()]
    return scrub(event.summary or "", names=names, doors=True, remove_names=True)


def upcoming(community, *, days=28, audience=None, now=None):
    """The open events of the next ``days`` days (the calendar), oldest first."""
    now = now or timezone.now()
    qs = Event.objects.filter(community=community, status=E.OPEN, ends_at__gt=now,
                              starts_at__lt=now + dt.timedelta(days=days))
    if audience:
        qs = qs.filter(audience=audience)
    return qs.order_by("starts_at", "id")


def age_range_text(event) -> str:
    if event.min_age is not None and event.max_age is not None:
        return _("ages %(min)d to %(max)d") % {"min": event.min_age, "max": event.max_age}
    if event.min_age is not None:
        return _("ages %(min)d and up") % {"min": event.min_age}
    if event.max_age is not None:
        return _("up to age %(max)d") % {"max": event.max_age}
    return ""


# --- creating and closing --------------------------------------------------------------------------


def _small_int(value, *, low, high, code, field, message):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(message, code=code, field=field)
    return value


def event_create(*, actor, community, title, audience, starts_at, ends_at, capacity, place="", room=None,
                 min_age=None, max_age=None, staff_slots=0, description="", signup_closes_at=None) -> Event:
    """A new open event organised by ``actor`` (the office or the party secretary). With ``room``
    the room is booked for the event's time through :func:`rooms.request` (approved at once for
    the office); with ``staff_slots`` a volunteers' activity of type "event" is made for the
    volunteers who staff it."""
    if not may_create(actor, community):
        raise PermissionDenied(_("Only the community office organises activities for residents."),
                               code="not_organiser")
    title = (title or "").strip()
    place = (place or "").strip() or (room.name if room is not None else "")
    description = (description or "").strip()
    if not title or len(title) > 120:
        raise InvalidInput(_("Give the activity a title (120 characters at most)."), code="title", field="title")
    if not place or len(place) > 120:
        raise InvalidInput(_("Say where the activity takes place (120 characters at most)."), code="place",
                           field="place")
    if audience not in Event.Audience.values:
        raise InvalidInput(_("Pick who the activity is for."), code="audience", field="audience")
    if len(description) > 5000:
        raise InvalidInput(_("The description is too long (5,000 characters at most)."), code="description",
                           field="description")
    now = timezone.now()
    if starts_at is None or ends_at is None or timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise InvalidInput(_("Give the start and the end."), code="times_required", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput(_("The activity must end after it starts."), code="ends_before_start", field="ends_at")
    if starts_at <= now:
        raise InvalidInput(_("That time has already passed. Pick a time in the future."), code="past",
                           field="starts_at")
    if ends_at - starts_at > dt.timedelta(hours=MAX_HOURS):
        raise InvalidInput(_("An activity lasts 24 hours at most; make one per day."), code="too_long",
                           field="ends_at")
    if signup_closes_at is not None and (timezone.is_naive(signup_closes_at) or signup_closes_at > starts_at):
        raise InvalidInput(_("Sign-up must close before the activity starts."), code="signup_closes",
                           field="signup_closes_at")
    _small_int(capacity, low=1, high=MAX_CAPACITY, code="capacity", field="capacity",
               message=_("Give the number of places (1 to 2,000)."))
    if capacity is None:
        raise InvalidInput(_("Give the number of places (1 to 2,000)."), code="capacity", field="capacity")
    age_message = _("Give ages as whole years from 0 to 120.")
    _small_int(min_age, low=0, high=120, code="age_range", field="min_age", message=age_message)
    _small_int(max_age, low=0, high=120, code="age_range", field="max_age", message=age_message)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidInput(_("The lowest age is above the highest."), code="age_range", field="max_age")
    _small_int(staff_slots, low=0, high=100, code="staff_slots", field="staff_slots",
               message=_("Ask for between 0 and 100 volunteers."))
    if room is not None and room.community_id != getattr(community, "pk", community):
        raise InvalidInput(_("That room belongs to another community."), code="other_community", field="room")
    with transaction.atomic():
        booking = None
        if room is not None:
            booking = rooms.request(actor=actor, room=room, starts_at=starts_at, ends_at=ends_at,
                                    purpose=title[:200], attendees=capacity)
        activity = None
        if staff_slots:
            from linli.volunteers import activities

            activity = activities.activity_create(
                actor=actor, community=community, title=(_("Helping at: %(title)s") % {"title": title})[:120],
                activity_type="event", starts_at=starts_at, ends_at=ends_at, slots=staff_slots, place=place,
                skills=("events",), description=description[:2000])
        event = Event.objects.create(
            community=community, title=title, audience=audience, description=description, place=place,
            room_booking=booking, starts_at=starts_at, ends_at=ends_at, capacity=capacity, min_age=min_age,
            max_age=max_age, signup_closes_at=signup_closes_at, organiser=actor, staff_activity=activity,
            created_at=now)
        log.record(actor=actor, verb="services.event_created", target=event, community=community, at=now,
                   data={"event": event.pk, "audience": audience, "capacity": capacity,
                         "room": room.pk if room is not None else None, "staff_slots": staff_slots or 0})
    return event


def event_cancel(*, actor, event) -> Event:
    """Cancel an open event: everyone signed up is told (notify recipe); its room booking and its
    staff activity are cancelled too."""
    with transaction.atomic():
        event = EVENT.transition(event, "cancel", actor=actor)
        booking = event.room_booking
        if booking is not None and booking.status in rooms.LIVE and booking.ends_at > timezone.now():
            # The event's runner may not be the room's requester nor the office (the party
            # secretary): the server frees the room then (actor None, ``jobs_too``).
            own = rooms.ROOM_BOOKING.actor_may(actor, booking, rooms.REQUESTER_OR_OFFICE)
            rooms.ROOM_BOOKING.transition(booking, "cancel", actor=actor if own else None)
        activity = event.staff_activity
        if activity is not None and activity.status == activity.Status.OPEN:
            from linli.volunteers import activities

            activities.activity_cancel(actor=actor, activity=activity)
    return event


def summarise(*, actor, event, summary) -> Event:
    """The summary after the event (who runs it): the event is done; residents read it scrubbed
    (:func:`shown_summary`)."""
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput(_("Write a few lines about how it went."), code="summary_required", field="summary")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(_("The summary is too long (5,000 characters at most)."), code="summary_too_long",
                           field="summary")

    def apply(obj, now):
        if obj.ends_at > now:
            raise InvalidInput(_("The summary is written after the activity has ended."), code="not_over",
                               field="summary")
        obj.summary = summary
        obj.summary_at = now

    return EVENT.transition(event, "summarise", actor=actor, apply=apply)


def add_photo(*, actor, event, image, caption="") -> EventPhoto:
    """A photo of the event (who runs it), from its start on: checked and re-encoded without
    metadata by :func:`linli.cases.photos.clean_image` (size, type by content)."""
    if not may_run_event(actor, event):
        raise PermissionDenied(_("You may not do this with this activity."), code="not_organiser")
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise InvalidInput(_("The caption is too long (200 characters at most)."), code="caption", field="caption")
    if event.status == E.CANCELLED:
        raise Conflict(_("This activity was cancelled."), code="event_cancelled")
    now = timezone.now()
    if event.starts_at > now:
        raise InvalidInput(_("Photos are added once the activity has started."), code="not_started", field="image")
    cleaned = clean_image(image)
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if EventPhoto.objects.filter(event=event).count() >= MAX_PHOTOS:
            raise InvalidInput(_("An activity keeps 30 photos at most."), code="too_many_photos", field="image")
        photo = EventPhoto(event=event, caption=caption, uploaded_by=actor, created_at=now)
        ext = "png" if cleaned.content_type == "image/png" else "jpg"
        photo.image.save(f"{secrets.token_hex(12)}.{ext}", ContentFile(cleaned.content), save=True)
        log.record(actor=actor, verb="services.photo_added", target=photo, community=event.community, at=now,
                   data={"event": event.pk, "photo": photo.pk})
    return photo


# --- sign-up ---------------------------------------------------------------------------------------


def _check_open(event, now) -> None:
    if event.status == E.CANCELLED:
        raise Conflict(_("This activity was cancelled."), code="event_cancelled")
    if event.status == E.DONE:
        raise Conflict(_("This activity is over."), code="closed")
    if event.starts_at <= now:
        raise Conflict(_("This activity has already started; sign-up is closed."), code="started")
    if event.signup_closes_at is not None and event.signup_closes_at <= now:
        raise Conflict(_("Sign-up for this activity has closed."), code="closed")


def _check_age(event, resident, party_size) -> None:
    if party_size > 1 or (event.min_age is None and event.max_age is None):
        return
    age = resident.age(timezone.localtime(event.starts_at).date())
    if (event.min_age is not None and age < event.min_age) or (event.max_age is not None and age > event.max_age):
        raise InvalidInput(_("This activity is for %(range)s. To bring a child or a grandparent, sign up for "
                             "two or more people.") % {"range": age_range_text(event)}, code="age",
                           field="party_size")


def signup(*, actor, event, resident, party_size=1, at=None) -> EventSignup:
    """Sign ``resident`` up with a party of ``party_size`` people (1 to 6): confirmed while places
    remain, else on the waiting list. ``actor``: the resident's own account, or who runs the event
    (on their behalf). Refused: another community, closed / started / cancelled, the age range
    for someone signing up alone (``age``), twice (``already_signed_up``)."""
    now = at or timezone.now()
    if isinstance(party_size, bool) or not isinstance(party_size, int) or not 1 <= party_size <= MAX_PARTY:
        raise InvalidInput(_("Sign up for 1 to 6 people."), code="party_size", field="party_size")
    event = Event.objects.select_related("community").filter(pk=event.pk).first()
    if event is None:
        raise NotFound(_("No such activity."))
    if resident.community_id != event.community_id:
        raise PermissionDenied(_("This activity is for residents of another community."), code="other_community")
    if actor is None or (actor.pk != resident.user_id and not may_run_event(actor, event)):
        raise PermissionDenied(_("You may sign up only yourself."), code="not_yours")
    _check_open(event, now)
    _check_age(event, resident, party_size)
    if party_size > event.capacity:
        raise InvalidInput(_("This activity has %(n)d places in all.") % {"n": event.capacity}, code="too_many",
                           field="party_size")
    if EventSignup.objects.filter(event=event, resident=resident, status__in=ACTIVE).exists():
        raise Conflict(_("You are already signed up for this activity."), code="already_signed_up")
    try:
        with transaction.atomic():
            took = Event.objects.filter(pk=event.pk, status=E.OPEN,
                                        taken__lte=F("capacity") - party_size).update(taken=F("taken") + party_size)
            status = S.CONFIRMED if took else S.WAITING
            row = EventSignup.objects.create(event=event, resident=resident, party_size=party_size, status=status,
                                             created_at=now)
            log.record(actor=actor, verb="services.signed_up" if took else "services.signup_waiting", target=row,
                       community=event.community, at=now,
                       data={"event": event.pk, "party": party_size, "status": status})
    except IntegrityError as exc:
        if "one_per_event" in str(exc) or "UNIQUE" in str(exc).upper():
            raise Conflict(_("You are already signed up for this activity."), code="already_signed_up") from None
        raise Conflict(_("This activity is full."), code="full") from None
    return row


def _promote(event) -> list[EventSignup]:
    """Oldest first, every waiting sign-up whose party fits in the free places moves up."""
    promoted = []
    for candidate in waiting_list(event):
        if not Event.objects.filter(pk=event.pk, status=E.OPEN,
                                    taken__lte=F("capacity") - candidate.party_size).update(
                taken=F("taken") + candidate.party_size):
            continue

        def apply(obj, now):
            obj.promoted_at = now

        promoted.append(SIGNUP.transition(candidate, "promote", actor=None, apply=apply))
    return promoted


def cancel_signup(*, actor, signup) -> EventSignup:
    """Cancel a sign-up before the event starts (the resident, or who runs it); a confirmed one
    gives its places back and the waiting list moves up (:func:`_promote`)."""
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=signup.event_id)
        if event.status != E.OPEN:
            _check_open(event, now)
        if event.starts_at <= now:
            raise Conflict(_("This activity has already started; tell the organiser instead."), code="started")
        was = {}

        def apply(obj, moment):
            was["status"] = obj.status
            obj.cancelled_at = moment

        row = SIGNUP.transition(signup, "cancel", actor=actor, apply=apply)
        if was["status"] == S.CONFIRMED:
            Event.objects.filter(pk=event.pk).update(taken=F("taken") - row.party_size)
            _promote(event)
    return row


def check_in(*, actor, event, resident, code=None, at=None) -> EventSignup:
    """A resident checks in by scanning the organiser's rotating QR code (``code``, their own
    account), or the organiser marks them (no code). Open from an hour before the start to the
    end, for a confirmed sign-up."""
    at = at or timezone.now()
    event = Event.objects.select_related("community").filter(pk=event.pk).first()
    if event is None:
        raise NotFound(_("No such activity."))
    own = actor is not None and getattr(actor, "pk", None) == resident.user_id
    if code is not None or not may_run_event(actor, event):
        if not own:
            raise PermissionDenied(_("Only the resident checks in with their own phone."), code="not_own")
        qr.check(event, code, "in", at=at)
    if resident.community_id != event.community_id:
        raise PermissionDenied(_("This activity is for residents of another community."), code="other_community")
    if event.status != E.OPEN:
        raise InvalidInput(_("This activity is not running (it is over or cancelled)."), code="closed")
    if at < event.starts_at - CHECK_IN_EARLY:
        raise InvalidInput(_("Check-in opens an hour before the activity starts."), code="too_early")
    if at > event.ends_at:
        raise InvalidInput(_("This activity has ended; check-in is closed."), code="too_late")
    row = active_signup(event, resident)
    if row is None:
        raise InvalidInput(_("You are not signed up for this activity. Ask the organiser."), code="not_signed_up")
    if row.status == S.ATTENDED:
        raise Conflict(_("Already checked in at %(time)s.") % {
            "time": timezone.localtime(row.checked_in_at).strftime("%H:%M")}, code="already_checked_in")
    if row.status == S.WAITING:
        raise Conflict(_("You are on the waiting list: ask the organiser whether a place is free."),
                       code="not_confirmed")

    def apply(obj, now):
        obj.checked_in_at = at

    return SIGNUP.transition(row, "check_in", actor=actor, apply=apply,
                             data={"source": "qr" if code is not None else "manual"})
