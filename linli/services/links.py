"""What the services app puts on other apps' pages, through their hooks (docs/architecture.md).

- ``community.home_actions``: on a resident's home, "Book a service" and "Activities".
- ``community.console_links``: on the staff console, "Services" for each community whose services
  office the account reaches (the office, provider staff, the street supervisor for counts).
- The main menu's "Services" entry (:func:`sees_office_anywhere`).
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from . import rules

OFFICE_URL_NAMES = tuple(f"services:{name}" for name in (
    "office_index", "office", "office_service", "office_slot", "office_dashboard"))


def sees_office_anywhere(user) -> bool:
    return rules.reaches_office(user)


def home_actions(user) -> list[tuple[str, str]]:
    if rules.resident_of(user) is None:
        return []
    links = [(_("Book a service"), reverse("services:index"))]
    try:
        links.append((_("Activities"), reverse("services:events")))
    except NoReverseMatch:  # the activities' pages are not mounted (a partial install)
        pass
    return links


def console_links(user) -> list[tuple[str, str]]:
    return [(_("Services: %(community)s") % {"community": c.name},
             reverse("services:office", kwargs={"code": c.code})) for c in rules.office_communities(user)]
