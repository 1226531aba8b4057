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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import fuzz, process

from reviewtool.dedup.clusters import DuplicateGroup, UnionFind, choose_primary
from reviewtool.dedup.keys import PreparedRecord, prepare
from reviewtool.dedup.similarity import (
    PairDecision,
    PairScore,
    Thresholds,
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
    )


def _prepare_all(records: Sequence[DedupInput]) -> list[PreparedRecord]:
    """Prepare every record, computing the keys once per distinct set of field values.

    Exports repeat records verbatim across databases; those copies differ only in ``id``.
    """
    cache: dict[tuple[object, ...], PreparedRecord] = {}
    out: list[PreparedRecord] = []
    for r in records:
        key = (r.title, r.authors, r.year, r.journal, r.volume, r.issue, r.pages, r.doi, r.pmid,
               r.abstract, r.publication_type, r.booktitle, bool(r.isbn))  # fmt: skip
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _prepare(r)
            out.append(hit)
        else:
            out.append(replace(hit, id=r.id))
    return out


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


def candidate_pairs(prepared: Sequence[PreparedRecord]) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, that share at least one block."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, rec in enumerate(prepared):
        for key in blocking_keys(rec):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        n = len(members)
        if n < 2:
            continue
        if n <= _BLOCK_LIMIT:
            for x in range(n):
                mx = members[x]
                for y in range(x + 1, n):
                    pairs.add((mx, members[y]))
            continue
        pairs.update(_similar_titles(prepared, members))
    return pairs


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
    records: Sequence[DedupInput], *, thresholds: Thresholds | None = None
) -> DedupResult:
    """Score candidate pairs among ``records`` and merge the certain duplicates.

    The result does not depend on the order of ``records`` (records are processed in id order and
    ties are broken by id). Ids must be unique.
    """
    ordered = sorted(records, key=lambda r: r.id)
    ids = [r.id for r in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("record ids must be unique")
    prepared = _prepare_all(ordered)
    by_id = {p.id: p for p in prepared}
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

    pairs = sorted(candidate_pairs(representatives))
    titles = _bulk_title_similarity(representatives, pairs)
    reps = representatives
    scored = [
        score_pair(reps[i], reps[j], thresholds, title_similarity=t)
        for (i, j), t in zip(pairs, titles, strict=True)
    ]

    merges = sorted(
        (p for p in scored if p.decision is PairDecision.MERGE), key=lambda p: (-p.score, p.a, p.b)
    )
    for pair in merges:
        if uf.find(pair.a) == uf.find(pair.b):
            final.append(pair)
            continue
        blocker = _group_conflict(uf.members(pair.a), uf.members(pair.b), by_id)
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
    reps: Sequence[PreparedRecord], pairs: Sequence[tuple[int, int]]
) -> list[float | None]:
    """``similarity.title_similarity_of`` for every pair, computed in C by ``process.cpdist``.

    The per-pair Python call to rapidfuzz is the largest fixed cost of scoring; ``cpdist`` computes
    the element-wise scores of two aligned lists in one call. Results are identical (float64).
    """
    if not pairs:
        return []
    left = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
    right = np.fromiter((j for _, j in pairs), dtype=np.int64, count=len(pairs))
    squashed = np.array([r.title_squashed for r in reps], dtype=object)
    words = np.array([r.title for r in reps], dtype=object)
    out: list[float | None] = []
    chunk = 200_000  # bounds the temporary arrays
    for start in range(0, len(pairs), chunk):
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
        for k, (i, j) in enumerate(zip(li.tolist(), ri.tolist(), strict=True)):
            ta, tb = reps[i].title, reps[j].title
            if not ta or not tb:
                out.append(None)
            elif ta == tb:
                out.append(1.0)
            else:
                out.append(float(best[k]))
    return out


def _exact_key(rec: PreparedRecord) -> tuple[object, ...] | None:
    """Every compared field, or ``None`` when too little is known to call two records identical."""
    if len(rec.title.split()) < 3 or not rec.year or not (rec.authors or rec.journal):
        return None
    return (rec.title, rec.authors, rec.year, rec.journal, rec.volume, rec.issue, rec.pages,
            rec.doi, rec.pmid, rec.is_conference, rec.kinds)  # fmt: skip


def _group_conflict(
    left: Sequence[str], right: Sequence[str], by_id: dict[str, PreparedRecord]
) -> str | None:
    for x in left:
        for y in right:
            reason = hard_conflict(by_id[x], by_id[y])
            if reason:
                return f"{x} / {y}: {reason}"
    return None
