"""Who 一月一议 tells what (docs/deliberation.md): the proposer when their proposal goes on the
agenda, is declined (with where to read why) or is decided; a comment's author when it is
hidden. The words carry no personal data and no proposal text; the link is the page."""

from __future__ import annotations

from typing import Iterator

from django.urls import reverse
from django.utils.translation import gettext as _

from linli.core.registry import Message

from .models import Comment, Proposal

VERBS = ("deliberation_proposal.threshold_reached", "deliberation_proposal.put_on_agenda",
         "deliberation_proposal.declined", "deliberation_proposal.decided", "deliberation_comment.hidden")


def _ids(events, target_type) -> set[int]:
    return {int(e.target_id) for e in events if e.target_type == target_type and e.target_id.isdigit()}


def messages(events: list) -> Iterator[tuple[object, Message]]:
    proposals = Proposal.objects.select_related("community").in_bulk(_ids(events, "deliberation.proposal"))
    comments = Comment.objects.select_related("proposal__community").in_bulk(_ids(events, "deliberation.comment"))
    for event in events:
        if event.verb == "deliberation_comment.hidden":
            item = comments.get(int(event.target_id)) if event.target_id.isdigit() else None
            if item is None or not item.author_user_id:
                continue
            proposal = item.proposal
            yield event, Message(user_ids=[item.author_user_id], title=_("Your comment was hidden"),
                                 body=_("The moderator hid your comment and gave a reason; it is shown beside "
                                        "your comment."),
                                 url=reverse("deliberation:proposal", kwargs={"code": proposal.community.code,
                                                                              "pk": proposal.pk}),
                                 community_id=proposal.community_id)
            continue
        proposal = proposals.get(int(event.target_id)) if event.target_id.isdigit() else None
        if proposal is None or not proposal.proposer_user_id:
            continue
        title = {
            "deliberation_proposal.threshold_reached": _("Your proposal is on the council's agenda"),
            "deliberation_proposal.put_on_agenda": _("Your proposal is on the council's agenda"),
            "deliberation_proposal.declined": _("Your proposal is not taken up"),
            "deliberation_proposal.decided": _("The council decided on your proposal"),
        }[event.verb]
        body = _("Open the proposal to read more.")
        if event.verb == "deliberation_proposal.declined":
            body = _("The community office gave its reason on the proposal's page.")
        yield event, Message(user_ids=[proposal.proposer_user_id], title=title, body=body,
                             url=reverse("deliberation:proposal", kwargs={"code": proposal.community.code,
                                                                          "pk": proposal.pk}),
                             community_id=proposal.community_id)
