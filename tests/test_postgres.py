"""The same library on PostgreSQL: schema, roles, ledger, tampering, concurrent writers.

A throw-away PostgreSQL cluster is started for this module when the server binaries are on the machine
(Debian's postgresql package), or ``REVIEWTOOL_TEST_PG_URL`` names a server database to use; otherwise
the module is skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from reviewtool import audit
from reviewtool.domain import Role
from reviewtool.errors import PermissionDenied
from reviewtool.members.service import add_member, list_members
from reviewtool.review.service import init_review, open_existing, set_setting
from reviewtool.storage import schema
from reviewtool.storage.models import metadata
from tests.pg_team import pgcluster as _pgcluster

# initdb and pg_ctl from Debian's postgresql package or /usr/local/bin: one finder for the tests
# and the benchmarks (benchmarks/_pgcluster.py).
_pg_tools = _pgcluster._pg_tools


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; run the server as the postgres system user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    """A base URL (without database name) of a running PostgreSQL server."""
    pytest.importorskip(
        "psycopg", reason="the PostgreSQL driver is not installed (pip install '.[postgres]')"
    )
    given = os.environ.get("REVIEWTOOL_TEST_PG_URL")
    if given:
        yield given
        return
    tools = _pg_tools()
    if tools is None:
        pytest.skip(
            "no PostgreSQL server binaries (apt-get install postgresql) and no REVIEWTOOL_TEST_PG_URL"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start a PostgreSQL cluster")
    initdb, pg_ctl = tools
    workdir = Path(tempfile.mkdtemp(prefix="reviewtool-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = workdir / "data"
    subprocess.run(
        _as_postgres([str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-k {workdir} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_postgres(
            [str(pg_ctl), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/?host={workdir}&port={port}"
    finally:
        subprocess.run(
            _as_postgres([str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)


_counter = itertools.count()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the server."""
    name = f"review_{os.getpid()}_{next(_counter)}"
    admin = create_engine(pg_server.replace("/?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_server.replace("/?", f"/{name}?")


def test_review_on_postgres(pg_url: str) -> None:
    review = init_review(
        pg_url, title="MSC review", owner="alice", settings={"analysis.model": "random"}
    )
    assert schema.current_revision(review.engine) == schema.HEAD
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
    with pytest.raises(PermissionDenied), review.transaction() as session:
        set_setting(session, actor="bob", key="screening.blind", value="false")
    review.close()

    reopened = open_existing(pg_url)
    with reopened.reading() as session:
        assert [m.name for m in list_members(session)] == ["alice", "bob"]
        assert [e.action for e in audit.list_events(session)][-1] == "access-refused"
        assert audit.verify(session).ok
    with reopened.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2"))
    with reopened.reading() as session:
        assert audit.verify(session).first_bad_seq == 2
    reopened.close()


def test_models_and_migrations_agree_on_postgres(pg_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    review = init_review(pg_url, title="T", owner="alice")
    with review.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    review.close()
    assert diff == []


def test_concurrent_writers_on_postgres(pg_url: str) -> None:
    review = init_review(pg_url, title="T", owner="alice")
    errors: list[str] = []

    def writer(prefix: str) -> None:
        try:
            for i in range(40):
                with review.transaction() as session:
                    add_member(session, actor="alice", name=f"{prefix}{i}", roles=[Role.REVIEWER])
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer, args=(p,)) for p in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with review.reading() as session:
        report = audit.verify(session)
    review.close()
    assert report.ok, report.problems
    assert report.events == 2 + 80


def test_backup_and_restore_on_postgres(pg_server: str, pg_url: str, tmp_path: Path) -> None:
    """`reviewtool backup` takes a pg_dump archive; `restore` puts it into an empty database,
    identical row for row and verifying (issue 14, item 6)."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("the PostgreSQL client programs (pg_dump, pg_restore) are not installed")
    from typer.testing import CliRunner

    from reviewtool.cli import app

    review = init_review(pg_url, title="MSC review", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        set_setting(session, actor="alice", key="screening.reviewers_required", value="1")
    review.close()
    runner = CliRunner()
    archive = tmp_path / "review.dump"
    made = runner.invoke(app, ["backup", str(archive), "--db", pg_url, "--as", "alice"])
    assert made.exit_code == 0, made.output
    assert archive.read_bytes()[:5] == b"PGDMP"
    name = pg_url.split("@/", 1)[1].split("?", 1)[0] + "_restored"
    target = pg_server.replace("/?", f"/{name}?")
    admin = create_engine(pg_server.replace("/?", "/postgres?"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    back = runner.invoke(app, ["restore", str(archive), "--db", target, "--as", "alice"])
    assert back.exit_code == 0, back.output
    again = runner.invoke(app, ["restore", str(archive), "--db", target, "--as", "alice"])
    assert again.exit_code == 2 and "already holds tables" in again.stderr

    def rows(url: str) -> dict[str, list[object]]:
        engine = create_engine(url)
        with engine.connect() as conn:
            out = {
                name: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in metadata.tables
            }
        engine.dispose()
        return out

    original = rows(pg_url)
    assert original["audit_event"] and original["member"]
    assert rows(target) == original


def test_a_write_that_loses_a_race_is_one_line_on_postgres(pg_url: str) -> None:
    """Issue 14, item 5: two people writing the same unique row at once. The loser's insert waits
    on the winner's uncommitted row, then fails with a unique violation: that is a
    ConcurrentChange saying what happened, not an IntegrityError traceback."""
    import threading
    import time

    from reviewtool.errors import ConcurrentChange

    review = init_review(pg_url, title="MSC review", owner="alice")
    winner = create_engine(pg_url)
    outcome: dict[str, BaseException] = {}

    def loser() -> None:
        try:
            with review.transaction() as session:
                add_member(session, actor="alice", name="zed", roles=[Role.REVIEWER])
        except BaseException as error:
            outcome["error"] = error

    with winner.connect() as conn:
        tx = conn.begin()
        conn.execute(
            text(
                "INSERT INTO member (name, active, added_at) "
                "VALUES ('zed', true, '2026-11-29T00:00:00.000000Z')"
            )
        )
        thread = threading.Thread(target=loser)
        thread.start()
        with winner.connect() as watch:  # wait until the loser is blocked on the winner's row
            for _ in range(200):
                waiting = watch.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting, "the second writer never waited on the first"
        tx.commit()
        thread.join(timeout=30)
    winner.dispose()
    error = outcome.get("error")
    assert isinstance(error, ConcurrentChange), repr(error)
    assert str(error).startswith("a member of that name was just added by someone else in ")
    assert error.exit_code == 4
    with review.reading() as session:
        assert [m.name for m in list_members(session)] == ["alice", "zed"]
        # zed came in behind the tool's back (the winner wrote SQL): verify names that row
        assert any("member" in p for p in audit.verify(session).problems)
    review.close()


def test_who_columns_migrate_to_members_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """Migration 0008's data path on PostgreSQL: a review written by today's code, taken back to
    0007 (names as text), upgrades in place naming the same member in every row, and verifies; a
    name that is no member stops the upgrade and leaves the database at 0007."""
    from reviewtool.errors import SchemaError
    from reviewtool.storage.engine import make_engine
    from tests.test_who_members import VARIED_WHO, _who_as_text, _who_by_member, build_varied

    build_varied(pg_url, tmp_path)
    engine = make_engine(pg_url)
    schema.downgrade(engine, "0007")
    before = _who_as_text(engine)
    assert {k: v for k, v in before.items() if k[0] not in ("dedup_pair", "study_link")} == (
        VARIED_WHO
    )
    with engine.begin() as conn:  # a name written outside reviewtool
        conn.execute(text("UPDATE import_batch SET imported_by = 'mallory' WHERE id = 3"))
    with pytest.raises(SchemaError, match=r"import_batch row 3: imported_by 'mallory': not a"):
        open_existing(pg_url)
    assert schema.current_revision(engine) == "0007"
    with engine.begin() as conn:
        conn.execute(text("UPDATE import_batch SET imported_by = 'bob' WHERE id = 3"))
    engine.dispose()

    review = open_existing(pg_url)
    assert schema.current_revision(review.engine) == schema.HEAD
    assert _who_by_member(review.engine) == before
    with review.reading() as session:
        report = audit.verify(session)
        assert report.ok, report.problems
    with review.engine.begin() as conn:  # and an edit of a who-column is still seen
        conn.execute(
            text(
                "UPDATE import_batch SET imported_by_id = "
                "(SELECT id FROM member WHERE name = 'carol') WHERE id = 3"
            )
        )
    with review.reading() as session:
        problems = audit.verify(session).problems
    review.close()
    assert len(problems) == 1 and problems[0].startswith(
        "import_batch 3: the table says 'carol' made the last change"
    )
