"""`linli replies_check`: score every official reply of a file against its message.

    linli replies_check --csv replies.csv [--out scores.csv] [--limit-days 15] [--examples 5]

The CSV has the columns id, title, text, created_at, reply and replied_at (UTF-8 with or without
BOM, or GBK/GB18030; dates as `linli.insight.textio` reads them). Each reply is assessed by
`linli.insight.replies.assess` as the draft, received at created_at and sent at replied_at, due
--limit-days after the message. --out gets one row per reply: id, the four scores, whether it is
flagged, how many points the message raised and the reply answered, whether it states an action
and a time, the hint codes and the hints. The summary (score distributions, the share flagged and
per hint, the most incomplete replies) is printed. Bad input is refused with a message naming the
column or row, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.core.errors import LinliError
from linli.insight.replies import assess
from linli.insight.textio import parse_datetimes, read_csv

REQUIRED = ["id", "title", "text", "created_at", "reply", "replied_at"]
SCORES = ["relevance", "completeness", "timeliness", "overall"]
OUT_COLUMNS = ["id", *SCORES, "flagged", "points", "points_answered", "action", "time", "codes", "missing"]
BINS = (0.2, 0.4, 0.6, 0.8)


def read_replies(path: str | Path) -> list[dict]:
    """The rows of a replies export with `received` and `replied` as aware datetimes."""
    rows = read_csv(path, required=REQUIRED)
    received = parse_datetimes([r["created_at"] for r in rows], column="created_at")
    replied = parse_datetimes([r["replied_at"] for r in rows], column="replied_at")
    for row, a, b in zip(rows, received, replied):
        row["received"], row["replied"] = a, b
    return rows


def assess_rows(rows: list[dict], *, limit: dt.timedelta) -> list:
    return [assess(r["title"], r["text"], r["reply"], received_at=r["received"], now=r["replied"],
                   response_due=r["received"] + limit) for r in rows]


def out_row(row: dict, result) -> dict:
    scores = result.scores()
    return {"id": row["id"], **{k: "" if scores[k] is None else f"{scores[k]:.3f}" for k in SCORES},
            "flagged": int(result.flagged), "points": len(result.points),
            "points_answered": sum(p.answered for p in result.points), "action": int(result.has_action),
            "time": int(result.has_time), "codes": " ".join(result.codes), "missing": " | ".join(result.missing)}


class Command(BaseCommand):
    help = "Score official replies (relevance, completeness, timeliness) against their messages; write CSV."

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, help="id, title, text, created_at, reply, replied_at")
        parser.add_argument("--out", help="the CSV of scores and hints to write (optional)")
        parser.add_argument("--limit-days", default="15", help="days a reply may take (default 15)")
        parser.add_argument("--examples", default="5", help="how many flagged replies to print (default 5)")

    def handle(self, *args, csv, out, limit_days, examples, **options):
        limit = dt.timedelta(days=_number(limit_days, "--limit-days", whole=False))
        shown = int(_number(examples, "--examples", whole=True, zero=True))
        if out and not Path(out).resolve().parent.is_dir():
            raise CommandError(_("The folder of %(out)s does not exist.") % {"out": out})
        try:
            rows = read_replies(csv)
        except LinliError as error:
            raise CommandError(str(error.message))
        results = assess_rows(rows, limit=limit)
        if out:
            _write_atomically(Path(out), [out_row(r, a) for r, a in zip(rows, results)])
        self.stdout.write(summary(rows, results, examples=shown))
        if out:
            self.stdout.write(_("Scores of %(count)d replies written to %(out)s.") % {"count": len(rows), "out": out})


def summary(rows: list[dict], results: list, *, examples: int) -> str:
    """The figures a reader needs to judge a batch of replies, as text."""
    n = len(results)
    lines = [_("%(count)d replies scored.") % {"count": n}]
    for name in SCORES:
        values = [getattr(r, name) for r in results if getattr(r, name) is not None]
        if not values:
            continue
        q1, median, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
        bins = Counter(sum(v >= edge for edge in BINS) for v in values)
        shares = " ".join(f"{bins[i] / len(values):.0%}" for i in range(len(BINS) + 1))
        lines.append(_("%(score)s: mean %(mean).2f, quartiles %(q1).2f / %(median).2f / %(q3).2f; "
                       "share in 0-.2/.2-.4/.4-.6/.6-.8/.8-1: %(shares)s")
                     % {"score": name, "mean": statistics.fmean(values), "q1": q1, "median": median, "q3": q3,
                        "shares": shares})
    flagged = [i for i, r in enumerate(results) if r.flagged]
    lines.append(_("Flagged: %(flagged)d of %(count)d (%(share).0f%%).")
                 % {"flagged": len(flagged), "count": n, "share": 100 * len(flagged) / n})
    codes = Counter(code for r in results for code in set(r.codes))
    lines.append(_("Replies with each hint: %(hints)s")
                 % {"hints": ", ".join(f"{code} {count / n:.0%}" for code, count in codes.most_common()) or "-"})
    worst = sorted(flagged, key=lambda i: (results[i].completeness, results[i].overall))[:examples]
    if worst:
        lines.append(_("Least complete replies:"))
    for i in worst:
        lines.append(f"  {rows[i]['id']} {rows[i]['title'][:30]} "
                     f"({results[i].completeness:.2f}): " + " ".join(results[i].missing[:3]))
    return "\n".join(lines)


def _number(value: str, option: str, *, whole: bool, zero: bool = False) -> float:
    try:
        number = int(value) if whole else float(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or (number == 0 and not zero):
        raise CommandError(_("%(option)s must be a positive number, not %(value)s.")
                           % {"option": option, "value": value})
    return number


def _write_atomically(path: Path, records: list[dict]) -> None:
    """Write next to the target and rename, so a failed run never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.resolve().parent, prefix=".replies-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=OUT_COLUMNS)
            writer.writeheader()
            writer.writerows(records)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
