"""Writes of linli.insight that people and commands make: an alert's status, and the learned
classifier's versions (training one, storing it, promoting it). Every change of state is a move
of linli.insight.workflows.

A community's model learns only from its own human labels: cases whose category a person chose
or confirmed (``Case.category_source`` in ``Case.HUMAN_CATEGORY_SOURCES``: the resident or staff
at intake, staff on acceptance). A category the classifier or the keyword rules set on their own
is never a label, so the model does not retrain on its own predictions (docs/classifier.md).
A deterministic hash of each case id puts one labelled case in ``VALIDATION_SHARE`` into a fixed
validation split that no community model trains on, so a new version and the active one are
compared on the same human-labelled cases, and a new version is promoted only when its macro-F1
there is not worse.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from linli.cases.models import Case
from linli.core import events
from linli.core.errors import InvalidInput, PermissionDenied

from . import rules, textclf
from .models import Alert, ClassifierVersion
from .workflows import ALERT, CLASSIFIER

VALIDATION_SHARE = 5  # one case in five validates
MIN_TRAINING_CASES = 20
_TITLE_END = "。！？!?；;\n"
TITLE_CHARS = 50


def message_of(description: str) -> tuple[str, str]:
    """A case description as the (title, text) pair the model reads: its first sentence
    stands in for the title that message-board posts have, the whole text is the body."""
    description = (description or "").strip()
    cut = min([i for i in (description.find(ch) for ch in _TITLE_END) if i >= 0], default=len(description))
    return description[:min(cut, TITLE_CHARS)], description


def in_validation_split(case_id: int) -> bool:
    digest = hashlib.sha256(f"case:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % VALIDATION_SHARE == 0


def labelled_cases_of(queryset):
    """The cases of ``queryset`` whose category is a human label (chosen or confirmed by a person)."""
    return queryset.filter(category__isnull=False, needs_triage=False,
                           category_source__in=Case.HUMAN_CATEGORY_SOURCES)


def confirmed_cases(community):
    """Cases whose category a person chose or confirmed, with the category code as the label."""
    return (labelled_cases_of(Case.objects.filter(community=community))
            .order_by("id").values_list("id", "description", "category__code"))


def training_split(community) -> tuple[list, list]:
    """(training, validation) lists of ((title, text), category code) from the confirmed cases."""
    train, validation = [], []
    for case_id, description, code in confirmed_cases(community):
        (validation if in_validation_split(case_id) else train).append((message_of(description), code))
    return train, validation


def training_data_hash(community) -> str:
    train, _validation = training_split(community)
    return textclf.model.data_hash([m for m, _c in train], [c for _m, c in train])


@transaction.atomic
def classifier_store(*, actor, model: textclf.TextClassifier, community=None, source: str = "",
                     activate: bool = False) -> ClassifierVersion:
    """Save a trained model as the scope's next version (a candidate, or active at once)."""
    scope = ClassifierVersion.objects.select_for_update().filter(community=community)
    number = (scope.aggregate(n=Max("number"))["n"] or 0) + 1
    raw = model.to_bytes()
    version = ClassifierVersion.objects.create(
        community=community, number=number, artifact=raw, checksum=hashlib.sha256(raw).hexdigest(),
        metrics={k: model.meta[k] for k in ("cv", "validation", "label_counts", "train_seconds") if k in model.meta},
        trained_on=model.meta.get("trained_on", 0), data_sha256=model.meta.get("data_sha256", ""),
        source=source[:120], trained_by=actor if getattr(actor, "pk", None) else None)
    events.record(actor=actor, verb="classifier.trained", target=version, community=community,
                  data={"number": number, "trained_on": version.trained_on, "source": version.source,
                        "macro_f1": (version.metrics.get("cv") or {}).get("macro_f1")})
    if activate:
        version = _activate(actor, version, reason="manual")
    return version


