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


def test_consecutive_exclusions_fixed_n():
    """confidence 0: the fixed-N heuristic, N excludes in a row."""
    labels = [False, False, True, False, False, False]
    e = stopping.consecutive_exclusions(labels, total=10, n=3, confidence=0.0)
    assert e.met and e.heuristic
    assert e.numbers == {
        "screened": 6,
        "included": 1,
        "run": 3,
        "run_needed": 3,
        "urn": 7,
        "k_target": None,
        "p": None,
    }
    assert not stopping.consecutive_exclusions(labels, total=10, n=4, confidence=0.0).met
    assert stopping.consecutive_exclusions_met_at(labels, n=3) == 6
    assert stopping.consecutive_exclusions_met_at(labels, n=2) == 2
    assert stopping.consecutive_exclusions_met_at(labels, n=4) is None
    text = e.methods_text()
    assert "3 consecutive records were excluded" in text
    assert "heuristic" in text
    with pytest.raises(InvalidInput):
        stopping.consecutive_exclusions(labels, total=10, n=0)
    with pytest.raises(InvalidInput):
        stopping.consecutive_exclusions(labels, total=5, n=3)  # more labels than records
    with pytest.raises(InvalidInput):
        stopping.consecutive_exclusions_met_at(labels, n=3, confidence=0.95)  # needs total


def test_exclusion_run_p_is_the_callaghan_example_with_no_include_in_the_sample():
    """The R example of mcallaghan/rapid-screening (20 includes then 70 excludes of N = 100,
    tau = 0.9, the last 70 as the sample): K_tar = floor(20/0.9 - 20 + 1) = 3, urn 80, and
    p = C(77, 70)/C(80, 70) = (10 * 9 * 8)/(80 * 79 * 78) = 720/492960 = 0.001460565."""
    p, k_target, urn = stopping.exclusion_run_p(
        total=100, screened=90, included=20, run=70, recall_target=0.9
    )
    assert (k_target, urn) == (3, 80)
    assert p == pytest.approx(720 / 492960, rel=1e-12)
    assert p == pytest.approx(0.001460565, abs=5e-10)
    same, _k = stopping.hypergeometric_p(
        total=100, prioritised=20, prioritised_included=20, sample=70, sample_included=0,
        recall_target=0.9,
    )  # fmt: skip
    assert p == pytest.approx(same, rel=1e-9)
    # K_tar larger than the records the run left: the run could not have missed them all.
    assert stopping.exclusion_run_p(total=10, screened=10, included=0, run=10)[0] == 0.0
    with pytest.raises(InvalidInput):
        stopping.exclusion_run_p(total=10, screened=5, included=3, run=3)


def test_consecutive_exclusions_scaled_to_the_review():
    """20 includes then excludes, N = 100, tau = 0.95: K_tar = floor(20/0.95 - 20 + 1) = 2 and
    the run began with 80 records left, so p(m) = (80 - m)(79 - m)/(80 * 79): m = 61 gives
    342/6320 = 0.0541 (not met), m = 62 gives 306/6320 = 0.0484 (met): a run of 62 is needed,
    though n = 50."""
    labels = [True] * 20 + [False] * 61
    e = stopping.consecutive_exclusions(labels, total=100, n=50)
    assert not e.met
    assert e.numbers["k_target"] == 2 and e.numbers["urn"] == 80
    assert e.numbers["p"] == pytest.approx(342 / 6320)
    assert e.numbers["run_needed"] == 62
    assert "a run of 62 was needed" in e.methods_text()
    e = stopping.consecutive_exclusions([*labels, False], total=100, n=50)
    assert e.met and e.numbers["p"] == pytest.approx(306 / 6320)
    assert stopping.consecutive_exclusions_met_at(labels + [False] * 5, total=100, n=50, confidence=0.95) == 82  # fmt: skip
    # n still binds: with n = 70 the run must reach 70.
    assert stopping.consecutive_exclusions_met_at(labels + [False] * 19, total=100, n=70, confidence=0.95) == 90  # fmt: skip
    text = e.methods_text()
    assert "at least 2 relevant records would have been among the 80 left" in text
    assert (
        "a random run of 62 of them would have missed them all with probability p = 0.0484" in text
    )
    assert "heuristic" in text and "at least as high as a random order" in text
    # 8 includes then 5 excludes of 16: urn 16 - 8 = 8, K_tar = floor(8/0.95 - 8 + 1) = 1,
    # p = (8 - 5)/8 = 3/8; only a run through all 8 left (p = 0) meets it.
    e = stopping.consecutive_exclusions([True] * 8 + [False] * 5, total=16, n=4)
    assert (e.met, e.numbers["run"], e.numbers["k_target"]) == (False, 5, 1)
    assert e.numbers["p"] == pytest.approx(3 / 8) and e.numbers["run_needed"] == 8


# --- (c) SAFE-like staged procedure -----------------------------------------------------------------


def _safe_order() -> list[bool]:
    # stage 1: 10 random, 1 include -> prevalence 10 %, ≈100 relevant of 1000, stage 2 needs
    # max(2 × 100, 10 % × 1000) = 200 screened; 50 includes then excludes: the run reaches 50 at
    # record 110 (too early), so stage 2 is complete at record 200.
    return [True] + [False] * 9 + [True] * 50 + [False] * 200


