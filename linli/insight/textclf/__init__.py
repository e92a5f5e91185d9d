"""The learned request classifier: features, model, metrics and CSV reading (see docs/classifier.md)."""

from .csvdata import MessageTable, read_messages
from .evaluation import classification_metrics, format_report
from . import features, model
from .model import TextClassifier, load, train

__all__ = ["MessageTable", "TextClassifier", "classification_metrics", "format_report", "load",
           "read_messages", "train"]
