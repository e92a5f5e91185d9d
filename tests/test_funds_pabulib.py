"""Pabulib files (linli/funds/pabulib.py): round trip, what pabutools reads, bad files."""

from __future__ import annotations

import random

import pytest
from django.utils import translation

from linli.funds import pabulib
from linli.funds.selection import Instance, select, tie_key

pytest.importorskip("pabutools")
from pabutools.election import Cost_Sat, parse_pabulib  # noqa: E402
from pabutools.election.pabulib import parse_pabulib_from_string  # noqa: E402
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares  # noqa: E402
from pabutools.tiebreaking import TieBreakingRule  # noqa: E402

LINLI_TIES = TieBreakingRule(lambda inst, prof, project: tie_key(project.name))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def sample():
    meta = {"description": "Courtyard fund 2026", "country": "China", "unit": "Y社区", "instance": "2026",
            "budget": 1_000_000, "rule": "equal-shares", "min_votes": "2"}
    projects = [
        {"project_id": "1", "cost": 400_000, "votes": "3", "name": "Benches; shade", "selected": "1"},
        {"project_id": "2", "cost": 300_000, "votes": "2", "name": "Bike\nshelter", "selected": "1"},
        {"project_id": "10", "cost": 500_000, "votes": "1", "name": 'The "big" garden', "selected": "0"},
    ]
    votes = [{"voter_id": "1", "vote": ["1", "2"]}, {"voter_id": "2", "vote": "1,10"},
             {"voter_id": "3", "vote": []}, {"voter_id": "4", "vote": ["1", "2"]}]
    return meta, projects, votes


def test_dump_writes_the_three_sections_in_pabulib_form():
    text = pabulib.dump(*sample())
    lines = text.splitlines()
    assert lines[0:2] == ["META", "key;value"]
    assert lines.index("PROJECTS") < lines.index("VOTES")
    assert "rule;equalshares" in lines            # Pabulib's spelling
    assert "num_projects;3" in lines and "num_votes;4" in lines
    assert "vote_type;approval" in lines and "cost_unit;fen" in lines
    assert lines[lines.index("PROJECTS") + 1].startswith("project_id;cost;")
    assert lines[lines.index("VOTES") + 1] == "voter_id;vote"
    assert '1;400000;3;"Benches; shade";1' in lines    # a ; inside a value is quoted
    assert "2;300000;2;Bike shelter;1" in lines       # a line break becomes a space
    assert "3;" in lines                               # an empty ballot


def test_round_trip():
    meta, projects, votes = sample()
    back_meta, back_projects, back_votes = pabulib.load(pabulib.dump(meta, projects, votes))
    assert back_meta["rule"] == "equal-shares"
    assert back_meta["budget"] == 1_000_000
    assert back_meta["num_projects"] == 3 and back_meta["num_votes"] == 4
    assert back_meta["min_votes"] == "2" and back_meta["unit"] == "Y社区"
    assert [p["project_id"] for p in back_projects] == ["1", "2", "10"]
    assert [p["cost"] for p in back_projects] == [400_000, 300_000, 500_000]
    assert back_projects[0]["name"] == "Benches; shade"
    assert back_projects[2]["name"] == 'The "big" garden'
    assert [v["vote"] for v in back_votes] == [["1", "2"], ["1", "10"], [], ["1", "2"]]
    # And again: a loaded file dumps to the same text.
    assert pabulib.dump(back_meta, back_projects, back_votes) == pabulib.dump(meta, projects, votes)


def test_greedy_rule_and_other_values_are_kept():
    meta, projects, votes = sample()
    meta["rule"] = "greedy"
    assert "rule;greedy" in pabulib.dump(meta, projects, votes).splitlines()
    assert pabulib.load(pabulib.dump(meta, projects, votes))[0]["rule"] == "greedy"
    meta["rule"] = "equalshares/add1"
    assert pabulib.load(pabulib.dump(meta, projects, votes))[0]["rule"] == "equalshares/add1"


def test_pabutools_reads_the_file(tmp_path):
    path = tmp_path / "call.pb"
    path.write_text(pabulib.dump(*sample()), encoding="utf-8")
    instance, profile = parse_pabulib(str(path))
    assert instance.budget_limit == 1_000_000
    assert sorted(p.name for p in instance) == ["1", "10", "2"]
    assert {p.name: p.cost for p in instance} == {"1": 400_000, "2": 300_000, "10": 500_000}
    assert len(profile) == 4
    assert sorted(sorted(p.name for p in b) for b in profile) == [[], ["1", "10"], ["1", "2"], ["1", "2"]]
    assert instance.meta["rule"] == "equalshares"


