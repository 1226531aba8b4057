"""Two reviewers in two processes voting on one SQLite file at once: none lost, none doubled."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from reviewtool import audit
from reviewtool.domain import Role
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member
from reviewtool.review.service import init_review, open_existing
from reviewtool.screening.service import record_decision
from reviewtool.storage.models import ScreeningDecision

RECORDS = 2000


def _screener(url: str, who: str, start: mp.synchronize.Event, errors: mp.Queue) -> None:  # type: ignore[type-arg]
    review = open_existing(url)
    start.wait()
    try:
        for record in range(1, RECORDS + 1):
            # One committed transaction per key press, as the screening screen does.
            with review.transaction() as session:
                record_decision(
                    session,
                    actor=who,
                    record_id=record,
                    stage="tiab",
                    decision="include" if record % 3 else "maybe",
                )
    except Exception as exc:
        errors.put(f"{who}: {type(exc).__name__}: {exc}")
    finally:
        review.close()


def test_two_reviewers_two_processes_2000_votes_each(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'screen.db'}"
    export = tmp_path / "big.ris"
    export.write_text(
        "".join(
            f"TY  - JOUR\nID  - {i}\nTI  - Record {i}\nPY  - 2020\nER  -\n\n"
            for i in range(1, RECORDS + 1)
        )
    )
    review = init_review(url, title="T", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        import_files(session, actor="alice", paths=[export], source="MEDLINE")
    review.close()

    ctx = mp.get_context("spawn")
    start, errors = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_screener, args=(url, who, start, errors)) for who in ("alice", "bob")
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=600)
    assert errors.empty(), errors.get()
    assert [w.exitcode for w in workers] == [0, 0]

    review = open_existing(url)
    with review.reading() as session:
        total = session.exec(select(func.count()).select_from(ScreeningDecision)).one()
        distinct = session.exec(
            select(func.count()).select_from(
                select(ScreeningDecision.record_id, ScreeningDecision.member_id)
                .distinct()
                .subquery()
            )
        ).one()
        report = audit.verify(session)
    review.close()
    assert total == distinct == 2 * RECORDS
    assert report.ok, report.problems
    # review, 2 members, the import and its one records-imported-part (up to 2,000 records an
    # event), every vote, and each reference's report sought once both votes include it (every
    # vote here is include or maybe).
    assert report.events == 2 + 1 + 1 + 1 + 2 * RECORDS + RECORDS
