"""Who the bookings tell what (docs/services.md, "Notifications"): a resident whose waiting booking
moved up; a resident whose booking the office or the provider cancelled (a cancelled time
included); a resident the office booked for by phone or at the desk; a resident booked for
tomorrow (the reminder, once). The event's own actor is never told of what they did. The words
carry no personal data; the link is the resident's bookings page."""

from __future__ import annotations

from typing import Iterator

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from linli.core.registry import Message

from .models import Booking

VERBS = ("services.promoted", "services.cancelled", "services.booked", "services.reminded")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(slot) -> str:
    return formats.date_format(timezone.localtime(slot.starts_at), "DATETIME_FORMAT")


def messages(events: list) -> Iterator[tuple[object, Message]]:
    ids = {_int(e.target_id) for e in events} - {None}
    bookings = Booking.objects.select_related("slot__service", "resident").in_bulk(ids)
    url = reverse("services:mine")
    for event in events:
        booking = bookings.get(_int(event.target_id))
        if booking is None or booking.resident.user_id is None:
            continue
        data = event.data or {}
        service = booking.slot.service
        values = {"service": service.name, "when": _when(booking.slot)}
        if event.verb == "services.promoted":
            title = _("A place came free: you are booked")
            body = _("You moved up from the waiting list: %(service)s on %(when)s.") % values
        elif event.verb == "services.cancelled":
            if not data.get("by_staff"):
                continue
            title = _("Your booking is cancelled")
            if data.get("slot_cancelled"):
                body = _("%(service)s on %(when)s will not take place. Please book another time.") % values
            else:
                body = _("The office cancelled your booking: %(service)s on %(when)s.") % values
        elif event.verb == "services.booked":
            if data.get("channel") not in (Booking.Channel.PHONE, Booking.Channel.WALK_IN):
                continue
            title = _("A place is booked for you")
            body = _("The office booked %(service)s for you on %(when)s.") % values
        else:  # services.reminded
            title = _("Reminder: your booking is tomorrow")
            body = _("%(service)s on %(when)s at %(place)s.") % {**values, "place": service.place}
        yield event, Message(user_ids=[booking.resident.user_id], title=title, body=body, url=url,
                             community_id=service.community_id)
