"""Progress bars on long work (issue 13): import of large files, dedup run, analyze run/export,
report build. One helper (`cli._common.progress_bar`) draws a rich bar on stderr when stderr is a
terminal and a table is printed; the stages report into a plain callback `(done, total)`.

Pinned here: what a command prints when stderr is not a terminal (CliRunner) or a machine format is
asked for is what it printed before (nothing on stderr); the totals each stage reports (known
answers: the number of plot jobs, outcome × time points, report parts, candidate pairs); and that
the bar shows `done/total` on a terminal.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import _common, app

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "sample_project" / "exports"
HEADER = "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con"
ROWS = [
    "A 2010,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36",
    "B 2012,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30",
    "C 2015,MELD,4 weeks,12.5,3.0,25,13.0,3.0,24",
    "A 2010,MELD,12 weeks,16.0,4.0,37,18.5,4.5,35",
    "B 2012,MELD,12 weeks,17.5,5.0,27,18.0,5.0,30",
    "A 2010,ALB,12 weeks,31.0,4.0,37,30.5,4.5,35",
    "C 2015,ALB,12 weeks,29.5,5.0,25,30.0,5.0,24",
]


def _outcomes(tmp_path: Path) -> Path:
    path = tmp_path / "outcomes.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


# ------------------------------------------------------------------ the helper


def test_no_terminal_no_bar_and_the_callback_does_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _common.progress_bar("Drawing", unit="plots") as bar:
        bar(1, 4)
        bar(4, 4, "forest")
    assert capsys.readouterr() == ("", "")


def test_on_a_terminal_the_bar_shows_done_of_total(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    screen = io.StringIO()
    monkeypatch.setattr(_common, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(
        _common, "err_console", lambda: Console(file=screen, force_terminal=True, width=100)
    )
    with _common.progress_bar("Drawing", unit="plots") as bar:
        bar(3, 13, "forest [MELD]")
    shown = screen.getvalue()
    assert "Drawing: forest [MELD]" in shown and "3/13" in shown and "plots" in shown
    # A machine format asked for: no bar even on a terminal.
    screen.truncate(0)
    with _common.progress_bar("Drawing", show=False) as bar:
        bar(1, 2)
    assert screen.getvalue() == ""


# ------------------------------------------------------------- the stages' totals


def test_draw_all_reports_each_plot_of_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewtool.analysis import plots

    drawn: list[str] = []

    def jobs(n: int) -> list[dict[str, Any]]:
        return [{"kind": "x", "paths": [str(tmp_path / f"{i}.png")]} for i in range(n)]

    def fake_draw(job: Any) -> list[str]:
        drawn.extend(job["paths"])
        return list(job["paths"])

    monkeypatch.setattr(plots, "draw_job", fake_draw)
    serial = Recorder()
    assert len(plots.draw_all(jobs(5), workers=1, progress=serial)) == 5
    assert serial.calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_analyze_run_reports_pooling_and_plots(fresh_review: Any, tmp_path: Path) -> None:
    from reviewtool.analysis.service import export_run, plot_jobs, run_analysis

    pooled = Recorder()
    with fresh_review.transaction() as session:
        run = run_analysis(
            session, actor="bob", data_path=_outcomes(tmp_path), name="main", progress=pooled
        )
    # MELD at 4 and 12 weeks, ALB at 12 weeks: three outcome × time points.
    assert pooled.calls == [(1, 3), (2, 3), (3, 3)]
    drawn = Recorder()
    with fresh_review.reading() as session:
        export_run(session, run.id, tmp_path / "out", ["csv"], progress=drawn)
    expected = len(plot_jobs(run.results, tmp_path))  # 3 forest + 2 outcome figures
    assert expected == 5
    assert [c[1] for c in drawn.calls] == [expected] * expected
    assert sorted(c[0] for c in drawn.calls) == list(range(1, expected + 1))


def test_report_build_reports_its_parts(fresh_review: Any, tmp_path: Path) -> None:
    from reviewtool.report.build import BUILD_STEPS, build_report

    parts = Recorder()
    with fresh_review.reading() as session:
        build_report(session, actor="alice", out_dir=tmp_path / "report", progress=parts)
    assert parts.calls == [
        (0, 5, "PRISMA flow"),
        (1, 5, "study characteristics"),
        (2, 5, "risk of bias"),
        (3, 5, "analysis tables and plots"),
        (4, 5, "agreement, settings, audit"),
        (5, 5, ""),
    ]
    assert len(BUILD_STEPS) == 5


def test_dedup_reports_the_candidate_pairs_scored() -> None:
    from reviewtool.dedup.engine import DedupInput, find_duplicates

    records = [
        DedupInput(id=str(i), title=f"Mesenchymal stem cells in liver failure, trial {i // 2}",
                   year=2010 + i // 2, authors=("Liu Y",), doi=None, pmid=None)
        for i in range(1, 9)
    ]  # fmt: skip
    scored = Recorder()
    find_duplicates(records, progress=scored)
    total = scored.calls[-1][1]
    assert scored.calls[0] == (0, total) and scored.calls[-1] == (total, total) and total > 0


# ---------------------------------------------------- the commands, not on a terminal


def test_commands_print_nothing_extra_without_a_terminal(
    sample_review_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["--db", sample_review_url]
    done = runner.invoke(app, [*base, "dedup", "run", "--as", "alice"])
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    done = runner.invoke(app, [*base, "analyze", "run", str(_outcomes(tmp_path)), "--name", "m",
                               "--out", str(tmp_path / "a"), "--as", "bob"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and "Wrote" in done.stdout
    # On a terminal with -f json / csv: stdout is the document alone, stderr empty.
    monkeypatch.setattr(_common, "stderr_is_terminal", lambda: True)
    done = runner.invoke(app, [*base, "dedup", "run", "-f", "json", "--as", "alice"])
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and isinstance(json.loads(done.stdout), dict)
    done = runner.invoke(app, [*base, "import", str(EXPORTS / "cochrane.ris"), "--force",
                               "--source", "Cochrane Library", "-f", "csv", "--as", "alice"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and done.stdout.startswith("batch_id,file_name,")


def test_report_build_prints_nothing_extra_without_a_terminal(
    fresh_review: Any, review_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "r"
    done = runner.invoke(app, ["--db", review_url, "report", "build", str(out), "--as", "alice"])
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    said = " ".join(done.stdout.split())  # the one sentence, however rich wrapped it
    assert re.fullmatch(
        rf"Wrote \d+ files to {re.escape(str(out))}/ \(open {re.escape(str(out))}/index\.html\); "
        r"analysis run: none; audit ledger head: event \d+ [0-9a-f]{64}\.",
        said,
    ), said
