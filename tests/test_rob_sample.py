"""The sample review's risk of bias: run.sh's block on the screened sample gives what the paper says.

The seed paper (Results, "Quality assessment of included studies"): "There were 3 high-quality
studies, 7 moderate-quality studies and 2 low-quality studies ... Two studies [11, 24] were
considered to be high risk in attrition bias" ([11] Peng 2011, [24] Xu 2014 in its reference list).
The block of ``sample_project/run.sh`` between ``rt prisma`` and the next blank line is read from
the script itself and run command by command through the CLI on the sample review, screened as
run.sh screens it, so the script and this test cannot drift apart.
"""

from __future__ import annotations

import csv
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.test_sample_screening import SAMPLE, SCREENING, load_generator

HIGH_QUALITY = {"Lin 2017", "Mohamadnejad 2013", "Suk 2016"}
LOW_QUALITY = {"Peng 2011", "Xu 2014"}
ATTRITION_HIGH = ["Peng 2011", "Xu 2014"]  # the paper's references [11] and [24]


def rob_block() -> list[list[str]]:
    """The commands of run.sh's risk-of-bias block, as argument lists without ``rt``."""
    lines = (SAMPLE / "run.sh").read_text(encoding="utf-8").splitlines()
    start = lines.index("rt prisma --as jniu") + 1
    commands: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        if line.startswith("rt "):
            commands.append(shlex.split(line)[1:])
    return commands


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    """The sample review screened as run.sh does, then run.sh's RoB block through the CLI (its
    output files redirected to a temporary directory). Yields (url, output dir, outputs)."""
    from reviewtool.screening.service import import_decisions, import_resolutions, unblind_stage

    work = tmp_path_factory.mktemp("rob_sample")
    path = work / "review.db"
    review = load_generator().build_review(f"sqlite:///{path}")
    for stage in ("tiab", "fulltext"):
        for reviewer in ("yliu", "ydong"):
            with review.transaction() as session:
                import_decisions(
                    session,
                    actor=reviewer,
                    path=str(SCREENING / f"{stage}_{reviewer}.csv"),
                    stage=stage,
                )
        with review.transaction() as session:
            import_resolutions(
                session, actor="jniu", path=str(SCREENING / f"{stage}_resolutions.csv"), stage=stage
            )
            unblind_stage(session, actor="jniu", stage=stage)
    review.close()
    out = work / "rob"
    out.mkdir()
    runner = CliRunner()
    outputs: list[str] = []
    here = Path.cwd()
    os.chdir(SAMPLE)  # the block names its input files relative to sample_project/
    try:
        for args in rob_block():
            args = [
                str(out / Path(a).name) if prev == "--out" else a
                for prev, a in zip(["", *args[:-1]], args, strict=True)
            ]
            result = runner.invoke(app, ["--db", str(path), *args])
            assert result.exit_code == 0, (args, result.output)
            outputs.append(result.output)
    finally:
        os.chdir(here)
    yield f"sqlite:///{path}", out, outputs


def _open(url: str) -> object:
    from reviewtool.review.service import open_existing

    return open_existing(url)


def test_the_block_is_there_and_complete() -> None:
    verbs = [tuple(c[:2]) for c in rob_block()]
    assert ("rob", "import") in verbs and ("rob", "compare") in verbs
    assert ("rob", "agree") in verbs and ("rob", "plot") in verbs
    assert verbs.count(("rob", "resolve")) == 5


def test_overall_quality_is_the_papers_3_7_2(sample: tuple[str, Path, list[str]]) -> None:
    from reviewtool.rob.service import overall_by_study, overall_risk_by_study

    review = _open(sample[0])
    with review.reading() as session:  # type: ignore[attr-defined]
        overall = overall_by_study(session)
        risk = overall_risk_by_study(session)
    review.close()  # type: ignore[attr-defined]
    assert len(overall) == 12
    counts = {
        level: sorted(s for s, v in overall.items() if v == level)
        for level in set(overall.values())
    }
    assert {k: len(v) for k, v in counts.items()} == {
        "high quality": 3,
        "moderate quality": 7,
        "low quality": 2,
    }
    assert set(counts["high quality"]) == HIGH_QUALITY
    assert set(counts["low quality"]) == LOW_QUALITY
    # What --exclude-rob high would drop: the two low-quality trials.
    assert sorted(s for s, v in risk.items() if v == "High") == sorted(LOW_QUALITY)


def test_attrition_is_high_for_the_two_trials_the_paper_names(
    sample: tuple[str, Path, list[str]],
) -> None:
    from reviewtool.rob.service import status

    review = _open(sample[0])
    with review.reading() as session:  # type: ignore[attr-defined]
        found = status(session, actor="jniu")
    review.close()  # type: ignore[attr-defined]
    assert found.attrition_high == ATTRITION_HIGH
    assert found.overall == {"high quality": 3, "low quality": 2, "moderate quality": 7}
    assert found.rule == "count_unmet"
    assert found.disagreements == 0 and found.reopened == 0
    assert found.consensus == 84  # 12 studies x 7 domains
    assert found.assessed == {"ydong": 12, "yliu": 12}


