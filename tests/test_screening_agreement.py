"""Agreement statistics: hand-worked examples, published reference values and properties."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewtool.errors import InvalidInput
from reviewtool.screening.agreement import (
    SCREENING_CATEGORIES,
    Agreement,
    PairAgreement,
    agreement_from_pairs,
    agreement_from_table,
    pairwise_screening_agreement,
    screening_agreement,
    screening_category,
)

# Hand-worked values are exact fractions; only float rounding separates them from the code.
EXACT = 1e-12
# Published values are printed to 7 significant digits (R's default print); half a unit in the
# last printed place of a number below 1 is at most 5e-8.
PRINTED_7 = 5e-8


def pairs_from_table(table: list[list[int]], categories: list[str]) -> list[tuple[str, str]]:
    return [
        (categories[i], categories[j])
        for i, row in enumerate(table)
        for j, count in enumerate(row)
        for _ in range(count)
    ]


# --------------------------------------------------------------------------- hand-worked examples


def test_two_by_two_screening_example_worked_by_hand() -> None:
    # Ten records. "maybe" counts as include, so the table (rows A, columns B) is
    #                 B include  B exclude
    #   A include         3          1
    #   A exclude         1          5
    pairs = [
        ("include", "include"),
        ("maybe", "include"),
        ("include", "maybe"),
        ("include", "exclude"),
        ("exclude", "maybe"),
        *[("exclude", "exclude")] * 5,
    ]
    a = screening_agreement(pairs)

    assert a.categories == ("include", "exclude")
    assert a.table == ((3, 1), (1, 5))
    assert a.n == 10
    assert (a.agreements, a.disagreements) == (8, 2)
    assert a.count("include", "exclude") == 1

    # p_o = (3 + 5) / 10 = 0.8
    assert a.observed_agreement == pytest.approx(0.8, abs=EXACT)
    assert a.percent_agreement == pytest.approx(80.0, abs=EXACT)
    # margins r = c = (0.4, 0.6); p_e = 0.4*0.4 + 0.6*0.6 = 0.52
    assert a.expected_agreement == pytest.approx(0.52, abs=EXACT)
    # kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28 / 0.48 = 7/12
    assert a.kappa == pytest.approx(7 / 12, abs=EXACT)
    # Fleiss-Cohen-Everitt variance, 1 - kappa = 5/12:
    #   cell (inc,inc): 0.3 * (1 - (0.4+0.4)*5/12)^2 = 0.3 * (2/3)^2  = 96/720
    #   cell (exc,exc): 0.5 * (1 - (0.6+0.6)*5/12)^2 = 0.5 * (1/2)^2  = 90/720
    #   cells off-diag: 2 * 0.1 * (0 - (0.4+0.6)*5/12)^2 = 0.2 * 25/144 = 25/720
    #   sum = 211/720; (kappa - p_e(1 - kappa))^2 = (7/12 - 0.52*5/12)^2 = (11/30)^2 = 121/900
    #   var = (211/720 - 121/900) / (10 * 0.48^2) = (571/3600) / 2.304
    assert a.kappa_se == pytest.approx(math.sqrt(571 / 3600 / 2.304), abs=EXACT)
    assert a.kappa_se is not None
    # Wald interval kappa -/+ 1.96 * se; the upper end 1.098 is clipped to kappa's maximum, 1.
    z = 1.959963984540054
    assert a.kappa_ci == pytest.approx((7 / 12 - z * a.kappa_se, 1.0))
    # PABAK = 2 * 0.8 - 1 = 0.6
    assert a.pabak == pytest.approx(0.6, abs=EXACT)
    # AC1: pi = (0.4, 0.6); p_e* = (0.4*0.6 + 0.6*0.4) / (2 - 1) = 0.48
    #   AC1 = (0.8 - 0.48) / 0.52 = 8/13
    assert a.ac1_expected_agreement == pytest.approx(0.48, abs=EXACT)
    assert a.ac1 == pytest.approx(8 / 13, abs=EXACT)
    # Gwet variance, 1 - AC1 = 5/13, term = w - 2(5/13)(1 - (pi_k + pi_l)/2):
    #   (inc,inc): 1 - 2(5/13)(0.6) = 7/13;  (exc,exc): 1 - 2(5/13)(0.4) = 9/13;
    #   off-diagonal: 0 - 2(5/13)(0.5) = -5/13
    #   sum = (0.3*49 + 0.5*81 + 0.2*25) / 169 = 60.2/169
    #   (p_o - 2(1 - AC1) p_e*)^2 = (0.8 - (10/13)(0.48))^2 = (5.6/13)^2 = 31.36/169
    #   var = (60.2 - 31.36) / 169 / (10 * 0.52^2) = 28.84 / 169 / 2.704
    assert a.ac1_se == pytest.approx(math.sqrt(28.84 / 169 / 2.704), abs=EXACT)
    assert a.ac1_ci == pytest.approx((8 / 13 - z * a.ac1_se, 1.0))  # 1.108 clipped to 1


def test_three_category_example_worked_by_hand() -> None:
    # rows A, columns B; n = 10, diagonal 2 + 3 + 3 = 8 -> p_o = 0.8
    table = [[2, 1, 0], [0, 3, 0], [1, 0, 3]]
    a = agreement_from_table(table, categories=["x", "y", "z"])
    assert a.observed_agreement == pytest.approx(0.8, abs=EXACT)
    # r = (0.3, 0.3, 0.4), c = (0.3, 0.4, 0.3): p_e = 0.09 + 0.12 + 0.12 = 0.33
    assert a.expected_agreement == pytest.approx(0.33, abs=EXACT)
    # kappa = 0.47 / 0.67
    assert a.kappa == pytest.approx(0.47 / 0.67, abs=EXACT)
    # PABAK with k = 3: (3 * 0.8 - 1) / 2 = 0.7
    assert a.pabak == pytest.approx(0.7, abs=EXACT)
    # pi = (0.3, 0.35, 0.35); p_e* = (0.21 + 0.2275 + 0.2275) / 2 = 0.3325
    assert a.ac1_expected_agreement == pytest.approx(0.3325, abs=EXACT)
    # AC1 = (0.8 - 0.3325) / (1 - 0.3325) = 0.4675 / 0.6675
    assert a.ac1 == pytest.approx(0.4675 / 0.6675, abs=EXACT)


def test_perfect_agreement_on_a_single_category_leaves_kappa_undefined() -> None:
    # Both exclude all 4: p_o = 1, margins (0, 1) for both, p_e = 0 + 1 = 1 -> kappa is 0/0.
    a = screening_agreement([("exclude", "exclude")] * 4)
    assert a.observed_agreement == 1.0
    assert a.expected_agreement == 1.0
    assert a.kappa is None and a.kappa_se is None and a.kappa_ci is None
    assert a.kappa_undefined_reason is not None
    assert "'exclude'" in a.kappa_undefined_reason
    assert "expected agreement is 1" in a.kappa_undefined_reason
    # PABAK = 2*1 - 1 = 1. AC1: pi = (0, 1), p_e* = 0, AC1 = (1 - 0)/(1 - 0) = 1, variance 1 - 1 = 0
    assert a.pabak == 1.0
    assert a.ac1 == 1.0
    assert a.ac1_se == 0.0
    assert a.ac1_ci == (1.0, 1.0)
    d = a.to_dict()
    assert d["kappa"] is None and d["kappa_ci_lower"] is None
    json.dumps(d, allow_nan=False)


def test_perfect_agreement_over_two_categories_gives_kappa_one_with_zero_se() -> None:
    # table [[2, 0], [0, 3]]: p_o = 1, p_e = 0.4^2 + 0.6^2 = 0.52 -> kappa = 0.48/0.48 = 1
    # variance: 0.4 (1 - 0)^2 + 0.6 (1 - 0)^2 - (1 - 0)^2 = 0
    a = screening_agreement([("include", "maybe")] * 2 + [("exclude", "exclude")] * 3)
    assert a.kappa == pytest.approx(1.0, abs=EXACT)
    assert a.kappa_se == pytest.approx(0.0, abs=1e-7)
    assert a.kappa_ci == pytest.approx((1.0, 1.0), abs=1e-6)
    assert a.kappa_undefined_reason is None


def test_complete_disagreement() -> None:
    # table [[0, 3], [2, 0]]: p_o = 0, r = (0.6, 0.4), c = (0.4, 0.6), p_e = 0.24 + 0.24 = 0.48
    # kappa = -0.48/0.52; PABAK = -1; pi = (0.5, 0.5), p_e* = 0.5, AC1 = -0.5/0.5 = -1
    a = screening_agreement([("include", "exclude")] * 3 + [("exclude", "maybe")] * 2)
    assert a.kappa == pytest.approx(-0.48 / 0.52, abs=EXACT)
    assert a.pabak == pytest.approx(-1.0, abs=EXACT)
    assert a.ac1 == pytest.approx(-1.0, abs=EXACT)
    assert a.kappa_ci is not None and a.kappa_ci[0] >= -1.0
    assert a.ac1_ci[0] >= -1.0


# ---------------------------------------------------------------------------- published examples


def test_kappa_matches_statpsych_ci_kappa_example() -> None:
    # Source: R package statpsych (Bonett), ci.kappa documentation example, which cites
    # Fleiss, Levin & Paik (2003) Statistical Methods for Rates and Proportions, 3rd ed.
    # https://dgbonett.github.io/statpsych/reference/ci.kappa.html
    #   ci.kappa(.05, 31, 12, 4, 58)   # f00, f01, f10, f11
    #   Cohen kappa: Estimate 0.6756757  SE 0.07344761  LL 0.5317210  UL 0.8196303
    a = agreement_from_table([[31, 12], [4, 58]], categories=["0", "1"])
    assert a.kappa == pytest.approx(0.6756757, abs=PRINTED_7)
    assert a.kappa_se == pytest.approx(0.07344761, abs=PRINTED_7)
    assert a.kappa_ci == pytest.approx((0.5317210, 0.8196303), abs=PRINTED_7)


def test_matches_irrcac_readme_cont3x3abstractors() -> None:
    # Source: R package irrCAC (K. L. Gwet), README "Computing agreement Coefficients from
    # Contingency tables", data cont3x3abstractors from Gwet (2014) Handbook of Inter-Rater
    # Reliability, 4th ed. https://github.com/kgwet/irrCAC (README.md):
    #   kappa2.table(cont3x3abstractors)   Cohen's Kappa    0.7964094  se 0.05891072
    #   gwet.ac1.table(cont3x3abstractors) Gwet's AC1       0.8493305  se 0.04321747
    #   bp2.table(cont3x3abstractors)      Brennan-Prediger 0.835      (= PABAK for k = 3)
    #   pa2.table(cont3x3abstractors)      Percent Agreement 0.89
    # irrCAC's kappa variance is written in Gwet's notation but is algebraically the
    # Fleiss-Cohen-Everitt one; its intervals use a t quantile, so only estimates and SEs are
    # compared here.
    table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    a = agreement_from_table(table, categories=["Ectopic", "AIU", "NIU"])
    assert a.observed_agreement == pytest.approx(0.89, abs=EXACT)
    assert a.kappa == pytest.approx(0.7964094, abs=PRINTED_7)
    assert a.kappa_se == pytest.approx(0.05891072, abs=PRINTED_7)
    assert a.ac1 == pytest.approx(0.8493305, abs=PRINTED_7)
    assert a.ac1_se == pytest.approx(0.04321747, abs=PRINTED_7)
    assert a.pabak == pytest.approx(0.835, abs=EXACT)
    # Python port of irrCAC (afergadis/irrCAC, irrCAC/table.py doctest): AC1 'pe': 0.26992
    assert a.ac1_expected_agreement == pytest.approx(0.26992, abs=5e-6)


def test_matches_irrcac_cont4x4diagnosis() -> None:
    # Source: Python irrCAC (afergadis/irrCAC) test/unit/irrCAC/table/test_cohen.py and
    # test_gwet.py, data table_cont4x4diagnosis (223 psychiatric patients), printed to 3 dp:
    #   Cohen's kappa 0.432 se 0.046;  Gwet's AC1 0.456 se 0.043
    table = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]
    a = agreement_from_table(table, categories=["schizophrenia", "bipolar", "depression", "other"])
    assert a.kappa == pytest.approx(0.432, abs=5e-4)
    assert a.kappa_se == pytest.approx(0.046, abs=5e-4)
    assert a.ac1 == pytest.approx(0.456, abs=5e-4)
    assert a.ac1_se == pytest.approx(0.043, abs=5e-4)


# ------------------------------------------------------------------------------------ edge cases


def test_no_items_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="no items"):
        screening_agreement([])


@pytest.mark.parametrize("bad", ["Include", "excluded", "", "yes"])
def test_unknown_decision_is_named(bad: str) -> None:
    with pytest.raises(InvalidInput, match=repr(bad)):
        screening_agreement([("include", "include"), ("exclude", bad)])
    with pytest.raises(InvalidInput, match=repr(bad)):
        screening_category(bad)


def test_unknown_category_in_general_pairs_is_named() -> None:
    with pytest.raises(InvalidInput, match="'c'"):
        agreement_from_pairs([("a", "b"), ("a", "c")], categories=["a", "b"])


def test_general_pairs_need_two_categories() -> None:
    with pytest.raises(InvalidInput, match="at least two categories"):
        agreement_from_pairs([("a", "a"), ("a", "a")])
    # naming the unused category makes it computable
    a = agreement_from_pairs([("a", "a"), ("a", "a")], categories=["a", "b"])
    assert a.kappa is None and a.ac1 == 1.0


@pytest.mark.parametrize(
    ("table", "categories", "message"),
    [
        ([[1, 2], [3]], ["a", "b"], "2 x 2"),
        ([[1, -1], [0, 1]], ["a", "b"], "non-negative"),
        ([[1, 0.5], [0, 1]], ["a", "b"], "non-negative integer"),
        ([[1, 0], [0, 1]], ["a", "a"], "distinct"),
    ],
)
def test_bad_tables_are_invalid_input(
    table: list[list[float]], categories: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        agreement_from_table(table, categories=categories)  # type: ignore[arg-type]


def test_confidence_level_is_validated_and_used() -> None:
    pairs = [("include", "include")] * 5 + [("exclude", "exclude")] * 5 + [("include", "exclude")]
    with pytest.raises(InvalidInput, match="confidence"):
        screening_agreement(pairs, confidence=95)
    narrow = screening_agreement(pairs, confidence=0.5)
    wide = screening_agreement(pairs, confidence=0.99)
    assert narrow.kappa_ci is not None and wide.kappa_ci is not None
    assert wide.kappa_ci[0] < narrow.kappa_ci[0] < narrow.kappa_ci[1] < wide.kappa_ci[1]


def test_to_dict_has_stable_keys_and_is_json() -> None:
    a = screening_agreement([("include", "include"), ("exclude", "exclude"), ("maybe", "exclude")])
    d = a.to_dict()
    assert list(d) == [
        "n",
        "categories",
        "table",
        "agreements",
        "disagreements",
        "percent_agreement",
        "observed_agreement",
        "expected_agreement",
        "kappa",
        "kappa_se",
        "kappa_ci_lower",
        "kappa_ci_upper",
        "kappa_undefined_reason",
        "pabak",
        "ac1",
        "ac1_expected_agreement",
        "ac1_se",
        "ac1_ci_lower",
        "ac1_ci_upper",
        "confidence",
    ]
    assert d["categories"] == ["include", "exclude"]
    assert d["table"] == {
        "include": {"include": 1, "exclude": 1},
        "exclude": {"include": 0, "exclude": 1},
    }
    json.dumps(d, allow_nan=False)


# ------------------------------------------------------------------------------- reviewer pairs


def test_pairwise_uses_only_records_both_reviewers_decided() -> None:
    decisions = {
        ("alice", 1): "include",
        ("alice", 2): "exclude",
        ("alice", 3): "maybe",
        ("bob", 1): "include",
        ("bob", 2): "include",
        ("bob", 4): "exclude",
        ("carol", 3): "include",
        ("carol", 4): "exclude",
        ("dave", 9): "exclude",  # shares nothing with anyone: no pair for dave
    }
    result = pairwise_screening_agreement(decisions)
    assert [(p.reviewer_a, p.reviewer_b) for p in result] == [
        ("alice", "bob"),
        ("alice", "carol"),
        ("bob", "carol"),
    ]
    ab, ac, bc = (p.agreement for p in result)
    # alice/bob share records 1 and 2: (include, include), (exclude, include)
    assert ab == screening_agreement([("include", "include"), ("exclude", "include")])
    # alice/carol share record 3: maybe vs include -> agree; single category -> kappa undefined
    assert ac.n == 1 and ac.kappa is None and ac.observed_agreement == 1.0
    # bob/carol share record 4
    assert bc.n == 1 and bc.table == ((0, 0), (0, 1))
    d = result[0].to_dict()
    assert (d["reviewer_a"], d["reviewer_b"], d["n"]) == ("alice", "bob", 2)


def test_pairwise_rejects_unknown_decision_even_without_a_partner() -> None:
    with pytest.raises(InvalidInput, match="'skip'"):
        pairwise_screening_agreement({("alice", 1): "include", ("bob", 2): "skip"})


def test_pair_agreement_is_a_frozen_value() -> None:
    a = screening_agreement([("include", "include"), ("exclude", "exclude")])
    pair = PairAgreement("alice", "bob", a)
    with pytest.raises(AttributeError):
        pair.reviewer_a = "carol"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.n = 3  # type: ignore[misc]


# ----------------------------------------------------------------------------------- properties

decision = st.sampled_from(["include", "exclude", "maybe"])
screening_pairs = st.lists(st.tuples(decision, decision), min_size=1, max_size=60)


def _stats(a: Agreement) -> tuple[object, ...]:
    return (
        a.n,
        a.observed_agreement,
        a.expected_agreement,
        a.kappa,
        a.kappa_se,
        a.kappa_ci,
        a.pabak,
        a.ac1,
        a.ac1_expected_agreement,
        a.ac1_se,
        a.ac1_ci,
    )


def _close(x: tuple[object, ...], y: tuple[object, ...]) -> bool:
    def flat(t: tuple[object, ...]) -> list[object]:
        out: list[object] = []
        for v in t:
            out.extend(v if isinstance(v, tuple) else [v])
        return out

    fx, fy = flat(x), flat(y)
    return len(fx) == len(fy) and all(
        (u is None and v is None)
        or (
            isinstance(u, (int, float))
            and isinstance(v, (int, float))
            and math.isclose(u, v, abs_tol=1e-12)
        )
        for u, v in zip(fx, fy, strict=True)
    )


@given(screening_pairs)
def test_swapping_reviewers_changes_nothing(pairs: list[tuple[str, str]]) -> None:
    a = screening_agreement(pairs)
    b = screening_agreement([(y, x) for x, y in pairs])
    assert b.table == tuple(zip(*a.table, strict=True))
    assert _close(_stats(a), _stats(b))


@given(screening_pairs)
def test_coefficients_are_bounded(pairs: list[tuple[str, str]]) -> None:
    a = screening_agreement(pairs)
    assert 0.0 <= a.observed_agreement <= 1.0
    assert a.kappa is None or -1.0 <= a.kappa <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= a.pabak <= 1.0 + 1e-12
    assert -1.0 - 1e-12 <= a.ac1 <= 1.0 + 1e-12
    assert a.ac1_ci[0] <= a.ac1 + 1e-12 and a.ac1 - 1e-12 <= a.ac1_ci[1]
    if a.kappa is not None:
        assert a.kappa_ci is not None and a.kappa_se is not None and a.kappa_se >= 0.0
        assert a.kappa_ci[0] <= a.kappa + 1e-12 and a.kappa - 1e-12 <= a.kappa_ci[1]
    else:
        assert a.expected_agreement == pytest.approx(1.0)
    assert (a.kappa is None) == (a.kappa_undefined_reason is not None)


@given(screening_pairs)
def test_maybe_counts_exactly_as_include(pairs: list[tuple[str, str]]) -> None:
    def as_include(d: str) -> str:
        return "include" if d == "maybe" else d

    collapsed = [(as_include(x), as_include(y)) for x, y in pairs]
    assert screening_agreement(pairs) == screening_agreement(collapsed)


@given(screening_pairs, st.randoms(use_true_random=False))
def test_item_order_changes_nothing(pairs: list[tuple[str, str]], rnd: random.Random) -> None:
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    assert screening_agreement(shuffled) == screening_agreement(pairs)


labels = ["a", "b", "c", "d"]
general_pairs = st.lists(
    st.tuples(st.sampled_from(labels), st.sampled_from(labels)), min_size=1, max_size=60
)


@given(general_pairs, st.permutations(labels), st.permutations(["w", "x", "y", "z"]))
def test_consistent_relabelling_changes_nothing(
    pairs: list[tuple[str, str]], order: list[str], new_names: list[str]
) -> None:
    before = agreement_from_pairs(pairs, categories=labels)
    rename = dict(zip(labels, new_names, strict=True))
    after = agreement_from_pairs(
        [(rename[x], rename[y]) for x, y in pairs], categories=[rename[c] for c in order]
    )
    assert _close(_stats(before), _stats(after))


@given(st.lists(st.sampled_from(labels), min_size=1, max_size=60))
def test_perfect_agreement_gives_kappa_one_when_chance_agreement_below_one(
    items: list[str],
) -> None:
    a = agreement_from_pairs([(x, x) for x in items], categories=labels)
    assert a.observed_agreement == 1.0
    assert a.pabak == pytest.approx(1.0)
    assert a.ac1 == pytest.approx(1.0)
    if len(set(items)) >= 2:
        assert a.expected_agreement < 1.0
        assert a.kappa == pytest.approx(1.0)
    else:
        assert a.kappa is None


@given(
    st.dictionaries(st.tuples(st.sampled_from(["ann", "ben", "cat"]), st.integers(0, 15)), decision)
)
def test_pairwise_matches_two_reviewer_function(decisions: dict[tuple[str, int], str]) -> None:
    for pair in pairwise_screening_agreement(decisions):
        shared = sorted(
            item
            for (r, item) in decisions
            if r == pair.reviewer_a and (pair.reviewer_b, item) in decisions
        )
        expected = screening_agreement(
            [(decisions[(pair.reviewer_a, i)], decisions[(pair.reviewer_b, i)]) for i in shared]
        )
        assert pair.agreement == expected
        assert pair.agreement.categories == SCREENING_CATEGORIES


def test_a_vanishing_variance_is_exactly_zero_in_every_category_order() -> None:
    """Hypothesis found this table: p_o = 0, p_e = 1/4, kappa = -1/3, and by hand the Fleiss-
    Cohen-Everitt bracket is 4/9 - (-1/3 - 1/4 * 4/3)^2 = 4/9 - 4/9 = 0, so SE(kappa) = 0. Floating
    point left 7e-9 in one category order and 0 in another; both must be exactly 0."""
    pairs = [("a", "d"), ("b", "a"), ("c", "b"), ("c", "b"), ("d", "c"), ("d", "c")]
    for order in (["a", "b", "c", "d"], ["a", "b", "d", "c"], ["d", "c", "b", "a"]):
        a = agreement_from_pairs(pairs, categories=order)
        assert a.kappa == pytest.approx(-1 / 3, abs=1e-15)
        assert a.expected_agreement == pytest.approx(0.25, abs=1e-15)
        assert a.kappa_se == 0.0
        assert a.kappa_ci == (a.kappa, a.kappa)


def test_perfect_agreement_has_exactly_zero_standard_errors() -> None:
    pairs = [("include", "include")] * 7 + [("exclude", "exclude")] * 13 + [("maybe", "maybe")] * 3
    a = agreement_from_pairs(pairs)
    assert (a.kappa, a.kappa_se, a.ac1, a.ac1_se) == (1.0, 0.0, 1.0, 0.0)
