"""Accuracy and speed of ``reviewtool.dedup.find_duplicates``, beside bib-dedupe.

Run from the repository root (the labelled sets live in ``../shared/dedup``)::

    python benchmarks/bench_dedup.py                 # accuracy on every labelled set + speed
    python benchmarks/bench_dedup.py --no-peer       # skip bib-dedupe
    python benchmarks/bench_dedup.py --sizes 1000 10000   # speed steps (default 1k, 10k, 100k)
    python benchmarks/bench_dedup.py --errors stroke # list our misses and false merges on one set

Scoring follows ``shared/dedup/README.md``: for every predicted cluster the records beyond the first
are "removed"; removals inside one true entity are true positives, each extra true entity swallowed
by a cluster is a false positive, and the true duplicates left unremoved are false negatives. Only the
automatic merges count; the ``review`` column is the number of pairs left for a person
(``dup`` = how many of them are true duplicates).

Speed uses sets built by sampling the real records with replacement and perturbing the copies (typos,
case, author name forms, dropped DOIs, abbreviated pages); each size runs in a fresh subprocess so
its peak memory (``ru_maxrss``) is its own. bib-dedupe (``pip install bib-dedupe``) is run on the same
data when installed; when it is missing or fails, the output says why.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtool.dedup.engine import DedupInput, find_duplicates  # noqa: E402

SHARED = ROOT.parent / "shared" / "dedup"
SETS = [
    "respiratory",
    "digital_work",
    "haematology",
    "stroke",
    "cytology_screening",
    "special_cases",
    "shared_identifiers",
]
LOCAL = ROOT / "benchmarks" / "sets"
"""Labelled sets kept in this repository (written for it, not published): ``LOCAL/NAME/records.csv``.

