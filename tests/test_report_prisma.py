"""`reviewtool report prisma` (issue 13): the identities of rob_prisma.md 4.4 are checked before
anything is written (a broken one is one line naming both sides), and the diagram's layout keeps
every box apart and every text inside its box."""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.errors import InvalidInput
from reviewtool.report.prisma import (
    ROWS,
    TEMPLATE_COLUMNS,
    TEMPLATE_ROWS,
    PrismaReport,
    draw,
    layout,
    studies_in_meta_analysis,
    write_prisma,
)
from reviewtool.screening.prisma import PrismaCounts

runner = CliRunner()


def _counts(**changes: object) -> PrismaCounts:
    """The seed review's flow (rob_prisma.md 4.7, mapping B), with ``changes``."""
    counts = PrismaCounts(
        identified=892,
        identified_by_source={
            "Cochrane Library": 72,
            "MEDLINE (PubMed)": 251,
            "Ovid EMBASE": 338,
            "Web of Science": 231,
        },
        duplicates_removed=288,
        removed_other=332,
        removed_by_reason={
            "animal study": 176,
            "meeting abstract": 81,
            "review or meta-analysis": 67,
            "case report or letter": 8,
        },
        records_screened=272,
        records_excluded=238,
        awaiting_title_abstract=0,
        references_to_full_text=34,
        reports_sought=34,
        reports_not_retrieved=0,
        reports_assessed=34,
        reports_excluded=22,
        excluded_by_reason={"not an RCT": 12, "insufficient data": 10},
        awaiting_full_text=0,
        studies_included=12,
        reports_of_included_studies=12,
    )
    return replace(counts, **changes)  # type: ignore[arg-type]


def test_the_seed_flow_adds_up() -> None:
    assert _counts().broken_identities() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"records_screened": 604},
            "screened = identified - duplicates - removed for other reasons: 604 != 272",
        ),
        ({"removed_other": 330}, "removed for other reasons = sum by reason: 330 != 332"),
        ({"reports_excluded": 21}, "excluded = sum by reason: 21 != 22"),
        ({"reports_assessed": 33}, "assessed = sought - not retrieved: 33 != 34"),
    ],
)
def test_a_broken_identity_is_one_line_naming_both_sides_and_nothing_is_written(
    changes: dict[str, object], message: str, tmp_path: Path
) -> None:
    report = PrismaReport(counts=_counts(**changes))
    with pytest.raises(InvalidInput) as caught:
        write_prisma(report, tmp_path / "out")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_more_studies_pooled_than_included_is_refused(tmp_path: Path) -> None:
    report = PrismaReport(counts=_counts(), studies_in_meta_analysis=13)
    with pytest.raises(InvalidInput, match="studies in meta-analysis <= studies included: 13 > 12"):
        write_prisma(report, tmp_path)


def test_studies_in_meta_analysis_count_studies_not_comparisons() -> None:
    results = {
        "analyses": [
            {"studies": [{"study": "Suk 2016 (one injection)"}, {"study": "Lin 2017"}]},
            {"studies": [{"study": "Suk 2016 (two injections)"}, {"study": "Shi 2012"}]},
        ]
    }
    assert studies_in_meta_analysis(results) == 3


def test_the_layout_follows_the_template_and_nothing_overlaps() -> None:
    report = PrismaReport(counts=_counts(), studies_in_meta_analysis=12)
    boxes, width, height = layout(report)
    by_key = {b.key: b for b in boxes}
    flow = [b for b in boxes if b.key != "footnotes"]
    for i, a in enumerate(flow):
        assert a.x >= 0 and a.x + a.w <= width and a.y >= 0 and a.y + a.h <= height, a.key
        for b in flow[i + 1 :]:
            assert not a.overlaps(b), (a.key, b.key)
    # The main column goes down, each side box to the right of its row's box, at the same height.
    mains = [by_key[main] for main, _, _ in ROWS]
    assert all(up.y > down.y + down.h for up, down in itertools.pairwise(mains))
    for main, side, _ in ROWS:
        if side is not None:
            m, s = by_key[main], by_key[side]
            assert s.x > m.x + m.w
            assert abs((m.y + m.h / 2) - (s.y + s.h / 2)) < 1e-9 or m.key == "identified"
    # Phase bands on the left: Identification beside the first row, Included beside the last.
    ident, screen, incl = (
        by_key[f"phase:{p}"] for p in ("Identification", "Screening", "Included")
    )
    assert ident.y > screen.y > incl.y and ident.x + ident.w < mains[0].x
    assert by_key["title"].y > ident.y + ident.h


