"""The RoB tools as data match the spec's tables (shared/spec/rob_prisma.md §1.1, §2.0, §2.1)."""

from __future__ import annotations

import pytest

from reviewtool.rob.tools import (
    DIRECTIONS,
    ROB1_DOMAINS,
    ROB2_DOMAIN_BY_ID,
    ROB2_DOMAINS,
    ROB2_PRELIMINARY,
    Rob1Judgement,
    parse_answer,
    parse_direction,
    parse_rob1_judgement,
    rob1_domain,
    rob2_domains,
)


def test_rob1_domains_in_revman_order_with_revman_labels() -> None:
    assert [(d.id, d.label) for d in ROB1_DOMAINS] == [
        ("A", "Random sequence generation (selection bias)"),
        ("B", "Allocation concealment (selection bias)"),
        ("C", "Blinding of participants and personnel (performance bias)"),
        ("D", "Blinding of outcome assessment (detection bias)"),
        ("E", "Incomplete outcome data (attrition bias)"),
        ("F", "Selective reporting (reporting bias)"),
        ("G", "Other bias"),
    ]
    assert [d.id for d in ROB1_DOMAINS if d.per_outcome_group] == ["C", "D", "E"]
    assert (
        ROB1_DOMAINS[3].label_for("Objective outcomes")
        == "Blinding of outcome assessment (detection bias): Objective outcomes"
    )
    with pytest.raises(ValueError, match="per study"):
        ROB1_DOMAINS[0].label_for("Objective outcomes")


def test_rob1_lookup_and_judgements() -> None:
    assert rob1_domain("Other.sources.of.bias").id == "G"
    assert rob1_domain("incomplete outcome data").id == "E"
    with pytest.raises(KeyError, match="not a RoB 1 domain"):
        rob1_domain("Funding")
    assert parse_rob1_judgement(" unclear risk ") is Rob1Judgement.UNCLEAR
    assert Rob1Judgement.HIGH.label == "High risk"
    with pytest.raises(ValueError, match="use Low, Unclear or High"):
        parse_rob1_judgement("Some concerns")


# (id, allowed answers, asked-when text) from spec §2.1, variant 2a for domain 2.
SPEC_QUESTIONS = {
    "D1": [
        ("1.1", "Y/PY/PN/N/NI", "always"),
        ("1.2", "Y/PY/PN/N/NI", "always"),
        ("1.3", "Y/PY/PN/N/NI", "always"),
    ],
    "D2a": [
        ("2.1", "Y/PY/PN/N/NI", "always"),
        ("2.2", "Y/PY/PN/N/NI", "always"),
        ("2.3", "NA/Y/PY/PN/N/NI", "Y/PY/NI to 2.1 or 2.2"),
        ("2.4", "NA/Y/PY/PN/N/NI", "Y/PY to 2.3"),
        ("2.5", "NA/Y/PY/PN/N/NI", "Y/PY/NI to 2.4"),
        ("2.6", "Y/PY/PN/N/NI", "always"),
        ("2.7", "NA/Y/PY/PN/N/NI", "N/PN/NI to 2.6"),
    ],
    "D3": [
        ("3.1", "Y/PY/PN/N/NI", "always"),
        ("3.2", "NA/Y/PY/PN/N", "N/PN/NI to 3.1"),
        ("3.3", "NA/Y/PY/PN/N/NI", "N/PN to 3.2"),
        ("3.4", "NA/Y/PY/PN/N/NI", "Y/PY/NI to 3.3"),
    ],
    "D4": [
        ("4.1", "Y/PY/PN/N/NI", "always"),
        ("4.2", "Y/PY/PN/N/NI", "always"),
        ("4.3", "NA/Y/PY/PN/N/NI", "N/PN/NI to 4.1 and 4.2"),
        ("4.4", "NA/Y/PY/PN/N/NI", "Y/PY/NI to 4.3"),
        ("4.5", "NA/Y/PY/PN/N/NI", "Y/PY/NI to 4.4"),
    ],
    "D5": [
        ("5.1", "Y/PY/PN/N/NI", "always"),
        ("5.2", "Y/PY/PN/N/NI", "always"),
        ("5.3", "Y/PY/PN/N/NI", "always"),
    ],
}


