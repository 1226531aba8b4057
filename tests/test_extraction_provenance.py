"""Converted values on every path (issue 11): ``extract set --from-*``, ``extract import``'s
``convert_from`` column, and the change-from-baseline correlation setting.

Each path must store the value the conversion kernel gives (``extraction.conversions``, pinned to
the published worked examples in tests/test_extraction_conversions.py) together with its
structured provenance: the inputs by name, the formula and its citation. Known answers:

- Cochrane Handbook 6.5.2.2 (v5.1 7.7.3.2): SD = SE·√n, and for a 95% CI from a group of 25 the
  divisor 2 × 2.0639 = 4.128 in place of 3.92;
- metaBLUE's printed example (Luo 2018 mean, Wan 2014 SD): min 1, median 4, max 10, n = 30 give
  mean 4.356748 and SD 2.205578;
- Handbook 6.5.2.8 (v5.1 16.1.3.2): baseline SD 6.4, final SD 7.1 and change SD 4.5 imply
  r = 0.78; imputing r = 0.78 gives back a change SD of 4.5.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from reviewtool import audit
from reviewtool.extraction import conversions as cv
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import build_review_with_form, copy_review
from tests.extraction_builder import cli as _cli

PLACE = ["--arm", "MSC", "--outcome", "meld", "--time", "4 weeks"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(tmp_path_factory.mktemp("provenance") / "review.db")


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    return f"sqlite:///{copy_review(template, tmp_path)}"


def _mine(db: str, who: str = "alice") -> dict[tuple[str, str, str], x.ValueView]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            return {(v.study, v.time_point, v.field): v for v in x.values(s, actor=who)}
    finally:
        review.close()


def _verified(db: str) -> None:
    review = open_existing(db)
    try:
        with review.reading() as s:
            report = audit.verify(s)
    finally:
        review.close()
    assert report.ok, report.problems


# --- extract set --from-* ------------------------------------------------------------------------


def test_set_from_se_stores_the_kernel_value_and_its_inputs_formula_and_citation(db: str) -> None:
    done = _cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1.2", "--n", "25", *PLACE)
    assert done.exit_code == 0, done.output
    stored = _mine(db)[("Suk 2016", "4 weeks", "sd")]
    kernel = cv.sd_from_se(1.2, 25)
    assert float(stored.value) == kernel.sd == pytest.approx(6.0)
    assert stored.source_kind == "converted"
    source = json.loads(stored.source)
    assert source["conversion"] == "se"
    assert source["inputs"] == {"se": 1.2, "n": 25}
    assert source["formula"] == "SD = SE·√n" == kernel.formula
    assert "6.5.2.2" in source["citation"]
    assert "SD = SE·√n" in done.output and "6.5.2.2" in done.output
    _verified(db)


def test_set_from_ci_takes_n_from_the_arm_and_uses_the_handbook_t_divisor(db: str) -> None:
    assert _cli(db, "extract", "set", "Suk 2016", "n", "25", *PLACE).exit_code == 0
    # A negative lower limit is the option's value, not an option.
    done = _cli(db, "extract", "set", "Suk 2016", "sd", "--from-ci", "-2.1", "2.1", *PLACE)
    assert done.exit_code == 0, done.output
    stored = _mine(db)[("Suk 2016", "4 weeks", "sd")]
    assert float(stored.value) == cv.sd_from_ci(-2.1, 2.1, 25).sd
    assert math.sqrt(25) * 4.2 / float(stored.value) == pytest.approx(4.128, abs=5e-4)
    source = json.loads(stored.source)
    assert source["inputs"] == {"lower": -2.1, "upper": 2.1, "n": 25, "level": 0.95}
    assert source["method"] == "sd_from_ci/t"


def test_set_mean_and_sd_from_median_and_range_gives_the_published_example(db: str) -> None:
    done = _cli(
        db,
        "extract",
        "set",
        "Suk 2016",
        "mean,sd",
        "--from-median-range",
        "4",
        "1",
        "10",
        "--n",
        "30",
        *PLACE,
    )
    assert done.exit_code == 0, done.output
    mine = _mine(db)
    mean, sd = mine[("Suk 2016", "4 weeks", "mean")], mine[("Suk 2016", "4 weeks", "sd")]
    assert float(mean.value) == pytest.approx(4.356748, abs=5e-7)  # metaBLUE Luo.mean
    assert float(sd.value) == pytest.approx(2.205578, abs=5e-7)  # metaBLUE Wan.std
    assert mean.source == sd.source  # one conversion, both values
    source = json.loads(sd.source)
    assert source["inputs"] == {"median": 4, "minimum": 1, "maximum": 10, "n": 30}
    assert "Luo" in source["citation"] and "Wan" in source["citation"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sd", "--from-se", "1.2"], "conversion se needs the group's n"),
        (["n", "--from-se", "1.2", "--n", "20"], "n: conversion se gives sd, not n"),
        (["sd", "3", "--from-se", "1.2", "--n", "20"], "give either VALUE (3) or a --from-*"),
        (["sd", "--from-se", "-1", "--n", "20"], "se must be > 0, got -1"),
        (["sd", "--from-se", "1", "--from-change", "2", "3"], "give one conversion"),
        (["sd", "--from-ci", "5", "4", "--n", "20"], "upper (4) must be greater than lower (5)"),
        (
            ["sd", "2", "--source-kind", "converted", "--source", "SE 0.5, n 16"],
            "a converted value is entered with its inputs, not a free-text source",
        ),
    ],
)
def test_a_bad_conversion_is_one_line_and_writes_nothing(
    db: str, args: list[str], message: str
) -> None:
    done = _cli(db, "extract", "set", "Suk 2016", *args, *PLACE)
    assert done.exit_code != 0
    assert message in done.output, done.output
    assert "Traceback" not in done.output
    assert ("Suk 2016", "4 weeks", "sd") not in _mine(db)


# --- the change-from-baseline correlation: a review setting -------------------------------------


def test_change_sd_uses_the_correlation_setting_and_records_it(db: str) -> None:
    done = _cli(db, "extract", "set", "Suk 2016", "sd", "--from-change", "6.4", "7.1", *PLACE)
    assert done.exit_code == 0, done.output
    default = json.loads(_mine(db)[("Suk 2016", "4 weeks", "sd")].source)
    assert default["inputs"]["correlation"] == 0.5  # the default

    refused = _cli(db, "settings", "set", "extraction.change_correlation", "0.78", who="alice")
    assert refused.exit_code != 0  # owners only
    out_of_range = _cli(db, "settings", "set", "extraction.change_correlation", "1.5", who="olga")
    assert out_of_range.exit_code != 0
    assert "at most 1" in out_of_range.output
    changed = _cli(db, "settings", "set", "extraction.change_correlation", "0.78", who="olga")
    assert changed.exit_code == 0, changed.output
    log = _cli(db, "audit", "log", "--format", "json", who="olga")
    assert "extraction.change_correlation" in log.output  # the change is an audited event

    done = _cli(db, "extract", "set", "Suk 2016", "sd", "--from-change", "6.4", "7.1", *PLACE)
    assert done.exit_code == 0, done.output
    stored = _mine(db)[("Suk 2016", "4 weeks", "sd")]
    # Handbook 6.5.2.8: SDs 6.4 and 7.1 with the change SD 4.5 imply r = 0.78; imputing 0.78
    # gives the change SD back.
    assert round(float(stored.value), 1) == 4.5
    assert float(stored.value) == cv.sd_change_from_baseline(6.4, 7.1, 0.78).sd
    source = json.loads(stored.source)
    assert source["inputs"] == {"sd_baseline": 6.4, "sd_final": 7.1, "correlation": 0.78}
    assert "6.5.2.8" in source["citation"]
    _verified(db)


# --- extract import: the convert_from column -----------------------------------------------------

HEADER = "study,arm,outcome,time_point,field,value,source_kind,source,convert_from\n"


def test_import_makes_converted_values_from_the_convert_from_column(
    db: str, tmp_path: Path
) -> None:
    path = tmp_path / "alice.csv"
    path.write_text(
        HEADER + "Suk 2016,MSC,meld,4 weeks,sd,,,,se 1.2\n"  # n from the row below
        "Suk 2016,MSC,meld,4 weeks,n,25,reported,Table 2,\n"
        "Suk 2016,MSC,meld,12 weeks,mean,,,,median_range 4 1 10 n=30\n"
        "Suk 2016,MSC,meld,12 weeks,sd,2.205578,converted,,median_range 4 1 10 n=30\n"
        "Suk 2016,MSC,meld,24 weeks,sd,,,,change 6.4 7.1\n",
        encoding="utf-8",
    )
    done = _cli(db, "extract", "import", str(path))
    assert done.exit_code == 0, done.output
    mine = _mine(db)
    assert float(mine[("Suk 2016", "4 weeks", "sd")].value) == cv.sd_from_se(1.2, 25).sd
    five = cv.mean_sd_from_median_range(4, 1, 10, 30)
    assert float(mine[("Suk 2016", "12 weeks", "mean")].value) == five.mean
    assert float(mine[("Suk 2016", "12 weeks", "sd")].value) == five.sd  # not the rounded cell
    assert json.loads(mine[("Suk 2016", "12 weeks", "sd")].source)["inputs"]["n"] == 30
    change = json.loads(mine[("Suk 2016", "24 weeks", "sd")].source)
    assert change["inputs"]["correlation"] == 0.5
    assert json.loads(mine[("Suk 2016", "4 weeks", "sd")].source)["inputs"] == {"se": 1.2, "n": 25}
    _verified(db)

    # The long export imports back unchanged: the structured source is checked, not recomputed
    # into something else.
    out = tmp_path / "export.csv"
    exported = _cli(db, "extract", "export", "--long", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    again = _cli(db, "extract", "import", str(out))
    assert again.exit_code == 0, again.output
    assert "0 values written" in again.output


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Suk 2016,MSC,meld,4 weeks,sd,,,,se 1.2", "alice.csv:2: column convert_from: "),
        ("Suk 2016,MSC,meld,4 weeks,sd,,,,sd 1.2 n=4", "unknown conversion 'sd'"),
        ("Suk 2016,MSC,meld,4 weeks,mean,,,,se 1.2 n=4", "conversion se gives sd, not mean"),
        ("Suk 2016,MSC,meld,4 weeks,sd,5,,,se 1.2 n=4", "column value: sd 5 is not what the conv"),
        ("Suk 2016,MSC,meld,4 weeks,sd,,reported,,se 1.2 n=4", "column source_kind"),
        ("Suk 2016,MSC,meld,4 weeks,sd,,,,change 6 7 correlation=0.9", "review setting"),
        ("Suk 2016,MSC,meld,9 weeks,sd,,,,se 1 n=4", "column field: time point '9 weeks'"),
    ],
)
def test_a_bad_convert_from_row_names_file_line_and_column_and_writes_nothing(
    db: str, tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "alice.csv"
    path.write_text(HEADER + row + "\nShi 2021,,,,country,China,,,\n", encoding="utf-8")
    done = _cli(db, "extract", "import", str(path))
    assert done.exit_code != 0
    assert message in done.output, done.output
    assert "alice.csv:2:" in done.output
    assert _mine(db) == {}


def test_an_imported_converted_value_must_be_what_its_recorded_conversion_gives(
    db: str, tmp_path: Path
) -> None:
    from reviewtool.extraction import provenance

    request = provenance.parse_conversion("se 1.2 n=25")
    source = provenance.converted_source(request, provenance.convert(request))
    cell = '"' + source.replace('"', '""') + '"'
    path = tmp_path / "alice.csv"
    path.write_text(
        HEADER.replace(",convert_from", "")
        + "Shi 2021,,,,country,China,,\n"
        + f"Suk 2016,MSC,meld,4 weeks,sd,6.5,converted,{cell}\n",
        encoding="utf-8",
    )
    done = _cli(db, "extract", "import", str(path))
    assert done.exit_code != 0
    assert "alice.csv:3: column source: study Suk 2016" in done.output
    assert "sd 6.5 is not what conversion se of se=1.2, n=25 gives (6)" in done.output
    assert _mine(db) == {}


def test_audit_verify_finds_a_converted_values_inputs_changed_in_the_database(db: str) -> None:
    assert _cli(db, "extract", "set", "Suk 2016", "sd", "--from-se", "1.2", "--n", "25", *PLACE)
    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    with conn:
        conn.execute(
            "UPDATE extraction_value SET source = replace(source, '\"se\":1.2', '\"se\":1.3')"
        )
    conn.close()
    done = _cli(db, "audit", "verify", who="olga")
    assert done.exit_code != 0
    assert "extraction_value" in done.output
