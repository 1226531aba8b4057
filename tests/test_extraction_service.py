"""Extraction (issue 11): values on every path, dual extraction, consensus, reopening, exports.

Reviews come from ``tests/extraction_builder.py``: four included studies (Suk 2016, Shi 2021,
Xu 2019, Lin 2017), alice and bob extract, carol adjudicates, olga owns the review.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied, StageOrderError
from reviewtool.extraction import provenance
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import FORM, build_review, build_review_with_form, copy_review

runner = CliRunner()
MELD4 = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
HEADER = "study,arm,outcome,time_point,field,value,source_kind,source,extractor\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(tmp_path_factory.mktemp("extraction") / "review.db")


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_review(template, tmp_path)


@pytest.fixture
def review(db: Path) -> Iterator[Any]:
    opened = open_existing(f"sqlite:///{db}")
    yield opened
    opened.close()


def _set(review: Any, who: str, field: str, value: str, study: str = "Suk 2016", **where: Any):
    with review.transaction() as s:
        return x.set_value(s, actor=who, study=study, field=field, value=value, **where)


def _verified(review: Any) -> None:
    with review.reading() as s:
        report = audit.verify(s)
    assert report.ok, report.problems


def _count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


# --- forms and versions --------------------------------------------------------------------------


def test_a_new_form_version_is_numbered_and_an_unchanged_one_is_not(review: Any) -> None:
    changed = FORM.replace('"24 weeks"]\n[[outcome]]', '"24 weeks", "48 weeks"]\n[[outcome]]')
    with review.transaction() as s:
        same = x.add_form(s, actor="olga", text=FORM)
        second = x.add_form(s, actor="olga", text=changed, file_name="form2.toml")
    assert (same.version, same.added) == (1, False)
    assert (second.version, second.added) == (2, True)
    view = _set(review, "alice", "mean", "10", time_point="48 weeks", arm="MSC", outcome="meld")
    assert view.form_version == 2
    with review.reading() as s:
        assert [v.version for v in x.form_versions(s, actor="alice")] == [1, 2]
        assert x.show_form(s, actor="alice", version=1).text == FORM
    _verified(review)


def test_a_form_that_would_orphan_values_is_refused_listing_the_fields(review: Any) -> None:
    _set(review, "alice", "mean", "12", **MELD4)
    _set(review, "alice", "follow_up", "48")
    _set(review, "bob", "follow_up", "48")  # consensus on follow_up too
    narrower = FORM.replace('"4 weeks", ', "").replace("max = 520", "max = 24")
    with review.transaction() as s, pytest.raises(InvalidInput) as error:
        x.add_form(s, actor="olga", text=narrower, file_name="form2.toml")
    assert str(error.value) == (
        "form2.toml would orphan entered values: follow_up (follow_up: 48 is above the maximum "
        "24); meld at '4 weeks': mean (arm 'MSC', meld at '4 weeks': mean: time point "
        "'4 weeks' is not one of outcome meld's (12 weeks, 24 weeks))"
    )


def test_only_an_owner_adds_a_form_and_values_need_one(tmp_path: Path) -> None:
    url = build_review(tmp_path / "r.db")
    review = open_existing(url)
    try:
        with review.transaction() as s, pytest.raises(StageOrderError, match="extract form add"):
            x.set_value(s, actor="alice", study="1", field="country", value="Korea")
        with review.transaction() as s, pytest.raises(PermissionDenied):
            x.add_form(s, actor="alice", text=FORM)
    finally:
        review.close()


# --- values --------------------------------------------------------------------------------------


def test_studies_are_named_by_id_or_label(review: Any) -> None:
    assert _set(review, "alice", "country", "Korea", study="1").study == "Suk 2016"
    assert _set(review, "alice", "country", "China", study="shi 2021").study_id == 2
    with review.transaction() as s, pytest.raises(NotFound, match="did you mean Suk 2016"):
        x.set_value(s, actor="alice", study="Suk 2015", field="country", value="x")
    with review.transaction() as s, pytest.raises(NotFound, match="study 9 is not an included"):
        x.set_value(s, actor="alice", study="9", field="country", value="x")


def test_an_ambiguous_label_names_the_candidates(tmp_path: Path) -> None:
    url = build_review(tmp_path / "r.db", [("Suk", 2016), ("Suk", 2016), ("Xu", 2019)])
    review = open_existing(url)
    try:
        with review.transaction() as s:
            x.add_form(s, actor="olga", text=FORM)
        with review.transaction() as s, pytest.raises(InvalidInput) as error:
            x.set_value(s, actor="alice", study="Suk 2016", field="country", value="Korea")
        assert str(error.value) == "study 'Suk 2016' is ambiguous: studies 1, 2; give the id"
    finally:
        review.close()


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (
            ("total", "20", {"arm": "MSC", "outcome": "survival", "time_point": "24 weeks"}),
            ("events", "21", {"arm": "MSC", "outcome": "survival", "time_point": "24 weeks"}),
            "study Suk 2016 (1), arm 'MSC', survival at '24 weeks': events (21) exceed total (20)",
        ),
        (
            ("n_randomised", "20", {"arm": "MSC"}),
            ("n", "21", MELD4),
            "study Suk 2016 (1), arm 'MSC', meld at '4 weeks': n (21) exceeds the arm's n_randomised (20)",
        ),
        (
            ("n", "21", MELD4),
            ("n_randomised", "20", {"arm": "MSC"}),
            "study Suk 2016 (1), arm 'MSC', meld at '4 weeks': n (21) exceeds the arm's n_randomised (20)",
        ),
    ],
)
def test_rules_across_values_are_checked_whichever_comes_first(
    review: Any, db: Path, first: tuple[Any, ...], then: tuple[Any, ...], message: str
) -> None:
    _set(review, "alice", first[0], first[1], **first[2])
    before = _count(db, "audit_event")
    with pytest.raises(InvalidInput) as error:
        _set(review, "alice", then[0], then[1], **then[2])
    assert str(error.value) == message
    assert _count(db, "extraction_value") == 1 and _count(db, "audit_event") == before


def test_a_value_names_study_arm_and_field_when_refused(review: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        _set(review, "alice", "sd", "0", **MELD4)
    assert str(error.value) == (
        "study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd: SD must be greater than 0, not 0"
    )
    with pytest.raises(InvalidInput, match="source kind 'guessed' is not one of reported"):
        _set(review, "alice", "country", "Korea", source_kind="guessed")


def test_a_reviewer_without_the_role_cannot_extract(review: Any) -> None:
    with review.transaction() as s, pytest.raises(PermissionDenied):
        x.set_value(s, actor="carol", study="1", field="country", value="Korea")


# --- dual extraction, consensus, reopening --------------------------------------------------------


def test_identical_values_agree_at_once_and_a_change_reopens(review: Any) -> None:
    _set(review, "alice", "mean", "12.5", source="report 1, Table 2", **MELD4)
    _set(review, "bob", "mean", "12.50", **MELD4)
    with review.reading() as s:
        (agreed,) = x.values(s, actor="alice", extractor="consensus")
        assert (agreed.value, agreed.field, agreed.source) == ("12.5", "mean", "")
        assert x.compare(s, actor="olga") == []
        assert x.analysis_rows(s, actor="alice")[0].mean == 12.5
    _set(review, "bob", "mean", "13", **MELD4)
    with review.reading() as s:
        (open_,) = x.compare(s, actor="carol")
        assert open_.values == {"alice": "12.5", "bob": "13"}
        assert (
            open_.reopened_because
            == "bob changed arm 'MSC', meld at '4 weeks': mean from 12.5 to 13"
        )
        assert x.values(s, actor="alice", extractor="consensus") == []
        assert x.analysis_rows(s, actor="alice") == []
    _set(review, "alice", "mean", "13", **MELD4)  # they come to agree again
    with review.reading() as s:
        assert x.compare(s, actor="carol") == []
        assert x.analysis_rows(s, actor="alice")[0].mean == 13.0
    _verified(review)


def test_disagreements_are_listed_field_by_field_in_the_form_s_order(review: Any) -> None:
    _set(review, "alice", "n", "20", **MELD4)
    _set(review, "alice", "country", "Korea")
    _set(review, "bob", "country", "China")
    _set(review, "bob", "route", "intravenous")
    _set(review, "bob", "n", "20", **MELD4)
    with review.reading() as s:
        found = [(d.field, d.values) for d in x.compare(s, actor="carol", study="Suk 2016")]
    assert found == [
        ("country", {"alice": "Korea", "bob": "China"}),
        ("route", {"alice": None, "bob": "intravenous"}),
    ]


def test_agreement_on_one_value_and_the_adjudicator_s_value(review: Any) -> None:
    _set(review, "alice", "country", "Korea", source="report 1, p. 2")
    _set(review, "bob", "country", "South Korea")
    with review.transaction() as s, pytest.raises(PermissionDenied, match="extraction is blind"):
        x.agree(s, actor="bob", study="1", field="country", take="alice")
    with review.transaction() as s:
        assert x.unblind(s, actor="olga") is True
    with review.transaction() as s:
        agreed = x.agree(s, actor="bob", study="1", field="country", take="alice")
    assert (agreed.value, agreed.how, agreed.by, agreed.source) == (
        "Korea",
        "agreement",
        "bob",
        "report 1, p. 2",
    )
    _set(review, "alice", "route", "intravenous")
    _set(review, "bob", "route", "intrahepatic")
    with review.transaction() as s, pytest.raises(PermissionDenied):
        x.resolve(s, actor="alice", study="1", field="route", value="intravenous")
    with review.transaction() as s:
        done = x.resolve(s, actor="carol", study="1", field="route", value="intrahepatic")
    assert (done.how, done.by) == ("adjudicator", "carol")
    with review.reading() as s:
        assert x.compare(s, actor="alice") == []
        rows = {r.extractor: r for r in x.status(s, actor="alice")}
    assert (rows["alice"].filled, rows["alice"].disagreements, rows["alice"].consensus) == (2, 0, 2)
    _verified(review)


def test_agreement_takes_the_extractor_s_value_as_resolve_from_does(review: Any) -> None:
    """``agree`` finds ``take``'s value as ``resolve --from`` does (``_taken``): bob's value with
    bob's provenance; refused, with nothing recorded, when bob has none there or is no member."""
    _set(review, "alice", "country", "Korea", source="report 1, p. 2")
    _set(review, "bob", "country", "South Korea", source="report 1, abstract")
    with review.transaction() as s:
        x.unblind(s, actor="olga")
    for take, message in (
        ("bob", "'bob' has no value for study Suk 2016, route"),
        ("zed", "'zed' is not a member of this review"),
    ):
        field = "route" if take == "bob" else "country"
        with review.transaction() as s, pytest.raises(InvalidInput) as refused:
            x.agree(s, actor="alice", study="Suk 2016", field=field, take=take)
        assert str(refused.value) == message
    with review.reading() as s:
        assert x.values(s, actor="alice", extractor="consensus") == []
    with review.transaction() as s:
        agreed = x.agree(s, actor="alice", study="Suk 2016", field="country", take=" bob ")
    assert (agreed.value, agreed.source, agreed.how, agreed.by) == (
        "South Korea",
        "report 1, abstract",
        "agreement",
        "alice",
    )
    _verified(review)


