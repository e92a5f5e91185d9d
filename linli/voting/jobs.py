"""The engine's periodic job: announce phases as they open (docs/voting.md).

``voting.announce_phases`` (every 300 s, :func:`announce_phases`): every enabled phase that is
running now and whose opening was not yet announced gets ``opened_at`` and one event
``voting.phase_opened``; the recipe in :mod:`linli.voting.notifications` tells the residents of
the process's scope. A phase that ended before the job saw it is not announced (no news). Two
workers at once announce each phase once: the row is re-read under a lock.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from linli.core import events

from .models import Phase


def announce_phases(now=None) -> dict:
    now = now or timezone.now()
    due = list(Phase.objects.filter(enabled=True, opened_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
               .order_by("starts_at", "pk").values_list("pk", flat=True))
    announced = 0
    for pk in due:
        with transaction.atomic():
            phase = (Phase.objects.select_for_update(of=("self",)).select_related("process__community")
                     .filter(pk=pk, opened_at__isnull=True).first())
            if phase is None:
                continue
            phase.opened_at = now
            phase.save(update_fields=["opened_at"])
            process = phase.process
            events.record(actor=None, verb="voting.phase_opened", target=process, community=process.community,
                          at=now, data={"phase": phase.key, "kind": process.kind,
                                        "ends_at": phase.ends_at.isoformat()})
            announced += 1
    return {"announced": announced}
