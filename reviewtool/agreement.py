"""Agreement between two raters over nominal categories: percent agreement, Cohen's kappa, PABAK
and Gwet's AC1.

Pure functions over counts: no database, no I/O. Every stage that compares two people's labels uses
this one module (screening votes through ``screening/agreement.py``, risk-of-bias judgements per
domain in ``rob/service.py``), so it sits below the stages.

Conventions
-----------
*Table orientation.* ``table[i][j]`` counts items that reviewer A put in ``categories[i]`` and
reviewer B in ``categories[j]``. Every statistic here is symmetric in the two reviewers.

*Statistics* (``p_ij`` = ``table[i][j] / n``, ``r_i``/``c_j`` the row/column margins, ``q`` the
number of categories):

- observed agreement ``p_o = sum_i p_ii``; percent agreement is ``100 * p_o``.
- Cohen's kappa ``(p_o - p_e) / (1 - p_e)`` with ``p_e = sum_i r_i c_i`` (Cohen 1960). Its standard
  error is the large-sample (non-null) one of Fleiss, Cohen & Everitt (1969)::

      var = [ sum_ij p_ij (w_ij - (c_i + r_j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2 ]
            / (n (1 - p_e)^2),          w_ij = 1 if i == j else 0

  the formula behind the ``ASE`` of R ``vcd::Kappa`` and the standard error of
  ``statpsych::ci.kappa`` (which cites Fleiss, Levin & Paik 2003) and of ``irrCAC::kappa2.table``
  (written in Gwet's notation, algebraically the same). The tests pin it to the published
  statpsych and irrCAC outputs; vcd's was checked against its source only. It is not the
  standard error under ``kappa = 0`` that significance tests use. The interval is the Wald
  interval ``kappa +/- z * se`` with a normal quantile, clipped to ``[-1, 1]``.
  When ``p_e == 1`` (both reviewers put every item in one and the same category) kappa is 0/0:
  it is reported as ``None`` with a reason, not as 1 or NaN.
- PABAK, the prevalence- and bias-adjusted kappa (Byrt, Bishop & Carlin 1993), ``2 p_o - 1`` for two
  categories and ``(q p_o - 1) / (q - 1)`` in general (= Brennan & Prediger 1981).
- Gwet's AC1 ``(p_o - p_e*) / (1 - p_e*)`` with ``p_e* = sum_k pi_k (1 - pi_k) / (q - 1)`` and
  ``pi_k = (r_k + c_k) / 2`` (Gwet 2008), and its variance from Gwet (2008) / Handbook of
  Inter-Rater Reliability (2014), without finite-population correction, as R ``irrCAC``'s
  ``gwet.ac1.table`` computes it. ``p_e* <= 1/q``, so AC1 is defined whenever ``n > 0``. The
  interval is a normal Wald interval like kappa's; ``irrCAC`` uses a t quantile with ``n - 1``
  degrees of freedom, which widens the interval by about 1% at ``n = 100``.

References
----------
Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37-46.
Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and weighted kappa.
Psychol Bull 72:323-327.
Fleiss JL, Levin B, Paik MC (2003). Statistical Methods for Rates and Proportions, 3rd ed. Wiley.
Byrt T, Bishop J, Carlin JB (1993). Bias, prevalence and kappa. J Clin Epidemiol 46:423-429.
Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of high
agreement. Br J Math Stat Psychol 61:29-48.
Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced Analytics.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from reviewtool.errors import InvalidInput

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Agreement:
    """Agreement statistics for two reviewers over the same items.

    Proportions are in ``[0, 1]``; :attr:`percent_agreement` is the same ``p_o`` in percent.
    ``kappa``, ``kappa_se`` and ``kappa_ci`` are ``None`` exactly when Cohen's kappa is undefined
    (expected agreement is 1); :attr:`kappa_undefined_reason` then says why.
    """

    categories: tuple[str, ...]
    """Category labels, in the order of the table's rows and columns."""
    table: tuple[tuple[int, ...], ...]
    """``table[i][j]``: items reviewer A put in ``categories[i]`` and reviewer B in ``[j]``."""
    n: int
    """Number of items both reviewers decided."""
    observed_agreement: float
    """``p_o``: share of items on which the two reviewers chose the same category."""
    expected_agreement: float
    """``p_e``: chance agreement of Cohen's kappa, from the product of the two margins."""
    kappa: float | None
    kappa_se: float | None
    """Large-sample standard error of kappa (Fleiss, Cohen & Everitt 1969)."""
    kappa_ci: tuple[float, float] | None
    pabak: float
    """Prevalence- and bias-adjusted kappa, ``(q p_o - 1) / (q - 1)``."""
    ac1: float
    """Gwet's AC1."""
    ac1_expected_agreement: float
    """Gwet's chance agreement ``p_e*``."""
    ac1_se: float
    ac1_ci: tuple[float, float]
    confidence: float = DEFAULT_CONFIDENCE
    """Confidence level of ``kappa_ci`` and ``ac1_ci``."""
    kappa_undefined_reason: str | None = None

    @property
    def percent_agreement(self) -> float:
        """Observed agreement in percent (``100 * p_o``)."""
        return 100.0 * self.observed_agreement

    def count(self, category_a: str, category_b: str) -> int:
        """Items reviewer A put in ``category_a`` and reviewer B in ``category_b``."""
        try:
            i = self.categories.index(category_a)
            j = self.categories.index(category_b)
        except ValueError:
            raise InvalidInput(
                f"unknown category {category_a!r} or {category_b!r}; "
                f"expected one of {', '.join(self.categories)}"
            ) from None
        return self.table[i][j]

    @property
    def agreements(self) -> int:
        """Items on which both reviewers chose the same category."""
        return sum(self.table[i][i] for i in range(len(self.categories)))

    @property
    def disagreements(self) -> int:
        """Items on which the reviewers chose different categories."""
        return self.n - self.agreements

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with stable keys; undefined values are ``None`` (JSON ``null``)."""
        kappa_lo, kappa_hi = self.kappa_ci if self.kappa_ci is not None else (None, None)
        return {
            "n": self.n,
            "categories": list(self.categories),
            "table": {
                a: {b: self.table[i][j] for j, b in enumerate(self.categories)}
                for i, a in enumerate(self.categories)
            },
            "agreements": self.agreements,
            "disagreements": self.disagreements,
            "percent_agreement": self.percent_agreement,
            "observed_agreement": self.observed_agreement,
            "expected_agreement": self.expected_agreement,
            "kappa": self.kappa,
            "kappa_se": self.kappa_se,
            "kappa_ci_lower": kappa_lo,
            "kappa_ci_upper": kappa_hi,
            "kappa_undefined_reason": self.kappa_undefined_reason,
            "pabak": self.pabak,
            "ac1": self.ac1,
            "ac1_expected_agreement": self.ac1_expected_agreement,
            "ac1_se": self.ac1_se,
            "ac1_ci_lower": self.ac1_ci[0],
            "ac1_ci_upper": self.ac1_ci[1],
            "confidence": self.confidence,
        }


def agreement_from_pairs(
    pairs: Iterable[tuple[str, str]],
    *,
    categories: Sequence[str] | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Agreement:
    """Agreement of two raters from paired labels over any number of nominal categories.

    ``categories`` fixes the label set and the table order; it matters for PABAK and AC1, which
    depend on how many categories were available, not just on those used. Without it the
    categories are the labels seen, sorted, and at least two must occur.
    """
    pair_list = list(pairs)
    if categories is None:
        categories = sorted({label for pair in pair_list for label in pair})
    cats = _check_categories(categories)
    index = {c: i for i, c in enumerate(cats)}
    table = [[0] * len(cats) for _ in cats]
    for a, b in pair_list:
        for label in (a, b):
            if label not in index:
                raise InvalidInput(f"unknown category {label!r}; expected one of {', '.join(cats)}")
        table[index[a]][index[b]] += 1
    return agreement_from_table(table, categories=cats, confidence=confidence)


def agreement_from_table(
    table: Sequence[Sequence[int]],
    *,
    categories: Sequence[str],
    confidence: float = DEFAULT_CONFIDENCE,
) -> Agreement:
    """Agreement of two raters from a ``q x q`` contingency table of counts.

    Rows are rater A's categories, columns rater B's, both in the order of ``categories``.
    """
    cats = _check_categories(categories)
    counts = _check_table(table, len(cats))
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    n = sum(map(sum, counts))
    if n == 0:
        raise InvalidInput(
            "no items to compute agreement over: the two reviewers share no decided record"
        )
    q = len(cats)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)

    p = [[x / n for x in row] for row in counts]
    row_margin = [sum(row) / n for row in counts]
    col_margin = [sum(counts[i][j] for i in range(q)) / n for j in range(q)]
    observed = sum(counts[i][i] for i in range(q)) / n

    row_total = [sum(row) for row in counts]
    col_total = [sum(counts[i][j] for i in range(q)) for j in range(q)]
    # Decide "p_e == 1" on exact integers: the float sum can miss 1 by an ulp.
    kappa_defined = sum(r * c for r, c in zip(row_total, col_total, strict=True)) != n * n
    expected = sum(r * c for r, c in zip(row_margin, col_margin, strict=True))

    kappa: float | None = None
    kappa_se: float | None = None
    kappa_ci: tuple[float, float] | None = None
    reason: str | None = None
    if kappa_defined:
        kappa = (observed - expected) / (1.0 - expected)
        kappa_se = _kappa_se(p, row_margin, col_margin, kappa, expected, n)
        kappa_ci = _wald(kappa, kappa_se, z)
    else:
        only = cats[row_total.index(n)]
        reason = (
            "Cohen's kappa is undefined: both reviewers put "
            + (f"the one item in {only!r}" if n == 1 else f"all {n} items in {only!r}")
            + ", so expected agreement is 1 (0/0); see percent agreement and AC1"
        )

    pabak = (q * observed - 1.0) / (q - 1)

    pi = [(r + c) / 2.0 for r, c in zip(row_margin, col_margin, strict=True)]
    ac1_expected = sum(x * (1.0 - x) for x in pi) / (q - 1)
    ac1 = (observed - ac1_expected) / (1.0 - ac1_expected)
    ac1_se = _ac1_se(p, pi, ac1, observed, ac1_expected, n)

    return Agreement(
        categories=cats,
        table=tuple(tuple(row) for row in counts),
        n=n,
        observed_agreement=observed,
        expected_agreement=expected,
        kappa=kappa,
        kappa_se=kappa_se,
        kappa_ci=kappa_ci,
        pabak=pabak,
        ac1=ac1,
        ac1_expected_agreement=ac1_expected,
        ac1_se=ac1_se,
        ac1_ci=_wald(ac1, ac1_se, z),
        confidence=confidence,
        kappa_undefined_reason=reason,
    )


def _kappa_se(
    p: list[list[float]],
    row: list[float],
    col: list[float],
    kappa: float,
    expected: float,
    n: int,
) -> float:
    """Fleiss, Cohen & Everitt (1969) large-sample standard error of unweighted kappa."""
    q = len(row)
    total = 0.0
    for i in range(q):
        for j in range(q):
            w = 1.0 if i == j else 0.0
            total += p[i][j] * (w - (col[i] + row[j]) * (1.0 - kappa)) ** 2
    var = _difference(total, (kappa - expected * (1.0 - kappa)) ** 2) / (n * (1.0 - expected) ** 2)
    return math.sqrt(var)


def _ac1_se(
    p: list[list[float]],
    pi: list[float],
    ac1: float,
    observed: float,
    expected: float,
    n: int,
) -> float:
    """Gwet (2008) standard error of AC1 for two raters, no finite-population correction."""
    q = len(pi)
    total = 0.0
    for k in range(q):
        for m in range(q):
            w = 1.0 if k == m else 0.0
            term = w - 2.0 * (1.0 - ac1) * (1.0 - (pi[k] + pi[m]) / 2.0) / (q - 1)
            total += p[k][m] * term**2
    var = _difference(total, (observed - 2.0 * (1.0 - ac1) * expected) ** 2)
    return math.sqrt(var / (n * (1.0 - expected) ** 2))


def _difference(total: float, square: float) -> float:
    """``total - square`` for a variance's numerator, 0 where the two are equal up to rounding.

    Both standard errors above are a difference of two sums that cancel exactly in degenerate
    tables (perfect agreement, or every pair in cells that make the variance vanish); floating
    point leaves +-1e-17 there, whose root (3e-9) would be reported as a standard error and would
    change with the order of the categories. A difference within 64 ulps of the larger term is 0.
    """
    diff = total - square
    if abs(diff) <= 64 * sys.float_info.epsilon * max(abs(total), abs(square)):
        return 0.0
    return max(diff, 0.0)


def _wald(estimate: float, se: float, z: float) -> tuple[float, float]:
    # Both coefficients are at most 1 and, for kappa with any margins, at least -1: an interval
    # reaching past those bounds would only advertise impossible values.
    return (max(-1.0, estimate - z * se), min(1.0, estimate + z * se))


def _check_categories(categories: Sequence[str]) -> tuple[str, ...]:
    cats = tuple(categories)
    if len(set(cats)) != len(cats):
        raise InvalidInput(f"categories must be distinct, got {list(cats)!r}")
    if len(cats) < 2:
        raise InvalidInput(
            f"agreement needs at least two categories, got {list(cats)!r}; "
            "pass every category the reviewers could choose"
        )
    return cats


def _check_table(table: Sequence[Sequence[int]], q: int) -> list[list[int]]:
    rows = [list(row) for row in table]
    if len(rows) != q or any(len(row) != q for row in rows):
        raise InvalidInput(f"the agreement table must be {q} x {q}, one row/column per category")
    for row in rows:
        for x in row:
            if isinstance(x, bool) or not isinstance(x, int) or x < 0:
                raise InvalidInput(f"table cells must be non-negative integer counts, got {x!r}")
    return rows