def test_an_import_summary_says_its_counts_once_with_plurals_right() -> None:
    """``ImportSummary.describe``: the one sentence of ``extract import`` and ``extract
    digitised`` (one noun in the number it takes: 1 value, 2 values, 1 study, 0 studies)."""
    from reviewtool.extraction.forms import ValueKey
    from reviewtool.extraction.recompute import Recomputed

    one = x.ImportSummary(changed=1, unchanged=0, studies=1, consensus=1, reopened=0)
    assert one.describe() == (
        "1 value written in 1 study (0 unchanged); consensus reached on 1, reopened on 0."
    )
    followed = Recomputed(ValueKey("sd", "MSC", "meld", "4 weeks"), "5.2", "5", "27", "25", "")
    two = x.ImportSummary(2, 3, 2, 0, 1, (followed, followed))
    assert two.describe(by="bob", entered_by="olga") == (
        "2 values by bob (entered by olga) written in 2 studies (3 unchanged); consensus reached "
        "on 0, reopened on 1.\n2 converted values recomputed (they followed a changed n)."
    )
    none = x.ImportSummary(0, 6, 0, 0, 0, (followed,))
    assert none.describe(kind="digitised", origin="fig2.csv, Figure 2, report 1") == (
        "0 digitised values written in 0 studies from fig2.csv, Figure 2, report 1 (6 unchanged); "
        "consensus reached on 0, reopened on 0.\n1 converted value recomputed (it followed a "
        "changed n)."
    )


