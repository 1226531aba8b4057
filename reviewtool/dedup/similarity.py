"""Score one candidate pair of prepared records and decide merge, distinct or review.

The decision is a short list of explicit rules rather than a learned weight vector, so every
outcome can be explained to a reviewer by the ``reasons`` it carries. Rules come in three kinds:

* **hard conflicts** (different DOIs, erratum vs article, different numbers in the title, years
  two or more apart, ...) are never merged: these are the traps that make other tools merge two
  studies. No single field outvotes all the others, though: a conflict next to a shared DOI or
  PMID and a similar title, or a different DOI next to the same title, authors, journal, volume,
  issue and pages (a mistyped DOI), goes to ``review``; an identical identifier with the same
  title outranks the rules on volume, issue, pages and venue type; and a DOI shared by records
  whose titles and authors disagree is a journal supplement's, not evidence of one paper;
* **certain matches** need a near-identical title *and* independent corroboration (authors plus
  journal, volume or pages), or a shared identifier;
* everything plausible but not certain goes to ``review``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from rapidfuzz import fuzz

from reviewtool.dedup.keys import PreparedRecord, journals_match, name_words

__all__ = [
    "PairDecision",
    "PairScore",
    "Thresholds",
    "conflict_score",
    "hard_conflict",
    "score_pair",
    "title_similarity_of",
]


class PairDecision(StrEnum):
    """What happens to a candidate pair."""

    MERGE = "merge"
    """Certainly the same publication: merged without asking."""
    DISTINCT = "distinct"
    """Certainly different publications: kept apart without asking."""
    REVIEW = "review"
    """Uncertain: a person decides."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Similarity cut-offs (0-1) that separate merge, review and distinct.

    The defaults were tuned on the labelled sets in ``shared/dedup`` for zero false merges; lower
    ``merge_title`` trades a longer review queue for fewer automatic merges, never the reverse.
    """

    merge_title: float = 0.95
    """Title similarity at or above which a corroborated pair is merged."""
    merge_title_strict: float = 0.88
    """Title similarity at or above which a pair with every bibliographic detail equal is merged."""
    review_title: float = 0.70
    """Title similarity below which a pair without other evidence is distinct."""
    author_overlap: float = 0.6
    """Share of the shorter author list that must appear in the longer one."""
    short_title_words: int = 5
    """Titles with fewer words ("Editorial", "Reply") need identifiers or pages to merge."""


@dataclass(frozen=True, slots=True)
class PairScore:
    """The score of one candidate pair and the evidence behind its decision.

    ``fields`` holds the per-field similarity (1.0 equal, 0.0 different; missing fields are absent)
    and ``reasons`` the rules that decided, in the order they fired.
    """

    a: str
    b: str
    score: float
    decision: PairDecision
    reasons: tuple[str, ...]
    fields: dict[str, float] = field(hash=False, compare=True)


def title_similarity_of(a: PreparedRecord, b: PreparedRecord) -> float | None:
    """Title similarity 0-1 (``None`` when either title is missing)."""
    if not a.title or not b.title:
        return None
    if a.title == b.title:
        return 1.0
    ratio = fuzz.ratio(a.title_squashed, b.title_squashed) / 100.0
    # Word-order changes ("trial of X: a randomised" vs "a randomised trial of X") are common
    # between databases; token_sort catches them without rewarding subset titles.
    return max(ratio, fuzz.token_sort_ratio(a.title, b.title) / 100.0)


def _author_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    if not a or not b:
        return None
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    pool = set(long_)
    missing = [name for name in short if name not in pool]
    hits = len(short) - len(missing)
    if missing:
        rest = pool.difference(short)
        for name in missing:
            if any(_names_close(name, other) for other in rest):
                hits += 1
    return hits / len(short)


def _names_close(x: str, y: str) -> bool:
    if "?" in x or "?" in y:
        return _wildcard_equal(x, y)
    if len(x) < 4 or len(y) < 4:
        return False
    # Compound names lose or gain a part between databases ("lequintrec" vs "quintrec").
    return (
        x.startswith(y)
        or y.startswith(x)
        or x.endswith(y)
        or y.endswith(x)
        or (fuzz.ratio(x, y) >= 88)
    )


def _wildcard_equal(x: str, y: str) -> bool:
    """Names equal where an export put "?" for a letter it could not encode."""
    if "?" in y:
        x, y = y, x
    if "?" in y or len(x.replace("?", "")) < 2:
        return False
    pattern = "".join(".{1,2}" if ch == "?" else re.escape(ch) for ch in x)
    return re.fullmatch(pattern, y) is not None


def _first_author_match(a: tuple[str, ...], b: tuple[str, ...]) -> bool | None:
    if not a or not b:
        return None
    return a[0] == b[0] or _names_close(a[0], b[0])


_AUTHOR_CHECK_TITLE = 0.5
"""Below this title similarity, without shared identifier or location, a pair is distinct."""

_RECURRING_TITLE_WORDS = 5
"""Titles this short ("Editor's comments") recur in every issue, often on page "iii"."""


def _same_location(
    a: PreparedRecord, b: PreparedRecord, relation: bool | str | None = "unknown"
) -> bool:
    """Same year and first page, and the same volume or the same full page range.

    ``relation`` is ``_page_relation(a, b)`` when the caller has it already.
    """
    if not (a.year and a.year == b.year):
        return False
    if not (_page_relation(a, b) if relation == "unknown" else relation):
        return False
    if a.volume and a.volume == b.volume:
        return True
    return bool(a.pages[1] and a.pages[1] == b.pages[1] and a.pages[1] != a.pages[0])


def _same_place(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Same year, same volume, same first page and no disagreement on the last page.

    Two different publications cannot occupy the same place, whatever their titles or journal names
    say (translated journal names, a title with and without its subtitle).
    """
    return bool(
        a.year
        and a.year == b.year
        and a.volume
        and a.volume == b.volume
        and _pages_match(a.pages[0], b.pages[0])
        and not (a.pages[1] and b.pages[1] and a.pages[1] != b.pages[1])
    )


