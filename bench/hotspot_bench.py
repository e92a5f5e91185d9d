#!/usr/bin/env python
"""How fast and how right `linli hotspots` is on real messages, with planted hot issues.

    .venv/bin/python bench/hotspot_bench.py [--plant 20] [--seed 7] [--top 30]

1. Times the whole command (interpreter start-up included) on ../shared/data/complaints/
   unlabeled.csv, replies.csv and a 3x concatenation of unlabeled.csv (ids renumbered, dates
   shifted by a year per copy), beside a reference measured in the same run: a command that only
   reads the CSV and tokenises every message with jieba. Prints seconds, messages/s and the ratio.
2. Plants hot issues: `--plant` distinct real messages, each given 3-8 variants (words dropped
   or swapped for synonyms, a sentence cut, a prefix like "再次反映", dates spread over 1-6 weeks),
   mixed into unlabeled.csv. Prints pairwise precision/recall and the adjusted Rand index over
   the planted messages, and whether each planted issue is among the top N found.
3. Scores the real unlabeled.csv against recurring issues labelled by reading it
   (bench/hot_issue_labels.csv: message ids -> issue, never the text): per issue, precision over
   EVERY member of the reported cluster that holds most of it, recall of its messages, and
   fragmentation (clusters holding any of its messages); found = precision >= 0.6 and recall >=
   0.5 within the top 10. `--labelled-only` runs this part alone.
   Scored within the top 10 and within a list scaled to the number of labelled issues (10 per 6),
   for the whole set and per half (issues alternately in half A, used to tune, and B, held out),
   and for the issues of three messages or more: how much of each the best cluster holds, and in
   how many clusters its messages lie.
4. Prints the top 10 hot issues of the real unlabeled.csv, for a reader to judge.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "complaints"
COLUMNS = ["id", "title", "text", "created_at"]
SYNONYMS = [("严重", "非常严重"), ("希望", "恳请"), ("问题", "情况"), ("扰民", "影响居民休息"), ("小区", "小区里"),
            ("没有", "一直没有"), ("要求", "请求"), ("处理", "解决"), ("相关部门", "有关部门"), ("业主", "住户")]
PREFIXES = ["", "再次反映：", "强烈要求", "关于", "", "紧急！"]

REFERENCE = """
import csv, sys
from linli.insight.places import tokenize
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
print(sum(len(tokenize(r["title"])) + len(tokenize(r["text"][:600])) for r in rows))
"""


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return [{c: row[c] for c in COLUMNS} for row in csv.DictReader(f)]


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def hotspots(csv_path: Path, out: Path, top: int) -> tuple[float, list[dict]]:
    seconds = timed([sys.executable, "-m", "linli.config.cli", "hotspots", "--csv", str(csv_path), "--top", str(top),
                     "--out", str(out)])
    return seconds, json.loads(out.read_text(encoding="utf-8"))


def parse_date(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y/%m/%d %H:%M:%S")


def variant(rng: random.Random, row: dict, ident: int, when: dt.datetime) -> dict:
    """A re-telling of `row` by another resident: synonyms, a dropped sentence, a prefix, another date."""
    title, text = row["title"], row["text"]
    for old, new in rng.sample(SYNONYMS, 3):
        title, text = title.replace(old, new, 1), text.replace(old, new)
    sentences = [s for s in text.split("。") if s]
    if len(sentences) > 2:
        sentences.pop(rng.randrange(1, len(sentences)))
    if rng.random() < 0.5:
        rng.shuffle(sentences)
    return {"id": str(ident), "title": rng.choice(PREFIXES) + title, "text": "。".join(sentences) + "。",
            "created_at": when.strftime("%Y/%m/%d %H:%M:%S")}


def plant(rows: list[dict], count: int, seed: int) -> tuple[list[dict], dict[str, int]]:
    """Real rows plus planted variants; returns the mix and planted id -> planted issue number."""
    rng = random.Random(seed)
    chosen = [r for r in rows if len(r["text"]) >= 80]
    chosen = rng.sample(chosen, count)
    labels, extra = {}, []
    next_id = 10 ** 9
    for number, row in enumerate(chosen):
        labels[row["id"]] = number
        start = parse_date(row["created_at"])
        for _ in range(rng.randint(3, 8)):
            next_id += 1
            when = start + dt.timedelta(days=rng.uniform(0, 7 * rng.randint(1, 6)))
            extra.append(variant(rng, row, next_id, when))
            labels[str(next_id)] = number
    mixed = rows + extra
    rng.shuffle(mixed)
    return mixed, labels


def pair_scores(found: list[dict], labels: dict[str, int]) -> tuple[float, float, float]:
    """Pairwise precision and recall over planted ids, and the adjusted Rand index."""
    assigned = {}
    for number, issue in enumerate(found):
        for ident in issue["ids"]:
            assigned.setdefault(str(ident), number)
    planted = list(labels)
    predicted = {i: assigned.get(i, f"single-{i}") for i in planted}
    true_pairs = {(a, b) for a, b in combinations(planted, 2) if labels[a] == labels[b]}
    found_pairs = {(a, b) for a, b in combinations(planted, 2) if predicted[a] == predicted[b]}
    precision = len(true_pairs & found_pairs) / len(found_pairs) if found_pairs else 0.0
    recall = len(true_pairs & found_pairs) / len(true_pairs) if true_pairs else 0.0
    from sklearn.metrics import adjusted_rand_score

    ari = adjusted_rand_score([labels[i] for i in planted], [str(predicted[i]) for i in planted])
    return precision, recall, ari


LABELS = Path(__file__).resolve().parent / "hot_issue_labels.csv"


def read_labels(path: Path = LABELS) -> dict[str, str]:
    """Message id -> recurring issue, labelled by reading unlabeled.csv (ids only, never its text)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["id"]: row["issue"] for row in csv.DictReader(f)}