@pytest.mark.parametrize("seed", range(3))
def test_pabutools_gives_the_same_selection_on_the_file(seed):
    rng = random.Random(500 + seed)
    for _ in range(40):
        ids = [str(i) for i in rng.sample(range(1, 60), rng.randint(1, 15))]
        costs = {pid: rng.randint(1, 100) * 1000 for pid in ids}
        budget = rng.randint(1, sum(costs.values()))
        approvals = [set(rng.sample(ids, rng.randint(0, len(ids)))) for _ in range(rng.randint(1, 40))]
        for rule in ("greedy", "equal-shares"):
            meta = {"description": "random", "budget": budget, "rule": rule}
            projects = [{"project_id": pid, "cost": cost} for pid, cost in costs.items()]
            votes = [{"voter_id": str(i), "vote": sorted(b, key=tie_key)} for i, b in enumerate(approvals, 1)]
            text = pabulib.dump(meta, projects, votes)
            instance, profile = parse_pabulib_from_string(text)
            if rule == "greedy":
                theirs = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
            else:
                theirs = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
            m, p, v = pabulib.load(text)
            mine = select(m["rule"], Instance(m["budget"], {x["project_id"]: x["cost"] for x in p}),
                          [set(x["vote"]) for x in v])
            assert mine == [x.name for x in theirs]


def test_a_file_in_whole_currency_units_is_read_in_fen():
    text = ("META\nkey;value\ndescription;elsewhere\nnum_projects;2\nnum_votes;1\nbudget;1500,50\n"
            "vote_type;approval\nrule;greedy\ncurrency;PLN\n"
            "PROJECTS\nproject_id;cost;name\nA;1000;one\nB;500.5;None\n"
            "VOTES\nvoter_id;age;vote\nv1;None;A,B\n")
    meta, projects, votes = pabulib.load("\ufeff" + text)
    assert meta["budget"] == 150_050 and meta["cost_unit"] == "fen"
    assert [p["cost"] for p in projects] == [100_000, 50_050]
    assert "name" not in projects[1]                     # "None" means no value
    assert votes == [{"voter_id": "v1", "vote": ["A", "B"]}]


GOOD = ("META\nkey;value\nbudget;100\nvote_type;approval\nrule;greedy\ncost_unit;fen\n"
        "PROJECTS\nproject_id;cost\n1;50\n2;60\nVOTES\nvoter_id;vote\n1;1\n2;1,2\n")


@pytest.mark.parametrize("text, words", [
    ("", "sections META, PROJECTS and VOTES"),
    (GOOD.replace("VOTES\nvoter_id;vote\n1;1\n2;1,2\n", ""), "sections META, PROJECTS and VOTES"),
    ("hello\n" + GOOD, "before the META section"),
    (GOOD + "META\nkey;value\n", "appears twice"),
    (GOOD.replace("budget;100\n", ""), "META has no budget"),
    (GOOD.replace("budget;100", "budget;lots"), "is not an amount"),
    (GOOD.replace("budget;100", "budget;100.5"), "is not an amount"),
    (GOOD.replace("1;50\n", "1;-50\n"), "is not an amount"),
    (GOOD.replace("vote_type;approval", "vote_type;ordinal"), "Only approval ballots"),
    (GOOD.replace("1;50\n", "1;50;7\n"), "3 fields where the header has 2"),
    (GOOD.replace("2;60\n", "1;60\n"), "project 1 is listed twice"),
    (GOOD.replace("2;1,2\n", "2;1,3\n"), "names project 3, which is not listed"),
    (GOOD.replace("2;1,2\n", "2;1,1\n"), "names a project twice"),
    (GOOD.replace("2;1,2\n", "1;2\n"), "voter 1 votes twice"),
    (GOOD.replace("rule;greedy", "rule;greedy\nnum_votes;3"), "num_votes is 3 but the file has 2"),
    (GOOD.replace("project_id;cost\n", "project_id;name\n"), "needs a project_id and a cost"),
])
def test_bad_files_are_refused_with_a_reason(text, words):
    with pytest.raises(pabulib.PabulibError) as caught:
        pabulib.load(text)
    assert words in str(caught.value)


def test_dump_refuses_what_could_not_be_read_back():
    meta, projects, votes = sample()
    with pytest.raises(ValueError):
        pabulib.dump({"rule": "greedy"}, projects, votes)
    with pytest.raises(ValueError):
        pabulib.dump(meta, projects + [dict(projects[0])], votes)
    with pytest.raises(ValueError):
        pabulib.dump(meta, projects, votes + [{"voter_id": "9", "vote": ["77"]}])
    with pytest.raises(ValueError):
        pabulib.dump(meta, projects, votes + [{"voter_id": "1", "vote": []}])
    with pytest.raises(ValueError):
        pabulib.dump(dict(meta, num_votes=99), projects, votes)
    with pytest.raises(ValueError):
        pabulib.dump(dict(meta, vote_type="ordinal"), projects, votes)
