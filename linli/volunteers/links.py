"""What the volunteers app puts on other apps' pages, through their hooks (docs/architecture.md).

- ``community.home_actions``: on a resident's home, "Volunteer with us" (or "My volunteering"
  once they joined), and "Agree to a young volunteer" for a guardian whose consent is awaited.
- ``community.console_links``: on the staff console, "Volunteers and needs" for each community
  whose volunteers office the account reaches.
- ``cases.staff_case_panels``: on the staff case page, "Hand to volunteers" for whoever manages
  needs in the case's place (or a link to the need it already has).
- The main menu's "Volunteers" entry (:func:`sees_office_anywhere`).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from . import rules

OFFICE_URL_NAMES = tuple(f"volunteers:{name}" for name in (
    "office_index", "office", "office_needs", "office_need", "office_teams", "office_team", "office_volunteer"))


def office_communities(user):
    return rules.office_communities(user)


def sees_office_anywhere(user) -> bool:
    return rules.reaches_office(user)


def home_actions(user) -> list[tuple[str, str]]:
    resident = rules.resident_of(user)
    if resident is None:
        return []
    from .models import Volunteer

    joined = Volunteer.objects.filter(resident=resident).exclude(status=Volunteer.Status.LEFT).exists()
    links = [(_("My volunteering") if joined else _("Volunteer with us"), reverse("volunteers:join"))]
    if Volunteer.objects.filter(guardian=resident, guardian_consent_at__isnull=True).exclude(
            status=Volunteer.Status.LEFT).exists():
        links.append((_("Agree to a young volunteer"), reverse("volunteers:consent")))
    return links


def console_links(user) -> list[tuple[str, str]]:
    return [(_("Volunteers and needs: %(community)s") % {"community": c.name},
             reverse("volunteers:office", kwargs={"code": c.code})) for c in office_communities(user)]


def case_panel(user, case):
    """"Hand to volunteers" on the staff case page (cases.staff_case_panels)."""
    if case.community_id is None or not rules.may_manage(user, case.community, case.grid_id):
        return None
    if case.grid_id is None and rules.office_grids(user, case.community) is not None:
        return None
    from .needs import open_need_for_case
    from .skills import ACTIVITY_TYPES

    need = open_need_for_case(case)
    return {"template": "volunteers/office_case_panel.html",
            "context": {"volunteers_need": need, "volunteers_types": ACTIVITY_TYPES,
                        "volunteers_code": case.community.code}}
