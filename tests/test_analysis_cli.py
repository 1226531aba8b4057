"""``reviewtool analyze file``: wiring, JSON schema, errors (via CliRunner on the sub-app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_datasets import BCG_ALLOC, BCG_CNEG, BCG_CPOS, BCG_LABELS, BCG_TNEG, BCG_TPOS
from typer.testing import CliRunner

from reviewtool.cli.analyze import app
from reviewtool.errors import InvalidInput

runner = CliRunner()


@pytest.fixture
def bcg_csv(tmp_path: Path) -> Path:
    lines = ["study,events_exp,total_exp,events_con,total_con,alloc"]
    for i, lab in enumerate(BCG_LABELS):
        lines.append(
            f'"{lab}",{BCG_TPOS[i]:.0f},{BCG_TPOS[i] + BCG_TNEG[i]:.0f},'
            f"{BCG_CPOS[i]:.0f},{BCG_CPOS[i] + BCG_CNEG[i]:.0f},{BCG_ALLOC[i]}"
        )
    path = tmp_path / "bcg.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_json_schema_and_values(bcg_csv: Path) -> None:
    res = runner.invoke(
        app,
        [
            "file",
            str(bcg_csv),
            "--measure",
            "RR",
            "--model",
            "random",
            "--tau2",
            "REML",
            "--by",
            "alloc",
            "--loo",
            "--bias",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in (
        "measure",
        "model",
        "model_reason",
        "studies",
        "pooled",
        "heterogeneity",
        "subgroups",
        "leave_one_out",
        "egger",
        "begg",
        "trim_fill",
        "warnings",
    ):
        assert key in out
    assert set(out["studies"][0]) >= {"study", "yi", "vi", "se", "ci_low", "ci_high", "weight"}
    pooled = out["pooled"]
    assert set(pooled) >= {
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "z",
        "p",
        "exp_estimate",
        "exp_ci_low",
        "exp_ci_high",
        "pi_low",
        "pi_high",
    }
    assert abs(pooled["estimate"] - (-0.7145)) < 1e-4  # metafor REML, see test_analysis_vs_metafor
    het = out["heterogeneity"]
    assert set(het) >= {"Q", "df", "p", "I2", "H2", "tau2", "tau", "I2_form", "I2_tau2", "H2_tau2"}
    assert het["I2_form"] == "Q-based"
    assert het["I2"] == pytest.approx(100 * (het["Q"] - het["df"]) / het["Q"])
    assert len(out["leave_one_out"]) == 13
    sub = out["subgroups"]
    assert [g["group"] for g in sub["groups"]] == ["random", "systematic", "alternate"]
    assert sub["test_for_subgroup_differences"]["df"] == 2


def test_auto_model_reason_is_reported(bcg_csv: Path) -> None:
    res = runner.invoke(app, ["file", str(bcg_csv), "--measure", "OR", "--format", "json"])
    out = json.loads(res.output)
    assert out["model"] == "random"
    assert "auto rule" in out["model_reason"]


def test_hksj_gives_t_statistic(bcg_csv: Path) -> None:
    res = runner.invoke(
        app, ["file", str(bcg_csv), "--measure", "RR", "--model", "random", "--hksj", "-f", "json"]
    )
    pooled = json.loads(res.output)["pooled"]
    assert pooled["test"] == "t" and pooled["df"] == 12


def test_mh_and_table_and_csv_output(bcg_csv: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["file", str(bcg_csv), "--measure", "OR", "--model", "fixed", "--mh"],
        terminal_width=160,
    )
    assert res.exit_code == 0, res.output
    assert "Q = 163.94" in res.output  # Q around the MH estimate, as metafor rma.mh
    res = runner.invoke(app, ["file", str(bcg_csv), "--measure", "RR", "-f", "csv"])
    assert res.output.splitlines()[0] == "row,label,estimate,se,ci_low,ci_high,weight,p"


def test_plots_are_written(bcg_csv: Path, tmp_path: Path) -> None:
    forest, funnel = tmp_path / "f.png", tmp_path / "g.svg"
    res = runner.invoke(
        app,
        [
            "file",
            str(bcg_csv),
            "--measure",
            "RR",
            "--by",
            "alloc",
            "--forest",
            str(forest),
            "--funnel",
            str(funnel),
        ],
    )
    assert res.exit_code == 0, res.output
    assert forest.read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in funnel.read_bytes()[:500]


def test_bad_number_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("study,yi,vi\nA,0.1,0.02\nB,abc,0.03\n")
    res = runner.invoke(app, ["file", str(path), "--measure", "GEN"])
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidInput)
    msg = str(res.exception)
    assert "\n" not in msg
    assert f"{path}:3:" in msg and "'yi'" in msg


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("study,mean_exp,sd_exp\nA,1,2\n")
    res = runner.invoke(app, ["file", str(path), "--measure", "SMD"])
    assert res.exit_code != 0
    assert "missing: n_exp" in str(res.exception)


def test_unknown_subgroup_column(bcg_csv: Path) -> None:
    res = runner.invoke(app, ["file", str(bcg_csv), "--measure", "RR", "--by", "nope"])
    assert res.exit_code != 0
    assert "no column 'nope'" in str(res.exception)
