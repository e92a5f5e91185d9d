"""Who the activities tell what (docs/volunteers.md): the volunteers confirmed for an activity
the day before it starts; a volunteer who moved up from the waiting list; a volunteer the
organiser invited; everyone signed up (confirmed or waiting) when the activity is cancelled.
The words carry no personal data; the link is the activity's page."""

from __future__ import annotations

from typing import Iterator

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from linli.core.registry import Message

from .models import Activity, Signup, Volunteer

VERBS = ("volunteers.reminded", "volunteers.invited", "volunteer_signup.moved_up", "volunteer_activity.cancelled")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(activity) -> str:
    return formats.date_format(timezone.localtime(activity.starts_at), "DATETIME_FORMAT")


def messages(events: list) -> Iterator[tuple[object, Message]]:
    activity_ids = {_int((e.data or {}).get("activity")) for e in events} - {None}
    activities = Activity.objects.in_bulk(activity_ids)
    invited = {_int((e.data or {}).get("volunteer")) for e in events if e.verb == "volunteers.invited"} - {None}
    invitees = dict(Volunteer.objects.filter(pk__in=invited).values_list("pk", "resident__user_id"))
    moved = {_int(e.target_id) for e in events if e.verb == "volunteer_signup.moved_up"} - {None}
    movers = dict(Signup.objects.filter(pk__in=moved).values_list("pk", "volunteer__resident__user_id"))
    for event in events:
        activity = activities.get(_int((event.data or {}).get("activity")))
        if activity is None:
            continue
        url = reverse("volunteers:activity", kwargs={"pk": activity.pk})
        if event.verb == "volunteers.reminded":
            users = list(Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED,
                                               volunteer__resident__user__isnull=False)
                         .values_list("volunteer__resident__user_id", flat=True))
            title = _("Reminder: you help tomorrow")
            body = _("The activity you signed up for starts at %(when)s. Open it to see where.") % {
                "when": _when(activity)}
        elif event.verb == "volunteers.invited":
            users = [invitees.get(_int(event.data.get("volunteer")))]
            title = _("You are invited to help")
            body = _("The organiser thinks you would be a good fit for an activity on %(when)s. "
                     "Open it to sign up.") % {"when": _when(activity)}
        elif event.verb == "volunteer_signup.moved_up":
            users = [movers.get(_int(event.target_id))]
            title = _("A place came free: you are confirmed")
            body = _("You moved up from the waiting list of an activity on %(when)s.") % {"when": _when(activity)}
        else:  # volunteer_activity.cancelled
            users = list(Signup.objects.filter(activity=activity,
                                               status__in=(Signup.Status.CONFIRMED, Signup.Status.WAITING),
                                               volunteer__resident__user__isnull=False)
                         .values_list("volunteer__resident__user_id", flat=True))
            title = _("An activity you signed up for is cancelled")
            body = _("The activity on %(when)s will not take place.") % {"when": _when(activity)}
        users = [u for u in users if u]
        if users:
            yield event, Message(user_ids=users, title=title, body=body, url=url, community_id=activity.community_id)
