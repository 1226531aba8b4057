"""Duplicate decisions on hand-made pairs: true duplicates with export noise, and the classic traps.

Each trap is a pair that naive title matching merges and that must never be merged automatically.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from reviewtool.dedup.clusters import check_invariant
from reviewtool.dedup.engine import DedupInput, find_duplicates
from reviewtool.dedup.similarity import PairDecision

SHARED = Path(__file__).resolve().parents[2] / "shared"

TITLE = "Colchicine for the prevention of the post-pericardiotomy syndrome: a randomised trial"
ARTICLE = DedupInput(
    id="a1",
    title="Colchicine for the prevention of the post-pericardiotomy syndrome: a randomised trial",
    authors=("Imazio, Massimo", "Brucato, Antonio", "Ferrazzi, Paolo"),
    year=2010,
    journal="European Heart Journal",
    volume="31",
    issue="22",
    pages="2749-2754",
    doi="10.1093/eurheartj/ehq319",
)


def decision(a: DedupInput, b: DedupInput) -> PairDecision | None:
    """The decision for the pair (a, b), or None if blocking never compared them."""
    result = find_duplicates([a, b])
    check_invariant(result.duplicate_of)
    merged = result.group_of(a.id) == result.group_of(b.id)
    pairs = [p for p in result.pairs if {p.a, p.b} == {a.id, b.id}]
    if not pairs:
        assert not merged
        return None
    assert merged == (pairs[0].decision is PairDecision.MERGE)
    return pairs[0].decision


# ----------------------------------------------------------------- true duplicates (export noise)

NOISY_COPIES = {
    "title case and punctuation": replace(
        ARTICLE,
        title="COLCHICINE FOR THE PREVENTION OF THE POST-PERICARDIOTOMY SYNDROME - A RANDOMISED "
        "TRIAL.",
    ),
    "author name forms": replace(ARTICLE, authors=("Imazio M", "Brucato A", "Ferrazzi P")),
    "missing DOI": replace(ARTICLE, doi=None),
    "abbreviated journal, no DOI": replace(ARTICLE, journal="Eur Heart J", doi=None),
    "page-range style, no DOI": replace(ARTICLE, pages="2749-54", doi=None),
    "DOI as URL": replace(ARTICLE, doi="https://doi.org/10.1093/EURHEARTJ/EHQ319"),
    "MEDLINE annotations": replace(
        ARTICLE, title=TITLE + ". [Review] [33 refs]", doi=None, issue=None
    ),
    "one typo, no DOI": replace(
        ARTICLE,
        title="Colchicine for the prevention of the post-pericardiotomy syndrom: a randomised trial",
        doi=None,
    ),
    "missing volume and pages": replace(ARTICLE, volume=None, pages=None, issue=None, doi=None),
}


@pytest.mark.parametrize("label", sorted(NOISY_COPIES))
def test_noisy_copy_is_merged(label: str) -> None:
    copy = replace(NOISY_COPIES[label], id="a2")
    assert decision(ARTICLE, copy) is PairDecision.MERGE


def test_all_noise_at_once_is_merged() -> None:
    copy = replace(
        ARTICLE,
        id="a2",
        title=TITLE.upper(),
        authors=("Imazio M", "Brucato A", "Ferrazzi P"),
        journal="Eur Heart J",
        pages="2749-54",
        doi=None,
    )
    assert decision(ARTICLE, copy) is PairDecision.MERGE


def test_translated_title_at_same_location_is_merged() -> None:
    english = DedupInput(
        id="t1",
        title="Platform economy and crowdworking as challenges for the German model",
        authors=("Greef, S.", "Schroeder, W."),
        year=2020,
        journal="Industrielle Beziehungen",
        volume="27",
        pages="205-226",
    )
    german = replace(
        english,
        id="t2",
        title="Plattformökonomie und Crowdworking als Herausforderungen für das deutsche Modell",
        authors=("Greef, Samuel", "Schroeder, Wolfgang"),
    )
    assert decision(english, german) is PairDecision.MERGE


# ----------------------------------------------------------------------- false-positive traps

TRAPS = {
    "conference abstract vs article": DedupInput(
        id="t",
        title=TITLE,
        authors=ARTICLE.authors,
        year=2009,
        journal="Circulation",
        volume="120",
        pages="S512",
        publication_type="conference abstract",
    ),
    "erratum repeating the title": replace(
        ARTICLE,
        id="t",
        title="Erratum: " + TITLE,
        pages="2890",
        issue="23",
        doi="10.1093/eurheartj/ehq400",
    ),
    "erratum without DOI": replace(
        ARTICLE, id="t", title="Correction to: " + TITLE, pages="2890", doi=None
    ),
    "comment on the article": replace(
        ARTICLE,
        id="t",
        title="Comment on: " + TITLE,
        authors=("Smith, John",),
        pages="2890-2891",
        doi=None,
    ),
    "reply by the authors": replace(
        ARTICLE, id="t", title="Reply to: " + TITLE, pages="2891", doi=None
    ),
    "part II of a series": replace(
        ARTICLE,
        id="t",
        title=TITLE + ". Part II",
        pages="2755-2760",
        doi=None,
    ),
    "protocol vs results": replace(
        ARTICLE,
        id="t",
        title="Colchicine for the prevention of the post-pericardiotomy syndrome: protocol for a "
        "randomised trial",
        year=2009,
        journal="Trials",
        volume="10",
        pages="45",
        doi=None,
    ),
    "same authors, journal and year, different trial": replace(
        ARTICLE,
        id="t",
        title="Colchicine for the prevention of post-operative atrial fibrillation: a randomised "
        "trial",
        pages="2760-2766",
        doi=None,
    ),
    "updated Cochrane review, other year": DedupInput(
        id="t",
        title="Colchicine for pericarditis",
        authors=("Alabed, S",),
        year=2014,
        journal="Cochrane Database Syst Rev",
        volume="2014",
        issue="8",
        pages="CD010652",
        doi="10.1002/14651858.CD010652.pub2",
    ),
    "recurring column, other issue": DedupInput(
        id="t",
        title="Editor's comments",
        authors=("Weber, Ron",),
        year=2003,
        journal="MIS Quarterly",
        volume="27",
        issue="3",
        pages="iii-xii",
    ),
    "abstract by the same group on the same page": DedupInput(
        id="t",
        title="Contemporary features, risk factors and prognosis of the post-pericardiotomy syndrome",
        authors=("Imazio, M.", "Brucato, A.", "Ferrazzi, P."),
        year=2011,
        journal="European Heart Journal",
        volume="32",
        pages="597",
    ),
}

TRAP_ORIGINALS = {
    "updated Cochrane review, other year": DedupInput(
        id="o",
        title="Colchicine for pericarditis",
        authors=("Alabed, S",),
        year=2013,
        journal="Cochrane Database Syst Rev",
        volume="2013",
        issue="4",
        pages="CD010652",
        doi="10.1002/14651858.CD010652",
    ),
    "recurring column, other issue": DedupInput(
        id="o",
        title="Editor's comments",
        authors=("Weber, Ron",),
        year=2003,
        journal="MIS Quarterly",
        volume="27",
        issue="2",
        pages="iii-xi",
    ),
    "abstract by the same group on the same page": DedupInput(
        id="o",
        title="Colchicine prevents early post-operative pericardial and pleural effusions",
        authors=("Imazio, M.", "Brucato, A.", "Ferrazzi, P."),
        year=2011,
        journal="European Heart Journal",
        volume="32",
        pages="597",
    ),
}


@pytest.mark.parametrize("label", sorted(TRAPS))
def test_trap_is_never_merged(label: str) -> None:
    original = TRAP_ORIGINALS.get(label, ARTICLE)
    assert decision(original, TRAPS[label]) is not PairDecision.MERGE


def test_cochrane_update_without_doi_is_not_merged() -> None:
    old = replace(TRAP_ORIGINALS["updated Cochrane review, other year"], doi=None)
    new = replace(TRAPS["updated Cochrane review, other year"], doi=None)
    assert decision(old, new) is not PairDecision.MERGE


def test_decision_carries_score_and_fields() -> None:
    copy = replace(ARTICLE, id="a2", doi=None)
    result = find_duplicates([ARTICLE, copy])
    (pair,) = result.pairs
    assert pair.decision is PairDecision.MERGE
    assert 0.0 < pair.score <= 1.0
    assert pair.fields["title"] == 1.0 and pair.fields["pages"] == 1.0
    assert pair.reasons


def test_transitive_merge_never_joins_conflicting_records() -> None:
    """A~B and B~C must not merge A and C when A and C carry different DOIs."""
    a = replace(ARTICLE, id="a")
    b = replace(ARTICLE, id="b", doi=None)
    c = replace(ARTICLE, id="c", doi="10.1093/eurheartj/other")
    result = find_duplicates([a, b, c])
    check_invariant(result.duplicate_of)
    assert result.group_of("a") != result.group_of("c")
    assert any("conflicting" in " ".join(p.reasons) for p in result.review_queue)


def test_groups_pick_most_complete_primary() -> None:
    sparse = DedupInput(id="a0", title=TITLE, authors=ARTICLE.authors, year=2010,
                        journal="Eur Heart J", volume="31", pages="2749-54")  # fmt: skip
    result = find_duplicates([sparse, replace(ARTICLE, id="a9", abstract="Background ...")])
    (group,) = result.groups
    assert group.primary == "a9"
    assert result.duplicate_of == {"a0": "a9", "a9": None}


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        find_duplicates([ARTICLE, ARTICLE])


def test_special_cases_from_shared_benchmark() -> None:
    path = SHARED / "dedup" / "special_cases" / "records.csv"
    if not path.exists():
        pytest.skip(f"shared benchmark data not found at {path}")
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
            abstract=r["abstract"] or None,
            publication_type=r["entrytype"] or None,
            booktitle=r["booktitle"] or None,
            isbn=r["isbn"] or None,
        )
        for r in rows
    ]
    truth = {r["id"]: r["true_group"] for r in rows}
    result = find_duplicates(records)
    for group in result.groups:  # zero false merges
        assert len({truth[m] for m in group.members}) == 1, group
    merged_pairs = {
        frozenset((a, b))
        for a in truth
        for b in truth
        if a < b and result.group_of(a) == result.group_of(b)
    }
    true_pairs = {frozenset((a, b)) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    assert merged_pairs == true_pairs


# ------------------------------------------- rules added for the labelled sets: pair + its trap

CONF = DedupInput(
    id="c1",
    title="Call for bids to improve matching efficiency: evidence from online labor markets",
    authors=("Guo, Xue", "Gong, Jing", "Pavlou, Paul"),
    year=2017,
    booktitle="International Conference on Information Systems",
    publication_type="inproceedings",
)
ABSTRACT = DedupInput(
    id="j1",
    title="Training assistive technology after acquired brain injury: a randomized trial",
    authors=("Ehlhardt, L.", "Glang, A.", "Sohlberg, M."),
    year=2010,
    journal="Journal of Head Trauma Rehabilitation",
    volume="25",
    issue="5",
    pages="394",
)
REPRINT_ABSTRACT = (
    "Project sponsorship is assumed to be critical to the success of information systems "
    "development and implementation. However, there is limited research on the effect of "
    "vendor-based sponsorship on the management of information technology (IT) projects. This "
    "paper contributes to that emerging body of research by examining how vendor sponsorship "
    "shapes the governance, risk allocation and outcomes of outsourced IT projects."
)
AMANTADINE_TITLE = (
    "Amantadine hydrochloride for treatment of symptoms of the posttraumatic confusional "
    "state: a randomized, double-blind, placebo-controlled trial"
)
REPRINT = DedupInput(
    id="j1",
    title="Sponsorship and IT vendor management of projects",
    authors=("Liu, Li", "Yetton, Philip"),
    year=2009,
    journal="Journal of Information Technology",
    volume="24",
    issue="1",
    pages="46-54",
    abstract=REPRINT_ABSTRACT,
)
HBR = DedupInput(
    id="j1",
    title="Upwork's CEO on how an introverted engineer learned to lead",
    authors=("Kasriel, S.",),
    year=2016,
    journal="Harvard Business Review",
    volume="2016",
    issue="May",
)
AMANTADINE = DedupInput(
    id="j1",
    title=AMANTADINE_TITLE,
    authors=("Yablon, S.", "Sherer, M.", "Nakase-Richardson, R.", "Todd, N."),
    year=2010,
    journal="Archives of Physical Medicine and Rehabilitation",
    volume="91",
    issue="10",
)
# (duplicate, trap): the first must merge with its base record, the second must not.
RULES: dict[str, tuple[DedupInput, DedupInput, DedupInput]] = {
    "proceedings indexed a year apart": (
        CONF,
        replace(CONF, id="c2", year=2018, authors=("Guo, X.", "Gong, J.", "Pavlou, P.")),
        # a different group presenting the same title the next year
        replace(CONF, id="c3", year=2018, authors=("Smith, A.", "Jones, B.")),
    ),
    "author list in another order": (
        CONF,
        replace(CONF, id="c2", authors=("Gong, J.", "Guo, X.", "Pavlou, P.")),
        # a subset of the authors with another first author: another paper of the group
        replace(CONF, id="c3", authors=("Pavlou, P.", "Fan, W."), year=2018),
    ),
    "given and family names swapped": (
        CONF,
        replace(CONF, id="c2", authors=("Xue, G.", "Jing, G.", "Paul, P.")),
        replace(CONF, id="c3", authors=("Xue, G.", "Jing, G."), year=2015),
    ),
    "meeting abstract under the journal supplement": (
        replace(ABSTRACT, journal="Journal of Head Trauma Rehabilitation.Conference: 8th meeting"),
        ABSTRACT,
        # the full article later in the same journal and year: the classic trap
        replace(
            ABSTRACT,
            id="j3",
            journal="Journal of Head Trauma Rehabilitation",
            issue="6",
            pages="410-418",
        ),
    ),
    "same journal and volume, year off by one": (
        replace(ABSTRACT, pages=None, issue=None, journal="BMC Infectious Diseases", volume="10"),
        replace(ABSTRACT, pages=None, issue=None, journal="BMC Infect Dis", volume="10", year=2009),
        replace(
            ABSTRACT,
            id="j3",
            pages=None,
            issue=None,
            journal="BMC Infect Dis",
            volume="11",
            year=2011,
        ),
    ),
    "only the last page exported": (
        replace(ABSTRACT, pages="567-569", issue=None),
        replace(ABSTRACT, pages="569", issue=None),
        replace(ABSTRACT, id="j3", pages="571-575", issue=None),
    ),
    "typo in the first page, same last page": (
        replace(ABSTRACT, pages="2141-2147", title=f"{ABSTRACT.title}: brief communication"),
        replace(ABSTRACT, pages="2142-2147"),
        # the group's next article in the same volume (brief title, other pages)
        replace(ABSTRACT, id="j3", pages="2150-2157"),
    ),
    "poster number and supplement prefix": (
        replace(ABSTRACT, pages="viii108"),
        replace(ABSTRACT, pages="P108 [tp 104]"),
        replace(ABSTRACT, id="j3", pages="S109"),
    ),
    "typo in a number, same place": (
        replace(
            ABSTRACT,
            title="p16INK4a expression does not predict the outcome of CIN 1",
            pages="1099-1103",
        ),
        replace(
            ABSTRACT,
            title="p6INK4a expression does not predict the outcome of CIN 1",
            pages="1099-1103",
        ),
        # the same typo-level difference elsewhere in the journal is a different paper
        replace(
            ABSTRACT,
            id="j3",
            title="p6INK4a expression does not predict the outcome of CIN 1",
            pages="1200-1204",
        ),
    ),
    "subtitle and journal translation at the same page range": (
        replace(
            ABSTRACT,
            title="Effect of CPAP on fluid absorption in tuberculous effusion",
            journal="Revista Brasileira de Fisioterapia",
            pages="127-132",
        ),
        replace(
            ABSTRACT,
            title="Effect of CPAP on fluid absorption in tuberculous effusion; "
            "Efeito da CPAP sobre a absorcao do derrame",
            journal="Braz J Phys Ther",
            pages="127-132",
        ),
        # same authors and volume, other pages: another article of the group
        replace(
            ABSTRACT,
            id="j3",
            title="Effect of CPAP on fluid absorption in tuberculous effusion; a second cohort",
            journal="Braz J Phys Ther",
            pages="133-138",
        ),
    ),
    "erratum notice cited in the title": (
        replace(
            ABSTRACT,
            title="Eculizumab for atypical hemolytic-uremic syndrome (vol 360, pg 542, 2009)",
            pages="2487",
        ),
        replace(
            ABSTRACT,
            title="Eculizumab for atypical hemolytic-uremic syndrome (New England"
            " Journal of Medicine (2009) 360 (542-544))",
            pages="2487",
        ),
        # the article the notice corrects
        replace(
            ABSTRACT,
            id="j3",
            title="Eculizumab for atypical hemolytic-uremic syndrome",
            pages="542-544",
        ),
    ),
    "reprint with its own DOI, volume and pages (same abstract)": (
        replace(
            REPRINT,
            title="Sponsorship and IT vendor management of projects",
            doi="10.1057/jit.2009.2",
        ),
        replace(
            REPRINT,
            title="Sponsorship and IT vendor management of projects",
            year=2010,
            volume="25",
            pages="56-64",
            doi="10.1057/jit.2008.23",
        ),
        # the same title and authors a year later with another abstract: a follow-up paper
        replace(
            REPRINT,
            id="j3",
            title="Sponsorship and IT vendor management of projects",
            year=2010,
            volume="25",
            pages="56-64",
            doi="10.1057/jit.2008.23",
            abstract="Vendor sponsorship revisited. " + REPRINT_ABSTRACT[30:],
        ),
    ),
    "section heading cut off by an ellipsis": (
        replace(HBR, title="Upwork's CEO on how an introverted engineer learned to lead"),
        replace(
            HBR,
            title="How did it ... Upwork's CEO on how an introverted engineer learned to lead",
            volume="94",
            issue="5",
            pages="35+",
        ),
        # a longer title that merely ends like the other one, without a heading
        replace(
            HBR,
            id="j3",
            title="Why the board hired him: Upwork's CEO on how an introverted engineer learned "
            "to lead",
            volume="94",
            issue="6",
            pages="80-85",
        ),
    ),
    "meeting abstract on two e-pages of one issue": (
        replace(AMANTADINE, pages="e8-e9"),
        replace(AMANTADINE, pages="e3", title=AMANTADINE_TITLE.replace("symptoms", "symptom's")),
        # a full article by the same group in the same issue with the same title
        replace(AMANTADINE, id="j3", pages="1520-1528"),
    ),
}

THESIS = DedupInput(
    id="t1",
    title="An intelligent rehabilitation system for cognitive rehabilitation",
    authors=("Yip, Chi Bun",),
    year=2012,
    journal="Dissertation Abstracts International: Section B: The Sciences and Engineering",
    volume="73",
    issue="3-B",
    pages="1524",
)


def test_thesis_and_its_listing_go_to_review() -> None:
    # The labelled stroke set calls one such pair a duplicate and another distinct.
    listing = replace(THESIS, id="t2", journal=None, year=2011, volume="Ph.D.", issue=None,
                      pages="215 p")  # fmt: skip
    assert decision(THESIS, listing) is PairDecision.REVIEW
    # the author's journal article with the thesis title is not proposed
    article = replace(THESIS, id="t3", journal="Disability and Rehabilitation", volume="34",
                      issue="2", pages="101-110")  # fmt: skip
    assert decision(THESIS, article) is not PairDecision.MERGE
    assert decision(listing, article) is not PairDecision.MERGE
    # another author's thesis with the same title
    other = replace(listing, id="t4", authors=("Chan, Wai Man",))
    assert decision(THESIS, other) is not PairDecision.MERGE


@pytest.mark.parametrize("label", sorted(RULES))
def test_rule_merges_the_duplicate_and_not_the_trap(label: str) -> None:
    base, duplicate, trap = RULES[label]
    base = replace(base, id="x1")
    assert decision(base, replace(duplicate, id="x2")) is PairDecision.MERGE
    assert decision(base, replace(trap, id="x3")) is not PairDecision.MERGE
    # all three together: the trap must stay out of the group
    result = find_duplicates([base, replace(duplicate, id="x2"), replace(trap, id="x3")])
    assert result.group_of("x3") != result.group_of("x1")


# ------------------------------------------------- bulk decisions equal the one-by-one scorer


def test_bulk_conflicts_decide_exactly_as_score_pair() -> None:
    """The engine decides DOI, PMID, number and year conflicts in numpy; the result must be the
    very ``PairScore`` that ``score_pair`` returns, reasons, fields and score included."""
    from reviewtool.dedup.engine import _prepare_all
    from reviewtool.dedup.similarity import score_pair

    base = replace(ARTICLE, doi=None)
    records = [
        base,
        replace(base, id="a2", doi="10.1000/x"),
        replace(base, id="a3", doi="10.1000/y", year=2013),  # DOI conflict with a2
        replace(base, id="a4", pmid="111"),
        replace(base, id="a5", pmid="222"),  # PMID conflict
        replace(base, id="a6", title=TITLE + " part 2", volume="32"),  # numbers differ
        replace(base, id="a7", year=2014),  # years differ by 4
        replace(base, id="a8", title=TITLE + " part 2"),  # numbers differ at the same place
        replace(REPRINT, id="r1", doi="10.1000/r1"),
        replace(REPRINT, id="r2", doi="10.1000/r2", year=2010, volume="25", pages="56-64"),
    ]
    result = find_duplicates(records)
    prepared = {p.id: p for p in _prepare_all(sorted(records, key=lambda r: r.id))}
    assert len(result.pairs) >= 20
    for pair in result.pairs:
        if "conflicting records" in " ".join(pair.reasons) or not pair.fields:
            continue  # refused by clustering, or an identical copy merged before scoring
        assert pair == score_pair(prepared[pair.a], prepared[pair.b]), pair
