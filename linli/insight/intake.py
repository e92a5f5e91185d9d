"""The learned classifier at intake: ``learned_suggestion`` fills the ``cases.category_suggesters``
hook (linli.insight.apps), which intake asks ahead of the keyword rules, which stay the fallback.

Loading an artifact takes a tenth of a second, far too slow per request, so loaded models
are cached in the process keyed by (version pk, artifact checksum): an artifact never
changes, so a cached one is never stale. Which version is active is a row that does change;
it is read again at most every ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from django.db.models import Q

from linli.cases.classify import Suggestion

from .models import ClassifierVersion
from .services import message_of

if TYPE_CHECKING:
    from . import textclf

RECHECK_SECONDS = 60
_KEEP_MODELS = 4
_lock = threading.Lock()
_active: dict[int, tuple[float, tuple | None]] = {}  # community id → (checked at, (pk, checksum, number) | None)
_models: dict[tuple[int, str], "textclf.TextClassifier"] = {}


def _active_version(community_id: int) -> tuple | None:
    """(pk, checksum, number) of the version that applies: the community's own active one,
    else the installation-wide active one; None when there is neither."""
    now = time.monotonic()
    cached = _active.get(community_id)
    if cached and now - cached[0] < RECHECK_SECONDS:
        return cached[1]
    rows = ClassifierVersion.objects.filter(Q(community_id=community_id) | Q(community__isnull=True),
                                            status=ClassifierVersion.Status.ACTIVE)
    found = sorted(rows.values_list("community_id", "pk", "checksum", "number"), key=lambda r: r[0] is None)
    current = tuple(found[0][1:]) if found else None
    _active[community_id] = (now, current)
    return current


def _model(pk: int, checksum: str) -> "textclf.TextClassifier":
    key = (pk, checksum)
    with _lock:
        model = _models.get(key)
    if model is None:
        raw = ClassifierVersion.objects.values_list("artifact", flat=True).get(pk=pk)
        # Imported here: numpy, scipy and the model code load on the first suggestion, not at
        # every start of a web worker or a `linli` command (docs/classifier.md, Speed).
        from . import textclf

        model = textclf.TextClassifier.from_bytes(bytes(raw))
        with _lock:
            while len(_models) >= _KEEP_MODELS:
                _models.pop(next(iter(_models)))
            _models[key] = model
    return model


def clear_cache() -> None:
    with _lock:
        _active.clear()
        _models.clear()


def learned_suggestion(text: str, categories) -> Suggestion | None:
    """The active model's category among ``categories`` (matched by code, else Chinese name)."""
    categories = list(categories)
    if not categories or not (text or "").strip():
        return None
    current = _active_version(categories[0].community_id)
    if current is None:
        return None
    pk, checksum, number = current
    try:
        model = _model(pk, checksum)
    except ClassifierVersion.DoesNotExist:  # deleted since it was found active: look again next time
        _active.pop(categories[0].community_id, None)
        return None
    labels, confidence = model.predict([message_of(text)])
    label = labels[0]
    match = (next((c for c in categories if c.code == label), None)
             or next((c for c in categories if c.name_zh == label), None))
    if match is None:
        return None
    return Suggestion(match.pk, round(float(confidence[0]), 3), f"model v{number}")