``shared_identifiers`` holds the kinds of issue 8 B: meeting abstracts that share a supplement's
DOI (two modelled on the real Ovid Embase file in ``shared/fixtures/formats/ovid_embase``),
Embase "(no pagination)" records, a mistyped DOI and subject codes glued to a title.
"""
PUBLISHED = {  # README: bib-dedupe (2024-12) and ASySD, TP/FP/FN/F1
    "respiratory": ((408, 0, 28, 0.967), (399, 0, 37, 0.956)),
    "digital_work": ((368, 0, 1, 0.999), (307, 20, 62, 0.882)),
    "haematology": ((120, 0, 15, 0.941), (109, 0, 26, 0.893)),
    "stroke": ((312, 0, 2, 0.997), (302, 0, 12, 0.981)),
    "cytology_screening": ((766, 0, 6, 0.996), (751, 1, 21, 0.986)),
    "special_cases": ((1, 0, 2, 0.5), (1, 0, 2, 0.5)),
}

# Pairs the labels call duplicates and our trap rules deliberately keep apart, checked by hand
# record by record (see benchmarks/README.md). Each entry: the reason and the groups of record ids
# the labels join; the benchmark scores once against the labels as published and once with these
# groups treated as separate entities, and prints the difference as "label disagreements".
LABEL_DISAGREEMENTS: dict[str, list[tuple[str, list[list[str]]]]] = {
    "digital_work": [
        ("article vs its erratum (own DOI, own page)", [["id_1005082"], ["id_1005083"]]),
        ("'Guest Editorial ...' vs 'Editorial': two items, own DOIs and pages",
         [["id_1000218"], ["id_1000339"]]),
    ],
    "haematology": [
        ("article vs its erratum (85(11) 911)", [["id_0000161"], ["id_0000162"]]),
        ("article vs its erratum ('Erratum: ...', 104(25) 19)",
         [["id_0000175", "id_0000190", "id_0000191"], ["id_0001173"]]),
        ("article vs its erratum notices ('(vol 360, pg 542, 2009)', 360(23) 2487)",
         [["id_0000063", "id_0000064", "id_0000065"], ["id_0000057", "id_0000058"]]),
        ("four trial registrations: adult/adolescent x plasma-sensitive/resistant",
         [["id_0000234"], ["id_0000235"], ["id_0000236"], ["id_0000237"]]),
        ("two trial registrations: plasma-therapy-sensitive vs -resistant",
         [["id_0000245"], ["id_0000246"]]),
        ("one abstract at two meetings, two journal supplements (145 S1 23; 94 S2 239)",
         [["id_0000134"], ["id_0000135"]]),
    ],
    "stroke": [
        ("one abstract in two journals (Can J Neurol Sci 37(3) S42; Stroke 41(7) e505)",
         [["id_0000428"], ["id_0000429"]]),
    ],
    "respiratory": [
        ("Cochrane review 2008 vs its 2012 update", [["id_0000418", "id_0000419"], ["id_0000420"]]),
        ("PLoS ONE article vs J Clin Oncol meeting abstract",
         [["id_0000049", "id_0000050"], ["id_0000893"]]),
    ],
}  # fmt: skip


def adjusted_truth(name: str, truth: dict[str, str]) -> dict[str, str]:
    """The labels with every group in ``LABEL_DISAGREEMENTS`` made its own entity."""
    out = dict(truth)
    for _reason, groups in LABEL_DISAGREEMENTS.get(name, []):
        for k, ids in enumerate(groups[1:], start=1):
            for rid in ids:
                out[rid] = f"{truth[rid]}~{k}"
    return out


def set_path(name: str) -> Path:
    """``records.csv`` of a labelled set: in this repository (``LOCAL``) or in ``SHARED``."""
    local = LOCAL / name / "records.csv"
    return local if local.exists() else SHARED / name / "records.csv"


def load_rows(name: str) -> list[dict[str, str]]:
    with set_path(name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def to_input(row: dict[str, str]) -> DedupInput:
    authors = tuple(a.strip() for a in row.get("authors", "").split(" and ") if a.strip())
    return DedupInput(
        id=row["id"],
        title=row.get("title") or None,
        authors=authors,
        year=row.get("year") or None,
        journal=row.get("journal") or None,
        volume=row.get("volume") or None,
        issue=row.get("issue") or None,
        pages=row.get("pages") or None,
        doi=row.get("doi") or None,
        pmid=row.get("pmid") or None,
        abstract=row.get("abstract") or None,
        publication_type=row.get("entrytype") or None,
        booktitle=row.get("booktitle") or None,
        isbn=row.get("isbn") or None,
    )


def score_clusters(clusters: Iterable[Sequence[str]], truth: dict[str, str]) -> dict[str, float]:
    """TP/FP/FN/precision/sensitivity/F1 in the README's convention."""
    to_remove = len(truth) - len(set(truth.values()))
    tp = fp = 0
    for cluster in clusters:
        if len(cluster) < 2:
            continue
        entities = len({truth[i] for i in cluster})
        fp += entities - 1
        tp += len(cluster) - entities
    fn = to_remove - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    sensitivity = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * sensitivity / (precision + sensitivity) if precision + sensitivity else 0.0
    return {"TP": tp, "FP": fp, "FN": fn, "precision": precision, "sensitivity": sensitivity,
            "F1": f1}  # fmt: skip


def run_ours(
    rows: list[dict[str, str]],
) -> tuple[list[tuple[str, ...]], list[tuple[str, str]], float]:
    start = time.perf_counter()
    result = find_duplicates([to_input(r) for r in rows])
    elapsed = time.perf_counter() - start
    review = [(p.a, p.b) for p in result.review_queue]
    return [g.members for g in result.groups], review, elapsed


