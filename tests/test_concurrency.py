"""Two people writing to one SQLite file at once: nothing lost, nothing doubled, no lock errors."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from reviewtool import audit
from reviewtool.domain import Role
from reviewtool.members.service import add_member, list_members
from reviewtool.review.service import init_review, open_existing

PER_WRITER = 150


def _writer(url: str, prefix: str, start: mp.synchronize.Event, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    review = open_existing(url)
    start.wait()
    try:
        for i in range(PER_WRITER):
            # One transaction per change, as separate CLI commands would do.
            with review.transaction() as session:
                add_member(session, actor="alice", name=f"{prefix}{i}", roles=[Role.REVIEWER])
    except Exception as exc:  # any error at all is a failure of the test
        errors.put(f"{prefix}: {type(exc).__name__}: {exc}")
    finally:
        review.close()


def test_two_processes_write_to_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    init_review(url, title="T", owner="alice").close()
    ctx = mp.get_context("spawn")
    start, errors = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_writer, args=(url, p, start, errors)) for p in ("a", "b")]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=120)
    assert all(w.exitcode == 0 for w in workers)
    assert errors.empty(), errors.get()

    review = open_existing(url)
    with review.reading() as session:
        names = [m.name for m in list_members(session)]
        report = audit.verify(session)
    review.close()
    assert len(names) == 2 * PER_WRITER + 1 == len(set(names))
    assert report.ok, report.problems
    assert report.events == 2 * PER_WRITER + 2
