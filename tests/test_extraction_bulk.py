"""Bulk extraction paths at a size where they take their fast routes (issue 11, performance).

``import_values`` checks a chunk of 50 studies at a time (``STUDIES_PER_CHUNK``) and writes each
chunk before reading the next, inside one transaction; it checks each distinct text of a field
once and remembers places by the cells as read. ``compare`` lets the database leave out the places
with a consensus in force; the exports read in one query. These tests pin what that must not
change: a refusal deep in a big file (after earlier chunks were written) leaves nothing written
and names the file, line and field; a remembered check is the field's own; cells that differ only
in spaces are one place; and compare and the exports give what the values say.

The review: 60 included studies (``tests/extraction_builder.py``), alice and bob extract, carol
adjudicates.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewtool import audit
from reviewtool.errors import InvalidInput
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import build_review_with_form, copy_review

STUDIES = 60  # more than one chunk of STUDIES_PER_CHUNK studies
ARMS = ("MSC", "control")
TIMES = ("4 weeks", "12 weeks", "24 weeks")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(
        tmp_path_factory.mktemp("bulk") / "review.db",
        [(f"Author{i}", 2000 + i % 20) for i in range(STUDIES)],
    )


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_review(template, tmp_path)


@pytest.fixture
def review(db: Path) -> Iterator[Any]:
    opened = open_existing(f"sqlite:///{db}")
    yield opened
    opened.close()


def _rows(who: str) -> list[list[Any]]:
    """Every study's arms (n randomised 40) and MELD mean, SD, n at three times: 20 values a
    study; bob's means differ from alice's at study 7, arm control, 12 weeks."""
    rows: list[list[Any]] = []
    for study in range(1, STUDIES + 1):
        for a, arm in enumerate(ARMS):
            rows.append([study, arm, "", "", "n_randomised", 40, "reported", "Table 1", who])
            for t, time in enumerate(TIMES):
                mean = f"{12 + a + t / 10:g}"
                if who == "bob" and (study, arm, time) == (7, "control", "12 weeks"):
                    mean = "99"
                for field, value in (("mean", mean), ("sd", "2.5"), ("n", 38 - t)):
                    rows.append([study, arm, "meld", time, field, value, "reported", "T2", who])
    return rows


def _write(path: Path, rows: list[list[Any]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(x.LONG_COLUMNS)
        out.writerows(rows)
    return str(path)


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _refused(review: Any, db: Path, path: str) -> str:
    """Import ``path`` as alice, expecting a refusal; check nothing was written; the message."""
    before = _count(db, "audit_event")
    # The refusal leaves the transaction (as from the CLI): earlier chunks, written already, are
    # rolled back with it.
    with pytest.raises(InvalidInput) as error, review.transaction() as s:
        x.import_values(s, actor="alice", path=path)
    assert _count(db, "extraction_value") == 0
    assert _count(db, "audit_event") == before
    return str(error.value)


def test_a_bad_value_deep_in_a_big_file_writes_nothing(
    review: Any, db: Path, tmp_path: Path
) -> None:
    rows = _rows("alice")
    assert len(rows) == STUDIES * 20
    # study 58 (in the second chunk), arm control, 24 weeks: sd 0; line = index + 2 (header)
    at = next(i for i, r in enumerate(rows) if r[:5] == [58, "control", "meld", "24 weeks", "sd"])
    rows[at][5] = "0"
    path = _write(tmp_path / "alice.csv", rows)
    assert _refused(review, db, path) == (
        f"{path}:{at + 2}: column value: study Author57 2017, arm 'control', meld at '24 weeks': "
        "sd: SD must be greater than 0, not 0"
    )


def test_a_rule_across_values_in_a_later_chunk_names_its_line(
    review: Any, db: Path, tmp_path: Path
) -> None:
    # The first 50 studies are checked and written before study 55 is read: its n above the
    # arm's n randomised must still leave nothing written, and name the line of the n.
    rows = _rows("alice")
    at = next(i for i, r in enumerate(rows) if r[:5] == [55, "MSC", "meld", "12 weeks", "n"])
    rows[at][5] = 41
    path = _write(tmp_path / "alice.csv", rows)
    assert _refused(review, db, path) == (
        f"{path}:{at + 2}: study Author54 2014 (55), arm 'MSC', meld at '12 weeks': n (41) "
        "exceeds the arm's n_randomised (40)"
    )


def test_a_text_checked_once_is_remembered_for_its_own_field_only(
    review: Any, db: Path, tmp_path: Path
) -> None:
    # "2.5" is a good SD hundreds of times over, and still not an integer n.
    rows = _rows("alice")
    at = next(i for i, r in enumerate(rows) if r[:5] == [59, "MSC", "meld", "4 weeks", "n"])
    rows[at][5] = "2.5"
    path = _write(tmp_path / "alice.csv", rows)
    assert _refused(review, db, path) == (
        f"{path}:{at + 2}: column value: study Author58 2018, arm 'MSC', meld at '4 weeks': n: "
        "'2.5' is not an integer"
    )


def test_cells_that_differ_only_in_spaces_are_one_place(
    review: Any, db: Path, tmp_path: Path
) -> None:
    rows = _rows("alice")
    rows.append([60, " MSC ", "meld ", " 24 weeks", "sd ", "3", "reported", "T2", "alice"])
    first = next(i for i, r in enumerate(rows) if r[:5] == [60, "MSC", "meld", "24 weeks", "sd"])
    path = _write(tmp_path / "alice.csv", rows)
    assert _refused(review, db, path) == (
        f"{path}:{len(rows) + 1}: study Author59 2019, arm 'MSC', meld at '24 weeks': sd is given "
        f"twice (also {path}:{first + 2})"
    )


def test_compare_and_exports_of_a_big_review(review: Any, tmp_path: Path) -> None:
    for who in ("alice", "bob"):
        with review.transaction() as s:
            summary = x.import_values(
                s, actor=who, path=_write(tmp_path / f"{who}.csv", _rows(who))
            )
        assert summary.changed == STUDIES * 20
    assert summary.consensus == STUDIES * 20 - 1  # every place but the one mean
    with review.transaction() as s:
        x.unblind(s, actor="olga")
    with review.reading() as s:
        (only,) = x.compare(s, actor="carol")
        long = x.export_table(s, actor="carol", layout="long")
        wide = x.export_table(s, actor="carol", layout="wide")
        assert audit.verify(s).ok
    assert (only.study_id, only.arm, only.time_point, only.field) == (
        7,
        "control",
        "12 weeks",
        "mean",
    )
    assert only.values == {"alice": "13.1", "bob": "99"}
    assert len(long.rows) == STUDIES * 20 - 1
    # study 1 first, in the form's order: the arms' n randomised, then MELD at 4 weeks, each arm's
    # mean, sd, n together (arms in the order first entered: MSC, then control)
    assert [(r["arm"], r["time_point"], r["field"], r["value"]) for r in long.rows[:8]] == [
        ("MSC", "", "n_randomised", "40"),
        ("control", "", "n_randomised", "40"),
        ("MSC", "4 weeks", "mean", "12"),
        ("MSC", "4 weeks", "sd", "2.5"),
        ("MSC", "4 weeks", "n", "38"),
        ("control", "4 weeks", "mean", "13"),
        ("control", "4 weeks", "sd", "2.5"),
        ("control", "4 weeks", "n", "38"),
    ]
    assert {r["study"] for r in long.rows[-20:]} == {"Author59 2019"}
    cell = next(
        r
        for r in wide.rows
        if (r["study_id"], r["arm"], r["time_point"]) == (7, "control", "12 weeks")
    )
    assert "mean" not in cell and (cell["sd"], cell["n"]) == ("2.5", "37")  # no consensus mean
    assert len(wide.rows) == STUDIES * len(ARMS) * len(TIMES)


# ---------------------------------------------------------------- progress (issue 13 on issue 11)


def test_an_import_reports_the_studies_written_chunk_by_chunk(review: Any, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = _write(tmp_path / "alice.csv", _rows("alice"))
    with review.transaction() as s:
        x.import_values(s, actor="alice", path=path, progress=lambda *a: calls.append(a))
    # 60 studies, STUDIES_PER_CHUNK (50) at a time: before the first chunk, after each
    assert x.STUDIES_PER_CHUNK == 50
    assert calls == [(0, 60), (50, 60), (60, 60)]


def test_extract_import_draws_a_bar_on_a_terminal_only(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    from reviewtool.cli import _common, app
    from reviewtool.cli import extract as extract_cli

    runner = CliRunner()
    alice = _write(tmp_path / "alice.csv", _rows("alice"))
    bob = _write(tmp_path / "bob.csv", _rows("bob"))
    said = "1200 values written in 60 studies (0 unchanged); consensus reached on"
    monkeypatch.setattr(extract_cli, "PROGRESS_BYTES", 0)  # every file is "big" here
    # Not a terminal (CliRunner): the sentence alone, nothing on stderr.
    done = runner.invoke(
        app, ["--db", f"sqlite:///{db}", "extract", "import", alice, "--as", "alice"]
    )
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and said in " ".join(done.stdout.split())
    # A terminal: the bar counts the studies written, then is gone (transient).
    screen = io.StringIO()
    monkeypatch.setattr(_common, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(
        _common, "err_console", lambda: Console(file=screen, force_terminal=True, width=100)
    )
    done = runner.invoke(app, ["--db", f"sqlite:///{db}", "extract", "import", bob, "--as", "bob"])
    assert done.exit_code == 0, done.output
    assert "consensus reached on 1199" in " ".join(done.stdout.split())
    shown = screen.getvalue()
    assert "Writing" in shown and "60/60" in shown and "studies" in shown


def _long_file(path: Path, who: str, values: dict[tuple[str, str], str]) -> str:
    """Studies 1 to 3, MELD mean at (arm, time point) -> value, in the long layout."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(x.LONG_COLUMNS)
        for study in (1, 2, 3):
            for (arm, time), value in values.items():
                out.writerow([study, arm, "meld", time, "mean", value, "reported", "T2", who])
    return str(path)