def run_bib_dedupe(rows: list[dict[str, str]]) -> tuple[list[list[str]] | None, str, float]:
    """Clusters from bib-dedupe's automatic pipeline, or ``None`` and the reason it did not run."""
    try:
        import io
        from contextlib import redirect_stderr, redirect_stdout

        import pandas as pd
        from bib_dedupe.bib_dedupe import block, cluster, match, prep
    except Exception as exc:
        return None, f"bib-dedupe not importable ({type(exc).__name__}: {exc})", 0.0
    frame = pd.DataFrame(
        {
            "ID": [r["id"] for r in rows],
            "ENTRYTYPE": [r.get("entrytype") or "article" for r in rows],
            "title": [r.get("title", "") for r in rows],
            "author": [r.get("authors", "") for r in rows],
            "year": [r.get("year", "") for r in rows],
            "journal": [r.get("journal", "") for r in rows],
            "booktitle": [r.get("booktitle", "") for r in rows],
            "volume": [r.get("volume", "") for r in rows],
            "number": [r.get("issue", "") for r in rows],
            "pages": [r.get("pages", "") for r in rows],
            "doi": [r.get("doi", "") for r in rows],
            "abstract": [r.get("abstract", "") for r in rows],
            "isbn": [r.get("isbn", "") for r in rows],
        }
    )
    start = time.perf_counter()
    try:
        sink = io.StringIO()
        with redirect_stdout(sink), redirect_stderr(sink):
            prepped = prep(frame, verbosity_level=0, cpu=1)
            blocked = block(prepped, verbosity_level=0, cpu=1)
            matched = match(blocked, verbosity_level=0, cpu=1)
            clusters = cluster(matched, verbosity_level=0)
    except Exception as exc:
        return None, f"bib-dedupe failed ({type(exc).__name__}: {exc})", time.perf_counter() - start
    return [sorted(c) for c in clusters], "", time.perf_counter() - start


def accuracy(names: Sequence[str], peer: bool) -> None:
    header = (
        f"{'dataset':<19}{'records':>8}{'dups':>6} | {'tool':<11}{'TP':>5}{'FP':>4}{'FN':>5}"
        f"{'prec':>7}{'sens':>7}{'F1':>7}{'review(dup)':>13}{'time s':>8}"
        f"{'label dis.':>11}{'F1 adj.':>8}"
    )
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for name in names:
        if not set_path(name).exists():
            print(f"{name:<19} missing under {SHARED}")
            continue
        rows = load_rows(name)
        truth = {r["id"]: r["true_group"] for r in rows}
        n_dups = len(truth) - len(set(truth.values()))
        lead = f"{name:<19}{len(rows):>8}{n_dups:>6} | "
        blank = " " * (len(lead) - 2) + "| "
        groups, review, elapsed = run_ours(rows)
        s = score_clusters(groups, truth)
        true_review = sum(1 for a, b in review if truth[a] == truth[b])
        adj = score_clusters(groups, adjusted_truth(name, truth))
        disagreements = int(s["FN"] - adj["FN"])
        totals.update({"TP": s["TP"], "FP": s["FP"], "FN": s["FN"], "review": len(review),
                       "disagree": disagreements, "FP_adj": adj["FP"]})  # fmt: skip
        print(
            lead
            + _line("reviewtool", s, f"{len(review)}({true_review})", elapsed)
            + f"{disagreements:>11}{adj['F1']:>8.3f}"
        )
        if name in PUBLISHED:
            bd, bd_c = PUBLISHED[name]
            print(
                blank + _line("bib-dd pub.", dict(zip(("TP", "FP", "FN", "F1"), bd, strict=True)))
            )
            print(
                blank + _line("ASySD pub.", dict(zip(("TP", "FP", "FN", "F1"), bd_c, strict=True)))
            )
        if peer:
            clusters, why, b_elapsed = run_bib_dedupe(rows)
            if clusters is None:
                print(blank + f"bib-dedupe  {why}")
            else:
                print(blank + _line("bib-dd run", score_clusters(clusters, truth), "", b_elapsed))
    print(f"all sets: TP {totals['TP']}  FP {totals['FP']}  FN {totals['FN']}  "
          f"review queue {totals['review']}  label disagreements {totals['disagree']} "
          f"(FP against the adjusted labels: {totals['FP_adj']})")  # fmt: skip
    print("label disagreements: labelled duplicates our trap rules keep apart on purpose "
          "(LABEL_DISAGREEMENTS); 'F1 adj.' scores against the labels with those split.")  # fmt: skip


