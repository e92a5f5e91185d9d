"""What the canteen puts on other apps' pages, through their hooks (docs/architecture.md).

- The main menu's "Canteen" entry for staff who reach a canteen office (:func:`sees_office_anywhere`).
- ``community.home_actions``: on a resident's home, "Canteen: this week's menu" (``canteen:week``)
  when their community has an active canteen.
- ``community.console_links``: on the staff console, "Canteen: <community>" for each community
  whose canteen office the account reaches.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from . import rules

OFFICE_URL_NAMES = tuple(f"canteen:{name}" for name in (
    "office_index", "office", "office_menu", "office_meal", "office_meal_new", "office_dishes", "office_dish",
    "office_rules", "office_permits", "office_claim", "office_dashboard"))


def sees_office_anywhere(user) -> bool:
    return rules.reaches_office(user)


def home_actions(user) -> list[tuple[str, str]]:
    resident = rules.resident_of(user)
    if resident is None:
        return []
    from .models import Canteen

    if not Canteen.objects.filter(community_id=resident.community_id, active=True).exists():
        return []
    try:
        return [(_("Canteen: this week's menu"), reverse("canteen:week"))]
    except NoReverseMatch:  # the residents' pages are not mounted
        return []


def console_links(user) -> list[tuple[str, str]]:
    return [(_("Canteen: %(community)s") % {"community": c.name}, reverse("canteen:office", kwargs={"code": c.code}))
            for c in rules.office_communities(user)]