@pytest.mark.parametrize("domain_id", list(SPEC_QUESTIONS))
def test_rob2_questions_answers_and_conditions(domain_id: str) -> None:
    domain = ROB2_DOMAIN_BY_ID[domain_id]
    got = [(q.id, "/".join(q.answers), q.condition.text) for q in domain.questions]
    assert got == SPEC_QUESTIONS[domain_id]
    for q in domain.questions:
        assert q.text and q.guidance
        assert q.conditional == (q.condition.text != "always")


def test_rob2_domains_and_variants() -> None:
    assert [d.id for d in ROB2_DOMAINS] == ["D1", "D2a", "D3", "D4", "D5"]
    assert [d.id for d in rob2_domains("adhering")] == ["D1", "D2b", "D3", "D4", "D5"]
    assert [d.code for d in rob2_domains("adhering")] == ["D1", "D2", "D3", "D4", "D5"]
    assert ROB2_DOMAINS[1].name == "Bias due to deviations from intended interventions"
    d2b = ROB2_DOMAIN_BY_ID["D2b"]
    assert [q.id for q in d2b.questions] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    assert d2b.question("2.6").condition.text == "N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5"
    with pytest.raises(ValueError, match="effect of interest"):
        rob2_domains("per-protocol")


def test_yes_means_risk_follows_the_spec_note() -> None:
    # spec §2.1 "Note on direction": where "yes" signals more risk.
    more = {
        ("D1", "1.3"),
        ("D2a", "2.1"),
        ("D2a", "2.2"),
        ("D2a", "2.3"),
        ("D2a", "2.4"),
        ("D2b", "2.1"),
        ("D2b", "2.2"),
        ("D2b", "2.4"),
        ("D2b", "2.5"),
        ("D2a", "2.7"),
        ("D3", "3.3"),
        ("D3", "3.4"),
        *{("D4", f"4.{i}") for i in range(1, 6)},
        ("D5", "5.2"),
        ("D5", "5.3"),
    }
    got = {
        (d.id, q.id) for d in ROB2_DOMAIN_BY_ID.values() for q in d.questions if q.yes_means_risk
    }
    assert got == more


def test_2b_conditions_depend_on_the_deviations_addressed() -> None:
    d2b = ROB2_DOMAIN_BY_ID["D2b"]
    aware = {"2.1": "Y", "2.2": "N"}
    assert [q.id for q in d2b.asked({**aware, "deviations": ""})] == ["2.1", "2.2"]
    asked = d2b.asked({**aware, "deviations": "non_protocol_interventions", "2.3": "N"})
    assert [q.id for q in asked] == ["2.1", "2.2", "2.3", "2.6"]
    # Not aware: 2.3 is not asked even if non-protocol interventions are addressed.
    asked = d2b.asked({"2.1": "N", "2.2": "PN", "deviations": "non_protocol_interventions"})
    assert [q.id for q in asked] == ["2.1", "2.2"]
    effective = d2b.effective_answers({"2.1": "N", "2.2": "N", "2.3": "N"})
    assert effective["2.3"] == "NA" and effective["2.6"] == "NA"


def test_preliminary_considerations_and_vocabularies() -> None:
    ids = [f.id for f in ROB2_PRELIMINARY]
    assert ids == [
        "design",
        "experimental",
        "comparator",
        "outcome",
        "numerical_result",
        "effect_of_interest",
        "deviations",
        "sources",
    ]
    sources = next(f for f in ROB2_PRELIMINARY if f.id == "sources")
    assert len(sources.choices) == len(sources.choice_labels) == 12
    assert DIRECTIONS[1:] == (
        "Favours experimental",
        "Favours comparator",
        "Towards null",
        "Away from null",
        "Unpredictable",
    )
    assert parse_answer("probably yes") == "PY"
    assert parse_answer("n/a") == "NA"
    assert parse_direction("towards NULL") == "Towards null"
    with pytest.raises(ValueError, match="not an answer"):
        parse_answer("maybe")
