"""Team mode on PostgreSQL (issue 14), two gaps closed on a real throw-away server.

1. A reviewer's login cannot read a resolution at a blind stage (row-level security), so the
   tool, run as that login, could not reopen or contest it when the reviewer changed or took back
   their vote. The server does it: ``reviewtool_revisit_resolution`` (SECURITY DEFINER, installed
   by ``member db-setup``) applies the rule of ``screening.votes._answer_changed_vote`` and
   records a ``screening-resolution-revisited`` event chained as ``audit.log.record`` chains, an
   event hidden from the reviewer as the resolution is.
2. ``audit replay --to postgresql://...`` of a review whose members have logins is refused up
   front when the login running it is mapped to no owner (nothing written), or maps the owner
   named by ``--map-owner`` with an audited event.

The cluster is ``benchmarks/_pgcluster.py``'s (trust authentication on a unix socket, so each
login connects by name); skipped with the reason when no server binaries or driver are here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.pg_team import as_login as _as_login
from tests.pg_team import dsn as _dsn
from tests.pg_team import pgcluster as _pgcluster

psycopg = pytest.importorskip(
    "psycopg", reason="the PostgreSQL driver is not installed (pip install '.[postgres]')"
)


runner = CliRunner()

RIS = "".join(
    f"TY  - JOUR\nID  - S{i}\nTI  - Stem cell trial {i} in cirrhosis cohort {i * 11}\n"
    f"AU  - Author{i}, A.\nPY  - {2010 + i}\nAB  - Abstract {i}: patients randomised.\nER  -\n\n"
    for i in range(1, 5)
)


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


# --- 1. a changed vote revisits a resolution the voter's login cannot read -----------------------

REASON = "wrong population"

# (login, args): the story, each step by the login named (on SQLite: --as that member).
SETUP: list[tuple[str, tuple[str, ...]]] = [
    ("bob", ("screen", "decide", "1", "include")),
    ("bob", ("screen", "decide", "2", "include")),
    ("carol", ("screen", "decide", "1", "exclude", "--reason", REASON)),
    ("carol", ("screen", "decide", "2", "exclude", "--reason", REASON)),
    ("carol", ("screen", "decide", "3", "exclude", "--reason", REASON)),
    ("carol", ("screen", "decide", "4", "include")),
    ("bob", ("screen", "decide", "4", "include")),
    ("bob", ("screen", "decide", "3", "include", "--note", 'a "quoted" note\\ with ü')),
]
RESOLUTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("dave", ("screen", "resolve", "1", "include", "--note", "RCT")),
    ("dave", ("screen", "resolve", "2", "exclude", "--reason", REASON)),
    ("dave", ("screen", "resolve", "3", "include", "--note", "line one\nline two")),
]
CHANGES: list[tuple[str, tuple[str, ...]]] = [
    ("bob", ("screen", "undo")),  # takes back his vote on 3: reopened
    ("bob", ("screen", "decide", "1", "exclude", "--reason", REASON)),  # agree against: contested
    ("bob", ("screen", "decide", "2", "maybe")),  # a conflict again: reopened
    ("bob", ("screen", "undo")),  # gives back include on 2: the resolution stands again
    ("bob", ("screen", "decide", "4", "exclude", "--reason", REASON)),  # no resolution: nothing
]

RESOLUTION_ROWS = (
    "SELECT r.record_id, r.stage, m.name, r.decision, r.reason, r.note, "
    "r.reopened_at IS NOT NULL, r.reopened_because, r.contested_at IS NOT NULL, "
    "r.contested_because FROM screening_resolution r JOIN member m ON m.id = r.member_id "
    "ORDER BY r.id"
)


def _team_review(url: str, ris: Path, steps: list[tuple[str, tuple[str, ...]]]) -> None:
    """The team review (alice owns it as ``postgres``; bob, carol reviewers; dave adjudicates;
    title/abstract blind) with ``steps`` run by each member's own login."""
    for login, args in [
        ("postgres", ("init", "--title", "MSC review", "--as", "alice")),
        ("postgres", ("import", str(ris), "--source", "MEDLINE", "--as", "alice")),
        ("postgres", ("member", "add", "bob", "--role", "reviewer", "--db-role", "bob",
                      "--as", "alice")),
        ("postgres", ("member", "add", "carol", "--role", "reviewer", "--db-role", "carol")),
        ("postgres", ("member", "add", "dave", "--role", "adjudicator", "--db-role", "dave")),
        ("postgres", ("member", "db-setup")),
        *steps,
    ]:  # fmt: skip
        ok(url, login, *args)


