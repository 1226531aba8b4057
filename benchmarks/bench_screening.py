"""Speed of a screening key press with 100,000 references in the review.

Run from the repository root::

    python benchmarks/bench_screening.py                  # 100k references, 300 presses each
    python benchmarks/bench_screening.py --records 10000 --presses 100
    python benchmarks/bench_screening.py --db /tmp/screen100k.db   # build once, reuse after
    python benchmarks/bench_screening.py --prior-votes 20000       # bob has screened 20k first

It prints p50/p95 of

(a) the library alone: ``record_decision`` in its own committed transaction, then ``record_card`` of
    the next reference (target < 5 ms);
(b) the app's own work per key press, timed inside the app: the action method wrapped with
    ``time.perf_counter`` (the committed write, the next card and the widget updates; target < 50 ms);
(c) textual's pilot, wall time per ``pilot.press`` (includes the pilot's own idle-waiting, about
    60 ms on the reference machine; shown for comparison, not judged).

The references are written as one RIS file and imported with ``import_files`` (no dedup: every
record is then a reference).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtool.domain import Role  # noqa: E402
from reviewtool.importing.service import import_files  # noqa: E402
from reviewtool.members.service import add_member  # noqa: E402
from reviewtool.review.service import init_review, open_existing, set_setting  # noqa: E402
from reviewtool.screening.service import (  # noqa: E402
    record_card,
    record_decision,
    screening_progress,
    screening_queue,
)

WORDS = [
    "mesenchymal",
    "stem",
    "cell",
    "therapy",
    "cirrhosis",
    "liver",
    "failure",
    "randomised",
    "controlled",
    "trial",
    "patients",
    "albumin",
    "bilirubin",
    "survival",
    "transplantation",
    "hepatitis",
    "fibrosis",
    "infusion",
    "bone",
    "marrow",
    "umbilical",
    "cord",
    "placebo",
    "standard",
    "treatment",
    "outcome",
    "safety",
    "efficacy",
    "model",
    "end-stage",
    "disease",
    "score",
    "rats",
]


def _ris(count: int, *, words_from: list[str] = WORDS, abstract_words: int = 90) -> str:
    """``count`` RIS records with made-up titles and abstracts drawn from ``words_from`` (also
    used by ``bench_audit_verify.py``)."""
    rows = []
    for n in range(count):
        words = [words_from[(n * 7 + k * 13) % len(words_from)] for k in range(abstract_words)]
        rows.append(
            f"TY  - JOUR\nID  - B{n}\nAU  - Author{n % 997}, A.\nAU  - Second{n % 131}, B.\n"
            f"TI  - {' '.join(words[:12]).capitalize()} {n}\nJO  - Journal {n % 50}\n"
            f"PY  - {1990 + n % 35}\nDO  - 10.9999/bench.{n}\nAB  - {' '.join(words)}.\nER  - \n"
        )
    return "\n".join(rows)


def build(path: Path, records: int, prior_votes: int) -> str:
    """A review at ``path`` with ``records`` references (reused when the file exists)."""
    url = f"sqlite:///{path}"
    if path.exists():
        print(f"reusing {path}")
        return url
    started = time.perf_counter()
    review = init_review(url, title=f"Benchmark: {records} references", owner="alice")
    ris = path.with_suffix(".ris")
    ris.write_text(_ris(records), encoding="utf-8")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
        set_setting(session, actor="alice", key="screening.include_keywords", value="randomi;RCT")
        set_setting(session, actor="alice", key="screening.exclude_keywords", value="rats;mice")
        import_files(session, actor="alice", paths=[ris], source="Benchmark")
    ris.unlink()
    if prior_votes:
        with review.reading() as session:
            queue = screening_queue(session, actor="bob", stage="tiab")[:prior_votes]
        with review.transaction() as session:
            for n, record_id in enumerate(queue):
                record_decision(
                    session,
                    actor="bob",
                    record_id=record_id,
                    stage="tiab",
                    decision=("include", "exclude", "maybe")[n % 3],
                )
    review.close()
    print(
        f"built {records} references ({prior_votes} prior votes by bob) in {time.perf_counter() - started:.1f} s"
    )
    return url


def _summary(label: str, seconds: list[float], target_ms: float | None) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    verdict = "" if target_ms is None else ("  ok" if p95 < target_ms else "  MISSES TARGET")
    target = "" if target_ms is None else f" (target < {target_ms:g} ms)"
    print(f"{label:<44} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   n={len(ms)}{target}{verdict}")


def bench_library(url: str, presses: int) -> None:
    """(a) record_decision + the next record_card, as alice."""
    review = open_existing(url)
    with review.reading() as session:
        t = time.perf_counter()
        queue = screening_queue(session, actor="alice", stage="tiab")
        print(
            f"screening_queue (start-up, once)             {1000 * (time.perf_counter() - t):7.0f} ms"
        )
        t = time.perf_counter()
        screening_progress(session, actor="alice", stage="tiab")
        print(
            f"screening_progress (start-up, once)          {1000 * (time.perf_counter() - t):7.0f} ms"
        )
    decisions, cards, both = [], [], []
    for n in range(presses):
        t0 = time.perf_counter()
        with review.transaction() as session:
            record_decision(
                session, actor="alice", record_id=queue[n], stage="tiab", decision="include"
            )
        t1 = time.perf_counter()
        with review.reading() as session:
            record_card(session, actor="alice", record_id=queue[n + 1], stage="tiab")
        t2 = time.perf_counter()
        decisions.append(t1 - t0)
        cards.append(t2 - t1)
        both.append(t2 - t0)
    review.close()
    _summary("(a) library: record_decision (committed)", decisions, None)
    _summary("(a) library: record_card (next)", cards, None)
    _summary("(a) library: decision + next card", both, 5)


def _timed(method: Callable[[], None], into: list[float]) -> Callable[[], None]:
    def wrapper() -> None:
        started = time.perf_counter()
        method()
        into.append(time.perf_counter() - started)

    return wrapper


async def bench_app(url: str, presses: int) -> None:
    """(b) the action's own work inside the app and (c) the pilot's wall time, as bob."""
    from reviewtool.tui.screening import ScreeningApp

    handler: list[float] = []
    wall: list[float] = []
    started = time.perf_counter()
    app = ScreeningApp(url, "bob", "tiab")
    async with app.run_test(size=(100, 30)) as pilot:
        print(
            f"app start-up (queue + counts + first card)   {1000 * (time.perf_counter() - started):7.0f} ms"
        )
        screen = app.screening
        # Bindings look the action up on the screen object, so an instance attribute wraps it.
        screen.action_include = _timed(screen.action_include, handler)  # type: ignore[method-assign]
        screen.action_maybe = _timed(screen.action_maybe, handler)  # type: ignore[method-assign]
        screen.action_skip = _timed(screen.action_skip, handler)  # type: ignore[method-assign]
        for n in range(presses):
            key = "i" if n % 2 else "m"
            t = time.perf_counter()
            await pilot.press(key)
            wall.append(time.perf_counter() - t)
        votes = screen.mine
    _summary("(b) in app: key handler incl. write + widgets", handler, 50)
    _summary("(c) pilot: wall time per press", wall, None)
    print(f"    (bob's votes after the run: {votes})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--prior-votes", type=int, default=0)
    parser.add_argument("--db", type=Path, help="review file to build once and reuse")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        url = build(path, args.records, args.prior_votes)
        bench_library(url, args.presses)
        asyncio.run(bench_app(url, args.presses))


if __name__ == "__main__":
    main()