# --- import --------------------------------------------------------------------------------------


def _write(path: Path, body: str) -> str:
    path.write_text(HEADER + body, encoding="utf-8")
    return str(path)


SE_REQUEST = provenance.parse_conversion("se 0.47 n=20")
SE_RESULT = provenance.convert(SE_REQUEST)
SE_SD = provenance.value_text(SE_RESULT.sd)  # 0.47·√20 = 2.1019...
SE_SOURCE = '"' + provenance.converted_source(SE_REQUEST, SE_RESULT).replace('"', '""') + '"'


def test_import_writes_all_values_with_provenance(review: Any, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "alice.csv",
        'Suk 2016,,,,country,Korea,reported,"report 1, Table 1",alice\n'
        "Suk 2016,MSC,,,n_randomised,20,reported,report 1,\n"
        'Suk 2016,MSC,meld,4 weeks,mean,12.5,digitised,"report 1, Figure 2 (Engauge)",alice\n'
        f"Suk 2016,MSC,meld,4 weeks,sd,{SE_SD},converted,{SE_SOURCE},\n"
        "2,Control,survival,24 weeks,events,3,,,\n"
        "2,Control,survival,24 weeks,total,19,,,\n",
    )
    with review.transaction() as s:
        summary = x.import_values(s, actor="alice", path=path)
    assert (summary.changed, summary.studies, summary.unchanged) == (6, 2, 0)
    with review.transaction() as s:
        again = x.import_values(s, actor="alice", path=path)
    assert (again.changed, again.unchanged, again.studies) == (0, 6, 0)
    with review.reading() as s:
        found = {(v.study, v.field): v for v in x.values(s, actor="alice")}
    assert found[("Suk 2016", "sd")].source_kind == "converted"
    assert found[("Suk 2016", "mean")].source == "report 1, Figure 2 (Engauge)"
    assert found[("Shi 2021", "events")].source_kind == "reported"
    _verified(review)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Suk 2016,,,,country,Korea,,,bob\n", "{f}:3: column extractor: 'bob' is not you (alice); an owner enters another member's values with --on-behalf-of NAME"),
        ("Suk 2015,,,,country,Korea,,,\n", "{f}:3: column study: no included study 'Suk 2015' (did you mean Suk 2016?)"),
        ("Suk 2016,,,,colour,red,,,\n", "{f}:3: column field: study Suk 2016, field 'colour' is not on the form"),
        ("Suk 2016,MSC,meld,5 weeks,mean,1,,,\n", "{f}:3: column time_point: study Suk 2016, time point '5 weeks' is not one of outcome meld's"),
        ("Suk 2016,MSC,alt,4 weeks,mean,1,,,\n", "{f}:3: column outcome: study Suk 2016, outcome 'alt' is not on the form"),
        ("Suk 2016,MSC,,,country,Korea,,,\n", "{f}:3: column arm: study Suk 2016, 'country' is a study field: give no arm"),
        ("Suk 2016,MSC,meld,4 weeks,sd,0,,,\n", "{f}:3: column value: study Suk 2016, arm 'MSC', meld at '4 weeks': sd: SD must be greater than 0, not 0"),
        ("Suk 2016,,,,country,Korea,measured,,\n", "{f}:3: column source_kind: source kind 'measured' is not one of"),
        ("Suk 2016,,,,country,Korea,,,\n1,,,,country,China,,,\n", "{f}:4: study Suk 2016, country is given twice (also {f}:3)"),
        ("# checked by alice,,,,,,,,\n", "{f}:3: a comment line (it starts with '#'), and an extraction file has none: delete the line"),
        ("\n,,,,,,,,\n# a note\n", "{f}:5: a comment line (it starts with '#')"),
        (
            "Xu 2019,C,survival,24 weeks,total,10,,,\nXu 2019,C,survival,24 weeks,events,11,,,\n",
            "{f}:4: study Xu 2019 (3), arm 'C', survival at '24 weeks': events (11) exceed total (10)",
        ),
    ],
)  # fmt: skip
def test_import_is_all_or_nothing_naming_file_line_and_column(
    review: Any, db: Path, tmp_path: Path, rows: str, message: str
) -> None:
    path = _write(tmp_path / "alice.csv", "Lin 2017,,,,country,China,,,\n" + rows)  # line 2
    before = _count(db, "audit_event")
    with review.transaction() as s, pytest.raises(InvalidInput) as error:
        x.import_values(s, actor="alice", path=path)
    assert str(error.value).startswith(message.format(f=path))
    assert _count(db, "extraction_value") == 0 and _count(db, "audit_event") == before


