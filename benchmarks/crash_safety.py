"""Crash safety: SIGKILL the CLI at random moments and check what it left behind.

Run from the repository root::

    python benchmarks/crash_safety.py                    # 6 kills per operation, seed 14
    python benchmarks/crash_safety.py --kills 3 --records 5000   # quicker
    python benchmarks/crash_safety.py --only import dedup
    python benchmarks/crash_safety.py --kills 1 --records 200 --no-plots   # smallest (the tests)

Four operations, each run as ``python -m reviewtool ...`` (a subprocess in its own session) on a
fresh copy of a prepared SQLite review:

* ``import``: ``reviewtool import big.ris`` (``--records`` generated references, every fifth
  one with a duplicate: 1.2 x records), into a review with its members only;
* ``dedup``: ``reviewtool dedup run`` on a review holding those records;
* ``decisions``: ``reviewtool screen import-decisions votes.csv --stage tiab`` (a vote on every
  record of that review: include / exclude with a reason / maybe in turn);
* ``analysis``: ``reviewtool analyze run sample_project/outcomes.csv --by disease --loo --bias
  --out DIR`` into a review with its members only (``--no-plots``: with ``analyze run
  --no-plots``, the folder holds the tables only, about a tenth of the work; a quick run).

First each operation runs once to its end: its wall time T and the state it leaves (the
"wholly present" fingerprint: row counts of every table the operation touches, the ledger's
event count and head, and, for the analysis, the export folder's file names). Then, ``--kills``
times per operation, a fresh copy is started and killed with SIGKILL after a delay drawn
(``--seed``) uniformly from 5 % to 100 % of T. "Killed mid-operation" means the process had not
exited when the signal was sent; "WAL written" that SQLite's write-ahead log had grown by then
(the transaction had begun writing pages).

After each kill: the file passes ``PRAGMA integrity_check``, the review opens and ``reviewtool
audit verify`` (the CLI, a fresh process) passes ("consistent"), and the fingerprint equals
either the prepared review's ("wholly absent") or the finished run's ("wholly present");
anything else is "partial" and printed in full. Per operation, also: import (0 or 1 new batch,
and then exactly its record count of records); dedup (the run row, its pairs and its events all
or none: by the fingerprint); decisions (0 or all N of the reviewer's votes); analysis (0 or 1
run; the export folder absent, complete, or "marked incomplete": absent with the tool's temporary
folder ``.DIR.partial-PID-…`` beside it; a DIR that exists but is not complete is "partial").
After each analysis kill the same command is run again, as a user would retry: it must end as
the uninterrupted run did (one run, its one event, the complete folder, no temporary folder
left), else the kill counts as partial.
Exit status 1 when anything is partial or inconsistent.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
OUTCOMES = ROOT / "sample_project" / "outcomes.csv"
OWNER, REVIEWER = "alice", "bob"
TABLES = (
    "import_batch",
    "record",
    "reference",
    "dedup_run",
    "dedup_pair",
    "screening_decision",
    "screening_resolution",
    "analysis_run",
    "audit_event",
)


def _paths() -> None:
    for p in (str(ROOT), str(HERE)):
        if p not in sys.path:
            sys.path.insert(0, p)


def _ris_with_duplicates(count: int) -> str:
    """``count`` generated RIS references; every fifth also appears again as a second record
    (same DOI and title, another ID, the journal abbreviated), so dedup has work to do."""
    _paths()
    from bench_screening import _ris  # type: ignore[import-not-found]

    records = _ris(count).split("\n\n")
    dupes = [
        r.replace(f"ID  - B{n}\n", f"ID  - D{n}\n").replace("JO  - Journal", "JO  - J.")
        for n, r in enumerate(records)
        if n % 5 == 0
    ]
    return "\n\n".join(records + dupes)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _cli(db: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=_env(),
    )


def prepare(workdir: Path, records: int) -> tuple[dict[str, Path], int]:
    """The prepared reviews and input files (built once through the library); the number of
    records (and so of votes in the CSV)."""
    _paths()
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    ris = workdir / "big.ris"
    ris.write_text(_ris_with_duplicates(records), encoding="utf-8")
    members = workdir / "members.db"
    filled = workdir / "records.db"
    for path, with_records in ((members, False), (filled, True)):
        review = init_review(f"sqlite:///{path}", title="Crash safety", owner=OWNER)
        with review.transaction() as session:
            add_member(session, actor=OWNER, name=REVIEWER, roles=[Role.REVIEWER])
            if with_records:
                import_files(session, actor=OWNER, paths=[ris], source="Prepared")
        review.close()
    with sqlite3.connect(filled) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM record ORDER BY id")]
    conn.close()
    votes = workdir / "votes.csv"
    with votes.open("w", encoding="utf-8") as out:
        out.write("record_id,decision,reason,note\n")
        for n, record_id in enumerate(ids):
            out.write(
                [
                    f"{record_id},include,,\n",
                    f"{record_id},exclude,1,note {n}\n",
                    f"{record_id},maybe,,\n",
                ][n % 3]
            )
    return {"ris": ris, "members": members, "records": filled, "votes": votes}, len(ids)


@dataclass
class Operation:
    name: str
    base: Path
    args: list[str]
    export: bool = False


def operations(files: dict[str, Path], plots: bool = True) -> list[Operation]:
    """The four operations (``OUT`` in an argument list is replaced by the run's export folder);
    ``plots=False`` passes ``--no-plots`` to the analysis (tables only)."""
    return [
        Operation(
            "import",
            files["members"],
            ["import", str(files["ris"]), "--source", "Crash test", "--as", REVIEWER],
        ),
        Operation("dedup", files["records"], ["dedup", "run", "--as", REVIEWER]),
        Operation(
            "decisions",
            files["records"],
            [
                "screen",
                "import-decisions",
                str(files["votes"]),
                "--stage",
                "tiab",
                "--as",
                REVIEWER,
            ],
        ),
        Operation(
            "analysis",
            files["members"],
            [
                "analyze",
                "run",
                str(OUTCOMES),
                "--name",
                "Crash test",
                "--by",
                "disease",
                "--loo",
                "--bias",
                "--out",
                "OUT",
                *([] if plots else ["--no-plots"]),
                "--as",
                REVIEWER,
            ],
            export=True,
        ),
    ]


def fingerprint(db: Path) -> dict[str, Any]:
    """Row counts, merged records, the ledger's head and its event actions since the base."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, Any] = {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES
        }
        out["merged_records"] = conn.execute(
            "SELECT count(*) FROM record WHERE duplicate_of IS NOT NULL"
        ).fetchone()[0]
        out["current_votes"] = conn.execute(
            "SELECT count(*) FROM screening_decision WHERE superseded_at IS NULL"
        ).fetchone()[0]
        out["head_seq"] = conn.execute("SELECT seq FROM audit_head").fetchone()
        out["actions"] = tuple(
            sorted(
                (a, n)
                for a, n in conn.execute("SELECT action, count(*) FROM audit_event GROUP BY action")
            )
        )
        out["batches"] = [
            tuple(r)
            for r in conn.execute(
                "SELECT b.id, b.record_count, (SELECT count(*) FROM record r WHERE r.batch_id = b.id)"
                " FROM import_batch b ORDER BY b.id"
            )
        ]
    finally:
        conn.close()
    return out


