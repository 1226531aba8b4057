"""The CLI wiring: exit codes, one-line errors on stderr, --debug, --db/--as/env resolution."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> object:
    return runner.invoke(app, list(args), env=env)


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "review.db")
    result = run(
        "init", "--title", "MSC review", "--question", "P: cirrhosis", "--db", path, "--as", "alice"
    )
    assert result.exit_code == 0, result.output
    return path


def test_init_then_status_json(db: str) -> None:
    result = run("status", "--db", db, "--as", "alice", "--format", "json")
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    assert status["title"] == "MSC review"
    assert status["question"] == "P: cirrhosis"
    assert status["members"] == {"alice": ["owner"]}
    assert status["audit"]["events"] == 2


def test_member_add_list_and_refusal(db: str) -> None:
    assert (
        run("member", "add", "bob", "--role", "reviewer", "--db", db, "--as", "alice").exit_code
        == 0
    )
    refused = run("member", "add", "eve", "--role", "reviewer", "--db", db, "--as", "bob")
    assert refused.exit_code == 5
    assert refused.stderr.strip().splitlines() == [
        "reviewtool: error: 'bob' (reviewer) may not add members: that needs the role owner"
    ]
    listed = json.loads(
        run("member", "list", "--db", db, "--as", "alice", "--format", "json").stdout
    )
    assert [(m["name"], m["roles"]) for m in listed] == [
        ("alice", ["owner"]),
        ("bob", ["reviewer"]),
    ]
    log = json.loads(
        run(
            "audit", "log", "--db", db, "--as", "alice", "--action", "access-refused", "-f", "json"
        ).stdout
    )
    assert [e["actor"] for e in log] == ["bob"]


def test_actor_from_environment(db: str) -> None:
    result = run(
        "member", "add", "bob", "--role", "reviewer", "--db", db, env={"REVIEWTOOL_USER": "alice"}
    )
    assert result.exit_code == 0, result.output
    result = run(
        "settings", "set", "screening.blind", "no", "--db", db, env={"REVIEWTOOL_USER": "bob"}
    )
    assert result.exit_code == 5


def test_db_from_environment(db: str) -> None:
    result = run("status", "-f", "json", env={"REVIEWTOOL_DB": db, "REVIEWTOOL_USER": "alice"})
    assert json.loads(result.stdout)["title"] == "MSC review"


def test_unknown_person_gets_one_line_and_exit_3(db: str) -> None:
    result = run("settings", "set", "screening.blind", "no", "--db", db, "--as", "zed")
    assert result.exit_code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert "'zed' is not a member of this review" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("person", ["zed", "jniu"])
def test_the_hint_for_an_unknown_person_is_a_command_that_runs(db: str, person: str) -> None:
    """The refusal names the command an owner runs to add the person; run as given (with the
    --role that ``member add`` requires), it adds them."""
    import shlex

    result = run("status", "--db", db, "--as", person)
    assert result.exit_code == 3
    hint = result.stderr.split("`")[1]
    assert hint == f"reviewtool member add {shlex.quote(person)} --role reviewer"
    added = run(*shlex.split(hint)[1:], "--db", db, "--as", "alice")
    assert added.exit_code == 0, added.output
    assert run("status", "--db", db, "--as", person).exit_code == 0


def test_bad_values_name_the_field(db: str) -> None:
    result = run(
        "settings", "set", "screening.reviewers_required", "0", "--db", db, "--as", "alice"
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "reviewtool: error: screening.reviewers_required must be at least 1, not 0"
    )
    result = run("member", "add", "bob", "--role", "boss", "--db", db, "--as", "alice")
    assert "unknown role 'boss'" in result.stderr and result.exit_code == 2
    result = run("init", "--title", "T", "--set", "nonsense", "--db", db + "2", "--as", "alice")
    assert "--set expects KEY=VALUE" in result.stderr


def test_missing_review_and_debug_traceback(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.db")
    result = run("status", "--db", missing)
    assert result.exit_code == 3
    assert result.stderr.startswith("reviewtool: error: no review at")
    debug = run("--debug", "status", "--db", missing)
    assert debug.exit_code != 0
    assert debug.exception is not None and type(debug.exception).__name__ == "NotFound"


def test_verify_detects_sql_tampering(db: str) -> None:
    ok = run("audit", "verify", "--as", "alice", "--db", db)
    assert ok.exit_code == 0 and "verified: 2 events" in ok.stdout
    head = ok.stdout.split("head ")[-1].split()[0]
    assert run("audit", "verify", "--as", "alice", "--db", db, "--expect-head", head).exit_code == 0
    assert (
        run("audit", "verify", "--as", "alice", "--db", db, "--expect-head", "0" * 64).exit_code
        == 8
    )
    conn = sqlite3.connect(db)
    conn.execute("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1")
    conn.commit()
    conn.close()
    bad = run("audit", "verify", "--as", "alice", "--db", db)
    assert bad.exit_code == 8
    assert "first bad event #1" in bad.stderr


def test_settings_show_and_set(db: str) -> None:
    assert (
        run("settings", "set", "analysis.model", "random", "--db", db, "--as", "alice").exit_code
        == 0
    )
    shown = json.loads(run("settings", "show", "--db", db, "--as", "alice", "-f", "json").stdout)
    assert shown["analysis.model"] == "random"
    assert shown["screening.reviewers_required"] == 2


def test_audit_log_filters(db: str) -> None:
    run("member", "add", "bob", "--role", "reviewer", "--db", db, "--as", "alice")
    by_entity = json.loads(
        run(
            "audit", "log", "--db", db, "--as", "alice", "--entity", "member:2", "-f", "json"
        ).stdout
    )
    assert [e["payload"]["after"]["name"] for e in by_entity] == ["bob"]
    newest = json.loads(
        run("audit", "log", "--db", db, "--as", "alice", "-n", "1", "-f", "json").stdout
    )
    assert [e["seq"] for e in newest] == [3]
    assert (
        json.loads(
            run(
                "audit", "log", "--db", db, "--as", "alice", "--since", "2999-01-01", "-f", "json"
            ).stdout
        )
        == []
    )
    csv_out = run("audit", "log", "--db", db, "--as", "alice", "-f", "csv").stdout.splitlines()
    assert csv_out[0].startswith("seq,occurred_at,actor,action") and len(csv_out) == 4


def test_expect_head_must_be_a_hash_and_a_mismatch_says_what_it_means(db: str) -> None:
    """Issue 8 follow-up, item 11: a mistyped hash is one line naming the option (exit 2), not
    "the ledger was rewritten"; a real mismatch names both heads and both explanations."""
    for typo in ("abc", "g" * 64, "0" * 63):
        bad = run("audit", "verify", "--as", "alice", "--db", db, "--expect-head", typo)
        assert bad.exit_code == 2, bad.stderr
        assert bad.stderr == (
            f"reviewtool: error: --expect-head: {typo!r} is not a ledger head (64 hexadecimal "
            "digits, as `audit verify` prints it)\n"
        )
    ok = run("audit", "verify", "--as", "alice", "--db", db)
    head = ok.stdout.split("head ")[-1].split()[0]
    assert (
        run("audit", "verify", "--db", db, "--as", "alice", "--expect-head", head.upper()).exit_code
        == 0
    )
    other = "ab" * 32
    bad = run("audit", "verify", "--as", "alice", "--db", db, "--expect-head", other)
    assert bad.exit_code == 8
    assert bad.stderr == (
        "reviewtool: error: audit ledger does not verify (1 problem); the ledger's head "
        f"({head}) is not the expected {other}: the ledger is not the one whose head you noted "
        "(events were added since, or it was rewritten)\n"
    )


def test_a_review_started_unblinded_lists_no_blind_stage(tmp_path: Path) -> None:
    """Issue 8 follow-up, item 2: `init --set screening.blind=false` leaves no per-stage key saying
    blind; `settings set screening.blind false` later writes a stage-unblinded event per stage."""
    db = str(tmp_path / "open.db")
    made = run("init", "--title", "T", "--set", "screening.blind=false", "--db", db, "--as", "olga")
    assert made.exit_code == 0, made.stderr
    shown = json.loads(
        run("settings", "show", "--format", "json", "--db", db, "--as", "olga").stdout
    )
    assert [
        shown[k] for k in ("screening.blind", "screening.blind_tiab", "screening.blind_fulltext")
    ] == [False, False, False]
    blind = str(tmp_path / "blind.db")
    assert run("init", "--title", "T", "--db", blind, "--as", "olga").exit_code == 0
    assert (
        run("settings", "set", "screening.blind", "false", "--db", blind, "--as", "olga").exit_code
        == 0
    )
    log = json.loads(
        run(
            "audit",
            "log",
            "--action",
            "stage-unblinded",
            "--format",
            "json",
            "--db",
            blind,
            "--as",
            "olga",
        ).stdout
    )
    assert [(e["entity_id"], e["payload"]["after"]) for e in log] == [
        ("screening.blind_tiab", False),
        ("screening.blind_fulltext", False),
    ]


def test_audit_log_refuses_a_time_it_cannot_read(db: str) -> None:
    """Issue 8 follow-up, item 6: `--since notadate` is one line naming the option, exit 2 (it
    listed nothing, exit 0); a time with an offset is compared in UTC."""
    for option, value in (
        ("--since", "notadate"),
        ("--until", "2026-13-01"),
        ("--since", "2026-01-01T25:00"),
    ):
        bad = run("audit", "log", option, value, "--db", db, "--as", "alice")
        assert (bad.exit_code, bad.stdout) == (2, "")
        assert bad.stderr == (
            f"reviewtool: error: Invalid value for '{option}': {value!r} is not a date or time "
            "(ISO-8601 in UTC, e.g. 2026-01-31 or 2026-01-31T09:30:00) (see `reviewtool audit "
            "log --help`)\n"
        )
    events = json.loads(run("audit", "log", "-f", "json", "--db", db, "--as", "alice").stdout)
    second = events[1]["occurred_at"]  # e.g. 2026-11-29T12:00:00.123456Z
    from datetime import datetime, timedelta, timezone

    moment = datetime.fromisoformat(second).astimezone(timezone(timedelta(hours=2)))
    shifted = run(
        "audit", "log", "-f", "json", "--since", moment.isoformat(), "--db", db, "--as", "alice"
    )
    assert [e["seq"] for e in json.loads(shifted.stdout)] == [e["seq"] for e in events[1:]]
