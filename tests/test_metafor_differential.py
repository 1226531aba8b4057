"""Differential test: the analysis library against real R metafor, live.

Data sets are generated here, deterministically (numpy, fixed seeds), across every measure (SMD,
MD, OR, RR, RD, GEN), with zero cells (single zero, both arms without events, both arms all
events, rare events), k = 1, 2, 3, 12 and 40, and small- and large-scale data. Every estimator
the library has (fixed effect by inverse variance, random effects with DL, REML and PM τ², each
with and without Hartung-Knapp-Sidik-Jonkman, Mantel-Haenszel for OR/RR/RD, Peto for OR) is fitted
on every data set it applies to, with leave-one-out, subgroups, Egger (lm and rma), Begg and
trim-and-fill where k allows. All fits run in ONE ``Rscript tests/r/metafor_oracle.R`` call for the whole module (a
module-scoped fixture writes JSON in and reads JSON out with jsonlite); each data set x estimator
is its own test id.

Agreement: |ours - metafor| <= 1e-6·|metafor| + floor, with the floor (for values near 0) at
1e-9 x the data's scale: 1e-9·median(vi) for variances (vi, τ²), 1e-9·√median(vi) for values on
the effect scale (estimates, SEs, CIs, prediction intervals, yi) and 1e-8 for dimensionless values
(z/t, p, Q, I², H², weights in %, Kendall's τ). Where metafor returns NA or stops with an error,
the library must give its "not estimable" equivalent (NaN/None, or an ``InvalidInput`` error), never
a number.

The oracle tightens metafor's convergence settings (REML's ``threshold`` and PM's uniroot ``tol``;
their defaults stop at an absolute change of 1e-5 and 1.2e-4 in τ²), so that the estimators, not
their stopping rules, are compared. metafor's I² and H² are Q-based for equal-effects and
Mantel-Haenszel/Peto models and τ²-based for random-effects models; the library's
``heterogeneity.i2``/``h2`` are compared with the metafor value of the form named by
``heterogeneity.i2_form`` (a Q-based value of a random-effects model is computed in R from
metafor's QE, the same formula metafor prints for equal-effects models), and a random-effects
fit's ``i2_tau2``/``h2_tau2`` with metafor's own τ²-based I²/H².

Where the library deliberately shows something else (issue 8), the test says so and checks the
library's rule instead of skipping: a single study (k = 1, or a leave-one-out subset or subgroup
down to one study) is not pooled -- it is compared with metafor's fit of that study's own row
(``rma(yi, vi)`` of its ``escalc`` row, or its Peto row under Peto), and τ² and the prediction
interval must be absent (metafor prints τ² = 0); with all estimates identical, Egger's and Begg's
tests must give no number (metafor's come from rounding noise).

Skips (with the reason): no ``Rscript`` on PATH, or ``library(metafor)``/``library(jsonlite)`` does
not load. ``.ci/run`` installs them (``r-base-core r-cran-metafor r-cran-jsonlite``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reviewtool.analysis.bias import begg_test, egger_test, trim_and_fill
from reviewtool.analysis.effect_sizes import (
    EffectSizes,
    binary_effects,
    continuous_effects,
    generic_effects,
)
from reviewtool.analysis.meta import Settings, leave_one_out, meta_analysis, subgroup_analysis
from reviewtool.analysis.results import MetaAnalysisResult
from reviewtool.errors import ReviewtoolError

ORACLE = Path(__file__).resolve().parent / "r" / "metafor_oracle.R"
REL = 1e-6
FLOOR = 1e-9  # times the data's scale (see the module docstring)
FLOOR_DIMENSIONLESS = 1e-8

# Estimator id -> (oracle fit spec, library settings).
FITS: dict[str, tuple[dict[str, str], Settings]] = {
    "FE": ({"kind": "rma", "method": "EE", "test": "z"}, Settings(model="fixed")),
    "DL": ({"kind": "rma", "method": "DL", "test": "z"}, Settings("random", "DL")),
    "REML": ({"kind": "rma", "method": "REML", "test": "z"}, Settings("random", "REML")),
    "PM": ({"kind": "rma", "method": "PM", "test": "z"}, Settings("random", "PM")),
    "DL-hksj": (
        {"kind": "rma", "method": "DL", "test": "knha"},
        Settings("random", "DL", hksj=True),
    ),
    "REML-hksj": (
        {"kind": "rma", "method": "REML", "test": "knha"},
        Settings("random", "REML", hksj=True),
    ),
    "PM-hksj": (
        {"kind": "rma", "method": "PM", "test": "knha"},
        Settings("random", "PM", hksj=True),
    ),
    "MH": ({"kind": "mh"}, Settings(model="fixed", method="MH")),
    "Peto": ({"kind": "peto"}, Settings(model="fixed", method="Peto")),
}
IV_FITS = ("FE", "DL", "REML", "PM", "DL-hksj", "REML-hksj", "PM-hksj")


@dataclass
class Dataset:
    """One generated data set: its columns, and what to fit on it."""

    id: str
    kind: str  # "cont", "bin" or "gen"
    measure: str
    columns: dict[str, list[float]]
    groups: list[str] | None = None
    loo: bool = False
    bias: bool = False
    fits: tuple[str, ...] = field(default=())
    # Every yi exactly equal: HKSJ's SE is exactly 0 (metafor: p = 0, as the library), and
    # Egger's residual variance and Begg's deviates are 0, so metafor's Egger t and Kendall τ
    # are built from rounding noise; the library must give no number for them (issue 8 C6).
    identical: bool = False

    @property
    def k(self) -> int:
        return len(next(iter(self.columns.values())))

    @property
    def labels(self) -> list[str]:
        return [f"S{i + 1}" for i in range(self.k)]

    def effects(self) -> EffectSizes:
        """The library's effect sizes for this data set (its default options)."""
        c = self.columns
        if self.kind == "cont":
            return continuous_effects(
                c["m1"], c["sd1"], c["n1"], c["m2"], c["sd2"], c["n2"],
                measure=self.measure,  # type: ignore[arg-type]
                labels=self.labels,
            )  # fmt: skip
        if self.kind == "bin":
            return binary_effects(
                c["ai"], c["n1"], c["ci"], c["n2"],
                measure=self.measure,  # type: ignore[arg-type]
                labels=self.labels,
            )  # fmt: skip
        return generic_effects(c["yi"], vi=c["vi"], labels=self.labels)

    # Median sampling variance of the library's effect sizes: the scale of the floors.
    _scale: float = 1.0

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "measure": self.measure,
            "slab": self.labels,
            "fits": [{"id": f, **FITS[f][0]} for f in self.fits],
            "groups": self.groups,
            "loo": self.loo,
            "bias": self.bias,
            # REML stopping rule for the oracle, relative to the data's scale.
            "threshold": 1e-14 * self._scale,
        }
        d.update(self.columns)
        return d


