"""Pabulib, the standard file format of participatory-budgeting data: write and read it.

A file has three sections, each a title line and a header row, fields separated by ``;``::

    META
    key;value
    description;…
    num_projects;3
    num_votes;2
    budget;1000000
    vote_type;approval
    rule;equalshares
    PROJECTS
    project_id;cost;votes;name;selected
    1;400000;2;…;1
    VOTES
    voter_id;vote
    1;1,3

`dump(meta, projects, votes)` writes one; `load(text)` reads one back into the same three
parts, checked and normalised:

- ``meta``: a dict of strings, except ``budget`` (an int) and ``num_projects``/``num_votes``
  (ints, checked against the sections). ``rule`` is Linli's word: the file says ``greedy`` or
  ``equalshares`` (Pabulib's spelling; other tools read it), ``load`` gives back ``greedy`` or
  ``equal-shares``, and keeps any other value as it is (``unknown``, ``equalshares/add1`` …)
  for the caller to accept or refuse.
- ``projects``: dicts with ``project_id`` (str) and ``cost`` (int, fen) and any other columns
  as strings (``name``, ``votes``, ``selected``, ``category`` …).
- ``votes``: dicts with ``voter_id`` (str) and ``vote`` (a list of project ids) and any other
  columns as strings.

Money: Linli writes integer fen and says so with the extra META key ``cost_unit;fen`` (beside
``currency;CNY``); selection by greedy or equal shares does not change when every amount is
scaled, so other tools give the same result. A file without ``cost_unit;fen`` counts in whole
currency units (as pabulib.org's files do): ``load`` converts its amounts to fen (at most two
decimals, ``,`` or ``.``) and sets ``cost_unit`` to ``fen``.

Only approval ballots (``vote_type`` ``approval``, or ``choose-1``) are read; Linli's fund
votes are approval or knapsack ballots, and a knapsack ballot is an approval ballot with
``max_sum_cost``. Text fields are written on one line (a line break becomes a space), quoted
when they hold ``;`` or ``"``, so pabutools' ``parse_pabulib`` reads the file as written.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

SECTIONS = ("meta", "projects", "votes")
META_ORDER = ("description", "country", "unit", "subunit", "instance", "num_projects", "num_votes",
              "budget", "vote_type", "rule", "date_begin", "date_end")
RULE_TO_FILE = {"greedy": "greedy", "equal-shares": "equalshares"}
RULE_FROM_FILE = {"greedy": "greedy", "equalshares": "equal-shares", "equal-shares": "equal-shares"}
APPROVAL_TYPES = ("approval", "choose-1")


class PabulibError(ValueError):
    """A file that is not a Pabulib file Linli can read; the message is translated."""


def _cell(value) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        value = ",".join(str(v) for v in value)
    text = "" if value is None else str(value)
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def dump(meta: dict, projects: list[dict], votes: list[dict]) -> str:
    """The Pabulib text of a call: its META, its projects, its ballots (approval).

    ``meta`` must hold ``budget`` (int fen) and ``rule`` ("greedy" | "equal-shares");
    ``num_projects``, ``num_votes``, ``vote_type`` ("approval"), ``currency`` ("CNY") and
    ``cost_unit`` ("fen") are filled in. Each project needs ``project_id`` and ``cost``; each
    vote ``voter_id`` and ``vote`` (project ids, a list or a comma-separated string).
    Raises ``ValueError`` for parts that would make a file no one can read back.
    """
    meta = dict(meta)
    if "budget" not in meta or "rule" not in meta:
        raise ValueError("meta needs budget and rule")
    for key in ("num_projects", "num_votes"):
        expected = len(projects) if key == "num_projects" else len(votes)
        if key in meta and int(meta[key]) != expected:
            raise ValueError(f"meta {key} is {meta[key]} but there are {expected}")
        meta[key] = expected
    meta.setdefault("vote_type", "approval")
    if meta["vote_type"] not in APPROVAL_TYPES:
        raise ValueError("only approval ballots are written")
    meta["rule"] = RULE_TO_FILE.get(meta["rule"], meta["rule"])
    meta.setdefault("currency", "CNY")
    meta.setdefault("cost_unit", "fen")

    ids = [str(p["project_id"]) for p in projects]
    if len(set(ids)) != len(ids):
        raise ValueError("project ids repeat")
    known = set(ids)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)

    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    keys = [k for k in META_ORDER if k in meta] + [k for k in meta if k not in META_ORDER]
    for key in keys:
        if ";" in str(key) or "\n" in str(key):
            raise ValueError(f"bad meta key {key!r}")
        writer.writerow([key, _cell(meta[key])])

    writer.writerow(["PROJECTS"])
    columns = ["project_id", "cost"]
    for project in projects:
        columns += [k for k in project if k not in columns]
    writer.writerow(columns)
    for project in projects:
        writer.writerow([_cell(project.get(col, "None")) for col in columns])

    writer.writerow(["VOTES"])
    columns = ["voter_id"]
    for vote in votes:
        columns += [k for k in vote if k not in columns and k != "vote"]
    columns.append("vote")
    writer.writerow(columns)
    seen_voters = set()
    for vote in votes:
        chosen = vote.get("vote", [])
        chosen = [c for c in chosen.split(",") if c] if isinstance(chosen, str) else [str(c) for c in chosen]
        if not set(chosen) <= known:
            raise ValueError(f"voter {vote.get('voter_id')} approves a project that is not listed")
        voter_id = str(vote["voter_id"])
        if voter_id in seen_voters:
            raise ValueError(f"voter id {voter_id} repeats")
        seen_voters.add(voter_id)
        row = dict(vote, vote=",".join(chosen))
        writer.writerow([_cell(row.get(col, "None")) for col in columns])
    return out.getvalue()


def _fen(text: str, *, in_fen: bool, where: str) -> int:
    raw = text.strip().replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise PabulibError(_("%(where)s: “%(value)s” is not an amount.") % {"where": where, "value": raw}) from None
    if not in_fen:
        amount *= 100
    if amount < 0 or amount != amount.to_integral_value() or not amount.is_finite():
        raise PabulibError(_("%(where)s: “%(value)s” is not an amount.") % {"where": where, "value": raw})
    return int(amount)


def _count(meta: dict, key: str, actual: int) -> None:
    if key not in meta:
        meta[key] = actual
        return
    try:
        declared = int(meta[key])
    except ValueError:
        raise PabulibError(_("META %(key)s is not a number.") % {"key": key}) from None
    if declared != actual:
        raise PabulibError(_("META says %(key)s is %(declared)s but the file has %(actual)s.")
                           % {"key": key, "declared": declared, "actual": actual})
    meta[key] = declared


def load(text: str) -> tuple[dict, list[dict], list[dict]]:
    """Reads a Pabulib file (see the module's docstring); raises `PabulibError` if it is not one."""
    if not isinstance(text, str):
        raise PabulibError(_("The file is not text."))
    text = text.lstrip("\ufeff")
    meta: dict = {}
    projects: list[dict] = []
    votes: list[dict] = []
    seen: list[str] = []
    section, header = None, None
    try:
        rows = list(csv.reader(text.splitlines(), delimiter=";"))
    except csv.Error as exc:
        raise PabulibError(_("The file cannot be read: %(error)s") % {"error": exc}) from None
    for number, row in enumerate(rows, start=1):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        word = row[0].strip().lower()
        if word in SECTIONS and len([c for c in row if c.strip()]) == 1:
            if word in seen:
                raise PabulibError(_("Line %(line)s: the section %(section)s appears twice.")
                                   % {"line": number, "section": word.upper()})
            seen.append(word)
            section, header = word, None
            continue
        if section is None:
            raise PabulibError(_("Line %(line)s: text before the META section.") % {"line": number})
        if header is None:
            header = [c.strip() for c in row]
            continue
        if len(row) != len(header) and not (section == "meta" and len(row) >= 2):
            raise PabulibError(_("Line %(line)s: %(found)s fields where the header has %(expected)s.")
                               % {"line": number, "found": len(row), "expected": len(header)})
        if section == "meta":
            meta[row[0].strip()] = row[1].strip()
        else:
            record = {}
            for key, value in zip(header, row):
                if value.strip().lower() != "none":
                    record[key] = value.strip()
            record["_line"] = number
            (projects if section == "projects" else votes).append(record)
    if seen != list(SECTIONS):
        raise PabulibError(_("A Pabulib file has the sections META, PROJECTS and VOTES, in this order."))

    for key in ("budget", "vote_type"):
        if key not in meta:
            raise PabulibError(_("META has no %(key)s.") % {"key": key})
    if meta["vote_type"] not in APPROVAL_TYPES:
        raise PabulibError(_("Only approval ballots can be read, not “%(type)s”.") % {"type": meta["vote_type"]})
    in_fen = meta.get("cost_unit") == "fen"
    meta["budget"] = _fen(meta["budget"], in_fen=in_fen, where="META budget")
    for key in ("min_sum_cost", "max_sum_cost"):
        if key in meta:
            meta[key] = str(_fen(meta[key], in_fen=in_fen, where=f"META {key}"))
    meta["cost_unit"] = "fen"
    if "rule" in meta:
        meta["rule"] = RULE_FROM_FILE.get(meta["rule"], meta["rule"])

    ids: set[str] = set()
    for project in projects:
        line = project.pop("_line")
        if not project.get("project_id") or "cost" not in project:
            raise PabulibError(_("Line %(line)s: a project needs a project_id and a cost.") % {"line": line})
        if project["project_id"] in ids:
            raise PabulibError(_("Line %(line)s: project %(id)s is listed twice.")
                               % {"line": line, "id": project["project_id"]})
        ids.add(project["project_id"])
        project["cost"] = _fen(project["cost"], in_fen=in_fen, where=_("line %(line)s") % {"line": line})
    voters: set[str] = set()
    for vote in votes:
        line = vote.pop("_line")
        if not vote.get("voter_id"):
            raise PabulibError(_("Line %(line)s: a vote needs a voter_id.") % {"line": line})
        if vote["voter_id"] in voters:
            raise PabulibError(_("Line %(line)s: voter %(id)s votes twice.") % {"line": line, "id": vote["voter_id"]})
        voters.add(vote["voter_id"])
        chosen = [c.strip() for c in vote.get("vote", "").split(",") if c.strip()]
        unknown = [c for c in chosen if c not in ids]
        if unknown:
            raise PabulibError(_("Line %(line)s: the vote names project %(id)s, which is not listed.")
                               % {"line": line, "id": unknown[0]})
        if len(set(chosen)) != len(chosen):
            raise PabulibError(_("Line %(line)s: the vote names a project twice.") % {"line": line})
        vote["vote"] = chosen
    _count(meta, "num_projects", len(projects))
    _count(meta, "num_votes", len(votes))
    return meta, projects, votes