def _line(tool: str, s: dict[str, float], review: str = "", elapsed: float | None = None) -> str:
    tp, fp, fn = int(s["TP"]), int(s["FP"]), int(s["FN"])
    prec = tp / (tp + fp) if tp + fp else 1.0
    sens = tp / (tp + fn) if tp + fn else 1.0
    f1 = s.get("F1", 2 * prec * sens / (prec + sens) if prec + sens else 0.0)
    t = f"{elapsed:8.2f}" if elapsed is not None else ""
    return f"{tool:<11}{tp:>5}{fp:>4}{fn:>5}{prec:>7.3f}{sens:>7.3f}{f1:>7.3f}{review:>13}{t}"


def errors(name: str) -> None:
    """Print every false merge and every missed duplicate group of one set, with the pair evidence."""
    rows = load_rows(name)
    by_id = {r["id"]: r for r in rows}
    truth = {r["id"]: r["true_group"] for r in rows}
    result = find_duplicates([to_input(r) for r in rows])
    pair_info = {(p.a, p.b): p for p in result.pairs}
    group_of = result.group_of
    print("== false merges")
    for g in result.groups:
        if len({truth[m] for m in g.members}) > 1:
            for m in g.members:
                print("  ", _brief(by_id[m]), truth[m])
            print()
    for reason, groups in LABEL_DISAGREEMENTS.get(name, []):
        print(f"== label disagreement ({reason}): {' | '.join(' '.join(g) for g in groups)}")
    print("== missed (true duplicates in different predicted groups)")
    members: dict[str, list[str]] = defaultdict(list)
    for rid, ent in truth.items():
        members[ent].append(rid)
    for _ent, ids in sorted(members.items()):
        if len(ids) < 2 or len({group_of(i) for i in ids}) == 1:
            continue
        for i in ids:
            print("  ", _brief(by_id[i]))
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                a, b = sorted((ids[x], ids[y]))
                p = pair_info.get((a, b))
                if group_of(a) != group_of(b):
                    info = f"{p.decision} {p.reasons} {p.fields}" if p else "not blocked"
                    print(f"     {a} {b}: {info}")
        print()


def _brief(row: dict[str, str]) -> str:
    return (
        f"{row['id']} | {row['title'][:90]} | {row['authors'][:30]} | {row['year']} | "
        f"{row['journal'][:30]} | {row['volume']}({row['issue']}) {row['pages']} | {row['doi']} "
        f"| {row['entrytype']} {row['booktitle'][:20]}"
    )


# ----------------------------------------------------------------------------- speed


def _perturb(row: dict[str, str], rng: random.Random) -> dict[str, str]:
    out = dict(row)
    title = out["title"]
    if title and rng.random() < 0.3:  # a typo
        k = rng.randrange(len(title))
        out["title"] = title[:k] + title[k + 1 :]
    if rng.random() < 0.3:
        out["title"] = out["title"].upper() if rng.random() < 0.3 else out["title"].lower()
    if rng.random() < 0.3:  # "Zhang, Zheng" -> "Zhang Z"
        names = []
        for a in out["authors"].split(" and "):
            fam, _, given = a.partition(",")
            initials = "".join(p[0] for p in given.split() if p)
            names.append(f"{fam.strip()} {initials}".strip())
        out["authors"] = " and ".join(names)
    if rng.random() < 0.5:
        out["doi"] = ""
    if rng.random() < 0.2 and "-" in out["pages"]:
        first, _, last = out["pages"].partition("-")
        if first.isdigit() and last.isdigit() and len(last) == len(first) and len(last) > 1:
            out["pages"] = f"{first}-{last[-2:]}"
    return out


