"""A shared identifier is not always the same paper, and no single field outvotes all the others.

Issue 8 B: (1) meeting abstracts that carry their journal supplement's DOI, (2) Embase
"(no pagination)" records, (3) a mistyped DOI next to an otherwise identical record, (4) subject
codes glued to a title next to the same DOI. Each kind: the issue's example with its right
decision, then pairs beyond it, then the bulk (numpy) path checked against the one-by-one scorer.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reviewtool.dedup.clusters import check_invariant
from reviewtool.dedup.engine import DedupInput, _prepare_all, find_duplicates
from reviewtool.dedup.keys import locator, normalize_title, prepare
from reviewtool.dedup.similarity import PairDecision, PairScore, score_pair
from reviewtool.storage import Review

REPO = Path(__file__).resolve().parents[1]


def pair_of(*records: DedupInput, a: str | None = None, b: str | None = None) -> PairScore:
    """The scored pair (a, b) (by default the first two records) after deduplicating them all."""
    a = a or records[0].id
    b = b or records[1].id
    result = find_duplicates(list(records))
    check_invariant(result.duplicate_of)
    (pair,) = [p for p in result.pairs if {p.a, p.b} == {a, b}]
    merged = result.group_of(a) == result.group_of(b)
    assert merged == (pair.decision is PairDecision.MERGE), pair
    return pair


# ------------------------------------------------------------- B1: a supplement's DOI is shared

# The two records of the real Ovid Embase export in shared/fixtures/formats/ovid_embase/
# (knh11545__Embase_endnote_r3001-3002.cgi), read through the importer. Both are conference abstracts of one meeting, printed in a supplement of
# BMC Proceedings that has one DOI for all its abstracts.
OVID_FILE = "knh11545__Embase_endnote_r3001-3002.cgi"
OVID_SO = (
    "BMC Proceedings. Conference: 2nd BEAT-PCD Conference and 3rd PCD Training School: Part 2. "
    "Spain"
)


@pytest.fixture
def ovid_pair(shared_dir: Path) -> tuple[DedupInput, DedupInput]:
    """The two records of the real export, as the importer reads them (read from ``shared/``,
    never copied into the project)."""
    from reviewtool.importing.parsers import parse_file

    parsed = parse_file(shared_dir / "fixtures" / "formats" / "ovid_embase" / OVID_FILE)
    first, second = parsed.citations
    return _as_input("3001", first), _as_input("3002", second)


def _as_input(rid: str, c: Any) -> DedupInput:
    return DedupInput(
        id=rid,
        title=c.title,
        authors=tuple(c.authors),
        year=c.year,
        journal=c.journal,
        volume=c.volume,
        issue=c.issue,
        pages=c.pages,
        doi=c.doi,
        pmid=c.pmid,
        abstract=c.abstract,
        publication_type=c.publication_type,
        article_number=c.extra.get("article_number"),
    )


@pytest.mark.parametrize(
    "shape",
    [
        # as the Ovid SO line gives them, before it is split
        {"journal": OVID_SO, "volume": "12 (Supplement 3) (no pagination)", "issue": None},
        {},  # as the importer parses them
    ],
    ids=["ovid-raw", "parsed"],
)
def test_ovid_embase_supplement_abstracts_stay_apart(
    shape: dict[str, str | None], ovid_pair: tuple[DedupInput, DedupInput]
) -> None:
    first, second = ovid_pair
    assert first.doi == second.doi == "10.1186/s12919-018-0099-8"
    pair = pair_of(replace(first, **shape), replace(second, **shape))
    assert pair.decision is PairDecision.DISTINCT
    assert pair.fields["doi"] == 1.0 and pair.fields["authors"] == 0.0
    assert pair.fields["title"] < 0.5
    assert "a supplement's DOI" in pair.reasons[0]


def test_real_ovid_embase_file_imported_and_deduplicated(
    fresh_review: Review, shared_dir: Path
) -> None:
    """End to end on the real export: both abstracts imported, kept apart, not even queued."""
    from sqlmodel import select

    from reviewtool.dedup.service import review_queue, run_dedup
    from reviewtool.importing.service import import_files
    from reviewtool.storage.models import Record

    path = shared_dir / "fixtures" / "formats" / "ovid_embase" / OVID_FILE
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="Embase")
        report = run_dedup(session, actor="alice")
    with fresh_review.reading() as session:
        records = session.exec(select(Record)).all()
        assert [r.doi for r in records] == ["10.1186/s12919-018-0099-8"] * 2
        assert all(r.duplicate_of is None for r in records)
        assert review_queue(session) == []
    assert (report.records, report.auto_merged, report.queued) == (2, 0, 0)


def test_supplement_abstract_merges_with_its_own_copy_only(
    ovid_pair: tuple[DedupInput, DedupInput],
) -> None:
    """Another database's copy of abstract 3001 joins 3001; 3002 stays out of the group."""
    wos = DedupInput(
        id="wos",
        title="Quality of life in patients with primary ciliary dyskinesia: a systematic review",
        authors=("Behan, L", "Rubbo, B", "Lucas, JS", "Galvin, AD"),
        year=2018,
        journal="BMC Proceedings",
        volume="12",
        issue="Suppl 3",
        doi="10.1186/s12919-018-0099-8",
        publication_type="Meeting Abstract",
    )
    result = find_duplicates([*ovid_pair, wos])
    check_invariant(result.duplicate_of)
    assert result.group_of("wos") == result.group_of("3001")
    assert result.group_of("3002") != result.group_of("3001")