def test_blank_lines_and_rows_of_empty_cells_are_skipped_with_lines_kept(
    review: Any, tmp_path: Path
) -> None:
    """A spreadsheet's empty rows (``,,,,,,,,``) and blank lines are skipped, as in the other CSV
    files (``csvfiles.csv_rows``): they were read as a study named '' (found by a new user).
    The lines after them keep the file's numbers."""
    path = _write(
        tmp_path / "alice.csv",
        "Suk 2016,,,,country,Korea,,,\n\n,,,,,,,,\n , ,,,,,,,\nLin 2017,,,,colour,red,,,\n",
    )
    with review.transaction() as s, pytest.raises(InvalidInput) as error:
        x.import_values(s, actor="alice", path=path)
    assert str(error.value).startswith(f"{path}:6: column field: study Lin 2017, field 'colour'")
    good = _write(tmp_path / "good.csv", "Suk 2016,,,,country,Korea,,,\n,,,,,,,,\n\n")
    with review.transaction() as s:
        summary = x.import_values(s, actor="alice", path=good)
    assert (summary.changed, summary.studies) == (1, 1)


def test_the_long_export_imports_back_and_xlsx_reads_the_same(
    review: Any, db: Path, tmp_path: Path
) -> None:
    _set(review, "alice", "country", "Korea", source="report 1, Table 1")
    _set(review, "alice", "mean", "12.5", source_kind="digitised", source="Figure 2", **MELD4)
    with review.reading() as s:
        table = x.export_table(s, actor="alice", layout="long", extractor="alice")
    assert table.columns == x.LONG_COLUMNS
    assert table.rows == [
        {"study": "Suk 2016", "arm": "", "outcome": "", "time_point": "", "field": "country",
         "value": "Korea", "source_kind": "reported", "source": "report 1, Table 1", "extractor": "alice"},
        {"study": "Suk 2016", "arm": "MSC", "outcome": "meld", "time_point": "4 weeks",
         "field": "mean", "value": "12.5", "source_kind": "digitised", "source": "Figure 2",
         "extractor": "alice"},
    ]  # fmt: skip
    import pandas as pd

    sheet = tmp_path / "bob.xlsx"
    frame = pd.DataFrame(table.rows, columns=list(table.columns)).assign(extractor="bob")
    frame.to_excel(sheet, index=False)
    with review.transaction() as s:
        summary = x.import_values(s, actor="bob", path=str(sheet))
    assert (summary.changed, summary.consensus) == (2, 2)  # identical: consensus at once
    with review.reading() as s:
        agreed = x.export_table(s, actor="alice", layout="long")
    assert [r["value"] for r in agreed.rows] == ["Korea", "12.5"]
    assert {r["extractor"] for r in agreed.rows} == {""}
    bad = tmp_path / "bad.xlsx"
    frame.assign(value=["Korea", "about 12"]).to_excel(bad, index=False)
    with review.transaction() as s, pytest.raises(InvalidInput, match=rf"^{bad}:3: column value"):
        x.import_values(s, actor="bob", path=str(bad))
    _verified(review)


