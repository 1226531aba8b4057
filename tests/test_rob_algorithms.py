"""RoB 2 domain algorithms, RoB 2 overall, RoB 1 overall rules.

The expected judgements come from decision tables written out here, row by row, from the published
RoB 2 decision diagrams as the spec transcribes them (shared/spec/rob_prisma.md §2.1-2.3; the D1 and
D4 tables are the spec's own). They are not derived from reviewtool's code. "Asked when" is also
restated here from the spec's §2.1 tables. Every complete answer set each domain can have is
enumerated (the questions that are asked, with every allowed answer), and each must match exactly
one table row, with the row's judgement; every row must be reached.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput
from reviewtool.rob.algorithms import (
    ROB1_OVERALL_DEFAULT,
    ROB1_OVERALL_RULES,
    rob1_overall,
    rob1_overall_rule,
    rob2_assessment,
    rob2_domain_judgement,
    rob2_overall,
)
from reviewtool.rob.tools import ROB2_DOMAIN_BY_ID, Rob1Judgement, Rob2Judgement

L, S, H = "Low", "Some concerns", "High"
YES, NO, NI = {"Y", "PY"}, {"N", "PN"}, {"NI"}
YNI, NNI = YES | NI, NO | NI
FIVE = ("Y", "PY", "PN", "N", "NI")

# ---------------------------------------------------------------------------------------------
# "Asked when" (spec §2.1), restated. Each maps the answers so far to whether a question is asked;
# questions not listed are always asked. Answers of questions not asked are "NA".


def _aware(a: Mapping[str, str]) -> bool:
    return a["2.1"] in YNI or a["2.2"] in YNI


def _dev(a: Mapping[str, str], item: str) -> bool:
    return item in a.get("deviations", "").split(";")


ASKED_WHEN: dict[str, dict[str, Callable[[Mapping[str, str]], bool]]] = {
    "D1": {},
    "D2a": {
        "2.3": _aware,
        "2.4": lambda a: a["2.3"] in YES,
        "2.5": lambda a: a["2.4"] in YNI,
        "2.7": lambda a: a["2.6"] in NNI,
    },
    "D2b": {
        "2.3": lambda a: _dev(a, "non_protocol_interventions") and _aware(a),
        "2.4": lambda a: _dev(a, "implementation_failures"),
        "2.5": lambda a: _dev(a, "non_adherence"),
        "2.6": lambda a: a["2.3"] in NNI or a["2.4"] in YNI or a["2.5"] in YNI,
    },
    "D3": {
        "3.2": lambda a: a["3.1"] in NNI,
        "3.3": lambda a: a["3.2"] in NO,
        "3.4": lambda a: a["3.3"] in YNI,
    },
    "D4": {
        "4.3": lambda a: a["4.1"] in NNI and a["4.2"] in NNI,
        "4.4": lambda a: a["4.3"] in YNI,
        "4.5": lambda a: a["4.4"] in YNI,
    },
    "D5": {},
}

QUESTIONS = {
    "D1": ("1.1", "1.2", "1.3"),
    "D2a": ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7"),
    "D2b": ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6"),
    "D3": ("3.1", "3.2", "3.3", "3.4"),
    "D4": ("4.1", "4.2", "4.3", "4.4", "4.5"),
    "D5": ("5.1", "5.2", "5.3"),
}
# 2b's "[If applicable]" questions may be answered NA even when asked (the flowchart names NA).
EXTRA_ANSWERS = {("D2b", "2.3"): ("NA",), ("D2b", "2.4"): ("NA",), ("D2b", "2.5"): ("NA",)}
NO_NI_ANSWER = {("D3", "3.2")}  # 3.2 has no NI option

DEVIATION_SETS = [
    ";".join(c)
    for r in range(4)
    for c in itertools.combinations(
        ("non_protocol_interventions", "implementation_failures", "non_adherence"), r
    )
]


def complete_answer_sets(domain_id: str) -> Iterator[dict[str, str]]:
    """Every complete answer set: asked questions get each allowed answer, others NA."""
    starts = [{"deviations": d} for d in DEVIATION_SETS] if domain_id == "D2b" else [{}]
    for start in starts:
        yield from _fill(domain_id, dict(start), 0)


def _fill(domain_id: str, answers: dict[str, str], i: int) -> Iterator[dict[str, str]]:
    questions = QUESTIONS[domain_id]
    if i == len(questions):
        yield dict(answers)
        return
    qid = questions[i]
    rule = ASKED_WHEN[domain_id].get(qid)
    if rule is not None and not rule(answers):
        yield from _fill(domain_id, {**answers, qid: "NA"}, i + 1)
        return
    options = FIVE + EXTRA_ANSWERS.get((domain_id, qid), ())
    if (domain_id, qid) in NO_NI_ANSWER:
        options = tuple(o for o in options if o != "NI")
    for option in options:
        yield from _fill(domain_id, {**answers, qid: option}, i + 1)


# ---------------------------------------------------------------------------------------------
# Decision tables. A row maps a question (or a derived column) to the answers it matches; a
# question left out matches anything. "NA" is listed where a branch names it.


def _p(text: str) -> set[str]:
    return set(text.split("/"))


D1_TABLE = [  # spec §2.2 "Decision table (D1)"
    ({"1.2": "Y/PY", "1.1": "Y/PY/NI", "1.3": "N/PN/NI"}, L),
    ({"1.2": "Y/PY", "1.1": "Y/PY/NI", "1.3": "Y/PY"}, S),
    ({"1.2": "Y/PY", "1.1": "N/PN"}, S),
    ({"1.2": "NI", "1.3": "N/PN/NI"}, S),
    ({"1.2": "NI", "1.3": "Y/PY"}, H),
    ({"1.2": "N/PN"}, H),
]

# Domain 2a, part 1 (deviations due to the trial context) and part 2 (analysis); "aware" is
# "Y" when 2.1 or 2.2 is Y/PY/NI.
D2A_PART1 = [
    ({"aware": "N"}, L),
    ({"aware": "Y", "2.3": "N/PN"}, L),
    ({"aware": "Y", "2.3": "NI"}, S),
    ({"aware": "Y", "2.3": "Y/PY", "2.4": "N/PN"}, S),
    ({"aware": "Y", "2.3": "Y/PY", "2.4": "Y/PY/NI", "2.5": "Y/PY"}, S),
    ({"aware": "Y", "2.3": "Y/PY", "2.4": "Y/PY/NI", "2.5": "N/PN/NI"}, H),
]
D2A_PART2 = [
    ({"2.6": "Y/PY"}, L),
    ({"2.6": "N/PN/NI", "2.7": "N/PN"}, S),
    ({"2.6": "N/PN/NI", "2.7": "Y/PY/NI"}, H),
]
D2A_COMBINE = {  # (part 1, part 2) -> domain: Low only if both Low, High if either High
    (L, L): L,
    (L, S): S,
    (S, L): S,
    (S, S): S,
    (L, H): H,
    (H, L): H,
    (S, H): H,
    (H, S): H,
    (H, H): H,
}

# Domain 2b; "dev45" is "Y" when 2.4 or 2.5 is Y/PY/NI.
D2B_TABLE = [
    ({"aware": "N", "dev45": "N"}, L),
    ({"aware": "N", "dev45": "Y", "2.6": "Y/PY"}, S),
    ({"aware": "N", "dev45": "Y", "2.6": "N/PN/NI"}, H),
    ({"aware": "Y", "2.3": "NA/Y/PY", "dev45": "N"}, L),
    ({"aware": "Y", "2.3": "NA/Y/PY", "dev45": "Y", "2.6": "Y/PY"}, S),
    ({"aware": "Y", "2.3": "NA/Y/PY", "dev45": "Y", "2.6": "N/PN/NI"}, H),
    ({"aware": "Y", "2.3": "N/PN/NI", "2.6": "Y/PY"}, S),
    ({"aware": "Y", "2.3": "N/PN/NI", "2.6": "N/PN/NI"}, H),
]

D3_TABLE = [
    ({"3.1": "Y/PY"}, L),
    ({"3.1": "N/PN/NI", "3.2": "Y/PY"}, L),
    ({"3.1": "N/PN/NI", "3.2": "N/PN", "3.3": "N/PN"}, L),
    ({"3.1": "N/PN/NI", "3.2": "N/PN", "3.3": "Y/PY/NI", "3.4": "N/PN"}, S),
    ({"3.1": "N/PN/NI", "3.2": "N/PN", "3.3": "Y/PY/NI", "3.4": "Y/PY/NI"}, H),
]

D4_TABLE = [  # spec §2.2 "Decision table (D4)"
    ({"4.1": "Y/PY"}, H),
    ({"4.1": "N/PN/NI", "4.2": "Y/PY"}, H),
    ({"4.1": "N/PN/NI", "4.2": "N/PN", "4.3": "N/PN"}, L),
    ({"4.1": "N/PN/NI", "4.2": "N/PN", "4.3": "Y/PY/NI", "4.4": "N/PN"}, L),
    ({"4.1": "N/PN/NI", "4.2": "N/PN", "4.3": "Y/PY/NI", "4.4": "Y/PY/NI", "4.5": "N/PN"}, S),
    ({"4.1": "N/PN/NI", "4.2": "N/PN", "4.3": "Y/PY/NI", "4.4": "Y/PY/NI", "4.5": "Y/PY/NI"}, H),
    ({"4.1": "N/PN/NI", "4.2": "NI", "4.3": "N/PN"}, S),
    ({"4.1": "N/PN/NI", "4.2": "NI", "4.3": "Y/PY/NI", "4.4": "N/PN"}, S),
    ({"4.1": "N/PN/NI", "4.2": "NI", "4.3": "Y/PY/NI", "4.4": "Y/PY/NI", "4.5": "N/PN"}, S),
    ({"4.1": "N/PN/NI", "4.2": "NI", "4.3": "Y/PY/NI", "4.4": "Y/PY/NI", "4.5": "Y/PY/NI"}, H),
]

D5_TABLE = [
    ({"5.2": "Y/PY"}, H),
    ({"5.2": "N/PN/NI", "5.3": "Y/PY"}, H),
    ({"5.2": "NI", "5.3": "N/PN/NI"}, S),
    ({"5.2": "N/PN", "5.3": "NI"}, S),
    ({"5.2": "N/PN", "5.3": "N/PN", "5.1": "Y/PY"}, L),
    ({"5.2": "N/PN", "5.3": "N/PN", "5.1": "N/PN/NI"}, S),
]


def _derived(answers: Mapping[str, str]) -> dict[str, str]:
    out = dict(answers)
    if "2.1" in answers:
        out["aware"] = "Y" if _aware(answers) else "N"
    if "2.4" in answers and "2.5" in answers:
        out["dev45"] = "Y" if answers["2.4"] in YNI or answers["2.5"] in YNI else "N"
    return out


def _lookup(table: list[tuple[dict[str, str], str]], answers: Mapping[str, str]) -> tuple[int, str]:
    row_values = _derived(answers)
    matches = [
        (i, result)
        for i, (row, result) in enumerate(table)
        if all(row_values[q] in _p(pattern) for q, pattern in row.items())
    ]
    assert len(matches) == 1, f"{dict(answers)} matches rows {[i for i, _ in matches]}"
    return matches[0]


TABLES = {"D1": D1_TABLE, "D2b": D2B_TABLE, "D3": D3_TABLE, "D4": D4_TABLE, "D5": D5_TABLE}


@pytest.mark.parametrize("domain_id", ["D1", "D2b", "D3", "D4", "D5"])
def test_every_path_matches_the_published_decision_table(domain_id: str) -> None:
    table = TABLES[domain_id]
    rows_hit: set[int] = set()
    count = 0
    for answers in complete_answer_sets(domain_id):
        row, expected = _lookup(table, answers)
        rows_hit.add(row)
        result = rob2_domain_judgement(domain_id, answers)
        assert result.complete, (answers, result)
        assert result.judgement == Rob2Judgement(expected), answers
        count += 1
    assert rows_hit == set(range(len(table))), (
        f"rows never reached: {set(range(len(table))) - rows_hit}"
    )
    assert count > len(table)


def test_domain_2a_every_path_matches_both_parts_and_their_combination() -> None:
    hit1: set[int] = set()
    hit2: set[int] = set()
    combos: set[tuple[str, str]] = set()
    for answers in complete_answer_sets("D2a"):
        row1, part1 = _lookup(D2A_PART1, answers)
        row2, part2 = _lookup(D2A_PART2, answers)
        hit1.add(row1)
        hit2.add(row2)
        combos.add((part1, part2))
        result = rob2_domain_judgement("D2a", answers)
        assert result.judgement == Rob2Judgement(D2A_COMBINE[(part1, part2)]), answers
    assert hit1 == set(range(len(D2A_PART1)))
    assert hit2 == set(range(len(D2A_PART2)))
    assert combos == set(D2A_COMBINE)


def test_enumeration_sizes() -> None:
    # Counted by hand from the "asked when" rules, so the enumeration itself is checked:
    # D1: 5^3. D3: 3.1 Y/PY (2); else 3 x [3.2 Y/PY (2) + 3.2 N/PN (2) x (3.3 N/PN (2) + 3 x 5)].
    assert sum(1 for _ in complete_answer_sets("D1")) == 125
    assert sum(1 for _ in complete_answer_sets("D3")) == 2 + 3 * (2 + 2 * (2 + 3 * 5))
    assert sum(1 for _ in complete_answer_sets("D5")) == 125


@pytest.mark.parametrize("domain_id", list(QUESTIONS))
def test_the_tools_ask_exactly_what_the_spec_says(domain_id: str) -> None:
    domain = ROB2_DOMAIN_BY_ID[domain_id]
    assert tuple(q.id for q in domain.questions) == QUESTIONS[domain_id]
    for answers in complete_answer_sets(domain_id):
        expected = tuple(q for q in QUESTIONS[domain_id] if _asked_with_na(domain_id, q, answers))
        assert tuple(q.id for q in domain.asked(answers)) == expected, answers


def _asked_with_na(domain_id: str, qid: str, answers: Mapping[str, str]) -> bool:
    rule = ASKED_WHEN[domain_id].get(qid)
    return rule is None or rule(answers)


@pytest.mark.parametrize("domain_id", ["D1", "D2a", "D3", "D4", "D5"])
def test_the_algorithm_reads_only_questions_that_are_asked(domain_id: str) -> None:
    for answers in complete_answer_sets(domain_id):
        result = rob2_domain_judgement(domain_id, answers)
        assert all(answers[q] != "NA" for q in result.path), (answers, result.path)


@pytest.mark.parametrize("domain_id", list(QUESTIONS))
def test_removing_any_asked_answer_makes_the_domain_incomplete(domain_id: str) -> None:
    for answers in complete_answer_sets(domain_id):
        for qid in QUESTIONS[domain_id]:
            if answers[qid] == "NA":
                continue
            partial = {k: v for k, v in answers.items() if k != qid}
            result = rob2_domain_judgement(domain_id, partial)
            assert result.judgement is None, (partial, result)
            assert result.status == "incomplete"
            assert qid in result.missing


def test_incomplete_names_every_asked_question_without_answer() -> None:
    assert rob2_domain_judgement("D1", {}).missing == ("1.1", "1.2", "1.3")
    assert rob2_domain_judgement("D1", {"1.2": "N"}).describe() == "incomplete: answer 1.1, 1.3"
    # 3.2 is asked because 3.1 is N; 3.3 waits for 3.2.
    assert rob2_domain_judgement("D3", {"3.1": "N"}).missing == ("3.2",)
    # 2.1 = Y opens 2.3; 2.4 waits for 2.3; 2.7 waits for 2.6.
    assert rob2_domain_judgement("D2a", {"2.1": "Y"}).missing == ("2.2", "2.3", "2.6")
    assert rob2_domain_judgement("D5", {"5.1": "Y", "5.2": "N"}).missing == ("5.3",)


def test_na_to_an_asked_question_is_not_an_answer() -> None:
    result = rob2_domain_judgement("D2a", {"2.1": "Y", "2.2": "N", "2.3": "NA", "2.6": "Y"})
    assert result.judgement is None
    assert result.missing == ("2.3",)
    assert any("2.3 is asked" in w for w in result.warnings)
    # ...but 2b's "if applicable" questions take NA as a branch: not aware, 2.4 NA, 2.5 N -> Low.
    answers = {"deviations": "implementation_failures;non_adherence", "2.1": "N", "2.2": "N"}
    result = rob2_domain_judgement("D2b", {**answers, "2.4": "NA", "2.5": "N"})
    assert result.judgement is Rob2Judgement.LOW


def test_answers_to_questions_not_asked_are_ignored_with_a_warning() -> None:
    # A stale 3.2 (from before 3.1 became Y) must not open 3.3 either.
    result = rob2_domain_judgement("D3", {"3.1": "Y", "3.2": "N", "3.3": "Y", "3.4": "Y"})
    assert result.judgement is Rob2Judgement.LOW
    assert result.path == ("3.1",)
    assert [w.split()[0] for w in result.warnings] == ["3.2", "3.3", "3.4"]
    assert "asked when N/PN/NI to 3.1" in result.warnings[0]


@pytest.mark.parametrize(
    ("domain_id", "answers", "fragment"),
    [
        ("D3", {"3.1": "N", "3.2": "NI"}, "D3 question 3.2: 'NI' is not an allowed answer"),
        ("D1", {"1.1": "NA"}, "D1 question 1.1: 'NA' is not an allowed answer"),
        ("D1", {"1.1": "Yes"}, "D1 question 1.1: 'Yes'"),
        ("D9", {}, "'D9' is not a RoB 2 domain"),
    ],
)
def test_bad_answers_are_refused(domain_id: str, answers: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        rob2_domain_judgement(domain_id, answers)


def test_worked_paths() -> None:
    # Concealed (1.2 Y) but non-random sequence (1.1 N): Some concerns, read 1.2 then 1.1.
    result = rob2_domain_judgement("D1", {"1.1": "N", "1.2": "Y", "1.3": "N"})
    assert (result.status, result.path) == ("Some concerns", ("1.2", "1.1"))
    # Open-label trial, deviations due to trial context affecting the outcome, unbalanced, ITT:
    result = rob2_domain_judgement(
        "D2a", {"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "PY", "2.5": "N", "2.6": "Y"}
    )
    assert (result.status, result.path) == ("High", ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6"))


# ---------------------------------------------------------------------------------------------
# RoB 2 overall


def test_rob2_overall_is_the_worst_domain_for_every_combination() -> None:
    for values in itertools.product((L, S, H), repeat=5):
        overall = rob2_overall(dict(zip(("D1", "D2", "D3", "D4", "D5"), values, strict=True)))
        expected = H if H in values else S if S in values else L
        assert overall.status == expected
        assert overall.rule == "worst_domain"
        assert not overall.escalated


def test_rob2_overall_escalation_is_opt_in_at_a_threshold() -> None:
    three = {"D1": S, "D2a": S, "D3": S, "D4": L, "D5": L}
    assert rob2_overall(three).status == S
    escalated = rob2_overall(three, escalate_at=3)
    assert (escalated.status, escalated.escalated, escalated.some_concerns) == (H, True, 3)
    assert escalated.rule == "worst_domain+escalate_at_3"
    assert rob2_overall({**three, "D3": L}, escalate_at=3).status == S
    with pytest.raises(InvalidInput, match="at least 2"):
        rob2_overall(three, escalate_at=1)


def test_rob2_overall_incomplete_names_missing_domains() -> None:
    overall = rob2_overall({"D1": L, "D2": "incomplete", "D3": None, "D5": H})
    assert overall.judgement is None
    assert overall.missing == ("D2", "D3", "D4")
    with pytest.raises(InvalidInput, match="'Moderate' is not a RoB 2 judgement"):
        rob2_overall({"D1": "Moderate"})


def _robvis_rows(shared_dir: Path, name: str) -> list[dict[str, str]]:
    with (shared_dir / "spec" / "templates" / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_rob2_overall_agrees_with_robvis_example_data(shared_dir: Path) -> None:
    # robvis's example (templates/robvis_data_rob2.csv): every row judged only Low/Some
    # concerns/High has the worst domain as Overall. (Study 3 uses "No information".)
    checked = 0
    for row in _robvis_rows(shared_dir, "robvis_data_rob2.csv"):
        domains = {f"D{i}": row[f"D{i}"] for i in range(1, 6)}
        if "No information" in domains.values():
            continue
        assert rob2_overall(domains).status == row["Overall"], row["Study"]
        checked += 1
    assert checked == 8


def test_rob2_assessment_runs_all_domains_with_the_right_variant() -> None:
    answers = {
        "effect_of_interest": "adhering",
        "deviations": "non_adherence",
        **{"1.1": "Y", "1.2": "Y", "1.3": "N"},
        **{"2.1": "N", "2.2": "N", "2.5": "Y", "2.6": "PY"},
        **{"3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N"},
        **{"5.1": "Y", "5.2": "N", "5.3": "N"},
    }
    assessment = rob2_assessment(answers)
    assert [r.domain_id for r in assessment.domains] == ["D1", "D2b", "D3", "D4", "D5"]
    assert [r.status for r in assessment.domains] == [L, S, L, L, L]
    assert assessment.overall.status == S
    assert rob2_assessment({}).overall.missing == ("D1", "D2", "D3", "D4", "D5")


# ---------------------------------------------------------------------------------------------
# RoB 1 overall


def test_rob1_default_rule_is_worst_domain_and_matches_robvis_example(shared_dir: Path) -> None:
    assert ROB1_OVERALL_DEFAULT == "worst_domain"
    checked = 0
    for row in _robvis_rows(shared_dir, "robvis_data_rob1.csv"):
        domains = {k: v for k, v in row.items() if k not in ("Study", "Overall")}
        if "No information" in domains.values():
            continue  # not a RoB 1 judgement
        overall = rob1_overall(domains)
        assert (overall.status, overall.rule) == (row["Overall"], "worst_domain"), row["Study"]
        checked += 1
    assert checked == 8


def _study(n_not_low: int, worst: str = "Unclear") -> dict[str, str]:
    letters = "ABCDEFG"
    return {letters[i]: (worst if i < n_not_low else "Low") for i in range(7)}


@pytest.mark.parametrize(
    ("n_not_low", "expected"),
    [
        (0, "high quality"),
        (1, "high quality"),
        (2, "moderate quality"),
        (3, "moderate quality"),
        (4, "low quality"),
        (7, "low quality"),
    ],
)
def test_count_unmet_gives_the_seed_reviews_quality_levels(n_not_low: int, expected: str) -> None:
    # spec §1.5 V3: 0-1 criteria not fulfilled -> high, 2-3 -> moderate, >3 -> low quality.
    overall = rob1_overall(_study(n_not_low, "High"), "count_unmet")
    assert (overall.status, overall.rule, overall.count) == (expected, "count_unmet", n_not_low)


@pytest.mark.parametrize(
    ("n_low", "expected"), [(7, "good"), (3, "good"), (2, "fair"), (1, "poor"), (0, "poor")]
)
def test_count_low(n_low: int, expected: str) -> None:
    assert rob1_overall(_study(7 - n_low), "count_low").status == expected


def test_count_thresholds_are_configurable() -> None:
    rule = rob1_overall_rule("count_low", thresholds=(4, 2))
    assert rob1_overall(_study(4), rule).status == "fair"  # 3 low: good under (3, 2)
    with pytest.raises(InvalidInput, match="thresholds"):
        rob1_overall_rule("count_unmet", thresholds=(3, 1))
    with pytest.raises(InvalidInput, match="does not take thresholds"):
        rob1_overall_rule("worst_domain", thresholds=(1, 2))


def test_worst_domain_and_key_domains() -> None:
    study = {
        "Random sequence generation": "Low",
        "Allocation concealment": "Low",
        "C": "Low",
        "D": "Low",
        "Incomplete outcome data (attrition bias)": "High",
        "Selective.reporting": "Unclear",
        "G": "Low risk",
    }
    assert rob1_overall(study).status == "High"
    key = rob1_overall(study, "key_domains")  # A-D by default
    assert (key.status, key.rule, key.risk) == ("Low", "key_domains", Rob1Judgement.LOW)
    with_e = rob1_overall_rule("key_domains", key_domains=["A", "B", "Incomplete outcome data"])
    assert with_e.domains == ("A", "B", "E")
    assert rob1_overall(study, with_e).status == "High"
    assert rob1_overall({**study, "B": "Unclear"}, "key_domains").status == "Unclear"


def test_per_outcome_group_judgements_count_their_worst() -> None:
    study = _study(0)
    study["E"] = ["Low", "High"]  # type: ignore[assignment]
    assert rob1_overall(study).status == "High"
    assert rob1_overall(study, "count_unmet").count == 1


def test_per_outcome_group_labels_count_as_their_domain() -> None:
    study = _study(0)
    del study["D"]
    study["Blinding of outcome assessment (detection bias): Objective outcomes"] = "Low"
    study["Blinding of outcome assessment (detection bias): Subjective outcomes"] = "High"
    assert rob1_overall(study).status == "High"
    study["Blinding of outcome assessment (detection bias): Subjective outcomes"] = None  # type: ignore[assignment]
    assert rob1_overall(study).missing == ("D",)
    with pytest.raises(InvalidInput, match="not a RoB 1 domain"):
        rob1_overall({"Other bias: Objective outcomes": "Low"})


def test_rob1_overall_incomplete_and_errors() -> None:
    overall = rob1_overall({"A": "Low", "B": "High"})
    assert overall.judgement is None and overall.missing == ("C", "D", "E", "F", "G")
    # key domains need only A-D:
    assert (
        rob1_overall({"A": "Low", "B": "Low", "C": "Low", "D": "Low"}, "key_domains").status
        == "Low"
    )
    with pytest.raises(InvalidInput, match="'best' is not a RoB 1 overall rule"):
        rob1_overall({}, "best")
    with pytest.raises(InvalidInput, match="domain B: 'Some concerns' is not a RoB 1 judgement"):
        rob1_overall({"B": "Some concerns"})
    with pytest.raises(InvalidInput, match="'Z' is not a RoB 1 domain"):
        rob1_overall({"Z": "Low"})


def test_every_rule_names_its_source() -> None:
    assert set(ROB1_OVERALL_RULES) == {"worst_domain", "key_domains", "count_unmet", "count_low"}
    for rule in ROB1_OVERALL_RULES.values():
        assert "§1.5" in rule.source
        assert len(rule.levels) == 3
