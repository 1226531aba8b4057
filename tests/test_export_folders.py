"""Export folders are written whole, and an ``analyze run`` retry stores nothing new (issue 14 §2).

Every ``--out DIR`` folder (``analyze run``, ``analyze export``, ``rob plot``, ``report prisma``)
is written into a temporary sibling and renamed into place when complete: a failure in the middle
of writing (a plot writer raising, simulated here) leaves DIR absent or as it was, and no temporary
folder. ``benchmarks/crash_safety.py --only analysis`` checks the same under SIGKILL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reviewtool.analysis import plots as plotting
from reviewtool.analysis import service as analysis
from reviewtool.analysis.service import export_run, run_analysis
from reviewtool.cli import app
from reviewtool.errors import InvalidInput
from reviewtool.outfolder import MARKER, written_whole
from reviewtool.storage.models import AnalysisRun, AuditEvent

runner = CliRunner()

HEADER = "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con"
ROWS = [
    "A 2010,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36",
    "B 2012,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30",
    "C 2015,MELD,4 weeks,12.5,3.0,25,13.0,3.0,24",
    "A 2010,MELD,12 weeks,16.0,4.0,37,18.5,4.5,35",
    "B 2012,MELD,12 weeks,17.5,5.0,27,18.0,5.0,30",
]


def _csv(tmp_path: Path, rows: list[str] = ROWS, name: str = "outcomes.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (relative names)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _siblings(folder: Path) -> list[str]:
    """The other entries of ``folder``'s parent that are named after it (temporary folders)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def _run(review: Any, path: Path, **kw: Any) -> Any:
    with review.transaction() as session:
        return run_analysis(session, actor="bob", data_path=path, name="main", **kw)


def _export(review: Any, run_id: int, out: Path) -> Any:
    with review.reading() as session:
        return export_run(session, run_id, out, ["csv", "md"])


def _count(review: Any, table: Any) -> int:
    with review.reading() as session:
        return len(session.exec(select(table)).all())


