"""Tampering the readers must catch, and checkpoints: ``audit verify --since-checkpoint``.

The review is ``tests/ledger_builder.py`` (records 1-6; 2 merged into 1 and 6 into 3; alice and bob
include 1 at title/abstract, split on 3 (carol resolves include), both include 4 in the end;
labels "RCT?" by alice on 1 and "check dose" by bob on 3; full text of 1 at a URL, of 3 not
retrieved; both include 1 at full text; one analysis run).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import InvalidInput
from reviewtool.review.service import open_existing
from reviewtool.screening.service import record_decision

OUTCOMES = Path(__file__).resolve().parents[1] / "sample_project" / "outcomes.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.ledger_builder import build_populated

    work = tmp_path_factory.mktemp("incremental")
    path = work / "review.db"
    build_populated(f"sqlite:///{path}", work, OUTCOMES)
    return path


@pytest.fixture
def db(_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "review.db"
    shutil.copy(_template, path)
    return path


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _verify(path: Path, since_checkpoint: bool = False) -> audit.VerifyReport:
    review = open_existing(_url(path))
    try:
        with review.reading() as session:
            return audit.verify(session, since_checkpoint=since_checkpoint)
    finally:
        review.close()


def _checkpoint(path: Path) -> audit.VerifyReport:
    """A full verify that passes, recorded as a checkpoint by alice."""
    report = _verify(path)
    assert report.ok, report.problems
    review = open_existing(_url(path))
    with review.transaction() as session:
        audit.write_checkpoint(session, actor="alice", report=report)
    review.close()
    return report


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def _event_of(path: Path, entity_type: str, entity_id: str) -> int:
    conn = sqlite3.connect(path)
    (seq,) = conn.execute(
        "SELECT max(seq) FROM audit_event WHERE entity_type = ? AND entity_id = ?",
        (entity_type, entity_id),
    ).fetchone()
    conn.close()
    return int(seq)


def _bob_vote(path: Path) -> None:
    review = open_existing(_url(path))
    with review.transaction() as session:
        record_decision(
            session, actor="bob", record_id=1, stage="tiab", decision="maybe", note="unsure"
        )
    review.close()


# --- tampering the readers catch ------------------------------------------------------------


def test_a_vote_moved_to_another_record_fails_verify(db: Path) -> None:
    cast = _event_of(db, "screening_vote", "1:tiab:bob")
    _sql(
        db,
        "UPDATE screening_decision SET record_id = 2 WHERE record_id = 1 AND stage = 'tiab' "
        "AND member_id = 2 AND superseded_at IS NULL",
    )
    report = _verify(db)
    assert report.problems == [
        "screening_vote 1:tiab:bob: current state null differs from the ledger "
        f'(event #{cast} says {{"decision":"include","note":null,"reason":null}})',
        'screening_vote 2:tiab:bob: current state {"decision":"include","note":null,'
        '"reason":null} differs from the ledger (no event records it)',
        "screening_vote 1:tiab:bob: the rows kept over time (superseded ones included) are not "
        "the ones the ledger recorded, in order",
        "screening_vote 2:tiab:bob: the rows kept over time (superseded ones included) are not "
        "the ones the ledger recorded, in order",
    ]


def test_a_full_text_reports_status_changed_fails_verify(db: Path) -> None:
    _sql(db, "UPDATE fulltext_report SET status = 'not_retrieved' WHERE record_id = 1")
    report = _verify(db)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(
        'fulltext_report 1: current state {"kind":"journal article",'
        '"location":"https://example.org/a1.pdf","note":null,"reason":null,"record":1,'
        '"status":"not_retrieved"} differs from the ledger'
    )


def test_a_superseded_vote_edited_fails_the_full_verify(db: Path) -> None:
    """bob's first vote on 1 (include, before he changed it to maybe) rewritten to exclude: not
    current state, but the ledger recorded it, so the full verify compares every row in order."""
    _bob_vote(db)
    _sql(
        db,
        "UPDATE screening_decision SET decision = 'exclude' WHERE record_id = 1 AND stage = 'tiab'"
        " AND member_id = 2 AND superseded_at IS NOT NULL",
    )
    assert _verify(db).problems == [
        "screening_vote 1:tiab:bob: the rows kept over time (superseded ones included) are not "
        "the ones the ledger recorded, in order",
    ]


def test_a_superseded_vote_deleted_fails_the_full_verify(db: Path) -> None:
    _bob_vote(db)
    _sql(db, "DELETE FROM screening_decision WHERE superseded_at IS NOT NULL AND record_id = 1")
    assert [p.split(":")[0] for p in _verify(db).problems] == ["screening_vote 1"]


def test_who_recorded_a_full_text_changed_fails_verify(db: Path) -> None:
    recorded = _event_of(db, "fulltext_report", "1")
    # The table holds a member id (schema 0008); verify names the member, as the ledger does.
    _sql(
        db,
        "UPDATE fulltext_report SET recorded_by_id = (SELECT id FROM member WHERE name = 'bob') "
        "WHERE record_id = 1",
    )
    assert _verify(db).problems == [
        "fulltext_report 1: the table says 'bob' made the last change, but event "
        f"#{recorded} was written by 'alice'"
    ]


def test_a_label_removed_fails_verify(db: Path) -> None:
    added = _event_of(db, "record_label", "3:bob")
    _sql(db, "DELETE FROM record_label WHERE label = 'check dose'")
    report = _verify(db)
    assert report.problems == [
        "record_label 3:bob: current state null differs from the ledger "
        f'(event #{added} says ["check dose"])'
    ]


def test_a_label_moved_to_another_member_fails_verify(db: Path) -> None:
    _sql(db, "UPDATE record_label SET member_id = 1 WHERE label = 'check dose'")
    problems = _verify(db).problems
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in problems] == [
        "record_label 3:alice",
        "record_label 3:bob",
    ]


def test_the_portable_read_path_verifies_and_catches_the_same(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads through SQLAlchemy's streaming results, not the driver's cursor: the same
    answers, here on SQLite with the raw-cursor path switched off."""
    from reviewtool.storage import snapshots

    monkeypatch.setattr(snapshots, "RAW_CURSOR_DIALECTS", ())
    good = _verify(db)
    assert good.ok and good.events == good.last_seq > 30
    _sql(db, "DELETE FROM record_label WHERE label = 'check dose'")
    assert [p.split(":")[0] for p in _verify(db).problems] == ["record_label 3"]


