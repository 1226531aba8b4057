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
        "record_id,source_key,stage,decision,reason,via,title,labels"
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
    assert refused.exit_code == 5 and "may not change-settings" in refused.stderr
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
