"""Counting a vote from its stored ballots, publishing the result, checking receipts.

* :func:`count` — the result of a vote now: its ballots (``Ballot`` rows) tallied and decided
  by the vote's rule (``linli.voting.counting``) against the roll from the registry
  (``linli.voting.eligibility.roll``); for votes with ``breakdown_by_grid``, per courtyard too,
  never for a group of fewer than :data:`MIN_GROUP` ballots.
* :func:`publish` — close (if still open), count, and publish ONE entry on the public affairs
  board (section "residential", ``linli.disclosure.services.publish_as_server``): the result in
  words a resident reads, then the ballot list, one line per ballot, sorted:
  ``<receipt hash in 8 groups of 8> <canonical choices JSON>`` (comments left out). The vote
  keeps the result (``result``), the SHA-256 of its canonical JSON (``result_sha256``) and the
  entry's log index. A published result never changes: publishing again is refused.
* :func:`check_receipt` / :func:`receipt_line` — whether a receipt code's ballot is in the
  published list, and at which line.

The receipt hash is written in groups of eight hex digits so that no run of digits in it can be
read as a mobile or ID-card number by the board's guard (``linli.disclosure.pii``), which would
hold the entry: a checker removes the spaces before comparing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.core.errors import Conflict, InvalidInput, PermissionDenied
from linli.disclosure.leaf import canonical

from . import counting, paper, rules
from .eligibility import RollSummary, roll as roll_of
from .models import Ballot, Vote
from .services import normalize_code, receipt_hash, vote_close
from .workflow import VOTE

MIN_GROUP = 10
RESULT_VERSION = 1
_LINE = re.compile(r"^((?:[0-9a-f]{8} ){8})(\{.*\})$")


# --- the ballot list ------------------------------------------------------------------------------

def grouped(hex_digest: str) -> str:
    """``0123abcd…`` → ``0123abcd 4567ef01 …``: eight groups of eight."""
    return " ".join(hex_digest[i:i + 8] for i in range(0, len(hex_digest), 8))


def canonical_choices(choices: dict) -> str:
    """The ballot's choices as the list shows them: canonical JSON, option lists sorted, no comments."""
    clean = {}
    for key, value in (choices or {}).items():
        if key == "comments":
            continue
        clean[str(key)] = sorted(value) if isinstance(value, list) else value
    return canonical(clean).decode("utf-8")


def ballot_line(receipt_hash: str, choices: dict) -> str:
    return f"{grouped(receipt_hash)} {canonical_choices(choices)}"


def ballot_lines(vote: Vote) -> list[str]:
    """Every stored ballot of the vote as a line of the published list, sorted."""
    rows = Ballot.objects.filter(vote=vote).values_list("receipt_hash", "choices")
    return sorted(ballot_line(h, c) for h, c in rows.iterator(chunk_size=5000))


def parse_lines(body: str) -> list[tuple[str, str]]:
    """``(receipt_hash, choices JSON)`` of each ballot line of a published body, in order."""
    out = []
    for line in body.splitlines():
        match = _LINE.match(line)
        if match:
            out.append((match.group(1).replace(" ", ""), match.group(2)))
    return out


# --- counting -------------------------------------------------------------------------------------

@dataclass
class Result:
    """The count of one vote. ``grids``: per courtyard, for ``breakdown_by_grid`` votes, each
    ``{"grid", "name", "ballots", "tally"}``; groups under :data:`MIN_GROUP` ballots pooled as
    one ``{"grid": None, "grids": n, …}`` row (or left out when even the pool is that small)."""

    vote: Vote
    roll: RollSummary
    tally: dict
    decision: counting.Decision
    labels: dict
    grids: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        vote = self.vote
        return {
            "v": RESULT_VERSION,
            "vote": vote.pk,
            "title": vote.title,
            "kind": vote.kind,
            "rule": vote.rule,
            "eligibility": vote.eligibility,
            "quorum_percent": vote.quorum_percent,
            "roll": {"people": self.roll.people, "households": self.roll.households, "owners": self.roll.owners,
                     "owner_area": counting.area_text(counting._centi(self.roll.owner_area))},
            "tally": self.tally,
            "decision": self.decision.as_dict(),
            "labels": self.labels,
            "grids": self.grids,
        }


def _structure(vote: Vote) -> tuple[list, dict]:
    questions = []
    labels = {"questions": {}, "options": {}}
    for question in vote.questions.prefetch_related("options"):
        options = list(question.options.all())
        questions.append((question.pk, [o.pk for o in options]))
        labels["questions"][str(question.pk)] = question.text
        for option in options:
            labels["options"][str(option.pk)] = option.label
    return questions, labels


