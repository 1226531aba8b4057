"""Stopping rules (reviewtool.screening.stopping) against hand-computed and published values."""

from __future__ import annotations

from math import comb

import pytest
from scipy.stats import hypergeom

from reviewtool.errors import InvalidInput
from reviewtool.screening import stopping

# --- (b) Callaghan & Müller-Hansen 2020 --------------------------------------------------------------


def test_authors_worked_example_gives_their_p():
    # github.com/mcallaghan/rapid-screening analysis/hyper_criteriaR.md: 20 relevant then 70 irrelevant
    # screened of N = 100, recall target 0.9, the last 70 as the sample: k_hat = 3, p = 0.001460565.
    labels = [True] * 20 + [False] * 70
    e = stopping.hypergeometric_test(
        labels, total=100, sample_start=20, recall_target=0.9, confidence=0.95
    )
    assert e.numbers["k_target"] == 3
    assert e.numbers["urn"] == 80
    assert e.numbers["p"] == pytest.approx(0.001460565, abs=5e-10)
    # by hand: no relevant in 70 draws from 80 holding 3 = C(77,70)/C(80,70) = 10·9·8/(80·79·78)
    assert e.numbers["p"] == pytest.approx(720 / 492960, rel=1e-12)
    assert e.met
    assert not e.heuristic


def test_hand_computed_not_rejected():
    # N = 1000; 200 screened by priority with 38 included; 100 random of the 800 left, none included.
    # ρ_seen/τ = 38/0.95 = 40, K_tar = 40 − 38 + 1 = 3; p = C(797,100)/C(800,100) = 700·699·698/(800·799·798)
    labels = [True] * 38 + [False] * 162 + [False] * 100
    e = stopping.hypergeometric_test(labels, total=1000, sample_start=200)
    assert e.numbers["k_target"] == 3
    expected = 700 * 699 * 698 / (800 * 799 * 798)
    assert e.numbers["p"] == pytest.approx(expected, rel=1e-12)
    assert e.numbers["p"] == pytest.approx(0.669562, abs=1e-6)
    assert not e.met
    assert "could not be rejected" in e.methods_text()


def test_sample_with_includes_matches_scipy_and_combinatorics():
    # N = 500; 100 prioritised with 10 includes; 150 sampled of 400 with 1 include; τ = 0.9.
    # ρ_seen = 11, 11/0.9 = 12.22…, K_tar = ⌊12.22 − 10 + 1⌋ = 3; p = P(X ≤ 1), X ~ H(400, 3, 150)
    labels = [True] * 10 + [False] * 90 + [True] + [False] * 149
    e = stopping.hypergeometric_test(labels, total=500, sample_start=100, recall_target=0.9)
    by_hand = (comb(397, 150) + comb(3, 1) * comb(397, 149)) / comb(400, 150)
    assert e.numbers["k_target"] == 3
    assert e.numbers["p"] == pytest.approx(by_hand, rel=1e-10)
    assert e.numbers["p"] == pytest.approx(float(hypergeom.cdf(1, 400, 3, 150)), rel=1e-12)
    assert e.numbers["sample_included"] == 1 and e.numbers["sample"] == 150


def test_impossible_null_gives_zero_and_before_sampling_not_met():
    # every record screened, 9 of 10 by priority (all 9 included), the last one sampled (excluded);
    # τ = 0.5: K_tar = ⌊9/0.5 − 9 + 1⌋ = 10 exceeds the urn of 1, so recall < 0.5 is impossible
    p, k_target = stopping.hypergeometric_p(
        total=10,
        prioritised=9,
        prioritised_included=9,
        sample=1,
        sample_included=0,
        recall_target=0.5,
    )
    assert (p, k_target) == (0.0, 10)
    e = stopping.hypergeometric_test([True, False], total=10, sample_start=None)
    assert not e.met and e.numbers["p"] is None
    assert "had not begun" in e.methods_text()


