"""Public pages of a vote's result (docs/voting.md, "Counting and results").

``results``: before publication only the vote's dates and state (no running counts: figures
shown while a vote runs sway it); once published, the stored result (``Vote.result``) as the
board entry holds it — each question's options with their votes and shares, the rule and
whether it was met, turnout against the roll, courtyards of at least ten ballots — with a link
to the board entry and the result's SHA-256. ``receipt``: a form (POST) that answers whether
the ballot of a receipt code is in the published list, at which line, and what it says.
Anyone may use both; neither names anyone.
"""

from __future__ import annotations

import json

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from linli.core.web import no_store

from . import results as counted
from .models import Phase, Vote
from .services import normalize_code


def _vote(code: str, vote_id: int) -> Vote:
    vote = (Vote.objects.select_related("process__community").filter(pk=vote_id, process__community__code=code)
            .exclude(state=Vote.State.DRAFT).first())
    if vote is None:
        raise Http404
    return vote


def _phase(vote: Vote) -> Phase | None:
    return vote.process.phases.filter(key=vote.phase_key).first()


def _board_url(vote: Vote) -> str:
    if vote.log_index is None:
        return ""
    return reverse("disclosure:entry", args=[vote.process.community.code, vote.log_index])


def _figures(data: dict) -> dict:
    """The stored result shaped for the template."""
    labels = data["labels"]
    decision = data["decision"]
    owners = data["rule"] in ("owners", "owners_special")
    counted_questions = {q["id"]: q for q in data["tally"]["questions"]}
    questions = []
    for question in decision["questions"]:
        tally = counted_questions[question["id"]]
        areas = {o["id"]: o["area"] for o in tally["options"]}
        options = [{"label": labels["options"].get(o["id"], ""), "votes": o["votes"],
                    "share": counted.percent(o["share"]), "area": areas.get(o["id"]) if owners else None,
                    "area_share": counted.percent(o["area_share"]) if owners else None,
                    "adopted": o["id"] == question["adopted"]}
                   for o in question["options"]]
        questions.append({"text": labels["questions"].get(question["id"], ""), "options": options,
                          "blank": tally["blank"], "answered": question["answered"],
                          "adopted": labels["options"].get(question["adopted"]) if question["adopted"] else None,
                          "tie": question["tie"], "passed": question["passed"]})
    grids = []
    for group in data.get("grids") or []:
        rows = []
        for question in group["tally"]["questions"]:
            rows.append({"text": labels["questions"].get(question["id"], ""),
                         "options": [(labels["options"].get(o["id"], ""), o["votes"]) for o in question["options"]]})
        grids.append({"name": group["name"], "pooled": group["grid"] is None, "grids": group.get("grids", 0),
                      "ballots": group["ballots"], "questions": rows})
    return {"questions": questions, "grids": grids, "owners": owners, "deciding": data["rule"] != "tally",
            "rule_text": counted.rule_text(data["rule"], data["quorum_percent"]),
            "decision": decision, "roll": data["roll"], "area": data["tally"]["area"],
            "turnout": counted.percent(decision["turnout"]), "area_turnout": counted.percent(decision["area_turnout"])}


@require_safe
def results(request, code: str, vote_id: int):
    vote = _vote(code, vote_id)
    context = {"vote": vote, "community": vote.process.community, "phase": _phase(vote),
               "published": vote.state == Vote.State.PUBLISHED and vote.result is not None,
               "board_url": _board_url(vote), "min_group": counted.MIN_GROUP}
    if context["published"]:
        context["figures"] = _figures(vote.result)
        context["digest"] = counted.grouped(vote.result_sha256)
    return render(request, "voting/results/results.html", context)


def _chosen(vote: Vote, line_json: str) -> list[tuple[str, list[str]]]:
    labels = (vote.result or {}).get("labels") or {"questions": {}, "options": {}}
    try:
        choices = json.loads(line_json)
    except ValueError:
        return []
    out = []
    for qid, picked in choices.items():
        picked = picked if isinstance(picked, list) else [picked]
        out.append((labels["questions"].get(qid, qid), [labels["options"].get(str(o), str(o)) for o in picked]))
    return out


@no_store
@require_http_methods(["GET", "POST"])
def receipt(request, code: str, vote_id: int):
    vote = _vote(code, vote_id)
    context = {"vote": vote, "community": vote.process.community, "checked": False,
               "published": vote.state == Vote.State.PUBLISHED, "board_url": _board_url(vote),
               "results_url": reverse("voting:results", args=[code, vote.pk]), "status": 200}
    if request.method == "POST":
        typed = request.POST.get("code", "")
        if not normalize_code(typed):
            context["error"] = True
            context["status"] = 400
        else:
            context["checked"] = True
            if context["published"]:
                line = counted.receipt_line(vote, typed)
                context["line"] = line
                if line is not None:
                    entry = counted.published_entry(vote)
                    parsed = counted.parse_lines(entry.body) if entry is not None and entry.body else []
                    if line <= len(parsed):
                        context["chosen"] = _chosen(vote, parsed[line - 1][1])
            else:
                context["stored"] = counted.check_receipt(vote, typed)
    return render(request, "voting/results/receipt.html", context, status=context["status"])
