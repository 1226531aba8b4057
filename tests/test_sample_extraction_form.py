"""The sample project's extraction form and Table 1 values against the seed paper.

``sample_project/extraction/form.toml`` must carry every item of the seed review's data-extraction
list (``shared/seed/paper.md``, Methods, "Data extraction") at the time points and in the units the
sample analyses; ``sample_project/extraction/table1.csv`` must hold exactly the values of the
paper's Table 1 (``shared/seed/table1_characteristics.csv``) in the long extraction layout.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FORM = REPO / "sample_project" / "extraction" / "form.toml"
TABLE1 = REPO / "sample_project" / "extraction" / "table1.csv"
OUTCOMES = REPO / "sample_project" / "outcomes.csv"

LONG_COLUMNS = [
    "study", "arm", "outcome", "time_point", "field", "value", "source_kind", "source", "extractor",
]  # fmt: skip
FIELD_TYPES = {
    "text", "long_text", "integer", "number", "single_choice", "multiple_choice", "yes_no", "date",
}  # fmt: skip

# Each item of the paper's list (as the paper words it) -> where the form holds it.
SEED_LIST: dict[str, tuple[str, str]] = {
    "publication year": ("field", "publication_year"),
    "first author": ("field", "first_author"),
    "research area": ("field", "country"),
    "number of enrolled patients": ("arm", "n_randomised"),
    "type of liver disease": ("field", "liver_disease"),
    "cause of liver disease": ("field", "etiology"),
    "follow-up time": ("field", "follow_up"),
    "cell type": ("field", "cell_type"),
    "cell dosage": ("arm", "cell_dosage"),
    "times of treatment": ("arm", "times_of_treatment"),
    "administration route": ("field", "administration_route"),
    "survival rate": ("outcome", "survival"),
    "adverse events": ("outcome", "fever"),
    "clinical symptoms": ("outcome", "encephalopathy"),
    "(MELD) score": ("outcome", "meld"),
    "albumin (ALB)": ("outcome", "alb"),
    "total bilirubin (TBIL)": ("outcome", "tbil"),
    "(PTA)": ("outcome", "pta"),
    "(INR)": ("outcome", "inr"),
    "(ALT)": ("outcome", "alt"),
    "(AST)": ("outcome", "ast"),
}
# outcomes.csv's outcome names -> the form's outcome keys.
OUTCOME_KEYS = {
    "MELD": "meld", "ALB": "alb", "TBIL": "tbil", "PTA": "pta", "INR": "inr", "ALT": "alt",
    "AST": "ast", "survival": "survival",
}  # fmt: skip
# Table 2's symptoms -> outcome keys (time points "Baseline" and "End of treatment").
SYMPTOM_KEYS = {
    "Encephalopathy": "encephalopathy", "Gastrointestinal hemorrhage": "gi_hemorrhage",
    "Edema": "edema", "Rash": "rash", "Itching": "itching",
}  # fmt: skip
TIMES = {"One": "1", "Two": "2", "Three": "3", "Four": "4"}


@pytest.fixture(scope="module")
def form() -> dict[str, Any]:
    with FORM.open("rb") as handle:
        return tomllib.load(handle)


def _keys(form: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "field": {f["key"]: f for f in form["field"]},
        "arm": {f["key"]: f for f in form["arms"]["fields"]},
        "outcome": {o["key"]: o for o in form["outcome"]},
    }


def _table1() -> list[dict[str, str]]:
    with TABLE1.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == LONG_COLUMNS
        return list(reader)


def test_form_holds_every_item_of_the_seed_list(form: dict[str, Any], shared_dir: Path) -> None:
    paper = (shared_dir / "seed" / "paper.md").read_text(encoding="utf-8")
    section = paper[paper.index("### Data extraction") : paper.index("### Quality assessment")]
    section = re.sub(r"\s+", " ", section)
    keys = _keys(form)
    assert form["form"]["name"]
    for wording, (level, key) in SEED_LIST.items():
        assert wording in section, f"the paper's list has no {wording!r}"
        assert key in keys[level], f"{wording!r}: no {level} {key!r} on the form"
    assert set(SYMPTOM_KEYS.values()) <= set(keys["outcome"])


def test_form_uses_only_the_schema(form: dict[str, Any]) -> None:
    assert set(form) == {"form", "field", "arms", "outcome"}
    for spec in [*form["field"], *form["arms"]["fields"]]:
        assert set(spec) <= {"key", "label", "type", "unit", "min", "max", "choices", "required"}
        assert spec["type"] in FIELD_TYPES, spec
        if spec["type"].endswith("_choice"):
            assert spec["choices"], spec
        for bound in ("min", "max"):
            if bound in spec:
                assert spec["type"] in ("integer", "number"), spec
    for outcome in form["outcome"]:
        assert set(outcome) <= {"key", "label", "kind", "unit", "direction", "time_points"}
        assert outcome["kind"] in ("continuous", "dichotomous")
        assert outcome["direction"] in ("lower_is_better", "higher_is_better")
        assert len(set(outcome["time_points"])) == len(outcome["time_points"])


def test_outcomes_have_the_sample_time_points_and_units(form: dict[str, Any]) -> None:
    outcomes = _keys(form)["outcome"]
    with OUTCOMES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    for row in rows:
        outcome = outcomes[OUTCOME_KEYS[row["outcome"]]]
        assert row["time_point"] in outcome["time_points"], (row["outcome"], row["time_point"])
        if outcome["kind"] == "continuous":
            assert outcome["unit"] == row["unit"], row["outcome"]
        else:
            assert row["events_exp"] and row["total_exp"], row
    # The paper analyses survival at 8 weeks too, and the symptoms at baseline and end of treatment.
    assert "8 weeks" in outcomes["survival"]["time_points"]
    for key in SYMPTOM_KEYS.values():
        assert outcomes[key]["time_points"] == ["baseline", "end of treatment"]


def test_symptom_outcomes_are_those_of_table_2(shared_dir: Path) -> None:
    with (shared_dir / "seed" / "table2_symptoms.csv").open(newline="", encoding="utf-8") as h:
        symptoms = {row["symptom"]: row["time_point"] for row in csv.DictReader(h)}
    assert set(symptoms) == set(SYMPTOM_KEYS)


def test_table1_rows_fit_the_form(form: dict[str, Any]) -> None:
    keys = _keys(form)
    for number, row in enumerate(_table1(), start=2):
        where = f"table1.csv:{number}"
        assert (row["outcome"], row["time_point"], row["extractor"]) == ("", "", ""), where
        assert (row["source_kind"], row["source"]) == ("reported", "Liu 2022 Table 1"), where
        level = "arm" if row["arm"] else "field"
        spec = keys[level].get(row["field"])
        assert spec is not None, f"{where}: {row['field']} is no {level} field"
        value = row["value"]
        assert value.strip() == value and value, where
        if spec["type"] == "single_choice":
            assert value in spec["choices"], where
        elif spec["type"] == "multiple_choice":
            assert {v.strip() for v in value.split(";")} <= set(spec["choices"]), where
        elif spec["type"] in ("integer", "number"):
            number_value = float(value)
            assert spec.get("min", number_value) <= number_value <= spec.get("max", number_value)
            if spec["type"] == "integer":
                assert number_value.is_integer(), where


def test_table1_values_equal_the_seed_table(shared_dir: Path) -> None:
    with (shared_dir / "seed" / "table1_characteristics.csv").open(
        newline="", encoding="utf-8"
    ) as h:
        seed = list(csv.DictReader(h))
    extracted = {(r["study"], r["arm"], r["field"]): r["value"] for r in _table1()}
    assert len(extracted) == len(_table1()), "a value is given twice"
    expected: dict[tuple[str, str, str], str] = {}
    for row in seed:
        study = f"{row['first_author']} {row['year']}"
        # Suk 2016 randomised two MSC arms (one and two injections) against one control arm of 18
        # patients, which Table 1 prints on both of its rows.
        arm = "MSC"
        if row["first_author"] == "Suk":
            arm = (
                "MSC one injection" if row["times_of_treatment"] == "One" else "MSC two injections"
            )
        study_level = {
            "publication_year": row["year"],
            "first_author": row["first_author"],
            "country": row["country"],
            "liver_disease": row["liver_disease"],
            "etiology": "; ".join(part.strip() for part in row["etiology"].split(",")),
            "follow_up": row["follow_up"],
            "cell_type": row["cell_type"],
            "administration_route": row["administration_route"],
        }
        if row["adverse_event"] != "NA":  # NA: not reported, so nothing is extracted
            study_level["adverse_events"] = row["adverse_event"]
        arms = {
            (arm, "n_randomised"): row["n_exp"],
            (arm, "median_age"): row["median_age_exp"],
            (arm, "cell_dosage"): row["cell_dosage"],
            (arm, "times_of_treatment"): TIMES[row["times_of_treatment"]],
            ("control", "n_randomised"): row["n_con"],
            ("control", "median_age"): row["median_age_con"],
        }
        for place, value in [
            *(((study, "", f), v) for f, v in study_level.items()),
            *(((study, a, f), v) for (a, f), v in arms.items()),
        ]:
            assert expected.setdefault(place, value) == value, f"seed rows disagree on {place}"
    assert extracted == expected


def test_table1_studies_are_the_included_trials_as_labelled_in_outcomes_csv(
    shared_dir: Path,
) -> None:
    with (shared_dir / "seed" / "included_studies.csv").open(newline="", encoding="utf-8") as h:
        included = {f"{r['authors'].split(' ')[0]} {r['year']}" for r in csv.DictReader(h)}
    with OUTCOMES.open(newline="", encoding="utf-8") as handle:
        labels = {
            re.sub(r" \(.*\)$", "", row["study"])
            for row in csv.DictReader(line for line in handle if not line.startswith("#"))
        }
    studies = {row["study"] for row in _table1()}
    assert studies == included == labels
    assert len(studies) == 12