def synthetic(n: int, seed: int = 7) -> tuple[list[dict[str, str]], dict[str, str]]:
    rng = random.Random(seed)
    pool: list[dict[str, str]] = []
    for name in SETS[:5]:  # the published sets, without the hand-made ones
        for row in load_rows(name):
            row = dict(row)
            row["true_group"] = f"{name}:{row['true_group']}"
            pool.append(row)
    rows = []
    for k in range(n):
        row = _perturb(pool[rng.randrange(len(pool))], rng) if k >= len(pool) else dict(pool[k])
        row["id"] = f"r{k:07d}"
        rows.append(row)
    return rows, {r["id"]: r["true_group"] for r in rows}


def speed_one(n: int) -> dict[str, float]:
    rows, truth = synthetic(n)
    inputs = [to_input(r) for r in rows]
    start, cpu = time.perf_counter(), time.process_time()
    result = find_duplicates(inputs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    s = score_clusters([g.members for g in result.groups], truth)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb, "pairs": len(result.pairs),
            "review": len(result.review_queue), "FP": s["FP"], "TP": s["TP"], "FN": s["FN"]}  # fmt: skip


def speed_one_peer(n: int) -> dict[str, float | str]:
    rows, truth = synthetic(n)
    clusters, why, elapsed = run_bib_dedupe(rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if clusters is None:
        return {"n": n, "error": why}
    s = score_clusters(clusters, truth)
    return {"n": n, "seconds": elapsed, "peak_mb": peak_mb, "FP": s["FP"], "TP": s["TP"],
            "FN": s["FN"]}  # fmt: skip


def speed(sizes: Sequence[int], peer: bool, peer_max: int) -> None:
    print(f"\n{'records':>8} {'tool':<11}{'seconds':>9}{'cpu s':>8}{'peak MB':>9}{'pairs':>9}"
          f"{'review':>8}{'TP':>7}{'FP':>5}{'FN':>6}")  # fmt: skip
    for n in sizes:
        for tool, flag in (("reviewtool", "--speed-one"), ("bib-dedupe", "--speed-one-peer")):
            if tool == "bib-dedupe" and (not peer or n > peer_max):
                if peer:
                    print(f"{n:>8} {tool:<11} skipped above {peer_max} records (--peer-max)")
                continue
            proc = subprocess.run(
                [sys.executable, __file__, flag, str(n)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                print(f"{n:>8} {tool:<11} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            if "error" in r:
                print(f"{n:>8} {tool:<11} {r['error']}")
                continue
            cpu = f"{r['cpu']:.2f}" if "cpu" in r else ""
            print(f"{n:>8} {tool:<11}{r['seconds']:>9.2f}{cpu:>8}{r['peak_mb']:>9.0f}"
                  f"{r.get('pairs', ''):>9}{r.get('review', ''):>8}"
                  f"{r['TP']:>7}{r['FP']:>5}{r['FN']:>6}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=SETS)
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    parser.add_argument("--no-peer", action="store_true", help="do not run bib-dedupe")
    parser.add_argument("--peer-max", type=int, default=10000, help="largest size for bib-dedupe")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--errors", metavar="SET")
    parser.add_argument("--speed-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--speed-one-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.speed_one:
        print(json.dumps(speed_one(args.speed_one)))
        return
    if args.speed_one_peer:
        print(json.dumps(speed_one_peer(args.speed_one_peer)))
        return
    if args.errors:
        errors(args.errors)
        return
    if not SHARED.exists():
        sys.exit(f"labelled sets not found at {SHARED}")
    accuracy(args.sets, peer=not args.no_peer)
    if not args.no_speed:
        speed(args.sizes, peer=not args.no_peer, peer_max=args.peer_max)


if __name__ == "__main__":
    main()