# --- exports and analysis rows -------------------------------------------------------------------


def _both(review: Any, field: str, value: str, study: str = "Suk 2016", **where: Any) -> None:
    for who in ("alice", "bob"):
        _set(review, who, field, value, study=study, **where)


def test_wide_and_characteristics_exports(review: Any) -> None:
    for arm, mean, n in (("MSC", "10.1", "20"), ("Control", "14.2", "19")):
        _both(review, "mean", mean, arm=arm, outcome="meld", time_point="4 weeks")
        _both(review, "n", n, arm=arm, outcome="meld", time_point="4 weeks")
        _both(review, "n_randomised", n, arm=arm)
    _both(review, "country", "Korea")
    _both(review, "country", "China", study="Shi 2021")
    _both(review, "follow_up", "48", study="Shi 2021")
    with review.reading() as s:
        wide = x.export_table(s, actor="alice", layout="wide")
        table1 = x.export_table(s, actor="alice", layout="characteristics")
    assert [(r["arm"], r["mean"], r["n"], r.get("sd")) for r in wide.rows] == [
        ("MSC", "10.1", "20", None),
        ("Control", "14.2", "19", None),
    ]
    assert wide.rows[0]["mean_source_kind"] == "reported"
    assert table1.columns[:4] == ("year", "first_author", "country", "follow_up")
    assert table1.columns[-2:] == ("n_randomised_MSC", "n_randomised_Control")
    assert [(r["year"], r["first_author"], r["country"], r["follow_up"]) for r in table1.rows] == [
        (2021, "Shi", "China", "48"),
        (2016, "Suk", "Korea", ""),
    ]
    assert table1.rows[1]["n_randomised_Control"] == "19"


