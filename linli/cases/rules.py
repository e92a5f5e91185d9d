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

from linli.community.scope import scope_of

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