def _continuous(
    rng: np.random.Generator, k: int, *, sd: float = 10.0, tau: float = 0.3, homog: bool = False
) -> dict[str, list[float]]:
    n1 = rng.integers(8, 120, size=k).astype(float)
    n2 = rng.integers(8, 120, size=k).astype(float)
    sd1 = sd * rng.uniform(0.6, 1.6, size=k)
    sd2 = sd * rng.uniform(0.6, 1.6, size=k)
    delta = 0.0 if homog else tau * sd * rng.standard_normal(k)
    m1 = 50 * sd + 0.4 * sd + delta + sd1 / np.sqrt(n1) * rng.standard_normal(k)
    m2 = 50 * sd + sd2 / np.sqrt(n2) * rng.standard_normal(k)
    if homog:
        # nearly equal mean differences: Q far below k - 1, τ² = 0 on the boundary
        m1 = m2 + 0.2 * sd + 1e-3 * sd * rng.standard_normal(k)
    return {
        "m1": [float(x) for x in m1],
        "sd1": [float(x) for x in sd1],
        "n1": [float(x) for x in n1],
        "m2": [float(x) for x in m2],
        "sd2": [float(x) for x in sd2],
        "n2": [float(x) for x in n2],
    }


def _binary(
    rng: np.random.Generator, k: int, *, p_con: tuple[float, float] = (0.1, 0.5), tau: float = 0.5
) -> dict[str, list[float]]:
    n1 = rng.integers(15, 200, size=k).astype(float)
    n2 = rng.integers(15, 200, size=k).astype(float)
    p2 = rng.uniform(*p_con, size=k)
    logit = np.log(p2 / (1 - p2)) - 0.4 + tau * rng.standard_normal(k)
    p1 = 1 / (1 + np.exp(-logit))
    ai = rng.binomial(n1.astype(int), p1).astype(float)
    ci = rng.binomial(n2.astype(int), p2).astype(float)
    return {
        "ai": [float(x) for x in ai],
        "n1": [float(x) for x in n1],
        "ci": [float(x) for x in ci],
        "n2": [float(x) for x in n2],
    }


