"""A ballot's validity and its canonical form (docs/voting.md).

Canonical ``choices``:

- "choice" and "approval": ``{"<question id>": [option ids, ascending]}`` for every question
  ("choice": exactly one option per question; "approval": between the vote's fewest and most
  choices per question, and, when the vote has a budget, the chosen options' costs together
  within the budget and at least its least share — a knapsack ballot);
- "rating": ``{"<question id>": option id}`` for each criterion rated (at least one, and at
  least the vote's fewest choices), plus optional ``"comments": {"<question id>": text}``,
  scrubbed of ID-card and mobile numbers.

Each way a ballot can be wrong has its own translated message and code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.core.errors import InvalidInput
from linli.core.masking import scrub

from .models import Vote

COMMENT_MAX = 500


@dataclass(frozen=True)
class Structure:
    """A vote's questions and options, loaded once (``questions``: id → option ids in order;
    ``costs``: option id → cost in fen)."""

    questions: dict[int, list[int]]
    costs: dict[int, int]


def structure(vote: Vote) -> Structure:
    cached = getattr(vote, "_ballot_structure", None)
    if cached is not None:
        return cached
    questions: dict[int, list[int]] = {}
    costs: dict[int, int] = {}
    for q in vote.questions.prefetch_related("options").order_by("order", "id"):
        questions[q.pk] = [o.pk for o in q.options.all()]
        for o in q.options.all():
            costs[o.pk] = o.cost_fen
    built = Structure(questions=questions, costs=costs)
    vote._ballot_structure = built
    return built


def forget_structure(vote: Vote) -> None:
    if hasattr(vote, "_ballot_structure"):
        del vote._ballot_structure


def _bad(message, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, field="choices")


def _as_int(value) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(value)


def _option_ids(value) -> list[int]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set)):
        return [_as_int(v) for v in value]
    return [_as_int(value)]


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def validate(vote: Vote, choices: dict, *, shape: Structure | None = None) -> dict:
    """The canonical form of ``choices``, or InvalidInput saying what is wrong."""
    shape = shape or structure(vote)
    if not isinstance(choices, dict):
        raise _bad(_("The ballot is not readable."), "ballot_unreadable")
    comments_in = choices.get("comments") or {}
    if vote.kind != Vote.Kind.RATING and comments_in:
        raise _bad(_("Comments are only taken on rating ballots."), "ballot_comments")
    picked: dict[int, list[int]] = {}
    for key, value in choices.items():
        if key == "comments":
            continue
        try:
            qid = _as_int(key)
            ids = _option_ids(value)
        except ValueError:
            raise _bad(_("The ballot is not readable."), "ballot_unreadable") from None
        if qid not in shape.questions:
            raise _bad(_("The ballot answers a question this vote does not ask."), "ballot_unknown_question")
        allowed = set(shape.questions[qid])
        if any(i not in allowed for i in ids):
            raise _bad(_("The ballot marks an option that does not belong to its question."), "ballot_unknown_option")
        if len(set(ids)) != len(ids):
            raise _bad(_("The ballot marks one option twice."), "ballot_duplicate")
        if ids:
            picked[qid] = sorted(ids)

    if vote.kind == Vote.Kind.CHOICE:
        for qid in shape.questions:
            if len(picked.get(qid, [])) != 1:
                raise _bad(_("Mark exactly one option for every question."), "ballot_choice_count")
        return {str(q): picked[q] for q in shape.questions}

    if vote.kind == Vote.Kind.RATING:
        for qid, ids in picked.items():
            if len(ids) != 1:
                raise _bad(_("Give one rating per criterion."), "ballot_rating_count")
        least = max(1, vote.min_choices)
        if len(picked) < least:
            raise _bad(ngettext("Rate at least %(n)d criterion.", "Rate at least %(n)d criteria.", least)
                       % {"n": least}, "ballot_too_few")
        out: dict = {str(q): picked[q][0] for q in shape.questions if q in picked}
        comments = {}
        if not isinstance(comments_in, dict):
            raise _bad(_("The ballot is not readable."), "ballot_unreadable")
        for key, text in comments_in.items():
            try:
                qid = _as_int(key)
            except ValueError:
                raise _bad(_("The ballot is not readable."), "ballot_unreadable") from None
            if qid not in shape.questions:
                raise _bad(_("The ballot answers a question this vote does not ask."), "ballot_unknown_question")
            text = " ".join(str(text or "").split())
            if len(text) > COMMENT_MAX:
                raise _bad(_("A comment may be at most %(n)d characters long.") % {"n": COMMENT_MAX},
                           "ballot_comment_long")
            if text:
                comments[str(qid)] = scrub(text)
        if comments:
            out["comments"] = dict(sorted(comments.items(), key=lambda kv: int(kv[0])))
        return out

    # approval (a knapsack when the vote has a budget)
    for qid in shape.questions:
        n = len(picked.get(qid, []))
        if n < vote.min_choices:
            raise _bad(ngettext("Choose at least %(n)d option.", "Choose at least %(n)d options.", vote.min_choices)
                       % {"n": vote.min_choices}, "ballot_too_few")
        if vote.max_choices is not None and n > vote.max_choices:
            raise _bad(ngettext("Choose at most %(n)d option.", "Choose at most %(n)d options.", vote.max_choices)
                       % {"n": vote.max_choices}, "ballot_too_many")
    if vote.budget_fen is not None:
        total = sum(shape.costs[i] for ids in picked.values() for i in ids)
        if total > vote.budget_fen:
            raise _bad(_("The options you chose cost %(total)s yuan together, more than the budget of "
                         "%(budget)s yuan.") % {"total": yuan(total), "budget": yuan(vote.budget_fen)},
                       "ballot_over_budget")
        if total * 100 < vote.min_budget_share_percent * vote.budget_fen:
            raise _bad(_("The options you chose cost %(total)s yuan together; choose options worth at least "
                         "%(percent)s%% of the budget (%(least)s yuan).")
                       % {"total": yuan(total), "percent": vote.min_budget_share_percent,
                          "least": yuan(-(-vote.min_budget_share_percent * vote.budget_fen // 100))},
                       "ballot_below_share")
    return {str(q): picked.get(q, []) for q in shape.questions}