def test_the_assessors_disagree_on_five_domains_the_adjudicator_decided(
    sample: tuple[str, Path, list[str]],
) -> None:
    from reviewtool.rob.service import compare, consensus

    compare_output = sample[2][[tuple(c[:2]) for c in rob_block()].index(("rob", "compare"))]
    assert "5 disagreements." in compare_output
    review = _open(sample[0])
    with review.reading() as session:  # type: ignore[attr-defined]
        resolved = compare(session, actor="jniu", include_resolved=True)
        agreed = consensus(session, actor="jniu")
    review.close()  # type: ignore[attr-defined]
    assert sorted((d.label, d.domain, d.consensus) for d in resolved) == [
        ("Mohamadnejad 2013", "G", "Unclear"),
        ("Peng 2011", "E", "High"),
        ("Salama 2014", "A", "Unclear"),
        ("Schacher 2021", "C", "Unclear"),
        ("Xu 2019", "D", "Unclear"),
    ]
    assert sum(c.how == "adjudicator" for c in agreed) == 5
    assert sum(c.how == "agreement" for c in agreed) == 79


def test_the_consensus_export_is_robvis_input(sample: tuple[str, Path, list[str]]) -> None:
    rows = list(csv.reader((sample[1] / "consensus.csv").open(encoding="utf-8")))
    template = SAMPLE.parent.parent / "shared" / "spec" / "templates" / "robvis_data_rob1.csv"
    assert rows[0] == [
        "Study",
        "Random.sequence.generation",
        "Allocation.concealment",
        "Blinding.of.participants.and.personnel",
        "Blinding.of.outcome.assessment",
        "Incomplete.outcome.data",
        "Selective.reporting",
        "Other.sources.of.bias",
        "Overall",
    ]
    if template.is_file():
        assert rows[0] == next(csv.reader(template.open(encoding="utf-8")))
    by_study = {r[0]: r for r in rows[1:]}
    assert len(by_study) == 12
    assert by_study["Peng 2011"][5] == "High" and by_study["Xu 2014"][5] == "High"
    assert by_study["Suk 2016"][1:] == ["Low", "Low", "High", "Low", "Low", "Low", "Low", "Low"]
    assert sorted(r[8] for r in rows[1:]) == ["High"] * 2 + ["Low"] * 3 + ["Unclear"] * 7


def test_the_figures_are_drawn(sample: tuple[str, Path, list[str]]) -> None:
    names = sorted(p.name for p in sample[1].rglob("*") if p.suffix in (".png", ".svg"))
    assert any("traffic" in n and n.endswith(".png") for n in names), names
    assert any("summary" in n and n.endswith(".svg") for n in names), names


def test_the_ledger_verifies(sample: tuple[str, Path, list[str]]) -> None:
    from reviewtool import audit

    review = _open(sample[0])
    with review.reading() as session:  # type: ignore[attr-defined]
        report = audit.verify(session)
    review.close()  # type: ignore[attr-defined]
    assert report.ok, report.details


def test_the_summary_plot_weighted_by_an_analysis(sample: tuple[str, Path, list[str]]) -> None:
    """`rob plot --weighted-by RUN --analysis OUTCOME@TIME`: each bar's shares are the studies'
    weights (%) in that pooled result (robvis weighted=TRUE; Handbook 5.1 §8.6), a study's
    comparisons summed; studies not in it are named and left out."""
    import re

    url, out, _ = sample
    db = url.removeprefix("sqlite:///")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["--db", db, "analyze", "run", "--from-csv", str(SAMPLE / "outcomes.csv"), "--name", "w",
         "--out", str(out / "w_run"), "--as", "jniu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    studies = list(csv.DictReader((out / "w_run" / "studies.csv").open(encoding="utf-8")))
    rows = [r for r in studies if (r["outcome"], r["time_point"]) == ("ALB", "12 weeks")]
    weight: dict[str, float] = {}
    for r in rows:
        if r["weight (%)"]:
            label = r["study"].split(" (", 1)[0]
            weight[label] = weight.get(label, 0.0) + float(r["weight (%)"])
    risk = {"high quality": "Low", "moderate quality": "Unclear", "low quality": "High"}
    from reviewtool.rob.service import overall_by_study

    review = _open(url)
    with review.reading() as session:  # type: ignore[attr-defined]
        overall = {s: risk[v] for s, v in overall_by_study(session).items()}
    review.close()  # type: ignore[attr-defined]
    expected: dict[str, float] = {}
    for study, w in weight.items():
        expected[overall[study]] = expected.get(overall[study], 0.0) + w
    total = sum(expected.values())
    result = runner.invoke(
        app,
        ["--db", db, "rob", "plot", "--out", str(out / "weighted"), "--weighted-by", "w",
         "--analysis", "ALB@12 weeks", "--as", "jniu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    left_out = sorted(set(overall) - set(weight))
    assert left_out, "ALB at 12 weeks has fewer than the 12 studies"
    assert f"left out of the weighted summary): {', '.join(left_out)}" in " ".join(
        result.output.split()
    )
    # The overall bar (index 7) in the SVG: each segment's width over the bar's full width.
    svg = (out / "weighted" / "summary.svg").read_text(encoding="utf-8")
    widths: dict[str, float] = {}
    for gid, body in re.findall(r'<g id="bar\|7\|(\w+)">(.*?)</g>', svg, flags=re.S):
        xs = [float(x) for x in re.findall(r"[ML] ([\d.]+) [\d.]+", body)]
        widths[gid] = max(xs) - min(xs)
    full = sum(widths.values())
    codes = {"Low": "l", "Unclear": "s", "High": "h"}  # robvis level codes (rob.robvis.Level)
    assert {k: round(v / full, 3) for k, v in widths.items()} == {
        codes[level]: round(w / total, 3) for level, w in expected.items()
    }
