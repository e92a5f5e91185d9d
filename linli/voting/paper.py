"""Booths and paper ballots: booths, one-time sheet codes, double entry, reconciliation
(docs/voting.md, "Booth and paper").

A paper vote runs like this. Before the vote an officer issues a batch of codes for a booth
(:func:`issue_codes`): each code is shown once, printed on one ballot sheet
(``linli.voting.pdf.ballot_sheets``), and only its salted hash is kept (:class:`PaperCode`).
At the booth an officer identifies the resident and marks that they took a sheet
(``services.mark_paper``: a participation with channel "paper", which blocks every other
channel); the resident takes any sheet from the pile, so nobody knows which code went to whom.
The returned sheets are typed in twice, by two different officers (:func:`enter_sheet`):
when both entries agree the sheet counts (one :class:`Ballot`, its receipt
hash that of the code, so the voter checks it with the strip they kept); when they differ
neither counts until a third officer reads the sheet and settles it with a reason
(:func:`resolve_mismatch`). A sheet that is void (damaged, not filled in, marked in a way that
is no valid ballot) is recorded so (:func:`spoil_code`, or both entries saying "void").
:func:`reconcile` compares per booth the voters marked with the sheets counted, waiting,
disputed and void.

Nothing here records who voted what: a code is never linked to a participation, events carry
neither choices nor codes, and a sheet entry keeps the code's hash only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import Grid
from linli.core import events
from linli.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from linli.core.masking import scrub

from . import ballots, rules
from .eligibility import scope_grid_ids
from .services import paper_allowed, receipt_hash, record_ballot
from .models import Booth, Channel, Participation, PaperCode, SheetEntry, Vote
from .phases import PhaseClosed

# Ten characters from an alphabet with no 0/O, 1/I/L or U/V pairs to confuse when read aloud
# or typed from a sheet: 29 symbols, 29**10 ≈ 4.2·10**14 codes (48 bits) per vote.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CODE_LENGTH = 10
MAX_BATCH = 500  # codes one request issues (one PDF of 500 pages is about 2 MB)
REASON_MAX = 200

S = PaperCode.State

# The events of this module, registered by the app (apps.py); none carries a code or a choice.
EVENTS = {
    "voting.booth_created": gettext_lazy("added a booth to a vote"),
    "voting.paper_issued": gettext_lazy("issued paper ballot codes"),
    "voting.paper_entered": gettext_lazy("typed in a paper sheet (first entry)"),
    "voting.paper_counted": gettext_lazy("typed in a paper sheet (second entry, counted)"),
    "voting.paper_voided": gettext_lazy("typed in a paper sheet (second entry, void)"),
    "voting.paper_mismatched": gettext_lazy("typed in a paper sheet (second entry differs)"),
    "voting.paper_resolved": gettext_lazy("settled a disputed paper sheet"),
    "voting.paper_spoiled": gettext_lazy("declared a paper sheet void"),
}


class SheetState:
    WAITING_SECOND = "waiting_second"
    COUNTED = "counted"
    MISMATCH = "mismatch"
    VOID = "void"


@dataclass
class BoothReconciliation:
    """One booth's sheets: ``marked`` voters took a sheet there; of the sheets typed in,
    ``counted`` count, ``pending`` wait for their second entry, ``mismatched`` wait for a
    third officer, ``void`` were declared void after being handed in; ``gap`` = marked −
    (counted + pending + mismatched + void): above 0 sheets taken and not (yet) typed in, below
    0 more sheets than voters marked — each one to explain. ``issued``: codes issued there."""

    booth: Booth | None
    marked: int
    counted: int
    pending: int
    mismatched: int
    gap: int
    void: int = 0
    issued: int = 0
    unused: int = field(default=0)

    @property
    def missing(self) -> int:
        """Sheets taken and not (yet) typed in."""
        return max(self.gap, 0)

    @property
    def extra(self) -> int:
        """Sheets typed in beyond the voters marked."""
        return max(-self.gap, 0)

    @property
    def ok(self) -> bool:
        return self.gap == 0 and self.pending == 0 and self.mismatched == 0


# -- codes ---------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What an officer or voter typed → the code: spaces and dashes dropped, upper case.
    ``InvalidInput`` (code "bad_code") when it cannot be a code."""
    code = "".join(ch for ch in str(text or "").upper() if ch not in " -\t\r\n")
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidInput(
            _("A sheet code has 10 letters and digits, as printed at the foot of the sheet "
              "(it never contains 0, 1, O, I, L, U or V). Please check what you typed."),
            code="bad_code", field="code")
    return code