def _failing_draw_all(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the plot writer draw its first plot, then raise (as a full disk or a bug would)."""
    drawn: list[str] = []

    def draw_all(jobs: Any, **_: Any) -> list[str]:
        drawn.extend(plotting.draw_job(jobs[0]))
        raise OSError(28, "No space left on device", jobs[1]["paths"][0])

    monkeypatch.setattr(plotting, "draw_all", draw_all)
    return drawn


# ------------------------------------------------------------------------- the helper itself


def test_a_failure_inside_leaves_no_folder_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), written_whole(out, kind="test") as temp:
        (temp / "a.txt").write_text("half", encoding="utf-8")
        assert not out.exists()  # nothing at DIR while it is written
        assert temp.parent == tmp_path and temp.name.startswith(".out.partial-")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_a_completed_folder_carries_the_marker_and_replaces_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with written_whole(out, kind="test") as temp:
        (temp / "old.txt").write_text("1", encoding="utf-8")
    assert json.loads((out / MARKER).read_text()) == {"kind": "test", "files": ["old.txt"]}
    with written_whole(out, kind="test") as temp:
        (temp / "sub").mkdir()
        (temp / "sub" / "new.txt").write_text("2", encoding="utf-8")
        assert (out / "old.txt").read_text() == "1"  # the old folder stays until the new is whole
    assert _tree(out) == {MARKER: _tree(out)[MARKER], "sub/new.txt": b"2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_with_files_reviewtool_did_not_write_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"out: exists and holds files .*notes\.txt"):
        with written_whole(out, kind="test") as temp:
            (temp / "a.txt").write_text("x", encoding="utf-8")
    assert _tree(out) == {"notes.txt": b"mine"}
    assert _siblings(out) == []
    # A folder holding only files the new export writes again is replaced (an export made
    # before folders had a marker).
    (out / "notes.txt").unlink()
    (out / "a.txt").write_text("old", encoding="utf-8")
    with written_whole(out, kind="test") as temp:
        (temp / "a.txt").write_text("new", encoding="utf-8")
    assert (out / "a.txt").read_text() == "new"


def test_a_file_added_to_an_export_folder_later_is_not_lost(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with written_whole(out, kind="test") as temp:
        (temp / "a.txt").write_text("1", encoding="utf-8")
    (out / "my notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"my notes\.txt"):
        with written_whole(out, kind="test") as temp:
            (temp / "a.txt").write_text("2", encoding="utf-8")
    assert (out / "my notes.txt").read_text() == "mine" and (out / "a.txt").read_text() == "1"


def test_leftovers_of_a_killed_process_are_cleared_by_the_next_export(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    out = tmp_path / "out"
    stale = tmp_path / f".out.partial-{pid}-abc123"
    stale.mkdir()
    (stale / "forest.png").write_bytes(b"half")
    alive = tmp_path / f".out.partial-{os.getpid()}-def456"  # a live process's: kept
    alive.mkdir()
    with written_whole(out, kind="test") as temp:
        (temp / "a.txt").write_text("x", encoding="utf-8")
    assert not stale.exists() and alive.exists()


def test_an_out_that_is_a_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file", encoding="utf-8")
    with pytest.raises(InvalidInput, match="out: exists and is not a folder"):
        with written_whole(out, kind="test"):
            pytest.fail("the block must not run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ------------------------------------------------------------------------------- the analysis


def test_analysis_export_failing_midway_leaves_no_folder(
    fresh_review: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(fresh_review, _csv(tmp_path))
    out = tmp_path / "analysis"
    drawn = _failing_draw_all(monkeypatch)
    with pytest.raises(InvalidInput, match="No space left on device"):
        _export(fresh_review, run.id, out)
    # The tables and one forest plot had been written (in the temporary folder) before the error.
    assert len(drawn) == 2 and ".analysis.partial-" in drawn[0]
    assert not out.exists() and _siblings(out) == []


def test_analysis_export_failing_midway_leaves_the_old_folder_unchanged(
    fresh_review: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _run(fresh_review, _csv(tmp_path))
    out = tmp_path / "analysis"
    report = _export(fresh_review, first.id, out)
    before = _tree(out)
    # pooled.csv, studies.csv, analysis.md, results.json; the 2 time points' metafor-ready CSVs;
    # the 2 time points' forest plots and the outcome's, each in PNG and SVG (no funnel: k < 10;
    # no --by, --loo, --bias tables).
    assert len(report.files) == 4 + 2 + 3 * 2
    assert set(before) == {Path(f).relative_to(out).as_posix() for f in report.files} | {MARKER}
    second = _run(fresh_review, _csv(tmp_path, ROWS[:3], name="other.csv"))
    with monkeypatch.context() as patch:
        _failing_draw_all(patch)
        with pytest.raises(InvalidInput):
            _export(fresh_review, second.id, out)
    assert _tree(out) == before and _siblings(out) == []
    # Without the failure the second run's export replaces the folder whole: the first run's
    # 12-week plots are gone, not mixed in.
    _export(fresh_review, second.id, out)
    after = _tree(out)
    assert "plots/forest_MELD_12-weeks.png" in before
    assert "plots/forest_MELD_12-weeks.png" not in after
    assert json.loads(after["results.json"]) == second.results
    assert _siblings(out) == []


def test_table_writer_failing_midway_leaves_no_folder(
    fresh_review: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(fresh_review, _csv(tmp_path))
    out = tmp_path / "analysis"

    def broken(path: Path, run: Any, tables: Any) -> None:
        path.write_text("# half a table", encoding="utf-8")
        raise RuntimeError("killed while writing analysis.md")

    monkeypatch.setattr(analysis, "_write_md", broken)
    with pytest.raises(RuntimeError):
        _export(fresh_review, run.id, out)
    assert not out.exists() and _siblings(out) == []


# ---------------------------------------------------------------------- a retry stores nothing


def test_a_retry_reports_the_stored_run_and_stores_nothing(
    fresh_review: Any, tmp_path: Path
) -> None:
    path = _csv(tmp_path)
    first = _run(fresh_review, path, loo=True)
    events = _count(fresh_review, AuditEvent)
    again = _run(fresh_review, path, loo=True)
    assert again.already_stored and not first.already_stored
    assert (again.id, again.results, again.run_at) == (first.id, first.results, first.run_at)
    assert _count(fresh_review, AnalysisRun) == 1 and _count(fresh_review, AuditEvent) == events
    # The same bytes under another file name are the same input (the hash is what counts).
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert _run(fresh_review, copy, loo=True).id == first.id


def test_a_changed_input_setting_or_name_stores_a_new_run(
    fresh_review: Any, tmp_path: Path
) -> None:
    from reviewtool.review.service import set_setting

    path = _csv(tmp_path)
    first = _run(fresh_review, path)
    ids = {first.id}
    ids.add(_run(fresh_review, path, loo=True).id)  # an option
    ids.add(_run(fresh_review, _csv(tmp_path, [*ROWS[:-1], ROWS[-1].replace("17.5", "17.4")])).id)
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="analysis.tau2", value="DL")
    ids.add(_run(fresh_review, _csv(tmp_path)).id)  # a review setting (τ² estimator)
    with fresh_review.transaction() as session:
        renamed = run_analysis(session, actor="bob", data_path=path, name="other", by=())
    ids.add(renamed.id)
    assert len(ids) == 5 == _count(fresh_review, AnalysisRun)


def test_cli_retry_says_which_run_and_exports_it_again(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    for args in (
        ("init", "--title", "T", "--as", "alice"),
        ("member", "add", "bob", "--role", "reviewer", "--as", "alice"),
    ):
        assert runner.invoke(app, [*args, "--db", db]).exit_code == 0
    data, out = _csv(tmp_path), tmp_path / "analysis"
    cmd = ["analyze", "run", str(data), "--name", "main", "--db", db, "--as", "bob"]
    first = runner.invoke(app, cmd)
    assert first.exit_code == 0, first.output
    assert "Stored as run 1" in first.stdout
    again = runner.invoke(app, [*cmd, "--out", str(out), "-e", "csv"])
    assert again.exit_code == 0, again.output
    assert (
        "Run 1 already holds this analysis (same name, settings and input); its results are "
        "unchanged." in " ".join(again.stdout.split())
    )
    assert "Stored as run" not in again.stdout
    # pooled.csv, studies.csv, results.json, 2 metafor-ready CSVs and 6 plots
    assert f"Wrote 11 files to {out}" in " ".join(again.stdout.split())
    assert (out / "plots" / "forest_MELD_12-weeks.svg").is_file()
    runs = runner.invoke(app, ["analyze", "runs", "-f", "json", "--db", db, "--as", "bob"])
    assert [r["id"] for r in json.loads(runs.stdout)] == [1]
    changed = runner.invoke(app, [*cmd, "--loo"])
    assert changed.exit_code == 0 and "Stored as run 2" in changed.stdout


def test_cli_export_into_a_foreign_folder_is_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    for args in (
        ("init", "--title", "T", "--as", "alice"),
        ("member", "add", "bob", "--role", "reviewer", "--as", "alice"),
        ("analyze", "run", str(_csv(tmp_path)), "--name", "main", "--as", "bob"),
    ):
        assert runner.invoke(app, [*args, "--db", db]).exit_code == 0
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    result = runner.invoke(
        app, ["analyze", "export", "1", "--out", str(out), "--db", db, "--as", "bob"]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "thesis.docx" in result.stderr
    assert _tree(out) == {"thesis.docx": b"precious"} and _siblings(out) == []


# ------------------------------------------------------------------- rob plot, report prisma


def test_rob_plot_failing_midway_leaves_the_old_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rob_review import build_rob_review

    from reviewtool.rob import figures

    url = build_rob_review(tmp_path / "rob.db")
    db = url.removeprefix("sqlite:///")
    for study in ("Suk 2016", "Xu 2014", "Xu 2019"):
        for domain in "ABCDEFG":
            ok = runner.invoke(app, ["rob", "set", study, domain, "Low", "--db", db, "--as", "bob"])
            assert ok.exit_code == 0, ok.output
    out = tmp_path / "rob"
    cmd = ["rob", "plot", "--out", str(out), "--source", "bob", "--db", db, "--as", "bob"]
    first = runner.invoke(app, cmd)
    assert first.exit_code == 0, first.output
    before = _tree(out)
    assert set(before) == {
        MARKER, "traffic_light.png", "traffic_light.svg", "summary.png", "summary.svg"
    }  # fmt: skip

    def broken(table: Any, path: Path, **_: Any) -> Path:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(figures, "summary_plot", broken)  # after traffic_light.png is written
    failed = runner.invoke(app, cmd)
    assert failed.exit_code == 2 and "No space left on device" in failed.stderr
    assert _tree(out) == before and _siblings(out) == []
    fresh = tmp_path / "new"
    assert runner.invoke(app, [*cmd[:3], str(fresh), *cmd[4:]]).exit_code == 2
    assert not fresh.exists() and _siblings(fresh) == []


def test_report_prisma_failing_midway_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.report import prisma

    db = str(tmp_path / "r.db")
    assert runner.invoke(app, ["init", "--title", "T", "--db", db, "--as", "alice"]).exit_code == 0

    def broken(report: Any, path: Path) -> Path:
        path.write_text("Data,node,box", encoding="utf-8")
        raise OSError(5, "Input/output error", str(path))

    monkeypatch.setattr(prisma, "write_template_csv", broken)  # after the SVG and PNG
    out = tmp_path / "report"
    result = runner.invoke(
        app, ["report", "prisma", "--out", str(out), "--db", db, "--as", "alice"]
    )
    assert result.exit_code == 2 and "Input/output error" in result.stderr
    assert not out.exists() and _siblings(out) == []


# ------------------------------------------------------------------------------ single files


def test_a_file_is_replaced_only_when_complete(tmp_path: Path) -> None:
    from reviewtool.outfolder import written_file

    out = tmp_path / "table.xlsx"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), written_file(out) as temp:
        assert temp.suffix == ".xlsx" and temp.name.startswith(".table.xlsx.partial-")
        temp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert out.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [out]
    with written_file(out) as temp:
        temp.write_bytes(b"new")
    assert out.read_bytes() == b"new" and sorted(tmp_path.iterdir()) == [out]
    with pytest.raises(InvalidInput, match="does not exist"):
        with written_file(tmp_path / "no" / "such.csv"):
            pytest.fail("the block must not run")


def test_a_new_file_is_never_put_over_one(tmp_path: Path) -> None:
    """``written_new_file`` (backups): refused before the block when the name is taken, and,
    nothing replaced, when another program takes it while the block runs."""
    from reviewtool.outfolder import written_new_file

    taken = tmp_path / "taken.db"
    taken.write_bytes(b"mine")
    with pytest.raises(InvalidInput, match="exists already"):
        with written_new_file(taken):
            pytest.fail("the block must not run")
    late = tmp_path / "late.db"
    with pytest.raises(InvalidInput, match="exists already"), written_new_file(late) as temp:
        assert temp.name.startswith(".late.db.partial-") and temp.suffix == ".db"
        temp.write_bytes(b"the copy")
        late.write_bytes(b"made meanwhile")
    assert late.read_bytes() == b"made meanwhile"
    fresh = tmp_path / "fresh.db"
    with written_new_file(fresh) as temp:
        temp.write_bytes(b"the copy")
    assert fresh.read_bytes() == b"the copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.db", "late.db", "taken.db"]


def test_rob_export_failing_midway_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import Workbook
    from rob_review import build_rob_review

    url = build_rob_review(tmp_path / "rob.db")
    db = url.removeprefix("sqlite:///")
    ok = runner.invoke(app, ["rob", "set", "Suk 2016", "A", "Low", "--db", db, "--as", "bob"])
    assert ok.exit_code == 0, ok.output
    out = tmp_path / "rob.xlsx"
    out.write_bytes(b"an earlier export")
    cmd = ["rob", "export", "-f", "xlsx", "--out", str(out), "--source", "bob"]

    def broken(self: Any, filename: Any) -> None:
        Path(filename).write_bytes(b"PK half a zip")
        raise OSError(28, "No space left on device", str(filename))

    with monkeypatch.context() as patch:
        patch.setattr(Workbook, "save", broken)
        failed = runner.invoke(app, [*cmd, "--db", db, "--as", "bob"])
    assert failed.exit_code == 2 and "No space left on device" in failed.stderr
    assert out.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".rob.xlsx")) == []
    done = runner.invoke(app, [*cmd, "--db", db, "--as", "bob"])
    assert done.exit_code == 0, done.output
    assert out.read_bytes()[:2] == b"PK"  # a real XLSX (a zip) replaced it


def test_analyze_run_into_a_foreign_folder_is_refused_before_the_run_is_stored(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "r.db")
    for args in (
        ("init", "--title", "T", "--as", "alice"),
        ("member", "add", "bob", "--role", "reviewer", "--as", "alice"),
    ):
        assert runner.invoke(app, [*args, "--db", db]).exit_code == 0
    out = tmp_path / "mine"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "forest_old.png").write_bytes(b"an old export's plot")  # could be ours
    (out / "draft.docx").write_bytes(b"precious")  # is not
    data = _csv(tmp_path)
    cmd = ["analyze", "run", str(data), "--name", "m", "--out", str(out), "--db", db, "--as", "bob"]
    refused = runner.invoke(app, cmd)
    assert refused.exit_code == 2 and "draft.docx" in refused.stderr
    runs = runner.invoke(app, ["analyze", "runs", "-f", "json", "--db", db, "--as", "bob"])
    assert json.loads(runs.stdout) == []
    (out / "draft.docx").unlink()
    # A folder holding only what an analysis export writes (one made before folders had a
    # marker) is replaced whole once the new export is complete.
    stored = runner.invoke(app, cmd)
    assert stored.exit_code == 0, stored.output
    after = _tree(out)
    assert "plots/forest_old.png" not in after and "plots/forest_MELD.svg" in after
    assert json.loads(after[MARKER])["kind"] == "analysis" and _siblings(out) == []
