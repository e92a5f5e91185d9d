"""Reads of 一月一议 (docs/deliberation.md): scoped by the views through ``rules``."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from linli.voting import phases

from .models import Comment, Decision, Proposal, Round


def rounds(community):
    return (Round.objects.filter(community=community).select_related("process", "community")
            .prefetch_related("process__phases"))


def round_get(community, pk) -> Round | None:
    try:
        return rounds(community).select_related("meeting").filter(pk=int(pk)).first()
    except (TypeError, ValueError, OverflowError):
        return None


def current_phase(rnd: Round, at=None):
    return phases.current(rnd.process, at)


def round_taking_topics(community, at=None) -> Round | None:
    """The round whose proposals phase is running (the latest if several)."""
    for rnd in rounds(community):
        phase = phases.current(rnd.process, at)
        if phase is not None and phase.key == "proposals":
            return rnd
    return None


def active_rounds(community, at=None) -> list[Round]:
    """Rounds whose process is running now, latest first."""
    at = at or timezone.now()
    return [rnd for rnd in rounds(community) if phases.current(rnd.process, at) is not None]


def proposals_of(rnd: Round):
    return (Proposal.objects.filter(round=rnd).exclude(state=Proposal.State.DECLINED)
            .select_related("round").order_by("-support_count", "id"))


def proposal_get(community, pk) -> Proposal | None:
    try:
        return (Proposal.objects.filter(community=community, pk=int(pk))
                .select_related("round__process", "round__community", "community").first())
    except (TypeError, ValueError, OverflowError):
        return None


def comments_for(proposal: Proposal, user, *, office: bool = False) -> list[Comment]:
    """Visible comments; a hidden one only to its author (with the reason) and to the office."""
    items = list(proposal.comments.select_related("author_resident").order_by("id"))
    return [c for c in items if c.state == Comment.State.VISIBLE or office
            or (user is not None and user.is_authenticated and c.author_user_id == user.pk)]


def decision_get(community, pk) -> Decision | None:
    try:
        return (Decision.objects.filter(community=community, pk=int(pk))
                .select_related("proposal", "meeting__round__process", "community")
                .prefetch_related(Prefetch("tasks"), "tasks__updates__photos").first())
    except (TypeError, ValueError, OverflowError):
        return None


def decisions_of(community, *, states=None):
    qs = Decision.objects.filter(community=community).exclude(state=Decision.State.DRAFT)
    if states:
        qs = qs.filter(state__in=states)
    return qs.select_related("proposal", "meeting__round").order_by("-meeting__held_at", "id")


def timeline(decision: Decision) -> list[dict]:
    """The decision's dated story: the meeting, each task set, each progress report, done."""
    items = [{"at": decision.meeting.closed_at or decision.meeting.held_at, "kind": "decided",
              "text": decision.proposal.title}]
    for task in decision.tasks.all():
        items.append({"at": task.created_at, "kind": "task", "text": task.title, "task": task})
        for update in task.updates.all():
            items.append({"at": update.at, "kind": "update", "text": update.note, "task": task, "update": update,
                          "progress": update.progress})
    if decision.done_at:
        items.append({"at": decision.done_at, "kind": "done", "text": ""})
    return sorted(items, key=lambda i: (i["at"] is None, i["at"]))