def code_hash(vote: Vote, code: str) -> str:
    """SHA-256 (hex) of the vote's paper salt and the code: all that is stored of a code."""
    return hashlib.sha256((vote.paper_salt + code).encode()).hexdigest()


# -- checks --------------------------------------------------------------------------------


def _officer(actor, vote: Vote) -> None:
    if not rules.may_officiate(actor, vote.process.community):
        raise PermissionDenied(_("Only the community's admins and workers act as officers of this vote."))


def _entries_open(vote: Vote, *, at=None) -> None:
    """Sheets are typed in from the opening of the vote's phase until the result is published."""
    if vote.state == Vote.State.PUBLISHED:
        raise Conflict(_("The result of this vote is published: no sheet can be entered or changed now."),
                       code="published")
    if vote.state == Vote.State.DRAFT:
        raise PhaseClosed(_("Sheets are typed in once the vote is open; this vote is still a draft."))
    phase = vote.process.phases.filter(key=vote.phase_key).first()
    if phase is not None and (at or timezone.now()) < phase.starts_at:
        raise PhaseClosed(
            _("Sheets are typed in from the start of the phase “%(phase)s” (%(start)s).")
            % {"phase": phase.name, "start": timezone.localtime(phase.starts_at).strftime("%Y-%m-%d %H:%M")})


def _booth(vote: Vote, booth) -> Booth:
    booth_id = getattr(booth, "pk", booth)
    found = Booth.objects.filter(vote=vote, pk=booth_id).first() if booth_id else None
    if found is None:
        raise NotFound(_("This vote has no such booth."))
    return found


def _reason(reason: str) -> str:
    text = " ".join(str(reason or "").split())
    if not text:
        raise InvalidInput(_("Please give a reason."), code="reason_required", field="reason")
    return scrub(text[:REASON_MAX])


# -- booths --------------------------------------------------------------------------------


@transaction.atomic
def booth_create(*, actor, vote: Vote, name: str, place: str = "", at=None) -> Booth:
    """A booth of the vote (a desk at the service centre, a table in a courtyard)."""
    _officer(actor, vote)
    if vote.state in (Vote.State.CLOSED, Vote.State.PUBLISHED):
        raise Conflict(_("This vote is closed: no booth can be added."), code="closed")
    name = " ".join(str(name or "").split())[:80]
    if not name:
        raise InvalidInput(_("A booth needs a name."), field="name")
    booth = Booth.objects.create(vote=vote, name=name, place=" ".join(str(place or "").split())[:120])
    events.record(actor=actor, verb="voting.booth_created", target=booth,
                  community=vote.process.community, data={"vote": vote.pk}, at=at)
    return booth


# -- issuing -------------------------------------------------------------------------------


