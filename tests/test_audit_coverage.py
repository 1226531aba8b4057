"""Verification is complete by construction, and ledgers written before issue 10 still verify.

* Every column of every table is either checked by ``audit verify`` (a stage's state reader, or
  the hash chain) or declared unchecked with a reason (``declare_unchecked``): a new column that
  nobody declared fails ``test_every_column_is_checked_or_declared``.
* A declaration is not taken on trust: for every column declared checked, a review that holds a
  row of every table (``tests/ledger_builder.py``) has that column changed with SQL, behind the
  tool's back, and ``audit verify`` must fail.
* ``tests/data/ledger_0005.sql`` is a review written by the code of schema 0005 (before the
  streaming verify, the registry and checkpoints); it upgrades and verifies, its chain unchanged.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from reviewtool import audit
from reviewtool.audit.events import EVENT_TYPES
from reviewtool.audit.log import canonical_json
from reviewtool.review.service import open_existing
from reviewtool.storage import snapshots

HERE = Path(__file__).resolve().parent
OUTCOMES = HERE.parent / "sample_project" / "outcomes.csv"
# The head of the fixture's ledger as the 0005 code wrote it (event #31, an analysis run).
FIXTURE_HEAD_31 = "ba67a64801c56ebd9435816553613a156cd620eea72eac5dcc54aca641e76937"
# Rows that are history, not state: a reopened resolution is kept for the record (its content
# is in the screening-resolution event that wrote it); verify compares the current one. Every
# vote row, superseded or current, is compared (``test_a_superseded_vote...``).
LIVE_ROWS = {"screening_resolution": "reopened_at IS NULL"}


def _verify(url: str, **kwargs: Any) -> audit.VerifyReport:
    review = open_existing(url)
    try:
        with review.reading() as session:
            return audit.verify(session, **kwargs)
    finally:
        review.close()


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A review with rows in every table, written by today's code through its services."""
    from tests.ledger_builder import build_populated

    work = tmp_path_factory.mktemp("populated")
    path = work / "review.db"
    build_populated(f"sqlite:///{path}", work, OUTCOMES)
    return path


def test_every_column_is_checked_or_declared() -> None:
    readers = snapshots.load_state_readers()
    assert {"screening_vote", "fulltext_report", "record_label", "import_batch"} <= set(readers)
    columns = {(t.name, c.name) for t in SQLModel.metadata.sorted_tables for c in t.columns}
    undeclared = sorted(columns - set(snapshots.COLUMN_COVERAGE))
    assert not undeclared, (
        f"columns neither checked by audit verify nor declared unchecked: {undeclared}; register "
        "them in the stage's ledger.py (register_state covers=..., or declare_unchecked with why)"
    )
    stale = sorted(set(snapshots.COLUMN_COVERAGE) - columns)
    assert not stale, f"declared columns that no table has: {stale}"
    for (table, column), how in snapshots.COLUMN_COVERAGE.items():
        assert how.startswith(("checked by ", "not checked: ")), (table, column, how)


def test_every_event_that_carries_a_snapshot_has_a_reader() -> None:
    readers = snapshots.load_state_readers()
    for name, kind in EVENT_TYPES.items():
        fields = getattr(kind, "__dataclass_fields__", {})
        if "after" in fields:
            assert kind.entity_type in readers, f"{name}: no state reader for {kind.entity_type}"


def _checked_columns() -> list[tuple[str, str]]:
    snapshots.load_state_readers()
    import reviewtool.audit.log  # noqa: F401  (declares the chain's own columns)

    return sorted(
        key for key, how in snapshots.COLUMN_COVERAGE.items() if how.startswith("checked by ")
    )


def _candidates(value: Any, others: list[Any]) -> list[Any]:
    """Values to write over ``value``: another value the column holds, a nearby one, a new one."""
    found: list[Any] = [v for v in others if v != value]
    if isinstance(value, int):
        found += [1 - value] if value in (0, 1) else []  # a flag flipped (bools are 0/1)
        found += [value + 1, value + 100, value - 1]
    elif isinstance(value, str):
        found += [value + " (edited)", value[:-1] + ("x" if not value.endswith("x") else "y")]
    else:  # NULL
        found += ["2026-01-01T00:00:00.000000Z", 1, "edited"]
    return found