def _with_zero_cells(cols: dict[str, list[float]]) -> dict[str, list[float]]:
    """Study 1: no events in arm 1; study 2: none in either arm; study 3: events in every
    participant of both arms; study 4: every participant of arm 2 had the event."""
    c = {key: list(v) for key, v in cols.items()}
    c["ai"][0] = 0.0
    c["ai"][1], c["ci"][1] = 0.0, 0.0
    c["ai"][2], c["ci"][2] = c["n1"][2], c["n2"][2]
    c["ci"][3] = c["n2"][3]
    return c


def _generic(rng: np.random.Generator, k: int, *, homog: bool = False) -> dict[str, list[float]]:
    vi = rng.uniform(0.01, 0.2, size=k)
    yi = (
        0.3
        + (0.0 if homog else 0.25 * rng.standard_normal(k))
        + np.sqrt(vi) * (0.0 if homog else rng.standard_normal(k))
    )
    if homog:
        yi = np.full(k, 0.3) + 1e-3 * rng.standard_normal(k)
    return {"yi": [float(x) for x in yi], "vi": [float(x) for x in vi]}


def _groups(k: int) -> list[str]:
    return [("A", "B", "C")[i % 3] for i in range(k)]


def _build() -> list[Dataset]:
    out: list[Dataset] = []
    seed = 20261129

    def rng() -> np.random.Generator:
        nonlocal seed
        seed += 1
        return np.random.default_rng(seed)

    def add(ds: Dataset) -> None:
        if not ds.fits:
            base = IV_FITS
            if ds.kind == "bin":
                base = IV_FITS + ("MH",) + (("Peto",) if ds.measure == "OR" else ())
            ds.fits = base
        ds.loo = ds.loo or ds.k >= 2
        ds.bias = ds.bias or ds.k >= 3
        if ds.groups is None and ds.k >= 12:
            ds.groups = _groups(ds.k)
        out.append(ds)

    for measure in ("SMD", "MD"):
        for k in (1, 2, 3, 40):
            add(Dataset(f"{measure.lower()}-k{k}", "cont", measure, _continuous(rng(), k)))
    add(Dataset("md-k8-homogeneous", "cont", "MD", _continuous(rng(), 8, homog=True)))
    tiny = _continuous(rng(), 12, sd=1e-4)
    add(Dataset("md-k12-sd1e-4", "cont", "MD", tiny))
    big = {
        key: ([x * 1e4 for x in v] if key in ("m1", "m2", "sd1", "sd2") else v)
        for key, v in tiny.items()
    }
    add(Dataset("md-k12-sd1e-4-times1e4", "cont", "MD", big))
    for measure in ("OR", "RR", "RD"):
        m = measure.lower()
        for k in (1, 2, 3, 40):
            add(Dataset(f"{m}-k{k}", "bin", measure, _binary(rng(), k)))
        one_zero = _binary(rng(), 1)
        one_zero["ci"][0] = 0.0
        add(Dataset(f"{m}-k1-zero-cell", "bin", measure, one_zero))
        add(Dataset(f"{m}-k12-zero-cells", "bin", measure, _with_zero_cells(_binary(rng(), 12))))
        add(Dataset(f"{m}-k6-rare", "bin", measure, _binary(rng(), 6, p_con=(0.005, 0.03))))
        # Mantel-Haenszel/Peto undefined in some subsets: arm 1 of S1 and S3 has no events.
        sparse = {
            "ai": [0.0, 2.0, 0.0],
            "n1": [10.0, 10.0, 10.0],
            "ci": [3.0, 0.0, 2.0],
            "n2": [10.0, 10.0, 10.0],
        }
        add(Dataset(f"{m}-k3-sparse", "bin", measure, sparse, groups=["A", "B", "A"]))
    for k in (2, 3, 40):
        add(Dataset(f"gen-k{k}", "gen", "GEN", _generic(rng(), k)))
    add(Dataset("gen-k10-homogeneous", "gen", "GEN", _generic(rng(), 10, homog=True)))
    same = {"yi": [0.3] * 6, "vi": [float(x) for x in _generic(rng(), 6)["vi"]]}
    add(Dataset("gen-k6-identical", "gen", "GEN", same, identical=True))
    return out


