"""Category suggestion at intake, through a pluggable classifier.

A classifier takes the text and the community's active categories and returns
a :class:`Suggestion` (or None). The cold-start one counts the keyword rules
admins edit on each category; a learned classifier (next issue) registers
itself in ``CLASSIFIERS`` ahead of it and the keyword rules stay the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from django.conf import settings


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


def learned_classifier(text: str, categories: Iterable) -> Suggestion | None:
    """The community's active learned model (linli.insight), where one has been trained."""
    from linli.insight.intake import learned_suggestion  # lazy: cases must not import insight at load time

    return learned_suggestion(text, categories)


CLASSIFIERS: list[Callable[[str, Iterable], Suggestion | None]] = [learned_classifier, keyword_classifier]


def suggest(text: str, categories) -> Suggestion | None:
    categories = list(categories)
    for classifier in CLASSIFIERS:
        suggestion = classifier(text, categories)
        if suggestion is not None:
            return suggestion
    return None


def triage_threshold() -> float:
    return getattr(settings, "LINLI_TRIAGE_CONFIDENCE", 0.5)