def folder_state(out: Path, complete: set[str] | None) -> tuple[str, set[str]]:
    """``absent``, ``complete`` (the same files as the finished run, none empty), ``marked
    incomplete`` (a sibling temporary folder or marker file says so) or ``partial``."""
    siblings = sorted(
        p.name
        for p in out.parent.iterdir()
        if not p.name.startswith("review.db") and p.name != out.name
    )
    # The tool's own temporary folders (reviewtool/outfolder.py): named so that they say the
    # export is not complete; the next export to the same folder removes them.
    temporary = [
        s for s in siblings if s.startswith((f".{out.name}.partial-", f".{out.name}.old-"))
    ]
    others = [s for s in siblings if s not in temporary]
    if not out.exists():
        if others:
            return f"absent (leftover {', '.join(others)})", set()
        if temporary:
            return f"marked incomplete (temporary folder {', '.join(temporary)})", set()
        return "absent", set()
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    empty = {
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.stat().st_size == 0
    }
    markers = {f for f in files if "incomplete" in f.lower() or "partial" in f.lower()}
    if complete is not None and files == complete and not empty:
        return "complete", files
    if markers:
        return f"marked incomplete ({', '.join(sorted(markers))})", files
    return f"partial ({len(files)} of {len(complete or ())} files, {len(empty)} empty)", files