def labelled_scores(found: list[dict], labels: dict[str, str], top: int = 10) -> list[dict]:
    """Per labelled issue: the best reported cluster among the top `top` -- the one meeting the
    goal (precision >= 0.6, recall >= 0.5) if any, else the one holding most of its messages;
    precision over EVERY member of that cluster (not only labelled ones), recall of the issue's
    messages, fragmentation (how many reported clusters, of all, hold any of its messages), and
    whether it is found: precision >= 0.6 and recall >= 0.5 in the top `top`."""
    issues: dict[str, set[str]] = {}
    for ident, issue in labels.items():
        issues.setdefault(issue, set()).add(ident)
    clusters = [set(map(str, issue["ids"])) for issue in found]
    rows = []
    for name, ids in sorted(issues.items()):
        best, best_rank, best_score = set(), None, (False, 0, 0.0)
        for rank, members in enumerate(clusters[:top], 1):
            hits = len(members & ids)
            if not hits:
                continue
            precision, recall = hits / len(members), hits / len(ids)
            score = (precision >= 0.6 and recall >= 0.5, hits, precision)
            if score > best_score:
                best, best_rank, best_score = members, rank, score
        precision = len(best & ids) / len(best) if best else 0.0
        recall = len(best & ids) / len(ids)
        fragments = sum(1 for members in clusters if members & ids)
        rows.append({"issue": name, "messages": len(ids), "rank": best_rank, "size": len(best),
                     "precision": precision, "recall": recall, "fragments": fragments,
                     "found": precision >= 0.6 and recall >= 0.5})
    return rows


def half_of(issue: str, issues: list[str]) -> str:
    """The half an issue falls in: issues sorted by name, alternately A and B. Parameters were
    tuned on half A only; half B is the report (and the unseen set, other text, the real test)."""
    return "AB"[sorted(issues).index(issue) % 2]


def print_labelled(rows: list[dict], top: int, wide: int | None = None) -> None:
    """The table for the top `top`, and the count found within the top `top` and the top `wide`.

    Our file holds more labelled issues than the unseen set's six, so only ten of them can sit in
    a top 10: `wide` scales the list to the number of issues (10 per 6 issues)."""
    names = [r["issue"] for r in rows]
    print(f"\nlabelled recurring issues of unlabeled.csv ({LABELS.name}), top {top}:")
    print(f"{'issue':<50}{'half':>5}{'msgs':>5}{'rank':>6}{'size':>6}{'prec':>7}{'recall':>8}{'clusters':>10}  found")
    for r in rows:
        print(f"{r['issue']:<50}{half_of(r['issue'], names):>5}{r['messages']:>5}{str(r['rank'] or '-'):>6}"
              f"{r['size']:>6}{r['precision']:>7.2f}{r['recall']:>8.2f}{r['fragments']:>10}  {'yes' if r['found'] else 'no'}")
    print(f"found (precision >= 0.6, recall >= 0.5, in the top {top}): {sum(r['found'] for r in rows)} of {len(rows)}")