def _tamper(path: Path, table: str, column: str) -> str:
    """Change ``column`` in one live row of ``table`` with SQL; returns what was done."""
    conn = sqlite3.connect(path)
    try:
        where = LIVE_ROWS.get(table, "1 = 1")
        rows = conn.execute(
            f'SELECT rowid, "{column}" FROM "{table}" WHERE {where} ORDER BY rowid'
        ).fetchall()
        assert rows, f"the populated review has no {table} row"
        others = [v for (v,) in conn.execute(f'SELECT DISTINCT "{column}" FROM "{table}"')]
        for rowid, value in rows:
            for new in _candidates(value, others):
                try:
                    conn.execute(
                        f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?', (new, rowid)
                    )
                except sqlite3.IntegrityError:
                    conn.rollback()
                    continue
                conn.commit()
                return f"{table}.{column} of row {rowid}: {value!r} -> {new!r}"
        raise AssertionError(f"no way found to change {table}.{column}")
    finally:
        conn.close()


def test_the_populated_review_verifies(populated: Path) -> None:
    report = _verify(f"sqlite:///{populated}")
    assert report.ok, report.problems
    conn = sqlite3.connect(populated)
    empty = [
        t.name
        for t in SQLModel.metadata.sorted_tables
        if t.name != "audit_checkpoint"
        and conn.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] == 0
    ]
    conn.close()
    assert not empty, f"the builder leaves tables empty: {empty}"


@pytest.mark.parametrize(("table", "column"), _checked_columns())
def test_changing_any_checked_column_fails_verify(
    populated: Path, tmp_path: Path, table: str, column: str
) -> None:
    copy = tmp_path / "review.db"
    shutil.copy(populated, copy)
    done = _tamper(copy, table, column)
    report = _verify(f"sqlite:///{copy}")
    assert not report.ok, f"verify missed: {done}"


@pytest.mark.parametrize(
    ("part", "old", "new"),
    [
        ("an input", '"se":0.56', '"se":0.57'),
        ("the formula", "SD = SE·√n", "SD = SE·n"),
        ("the citation", "6.5.2.2", "6.5.2.3"),
    ],
)
def test_changing_a_converted_values_provenance_fails_verify(
    populated: Path, tmp_path: Path, part: str, old: str, new: str
) -> None:
    """The builder's converted values (SD from SE 0.56, n 20) carry their structured provenance
    in the audited source column: each part of it is checked (issue 11)."""
    copy = tmp_path / "review.db"
    shutil.copy(populated, copy)
    conn = sqlite3.connect(copy)
    with conn:
        rows = conn.execute(
            "UPDATE extraction_value SET source = replace(source, ?, ?) "
            "WHERE source_kind = 'converted'",
            (old, new),
        ).rowcount
    conn.close()
    assert rows == 2, f"the builder has no converted values to change {part} of"
    report = _verify(f"sqlite:///{copy}")
    assert not report.ok, f"verify missed a changed {part}"


def _load_fixture(tmp_path: Path) -> str:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript((HERE / "data" / "ledger_0005.sql").read_text(encoding="utf-8"))
    conn.close()
    return f"sqlite:///{path}"


def test_a_ledger_written_at_schema_0005_upgrades_and_verifies(tmp_path: Path) -> None:
    url = _load_fixture(tmp_path)
    report = _verify(url)  # opening upgrades it (backup + a schema-upgraded event)
    assert report.ok, report.problems
    assert report.full and report.events == 32
    with open_existing(url).reading() as session:
        events = audit.list_events(session)
    assert events[30].hash == FIXTURE_HEAD_31
    assert (events[31].action, events[31].payload["from_revision"]) == ("schema-upgraded", "0005")
    kinds = {e.action for e in events}
    assert {
        "records-imported",
        "dedup-run",
        "dedup-decision",
        "screening-decision",
        "screening-resolution",
        "labels-changed",
        "fulltext-report",
        "stage-unblinded",
        "analysis-run",
    } <= kinds


