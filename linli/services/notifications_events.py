"""Who the rooms and activities tell what (docs/services.md, "Rooms", "Activities for all ages").

- A room request that waits for approval: the community office (admins and workers).
- A request approved or declined: its requester (a decline with the reason's code only; the
  page shows the reason).
- A sign-up moved up from the waiting list: the resident.
- An activity cancelled: everyone signed up (confirmed or waiting).
- The reminder the day before (job ``services.remind_events``): the confirmed residents.

The words carry no personal data; the link is the booking's or the activity's page.
"""

from __future__ import annotations

from typing import Iterator

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from linli.community.models import StaffRole
from linli.core.registry import Message

from .models import Event, EventSignup, RoomBooking

VERBS = ("services.room_requested", "services.room_approved", "services.room_declined", "services.signup_promoted",
         "services.event_cancelled", "services.event_reminded")

R = StaffRole.Role


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _office_users(community_id) -> list[int]:
    return list(StaffRole.objects.filter(community_id=community_id, active=True,
                                         role__in=(R.COMMUNITY_ADMIN, R.COMMUNITY_WORKER))
                .values_list("user_id", flat=True).distinct())


def messages(events: list) -> Iterator[tuple[object, Message]]:
    booking_ids = {_int(e.target_id) for e in events if e.verb.startswith("services.room_")} - {None}
    bookings = RoomBooking.objects.select_related("room__community").in_bulk(booking_ids)
    event_ids = {_int((e.data or {}).get("event")) for e in events} - {None}
    activities = Event.objects.in_bulk(event_ids)
    signup_ids = {_int(e.target_id) for e in events if e.verb == "services.signup_promoted"} - {None}
    signup_users = dict(EventSignup.objects.filter(pk__in=signup_ids).values_list("pk", "resident__user_id"))
    for event in events:
        if event.verb.startswith("services.room_"):
            booking = bookings.get(_int(event.target_id))
            if booking is None:
                continue
            community = booking.room.community
            url = reverse("services:office_rooms", kwargs={"code": community.code})
            if event.verb == "services.room_requested":
                if (event.data or {}).get("status") != RoomBooking.Status.REQUESTED:
                    continue
                users = _office_users(community.pk)
                title = _("A room request to decide")
                body = _("%(room)s is asked for on %(when)s.") % {"room": booking.room.name, "when": _when(booking.starts_at)}
            elif event.verb == "services.room_approved":
                users = [booking.requested_by_id]
                title = _("Your room booking is approved")
                body = _("%(room)s is yours on %(when)s.") % {"room": booking.room.name, "when": _when(booking.starts_at)}
            else:
                users = [booking.requested_by_id]
                title = _("Your room request was declined")
                body = _("%(room)s on %(when)s: open the rooms page to read why.") % {
                    "room": booking.room.name, "when": _when(booking.starts_at)}
            yield event, Message(user_ids=[u for u in users if u], title=title, body=body, url=url,
                                 community_id=community.pk)
            continue
        activity = activities.get(_int((event.data or {}).get("event")))
        if activity is None:
            continue
        url = reverse("services:event", kwargs={"pk": activity.pk})
        if event.verb == "services.signup_promoted":
            users = [signup_users.get(_int(event.target_id))]
            title = _("A place came free: you are confirmed")
            body = _("You moved up from the waiting list of “%(title)s” on %(when)s.") % {
                "title": activity.title, "when": _when(activity.starts_at)}
        elif event.verb == "services.event_reminded":
            users = list(EventSignup.objects.filter(event=activity, status=EventSignup.Status.CONFIRMED)
                         .values_list("resident__user_id", flat=True))
            title = _("Reminder: your activity is tomorrow")
            body = _("“%(title)s” starts at %(when)s.") % {"title": activity.title, "when": _when(activity.starts_at)}
        else:  # services.event_cancelled
            users = list(EventSignup.objects.filter(event=activity, status__in=(EventSignup.Status.CONFIRMED,
                                                                                EventSignup.Status.WAITING))
                         .values_list("resident__user_id", flat=True))
            title = _("An activity you signed up for is cancelled")
            body = _("“%(title)s” on %(when)s will not take place.") % {
                "title": activity.title, "when": _when(activity.starts_at)}
        users = [u for u in users if u]
        if users:
            yield event, Message(user_ids=users, title=title, body=body, url=url, community_id=activity.community_id)
