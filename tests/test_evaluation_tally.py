"""The evaluation's counting rules, pure: satisfaction rate, the 80 % line, suppression under 10."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from linli.evaluation import tally


def counts(s, b, u):
    return {"satisfied": s, "basic": b, "unsatisfied": u}


def test_satisfaction_counts_satisfied_and_basically_satisfied():
    assert tally.rate(counts(6, 2, 2)) == Fraction(4, 5)
    assert tally.rate(counts(0, 0, 0)) is None
    assert tally.percent(Fraction(5, 6)) == "83.3" and tally.percent(Fraction(1, 8)) == "12.5"


def test_under_80_is_exact():
    assert not tally.below(counts(6, 2, 2))        # exactly 80 %: no response needed
    assert tally.below(counts(79, 0, 21))
    assert not tally.below(counts(0, 0, 0))        # no answers: nothing to respond to
    assert tally.below(counts(7, 0, 3)) is True


def test_change_in_points():
    assert tally.points(Fraction(9, 10), Fraction(4, 5)) == "+10.0"
    assert tally.points(Fraction(4, 5), Fraction(9, 10)) == "-10.0"
    assert tally.points(Fraction(1, 2), Fraction(1, 2)) == "0.0"
    assert tally.points(None, Fraction(1, 2)) is None


def test_tally_reads_the_engines_rating_form_and_skips_comments():
    codes = {"1": {"11": "satisfied", "12": "basic", "13": "unsatisfied"}}
    ballots = [({"1": 11, "comments": {"1": "好"}}, 5), ({"1": 13}, 5), ({"1": 12}, None), ({}, 6)]
    out = tally.tally(codes, ballots)
    assert out["ballots"] == 4 and out["grid_ballots"] == {"5": 2, "": 1, "6": 1}
    assert out["questions"]["1"]["all"] == counts(1, 1, 1)
    assert out["questions"]["1"]["grids"]["5"] == counts(1, 0, 1)


def test_groups_under_ten_are_hidden():
    cells = {"a": counts(10, 2, 0), "b": counts(15, 0, 0), "c": counts(3, 0, 0), "d": counts(5, 1, 1)}
    out = tally.suppress(cells, ["a", "b", "c", "d"])
    assert out["c"] is None and out["d"] is None          # 3 and 7 answers
    assert out["a"] == counts(10, 2, 0) and out["b"] == counts(15, 0, 0)


def test_one_small_group_takes_the_smallest_shown_with_it():
    # 12 + 20 shown, 4 hidden: the whole minus the shown would give the 4 away.
    out = tally.suppress({"a": counts(12, 0, 0), "b": counts(20, 0, 0), "c": counts(4, 0, 0)}, ["a", "b", "c"])
    assert out["c"] is None and out["a"] is None and out["b"] is not None


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=40), min_size=1))
def test_hidden_groups_are_never_small_together(sizes):
    hide = tally.hidden(sizes)
    assert all(sizes[g] >= tally.MIN_GROUP for g in sizes if g not in hide)
    pooled = sum(sizes[g] for g in hide)
    shown = [g for g in sizes if g not in hide]
    assert pooled == 0 or pooled >= tally.MIN_GROUP or not shown
