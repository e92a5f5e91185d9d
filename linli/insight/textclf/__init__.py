"""The learned request classifier: features, model, metrics and CSV reading (see docs/classifier.md).

The names load on first use (PEP 562): the model code pulls in numpy and scipy, which every web
worker and `linli` command would otherwise import at start-up, classifier used or not.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "MessageTable": "csvdata", "read_messages": "csvdata",
    "classification_metrics": "evaluation", "duplicate_groups": "evaluation", "format_report": "evaluation",
    "TextClassifier": "model", "load": "model", "train": "model",
}
_MODULES = ("csvdata", "evaluation", "features", "model", "segment")

__all__ = ["MessageTable", "TextClassifier", "classification_metrics", "duplicate_groups", "format_report", "load",
           "read_messages", "train"]


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES) | set(_MODULES))