@transaction.atomic
def issue_codes(*, actor, vote: Vote, booth, count: int, at=None) -> list[str]:
    """A batch of ``count`` new codes for ``booth``, returned once; only their hashes stay."""
    _officer(actor, vote)
    paper_allowed(vote)
    if vote.state in (Vote.State.CLOSED, Vote.State.PUBLISHED):
        raise Conflict(_("This vote is closed: no more sheets can be issued."), code="closed")
    if vote.state == Vote.State.DRAFT:
        # A draft's questions may still change; printed sheets could not follow.
        raise Conflict(_("Open the vote before printing sheets: its questions can no longer change then, "
                         "and ballots are still taken only in its phase."), code="draft")
    booth = _booth(vote, booth)
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(_("Issue between 1 and %(max)d sheets at a time.") % {"max": MAX_BATCH},
                           field="count")
    codes: dict[str, str] = {}
    while len(codes) < count:
        code = new_code()
        codes[code_hash(vote, code)] = code
    taken = set(PaperCode.objects.filter(vote=vote, code_hash__in=list(codes)).values_list("code_hash", flat=True))
    for digest in taken:  # 1 in 10**14: draw again rather than fail
        del codes[digest]
        while True:
            code = new_code()
            digest = code_hash(vote, code)
            if digest not in codes and not PaperCode.objects.filter(vote=vote, code_hash=digest).exists():
                codes[digest] = code
                break
    PaperCode.objects.bulk_create([PaperCode(vote=vote, booth=booth, code_hash=h) for h in codes])
    events.record(actor=actor, verb="voting.paper_issued", target=vote, community=vote.process.community,
                  data={"booth": booth.pk, "count": count}, at=at)
    return list(codes.values())


def issued_here(vote: Vote, booth, codes: list[str]) -> list[str]:
    """The codes (normalised) that were issued for this vote and booth and are not yet typed
    in: what the sheets' PDF may print again. ``InvalidInput`` for any other."""
    booth = _booth(vote, booth)
    normal = [normalize_code(c) for c in codes]
    hashes = {code_hash(vote, c) for c in normal}
    found = PaperCode.objects.filter(vote=vote, booth=booth, code_hash__in=hashes, state=S.ISSUED).count()
    if found != len(hashes) or len(hashes) != len(normal):
        raise InvalidInput(_("These codes are not all unused codes of this booth."), code="unknown_code")
    return normal


# -- entering sheets ------------------------------------------------------------------------


def _sheet(vote: Vote, choices, grid) -> dict:
    """The entry as stored and compared: the canonical ballot (None: a void sheet) and the
    courtyard printed on it (only where the vote counts per courtyard)."""
    ballot = None
    if choices is not None:
        if isinstance(choices, dict) and "comments" in choices:
            choices = {k: v for k, v in choices.items() if k != "comments"}  # no comments on paper
        ballot = ballots.validate(vote, choices)
    grid_id = None
    if vote.breakdown_by_grid:
        try:
            grid_id = int(getattr(grid, "pk", grid))
        except (TypeError, ValueError):
            grid_id = None
        scope = scope_grid_ids(vote) or set(
            Grid.objects.filter(community_id=vote.process.community_id).values_list("pk", flat=True))
        if grid_id not in scope:
            raise InvalidInput(_("Choose the courtyard printed at the top of the sheet."),
                               code="grid_required", field="grid")
    return {"choices": ballot, "grid": grid_id}


def _find(vote: Vote, code: str) -> tuple[str, PaperCode]:
    code = normalize_code(code)
    digest = code_hash(vote, code)
    paper = PaperCode.objects.select_for_update().filter(vote=vote, code_hash=digest).first()
    if paper is None:
        raise InvalidInput(_("No sheet of this vote has this code. Check the code on the sheet, "
                             "and that the sheet belongs to this vote."), code="unknown_code", field="code")
    if paper.state == S.SPOILED:
        raise Conflict(_("This sheet was declared void: it cannot be entered."), code="spoiled_code")
    if paper.state == S.COUNTED:
        raise Conflict(_("This sheet has already been counted."), code="already_counted")
    return code, paper


def _count(vote: Vote, code: str, paper: PaperCode, sheet: dict) -> None:
    """Two readings agree (or a third settled them): the sheet counts, or is void."""
    if sheet["choices"] is None:
        paper.state = S.SPOILED
    else:
        grid = Grid.objects.filter(pk=sheet["grid"]).first() if sheet["grid"] else None
        try:
            with transaction.atomic():  # a savepoint: the receipt's uniqueness decides a race
                record_ballot(vote=vote, choices=sheet["choices"], receipt=receipt_hash(code), grid=grid)
        except IntegrityError:
            raise Conflict(_("This sheet has already been counted."), code="already_counted") from None
        paper.state = S.COUNTED
    paper.save(update_fields=["state"])