def test_the_0005_ledger_catches_an_edited_superseded_vote(tmp_path: Path) -> None:
    url = _load_fixture(tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE screening_decision SET note = 'fine' WHERE superseded_at IS NOT NULL")
    conn.commit()
    conn.close()
    assert _verify(url).problems == [
        "screening_vote 3:tiab:bob: the rows kept over time (superseded ones included) are not "
        "the ones the ledger recorded, in order"
    ]


def test_the_0005_ledger_still_catches_tampering(tmp_path: Path) -> None:
    url = _load_fixture(tmp_path)
    assert _verify(url).ok
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE fulltext_report SET status = 'retrieved' WHERE record_id = 3")
    conn.commit()
    conn.close()
    report = _verify(url)
    assert not report.ok
    # Schema 0007 keys reports by their own id (report 2 is record 3's); opening the upgraded
    # review recorded them so (event #32).
    assert report.problems == [
        'fulltext_report 2: current state {"kind":"journal article","location":null,'
        '"note":"no reply","reason":null,"record":3,"status":"retrieved"} differs from the ledger'
        ' (event #32 says {"kind":"journal article","location":null,"note":"no reply",'
        '"reason":null,"record":3,"status":"not_retrieved"})'
    ]


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, 2.5, None, True, False], "a": 'é\u2028"\\x'},
        "plain",
        42,
        None,
        [{"z": 1, "y": {"x": -0.0}}],
        {"decision": "include", "reason": None, "note": "ﬁrst look 🙂"},
    ],
)
def test_the_fast_canonical_encoder_writes_what_json_dumps_writes(value: Any) -> None:
    assert canonical_json(value) == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def test_canonical_json_still_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"x": float("nan")})


# --- the per-event salt (schema 0019, issue 14 section 3) -----------------------------------------
def _salted_event(path: Path) -> tuple[int, str, str]:
    """(number, action, salt) of a screening vote event of the populated review."""
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT seq, action, salt FROM audit_event WHERE action = 'screening-decision' "
            "ORDER BY seq LIMIT 1"
        ).fetchone()
    assert row is not None and row[2] is not None and len(row[2]) == 32
    return row


@pytest.mark.parametrize("removed", [False, True], ids=["one-digit-changed", "removed"])
def test_tampering_with_a_salt_fails_verify_at_that_event(
    populated: Path, tmp_path: Path, removed: bool
) -> None:
    """The salt is part of what is hashed: changed, or removed so the event would pass for one
    written before salts existed, its event no longer has its hash. The problem names the event,
    never the salt (a blind reviewer's verify shows no salt either)."""
    copy = tmp_path / "review.db"
    shutil.copy(populated, copy)
    seq, action, salt = _salted_event(copy)
    forged = salt[:-1] + ("0" if salt[-1] != "0" else "1")
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute(
            "UPDATE audit_event SET salt = ? WHERE seq = ?", (None if removed else forged, seq)
        )
    conn.close()
    report = _verify(f"sqlite:///{copy}")
    assert report.first_bad_seq == seq
    assert report.problems == [f"event #{seq} ({action}): content was changed after it was written"]
    from typer.testing import CliRunner

    from reviewtool.cli import app

    for who in ("alice", "bob"):
        result = CliRunner().invoke(
            app, ["audit", "verify", "--no-checkpoint", "--db", str(copy), "--as", who]
        )
        assert result.exit_code != 0, who
        assert salt not in result.output and forged not in result.output


def test_an_old_ledger_has_no_salts_and_verifies_with_the_salted_upgrade_event(
    tmp_path: Path,
) -> None:
    """The 0005 ledger's events carry no salt (NULL) and keep their hashes (the head of #31 is
    the one the 0005 code wrote); the schema-upgraded event written on opening it carries one.
    Giving an old event a salt breaks it: a NULL salt means the old format, nothing else."""
    url = _load_fixture(tmp_path)
    assert _verify(url).ok
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        salts = [s for (s,) in conn.execute("SELECT salt FROM audit_event ORDER BY seq")]
        (head,) = conn.execute("SELECT hash FROM audit_event WHERE seq = 31").fetchone()
    assert salts[:31] == [None] * 31 and salts[31] is not None and len(salts) == 32
    assert head == FIXTURE_HEAD_31
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE audit_event SET salt = ? WHERE seq = 5", ("ab" * 16,))
    report = _verify(url)
    assert report.first_bad_seq == 5 and not report.ok


def test_every_event_the_tool_writes_carries_its_own_salt(populated: Path) -> None:
    """Every kind of event, written through the services (one-by-one and bulk paths alike),
    draws a fresh 128-bit salt: none is missing and no two events share one."""
    with sqlite3.connect(populated) as conn:
        rows = conn.execute("SELECT action, salt FROM audit_event").fetchall()
    missing = sorted({action for action, salt in rows if salt is None})
    assert not missing, f"events written without a salt: {missing}"
    salts = [salt for _, salt in rows]
    assert all(len(s) == 32 and int(s, 16) >= 0 for s in salts)
    assert len(set(salts)) == len(salts)
    assert len({action for action, _ in rows}) >= 20  # the builder writes most kinds