# --- checkpoints ------------------------------------------------------------------------------


def test_since_checkpoint_checks_only_the_events_after_it(db: Path) -> None:
    full = _checkpoint(db)
    assert full.full and full.events == full.last_seq
    _bob_vote(db)
    report = _verify(db, since_checkpoint=True)
    assert report.ok, report.problems
    assert (report.full, report.since_seq, report.events) == (False, full.last_seq, 1)
    assert report.last_seq == full.last_seq + 1
    assert report.head_hash == _verify(db).head_hash


def test_without_a_checkpoint_since_checkpoint_is_a_full_verify(db: Path) -> None:
    report = _verify(db, since_checkpoint=True)
    assert report.ok and report.full and report.events == report.last_seq


def test_an_entity_touched_after_the_checkpoint_is_compared(db: Path) -> None:
    _checkpoint(db)
    _bob_vote(db)
    _sql(
        db,
        "UPDATE screening_decision SET decision = 'exclude' WHERE record_id = 1 AND stage = 'tiab'"
        " AND member_id = 2 AND superseded_at IS NULL",
    )
    report = _verify(db, since_checkpoint=True)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("screening_vote 1:tiab:bob: current state")


def test_an_older_entity_is_left_to_the_full_verify(db: Path) -> None:
    """The contract, pinned: an edit to something no event after the checkpoint touched is not
    seen by --since-checkpoint (that is what makes it fast); the full verify finds it."""
    _checkpoint(db)
    _bob_vote(db)
    _sql(db, "DELETE FROM record_label WHERE label = 'check dose'")
    assert _verify(db, since_checkpoint=True).ok
    assert [p.split(":")[0] for p in _verify(db).problems] == ["record_label 3"]