@transaction.atomic
def enter_sheet(*, actor, vote: Vote, code: str, choices: dict | None, grid=None, at=None) -> str:
    """One officer's reading of a returned sheet: ``choices`` in the canonical form
    (``None``: the sheet is void), ``grid`` the courtyard printed on it where the vote counts
    per courtyard. The first entry waits for a second by another officer; equal entries count
    the sheet (or void it), different ones are flagged for :func:`resolve_mismatch`.
    Returns a :class:`SheetState` value. ``at`` (every service here): the moment, default now —
    the demo writes its history through these services with its own."""
    vote = Vote.objects.select_related("process__community").get(pk=vote.pk)
    _officer(actor, vote)
    paper_allowed(vote)
    _entries_open(vote, at=at)
    code, paper = _find(vote, code)
    sheet = _sheet(vote, choices, grid)
    entries = list(SheetEntry.objects.filter(vote=vote, code_hash=paper.code_hash).order_by("created_at", "pk"))
    if any(e.officer_id == actor.pk for e in entries):
        raise InvalidInput(_("You have already typed in this sheet: another officer must type it "
                             "for the second entry."), code="same_officer", field="code")
    if len(entries) >= 2:
        raise Conflict(_("The two entries of this sheet differ: a third officer settles it on the "
                         "reconciliation page."), code="mismatch_pending")
    SheetEntry.objects.create(vote=vote, code_hash=paper.code_hash, officer=actor, choices=sheet)
    community = vote.process.community
    booth = {"booth": paper.booth_id}
    if not entries:
        paper.state = S.ENTERED
        paper.save(update_fields=["state"])
        events.record(actor=actor, verb="voting.paper_entered", target=vote, community=community, data=booth, at=at)
        return SheetState.WAITING_SECOND
    if entries[0].choices == sheet:
        _count(vote, code, paper, sheet)
        verb = "voting.paper_voided" if sheet["choices"] is None else "voting.paper_counted"
        events.record(actor=actor, verb=verb, target=vote, community=community, data=booth, at=at)
        return SheetState.VOID if sheet["choices"] is None else SheetState.COUNTED
    events.record(actor=actor, verb="voting.paper_mismatched", target=vote, community=community, data=booth,
                  at=at)
    return SheetState.MISMATCH


@transaction.atomic
def resolve_mismatch(*, actor, vote: Vote, code: str, choices: dict | None, reason: str, grid=None,
                     at=None) -> str:
    """A third officer, holding the sheet, settles two entries that differ: what the sheet
    says (``None``: void) counts, with the reason recorded. Returns a :class:`SheetState`."""
    vote = Vote.objects.select_related("process__community").get(pk=vote.pk)
    _officer(actor, vote)
    _entries_open(vote, at=at)
    reason = _reason(reason)
    code, paper = _find(vote, code)
    entries = list(SheetEntry.objects.filter(vote=vote, code_hash=paper.code_hash))
    if len(entries) < 2:
        raise Conflict(_("This sheet has no differing entries to settle: type it in as usual."),
                       code="no_mismatch")
    if any(e.officer_id == actor.pk for e in entries):
        raise InvalidInput(_("A third officer, who typed in neither entry, settles a sheet."),
                           code="same_officer")
    sheet = _sheet(vote, choices, grid)
    SheetEntry.objects.create(vote=vote, code_hash=paper.code_hash, officer=actor, choices=sheet)
    _count(vote, code, paper, sheet)
    events.record(actor=actor, verb="voting.paper_resolved", target=vote, community=vote.process.community,
                  data={"booth": paper.booth_id, "reason": reason,
                        "void": sheet["choices"] is None}, at=at)
    return SheetState.VOID if sheet["choices"] is None else SheetState.COUNTED


