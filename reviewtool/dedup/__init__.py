"""Deduplication: find records that report the same publication and group them.

The pure kernel lives in ``keys`` (normalisation), ``similarity`` (pair scoring), ``clusters``
(union-find and the ``duplicate_of`` invariant) and ``engine`` (``find_duplicates``). Names are
loaded lazily so importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewtool.dedup.engine import DedupInput, DedupResult, find_duplicates
    from reviewtool.dedup.similarity import PairDecision, PairScore, Thresholds

__all__ = [
    "DedupInput",
    "DedupResult",
    "PairDecision",
    "PairScore",
    "Thresholds",
    "find_duplicates",
]

_LAZY = {
    "DedupInput": "reviewtool.dedup.engine",
    "DedupResult": "reviewtool.dedup.engine",
    "find_duplicates": "reviewtool.dedup.engine",
    "PairDecision": "reviewtool.dedup.similarity",
    "PairScore": "reviewtool.dedup.similarity",
    "Thresholds": "reviewtool.dedup.similarity",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reviewtool.dedup' has no attribute {name!r}")
