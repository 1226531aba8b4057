"""Team mode on PostgreSQL (issue 14, section 1): the person is the database login, and the server
enforces blinding and attribution with row-level security, even for a reviewer using psycopg
directly.

A throw-away cluster is started on a unix socket (``benchmarks/_pgcluster.py``, trust
authentication, so each login connects by name); the module is skipped with the reason when no
server binaries or driver are on the machine.

The story: alice owns the review and created it connected as the cluster's superuser
``postgres``; bob and carol are reviewers, dave the adjudicator, each with their own login.
Title/abstract is blind. bob includes references 1 and 2; carol excludes 1 and includes 2; so 1
is a conflict and 2 is included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    for i in range(1, 4)
)


def cli(url: str, login: str, *args: str) -> Any:
    """Run ``reviewtool ARGS --db URL-as-login`` (no --as unless ``args`` give it)."""
    return runner.invoke(app, [*args, "--db", _as_login(url, login)])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    reason = _pgcluster.unavailable()
    if reason is not None:
        pytest.skip(reason)
    with _pgcluster.pg_cluster() as base:
        yield base


@pytest.fixture(scope="module")
def team(server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The review of the story, in team mode, with its votes cast by each reviewer's own login."""
    url = _pgcluster.new_database(server, "team_review")
    ris = tmp_path_factory.mktemp("ris") / "search.ris"
    ris.write_text(RIS, encoding="utf-8")
    steps = [
        ("postgres", "init", "--title", "MSC review", "--as", "alice"),
        ("postgres", "import", str(ris), "--source", "MEDLINE", "--as", "alice"),
        (
            "postgres",
            "member",
            "add",
            "bob",
            "--role",
            "reviewer",
            "--db-role",
            "bob",
            "--as",
            "alice",
        ),
        ("postgres", "member", "add", "carol", "--role", "reviewer", "--db-role", "carol"),
        ("postgres", "member", "add", "dave", "--role", "adjudicator", "--db-role", "dave"),
        ("postgres", "member", "db-setup"),
        ("bob", "screen", "decide", "1", "include"),
        ("bob", "screen", "decide", "2", "include"),
        ("carol", "screen", "decide", "1", "exclude", "--reason", "wrong population"),
        ("carol", "screen", "decide", "2", "include"),
    ]
    for login, *args in steps:
        done = cli(url, login, *args)
        assert done.exit_code == 0, (login, args, done.output, done.stderr)
    return url


def _rows(url: str, login: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(url, login)) as conn:
        return list(conn.execute(sql).fetchall())


VOTES = (
    "SELECT m.name, d.record_id, d.decision FROM screening_decision d "
    "JOIN member m ON m.id = d.member_id ORDER BY m.name, d.record_id"
)


