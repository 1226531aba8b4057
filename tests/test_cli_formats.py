"""Every ``--format`` prints the format asked (issue 9 item 6), and the small listing fixes:
conflicts with notes and history, the status question whole, integers as integers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from reviewtool.cli import app
from reviewtool.cli._common import OutputFormat

runner = CliRunner()

QUESTION = (
    "Efficacy and safety of mesenchymal stem cell (MSC) therapy in acute-on-chronic liver failure\n"
    "and chronic liver disease: a systematic review of randomised controlled trials.\n\n"
    "P: patients with chronic liver disease.\n"
)


def run(db: str, *args: str) -> Result:
    """Run a command as alice (the owner) unless ``--as`` says otherwise: reading needs a member."""
    return runner.invoke(app, [*args, "--db", db], env={"REVIEWTOOL_USER": "alice"})


@pytest.fixture
def db(tmp_path: Path) -> str:
    """alice (owner, reviewer votes), bob (reviewer), carol (adjudicator); a conflict on record 1
    with notes, resolved then reopened by bob; a contested resolution on record 2; a dedup run."""
    path = str(tmp_path / "r.db")
    (tmp_path / "q.md").write_text(QUESTION, encoding="utf-8")
    export = tmp_path / "refs.ris"
    export.write_text(
        "".join(
            f"TY  - JOUR\nID  - K{i}\nTI  - Study {i} of stem cells in cirrhosis\nPY  - 2020\nER  -\n\n"
            for i in (1, 2, 3)
        )
    )
    steps = [
        ["init", "--title", "T", "--question-file", str(tmp_path / "q.md"), "--as", "alice"],
        ["member", "add", "bob", "--role", "reviewer", "--as", "alice"],
        ["member", "add", "carol", "--role", "adjudicator", "--as", "alice"],
        ["import", str(export), "--source", "MEDLINE", "--as", "alice"],
        ["dedup", "run", "--as", "alice"],
        ["screen", "decide", "1", "include", "--note", "says randomised", "--as", "alice"],
        ["screen", "decide", "1", "exclude", "--reason", "animal study", "--note", "rats", "--as", "bob"],
        ["screen", "resolve", "1", "include", "--note", "methods: RCT", "--as", "carol"],
        ["screen", "decide", "1", "exclude", "--reason", "not an RCT", "--as", "bob"],
        ["screen", "decide", "2", "include", "--as", "alice"],
        ["screen", "decide", "2", "exclude", "--as", "bob"],
        ["screen", "resolve", "2", "include", "--as", "carol"],
        ["screen", "decide", "2", "exclude", "--as", "alice"],
    ]  # fmt: skip
    for args in steps:
        result = run(path, *args)
        assert result.exit_code == 0, (args, result.output)
    return path


def test_conflicts_as_csv_with_notes_and_history(db: str) -> None:
    result = run(db, "screen", "conflicts", "--as", "carol", "-f", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["record_id"], r["state"]) for r in rows] == [("1", "reopened"), ("2", "contested")]
    first = rows[0]
    assert first["votes"] == "alice: include; bob: exclude (not an RCT)"
    assert first["notes"] == "alice: says randomised"
    assert first["earlier_resolution"] == "include by carol"
    assert first["reopened_because"] == (
        "bob changed their vote from exclude (animal study) to exclude (not an RCT)"
    )
    assert rows[1]["resolution"] == "include by carol"
    assert rows[1]["contested"] == (
        "alice changed their vote from include to exclude; "
        "the votes now agree on exclude, against this resolution"
    )


def test_conflicts_table_shows_notes_and_why(db: str) -> None:
    result = runner.invoke(
        app, ["screen", "conflicts", "--as", "carol", "--db", db], env={"COLUMNS": "400"}
    )
    text = " ".join(result.stdout.split())
    assert "alice: include · note: says randomised" in text
    assert "reopened" in text and "contested" in text
    assert "earlier: include by carol, reopened 20" in text
    assert "bob changed their vote from exclude (animal study) to exclude (not an RCT)" in text
    assert "the votes now agree on exclude, against this resolution" in text


def _format_commands() -> list[str]:
    """Every command (as "group sub") whose --format takes table/csv/json (``OutputFormat``)."""
    found = []

    def walk(command: object, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
            return
        for param in getattr(command, "params", ()):
            descriptor = getattr(param, "type_descriptor", None)
            if "--format" in param.opts and getattr(descriptor, "annotation", None) is OutputFormat:
                found.append(" ".join(path))

    walk(typer.main.get_command(app), [])
    return sorted(found)


# What each such command needs besides --format (the test fails for a command missing here).
EXTRA_ARGS: dict[str, list[str]] = {
    "status": [],
    "settings show": [],
    "dedup run": ["--as", "alice"],
    "dedup queue": [],
    "dedup report": [],
    "records list": [],
    "records show": ["1"],
    "screen conflicts": ["--as", "carol"],
    "screen stats": [],
    "screen export": ["--as", "alice"],
    "member list": [],
    "audit log": ["--as", "alice"],
    "analyze runs": [],
    "study list": ["--as", "carol"],
    "prisma": ["--as", "carol"],
    "report prisma": ["--as", "carol"],
    "rob show": ["--as", "carol"],
    "rob status": ["--as", "carol"],
    "rob compare": ["--as", "carol"],
    "screen next": ["--as", "alice"],
    "screen stop-check": ["--as", "carol"],
    "screen calibrate": ["--as", "alice"],
}


@pytest.mark.parametrize("output", ["csv", "json"])
def test_every_format_option_prints_the_format_asked(db: str, tmp_path: Path, output: str) -> None:
    commands = _format_commands()
    # import and analyze take input files: below; study show needs a study included at full text
    # (tests/test_references.py::test_cli_records_show_study_commands_and_prisma).
    special = {"import", "analyze file", "analyze check", "study show"}
    # extract reads need a form and studies: tests/test_extraction_service.py::
    # test_every_extract_read_prints_the_format_asked
    special |= {"extract status", "extract values", "extract compare", "extract form show"}
    special |= {"simulate"}  # a labelled CSV: tests/test_screening_simulation.py (csv and json)
    assert set(commands) - special == set(EXTRA_ARGS), "add the new command to EXTRA_ARGS"
    for command in commands:
        if command in special:
            continue
        result = run(db, *command.split(), *EXTRA_ARGS[command], "--format", output)
        assert result.exit_code == 0, (command, result.output)
        _assert_is(output, result.stdout, command)
    more = tmp_path / "more.ris"
    more.write_text(f"TY  - JOUR\nID  - M{output}\nTI  - Another study\nPY  - 2021\nER  -\n\n")
    result = run(db, "import", str(more), "--source", "X", "--as", "alice", "--format", output)
    assert result.exit_code == 0, result.output
    _assert_is(output, result.stdout, "import")


def _assert_is(output: str, text: str, command: str) -> None:
    if output == "json":
        json.loads(text)
        return
    assert not text.lstrip().startswith(("{", "[")), f"{command} printed JSON for csv"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and len({len(r) for r in rows}) == 1, f"{command}: not a rectangular CSV"
    assert len(rows[0]) >= 2, f"{command}: {rows[0]}"


def test_stats_and_status_csv_values(db: str) -> None:
    stats = list(
        csv.DictReader(io.StringIO(run(db, "screen", "stats", "-f", "csv", "--as", "carol").stdout))
    )
    by = {(r["stage"], r["measure"]): r["value"] for r in stats}
    assert by[("tiab", "references")] == "3"
    assert by[("tiab", "conflicts_open")] == "1"  # record 1 (record 2's resolution stands)
    assert by[("tiab", "conflicts_resolved")] == "1"
    status = list(
        csv.DictReader(io.StringIO(run(db, "status", "-f", "csv", "--as", "carol").stdout))
    )
    assert {"section": "member", "name": "carol", "value": "adjudicator"} in status
    settings = list(csv.DictReader(io.StringIO(run(db, "settings", "show", "-f", "csv").stdout)))
    assert {"key": "screening.reviewers_required", "value": "2"} in settings
    assert {"key": "screening.reason_required_tiab", "value": "false"} in settings
    report = list(csv.DictReader(io.StringIO(run(db, "dedup", "report", "-f", "csv").stdout)))
    assert report[-1] == {
        "source": "all",
        "identified": "3",
        "duplicates_removed": "0",
        "kept": "3",
    }


def test_status_prints_the_question_whole(db: str) -> None:
    result = runner.invoke(app, ["status", "--db", db, "--as", "alice"], env={"COLUMNS": "80"})
    text = " ".join(result.stdout.split())
    assert (
        "Efficacy and safety of mesenchymal stem cell (MSC) therapy in acute-on-chronic liver "
        "failure and chronic liver disease: a systematic review of randomised controlled trials."
    ) in text
    assert "P: patients" not in text  # the first paragraph only


def test_question_summary_cuts_at_a_sentence_or_a_word() -> None:
    from reviewtool.cli.status import question_summary

    long = "First sentence here. " + "word " * 200
    assert question_summary(long, limit=100) == "First sentence here. …"
    assert question_summary("alpha beta gamma delta", limit=13) == "alpha beta …"
    assert (
        question_summary("Does X help\nadults with Y?\n\nP: adults") == "Does X help adults with Y?"
    )
