"""Schema: created by migrations, models agree with them, older upgraded, newer refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from reviewtool import audit
from reviewtool.domain import Role
from reviewtool.errors import AlreadyExists, NotFound, SchemaError, SchemaTooNew
from reviewtool.members.service import add_member
from reviewtool.review.service import init_review, open_existing
from reviewtool.storage import schema
from reviewtool.storage.engine import make_engine
from reviewtool.storage.models import metadata


def test_revisions_constant_matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(schema.migrations_dir()))
    ordered = [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
    assert tuple(ordered) == schema.REVISIONS
    assert scripts.get_current_head() == schema.HEAD


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    schema.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    engine.dispose()
    assert diff == []


def test_init_creates_head_schema(review_url: str) -> None:
    review = init_review(review_url, title="T", owner="alice")
    assert schema.current_revision(review.engine) == schema.HEAD
    with review.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA page_size")).scalar() == 16384
    review.close()


def test_a_review_made_with_4_kb_pages_keeps_them_and_works(tmp_path: Path) -> None:
    """A review file made before the 16 kB page size (SQLite's default 4,096 bytes, WAL) keeps
    its page size: the pragma on every connection changes only a new file. It opens, takes
    writes and verifies."""
    import sqlite3

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    init_review(url, title="T", owner="alice").close()
    with sqlite3.connect(path, isolation_level=None) as raw:  # as an earlier version made it
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("PRAGMA page_size=4096")
        raw.execute("VACUUM")
        raw.execute("PRAGMA journal_mode=WAL")
    review = open_existing(url)
    with review.transaction() as s:
        add_member(s, actor="alice", name="bob", roles=[Role.REVIEWER])
    with review.engine.connect() as conn:
        assert conn.execute(text("PRAGMA page_size")).scalar() == 4096
    with review.reading() as s:
        assert audit.verify(s).ok
    review.close()


def test_init_refuses_an_existing_review(review_url: str) -> None:
    init_review(review_url, title="T", owner="alice").close()
    with pytest.raises(AlreadyExists):
        init_review(review_url, title="T2", owner="alice")


def test_failed_init_leaves_no_file(tmp_path: Path) -> None:
    from reviewtool.errors import InvalidInput

    path = tmp_path / "r.db"
    with pytest.raises(InvalidInput):
        init_review(
            f"sqlite:///{path}", title="T", owner="alice", settings={"screening.blind": "maybe"}
        )
    assert not path.exists()


def test_opening_a_missing_file_or_a_foreign_database(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no review at"):
        open_existing(f"sqlite:///{tmp_path / 'nothing.db'}")
    foreign = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(SchemaError, match="is not a reviewtool review"):
        open_existing(f"sqlite:///{foreign}")


def test_older_database_is_backed_up_upgraded_and_audited(review_url: str, tmp_path: Path) -> None:
    review = init_review(review_url, title="T", owner="alice")
    schema.downgrade(review.engine, schema.REVISIONS[0])
    assert schema.current_revision(review.engine) == schema.REVISIONS[0]
    review.close()

    reopened = open_existing(review_url)
    assert schema.current_revision(reopened.engine) == schema.HEAD
    assert reopened.backup_path is not None and reopened.backup_path.exists()
    with reopened.reading() as session:
        (event,) = audit.list_events(session, action="schema-upgraded")
        assert event.payload["from_revision"] == schema.REVISIONS[0]
        assert event.payload["to_revision"] == schema.HEAD
        assert audit.verify(session).ok
    reopened.close()
    # The backup is the database as it was before the upgrade.
    backup = make_engine(f"sqlite:///{event.payload['backup']}")
    assert schema.current_revision(backup) == schema.REVISIONS[0]
    backup.dispose()


def test_newer_database_is_refused(review_url: str) -> None:
    review = init_review(review_url, title="T", owner="alice")
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    review.close()
    with pytest.raises(SchemaTooNew, match="revision 0099, newer than this reviewtool knows"):
        open_existing(review_url)


def test_migrations_dir_is_found_and_packaged() -> None:
    found = schema.migrations_dir()
    assert (found / "env.py").is_file()
    assert (found / "versions").is_dir()
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    # A non-editable install must carry the scripts inside the package, where migrations_dir looks.
    assert '"migrations" = "reviewtool/_migrations"' in pyproject


def test_a_0004_review_with_a_resolution_upgrades_to_head_and_still_verifies(
    review_url: str, tmp_path: Path
) -> None:
    """A resolution recorded before 0005 keeps its ledger snapshot (no ``contested`` key): the
    review upgrades, verifies, and the resolution can still be contested afterwards."""
    from sqlmodel import select

    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.screening.service import list_conflicts, record_decision, resolve_conflict
    from reviewtool.storage.models import ScreeningResolution

    ris = tmp_path / "one.ris"
    ris.write_text("TY  - JOUR\nID  - A\nTI  - One trial\nPY  - 2020\nER  -\n")
    review = init_review(review_url, title="T", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
        import_files(session, actor="alice", paths=[ris], source="X")
    with review.transaction() as session:
        record_decision(session, actor="alice", record_id=1, stage="tiab", decision="include")
        record_decision(session, actor="bob", record_id=1, stage="tiab", decision="exclude")
    with review.transaction() as session:
        resolve_conflict(session, actor="carol", record_id=1, stage="tiab", decision="include")
    schema.downgrade(review.engine, "0004")
    with review.engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(screening_resolution)"))]
    assert "contested_at" not in columns
    review.close()

    reopened = open_existing(review_url)
    assert schema.current_revision(reopened.engine) == schema.HEAD
    with reopened.reading() as session:
        (row,) = session.exec(select(ScreeningResolution)).all()
        assert (row.decision, row.contested_at, row.reopened_at) == ("include", None, None)
        assert audit.verify(session).ok
    with reopened.transaction() as session:  # now alice agrees with bob, against carol
        record_decision(session, actor="alice", record_id=1, stage="tiab", decision="exclude")
    with reopened.reading() as session:
        (view,) = list_conflicts(session, actor="carol", stage="tiab")
        assert view.state == "contested"
        assert audit.verify(session).ok
    reopened.close()
