"""The state machines of insight's rows: alerts, hot issues and classifier versions.

Each is a table on linli.core.workflow: every change of state is a declared move made by
``transition()``, which checks the actor, saves and writes exactly one event in one
transaction. Rows are created elsewhere with an event of their own, which is not a move:
``alert.raised`` (linli.insight.early_warning), ``hotissue.formed`` and ``hotissue.grew``
(linli.insight.hotissues, growing changes members and heat, not the state) and
``classifier.trained`` (linli.insight.services); linli.insight.apps registers their labels.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linli.core.workflow import SYSTEM, Move, Workflow

from . import rules
from .models import Alert, ClassifierVersion, HotIssue

A = Alert.Status
H = HotIssue.Status
C = ClassifierVersion.Status

# Staff acknowledge an alert (someone is looking into it) and close it; a closed alert stays
# closed, and a rise that goes on after it raises no new alert for the same days.
ALERT = Workflow(
    "alert", model=Alert, may=rules.may_move_alert,
    moves=[
        Move("acknowledge", {A.OPEN}, A.ACKNOWLEDGED, who=rules.ALERT_STAFF, label=_("Acknowledge"),
             verb="acknowledged", event_label=_("acknowledged an alert")),
        Move("close", {A.OPEN, A.ACKNOWLEDGED}, A.CLOSED, who=rules.ALERT_STAFF, label=_("Close"),
             verb="closed", event_label=_("closed an alert")),
    ],
    places=lambda alert: {"community": alert.community, "grid": alert.grid},
    event_data=lambda alert: {"alert": alert.pk},
)

# The hourly refresh closes an issue none of whose members is recent any more. A closed issue
# is not reopened: the same problem raised again forms a new issue.
HOT_ISSUE = Workflow(
    "hotissue", model=HotIssue, may=rules.may_move_hot_issue,
    moves=[
        Move("close", {H.OPEN}, H.CLOSED, who=SYSTEM, label=_("Close"), verb="closed",
             event_label=_("closed a hot issue")),
    ],
    places=lambda issue: {"community": issue.community},
    event_data=lambda issue: {"hot_issue": issue.pk},
)


# A trained version is a candidate until it is promoted (it is not worse than the active one on
# the fixed validation split) or rejected. Promoting one first retires the version it replaces,
# as a move of its own: the one-active-version constraint holds at every save.
# Promoted by the daily retraining job and by `linli classify train` (no actor: they run with the
# server's own rights) as well as by a person; each writes the same event.
CLASSIFIER = Workflow(
    "classifier", model=ClassifierVersion, may=rules.may_operate_classifier, jobs_too=frozenset({rules.OPERATOR}),
    moves=[
        Move("promote", {C.CANDIDATE}, C.ACTIVE, who=rules.OPERATOR, label=_("promote"), verb="promoted",
             event_label=_("promoted a classifier version")),
        Move("reject", {C.CANDIDATE}, C.RETIRED, who=rules.OPERATOR, label=_("reject"), verb="rejected",
             event_label=_("rejected a classifier version")),
        Move("retire", {C.ACTIVE}, C.RETIRED, who=rules.OPERATOR, label=_("retire"), verb="retired",
             event_label=_("retired a classifier version")),
    ],
    places=lambda version: {"community": version.community},
    event_data=lambda version: {"number": version.number},
)
