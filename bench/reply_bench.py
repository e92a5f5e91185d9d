#!/usr/bin/env python
"""How fast the reply assistant is, and what it says about real official replies.

    .venv/bin/python bench/reply_bench.py [--seed 7] [--examples 10]

Over ../shared/data/complaints/replies.csv (skipped, with a message, where it is absent), each
official reply is assessed as the draft of its message (received_at = created_at, now =
replied_at, due 15 days after the message). Prints:

1. the time per assessment (median, p95) and the throughput, beside a reference measured in
   the same run: only tokenising message + reply with jieba (the floor of any word-based
   scorer), and the ratio of the two; then the same for messages cut to exactly 1,000
   characters (the target: under 20 ms each);
2. the distribution of each score, the share flagged, and the share of replies given each hint;
3. correlations (Pearson and Spearman) of each score with the reply's length and its delay;
4. `--examples` random flagged and unflagged replies as short excerpts, for a reader to judge.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "complaints" / "replies.csv"
SCORES = ("relevance", "completeness", "timeliness", "overall")
CODES = ("point", "action", "time", "vague", "relevance", "late", "empty")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def timed(function, items) -> list[float]:
    """Milliseconds per call."""
    out = []
    for item in items:
        start = time.perf_counter()
        function(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def excerpt(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"reply_bench: skipped, no data at {DATA} (the real replies are not shipped).")
        return 0
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings")
    import django

    django.setup()
    from django.utils import translation

    translation.activate("en")
    from linli.insight.management.commands.replies_check import read_replies
    from linli.insight.replies import DEFAULT_LIMIT, assess, tokens

    rows = read_replies(DATA)
    assess(rows[0]["title"], rows[0]["text"], rows[0]["reply"])  # load jieba and the IDF table once

    def run(row):
        return assess(row["title"], row["text"], row["reply"], received_at=row["received"], now=row["replied"],
                      response_due=row["received"] + DEFAULT_LIMIT)

    reference = timed(lambda r: (tokens(f"{r['title']}\n{r['text']}"), tokens(r["reply"])), rows)
    started = time.perf_counter()
    results = [run(r) for r in rows]
    wall = time.perf_counter() - started
    each = timed(run, rows)
    print(f"{len(rows)} real replies; message median {statistics.median(len(r['text']) for r in rows):.0f} chars, "
          f"reply median {statistics.median(len(r['reply']) for r in rows):.0f} chars")
    print(f"assessment: median {statistics.median(each):.2f} ms, p95 {percentile(each, 0.95):.2f} ms, "
          f"{len(rows) / wall:.0f} replies/s")
    print(f"reference (jieba only, message + reply): median {statistics.median(reference):.2f} ms, "
          f"p95 {percentile(reference, 0.95):.2f} ms; ratio assessment/reference "
          f"{statistics.median(each) / statistics.median(reference):.2f}")
    long = [r for r in rows if len(r["text"]) >= 1000]
    if long:
        cut = [{**r, "title": "", "text": r["text"][:1000]} for r in long]
        each_long = timed(run, cut)
        reference_long = timed(lambda r: (tokens(r["text"]), tokens(r["reply"])), cut)
        print(f"messages cut to 1,000 chars (n={len(cut)}): median {statistics.median(each_long):.2f} ms, "
              f"p95 {percentile(each_long, 0.95):.2f} ms (target < 20 ms); jieba-only reference median "
              f"{statistics.median(reference_long):.2f} ms, ratio "
              f"{statistics.median(each_long) / statistics.median(reference_long):.2f}")

    print("\nscore         mean    p5   p25   p50   p75   p95")
    for name in SCORES:
        values = [getattr(a, name) for a in results if getattr(a, name) is not None]
        print(f"{name:<12} {statistics.fmean(values):5.2f} " + " ".join(
            f"{percentile(values, q):5.2f}" for q in (0.05, 0.25, 0.5, 0.75, 0.95)))
    flagged = [i for i, a in enumerate(results) if a.flagged]
    print(f"flagged: {len(flagged)} of {len(results)} ({len(flagged) / len(results):.1%})")
    codes = Counter(code for a in results for code in set(a.codes))
    print("replies with each hint: " + ", ".join(f"{c} {codes[c] / len(results):.1%}" for c in CODES))
    points = [len(a.points) for a in results]
    answered = sum(p.answered for a in results for p in a.points)
    print(f"points per message: median {statistics.median(points):.0f}, max {max(points)}; "
          f"answered {answered / max(1, sum(points)):.1%} of {sum(points)}")

    length = [float(len(r["reply"])) for r in rows]
    delay = [(r["replied"] - r["received"]).total_seconds() / 86400 for r in rows]
    print("\ncorrelation   with reply length (Pearson / Spearman)   with delay in days (Pearson / Spearman)")
    for name in SCORES:
        values = [getattr(a, name) for a in results]
        line = [f"{name:<12}"]
        for other in (length, delay):
            pairs = [(v, o) for v, o in zip(values, other) if v is not None]
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
            line.append(f"{statistics.correlation(xs, ys):+.2f} / {statistics.correlation(ranks(xs), ranks(ys)):+.2f}")
        print(f"{line[0]}  {line[1]:>25}  {line[2]:>40}")

    rng = random.Random(args.seed)
    unflagged = [i for i in range(len(results)) if not results[i].flagged]
    for label, pool in (("flagged", flagged), ("not flagged", unflagged)):
        print(f"\n--- {args.examples} random {label} replies (seed {args.seed}) ---")
        for i in sorted(rng.sample(pool, min(args.examples, len(pool)))):
            r, a = rows[i], results[i]
            print(f"[{r['id']}] rel {a.relevance:.2f} comp {a.completeness:.2f} "
                  f"time {a.timeliness if a.timeliness is not None else '-'} overall {a.overall:.2f} "
                  f"points {sum(p.answered for p in a.points)}/{len(a.points)} hints {' '.join(a.codes) or '-'}")
            print(f"   message: {excerpt(r['title'], 40)} | {excerpt(r['text'], 80)}")
            print(f"   reply:   {excerpt(r['reply'], 160)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