# "Diabetes 63 Suppl 1: A295": several abstracts start on one page and share the supplement's DOI.
DIABETES = DedupInput(
    id="d1",
    title="Dapagliflozin improves glycemic control in patients with type 2 diabetes inadequately "
    "controlled on insulin",
    authors=("Wilding J.", "Woo V.", "Rohwedder K."),
    year=2014,
    journal="Diabetes",
    volume="63",
    issue="Suppl 1",
    pages="A295",
    doi="10.5555/diabetes.63.suppl1",
    publication_type="Conference Abstract",
)
OTHER_ABSTRACT = replace(
    DIABETES,
    id="d2",
    title="Effect of linagliptin on albuminuria in patients with type 2 diabetes and renal "
    "impairment",
    authors=("Groop P.H.", "Cooper M.E.", "Perkovic V."),
)


def test_same_doi_and_page_with_different_title_and_authors_is_not_merged() -> None:
    # Before issue 8 "same DOI + same location" merged this pair (title 0.60, no common author).
    pair = pair_of(DIABETES, OTHER_ABSTRACT)
    assert pair.fields["doi"] == 1.0 and pair.fields["pages"] == 1.0
    assert pair.fields["title"] == pytest.approx(0.599, abs=1e-3)
    assert pair.fields["authors"] == 0.0
    assert pair.decision is PairDecision.DISTINCT


@pytest.mark.parametrize(
    "other",
    [
        replace(OTHER_ABSTRACT, authors=()),  # one record has no authors: nothing disagrees
        replace(OTHER_ABSTRACT, authors=DIABETES.authors),  # one group, two abstracts, one page
        replace(OTHER_ABSTRACT, title=None),  # title missing, authors disagree
    ],
    ids=["no-authors", "same-group", "no-title"],
)
def test_supplement_doi_alone_never_merges(other: DedupInput) -> None:
    pair = pair_of(DIABETES, other)
    assert pair.decision is PairDecision.REVIEW


def test_same_doi_translated_title_of_a_full_article_still_merges() -> None:
    """The shared-DOI rule keeps its real case: one article's English and original title."""
    english = DedupInput(
        id="k1",
        title="Working in the Platform Economy: Foundations and Limits of Online Labour and Gigwork",
        authors=("Kirchner, S.",),
        year=2019,
        journal="Kolner Zeitschrift fur Soziologie und Sozialpsychologie",
        volume="71",
        issue="1",
        pages="3-25",
        doi="10.1007/S11577-019-00587-W",
    )
    german = replace(
        english,
        id="k2",
        title="Arbeiten in der Plattformökonomie: Grundlagen und Grenzen von Cloudwork und Gigwork",
        authors=("Kirchner, Stefan",),
        journal="Kölner Zeitschrift für Soziologie und Sozialpsychologie",
    )
    pair = pair_of(english, german)
    assert pair.fields["title"] < 0.9
    assert pair.decision is PairDecision.MERGE
    # the same pair as two single-page meeting abstracts is no longer certain
    assert pair_of(replace(english, pages="S3"), replace(german, pages="S3")).decision is (
        PairDecision.REVIEW
    )


