"""Reads of the democratic evaluation: figures for pages, turnout, the texts that go on the log."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.community.models import Grid

from . import tally
from .models import Criterion, Evaluation, Target

S = Evaluation.State


def evaluation_at(community, year: int) -> Evaluation | None:
    return (Evaluation.objects.filter(community=community, year=year)
            .select_related("community", "process", "vote").first())


def evaluations(community):
    return Evaluation.objects.filter(community=community).select_related("process", "vote").order_by("-year")


def published(community):
    return evaluations(community).filter(state=S.PUBLISHED)


def previous(evaluation: Evaluation) -> Evaluation | None:
    """The latest published evaluation of an earlier year: what this one is compared with."""
    return (Evaluation.objects.filter(community_id=evaluation.community_id, year__lt=evaluation.year,
                                      state=S.PUBLISHED).order_by("-year").first())


def criteria(evaluation: Evaluation) -> list[Criterion]:
    return list(Criterion.objects.filter(target__evaluation=evaluation).select_related("target", "response")
                .order_by("target__order", "target_id", "order", "id"))


def targets(evaluation: Evaluation) -> list[Target]:
    return list(evaluation.targets.prefetch_related("criteria").order_by("order", "id"))


def scope_grids(evaluation: Evaluation) -> list[Grid]:
    """The courtyards of the evaluation's scope (the process's grids, else the community's)."""
    grids = list(evaluation.process.grids.order_by("code", "id"))
    return grids or list(Grid.objects.filter(community_id=evaluation.community_id).order_by("code", "id"))


def option_codes(vote) -> dict[str, dict[str, str]]:
    """``{question id: {option id: rating code}}`` of a rating vote (ids as strings)."""
    from linli.voting.models import Option

    codes: dict[str, dict[str, str]] = {}
    for qid, oid, ref in Option.objects.filter(question__vote=vote).values_list("question_id", "id", "ref"):
        if ref in tally.RATINGS:
            codes.setdefault(str(qid), {})[str(oid)] = ref
    return codes


def count_ballots(evaluation: Evaluation) -> dict:
    """The figures stored when the evaluation is counted, already suppressed: a hidden cell
    is never stored, so no page can show it."""
    from linli.voting.eligibility import roll
    from linli.voting.models import Ballot

    vote = evaluation.vote
    codes = option_codes(vote)
    counted = tally.tally(codes, Ballot.objects.filter(vote=vote).values_list("choices", "grid_id").iterator())
    grids = scope_grids(evaluation)
    keys = [str(g.pk) for g in grids]
    names = {str(g.pk): g.name for g in grids}
    for extra in counted["grid_ballots"]:
        if extra and extra not in names:  # a ballot of a courtyard outside the scope list
            keys.append(extra)
            names[extra] = Grid.objects.filter(pk=extra).values_list("name", flat=True).first() or extra
    hide = tally.hidden({g: counted["grid_ballots"].get(g, 0) for g in keys})
    by_criterion = {}
    for criterion in criteria(evaluation):
        row = counted["questions"].get(str(criterion.question_id), {"all": tally.empty(), "grids": {}})
        by_criterion[str(criterion.pk)] = {"all": row["all"], "grids": tally.suppress(row["grids"], keys)}
    return {
        "ballots": counted["ballots"],
        "households": roll(vote).households,
        "grids": [{"id": g, "name": names[g], "ballots": None if g in hide else counted["grid_ballots"].get(g, 0)}
                  for g in keys],
        "criteria": by_criterion,
    }


# --- figures for pages --------------------------------------------------------------------------


@dataclass
class Cell:
    grid: str
    counts: dict | None
    percent: str | None


@dataclass
class Row:
    criterion: Criterion
    counts: dict
    answers: int
    percent: str | None
    below: bool
    last_percent: str | None = None
    change: str | None = None
    cells: list[Cell] = field(default_factory=list)
    response: object = None
    comments: list = field(default_factory=list)


def _matching_key(target_kind: str, target_label: str, text: str) -> tuple:
    return (target_kind, target_label.strip(), text.strip())


