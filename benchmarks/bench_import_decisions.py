"""Bulk votes: `screen import-decisions` of 10k and 50k votes through the library, in one transaction.

Run from the repository root::

    python benchmarks/bench_import_decisions.py                 # 10k and 50k votes
    python benchmarks/bench_import_decisions.py --sizes 10000

Each size runs in a fresh process (so the peak memory is its own) on a new SQLite review with that
many references (one RIS import, no dedup). Bob imports one CSV with one vote per reference
(include / exclude with a reason / maybe, in turn); then Carol imports a CSV of the same size whose
first tenth changes a vote she already cast, so superseding is measured too; then Dan, adjudicator,
resolves every conflict they leave from one file (`screen import-resolutions`). Prints votes per
second of each import (target: at least 2,000), resolutions per second, the ledger's size, the
process's peak memory once the review is built, once the votes are imported and once verified (the
peak only grows, so the votes' own cost is the step from the first to the second), and checks that
`audit verify` passes afterwards (its time is printed, not judged here).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent


def _write_votes(path: Path, record_ids: list[int], shift: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "decision", "reason", "note"])
        for n, record_id in enumerate(record_ids):
            kind = (n + shift) % 3
            if kind == 0:
                writer.writerow([record_id, "include", "", ""])
            elif kind == 1:
                writer.writerow([record_id, "exclude", "1", f"note {n}"])
            else:
                writer.writerow([record_id, "maybe", "", ""])


def one(n: int) -> dict[str, float]:
    """Build a review of ``n`` references and time two imports of ``n`` votes each."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    from bench_screening import _ris  # type: ignore[import-not-found]
    from sqlalchemy import func
    from sqlmodel import select

    from reviewtool.audit.log import verify
    from reviewtool.domain import Role, ScreeningStatus
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review
    from reviewtool.screening.service import import_decisions, import_resolutions
    from reviewtool.storage.models import AuditEvent, Record
    from reviewtool.storage.queries import stage_outcomes

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        review = init_review(f"sqlite:///{db}", title="bench", owner="alice")
        ris = Path(tmp) / "refs.ris"
        ris.write_text(_ris(n), encoding="utf-8")
        with review.transaction() as session:
            add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
            add_member(session, actor="alice", name="carol", roles=[Role.REVIEWER])
            add_member(session, actor="alice", name="dan", roles=[Role.ADJUDICATOR])
            import_files(session, actor="alice", paths=[ris], source="Benchmark")
        with review.reading() as session:
            ids = [r for r in session.exec(select(Record.id).order_by(Record.id)).all()]  # type: ignore[arg-type]
        bob_csv, carol_first, carol_csv = (Path(tmp) / f for f in ("b.csv", "c1.csv", "c2.csv"))
        _write_votes(bob_csv, ids, 0)
        # Carol first votes on a tenth, then imports a full file: that tenth supersedes her votes.
        _write_votes(carol_first, ids[: n // 10], 1)
        _write_votes(carol_csv, ids, 2)
        built_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        timings = {}
        for label, actor, path in (
            ("bob", "bob", bob_csv),
            ("carol_first", "carol", carol_first),
            ("carol", "carol", carol_csv),
        ):
            start = time.perf_counter()
            with review.transaction() as session:
                count = import_decisions(session, actor=actor, path=str(path), stage="tiab").written
            timings[label] = (count, time.perf_counter() - start)
        votes_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Dan resolves every conflict the two files left (include), from one file.
        with review.reading() as session:
            conflicts = [
                rid
                for rid, outcome in sorted(stage_outcomes(session, "tiab").items())
                if outcome.status is ScreeningStatus.CONFLICT
            ]
        dan_csv = Path(tmp) / "d.csv"
        dan_csv.write_text("record_id,decision\n" + "".join(f"{r},include\n" for r in conflicts))
        start = time.perf_counter()
        with review.transaction() as session:
            resolved = import_resolutions(
                session, actor="dan", path=str(dan_csv), stage="tiab"
            ).written
        timings["dan"] = (resolved, time.perf_counter() - start)
        with review.reading() as session:
            events = session.exec(select(func.count()).select_from(AuditEvent)).one()
            ledger_bytes = session.exec(
                select(func.sum(func.length(AuditEvent.payload)))  # type: ignore[arg-type]
            ).one()
            start = time.perf_counter()
            report = verify(session)
            verify_s = time.perf_counter() - start
        review.close()
    return {
        "n": n,
        "bob_votes": timings["bob"][0],
        "bob_s": timings["bob"][1],
        "carol_votes": timings["carol"][0],
        "carol_s": timings["carol"][1],
        "dan_resolutions": timings["dan"][0],
        "dan_s": timings["dan"][1],
        "events": int(events),
        "payload_mb": int(ledger_bytes or 0) / 1e6,
        "verify_s": verify_s,
        "verify_ok": report.ok,
        "built_mb": built_mb,
        "votes_mb": votes_mb,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(
        f"{'votes':>7} {'new votes/s':>12} {'superseding votes/s':>20} {'resolutions/s':>14} "
        f"{'events':>8} "
        f"{'payload MB':>11} {'verify s':>9} {'peak MB: built':>15} {'+votes':>7} {'+verify':>8}"
        "  (target: >= 2000 votes/s)"
    )
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        verdict = (
            "ok"
            if min(r["bob_votes"] / r["bob_s"], r["carol_votes"] / r["carol_s"]) >= 2000
            else "MISSES TARGET"
        )
        print(
            f"{r['n']:>7} {r['bob_votes'] / r['bob_s']:>12.0f} {r['carol_votes'] / r['carol_s']:>20.0f} "
            f"{r['dan_resolutions'] / r['dan_s']:>14.0f} "
            f"{r['events']:>8} {r['payload_mb']:>11.1f} {r['verify_s']:>9.1f} {r['built_mb']:>15.0f} "
            f"{r['votes_mb']:>7.0f} {r['peak_mb']:>8.0f}  "
            f"{verdict}{'' if r['verify_ok'] else '  VERIFY FAILED'}"
        )


if __name__ == "__main__":
    main()
