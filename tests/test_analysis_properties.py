"""Invariants of the estimators (hypothesis) plus the checker and multi-outcome helpers."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.analysis.checker import check_reported
from reviewtool.analysis.effect_sizes import binary_effects, continuous_effects
from reviewtool.analysis.estimators import FixedEffect, RandomEffects
from reviewtool.analysis.meta import Settings, choose_model, meta_analysis
from reviewtool.analysis.outcomes import analyse_outcomes

SEED_RESULTS = Path("/work/shared/seed/reported_results.csv")

arm = st.tuples(
    st.floats(-50, 50),
    st.floats(0.5, 20),
    st.integers(5, 200),
)
studies = st.lists(st.tuples(arm, arm), min_size=2, max_size=12)
counts = st.lists(
    st.tuples(st.integers(0, 40), st.integers(41, 120), st.integers(0, 40), st.integers(41, 120)),
    min_size=2,
    max_size=12,
)


def _cont(rows, swap: bool = False):  # type: ignore[no-untyped-def]
    a = [r[1] if swap else r[0] for r in rows]
    b = [r[0] if swap else r[1] for r in rows]
    return continuous_effects(
        [x[0] for x in a],
        [x[1] for x in a],
        [x[2] for x in a],
        [x[0] for x in b],
        [x[1] for x in b],
        [x[2] for x in b],
        measure="SMD",
    )


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(["DL", "REML", "PM"]))
def test_swapping_arms_negates_the_effect(rows, method) -> None:  # type: ignore[no-untyped-def]
    a = RandomEffects(tau2_method=method).fit(_cont(rows).yi, _cont(rows).vi)
    es_b = _cont(rows, swap=True)
    b = RandomEffects(tau2_method=method).fit(es_b.yi, es_b.vi)
    assert b.estimate_ == pytest.approx(-a.estimate_, abs=1e-9)
    assert b.tau2_ == pytest.approx(a.tau2_, abs=1e-9, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(counts, st.sampled_from(["OR", "RR", "RD"]))
def test_swapping_arms_negates_binary_effects(rows, measure) -> None:  # type: ignore[no-untyped-def]
    ai, n1, ci, n2 = (np.array([r[i] for r in rows], dtype=float) for i in range(4))
    try:
        a = binary_effects(ai, n1, ci, n2, measure=measure)
    except Exception:  # every study double-zero: nothing to compare
        return
    b = binary_effects(ci, n2, ai, n1, measure=measure)
    np.testing.assert_allclose(b.yi, -a.yi, atol=1e-12)
    np.testing.assert_allclose(b.vi, a.vi, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(studies, st.randoms(use_true_random=False), st.sampled_from(["DL", "REML", "PM"]))
def test_permuting_studies_changes_nothing(rows, rnd, method) -> None:  # type: ignore[no-untyped-def]
    es = _cont(rows)
    perm = list(range(es.k))
    rnd.shuffle(perm)
    a = RandomEffects(tau2_method=method, hksj=True).fit(es.yi, es.vi).summary()
    b = RandomEffects(tau2_method=method, hksj=True).fit(es.yi[perm], es.vi[perm]).summary()
    assert b.pooled.estimate == pytest.approx(a.pooled.estimate, abs=1e-9)
    assert b.pooled.se == pytest.approx(a.pooled.se, rel=1e-6)
    assert b.heterogeneity.q == pytest.approx(a.heterogeneity.q, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=10), st.floats(-2, 2))
def test_random_equals_fixed_when_tau2_is_zero(vi, mu) -> None:  # type: ignore[no-untyped-def]
    v = np.array(vi)
    y = np.full_like(v, mu)  # identical effects: Q = 0, so every tau² estimator gives 0
    fe = FixedEffect().fit(y, v).summary().pooled
    for method in ("DL", "REML", "PM"):
        re = RandomEffects(tau2_method=method).fit(y, v)
        assert re.tau2_ == 0.0
        s = re.summary().pooled
        assert s.estimate == pytest.approx(fe.estimate)
        assert s.se == pytest.approx(fe.se)
        assert s.ci_low == pytest.approx(fe.ci_low)


def test_auto_rule_follows_the_seed_paper() -> None:
    assert choose_model("auto", 0.05, 10.0)[0] == "random"  # Q p < 0.1
    assert choose_model("auto", 0.5, 60.0)[0] == "random"  # I² > 50%
    assert choose_model("auto", 0.5, 20.0)[0] == "fixed"
    assert choose_model("fixed", 0.0, 99.0)[0] == "fixed"


def test_double_zero_studies_are_dropped_and_reported() -> None:
    es = binary_effects(
        [0, 3, 2], [10, 20, 20], [0, 5, 1], [10, 20, 20], measure="OR", labels=["A", "B", "C"]
    )
    assert es.labels == ("B", "C")
    assert es.dropped[0][0] == "A"
    res = meta_analysis(es, Settings(model="fixed"))
    assert any("left out: A" in n for n in res.notes)
    kept = binary_effects([0, 3], [10, 20], [0, 5], [10, 20], measure="OR", drop_double_zero=False)
    assert kept.k == 2 and kept.corrected == ("Study 1",)


def test_checker_flags_the_seed_inconsistencies() -> None:
    flagged, noted = [], []
    with SEED_RESULTS.open() as f:
        for r in csv.DictReader(f):
            if not r["estimate"]:
                continue
            label = f"{r['outcome']} {r['time_point']}"
            res = check_reported(
                r["estimate"],
                r["ci_low"],
                r["ci_high"],
                r["p_value"],
                ratio=r["measure"] in ("OR", "RR"),
                label=label,
            )
            if not res.consistent:
                flagged.append(label)
            if "inconsistent" in r["note"] or "outside" in r["note"]:
                noted.append(label)
    assert set(noted) <= set(flagged)
    # Beyond the rows the note column marks, two more do not add up as printed:
    # PTA baseline (CI -0.53 to 0.17 implies p ≈ 0.31, printed 0.431) and AST baseline
    # (CI -0.25 to 0.15 implies p ≈ 0.62, printed 0.974).
    assert set(flagged) - set(noted) == {"PTA baseline", "AST baseline"}


def test_checker_accepts_a_consistent_ratio() -> None:
    res = check_reported("1.29", "1.03", "1.60", "0.023", ratio=True)
    assert res.consistent, res.problems


def test_baseline_differs_flag() -> None:
    rows = []
    for i in range(4):
        for tp, shift in (("baseline", 3.0), ("12 weeks", 1.0)):
            rows.append(
                {
                    "study": f"S{i}",
                    "outcome": "INR",
                    "time_point": tp,
                    "mean_exp": 10 + shift,
                    "sd_exp": 2,
                    "n_exp": 40,
                    "mean_con": 10,
                    "sd_con": 2,
                    "n_con": 40,
                }
            )
            rows.append(
                {
                    "study": f"S{i}",
                    "outcome": "ALB",
                    "time_point": tp,
                    "mean_exp": 30 + (0 if tp == "baseline" else 2),
                    "sd_exp": 5,
                    "n_exp": 40,
                    "mean_con": 30,
                    "sd_con": 5,
                    "n_con": 40,
                }
            )
    out = {(r.outcome, r.time_point): r.flag for r in analyse_outcomes(rows)}
    assert out[("INR", "12 weeks")] == "baseline differs"
    assert out[("ALB", "12 weeks")] == ""
