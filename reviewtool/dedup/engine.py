"""Find duplicate records: blocking, pair scoring and conflict-aware clustering.

``find_duplicates`` is pure: it takes plain records and returns decisions; storing them, asking a
person about the review queue and auditing merges belong to ``dedup.service``.

Pipeline:

1. **prepare** every record once (normalised title, family names, DOI, pages, ...; see ``keys``);
2. **block**: records share a block when they share a DOI, a PMID, the first or last 24 letters of
   the title, first author + year, volume + first page, or year + first page; only pairs inside a
   block are compared, so the cost grows with the number of records, not its square. Oversized
   blocks are filtered with ``rapidfuzz.process.cdist`` on titles before pairs are formed;
3. **score** each candidate pair (``similarity.score_pair``): merge / distinct / review;
4. **cluster** the merge pairs strongest first with union-find, refusing any union that would put two
   records with a hard conflict (different DOI, erratum vs article, ...) in one group; a refused
   merge goes to the review queue instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from rapidfuzz import fuzz, process

from reviewtool.dedup.clusters import DuplicateGroup, UnionFind, choose_primary
from reviewtool.dedup.keys import PreparedRecord, prepare
from reviewtool.dedup.similarity import (
    PairDecision,
    PairScore,
    Thresholds,
    conflict_score,
    hard_conflict,
    score_pair,
)

__all__ = ["DedupInput", "DedupResult", "find_duplicates"]

_BLOCK_LIMIT = 40
"""Blocks larger than this are filtered on title similarity before pairs are formed."""
_LARGE_BLOCK_TITLE = 70.0
"""Minimum title similarity (0-100) for a pair drawn from an oversized block."""
_PREFIX = 24


@dataclass(frozen=True, slots=True)
class DedupInput:
    """One record as the deduplicator sees it; every field but ``id`` may be missing."""

    id: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | str | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    abstract: str | None = None
    publication_type: str | None = None
    booktitle: str | None = None
    isbn: str | None = None
    article_number: str | None = None
    """An online article's number, which stands for its pages when it has none."""


@dataclass(frozen=True)
class DedupResult:
    """Decisions for every candidate pair and the groups the automatic merges produce.

    ``duplicate_of`` satisfies the invariant of ``clusters.check_invariant``: each record maps to
    its group's primary, or to ``None`` when it is a primary or stands alone.
    """

    pairs: tuple[PairScore, ...]
    groups: tuple[DuplicateGroup, ...]
    duplicate_of: dict[str, str | None] = field(hash=False)

    def group_of(self, record_id: str) -> str:
        """The group id (the primary's id) of a record."""
        return self.duplicate_of[record_id] or record_id

    @property
    def review_queue(self) -> list[PairScore]:
        """Uncertain pairs whose records are not already in one group, strongest first."""
        queue = [
            p
            for p in self.pairs
            if p.decision is PairDecision.REVIEW and self.group_of(p.a) != self.group_of(p.b)
        ]
        return sorted(queue, key=lambda p: (-p.score, p.a, p.b))

    @property
    def merges(self) -> list[PairScore]:
        """Pairs merged automatically."""
        return [p for p in self.pairs if p.decision is PairDecision.MERGE]


def _prepare(record: DedupInput) -> PreparedRecord:
    return prepare(
        id=record.id,
        title=record.title,
        authors=record.authors,
        year=record.year,
        journal=record.journal,
        volume=record.volume,
        issue=record.issue,
        pages=record.pages,
        doi=record.doi,
        pmid=record.pmid,
        abstract=record.abstract,
        publication_type=record.publication_type,
        booktitle=record.booktitle,
        isbn=record.isbn,
        article_number=record.article_number,
    )


def _prepare_all(records: Sequence[DedupInput]) -> list[PreparedRecord]:
    """Prepare every record, computing the keys once per distinct set of field values.

    Exports repeat records verbatim across databases; those copies differ only in ``id``.
    """
    cache: dict[tuple[object, ...], tuple[object, ...]] = {}
    out: list[PreparedRecord] = []
    for r in records:
        key = (r.title, r.authors, r.year, r.journal, r.volume, r.issue, r.pages, r.doi, r.pmid,
               r.abstract, r.publication_type, r.booktitle, bool(r.isbn),
               r.article_number)  # fmt: skip
        rest = cache.get(key)
        if rest is None:
            rec = _prepare(r)
            cache[key] = tuple(getattr(rec, name) for name in _AFTER_ID)
            out.append(rec)
        else:
            out.append(PreparedRecord(r.id, *rest))  # type: ignore[arg-type]
    return out