def last_year_counts(evaluation: Evaluation) -> tuple[Evaluation | None, dict]:
    """The previous evaluation and its overall counts by (target kind, target name, criterion)."""
    before = previous(evaluation)
    if before is None or not before.results:
        return before, {}
    out = {}
    for c in criteria(before):
        data = before.results["criteria"].get(str(c.pk))
        if data:
            out[_matching_key(c.target.kind, c.target.label, c.text)] = data["all"]
    return before, out


def rows(evaluation: Evaluation) -> list[Row]:
    """One row per criterion: counts, rate, last year's rate and the change, the courtyards."""
    results = evaluation.results or {}
    _before, last = last_year_counts(evaluation)
    grid_names = {g["id"]: g["name"] for g in results.get("grids", [])}
    out = []
    for c in criteria(evaluation):
        data = results.get("criteria", {}).get(str(c.pk))
        counts = data["all"] if data else tally.empty()
        now = tally.rate(counts)
        then_counts = last.get(_matching_key(c.target.kind, c.target.label, c.text))
        then = tally.rate(then_counts)
        cells = []
        for gid, name in grid_names.items():
            cell = (data or {}).get("grids", {}).get(gid) if data else None
            cells.append(Cell(name, cell, tally.percent(tally.rate(cell)) if cell else None))
        out.append(Row(criterion=c, counts=counts, answers=tally.answers(counts), percent=tally.percent(now),
                       below=tally.below(counts), last_percent=tally.percent(then),
                       change=tally.points(now, then), cells=cells, response=response_of(c)))
    return out


def missing_responses(evaluation: Evaluation) -> list[Criterion]:
    """Criteria under 80 % satisfied that have no written response yet."""
    out = []
    for row in rows(evaluation):
        if row.below and not _has_response(row.criterion):
            out.append(row.criterion)
    return out


def _has_response(criterion: Criterion) -> bool:
    try:
        return bool(criterion.response.text.strip())
    except Criterion.response.RelatedObjectDoesNotExist:
        return False


def response_of(criterion: Criterion):
    try:
        return criterion.response
    except Criterion.response.RelatedObjectDoesNotExist:
        return None


def comments(evaluation: Evaluation) -> dict[int, list[str]]:
    """The ballots' comments per criterion (scrubbed by the voting engine when cast), for the
    office writing its responses. Read from the ballots alone, in their stored order (by
    receipt hash: random), so a comment says nothing of who wrote it or when."""
    from linli.voting.models import Ballot

    if evaluation.vote_id is None:
        return {}
    by_question = {str(c.question_id): c.pk for c in criteria(evaluation) if c.question_id}
    out: dict[int, list[str]] = {}
    for choices in Ballot.objects.filter(vote_id=evaluation.vote_id).values_list("choices", flat=True).iterator():
        for qid, text in ((choices or {}).get("comments") or {}).items():
            text = (text or "").strip()
            if text and str(qid) in by_question:
                out.setdefault(by_question[str(qid)], []).append(text)
    return out


@dataclass
class Turnout:
    households: int
    voted: int
    by_channel: dict
    by_grid: list  # (grid name, voted, households)

    @property
    def percent(self) -> str | None:
        from fractions import Fraction

        return tally.percent(Fraction(self.voted, self.households)) if self.households else None


def turnout(evaluation: Evaluation) -> Turnout | None:
    """How many households took part so far (participations, by channel and courtyard). Staff
    only: it counts who took part, never what they chose."""
    from linli.community.models import Household
    from linli.voting.eligibility import roll
    from linli.voting.models import Participation

    vote = evaluation.vote
    if vote is None:
        return None
    parts = Participation.objects.filter(vote=vote)
    by_channel = dict(parts.values_list("channel").annotate(n=Count("id")).order_by())
    voted_by_grid = Counter(dict(parts.values_list("household__grid_id").annotate(n=Count("id")).order_by()))
    grids = scope_grids(evaluation)
    sizes = Counter(dict(Household.objects.filter(grid__in=grids).values_list("grid_id")
                         .annotate(n=Count("id")).order_by()))
    return Turnout(households=roll(vote).households, voted=parts.count(), by_channel=by_channel,
                   by_grid=[(g.name, voted_by_grid.get(g.pk, 0), sizes.get(g.pk, 0)) for g in grids])


