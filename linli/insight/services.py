"""Writes for the learned classifier: training a version, storing it, promoting it.

A community's model learns from its own cases whose category staff confirmed (a category
set and not waiting for triage). A deterministic hash of each case id puts one case in
``VALIDATION_SHARE`` into a fixed validation split that no community model trains on, so
a new version and the active one are compared on the same cases, and a new version is
promoted only when its macro-F1 there is not worse.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from linli.cases.models import Case
from linli.core import events
from linli.core.errors import InvalidInput

from . import textclf
from .models import ClassifierVersion

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


def confirmed_cases(community):
    """Cases whose category staff confirmed, with the category code as the label."""
    return (Case.objects.filter(community=community, category__isnull=False, needs_triage=False)
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
        _activate(actor, version, reason="manual")
    return version


def _activate(actor, version: ClassifierVersion, *, reason: str, data: dict | None = None) -> None:
    ClassifierVersion.objects.filter(community=version.community, status=ClassifierVersion.Status.ACTIVE) \
        .exclude(pk=version.pk).update(status=ClassifierVersion.Status.RETIRED)
    version.status = ClassifierVersion.Status.ACTIVE
    version.save(update_fields=["status"])
    events.record(actor=actor, verb="classifier.promoted", target=version, community=version.community,
                  data={"number": version.number, "reason": reason, **(data or {})})


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
    on the fixed validation split; otherwise retire it. Returns whether it was promoted."""
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
    version.metrics = {**version.metrics, "promotion": comparison}
    version.save(update_fields=["metrics"])
    if new["macro_f1"] >= old["macro_f1"]:
        _activate(actor, version, reason="not_worse", data=comparison)
        return True
    version.status = ClassifierVersion.Status.RETIRED
    version.save(update_fields=["status"])
    events.record(actor=actor, verb="classifier.rejected", target=version, community=version.community,
                  data={"number": version.number, **comparison})
    return False
