"""Speed and peak memory of ``audit verify`` on a large review.

Run from the repository root::

    python benchmarks/bench_audit_verify.py                        # 100k records, 400k votes
    python benchmarks/bench_audit_verify.py --records 20000        # lighter
    python benchmarks/bench_audit_verify.py --db /tmp/ledger100k.db  # build once, reuse after

The review: an owner and two reviewers; ``--records`` references imported from one RIS file with
``import_files`` (the library's path, one ``records-imported`` event), then every reference voted
on by both reviewers at title/abstract and at full text: 4 votes and 4 ``screening-decision``
events per reference (400k for 100k references).

The votes are written in bulk, not one ``record_decision`` call each (400k calls would take about
half an hour): one ``import_decisions`` call per reviewer and stage, the library path of
``screen import-decisions``, so the rows and the ledger are what the tool writes. ``audit verify`` on the built review must
say OK before anything is timed.

It prints, each step in a fresh process so the peak memory (max RSS) is its own:

(a) a full verify (chain, head, every snapshot against the tables); target < 10 s, < 500 MB;
(b) after 1,000 votes changed through ``record_decision``, a verify of what was added since the
    checkpoint the full verify wrote (``--since-checkpoint``); target < 1 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REVIEWERS = ("bob", "carol")


def _ris(count: int) -> str:
    """The screening benchmark's records (its words but "rats", 60-word abstracts)."""
    from bench_screening import WORDS
    from bench_screening import _ris as screening_ris

    return screening_ris(count, words_from=WORDS[:-1], abstract_words=60)


def _bulk_votes(path: Path) -> int:
    """Every reference voted on by both reviewers at both stages, through the library's bulk path.

    One ``import_decisions`` call per reviewer and stage (a CSV of ``record_id,decision,reason``),
    the path ``screen import-decisions`` takes: the rows, snapshots and events are exactly what
    the tool writes, so this script cannot drift from the schema (it did once, when votes gained
    ``reference_id``). Returns the number of votes."""
    from reviewtool.review.service import open_existing
    from reviewtool.screening.service import import_decisions, unblind_stage

    review = open_existing(f"sqlite:///{path}")
    with review.reading() as session:
        from sqlalchemy import text

        record_ids = [r for (r,) in session.execute(text("SELECT id FROM record ORDER BY id"))]
    votes = 0
    for stage in ("tiab", "fulltext"):
        if stage == "fulltext":  # full text opens once the owner ends blinding at title/abstract
            with review.transaction() as session:
                unblind_stage(session, actor="alice", stage="tiab")
        for reviewer in REVIEWERS:
            rows = ["record_id,decision,reason"]
            for record_id in record_ids:
                if stage == "fulltext" and record_id % 5 == 0:
                    rows.append(f"{record_id},exclude,wrong population")
                else:
                    rows.append(f"{record_id},include,")
            csv_path = path.with_name(f"{path.stem}_{stage}_{reviewer}.csv")
            csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
            with review.transaction() as session:
                done = import_decisions(session, actor=reviewer, path=str(csv_path), stage=stage)
                votes += done.written
            csv_path.unlink()
    review.close()
    return votes


def build(path: Path, records: int) -> None:
    """A review at ``path``: ``records`` references, four votes each (reused when it exists)."""
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    if path.exists():
        print(f"reusing {path}")
        return
    started = time.perf_counter()
    review = init_review(f"sqlite:///{path}", title=f"Ledger benchmark: {records}", owner="alice")
    ris = path.with_suffix(".ris")
    ris.write_text(_ris(records), encoding="utf-8")
    with review.transaction() as session:
        for name in REVIEWERS:
            add_member(session, actor="alice", name=name, roles=[Role.REVIEWER])
        import_files(session, actor="alice", paths=[ris], source="Benchmark")
    ris.unlink()
    review.close()
    imported = time.perf_counter() - started
    votes = _bulk_votes(path)
    print(
        f"built {records} references in {imported:.1f} s, then {votes} votes in bulk in "
        f"{time.perf_counter() - started - imported:.1f} s"
    )


def _verify_in_this_process(url: str, mode: str) -> None:
    """Child process: time one verify and print a JSON line with seconds, peak MB, outcome."""
    from reviewtool import audit
    from reviewtool.review.service import open_existing

    review = open_existing(url)
    started, cpu = time.perf_counter(), time.process_time()
    with review.reading() as session:
        if mode == "full":
            report = audit.verify(session)
        else:
            report = audit.verify(session, since_checkpoint=True)  # type: ignore[call-arg]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if mode == "full" and report.ok and hasattr(audit, "write_checkpoint"):
        with review.transaction() as session:
            audit.write_checkpoint(session, actor="alice", report=report)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": peak_mb,
                "ok": report.ok,
                "events": report.events,
                "problems": report.problems[:3],
            }
        )
    )


def _child(url: str, mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db-url", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def _change_votes(url: str, count: int) -> None:
    from reviewtool.review.service import open_existing
    from reviewtool.screening.service import record_decision

    review = open_existing(url)
    with review.transaction() as session:
        for record_id in range(1, count + 1):
            record_decision(
                session,
                actor="bob",
                record_id=record_id,
                stage="tiab",
                decision="maybe",
                note="second look",
            )
    review.close()


def _line(label: str, result: dict[str, object], target_s: float, target_mb: float | None) -> None:
    seconds, peak = float(result["seconds"]), float(result["peak_mb"])  # type: ignore[arg-type]
    ok = seconds < target_s and (target_mb is None or peak < target_mb)
    targets = f"target < {target_s:g} s" + (f", < {target_mb:g} MB" if target_mb else "")
    print(
        f"{label:<46} {seconds:6.2f} s  cpu {float(result['cpu']):6.2f} s  peak {peak:5.0f} MB  "  # type: ignore[arg-type]
        f"events {result['events']}  "
        f"verified={'OK' if result['ok'] else 'BROKEN'}  ({targets}){'' if ok else '  MISSES TARGET'}"
    )
    if not result["ok"]:
        print(f"    problems: {result['problems']}")


def main() -> None:
    """Build (or reuse) the review and print the verify figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None, help="build here once and reuse")
    parser.add_argument("--changes", type=int, default=1000, help="votes changed before (b)")
    parser.add_argument("--child", choices=["full", "incremental"], help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _verify_in_this_process(args.db_url, args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "ledger.db"
        build(path, args.records)
        url = f"sqlite:///{path}"
        with sqlite3.connect(path) as conn:
            (records,) = conn.execute("SELECT count(*) FROM record").fetchone()
        _line(f"(a) full verify, {records} records", _child(url, "full"), 10, 500)
        from reviewtool import audit

        if not hasattr(audit, "write_checkpoint"):
            print("(b) no checkpoints in this version of reviewtool")
            return
        _change_votes(url, args.changes)
        _line(
            f"(b) since the checkpoint, {args.changes} votes changed",
            _child(url, "incremental"),
            1,
            None,
        )


if __name__ == "__main__":
    main()
