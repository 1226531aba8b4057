"""Converted values follow their inputs (issue 11): when the group's n a stored conversion used
changes, the converted value is computed again from its recorded inputs and formula.

A converted value (``provenance``) records its inputs, the group's n among them for every
conversion but ``change``. That n is the arm's n at the same arm, outcome and time point (the
extractor's own, or for a consensus value the consensus n). When that n changes (``extract set``,
``extract import``, the form screen, or a consensus reached, agreed or resolved) and the
conversion used the n stored there until then (its recorded ``n`` equals the old n), the
conversion is run again with the new n by the same kernel (``extraction.conversions``: e.g.
SD = SE·√n, Cochrane Handbook 6.5.2.2) and the value is replaced, with its provenance naming the
new n. A conversion made with another n (``n=N`` given by hand) did not use the stored n and is
left alone; so is a conversion when the n is removed (its recorded n stays its input).

This module is the pure part: which stored values follow which changed n, and their new values.
``extraction.service`` reads the stored values, writes the new ones and records them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from reviewtool.errors import InvalidInput
from reviewtool.extraction import provenance
from reviewtool.extraction.forms import Form, ValueKey

N = "n"
"""The statistic that is an input of stored conversions (the group's number of participants)."""


@dataclass(frozen=True)
class Recomputed:
    """One converted value computed again: where, its value before and after (as stored text),
    the n before and after, and its new source (``provenance.converted_source``)."""

    key: ValueKey
    old: str
    new: str
    old_n: str
    new_n: str
    source: str
    inputs: str = ""
    """The conversion and its inputs but n, for people: ``se 1`` (``median_iqr 12, 9, 15``)."""
    consensus: bool = False
    """A consensus value (brought onto the consensus n), not an extractor's."""

    def describe(self) -> str:
        """``sd 5.367 → 6 (n 20 → 25)``: for the event's origin and messages."""
        return f"{self.key.field} {self.old} → {self.new} (n {self.old_n} → {self.new_n})"

    def line(self) -> str:
        """One line for the CLI: ``sd followed n: 5.19615 → 5.38516 (from se 1, n 25 → 29)``
        (``consensus sd followed n: ...`` for a consensus value),
        values shown to 6 significant digits (``shown``; stored in full)."""
        given = f"from {self.inputs}, " if self.inputs else ""
        whose = "consensus " if self.consensus else ""
        return (
            f"{whose}{self.key.field} followed n: {shown(self.old)} → {shown(self.new)} "
            f"({given}n {self.old_n or 'none'} → {self.new_n})"
        )


def shown(text: str) -> str:
    """A stored value as people read it: a number with a fraction to 6 significant digits
    (``5.196152422706632`` -> ``5.19615``); whole numbers and text as stored. Display only:
    values are stored and exported in full precision."""
    if not any(c in text for c in ".eE"):
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    return f"{number:.6g}"


def _inputs_text(conversion: str, inputs: Mapping[str, float]) -> str:
    given = [f"{v:.6g}" for k, v in inputs.items() if k not in ("n", "correlation")]
    return f"{conversion} {', '.join(given)}".strip()


def _same_number(text: str, number: float) -> bool:
    try:
        return math.isclose(float(text), number, rel_tol=0, abs_tol=1e-9)
    except ValueError:
        return False


def follow_n(
    form: Form,
    stored: Mapping[ValueKey, tuple[str, str, str]],
    changed_n: Mapping[ValueKey, tuple[str, str]],
    *,
    skip: frozenset[ValueKey] | set[ValueKey] = frozenset(),
    consensus: bool = False,
) -> list[Recomputed]:
    """The converted values of ``stored`` (place -> (value, source kind, source)) that used an n
    of ``changed_n`` (n place -> (old n, new n), as stored text), computed again with the new n.

    A value follows when it is converted, sits at the n's arm, outcome and time point, its
    conversion takes n (not ``change``) and its recorded n equals the old n; places in ``skip``
    (written by the same change) are left alone. Each new value is checked like any value
    (``Form.check_value``: SD > 0 ...). InvalidInput when the conversion cannot be run with the
    new n (e.g. a CI with n 1: no t quantile with 0 degrees of freedom), naming arm, outcome,
    time point and field: the change of n is then refused.
    """
    found: list[Recomputed] = []
    if not changed_n:
        return found
    for key, (value, kind, source) in stored.items():
        if kind != provenance.CONVERTED or key in skip or key.field == N:
            continue
        n_key = ValueKey(N, key.arm, key.outcome, key.time_point)
        change = changed_n.get(n_key)
        if change is None:
            continue
        old_n, new_n = change
        try:
            recorded = provenance.parse_converted(source)
        except InvalidInput:
            continue  # not a structured conversion (refused on entry; audit verify reports it)
        if not provenance.CONVERSIONS[recorded.conversion].needs_n:
            continue
        if "n" not in recorded.inputs:
            continue
        if consensus:
            if _same_number(new_n, recorded.inputs["n"]):
                continue  # already made with the consensus n
        elif not _same_number(old_n, recorded.inputs["n"]):
            continue  # made with an n given by hand, not the one stored here
        recorded_n = provenance.value_text(recorded.inputs["n"])
        inputs = dict(recorded.inputs)
        correlation = inputs.pop("correlation", None)
        request = provenance.ConversionRequest(recorded.conversion, {**inputs, "n": float(new_n)})
        try:
            result = provenance.convert(request, correlation=correlation)
            gives = dict(result.values)
            if key.field not in gives:
                raise InvalidInput(f"conversion {recorded.conversion} gives no {key.field}")
            text = form.check_value(key, provenance.value_text(gives[key.field]))
        except InvalidInput as error:
            message = str(error)
            if message.startswith(key.describe()):
                message = message[len(key.describe()) :].lstrip(": ")
            raise InvalidInput(
                f"{key.describe()}: the converted {key.field} ({value}, from "
                f"{recorded.conversion} with n {recorded_n}) cannot be computed again with n "
                f"{new_n}: {message}; the change of n is refused"
            ) from None
        if text == value and not consensus:
            continue
        found.append(
            Recomputed(
                key,
                value,
                text,
                recorded_n,
                new_n,
                provenance.converted_source(request, result),
                _inputs_text(recorded.conversion, inputs),
                consensus,
            )
        )
    return found


def origin(recomputed: list[Recomputed]) -> str:
    """The ``extraction-values`` origin of values computed again: ``recomputed: arm 'MSC',
    meld at '4 weeks': sd 5.367 → 6 (n 20 → 25)``, one clause per value."""
    return "recomputed: " + "; ".join(
        f"arm {r.key.arm!r}, {r.key.outcome} at {r.key.time_point!r}: {r.describe()}"
        for r in recomputed
    )