def test_the_characteristics_table_takes_the_form_s_columns(review: Any, shared_dir: Path) -> None:
    seed = (shared_dir / "seed" / "table1_characteristics.csv").read_text(encoding="utf-8")
    header = next(csv.reader(io.StringIO(seed)))
    columns = [c for c in header if c not in ("year", "first_author")]
    fields = "".join(f'[[field]]\nkey = "{c}"\ntype = "text"\n' for c in columns)
    text = f'[form]\nname = "Table 1"\ncharacteristics = {columns!r}\n{fields}'.replace("'", '"')
    with review.transaction() as s:
        x.add_form(s, actor="olga", text=text)
    first = next(csv.DictReader(io.StringIO(seed)))  # Shi 2021's row of the seed's Table 1
    for c in columns:
        _both(review, c, first[c], study="Shi 2021")
    with review.reading() as s:
        table1 = x.export_table(s, actor="alice", layout="characteristics")
    assert list(table1.columns) == header
    assert {k: str(v) for k, v in table1.rows[0].items()} == first


def test_a_form_with_its_own_year_and_author_columns_prints_them_once(review: Any) -> None:
    """The seed's form has publication_year and first_author fields: the characteristics table
    leads with them, not with the reference's year and first author as well."""
    fields = "".join(
        f'[[field]]\nkey = "{c}"\ntype = "text"\n'
        for c in ("publication_year", "first_author", "country")
    )
    with review.transaction() as s:
        x.add_form(s, actor="olga", text=f'[form]\nname = "T1"\n{fields}')
    for c, value in (("publication_year", "2021"), ("first_author", "Shi"), ("country", "China")):
        _both(review, c, value, study="Shi 2021")
    with review.reading() as s:
        table1 = x.export_table(s, actor="alice", layout="characteristics")
    assert list(table1.columns) == ["publication_year", "first_author", "country"]
    assert table1.rows[0] == {"publication_year": "2021", "first_author": "Shi", "country": "China"}


