"""What the public board reads: published and withdrawn entries only, never anything else.

Every public page, the feed and the search go through :func:`public_entries`, so a draft, a
submitted or a held entry cannot appear on any of them. :func:`server_check` is the server's
own check of one entry, shown on its page: it recomputes the content's SHA-256, the leaf and
each attachment's hash, and checks the leaf's inclusion in the latest signed checkpoint. :func:`verify_alarm` is the
daily check's latest failure, which the board shows at its top.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.community.models import Community, StaffRole
from linli.core import signednote, tlog
from linli.core.models import Event
from linli.transparency import keys, selectors as log_selectors

from . import leaf
from .models import Entry, Section
from .rules import SYSTEM_ROLE


PUBLIC_STATES = (Entry.State.PUBLISHED, Entry.State.WITHDRAWN)
SEARCH_MAX = 100  # characters of a search term; longer ones are cut


def community(code: str) -> Community | None:
    return Community.objects.filter(code=code).select_related("street").first()


def public_entries(community: Community):
    """Entries the public may see: published or withdrawn, and in the log."""
    return Entry.objects.filter(community=community, state__in=PUBLIC_STATES, log_index__isnull=False)


# --- Filters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # "2026", "2026-Q1", "2026-03"
    start: dt.date
    end: dt.date
    label: str


def parse_period(key: str) -> Period | None:
    """``YYYY``, ``YYYY-Qn`` or ``YYYY-MM``; None for anything else."""
    key = (key or "").strip()
    try:
        if len(key) == 4 and key.isdigit():
            year = int(key)
            return Period(key, dt.date(year, 1, 1), dt.date(year, 12, 31),
                          _("%(year)s (whole year)") % {"year": year})
        if len(key) == 7 and key[4:6] == "-Q" and key[:4].isdigit() and key[6] in "1234":
            year, quarter = int(key[:4]), int(key[6])
            first = 3 * quarter - 2
            return Period(key, dt.date(year, first, 1),
                          dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1]),
                          _("%(year)s Q%(quarter)s") % {"year": year, "quarter": quarter})
        if len(key) == 7 and key[4] == "-" and key[:4].isdigit() and key[5:].isdigit():
            year, month = int(key[:4]), int(key[5:])
            return Period(key, dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]),
                          f"{year}-{month:02d}")
    except ValueError:  # month 13, year 0
        return None
    return None


def period_choices(community: Community) -> list[Period]:
    """The periods the board's filter offers, newest first: each year, quarter and month from
    the earliest public entry's period to the latest one's. Two index reads (the first and the
    last ``period_start``), not a scan of every entry."""
    entries = public_entries(community).order_by("period_start").values_list("period_start", flat=True)
    first, last = entries.first(), entries.last()
    if first is None:
        return []
    choices, seen = [], set()
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        for key in (f"{year}", f"{year}-Q{(month - 1) // 3 + 1}", f"{year}-{month:02d}"):
            if key not in seen:
                seen.add(key)
                choices.append(parse_period(key))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def board(community: Community, *, section: str = "", period: Period | None = None, q: str = ""):
    """The board's entries, newest first: in ``section``, covering part of ``period``,
    with ``q`` in the title or body. The search looks at published entries only: a withdrawn
    one has no words left to match."""
    entries = public_entries(community)
    if section in Section.values:
        entries = entries.filter(section=section)
    if period is not None:
        entries = entries.filter(period_start__lte=period.end, period_end__gte=period.start)
    q = (q or "").strip()[:SEARCH_MAX]
    if q:
        entries = entries.filter(state=Entry.State.PUBLISHED).filter(Q(title__icontains=q) | Q(body__icontains=q))
    return entries.order_by("-log_index")


def entry_at(community: Community, index: int) -> Entry | None:
    """The public entry at log ``index`` (its own leaf, or the leaf that withdrew it)."""
    return (public_entries(community).filter(Q(log_index=index) | Q(withdrawal_log_index=index))
            .select_related("community", "supersedes").first())


def annotate(entries: list[Entry]) -> list[Entry]:
    """Set, on each of a board page's ``entries``, ``section_label`` and ``corrected_by_index``
    (the log index of the newest public entry correcting it, or None), in one query."""
    latest: dict[int, int] = {}
    if entries:
        rows = (public_entries(entries[0].community_id).filter(supersedes__in=[e.pk for e in entries])
                .order_by("log_index").values_list("supersedes_id", "log_index"))
        latest = dict(rows)
    for entry in entries:
        entry.corrected_by_index = latest.get(entry.pk)
        entry.section_label = SECTION_LABELS.get(entry.section, entry.section)
    return entries


def corrected_by(entry: Entry) -> list[Entry]:
    """The public entries that correct ``entry``, oldest first."""
    return list(public_entries(entry.community).filter(supersedes=entry).order_by("log_index"))


def corrects(entry: Entry) -> Entry | None:
    """The public entry that ``entry`` corrects."""
    if not entry.supersedes_id:
        return None
    return public_entries(entry.community).filter(pk=entry.supersedes_id).first()


def role_label(code: str) -> str:
    """A staff role's name for the public (never a person's name); the system for scripted
    imports."""
    if not code or code == SYSTEM_ROLE:
        return _("the system (an import run on the server)")
    try:
        return str(StaffRole.Role(code).label)
    except ValueError:
        return code


# --- The server's check of one entry ---------------------------------------------------

OK = "ok"
FAILED = "failed"
UNAVAILABLE = "unavailable"


@dataclass
class Check:
    """The server's check of an entry: ``status`` ok, failed (with ``problems``) or
    unavailable (nothing signed to check against yet, or no key configured)."""

    status: str
    problems: list[str] = field(default_factory=list)
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK


def _stored_leaf(community: Community, index: int) -> bytes | None:
    try:
        return log_selectors.leaf(community, index)
    except IndexError:
        return None


def _read_attachment(attachment) -> bytes | None:
    from . import attachments as store  # the board's storage of attachment bytes

    try:
        return store.read_bytes(attachment)
    except (OSError, ValueError, LookupError):
        return None


BAD_CHECKPOINT = "bad"


def _signed_root(community: Community):
    """(size, root) of the latest checkpoint if its signature verifies under this installation's
    key and it names this community's log; None when there is no checkpoint or no key to check
    it with; :data:`BAD_CHECKPOINT` when it does not verify."""
    checkpoint = log_selectors.latest_checkpoint(community)
    if checkpoint is None:
        return None
    try:
        verifier = keys.verifier()
    except keys.SigningKeyMissing:
        return None
    try:
        note = signednote.open_note(checkpoint.note.encode("utf-8"), [verifier])
        parsed = signednote.parse_checkpoint(note.text)
    except (signednote.NoteError, ValueError):
        return BAD_CHECKPOINT
    if parsed.origin != keys.origin_for(community) or parsed.size != checkpoint.size:
        return BAD_CHECKPOINT
    return parsed.size, parsed.root


def _included(community: Community, index: int, data: bytes, signed) -> bool:
    size, root = signed
    if index >= size:
        return False
    try:
        proof = log_selectors.inclusion_proof(community, index, size)
        tlog.verify_inclusion(tlog.leaf_hash(data), index, size, proof, root)
    except (tlog.ProofError, ValueError, LookupError):
        return False
    return True


def server_check(entry: Entry) -> Check:
    """Recompute what the log committed to for ``entry`` and compare; see the module doc."""
    community = entry.community
    problems: list[str] = []
    stored = _stored_leaf(community, entry.log_index)
    if stored is None:
        return Check(FAILED, [_("The log has no record at this entry's index.")])
    try:
        header = json.loads(stored)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        return Check(FAILED, [_("The log's record at this index cannot be read.")])
    try:
        expected = leaf.leaf_bytes(entry)
    except ValueError:
        expected = None
    if expected != stored:
        problems.append(_("The entry's details (section, period, time, roles or attachments) differ from "
                          "what the log recorded."))
    if entry.state == Entry.State.PUBLISHED:
        if hashlib.sha256(leaf.content_bytes(entry)).hexdigest() != header.get("content_sha256"):
            problems.append(_("The title or text shown here differs from what the log recorded."))
        recorded = {a.get("sha256") for a in header.get("attachments") or []}
        for attachment in entry.attachments.all():
            data = _read_attachment(attachment)
            if attachment.sha256 not in recorded or data is None or hashlib.sha256(data).hexdigest() != attachment.sha256:
                problems.append(_("An attachment differs from what the log recorded."))
                break
    if entry.state == Entry.State.WITHDRAWN and entry.withdrawal_log_index is None:
        problems.append(_("The withdrawal (its reason, time or role) differs from what the log recorded."))
    signed = _signed_root(community)
    if signed is None:
        return Check(FAILED if problems else UNAVAILABLE, problems)
    if signed == BAD_CHECKPOINT:
        problems.append(_("The log's latest checkpoint is not validly signed by this installation's key."))
        return Check(FAILED, problems)
    if not _included(community, entry.log_index, stored, signed):
        problems.append(_("The log's signed checkpoint does not include this entry's record."))
    if entry.state == Entry.State.WITHDRAWN and entry.withdrawal_log_index is not None:
        withdrawal = _stored_leaf(community, entry.withdrawal_log_index)
        try:
            expected = leaf.withdrawal_leaf_bytes(entry)
        except ValueError:
            expected = None
        if withdrawal is None or withdrawal != expected:
            problems.append(_("The withdrawal (its reason, time or role) differs from what the log recorded."))
        elif not _included(community, entry.withdrawal_log_index, withdrawal, signed):
            problems.append(_("The log's signed checkpoint does not include the withdrawal's record."))
    return Check(FAILED if problems else OK, problems, signed[0])


# --- The daily check's alarm --------------------------------------------------------------

VERIFY_FAILED = "disclosure.verify_failed"


@dataclass(frozen=True)
class Alarm:
    """The daily check (``linli.disclosure.jobs.daily_verify``) found the board differing from its
    log at ``found_at``; ``index`` is the first log entry that differs (None when the check could
    not name one, e.g. a checkpoint's signature failed), ``entry_index`` the public entry page
    to open for it (the withdrawn entry for a withdrawal's record; None when no public entry
    holds that index)."""

    found_at: dt.datetime
    index: int | None
    entry_index: int | None


def alarm_window() -> dt.timedelta:
    """How long a recorded failure stands on the board. A passing check writes no event, so the
    board cannot tell when a failure was cleared: it shows the latest failure while it is within
    one check period plus the quiet time in which the job does not record a failure again
    (``jobs.QUIET``; a worker restarted inside it skips one record), plus an hour for a late
    run. A failure that persists is recorded again within this window; a repaired board loses
    the warning at most this long after the last failure was recorded (docs/disclosure.md)."""
    from linli.core import registry

    from .jobs import QUIET

    every = next((job.every_seconds for job in registry.jobs() if job.name == "disclosure.verify"), 24 * 3600)
    return dt.timedelta(seconds=every) + QUIET + dt.timedelta(hours=1)


def verify_alarm(community: Community, *, now: dt.datetime | None = None) -> Alarm | None:
    """The latest ``disclosure.verify_failed`` of ``community`` if it is within
    :func:`alarm_window` of ``now``; None otherwise. One indexed query (two with an index)."""
    now = now or timezone.now()
    event = (Event.objects.filter(verb=VERIFY_FAILED, community_id=community.pk,
                                  created_at__gt=now - alarm_window(), created_at__lte=now)
             .order_by("-created_at", "-id").only("created_at", "data").first())
    if event is None:
        return None
    index = (event.data or {}).get("first_bad_index")
    index = index if isinstance(index, int) and not isinstance(index, bool) and index >= 0 else None
    entry = entry_at(community, index) if index is not None else None
    return Alarm(found_at=event.created_at, index=index, entry_index=entry.log_index if entry else None)


def key_fingerprint() -> str:
    """The signing key's short fingerprint for the board and posters; empty without a key."""
    try:
        return keys.fingerprint()
    except keys.SigningKeyMissing:
        return ""


def key_text() -> str:
    try:
        return keys.verifier_key_text()
    except keys.SigningKeyMissing:
        return ""


def witnessed(community: Community) -> list[tuple[str, dt.datetime, int]]:
    return list(log_selectors.witnessed(community))


def checkpoint_size(community: Community) -> int:
    checkpoint = log_selectors.latest_checkpoint(community)
    return checkpoint.size if checkpoint is not None else 0


SECTION_LABELS = {
    "": gettext_lazy("All"),
    Section.PARTY: gettext_lazy("Party affairs"),
    Section.RESIDENTIAL: gettext_lazy("Residential affairs"),
    Section.FINANCE: gettext_lazy("Financial affairs"),
}
