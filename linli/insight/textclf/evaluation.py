"""Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix, and their text table."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from django.utils.translation import gettext as _


def classification_metrics(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict:
    """Plain numbers (JSON-ready). Macro-F1 averages over ``labels`` that occur in truth or predictions."""
    index = {label: i for i, label in enumerate(labels)}
    n = len(labels)
    confusion = [[0] * n for _ in range(n)]
    for t, p in zip(truth, predicted):
        confusion[index[t]][index[p]] += 1
    per_class = []
    for i, label in enumerate(labels):
        tp = confusion[i][i]
        support = sum(confusion[i])
        predicted_count = sum(row[i] for row in confusion)
        precision = tp / predicted_count if predicted_count else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({"label": label, "precision": round(precision, 4), "recall": round(recall, 4),
                          "f1": round(f1, 4), "support": support, "predicted": predicted_count})
    seen = [c for c in per_class if c["support"] or c["predicted"]]
    total = len(truth)
    return {
        "n": total,
        "accuracy": round(sum(confusion[i][i] for i in range(n)) / total, 4) if total else 0.0,
        "macro_f1": round(sum(c["f1"] for c in seen) / len(seen), 4) if seen else 0.0,
        "per_class": per_class,
        "labels": list(labels),
        "confusion": confusion,
    }


_NOT_WORD = re.compile(r"[\W_]+")


def duplicate_groups(messages: Sequence[tuple[str, str]]) -> np.ndarray:
    """A group number per (title, body) message: near-duplicate re-posts share one.

    Two messages are re-posts when their titles are equal, or their bodies start with the same
    60 characters (bodies of at least 30), punctuation and spaces ignored; joined transitively.
    Cross-validation keeps each group in one fold, as it will be for messages a model has never
    seen: a split that puts copies on both sides flatters every model (docs/classifier.md)."""
    parent = list(range(len(messages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, (title, text) in enumerate(messages):
        title = _NOT_WORD.sub("", title or "")
        keys = ["t:" + title] if title else []  # messages without a title are not all one group
        body = _NOT_WORD.sub("", text or "")
        if len(body) >= 30:
            keys.append("b:" + body[:60])
        for key in keys:
            if key in seen:
                parent[find(i)] = find(seen[key])
            else:
                seen[key] = i
    return np.array([find(i) for i in range(len(messages))], dtype=np.int64)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def format_report(metrics: dict) -> str:
    labels = metrics["labels"]
    lines = [
        _("Messages: %(n)d") % {"n": metrics["n"]},
        _("Accuracy: %(accuracy).4f") % {"accuracy": metrics["accuracy"]},
        _("Macro-F1: %(f1).4f") % {"f1": metrics["macro_f1"]},
        "",
    ]
    name_width = max([_width(label) for label in labels] + [_width(_("label"))]) + 2
    head = [_("precision"), _("recall"), _("F1"), _("support")]
    col = max(_width(h) for h in head) + 2
    lines.append(_pad(_("label"), name_width) + "".join(_pad(h, col, right=True) for h in head))
    for c in metrics["per_class"]:
        lines.append(_pad(c["label"], name_width) + "".join(
            _pad(v, col, right=True) for v in
            (f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", str(c["support"]))))
    lines += ["", _("Confusion matrix (rows: true label, columns: predicted; column k is label k above):")]
    cell = max(6, len(str(metrics["n"])) + 2)
    lines.append(_pad("", name_width + 3) + "".join(_pad(str(k + 1), cell, right=True) for k in range(len(labels))))
    for k, (label, row) in enumerate(zip(labels, metrics["confusion"])):
        lines.append(_pad(f"{k + 1} {label}", name_width + 3) + "".join(_pad(str(v), cell, right=True) for v in row))
    return "\n".join(lines)