def test_same_doi_and_title_with_names_swapped_still_merges() -> None:
    # digital_work: "Altenried, Moritz" exported as "Moritz, Altenried"; titles equal.
    a = DedupInput(
        id="p1",
        title="The platform as factory: Crowdwork and the hidden labour behind artificial "
        "intelligence",
        authors=("Altenried, Moritz",),
        year=2020,
        journal="Capital & Class",
        volume="44",
        issue="2",
        pages="145-158",
        doi="10.1177/0309816819899410",
    )
    b = replace(a, id="p2", authors=("Moritz, Altenried",))
    assert pair_of(a, b).decision is PairDecision.MERGE


def test_same_doi_similar_titles_of_two_groups_go_to_review() -> None:
    """Two abstracts of one supplement can differ in one word; without a common author the
    shared DOI does not make them one."""
    adults = replace(
        DIABETES, title="Dapagliflozin added to insulin in adults with type 2 diabetes"
    )
    children = replace(
        OTHER_ABSTRACT, title="Dapagliflozin added to insulin in children with type 2 diabetes"
    )
    pair = pair_of(adults, children)
    assert 0.9 <= pair.fields["title"] < 1.0 and pair.fields["authors"] == 0.0
    assert pair.decision is PairDecision.REVIEW


def test_same_doi_with_given_and_family_names_swapped_merges() -> None:
    # digital_work: "O’Brochta, W." exported as "William, O’Brochta" (the apostrophe included).
    a = DedupInput(
        id="o1",
        title="Anomalous responses on Amazon Mechanical Turk: An Indian perspective",
        authors=("O’Brochta, W.", "Parikh, S."),
        year=2021,
        journal="Research and Politics",
        volume="8",
        issue="2",
        doi="10.1177/20531680211016971",
    )
    b = replace(
        a,
        id="o2",
        title="Anomalous responses on Amazon Mechanical Turk: an Indian perspectives",
        authors=("William, O’Brochta", "Sunita, Parikh"),
        journal="Research & Politics",
    )
    pair = pair_of(a, b)
    assert 0.9 <= pair.fields["title"] < 1.0 and pair.fields["authors"] == 0.0
    assert pair.decision is PairDecision.MERGE


# --------------------------------------------------------- B2: Embase "(no pagination)" records

EMBASE = DedupInput(
    id="e1",
    title="Vitamin D supplementation and exacerbations of chronic obstructive pulmonary disease: "
    "a randomised controlled trial",
    authors=("Rafiq R.", "Prins H.J.", "Boersma W.G."),
    year=2014,
    journal="BMC Pulmonary Medicine",
    volume="14 (1) (no pagination)",
    issue="50",  # Embase puts the article number here
    doi="10.5555/bpm.14.50",
)
MEDLINE = replace(
    EMBASE,
    id="m1",
    title=EMBASE.title + ".",
    authors=("Rafiq R", "Prins HJ", "Boersma WG"),
    journal="BMC Pulm Med",
    volume="14",
    issue="1",
    pages="50",
)


def test_embase_no_pagination_record_merges_with_its_medline_copy() -> None:
    # Before issue 8: distinct, "different issue" (50 vs 1) outranked the same DOI and title.
    pair = pair_of(EMBASE, MEDLINE)
    assert pair.decision is PairDecision.MERGE
    assert pair.fields["pages"] == 1.0 and pair.fields["volume"] == 1.0