def _sqlite_review(path: Path, ris: Path, steps: list[tuple[str, tuple[str, ...]]]) -> None:
    """The same story on SQLite, where the tool reads every resolution (--as names the person)."""
    people = {"postgres": "alice"}
    for login, args in [
        ("postgres", ("init", "--title", "MSC review")),
        ("postgres", ("import", str(ris), "--source", "MEDLINE")),
        ("postgres", ("member", "add", "bob", "--role", "reviewer")),
        ("postgres", ("member", "add", "carol", "--role", "reviewer")),
        ("postgres", ("member", "add", "dave", "--role", "adjudicator")),
        *steps,
    ]:
        done = runner.invoke(app, [*args, "--db", str(path), "--as", people.get(login, login)])
        assert done.exit_code == 0, (login, args, done.output)


@pytest.fixture(scope="module")
def ris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ris") / "search.ris"
    path.write_text(RIS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def revisited(server: str, ris: Path) -> str:
    """The team review after the story: resolutions, then bob's changes from his own login."""
    url = _pgcluster.new_database(server, "revisited")
    _team_review(url, ris, SETUP + RESOLUTIONS + CHANGES)
    return url


@pytest.fixture(scope="module")
def unresolved(server: str, ris: Path) -> str:
    """Its twin: the same votes and changes, but dave resolved nothing (his work bob may not
    see is all that differs)."""
    url = _pgcluster.new_database(server, "unresolved")
    _team_review(url, ris, SETUP + CHANGES)
    return url


def test_the_server_revisits_resolutions_as_the_tool_does_on_sqlite(
    revisited: str, ris: Path, tmp_path: Path
) -> None:
    """The resolutions bob's login could not read end as the tool leaves them where it reads
    them (SQLite, same story): 1 contested, 2 in force again after the undo, 3 reopened."""
    import sqlite3

    on_sqlite = tmp_path / "same.db"
    _sqlite_review(on_sqlite, ris, SETUP + RESOLUTIONS + CHANGES)
    with sqlite3.connect(on_sqlite) as connection:
        expected = [tuple(bool(v) if i in (6, 8) else v for i, v in enumerate(row))
                    for row in connection.execute(RESOLUTION_ROWS)]  # fmt: skip
    assert expected == [
        (1, "tiab", "dave", "include", None, "RCT", False, None, True,
         f"bob changed their vote from include to exclude ({REASON}); the votes now agree on "
         f"exclude ({REASON}), against this resolution"),
        (2, "tiab", "dave", "exclude", REASON, None, False, None, False, None),
        (3, "tiab", "dave", "include", None, "line one\nline two", True,
         "bob took back their vote (include)", False, None),
    ]  # fmt: skip
    assert _rows(revisited, "postgres", RESOLUTION_ROWS) == expected
    # The statuses the owner reads are the same.
    stats = ("screen", "stats", "--format", "json")
    sqlite_stats = runner.invoke(app, [*stats, "--db", str(on_sqlite), "--as", "alice"])
    assert json.loads(ok(revisited, "postgres", *stats).stdout) == json.loads(sqlite_stats.stdout)
    conflicts = json.loads(ok(revisited, "dave", "screen", "conflicts", "--format", "json").stdout)
    assert [(c["record_id"], c["state"]) for c in conflicts] == [(1, "contested"), (4, "open")]


def test_the_revisits_are_in_the_ledger_which_verifies(revisited: str) -> None:
    log = json.loads(
        ok(revisited, "postgres", "audit", "log", "--action", "screening-resolution-revisited",
           "-f", "json").stdout
    )  # fmt: skip
    said = [(e["actor"], e["entity_id"], e["payload"]) for e in log]
    assert said == [
        ("bob", "3:tiab", {"key": "3:tiab", "stage": "tiab", "vote": "3:tiab:bob",
                           "state": {"screening_resolution": {"3:tiab": None}}}),
        ("bob", "1:tiab", {"key": "1:tiab", "stage": "tiab", "vote": "1:tiab:bob",
                           "state": {"screening_resolution": {"1:tiab": {
                               "adjudicator": "dave", "decision": "include", "note": "RCT",
                               "reason": None,
                               "contested": f"bob changed their vote from include to exclude "
                               f"({REASON}); the votes now agree on exclude ({REASON}), "
                               "against this resolution"}}}}),
        ("bob", "2:tiab", {"key": "2:tiab", "stage": "tiab", "vote": "2:tiab:bob",
                           "state": {"screening_resolution": {"2:tiab": None}}}),
        ("bob", "2:tiab", {"key": "2:tiab", "stage": "tiab", "vote": "2:tiab:bob",
                           "state": {"screening_resolution": {"2:tiab": {
                               "adjudicator": "dave", "decision": "exclude", "note": None,
                               "reason": REASON}}}}),
    ]  # fmt: skip
    for login in ("postgres", "dave"):
        assert "Audit ledger verified: 34 events" in ok(revisited, login, "audit", "verify").stdout
    # The server's events carry their own salt, as the tool's do (schema 0019).
    salts = _rows(revisited, "postgres", "SELECT salt FROM audit_event WHERE action = "
                  "'screening-resolution-revisited'")  # fmt: skip
    assert len(salts) == 4 and len({s for (s,) in salts}) == 4
    assert all(s is not None and len(s) == 32 for (s,) in salts)
    # A direct edit of a revisited resolution is caught: the ledger says what it should be.
    contested = "SELECT contested_because FROM screening_resolution WHERE record_id = 1"
    (said,) = _rows(revisited, "postgres", contested)[0]
    with psycopg.connect(_dsn(revisited, "postgres"), autocommit=True) as conn:
        conn.execute("UPDATE screening_resolution SET contested_because = 'edited' "
                     "WHERE record_id = 1")  # fmt: skip
        broken = cli(revisited, "postgres", "audit", "verify")
        conn.execute("UPDATE screening_resolution SET contested_because = %s "
                     "WHERE record_id = 1", (said,))  # fmt: skip
    assert broken.exit_code == 8, broken.output
    assert cli(revisited, "postgres", "audit", "verify").exit_code == 0


def test_bob_learns_nothing_more_than_in_the_twin_review_without_resolutions(
    revisited: str, unresolved: str
) -> None:
    """The difference test: bob's login reads the same rows, events and statistics whether or
    not dave resolved (and the server revisited) anything."""
    queries = (
        "SELECT record_id FROM screening_resolution",
        # (``database-roles-granted`` says which roles it created: roles are the cluster's, made
        # by the first of the two reviews)
        "SELECT actor, action, entity_type, entity_id, payload FROM audit_event "
        "WHERE action <> 'database-roles-granted' ORDER BY seq",
        "SELECT d.record_id, d.decision, d.reason, d.note, d.superseded_at IS NULL "
        "FROM screening_decision d ORDER BY d.id",
    )
    for sql in queries:
        assert _rows(revisited, "bob", sql) == _rows(unresolved, "bob", sql), sql
    assert _rows(revisited, "bob", queries[0]) == []
    for args in (("screen", "stats", "--format", "json"), ("status", "--format", "json")):
        assert ok(revisited, "bob", *args).stdout == ok(unresolved, "bob", *args).stdout, args
    mine = ("audit", "log", "-f", "json")
    strip = [{k: v for k, v in e.items() if k != "occurred_at"}
             for e in json.loads(ok(revisited, "bob", *mine).stdout)
             if e["action"] != "database-roles-granted"]  # fmt: skip
    twin = [{k: v for k, v in e.items() if k != "occurred_at"}
            for e in json.loads(ok(unresolved, "bob", *mine).stdout)
            if e["action"] != "database-roles-granted"]  # fmt: skip
    assert strip == twin
    # Calling the function by hand changes nothing and tells nothing.
    before = (
        _rows(revisited, "postgres", RESOLUTION_ROWS + ", r.id"),
        _rows(revisited, "postgres", "SELECT seq, hash FROM audit_head"),
    )
    with psycopg.connect(_dsn(revisited, "bob")) as conn:
        for undo in ("false", "true"):
            for unit in (1, 2, 3):
                called = f"SELECT reviewtool_revisit_resolution('tiab', {unit}, {undo})"
                assert conn.execute(called).fetchall() == [("",)]  # void: nothing said
    after = (
        _rows(revisited, "postgres", RESOLUTION_ROWS + ", r.id"),
        _rows(revisited, "postgres", "SELECT seq, hash FROM audit_head"),
    )
    assert after == before
    assert cli(revisited, "postgres", "audit", "verify").exit_code == 0


def test_the_revisited_review_is_rebuilt_from_its_ledger(revisited: str, tmp_path: Path) -> None:
    """``audit replay`` applies the server's events like any other (their ``state``): the
    rebuilt review verifies with the same head and its resolutions stand as on the server (a
    reopened row's ``reopened_because`` names the event, by design: docs/replay.md)."""
    import sqlite3

    rebuilt = tmp_path / "rebuilt.db"
    done = runner.invoke(
        app, ["audit", "replay", "--to", str(rebuilt), "--db", _as_login(revisited, "postgres")]
    )
    assert done.exit_code == 0, done.output
    head = _rows(revisited, "postgres", "SELECT hash FROM audit_head")[0][0]
    assert head in done.stdout.replace("\n", "")
    columns = (
        "SELECT r.record_id, m.name, r.decision, r.reopened_at IS NOT NULL, r.contested_at IS NOT "
        "NULL, r.contested_because FROM screening_resolution r JOIN member m ON m.id = r.member_id "
        "ORDER BY r.id"
    )
    with sqlite3.connect(rebuilt) as connection:
        found = [(*row[:3], bool(row[3]), bool(row[4]), row[5])
                 for row in connection.execute(columns)]  # fmt: skip
        (reopened,) = connection.execute(
            "SELECT reopened_because FROM screening_resolution WHERE record_id = 3"
        ).fetchone()
    assert found == _rows(revisited, "postgres", columns)
    seq = _rows(
        revisited,
        "postgres",
        "SELECT min(seq) FROM audit_event WHERE action = 'screening-resolution-revisited'",
    )[0][0]
    assert reopened == f"screening-resolution-revisited (event #{seq})"


def test_the_servers_event_hash_is_the_tools(revisited: str) -> None:
    """``reviewtool_event_hash`` (SQL) and ``audit.log.event_hash`` (Python) agree, on text that
    JSON must escape: quotes, backslashes, control characters, non-ASCII."""
    from reviewtool.audit.log import canonical_json, event_hash

    salts = [None, "0123456789abcdef0123456789abcdef"]
    tricky = ["plain", 'a "quoted" \\ back', "line\nfeed\ttab\r\x01\x1f\x7f", "ü é 日本 😀 \u2028"]
    with psycopg.connect(_dsn(revisited, "postgres")) as conn:
        for i, word in enumerate(tricky):
            payload = canonical_json({"note": word, "n": i, "none": None})
            fields = {
                "seq": 1000 + i,
                "occurred_at": "2026-11-29T19:00:00.000001Z",
                "actor": word,
                "action": "screening-resolution-revisited",
                "entity_type": "screening_resolution",
                "entity_id": word,
                "payload": payload,
            }
            for salt in salts:  # None: an event written before schema 0019
                server = conn.execute(
                    "SELECT reviewtool_event_hash(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    ("f" * 64, *fields.values(), salt),
                ).fetchone()
                mine = event_hash("f" * 64, **fields, salt=salt)  # type: ignore[arg-type]
                assert server == (mine,), (word, salt)
        drawn = [conn.execute("SELECT reviewtool_new_salt()").fetchone()[0] for _ in range(3)]
        assert len(set(drawn)) == 3
        assert all(len(s) == 32 and int(s, 16) >= 0 for s in drawn)


def test_a_bulk_import_of_changed_votes_revisits_too(
    server: str, ris: Path, tmp_path: Path
) -> None:
    """``screen import-decisions`` from bob's login: the changed vote on 1 contests dave's
    resolution, as one vote from the command line does."""
    url = _pgcluster.new_database(server, "bulk_revisit")
    votes = tmp_path / "bob.csv"
    votes.write_text(f"record_id,decision,reason\n1,exclude,{REASON}\n2,include,\n")
    _team_review(
        url,
        ris,
        [
            ("bob", ("screen", "decide", "1", "include")),
            ("carol", ("screen", "decide", "1", "exclude", "--reason", REASON)),
            ("dave", ("screen", "resolve", "1", "include", "--note", "RCT")),
            ("bob", ("screen", "import-decisions", str(votes), "--stage", "tiab")),
        ],
    )
    assert _rows(
        url,
        "postgres",
        "SELECT contested_because FROM screening_resolution WHERE reopened_at IS NULL",
    ) == [
        (
            f"bob changed their vote from include to exclude ({REASON}); the votes now agree on "
            f"exclude ({REASON}), against this resolution",
        )
    ]
    assert cli(url, "postgres", "audit", "verify").exit_code == 0


# --- extraction and risk of bias: their consensus rows are readable, so a change reopens them ----


def _into_team_mode(server: str, name: str, source: Path, owner: str, members: list[str]) -> str:
    """``source`` (an SQLite review) replayed into a new PostgreSQL database, its ``members``
    mapped to logins of their names (``owner`` to ``postgres``, first) and the server set up."""
    url = _pgcluster.new_database(server, name)
    done = runner.invoke(app, ["audit", "replay", "--to", url, "--db", str(source), "--as", owner])
    assert done.exit_code == 0, done.output
    for member in members:
        ok(url, "postgres", "member", "map", member, "--db-role", member, "--as", owner)
    ok(url, "postgres", "member", "db-setup")
    return url


def _as(url: str, login: str) -> Any:
    from reviewtool.review.service import open_existing

    return open_existing(_as_login(url, login))


def test_a_changed_extraction_value_reopens_its_consensus_in_team_mode(
    server: str, tmp_path: Path
) -> None:
    """alice's login cannot read bob's values while extraction is blind, but the consensus is
    shared by design (no row rule on ``extraction_consensus``): her change reopens carol's. And
    values that agree become consensus at once, as on SQLite: bob's login cannot compare his
    value with alice's, so the server does (``reviewtool_extraction_agreement``)."""
    from reviewtool.extraction.service import add_form, resolve, set_value
    from tests.extraction_builder import FORM, build_review

    source = tmp_path / "extraction.db"
    review = _open_sqlite(build_review(source))
    with review.transaction() as s:
        add_form(s, actor="olga", text=FORM, file_name="form.toml")
    review.close()
    url = _into_team_mode(server, "extraction_team", source, "olga", ["alice", "bob", "carol"])
    for login, call in (
        ("alice", lambda s: set_value(s, actor="alice", study="Suk 2016", field="country",
                                      value="Korea")),
        ("bob", lambda s: set_value(s, actor="bob", study="Suk 2016", field="country",
                                    value="China")),
        ("carol", lambda s: resolve(s, actor="carol", study="Suk 2016", field="country",
                                    value="Korea")),
        ("alice", lambda s: set_value(s, actor="alice", study="Suk 2016", field="country",
                                      value="Japan")),
        ("alice", lambda s: set_value(s, actor="alice", study="Shi 2021", field="country",
                                      value="Spain")),
        ("bob", lambda s: set_value(s, actor="bob", study="Shi 2021", field="country",
                                    value="Spain")),
        ("bob", lambda s: set_value(s, actor="bob", study="Shi 2021", field="follow_up",
                                    value="48")),
    ):  # fmt: skip
        on_login = _as(url, login)
        try:
            with on_login.transaction() as s:
                call(s)
        finally:
            on_login.close()
    assert _rows(url, "bob", "SELECT value FROM extraction_value ORDER BY id") == [
        ("China",),
        ("Spain",),
        ("48",),
    ]
    consensus = (
        "SELECT c.study_id, c.field, c.value, c.how, m.name, c.reopened_because "
        "FROM extraction_consensus c JOIN member m ON m.id = c.member_id ORDER BY c.id"
    )
    assert [row[1:] for row in _rows(url, "alice", consensus)] == [
        ("country", "Korea", "adjudicator", "carol", "alice changed country from Korea to Japan"),
        ("country", "Spain", "agreement", "bob", None),
    ]
    log = json.loads(
        ok(url, "postgres", "audit", "log", "--action", "extraction-consensus", "-f", "json").stdout
    )
    assert [(e["actor"], e["payload"]["change"]) for e in log] == [
        ("carol", "adjudicator"),
        ("alice", "reopened"),
        ("bob", "agreement"),
    ]
    assert cli(url, "postgres", "audit", "verify").exit_code == 0


def test_a_changed_judgement_reopens_its_risk_of_bias_consensus_in_team_mode(
    server: str, tmp_path: Path
) -> None:
    from reviewtool.rob.service import resolve, set_judgement
    from tests.rob_review import build_rob_review

    source = tmp_path / "rob.db"
    build_rob_review(source)
    url = _into_team_mode(server, "rob_team", source, "olga", ["bob", "carol", "dave"])
    a = "A"
    for login, call in (
        ("bob", lambda s: set_judgement(s, actor="bob", study="Suk 2016", domain=a,
                                        judgement="Low")),
        ("carol", lambda s: set_judgement(s, actor="carol", study="Suk 2016", domain=a,
                                          judgement="High")),
        ("dave", lambda s: resolve(s, actor="dave", study="Suk 2016", domain=a,
                                   judgement="Low")),
        ("bob", lambda s: set_judgement(s, actor="bob", study="Suk 2016", domain=a,
                                        judgement="Unclear")),
    ):  # fmt: skip
        on_login = _as(url, login)
        try:
            with on_login.transaction() as s:
                call(s)
        finally:
            on_login.close()
    assert _rows(url, "bob", "SELECT judgement FROM rob_judgement") == [("Unclear",)]
    assert _rows(url, "bob", "SELECT judgement, status, reopened_because FROM rob_consensus") == [
        ("Low", "reopened", "bob changed A from Low to Unclear")
    ]
    assert cli(url, "postgres", "audit", "verify").exit_code == 0


def _open_sqlite(url: str) -> Any:
    from reviewtool.review.service import open_existing

    return open_existing(url)


FULLTEXT: list[tuple[str, tuple[str, ...]]] = [
    ("bob", ("screen", "decide", "1", "include")),
    ("carol", ("screen", "decide", "1", "include")),
    ("postgres", ("screen", "unblind", "--stage", "tiab")),
    ("bob", ("screen", "decide", "1", "include", "--stage", "fulltext")),
    ("carol", ("screen", "decide", "1", "exclude", "--stage", "fulltext", "--reason",
               "not an RCT")),
    ("dave", ("screen", "resolve", "1", "exclude", "--stage", "fulltext", "--reason",
              "not an RCT")),
    # excludes with different reasons conflict at full text: reopened
    ("bob", ("screen", "decide", "1", "exclude", "--stage", "fulltext", "--reason",
             "wrong population")),
    ("dave", ("screen", "resolve", "1", "include", "--stage", "fulltext", "--note", "RCT")),
    # the same reason: the votes agree, against the resolution: contested
    ("bob", ("screen", "decide", "1", "exclude", "--stage", "fulltext", "--reason",
             "not an RCT")),
]  # fmt: skip


def test_at_full_text_the_server_applies_the_reasons_rule_per_report(
    server: str, ris: Path, tmp_path: Path
) -> None:
    """Full text, still blind to bob after title/abstract is unblinded: the unit is the report
    (keys ``1:fulltext:r1``), and excludes with different reasons are a conflict. The server's
    answers are the tool's on SQLite, word for word."""
    import sqlite3

    url = _pgcluster.new_database(server, "fulltext_revisit")
    _team_review(url, ris, FULLTEXT)
    on_sqlite = tmp_path / "fulltext.db"
    _sqlite_review(on_sqlite, ris, FULLTEXT)
    with sqlite3.connect(on_sqlite) as connection:
        expected = [tuple(bool(v) if i in (6, 8) else v for i, v in enumerate(row))
                    for row in connection.execute(RESOLUTION_ROWS)]  # fmt: skip
    assert [row[6:] for row in expected] == [
        (True, "bob changed their vote from include to exclude (wrong population)", False, None),
        (False, None, True, "bob changed their vote from exclude (wrong population) to exclude "
         "(not an RCT); the votes now agree on exclude (not an RCT), against this resolution"),
    ]  # fmt: skip
    assert _rows(url, "postgres", RESOLUTION_ROWS) == expected
    keys = _rows(
        url,
        "postgres",
        "SELECT entity_id, payload::jsonb ->> 'vote' FROM audit_event "
        "WHERE action = 'screening-resolution-revisited' ORDER BY seq",
    )
    assert keys == [("1:fulltext:r1", "1:fulltext:bob:r1")] * 2
    assert _rows(url, "bob", "SELECT count(*) FROM screening_resolution") == [(0,)]
    assert cli(url, "postgres", "audit", "verify").exit_code == 0


def test_a_server_set_up_by_an_older_version_refuses_the_change(server: str, ris: Path) -> None:
    """Without the server's function (``member db-setup`` last run by an older version) a
    reviewer's changed vote at a blind stage is refused in one line, nothing written, rather
    than leave a resolution standing that it should reopen; ``member db-setup`` mends it."""
    url = _pgcluster.new_database(server, "older_setup")
    _team_review(url, ris, SETUP[:4] + RESOLUTIONS[:1])
    with psycopg.connect(_dsn(url, "postgres"), autocommit=True) as conn:
        conn.execute("DROP FUNCTION reviewtool_revisit_resolution(text, integer, boolean)")
    head = _rows(url, "postgres", "SELECT seq FROM audit_head")
    refused = cli(url, "bob", "screen", "decide", "1", "maybe")
    assert refused.exit_code == 5, refused.output
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: this server's team-mode functions are older than this version of "
        "reviewtool, so a changed vote could not reopen a resolution you may not see; an owner "
        "runs `reviewtool member db-setup` again"
    ]
    assert _rows(url, "postgres", "SELECT seq FROM audit_head") == head
    ok(url, "postgres", "member", "db-setup")
    ok(url, "bob", "screen", "decide", "1", "maybe")
    assert _rows(url, "postgres", "SELECT reopened_because FROM screening_resolution") == [
        ("bob changed their vote from include to maybe",)
    ]


