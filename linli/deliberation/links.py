"""What 一月一议 puts on other apps' pages, through their hooks (docs/architecture.md).

- ``insight.hotissue_actions``: on a hot issue's staff page, “Put on this month's deliberation”
  for an account that runs the deliberation of the issue's community.
- ``community.home_actions``: on a resident's home, “Monthly deliberation” while a month of
  their community is running.
- ``voting.process_url``: where a deliberation process's phase-opened notification links.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from . import rules, selectors


def hotissue_actions(user, hotissue) -> list[tuple[str, str]]:
    community = hotissue.community
    if not rules.may_run(user, community):
        return []
    rnd = selectors.round_taking_topics(community)
    if rnd is None:
        return [(_("No month's deliberation takes topics now: open one"),
                 reverse("deliberation:office", kwargs={"code": community.code}))]
    return [(_("Put on the deliberation of %(month)s") % {"month": str(rnd)},
             reverse("deliberation:office_hotissue", kwargs={"code": community.code, "pk": rnd.pk,
                                                             "hid": hotissue.pk}))]


def home_actions(user) -> list[tuple[str, str]]:
    """“Monthly deliberation” while a month of the resident's community is running."""
    resident = rules.resident_of(user)
    if resident is None or not selectors.active_rounds(resident.community):
        return []
    return [(_("Monthly deliberation"), reverse("deliberation:home", kwargs={"code": resident.community.code}))]


def process_url(process) -> str | None:
    if process.kind != "deliberation":
        return None
    rnd = getattr(process, "deliberation_round", None)
    if rnd is None:
        return None
    return reverse("deliberation:round", kwargs={"code": process.community.code, "pk": rnd.pk})
