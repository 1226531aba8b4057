"""Structured provenance of converted and digitised values (issue 11).

A value's provenance is stored in its ``source`` column (``extraction_value.source``,
``extraction_consensus.source``), which every ``extraction-values`` / ``extraction-consensus``
event snapshots, so ``audit verify`` checks it with the value. For a **converted** value that
source is a canonical JSON object (keys in a fixed order, no spaces), never free text::

    {"citation": "Cochrane Handbook ... 6.5.2.2 (v5.1: 7.7.3.2)", "conversion": "se",
     "formula": "SD = SE·√n", "inputs": {"n": 25, "se": 1.2}, "method": "sd_from_se",
     "values": {"sd": 6.0}}

``conversion`` is the entry name (:data:`CONVERSIONS`: ``se``, ``ci``, ``median_iqr``,
``median_range``, ``change``), ``method`` the kernel's (``sd_from_ci/t``, ``luo_wan`` ...),
``inputs`` the reported numbers by name (for ``change`` also the ``correlation`` used, from the
review setting ``extraction.change_correlation``), ``values`` everything the conversion gave (a
median conversion gives ``mean`` and ``sd``: both values carry the same provenance).
:func:`check_converted` recomputes the conversion from its inputs and refuses a value it does not
give, so a converted value is always the kernel's result of its recorded inputs.

A **digitised** value may carry free text ("report 3, Figure 2, Engauge Digitizer"), or, when
imported from an Engauge Digitizer export (``extract digitised``), the JSON object of
:func:`digitised_source`: report, figure, tool, file and its SHA-256, curve, x and line.

Entry syntax (the CLI's ``--from-*`` options, the import's ``convert_from`` column, the form
screen's source text for kind converted) is parsed by :func:`parse_conversion`:
``se 1.2``, ``ci 10.1 14.3``, ``median_iqr 12 9 15``, ``median_range 12 4 20``,
``change 6.4 7.1``, each optionally followed by ``n=25`` (and ``level=0.9`` for ``ci``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewtool.errors import InvalidInput
from reviewtool.extraction import conversions as cv

CONVERTED, DIGITISED = "converted", "digitised"
CORRELATION_SETTING = "extraction.change_correlation"


@dataclass(frozen=True)
class Conversion:
    """One way in for a converted value.

    :ivar name: the entry name (``se``, ``ci`` ...); :ivar inputs: the positional inputs, in the
        order the CLI option and ``convert_from`` take them; :ivar needs_n: whether the group's
        n is an input; :ivar gives: the fields it yields; :ivar help: what it is, with its source.
    """

    name: str
    inputs: tuple[str, ...]
    needs_n: bool
    gives: tuple[str, ...]
    help: str


CONVERSIONS: dict[str, Conversion] = {
    c.name: c
    for c in (
        Conversion("se", ("se",), True, ("sd",), "SD = SE·√n (Cochrane Handbook 6.5.2.2)"),
        Conversion(
            "ci",
            ("lower", "upper"),
            True,
            ("sd",),
            "SD from a CI of the group mean; t-based below n = 60 (Handbook 6.5.2.2)",
        ),
        Conversion(
            "median_iqr",
            ("median", "q1", "q3"),
            True,
            ("mean", "sd"),
            "mean (Luo 2018) and SD (Wan 2014) from median and IQR",
        ),
        Conversion(
            "median_range",
            ("median", "minimum", "maximum"),
            True,
            ("mean", "sd"),
            "mean (Luo 2018) and SD (Wan 2014) from median and range",
        ),
        Conversion(
            "change",
            ("sd_baseline", "sd_final"),
            False,
            ("sd",),
            "SD of the change from baseline with the review's assumed correlation "
            f"({CORRELATION_SETTING}; Handbook 6.5.2.8)",
        ),
    )
}


@dataclass(frozen=True)
class ConversionRequest:
    """A conversion asked for: its name and the inputs given (n may be missing: the caller
    fills it from the place's n). ``level`` only for ``ci``."""

    conversion: str
    inputs: dict[str, float]

    def with_n(self, n: float | None, *, where: str = "") -> ConversionRequest:
        """The request with ``n`` added when the conversion needs it and none was given;
        InvalidInput when there is none."""
        spec = CONVERSIONS[self.conversion]
        if not spec.needs_n or "n" in self.inputs:
            return self
        if n is None:
            raise InvalidInput(
                f"{where}conversion {self.conversion} needs the group's n: give n=N, or enter "
                "the arm's n at this time point first"
            )
        return ConversionRequest(self.conversion, {**self.inputs, "n": float(n)})


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{name}: {text!r} is not a finite number")
    return value


def parse_conversion(text: str) -> ConversionRequest:
    """``"ci 10.1 14.3 n=20 level=0.9"`` as a request; InvalidInput naming what is wrong.

    The first word is the conversion (:data:`CONVERSIONS`), then its inputs in order, then
    optional ``n=N`` and (``ci`` only) ``level=L``. ``change`` takes no correlation: it is the
    review setting ``extraction.change_correlation``.
    """
    words = text.replace(",", " ").split()
    if not words:
        raise InvalidInput("empty conversion: write e.g. 'se 1.2' or 'ci 10.1 14.3 n=20'")
    name, rest = words[0].lower(), words[1:]
    spec = CONVERSIONS.get(name)
    if spec is None:
        raise InvalidInput(f"unknown conversion {words[0]!r}: one of {', '.join(CONVERSIONS)}")
    positional = [w for w in rest if "=" not in w]
    named = [w for w in rest if "=" in w]
    if len(positional) != len(spec.inputs):
        raise InvalidInput(
            f"conversion {name} takes {len(spec.inputs)} number(s) ({' '.join(spec.inputs)}), "
            f"got {len(positional)}"
        )
    inputs = {k: _number(k, v) for k, v in zip(spec.inputs, positional, strict=True)}
    allowed = {"n"} if spec.needs_n else set()
    if name == "ci":
        allowed.add("level")
    for word in named:
        key, _, value = word.partition("=")
        key = key.strip().lower()
        if key == "correlation" and name == "change":
            raise InvalidInput(
                f"the correlation is the review setting {CORRELATION_SETTING} "
                f"(`reviewtool settings set {CORRELATION_SETTING} R`), not an input"
            )
        if key not in allowed:
            raise InvalidInput(f"conversion {name} takes no {key!r}")
        inputs[key] = _number(key, value)
    return ConversionRequest(name, inputs)


def _kernels() -> dict[str, Callable[..., cv.Converted]]:
    return {
        "se": lambda i: cv.sd_from_se(i["se"], _whole(i["n"])),
        "ci": lambda i: cv.sd_from_ci(
            i["lower"], i["upper"], _whole(i["n"]), level=i.get("level", 0.95)
        ),
        "median_iqr": lambda i: cv.mean_sd_from_median_iqr(
            i["median"], i["q1"], i["q3"], _whole(i["n"])
        ),
        "median_range": lambda i: cv.mean_sd_from_median_range(
            i["median"], i["minimum"], i["maximum"], _whole(i["n"])
        ),
        "change": lambda i: cv.sd_change_from_baseline(
            i["sd_baseline"], i["sd_final"], i["correlation"]
        ),
    }


def _whole(n: float) -> int:
    if not float(n).is_integer():
        raise InvalidInput(f"n must be a whole number of participants, got {n}")
    return int(n)


def convert(request: ConversionRequest, *, correlation: float | None = None) -> cv.Converted:
    """Run the kernel of ``request`` (``conversions``); ``correlation`` is the review setting,
    used (and required) by ``change`` only. InvalidInput from the kernel names the argument."""
    inputs = dict(request.inputs)
    if request.conversion == "change":
        if correlation is None:
            raise InvalidInput(f"conversion change needs the setting {CORRELATION_SETTING}")
        inputs["correlation"] = float(correlation)
    spec = CONVERSIONS[request.conversion]
    if spec.needs_n and "n" not in inputs:
        raise InvalidInput(f"conversion {request.conversion} needs the group's n")
    return _kernels()[request.conversion](inputs)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def converted_source(request: ConversionRequest, result: cv.Converted) -> str:
    """The canonical JSON stored as a converted value's source (module doc)."""
    document = {
        "conversion": request.conversion,
        "method": result.method,
        "inputs": {k: _plain(v) for k, v in result.inputs},
        "formula": result.formula,
        "citation": result.source,
        "values": {k: v for k, v in result.values},
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def value_text(number: float) -> str:
    """How a converted number is stored: Python's shortest round-trip text (``6.0`` -> ``"6"``),
    so the stored value is the kernel's result exactly."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


@dataclass(frozen=True)
class ConvertedProvenance:
    """A converted value's provenance, parsed from its stored source."""

    conversion: str
    method: str
    inputs: dict[str, float]
    formula: str
    citation: str
    values: dict[str, float]

    def line(self) -> str:
        """One line for people: ``se=1.2, n=25 → SD = SE·√n (Cochrane Handbook ... 6.5.2.2)``."""
        given = ", ".join(f"{k}={_show(v)}" for k, v in self.inputs.items())
        return f"{self.conversion}: {given} → {self.formula} ({self.citation})"


def _show(value: float) -> str:
    return value_text(value) if float(value).is_integer() else f"{value:g}"


def parse_converted(source: str) -> ConvertedProvenance:
    """The stored source of a converted value, parsed; InvalidInput when it is not the JSON
    object of :func:`converted_source` (a converted value must say its inputs and formula)."""
    try:
        document = json.loads(source)
    except (ValueError, TypeError):
        document = None
    keys = {"conversion", "method", "inputs", "formula", "citation", "values"}
    if not isinstance(document, dict) or not keys <= set(document):
        raise InvalidInput(
            "a converted value is entered with its inputs, not a free-text source: use "
            "`extract set ... --from-se SE` (or --from-ci, --from-median-iqr, "
            "--from-median-range, --from-change) or the import's convert_from column"
        )
    if document["conversion"] not in CONVERSIONS:
        raise InvalidInput(f"unknown conversion {document['conversion']!r} in the source")
    try:
        inputs = {str(k): float(v) for k, v in document["inputs"].items()}
        values = {str(k): float(v) for k, v in document["values"].items()}
    except (AttributeError, TypeError, ValueError):
        raise InvalidInput("the converted source's inputs and values must be numbers") from None
    return ConvertedProvenance(
        conversion=str(document["conversion"]),
        method=str(document["method"]),
        inputs=inputs,
        formula=str(document["formula"]),
        citation=str(document["citation"]),
        values=values,
    )


def check_converted(field: str, value: str, source: str) -> ConvertedProvenance:
    """Refuse a converted ``value`` of ``field`` that its source's conversion does not give:
    the conversion is run again on the recorded inputs (the correlation included) and must give
    ``field`` equal to ``value`` (relative tolerance 1e-9: quantiles may differ in the last
    digits between SciPy versions), with the same formula and citation."""
    found = parse_converted(source)
    inputs = dict(found.inputs)
    correlation = inputs.pop("correlation", None)
    request = ConversionRequest(found.conversion, inputs)
    result = convert(request, correlation=correlation)
    if (result.formula, result.source, result.method) != (
        found.formula,
        found.citation,
        found.method,
    ):
        raise InvalidInput(
            f"the source's formula or citation is not that of conversion {found.conversion} "
            f"({result.formula}; {result.source})"
        )
    given = dict(result.values)
    if field not in given:
        raise InvalidInput(f"conversion {found.conversion} gives {', '.join(given)}, not {field}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number") from None
    if not math.isclose(number, given[field], rel_tol=1e-9, abs_tol=1e-12):
        raise InvalidInput(
            f"{field} {value} is not what conversion {found.conversion} of "
            f"{', '.join(f'{k}={_show(v)}' for k, v in found.inputs.items())} gives "
            f"({value_text(given[field])})"
        )
    return found


def check_rounded(field: str, given: str, computed: float) -> None:
    """Refuse a ``given`` value (e.g. the number a report prints beside what it converts) that
    is not ``computed`` rounded to as many decimals as ``given`` has."""
    try:
        number = float(given)
    except ValueError:
        raise InvalidInput(f"{field} {given!r} is not a number") from None
    decimals = len(given.strip().partition(".")[2])
    if round(computed, decimals) != round(number, decimals):
        raise InvalidInput(
            f"{field} {given} is not what the conversion gives ({value_text(computed)}, "
            f"{round(computed, decimals)} to {decimals} decimals)"
        )


def digitised_source(
    *,
    report: str,
    figure: str,
    tool: str,
    file: str,
    sha256: str,
    curve: str,
    x: float,
    line: int,
) -> str:
    """The canonical JSON stored as the source of a value read off a figure with a digitiser:
    which report and figure, which tool, and where in the export file (name, SHA-256, line,
    curve and x) the point came from."""
    document = {
        "report": report,
        "figure": figure,
        "tool": tool,
        "file": file,
        "sha256": sha256,
        "curve": curve,
        "x": _plain(x),
        "line": line,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def describe(kind: str, source: str) -> str:
    """A value's provenance as one line for people (the form screen, listings): a converted
    value's conversion, inputs, formula and citation; a digitised value's report, figure, tool
    and point; otherwise the source text as entered."""
    document: Any = None
    if source.startswith("{"):
        try:
            document = json.loads(source)
        except ValueError:
            document = None
    if kind == CONVERTED and isinstance(document, dict):
        try:
            return f"converted: {parse_converted(source).line()}"
        except InvalidInput:
            pass
    if kind == DIGITISED and isinstance(document, Mapping) and "figure" in document:
        return (
            f"digitised: {document.get('report', '')}, {document.get('figure', '')}, "
            f"{document.get('tool', '')} (curve {document.get('curve', '')!r} at x = "
            f"{document.get('x', '')}, {document.get('file', '')}:{document.get('line', '')})"
        )
    return f"{kind}: {source}" if source else kind
