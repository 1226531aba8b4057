"""Every entry point has the one error boundary (issue 9, item 5).

The command tree is walked programmatically, so a command added later is covered without editing
this file. Each command is run against a missing database, a file that is not a database (text and
zero bytes), an unreachable PostgreSQL server, as an unknown person and as a member with ``--as``;
each input file it takes is given as a missing path. Whatever happens, the user gets one line on
stderr and, where the command cannot do its work, a non-zero exit: never a traceback, never an
"internal error", never a screen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import _click as click
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()

# Commands that work on a CSV alone and never open a review: they take neither --db nor --as.
NO_REVIEW = {"analyze file", "analyze check"}
NO_REVIEW |= {"simulate"}  # replays a labelled CSV (issue 15)
# Path parameters that name something the command writes, not a file it reads.
OUTPUTS = {("analyze file", "forest"), ("analyze file", "funnel"), ("analyze run", "out")}
OUTPUTS |= {("analyze export", "out"), ("backup", "out"), ("audit anchor", "out")}
OUTPUTS |= {("export references", "out"), ("export reports", "out"), ("export audit", "out")}
OUTPUTS |= {("report prisma", "out"), ("report build", "out")}
OUTPUTS |= {("rob export", "out"), ("rob plot", "out")}
OUTPUTS |= {("extract export", "out")}
OUTPUTS |= {("simulate", "out")}
# The terminal screens, and what the owner alice may open (she is no adjudicator).
SCREENS = {"screen", "adjudicate", "dedup review"}
ALICE_MAY_OPEN = {"screen", "dedup review"}
# Commands that refuse their own arguments (no pair id, no record ids) before opening the review:
# they fail for that reason in every scenario, so only the one-line rule is checked for them.
# restore reads its backup file first (it makes the database it is given, as init does);
# screen stop needs --rule or --undo.
ARGUMENTS_FIRST = {"dedup confirm", "dedup reject", "restore", "screen stop"}
# Values for required arguments and options, by parameter name, so commands get past their own
# checks to the database; any other string is "x".
SAMPLES = {
    "title": "T",
    "source": "MEDLINE",
    "name": "bob",
    "role": "reviewer",
    "decision": "include",
    "change": "add",
    "key": "analysis.model",
    "value": "random",
    "stage": "tiab",
}
UNREACHABLE = "postgresql+psycopg://reviewer@127.0.0.1:1/review?connect_timeout=3"


@dataclass(frozen=True)
class Entry:
    """One runnable command: its words after ``reviewtool`` and its click object."""

    path: str
    command: click.Command

    @property
    def words(self) -> list[str]:
        return self.path.split()

    def option_flags(self) -> set[str]:
        return {flag for p in self.command.params for flag in p.opts}

    def path_params(self) -> list[click.Parameter]:
        return [p for p in self.command.params if _annotation(p) in (Path, list[Path])]


def _annotation(param: click.Parameter) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    return getattr(descriptor, "annotation", None)


def _walk(command: click.Command, words: list[str]) -> Iterator[Entry]:
    subcommands: dict[str, click.Command] = getattr(command, "commands", {})
    if not subcommands:
        yield Entry(" ".join(words), command)
        return
    if words and getattr(command, "invoke_without_command", False):
        yield Entry(" ".join(words), command)  # `reviewtool screen` opens a screen itself
    for name, sub in subcommands.items():
        yield from _walk(sub, [*words, name])


ENTRIES = list(_walk(typer.main.get_command(app), []))
REVIEW_ENTRIES = [e for e in ENTRIES if e.path not in NO_REVIEW]


def _sample(param: click.Parameter, tmp_path: Path, input_file: Path) -> str:
    annotation = _annotation(param)
    if annotation in (Path, list[Path]):
        return str(tmp_path / "out") if param.name == "out" else str(input_file)
    if param.name == "to":  # audit replay --to: a database it creates, never in the cwd
        return f"sqlite:///{tmp_path / 'replayed.db'}"
    if annotation is int:
        return "1"
    if annotation is float:
        return "0.5"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return str(next(iter(annotation)).value)  # type: ignore[var-annotated]
    return SAMPLES.get(param.name or "", "x")


def _args(
    entry: Entry, tmp_path: Path, *, input_file: Path, override: dict[str, str] | None = None
) -> list[str]:
    """The command's words and a value for every required parameter (and any in ``override``)."""
    args = list(entry.words)
    override = override or {}
    for param in entry.command.params:
        if not (param.required or param.name in override):
            continue
        value = override.get(param.name or "") or _sample(param, tmp_path, input_file)
        if param.param_type_name == "argument":
            args.append(value)
        else:
            args += [param.opts[0], value]
    return args


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The screens that would have taken over the terminal (their apps are never really run)."""
    from textual.app import App

    opened: list[str] = []

    def fake_run(self: App[Any], *args: object, **kwargs: object) -> None:
        opened.append(type(self).__name__)

    monkeypatch.setattr(App, "run", fake_run)
    return opened


@pytest.fixture
def review_db(tmp_path: Path) -> Path:
    """A review owned by alice, with bob (reviewer) and carol (adjudicator)."""
    from reviewtool.domain import Role
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    path = tmp_path / "review.db"
    review = init_review(f"sqlite:///{path}", title="T", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
    review.close()
    return path


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    path = tmp_path / "input.csv"
    path.write_text("record_id,decision\n", encoding="utf-8")
    return path


def _ledger(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (a, b) for a, b in conn.execute("SELECT actor, action FROM audit_event ORDER BY seq")
        ]
    finally:
        conn.close()


def _one_line_error(result: Any, where: str) -> str:
    """Assert the result is a failure told in one line on stderr; return that line."""
    assert result.exit_code != 0, f"{where}: exit 0\n{result.output}"
    assert "Traceback" not in result.output, f"{where}: traceback\n{result.output}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"{where}: stderr is not one line: {result.stderr!r}"
    assert lines[0].startswith("reviewtool: error: "), f"{where}: {lines[0]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), where
    return lines[0]


def test_the_walk_reaches_every_command() -> None:
    paths = {e.path for e in ENTRIES}
    assert len(paths) == len(ENTRIES) >= 35
    assert {"init", "status", "screen", "adjudicate", "dedup review", "screen stats"} <= paths
    assert {"audit verify", "dedup queue", "analyze check", "records list"} <= paths
    assert paths.issuperset(NO_REVIEW | SCREENS)
    assert {p for p, _ in OUTPUTS} <= paths


def test_every_command_that_opens_a_review_takes_db_and_as() -> None:
    missing = {
        e.path: sorted({"--db", "--as"} - e.option_flags())
        for e in REVIEW_ENTRIES
        if not {"--db", "--as"} <= e.option_flags()
    }
    assert missing == {}
    # The two that read a CSV alone take neither (a --db there would be silently ignored).
    assert all(not {"--db", "--as"} & e.option_flags() for e in ENTRIES if e.path in NO_REVIEW)


def test_the_issue_commands_accept_as(review_db: Path) -> None:
    # The issue's example: these refused --as although the README says every command takes it.
    for words in (["status"], ["screen", "stats"], ["audit", "verify"], ["dedup", "queue"]):
        result = runner.invoke(app, [*words, "--db", str(review_db), "--as", "bob"])
        assert result.exit_code == 0, (words, result.output)
        assert result.stderr == ""


def test_missing_database(tmp_path: Path, input_file: Path, launched: list[str]) -> None:
    missing = tmp_path / "missing.db"
    for entry in REVIEW_ENTRIES:
        args = _args(entry, tmp_path, input_file=input_file)
        result = runner.invoke(app, [*args, "--db", str(missing), "--as", "alice"])
        if entry.path == "init":  # the one command that legitimately makes it
            assert result.exit_code == 0, result.output
            missing.unlink()
            continue
        line = _one_line_error(result, entry.path)
        assert not missing.exists(), f"{entry.path} created {missing}"
        if entry.path not in ARGUMENTS_FIRST:
            assert f"no review at {missing}" in line, (entry.path, line)
            assert result.exit_code == 3
    assert launched == []


def test_dedup_review_on_a_missing_database_is_one_line_and_exit_3(
    tmp_path: Path, launched: list[str]
) -> None:
    # The issue's example: it printed a traceback from inside the screen and exited 0.
    result = runner.invoke(app, ["dedup", "review", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 3
    assert result.stderr == (
        f"reviewtool: error: no review at {tmp_path / 'missing.db'} "
        "(run `reviewtool init` to create one, or pass --db)\n"
    )
    assert launched == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"title,year\nOtters,2010\n", "it is not an SQLite file"),
        (b"", "the file is empty"),
    ],
    ids=["text-file", "zero-bytes"],
)
def test_a_file_that_is_not_a_review(
    tmp_path: Path, input_file: Path, launched: list[str], content: bytes, reason: str
) -> None:
    target = tmp_path / "not-a-review.db"
    for entry in REVIEW_ENTRIES:
        target.write_bytes(content)
        args = _args(entry, tmp_path, input_file=input_file)
        result = runner.invoke(app, [*args, "--db", str(target), "--as", "alice"])
        if entry.path == "init":
            if content:  # a file with something in it is never overwritten
                line = _one_line_error(result, entry.path)
                assert line.endswith("exists already; choose another --db path")
            else:  # zero bytes is SQLite's empty database: init may make a review in it
                assert result.exit_code == 0, result.output
            continue
        line = _one_line_error(result, entry.path)
        assert target.read_bytes() == content, f"{entry.path} changed the file"
        assert not target.with_name(target.name + "-wal").exists(), entry.path
        if entry.path not in ARGUMENTS_FIRST:
            assert line == (
                f"reviewtool: error: {target} is not a reviewtool review database: {reason}"
                + (
                    f" (`reviewtool init --db {target}` creates a review in it)"
                    if not content
                    else ""
                )
            ), (entry.path, line)
            assert result.exit_code == 7
    assert launched == []


def test_an_unreachable_postgresql_server(
    tmp_path: Path, input_file: Path, launched: list[str]
) -> None:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not installed")
    for entry in REVIEW_ENTRIES:
        args = _args(entry, tmp_path, input_file=input_file)
        result = runner.invoke(app, [*args, "--db", UNREACHABLE, "--as", "alice"])
        line = _one_line_error(result, entry.path)
        if entry.path not in ARGUMENTS_FIRST:
            assert line.startswith(
                "reviewtool: error: cannot use the database "
                "postgresql+psycopg://reviewer@127.0.0.1:1/review?connect_timeout=3: "
            ), (entry.path, line)
            assert "Connection refused" in line, line
            assert result.exit_code == 9
    assert launched == []


def test_an_unknown_person(
    tmp_path: Path, review_db: Path, input_file: Path, launched: list[str]
) -> None:
    before = _ledger(review_db)
    for entry in REVIEW_ENTRIES:
        args = _args(entry, tmp_path, input_file=input_file)
        result = runner.invoke(app, [*args, "--db", str(review_db), "--as", "zed"])
        line = _one_line_error(result, entry.path)
        if entry.path not in ARGUMENTS_FIRST | {"init"}:
            assert "'zed' is not a member of this review" in line, (entry.path, line)
            assert result.exit_code == 3
    assert launched == []  # a refused person never sees a screen
    # Nothing was written but the refusals themselves.
    after = _ledger(review_db)
    assert after[: len(before)] == before
    assert {row for row in after[len(before) :]} == {("zed", "access-refused")}


def test_a_member_with_as(
    tmp_path: Path, review_db: Path, input_file: Path, launched: list[str]
) -> None:
    for entry in REVIEW_ENTRIES:
        args = _args(entry, tmp_path, input_file=input_file)
        result = runner.invoke(app, [*args, "--db", str(review_db), "--as", "alice"])
        assert "Traceback" not in result.output and "internal error" not in result.output
        assert "No such option" not in result.stderr, entry.path
        if result.exit_code == 0:
            assert result.stderr == "", (entry.path, result.stderr)
        else:
            _one_line_error(result, entry.path)
    # alice (owner) may screen and deduplicate, but not adjudicate.
    assert sorted(launched) == ["DedupReviewApp", "ScreeningApp"]
    opened = {
        e.path
        for e in ENTRIES
        if e.path in SCREENS
        and runner.invoke(app, [*e.words, "--db", str(review_db), "--as", "alice"]).exit_code == 0
    }
    assert opened == ALICE_MAY_OPEN


def test_a_person_without_the_role_never_sees_the_screen(
    review_db: Path, launched: list[str]
) -> None:
    cases = {
        (
            "screen",
            "carol",
        ): "'carol' (adjudicator) may not open the screening screen: that needs the role owner or reviewer",
        (
            "adjudicate",
            "bob",
        ): "'bob' (reviewer) may not open the adjudication screen: that needs the role adjudicator",
        (
            "dedup review",
            "carol",
        ): "'carol' (adjudicator) may not open the duplicate review screen: that needs the role owner or reviewer",
    }
    for (path, person), message in cases.items():
        result = runner.invoke(app, [*path.split(), "--db", str(review_db), "--as", person])
        assert result.exit_code == 5, result.output
        assert result.stderr == f"reviewtool: error: {message}\n"
    assert launched == []
    refused = [row for row in _ledger(review_db) if row[1] == "access-refused"]
    assert [person for person, _ in refused] == ["carol", "bob", "carol"]  # each one recorded


def test_every_missing_input_file_is_refused_naming_it(
    tmp_path: Path, review_db: Path, input_file: Path, launched: list[str]
) -> None:
    before = _ledger(review_db)
    checked: set[tuple[str, str]] = set()
    for entry in ENTRIES:
        for param in entry.path_params():
            if (entry.path, param.name) in OUTPUTS:
                continue
            missing = tmp_path / f"missing-{param.name}.csv"
            args = _args(
                entry, tmp_path, input_file=input_file, override={param.name or "": str(missing)}
            )
            if entry.path not in NO_REVIEW:
                args += ["--db", str(review_db), "--as", "alice"]
            result = runner.invoke(app, args)
            line = _one_line_error(result, f"{entry.path} {param.name}")
            assert line == f"reviewtool: error: {missing}: no such file", line
            assert result.exit_code == 2
            checked.add((entry.path, param.name or ""))
    assert _ledger(review_db) == before  # refused before anything was opened or written
    assert launched == []
    # The walk reached the input files the issue names, and more.
    assert {
        ("import", "files"),
        ("screen import-decisions", "path"),
        ("screen import-resolutions", "path"),
        ("dedup import-decisions", "path"),
        ("analyze file", "data"),
        ("analyze run", "data"),
        ("analyze check", "data"),
        ("screen fulltext", "file"),
        ("init", "question_file"),
        ("screen", "keys"),
    } <= checked


def test_fulltext_file_and_url(tmp_path: Path, review_db: Path) -> None:
    db = ["--db", str(review_db), "--as", "alice"]
    pdf = tmp_path / "lin2017.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    both = runner.invoke(
        app, ["screen", "fulltext", "1", "--file", str(pdf), "--url", "http://x", *db]
    )
    assert (
        both.exit_code == 2 and both.stderr == "reviewtool: error: give --file or --url, not both\n"
    )
    # An existing file passes the check and reaches the library (the review has no record 1).
    found = runner.invoke(app, ["screen", "fulltext", "1", "--file", str(pdf), *db])
    assert found.exit_code == 3 and "no record 1" in found.stderr


def test_as_and_db_before_a_sub_command_hold_for_it(review_db: Path, tmp_path: Path) -> None:
    export = tmp_path / "refs.ris"
    export.write_text("TY  - JOUR\nTI  - Otters\nPY  - 2010\nER  -\n", encoding="utf-8")
    db = str(review_db)
    assert (
        runner.invoke(
            app, ["import", str(export), "--source", "X", "--db", db, "--as", "alice"]
        ).exit_code
        == 0
    )
    # `reviewtool screen --as bob --db R decide ...` votes as bob in R, even with another
    # person in the environment; --as after the sub-command wins over --as before it.
    env = {"REVIEWTOOL_USER": "alice"}
    voted = runner.invoke(
        app, ["screen", "--as", "bob", "--db", db, "decide", "1", "include"], env=env
    )
    assert voted.exit_code == 0, voted.output
    mine = runner.invoke(app, ["screen", "--as", "zed", "--db", db, "undo", "--as", "bob"], env=env)
    assert mine.exit_code == 0 and "Undid your last vote, on record 1" in mine.stdout
    votes = [row for row in _ledger(review_db) if row[1] == "screening-decision"]
    assert votes == [("bob", "screening-decision"), ("bob", "screening-decision")]


def test_usage_errors_are_one_line(review_db: Path) -> None:
    cases = {
        ("status", "--bogus"): "No such option: --bogus (see `reviewtool status --help`)",
        ("--bogus",): "No such option: --bogus (see `reviewtool --help`)",
        ("bogus",): "No such command 'bogus' (see `reviewtool --help`)",
        (
            "screen",
            "decide",
            "one",
            "include",
        ): "Invalid value for 'record': Input should be a valid integer",
    }
    for args, message in cases.items():
        result = runner.invoke(app, [*args, "--db", str(review_db)])
        assert result.exit_code == 2, args
        assert result.stderr.startswith(f"reviewtool: error: {message}"), result.stderr
        assert result.stderr.count("\n") == 1
    assert runner.invoke(app, ["--help"]).exit_code == 0


def test_a_locked_database_is_one_line_exit_9(
    review_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.storage import engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(review_db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        args = [
            "member",
            "add",
            "dan",
            "--role",
            "reviewer",
            "--db",
            str(review_db),
            "--as",
            "alice",
        ]
        result = runner.invoke(app, args)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 9, result.output
    assert (
        result.stderr
        == f"reviewtool: error: cannot use the database {review_db}: database is locked\n"
    )
    debug = runner.invoke(app, ["--debug", *args])
    assert debug.exit_code == 0  # the lock is gone: the same command now works


def test_a_fault_in_reviewtool_is_one_line_and_debug_shows_it(
    review_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewtool.review.service as service

    def broken(session: object, *, actor: str) -> object:
        raise KeyError("stage")

    monkeypatch.setattr(service, "review_status", broken)
    args = ["status", "--db", str(review_db), "--as", "alice"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == (
        "reviewtool: internal error: KeyError: 'stage' "
        "(a fault in reviewtool: run again with --debug and report the traceback)\n"
    )
    debug = runner.invoke(app, ["--debug", *args])
    assert isinstance(debug.exception, KeyError)


def test_a_screen_that_stops_on_an_error_exits_non_zero(review_db: Path) -> None:
    from reviewtool.cli._common import run_screen
    from reviewtool.domain import Action

    class Crashed:
        return_code = 1

        def __init__(self, url: str, person: str) -> None:
            self.opened = (url, person)

        def run(self) -> None:
            pass

    with pytest.raises(typer.Exit) as stopped:
        run_screen(str(review_db), "alice", Action.SCREEN, Crashed)  # type: ignore[arg-type]
    assert stopped.value.exit_code == 1


def test_another_applications_alembic_database_is_not_a_review(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    conn.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
    conn.commit()
    conn.close()
    result = runner.invoke(app, ["status", "--db", str(path), "--as", "alice"])
    assert result.exit_code == 7
    assert result.stderr == (
        f"reviewtool: error: {path} is not a reviewtool review database: "
        "its schema revision 'ae1027a6acf' is not one of reviewtool's\n"
    )


def test_a_backup_that_cannot_be_written_stops_the_upgrade_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.errors import DatabaseUnavailable
    from reviewtool.storage import schema

    source = tmp_path / "review.db"
    sqlite3.connect(source).close()
    real_connect = sqlite3.connect

    def refuse_the_copy(database: str, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if ".bak-" in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(schema.sqlite3, "connect", refuse_the_copy)
    with pytest.raises(DatabaseUnavailable, match=r"cannot back up .*review\.db to .*\.bak-"):
        schema.backup_sqlite(str(source))


def test_a_reader_gone_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """Issue 8 follow-up, item 5: `reviewtool screen export | head` (the reader closes the pipe)
    is exit 141 (128 + SIGPIPE) with nothing on stderr, for plain writes (csv), rich tables and
    JSON alike, never "internal error: BrokenPipeError"."""
    import os
    import subprocess
    import sys

    db = str(tmp_path / "r.db")
    ris = tmp_path / "refs.ris"
    ris.write_text(
        "".join(f"TY  - JOUR\nTI  - Study {i}\nPY  - 2020\nER  -\n\n" for i in range(40))
    )
    for args in (
        ["init", "--title", "T"],
        ["import", str(ris), "--source", "MEDLINE"],
        ["screen", "unblind", "--stage", "tiab"],
    ):
        assert runner.invoke(app, [*args, "--db", db, "--as", "olga"]).exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "REVIEWTOOL_USER": "olga"}
    for command in (
        ["screen", "export"],
        ["records", "list"],
        ["records", "list", "--format", "json"],
        ["audit", "log", "--format", "csv"],
        ["dedup", "queue"],
        ["status"],
    ):
        child = subprocess.Popen(
            [sys.executable, "-m", "reviewtool", *command, "--db", db],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before the first line is written
        err = child.stderr.read()
        child.stderr.close()
        assert (command, child.wait(), err) == (command, 141, b"")


def test_every_refusal_names_what_was_tried_in_words(
    tmp_path: Path, review_db: Path, input_file: Path, launched: list[str]
) -> None:
    """Issue 8 follow-up, item 7: every command, run as bob (reviewer) and as carol (adjudicator):
    a refusal never names an internal action ("may not change-settings", "resolve-conflict"), and
    the ledger's access-refused event records as ``attempted`` the very words the message says."""
    import json
    import re

    from reviewtool.domain import Action

    internal = {a.value for a in Action if "-" in a.value}
    refusals = 0
    for entry in REVIEW_ENTRIES:
        for person in ("bob", "carol"):
            args = _args(entry, tmp_path, input_file=input_file)
            result = runner.invoke(app, [*args, "--db", str(review_db), "--as", person])
            if result.exit_code != 5 or re.search(r"hidden while [^;]*blind", result.stderr):
                continue  # (blinding hides the export, PRISMA, studies: not a missing role)
            refusals += 1
            said = re.search(r"may not (.+): that needs the role", result.stderr)
            assert said is not None, (entry.path, result.stderr)
            assert said.group(1) not in internal, (entry.path, person, result.stderr)
            conn = sqlite3.connect(review_db)
            try:
                (payload,) = conn.execute(
                    "SELECT payload FROM audit_event WHERE action = 'access-refused' "
                    "ORDER BY seq DESC LIMIT 1"
                ).fetchone()
            finally:
                conn.close()
            assert json.loads(payload)["attempted"] == said.group(1), entry.path
    assert refusals >= 15  # the walk met the owner-only, reviewer-only and adjudicator-only ones
    # The report's examples.
    for words, person, tried in (
        (["screen", "unblind", "--stage", "tiab"], "bob", "end blinding (screen unblind)"),
        (["adjudicate"], "bob", "open the adjudication screen"),
        (["screen", "conflicts"], "bob", "list conflicts"),
        (
            ["settings", "set", "screening.blind", "false"],
            "carol",
            "change the setting screening.blind",
        ),
    ):
        result = runner.invoke(app, [*words, "--db", str(review_db), "--as", person])
        assert result.exit_code == 5
        assert f"may not {tried}: that needs the role" in result.stderr