@transaction.atomic
def spoil_code(*, actor, vote: Vote, code: str, reason: str, at=None) -> None:
    """Declares a sheet not yet entered void (torn, misprinted, lost, returned blank), with a
    reason: its code never counts."""
    vote = Vote.objects.select_related("process__community").get(pk=vote.pk)
    _officer(actor, vote)
    if vote.state == Vote.State.PUBLISHED:
        raise Conflict(_("The result of this vote is published: no sheet can be entered or changed now."),
                       code="published")
    reason = _reason(reason)
    code, paper = _find(vote, code)
    if paper.state != S.ISSUED:
        raise Conflict(_("This sheet has been typed in already: settle it by entry, not by voiding the code."),
                       code="already_entered")
    paper.state = S.SPOILED
    paper.save(update_fields=["state"])
    events.record(actor=actor, verb="voting.paper_spoiled", target=vote, community=vote.process.community,
                  data={"booth": paper.booth_id, "reason": reason}, at=at)


# -- reading -------------------------------------------------------------------------------


@dataclass
class Mismatch:
    """Two (or more) entries of one sheet that differ: the entries' readings, by whom, when."""

    booth_id: int | None
    entries: list[SheetEntry]


def mismatches(vote: Vote) -> list[Mismatch]:
    """The sheets waiting for a third officer, oldest first (their code hashes stay here)."""
    entered = PaperCode.objects.filter(vote=vote, state=S.ENTERED)
    booths = dict(entered.values_list("code_hash", "booth_id"))
    grouped: dict[str, list[SheetEntry]] = {}
    for entry in (SheetEntry.objects.filter(vote=vote, code_hash__in=list(booths))
                  .select_related("officer").order_by("created_at", "pk")):
        grouped.setdefault(entry.code_hash, []).append(entry)
    return [Mismatch(booth_id=booths[h], entries=e) for h, e in grouped.items() if len(e) >= 2]


def reconcile(vote: Vote) -> list[BoothReconciliation]:
    """Per booth (and one row for sheets or voters with no booth, if any): voters marked as
    having taken a sheet against the sheets typed in."""
    marked: dict = {}
    for booth_id in Participation.objects.filter(vote=vote, channel=Channel.PAPER).values_list("booth_id", flat=True):
        marked[booth_id] = marked.get(booth_id, 0) + 1
    entry_counts: dict[str, int] = {}
    for digest in SheetEntry.objects.filter(vote=vote).values_list("code_hash", flat=True):
        entry_counts[digest] = entry_counts.get(digest, 0) + 1
    rows: dict = {}

    def row(booth_id):
        return rows.setdefault(booth_id, {"counted": 0, "pending": 0, "mismatched": 0, "void": 0,
                                          "issued": 0, "unused": 0})

    for booth_id, digest, state in PaperCode.objects.filter(vote=vote).values_list("booth_id", "code_hash", "state"):
        r = row(booth_id)
        r["issued"] += 1
        entered = entry_counts.get(digest, 0)
        if state == S.COUNTED:
            r["counted"] += 1
        elif state == S.SPOILED:
            if entered:
                r["void"] += 1  # handed in and found void: a voter's sheet
            else:
                r["unused"] += 1  # never handed in (torn, misprinted)
        elif state == S.ENTERED:
            r["pending" if entered < 2 else "mismatched"] += 1
        else:
            r["unused"] += 1
    booths = list(Booth.objects.filter(vote=vote).order_by("pk"))
    out = []
    keys = [b.pk for b in booths] + ([None] if None in rows or None in marked else [])
    by_id = {b.pk: b for b in booths}
    for key in keys:
        r = row(key)
        m = marked.get(key, 0)
        gap = m - (r["counted"] + r["pending"] + r["mismatched"] + r["void"])
        out.append(BoothReconciliation(booth=by_id.get(key), marked=m, counted=r["counted"],
                                       pending=r["pending"], mismatched=r["mismatched"], gap=gap,
                                       void=r["void"], issued=r["issued"], unused=r["unused"]))
    return out


def is_reconciled(vote: Vote) -> bool:
    """Every booth's sheets add up: no gap, nothing waiting, nothing disputed (what publishing
    a result asks for, unless forced with a reason)."""
    return all(r.ok for r in reconcile(vote))
