"""Team mode on PostgreSQL (issue 14), two gaps closed on a real throw-away server.

1. A reviewer's login cannot read a resolution at a blind stage (row-level security), so the
   tool, run as that login, could not reopen or contest it when the reviewer changed or took back
   their vote. The server does it: ``reviewtool_revisit_resolution`` (SECURITY DEFINER, installed
   by ``member db-setup``) applies the rule of ``screening.service._answer_changed_vote`` and
   records a ``screening-resolution-revisited`` event chained as ``audit.log.record`` chains, an
   event hidden from the reviewer as the resolution is.
2. ``audit replay --to postgresql://...`` of a review whose members have logins is refused up
   front when the login running it is mapped to no owner (nothing written), or maps the owner
   named by ``--map-owner`` with an audited event.

The cluster is ``benchmarks/_pgcluster.py``'s (trust authentication on a unix socket, so each
login connects by name); skipped with the reason when no server binaries or driver are here.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

psycopg = pytest.importorskip(
    "psycopg", reason="the PostgreSQL driver is not installed (pip install '.[postgres]')"
)

_spec = importlib.util.spec_from_file_location(
    "_pgcluster", Path(__file__).resolve().parents[1] / "benchmarks" / "_pgcluster.py"
)
assert _spec is not None and _spec.loader is not None
_pgcluster = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pgcluster)

runner = CliRunner()

RIS = "".join(
    f"TY  - JOUR\nID  - S{i}\nTI  - Stem cell trial {i} in cirrhosis cohort {i * 11}\n"
    f"AU  - Author{i}, A.\nPY  - {2010 + i}\nAB  - Abstract {i}: patients randomised.\nER  -\n\n"
    for i in range(1, 5)
)


def _as_login(url: str, login: str) -> str:
    """``url`` connecting as the PostgreSQL role ``login`` (trust authentication)."""
    return url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{login}@", 1)


def _dsn(url: str, login: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = dict(parsed.query)
    return f"dbname={parsed.database} user={login} host={query['host']} port={query['port']}"


def cli(url: str, login: str, *args: str) -> Any:
    """Run ``reviewtool ARGS --db URL-as-login``."""
    return runner.invoke(app, [*args, "--db", _as_login(url, login)])


def ok(url: str, login: str, *args: str) -> Any:
    done = cli(url, login, *args)
    assert done.exit_code == 0, (login, args, done.output)
    return done


def _rows(url: str, login: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(url, login)) as conn:
        return list(conn.execute(sql).fetchall())


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    reason = _pgcluster.unavailable()
    if reason is not None:
        pytest.skip(reason)
    with _pgcluster.pg_cluster() as base:
        yield base


# --- 2. replaying a team-mode review into PostgreSQL ---------------------------------------------


@pytest.fixture
def mapped_source(tmp_path: Path) -> Path:
    """An SQLite review whose reviewer bob has a database login and whose owner alice has none
    (as after replaying a team review into SQLite, or building one's rows with ``put_login``)."""
    from sqlmodel import select

    from reviewtool.members.identity import put_login
    from reviewtool.review.service import open_existing
    from reviewtool.storage.models import Member

    db = tmp_path / "team.db"
    ris = tmp_path / "search.ris"
    ris.write_text(RIS, encoding="utf-8")
    for args in (
        ("init", "--title", "MSC review"),
        ("import", str(ris), "--source", "MEDLINE"),
        ("member", "add", "bob", "--role", "reviewer"),
        ("member", "add", "carol", "--role", "reviewer"),
    ):
        done = runner.invoke(app, [*args, "--db", str(db), "--as", "alice"])
        assert done.exit_code == 0, (args, done.output)
    review = open_existing(f"sqlite:///{db}")
    try:
        with review.transaction() as s:
            bob = s.exec(select(Member).where(Member.name == "bob")).one()
            put_login(s, "alice", bob, "bob")
    finally:
        review.close()
    return db


def _tables(url: str) -> list[str]:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_replay_no_one_could_own_is_refused_up_front(server: str, mapped_source: Path) -> None:
    url = _pgcluster.new_database(server, "replay_refused")
    refused = runner.invoke(
        app, ["audit", "replay", "--to", url, "--db", str(mapped_source), "--as", "alice"]
    )
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: the review's members have database logins, so on PostgreSQL it is "
        "in team mode, and the login 'postgres' running this replay is mapped to no member: no "
        "one could act as an owner of the rebuilt review; map it first (`reviewtool member map "
        "alice --db-role postgres`) or give `--map-owner alice`; nothing was written"
    ]
    assert _tables(url) == []
    # The login of a member who is no owner is refused too, naming the member.
    with psycopg.connect(_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE ROLE bob LOGIN CREATEDB")
        conn.execute("ALTER DATABASE replay_refused OWNER TO bob")
    as_bob = runner.invoke(
        app,
        [
            "audit",
            "replay",
            "--to",
            _as_login(url, "bob"),
            "--db",
            str(mapped_source),
            "--as",
            "alice",
        ],
    )
    assert as_bob.exit_code == 2, as_bob.output
    assert "the login 'bob' running this replay is mapped to 'bob', who is no owner" in (
        as_bob.stderr
    )
    assert _tables(url) == []


def test_map_owner_maps_the_owner_to_the_replaying_login_with_an_event(
    server: str, mapped_source: Path
) -> None:
    url = _pgcluster.new_database(server, "replay_mapped")
    wrong = runner.invoke(
        app,
        ["audit", "replay", "--to", url, "--db", str(mapped_source), "--as", "alice",
         "--map-owner", "bob"],
    )  # fmt: skip
    assert wrong.exit_code == 2
    assert wrong.stderr.strip().splitlines() == [
        "reviewtool: error: --map-owner: 'bob' is not an active owner of the review"
    ]
    assert _tables(url) == []
    done = runner.invoke(
        app,
        ["audit", "replay", "--to", url, "--db", str(mapped_source), "--as", "alice",
         "--map-owner", "alice"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Mapped alice to the database login postgres (event #" in done.stdout
    # The source's events, unchanged, then the mapping, by alice.
    source_log = json.loads(
        runner.invoke(
            app, ["audit", "log", "-f", "json", "--db", str(mapped_source), "--as", "alice"]
        ).stdout
    )
    rebuilt_log = json.loads(ok(url, "postgres", "audit", "log", "-f", "json").stdout)
    assert rebuilt_log[: len(source_log)] == source_log
    assert [
        (e["actor"], e["action"], e["payload"]["after"]) for e in rebuilt_log[len(source_log) :]
    ] == [("alice", "member-login-mapped", {"member": "alice", "db_role": "postgres"})]
    assert ok(url, "postgres", "audit", "verify").exit_code == 0
    # The owner acts on the server as herself (no --as: the login is the person), and sets it up.
    ok(url, "postgres", "member", "db-setup")
    ok(url, "bob", "screen", "decide", "1", "include")
    assert _rows(url, "postgres", "SELECT db_role FROM member_login ORDER BY member_id") == [
        ("postgres",),
        ("bob",),
    ]