@dataclass
class Tally:
    kills: int = 0
    mid: int = 0
    wal: int = 0
    consistent: int = 0
    present: int = 0
    absent: int = 0
    partial: int = 0
    retried: int = 0
    retried_whole: int = 0
    folders: dict[str, int] = field(default_factory=dict)


def _fresh(op: Operation, workdir: Path, tag: str) -> tuple[Path, list[str], Path]:
    run = workdir / f"{op.name}-{tag}"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    db = run / "review.db"
    shutil.copy(op.base, db)
    out = run / "export"
    args = [str(out) if a == "OUT" else a for a in op.args]
    return db, args, out


def _start(db: Path, args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reviewtool", *args, "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=_env(),
        start_new_session=True,  # its own process group: the kill reaches any child it starts
    )


def _wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def check_after(db: Path) -> tuple[bool, str]:
    """integrity_check, then the review opens and `audit verify` passes (CLI)."""
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    verify = _cli(db, "audit", "verify", "--as", OWNER)
    said = (verify.stdout + verify.stderr).strip().splitlines()
    ok = integrity == "ok" and verify.returncode == 0
    return ok, f"integrity {integrity}; verify rc {verify.returncode}: {said[:1]}"


def run_operation(
    op: Operation, workdir: Path, kills: int, rng: random.Random, votes_n: int
) -> Tally:
    tally = Tally()
    before = fingerprint(op.base)
    db, args, out = _fresh(op, workdir, "full")
    start = time.perf_counter()
    proc = _start(db, args, db.parent)
    _, err = proc.communicate()
    duration = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{op.name}: the uninterrupted run failed: {err.decode()[-500:]}")
    after = fingerprint(db)
    complete = folder_state(out, None)[1] if op.export else None
    print(
        f"{op.name}: uninterrupted run {duration:.1f} s;"
        f" {_delta(before, after)}"
        + (f"; {len(complete or ())} export files" if op.export else ""),
        flush=True,
    )
    for k in range(kills):
        delay = rng.uniform(0.05, 1.0) * duration
        db, args, out = _fresh(op, workdir, f"kill{k}")
        proc = _start(db, args, db.parent)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=delay)
        running = proc.poll() is None
        wal = _wal_size(db)
        if running:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        tally.kills += 1
        tally.mid += running
        tally.wal += running and wal > 0
        ok, said = check_after(db)
        tally.consistent += ok
        got = fingerprint(db)
        state = "present" if got == after else "absent" if got == before else "partial"
        extra = ""
        if op.name == "import":
            new = [b for b in got["batches"] if b not in before["batches"]]
            if len(new) > 1 or any(b[1] != b[2] for b in new):
                state, extra = "partial", f" batches {new}"
        if op.name == "decisions" and (got["current_votes"] - before["current_votes"]) not in (
            0,
            votes_n,
        ):
            state = "partial"
        if op.export:
            folder, _ = folder_state(out, complete)
            extra = f"; export folder: {folder}"
            kind = folder.split(" (")[0]
            tally.folders[kind] = tally.folders.get(kind, 0) + 1
            unfinished = kind in ("absent", "marked incomplete")  # no partial DIR at all
            if state == "present" and folder != "complete":
                state = "present" if unfinished else "present (export not complete)"
            if state == "absent" and folder != "absent":
                state = "absent" if kind == "marked incomplete" else "absent (export left)"
            # The retry a user would make: the same command again must end as one
            # uninterrupted run does (one run, one event, the complete folder, nothing beside it).
            retry = subprocess.run(
                [sys.executable, "-m", "reviewtool", *args, "--db", str(db)],
                capture_output=True,
                cwd=db.parent,
                env=_env(),
            )
            again, _ = folder_state(out, complete)
            whole = retry.returncode == 0 and fingerprint(db) == after and again == "complete"
            leftover = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
            whole = whole and not leftover
            tally.retried += 1
            tally.retried_whole += whole
            extra += f"; retry -> {'one run, complete folder' if whole else 'NOT WHOLE: ' + again}"
            if not whole:
                state = f"{state} (retry not whole: rc {retry.returncode}, {leftover})"
        if state == "present":
            tally.present += 1
        elif state == "absent":
            tally.absent += 1
        else:
            tally.partial += 1
        line = (
            f"  kill {k + 1}: after {delay:5.1f} s, {'mid-operation' if running else 'finished'}"
            f"{', WAL written' if running and wal else ''} -> {state};"
            f" {'consistent' if ok else 'INCONSISTENT: ' + said}{extra}"
        )
        if state not in ("present", "absent"):
            line += f"\n      {_delta(before, got)}"
        print(line, flush=True)
        shutil.rmtree(db.parent, ignore_errors=True)
    return tally