_AFTER_ID = tuple(f.name for f in fields(PreparedRecord))[1:]
"""``PreparedRecord`` fields after ``id``, in constructor order (copies differ only in id)."""


def blocking_keys(rec: PreparedRecord) -> list[str]:
    """The blocks a record belongs to; two records are compared only if they share one."""
    keys = []
    if rec.doi:
        keys.append("d:" + rec.doi)
    if rec.pmid:
        keys.append("p:" + rec.pmid)
    squashed = rec.title_squashed
    if len(squashed) >= 12:
        keys.append("t:" + squashed[:_PREFIX])
        keys.append("e:" + squashed[-_PREFIX:])
    first = rec.authors[0] if rec.authors else ""
    if first and rec.year:
        keys.append(f"a:{first}:{rec.year}")
    if rec.volume and rec.pages[0]:
        keys.append(f"v:{rec.volume}:{rec.pages[0]}")
    if rec.year and rec.pages[0]:
        keys.append(f"y:{rec.year}:{rec.pages[0]}")
    return keys


def candidate_pairs(prepared: Sequence[PreparedRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, that share at least one block, sorted, no repeats.

    Blocks of one size are stacked into a matrix and expanded with one ``triu_indices`` lookup,
    so the work in Python is per block, not per pair.
    """
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(prepared):
        for key in blocking_keys(rec):
            blocks[key].append(i)
    by_size: dict[int, list[list[int]]] = defaultdict(list)
    parts: list[np.ndarray] = []
    n_records = max(len(prepared), 1)
    for members in blocks.values():
        n = len(members)
        if n < 2:
            continue
        if n <= _BLOCK_LIMIT:
            by_size[n].append(members)
            continue
        found = list(_similar_titles(prepared, members))
        if found:
            arr = np.array(found, dtype=np.int64)
            parts.append(arr[:, 0] * n_records + arr[:, 1])
    for n, groups in by_size.items():
        matrix = np.array(groups, dtype=np.int64)  # members are in increasing index order
        x, y = np.triu_indices(n, k=1)
        parts.append((matrix[:, x] * n_records + matrix[:, y]).ravel())
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes = np.unique(np.concatenate(parts))
    return codes // n_records, codes % n_records


def _similar_titles(
    prepared: Sequence[PreparedRecord], members: list[int]
) -> Iterable[tuple[int, int]]:
    titles = [prepared[i].title for i in members]
    chunk = 2000  # bounds the score matrix to chunk x len(members) float32 values
    for start in range(0, len(members), chunk):
        scores = process.cdist(
            titles[start : start + chunk],
            titles,
            scorer=fuzz.ratio,
            score_cutoff=_LARGE_BLOCK_TITLE,
            dtype=np.uint8,
            workers=1,
        )
        rows, cols = np.nonzero(scores)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i, j = members[start + r], members[c]
            if i < j:
                yield (i, j)


def find_duplicates(
    records: Sequence[DedupInput],
    *,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DedupResult:
    """Score candidate pairs among ``records`` and merge the certain duplicates.

    The result does not depend on the order of ``records`` (records are processed in id order and
    ties are broken by id). Ids must be unique. ``progress(done, total)`` is called as the
    candidate pairs are scored (every 1,000 pairs and once at the end).
    """
    ordered = sorted(records, key=lambda r: r.id)
    ids = [r.id for r in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("record ids must be unique")
    prepared = _prepare_all(ordered)
    by_id = {p.id: p for p in prepared}
    signature = _signatures(prepared)
    uf = UnionFind(ids)
    final: list[PairScore] = []

    # Records identical in every comparison key are merged up front and only their first (smallest
    # id) copy takes part in blocking: real exports repeat records verbatim across databases, and
    # this keeps the number of scored pairs close to the number of distinct variants.
    representatives: list[PreparedRecord] = []
    first_of: dict[tuple[object, ...], PreparedRecord] = {}
    for rec in prepared:
        key = _exact_key(rec)
        rep = first_of.get(key) if key is not None else None
        if rep is None:
            if key is not None:
                first_of[key] = rec
            representatives.append(rec)
            continue
        uf.union(rep.id, rec.id)
        final.append(
            PairScore(
                rep.id, rec.id, 1.0, PairDecision.MERGE, ("identical after normalisation",), {}
            )
        )

    reps = representatives
    left, right = candidate_pairs(reps)
    titles = _bulk_title_similarity(reps, left, right).tolist()
    fast = _fast_conflicts(reps, left, right).tolist()
    scored: list[PairScore] = []
    add = scored.append
    total = len(titles)
    for n, (i, j, t, code) in enumerate(
        zip(left.tolist(), right.tolist(), titles, fast, strict=True)
    ):
        if progress is not None and n % 1000 == 0:
            progress(n, total)
        title = None if t != t else t  # NaN: a title is missing
        if code:
            add(conflict_score(reps[i], reps[j], title, _FAST_REASONS[code]))
        else:
            add(score_pair(reps[i], reps[j], thresholds, title_similarity=title))

    if progress is not None:
        progress(total, total)
    merges = sorted(
        (p for p in scored if p.decision is PairDecision.MERGE), key=lambda p: (-p.score, p.a, p.b)
    )
    for pair in merges:
        if uf.find(pair.a) == uf.find(pair.b):
            final.append(pair)
            continue
        blocker = _group_conflict(uf.members(pair.a), uf.members(pair.b), by_id, signature)
        if blocker:
            final.append(
                PairScore(
                    pair.a,
                    pair.b,
                    pair.score,
                    PairDecision.REVIEW,
                    (*pair.reasons, f"merge would join conflicting records: {blocker}"),
                    pair.fields,
                )
            )
            continue
        uf.union(pair.a, pair.b)
        final.append(pair)
    final.extend(p for p in scored if p.decision is not PairDecision.MERGE)
    final.sort(key=lambda p: (p.a, p.b))

    completeness = {p.id: p.completeness for p in prepared}
    groups: list[DuplicateGroup] = []
    duplicate_of: dict[str, str | None] = dict.fromkeys(ids)
    seen: set[str] = set()
    for rid in ids:
        root = uf.find(rid)
        if root in seen:
            continue
        seen.add(root)
        members = sorted(uf.members(rid))
        if len(members) < 2:
            continue
        primary = choose_primary(members, completeness)
        groups.append(DuplicateGroup(primary=primary, members=tuple(members)))
        for m in members:
            duplicate_of[m] = None if m == primary else primary
    groups.sort(key=lambda g: g.primary)
    return DedupResult(pairs=tuple(final), groups=tuple(groups), duplicate_of=duplicate_of)


def _bulk_title_similarity(
    reps: Sequence[PreparedRecord], left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """``similarity.title_similarity_of`` for every pair (NaN where it is ``None``), in C.

    The per-pair Python call to rapidfuzz is the largest fixed cost of scoring; ``cpdist`` computes
    the element-wise scores of two aligned lists in one call. Results are identical (float64).
    """
    out = np.full(len(left), np.nan, dtype=np.float64)
    if not len(left):
        return out
    squashed = np.array([r.title_squashed for r in reps], dtype=object)
    words = np.array([r.title for r in reps], dtype=object)
    code = _codes([r.title for r in reps])
    chunk = 200_000  # bounds the temporary arrays
    for start in range(0, len(left), chunk):
        li, ri = left[start : start + chunk], right[start : start + chunk]
        ratio = process.cpdist(
            squashed[li].tolist(), squashed[ri].tolist(), scorer=fuzz.ratio,
            dtype=np.float64, workers=1,
        )  # fmt: skip
        sort = process.cpdist(
            words[li].tolist(), words[ri].tolist(), scorer=fuzz.token_sort_ratio,
            dtype=np.float64, workers=1,
        )  # fmt: skip
        best = np.maximum(ratio, sort) / 100.0
        ca, cb = code[li], code[ri]
        best[ca == cb] = 1.0
        best[(ca == 0) | (cb == 0)] = np.nan
        out[start : start + chunk] = best
    return out


def _codes(values: Iterable[object]) -> np.ndarray:
    """An integer per distinct value (0 for empty ones), so equality can be tested in numpy."""
    table: dict[object, int] = {}
    return np.fromiter(
        (table.setdefault(v, len(table) + 1) if v else 0 for v in values), dtype=np.int64
    )


_FAST_REASONS = (
    "",
    "different DOI",
    "different PMID",
    "different numbers in title",
    "years differ by 2 or more",
)


def _fast_conflicts(
    reps: Sequence[PreparedRecord], left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """For each pair, the index in ``_FAST_REASONS`` of the hard conflict it certainly has.

    The same rules as ``similarity.hard_conflict``, in the same order, decided in numpy for the
    pairs whose outcome does not hinge on an exception to the rule (a reprint with the same
    abstract, an erratum at the same place, a number typo at the same place, a shared DOI or PMID
    or a conflicting one at the same year and volume, which may send the pair to review); those
    pairs, and all pairs without one of these conflicts (code 0), are scored one by one.
    """
    doi = _codes(r.doi for r in reps)
    pmid = _codes(r.pmid for r in reps)
    abstract = _codes(r.abstract_key for r in reps)
    kinds = _codes(r.kinds or None for r in reps)
    numbers = _codes(r.numbers or None for r in reps)
    volume = _codes(r.volume for r in reps)
    titled = np.fromiter((bool(r.title) for r in reps), dtype=bool, count=len(reps))
    year = np.fromiter((r.year or 0 for r in reps), dtype=np.int64, count=len(reps))

    def both_differ(code: np.ndarray) -> np.ndarray:
        x, y = code[left], code[right]
        return (x > 0) & (y > 0) & (x != y)

    def both_equal(code: np.ndarray) -> np.ndarray:
        x = code[left]
        return (x > 0) & (x == code[right])

    doi_conflict = both_differ(doi)
    ab_l, ab_r = abstract[left], abstract[right]
    maybe_reprint = doi_conflict & (ab_l > 0) & (ab_l == ab_r)
    pmid_conflict = both_differ(pmid) & ~doi_conflict
    # A shared identifier can send a conflicting pair to review (``_conflict_review``): scored
    # one by one, as are identifier conflicts at the same year and volume (a mistyped DOI?).
    shared_id = both_equal(doi) | both_equal(pmid)
    clear = ~doi_conflict & ~pmid_conflict & (kinds[left] == kinds[right]) & ~shared_id
    y_l, y_r = year[left], year[right]
    numbers_differ = titled[left] & titled[right] & (numbers[left] != numbers[right])
    v_l = volume[left]
    same_place_possible = (y_l > 0) & (y_l == y_r) & (v_l > 0) & (v_l == volume[right])
    out = np.zeros(len(left), dtype=np.int8)
    out[doi_conflict & ~maybe_reprint & ~same_place_possible & ~shared_id] = 1
    out[pmid_conflict & ~same_place_possible & ~shared_id] = 2
    out[clear & numbers_differ & ~same_place_possible] = 3
    out[clear & ~numbers_differ & (y_l > 0) & (y_r > 0) & (np.abs(y_l - y_r) >= 2)] = 4
    return out


def _exact_key(rec: PreparedRecord) -> tuple[object, ...] | None:
    """Every compared field, or ``None`` when too little is known to call two records identical."""
    if rec.title.count(" ") < 2 or not rec.year or not (rec.authors or rec.journal):
        return None
    return (rec.title, rec.authors, rec.year, rec.journal, rec.volume, rec.issue, rec.pages,
            rec.doi, rec.pmid, rec.is_conference, rec.kinds)  # fmt: skip


_CONFLICT_FIELDS = tuple(
    f.name for f in fields(PreparedRecord) if f.name not in ("id", "completeness", "author_names")
)
"""What ``hard_conflict`` can read: records equal on all of these conflict with the same others."""


def _signatures(prepared: Sequence[PreparedRecord]) -> dict[str, int]:
    """An integer per record, shared by records whose conflict-relevant fields are all equal."""
    table: dict[tuple[object, ...], int] = {}
    return {
        rec.id: table.setdefault(tuple(getattr(rec, f) for f in _CONFLICT_FIELDS), len(table))
        for rec in prepared
    }


def _group_conflict(
    left: Sequence[str],
    right: Sequence[str],
    by_id: dict[str, PreparedRecord],
    signature: dict[str, int],
) -> str | None:
    """The first hard conflict between a member of ``left`` and one of ``right``, if any.

    Members with the same signature as an earlier member are skipped: they conflict with exactly
    the same records, so the first conflict found is the one a full scan finds.
    """
    seen_left: set[int] = set()
    right_unique = []
    seen_right: set[int] = set()
    for y in right:
        sig = signature[y]
        if sig not in seen_right:
            seen_right.add(sig)
            right_unique.append(y)
    for x in left:
        sig = signature[x]
        if sig in seen_left:
            continue
        seen_left.add(sig)
        for y in right_unique:
            reason = hard_conflict(by_id[x], by_id[y])
            if reason:
                return f"{x} / {y}: {reason}"
    return None
