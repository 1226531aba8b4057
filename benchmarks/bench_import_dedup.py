"""Import + deduplication of 1k / 10k / 100k records through the library, as `reviewtool` runs them.

Run: python benchmarks/bench_import_dedup.py [--sizes 1000 10000 100000]

The records are the labelled sets of ../shared/dedup sampled and perturbed (typos, case, author
forms, dropped DOIs: `bench_dedup.synthetic`), written as one RIS export. Each size runs in a fresh
process on a new SQLite review: `import_files` (parse + insert + audit) then `run_dedup` (score, store
pairs, regroup, audit). Prints seconds per step, peak memory, the false merges against the labels, and
the ledger once deduplicated: its events, the bytes of their payloads and the largest payload.
Budget from issue 3: 100k records imported and deduplicated in under 60 s, under 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_ris(rows: list[dict[str, str]], path: Path) -> None:
    """The synthetic rows as an RIS export (one record per row, its id in ID)."""
    with path.open("w", encoding="utf-8") as out:
        for r in rows:
            conference = not r.get("journal") and r.get("booktitle")
            out.write("TY  - CONF\n" if conference else "TY  - JOUR\n")
            out.write(f"ID  - {r['id']}\n")
            if conference:
                out.write(f"T2  - {r['booktitle'].strip()}\n")
            for tag, key in (
                ("TI", "title"),
                ("T2", "journal"),
                ("PY", "year"),
                ("VL", "volume"),
                ("IS", "issue"),
                ("DO", "doi"),
            ):
                value = (r.get(key) or "").replace("\n", " ").strip()
                if value:
                    out.write(f"{tag}  - {value}\n")
            for author in (r.get("authors") or "").split(" and "):
                if author.strip():
                    out.write(f"AU  - {author.strip()}\n")
            first, _, last = (r.get("pages") or "").partition("-")
            if first.strip():
                out.write(f"SP  - {first.strip()}\n")
            if last.strip():
                out.write(f"EP  - {last.strip()}\n")
            abstract = (r.get("abstract") or "").replace("\n", " ").strip()
            if abstract:
                out.write(f"AB  - {abstract}\n")
            out.write("ER  - \n\n")


def one(n: int) -> dict[str, float]:
    """Run one size in this process and return its figures."""
    sys.path.insert(0, str(HERE))
    from bench_dedup import score_clusters, synthetic  # type: ignore[import-not-found]
    from sqlalchemy import text
    from sqlmodel import select

    from reviewtool.dedup.service import run_dedup
    from reviewtool.importing.service import import_files
    from reviewtool.review.service import init_review
    from reviewtool.storage.models import Record

    rows, truth = synthetic(n)
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "search.ris"
        write_ris(rows, export)
        review = init_review(f"sqlite:///{Path(tmp) / 'bench.db'}", title="bench", owner="alice")
        start = time.perf_counter()
        with review.transaction() as session:
            (report,) = import_files(session, actor="alice", paths=[export], source="bench")
        imported = time.perf_counter()
        with review.transaction() as session:
            dedup = run_dedup(session, actor="alice")
        done = time.perf_counter()
        with review.reading() as session:
            # The ledger's size once deduplicated: every event's payload, and the largest one.
            events, ledger_bytes, largest = session.execute(
                text("SELECT count(*), sum(length(payload)), max(length(payload)) FROM audit_event")
            ).one()
            groups: dict[int, list[str]] = {}
            for record in session.exec(select(Record)).all():
                assert record.id is not None
                groups.setdefault(record.duplicate_of or record.id, []).append(
                    record.source_key or ""
                )
        review.close()
    score = score_clusters(list(groups.values()), truth)
    return {
        "n": n,
        "records": report.records,
        "import_s": imported - start,
        "dedup_s": done - imported,
        "total_s": done - start,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "queued": dedup.queued,
        "FP": score["FP"],
        "events": events,
        "ledger_mb": ledger_bytes / 1e6,
        "largest_kb": largest / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(
        f"{'records':>8} {'import s':>9} {'dedup s':>8} {'total s':>8} {'peak MB':>8} {'queued':>7} {'false merges':>13}"
        f" {'events':>7} {'ledger MB':>10} {'largest event kB':>17}"
    )
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['records']:>8} {r['import_s']:>9.1f} {r['dedup_s']:>8.1f} {r['total_s']:>8.1f} {r['peak_mb']:>8.0f} {r['queued']:>7} {r['FP']:>13}"
            f" {r['events']:>7} {r['ledger_mb']:>10.2f} {r['largest_kb']:>17.1f}"
        )


if __name__ == "__main__":
    main()
