"""Participatory-budgeting selection rules: greedy by votes and the method of equal shares.

Pure Python, no Django, exact arithmetic (integers and `Fraction`s, never floats), so that
`linli funds recompute` gives the same answer on every machine and the bench can time it.

    Instance(budget=1_000_000, costs={"1": 400_000, "2": 300_000, "3": 500_000})
    approvals = [{"1", "2"}, {"3"}, {"1"}]          # one set of project ids per ballot
    select("equal-shares", instance, approvals)      # -> ["1", "3"]

Both rules are the ones pabutools 1.2.3 computes, and the tests compare them on hundreds of
random instances:

- ``greedy`` = ``greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)``: projects
  by approval count, most first, each taken if it still fits in what is left of the budget.
  Like pabutools it also takes projects nobody approved when money is left; a call that does
  not want that sets ``min_votes=1``.
- ``equal-shares`` = ``method_of_equal_shares(instance, profile, sat_class=Cost_Sat)`` with no
  completion: every ballot (empty ones too) holds ``budget / number of ballots``; a project is
  bought when its supporters can pay its cost, the one needing the smallest largest payment
  per unit of cost (``q / cost``) first; supporters pay equally, or all they have left. A
  project that costs nothing satisfies no one under cost satisfaction, so (as in pabutools)
  equal shares never buys it; the greedy completion does.
  ``completion="greedy"`` then spends what is left greedily, as pabutools'
  ``completion_by_rule_combination(..., [method_of_equal_shares, greedy_utilitarian_welfare],
  [{"sat_class": Cost_Sat}] * 2)``.

``min_votes`` removes the projects with fewer approvals before either rule runs; the number of
ballots (and so each ballot's share of the budget) does not change.

Ties go to the lower project id; ids compare as integers when they are numeric ("9" before
"10"), then as text. pabutools' default ``lexico_tie_breaking`` compares the names as text,
so the tests pass it `tie_key` as its tie-breaking rule.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

GREEDY = "greedy"
EQUAL_SHARES = "equal-shares"
RULES = (GREEDY, EQUAL_SHARES)
COMPLETIONS = ("none", "greedy")


@dataclass(frozen=True)
class Instance:
    """The call's budget and each project's cost, in integer fen, by project id."""

    budget: int
    costs: dict[str, int] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.budget, int) or isinstance(self.budget, bool) or self.budget < 0:
            raise ValueError("the budget must be a non-negative integer")
        for pid, cost in self.costs.items():
            if not isinstance(pid, str) or not pid:
                raise ValueError("project ids must be non-empty strings")
            if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
                raise ValueError(f"the cost of project {pid} must be a non-negative integer")


def tie_key(pid: str) -> tuple:
    """Sort key for project ids: numeric ids as integers first, then the others as text."""
    if pid.isdigit():
        return (0, int(pid), pid)
    return (1, 0, pid)


def approval_counts(instance: Instance, approvals: Iterable[set[str]]) -> Counter:
    """Approvals per project (every project of the instance present, zero included)."""
    counts: Counter = Counter({pid: 0 for pid in instance.costs})
    for ballot in approvals:
        for pid in ballot:
            if pid not in instance.costs:
                raise ValueError(f"a ballot approves project {pid!r}, which the instance does not have")
            counts[pid] += 1
    return counts


def _eligible(instance: Instance, counts: Counter, min_votes: int) -> list[str]:
    if min_votes < 0:
        raise ValueError("min_votes must not be negative")
    return [pid for pid in instance.costs if counts[pid] >= min_votes]


def _greedy_fill(instance: Instance, counts: Counter, candidates: list[str], chosen: list[str]) -> list[str]:
    """Adds to `chosen` the candidates by approvals (ties by id) that still fit; returns it."""
    remaining = instance.budget - sum(instance.costs[pid] for pid in chosen)
    taken = set(chosen)
    # pabutools orders by satisfaction per cost, which under cost satisfaction is the approval
    # count; a project that costs nothing gives no satisfaction (0) and comes with the unvoted.
    def order(pid):
        return (-(counts[pid] if instance.costs[pid] > 0 else 0), tie_key(pid))

    for pid in sorted((p for p in candidates if p not in taken), key=order):
        cost = instance.costs[pid]
        if cost <= remaining:
            chosen.append(pid)
            taken.add(pid)
            remaining -= cost
    return chosen


def greedy(instance: Instance, approvals: list[set[str]], *, min_votes: int = 0) -> list[str]:
    """Greedy by votes: most approved first (ties by id), skipping what no longer fits.

    Returns the selected ids in the order they were taken."""
    counts = approval_counts(instance, approvals)
    return _greedy_fill(instance, counts, _eligible(instance, counts, min_votes), [])


def equal_shares(
    instance: Instance, approvals: list[set[str]], *, min_votes: int = 0, completion: str = "none"
) -> list[str]:
    """The method of equal shares with cost satisfaction (see the module's docstring).

    Returns the selected ids in the order they were bought (then the completion's)."""
    if completion not in COMPLETIONS:
        raise ValueError(f"unknown completion {completion!r}")
    counts = approval_counts(instance, approvals)
    eligible = _eligible(instance, counts, min_votes)
    chosen = _mes(instance, approvals, set(eligible))
    if completion == "greedy":
        # What fits of the rest, most approved first (with no ballots at all: by id, as pabutools).
        chosen = _greedy_fill(instance, counts, eligible, chosen)
    return chosen


def select(
    rule: str, instance: Instance, approvals: list[set[str]], *, min_votes: int = 0, completion: str = "none"
) -> list[str]:
    """The call's declared rule: "greedy" or "equal-shares" (completion only for the latter)."""
    if rule == GREEDY:
        return greedy(instance, approvals, min_votes=min_votes)
    if rule == EQUAL_SHARES:
        return equal_shares(instance, approvals, min_votes=min_votes, completion=completion)
    raise ValueError(f"unknown rule {rule!r}")


def _mes(instance: Instance, approvals: list[set[str]], eligible: set[str]) -> list[str]:
    """Method of equal shares, cost satisfaction, no completion, ties by `tie_key`.

    Voters are kept in *budget classes*: all voters of a class hold the same budget. Everyone
    starts in one class; buying a project moves its supporters of class c to a new class
    (c minus the payment) or to the empty class. A project's affordability is computed over
    the classes of its supporters (a C-level `Counter` of class ids, then a few exact
    fractions per class), not over the voters one by one. Projects wait in a heap under their
    last affordability, which only grows as budgets shrink (a lower bound), so each round
    re-evaluates only the projects that could still beat the best found: pabutools' lazy
    scheme, with the same result.
    """
    n = len(approvals)
    if n == 0:
        return []
    supporters: dict[str, list[int]] = {pid: [] for pid in eligible}
    for index, ballot in enumerate(approvals):
        for pid in ballot:
            if pid in supporters:
                supporters[pid].append(index)

    # Under cost satisfaction a project that costs nothing satisfies no one (its cost is 0), so
    # equal shares never buys it, as in pabutools; the greedy completion takes it.
    chosen: list[str] = []

    EMPTY = 0  # the class of voters with nothing left
    # Each class's budget as an exact fraction num/den (two int lists: fast comparisons).
    start = Fraction(instance.budget, n)
    num: list[int] = [0, start.numerator]
    den: list[int] = [1, start.denominator]
    voter_class = [1] * n

    def affordability(pid: str) -> tuple[Fraction | None, dict[int, int]]:
        """(q / cost, class counts) where q is the largest payment; None when unaffordable.

        q solves sum(min(budget, q)) = cost over the supporters: pabutools' poor/rich
        iteration (q only grows as classes that cannot pay it drop out), over classes."""
        cost = instance.costs[pid]
        classes = Counter(map(voter_class.__getitem__, supporters[pid]))
        classes.pop(EMPTY, None)
        rich = dict(classes)
        rich_count = sum(rich.values())
        remaining = Fraction(cost)
        while rich_count:
            q = remaining / rich_count
            qn, qd = q.numerator, q.denominator
            poor = [c for c in rich if num[c] * qd < qn * den[c]]
            if not poor:
                return q / cost, classes
            for c in poor:
                count = rich.pop(c)
                remaining -= Fraction(num[c] * count, den[c])
                rich_count -= count
        return None, classes

    heap: list[tuple[Fraction, tuple, str]] = []
    for pid in eligible:
        cost = instance.costs[pid]
        if supporters[pid] and cost > 0:
            heap.append((Fraction(1, len(supporters[pid])), tie_key(pid), pid))
    heapq.heapify(heap)

    while heap:
        best: tuple[Fraction, tuple, str] | None = None
        best_classes: dict[int, int] = {}
        evaluated: list[tuple[Fraction, tuple, str]] = []
        while heap and (best is None or heap[0][0] <= best[0]):
            _, key, pid = heapq.heappop(heap)
            rho, classes = affordability(pid)
            if rho is None:
                continue  # budgets only shrink: it never becomes affordable again
            entry = (rho, key, pid)
            if best is None or entry < best:
                if best is not None:
                    evaluated.append(best)
                best, best_classes = entry, classes
            else:
                evaluated.append(entry)
        for entry in evaluated:
            heapq.heappush(heap, entry)
        if best is None:
            break
        rho, _, pid = best
        chosen.append(pid)
        q = rho * instance.costs[pid]
        moved: dict[int, int] = {EMPTY: EMPTY}
        for cid in best_classes:
            left = Fraction(num[cid], den[cid]) - q
            if left > 0:
                moved[cid] = len(num)
                num.append(left.numerator)
                den.append(left.denominator)
            else:
                moved[cid] = EMPTY
        for index in supporters[pid]:
            voter_class[index] = moved[voter_class[index]]
    return chosen