@pytest.mark.parametrize("in_sqlite", [True, False], ids=["in-sqlite", "in-python"])
def test_agreement_of_a_third_extractor_needs_every_other_value_at_the_place(
    review: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_sqlite: bool
) -> None:
    """Agreement means every other extractor with a value at the place has the same value, at
    least one has: dora's first values meet alice's alone (MSC, 4 weeks: consensus), bob's alone
    (MSC, 12 weeks: consensus), alice's and bob's that differ (control, 4 weeks: none), and
    nobody's (control, 12 weeks: none). The studies hold no consensus before dora, so the
    agreement is found inside SQLite (several other extractors: the grouped query), and the
    Python comparison must give the same rows and events."""
    from reviewtool.domain import Role
    from reviewtool.members.service import add_member

    monkeypatch.setattr(x, "AGREE_IN_SQLITE", in_sqlite)
    with review.transaction() as s:
        add_member(s, actor="olga", name="dora", roles=[Role.REVIEWER])
    files = {
        "alice": {("MSC", "4 weeks"): "10", ("control", "4 weeks"): "1"},
        "bob": {("MSC", "12 weeks"): "20", ("control", "4 weeks"): "2"},
        "dora": {
            ("MSC", "4 weeks"): "10",
            ("MSC", "12 weeks"): "20",
            ("control", "4 weeks"): "1",
            ("control", "12 weeks"): "7",
        },
    }
    summaries = {}
    for who, values in files.items():
        with review.transaction() as s:
            path = _long_file(tmp_path / f"{who}.csv", who, values)
            summaries[who] = x.import_values(s, actor=who, path=path)
    assert [summaries[w].consensus for w in files] == [0, 0, 6]
    with review.reading() as s:
        rows = s.connection().exec_driver_sql(
            "SELECT study_id, arm, time_point, value, how, m.name FROM extraction_consensus c "
            "JOIN member m ON m.id = c.member_id ORDER BY c.id"
        )
        consensus = [tuple(r) for r in rows]
        events = audit.log.list_events(s, action="extraction-consensus")
    assert consensus == [
        (study, arm, time, value, "agreement", "dora")
        for study in (1, 2, 3)
        for arm, time, value in (("MSC", "4 weeks", "10"), ("MSC", "12 weeks", "20"))
    ]
    assert [e.entity_id for e in events] == ["1", "2", "3"]
    assert sorted(events[0].payload["state"]["extraction_consensus"]) == [
        "1|MSC|meld|12 weeks|mean",
        "1|MSC|meld|4 weeks|mean",
    ]
    assert events[0].payload["state"]["extraction_consensus"]["1|MSC|meld|4 weeks|mean"] == [
        "10",
        1,
        "reported",
        "T2",
        "agreement",
        "dora",
        None,
        None,
    ]