def test_safe_stage_two_complete_then_switch():
    labels = _safe_order()
    e = stopping.safe_procedure(
        labels, total=1000, random_training=10, switched_at=None, confidence=0.0
    )
    assert e.numbers["estimated_prevalence"] == pytest.approx(0.1)
    assert e.numbers["estimated_relevant"] == pytest.approx(100.0)
    assert e.numbers["stage2_needed"] == 200
    assert e.numbers["stage2_complete_at"] == 200
    assert e.numbers["stage"] == 2
    assert not e.met  # the model has not been switched yet


def test_safe_stage_three_needs_its_own_run():
    base = _safe_order()
    not_yet = stopping.safe_procedure(
        base + [True] + [False] * 49,
        total=1000,
        random_training=10,
        switched_at=260,
        confidence=0.0,
    )
    assert not not_yet.met and not_yet.numbers["stage"] == 3
    done = stopping.safe_procedure(
        base + [True] + [False] * 50,
        total=1000,
        random_training=10,
        switched_at=260,
        confidence=0.0,
    )
    assert done.met and done.numbers["stage"] == 4
    assert len(done.stages) == 4
    text = done.methods_text()
    assert "SAFE" in text and "Stages 1-3 were complete after 311 records" in text


def test_safe_stage_two_run_scaled_to_the_review():
    """1 include in 10 random records of 100 (about 10 relevant: stage 2 needs max(2 x 10, 10 %
    x 100) = 20 screened), then 19 includes and excludes. The published rule ends stage 2 at 50
    in a row, record 79. Scaled: 20 included, K_tar = floor(20/0.95 - 20 + 1) = 2, the run began
    with 100 - 29 = 71 left, p(m) = (71 - m)(70 - m)/(71 * 70): m = 54 gives 272/4970 = 0.0547,
    m = 55 gives 240/4970 = 0.0483, so stage 2 ends at record 29 + 55 = 84."""
    labels = [True] + [False] * 9 + [True] * 19 + [False] * 60
    published = stopping.safe_procedure(
        labels, total=100, random_training=10, switched_at=None, confidence=0.0
    )
    assert published.numbers["stage2_needed"] == 20
    assert published.numbers["stage2_complete_at"] == 79
    scaled = stopping.safe_procedure(labels, total=100, random_training=10, switched_at=None)
    assert scaled.numbers["stage2_complete_at"] == 84
    assert scaled.parameters["confidence"] == 0.95
    assert "had it been random" in scaled.stages[1]
    assert "a run long enough" in scaled.methods_text()


def test_safe_stage_three_is_complete_when_nothing_is_left():
    """Stage 2 (scaled) used up the records: a stage 3 that screened the rest is complete."""
    labels = [True] + [False] * 9 + [True] * 19 + [False] * 71
    e = stopping.safe_procedure(labels, total=100, random_training=10, switched_at=95)
    assert e.numbers["stage2_complete_at"] == 84
    assert e.met and "every record screened" in e.stages[2]
    short = stopping.safe_procedure(labels[:99], total=100, random_training=10, switched_at=95)
    assert not short.met and "needs 50 in a row" in short.stages[2]


def test_safe_stage_one_in_progress_and_bad_switch():
    e = stopping.safe_procedure([False] * 5, total=1000, random_training=10, switched_at=None)
    assert e.numbers["stage"] == 1 and not e.met
    with pytest.raises(InvalidInput):
        stopping.safe_procedure([False] * 20, total=1000, random_training=10, switched_at=5)


def test_evidence_as_dict_is_plain():
    d = stopping.consecutive_exclusions([False] * 3, total=3, n=2, confidence=0.0).as_dict()
    assert d["rule"] == "consecutive_exclusions" and d["met"] is True
    assert d["parameters"] == {"n": 2, "recall_target": 0.95, "confidence": 0.0}
    assert isinstance(d["methods_text"], str)


@pytest.mark.parametrize(
    ("n", "labels", "plan", "outcome"),
    [
        (
            1,
            [True, False],
            "We planned to stop screening after a record was excluded.",
            "This was met after 2 records had been screened (1 included); the last record "
            "screened was excluded.",
        ),
        (
            2,
            [True, False, False],
            "We planned to stop screening after 2 consecutive records were excluded.",
            "This was met after 3 records had been screened (1 included); the last 2 records "
            "screened were all excluded.",
        ),
    ],
)
def test_methods_text_counts_one_record_in_the_singular(n, labels, plan, outcome):
    # It read "after 1 consecutive records were excluded ... the last 1 records screened were
    # all excluded".
    text = stopping.consecutive_exclusions(labels, total=10, n=n, confidence=0.0).methods_text()
    assert plan in text and outcome in text
    assert "1 records" not in text


def test_methods_text_with_one_record_screened():
    e = stopping.consecutive_exclusions([False], total=10, n=2, confidence=0.0)
    text = e.methods_text()
    assert "after 1 record screened, the last one was excluded (a run of 2 was needed)" in text
    assert "1 records" not in text
