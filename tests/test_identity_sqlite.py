"""Identity on SQLite (issue 14, section 1): database logins are a PostgreSQL matter.

On SQLite the file's permissions are the boundary and the person is the OS login unless ``--as``
is given (docs/identity.md): mapping a member to a database login is refused in one line, and
nothing is written (``member add --db-role`` adds no member either).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()

REFUSAL = (
    "reviewtool: error: database logins are for a review on PostgreSQL; on SQLite the file's "
    "permissions are the boundary and the person is the OS login unless --as is given "
    "(docs/identity.md)"
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "review.db")
    made = runner.invoke(app, ["init", "--title", "MSC review", "--db", path, "--as", "alice"])
    assert made.exit_code == 0, made.output
    return path


def _events(db: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM audit_event").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    "args",
    [
        ["member", "add", "bob", "--role", "reviewer", "--db-role", "bob"],
        ["member", "map", "alice", "--db-role", "alice"],
        ["member", "db-setup"],
    ],
)
def test_database_logins_are_refused_on_sqlite(db: str, args: list[str]) -> None:
    before = _events(db)
    refused = runner.invoke(app, [*args, "--db", db, "--as", "alice"])
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [REFUSAL]
    assert _events(db) == before
    listed = runner.invoke(app, ["member", "list", "--db", db, "--as", "alice", "-f", "json"])
    assert json.loads(listed.stdout) == [
        {
            "name": "alice",
            "roles": ["owner"],
            "active": True,
            "added_at": json.loads(listed.stdout)[0]["added_at"],
            "db_role": None,
        }
    ]


def test_on_sqlite_as_names_the_person_and_the_os_login_is_the_default(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OS login (USER) is the person when neither --as nor REVIEWTOOL_USER is given.
    monkeypatch.setenv("USER", "alice")
    assert (
        runner.invoke(app, ["member", "add", "bob", "--role", "reviewer", "--db", db]).exit_code
        == 0
    )
    monkeypatch.setenv("USER", "bob")
    refused = runner.invoke(app, ["member", "add", "eve", "--role", "reviewer", "--db", db])
    assert refused.exit_code == 5
    # ... and --as is trusted: SQLite has no login to check it against.
    made = runner.invoke(
        app, ["member", "add", "eve", "--role", "reviewer", "--db", db, "--as", "alice"]
    )
    assert made.exit_code == 0, made.output