def _suppress(groups: list[dict]) -> list[dict]:
    """Show a courtyard's figures only for ≥ MIN_GROUP ballots; pool the rest, and hide more
    until the pool is empty or itself ≥ MIN_GROUP (else the total minus the shown rows would
    give a small group away)."""
    shown = sorted((g for g in groups if g["ballots"] >= MIN_GROUP), key=lambda g: (g["ballots"], g["grid"] or 0))
    hidden = [g for g in groups if g["ballots"] < MIN_GROUP]
    while shown and 0 < sum(g["ballots"] for g in hidden) < MIN_GROUP:
        hidden.append(shown.pop(0))
    out = sorted(shown, key=lambda g: (g["name"], g["grid"] or 0))
    pooled = sum(g["ballots"] for g in hidden)
    if hidden and pooled >= MIN_GROUP and out:
        out.append({"grid": None, "name": "", "grids": len(hidden), "ballots": pooled,
                    "tally": counting.merge([g["tally"] for g in hidden])})
    return out


def count(vote: Vote, *, roll: RollSummary | None = None) -> Result:
    """Count the vote's stored ballots now (see the module doc)."""
    questions, labels = _structure(vote)
    owners = vote.eligibility == Vote.Eligibility.OWNERS
    by_grid: dict = {}
    # Identical ballots are counted together by the database (the choices are stored in one
    # canonical form), so only the distinct ballots are read and decoded. Rating comments make
    # ballots distinct; they are left out of the count anyway.
    rows = (Ballot.objects.filter(vote=vote).order_by().values("choices", "grid_id")
            .annotate(n=Count("pk"), area=Sum("weight_area")).values_list("choices", "grid_id", "n", "area"))
    for choices, grid, n, area in rows.iterator(chunk_size=5000):
        group = by_grid.get(grid)
        if group is None:
            group = by_grid[grid] = ([], [], [])
        group[0].append(choices)
        group[1].append(n)
        group[2].append(area)
    parts = {grid: counting.tally(vote.kind, questions, ballots, counts=counts, areas=areas if owners else None)
             for grid, (ballots, counts, areas) in by_grid.items()}
    total = counting.merge(list(parts.values())) if parts else counting.tally(vote.kind, questions, [])
    roll = roll if roll is not None else roll_of(vote)
    decision = counting.decide(vote.rule, total, roll, eligibility=vote.eligibility,
                               quorum_percent=vote.quorum_percent)
    grids = []
    if vote.breakdown_by_grid and parts:
        from linli.community.models import Grid

        names = dict(Grid.objects.filter(pk__in=[g for g in parts if g]).values_list("pk", "name"))
        grids = _suppress([{"grid": g, "name": names.get(g, ""), "ballots": t["ballots"], "tally": t}
                           for g, t in parts.items() if g is not None])
    return Result(vote=vote, roll=roll, tally=total, decision=decision, labels=labels, grids=grids)


def result_sha256(data: dict) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


# --- the result in words --------------------------------------------------------------------------

