"""The screening commands' wiring: votes, blinding for reviewers, adjudication, export, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "r.db")
    export = tmp_path / "refs.ris"
    export.write_text(
        "".join(
            f"TY  - JOUR\nID  - K{i}\nTI  - Study {i} of cells\nPY  - 2020\nER  -\n\n"
            for i in (1, 2, 3)
        )
    )
    for args in (
        ["init", "--title", "T", "--as", "alice"],
        ["member", "add", "bob", "--role", "reviewer", "--as", "alice"],
        ["member", "add", "carol", "--role", "adjudicator", "--as", "alice"],
        ["import", str(export), "--source", "MEDLINE", "--as", "alice"],
    ):
        result = runner.invoke(app, [*args, "--db", path])
        assert result.exit_code == 0, result.output
    return path


def run(db: str, *args: str) -> object:
    return runner.invoke(app, [*args, "--db", db])


def test_votes_conflict_resolution_export_and_stats(db: str) -> None:
    assert run(db, "screen", "decide", "1", "include", "--as", "alice").exit_code == 0
    bob = run(
        db,
        "screen",
        "decide",
        "1",
        "exclude",
        "--reason",
        "animal study",
        "--note",
        "rats",
        "--as",
        "bob",
    )
    assert bob.exit_code == 0 and "exclude (animal study)" in bob.stdout
    # A reviewer cannot list conflicts (it would show the other vote); the adjudicator can.
    refused = run(db, "screen", "conflicts", "--as", "bob")
    assert refused.exit_code == 5
    assert refused.stderr == (
        "reviewtool: error: 'bob' (reviewer) may not list conflicts: "
        "that needs the role adjudicator\n"
    )
    conflicts = json.loads(run(db, "screen", "conflicts", "--as", "carol", "-f", "json").stdout)
    assert [(v["reviewer"], v["note"]) for v in conflicts[0]["votes"]] == [
        ("alice", None),
        ("bob", "rats"),
    ]
    # Open records never appear in an export.
    assert run(db, "screen", "export", "--as", "alice").stdout.strip().splitlines() == [
        "record_id,source_key,stage,decision,reason,via,contested,title,labels,orders"
    ]
    assert (
        run(
            db, "screen", "resolve", "1", "exclude", "--reason", "animal study", "--as", "carol"
        ).exit_code
        == 0
    )
    lines = run(db, "screen", "export", "--as", "alice").stdout.strip().splitlines()
    assert lines[1].startswith("1,K1,tiab,exclude,animal study,adjudication")
    # bob is a reviewer and tiab is still blind: decided or not, the export would show alice's vote.
    refused = run(db, "screen", "export", "--as", "bob")
    assert refused.exit_code == 5 and refused.stdout == ""
    assert "hidden while the stage is blind" in refused.stderr
    stats = json.loads(run(db, "screen", "stats", "--format", "json", "--as", "alice").stdout)
    assert stats["tiab"]["excluded_by_reason"] == {"animal study": 1}
    assert stats["tiab"]["conflicts_resolved"] == 1
    assert "maybe counts as include" in stats["tiab"]["note"]


def test_audit_log_leaves_out_other_votes_for_reviewers(db: str) -> None:
    run(db, "screen", "decide", "2", "exclude", "--reason", "not an RCT", "--as", "alice")
    run(db, "screen", "decide", "2", "include", "--as", "bob")
    seen_by_bob = json.loads(
        run(
            db, "audit", "log", "--action", "screening-decision", "--as", "bob", "-f", "json"
        ).stdout
    )
    # Not even a redacted row: which record alice voted on, and when, is her progress.
    assert [(e["actor"], e["entity_id"]) for e in seen_by_bob] == [("bob", "2:tiab:bob")]
    seen_by_alice = run(
        db, "audit", "log", "--action", "screening-decision", "--as", "alice", "-f", "json"
    ).stdout  # alice is the owner: she sees every vote
    assert "not an RCT" in seen_by_alice and '"2:tiab:bob"' in seen_by_alice
    refused = run(db, "screen", "unblind", "--stage", "tiab", "--as", "bob")
    assert refused.exit_code == 5 and refused.stderr == (
        "reviewtool: error: 'bob' (reviewer) may not end blinding (screen unblind): "
        "that needs the role owner\n"
    )
    unblind = run(db, "screen", "unblind", "--stage", "tiab", "--as", "alice")
    assert unblind.exit_code == 0
    assert unblind.stdout == "Blinding at tiab ended: reviewers now see each other's votes there.\n"
    after = json.loads(
        run(
            db, "audit", "log", "--action", "screening-decision", "--as", "bob", "-f", "json"
        ).stdout
    )
    assert [e["actor"] for e in after] == ["alice", "bob"]
    assert after[0]["payload"]["after"]["reason"] == "not an RCT"


def test_bad_input_one_line(db: str, tmp_path: Path) -> None:
    result = run(db, "screen", "decide", "1", "exclude", "--reason", "boredom", "--as", "alice")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "unknown exclusion reason 'boredom'" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,decision\n1,include\nx,include\n")
    result = run(db, "screen", "import-decisions", str(bad), "--as", "bob")
    assert (
        result.exit_code == 2
        and "bad.csv:3: 'x' is not a whole number (record and pair ids are)" in result.stderr
    )
    assert (
        json.loads(run(db, "screen", "stats", "-f", "json", "--as", "alice").stdout)["tiab"][
            "agreement"
        ]
        == []
    )
    result = run(db, "screen", "fulltext", "1", "--file", str(tmp_path / "a.pdf"), "--as", "alice")
    assert (
        result.exit_code == 2
        and result.stderr == f"reviewtool: error: {tmp_path / 'a.pdf'}: no such file\n"
    )
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4\n")
    result = run(db, "screen", "fulltext", "1", "--file", str(tmp_path / "a.pdf"), "--as", "alice")
    assert result.exit_code == 6 and "not included at title/abstract" in result.stderr


def _contested(db: str) -> None:
    """Record 1: carol resolved include; then the votes came to agree on exclude (contested).
    Record 2: agreed include."""
    for args in (
        ["screen", "decide", "1", "include", "--as", "alice"],
        ["screen", "decide", "1", "exclude", "--reason", "not an RCT", "--as", "bob"],
        ["screen", "resolve", "1", "include", "--as", "carol"],
        ["screen", "decide", "1", "exclude", "--reason", "not an RCT", "--as", "alice"],
        ["screen", "decide", "2", "include", "--as", "alice"],
        ["screen", "decide", "2", "include", "--as", "bob"],
    ):
        assert run(db, *args).exit_code == 0, args


CONTESTED = (
    "alice changed their vote from include to exclude (not an RCT); the votes now agree on "
    "exclude (not an RCT), against this resolution"
)


def test_export_marks_a_contested_resolution_in_every_format(db: str) -> None:
    """Issue 8 follow-up, items 4 and 10: a contested record says so (and why); --format csv
    (the default), json and table."""
    _contested(db)
    csv_out = run(db, "screen", "export", "--as", "alice")
    assert csv_out.stdout.splitlines() == [
        "record_id,source_key,stage,decision,reason,via,contested,title,labels,orders",
        # orders: the queue order each vote was cast in (issue 15; `screen decide` stamps the
        # order in effect for the reviewer, random by default).
        f'1,K1,tiab,include,,adjudication,"{CONTESTED}",Study 1 of cells,,alice: random; bob: random',
        "2,K2,tiab,include,,agreement,,Study 2 of cells,,alice: random; bob: random",
    ]
    assert run(db, "screen", "export", "--as", "alice", "--format", "csv").stdout == csv_out.stdout
    rows = json.loads(run(db, "screen", "export", "--as", "alice", "--format", "json").stdout)
    assert [(r["record_id"], r["via"], r["contested"]) for r in rows] == [
        (1, "adjudication", CONTESTED),
        (2, "agreement", ""),
    ]
    assert rows[0]["labels"] == [] and rows[0]["source_key"] == "K1"
    table = run(db, "screen", "export", "--as", "alice", "--format", "table")
    assert table.exit_code == 0
    line = next(t for t in table.stdout.splitlines() if t.startswith("│ 1 "))
    assert "adjudication" in line and "yes" in line
    refused = run(db, "screen", "export", "--as", "bob", "--format", "json")
    assert refused.exit_code == 5 and refused.stdout == ""


def test_stats_say_the_stage_is_blind_and_to_whom(db: str) -> None:
    """Item 4: at a blind stage the owner reads blind true and blind_to_you false; the reviewer
    both true; once unblinded both false. CSV flattens the agreement table to one row per cell."""
    _contested(db)
    owner = json.loads(run(db, "screen", "stats", "-f", "json", "--as", "alice").stdout)["tiab"]
    assert (owner["blind"], owner["blind_to_you"], owner["included"]) == (True, False, 2)
    bob = json.loads(run(db, "screen", "stats", "-f", "json", "--as", "bob").stdout)["tiab"]
    assert (bob["blind"], bob["blind_to_you"], bob["included"]) == (True, True, None)
    text = run(db, "screen", "stats", "--stage", "tiab", "--as", "alice").stdout
    assert "tiab is blind to reviewers" in " ".join(text.split())
    rows = run(db, "screen", "stats", "-f", "csv", "--stage", "tiab", "--as", "alice").stdout
    lines = rows.splitlines()
    assert "{" not in rows and "tiab,blind,true" in lines and "tiab,blind_to_you,false" in lines
    # Record 1: both exclude now; record 2: both include.
    assert [line for line in lines if ": table: " in line] == [
        "tiab,agreement alice/bob: table: include/include,1",
        "tiab,agreement alice/bob: table: include/exclude,0",
        "tiab,agreement alice/bob: table: exclude/include,0",
        "tiab,agreement alice/bob: table: exclude/exclude,1",
    ]
    assert run(db, "screen", "unblind", "--stage", "tiab", "--as", "alice").exit_code == 0
    after = json.loads(run(db, "screen", "stats", "-f", "json", "--as", "bob").stdout)["tiab"]
    assert (after["blind"], after["blind_to_you"], after["included"]) == (False, False, 2)


def test_records_show_prints_the_raw_text_and_no_key_none(db: str, tmp_path: Path) -> None:
    """Issue 8 follow-up, item 9: the table view shows the raw text (README and --help promise
    it) and says "key" only when the file gave one."""
    shown = run(db, "records", "show", "1", "--as", "alice")
    assert shown.exit_code == 0
    lines = [line.rstrip() for line in shown.stdout.splitlines()]
    assert "record: 1 · batch 1 (MEDLINE, refs.ris line 1, imported by alice) · key K1" in lines
    raw = lines.index("raw text, as in the file:")
    assert lines[raw + 1 : raw + 6] == [
        "TY  - JOUR",
        "ID  - K1",
        "TI  - Study 1 of cells",
        "PY  - 2020",
        "ER  -",
    ]
    keyless = tmp_path / "keyless.ris"
    keyless.write_text("TY  - JOUR\nTI  - No key here\nPY  - 2021\nER  -\n")
    assert run(db, "import", str(keyless), "--source", "X", "--as", "alice").exit_code == 0
    shown = run(db, "records", "show", "4", "--as", "alice").stdout
    assert "key None" not in shown and "None" not in shown
    assert "record: 4 · batch 2 (X, keyless.ris line 1, imported by alice)\n" in shown
    assert "TI  - No key here" in shown