def test_analysis_rows_are_the_consensus_cells(review: Any) -> None:
    for arm, mean, sd, n in (("MSC", "10.1", "2.0", "20"), ("Control", "14.2", "3.1", "19")):
        for field, value in (("mean", mean), ("sd", sd), ("n", n)):
            _both(review, field, value, arm=arm, outcome="meld", time_point="12 weeks")
    _both(review, "events", "3", arm="MSC", outcome="survival", time_point="24 weeks", study="2")
    _both(review, "total", "20", arm="MSC", outcome="survival", time_point="24 weeks", study="2")
    _set(review, "alice", "mean", "9", arm="MSC", outcome="meld", time_point="24 weeks")
    with review.reading() as s:
        rows = x.analysis_rows(s, actor="bob")
        meld = x.analysis_rows(s, actor="bob", outcome="meld", time_point="12 weeks")
        with pytest.raises(InvalidInput):
            x.analysis_rows(s, actor="bob", outcome="meld", time_point="2 weeks")
    assert [(r.study, r.arm, r.outcome, r.kind, r.mean, r.sd, r.n, r.events, r.total) for r in rows] == [
        ("Suk 2016", "MSC", "meld", "continuous", 10.1, 2.0, 20, None, None),
        ("Suk 2016", "Control", "meld", "continuous", 14.2, 3.1, 19, None, None),
        ("Shi 2021", "MSC", "survival", "dichotomous", None, None, None, 3, 20),
    ]  # fmt: skip
    assert meld == rows[:2] and rows[0].form_version == 1


def test_the_study_sheet_shows_own_values_consensus_and_reports(review: Any) -> None:
    _both(review, "country", "Korea")
    _set(review, "alice", "intervention", "UC-MSC", arm="MSC")
    _set(review, "bob", "intervention", "placebo", arm="Control")
    with review.reading() as s:
        sheet = x.study_sheet(s, actor="alice", study="Suk 2016")
    assert sheet.arms == ["MSC"]  # bob's arm is his, while blind
    assert {k.field for k in sheet.values} == {"country", "intervention"}
    assert [c.value for c in sheet.consensus.values()] == ["Korea"]
    assert sheet.reports == [(1, "journal article", "pdfs/e1.pdf")]


# --- CLI wiring ----------------------------------------------------------------------------------


def _cli(db: Path, who: str, *args: str) -> Any:
    return runner.invoke(app, [*args, "--db", str(db), "--as", who])


def test_the_cli_sets_compares_and_exports(db: Path, tmp_path: Path) -> None:
    where = ["--arm", "MSC", "--outcome", "meld", "--time", "4 weeks"]
    ok = _cli(db, "alice", "extract", "set", "Suk 2016", "mean", "12.5", *where, "--source", "T2")
    assert ok.exit_code == 0, ok.output
    assert (
        " ".join(ok.stdout.split())
        == "Suk 2016: arm 'MSC', meld at '4 weeks': mean = 12.5 (reported, T2; form version 1)."
    )
    bad = _cli(db, "bob", "extract", "set", "Suk 2016", "sd", "0", *where)
    assert bad.exit_code == 2
    assert (
        bad.stderr.strip()
        == "reviewtool: error: study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd: SD must be greater than 0, not 0"
    )
    negative = _cli(db, "bob", "extract", "set", "Suk 2016", "sd", "-5", *where)
    assert negative.exit_code == 2  # the SD rule speaks, not the option parser (a new user's case)
    assert negative.stderr.strip().endswith("sd: SD must be greater than 0, not -5")
    assert _cli(db, "bob", "extract", "set", "1", "mean", "13", *where).exit_code == 0
    blind = _cli(db, "alice", "extract", "compare")
    assert blind.exit_code == 5 and "extraction is blind" in blind.stderr
    shown = _cli(db, "carol", "extract", "compare", "-f", "csv")
    assert shown.stdout == (
        "study,arm,outcome,time_point,field,values,reopened_because\n"
        "Suk 2016,MSC,meld,4 weeks,mean,alice: 12.5; bob: 13,\n"
    )
    done = _cli(db, "carol", "extract", "resolve", "Suk 2016", "mean", "12.5", *where)
    assert done.exit_code == 0, done.output
    out = _cli(db, "alice", "extract", "export", "--wide", "-f", "csv")
    assert out.stdout.splitlines()[1].startswith("Suk 2016,1,MSC,meld,4 weeks,12.5,,,,,reported,")
    xlsx = tmp_path / "x.xlsx"
    written = _cli(db, "alice", "extract", "export", "--long", "-f", "xlsx", "--out", str(xlsx))
    assert written.exit_code == 0, written.output
    import pandas as pd

    assert pd.read_excel(xlsx, dtype=str).loc[0, "value"] == "12.5"
    status = _cli(db, "olga", "extract", "status", "-f", "csv")
    assert status.stdout == (
        "study,extractor,filled,disagreements,consensus\nSuk 2016,alice,1,0,1\nSuk 2016,bob,1,0,1\n"
    )


