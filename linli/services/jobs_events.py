"""The activities' job (registered in apps.py): remind the confirmed residents the day before.

``services.remind_events`` runs hourly: each open event starting within the next 24 hours gets
one ``services.event_reminded`` event (its recipe tells the confirmed residents), once. "Once" is
kept by the event log itself, checked under the event's row lock, so two workers never remind
twice (the Event row has no column for it; docs/services.md).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from linli.core import events as log
from linli.core.models import Event as LogEvent

from .models import Event, EventSignup

AHEAD = dt.timedelta(hours=24)
VERB = "services.event_reminded"


def remind(*, now=None) -> dict:
    now = now or timezone.now()
    due = list(Event.objects.filter(status=Event.Status.OPEN, starts_at__gt=now, starts_at__lte=now + AHEAD)
               .values_list("pk", flat=True))
    done = 0
    for pk in due:
        with transaction.atomic():
            event = Event.objects.select_for_update().select_related("community").get(pk=pk)
            if LogEvent.objects.filter(verb=VERB, target_type="services.event", target_id=str(pk)).exists():
                continue
            confirmed = EventSignup.objects.filter(event=event, status=EventSignup.Status.CONFIRMED).count()
            log.record(actor=None, verb=VERB, target=event, community=event.community, at=now,
                       data={"event": event.pk, "confirmed": confirmed})
            done += 1
    return {"reminded": done}
