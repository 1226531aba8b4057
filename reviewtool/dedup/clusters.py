"""Duplicate groups as data: union-find with a canonical root and one invariant.

Every record carries ``duplicate_of``: ``None`` for a group's primary (its canonical root) and the
primary's id for every other member. The group id is derived, ``duplicate_of or id``
(``COALESCE(duplicate_of, id)`` in SQL), so no separate group table can drift out of step.

The invariant, enforced by :func:`check_invariant` and produced by :func:`normalize_duplicate_of`:

* **no chains**: a record points only at a record whose own ``duplicate_of`` is ``None``;
* **no cycles**: no record points at itself, directly or through others;
* every target exists.

Worked example. Merges arrive one pair at a time, so a naive store ends up with a chain::

    A -> None, B -> A, C -> B          # C points at B, which points at A: a chain

``normalize_duplicate_of`` flattens it so every member points straight at the root::

    A -> None, B -> A, C -> A          # group id of all three is A

and a cycle such as ``A -> B, B -> A`` is broken by making the smallest id the root
(``A -> None, B -> A``). Nothing is deleted, so undoing a merge is setting ``duplicate_of`` back to
``None`` for the members that leave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DuplicateGroup",
    "InvariantError",
    "UnionFind",
    "check_invariant",
    "groups_from_duplicate_of",
    "normalize_duplicate_of",
]


class InvariantError(ValueError):
    """A ``duplicate_of`` mapping has a chain, a cycle or a dangling target."""


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Records that are one publication; ``primary`` is the record kept for screening."""

    primary: str
    members: tuple[str, ...]
    """All record ids in the group, sorted, including the primary."""


class UnionFind:
    """Disjoint sets over string ids with path compression and a deterministic root.

    The root of a set is the member that ``prefer`` ranks first (by default the smallest id), so the
    outcome does not depend on the order in which unions happen.
    """

    def __init__(self, ids: Iterable[str], prefer: Callable[[str], object] | None = None) -> None:
        self._parent: dict[str, str] = {i: i for i in ids}
        self._members: dict[str, list[str]] = {}  # roots of sets with two or more members
        self._key: Callable[[str], object] = prefer or (lambda x: x)

    def find(self, x: str) -> str:
        """The root of ``x``'s set."""
        root = x
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[x] != root:  # path compression
            self._parent[x], x = root, self._parent[x]
        return root

    def members(self, x: str) -> list[str]:
        """Every id in ``x``'s set (the list is shared; do not modify it)."""
        root = self.find(x)
        return self._members.get(root) or [root]

    def union(self, x: str, y: str) -> str:
        """Join the sets of ``x`` and ``y`` and return the new root."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return rx
        kx, ky = self._key(rx), self._key(ry)
        root, child = (rx, ry) if (kx, rx) <= (ky, ry) else (ry, rx)
        self._parent[child] = root
        joined = self._members.get(root) or [root]
        joined.extend(self._members.pop(child, [child]))
        self._members[root] = joined
        return root

    def duplicate_of(self) -> dict[str, str | None]:
        """The invariant form: each id maps to its root, roots map to ``None``."""
        out: dict[str, str | None] = {}
        for x in self._parent:
            root = self.find(x)
            out[x] = None if root == x else root
        return out


def check_invariant(duplicate_of: Mapping[str, str | None]) -> None:
    """Raise :class:`InvariantError` unless every record points at a root or is one.

    >>> check_invariant({"A": None, "B": "A", "C": "A"})
    >>> check_invariant({"A": None, "B": "A", "C": "B"})
    Traceback (most recent call last):
    ...
    reviewtool.dedup.clusters.InvariantError: C points at B, which is itself a duplicate of A (chain)
    """
    for rid, target in duplicate_of.items():
        if target is None:
            continue
        if target == rid:
            raise InvariantError(f"{rid} points at itself (cycle)")
        if target not in duplicate_of:
            raise InvariantError(f"{rid} points at unknown record {target}")
        upstream = duplicate_of[target]
        if upstream is not None:
            raise InvariantError(
                f"{rid} points at {target}, which is itself a duplicate of {upstream} (chain)"
            )


def normalize_duplicate_of(duplicate_of: Mapping[str, str | None]) -> dict[str, str | None]:
    """Flatten chains and break cycles so the result satisfies :func:`check_invariant`.

    Roots are kept where the input has them; a cycle (which has no root) gets its smallest id as
    root. Dangling targets raise :class:`InvariantError` because guessing would merge records.

    >>> normalize_duplicate_of({"A": None, "B": "A", "C": "B"})
    {'A': None, 'B': 'A', 'C': 'A'}
    >>> normalize_duplicate_of({"A": "B", "B": "A"})
    {'A': None, 'B': 'A'}
    """
    for rid, target in duplicate_of.items():
        if target is not None and target not in duplicate_of:
            raise InvariantError(f"{rid} points at unknown record {target}")
    uf = UnionFind(duplicate_of)
    roots = {rid for rid, target in duplicate_of.items() if target is None}
    # Prefer existing roots so a stored group keeps its primary; among equals, the smallest id.
    uf._key = lambda x: (x not in roots, x)
    for rid, target in duplicate_of.items():
        if target is not None:
            uf.union(rid, target)
    return uf.duplicate_of()


def groups_from_duplicate_of(
    duplicate_of: Mapping[str, str | None], *, include_singletons: bool = False
) -> list[DuplicateGroup]:
    """Groups (sorted by primary) derived from a mapping that satisfies the invariant."""
    check_invariant(duplicate_of)
    members: dict[str, list[str]] = {}
    for rid, target in duplicate_of.items():
        members.setdefault(target or rid, []).append(rid)
    return [
        DuplicateGroup(primary=root, members=tuple(sorted(ids)))
        for root, ids in sorted(members.items())
        if include_singletons or len(ids) > 1
    ]


def choose_primary(ids: Sequence[str], completeness: Mapping[str, int]) -> str:
    """The most complete record of a group; ties go to the smallest id so the choice is stable."""
    return min(ids, key=lambda i: (-completeness.get(i, 0), i))
