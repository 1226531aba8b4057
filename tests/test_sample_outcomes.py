"""The sample review's outcome data: reproducible, marked illustrative, and analysed end to end."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from reviewtool import audit
from reviewtool.analysis.service import export_run, run_analysis

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"
OUTCOMES = SAMPLE / "outcomes.csv"
SUBGROUPS = ["disease", "cell_type", "route", "injections"]


def _rows() -> list[dict[str, str]]:
    lines = OUTCOMES.read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


def test_regenerating_reproduces_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "outcomes.csv"
    subprocess.run(
        [sys.executable, str(SAMPLE / "make_outcomes.py"), str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == OUTCOMES.read_bytes()


def test_the_file_says_its_values_are_illustrative() -> None:
    first = OUTCOMES.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ILLUSTRATIVE VALUES")
    assert "illustrative" in (SAMPLE / "README.md").read_text(encoding="utf-8").lower()


def test_the_trials_are_the_seeds_thirteen_comparisons(shared_dir: Path) -> None:
    rows = _rows()
    studies = {r["study"] for r in rows}
    assert len(studies) == 13
    with (shared_dir / "seed" / "table1_characteristics.csv").open(encoding="utf-8") as fh:
        table1 = list(csv.DictReader(fh))
    assert sorted(f"{t['first_author']} {t['year']}" for t in table1) == sorted(
        s.split(" (")[0] for s in studies
    )
    baseline = {(r["study"]): r for r in rows if r["time_point"] == "baseline"}
    sizes = sorted((int(t["n_exp"]), int(t["n_con"])) for t in table1)
    # Every comparison reports some baseline outcome, with Table 1's arm sizes.
    assert sorted((int(r["n_exp"]), int(r["n_con"])) for r in baseline.values()) == sizes
    assert {r["outcome"] for r in rows} == {
        "MELD", "ALB", "TBIL", "PTA", "INR", "ALT", "AST", "survival"
    }  # fmt: skip


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from reviewtool.domain import Role
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    path = tmp_path_factory.mktemp("outcomes") / "review.db"
    review = init_review(f"sqlite:///{path}", title="Sample", owner="jniu")
    with review.transaction() as session:
        add_member(session, actor="jniu", name="yliu", roles=[Role.REVIEWER])
    with review.transaction() as session:
        run = run_analysis(
            session,
            actor="yliu",
            data_path=OUTCOMES,
            name="Liu 2022 outcomes",
            by=SUBGROUPS,
            loo=True,
            bias=True,
        )
    with review.reading() as session:
        assert audit.verify(session).ok
        export_run(session, run.id, path.parent / "analysis", ["csv", "md"], plots=False)
    review.close()
    return SimpleNamespace(
        summary_rows=run.summary_rows, results=run.results, out=path.parent / "analysis"
    )


def _pooled(run: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["outcome"], r["time_point"]): r for r in run.summary_rows()}


def test_the_sample_analysis_runs_end_to_end(sample_run: Any) -> None:
    pooled = _pooled(sample_run)
    assert len(pooled) == len({(r["outcome"], r["time_point"]) for r in _rows()})
    assert [tp for o, tp in pooled if o == "MELD"] == [
        "baseline", "2 weeks", "4 weeks", "12 weeks", "24 weeks", "48 weeks"
    ]  # fmt: skip
    a = next(a for a in sample_run.results["analyses"] if a["outcome"] == "ALB")
    assert [sg["variable"] for sg in a["subgroups"]] == SUBGROUPS
    assert a["leave_one_out"] and "egger" in a and "begg" in a
    out = Path(sample_run.out)
    assert {"pooled.csv", "subgroups.csv", "leave_one_out.csv", "analysis.md"} <= {
        p.name for p in out.iterdir()
    }


def test_the_sample_reproduces_the_seeds_direction_of_effect(sample_run: Any) -> None:
    pooled = _pooled(sample_run)
    # As the seed reports: MELD lower with MSCs at 4 and 12 weeks, ALB higher, baseline balanced.
    assert pooled[("MELD", "4 weeks")]["ci_high"] < 0
    assert pooled[("MELD", "12 weeks")]["ci_high"] < 0
    assert pooled[("MELD", "24 weeks")]["model"] == "random"
    assert all(pooled[("ALB", tp)]["ci_low"] > 0 for tp in ("2 weeks", "4 weeks", "24 weeks"))
    assert pooled[("TBIL", "4 weeks")]["I2"] > 75
    survival = [r for (o, _), r in pooled.items() if o == "survival"]
    assert all(r["model"] == "fixed" and 1 < r["exp_estimate"] < 1.7 for r in survival)


def test_baseline_differs_only_for_inr(sample_run: Any) -> None:
    flagged = {k for k, r in _pooled(sample_run).items() if r["flag"] == "baseline differs"}
    inr = {k for k in _pooled(sample_run) if k[0] == "INR"}
    assert flagged == inr
    assert _pooled(sample_run)[("INR", "baseline")]["p"] < 0.05
