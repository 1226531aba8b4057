"""Normalisation used for duplicate matching (reviewtool.dedup.keys)."""

from __future__ import annotations

import re

import pytest

from reviewtool.dedup.keys import (
    author_family,
    is_notice_title,
    journal_key,
    journals_match,
    normalize_doi,
    normalize_pmid,
    normalize_title,
    page_range,
    page_starts,
    prepare,
    record_kind,
    title_numbers,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.1056/NEJMoa123", "10.1056/nejmoa123"),
        ("https://doi.org/10.1056/NEJMoa123.", "10.1056/nejmoa123"),
        ("http://dx.doi.org/10.1056/nejmoa123", "10.1056/nejmoa123"),
        ("doi: 10.1056/NEJMoa123", "10.1056/nejmoa123"),
        ("not a doi", ""),
        (None, ""),
    ],
)
def test_normalize_doi(raw: str | None, expected: str) -> None:
    assert normalize_doi(raw) == expected


def test_normalize_pmid() -> None:
    assert normalize_pmid("PMID: 0012345") == "12345"
    assert normalize_pmid(None) == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Effect of Aspirin on Stroke.", "effect of aspirin on stroke"),
        ("Effect of aspirin on stroke: a trial", "Effect of aspirin on stroke - a trial"),
        ("Müller's café study", "Mullers cafe study"),
        ("Role of β-blockers", "Role of beta blockers"),
        ("Role of <i>TNF-α</i>", "Role of TNF-alpha"),
        (r"Role of \emph{TNF} in {B}ritain", "Role of TNF in Britain"),
        ("Safety &amp; efficacy", "Safety & efficacy"),
        (
            "[Treatment of asthma in children]. [Article in German]",
            "Treatment of asthma in children",
        ),
        ("Cervical neoplasia. [Review] [70 refs]", "Cervical neoplasia"),
        ("HPV testing (Provisional abstract)", "HPV testing"),
        ("Current aspects. [Review] [16 refs] [Romanian]", "Current aspects"),
        ("Kidney function.[Erratum appears in Am J Hematol. 2010 Nov", "Kidney function"),
        ("Outcome of surgery: part II", "Outcome of surgery: Part 2"),
    ],
)
def test_normalize_title_equates_noise(a: str, b: str) -> None:
    assert normalize_title(a) == normalize_title(b)


def test_title_numbers_ignore_spacing() -> None:
    assert title_numbers(normalize_title("non-HPV16/18")) == title_numbers(
        normalize_title("non-HPV 16/18")
    )
    assert title_numbers(normalize_title("Part I")) != title_numbers(normalize_title("Part II"))


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Erratum: Severe deficiency of ADAMTS13", "erratum"),
        ("Correction to: Aspirin for stroke", "erratum"),
        ("Reply to: Aspirin for stroke", "comment"),
        ("Comment on: aspirin for stroke", "comment"),
        ("Aspirin for stroke: study protocol for a randomised trial", "protocol"),
    ],
)
def test_record_kind(title: str, kind: str) -> None:
    assert kind in record_kind(normalize_title(title))


@pytest.mark.parametrize(
    "title",
    [
        "Long-term effect of eculizumab (vol 85, pg 553, 2010)",
        "Eculizumab for atypical hemolytic-uremic syndrome (New England Journal of Medicine (2009)"
        " 360 (542-544))",
    ],
)
def test_citation_tail_marks_a_notice_and_leaves_the_title(title: str) -> None:
    """WoS and Embase erratum notices cite the article; the citation is not part of the title."""
    assert is_notice_title(title)
    rec = prepare(id="x", title=title, authors=(), year=2010, journal=None, volume=None,
                  issue=None, pages=None, doi=None, pmid=None)  # fmt: skip
    assert "erratum" in rec.kinds
    assert not re.search(r"\d", rec.title)