@pytest.mark.parametrize(
    "embase",
    [
        replace(EMBASE, doi=None),  # the keys alone: volume 14, issue 1, article 50
        replace(EMBASE, volume="14", issue="1", article_number="50"),  # parsed at import
        replace(EMBASE, volume="14", issue="1", pages="Article Number: 50"),
    ],
    ids=["no-doi", "article-number-field", "labelled-article-number"],
)
def test_no_pagination_shapes_give_the_same_location(embase: DedupInput) -> None:
    medline = replace(MEDLINE, doi=embase.doi)
    pair = pair_of(embase, medline)
    assert pair.decision is PairDecision.MERGE
    assert pair.fields["pages"] == 1.0


def test_next_article_of_the_issue_stays_apart() -> None:
    nxt = replace(
        EMBASE,
        id="e2",
        title="Inhaled corticosteroids and pneumonia risk in chronic obstructive pulmonary "
        "disease: a cohort study",
        authors=("Jansen K.", "Prins H.J.", "Boersma W.G."),
        issue="51",
        doi=None,
    )
    result = find_duplicates([replace(MEDLINE, doi=None), nxt, EMBASE])
    assert result.group_of("e1") == result.group_of("m1")
    assert result.group_of("e2") != result.group_of("m1")


def test_identical_doi_and_title_outrank_volume_issue_pages_and_venue() -> None:
    """Derived fields cannot veto an identical DOI next to the same title."""
    for garbled in (
        replace(MEDLINE, id="g", issue="50", pages=None),  # article number left in the issue
        replace(MEDLINE, id="g", volume="0", pages="1-9"),  # online-first record
        replace(MEDLINE, id="g", publication_type="Conference Abstract", year=2015),
    ):
        pair = pair_of(MEDLINE, garbled)
        assert pair.decision is PairDecision.MERGE, (garbled, pair)
    # ... but without the DOI the same disagreement still keeps them apart
    pair = pair_of(
        replace(MEDLINE, doi=None), replace(MEDLINE, id="g", issue="50", pages=None, doi=None)
    )
    assert pair.decision is PairDecision.DISTINCT


def test_recurring_column_with_one_doi_is_not_merged_across_issues() -> None:
    # Short titles recur in every issue; a shared DOI does not make two issues one.
    a = DedupInput(id="c1", title="Editor's comments", authors=("Weber, Ron",), year=2003,
                   journal="MIS Quarterly", volume="27", issue="2", pages="iii-xi",
                   doi="10.5555/misq.27")  # fmt: skip
    b = replace(a, id="c2", issue="3", pages="iii-xii")
    assert pair_of(a, b).decision is PairDecision.REVIEW


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("14 (1) (no pagination)", "50", None, None), ("14", "1", "50")),
        (("14", "1", None, "50"), ("14", "1", "50")),
        (("14", "Article Number: 50", None, None), ("14", None, "50")),
        (("14", "1", "Art. No. e0123", None), ("14", "1", "e0123")),
        (("12 (Supplement 3) (no pagination)", None, None, None), ("12", "Supplement 3", None)),
        (("14 (no pagination)", "3", None, None), ("14", "3", None)),
        ((None, None, "(no pagination)", None), (None, None, None)),
        (("31", "22", "2749-2754", "99"), ("31", "22", "2749-2754")),  # pages win
        (("63", "Suppl 1", "A295", None), ("63", "Suppl 1", "A295")),
    ],
)
def test_locator(
    fields: tuple[str | None, str | None, str | None, str | None],
    expected: tuple[str | None, str | None, str | None],
) -> None:
    assert locator(*fields) == expected


# ------------------------------------------------------------------------ B3: a mistyped DOI

LANCET = DedupInput(
    id="l1",
    title="Clinical features of patients infected with 2019 novel coronavirus in Wuhan, China",
    authors=("Huang, Chaolin", "Wang, Yeming", "Li, Xingwang", "Ren, Lili"),
    year=2020,
    journal="The Lancet",
    volume="395",
    issue="10223",
    pages="497-506",
    doi="10.1016/S0140-6736(20)30183-5",
)
# The same record with the ISSN digits transposed in its DOI (0140-6763 for 0140-6736).
LANCET_TYPO = replace(
    LANCET,
    id="l2",
    title=LANCET.title + ".",
    authors=("Huang C", "Wang Y", "Li X", "Ren L"),
    journal="Lancet",
    doi="10.1016/S0140-6763(20)30183-5",
)