def test_every_text_fits_its_box() -> None:
    """Measured by matplotlib's renderer: each box's text lies inside the box, and the footnotes
    inside the page."""
    report = PrismaReport(
        counts=_counts(
            identified_by_source={"A very long database name, with a platform (Ovid)": 892},
            removed_by_reason={"a very long reason for removing references before screening": 332},
        ),
        studies_in_meta_analysis=12,
    )
    fig = draw(report)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    boxes = {b.key: b for b in layout(report)[0]}
    texts = {t.get_gid(): t for t in ax.texts}
    assert {f"text:{k}" for k in boxes if k != "footnotes"} <= set(texts)
    to_data = ax.transData.inverted()
    for key, box in boxes.items():
        if key == "footnotes":
            continue
        (x0, y0), (x1, y1) = to_data.transform(texts[f"text:{key}"].get_window_extent(renderer))
        assert box.x < x0 and x1 < box.x + box.w, (key, x0, x1, box)
        assert box.y < y0 and y1 < box.y + box.h, (key, y0, y1, box)
    (x0, y0), (x1, y1) = to_data.transform(texts["footnotes"].get_window_extent(renderer))
    width, _height = layout(report)[1:]
    assert x0 > 0 and x1 < width and y0 > 0


def test_the_csv_has_the_templates_columns_and_rows(tmp_path: Path, shared_dir: Path) -> None:
    with (shared_dir / "spec" / "templates" / "PRISMA2020_template.csv").open(
        encoding="utf-8", newline=""
    ) as handle:
        template = list(csv.reader(handle))
    assert tuple(template[0]) == TEMPLATE_COLUMNS
    assert [tuple(r[:7]) for r in template[1:]] == list(TEMPLATE_ROWS)
    paths = write_prisma(PrismaReport(counts=_counts()), tmp_path)
    assert sorted(p.name for p in paths) == ["prisma.png", "prisma.svg", "prisma_PRISMA2020.csv"]
    with (tmp_path / "prisma_PRISMA2020.csv").open(encoding="utf-8", newline="") as handle:
        ours = list(csv.reader(handle))
    assert [r[:7] for r in ours] == [r[:7] for r in template]
    n = {r[0]: r[7] for r in ours if r[0] != "NA"}
    assert (n["excluded_other"], n["records_screened"], n["records_excluded"]) == (
        "332",
        "272",
        "238",
    )
    assert n["total_studies_ma"] == "" and n["identification"] == "0"


def _review(tmp_path: Path) -> str:
    db = str(tmp_path / "r.db")
    export = tmp_path / "a.ris"
    export.write_text(
        "TY  - JOUR\nID  - 1\nTI  - A randomised trial of cells\nPY  - 2020\nER  -\n\n"
        "TY  - JOUR\nID  - 2\nTI  - Cells in rats\nPY  - 2020\nER  -\n\n",
        encoding="utf-8",
    )
    for args in (
        ("init", "--title", "T", "--as", "alice"),
        ("member", "add", "bob", "--role", "reviewer", "--as", "alice"),
        ("import", str(export), "--source", "Embase", "--as", "alice"),
        ("screen", "remove", "--reason", "animal study", "--title-word", "rats", "--as", "alice"),
    ):
        result = runner.invoke(app, [*args, "--db", db])
        assert result.exit_code == 0, result.output
    return db


def test_report_prisma_command_writes_the_three_files_and_refuses_a_blind_reviewer(
    tmp_path: Path,
) -> None:
    db = _review(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["report", "prisma", "--out", str(out), "--db", db, "--as", "alice"]
    )
    assert result.exit_code == 0, result.output
    assert "Records removed for other reasons" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        ".reviewtool-export", "prisma.png", "prisma.svg", "prisma_PRISMA2020.csv",
    ]  # fmt: skip
    # The marker says which export wrote the folder (so a later one may replace it whole).
    marker = json.loads((out / ".reviewtool-export").read_text(encoding="utf-8"))
    assert marker == {
        "kind": "prisma", "files": ["prisma.png", "prisma.svg", "prisma_PRISMA2020.csv"]
    }  # fmt: skip
    csv_out = runner.invoke(app, ["report", "prisma", "-f", "csv", "--db", db, "--as", "alice"])
    rows = list(csv.reader(csv_out.stdout.splitlines()))
    assert ["Records removed for other reasons", "1"] in rows
    assert ["Records removed for other reasons: Animal study", "1"] in rows
    assert ["Records screened", "1"] in rows
    # The counts show screening outcomes: refused to a reviewer while title/abstract is blind.
    refused = runner.invoke(app, ["report", "prisma", "--db", db, "--as", "bob"])
    assert refused.exit_code != 0
    assert refused.stderr.count("\n") == 1 and "blind" in refused.stderr
    # The old command stays.
    old = runner.invoke(app, ["prisma", "--format", "json", "--db", db, "--as", "alice"])
    assert old.exit_code == 0 and '"removed_other": 1' in old.stdout


def test_an_out_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    db = _review(tmp_path)
    taken = tmp_path / "taken.txt"
    taken.write_text("x", encoding="utf-8")
    result = runner.invoke(
        app, ["report", "prisma", "--out", str(taken), "--db", db, "--as", "alice"]
    )
    assert result.exit_code != 0
    assert (
        result.stderr
        == f"reviewtool: error: {taken}: not a directory (--out names the folder to write into)\n"
    )
