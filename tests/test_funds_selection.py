"""The participatory-budgeting rules (linli/funds/selection.py): worked examples, properties,
and hundreds of seeded random instances compared with pabutools 1.2.3 (a test dependency)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.funds.selection import (
    Instance, approval_counts, equal_shares, greedy, select, tie_key,
)

pabutools = pytest.importorskip("pabutools")
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Project  # noqa: E402
from pabutools.election import Instance as PabuInstance  # noqa: E402
from pabutools.rules import (  # noqa: E402
    completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule  # noqa: E402

LINLI_TIES = TieBreakingRule(lambda inst, prof, project: tie_key(project.name))


def pabutools_select(instance: Instance, approvals, rule: str, *, min_votes=0, completion="none"):
    """The same selection by pabutools: projects under min_votes left out of its instance."""
    counts = approval_counts(instance, approvals)
    projects = {pid: Project(pid, cost) for pid, cost in instance.costs.items() if counts[pid] >= min_votes}
    pinst = PabuInstance(projects.values(), budget_limit=instance.budget)
    profile = ApprovalProfile([ApprovalBallot([projects[p] for p in b if p in projects]) for b in approvals])
    if rule == "greedy":
        out = greedy_utilitarian_welfare(pinst, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
    elif completion == "none":
        out = method_of_equal_shares(pinst, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
    else:
        params = {"sat_class": Cost_Sat, "tie_breaking": LINLI_TIES}
        out = completion_by_rule_combination(pinst, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
                                             [params, params])
    return [p.name for p in out]


def random_case(rng: random.Random, *, numeric_ids=True):
    m = rng.randint(1, 12)
    if numeric_ids:
        ids = [str(i) for i in rng.sample(range(1, 40), m)]
    else:
        ids = rng.sample(["a", "b", "c", "x7", "10", "9", "2", "Z", "p-1", "p-10", "p-2", "03", "3"], m)
    # Few distinct costs and small electorates make ties frequent (the hard part to match).
    costs = {pid: (rng.choice([1, 2, 3, 5, 10]) if rng.random() < 0.5 else rng.randint(1, 60)) for pid in ids}
    if rng.random() < 0.1:
        costs[rng.choice(ids)] = 0
    budget = rng.randint(0, sum(costs.values()) + 5)
    approvals = [set(rng.sample(ids, rng.randint(0, m))) for _ in range(rng.randint(0, 25))]
    return Instance(budget, costs), approvals, rng.choice([0, 0, 0, 1, 2, 3])


# --- worked examples ---------------------------------------------------------------------------


def test_greedy_by_votes_skips_what_no_longer_fits():
    inst = Instance(100, {"1": 60, "2": 50, "3": 40, "4": 10})
    approvals = [{"1", "2"}, {"1", "2"}, {"1", "3"}, {"2", "3"}, {"3", "4"}]
    # votes: 1→3, 2→3, 3→3, 4→1. Ties by id: 1 (60) taken, 2 (50) no longer fits, 3 (40) fits.
    assert greedy(inst, approvals) == ["1", "3"]
    assert select("greedy", inst, approvals) == ["1", "3"]


def test_ties_go_to_the_lower_id_numerically():
    inst = Instance(10, {"10": 10, "9": 10, "100": 10})
    approvals = [{"10", "9", "100"}]
    assert greedy(inst, approvals) == ["9"]
    assert equal_shares(inst, approvals) == ["9"]
    assert sorted(["10", "9", "b", "100", "a"], key=tie_key) == ["9", "10", "100", "a", "b"]


def test_min_votes_excludes_projects_first():
    inst = Instance(100, {"1": 30, "2": 30, "3": 30})
    approvals = [{"1", "2"}, {"1"}, {"1", "3"}, set()]
    assert greedy(inst, approvals) == ["1", "2", "3"]
    assert greedy(inst, approvals, min_votes=2) == ["1"]
    # Unvoted projects are funded by plain greedy when money is left (as pabutools); min_votes=1 stops it.
    assert greedy(Instance(100, {"1": 30, "2": 30}), [{"1"}]) == ["1", "2"]
    assert greedy(Instance(100, {"1": 30, "2": 30}), [{"1"}], min_votes=1) == ["1"]


def test_equal_shares_is_proportional_where_greedy_is_not():
    # 60 of 100 voters want the A projects, 40 the B projects; budget 100, every project costs 20.
    ids_a = [str(i) for i in range(1, 6)]
    ids_b = [str(i) for i in range(6, 11)]
    inst = Instance(100, {pid: 20 for pid in ids_a + ids_b})
    approvals = [set(ids_a)] * 60 + [set(ids_b)] * 40
    assert greedy(inst, approvals) == ids_a
    chosen = equal_shares(inst, approvals)
    # Each voter holds 1; the 60 can pay for three A projects (60/20), the 40 for two B.
    assert sorted(chosen, key=tie_key) == ["1", "2", "3", "6", "7"]
    # The 60's projects first (each costs them 1/3 a head, the B 1/2), ties by id.
    assert chosen == ["1", "2", "3", "6", "7"]


def test_equal_shares_payments_by_hand():
    # Budget 90, three voters hold 30 each. X (cost 60) by all three: each pays 20, leaves 10.
    # Y (cost 30) by voter 0 only: 10 < 30, unaffordable. Z (cost 20) by voters 1 and 2: 10 + 10.
    inst = Instance(90, {"1": 60, "2": 30, "3": 20})
    approvals = [{"1", "2"}, {"1", "3"}, {"1", "3"}]
    assert equal_shares(inst, approvals) == ["1", "3"]
    # The greedy completion spends what is left where it fits: nothing fits (10 left).
    assert equal_shares(inst, approvals, completion="greedy") == ["1", "3"]


def test_equal_shares_no_completion_by_default_and_greedy_completion_on_request():
    inst = Instance(90, {"1": 80, "2": 20})
    approvals = [{"1"}, {"2"}]   # each holds 45: "2" is bought, "1" (80 > 45) is not
    assert equal_shares(inst, approvals) == ["2"]
    assert select("equal-shares", inst, approvals) == ["2"]
    # 70 left: "1" (80) does not fit, the completion adds nothing.
    assert equal_shares(inst, approvals, completion="greedy") == ["2"]
    inst = Instance(100, {"1": 80, "2": 20})
    assert equal_shares(inst, approvals) == ["2"]
    assert select("equal-shares", inst, approvals, completion="greedy") == ["2", "1"]


def test_a_project_that_costs_nothing():
    inst = Instance(10, {"1": 0, "2": 10})
    approvals = [{"1", "2"}, {"1"}]
    # Cost satisfaction: a free project satisfies no one, equal shares does not buy it (pabutools).
    assert equal_shares(inst, approvals) == []
    assert equal_shares(inst, approvals, completion="greedy") == ["2", "1"]
    assert sorted(greedy(inst, approvals)) == ["1", "2"]


def test_no_ballots():
    inst = Instance(50, {"1": 30, "2": 30})
    assert equal_shares(inst, []) == []
    assert greedy(inst, []) == ["1"]


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError):
        Instance(-1, {})
    with pytest.raises(ValueError):
        Instance(10, {"1": -5})
    with pytest.raises(ValueError):
        Instance(10, {"1": 1.5})
    with pytest.raises(ValueError):
        greedy(Instance(10, {"1": 5}), [{"2"}])
    with pytest.raises(ValueError):
        select("borda", Instance(10, {"1": 5}), [])
    with pytest.raises(ValueError):
        equal_shares(Instance(10, {"1": 5}), [], completion="add1")
    with pytest.raises(ValueError):
        greedy(Instance(10, {"1": 5}), [], min_votes=-1)


def test_no_floats_in_the_decision():
    # Shares that floats cannot hold exactly (budget / 3 voters) still decide exactly.
    inst = Instance(1, {"1": 1})
    approvals = [{"1"}, {"1"}, {"1"}]
    assert equal_shares(inst, approvals) == ["1"]
    assert Fraction(1, 3) * 3 == 1


# --- against pabutools --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_random_instances_match_pabutools(seed):
    rng = random.Random(1000 + seed)
    for _ in range(100):
        inst, approvals, min_votes = random_case(rng, numeric_ids=seed % 2 == 0)
        assert greedy(inst, approvals, min_votes=min_votes) == pabutools_select(
            inst, approvals, "greedy", min_votes=min_votes), (inst, approvals, min_votes)
        assert equal_shares(inst, approvals, min_votes=min_votes) == pabutools_select(
            inst, approvals, "equal-shares", min_votes=min_votes), (inst, approvals, min_votes)
        assert equal_shares(inst, approvals, min_votes=min_votes, completion="greedy") == pabutools_select(
            inst, approvals, "equal-shares", min_votes=min_votes, completion="greedy"), (inst, approvals, min_votes)


def test_larger_random_instances_match_pabutools():
    rng = random.Random(77)
    for _ in range(10):
        ids = [str(i) for i in range(1, 31)]
        costs = {pid: rng.randrange(10_000, 500_000, 1000) for pid in ids}
        inst = Instance(sum(costs.values()) // 3, costs)
        weights = [rng.random() ** 2 for _ in ids]
        approvals = [set(rng.choices(ids, weights=weights, k=rng.randint(1, 6))) for _ in range(300)]
        assert equal_shares(inst, approvals) == pabutools_select(inst, approvals, "equal-shares")
        assert greedy(inst, approvals, min_votes=5) == pabutools_select(inst, approvals, "greedy", min_votes=5)


# --- properties ---------------------------------------------------------------------------------

cases = st.integers(min_value=1, max_value=8).flatmap(lambda m: st.tuples(
    st.integers(min_value=0, max_value=200),
    st.lists(st.integers(min_value=0, max_value=80), min_size=m, max_size=m),
    st.lists(st.sets(st.integers(min_value=0, max_value=m - 1)), max_size=20),
    st.integers(min_value=0, max_value=3),
))


@settings(max_examples=200, deadline=None)
@given(cases)
def test_outcomes_are_within_budget_and_greedy_is_exhaustive(case):
    budget, cost_list, raw_approvals, min_votes = case
    inst = Instance(budget, {str(i + 1): c for i, c in enumerate(cost_list)})
    approvals = [{str(i + 1) for i in b} for b in raw_approvals]
    counts = approval_counts(inst, approvals)
    eligible = {pid for pid in inst.costs if counts[pid] >= min_votes}
    for chosen in (greedy(inst, approvals, min_votes=min_votes),
                   equal_shares(inst, approvals, min_votes=min_votes),
                   equal_shares(inst, approvals, min_votes=min_votes, completion="greedy")):
        assert len(set(chosen)) == len(chosen)
        assert set(chosen) <= eligible
        assert sum(inst.costs[p] for p in chosen) <= budget
    for chosen in (greedy(inst, approvals, min_votes=min_votes),
                   equal_shares(inst, approvals, min_votes=min_votes, completion="greedy")):
        left = budget - sum(inst.costs[p] for p in chosen)
        assert all(inst.costs[p] > left for p in eligible - set(chosen))
    # Equal shares buys only projects someone approved.
    assert all(counts[p] > 0 for p in equal_shares(inst, approvals, min_votes=min_votes))
