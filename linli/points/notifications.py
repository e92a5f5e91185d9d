"""The ledger's alert: the nightly audit found drift (docs/points.md, "Audit").

``points.audit_failed`` tells the community admins of the community whose ledger failed, with
a link to the office ledger page (which runs the audit again and shows the problem). The
message names the transaction or account by number only: no person, no balance of a person.
"""

from __future__ import annotations

from typing import Iterator

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from linli.community.models import Community, StaffRole
from linli.core.registry import Message, Recipe

AUDIT_FAILED = "points.audit_failed"


def admins_of(community_id: int) -> list[int]:
    """User ids of the active community admins of the community."""
    return sorted(set(StaffRole.objects.filter(
        role=StaffRole.Role.COMMUNITY_ADMIN, community_id=community_id, active=True, user__is_active=True)
        .values_list("user_id", flat=True)))


def audit_messages(events: list) -> Iterator[tuple[object, Message]]:
    codes = dict(Community.objects.filter(pk__in={e.community_id for e in events if e.community_id})
                 .values_list("pk", "code"))
    for event in events:
        code = codes.get(event.community_id)
        if code is None:
            continue
        data = event.data or {}
        if data.get("culprit") == "account":
            what = _("account #%(id)s") % {"id": data.get("culprit_id")}
        else:
            what = _("transaction #%(id)s") % {"id": data.get("culprit_id")}
        try:
            url = reverse("points:office_ledger", kwargs={"code": code})
        except NoReverseMatch:
            url = ""
        yield event, Message(
            user_ids=admins_of(event.community_id),
            title=_("The points ledger does not add up"),
            body=_("The nightly audit of the points ledger found a problem at %(what)s. "
                   "Open the ledger page to see it; reverse, never edit, to correct it.") % {"what": what},
            url=url, community_id=event.community_id)


AUDIT = Recipe("points.audit", verbs=(AUDIT_FAILED,), messages=audit_messages)