def _activate(actor, version: ClassifierVersion, *, reason: str, data: dict | None = None,
              metrics: dict | None = None) -> ClassifierVersion:
    """Promote the version, retiring the scope's active one first (a move and an event each).
    Called inside the caller's transaction, so both moves stand or fall together."""
    for previous in ClassifierVersion.objects.filter(community=version.community,
                                                     status=ClassifierVersion.Status.ACTIVE).exclude(pk=version.pk):
        CLASSIFIER.transition(previous, "retire", actor=actor, data={"replaced_by": version.number})
    return CLASSIFIER.transition(version, "promote", actor=actor, apply=_set_metrics(metrics),
                                 data={"reason": reason, **(data or {})})


def _set_metrics(metrics: dict | None):
    """The move's own change: the promotion's comparison kept with the version's metrics."""
    if metrics is None:
        return None

    def apply(version, now):
        version.metrics = metrics

    return apply


def classifier_train_from_cases(*, actor, community) -> ClassifierVersion:
    """A candidate version trained on the community's confirmed cases outside the validation split."""
    train, validation = training_split(community)
    labels = {code for _m, code in train}
    if len(train) < MIN_TRAINING_CASES or len(labels) < 2:
        raise InvalidInput(
            _("Not enough confirmed cases to train on: %(cases)d cases in %(categories)d categories "
              "(at least %(minimum)d cases in two categories are needed).")
            % {"cases": len(train), "categories": len(labels), "minimum": MIN_TRAINING_CASES},
            code="too_few_cases")
    model = textclf.train([m for m, _c in train], [c for _m, c in train], source="cases")
    if validation:
        model.meta["validation"] = _validation_metrics(model, validation)
    return classifier_store(actor=actor, model=model, community=community, source="cases")


def _validation_metrics(model: textclf.TextClassifier, validation: list) -> dict:
    predicted, _confidence = model.predict([m for m, _c in validation])
    truth = [c for _m, c in validation]
    return textclf.classification_metrics(truth, predicted, sorted(set(truth) | set(predicted)))


@transaction.atomic
def classifier_promote(*, actor, version: ClassifierVersion) -> bool:
    """Make a candidate the community's active version if it is not worse than the active one
    on the fixed validation split; otherwise reject it (retired, never having been active).
    Returns whether it was promoted."""
    version = ClassifierVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ClassifierVersion.Status.CANDIDATE:
        raise InvalidInput(_("Only a candidate version can be promoted; version %(number)d is %(status)s.")
                           % {"number": version.number, "status": version.get_status_display()},
                           code="not_candidate")
    active = (ClassifierVersion.objects.select_for_update()
              .filter(community=version.community, status=ClassifierVersion.Status.ACTIVE).first())
    if active is None:
        _activate(actor, version, reason="first")
        return True
    _train, validation = training_split(version.community) if version.community else ([], [])
    if not validation:
        _activate(actor, version, reason="no_validation_cases")
        return True
    new = _validation_metrics(textclf.TextClassifier.from_bytes(bytes(version.artifact)), validation)
    old = _validation_metrics(textclf.TextClassifier.from_bytes(bytes(active.artifact)), validation)
    comparison = {"macro_f1": new["macro_f1"], "active_macro_f1": old["macro_f1"],
                  "active_number": active.number, "validation_cases": len(validation)}
    metrics = {**version.metrics, "promotion": comparison}
    if new["macro_f1"] >= old["macro_f1"]:
        _activate(actor, version, reason="not_worse", data=comparison, metrics=metrics)
        return True
    CLASSIFIER.transition(version, "reject", actor=actor, apply=_set_metrics(metrics), data=comparison)
    return False


# --- alerts -------------------------------------------------------------------------------------

def alert_set_status(*, actor, alert: Alert, status: str) -> Alert:
    """Acknowledge or close an alert (``status``: the state the alert page's buttons post), for the
    staff who see it: its community office, its street, the courtyard's grid workers."""
    move = next((m for m in ALERT.moves if m.target == status), None)
    if move is None:
        raise InvalidInput(_("An alert can be acknowledged or closed."), field="status")
    if not rules.sees_alert(actor, alert):
        raise PermissionDenied(_("You may not change this alert."))
    if alert.status == status or alert.status == Alert.Status.CLOSED:
        # A second click, or a page left open while a colleague moved the alert on: there is
        # nothing left to do, and the page simply shows the alert as it now is.
        return alert
    return ALERT.transition(alert, move.name, actor=actor)
