"""`linli funds` (linli/funds/management/commands/funds.py): export-pabulib, result, recompute,
import-pabulib, through the funds selectors and services; errors change nothing."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from linli.funds import pabulib
from linli.funds.models import Call, Project
from linli.funds.selection import Instance, select, tie_key

pytest.importorskip("pabutools")
from pabutools.election import Cost_Sat, parse_pabulib  # noqa: E402
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares  # noqa: E402
from pabutools.tiebreaking import TieBreakingRule  # noqa: E402

LINLI_TIES = TieBreakingRule(lambda inst, prof, project: tie_key(project.name))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def run(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("funds", *args, stdout=out, stderr=err)
    return out.getvalue()


def pb_file(tmp_path, *, rule="equal-shares", name="in.pb", min_votes=None):
    # Six projects, 30 voters in two camps: the rules choose differently.
    meta = {"description": "Courtyard fund", "budget": 1_200_000, "rule": rule}
    if min_votes is not None:
        meta["min_votes"] = str(min_votes)
    costs = {"1": 400_000, "2": 400_000, "3": 400_000, "4": 300_000, "5": 300_000, "6": 500_000}
    projects = [{"project_id": pid, "cost": cost, "name": f"Project {pid}"} for pid, cost in costs.items()]
    ballots = [["1", "2", "3"]] * 20 + [["4", "5"]] * 8 + [["6"]] * 2
    votes = [{"voter_id": str(i), "vote": b} for i, b in enumerate(ballots, start=1)]
    path = tmp_path / name
    path.write_text(pabulib.dump(meta, projects, votes), encoding="utf-8")
    return path


def import_call(world, tmp_path, **kwargs) -> Call:
    before = set(Call.objects.values_list("pk", flat=True))
    output = run("import-pabulib", str(pb_file(tmp_path, **kwargs)), "--community", world.community.code)
    (call,) = Call.objects.exclude(pk__in=before)
    assert f"Imported fund call {call.pk}" in output
    return call


def test_import_then_result_json_is_what_the_published_hash_covers(world, tmp_path):
    call = import_call(world, tmp_path)
    assert call.community == world.community and call.rule == "equal-shares"
    assert call.projects.count() == 6
    output = run("result", "--community", "Y", "--call", str(call.pk), "--json").strip()
    payload = json.loads(output)
    assert payload["call"] == call.pk and payload["rule"] == "equal-shares"
    assert payload["selected"] == call.computed
    assert hashlib.sha256(output.encode()).hexdigest() == call.result_sha256
    # Each voter holds 40,000: the 20 pay for two of theirs, the 8 for one of theirs (greedy: 1, 2, 3).
    titles = dict(Project.objects.filter(call=call).values_list("pk", "title"))
    assert sorted(titles[int(pid)] for pid in payload["selected"]) == ["Project 1", "Project 2", "Project 4"]


def test_result_without_json_and_default_call_is_the_latest_closed(world, tmp_path):
    first = import_call(world, tmp_path, rule="greedy", name="a.pb")
    latest = import_call(world, tmp_path, rule="greedy", name="b.pb")
    assert latest.pk > first.pk
    output = run("result", "--community", "Y")
    assert f"Fund call {latest.pk}, rule greedy, selected (3): " in output


@pytest.mark.parametrize("rule", ["greedy", "equal-shares"])
def test_export_gives_a_file_pabutools_selects_the_same_on(world, tmp_path, rule):
    call = import_call(world, tmp_path, rule=rule)
    out = tmp_path / "out.pb"
    message = run("export-pabulib", "--community", "Y", "--call", str(call.pk), "--out", str(out))
    assert f"Wrote fund call {call.pk}" in message and "(projects: 6, votes: 30)" in message
    instance, profile = parse_pabulib(str(out))
    assert instance.meta["rule"] == {"greedy": "greedy", "equal-shares": "equalshares"}[rule]
    if rule == "greedy":
        theirs = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
    else:
        theirs = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, tie_breaking=LINLI_TIES)
    result = json.loads(run("result", "--community", "Y", "--json"))
    assert [p.name for p in theirs] == result["selected"]
    # And our own reader agrees.
    meta, projects, votes = pabulib.load(out.read_text(encoding="utf-8"))
    assert select(meta["rule"], Instance(meta["budget"], {p["project_id"]: p["cost"] for p in projects}),
                  [set(v["vote"]) for v in votes]) == result["selected"]


def test_export_to_standard_output(world, tmp_path):
    import_call(world, tmp_path)
    text = run("export-pabulib", "--community", "Y", "--out", "-")
    assert text.startswith("META\nkey;value\n") and "\nVOTES\n" in text


def test_min_votes_travels_and_decides(world, tmp_path):
    call = import_call(world, tmp_path, rule="greedy", min_votes=21)
    assert call.min_votes == 21
    # No project has 21 approvals (the most is 20): nothing is selected.
    assert json.loads(run("result", "--community", "Y", "--json"))["selected"] == []
    text = run("export-pabulib", "--community", "Y", "--out", "-")
    assert "min_votes;21" in text.splitlines()


def test_recompute_agrees_then_finds_a_changed_result(world, tmp_path):
    call = import_call(world, tmp_path)
    other = import_call(world, tmp_path, rule="greedy", name="g.pb")
    output = run("recompute")
    assert "Closed fund calls checked: 2;" in output
    Call.objects.filter(pk=call.pk).update(result_sha256="0" * 64)
    with pytest.raises(CommandError) as caught:
        run("recompute", "--community", "Y")
    assert "do not give their published result: 1 of 2" in str(caught.value)
    assert other.pk


def test_unknown_community(world, tmp_path):
    for args in (["result", "--community", "NOPE"], ["export-pabulib", "--community", "NOPE", "--out", "-"],
                 ["recompute", "--community", "NOPE"],
                 ["import-pabulib", str(pb_file(tmp_path)), "--community", "NOPE"]):
        with pytest.raises(CommandError, match="There is no community with the code NOPE"):
            run(*args)
    assert not Call.objects.exists()


def test_no_closed_call(world, tmp_path):
    with pytest.raises(CommandError, match="Community Y has no closed fund call"):
        run("result", "--community", "Y", "--json")
    with pytest.raises(CommandError, match="Community Y has no closed fund call"):
        run("export-pabulib", "--community", "Y", "--out", str(tmp_path / "x.pb"))
    assert not (tmp_path / "x.pb").exists()
    call = import_call(world, tmp_path)
    with pytest.raises(CommandError, match=f"Community Z has no fund call {call.pk}"):
        run("result", "--community", "Z", "--call", str(call.pk))
    Call.objects.filter(pk=call.pk).update(state=Call.State.OPEN)
    with pytest.raises(CommandError, match=f"Fund call {call.pk} is not closed"):
        run("result", "--community", "Y", "--call", str(call.pk))


def test_bad_files_change_nothing(world, tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;100\nvote_type;approval\n", encoding="utf-8")
    with pytest.raises(CommandError, match="is not a Pabulib file Linli can read"):
        run("import-pabulib", str(bad), "--community", "Y")
    with pytest.raises(CommandError, match="Cannot read"):
        run("import-pabulib", str(tmp_path / "missing.pb"), "--community", "Y")
    latin = tmp_path / "latin.pb"
    latin.write_bytes("META\nkey;value\ndescription;caf\xe9\n".encode("latin-1"))
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        run("import-pabulib", str(latin), "--community", "Y")
    # A readable file the service refuses (an unknown rule): its message, nothing made.
    odd = pb_file(tmp_path, rule="phragmen", name="odd.pb")
    with pytest.raises(CommandError, match="META rule must be greedy or equal-shares"):
        run("import-pabulib", str(odd), "--community", "Y")
    assert not Call.objects.exists() and not Project.objects.exists()


def test_export_into_a_missing_folder(world, tmp_path):
    import_call(world, tmp_path)
    with pytest.raises(CommandError, match="does not exist"):
        run("export-pabulib", "--community", "Y", "--out", str(tmp_path / "no" / "x.pb"))
    (tmp_path / "taken").mkdir()
    with pytest.raises(CommandError, match="Cannot write"):
        run("export-pabulib", "--community", "Y", "--out", str(tmp_path / "taken"))
    assert not list(tmp_path.glob(".pabulib-*"))    # no half-written file left behind


def test_the_linli_command_takes_dashed_names(world, tmp_path, capsys):
    from linli.config.cli import main

    path = pb_file(tmp_path)
    main(["linli", "funds", "import-pabulib", str(path), "--community", "Y"])
    assert "Imported fund call" in capsys.readouterr().out
