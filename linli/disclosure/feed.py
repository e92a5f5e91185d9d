"""The board's Atom feed (RFC 4287) at ``/disclosure/<code>/feed.atom``.

Built with Django's ``Atom1Feed`` (it writes the feed's and each entry's ``id``, ``title``,
``updated``, ``link rel="alternate"`` and ``author``, and ``link rel="self"``). The newest
:data:`FEED_SIZE` public entries, newest first. A withdrawn entry appears as a tombstone: its
number, the date and the reason, no word of what it said. Entry ids are the entry pages'
absolute URLs: they never change, because a log index is never reused.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from linli.core.masking import scrub

from .models import Entry, Section
from .public_selectors import SECTION_LABELS, board, role_label

FEED_SIZE = 50


def body_html(entry: Entry) -> str:
    """The body as the feed's HTML summary: escaped; a finance table kept fixed-width."""
    if entry.section == Section.FINANCE:
        return f"<pre>{escape(entry.body)}</pre>"
    return linebreaks(entry.body, autoescape=True)


def corrects_html(request, community, entry: Entry) -> str:
    """For a correction, a first line linking to the entry it corrects (a subscriber sees both
    in the feed and should know which one stands); empty otherwise."""
    if not entry.supersedes_id or entry.supersedes.log_index is None:
        return ""
    old = entry.supersedes.log_index
    old_url = request.build_absolute_uri(reverse("disclosure:entry", args=[community.code, old]))
    return f'<p><a href="{escape(old_url)}">{escape(_("Corrects entry %(index)s") % {"index": old})}</a></p>'


def tombstone_text(entry: Entry) -> str:
    return _("Withdrawn on %(date)s. Reason: %(reason)s") % {
        "date": timezone.localdate(entry.withdrawn_at).isoformat() if entry.withdrawn_at else "",
        "reason": scrub(entry.withdrawal_reason),
    }


def build(request, community) -> Atom1Feed:
    """The feed of ``community`` for ``request`` (which gives the absolute URLs)."""
    board_url = request.build_absolute_uri(reverse("disclosure:board", args=[community.code]))
    feed = Atom1Feed(
        title=_("%(community)s: public affairs board") % {"community": community.name},
        link=board_url,
        description=_("Party, residential and financial affairs of %(community)s, each entry signed into "
                      "the community's public log.") % {"community": community.name},
        feed_url=request.build_absolute_uri(reverse("disclosure:feed", args=[community.code])),
        feed_guid=board_url,
        author_name=community.name,
        language=getattr(request, "LANGUAGE_CODE", None),
    )
    for entry in board(community).select_related("supersedes")[:FEED_SIZE]:
        url = request.build_absolute_uri(reverse("disclosure:entry", args=[community.code, entry.log_index]))
        section = str(SECTION_LABELS.get(entry.section, entry.section))
        if entry.state == Entry.State.WITHDRAWN:
            feed.add_item(
                title=_("Withdrawn: entry %(index)s") % {"index": entry.log_index},
                link=url, unique_id=url, description=escape(tombstone_text(entry)),
                pubdate=entry.published_at, updateddate=entry.withdrawn_at or entry.published_at,
                author_name=community.name, categories=[section],
            )
            continue
        feed.add_item(
            title=entry.title, link=url, unique_id=url, description=corrects_html(request, community, entry)
            + body_html(entry),
            pubdate=entry.published_at, updateddate=entry.published_at,
            author_name=_("%(community)s, %(role)s") % {"community": community.name,
                                                         "role": role_label(entry.author_role)},
            categories=[section],
        )
    return feed