def test_record_kind_plain_article_and_mid_title_response() -> None:
    assert record_kind(normalize_title("Aspirin for stroke: a randomised trial")) == frozenset()
    assert record_kind(normalize_title("Evolution of maps in response to disasters")) == frozenset()


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Zhang, Zheng", "zhang"),
        ("Zhang Z", "zhang"),
        ("Zhang ZY", "zhang"),
        ("Z. Zhang", "zhang"),
        ("Zheng Zhang", "zhang"),
        ("Le Quintrec, M", "quintrec"),
        ("van der Graaf, Y", "graaf"),
        ("Müller, Hans", "muller"),
    ],
)
def test_author_family(name: str, family: str) -> None:
    assert author_family(name) == family


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Nat Rev Nephrol", "Nature Reviews Nephrology", True),
        ("J Am Coll Cardiol", "Journal of the American College of Cardiology", True),
        ("Diabetes & metabolism", "Diabetes and Metabolism", True),
        ("BMJ (Clinical research ed.)", "BMJ", True),
        ("Lancet", "Nature", False),
        ("Journal of Pediatrics", "Journal of Pediatric Surgery", False),
    ],
)
def test_journals_match(a: str, b: str, same: bool) -> None:
    assert journals_match(journal_key(a), journal_key(b)) is same


def test_journal_missing_is_unknown() -> None:
    assert journals_match(journal_key(None), journal_key("Lancet")) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("112-20", ("112", "120")),
        ("112-120", ("112", "120")),
        ("47--65", ("47", "65")),
        ("1297–306", ("1297", "1306")),
        ("e1234", ("e1234", "")),
        ("532, 534-536", ("532", "")),
        ("Suppl-29", ("", "")),
        (None, ("", "")),
    ],
)
def test_page_range(raw: str | None, expected: tuple[str, str]) -> None:
    assert page_range(raw) == expected


def test_page_quirks() -> None:
    """Poster numbers, several ranges in one field and footnote-free titles."""
    assert page_range("P63 [tp 104]") == ("p63", "")
    assert page_starts("230-5, 246-51, 233-8") == {"230", "246", "233"}
    assert page_starts("233-238+230-235+246-251") == {"230", "246", "233"}
    assert page_starts("112-20") == frozenset()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # footnote mark exported as text
        ("Labour law for crowdworkers, focusing on employee representation 1",
         "Labour law for crowdworkers, focusing on employee representation"),
        ("Atypical haemolytic uraemic syndrome and streptococcus (multiple letters) [1]",
         "Atypical haemolytic uraemic syndrome and streptococcus"),
        ("Pleurodesis with talc versus bleomycin in breast cancer [abstract no: 134]",
         "Pleurodesis with talc versus bleomycin in breast cancer"),
        ("[Current aspects of uraemic syndrome in children]. [Review] [16 refs] [Romanian]",
         "Current aspects of uraemic syndrome in children. [Romanian]"),
        ("More on eculizumab for congenital aHUS... N Engl J Med. 2009 Jan 29;360(5):544-6",
         "More on eculizumab for congenital aHUS"),
        ("A seven-year study among 10 000 women in Guanacaste",
         "A seven-year study among 10000 women in Guanacaste"),
    ],
)  # fmt: skip
def test_normalize_title_strips_export_noise(a: str, b: str) -> None:
    assert normalize_title(a) == normalize_title(b)


@pytest.mark.parametrize(
    "title",
    [
        "Aspirin for stroke: results of the trial, part 2",
        "Outcomes of stroke rehabilitation in patients aged 2",
        "Aspirin and clopidogrel after stroke in phase 3",
    ],
)
def test_trailing_number_kept_after_series_words(title: str) -> None:
    """The footnote rule must not drop a part, phase or age."""
    assert normalize_title(title)[-1].isdigit()


def test_bilingual_and_conference_journal_names() -> None:
    ijc = journal_key("International journal of cancer.Journal international du cancer")
    assert journals_match(ijc, journal_key("International Journal of Cancer"))
    assert journal_key("Pediatric Nephrology.Conference: 45th meeting") == journal_key(
        "Pediatric Nephrology"
    )
    assert not journals_match(journal_key("Journal of Pediatrics"), journal_key("Pediatrics"))