def test_mistyped_doi_next_to_an_identical_record_goes_to_review() -> None:
    # Before issue 8: distinct, "different DOI" outranked everything else.
    pair = pair_of(LANCET, LANCET_TYPO)
    assert pair.decision is PairDecision.REVIEW
    assert pair.reasons[0] == "different DOI"
    assert "mistyped DOI" in pair.reasons[1]


def test_different_pmid_next_to_an_identical_record_goes_to_review() -> None:
    a = replace(LANCET, doi=None, pmid="31986264")
    b = replace(LANCET_TYPO, doi=None, pmid="31986246")
    pair = pair_of(a, b)
    assert pair.decision is PairDecision.REVIEW
    assert "mistyped PMID" in pair.reasons[1]


@pytest.mark.parametrize(
    "other",
    [
        replace(LANCET_TYPO, pages="507-516"),  # another place: another article
        replace(LANCET_TYPO, issue="10224"),
        replace(LANCET_TYPO, authors=("Chen, N", "Zhou, M")),
        replace(LANCET_TYPO, year=2021, volume="397"),
    ],
    ids=["pages", "issue", "authors", "year-volume"],
)
def test_different_doi_with_any_other_disagreement_stays_distinct(other: DedupInput) -> None:
    assert pair_of(LANCET, other).decision is PairDecision.DISTINCT


def test_mistyped_doi_pair_is_never_joined_through_a_third_record() -> None:
    copy = replace(LANCET, id="l3", doi=None)
    result = find_duplicates([LANCET, LANCET_TYPO, copy])
    check_invariant(result.duplicate_of)
    assert result.group_of("l1") != result.group_of("l2")
    assert {"l1", "l2"} in [{p.a, p.b} for p in result.review_queue]


# ----------------------------------------------------------- B4: subject codes after the title

SILVER = DedupInput(
    id="s1",
    title="Antibacterial efficacy of a silver nanoparticle coating",
    authors=("Nguyen T.", "Ashworth R.", "Kerr M."),
    year=2019,
    journal="Journal of Biomedical Materials Research Part B",
    volume="107",
    issue="4",
    pages="1201-1210",
    doi="10.5555/jbmr.b.34213",
)


