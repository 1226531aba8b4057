"""``audit log`` as a table stays readable at 80 columns (a pipe, a small terminal): a long change
(an analysis run's settings, hashes and results) is cut to ``CHANGE_LIMIT`` characters with an
ellipsis and a hint that ``-f json`` shows it whole, and the change column keeps its room; the
JSON and CSV formats keep every event whole. Before: one analysis-run event wrapped to dozens of
lines and the change column was squeezed to 7 characters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.analysis.service import run_analysis
from reviewtool.cli import app
from reviewtool.cli.audit import CHANGE_LIMIT, change_summary, events_table, table_change

runner = CliRunner()

HEADER = (
    "study,disease,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con,"
    "events_exp,total_exp,events_con,total_con"
)
ROWS = [  # tests/test_analysis_service.py's illustrative outcomes (MELD at 4 weeks, survival)
    "A 2010,ACLF,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36,,,,",
    "B 2012,ACLF,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30,,,,",
    "C 2015,Cirrhosis,MELD,4 weeks,12.5,3.0,25,13.0,3.0,24,,,,",
    "A 2010,ACLF,survival,12 weeks,,,,,,,30,40,25,40",
    "B 2012,ACLF,survival,12 weeks,,,,,,,22,30,20,32",
    "C 2015,Cirrhosis,survival,12 weeks,,,,,,,25,25,24,25",
]


@pytest.fixture
def analysed(fresh_review: Any, review_url: str, tmp_path: Path) -> str:
    """The review of tests/conftest.py with one analysis run by bob (its event is long)."""
    data = tmp_path / "outcomes.csv"
    data.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    with fresh_review.transaction() as session:
        run_analysis(session, actor="bob", data_path=data, name="main", loo=True, bias=True)
    return review_url


def _log(url: str, *options: str, columns: int = 80) -> Any:
    done = runner.invoke(
        app,
        ["audit", "log", *options, "--db", url, "--as", "alice"],
        env={"COLUMNS": str(columns)},
    )
    assert done.exit_code == 0, done.output
    return done


def test_a_change_is_cut_to_the_limit_with_an_ellipsis() -> None:
    assert table_change({"note": "x" * 10}) == ('note="xxxxxxxxxx"', False)
    text, cut = table_change({"note": "y" * 200})
    assert cut and len(text) == CHANGE_LIMIT and text == 'note="' + "y" * 113 + "…"
    exact = {"note": "z" * (CHANGE_LIMIT - 7)}  # note="…" is 7 characters more
    assert table_change(exact) == (change_summary(exact), False)


def test_the_table_at_80_columns_is_readable(analysed: str) -> None:
    done = _log(analysed, "-n", "5")
    lines = done.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The header gives the change column its room: at least 30 characters (before: 7).
    header = next(line for line in lines if "Change" in line)
    assert header.split("┃")[-2].strip() == "Change" and len(header.split("┃")[-2]) >= 30
    assert "Who, action, entity" in header
    # The analysis run (the last of 5 events): its row is a handful of lines, cut with "…".
    start = next(i for i, line in enumerate(lines) if line.startswith("│ 5 "))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    assert end - start <= 6
    row = "".join(line.split("│")[-2].strip() for line in lines[start:end])
    assert row.endswith("…") and row.startswith("input_sha256=")
    assert CHANGE_LIMIT - 5 <= len(row) <= CHANGE_LIMIT  # lines joined without their breaks
    assert lines[end + 1 :] == ["Changes cut short (…) are shown whole by `-f json`."]
    assert len(lines) <= 22  # 5 events (before: the analysis run alone wrapped to ~60 lines)


def test_a_console_of_80_columns(analysed: str) -> None:
    from rich.console import Console

    from reviewtool import audit
    from reviewtool.review.service import open_existing

    review = open_existing(analysed)
    try:
        with review.reading() as session:
            events = audit.list_events(session)
    finally:
        review.close()
    assert len(change_summary(events[-1].payload)) > 400  # what used to fill the screen
    console = Console(width=80, record=True)
    table, cut = events_table(events, console.width)
    console.print(table)
    shown = console.export_text().splitlines()
    assert cut and max(len(line) for line in shown) <= 80 and len(shown) <= 21
    assert "bob" in shown[-6] and "analysis-run" in shown[-5] and "analysis_run:1" in shown[-4]
    # Wide: a column each for actor, action and entity, one line per event; still cut.
    wide = Console(width=200, record=True)
    table, cut = events_table(events, wide.width)
    wide.print(table)
    text = wide.export_text().splitlines()
    assert cut and len(text) == 4 + len(events)
    assert [c.strip() for c in text[1].split("┃")[1:-1]] == [
        "#",
        "When (UTC)",
        "Actor",
        "Action",
        "Entity",
        "Change",
    ]


def test_json_and_csv_keep_every_change_whole(analysed: str) -> None:
    from reviewtool import audit
    from reviewtool.review.service import open_existing

    review = open_existing(analysed)
    try:
        with review.reading() as session:
            stored = audit.list_events(session, action="analysis-run")[0].payload
    finally:
        review.close()
    as_json = json.loads(_log(analysed, "-f", "json", "--action", "analysis-run").output)
    assert [e["payload"] for e in as_json] == [stored]
    as_csv = list(csv.DictReader(io.StringIO(_log(analysed, "-f", "csv").output)))
    assert json.loads(as_csv[-1]["payload"]) == stored
    assert "…" not in _log(analysed, "-f", "csv").output