def test_the_first_mapping_maps_the_owner_to_her_own_login(team: str) -> None:
    listed = cli(team, "postgres", "member", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert {m["name"]: m["db_role"] for m in json.loads(listed.stdout)} == {
        "alice": "postgres",
        "bob": "bob",
        "carol": "carol",
        "dave": "dave",
    }
    log = cli(team, "postgres", "audit", "log", "--action", "member-login-mapped", "-f", "json")
    assert [e["payload"]["after"] for e in json.loads(log.stdout)] == [
        {"member": "alice", "db_role": "postgres"},
        {"member": "bob", "db_role": "bob"},
        {"member": "carol", "db_role": "carol"},
        {"member": "dave", "db_role": "dave"},
    ]


def test_a_reviewer_login_reads_only_its_own_open_votes(team: str) -> None:
    assert _rows(team, "bob", VOTES) == [("bob", 1, "include"), ("bob", 2, "include")]
    assert _rows(team, "carol", VOTES) == [("carol", 1, "exclude"), ("carol", 2, "include")]
    # The ledger: the other reviewer's vote events are not readable either.
    actors = _rows(
        team, "bob", "SELECT DISTINCT actor FROM audit_event WHERE action = 'screening-decision'"
    )
    assert actors == [("bob",)]


def test_the_adjudicator_and_the_owner_read_every_vote(team: str) -> None:
    every = [
        ("bob", 1, "include"),
        ("bob", 2, "include"),
        ("carol", 1, "exclude"),
        ("carol", 2, "include"),
    ]
    assert _rows(team, "dave", VOTES) == every
    assert _rows(team, "postgres", VOTES) == every


def test_a_reviewer_login_cannot_write_in_someone_elses_name(team: str) -> None:
    carol_id = _rows(team, "bob", "SELECT id FROM member WHERE name = 'carol'")[0][0]
    forged_vote = (
        "INSERT INTO screening_decision (record_id, reference_id, stage, member_id, decision, "
        f"decided_at, report_in_ledger) VALUES (3, 3, 'tiab', {carol_id}, 'exclude', "
        "'2026-11-29T17:00:00', false)"
    )
    forged_event = (
        "INSERT INTO audit_event (seq, occurred_at, actor, action, entity_type, entity_id, "
        "payload, prev_hash, hash) VALUES (9999, 'x', 'carol', 'screening-decision', "
        "'screening_vote', '3:tiab:carol', '{}', 'x', 'forged')"
    )
    forged_role = f"INSERT INTO member_role (member_id, role) VALUES ({carol_id}, 'owner')"
    bob_id = _rows(team, "bob", "SELECT id FROM member WHERE name = 'bob'")[0][0]
    # bob is no adjudicator: not even a resolution in his own name.
    forged_resolution = (
        "INSERT INTO screening_resolution (record_id, reference_id, stage, member_id, decision, "
        f"resolved_at, report_in_ledger) VALUES (3, 3, 'tiab', {bob_id}, 'include', 'x', false)"
    )
    forged_judgement = (
        "INSERT INTO rob_judgement (tool, study_id, result, domain, outcome_group, assessor_id, "
        "support, answers, changed_by, changed_at) VALUES ('rob1', 1, '', 'random_sequence', '', "
        f"{carol_id}, '', '{{}}', 'carol', 'x')"
    )
    forged_value = (
        "INSERT INTO extraction_value (study_id, member_id, arm, outcome, time_point, field, "
        f"value, form_version, source_kind, source, entered_at) VALUES (1, {carol_id}, '', '', "
        "'', 'country', 'Spain', 1, 'reported', '', 'x')"
    )
    forged_setting = "INSERT INTO review_setting (key, value) VALUES ('screening.blind', 'false')"
    forged_login = f"UPDATE member_login SET db_role = 'bob_old' WHERE member_id = {bob_id}"
    for statement in (
        forged_vote,
        forged_event,
        forged_role,
        forged_resolution,
        forged_judgement,
        forged_value,
        forged_setting,
    ):
        with (
            psycopg.connect(_dsn(team, "bob")) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
        ):
            conn.execute(statement)
    with (
        psycopg.connect(_dsn(team, "bob")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"),
    ):
        conn.execute("DELETE FROM audit_event WHERE actor = 'bob'")
    with psycopg.connect(_dsn(team, "bob")) as conn:
        # Rows bob may not change are not there for him to change: nothing happens.
        cur = conn.execute("UPDATE review_setting SET value = 'false'")
        assert cur.rowcount == 0
        assert conn.execute(forged_login).rowcount == 0
        cur = conn.execute(
            f"UPDATE screening_decision SET decision = 'include' WHERE member_id = {carol_id}"
        )
        assert cur.rowcount == 0
    assert ("carol", 1, "exclude") in _rows(team, "dave", VOTES)


def test_as_is_refused_unless_it_names_the_login(team: str) -> None:
    refused = cli(team, "bob", "screen", "stats", "--as", "carol")
    assert refused.exit_code == 5
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: you are connected as database login 'bob', member 'bob': acting as "
        "'carol' is refused (on this PostgreSQL review the person is the login)"
    ]
    assert cli(team, "bob", "screen", "stats", "--as", "bob").exit_code == 0
    log = json.loads(
        cli(team, "postgres", "audit", "log", "--action", "access-refused", "-f", "json").stdout
    )
    assert [(e["actor"], e["payload"]["person"]) for e in log] == [("bob", "carol")]


def test_an_unmapped_login_gets_one_line(team: str) -> None:
    with psycopg.connect(_dsn(team, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE ROLE eve LOGIN")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO eve")
    for args in (("status",), ("status", "--as", "alice")):
        refused = cli(team, "eve", *args)
        assert refused.exit_code == 3, refused.output
        assert refused.stderr.strip().splitlines() == [
            "reviewtool: error: your database login 'eve' is not mapped to a member of this "
            "review; an owner maps it with `reviewtool member map NAME --db-role eve`"
        ]
    # Even granted SELECT on every table, eve reads no open vote.
    assert _rows(team, "eve", VOTES) == []


def test_each_role_still_works_with_the_tool(team: str) -> None:
    bob = json.loads(cli(team, "bob", "screen", "stats", "--format", "json").stdout)
    dave = json.loads(cli(team, "dave", "screen", "stats", "--format", "json").stdout)
    assert bob != dave  # bob sees his own progress only; dave sees the outcomes
    conflicts = cli(team, "dave", "screen", "conflicts", "--format", "json")
    assert conflicts.exit_code == 0, conflicts.output
    assert [c["record_id"] for c in json.loads(conflicts.stdout)] == [1]
    resolved = cli(team, "dave", "screen", "resolve", "1", "include", "--note", "RCT")
    assert resolved.exit_code == 0, resolved.output
    # The resolution is as hidden from a reviewer's login as the votes it answered.
    assert _rows(team, "bob", "SELECT record_id FROM screening_resolution") == []
    assert _rows(team, "dave", "SELECT record_id FROM screening_resolution") == [(1,)]
    verified = cli(team, "postgres", "audit", "verify")
    assert verified.exit_code == 0, verified.output
    refused = cli(team, "bob", "dedup", "run")
    assert refused.exit_code == 5
    assert "an owner deduplicates" in refused.stderr


def test_a_reviewer_login_is_told_it_cannot_verify_the_whole_chain(team: str) -> None:
    refused = cli(team, "bob", "audit", "verify")
    assert refused.exit_code == 5
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: the server hides others' open work in the ledger from your login "
        "'bob', so you cannot verify the whole chain; an owner or adjudicator runs `audit verify`"
    ]
    assert cli(team, "dave", "audit", "verify").exit_code == 0


def test_unblinding_opens_the_votes_and_records_the_reports_sought(team: str) -> None:
    # While title/abstract was blind, no reviewer's login could see that 2 was included, so no
    # report was sought for it yet (dave's resolution sought 1's).
    assert _rows(team, "postgres", "SELECT reference_id FROM fulltext_report") == [(1,)]
    done = cli(team, "postgres", "screen", "unblind", "--stage", "tiab")
    assert done.exit_code == 0, done.output
    assert _rows(team, "postgres", "SELECT reference_id, status FROM fulltext_report") == [
        (1, "sought"),
        (2, "sought"),
    ]
    assert _rows(team, "bob", VOTES) == _rows(team, "postgres", VOTES)
    assert _rows(team, "bob", "SELECT record_id FROM screening_resolution") == [(1,)]
    assert cli(team, "postgres", "audit", "verify").exit_code == 0
    assert cli(team, "bob", "audit", "verify").exit_code == 0


def test_without_a_mapping_a_postgres_review_trusts_as_as_before(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No member mapped to a login: not team mode, `--as` names the person (several reviewers
    may share one login, as the soak benchmark's processes do), else the OS login."""
    url = _pgcluster.new_database(server, "shared_login")
    monkeypatch.setenv("USER", "alice")
    made = cli(url, "postgres", "init", "--title", "T")
    assert made.exit_code == 0, made.output
    assert "with owner alice" in made.stdout
    added = cli(url, "postgres", "member", "add", "bob", "--role", "reviewer", "--as", "alice")
    assert added.exit_code == 0, added.output
    assert cli(url, "postgres", "screen", "stats", "--as", "bob").exit_code == 0
    # The owner cannot give away the login she is connected with before mapping herself: she
    # would be locked out of her own review. Nothing is written.
    refused = cli(url, "postgres", "member", "map", "bob", "--db-role", "postgres", "--as", "alice")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: 'postgres' is the login you are connected with; map yourself to it "
        "first (`reviewtool member map alice --db-role postgres`)"
    ]
    assert _rows(url, "postgres", "SELECT count(*) FROM member_login") == [(0,)]
    assert cli(url, "postgres", "screen", "stats", "--as", "bob").exit_code == 0


def test_other_assessors_and_extractors_rows_are_hidden_while_blind(team: str) -> None:
    """Rows written straight into the tables by the table owner (not through the tool: this test
    runs last on the team review): a reviewer's login reads its own risk-of-bias judgements and
    extraction values only while those stages are blind (both are by default); dave reads all."""
    ids = dict(_rows(team, "postgres", "SELECT name, id FROM member"))
    with psycopg.connect(_dsn(team, "postgres")) as conn:
        conn.execute(
            "INSERT INTO extraction_form (version, name, toml, sha256, added_by, added_at) "
            "VALUES (1, 'form', '', 'x', 'alice', 'x')"
        )
        for who in ("bob", "carol"):
            conn.execute(
                "INSERT INTO rob_judgement (tool, study_id, result, domain, outcome_group, "
                "assessor_id, judgement, support, answers, changed_by, changed_at) VALUES "
                f"('rob1', 1, '', 'random_sequence', '', {ids[who]}, 'Low', '', '{{}}', "
                f"'{who}', 'x')"
            )
            conn.execute(
                "INSERT INTO extraction_value (study_id, member_id, arm, outcome, time_point, "
                "field, value, form_version, source_kind, source, entered_at) VALUES "
                f"(1, {ids[who]}, '', '', '', 'country', '{who}-value', 1, 'reported', '', 'x')"
            )
    judged = "SELECT changed_by FROM rob_judgement ORDER BY changed_by"
    valued = "SELECT value FROM extraction_value ORDER BY value"
    assert _rows(team, "bob", judged) == [("bob",)]
    assert _rows(team, "bob", valued) == [("bob-value",)]
    assert _rows(team, "dave", judged) == [("bob",), ("carol",)]
    assert _rows(team, "dave", valued) == [("bob-value",), ("carol-value",)]


async def test_the_screening_screen_votes_as_the_login(team: str) -> None:
    """The screening screen on bob's login: each key press is checked against the login, and
    the vote is stored in bob's name (title/abstract was unblinded above)."""
    from reviewtool.tui.screening import ScreeningApp

    app = ScreeningApp(_as_login(team, "bob"), "bob", "tiab")
    async with app.run_test(size=(100, 30)) as pilot:
        card = app.screening.card
        assert card is not None and card.record_id == 3
        await pilot.press("i")
    assert ("bob", 3, "include") in _rows(team, "dave", VOTES)


def test_labels_are_private_to_their_author_while_blind(team: str) -> None:
    """Full text is still blind: carol's login does not read bob's label; dave's does."""
    done = cli(team, "bob", "screen", "label", "2", "add", "exclude?")
    assert done.exit_code == 0, done.output
    labels = (
        "SELECT m.name, l.label FROM record_label l JOIN member m ON m.id = l.member_id "
        "ORDER BY m.name"
    )
    assert _rows(team, "carol", labels) == []
    assert _rows(team, "bob", labels) == [("bob", "exclude?")]
    assert _rows(team, "dave", labels) == [("bob", "exclude?")]
    events = "SELECT actor FROM audit_event WHERE action = 'labels-changed'"
    assert _rows(team, "carol", events) == []
    assert _rows(team, "dave", events) == [("bob",)]
