"""The periodic retraining job, and the insight jobs caught up over a history loaded at once.

``retrain_all`` is a job linli.insight.apps registers (no arguments, like every job);
``retrain(community_id)`` does one community. Safe to run twice or in two workers: a
community is skipped when a version trained on exactly the same cases already exists
(the training data's sha256 is stored on each version), and a race between two workers
ends at the version number's unique constraint, with the loser skipping.

``catch_up(community_id)`` is for a community whose cases arrived all at once (the demo's
history): what the hourly jobs would have left behind had they been running all along.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError

from linli.cases.models import Case
from linli.community.models import Community

from . import early_warning, hotissues, services
from .models import ClassifierVersion

log = logging.getLogger(__name__)


def retrain(community_id: int) -> dict:
    """Train a candidate on the community's confirmed cases and promote it if not worse."""
    community = Community.objects.get(pk=community_id)
    train, _validation = services.training_split(community)
    if len(train) < services.MIN_TRAINING_CASES or len({code for _m, code in train}) < 2:
        return {"trained": 0, "skipped": "too_few_cases"}
    if ClassifierVersion.objects.filter(community=community,
                                        data_sha256=services.training_data_hash(community)).exists():
        return {"trained": 0, "skipped": "unchanged"}
    try:
        version = services.classifier_train_from_cases(actor=None, community=community)
    except IntegrityError:
        log.info("community %s: another worker stored this version first", community.code)
        return {"trained": 0, "skipped": "concurrent"}
    promoted = services.classifier_promote(actor=None, version=version)
    return {"trained": 1, "promoted": int(promoted), "number": version.number}


def retrain_all() -> dict:
    """The job: every community with human-labelled cases."""
    totals = {"communities": 0, "trained": 0, "promoted": 0}
    ids = (services.labelled_cases_of(Case.objects.all())
           .values_list("community_id", flat=True).distinct().order_by("community_id"))
    for community_id in ids:
        result = retrain(community_id)
        totals["communities"] += 1
        totals["trained"] += result.get("trained", 0)
        totals["promoted"] += result.get("promoted", 0)
    return totals


def catch_up(community_id: int, *, days: int = 365) -> dict:
    """The community's hot issues now and the alerts of its last ``days`` days. Its events are
    written as the jobs write them: a caller that does not want past alerts to be news moves the
    notification cursor past them afterwards (the demo does)."""
    issues = hotissues.refresh(community_id)
    alerts = early_warning.scan(community_id, days=days)
    return {"hot_issues": issues["formed"], "alerts": alerts["raised"]}