def test_p_values_per_sampled_record_match_the_test():
    labels = [True] * 12 + [False] * 30 + [False, True] + [False] * 60
    ps = stopping.hypergeometric_p_values(labels, total=400, sample_start=42)
    assert ps.shape == (62,)
    for j in (0, 1, 5, 61):
        e = stopping.hypergeometric_test(labels[: 42 + j + 1], total=400, sample_start=42)
        assert ps[j] == pytest.approx(e.numbers["p"], rel=1e-12)


def test_retrospective_variant_matches_authors_example():
    # the R example's h0_p: "Based on the last 70 documents, the p-value ... is 0.00146056475170399"
    p, n = stopping.hypergeometric_retrospective(
        [True] * 20 + [False] * 70, total=100, recall_target=0.9
    )
    assert n == 70
    assert p == pytest.approx(0.00146056475170399, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total": 50, "sample_start": 60},
        {"total": 50, "sample_start": 10, "recall_target": 1.0},
        {"total": 50, "sample_start": 10, "confidence": 0.0},
        {"total": 5, "sample_start": 1},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(InvalidInput):
        stopping.hypergeometric_test([False] * 20, **kwargs)


# --- (a) consecutive exclusions -------------------------------------------------------------------


def test_consecutive_exclusions():
    labels = [False, False, True, False, False, False]
    e = stopping.consecutive_exclusions(labels, n=3)
    assert e.met and e.heuristic
    assert e.numbers == {"screened": 6, "included": 1, "run": 3}
    assert not stopping.consecutive_exclusions(labels, n=4).met
    assert stopping.consecutive_exclusions_met_at(labels, n=3) == 6
    assert stopping.consecutive_exclusions_met_at(labels, n=2) == 2
    assert stopping.consecutive_exclusions_met_at(labels, n=4) is None
    text = e.methods_text()
    assert "3 consecutive records were excluded" in text
    assert "heuristic" in text
    with pytest.raises(InvalidInput):
        stopping.consecutive_exclusions(labels, n=0)


# --- (c) SAFE-like staged procedure -----------------------------------------------------------------


def _safe_order() -> list[bool]:
    # stage 1: 10 random, 1 include -> prevalence 10 %, ≈100 relevant of 1000, stage 2 needs
    # max(2 × 100, 10 % × 1000) = 200 screened; 50 includes then excludes: the run reaches 50 at
    # record 110 (too early), so stage 2 is complete at record 200.
    return [True] + [False] * 9 + [True] * 50 + [False] * 200


def test_safe_stage_two_complete_then_switch():
    labels = _safe_order()
    e = stopping.safe_procedure(labels, total=1000, random_training=10, switched_at=None)
    assert e.numbers["estimated_prevalence"] == pytest.approx(0.1)
    assert e.numbers["estimated_relevant"] == pytest.approx(100.0)
    assert e.numbers["stage2_needed"] == 200
    assert e.numbers["stage2_complete_at"] == 200
    assert e.numbers["stage"] == 2
    assert not e.met  # the model has not been switched yet


def test_safe_stage_three_needs_its_own_run():
    base = _safe_order()
    not_yet = stopping.safe_procedure(
        base + [True] + [False] * 49, total=1000, random_training=10, switched_at=260
    )
    assert not not_yet.met and not_yet.numbers["stage"] == 3
    done = stopping.safe_procedure(
        base + [True] + [False] * 50, total=1000, random_training=10, switched_at=260
    )
    assert done.met and done.numbers["stage"] == 4
    assert len(done.stages) == 4
    text = done.methods_text()
    assert "SAFE" in text and "Stages 1-3 were complete after 311 records" in text


def test_safe_stage_one_in_progress_and_bad_switch():
    e = stopping.safe_procedure([False] * 5, total=1000, random_training=10, switched_at=None)
    assert e.numbers["stage"] == 1 and not e.met
    with pytest.raises(InvalidInput):
        stopping.safe_procedure([False] * 20, total=1000, random_training=10, switched_at=5)


def test_evidence_as_dict_is_plain():
    d = stopping.consecutive_exclusions([False] * 3, n=2).as_dict()
    assert d["rule"] == "consecutive_exclusions" and d["met"] is True
    assert d["parameters"] == {"n": 2} and isinstance(d["methods_text"], str)
