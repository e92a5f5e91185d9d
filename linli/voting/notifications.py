"""The engine's notification recipe: a phase has opened (docs/voting.md).

``voting.phase_opened`` tells the accounts of the residents in the process's scope (its
grids, or the whole community), in the inbox and by whatever channels notify uses (e-mail,
partners' webhooks). The link is the page the app that runs the process registered for it
(hook ``voting.process_url``: ``(process) → url or None``), else the residents' list of votes.
"""

from __future__ import annotations

from typing import Iterator

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Resident
from linli.core.registry import Message, hooks

from .models import Process

PROCESS_URL = "voting.process_url"


def process_url(process: Process) -> str:
    for function in hooks(PROCESS_URL):
        url = function(process)
        if url:
            return url
    try:
        return reverse("voting:my_votes", kwargs={"code": process.community.code})
    except NoReverseMatch:
        return ""


def audience(process: Process) -> list[int]:
    """User ids of the residents in the process's scope who have an account."""
    qs = Resident.objects.filter(community_id=process.community_id, user__isnull=False, user__is_active=True)
    grids = list(process.grids.values_list("pk", flat=True))
    if grids:
        qs = qs.filter(grid_id__in=grids)
    return sorted(set(qs.values_list("user_id", flat=True)))


def phase_messages(events: list) -> Iterator[tuple[object, Message]]:
    ids = {int(e.target_id) for e in events if e.target_type == "voting.process" and e.target_id.isdigit()}
    processes = Process.objects.select_related("community").in_bulk(ids)
    for event in events:
        process = processes.get(int(event.target_id)) if event.target_id.isdigit() else None
        if process is None:
            continue
        key = (event.data or {}).get("phase")
        phase = process.phases.filter(key=key).first()
        if phase is None:
            continue
        title = _("Now open: %(phase)s") % {"phase": phase.name}
        body = _("“%(process)s” has entered the phase “%(phase)s”, until %(ends)s.") % {
            "process": process.title, "phase": phase.name,
            "ends": timezone.localtime(phase.ends_at).strftime("%Y-%m-%d %H:%M")}
        yield event, Message(user_ids=audience(process), title=title, body=body, url=process_url(process),
                             community_id=process.community_id)