def report_labelled(real: list[dict]) -> None:
    labels = read_labels()
    names = sorted(set(labels.values()))
    wide = 10 * max(1, round(len(names) / 6))
    print_labelled(labelled_scores(real, labels, 10), 10)
    rows = labelled_scores(real, labels, wide)
    print_labelled(rows, wide)
    for half in "AB":
        part = [r for r in rows if half_of(r["issue"], names) == half]
        print(f"half {half} ({'tuned on' if half == 'A' else 'held out'}): {sum(r['found'] for r in part)} of "
              f"{len(part)} found in the top {wide}, {sum(r['fragments'] for r in part)} clusters hold their messages")
    big = [r for r in rows if r["messages"] >= 3]
    print(f"issues of 3 messages or more (where fragmentation can show): {sum(r['found'] for r in big)} of {len(big)} "
          f"found in the top {wide}; " + ", ".join(
              f"{r['issue']} {round(r['recall'] * r['messages'])}/{r['messages']} in {r['fragments']} cluster(s)"
              for r in big))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plant", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--labelled-only", action="store_true", help="only score the labelled recurring issues")
    args = parser.parse_args()
    if not (DATA / "unlabeled.csv").exists():
        print(f"skipped: the real messages are absent ({DATA})")
        return
    unlabeled = read(DATA / "unlabeled.csv")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.labelled_only:
            _, real = hotspots(DATA / "unlabeled.csv", tmp / "real.json", 10 ** 6)
            report_labelled(real)
            print_top(real)
            return
        triple = []
        for copy in range(3):
            for row in unlabeled:
                when = parse_date(row["created_at"]) + dt.timedelta(days=400 * copy)
                triple.append({**row, "id": str(copy * 10 ** 8 + int(row["id"])),
                               "created_at": when.strftime("%Y/%m/%d %H:%M:%S")})
        write(tmp / "triple.csv", triple)
        print("timing (whole command, interpreter start-up included)")
        print(f"{'file':<16}{'messages':>9}{'reference s':>13}{'hotspots s':>12}{'msg/s':>8}{'ratio':>7}")
        for name, path, n in [("unlabeled.csv", DATA / "unlabeled.csv", len(unlabeled)),
                              ("replies.csv", DATA / "replies.csv", len(read(DATA / "replies.csv"))),
                              ("3x unlabeled", tmp / "triple.csv", len(triple))]:
            reference = timed([sys.executable, "-c", f"import django, os; "
                               f"os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'linli.config.settings'); "
                               f"django.setup(); exec({REFERENCE!r})", str(path)])
            seconds, _ = hotspots(path, tmp / "out.json", 10)
            print(f"{name:<16}{n:>9}{reference:>13.2f}{seconds:>12.2f}{n / seconds:>8.0f}{seconds / reference:>7.2f}")

        mixed, labels = plant(unlabeled, args.plant, args.seed)
        write(tmp / "planted.csv", mixed)
        _, found = hotspots(tmp / "planted.csv", tmp / "planted.json", 10 ** 6)
        precision, recall, ari = pair_scores(found, labels)
        print(f"\nplanted: {args.plant} issues, {len(labels)} messages in {len(mixed)} (seed {args.seed})")
        print(f"pairwise precision {precision:.3f}  recall {recall:.3f}  adjusted Rand index {ari:.3f}")
        top_sets = [set(map(str, issue["ids"])) for issue in found[:args.top]]
        groups = Counter(labels.values())
        hits = 0
        for number in range(args.plant):
            ids = {i for i, label in labels.items() if label == number}
            best = max((len(ids & s) for s in top_sets), default=0)
            hits += best >= len(ids) / 2
        print(f"planted issues with at least half their messages in one of the top {args.top}: {hits}/{args.plant} "
              f"(sizes {min(groups.values())}-{max(groups.values())})")

        _, real = hotspots(DATA / "unlabeled.csv", tmp / "real.json", 10 ** 6)
        report_labelled(real)
        print_top(real)


def print_top(real: list[dict]) -> None:
    """The top 10 for a reader to judge (ids, to look up in the data; titles, as the command shows them)."""
    print("\ntop 10 hot issues of unlabeled.csv")
    for issue in real[:10]:
        print(f"{issue['rank']:>3} {issue['heat']:>6.2f} {issue['first_at'][:10]}..{issue['last_at'][:10]} "
              f"{issue['title']}  [{issue['place']}] ids {issue['ids']}")


if __name__ == "__main__":
    main()
