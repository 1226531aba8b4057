"""Agreement between two screeners: percent agreement, Cohen's kappa, PABAK and Gwet's AC1.

Pure functions over counts: no database, no I/O. The screening service collects each reviewer's
current decision per record and stage and hands the pairs to :func:`screening_agreement` or, for a
whole team, :func:`pairwise_screening_agreement`.

Conventions
-----------
*"Maybe" counts as include.* A screening decision is ``include``, ``exclude`` or ``maybe``. For
agreement the three collapse to two categories, ``maybe`` joining ``include``, because that is how
Covidence counts it and because both send the record on to the next stage: reviewers who answered
``include`` and ``maybe`` agree that the record should not be excluded yet. The mapping is the
data in :data:`SCREENING_CATEGORY`.

The statistics themselves (Cohen's kappa, PABAK, AC1, their standard errors and sources) are in
:mod:`reviewtool.agreement`, shared with the other stages; this module adds the screening
conventions and re-exports them.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any, TypeVar

from reviewtool.agreement import (
    DEFAULT_CONFIDENCE,
    Agreement,
    agreement_from_pairs,
    agreement_from_table,
)
from reviewtool.errors import InvalidInput

__all__ = [
    "DEFAULT_CONFIDENCE",
    "SCREENING_CATEGORIES",
    "SCREENING_CATEGORY",
    "Agreement",
    "PairAgreement",
    "agreement_from_pairs",
    "agreement_from_table",
    "pairwise_screening_agreement",
    "screening_agreement",
    "screening_category",
]

INCLUDE = "include"
EXCLUDE = "exclude"
MAYBE = "maybe"

SCREENING_CATEGORIES: tuple[str, ...] = (INCLUDE, EXCLUDE)
"""The two categories screening agreement is computed over, in table order."""

SCREENING_CATEGORY: Mapping[str, str] = {INCLUDE: INCLUDE, MAYBE: INCLUDE, EXCLUDE: EXCLUDE}
"""Screening decision -> agreement category. ``maybe`` counts as ``include`` (as in Covidence)."""

_Item = TypeVar("_Item", bound=Hashable)


@dataclass(frozen=True)
class PairAgreement:
    """The agreement of one reviewer pair over the items both decided.

    ``reviewer_a`` sorts before ``reviewer_b``; the table's rows are ``reviewer_a``'s decisions.
    """

    reviewer_a: str
    reviewer_b: str
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        """``{"reviewer_a", "reviewer_b"}`` plus every key of :meth:`Agreement.to_dict`."""
        return {
            "reviewer_a": self.reviewer_a,
            "reviewer_b": self.reviewer_b,
            **self.agreement.to_dict(),
        }


def screening_category(decision: str) -> str:
    """Map a screening decision to its agreement category (``maybe`` -> ``include``).

    Raises :class:`InvalidInput` naming the value when it is not include, exclude or maybe.
    """
    try:
        return SCREENING_CATEGORY[decision]
    except (KeyError, TypeError):
        raise InvalidInput(
            f"unknown screening decision {decision!r}; expected one of include, exclude, maybe"
        ) from None


def screening_agreement(
    pairs: Iterable[tuple[str, str]], *, confidence: float = DEFAULT_CONFIDENCE
) -> Agreement:
    """Agreement of two screeners from their paired decisions on the same records.

    Each pair is ``(decision_a, decision_b)`` with decisions ``include``, ``exclude`` or ``maybe``;
    ``maybe`` counts as ``include``. The categories are always ``("include", "exclude")``, even if
    only one was used, so PABAK and AC1 are computed over two categories.
    """
    collapsed = [(screening_category(a), screening_category(b)) for a, b in pairs]
    return agreement_from_pairs(collapsed, categories=SCREENING_CATEGORIES, confidence=confidence)


def pairwise_screening_agreement(
    decisions: Mapping[tuple[str, _Item], str], *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[PairAgreement, ...]:
    """Agreement of every reviewer pair, each over the records both reviewers decided.

    ``decisions`` maps ``(reviewer, item)`` to that reviewer's current decision on the item. Pairs
    are ordered by reviewer name. A pair that shares no item has no agreement to report and is
    left out rather than reported with ``n = 0``.
    """
    by_reviewer: dict[str, dict[_Item, str]] = {}
    for (reviewer, item), decision in decisions.items():
        # Validate every decision, including those of reviewers with no partner on that item,
        # so a bad label is reported whichever pairs happen to overlap.
        by_reviewer.setdefault(reviewer, {})[item] = screening_category(decision)
    result: list[PairAgreement] = []
    for a, b in combinations(sorted(by_reviewer), 2):
        da, db = by_reviewer[a], by_reviewer[b]
        shared = da.keys() & db.keys()
        if not shared:
            continue
        pairs = [(da[item], db[item]) for item in shared]
        agreement = agreement_from_pairs(
            pairs, categories=SCREENING_CATEGORIES, confidence=confidence
        )
        result.append(PairAgreement(a, b, agreement))
    return tuple(result)