# --- the texts published on the log -------------------------------------------------------------


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _community_language():
    return translation.override(settings.LANGUAGE_CODE)


def annual_report(community, year: int) -> tuple[str, str, dict]:
    """The annual report built from the year's logged records: the board's published entries
    whose period lies in the year, counted and listed by section with their log indexes.
    Returns ``(title, body, counts by section)``; written in the community's language."""
    from linli.disclosure.models import Entry, Section
    from linli.disclosure.public_selectors import public_entries

    start, end = year_bounds(year)
    entries = list(public_entries(community).filter(period_start__gte=start, period_start__lte=end)
                   .order_by("section", "log_index").values("section", "state", "title", "log_index",
                                                            "period_start", "period_end"))
    counts: dict[str, int] = {s: 0 for s in Section.values}
    with _community_language():
        labels = {value: str(label) for value, label in Section.choices}
        title = _("Annual report of the community's work, %(year)s") % {"year": year}
        lines = [_("Built from the records the public affairs board published for %(year)s: %(n)d entries. "
                   "Each can be checked on the board by its log index (#).") % {"year": year, "n": len(entries)}]
        for section in Section.values:
            mine = [e for e in entries if e["section"] == section]
            counts[section] = len(mine)
            lines.append("")
            lines.append(ngettext("%(section)s: %(n)d entry", "%(section)s: %(n)d entries", len(mine))
                         % {"section": labels[section], "n": len(mine)})
            for e in mine:
                if e["state"] == Entry.State.WITHDRAWN:
                    text = _("(withdrawn)")
                else:
                    text = e["title"]
                lines.append(f"#{e['log_index']} {e['period_start']:%Y-%m}  {text}")
    return title, "\n".join(lines), counts


def results_text(evaluation: Evaluation) -> tuple[str, str]:
    """The results as published: turnout, the rule, each criterion with last year's rate and
    the courtyards (hidden ones as "fewer than 10"), and the responses."""
    results = evaluation.results or {}
    with _community_language():
        title = _("Democratic evaluation %(year)s: results and the community's responses") % {"year": evaluation.year}
        households, ballots = results.get("households", 0), results.get("ballots", 0)
        lines = [_("Households that may vote: %(households)d. Ballots counted: %(ballots)d.")
                 % {"households": households, "ballots": ballots},
                 _("Satisfaction rate = (satisfied + basically satisfied) / answers. Courtyards with fewer "
                   "than %(n)d answers are not shown separately.") % {"n": tally.MIN_GROUP}]
        before = previous(evaluation)
        if before is not None:
            lines.append(_("Compared with %(year)s.") % {"year": before.year})
        target = None
        for row in rows(evaluation):
            c = row.criterion
            if c.target_id != target:
                target = c.target_id
                lines += ["", f"【{c.target.label}】"]
            rate = (_("%(percent)s%% satisfied") % {"percent": row.percent}) if row.percent else _("no answers")
            text = _("%(criterion)s: satisfied %(s)d, basically satisfied %(b)d, unsatisfied %(u)d; %(rate)s") % {
                "criterion": c.text, "s": row.counts["satisfied"], "b": row.counts["basic"],
                "u": row.counts["unsatisfied"], "rate": rate}
            if row.last_percent is not None:
                text += _(" (last year %(percent)s%%, %(change)s points)") % {"percent": row.last_percent,
                                                                           "change": row.change}
            lines.append(text)
            cells = "; ".join(f"{cell.grid} {cell.percent}%" if cell.counts and cell.percent
                              else f"{cell.grid} " + (_("fewer than %(n)d") % {"n": tally.MIN_GROUP})
                              for cell in row.cells)
            if cells:
                lines.append("  " + _("By courtyard: %(cells)s") % {"cells": cells})
            response = response_of(c)
            if response is not None and response.text.strip():
                lines.append("  " + _("Response: %(text)s") % {"text": response.text.strip()})
        vote = evaluation.vote
        if vote is not None and vote.log_index is not None:
            lines += ["", _("The list of ballots (receipt hashes) is on the board at #%(index)d: each voter can "
                            "check that their ballot was counted.") % {"index": vote.log_index}]
    return title, "\n".join(lines)
