"""The board's daily job and its notification recipe.

``disclosure.verify`` (daily, :func:`daily_verify`): runs :func:`linli.disclosure.selectors.verify`
for every community with a log; a failure records ``disclosure.verify_failed`` (at most once a
day per community), which :func:`board_messages` turns into a message to the community's admins
and the supervisors of its street. The same recipe tells approvers that an entry waits for
them and authors that theirs was returned or held.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterator

from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.community.models import Community, StaffRole
from linli.core.models import Event
from linli.core.registry import Message

from . import rules, selectors, services
from .models import Entry

R = StaffRole.Role
QUIET = dt.timedelta(hours=23)


def daily_verify() -> dict:
    checked = failed = 0
    ids = Entry.objects.filter(log_index__isnull=False).values_list("community_id", flat=True).distinct()
    for community in Community.objects.filter(pk__in=list(ids)).order_by("pk"):
        checked += 1
        report = selectors.verify(community)
        if report.ok:
            continue
        failed += 1
        recent = Event.objects.filter(verb="disclosure.verify_failed", community_id=community.pk,
                                      created_at__gte=timezone.now() - QUIET).exists()
        if not recent:
            services.record_verify_failure(community=community, report=report)
    return {"checked": checked, "failed": failed}


def _office_url(code: str, name: str = "office", **kwargs) -> str:
    try:
        return reverse(f"disclosure:{name}", kwargs={"code": code, **kwargs})
    except NoReverseMatch:
        return ""


def _users(community_id: int, roles, *, street_id: int | None = None) -> set[int]:
    q = Q(community_id=community_id, role__in=list(roles))
    if street_id is not None:
        q |= Q(street_id=street_id, role=R.STREET_SUPERVISOR)
    return set(StaffRole.objects.filter(q, active=True).values_list("user_id", flat=True))


def board_messages(events: list) -> Iterator[tuple[object, Message]]:
    communities = Community.objects.in_bulk({e.community_id for e in events if e.community_id})
    entry_ids = {int(e.target_id) for e in events
                 if e.target_type == "disclosure.entry" and e.target_id.isdigit()}
    entries = Entry.objects.in_bulk(entry_ids)
    for event in events:
        community = communities.get(event.community_id)
        if community is None:
            continue
        if event.verb == "disclosure.verify_failed":
            index = (event.data or {}).get("first_bad_index")
            users = _users(community.pk, (R.COMMUNITY_ADMIN,), street_id=community.street_id)
            body = (_("The daily check of %(community)s's public affairs board failed at log entry %(index)s. "
                      "Run “linli disclosure verify” on the server and compare with the backups.")
                    % {"community": community.name, "index": index if index is not None else "?"})
            yield event, Message(user_ids=sorted(users), title=_("The public affairs board does not verify"),
                                 body=body, url=_office_url(community.code), community_id=community.pk)
            continue
        entry = entries.get(int(event.target_id)) if event.target_id.isdigit() else None
        if entry is None:
            continue
        url = _office_url(community.code, "office_entry", pk=entry.pk)
        if event.verb == "disclosure.submitted" and entry.state == Entry.State.SUBMITTED:
            users = _users(community.pk, rules.APPROVER_ROLES.get(entry.section, ())) - {entry.author_id}
            yield event, Message(user_ids=sorted(users), title=_("A board entry waits for your approval"),
                                 body=_("An entry of the %(section)s section waits for approval.")
                                 % {"section": entry.get_section_display()}, url=url, community_id=community.pk)
        elif event.verb == "disclosure.submitted" and entry.state == Entry.State.HELD and entry.author_id:
            yield event, Message(user_ids=[entry.author_id], title=_("Your board entry is held"),
                                 body=_("It looks like it holds a phone or ID number: mask it and submit again."),
                                 url=url, community_id=community.pk)
        elif event.verb == "disclosure.returned" and entry.author_id:
            yield event, Message(user_ids=[entry.author_id], title=_("Your board entry was returned"),
                                 body=_("The approver returned it with a note."), url=url,
                                 community_id=community.pk)