DATASETS = _build()
BY_ID = {d.id: d for d in DATASETS}


def _scale(ds: Dataset) -> float:
    try:
        es = ds.effects()
        return float(np.median(es.vi))
    except ReviewtoolError:
        return 1.0


for _d in DATASETS:
    _d._scale = _scale(_d)


# ---------------------------------------------------------------------------------------------
# The oracle: one Rscript call for the module
# ---------------------------------------------------------------------------------------------


def _r_unavailable() -> str | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript is not on PATH (install r-base-core r-cran-metafor r-cran-jsonlite)"
    probe = subprocess.run(
        [rscript, "-e", "suppressMessages({library(metafor); library(jsonlite)})"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        return f"R packages metafor/jsonlite do not load: {probe.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """metafor's results for every data set, from one Rscript process."""
    why = _r_unavailable()
    if why is not None:
        pytest.skip(why)
    rscript = shutil.which("Rscript")
    assert rscript is not None
    tmp = tmp_path_factory.mktemp("metafor")
    inp, out = tmp / "in.json", tmp / "out.json"
    inp.write_text(json.dumps({"datasets": [d.to_json() for d in DATASETS]}))
    run = subprocess.run(
        [rscript, str(ORACLE), str(inp), str(out)], capture_output=True, text=True, timeout=1800
    )
    assert run.returncode == 0, f"metafor oracle failed:\n{run.stderr[-3000:]}"
    yield json.loads(out.read_text())


# ---------------------------------------------------------------------------------------------
# Comparison helpers
# ---------------------------------------------------------------------------------------------


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


class Diff:
    """Collects every disagreement of one test, so a failure lists them all."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.problems: list[str] = []

    def floor(self, kind: str) -> float:
        s = self.ds._scale
        if kind == "var":
            return FLOOR * s
        if kind == "eff":
            return FLOOR * math.sqrt(s)
        return FLOOR_DIMENSIONLESS

    def num(self, name: str, ours: Any, theirs: Any, kind: str = "dimless") -> None:
        """``ours`` must equal metafor's ``theirs``; NA in metafor needs NaN/None in ours."""
        if _missing(theirs):
            if not _missing(ours):
                self.problems.append(f"{name}: metafor gives NA, library gives {ours!r}")
            return
        if _missing(ours):
            self.problems.append(f"{name}: library gives {ours!r}, metafor {theirs!r}")
            return
        a, b = float(ours), float(theirs)
        tol = REL * abs(b) + self.floor(kind)
        if not abs(a - b) <= tol:
            self.problems.append(f"{name}: library {a!r} vs metafor {b!r} (tol {tol:.3g})")

    def check(self) -> None:
        assert not self.problems, f"{self.ds.id}: {len(self.problems)} differences:\n" + "\n".join(
            self.problems
        )


def _r_failed(r: Any) -> bool:
    return isinstance(r, dict) and "error" in r


def _fit_library(ds: Dataset, fit: str) -> MetaAnalysisResult | ReviewtoolError:
    try:
        return meta_analysis(ds.effects(), FITS[fit][1])
    except ReviewtoolError as exc:
        return exc


def _compare_main(d: Diff, fit: str, ours: MetaAnalysisResult, r: dict[str, Any]) -> None:
    p, h = ours.pooled, ours.heterogeneity
    d.num("estimate", p.estimate, r["estimate"], "eff")
    d.num("se", p.se, r["se"], "eff")
    d.num("ci_low", p.ci_low, r["ci_low"], "eff")
    d.num("ci_high", p.ci_high, r["ci_high"], "eff")
    d.num("z/t", p.statistic, r["stat"])
    d.num("p", p.p, r["p"])
    d.num("Q", h.q, r["Q"])
    d.num("Q p", h.p, r["Qp"])
    # metafor prints Q-based I²/H² for equal-effects, MH and Peto models and τ²-based ones for
    # random-effects models; the library's value is compared with the form it says it uses.
    if h.i2_form == "Q-based":
        d.num("I2 (Q-based)", h.i2, r["I2_Q"])
        d.num("H2 (Q-based)", h.h2, r["H2_Q"])
    else:
        assert FITS[fit][0].get("method") not in (None, "EE"), f"τ²-based I² for {fit}"
        d.num("I2 (tau2-based)", h.i2, r["I2"])
        d.num("H2 (tau2-based)", h.h2, r["H2"])
    i2_tau2 = h.i2_tau2
    if FITS[fit][0].get("method") not in (None, "EE"):
        # random effects: metafor's own (τ²-based) I² and H², which the library also reports
        d.num("I2_tau2", i2_tau2, r["I2"])
        d.num("H2_tau2", h.h2_tau2, r["H2"])
    else:
        assert i2_tau2 is None, f"a τ²-based I² for the fixed-effect fit {fit}"
    spec = FITS[fit][0]
    if spec["kind"] == "rma" and spec["method"] != "EE":
        d.num("tau2", h.tau2, r["tau2"], "var")
        d.num("pi_low", p.pi_low, r["pi_low"], "eff")
        d.num("pi_high", p.pi_high, r["pi_high"], "eff")
        if spec["test"] == "knha":
            d.num("df", p.df, r["df"])


def _compare_weights(
    d: Diff, ds: Dataset, fit: str, ours: MetaAnalysisResult, r: dict[str, Any], oracle_ds: Any
) -> None:
    weights = r["weights"]
    if not isinstance(weights, list):
        weights = [weights]
    spec = FITS[fit][0]
    if spec["kind"] == "rma":
        # metafor lists weights of the studies with a yi (escalc NA rows are left out).
        yi = oracle_ds["escalc"]["yi"]
        yi = yi if isinstance(yi, list) else [yi]
        labels = [lab for lab, y in zip(ds.labels, yi, strict=True) if y is not None]
    else:
        labels = ds.labels
    theirs = dict(zip(labels, weights, strict=True))
    ours_w = {s.study: s.weight for s in ours.studies}
    for lab, w in ours_w.items():
        d.num(f"weight[{lab}]", w, theirs.get(lab))
    # Studies metafor weighs but the library does not list (no yi of their own; Mantel-Haenszel
    # still pools them) hold the rest of the 100%.
    rest = sum(float(w) for lab, w in theirs.items() if lab not in ours_w and w is not None)
    d.num("weight of studies not listed", 100.0 - sum(ours_w.values()), rest)


def _single(oracle_ds: dict[str, Any], ds: Dataset, fit: str, label: str) -> dict[str, Any]:
    """metafor's fit of one study's own row (its Peto row under Peto)."""
    rows = _as_list(oracle_ds["peto_singles" if fit == "Peto" else "singles"])
    one = rows[ds.labels.index(label)]
    assert one is not None, f"metafor has no row for {label}"
    return dict(one)


def _compare_single(d: Diff, name: str, pooled: Any, het: Any, one: dict[str, Any]) -> None:
    """A single study is shown, not pooled (issue 8 C4): its own row, no τ², no PI."""
    d.num(f"{name}estimate", pooled.estimate, one["estimate"], "eff")
    d.num(f"{name}se", pooled.se, one["se"], "eff")
    d.num(f"{name}ci_low", pooled.ci_low, one["ci_low"], "eff")
    d.num(f"{name}ci_high", pooled.ci_high, one["ci_high"], "eff")
    d.num(f"{name}p", pooled.p, one["p"])
    if het is not None:
        d.num(f"{name}z", pooled.statistic, one["stat"])
        d.num(f"{name}Q", het.q, one["Q"])
        d.num(f"{name}Q p", het.p, one["Qp"])
        d.num(f"{name}I2", het.i2, one["I2"])
        d.num(f"{name}H2", het.h2, one["H2"])
        d.num(f"{name}tau2 (single study: none)", het.tau2, None)
        d.num(f"{name}pi_low (single study: none)", pooled.pi_low, None)
        d.num(f"{name}pi_high (single study: none)", pooled.pi_high, None)


def _fit_params() -> list[Any]:
    return [pytest.param(ds.id, f, id=f"{ds.id}-{f}") for ds in DATASETS for f in ds.fits]


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ds_id", [d.id for d in DATASETS])
def test_effect_sizes(oracle: dict[str, Any], ds_id: str) -> None:
    """escalc's yi/vi; studies metafor leaves NA (drop00) are the library's dropped studies."""
    ds = BY_ID[ds_id]
    r = oracle[ds_id]["escalc"]
    d = Diff(ds)
    try:
        es = ds.effects()
    except ReviewtoolError as exc:
        assert _r_failed(r), f"library refuses the data ({exc}); metafor computes it"
        return
    yi, vi = _as_list(r["yi"]), _as_list(r["vi"])
    ours = dict(zip(es.labels, zip(es.yi, es.vi, strict=True), strict=True))
    dropped = {lab for lab, _ in es.dropped}
    for lab, y, v in zip(ds.labels, yi, vi, strict=True):
        if lab in dropped:
            d.num(f"yi[{lab}] (dropped by the library)", float("nan"), y, "eff")
            continue
        got = ours.get(lab, (float("nan"), float("nan")))
        d.num(f"yi[{lab}]", got[0], y, "eff")
        d.num(f"vi[{lab}]", got[1], v, "var")
    d.check()


@pytest.mark.parametrize(("ds_id", "fit"), _fit_params())
def test_pooled(oracle: dict[str, Any], ds_id: str, fit: str) -> None:
    """Pooled estimate, SE, CI, test, prediction interval, Q, I², H², τ², study weights."""
    ds = BY_ID[ds_id]
    r = oracle[ds_id]["fits"][fit]
    ours = _fit_library(ds, fit)
    if isinstance(ours, ReviewtoolError):
        assert _r_failed(r) or _missing(r["estimate"]), (
            f"library refuses ({ours}); metafor gives estimate {r.get('estimate')}"
        )
        return
    d = Diff(ds)
    if ours.k == 1 and ours.model == "none":
        # k = 1 is not pooled (issue 8 C4): the library shows the study's own row (escalc's yi/vi,
        # the Peto row under Peto), which is what rma(yi, vi) gives for k = 1; rma.mh/rma.peto
        # pool the one raw table instead (NA or different when a cell is 0). metafor's τ² = 0 and
        # PI = CI are not reported by the library for a single study.
        (only,) = ours.studies
        _compare_single(
            d, "", ours.pooled, ours.heterogeneity, _single(oracle[ds_id], ds, fit, only.study)
        )
        d.num("weight (single study)", only.weight, 100.0)
        d.check()
        return
    assert not _r_failed(r), f"metafor stops ({r['error']}); library gives {ours.pooled}"
    _compare_main(d, fit, ours, r)
    if not _missing(r["estimate"]):
        _compare_weights(d, ds, fit, ours, r, oracle[ds_id])
    if fit == "Peto":
        # Study rows of a Peto analysis are Peto log ORs (O-E)/V with variance 1/V.
        pe = oracle[ds_id]["peto_rows"]
        rows = list(zip(_as_list(pe["yi"]), _as_list(pe["vi"]), strict=True))
        theirs = dict(zip(ds.labels, rows, strict=True))
        for s in ours.studies:
            d.num(f"Peto yi[{s.study}]", s.yi, theirs[s.study][0], "eff")
            d.num(f"Peto vi[{s.study}]", s.vi, theirs[s.study][1], "var")
    d.check()


def _loo_params() -> list[Any]:
    return [pytest.param(ds.id, f, id=f"{ds.id}-{f}") for ds in DATASETS if ds.loo for f in ds.fits]


@pytest.mark.parametrize(("ds_id", "fit"), _loo_params())
def test_leave_one_out(oracle: dict[str, Any], ds_id: str, fit: str) -> None:
    """Every leave-one-out row; a subset metafor cannot fit is a row without numbers."""
    ds = BY_ID[ds_id]
    r = oracle[ds_id]["fits"][fit]
    try:
        rows = leave_one_out(ds.effects(), FITS[fit][1])
    except ReviewtoolError as exc:
        full = oracle[ds_id]["fits"][fit]
        assert _r_failed(full) or _missing(full.get("estimate")), f"library refuses ({exc})"
        return
    theirs = dict(zip(ds.labels, _as_list(r["loo"]), strict=True))
    d = Diff(ds)
    spec = FITS[fit][0]
    # the rows' I² has the form of the full analysis's (see test_pooled)
    form = meta_analysis(ds.effects(), FITS[fit][1]).heterogeneity.i2_form
    kept = list(ds.effects().labels)
    ours_rows = {row.omitted for row in rows}
    for lab, t in theirs.items():
        # A study without a row must be one whose omission changes nothing in metafor (it was
        # not in the analysis, or carried no weight).
        if lab not in ours_rows and not (_r_failed(t) or _r_failed(r)):
            name = f"without {lab}: no library row, yet metafor's estimate (full vs row) moves"
            d.num(name, r["estimate"], t["estimate"], "eff")
    for row in rows:
        t = theirs[row.omitted]
        tag = f"without {row.omitted}"
        rest = [lab for lab in kept if lab != row.omitted]
        if len(rest) == 1 and not row.note and row.omitted in kept:
            # one study left: shown as that study, not pooled (issue 8 C4)
            one = _single(oracle[ds_id], ds, fit, rest[0])
            _compare_single(d, f"{tag}: ", row, None, one)
            d.num(f"{tag}: Q", row.q, one["Q"])
            d.num(f"{tag}: I2", row.i2, one["I2"])
            d.num(f"{tag}: tau2 (single study: none)", row.tau2, None)
            continue
        if _r_failed(t) or _missing(t["estimate"]):
            d.num(f"{tag}: estimate", row.estimate, None, "eff")
            if not row.note:
                d.problems.append(f"{tag}: metafor gives NA; the library row says not why")
            continue
        d.num(f"{tag}: estimate", row.estimate, t["estimate"], "eff")
        d.num(f"{tag}: se", row.se, t["se"], "eff")
        d.num(f"{tag}: ci_low", row.ci_low, t["ci_low"], "eff")
        d.num(f"{tag}: ci_high", row.ci_high, t["ci_high"], "eff")
        d.num(f"{tag}: p", row.p, t["p"])
        d.num(f"{tag}: Q", row.q, t["Q"])
        if form == "Q-based":
            d.num(f"{tag}: I2 (Q-based)", row.i2, t["I2_Q"])
        else:
            d.num(f"{tag}: I2 (tau2-based)", row.i2, t["I2"])
        if spec["kind"] == "rma" and spec["method"] != "EE":
            d.num(f"{tag}: tau2", row.tau2, t["tau2"], "var")
    d.check()


def _subgroup_params() -> list[Any]:
    return [
        pytest.param(ds.id, f, id=f"{ds.id}-{f}")
        for ds in DATASETS
        if ds.groups is not None
        for f in ds.fits
    ]


@pytest.mark.parametrize(("ds_id", "fit"), _subgroup_params())
def test_subgroups(oracle: dict[str, Any], ds_id: str, fit: str) -> None:
    """Each subgroup pooled as metafor pools it; Q between from the estimable subgroups."""
    ds = BY_ID[ds_id]
    r = oracle[ds_id]["fits"][fit]["subgroups"]
    es = ds.effects()
    assert ds.groups is not None
    groups = [ds.groups[ds.labels.index(lab)] for lab in es.labels]
    # Studies without a yi of their own still belong to a subgroup (Mantel-Haenszel pools them).
    gone = [ds.groups[ds.labels.index(lab)] for lab, _ in es.dropped]
    es = dataclasses.replace(es, dropped_extra={"g": tuple(gone)})
    sub = subgroup_analysis(es, groups, variable="g", settings=FITS[fit][1])
    ours = dict(sub.groups)
    theirs = dict(zip(_as_list(r["names"]), _as_list(r["groups"]), strict=True))
    d = Diff(ds)
    spec = FITS[fit][0]
    undefined = dict(sub.undefined)
    for name, t in theirs.items():
        if _r_failed(t) or _missing(t["estimate"]):
            if name not in undefined:
                got = ours[name].pooled.estimate if name in ours else None
                d.problems.append(f"group {name}: metafor gives NA; library gives {got!r}")
            continue
        if name not in ours:
            d.problems.append(f"group {name}: missing in the library ({undefined.get(name)})")
            continue
        o = ours[name]
        if o.k == 1 and o.model == "none":
            (only,) = o.studies
            one = _single(oracle[ds_id], ds, fit, only.study)
            _compare_single(d, f"group {name}: ", o.pooled, o.heterogeneity, one)
            continue
        d.num(f"group {name}: estimate", o.pooled.estimate, t["estimate"], "eff")
        d.num(f"group {name}: se", o.pooled.se, t["se"], "eff")
        d.num(f"group {name}: ci_low", o.pooled.ci_low, t["ci_low"], "eff")
        d.num(f"group {name}: ci_high", o.pooled.ci_high, t["ci_high"], "eff")
        d.num(f"group {name}: Q", o.heterogeneity.q, t["Q"])
        if spec["kind"] == "rma" and spec["method"] != "EE":
            d.num(f"group {name}: tau2", o.heterogeneity.tau2, t["tau2"], "var")
    test = r["test"]
    d.num("Q between", sub.q_between, test["Q_between"])
    d.num("Q between p", sub.p, test["p"])
    if not _missing(test["Q_between"]):
        assert sub.df == test["df"], f"df between {sub.df} != {test['df']}"
    d.check()


@pytest.mark.parametrize("ds_id", [d.id for d in DATASETS if d.bias])
def test_small_study_tests(oracle: dict[str, Any], ds_id: str) -> None:
    """Egger (regtest model="lm" and "rma"), Begg (ranktest) and trim-and-fill (trimfill of an
    REML and an equal-effects model) on the library's effect sizes."""
    ds = BY_ID[ds_id]
    r = oracle[ds_id]["bias"]
    es = ds.effects()
    d = Diff(ds)
    eg = r["egger_lm"]
    if ds.identical:
        # Egger's residual variance is 0: metafor's t is rounding noise; the library gives none.
        # Neither is metafor's trim-and-fill compared there (its ranks are noise too).
        try:
            ours = egger_test(es.yi, es.vi, model="lm")
        except ReviewtoolError:
            return
        d.num("Egger lm t (all estimates identical)", ours.statistic, None)
        d.num("Egger lm p (all estimates identical)", ours.p, None)
        try:
            ours_b = begg_test(es.yi, es.vi)
        except ReviewtoolError:
            pass
        else:
            d.num("Begg tau (all estimates identical)", ours_b.tau, None)
            d.num("Begg p (all estimates identical)", ours_b.p, None)
        d.check()
        return
    try:
        ours = egger_test(es.yi, es.vi, model="lm")
    except ReviewtoolError:
        assert _r_failed(eg) or _missing(eg["stat"]), "library refuses Egger; metafor computes it"
    else:
        if _r_failed(eg):
            d.problems.append(f"Egger lm: metafor stops ({eg['error']}); library {ours.statistic}")
        else:
            d.num("Egger lm: bias", ours.bias, eg["bias"], "eff")
            d.num("Egger lm: t", ours.statistic, eg["stat"])
            d.num("Egger lm: p", ours.p, eg["p"])
            d.num("Egger lm: df", ours.df, eg["df"])
            d.num("Egger lm: limit estimate", ours.limit_estimate, eg["limit_estimate"], "eff")
            d.num("Egger lm: limit ci_low", ours.limit_ci_low, eg["limit_ci_low"], "eff")
            d.num("Egger lm: limit ci_high", ours.limit_ci_high, eg["limit_ci_high"], "eff")
    egr = r["egger_rma"]
    try:
        ours_r = egger_test(es.yi, es.vi, model="rma")
    except ReviewtoolError:
        assert _r_failed(egr) or _missing(egr["stat"]), "library refuses Egger (rma)"
    else:
        if _r_failed(egr):
            d.problems.append(f"Egger rma: metafor stops ({egr['error']})")
        else:
            d.num("Egger rma: z", ours_r.statistic, egr["stat"])
            d.num("Egger rma: p", ours_r.p, egr["p"])
    for key, model in (("trimfill", "random"), ("trimfill_fe", "fixed")):
        tf = r[key]
        try:
            ours_tf = trim_and_fill(es.yi, es.vi, model=model, tau2_method="REML")
        except ReviewtoolError:
            assert _r_failed(tf), f"library refuses trim-and-fill ({model}); metafor computes it"
            continue
        if _r_failed(tf):
            d.problems.append(f"trim-and-fill ({model}): metafor stops ({tf['error']})")
            continue
        d.num(f"trim-and-fill ({model}): k0", ours_tf.k0, tf["k0"])
        if ours_tf.side != tf["side"]:
            d.problems.append(f"trim-and-fill ({model}): side {ours_tf.side} vs {tf['side']}")
        d.num(
            f"trim-and-fill ({model}): estimate", ours_tf.adjusted.estimate, tf["estimate"], "eff"
        )
        d.num(f"trim-and-fill ({model}): se", ours_tf.adjusted.se, tf["se"], "eff")
    bg = r["begg"]
    try:
        ours_b = begg_test(es.yi, es.vi)
    except ReviewtoolError:
        assert _r_failed(bg) or _missing(bg["tau"]), "library refuses Begg; metafor computes it"
    else:
        if _r_failed(bg):
            d.problems.append(f"Begg: metafor stops ({bg['error']}); library {ours_b.tau}")
        else:
            d.num("Begg: tau", ours_b.tau, bg["tau"])
            d.num("Begg: p", ours_b.p, bg["p"])
    d.check()
