"""Who may move insight's rows on: an alert's staff, and the operators of the learned classifier.

The workflows (linli.insight.workflows) ask these as ``may(actor, obj, who)``; a role name a
rule does not know is refused.
"""

from __future__ import annotations

from linli.community.scope import scope_of

# An alert's moves: the staff who see it (its community office, its street's supervisors, and
# the grid workers of its courtyard), the same accounts linli.insight.early_warning.alerts_for lists.
ALERT_STAFF = "alert_staff"
# A classifier version's moves: the retraining job and `linli classify` (no actor), or a person
# in charge of the model: an admin of the version's community, a superuser for the
# installation-wide model.
OPERATOR = "operator"


def sees_alert(user, alert) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    scope = scope_of(user)
    return (alert.community_id in scope.office_communities
            or (alert.grid_id is not None and alert.grid_id in scope.grids)
            or (bool(scope.streets) and alert.community.street_id in scope.streets))


def may_move_alert(actor, alert, who: str) -> bool:
    return who == ALERT_STAFF and sees_alert(actor, alert)


def may_operate_classifier(actor, version, who: str) -> bool:
    if who != OPERATOR or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    return version.community_id is not None and version.community_id in scope_of(actor).admin_communities


def may_move_hot_issue(actor, issue, who: str) -> bool:
    # Hot issues are formed, grown and closed by the hourly job alone; no person moves one.
    return False