def _same_range(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Same year and the same multi-page range, with no volume conflict: a full article's place."""
    (af, al), (bf, bl) = a.pages, b.pages
    return bool(
        a.year
        and a.year == b.year
        and af
        and af == bf
        and al == bl
        and af.isdigit()
        and al.isdigit()
        and int(al) > int(af)
        and not (a.volume and b.volume and a.volume != b.volume)
    )


def _same_end(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Same year and volume, both multi-page, ending on the same page."""
    (af, al), (bf, bl) = a.pages, b.pages
    return bool(
        a.year
        and a.year == b.year
        and a.volume
        and a.volume == b.volume
        and al
        and al == bl
        and af != al
        and bf != bl
    )


def _same_location_notice(a: PreparedRecord, b: PreparedRecord) -> bool:
    """An erratum exported once with and once without its "Erratum:" prefix, at the same page."""
    return _same_location(a, b) and bool(a.core_title) and a.core_title == b.core_title


def _multi_page(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Whether either record spans more than one page (a full article, not an abstract)."""
    for first, last in (a.pages, b.pages):
        if first.isdigit() and last.isdigit() and int(last) > int(first):
            return True
    return False


def _title_contained(a: PreparedRecord, b: PreparedRecord) -> bool:
    """One title is the other cut short (field limits) or prefixed by a section heading."""
    short, long_ = sorted((a.title_squashed, b.title_squashed), key=len)
    return len(short) >= 30 and (long_.startswith(short) or long_.endswith(short))


def _republished(a: PreparedRecord, b: PreparedRecord) -> bool:
    """The same article printed twice (a reprint with its own DOI, volume and pages).

    Same long abstract, same title of six or more words, same author list and same journal, a
    year apart at most, neither a meeting abstract: the text is the same, so the study is too.
    """
    return bool(
        a.abstract_key
        and a.abstract_key == b.abstract_key
        and a.title == b.title
        and len(a.title.split()) >= _LONG_TITLE_WORDS
        and a.authors
        and a.authors == b.authors
        and a.kinds == b.kinds
        and not (a.is_conference or b.is_conference)
        and a.year
        and b.year
        and abs(a.year - b.year) <= 1
        and journals_match(a.journal, b.journal)
    )


def hard_conflict(a: PreparedRecord, b: PreparedRecord) -> str | None:
    """The first rule that forbids merging two records automatically, if any.

    Identifiers and markers first (a different DOI or PMID, erratum vs article, different numbers
    in the title, years two or more apart); then the rules on volume, issue, pages and venue type,
    which an identical DOI or PMID next to the same title outranks (``_same_work``). A conflict
    keeps the pair out of any automatic merge; ``score_pair`` still sends it to the review queue
    when a shared identifier or every other detail speaks for it (``_conflict_review``).
    Cheap and symmetric, so the clustering step can also apply it to every pair a transitive merge
    would join, which keeps A~B, B~C from merging A with a C it conflicts with.
    """
    if a.doi and b.doi and a.doi != b.doi and not _republished(a, b):
        return "different DOI"
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return "different PMID"
    if a.kinds != b.kinds and not _same_location_notice(a, b):
        only = sorted(a.kinds ^ b.kinds)
        # "(treatment protocol of Essen University Hospital)" in the title of the article itself:
        # a protocol and its results paper never share one page range.
        if not (only == ["protocol"] and _same_range(a, b)):
            return f"{'/'.join(only)} vs article"
    if a.title and b.title and a.numbers != b.numbers and not _same_place(a, b):
        # A typo ("p6INK4a" for "p16INK4a") is not a different part when the place is the same.
        return "different numbers in title"
    if a.year and b.year and abs(a.year - b.year) >= 2:
        return "years differ by 2 or more"
    if _same_work(a, b):
        # The rules below read volume, issue, pages and the venue type, which exports garble
        # (Embase's "14 (1) (no pagination)", an article number in the issue field, a journal
        # article typed as a conference abstract): they cannot veto an identical DOI or PMID
        # next to the same title.
        return None
    vol_diff = bool(a.volume and b.volume and a.volume != b.volume)
    relation = _page_relation(a, b)
    page_diff = relation is False
    if vol_diff and page_diff and not _republished(a, b):
        return "different volume and pages"
    if (
        a.issue
        and b.issue
        and a.issue != b.issue
        and max(len(a.issue), len(b.issue)) <= 2  # longer "issues" are export record numbers
        and (
            relation is not True
            or min(len(a.title.split()), len(b.title.split())) < _RECURRING_TITLE_WORDS
        )
    ):
        # A recurring column ("Editor's comments") repeats title, author and volume every issue.
        return "different issue"
    if a.is_conference != b.is_conference and (
        page_diff or (a.year and b.year and a.year != b.year)
    ):
        return "conference abstract vs article"
    return None


def _shared_id(a: PreparedRecord, b: PreparedRecord) -> str | None:
    """``"DOI"`` or ``"PMID"`` when the two records carry the same one, else ``None``."""
    if a.doi and a.doi == b.doi:
        return "DOI"
    if a.pmid and a.pmid == b.pmid:
        return "PMID"
    return None


def _same_work(a: PreparedRecord, b: PreparedRecord) -> bool:
    """The same DOI or PMID and the same title (or one cut short), long enough not to recur."""
    if not _shared_id(a, b) or not a.title or not b.title:
        return False
    if min(len(a.title.split()), len(b.title.split())) < _RECURRING_TITLE_WORDS:
        return False
    return a.title == b.title or _title_contained(a, b)


def _authors_disagree(a: PreparedRecord, b: PreparedRecord) -> bool:
    """Both records list authors and not one name is shared (nor given/family names swapped)."""
    if not a.authors or not b.authors:
        return False
    return _author_overlap(a.authors, b.authors) == 0.0 and not _names_swapped(a, b)


def _conflict_review(
    a: PreparedRecord, b: PreparedRecord, title: float | None, conflict: str, th: Thresholds
) -> str | None:
    """Why a pair with a hard conflict still deserves a person's look, or ``None``.

    A hard conflict stops an automatic merge, but one field must not outvote all the others:

    * the same DOI or PMID and a similar title (at least ``review_title``), with authors that do
      not disagree outright: the conflicting field may be the export error ("different numbers
      in title" from subject codes glued to the title, an erratum that carries its article's DOI,
      a year of online and of print publication);
    * a different DOI or PMID next to the same title, authors, journal, year, volume, issue and
      first page: one of the identifiers may be mistyped (a wrong ISSN prefix).
    """
    shared = _shared_id(a, b)
    if shared:
        if title is not None and title >= th.review_title and not _authors_disagree(a, b):
            return f"same {shared} and a similar title; a person decides"
        return None
    if conflict not in ("different DOI", "different PMID") or title is None:
        return None
    if not (title >= th.merge_title and a.year and a.year == b.year):
        return None
    if not (a.volume and a.volume == b.volume and _page_relation(a, b) is True):
        return None
    if a.issue and b.issue and a.issue != b.issue:
        return None
    if journals_match(a.journal, b.journal) is not True:
        return None
    overlap = _author_overlap(a.authors, b.authors)
    if (
        overlap is None
        or overlap < th.author_overlap
        or not _first_author_match(a.authors, b.authors)
    ):
        return None
    label = conflict.removeprefix("different ")
    return f"title, authors, journal, volume, issue and pages agree; a mistyped {label}?"


_UNSET = -1.0


def conflict_score(
    a: PreparedRecord, b: PreparedRecord, title: float | None, conflict: str
) -> PairScore:
    """The ``distinct`` decision for a pair with a hard conflict, with the cheap fields only.

    ``score_pair`` returns exactly this when ``hard_conflict`` names ``conflict``; the engine calls
    it directly for the conflicts it detects in bulk.
    """
    fields: dict[str, float] = {}
    if title is not None:
        fields["title"] = round(title, 4)
    if a.year and b.year:
        fields["year"] = 1.0 if a.year == b.year else 0.0
    if a.volume and b.volume:
        fields["volume"] = float(a.volume == b.volume)
    if a.doi and b.doi:
        fields["doi"] = float(a.doi == b.doi)
    if a.pmid and b.pmid:
        fields["pmid"] = float(a.pmid == b.pmid)
    return PairScore(a.id, b.id, _overall(fields), PairDecision.DISTINCT, (conflict,), fields)


def score_pair(
    a: PreparedRecord,
    b: PreparedRecord,
    thresholds: Thresholds | None = None,
    *,
    title_similarity: float | None = _UNSET,
) -> PairScore:
    """Score two prepared records and decide whether they are the same publication.

    ``title_similarity`` may be passed when the caller computed it in bulk (the engine does, with
    ``rapidfuzz.process.cpdist``); it must equal what :func:`title_similarity` returns.
    """
    th = thresholds or Thresholds()
    fields: dict[str, float] = {}
    title = title_similarity_of(a, b) if title_similarity == _UNSET else title_similarity
    if title is not None:
        fields["title"] = round(title, 4)
    if a.year and b.year:
        fields["year"] = 1.0 if a.year == b.year else 0.0
    conflict = hard_conflict(a, b)
    if conflict:
        # Never merged: skip the costly journal and author comparisons unless a shared identifier
        # or every other detail speaks for the pair, which then goes to the review queue.
        distinct = conflict_score(a, b, title, conflict)
        why = _conflict_review(a, b, title, conflict, th)
        if why is None:
            return distinct
        return PairScore(
            a.id, b.id, distinct.score, PairDecision.REVIEW, (conflict, why), distinct.fields
        )
    journal = _journal_match(a, b)
    if journal is not None:
        fields["journal"] = float(journal)
    if a.volume and b.volume:
        fields["volume"] = float(a.volume == b.volume)
    pages = _page_relation(a, b)
    if pages is not None:
        fields["pages"] = float(pages)
    if a.doi and b.doi:
        fields["doi"] = float(a.doi == b.doi)
    if a.pmid and b.pmid:
        fields["pmid"] = float(a.pmid == b.pmid)
    same_location: bool | None = None
    cheap_distinct = (
        title is not None
        and title < _AUTHOR_CHECK_TITLE
        and fields.get("doi") != 1.0
        and fields.get("pmid") != 1.0
        and not (same_location := _same_location(a, b, pages))
    )
    if not cheap_distinct:  # author comparison is the costly part; skip it when it cannot matter
        authors = _author_overlap(a.authors, b.authors)
        if authors is not None:
            fields["authors"] = round(authors, 4)
        first_author = _first_author_match(a.authors, b.authors)
        if first_author is not None:
            fields["first_author"] = float(first_author)
    score = _overall(fields)

    def result(decision: PairDecision, *reasons: str) -> PairScore:
        return PairScore(a.id, b.id, score, decision, tuple(reasons), fields)

    if cheap_distinct:
        return result(PairDecision.DISTINCT, f"titles differ ({title:.2f})")

    same_id = fields.get("doi") == 1.0 or fields.get("pmid") == 1.0
    if same_location is None:
        same_location = _same_location(a, b, pages)
    located = same_location and fields.get("journal", 1.0) == 1.0
    # The same full author list in another order (first author included) is the same people.
    reordered = (
        fields.get("first_author") == 0.0
        and fields.get("authors") == 1.0
        and min(len(a.authors), len(b.authors)) >= 2
    )
    first_ok = fields.get("first_author") == 1.0 or reordered
    same_people = first_ok and fields.get("authors", 0.0) >= th.author_overlap
    contained = bool(title is not None and _title_contained(a, b))
    if same_id:
        label = "same DOI" if fields.get("doi") else "same PMID"
        # Meeting abstracts printed in a journal supplement often carry the supplement's DOI and
        # start on the same page ("Diabetes 63 Suppl 1: A295"): a shared DOI is evidence only
        # where the titles or the authors agree too.
        disagree = _authors_disagree(a, b)
        if title is None or title >= 0.9:
            if disagree and (title is None or title < 1.0):
                # "... in adults" / "... in children": two abstracts of one supplement.
                return result(
                    PairDecision.REVIEW, label, "title not identical; no author in common"
                )
            return result(PairDecision.MERGE, label)
        article = _multi_page(a, b) and not (a.is_conference or b.is_conference)
        if (located and article and (same_people or "authors" not in fields)) or (
            same_people and fields.get("year") == 1.0 and contained
        ):
            # Translated or truncated title of one record; identifier, location (a full
            # article's page range) and authors agree.
            return result(PairDecision.MERGE, label, "same location or authors; title differs")
        if disagree and title < th.review_title and label == "same DOI":
            return result(
                PairDecision.DISTINCT,
                f"titles differ ({title:.2f}) and no author in common; a supplement's DOI",
            )
        return result(PairDecision.REVIEW, "same identifier but titles differ")

    if title is None:
        if located and fields.get("first_author") == 1.0:
            return result(PairDecision.REVIEW, "title missing; volume, pages, year, author agree")
        return result(PairDecision.DISTINCT, "title missing and details do not all agree")

    if (fields.get("doi") == 0.0 or fields.get("volume") == 0.0) and _republished(a, b):
        return result(PairDecision.MERGE, "same title, authors, journal and abstract; reprint")
    if (
        a.is_thesis
        and b.is_thesis
        and title >= th.merge_title
        and len(a.title.split()) >= th.short_title_words
        and fields.get("authors") == 1.0
        and fields.get("first_author") == 1.0
        and fields.get("journal") != 0.0
    ):
        # The thesis and its Dissertation Abstracts listing, usually a year later. Not merged
        # automatically: the labelled sets call one such pair a duplicate and another not.
        return result(PairDecision.REVIEW, "same title and author; thesis and its listing")
    if located and (title >= th.merge_title or a.core_title == b.core_title):
        # Two different papers cannot share title, volume, first page and year; author lists
        # that disagree here are export errors (name order, compound names).
        return result(PairDecision.MERGE, "same title, volume, first page and year")
    if located and same_people and _multi_page(a, b) and not (a.is_conference or b.is_conference):
        # Single-page items are excluded: one supplement page holds several abstracts by one group.
        if title >= 0.75 or contained:
            # Same place, same authors; the title lost a tail or gained a section heading.
            return result(PairDecision.MERGE, "same authors, volume, first page and year")
        if title >= 0.5:
            # Typically the English and the original-language title of one article.
            return result(PairDecision.MERGE, "same authors and location; title translated")

    if same_people and (_same_place(a, b) or _same_range(a, b)):
        if title >= th.merge_title:
            # Journal names translated or abbreviated beyond recognition, or one database calls
            # the journal supplement a conference: the place and the people decide.
            return result(
                PairDecision.MERGE, "same title, authors and place; venue named differently"
            )
        if _same_range(a, b) and (title >= 0.75 or contained or _title_prefix(a, b)):
            return result(PairDecision.MERGE, "same authors, page range and year; title differs")
    if (
        same_people
        and _same_end(a, b)
        and fields.get("journal") != 0.0
        and (title >= th.merge_title or contained or _title_prefix(a, b))
    ):
        # "2141-2147" vs "2142-2147": a typo in the first page; the article ends on the same page
        # of the same volume and year, which no other article does.
        return result(PairDecision.MERGE, "same authors, volume, last page and year")

    if title < th.review_title:
        if located and fields.get("first_author") == 1.0:
            return result(PairDecision.REVIEW, "titles differ but every other detail agrees")
        return result(PairDecision.DISTINCT, f"titles differ ({title:.2f})")

    soft = _soft_conflicts(a, b, fields)
    if reordered:
        soft.remove("different first author")
    if "conference vs journal" in soft and _abstract_in_journal(a, b, fields):
        soft.remove("conference vs journal")
    support = _support(fields, th)
    short = min(len(a.title.split()), len(b.title.split())) < th.short_title_words
    long_title = min(len(a.title.split()), len(b.title.split())) >= _LONG_TITLE_WORDS
    no_place_conflict = fields.get("volume") != 0.0 and fields.get("pages") != 0.0

    if (
        set(soft) == {"different pages"}
        and a.title == b.title
        and len(a.title.split()) >= _SAME_ISSUE_TITLE_WORDS
        and len(a.authors) >= 2
        and a.authors == b.authors
        and fields.get("year") == 1.0
        and fields.get("journal") == 1.0
        and fields.get("volume") == 1.0
        and a.issue
        and a.issue == b.issue
        and _abstract_pages(a)
        and _abstract_pages(b)
    ):
        # One meeting abstract in a journal supplement, located on different e-pages by two
        # databases: the same long title and author list cannot be two items of one issue.
        return result(PairDecision.MERGE, "same title, authors and issue; abstract pages differ")
    if (
        not soft
        and long_title
        and _heading_dropped(a, b)
        and same_people
        and fields.get("year") == 1.0
        and fields.get("journal") == 1.0
    ):
        # "How did it ... Upwork's CEO on ..." vs "Upwork's CEO on ...": a magazine section
        # heading glued to the title by one database.
        return result(PairDecision.MERGE, "same title under a section heading; same authors")
    if (
        title >= th.merge_title
        and set(soft) <= {"different year"}
        and fields.get("year") == 0.0
        and same_people
        and fields.get("journal") == 1.0
        and fields.get("volume") == 1.0
        and fields.get("pages") != 0.0
    ):
        return result(
            PairDecision.MERGE, "same title, authors, journal and volume; year off by one"
        )
    if (
        title >= _CONFERENCE_YEAR_TITLE
        and a.is_conference
        and b.is_conference
        and long_title
        and fields.get("authors") == 1.0
        and first_ok
        and no_place_conflict
        and set(soft) <= {"different year"}
    ):
        # Proceedings are indexed under the conference year by one database and the publication
        # year by another.
        return result(
            PairDecision.MERGE, "same title and authors; both proceedings, year off by one"
        )
    if (
        title == 1.0
        and long_title
        and fields.get("year") == 1.0
        and no_place_conflict
        and (fields.get("journal") == 1.0 or (a.is_conference and b.is_conference))
        and _names_swapped(a, b)
        and set(soft) <= {"different first author", "few authors in common"}
    ):
        return result(
            PairDecision.MERGE, "same title, year and venue; given and family names swapped"
        )

    if title >= th.merge_title and not soft:
        year_ok = fields.get("year") == 1.0 or (
            "year" not in fields and fields.get("volume") == 1.0
        )
        if year_ok and (first_ok or "first_author" not in fields):
            if short and not (fields.get("pages") == 1.0 and fields.get("volume") == 1.0):
                return result(PairDecision.REVIEW, "short title needs volume and pages")
            if len(support) >= 2:
                return result(PairDecision.MERGE, "same title", *support)
            if a.is_conference and b.is_conference and same_people and year_ok:
                # Proceedings names vary too much between databases to count as evidence.
                return result(PairDecision.MERGE, "same title, authors and year; both proceedings")
        if (
            fields.get("year") == 0.0
            and fields.get("volume") == 1.0
            and fields.get("pages") == 1.0
            and fields.get("first_author") == 1.0
        ):
            return result(PairDecision.MERGE, "same title, volume and pages; year off by one")
    if (
        title >= th.merge_title_strict
        and not soft
        and not short
        and fields.get("year") == 1.0
        and fields.get("first_author") == 1.0
        and fields.get("volume") == 1.0
        and fields.get("pages") == 1.0
    ):
        return result(PairDecision.MERGE, "near-identical title", *support)

    reasons = [f"title {title:.2f}", *support, *soft]
    if title >= 0.85 or (support and fields.get("year", 1.0) == 1.0):
        return result(PairDecision.REVIEW, *reasons)
    return result(PairDecision.DISTINCT, *reasons)


_LONG_TITLE_WORDS = 6
"""Titles this long are specific enough to merge on title, authors and venue alone."""

_CONFERENCE_YEAR_TITLE = 0.98


def _title_prefix(a: PreparedRecord, b: PreparedRecord) -> bool:
    """One title is the other's main title without its subtitle ("Infrastructure in the wild")."""
    short, long_ = sorted((a.title, b.title), key=len)
    return len(short.split()) >= 3 and long_.startswith(short + " ")


_SAME_ISSUE_TITLE_WORDS = 8


def _abstract_pages(rec: PreparedRecord) -> bool:
    """One or two electronic pages, as a meeting abstract takes ("e3", "e8-e9").

    Print supplement pages ("S108" vs "S109") are not enough: one page holds several abstracts.
    """
    first, last = rec.pages
    if not (first[:1] == "e" and first[1:].isdigit()):
        return False
    if not last or last == first:
        return True
    return last[:1] == "e" and last[1:].isdigit() and 0 <= int(last[1:]) - int(first[1:]) <= 1


def _heading_dropped(a: PreparedRecord, b: PreparedRecord) -> bool:
    """One title is the other preceded by a section heading cut off by an ellipsis."""
    for x, y in ((a, b), (b, a)):
        if x.headed and not y.headed and x.title_squashed.endswith(y.title_squashed):
            return len(y.title.split()) >= _LONG_TITLE_WORDS
    return False


def _names_swapped(a: PreparedRecord, b: PreparedRecord) -> bool:
    """The first author's family name appears among the other record's name words.

    Some exports put the given name in the family field ("Andrea, C." for "Carignani, Andrea";
    "Xiaoguang, Wang" for "Wang, X.").
    """
    if not a.authors or not b.authors:
        return False
    return (len(a.authors[0]) >= 3 and a.authors[0] in name_words(b.author_names)) or (
        len(b.authors[0]) >= 3 and b.authors[0] in name_words(a.author_names)
    )


def _abstract_in_journal(a: PreparedRecord, b: PreparedRecord, fields: dict[str, float]) -> bool:
    """A conference abstract listed once under the meeting and once under the journal supplement.

    The journal record must itself look like an abstract (same place as the other, one page, a
    whole-supplement range or no pages): a full article with its own page range is the classic
    conference-abstract-vs-article trap and stays apart.
    """
    if fields.get("journal") != 1.0:
        return False
    if fields.get("pages") == 1.0:
        return True
    journal_rec = b if a.is_conference else a
    first, last = journal_rec.pages
    if not first:
        return True
    if not last or last == first:
        return True
    return first.isdigit() and last.isdigit() and int(last) - int(first) > 50


def _page_relation(a: PreparedRecord, b: PreparedRecord) -> bool | None:
    """Whether two records start on the same page: ``True``, ``False`` or ``None`` (cannot tell).

    Besides equal first pages, several export quirks count as "cannot tell" rather than a
    conflict: one database gives only the last page ("569" vs "567-569"), a typo in the first page
    of an otherwise equal range ("2141-2147" vs "2142-2147"), and a print page against an
    electronic locator ("1014" vs "c1804").
    """
    (af, al), (bf, bl) = a.pages, b.pages
    match = _pages_match(af, bf)
    if match is not False:
        return match
    if a.page_starts & ({bf} | b.page_starts) or b.page_starts & {af}:
        return True  # one of several ranges ("233-238+230-235+246-251")
    if (not al and af == bl) or (not bl and bf == al):
        return None
    if (
        al
        and al == bl
        and len(af) == len(bf)
        and sum(x != y for x, y in zip(af, bf, strict=True)) == 1
    ):
        return None
    if _is_e_locator(af) != _is_e_locator(bf) and (af.isdigit() or bf.isdigit()):
        return None
    return False


def _is_e_locator(page: str) -> bool:
    return len(page) >= 5 and page[0] in "abce" and page[1:].isdigit()


def _pages_match(x: str, y: str) -> bool | None:
    if not x or not y:
        return None
    if x == y:
        return True
    # Supplement prefixes: "viii108" (Annals of Oncology), "p63" (poster) vs "108", "63".
    xs, ys = _PAGE_PREFIX_RE.sub("", x), _PAGE_PREFIX_RE.sub("", y)
    if (xs != x or ys != y) and xs == ys and xs.isdigit():
        return True
    # Online journals: one database gives the article number (e12724), another "1-6".
    if {x, y} & {"1"} and (_is_locator(x) or _is_locator(y)):
        return None
    short, long_ = sorted((x, y), key=len)
    # "S417" / "c37" vs "417" / "37": section letter dropped by one database.
    return len(long_) == len(short) + 1 and long_[0].isalpha() and long_[1:] == short


_PAGE_PREFIX_RE = re.compile(r"^(?:[ivx]{1,5}|p|s)(?=\d)")


def _is_locator(page: str) -> bool:
    return len(page) >= 4 and (page[0].isalpha() or len(page) >= 5)


def _journal_match(a: PreparedRecord, b: PreparedRecord) -> bool | None:
    return journals_match(a.journal, b.journal)


def _all_details_match(fields: dict[str, float]) -> bool:
    return all(fields.get(k) == 1.0 for k in ("year", "volume", "pages"))


def _support(fields: dict[str, float], th: Thresholds) -> list[str]:
    support = []
    if fields.get("authors", 0.0) >= th.author_overlap:
        support.append("authors")
    for name in ("journal", "volume", "pages"):
        if fields.get(name) == 1.0:
            support.append(name)
    return support


def _soft_conflicts(a: PreparedRecord, b: PreparedRecord, fields: dict[str, float]) -> list[str]:
    soft = []
    for name in ("volume", "pages", "first_author"):
        if fields.get(name) == 0.0:
            soft.append(f"different {name.replace('_', ' ')}")
    if fields.get("authors", 1.0) < 0.34:
        soft.append("few authors in common")
    if a.is_conference != b.is_conference:
        soft.append("conference vs journal")
    if fields.get("year") == 0.0 and fields.get("volume") != 1.0:
        soft.append("different year")
    return soft


_WEIGHTS = {"title": 0.5, "authors": 0.15, "year": 0.05, "journal": 0.05, "volume": 0.05,
            "pages": 0.1, "doi": 0.1}  # fmt: skip


def _overall(fields: dict[str, float]) -> float:
    total = 0.0
    weighted = 0.0
    for name, value in fields.items():
        w = _WEIGHTS.get(name)
        if w is not None:
            total += w
            weighted += w * value
    return round(weighted / total, 4) if total else 0.0
