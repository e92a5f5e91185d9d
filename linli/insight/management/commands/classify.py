"""`linli classify train|predict|evaluate`: the learned request classifier over CSV files.

    linli classify train --csv train.csv [--out model.npz]
    linli classify predict --csv messages.csv [--model model.npz] --out predicted.csv
    linli classify evaluate --csv labelled.csv [--model model.npz]

Without --out, `train` stores the model as the new active installation-wide version; without
--model, `predict` and `evaluate` use the active installation-wide version. Bad input stops
the command with a translated message and writes nothing.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.core.errors import InvalidInput
from linli.insight import textclf
from linli.insight.models import ClassifierVersion
from linli.insight.services import classifier_store


class Command(BaseCommand):
    help = "Train, apply and evaluate the learned request classifier on CSV files (title, text, label)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a model from a labelled CSV")
        train.add_argument("--csv", required=True)
        train.add_argument("--out", help="write the model to this file instead of storing it as the active version")
        predict = sub.add_parser("predict", help="add predicted and confidence columns to every row")
        predict.add_argument("--csv", required=True)
        predict.add_argument("--model")
        predict.add_argument("--out", required=True)
        evaluate = sub.add_parser("evaluate", help="accuracy, macro-F1, per-class figures, confusion matrix")
        evaluate.add_argument("--csv", required=True)
        evaluate.add_argument("--model")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except InvalidInput as error:
            raise CommandError(error.message)

    def _train(self, csv, out=None, **options):
        table = textclf.read_messages(csv, need_label=True)
        rows = table.labelled_rows()
        model = textclf.train(table.messages(rows), [row[table.label].strip() for row in rows],
                              source=Path(csv).name)
        cv = model.meta.get("cv")
        if out:
            _write_atomically(Path(out), model.to_bytes())
            where = str(out)
        else:
            version = classifier_store(actor=None, model=model, source=f"csv:{Path(csv).name}", activate=True)
            where = _("active installation-wide version %(number)d") % {"number": version.number}
        self.stdout.write(_("Trained on %(n)d messages in %(labels)d labels: %(where)s.")
                          % {"n": len(rows), "labels": len(model.labels), "where": where})
        if cv:
            self.stdout.write(_("%(folds)d-fold cross-validation: accuracy %(accuracy).4f, macro-F1 %(f1).4f.")
                              % {"folds": cv["folds"], "accuracy": cv["accuracy"], "f1": cv["macro_f1"]})

    def _predict(self, csv, out, model=None, **options):
        table = textclf.read_messages(csv, need_label=False)
        classifier = _classifier(model)
        predicted, confidence = classifier.predict(table.messages())
        header = table.header + ["predicted", "confidence"]
        lines = [header] + [row + [label, f"{p:.3f}"] for row, label, p in zip(table.rows, predicted, confidence)]
        _write_atomically(Path(out), _csv_bytes(lines))
        self.stdout.write(_("Wrote %(n)d predictions to %(out)s.") % {"n": len(table.rows), "out": out})

    def _evaluate(self, csv, model=None, **options):
        table = textclf.read_messages(csv, need_label=True)
        classifier = _classifier(model)
        rows = table.labelled_rows()
        truth = [row[table.label].strip() for row in rows]
        unknown = sorted(set(truth) - set(classifier.labels))
        if unknown:
            raise InvalidInput(_("%(name)s has labels the model does not know: %(unknown)s (the model knows: "
                                 "%(known)s).") % {"name": table.name, "unknown": ", ".join(unknown),
                                                   "known": ", ".join(classifier.labels)}, code="unknown_labels")
        predicted, _confidence = classifier.predict(table.messages(rows))
        metrics = textclf.classification_metrics(truth, predicted, classifier.labels)
        self.stdout.write(textclf.format_report(metrics))


def _classifier(path: str | None) -> textclf.TextClassifier:
    if path:
        return textclf.load(path)
    raw = (ClassifierVersion.objects.filter(community__isnull=True, status=ClassifierVersion.Status.ACTIVE)
           .values_list("artifact", flat=True).first())
    if raw is None:
        raise InvalidInput(_("There is no active classifier version: give --model FILE, or train one first "
                             "with `linli classify train --csv FILE`."), code="no_model")
    return textclf.TextClassifier.from_bytes(bytes(raw))


def _csv_bytes(lines: list[list[str]]) -> bytes:
    import io

    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue().encode("utf-8")


def _write_atomically(path: Path, content: bytes) -> None:
    """Write next to the target and rename, so a failure never leaves half a file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except OSError as error:
        raise InvalidInput(_("Cannot write %(name)s: %(reason)s") % {"name": path, "reason": error.strerror},
                           code="unwritable")
