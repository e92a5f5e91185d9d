"""Counting an evaluation's rating ballots: pure functions over plain values (no Django).

* **Satisfaction rate** (满意率) = (satisfied + basically satisfied) / answers to the
  criterion, the common practice of 民主评议; an exact :class:`~fractions.Fraction`. A
  criterion with no answers has no rate.
* **Under 80 %**: ``rate < 4/5``, exactly; such a criterion needs a written response.
* **Suppression**: a courtyard's figures for a criterion are shown only when at least
  :data:`MIN_GROUP` (10) ballots of that courtyard answered it; otherwise "fewer than 10".
  While the hidden courtyards together hold between 1 and 9 answers, the smallest shown one
  is hidden too, so no small group can be worked out by subtracting the shown courtyards
  from the whole.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

RATINGS = ("satisfied", "basic", "unsatisfied")
MIN_GROUP = 10
THRESHOLD = Fraction(4, 5)


def empty() -> dict[str, int]:
    return {code: 0 for code in RATINGS}


def tally(option_codes: dict[str, dict[str, str]], ballots: Iterable[tuple[dict, object]]) -> dict:
    """Counts per question, overall and per grid.

    ``option_codes``: ``{question id: {option id: rating code}}`` (ids as strings).
    ``ballots``: ``(choices, grid id or None)`` pairs; ``choices`` in the voting engine's
    canonical rating form ``{"<question id>": option id, "comments": {...}}``.
    Returns ``{"ballots": n, "grid_ballots": {grid: n}, "questions": {qid: {"all": counts,
    "grids": {grid: counts}}}}`` (grid keys as strings, "" for none).
    """
    result = {"ballots": 0, "grid_ballots": {},
              "questions": {qid: {"all": empty(), "grids": {}} for qid in option_codes}}
    for choices, grid in ballots:
        gkey = "" if grid is None else str(grid)
        result["ballots"] += 1
        result["grid_ballots"][gkey] = result["grid_ballots"].get(gkey, 0) + 1
        for qid, option in (choices or {}).items():
            codes = option_codes.get(str(qid))
            if codes is None:  # "comments", or a question not rated here
                continue
            code = codes.get(str(option))
            if code is None:
                continue
            row = result["questions"][str(qid)]
            row["all"][code] += 1
            row["grids"].setdefault(gkey, empty())[code] += 1
    return result


def answers(counts: dict[str, int] | None) -> int:
    return sum(counts.values()) if counts else 0


def rate(counts: dict[str, int] | None) -> Fraction | None:
    n = answers(counts)
    if not n:
        return None
    return Fraction(counts["satisfied"] + counts["basic"], n)


def below(counts: dict[str, int] | None) -> bool:
    """Whether the criterion is under 80 % satisfied (no answers: no)."""
    value = rate(counts)
    return value is not None and value < THRESHOLD


def percent(value: Fraction | None) -> str | None:
    """A rate as a percentage with one decimal, rounded half up ("83.3")."""
    if value is None:
        return None
    tenths = (value * 1000 + Fraction(1, 2)).__floor__()
    return f"{tenths // 10}.{tenths % 10}"


def points(now: Fraction | None, before: Fraction | None) -> str | None:
    """The change in percentage points, signed, one decimal ("+2.5", "-10.0", "0.0")."""
    if now is None or before is None:
        return None
    diff = (now - before) * 100
    tenths = (abs(diff) * 10 + Fraction(1, 2)).__floor__()
    sign = "+" if diff > 0 and tenths else ("-" if diff < 0 and tenths else "")
    return f"{sign}{tenths // 10}.{tenths % 10}"


def hidden(sizes: dict[str, int]) -> set[str]:
    """The groups whose figures must not be shown, by their sizes: those under
    :data:`MIN_GROUP`, then the smallest shown ones until the hidden groups together are none
    or at least :data:`MIN_GROUP` (the voting engine's rule, ``linli.voting.results``)."""
    small = {g for g, n in sizes.items() if n < MIN_GROUP}
    shown = sorted((g for g in sizes if g not in small), key=lambda g: (sizes[g], g))
    while shown and 0 < sum(sizes[g] for g in small) < MIN_GROUP:
        small.add(shown.pop(0))
    return small


def suppress(cells: dict[str, dict[str, int]], grids: Iterable[str]) -> dict[str, dict[str, int] | None]:
    """Each grid's counts, or None where they must not be shown."""
    grids = list(grids)
    hide = hidden({g: answers(cells.get(g)) for g in grids})
    return {g: (None if g in hide else dict(cells.get(g) or empty())) for g in grids}
