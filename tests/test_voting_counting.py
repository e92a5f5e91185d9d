"""linli.voting.counting: tally and the rules (majority, quorum, Civil Code art. 278), pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from linli.voting import counting

YES, NO, ABSTAIN = "11", "12", "13"
Q = [("1", [YES, NO, ABSTAIN])]


@dataclass
class Roll:
    people: int = 0
    households: int = 0
    owners: int = 0
    owner_area: Decimal = Decimal("0")


def choice_ballots(yes=0, no=0, abstain=0):
    return [{"1": [YES]}] * yes + [{"1": [NO]}] * no + [{"1": [ABSTAIN]}] * abstain


# --- tally ----------------------------------------------------------------------------------------

def test_tally_counts_choice_and_ignores_comments():
    result = counting.tally("choice", Q, choice_ballots(3, 2, 1) + [{"1": [YES], "comments": {"1": "x"}}])
    assert result["ballots"] == 7
    votes = {o["id"]: o["votes"] for o in result["questions"][0]["options"]}
    assert votes == {YES: 4, NO: 2, ABSTAIN: 1}
    assert result["questions"][0]["answered"] == 7 and result["questions"][0]["blank"] == 0


def test_tally_approval_counts_each_option_and_blank():
    questions = [(5, [50, 51, 52])]
    ballots = [{"5": [50, 51]}, {"5": [51]}, {"5": []}, {}]
    result = counting.tally("approval", questions, ballots)
    q = result["questions"][0]
    assert [o["votes"] for o in q["options"]] == [1, 2, 0]
    assert q["answered"] == 2 and q["blank"] == 2


def test_tally_rating_takes_one_option_id():
    questions = [(7, [70, 71, 72]), (8, [80, 81, 82])]
    ballots = [{"7": 70, "8": 82}, {"7": 70, "8": 81}, {"7": 72}]
    result = counting.tally("rating", questions, ballots)
    assert [o["votes"] for o in result["questions"][0]["options"]] == [2, 0, 1]
    assert [o["votes"] for o in result["questions"][1]["options"]] == [0, 1, 1]
    assert result["questions"][1]["blank"] == 1


def test_tally_sums_areas_exactly():
    result = counting.tally("choice", Q, choice_ballots(2, 1), areas=["0.10", "0.20", Decimal("89.99")])
    assert result["area"] == "90.29"
    assert result["questions"][0]["options"][0]["area"] == "0.30"


@pytest.mark.parametrize("ballot", [{"1": ["99"]}, {"1": [YES, YES]}])
def test_tally_refuses_a_damaged_ballot(ballot):
    with pytest.raises(ValueError):
        counting.tally("choice", Q, [ballot])


def test_merge_is_the_sum_of_parts():
    a = counting.tally("choice", Q, choice_ballots(2, 1), areas=["1.5", "2", "3"])
    b = counting.tally("choice", Q, choice_ballots(0, 4, 1), areas=["1"] * 5)
    whole = counting.tally("choice", Q, choice_ballots(2, 1) + choice_ballots(0, 4, 1),
                           areas=["1.5", "2", "3"] + ["1"] * 5)
    assert counting.merge([a, b]) == whole


# --- majority -------------------------------------------------------------------------------------

def test_majority_more_than_half_passes():
    decision = counting.decide("majority", counting.tally("choice", Q, choice_ballots(6, 4, 1)))
    assert decision.passed is True
    assert decision.questions[0].adopted == YES


def test_majority_exact_half_is_a_tie_and_fails():
    decision = counting.decide("majority", counting.tally("choice", Q, choice_ballots(5, 5)))
    assert decision.passed is False
    assert decision.questions[0].adopted is None
    assert decision.questions[0].tie is True


def test_majority_half_with_abstentions_is_not_enough():
    decision = counting.decide("majority", counting.tally("choice", Q, choice_ballots(5, 3, 2)))
    assert decision.passed is False and decision.questions[0].adopted is None


def test_majority_against_adopted_means_not_passed():
    decision = counting.decide("majority", counting.tally("choice", Q, choice_ballots(2, 7)))
    assert decision.questions[0].adopted == NO
    assert decision.passed is False


def test_majority_no_ballots():
    decision = counting.decide("majority", counting.tally("choice", Q, []))
    assert decision.passed is False and decision.questions[0].adopted is None


# --- quorum ---------------------------------------------------------------------------------------

def test_quorum_met_exactly_at_the_percentage():
    roll = Roll(people=20)
    decision = counting.decide("quorum", counting.tally("choice", Q, choice_ballots(10)), roll, quorum_percent=50)
    assert decision.quorum_met is True and decision.passed is True
    assert decision.turnout == Fraction(1, 2)


def test_quorum_one_short_fails_even_if_unanimous():
    roll = Roll(people=20)
    decision = counting.decide("quorum", counting.tally("choice", Q, choice_ballots(9)), roll, quorum_percent=50)
    assert decision.quorum_met is False and decision.passed is False
    assert decision.questions[0].adopted is None


def test_quorum_uses_the_roll_of_the_eligibility():
    roll = Roll(people=100, households=30)
    tally = counting.tally("choice", Q, choice_ballots(16))
    assert counting.decide("quorum", tally, roll, eligibility="households", quorum_percent=50).quorum_met is True
    assert counting.decide("quorum", tally, roll, eligibility="adults", quorum_percent=50).quorum_met is False


def test_quorum_met_then_majority_decides():
    roll = Roll(people=10)
    decision = counting.decide("quorum", counting.tally("choice", Q, choice_ballots(4, 4)), roll, quorum_percent=60)
    assert decision.quorum_met is True and decision.passed is False


# --- Civil Code art. 278 ----------------------------------------------------------------------------

def owners_tally(votes):
    """``votes``: list of (option, area)."""
    ballots = [{"1": [option]} for option, _area in votes]
    return counting.tally("choice", Q, ballots, areas=[area for _option, area in votes])


def roll_of(owners, area):
    return Roll(owners=owners, owner_area=Decimal(area), households=owners)


def test_art_278_participation_exactly_two_thirds_is_enough():
    # 9 owners of 900 m²: 6 owners holding 600 m² take part (exactly 2/3 of both).
    votes = [(YES, "100")] * 4 + [(NO, "100")] * 2
    decision = counting.decide("owners", owners_tally(votes), roll_of(9, "900"))
    assert decision.turnout == Fraction(2, 3) and decision.area_turnout == Fraction(2, 3)
    assert decision.participation_met is True
    assert decision.passed is True


def test_art_278_participation_one_owner_short_fails():
    # 10 owners: 6 take part (< 2/3 of owners) though they hold 700 of 900 m².
    votes = [(YES, "120")] * 5 + [(YES, "100")]
    decision = counting.decide("owners", owners_tally(votes), roll_of(10, "900"))
    assert decision.area_turnout > Fraction(2, 3)
    assert decision.participation_met is False and decision.passed is False


def test_art_278_participation_one_hundredth_square_metre_short_fails():
    # 6 of 9 owners, holding 599.99 of 900 m²: just under 2/3 of the area.
    votes = [(YES, "100")] * 5 + [(YES, "99.99")]
    decision = counting.decide("owners", owners_tally(votes), roll_of(9, "900"))
    assert decision.participation_met is False and decision.passed is False
    votes = [(YES, "100")] * 5 + [(YES, "100.00")]
    assert counting.decide("owners", owners_tally(votes), roll_of(9, "900")).participation_met is True


def test_art_278_ordinary_matter_needs_more_than_half_of_both():
    roll = roll_of(8, "800")
    # 8 owners take part; 4 agree (exactly half of the owners) with 401 m²: not more than half.
    votes = [(YES, "100.25")] * 4 + [(NO, "99.75")] * 4
    decision = counting.decide("owners", owners_tally(votes), roll)
    assert decision.questions[0].options[0].area_share > Fraction(1, 2)
    assert decision.passed is False
    # 5 agree with exactly 400 m² of 800: more than half of the owners, exactly half the area.
    votes = [(YES, "80")] * 5 + [(NO, "133.33")] * 2 + [(NO, "133.34")]
    decision = counting.decide("owners", owners_tally(votes), roll)
    assert decision.questions[0].options[0].area_share == Fraction(1, 2)
    assert decision.passed is False
    # one hundredth of a m² more for those who agree: passed.
    votes = [(YES, "80")] * 4 + [(YES, "80.01")] + [(NO, "133.33")] * 2 + [(NO, "133.33")]
    decision = counting.decide("owners", owners_tally(votes), roll)
    assert decision.passed is True and decision.questions[0].adopted == YES


def test_art_278_special_matter_exactly_three_quarters_passes():
    roll = roll_of(8, "800")
    votes = [(YES, "100")] * 6 + [(NO, "100")] * 2
    decision = counting.decide("owners_special", owners_tally(votes), roll)
    assert decision.questions[0].options[0].share == Fraction(3, 4)
    assert decision.passed is True
    assert decision.threshold == Fraction(3, 4) and decision.inclusive is True


def test_art_278_special_matter_one_owner_or_one_hundredth_short_fails():
    roll = roll_of(8, "800")
    # 5 of 8 owners agree with 700 m² (area enough, owners not).
    votes = [(YES, "140")] * 5 + [(NO, "50")] * 2 + [(ABSTAIN, "0.00")]
    decision = counting.decide("owners_special", owners_tally(votes), roll_of(8, "790"))
    assert decision.participation_met is True
    assert decision.passed is False
    # 6 of 8 owners agree with 599.99 of 800 m²: area just under 3/4.
    votes = [(YES, "100")] * 5 + [(YES, "99.99")] + [(NO, "100.00"), (NO, "100.01")]
    decision = counting.decide("owners_special", owners_tally(votes), roll)
    assert decision.questions[0].options[0].share == Fraction(3, 4)
    assert decision.questions[0].options[0].area_share < Fraction(3, 4)
    assert decision.passed is False


def test_art_278_abstention_counts_as_participating_not_agreeing():
    roll = roll_of(6, "600")
    votes = [(YES, "100")] * 3 + [(ABSTAIN, "100")] * 3
    decision = counting.decide("owners", owners_tally(votes), roll)
    assert decision.participation_met is True
    assert decision.passed is False


def test_owners_rules_need_the_roll():
    with pytest.raises(ValueError):
        counting.decide("owners", owners_tally([(YES, "1")]))


def test_tally_rule_decides_nothing():
    decision = counting.decide("tally", counting.tally("approval", [(1, [10, 11])], [{"1": [10]}]))
    assert decision.passed is None
    assert decision.questions[0].passed is None and decision.questions[0].adopted is None


def test_decision_as_dict_is_json_ready():
    import json

    decision = counting.decide("owners", owners_tally([(YES, "100")] * 3), roll_of(3, "300"))
    data = json.loads(json.dumps(decision.as_dict()))
    assert data["turnout"]["exact"] == "1/1"
    assert data["questions"][0]["options"][0]["share"]["exact"] == "1/1"


# --- properties -----------------------------------------------------------------------------------

@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([YES, NO, ABSTAIN]), st.integers(min_value=1, max_value=20000)),
                max_size=60),
       st.integers(min_value=0, max_value=60))
def test_tally_properties(votes, cut):
    ballots = [{"1": [option]} for option, _area in votes]
    areas = [Decimal(area) / 100 for _option, area in votes]
    whole = counting.tally("choice", Q, ballots, areas=areas)
    options = whole["questions"][0]["options"]
    assert sum(o["votes"] for o in options) == whole["ballots"] == len(votes)
    assert Decimal(whole["area"]) == sum(areas, Decimal(0))
    # counting in two parts and merging gives the same figures
    parts = [counting.tally("choice", Q, ballots[:cut], areas=areas[:cut]),
             counting.tally("choice", Q, ballots[cut:], areas=areas[cut:])]
    assert counting.merge(parts) == whole
    # grouping identical ballots (as the database does) gives the same figures
    groups: dict = {}
    for option, area in zip([o for o, _a in votes], areas):
        n, total = groups.get(option, (0, Decimal(0)))
        groups[option] = (n + 1, total + area)
    grouped = counting.tally("choice", Q, [{"1": [o]} for o in groups], counts=[n for n, _t in groups.values()],
                             areas=[t for _n, t in groups.values()])
    assert grouped == whole
    # majority: adopted exactly when more than half
    decision = counting.decide("majority", whole)
    winners = [o["id"] for o in options if 2 * o["votes"] > len(votes)]
    assert decision.questions[0].adopted == (winners[0] if winners else None)
