"""Who may do what with a case: the permission rules of the case loop, written once.

The workflow table (linli.cases.workflow) names, for each move, a rule of this
module in its ``who``; pages, the API and the services ask the same functions,
so "may this account accept this case?" has one answer everywhere.

* ``OFFICE``: a community admin or worker of the case's community, or a grid worker
  of its courtyard;
* ``UNIT``: the staff of the handling unit the case is now with (and the office, on its
  behalf);
* ``REPORTER``: the resident who asked (as the reporter, or from a resident's own
  account that submitted it).
"""

from __future__ import annotations

import rules

from linli.community.scope import scope_of
from linli.core.masking import scrub

from .models import Case

OFFICE = "office"
UNIT = "unit"
REPORTER = "reporter"


def _is_office(scope, case: Case) -> bool:
    return case.community_id in scope.worker_communities or (
        case.grid_id is not None and case.grid_id in scope.grids)


def actor_may(actor, case: Case, who: str) -> bool:
    """Whether ``actor`` (a signed-in account) satisfies the rule ``who`` for this case.
    The workflow answers for moves only periodic jobs make (``SYSTEM``) itself."""
    if actor is None:
        return False
    scope = scope_of(actor)
    if who == OFFICE:
        return _is_office(scope, case)
    if who == UNIT:
        return _is_office(scope, case) or (case.unit_id is not None and case.unit_id in scope.organisations)
    if who == REPORTER:
        return bool(
            (case.reporter_id and case.reporter_id == scope.resident_id)
            or (case.submitted_by_id and case.submitted_by_id == actor.pk and not scope.is_staff)
        )
    return False


def may_note(actor, case: Case) -> bool:
    """Notes are written by whoever works the case: the office and the unit."""
    return actor_may(actor, case, OFFICE) or actor_may(actor, case, UNIT)


def is_own(user, case: Case) -> bool:
    """The case is the account's own request: what the resident's pages show (the reporter,
    or an account that raised it on the web)."""
    scope = scope_of(user)
    return bool((case.reporter_id and case.reporter_id == scope.resident_id)
                or (case.submitted_by_id == user.pk and case.channel == Case.Channel.WEB))


# --- what of a case's personal data an account sees (docs/privacy.md, "Cases") ---------------------
#
# * ``FULL``: the office of the case's community (admin, worker, party secretary), the grid worker
#   of its courtyard, and the resident who asked: the description as written, the home's door, the
#   reporter and contact (masked, revealed through the registry), the notes.
# * ``UNIT``: the staff of the handling unit the case is with: the description scrubbed of ID and
#   phone numbers, the reporter's and contact's names and doors; no door; the contact only through
#   an audited reveal (``services.case_contact_reveal``), and nothing at all of an anonymous
#   reporter (the office relays).
# * ``SCRUBBED``: everyone else who may see the case (the street supervisor): scrubbed text only,
#   no person, no door, no notes, no photos.
FULL = "full"
UNIT_VIEW = "unit"
SCRUBBED = "scrubbed"


def case_view(user, case: Case) -> str:
    scope = scope_of(user)
    if (case.community_id in scope.office_communities
            or (case.grid_id is not None and case.grid_id in scope.grids) or is_own(user, case)):
        return FULL
    if case.unit_id is not None and case.unit_id in scope.organisations:
        return UNIT_VIEW
    return SCRUBBED


def case_names(case: Case) -> list[str]:
    """The people a case's free text may name: its reporter and its contact, in plain text, for
    :func:`linli.core.masking.scrub` (each part of a name written with spaces too)."""
    names = []
    for value in (getattr(case.reporter, "name", None) if case.reporter_id else None, case.contact_name):
        plain = value.reveal() if hasattr(value, "reveal") else value
        if plain:
            names.append(str(plain))
            names.extend(part for part in str(plain).split() if len(part) >= 2)
    return names


def scrub_for_outsiders(case: Case, text: str, names=None) -> str:
    """A case's free text for readers outside the office (the unit, the street): the reporter's
    and contact's names removed outright (not even masked: a masked name beside a courtyard still
    points at a person), ID and phone numbers masked, home doors removed."""
    names = case_names(case) if names is None else names
    return scrub(text or "", names=names, doors=True, remove_names=True)


def may_reveal_contact(actor, case: Case) -> bool:
    """Who may see the contact's phone in full, with a reason, audited: the unit the case is with
    (to call the resident back) and the office that works the case; never for an anonymous case
    outside the office (the office relays)."""
    if actor is None:
        return False
    scope = scope_of(actor)
    if _is_office(scope, case):
        return True
    return (case.is_open and not case.anonymous and case.unit_id is not None and case.unit_id in scope.organisations)


# --- the case settings (docs/roles.md, "Case settings") ----------------------------------------

@rules.predicate
def may_edit_case_settings(user, community=None) -> bool:
    """Routing rules, keywords, time limits and the holiday calendar are configuration: the
    community's administrators edit them (with ``community``: that one's; without: any, for
    the menu and the installation-wide holiday calendar). Workers, the party secretary, grid
    workers, units, supervisors and residents do not."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    admin = scope_of(user).admin_communities
    return community.pk in admin if community is not None else bool(admin)


rules.add_perm("cases.edit_settings", may_edit_case_settings)
