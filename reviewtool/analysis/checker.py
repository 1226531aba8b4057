"""Check that a reported estimate, confidence interval and p-value agree with each other.

For a Wald-type result, est ± z·SE gives the CI, so the CI fixes both the estimate (its midpoint,
on the log scale for ratios) and the p-value. Printed numbers are rounded, so every comparison
allows for rounding to the printed number of decimals.

References
----------
Altman, D. G., & Bland, J. M. (2011). How to obtain the P value from a confidence interval. BMJ,
343, d2304.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import NormalDist
from typing import Any

from reviewtool.analysis.results import CheckResult
from reviewtool.analysis.table_input import (
    cell_error,
    cell_level,
    cell_number,
    level_option_error,
    read_csv_table,
)
from reviewtool.errors import InvalidInput, ParseError

# Measures reported on a ratio scale (symmetric CI on the log scale).
RATIO_NAMES: frozenset[str] = frozenset({"OR", "RR", "HR", "IRR", "ROM", "RATIO", "PETO"})
P_COLUMNS = ("p", "p_value", "pvalue", "p-value")


def _norm_sf(z: float) -> float:
    """Upper tail of the standard normal, 0.5·erfc(z/√2): exact in the far tail (no 1 − cdf)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _norm_ppf(p: float) -> float:
    """Standard normal quantile (Wichura's AS 241, via :class:`statistics.NormalDist`)."""
    return NormalDist().inv_cdf(p)


Z95 = _norm_ppf(0.975)


def _decimals(text: str) -> int:
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 2
    return max(0, -int(exponent)) if isinstance(exponent, int) else 2


def parse_p(text: str) -> tuple[str, float]:
    """``"<0.001"`` -> (``"<"``, 0.001); ``"0.04"`` -> (``"="``, 0.04)."""
    t = text.strip().replace(" ", "").lower().lstrip("p")
    for sign in ("<=", "≤", "<", ">=", ">", "="):
        if t.startswith(sign):
            rel = "<" if sign in ("<", "<=", "≤") else ">" if sign in (">", ">=") else "="
            return rel, float(t[len(sign) :])
    return "=", float(t)


def check_reported(
    estimate: str | float,
    ci_low: str | float,
    ci_high: str | float,
    p: str | float | None = None,
    *,
    ratio: bool = False,
    level: float = 0.95,
    label: str = "",
) -> CheckResult:
    """Say whether estimate, CI and p are consistent, listing each problem found.

    Parameters
    ----------
    estimate, ci_low, ci_high, p : as printed (strings keep the number of decimals; ``p`` may be
        ``"<0.001"``).
    ratio : True for OR/RR/HR, which are symmetric on the log scale.
    """
    texts = [str(estimate), str(ci_low), str(ci_high)]
    try:
        est, lo, hi = (float(t) for t in texts)
    except ValueError:
        raise InvalidInput(f"{label or 'result'}: estimate and CI must be numbers") from None
    digits = (
        min(_decimals(t) for t in texts)
        if not all(isinstance(x, float) for x in (estimate, ci_low, ci_high))
        else 4
    )
    half_unit = 0.5 * 10.0 ** (-digits)
    crit = _norm_ppf(0.5 + level / 2)
    problems: list[str] = []
    if lo > hi:
        problems.append(f"CI lower bound {lo:g} is above the upper bound {hi:g}")
        lo, hi = hi, lo
    if not lo - half_unit <= est <= hi + half_unit:
        problems.append(f"estimate {est:g} lies outside its CI ({lo:g} to {hi:g})")
    if ratio:
        if min(est, lo, hi) <= 0:
            return CheckResult(label, False, ("ratio estimate or CI is not positive",), None, None)

        # Rounding bounds move on the log scale by about half_unit / value.
        def tr(x: float) -> float:
            return math.log(x)

        slack = [half_unit / max(abs(x), 1e-12) for x in (est, lo, hi)]
        null = 0.0
    else:

        def tr(x: float) -> float:
            return x

        slack = [half_unit] * 3
        null = 0.0
    t_est, t_lo, t_hi = tr(est), tr(lo), tr(hi)
    mid = (t_lo + t_hi) / 2
    half = (t_hi - t_lo) / 2
    implied_est = math.exp(mid) if ratio else mid
    # The midpoint may move by the rounding of both bounds; allow that plus the estimate's own.
    tol_mid = slack[0] + (slack[1] + slack[2]) / 2 + 1e-9
    if abs(t_est - mid) > tol_mid and not any("outside" in pr for pr in problems):
        problems.append(
            f"estimate {est:g} is not at the centre of its CI (expected about {implied_est:.3g})"
        )
    implied_p: float | None = None
    if half > 0:
        se = half / crit
        implied_p = 2 * _norm_sf(abs(t_est - null) / se)
        if p is not None and str(p).strip() != "":
            rel, p_val = parse_p(str(p))
            # Range of p-values the rounded numbers allow.
            se_lo = max((half - (slack[1] + slack[2]) / 2), 1e-12) / crit
            se_hi = (half + (slack[1] + slack[2]) / 2) / crit
            z_hi = (abs(t_est - null) + slack[0]) / se_lo
            z_lo = max(abs(t_est - null) - slack[0], 0.0) / se_hi
            p_min = 2 * _norm_sf(z_hi)
            p_max = 2 * _norm_sf(z_lo)
            p_digits = _decimals(str(p).split("<")[-1].split(">")[-1].split("=")[-1])
            p_half = 0.5 * 10.0 ** (-p_digits)
            if rel == "<":
                ok = p_min < p_val + p_half
            elif rel == ">":
                ok = p_max > p_val - p_half
            else:
                ok = p_min - p_half <= p_val <= p_max + p_half
            if not ok:
                problems.append(
                    f"p {rel} {p_val:g} does not match the CI, which implies p ≈ {implied_p:.2g}"
                )
            excludes_null = not (t_lo <= null <= t_hi)
            alpha = 1 - level
            if rel in ("<", "=") and excludes_null != (p_val < alpha) and ok:
                problems.append(
                    "the CI and the p-value disagree about significance at "
                    f"{alpha:g} (CI {'excludes' if excludes_null else 'includes'} the null)"
                )
    return CheckResult(
        label=label,
        consistent=not problems,
        problems=tuple(problems),
        implied_p=implied_p,
        implied_estimate=implied_est,
    )