def test_subject_codes_glued_to_the_title_do_not_split_one_doi() -> None:
    # Before issue 8: distinct, "different numbers in title" outranked the same DOI.
    repository = DedupInput(
        id="s2",
        title="Antibacterial efficacy of a silver nanoparticle coating 06 Biological Sciences "
        "0605 Microbiology",
        authors=("Nguyen, Thi", "Ashworth, Rachel", "Kerr, Michael"),
        year=2019,
        doi="https://doi.org/10.5555/jbmr.b.34213",
    )
    pair = pair_of(SILVER, repository)
    assert pair.fields["title"] == 1.0
    assert pair.decision is PairDecision.MERGE


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Silver coating 06 Biological Sciences 0605 Microbiology", "silver coating"),
        (
            "Falls in care homes. 11 Medical and Health Sciences 1103 Clinical Sciences "
            "1117 Public Health and Health Services",
            "falls in care homes",
        ),
        ("Soil bacteria 06 Biological Sciences 060504 Microbial Ecology", "soil bacteria"),
        # numbers and capitalised words that are no code run are kept
        ("Outcomes of the 2010 Cohort 2011 Update", "outcomes of the 2010 cohort 2011 update"),
        ("Mortality in 12 Countries 1990 To 2010", "mortality in 12 countries 1990 to 2010"),
    ],
)
def test_subject_codes_are_dropped_from_titles(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


def test_same_doi_with_other_numbers_in_title_goes_to_review() -> None:
    """Not a code run: the numbers may be a part or the export's error; a person decides."""
    part2 = replace(SILVER, id="s3", title=SILVER.title + ": part 2", pages="1211-1220")
    pair = pair_of(SILVER, part2)
    assert pair.decision is PairDecision.REVIEW
    assert pair.reasons[0] == "different numbers in title"
    # without the shared DOI the numbers still decide
    pair = pair_of(replace(SILVER, doi=None), replace(part2, doi=None))
    assert pair.decision is PairDecision.DISTINCT


def test_same_doi_erratum_and_year_conflicts_go_to_review() -> None:
    erratum = replace(SILVER, id="s4", title="Erratum: " + SILVER.title, pages="1300")
    assert pair_of(SILVER, erratum).decision is PairDecision.REVIEW
    later = replace(SILVER, id="s5", year=2022)
    assert pair_of(SILVER, later).decision is PairDecision.REVIEW
    # ... unless the titles differ and no author is shared
    other = replace(erratum, title="Erratum: regional anaesthesia in children", authors=("X, Y",))
    assert pair_of(SILVER, other).decision is PairDecision.DISTINCT


# ------------------------------------------------------ bulk decisions equal one-by-one scoring


def test_bulk_conflicts_with_shared_or_mistyped_ids_decide_as_score_pair() -> None:
    """The engine decides identifier, number and year conflicts in numpy; pairs whose outcome a
    shared or mistyped identifier can change must come out exactly as ``score_pair`` decides."""
    records = [
        SILVER,
        replace(SILVER, id="s3", title=SILVER.title + ": part 2", pages="1211-1220"),
        replace(SILVER, id="s5", year=2022),  # years, same DOI
        replace(SILVER, id="s6", doi="10.5555/jbmr.b.34231"),  # mistyped DOI
        replace(SILVER, id="s7", doi="10.5555/other", pages="1-9"),  # different DOI and pages
        replace(SILVER, id="s8", doi=None, pmid="111"),
        replace(SILVER, id="s9", doi=None, pmid="112"),  # mistyped PMID
        replace(SILVER, id="sa", doi=None, pmid="113", year=2017, volume="105"),
        LANCET,
        LANCET_TYPO,
    ]
    result = find_duplicates(records)
    prepared = {p.id: p for p in _prepare_all(sorted(records, key=lambda r: r.id))}
    decisions = set()
    for pair in result.pairs:
        if "conflicting records" in " ".join(pair.reasons) or not pair.fields:
            continue
        assert pair == score_pair(prepared[pair.a], prepared[pair.b]), pair
        decisions.add(pair.decision)
    assert decisions == {PairDecision.MERGE, PairDecision.REVIEW, PairDecision.DISTINCT}


def test_prepare_reads_no_pagination_volume() -> None:
    rec = prepare(id="x", title="t", authors=(), year=2014, journal=None,
                  volume="14 (1) (no pagination)", issue="50", pages=None, doi=None,
                  pmid=None)  # fmt: skip
    assert (rec.volume, rec.issue, rec.pages) == ("14", "1", ("50", ""))


# ----------------------------------------------------- the labelled set in the dedup benchmark


def test_benchmark_set_of_shared_identifier_kinds() -> None:
    """benchmarks/sets/shared_identifiers: zero false merges; every labelled duplicate merged
    except the mistyped DOI, which waits in the review queue."""
    path = REPO / "benchmarks" / "sets" / "shared_identifiers" / "records.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    records = [
        DedupInput(
            id=r["id"],
            title=r["title"] or None,
            authors=tuple(a for a in r["authors"].split(" and ") if a),
            year=r["year"] or None,
            journal=r["journal"] or None,
            volume=r["volume"] or None,
            issue=r["issue"] or None,
            pages=r["pages"] or None,
            doi=r["doi"] or None,
            pmid=r["pmid"] or None,
            publication_type=r["entrytype"] or None,
        )
        for r in rows
    ]
    truth = {r["id"]: r["true_group"] for r in rows}
    result = find_duplicates(records)
    for group in result.groups:
        assert len({truth[m] for m in group.members}) == 1, group
    merged = {frozenset((a, b)) for a in truth for b in truth
              if a < b and result.group_of(a) == result.group_of(b)}  # fmt: skip
    labelled = {frozenset((a, b)) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    mistyped = frozenset(("b3_lancet", "b3_lancet_typo"))
    assert merged == labelled - {mistyped}
    assert mistyped in [frozenset((p.a, p.b)) for p in result.review_queue]