# --- extraction: a consensus converted SD follows a consensus n the server agreed ---------------


@pytest.mark.parametrize("order", ["sd_then_n", "n_then_sd"])
def test_a_consensus_sd_follows_the_n_the_server_agreed_as_on_sqlite(
    server: str, tmp_path: Path, order: str
) -> None:
    """The "converted values follow n" rule (``extraction/recompute.py``) for consensus values:
    a converted consensus SD is computed again when the consensus n at its place is decided.

    alice and bob both convert the MSC arm's MELD SD at 4 weeks from SE 1 with n 27 given by
    hand: SD = SE·√n = √27 = 5.196152422706632 (Cochrane Handbook 6.5.2.2), identical, so a
    consensus by agreement. Then both enter n 25: a consensus n by agreement, so the consensus
    SD becomes 1·√25 = 5 (their own SDs, made with an n given by hand, stay). On SQLite the tool
    sees both values and does it; in team mode bob's login cannot see alice's n, the server
    records the agreement (``reviewtool_extraction_agreement``), and the tool must still bring
    the consensus SD onto it. The same when the n is agreed first and the SD after
    (``n_then_sd``): the SD agreed is brought onto the consensus n in force."""
    import shutil
    import sqlite3

    from reviewtool import audit
    from reviewtool.extraction.service import add_form, set_converted, set_value
    from tests.extraction_builder import FORM, build_review

    place = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
    source = tmp_path / "follow.db"
    review = _open_sqlite(build_review(source))
    with review.transaction() as s:
        add_form(s, actor="olga", text=FORM, file_name="form.toml")
    review.close()
    twin = tmp_path / "twin.db"
    shutil.copy(source, twin)
    url = _into_team_mode(server, f"follow_{order}", source, "olga", ["alice", "bob", "carol"])
    steps = [
        ("alice", lambda s: set_converted(s, actor="alice", study="Suk 2016", fields=["sd"],
                                          conversion="se 1 n=27", **place)),
        ("bob", lambda s: set_converted(s, actor="bob", study="Suk 2016", fields=["sd"],
                                        conversion="se 1 n=27", **place)),
        ("alice", lambda s: set_value(s, actor="alice", study="Suk 2016", field="n", value="25",
                                      **place)),
        ("bob", lambda s: set_value(s, actor="bob", study="Suk 2016", field="n", value="25",
                                    **place)),
    ]  # fmt: skip
    if order == "n_then_sd":
        steps = steps[2:] + steps[:2]
    said: dict[str, list[str]] = {}
    consensus = (
        "SELECT c.field, c.value, c.how, c.source FROM extraction_consensus c ORDER BY c.field"
    )
    for mode, open_as in (
        ("sqlite", lambda login: _open_sqlite(f"sqlite:///{twin}")),
        ("team", lambda login: _as(url, login)),
    ):
        for login, call in steps:
            on_login = open_as(login)
            try:
                with on_login.transaction() as s:
                    done = call(s)
            finally:
                on_login.close()
        last = done if not isinstance(done, list) else done[0]
        said[mode] = [r.line() for r in last.recomputed]
    assert (
        said["sqlite"]
        == said["team"]
        == ["consensus sd followed n: 5.19615 → 5 (from se 1, n 27 → 25)"]
    )
    with sqlite3.connect(twin) as conn:
        on_sqlite = conn.execute(consensus).fetchall()
    in_team = _rows(url, "alice", consensus)
    assert in_team == [tuple(r) for r in on_sqlite]
    assert [(f, float(v), how) for f, v, how, _ in in_team] == [
        ("n", 25.0, "agreement"),
        ("sd", 5.0, "agreement"),
    ]
    assert json.loads(in_team[1][3])["inputs"] == {"se": 1, "n": 25}
    log = json.loads(
        ok(url, "postgres", "audit", "log", "--action", "extraction-consensus", "-f", "json").stdout
    )
    assert [(e["actor"], e["payload"]["change"]) for e in log] == [
        ("bob", "agreement"),
        ("bob", "agreement"),
        ("bob", "recomputed"),
    ]
    twin_review = _open_sqlite(f"sqlite:///{twin}")
    try:
        with twin_review.reading() as s:
            twin_log = audit.list_events(s, action="extraction-consensus")
    finally:
        twin_review.close()
    assert [(e.actor, e.payload["change"]) for e in twin_log] == [
        (e["actor"], e["payload"]["change"]) for e in log
    ]
    assert cli(url, "postgres", "audit", "verify").exit_code == 0
