"""`reviewtool report build` on a review with no data yet, who may build it, and how the folder is
written (a temporary sibling renamed when complete; nothing left behind on failure)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()


def _build(url: str, out: Path, actor: str) -> object:
    return runner.invoke(app, ["--db", url, "report", "build", str(out), "--as", actor])


def test_a_new_review_gets_a_section_per_part_saying_what_is_missing(
    fresh_review: object, review_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = _build(review_url, out, "alice")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    page = (out / "index.html").read_text(encoding="utf-8")
    for section in ("prisma", "characteristics", "risk-of-bias", "results", "forest",
                    "subgroups", "leave-one-out", "agreement", "settings", "audit"):  # fmt: skip
        assert f'<section id="{section}">' in page
    assert "No extraction form yet." in page
    assert "No consensus risk-of-bias judgements yet." in page
    assert "No analysis run yet" in page
    assert "No two reviewers&#x27; votes to compare yet." in page
    manifest = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert manifest["analysis_run"] is None
    assert not (out / "results.csv").exists() and (out / "settings.csv").is_file()
    assert (out / "prisma.svg").is_file()


def test_a_reviewer_is_refused_while_a_stage_is_blind_to_them(
    fresh_review: object, review_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "o" / "report"
    result = _build(review_url, out, "bob")
    assert result.exit_code == 5
    assert result.stderr.strip().count("\n") == 0  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        "reviewtool: error: the report shows every stage's outcomes, hidden while title/abstract "
        "screening is blind; a reviewer may build it once no stage is blind to them (owners and "
        "adjudicators at any time)\n"
    )  # type: ignore[attr-defined]
    assert not out.parent.exists()
    assert _build(review_url, tmp_path / "r2", "carol").exit_code == 0  # type: ignore[attr-defined]
    # Screening unblinded by the owner; risk of bias (which follows full text) still blind to bob.
    result = runner.invoke(
        app, ["--db", review_url, "settings", "set", "screening.blind", "false", "--as", "alice"]
    )
    assert result.exit_code == 0, result.output
    result = _build(review_url, out, "bob")
    assert result.exit_code == 5  # type: ignore[attr-defined]
    assert "hidden while risk of bias is blind" in result.stderr  # type: ignore[attr-defined]
    result = runner.invoke(app, ["--db", review_url, "rob", "unblind", "--as", "alice"])
    assert result.exit_code == 0, result.output
    assert _build(review_url, tmp_path / "r3", "bob").exit_code == 0  # type: ignore[attr-defined]


def test_the_folder_is_written_whole_or_not_at_all(
    fresh_review: object, review_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "o" / "report"
    assert _build(review_url, out, "alice").exit_code == 0  # type: ignore[attr-defined]
    first = json.loads((out / "report.json").read_text(encoding="utf-8"))["built_at"]
    (out / "stale.txt").write_text("from before", encoding="utf-8")
    from reviewtool.report import build

    def broken(*args: object) -> object:
        raise OSError("disk full")

    monkeypatch.setattr(build, "_agreement", broken)
    result = _build(review_url, out, "alice")
    assert result.exit_code != 0
    # The earlier report is untouched and no temporary folder is left beside it.
    assert (out / "stale.txt").is_file()
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["built_at"] == first
    assert [p.name for p in out.parent.iterdir()] == ["report"]
    monkeypatch.undo()
    assert _build(review_url, out, "alice").exit_code == 0  # type: ignore[attr-defined]
    assert not (out / "stale.txt").exists(), "a new build replaces the earlier report whole"
    assert [p.name for p in out.parent.iterdir()] == ["report"]


def test_a_foreign_folder_or_a_file_is_refused(
    fresh_review: object, review_url: str, tmp_path: Path
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    result = _build(review_url, mine, "alice")
    assert result.exit_code == 2
    assert result.stderr.strip() == (  # type: ignore[attr-defined]
        f"reviewtool: error: {mine}: a folder that is not an earlier report (no report.json); "
        "name a new folder or an empty one"
    )
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    afile = tmp_path / "file"
    afile.write_text("x", encoding="utf-8")
    result = _build(review_url, afile, "alice")
    assert result.exit_code == 2 and "exists and is not a folder" in result.stderr  # type: ignore[attr-defined]
    assert runner.invoke(app, ["--db", review_url, "report", "build", str(tmp_path / "x"),
                               "--run", "7", "--as", "alice"]).exit_code == 3  # fmt: skip


def test_table_cells_are_neutralised_in_csv_and_xlsx(tmp_path: Path) -> None:
    """OWASP CSV injection: a text cell starting with = + - @ gets a leading apostrophe; numbers stay."""
    from openpyxl import load_workbook

    from reviewtool.report.build import write_table

    rows = [{"study": '=HYPERLINK("http://x")', "n": 12, "estimate": -0.42, "note": "@SUM(A1)"}]
    write_table(tmp_path, "t", ("study", "n", "estimate", "note"), rows)
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row == {"study": "'=HYPERLINK(\"http://x\")", "n": "12", "estimate": "-0.42",
                   "note": "'@SUM(A1)"}  # fmt: skip
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet[2]] == ['\'=HYPERLINK("http://x")', 12, -0.42, "'@SUM(A1)"]
    assert "| =HYPERLINK" in (tmp_path / "t.md").read_text(encoding="utf-8")


def test_the_report_folder_is_written_by_the_one_export_folder_writer(
    fresh_review: object, review_url: str, tmp_path: Path
) -> None:
    """`report build` writes through `outfolder.written_whole`, as every export folder does: the
    folder carries its `.reviewtool-export` marker (kind "report", every file listed), and the
    leftovers of a build killed midway (`.report.partial-PID-…` of a process that is gone) are
    cleared by the next one."""
    import subprocess
    import sys

    from reviewtool.outfolder import MARKER

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".report.partial-{int(dead.stdout)}-abc123"
    stale.mkdir()
    (stale / "index.html").write_text("<html>half", encoding="utf-8")
    out = tmp_path / "report"
    assert _build(review_url, out, "alice").exit_code == 0  # type: ignore[attr-defined]
    assert not stale.exists()
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert marker["kind"] == "report"
    assert marker["files"] == [f for f in written if f != MARKER]
    assert "report.json" in marker["files"] and "index.html" in marker["files"]
