"""Identity is one thing (issue 10, item 5): who made a row is a member, by id (schema 0008).

* The who-columns (``review.created_by_id``, ``import_batch.imported_by_id``, ``dedup_run.run_by_id``,
  ``dedup_pair.decided_by_id``, ``fulltext_report.recorded_by_id``, ``study_link.linked_by_id``,
  ``analysis_run.run_by_id``) are foreign keys to ``member``; readers show the member's name.
* Migration 0008 maps every stored name to its member, on the committed 0005 fixtures (through
  0006 and 0007) and on a review written by today's code and taken back to 0007: each row names
  the same person afterwards, and the ledger, which names people, still verifies.
* A name that is not a member stops the upgrade with one line naming table, row, column and name,
  and nothing changes.
* ``audit verify`` still sees a who-column edited behind the tool's back.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import SchemaError
from reviewtool.review.service import open_existing
from reviewtool.storage import schema
from reviewtool.storage.engine import make_engine

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
OUTCOMES = HERE.parent / "sample_project" / "outcomes.csv"
runner = CliRunner()

# (table, key column, the who-column before 0008; from 0008 on it is "<column>_id")
WHO = (
    ("review", "id", "created_by"),
    ("import_batch", "id", "imported_by"),
    ("dedup_run", "id", "run_by"),
    ("dedup_pair", "id", "decided_by"),
    ("fulltext_report", "id", "recorded_by"),
    ("study_link", "record_id", "linked_by"),
    ("analysis_run", "id", "run_by"),
)

THIRD = """TY  - JOUR
ID  - C1
TI  - Bone marrow cell therapy outcomes in alcoholic hepatitis
AU  - Brown, C.
PY  - 2018
DO  - 10.5555/ledger.3
ER  -
"""


def _who_as_text(engine: Engine) -> dict[tuple[str, object], str | None]:
    """(table, row key) -> the name the row stores (schema before 0008)."""
    found: dict[tuple[str, object], str | None] = {}
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        for table, key, column in WHO:
            if table in tables:
                for row_key, name in conn.execute(text(f"SELECT {key}, {column} FROM {table}")):
                    found[(table, row_key)] = name
    return found


def _who_by_member(engine: Engine) -> dict[tuple[str, object], str | None]:
    """(table, row key) -> the name of the member the row names (schema 0008 on)."""
    found: dict[tuple[str, object], str | None] = {}
    with engine.connect() as conn:
        for table, key, column in WHO:
            rows = conn.execute(
                text(
                    f"SELECT t.{key}, m.name FROM {table} t "
                    f"LEFT JOIN member m ON m.id = t.{column}_id"
                )
            )
            for row_key, name in rows:
                found[(table, row_key)] = name
    return found


def build_varied(url: str, work: Path) -> None:
    """The coverage test's review (``tests/ledger_builder.py``: rows in every table), then bob
    imports a batch, runs deduplication, rejects a pair, takes reference 5 out of alice's study
    and links it back, and runs an analysis, so the who-columns name different people."""
    from reviewtool.analysis.service import run_analysis
    from reviewtool.dedup.service import decide_pair, run_dedup
    from reviewtool.importing.service import import_files
    from reviewtool.storage import open_review
    from reviewtool.studies.service import link, unlink
    from tests.ledger_builder import build_populated

    build_populated(url, work, OUTCOMES, after_0007=False)
    third = work / "third.ris"
    third.write_text(THIRD, encoding="utf-8")
    review = open_review(url)
    with review.transaction() as s:
        import_files(s, actor="bob", paths=[third], source="CENTRAL")
    with review.transaction() as s:
        run_dedup(s, actor="bob")
    with review.transaction() as s:
        decide_pair(s, actor="bob", decision="reject", records=(4, 5), note="two cohorts")
    with review.transaction() as s:
        unlink(s, actor="bob", report=5)
    with review.transaction() as s:
        link(s, actor="bob", report=5, study=1)
    with review.transaction() as s:
        run_analysis(s, actor="bob", data_path=OUTCOMES, name="second")
    review.close()


def _verify(url: str) -> audit.VerifyReport:
    review = open_existing(url)
    try:
        with review.reading() as session:
            return audit.verify(session)
    finally:
        review.close()


@pytest.mark.parametrize("fixture", ["review_v0005.db", "review_v0005_rescreened.db"])
def test_a_0005_fixture_upgrades_and_every_row_names_the_same_person(
    tmp_path: Path, fixture: str
) -> None:
    copy = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    before = _who_as_text(engine)
    engine.dispose()
    # The fixture as reviewtool 0005 wrote it: alice created the review, imported both files,
    # ran deduplication and recorded both full texts; one pair, nobody decided it.
    assert before == {
        ("review", 1): "alice",
        ("import_batch", 1): "alice",
        ("import_batch", 2): "alice",
        ("dedup_run", 1): "alice",
        ("dedup_pair", 1): None,
        ("fulltext_report", 1): "alice",
        ("fulltext_report", 2): "alice",
    }
    report = _verify(url)  # opening upgrades 0005 -> 0008
    assert report.ok, report.problems
    engine = make_engine(url)
    assert schema.current_revision(engine) == schema.HEAD
    assert _who_by_member(engine) == before
    engine.dispose()


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("varied")
    path = work / "review.db"
    build_varied(f"sqlite:///{path}", work)
    return path


def _at_0007(varied: Path, tmp_path: Path) -> str:
    """A copy of the varied review taken back to schema 0007 (names as text again)."""
    copy = tmp_path / "review.db"
    shutil.copyfile(varied, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    schema.downgrade(engine, "0007")
    engine.dispose()
    return url


# Who made each row of the varied review, by name (what every listing showed before 0008).
VARIED_WHO = {
    ("review", 1): "alice",
    ("import_batch", 1): "alice",
    ("import_batch", 2): "alice",
    ("import_batch", 3): "bob",
    ("dedup_run", 1): "alice",
    ("dedup_run", 2): "bob",
    ("fulltext_report", 1): "alice",
    ("fulltext_report", 2): "alice",
    ("fulltext_report", 3): "bob",
    # a reference bob included at title/abstract is sought from then on (schema 0009)
    ("fulltext_report", 4): "bob",
    ("analysis_run", 1): "alice",
    ("analysis_run", 2): "bob",
}


def test_a_0007_review_upgrades_in_place_naming_each_member_as_before(
    varied: Path, tmp_path: Path
) -> None:
    url = _at_0007(varied, tmp_path)
    engine = make_engine(url)
    before = _who_as_text(engine)
    engine.dispose()
    assert {k: v for k, v in before.items() if k[0] not in ("dedup_pair", "study_link")} == (
        VARIED_WHO
    )
    # bob rejected the pair of records 4 and 5 (flagged by bob: the pair nobody decided before),
    # and linked reference 5 into study 1 again after taking it out of it.
    decided = {k: v for k, v in before.items() if k[0] == "dedup_pair" and v is not None}
    assert set(decided.values()) == {"bob"} and len(decided) >= 1
    assert [v for k, v in before.items() if k[0] == "study_link"] == ["bob"]
    report = _verify(url)
    assert report.ok, report.problems
    engine = make_engine(url)
    assert schema.current_revision(engine) == schema.HEAD
    assert _who_by_member(engine) == before
    engine.dispose()


def test_a_name_that_is_no_member_stops_the_upgrade_and_changes_nothing(
    varied: Path, tmp_path: Path
) -> None:
    url = _at_0007(varied, tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE import_batch SET imported_by = 'mallory' WHERE id = 3")
    conn.execute("UPDATE analysis_run SET run_by = 'Bob' WHERE id = 2")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError) as refused:
        open_existing(url)
    assert str(refused.value).startswith(
        "cannot upgrade to schema 0008 (who made each row becomes a member): "
        "import_batch row 3: imported_by 'mallory'; analysis_run row 2: run_by 'Bob': "
        "not a member of this review, so written outside reviewtool. Nothing was changed."
    )
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0007",)
    assert conn.execute("SELECT imported_by FROM import_batch WHERE id = 3").fetchone() == (
        "mallory",
    )
    assert conn.execute("SELECT count(*) FROM member").fetchone() == (3,)  # nobody invented
    conn.close()


def test_the_refusal_is_one_line_with_the_schema_exit_code(varied: Path, tmp_path: Path) -> None:
    url = _at_0007(varied, tmp_path)
    path = Path(url.removeprefix("sqlite:///"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE dedup_run SET run_by = 'dave' WHERE id = 2")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["status", "--db", str(path), "--as", "alice"])
    assert result.exit_code == 7
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "dedup_run row 2: run_by 'dave'" in result.stderr


def test_verify_sees_an_import_batch_given_to_another_member(varied: Path, tmp_path: Path) -> None:
    copy = tmp_path / "review.db"
    shutil.copyfile(varied, copy)
    url = f"sqlite:///{copy}"
    assert _verify(url).ok
    conn = sqlite3.connect(copy)
    conn.execute(
        "UPDATE import_batch SET imported_by_id = (SELECT id FROM member WHERE name = 'carol') "
        "WHERE id = 3"
    )
    conn.commit()
    conn.close()
    problems = _verify(url).problems
    assert len(problems) == 1
    assert problems[0].startswith(
        "import_batch 3: the table says 'carol' made the last change, but event #"
    )
    assert problems[0].endswith(" was written by 'bob'")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE review SET created_by_id = (SELECT id FROM member WHERE name = 'bob')",
            "review 1: the table says 'bob' made the last change",
        ),
        (
            "UPDATE analysis_run SET run_by_id = (SELECT id FROM member WHERE name = 'alice') "
            "WHERE id = 2",
            "analysis_run 2: the table says 'alice' made the last change",
        ),
        (
            "UPDATE fulltext_report SET recorded_by_id = 99 WHERE id = 3",
            "fulltext_report 3: the table says '#99' made the last change",
        ),
        (
            "UPDATE dedup_pair SET decided_by_id = (SELECT id FROM member WHERE name = 'carol') "
            "WHERE decided_by_id IS NOT NULL",
            "dedup_pair ",
        ),
        (
            "UPDATE study_link SET linked_by_id = (SELECT id FROM member WHERE name = 'alice')",
            "study_link 5: the table says 'alice' made the last change",
        ),
    ],
)
def test_verify_sees_any_who_column_changed(
    varied: Path, tmp_path: Path, statement: str, expected: str
) -> None:
    copy = tmp_path / "review.db"
    shutil.copyfile(varied, copy)
    conn = sqlite3.connect(copy)  # foreign keys off: an id that names nobody can be written too
    conn.execute(statement)
    conn.commit()
    conn.close()
    problems = _verify(f"sqlite:///{copy}").problems
    assert problems and all(p.startswith(expected) for p in problems), problems


def test_listings_show_the_members_name(varied: Path) -> None:
    result = runner.invoke(
        app, ["analyze", "runs", "--db", str(varied), "--as", "alice", "--format", "csv"]
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "id,name,run_by,run_at,input_source,input_sha256"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["1", "main", "alice"],
        ["2", "second", "bob"],
    ]
