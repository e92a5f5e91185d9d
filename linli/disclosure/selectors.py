"""Reads of the board's back office: lists by state, the three-rates text, and the full check.

:func:`verify` is what ``linli disclosure verify`` and the daily job run: the transparency
log's own check (every stored leaf and interior hash against every signed checkpoint), then
every entry against its leaf — the header recomputed from the row, the content's SHA-256
recomputed from the words (while not withdrawn), every attachment's bytes re-hashed — and every
leaf of the log claimed by an entry (a row deleted behind Linli's back leaves its leaf alone).
The report names the first log index that differs.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _, pgettext

from . import leaf as leaves
from .attachments import files_dir
from .models import Attachment, Entry

E = Entry.State
CHUNK = 2000


def office_entries(community, *, state: str | None = None, section: str | None = None,
                   q: str = "") -> QuerySet[Entry]:
    qs = Entry.objects.filter(community=community).select_related("author", "approver", "supersedes")
    if state:
        qs = qs.filter(state=state)
    if section:
        qs = qs.filter(section=section)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    return qs.order_by("-updated_at", "-pk")


def state_counts(community) -> dict[str, int]:
    from django.db.models import Count

    rows = Entry.objects.filter(community=community).values("state").annotate(n=Count("pk"))
    counts = {state: 0 for state in E.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def entry_for_office(community, pk: int) -> Entry | None:
    return (Entry.objects.filter(community=community, pk=pk)
            .select_related("author", "approver", "supersedes", "duty", "community")
            .prefetch_related("attachments", "corrections").first())


# --- the three rates as a board entry --------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def rates_text(community, start: dt.date, end: dt.date) -> tuple[str, str]:
    """(title, body) of the three rates of the community's requests submitted in [start, end]:
    the total, then one line per courtyard, as a fixed-width table (no personal data)."""
    from linli.cases import rates

    reach = rates.community_reach(community.pk)
    total = rates.three_rates(reach, start=start, end=end)[0]
    rows = rates.three_rates(reach, by="grid", start=start, end=end)
    title = _("Three rates of residents' requests, %(period)s") % {"period": f"{start:%Y-%m}"} \
        if start.day == 1 else _("Three rates of residents' requests, %(start)s to %(end)s") % {
            "start": start.isoformat(), "end": end.isoformat()}
    head = [pgettext("three rates", "grid"), pgettext("three rates", "cases"),
            pgettext("three rates", "response rate"), pgettext("three rates", "resolution rate"),
            pgettext("three rates", "satisfaction rate")]

    def line(label, row):
        return [str(label), str(row.counts["submitted"]), _percent(row.response_rate),
                _percent(row.resolution_rate), _percent(row.satisfaction_rate)]

    table = [head] + [line(row.labels.get("grid", ""), row) for row in rows] + [line(_("All"), total)]
    widths = [max(_width(r[i]) for r in table) for i in range(len(head))]
    out = [_("Requests submitted from %(start)s to %(end)s, counted as docs/cases.md defines the rates.")
           % {"start": start.isoformat(), "end": end.isoformat()}, ""]
    for r in table:
        out.append("  ".join(_pad(cell, widths[i], right=i > 0) for i, cell in enumerate(r)).rstrip())
    return title, "\n".join(out)


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


# --- checking -------------------------------------------------------------------------------------


@dataclass
class Report:
    ok: bool
    first_bad_index: int | None = None
    message: str = ""
    checked_entries: int = 0
    checked_checkpoints: int = 0
    checked_attachments: int = 0
    problems: list[str] = field(default_factory=list)


def _bad(report: Report, index: int | None, message: str) -> None:
    report.problems.append(message)
    if index is not None and (report.first_bad_index is None or index < report.first_bad_index):
        report.first_bad_index = index
        report.message = message
    elif not report.message:
        report.message = message
    report.ok = False


# One row per entry with a log index, in log order: every value its leaves are rebuilt from.
FIELDS = ("log_index", "withdrawal_log_index", "state", "section", "title", "body", "period_start", "period_end",
          "published_at", "author_role", "approver_role", "content_sha256", "supersedes_id",
          "supersedes__log_index", "withdrawn_at", "withdrawal_reason", "withdrawer_role")
FILE_FIELDS = ("entry__log_index", "sha256", "size", "content_type", "path")


def verify(community) -> Report:
    """The whole check of one community's board (see the module's docstring).

    Three streams read in log order, side by side: the entries (plain values, ``iterator`` in
    pages of CHUNK rows, one LEFT JOIN for the index a correction supersedes), their
    attachments, and the log's leaves (pages of CHUNK by index range). Each entry's header is
    rebuilt and compared with the leaf at its index as the streams pass it; a withdrawal's leaf,
    which comes later in the log, waits in a small table until the leaf stream reaches it. No
    model instance and no query per entry; memory: one byte per leaf (which leaves are claimed)
    plus a page of each stream. On PostgreSQL the streams read one snapshot (REPEATABLE READ);
    on SQLite, where Linli's transactions take the write lock, none is taken, and an entry
    whose index lies beyond the log's size as read at the start counts as published during the
    check if the log holds it by the end."""
    with _snapshot():
        return _verify(community)


@contextmanager
def _snapshot():
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _leaf_pages(log_id, size: int):
    from linli.transparency import selectors as tlog

    for start in range(0, size, CHUNK):
        yield from tlog.leaves_of(log_id, start, min(size, start + CHUNK))


def _verify(community) -> Report:
    from linli.transparency import selectors as tlog
    from linli.transparency.verify import verify_log

    log = verify_log(community)
    report = Report(ok=bool(log.ok), checked_checkpoints=log.checked_checkpoints)
    if not log.ok:
        _bad(report, log.first_bad_index, log.message)
    stored = tlog.log_for(community)
    size = stored.size if stored is not None else 0
    log_id = stored.pk if stored is not None else 0
    code = community.code
    sha256_hex, words_bytes, header_bytes = leaves.sha256_hex, leaves.words_bytes, leaves.header_bytes
    published_state, withdrawn_state = E.PUBLISHED, E.WITHDRAWN
    differs = _("Entry %(index)d differs from its leaf in the log.")

    claimed = bytearray(size)
    pending: dict[int, bytes] = {}        # a withdrawal leaf's index → the bytes it must hold
    beyond: list[int] = []                # indexes claimed past the size read at the start
    stream = _leaf_pages(log_id, size)
    at, data = next(stream, (size, None))  # the leaf stream's head

    def leaf_at(index: int) -> bytes | None:
        """The stored leaf ``index`` (None when missing), moving the leaf stream up to it and
        checking the withdrawal leaves it passes."""
        nonlocal at, data
        while at < index:
            if at in pending and pending.pop(at) != data:
                _bad(report, at, differs % {"index": at})
            at, data = next(stream, (size, None))
        return data if at == index else None

    def claim(index: int) -> bool:
        if not 0 <= index < size:
            beyond.append(index)
            return False
        if claimed[index]:
            _bad(report, index, _("Log entry %(index)d is claimed by two entries.") % {"index": index})
            return False
        claimed[index] = 1
        return True

    files_stream = (Attachment.objects.filter(entry__community=community, entry__log_index__isnull=False)
                    .order_by("entry__log_index", "position", "pk").values_list(*FILE_FIELDS)
                    .iterator(chunk_size=CHUNK))
    file_row = next(files_stream, None)
    checked = attachments_checked = 0
    rows = (Entry.objects.filter(community=community, log_index__isnull=False).order_by("log_index")
            .values_list(*FIELDS).iterator(chunk_size=CHUNK))
    for (index, windex, state, section, title, body, period_start, period_end, published, author_role,
         approver_role, content_sha256, supersedes_id, supersedes_index, withdrawn_at, reason, withdrawer) in rows:
        checked += 1
        files = []
        while file_row is not None and file_row[0] <= index:
            if file_row[0] == index:
                files.append(file_row)
            file_row = next(files_stream, None)
        if claim(index):
            label = {"index": index}
            data_here = leaf_at(index)
            if data_here is None:
                _bad(report, index, _("Entry %(index)d is not in the log.") % label)
            elif published is None or not content_sha256 or state not in (published_state, withdrawn_state):
                _bad(report, index, _("Entry %(index)d is not in a state that has a leaf.") % label)
            elif header_bytes(
                    type_="correction" if supersedes_id else "entry", community=code, section=section,
                    period_start=period_start, period_end=period_end, published=published,
                    author_role=author_role, approver_role=approver_role, content_sha256=content_sha256,
                    attachments=[{"sha256": f[1], "size": f[2], "type": f[3]} for f in files],
                    supersedes=supersedes_index, withdraws=None) != data_here:
                _bad(report, index, differs % label)
            elif state == published_state and sha256_hex(words_bytes(title, body)) != content_sha256:
                _bad(report, index, _("Entry %(index)d: its words differ from what was published.") % label)
            elif state != published_state and (title or body):
                _bad(report, index, _("Entry %(index)d was withdrawn but still holds words.") % label)
            elif files:
                attachments_checked += len(files)
                problem = _check_files(files, state == published_state)
                if problem:
                    _bad(report, index, problem % label)
        if windex is not None and claim(windex):
            if withdrawn_at is None:
                _bad(report, windex, differs % {"index": windex})
                continue
            expected = header_bytes(
                type_="withdrawal", community=code, section=section, period_start=period_start,
                period_end=period_end, published=withdrawn_at, author_role=withdrawer, approver_role=withdrawer,
                content_sha256=sha256_hex(leaves.reason_bytes(reason)), attachments=[], supersedes=None,
                withdraws=index)
            if windex >= at:
                pending[windex] = expected    # checked when the leaf stream reaches it
            else:                             # behind the stream (only a tampered row points back)
                got = tlog.leaves_of(log_id, windex, windex + 1)
                if not got or got[0][1] != expected:
                    _bad(report, windex, differs % {"index": windex})
    if pending:
        leaf_at(max(pending) + 1)
        for index in pending:                 # leaves missing from the log
            _bad(report, index, differs % {"index": index})
    report.checked_entries = checked
    report.checked_attachments = attachments_checked
    if beyond:
        now = tlog.size(community)            # published while the check ran (SQLite, no snapshot)?
        for index in beyond:
            if not size <= index < now:
                _bad(report, index, _("Entry %(index)d is not in the log.") % {"index": index})
    missing = claimed.find(0)
    if missing >= 0:
        _bad(report, missing, _("Log entry %(index)d belongs to no entry on the board: the entry was "
                                "deleted or its index changed.") % {"index": missing})
    if report.ok:
        report.message = _("All %(entries)d log entries and %(checkpoints)d signed checkpoints verify.") % {
            "entries": size, "checkpoints": report.checked_checkpoints}
    return report


def _check_files(files, published: bool) -> str | None:
    """The message (its ``%(index)d`` still to fill) for the first attachment whose stored bytes
    are missing or differ from the hash in the leaf, or None."""
    root = files_dir()
    for _index, sha, _size, _type, path in files:
        if not path:
            if published:
                return _("Entry %(index)d: an attachment's file is missing.")
            continue
        try:
            content = (root / path).read_bytes()
        except OSError:
            return _("Entry %(index)d: an attachment's file is missing.")
        if leaves.sha256_hex(content) != sha:
            return _("Entry %(index)d: an attachment's file differs from its hash.")
    return None