def test_a_rewritten_checkpoint_event_fails_the_incremental_verify(db: Path) -> None:
    full = _checkpoint(db)
    _sql(db, f"UPDATE audit_event SET hash = '{'1' * 64}' WHERE seq = {full.last_seq}")
    report = _verify(db, since_checkpoint=True)
    assert report.first_bad_seq == full.last_seq
    assert "no longer has the hash the checkpoint of" in report.problems[0]


def test_events_cut_below_the_checkpoint_fail_the_incremental_verify(db: Path) -> None:
    full = _checkpoint(db)
    _sql(db, f"DELETE FROM audit_event WHERE seq >= {full.last_seq}")
    _sql(db, f"UPDATE audit_head SET seq = {full.last_seq - 1}")
    report = _verify(db, since_checkpoint=True)
    assert not report.ok
    assert f"event #{full.last_seq}: is missing" in report.problems[0]


def test_an_event_edited_after_the_checkpoint_fails_the_incremental_verify(db: Path) -> None:
    full = _checkpoint(db)
    _bob_vote(db)
    _sql(db, f"UPDATE audit_event SET actor = 'mallory' WHERE seq = {full.last_seq + 1}")
    report = _verify(db, since_checkpoint=True)
    assert report.first_bad_seq == full.last_seq + 1
    assert "content was changed" in report.problems[0]


def test_no_checkpoint_for_a_ledger_that_does_not_verify(db: Path) -> None:
    _sql(db, "DELETE FROM record_label WHERE label = 'check dose'")
    report = _verify(db)
    review = open_existing(_url(db))
    with pytest.raises(InvalidInput, match="did not verify"), review.transaction() as session:
        audit.write_checkpoint(session, actor="alice", report=report)
    review.close()


# --- the CLI ----------------------------------------------------------------------------------


def _run(*args: str) -> object:
    return runner.invoke(app, list(args))


def _count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    (n,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    conn.close()
    return int(n)


def test_cli_verify_records_a_checkpoint_and_leaves_the_head(db: Path) -> None:
    conn = sqlite3.connect(db)
    head_before = conn.execute("SELECT seq, hash FROM audit_head").fetchone()
    conn.close()
    full = _run("audit", "verify", "--as", "alice", "--db", str(db))
    assert full.exit_code == 0, full.output  # type: ignore[attr-defined]
    said = " ".join(full.stdout.split())  # type: ignore[attr-defined]
    assert f"verified: {head_before[0]} events, head {head_before[1]}" in said
    assert _count(db, "audit_checkpoint") == 1
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT seq, hash FROM audit_head").fetchone() == head_before
    assert conn.execute("SELECT seq, hash, since_seq FROM audit_checkpoint").fetchone() == (
        *head_before,
        None,
    )
    conn.close()
    _bob_vote(db)
    since = _run("audit", "verify", "--since-checkpoint", "--as", "alice", "--db", str(db))
    assert since.exit_code == 0, since.output  # type: ignore[attr-defined]
    said = " ".join(since.stdout.split())  # type: ignore[attr-defined]
    assert f"since the checkpoint at event #{head_before[0]}" in said
    assert ": 1 new event, head" in said  # the singular (it said "1 new events")
    assert _count(db, "audit_checkpoint") == 2


def test_cli_no_checkpoint_and_a_broken_ledger_write_none(db: Path) -> None:
    assert (
        _run("audit", "verify", "--no-checkpoint", "--as", "alice", "--db", str(db)).exit_code == 0
    )  # type: ignore[attr-defined]
    assert _count(db, "audit_checkpoint") == 0
    _sql(db, "DELETE FROM record_label WHERE label = 'check dose'")
    bad = _run("audit", "verify", "--as", "alice", "--db", str(db))
    assert bad.exit_code == 8  # type: ignore[attr-defined]
    assert _count(db, "audit_checkpoint") == 0


def test_cli_expect_head_needs_a_full_verify(db: Path) -> None:
    result = _run(
        "audit",
        "verify",
        "--since-checkpoint",
        "--expect-head",
        "0" * 64,
        "--as",
        "alice",
        "--db",
        str(db),
    )
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stderr.strip().splitlines() == [  # type: ignore[attr-defined]
        "reviewtool: error: --expect-head needs a full verify: drop --since-checkpoint (an "
        "incremental check does not re-hash the events before the checkpoint)"
    ]