@dataclass(frozen=True)
class ReportedCheck:
    """One row of a reported-results file and what :func:`check_reported` found."""

    line: int
    label: str
    estimate: str
    ci_low: str
    ci_high: str
    p: str
    ratio: bool
    level: float
    result: CheckResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: line, label, the values as typed, ratio, level, consistent,
        problems, implied_p, implied_estimate."""
        r = self.result.to_dict()
        return {
            "line": self.line,
            "label": self.label,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p": self.p,
            "ratio": self.ratio,
            "level": self.level,
            "consistent": r["consistent"],
            "problems": r["problems"],
            "implied_p": r["implied_p"],
            "implied_estimate": r["implied_estimate"],
        }


@dataclass(frozen=True)
class ReportedFileCheck:
    """Every checked row of a reported-results file, and the rows left unchecked (no estimate)."""

    path: str
    rows: tuple[ReportedCheck, ...]
    skipped: tuple[tuple[int, str], ...]  # (line, label) of rows without estimate and CI

    @property
    def inconsistent(self) -> tuple[ReportedCheck, ...]:
        """The rows whose numbers do not add up."""
        return tuple(r for r in self.rows if not r.result.consistent)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: source, checked, inconsistent, rows[], skipped[]."""
        return {
            "source": self.path,
            "checked": len(self.rows),
            "inconsistent": len(self.inconsistent),
            "rows": [r.to_dict() for r in self.rows],
            "skipped": [{"line": line, "label": label} for line, label in self.skipped],
        }


def _label(row: dict[str, str], line: int) -> str:
    for column in ("label", "study"):
        if row.get(column):
            return row[column]
    parts = [row.get(c, "") for c in ("outcome", "time_point")]
    return " ".join(p for p in parts if p) or f"line {line}"


def _level(row: dict[str, str], default: float, path: str, line: int) -> float:
    if not row.get("level"):
        return default
    return cell_level(row, "level", path, line)


def _p_text(row: dict[str, str], column: str | None, path: str, line: int) -> str:
    if column is None or not row.get(column):
        return ""
    text = row[column]
    try:
        _rel, value = parse_p(text)
    except ValueError:
        raise cell_error(row, column, f"{text!r} is not a p-value", path, line) from None
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise cell_error(row, column, f"{text!r} is not between 0 and 1", path, line)
    return text


def check_reported_file(
    path: str | Path, *, ratio: bool | None = None, level: float = 0.95
) -> ReportedFileCheck:
    """Check every row of a CSV of reported results (numbers typed from papers).

    Columns (case-insensitive): ``estimate``, ``ci_low``, ``ci_high`` (required); optional ``p``
    (or ``p_value``; ``<0.001`` allowed), ``measure`` (``OR``, ``RR``, ``HR`` ... mean a ratio,
    checked on the log scale), ``level`` (0.95 or 95), and a label from ``label``, ``study`` or
    ``outcome`` + ``time_point``. ``ratio`` overrides the ``measure`` column for every row;
    ``level`` is the default confidence level. A row with none of estimate, CI and p is skipped
    (not reported); any other empty or non-numeric value is refused.

    Raises :class:`ParseError` ``FILE:LINE: column 'NAME': ...`` for bad input (file rules as
    :func:`~reviewtool.analysis.table_input.read_csv_table`).
    """
    why = level_option_error(level, "the confidence level")
    if why is not None:
        raise InvalidInput(why)

    def header(columns: tuple[str, ...], p: str, line: int) -> None:
        missing = [c for c in ("estimate", "ci_low", "ci_high") if c not in columns]
        if missing:
            raise ParseError(
                f"no column {missing[0]!r} in the header (needed: estimate, ci_low, ci_high; "
                "optional: p, measure, level, label)",
                path=p,
                line=line,
            )

    table = read_csv_table(path, what="reported results", check_header=header)
    p_column = next((c for c in P_COLUMNS if c in table.columns), None)
    rows: list[ReportedCheck] = []
    skipped: list[tuple[int, str]] = []
    for row, line in zip(table.rows, table.lines, strict=True):
        label = _label(row, line)
        values = [row["estimate"], row["ci_low"], row["ci_high"]]
        if not any(values) and not (p_column and row.get(p_column)):
            skipped.append((line, label))
            continue
        for column in ("estimate", "ci_low", "ci_high"):
            cell_number(row, column, table.path, line)
        p_text = _p_text(row, p_column, table.path, line)
        is_ratio = ratio if ratio is not None else row.get("measure", "").upper() in RATIO_NAMES
        row_level = _level(row, level, table.path, line)
        result = check_reported(
            values[0],
            values[1],
            values[2],
            p_text or None,
            ratio=is_ratio,
            level=row_level,
            label=label,
        )
        rows.append(
            ReportedCheck(
                line=line,
                label=label,
                estimate=values[0],
                ci_low=values[1],
                ci_high=values[2],
                p=p_text,
                ratio=is_ratio,
                level=row_level,
                result=result,
            )
        )
    return ReportedFileCheck(path=table.path, rows=tuple(rows), skipped=tuple(skipped))
