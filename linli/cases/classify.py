"""Category suggestion at intake, through pluggable classifiers.

A classifier takes the text and the community's active categories and returns
a :class:`Suggestion` (or None). Other apps register theirs at the hook point
:data:`SUGGESTERS` (linli.insight adds its learned model there); they are tried
in registration order, and the keyword rules admins edit on each category are
the fallback when none of them suggests anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from django.conf import settings

from linli.core import registry

# Hook point: functions fn(text: str, categories: list[Category]) -> Suggestion | None, tried
# in registration order before the keyword rules.
SUGGESTERS = "cases.category_suggesters"


@dataclass(frozen=True)
class Suggestion:
    category_id: int
    confidence: float  # 0..1
    source: str


def keyword_classifier(text: str, categories: Iterable) -> Suggestion | None:
    """Score = matched keyword characters; confidence = share of the best among all matches."""
    text = (text or "").lower()
    scores: dict[int, int] = {}
    for category in categories:
        for keyword in (category.keywords or "").splitlines():
            keyword = keyword.strip().lower()
            if keyword and keyword in text:
                scores[category.pk] = scores.get(category.pk, 0) + len(keyword)
    if not scores:
        return None
    best = max(sorted(scores), key=lambda pk: scores[pk])
    total = sum(scores.values())
    # One clear winner with a long match is confident; ties and single short words are not.
    confidence = (scores[best] / total) * min(1.0, scores[best] / 4)
    return Suggestion(best, round(confidence, 3), "keywords")


def classifiers() -> list[Callable[[str, list], Suggestion | None]]:
    """The registered suggesters, then the keyword rules."""
    return [*registry.hooks(SUGGESTERS), keyword_classifier]


def suggest(text: str, categories) -> Suggestion | None:
    categories = list(categories)
    for classifier in classifiers():
        suggestion = classifier(text, categories)
        if suggestion is not None:
            return suggestion
    return None


def triage_threshold() -> float:
    return getattr(settings, "LINLI_TRIAGE_CONFIDENCE", 0.5)
