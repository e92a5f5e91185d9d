"""Participatory-budgeting selection on 100 projects × 10,000 voters, against the issue's target.

    .venv/bin/python bench/funds_bench.py [--runs 5] [--voters 10000] [--projects 100] [--no-pabutools]

Builds one seeded instance the size the issue names (costs 2,000–80,000 yuan in fen, a budget
of a third of the total cost, each voter approving 1–12 projects drawn with skewed popularity),
then times `linli.funds.selection`: equal shares (no completion, and with the greedy
completion) and greedy, RUNS times each; prints the median wall time and its ratio to the
target (equal shares ≤ 5 s; greedy held to the same). Then, once, the same instance through
pabutools 1.2.3 (`method_of_equal_shares(..., sat_class=Cost_Sat)` and
`greedy_utilitarian_welfare(..., sat_class=Cost_Sat)`, with Linli's tie-breaking), its time,
the ratio of ours to it, and whether the selections are the same. The machine may be shared:
the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linli.funds.selection import Instance, equal_shares, greedy, tie_key  # noqa: E402

TARGET_S = 5.0


def make_instance(projects: int, voters: int, seed: int = 10) -> tuple[Instance, list[set[str]]]:
    rng = random.Random(seed)
    ids = [str(i) for i in range(1, projects + 1)]
    costs = {pid: rng.randrange(200_000, 8_000_000, 100) for pid in ids}
    budget = sum(costs.values()) // 3
    weights = [1.0 / (rank + 1) ** 0.7 for rank in range(projects)]
    rng.shuffle(weights)
    approvals = []
    for _ in range(voters):
        size = rng.randint(1, 12)
        approvals.append(set(rng.choices(ids, weights=weights, k=size)))
    return Instance(budget, costs), approvals


def timed(function, runs: int) -> tuple[float, list[str]]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pabutools_run(instance: Instance, approvals: list[set[str]]):
    from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Project
    from pabutools.election import Instance as PabuInstance
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    rule = TieBreakingRule(lambda inst, prof, project: tie_key(project.name))
    projects = {pid: Project(pid, cost) for pid, cost in instance.costs.items()}
    pinst = PabuInstance(projects.values(), budget_limit=instance.budget)
    profile = ApprovalProfile([ApprovalBallot([projects[p] for p in ballot]) for ballot in approvals])
    start = time.perf_counter()
    mes = [p.name for p in method_of_equal_shares(pinst, profile, sat_class=Cost_Sat, tie_breaking=rule)]
    mes_s = time.perf_counter() - start
    start = time.perf_counter()
    gr = [p.name for p in greedy_utilitarian_welfare(pinst, profile, sat_class=Cost_Sat, tie_breaking=rule)]
    greedy_s = time.perf_counter() - start
    return mes_s, mes, greedy_s, gr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--voters", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--no-pabutools", action="store_true")
    args = parser.parse_args()

    instance, approvals = make_instance(args.projects, args.voters)
    n_approvals = sum(len(b) for b in approvals)
    print(f"instance: {args.projects} projects × {args.voters} voters, {n_approvals} approvals, "
          f"budget {instance.budget} fen; load average {os.getloadavg()[0]:.2f}")

    mes_s, mes = timed(lambda: equal_shares(instance, approvals), args.runs)
    print(f"equal shares (no completion): median {mes_s:.3f} s over {args.runs} runs, "
          f"{len(mes)} selected; {mes_s / TARGET_S:.3f} of the {TARGET_S:.0f} s target")
    mesg_s, mesg = timed(lambda: equal_shares(instance, approvals, completion="greedy"), args.runs)
    print(f"equal shares + greedy completion: median {mesg_s:.3f} s, {len(mesg)} selected; "
          f"{mesg_s / TARGET_S:.3f} of the target")
    gr_s, gr = timed(lambda: greedy(instance, approvals), args.runs)
    print(f"greedy: median {gr_s:.3f} s, {len(gr)} selected; {gr_s / TARGET_S:.3f} of the target")

    if not args.no_pabutools:
        p_mes_s, p_mes, p_gr_s, p_gr = pabutools_run(instance, approvals)
        print(f"pabutools equal shares: {p_mes_s:.3f} s (ours is {mes_s / p_mes_s:.3f} of it), "
              f"same selection: {p_mes == mes}")
        print(f"pabutools greedy: {p_gr_s:.3f} s (ours is {gr_s / p_gr_s:.3f} of it), "
              f"same selection: {p_gr == gr}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