def test_db_and_as_before_a_sub_command_hold_at_the_root_and_on_every_group(
    review_db: Path, tmp_path: Path
) -> None:
    """Issue 8 follow-up, item 8: `reviewtool --as alice status` and `reviewtool member --as
    alice list` work as `status --as alice` does (README: before or after a sub-command); the
    sub-command's own wins. The environment names someone else, so the value typed is the one used."""
    groups = [typer.main.get_command(app)] + [
        e.command for e in ENTRIES if getattr(e.command, "commands", None)
    ]
    groups += [
        sub
        for sub in typer.main.get_command(app).commands.values()  # type: ignore[attr-defined]
        if getattr(sub, "commands", None)
    ]
    for group in groups:
        flags = {flag for p in group.params for flag in p.opts}
        assert {"--db", "--as"} <= flags, group.name
    env = {"REVIEWTOOL_USER": "mallory", "REVIEWTOOL_DB": str(tmp_path / "none.db")}
    where = ["--db", str(review_db), "--as", "alice"]
    for before, after in (
        ([], ["status", "--format", "json"]),
        (["member"], ["list", "--format", "json"]),
        (["settings"], ["show", "--format", "json"]),
        (["audit"], ["log", "--format", "json"]),
        (["records"], ["list", "--format", "json"]),
        (["dedup"], ["queue", "--format", "json"]),
        (["analyze"], ["runs", "--format", "json"]),
        (["screen"], ["stats", "--format", "json"]),
    ):
        result = runner.invoke(app, [*before, *where, *after], env=env)
        assert result.exit_code == 0, (before, result.stderr)
        expected = runner.invoke(app, [*before, *after, *where], env=env)
        assert result.stdout == expected.stdout, before
    # The sub-command's own --as beats the group's: bob may not add members, alice may.
    refused = runner.invoke(
        app,
        [
            "--as",
            "alice",
            "--db",
            str(review_db),
            "member",
            "add",
            "x",
            "-r",
            "reviewer",
            "--as",
            "bob",
        ],
    )
    assert refused.exit_code == 5 and "'bob' (reviewer) may not add members" in refused.stderr