def _delta(before: dict[str, Any], after: dict[str, Any]) -> str:
    keys = [k for k in before if k not in ("actions", "batches") and before[k] != after[k]]
    changed = ", ".join(f"{k} {before[k]}->{after[k]}" for k in keys)
    events = sorted(set(after["actions"]) - set(before["actions"]))
    return f"{changed or 'no change'}" + (f"; events {events}" if events else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=6, help="kills per operation")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--records",
        type=int,
        default=20_000,
        help="generated references (x1.2 records with the duplicates)",
    )
    parser.add_argument("--only", nargs="+", choices=["import", "dedup", "decisions", "analysis"])
    parser.add_argument(
        "--no-plots", action="store_true", help="analysis: tables only (analyze run --no-plots)"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="reviewtool-crash-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        files, votes_n = prepare(workdir, args.records)
        print(
            f"prepared in {time.perf_counter() - started:.1f} s: {args.records} references"
            f" ({votes_n} records), {votes_n} votes; {args.kills} kills per operation,"
            f" seed {args.seed}",
            flush=True,
        )
        results = {}
        for op in operations(files, plots=not args.no_plots):
            if args.only and op.name not in args.only:
                continue
            results[op.name] = run_operation(op, workdir, args.kills, rng, votes_n)
    print()
    head = (
        f"{'operation':<10} {'kills':>5} {'mid-op':>6} {'finished':>8} {'WAL written':>11}"
        f" {'consistent':>10} {'present':>7} {'absent':>6} {'partial':>7}"
    )
    print(head)
    print("-" * len(head))
    total = Tally()
    for name, t in results.items():
        print(
            f"{name:<10} {t.kills:>5} {t.mid:>6} {t.kills - t.mid:>8} {t.wal:>11}"
            f" {t.consistent:>10} {t.present:>7} {t.absent:>6} {t.partial:>7}"
        )
        for attr in ("kills", "mid", "wal", "consistent", "present", "absent", "partial"):
            setattr(total, attr, getattr(total, attr) + getattr(t, attr))
        if t.folders:
            found = ", ".join(f"{v} {k}" for k, v in sorted(t.folders.items()))
            print(f"{'':<10} export folder after the kills: {found}")
        if t.retried:
            print(
                f"{'':<10} retried after each kill: {t.retried_whole} of {t.retried} ended with"
                " one run and the complete folder"
            )
    print("-" * len(head))
    print(
        f"{'all':<10} {total.kills:>5} {total.mid:>6} {total.kills - total.mid:>8}"
        f" {total.wal:>11} {total.consistent:>10} {total.present:>7} {total.absent:>6}"
        f" {total.partial:>7}"
    )
    ok = total.partial == 0 and total.consistent == total.kills
    print(
        "\nevery kill left a consistent review, the operation wholly present or absent"
        if ok
        else "\nFAILED: see the partial / inconsistent kills above"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
