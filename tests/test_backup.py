"""``reviewtool backup`` / ``restore`` (issue 14, item 6): a consistent copy while others work, a
restore identical to the original that verifies, and refusals that leave nothing behind."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.review.service import open_existing, set_setting
from reviewtool.storage.models import metadata

runner = CliRunner()
OUTCOMES = Path(__file__).resolve().parents[1] / "sample_project" / "outcomes.csv"


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A review with rows in every table (tests/ledger_builder.py)."""
    from tests.ledger_builder import build_populated

    work = tmp_path_factory.mktemp("populated")
    path = work / "review.db"
    build_populated(f"sqlite:///{path}", work, OUTCOMES)
    return path


def hidden_files(folder: Path) -> list[str]:
    """The hidden files in ``folder``: a temporary copy left behind would be one
    (``.NAME.partial-PID-XXXX.EXT``, outfolder.written_new_file)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the models (and the schema revision), sorted."""
    with sqlite3.connect(path) as conn:
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in [*metadata.tables, "alembic_version"]
        }


def test_backup_and_restore_round_trip(populated: Path, tmp_path: Path) -> None:
    work = tmp_path / "work.db"
    shutil.copy(populated, work)
    backup = tmp_path / "review.bak"
    made = runner.invoke(app, ["backup", str(backup), "--db", str(work), "--as", "alice"])
    assert made.exit_code == 0, made.output
    assert "events, head" in made.stdout and backup.read_bytes()[:16] == b"SQLite format 3\x00"
    restored = tmp_path / "restored.db"
    back = runner.invoke(app, ["restore", str(backup), "--db", str(restored), "--as", "alice"])
    assert back.exit_code == 0, back.output
    assert "audit ledger verified" in back.stdout
    original = table_rows(work)
    assert all(original[t] for t in ("record", "screening_decision", "study_link", "analysis_run"))
    assert table_rows(restored) == original
    assert hidden_files(tmp_path) == []


def test_backup_while_another_process_writes_is_consistent(populated: Path, tmp_path: Path) -> None:
    """A writer changes settings throughout the backup: the copy verifies (it is one snapshot)."""
    work = tmp_path / "busy.db"
    shutil.copy(populated, work)
    stop = threading.Event()

    def writer() -> None:
        review = open_existing(f"sqlite:///{work}")
        try:
            n = 0
            while not stop.is_set() and n < 200:
                with review.transaction() as session:
                    set_setting(
                        session,
                        actor="alice",
                        key="screening.reviewers_required",
                        value=str(1 + n % 2),
                    )
                n += 1
        finally:
            review.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for i in range(3):
            out = tmp_path / f"copy{i}.bak"
            made = runner.invoke(app, ["backup", str(out), "--db", str(work), "--as", "alice"])
            assert made.exit_code == 0, made.output
    finally:
        stop.set()
        thread.join()
    for i in range(3):
        restored = tmp_path / f"restored{i}.db"
        assert (
            runner.invoke(
                app,
                ["restore", str(tmp_path / f"copy{i}.bak"), "--db", str(restored), "--as", "alice"],
            ).exit_code
            == 0
        )


def test_refusals_leave_nothing_behind(populated: Path, tmp_path: Path) -> None:
    work = tmp_path / "work.db"
    shutil.copy(populated, work)
    existing = tmp_path / "taken.bak"
    existing.write_bytes(b"mine")
    taken = runner.invoke(app, ["backup", str(existing), "--db", str(work), "--as", "alice"])
    assert taken.exit_code == 2 and taken.stderr.strip().endswith(
        "exists already: a backup never overwrites a file"
    )
    assert existing.read_bytes() == b"mine"
    reviewer = runner.invoke(
        app, ["backup", str(tmp_path / "b.bak"), "--db", str(work), "--as", "bob"]
    )
    assert reviewer.exit_code == 5 and not (tmp_path / "b.bak").exists()
    not_backup = runner.invoke(
        app, ["restore", str(existing), "--db", str(tmp_path / "r.db"), "--as", "alice"]
    )
    assert not_backup.exit_code == 2 and "not a reviewtool backup" in not_backup.stderr
    onto = runner.invoke(app, ["restore", str(work), "--db", str(work), "--as", "alice"])
    assert onto.exit_code == 2 and onto.stderr.strip().endswith(
        "exists already: a restore never overwrites a file; restore into a new --db path"
    )  # a restore, not a backup (before: "a backup never overwrites a file")
    backup = tmp_path / "ok.bak"
    assert (
        runner.invoke(app, ["backup", str(backup), "--db", str(work), "--as", "alice"]).exit_code
        == 0
    )
    by_bob = runner.invoke(
        app, ["restore", str(backup), "--db", str(tmp_path / "r.db"), "--as", "bob"]
    )
    assert by_bob.exit_code == 5 and "restore the review" in by_bob.stderr
    assert hidden_files(tmp_path) == [] and not (tmp_path / "r.db").exists()


def test_a_tampered_backup_is_not_restored(populated: Path, tmp_path: Path) -> None:
    backup = tmp_path / "tampered.bak"
    shutil.copy(populated, backup)
    with sqlite3.connect(backup) as conn:
        conn.execute("UPDATE member_role SET role = 'owner' WHERE member_id = 2")
    target = tmp_path / "restored.db"
    result = runner.invoke(app, ["restore", str(backup), "--db", str(target), "--as", "alice"])
    assert result.exit_code == 8 and "does not verify" in result.stderr
    assert not target.exists() and hidden_files(tmp_path) == []


def test_a_backup_never_replaces_a_file_made_while_it_ran(
    populated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program creates the target while the copy is made: that file is kept, the backup
    is refused (one line, exit 2) and its temporary copy removed."""
    from reviewtool.review import backup as backup_module

    work = tmp_path / "work.db"
    shutil.copy(populated, work)
    target = tmp_path / "late.bak"
    real_ledger = backup_module._ledger

    def ledger_then_someone_writes(review: object) -> tuple[int, str]:
        target.write_bytes(b"someone else's file")
        return real_ledger(review)  # type: ignore[arg-type]

    monkeypatch.setattr(backup_module, "_ledger", ledger_then_someone_writes)
    result = runner.invoke(app, ["backup", str(target), "--db", str(work), "--as", "alice"])
    assert result.exit_code == 2 and "exists already" in result.stderr
    assert target.read_bytes() == b"someone else's file"
    assert hidden_files(tmp_path) == []