def test_blinding_is_ended_only_by_extract_unblind_and_once(review: Any) -> None:
    from reviewtool.review.service import set_setting

    with review.transaction() as s, pytest.raises(InvalidInput, match="extract unblind"):
        set_setting(s, actor="olga", key="extraction.blind", value="false")
    with review.transaction() as s, pytest.raises(PermissionDenied):
        x.unblind(s, actor="alice")
    with review.transaction() as s:
        assert x.unblind(s, actor="olga") is True
    with review.transaction() as s:
        assert x.unblind(s, actor="olga") is False
    _set(review, "bob", "country", "China")
    with review.reading() as s:
        assert [v.value for v in x.values(s, actor="alice", extractor="bob")] == ["China"]
    _verified(review)


def test_another_s_values_are_refused_while_blind(review: Any) -> None:
    _set(review, "bob", "country", "China")
    with review.reading() as s, pytest.raises(PermissionDenied, match="read bob's values"):
        x.values(s, actor="alice", extractor="bob")
    with review.reading() as s:
        assert [v.value for v in x.values(s, actor="carol", extractor="bob")] == ["China"]


def test_clearing_a_study_removes_only_the_extractor_s_values(review: Any, db: Path) -> None:
    _both(review, "country", "Korea")
    _set(review, "alice", "route", "intravenous")
    with review.transaction() as s:
        assert x.clear_values(s, actor="alice", study="Suk 2016") == 2
    with review.reading() as s:
        assert x.values(s, actor="alice") == []
        assert [v.value for v in x.values(s, actor="bob")] == ["Korea"]
        assert [v.value for v in x.values(s, actor="alice", extractor="consensus")] == ["Korea"]
    _verified(review)


def test_an_edited_value_fails_verify_naming_it(review: Any, db: Path) -> None:
    _set(review, "alice", "mean", "12.5", **MELD4)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE extraction_value SET value = '99'")
    conn.commit()
    conn.close()
    with review.reading() as s:
        report = audit.verify(s)
    assert not report.ok
    assert report.problems[0].startswith(
        'extraction_value 1|alice|MSC|meld|4 weeks|mean: current state ["99",1,"reported",""] '
        "differs from the ledger (event #"
    )


def test_emptying_a_cell_removes_the_value_and_reopens_its_consensus(review: Any) -> None:
    _both(review, "mean", "12.5", **MELD4)
    with review.transaction() as s:
        assert x.clear_value(s, actor="bob", study="1", field="mean", **MELD4) is True
        assert x.clear_value(s, actor="bob", study="1", field="mean", **MELD4) is False
    with review.reading() as s:
        (open_,) = x.compare(s, actor="carol")
        assert open_.values == {"alice": "12.5"}  # bob has no value left in the study
        assert open_.reopened_because == "bob removed arm 'MSC', meld at '4 weeks': mean (12.5)"
    _verified(review)


@pytest.mark.parametrize("output", ["csv", "json"])
def test_every_extract_read_prints_the_format_asked(review: Any, db: Path, output: str) -> None:
    import json

    _set(review, "alice", "country", "Korea")
    _set(review, "bob", "country", "China")
    for command in (["status"], ["values"], ["compare"], ["form", "show"]):
        result = _cli(db, "carol", "extract", *command, "--format", output)
        assert result.exit_code == 0, (command, result.output)
        if output == "json":
            json.loads(result.stdout)
            continue
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows and len({len(r) for r in rows}) == 1 and len(rows[0]) >= 2, (command, rows)
