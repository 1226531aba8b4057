"""Metafor-ready CSV: one file per outcome × time point of a stored run, as R's ``escalc`` gives.

Every analysis export folder holds ``metafor/<OUTCOME>_<TIME>.csv``: one row per study with the
columns ``study, yi, vi, sei, measure, ni`` (``escalc``'s effect size, sampling variance, standard
error, measure and total sample size; log scale for OR and RR), the outcome and time point, the
subgroup variables of the run (``--by``), the per-arm data the effect sizes came from
(``mean_exp, sd_exp, n_exp, ...`` or ``events_exp, total_exp, ...``), ``rma_call`` (the R call
that reproduces the pooled estimate: ``rma(yi, vi, data = d, method = "REML")``, with
``test = "knha"`` for Hartung-Knapp, ``rma.mh``/``rma.peto`` for Mantel-Haenszel and Peto) and
``note``. Studies the analysis could not use (e.g. a double-zero study for an odds ratio) are rows
with an empty ``yi``/``vi`` and the reason in ``note``; ``rma`` leaves such rows out, as we do.

In R::

    d <- read.csv("metafor/MELD_12-weeks.csv")
    eval(parse(text = d$rma_call[1]))   # or: rma(yi, vi, data = d, method = "REML")

Numbers are written with every digit (``repr``), so R reads back the very doubles we pooled;
``tests/test_metafor_csv.py`` runs metafor on the files and compares estimate, SE and τ².
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reviewtool.csvfiles import safe_writer

#: The leading columns, in ``escalc``'s names.
ESCALC_COLUMNS: tuple[str, ...] = ("study", "yi", "vi", "sei", "measure", "ni")
FOLDER = "metafor"
_ARM_FIELDS = ("kind", "study", "groups")


def _slug(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") for p in parts)


def file_name(analysis: Mapping[str, Any]) -> str:
    """``OUTCOME_TIME.csv`` for a stored analysis (the same slug as its forest plot's name)."""
    return f"{_slug(analysis['outcome'], analysis['time_point'])}.csv"


def rma_call(analysis: Mapping[str, Any]) -> str:
    """The metafor call, on a data frame ``d`` read from the file, that gives the stored pooled
    estimate; empty for an analysis that was not pooled (one study)."""
    model, method = analysis.get("model"), analysis.get("method", "IV")
    if model not in ("fixed", "random"):
        return ""
    level = float(analysis.get("level", 0.95))
    level_arg = "" if math.isclose(level, 0.95) else f", level = {level * 100:g}"
    measure = analysis["measure"]
    if method in ("MH", "Peto"):
        counts = "ai = events_exp, n1i = total_exp, ci = events_con, n2i = total_con"
        if method == "Peto":
            return f"rma.peto({counts}, data = d{level_arg})"
        return f'rma.mh({counts}, data = d, measure = "{measure}"{level_arg})'
    if model == "fixed":
        return f'rma(yi, vi, data = d, method = "EE"{level_arg})'
    test = ', test = "knha"' if analysis.get("hksj") else ""
    return f'rma(yi, vi, data = d, method = "{analysis["tau2_method"]}"{test}{level_arg})'


def _number(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)  # counts stored as floats by older runs: "38", not "38.0"
    return value


def rows(analysis: Mapping[str, Any], by: list[str]) -> list[dict[str, Any]]:
    """One row per study of a stored analysis (``results["analyses"][i]``) in input order; ``by``
    names the subgroup columns. Shapes: see the module docstring."""
    shown = {s["study"]: s for s in analysis["studies"]}
    reasons = {d["study"]: d["reason"] for d in analysis.get("dropped", [])}
    arms = {x["study"]: x for x in analysis.get("arms", [])}
    order = list(arms) or [*shown, *reasons]
    arm_columns: list[str] = []
    for arm in arms.values():
        arm_columns += [k for k in arm if k not in _ARM_FIELDS and k not in arm_columns]
    call = rma_call(analysis)
    out = []
    for study in order:
        s, arm = shown.get(study), arms.get(study, {})
        n_exp = s["n_exp"] if s else arm.get("n_exp", arm.get("total_exp"))
        n_con = s["n_con"] if s else arm.get("n_con", arm.get("total_con"))
        ni = n_exp + n_con if n_exp is not None and n_con is not None else None
        row: dict[str, Any] = {
            "study": study,
            "yi": s["yi"] if s else None,
            "vi": s["vi"] if s else None,
            "sei": math.sqrt(s["vi"]) if s and s["vi"] is not None else None,
            "measure": analysis["measure"],
            "ni": _number(ni),
            "outcome": analysis["outcome"],
            "time_point": analysis["time_point"],
        }
        groups = arm.get("groups", {})
        row.update({variable: groups.get(variable) for variable in by})
        row.update({column: _number(arm.get(column)) for column in arm_columns})
        row["rma_call"] = call
        row["note"] = None if s else f"not estimable: {reasons.get(study, 'no estimate')}"
        out.append(row)
    return out


def write(results: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write ``folder/metafor/<OUTCOME>_<TIME>.csv`` for every analysis of a stored run's
    ``results``; the paths written (none for a run without analyses)."""
    analyses = results.get("analyses", [])
    if not analyses:
        return []
    by: list[str] = []
    for a in analyses:
        for arm in a.get("arms", []):
            by += [v for v in arm.get("groups", {}) if v not in by]
    target = folder / FOLDER
    target.mkdir(exist_ok=True)
    paths = []
    for a in analyses:
        table = rows(a, by)
        if not table:
            continue
        path = target / file_name(a)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = safe_writer(fh)
            writer.writerow(list(table[0]))
            writer.writerows(["" if v is None else v for v in r.values()] for r in table)
        paths.append(path)
    return paths
