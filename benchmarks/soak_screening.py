"""Soak test: two reviewers and an adjudicator screening at once, in separate processes.

Run from the repository root::

    python benchmarks/soak_screening.py                       # 5,000 references: 10,000 votes
    python benchmarks/soak_screening.py --references 500      # quick: 1,000 votes
    python benchmarks/soak_screening.py --pg postgresql+psycopg://user@host/   # a given server
    python benchmarks/soak_screening.py --no-pg               # SQLite only

For each backend (an SQLite file; PostgreSQL in a throw-away cluster on a unix socket when the
server binaries are here, or the server ``--pg`` names; otherwise "PostgreSQL: skipped (reason)")
a review is built with ``--references`` references (one RIS import through the library), two
reviewers (bob, carol) and an adjudicator (dan). Then three processes start together:

* bob and carol each vote on every reference at title/abstract (``tiab``) in their own random
  order (seeded), ONE transaction per vote through ``screening.service.record_decision``, as the
  screening app does. Carol disagrees with bob on every fifth reference (20 %, chosen by
  position, so the expected conflicts are known in advance);
* dan polls ``list_conflicts`` and resolves each open conflict with ``resolve_conflict`` (one
  transaction each) as it appears, until both reviewers are done and no conflict is open.

Every ``ReviewtoolError`` (DatabaseUnavailable, ConcurrentChange, ...) raised in a worker is an
error a user would have seen: it is counted and printed, never hidden. The worker then tries the
same vote again so that "lost" still measures the database, but the run fails on the error.
Any other exception (a raw driver error) is counted the same way.

Afterwards, from the database: lost votes (expected, absent or with another decision), doubled
votes (two current votes of one member on one reference), conflicts expected / resolved exactly
once / resolved twice / left open / resolutions where there was no conflict, ``list_conflicts``
empty, and ``reviewtool audit verify`` (the CLI, a fresh process) passing. Exit status 1 when any
invariant fails on any backend.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
STAGE = "tiab"
REVIEWERS = ("bob", "carol")
ADJUDICATOR = "dan"
OWNER = "alice"


def _paths() -> None:
    for p in (str(ROOT), str(HERE)):
        if p not in sys.path:
            sys.path.insert(0, p)


def intended(position: int, reviewer: str) -> str:
    """The vote ``reviewer`` casts on the reference at ``position`` (0-based, by record id).

    Bob includes about 3 in 7 and excludes the rest; carol agrees except on every fifth
    reference, where she votes the other way: those are the expected conflicts.
    """
    base = "include" if (position * 2654435761) % 7 < 3 else "exclude"
    if reviewer == "carol" and position % 5 == 0:
        return "exclude" if base == "include" else "include"
    return base


def build(url: str, references: int, workdir: Path) -> list[int]:
    """A new review at ``url`` with the members and ``references`` references; their ids."""
    _paths()
    from bench_screening import _ris  # type: ignore[import-not-found]
    from sqlmodel import select

    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review
    from reviewtool.storage.models import Reference

    review = init_review(url, title="Soak: concurrent screening", owner=OWNER)
    ris = workdir / "soak.ris"
    ris.write_text(_ris(references), encoding="utf-8")
    with review.transaction() as session:
        for name in REVIEWERS:
            add_member(session, actor=OWNER, name=name, roles=[Role.REVIEWER])
        add_member(session, actor=OWNER, name=ADJUDICATOR, roles=[Role.ADJUDICATOR])
        import_files(session, actor=OWNER, paths=[ris], source="Soak")
    with review.reading() as session:
        ids = sorted(session.exec(select(Reference.id)).all())
    review.close()
    return ids


def _error_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def reviewer(url: str, name: str, ids: list[int], seed: int, go: Any, done: Any, out: Any) -> None:
    """Vote on every reference in ``ids`` (own seeded order), one transaction per vote."""
    _paths()
    from reviewtool.errors import ReviewtoolError
    from reviewtool.screening.service import record_decision
    from reviewtool.storage import open_review

    result: dict[str, Any] = {"who": name, "votes": 0, "errors": [], "latencies": []}
    try:
        review = open_review(url)
        order = list(enumerate(ids))
        random.Random(f"{seed}:{name}").shuffle(order)
        go.wait()
        for position, record_id in order:
            decision = intended(position, name)
            for attempt in range(5):
                start = time.perf_counter()
                try:
                    with review.transaction() as session:
                        record_decision(
                            session, actor=name, record_id=record_id, stage=STAGE, decision=decision
                        )
                except ReviewtoolError as exc:  # what the user would have been shown
                    result["errors"].append(f"vote {record_id} try {attempt}: {_error_line(exc)}")
                    continue
                except Exception as exc:  # a raw driver error: a traceback for the user
                    result["errors"].append(f"vote {record_id} RAW {_error_line(exc)}")
                    continue
                result["latencies"].append(time.perf_counter() - start)
                result["votes"] += 1
                break
        review.close()
    except BaseException as exc:  # the worker itself died: report it, do not hang the others
        result["errors"].append(f"worker died: {_error_line(exc)}\n{traceback.format_exc()}")
    finally:
        with done.get_lock():
            done.value += 1
        out.put(result)


def adjudicator(url: str, go: Any, done: Any, out: Any) -> None:
    """Resolve each open conflict as it appears, until the reviewers are done and none is open."""
    _paths()
    from reviewtool.errors import ReviewtoolError
    from reviewtool.screening.service import list_conflicts, resolve_conflict
    from reviewtool.storage import open_review

    result: dict[str, Any] = {
        "who": ADJUDICATOR,
        "resolutions": 0,
        "errors": [],
        "latencies": [],
        "polls": 0,
    }
    try:
        review = open_review(url)
        go.wait()
        while True:
            finished = done.value >= len(REVIEWERS)  # read BEFORE listing: no vote can follow
            result["polls"] += 1
            try:
                with review.reading() as session:
                    conflicts = [
                        c.record_id
                        for c in list_conflicts(session, actor=ADJUDICATOR, stage=STAGE)
                        if c.state in ("open", "reopened")
                    ]
            except ReviewtoolError as exc:
                result["errors"].append(f"list conflicts: {_error_line(exc)}")
                continue
            except Exception as exc:
                result["errors"].append(f"list conflicts RAW {_error_line(exc)}")
                continue
            if not conflicts:
                if finished:
                    break
                time.sleep(0.2)
                continue
            for record_id in conflicts:
                start = time.perf_counter()
                try:
                    with review.transaction() as session:
                        resolve_conflict(
                            session,
                            actor=ADJUDICATOR,
                            record_id=record_id,
                            stage=STAGE,
                            decision="include",
                            note="soak",
                        )
                except ReviewtoolError as exc:
                    result["errors"].append(f"resolve {record_id}: {_error_line(exc)}")
                    continue
                except Exception as exc:
                    result["errors"].append(f"resolve {record_id} RAW {_error_line(exc)}")
                    continue
                result["latencies"].append(time.perf_counter() - start)
                result["resolutions"] += 1
        review.close()
    except BaseException as exc:
        result["errors"].append(f"worker died: {_error_line(exc)}\n{traceback.format_exc()}")
    finally:
        out.put(result)


def check(url: str, ids: list[int]) -> dict[str, Any]:
    """The invariants, read from the database after the run."""
    _paths()
    from sqlmodel import select

    from reviewtool.screening.service import list_conflicts
    from reviewtool.storage import open_review
    from reviewtool.storage.models import Member, ScreeningDecision, ScreeningResolution

    review = open_review(url)
    with review.reading() as session:
        names = dict(session.exec(select(Member.id, Member.name)).all())
        current: dict[tuple[int, str], list[str]] = {}
        for ref, member, decision in session.exec(
            select(
                ScreeningDecision.reference_id,
                ScreeningDecision.member_id,
                ScreeningDecision.decision,
            ).where(
                ScreeningDecision.stage == STAGE,
                ScreeningDecision.superseded_at.is_(None),  # type: ignore[union-attr]
            )
        ).all():
            current.setdefault((ref, names[member]), []).append(decision)
        all_votes = session.exec(
            select(ScreeningDecision.id).where(ScreeningDecision.stage == STAGE)
        ).all()
        resolutions: dict[int, list[bool]] = {}
        for ref, reopened in session.exec(
            select(ScreeningResolution.reference_id, ScreeningResolution.reopened_at).where(
                ScreeningResolution.stage == STAGE
            )
        ).all():
            resolutions.setdefault(ref, []).append(reopened is None)
        still_open = [
            c.record_id
            for c in list_conflicts(session, actor=ADJUDICATOR, stage=STAGE)
            if c.state != "resolved"
        ]
    review.close()
    lost = wrong = 0
    for position, ref in enumerate(ids):
        for name in REVIEWERS:
            votes = current.get((ref, name), [])
            if not votes:
                lost += 1
            elif votes[0] != intended(position, name):
                wrong += 1
    doubled = sum(1 for votes in current.values() if len(votes) > 1)
    expected_conflicts = {ref for position, ref in enumerate(ids) if position % 5 == 0}
    once = sum(
        1
        for ref in expected_conflicts
        if resolutions.get(ref) == [True]  # one resolution ever, and it is current
    )
    twice = sum(1 for ref in resolutions if len(resolutions[ref]) > 1)
    unresolved = sum(1 for ref in expected_conflicts if True not in resolutions.get(ref, []))
    spurious = sum(1 for ref in resolutions if ref not in expected_conflicts)
    verify = subprocess.run(
        [sys.executable, "-m", "reviewtool", "audit", "verify", "--db", url, "--as", OWNER],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return {
        "lost": lost,
        "wrong": wrong,
        "doubled": doubled,
        "vote_rows": len(all_votes),
        "conflicts": len(expected_conflicts),
        "resolved_once": once,
        "resolved_twice": twice,
        "unresolved": unresolved,
        "spurious": spurious,
        "still_open": len(still_open),
        "verify_ok": verify.returncode == 0,
        "verify_out": (verify.stdout + verify.stderr).strip().splitlines()[:3],
    }


def soak(label: str, url: str, references: int, seed: int, workdir: Path) -> bool:
    """Build, run the three processes, check; print the backend's block; True when all holds."""
    started = time.perf_counter()
    ids = build(url, references, workdir)
    print(f"\n== {label}: {len(ids)} references built in {time.perf_counter() - started:.1f} s")
    ctx = mp.get_context("spawn")
    go, done, out = ctx.Event(), ctx.Value("i", 0), ctx.Queue()
    procs = [
        ctx.Process(target=reviewer, args=(url, name, ids, seed, go, done, out))
        for name in REVIEWERS
    ]
    procs.append(ctx.Process(target=adjudicator, args=(url, go, done, out)))
    for p in procs:
        p.start()
    time.sleep(3.0)  # let every process import the library and open the review
    start = time.perf_counter()
    go.set()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    by = {r["who"]: r for r in results}
    votes = sum(by[name]["votes"] for name in REVIEWERS)
    errors = [f"{r['who']}: {e}" for r in results for e in r["errors"]]
    lat = [x for name in REVIEWERS for x in by[name]["latencies"]]
    c = check(url, ids)
    q = statistics.quantiles(lat, n=20) if len(lat) >= 20 else [float("nan")] * 19
    print(f"decisions                {votes:>8}   (expected {2 * len(ids)})")
    print(f"seconds                  {elapsed:>8.1f}   (all three processes, wall clock)")
    print(
        f"decisions per second     {votes / elapsed:>8.1f}   (per vote p50 {q[9] * 1000:.1f} ms,"
        f" p95 {q[18] * 1000:.1f} ms)"
    )
    print(f"lost                     {c['lost']:>8}   (+ {c['wrong']} with another decision)")
    print(f"doubled                  {c['doubled']:>8}   ({c['vote_rows']} vote rows in all)")
    print(f"errors shown to a user   {len(errors):>8}")
    for line in errors[:10]:
        print(f"    {line}")
    print(
        f"conflicts                {c['conflicts']:>8}   resolved exactly once {c['resolved_once']},"
        f" twice {c['resolved_twice']}, unresolved {c['unresolved']},"
        f" without a conflict {c['spurious']}, still listed {c['still_open']}"
    )
    print(
        f"resolutions              {by[ADJUDICATOR]['resolutions']:>8}"
        f"   ({by[ADJUDICATOR]['polls']} polls of list_conflicts)"
    )
    print(
        f"audit verify             {'OK' if c['verify_ok'] else 'FAILED'}   {c['verify_out'][:1]}"
    )
    ok = (
        votes == 2 * len(ids)
        and c["lost"] == 0
        and c["wrong"] == 0
        and c["doubled"] == 0
        and not errors
        and c["resolved_once"] == c["conflicts"]
        and c["resolved_twice"] == 0
        and c["unresolved"] == 0
        and c["spurious"] == 0
        and c["still_open"] == 0
        and by[ADJUDICATOR]["resolutions"] == c["conflicts"]
        and c["verify_ok"]
    )
    print(f"invariants               {'HOLD' if ok else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--references", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--pg", help="a PostgreSQL server URL to use (a database is created)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    _paths()
    from _pgcluster import new_database, pg_cluster, unavailable  # type: ignore[import-not-found]

    print(
        f"soak: {args.references} references x {len(REVIEWERS)} reviewers ="
        f" {args.references * len(REVIEWERS)} decisions, seed {args.seed}"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="reviewtool-soak-") as tmp:
        workdir = Path(tmp)
        if not args.no_sqlite:
            ok &= soak(
                "SQLite", f"sqlite:///{workdir / 'soak.db'}", args.references, args.seed, workdir
            )
        if args.no_pg:
            print("\nPostgreSQL: skipped (--no-pg)")
        elif args.pg:
            url = new_database(args.pg, f"reviewtool_soak_{os.getpid()}")
            ok &= soak("PostgreSQL (given server)", url, args.references, args.seed, workdir)
        elif (reason := unavailable()) is not None:
            print(f"\nPostgreSQL: skipped ({reason})")
        else:
            try:
                with pg_cluster() as base:
                    url = new_database(base, "reviewtool_soak")
                    ok &= soak(
                        "PostgreSQL (throw-away cluster)", url, args.references, args.seed, workdir
                    )
            except RuntimeError as exc:
                print(f"\nPostgreSQL: skipped ({exc})")
    print(f"\n{'all invariants hold' if ok else 'INVARIANTS FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