def percent(value) -> str:
    """A share (Fraction, float, or a stored ``{"exact", "value"}``) as "52.4%"."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        value = value["value"]
    return f"{float(value) * 100:.1f}%"


def rule_text(rule: str, quorum_percent: int) -> str:
    return {
        "majority": _("Simple majority: an option is adopted when it has more than half of the votes cast."),
        "quorum": _("Majority with a quorum: at least %(quorum)s of those who may vote must take part; then an "
                    "option is adopted when it has more than half of the votes cast.")
        % {"quorum": f"{quorum_percent}%"},
        "owners": _("Owners' common matter (Civil Code art. 278): owners holding at least two thirds of the "
                    "floor area and at least two thirds of the owners must take part; a matter passes with "
                    "more than half of the participating area and more than half of the participating owners."),
        "owners_special": _("Owners' major matter (Civil Code art. 278): owners holding at least two thirds of "
                            "the floor area and at least two thirds of the owners must take part; a matter passes "
                            "with at least three quarters of the participating area and at least three quarters "
                            "of the participating owners."),
        "tally": _("Counts only: this vote decides nothing by itself."),
    }[rule]


def result_lines(data: dict) -> list[str]:
    """The stored result (:meth:`Result.as_json`) in words, one paragraph per line."""
    labels = data["labels"]
    decision = data["decision"]
    roll = data["roll"]
    owners = data["rule"] in ("owners", "owners_special")
    eligible = decision["eligible"]
    lines = [rule_text(data["rule"], data["quorum_percent"])]
    who = dict(Vote.Eligibility.choices).get(data["eligibility"], data["eligibility"])
    if eligible is not None:
        lines.append(_("Who may vote: %(who)s. On the roll: %(eligible)d. Ballots counted: %(cast)d "
                       "(%(turnout)s of the roll).")
                     % {"who": who, "eligible": eligible, "cast": decision["cast"],
                        "turnout": percent(decision["turnout"])})
    else:
        lines.append(_("Who may vote: %(who)s. Ballots counted: %(cast)d.") % {"who": who, "cast": decision["cast"]})
    if data["rule"] == "quorum":
        lines.append((_("The quorum of %(quorum)s was reached.") if decision["quorum_met"]
                      else _("The quorum of %(quorum)s was not reached.")) % {"quorum": f"{data['quorum_percent']}%"})
    if owners:
        lines.append(_("Owners on the roll: %(owners)d, holding %(area)s m². Taking part: %(cast)d owners "
                       "(%(turnout)s) holding %(cast_area)s m² (%(area_turnout)s).")
                     % {"owners": roll["owners"], "area": roll["owner_area"], "cast": decision["cast"],
                        "turnout": percent(decision["turnout"]), "cast_area": data["tally"]["area"],
                        "area_turnout": percent(decision["area_turnout"])})
        lines.append(_("Participation of at least two thirds of the area and of the owners: reached.")
                     if decision["participation_met"]
                     else _("Participation of at least two thirds of the area and of the owners: not reached."))
    tally_questions = {q["id"]: q for q in data["tally"]["questions"]}
    for number, question in enumerate(decision["questions"], start=1):
        lines.append("")
        lines.append(_("Question %(n)d: %(text)s") % {"n": number, "text": labels["questions"].get(question["id"], "")})
        counted = tally_questions[question["id"]]
        areas = {o["id"]: o["area"] for o in counted["options"]}
        for option in question["options"]:
            label = labels["options"].get(option["id"], "")
            words = ngettext("%(label)s: %(votes)d vote (%(share)s)", "%(label)s: %(votes)d votes (%(share)s)",
                             option["votes"]) % {"label": label, "votes": option["votes"],
                                                 "share": percent(option["share"])}
            if owners:
                words += _(", %(area)s m² (%(share)s of the participating area)") % {
                    "area": areas[option["id"]], "share": percent(option["area_share"])}
            lines.append(f"- {words}")
        if counted["blank"]:
            lines.append("- " + ngettext("left blank: %(n)d ballot", "left blank: %(n)d ballots", counted["blank"])
                         % {"n": counted["blank"]})
        if data["rule"] != "tally":
            adopted = question["adopted"]
            if adopted is not None:
                lines.append(_("Adopted: %(label)s.") % {"label": labels["options"].get(adopted, "")})
            elif question["tie"]:
                lines.append(_("No option reached the threshold (a tie)."))
            else:
                lines.append(_("No option reached the threshold."))
    for group in data.get("grids") or []:
        if group is data["grids"][0]:
            lines.append("")
            lines.append(_("By courtyard (courtyards with fewer than %(n)d ballots are not shown separately):")
                         % {"n": MIN_GROUP})
        name = group["name"] if group["grid"] is not None else ngettext(
            "%(n)d other courtyard", "%(n)d other courtyards together", group["grids"]) % {"n": group["grids"]}
        parts = []
        for question in group["tally"]["questions"]:
            parts.append(", ".join(f"{labels['options'].get(o['id'], '')} {o['votes']}" for o in question["options"]))
        lines.append(_("%(name)s: %(ballots)d ballots; %(figures)s")
                     % {"name": name, "ballots": group["ballots"], "figures": "; ".join(parts)})
    lines.append("")
    if decision["passed"] is True:
        lines.append(_("Outcome: passed."))
    elif decision["passed"] is False:
        lines.append(_("Outcome: not passed."))
    return lines


def body_text(vote: Vote, data: dict, lines: list[str], *, digest: str, force_reason: str = "") -> str:
    out = [_("Vote: %(title)s (process: %(process)s)") % {"title": vote.title, "process": vote.process.title}]
    out += result_lines(data)
    if force_reason:
        out.append("")
        out.append(_("Published although paper sheets were not all reconciled. Reason: %(reason)s")
                   % {"reason": force_reason})
    out.append("")
    out.append(_("SHA-256 of the result (canonical JSON, in groups of eight): %(digest)s")
               % {"digest": grouped(digest)})
    out.append("")
    out.append(ngettext(
        "The ballot list: %(n)d ballot, one per line, sorted: the SHA-256 of its receipt code (“linli-ballot:” "
        "and the code) in groups of eight, then its choices (question id: option ids). Check yours on the "
        "vote's results page.",
        "The ballot list: %(n)d ballots, one per line, sorted: the SHA-256 of each receipt code (“linli-ballot:” "
        "and the code) in groups of eight, then its choices (question id: option ids). Check yours on the "
        "vote's results page.", len(lines)) % {"n": len(lines)})
    out += lines
    return "\n".join(out)


# --- publishing -----------------------------------------------------------------------------------

def _unreconciled(vote: Vote) -> list:
    """The booths whose paper sheets are not reconciled (pending, mismatched, or a gap)."""
    return [r for r in paper.reconcile(vote) if r.pending or r.mismatched or r.gap]


def _period(vote: Vote, now):
    phase = vote.process.phases.filter(key=vote.phase_key).first()
    end = timezone.localdate(now)
    if phase is None:
        return end, end
    start = timezone.localtime(phase.starts_at).date()
    end = min(end, timezone.localtime(phase.ends_at).date())
    return start, max(start, end)


def publish(*, actor, vote: Vote, force_reason: str = "") -> Vote:
    """Close (if open) → count → publish one board entry → the vote ``published``, in one
    transaction. Refused: when already published (a published result never changes here), by
    anyone but the community's office (actor None: the server), and while paper sheets are
    unreconciled unless ``force_reason`` says why (it is published and recorded)."""
    from linli.disclosure.services import publish_as_server

    force_reason = (force_reason or "").strip()
    if len(force_reason) > 500:
        raise InvalidInput(_("The reason may be at most 500 characters."), code="reason", field="force_reason")
    with transaction.atomic():
        vote = Vote.objects.select_for_update(of=("self",)).select_related("process__community").get(pk=vote.pk)
        if vote.state == Vote.State.PUBLISHED:
            raise Conflict(_("This vote's result is published and cannot be changed."), code="published")
        if actor is not None and not rules.may_run(actor, vote.process.community):
            raise PermissionDenied(_("You may not do this with this vote."))
        if vote.state == Vote.State.OPEN:
            vote_close(actor=actor, vote=vote)
            vote = Vote.objects.select_related("process__community").get(pk=vote.pk)
        VOTE.check_move("publish", vote.state)  # a draft: refused before anything is counted
        unreconciled = _unreconciled(vote)
        if unreconciled and not force_reason:
            raise InvalidInput(
                ngettext("The paper sheets of %(n)d booth are not reconciled (sheets waiting for a second entry, "
                         "entries that disagree, or a gap between marked voters and counted sheets). Reconcile "
                         "them, or give the reason to publish anyway.",
                         "The paper sheets of %(n)d booths are not reconciled (sheets waiting for a second entry, "
                         "entries that disagree, or a gap between marked voters and counted sheets). Reconcile "
                         "them, or give the reason to publish anyway.", len(unreconciled)) % {"n": len(unreconciled)},
                code="paper_unreconciled", field="force_reason")
        result = count(vote)
        data = result.as_json()
        digest = result_sha256(data)
        lines = ballot_lines(vote)
        now = timezone.now()
        start, end = _period(vote, now)
        with translation.override(settings.LANGUAGE_CODE):
            title = _("Result of the vote: %(title)s") % {"title": vote.title}
            body = body_text(vote, data, lines, digest=digest, force_reason=force_reason)
        entry = publish_as_server(community=vote.process.community, section="residential", title=title[:200],
                                  body=body, period_start=start, period_end=end)

        def apply(obj, _now):
            obj.result = data
            obj.result_sha256 = digest
            obj.log_index = entry.log_index

        vote = VOTE.transition(vote, "publish", actor=actor, apply=apply,
                               data={"log_index": entry.log_index, "ballots": len(lines),
                                     "passed": result.decision.passed, "forced": bool(force_reason),
                                     "unreconciled_booths": len(unreconciled)})
    return vote


# --- receipts -------------------------------------------------------------------------------------

def published_entry(vote: Vote):
    """The board entry holding the vote's result, or None."""
    if vote.log_index is None:
        return None
    from linli.disclosure.models import Entry

    return Entry.objects.filter(community_id=vote.process.community_id, log_index=vote.log_index).first()


def receipt_line(vote: Vote, code: str) -> int | None:
    """The line (1 = first) of the published ballot list holding this receipt code's ballot, or
    None (not published, or not in the list). Read from the published entry; from the stored
    ballots, in the same order, if the entry's words were withdrawn."""
    if vote.state != Vote.State.PUBLISHED or not normalize_code(code):
        return None
    target = receipt_hash(code)
    entry = published_entry(vote)
    if entry is not None and entry.body:
        for number, (digest, _choices) in enumerate(parse_lines(entry.body), start=1):
            if digest == target:
                return number
        return None
    prefix = grouped(target) + " "
    for number, line in enumerate(ballot_lines(vote), start=1):
        if line.startswith(prefix):
            return number
    return None


def check_receipt(vote: Vote, code: str) -> bool:
    """Whether the ballot of this receipt code counts: in the published list once the result is
    published, stored among the vote's ballots before."""
    if not normalize_code(code):
        return False
    if vote.state == Vote.State.PUBLISHED:
        return receipt_line(vote, code) is not None
    return Ballot.objects.filter(vote=vote, receipt_hash=receipt_hash(code)).exists()
