"""Points digitised from a figure (an Engauge Digitizer export) placed on the form (pure).

``extract digitised STUDY FILE --report R --figure "Figure 2" --outcome meld`` reads the points
of one figure of one report (``extraction.engauge``) and makes each point one value of the
outcome: ``--field`` (default ``mean``) of an arm at a time point. The mapping:

* **curve → arm**: each curve of the export is one arm; ``--arm CURVE=ARM`` names the arm of a
  curve, a curve not named keeps its own name as the arm (name the curves after the arms in
  Engauge and no mapping is needed);
* **x → time point**: ``--time X=TIME`` gives the x of a time point ("--time 4='4 weeks'"); by
  default the outcome's time points that read as weeks give their own x ("baseline" and
  "week 0" 0, "4 weeks" and "week 4" 4). A point belongs to the time point whose x is nearest,
  when within the tolerance (default: a quarter of the smallest gap between the time points'
  x, so a point never lies between two); a point farther from every time point is refused;
* two points of one curve at one time point are refused (naming both lines).

Every value is stored as ``digitised`` with the JSON source of
:func:`~reviewtool.extraction.provenance.digitised_source` (report, figure, tool, file and its
SHA-256, curve, x, line). Errors name the file, the line and the curve; nothing is written then
(``extraction.service.import_digitised`` writes all values in one transaction or none).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reviewtool.errors import InvalidInput
from reviewtool.extraction.engauge import DigitisedPoint

_WEEKS = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*weeks?|weeks?\s*(\d+(?:\.\d+)?))$")


@dataclass(frozen=True)
class PlacedPoint:
    """A digitised point placed on the form: its arm and time point, with where it came from."""

    curve: str
    arm: str
    time_point: str
    x: float
    y: float
    line: int


def default_times(time_points: Iterable[str]) -> dict[float, str]:
    """``{x: time point}`` for the time points that read as weeks: ``baseline``/``week 0`` → 0,
    ``4 weeks``/``week 4`` → 4 (the others need ``--time X=TIME``)."""
    found: dict[float, str] = {}
    for tp in time_points:
        text = tp.strip().lower()
        if text in ("baseline", "0"):
            found.setdefault(0.0, tp)
            continue
        m = _WEEKS.match(text)
        if m is not None:
            found.setdefault(float(m[1] or m[2]), tp)
    return found


def parse_pairs(pairs: Sequence[str], what: str) -> list[tuple[str, str]]:
    """``["MSC 1=MSC", ...]`` as ``(left, right)`` pairs; InvalidInput naming the option."""
    out: list[tuple[str, str]] = []
    for pair in pairs:
        left, sep, right = pair.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise InvalidInput(f"--{what} {pair!r}: write it as LEFT=RIGHT")
        out.append((left.strip(), right.strip()))
    return out


def parse_times(pairs: Sequence[str]) -> dict[float, str]:
    """``--time X=TIME`` options as ``{x: time point}``."""
    out: dict[float, str] = {}
    for x, time_point in parse_pairs(pairs, "time"):
        try:
            value = float(x)
        except ValueError:
            raise InvalidInput(f"--time {x}={time_point}: {x!r} is not a number") from None
        if not math.isfinite(value) or value in out:
            raise InvalidInput(f"--time {x}={time_point}: x {x} is not finite or given twice")
        out[value] = time_point
    return out


def place_points(
    points: Sequence[DigitisedPoint],
    *,
    path: str,
    arms: Mapping[str, str],
    times: Mapping[float, str],
    tolerance: float | None = None,
) -> list[PlacedPoint]:
    """Place every point (module doc); InvalidInput names ``path``, the line and the curve.

    :param arms: ``{curve: arm}``; a curve not in it is the arm of its own name.
    :param times: ``{x: time point}`` (at least one).
    :param tolerance: the largest |x − X| of a point at a time point (default: a quarter of the
        smallest gap between the X values; with one time point, any x).
    """
    if not times:
        raise InvalidInput(
            f"{path}: no time point to place the points at: give --time X=TIME (x of the time "
            "point in the figure's units)"
        )
    xs = sorted(times)
    if tolerance is None:
        gaps = [b - a for a, b in itertools.pairwise(xs)]
        tolerance = min(gaps) / 4 if gaps else math.inf
    unknown = [c for c in arms if c not in {p.curve for p in points}]
    if unknown:
        raise InvalidInput(f"{path}: --arm names curve(s) not in the file: {', '.join(unknown)}")
    placed: list[PlacedPoint] = []
    seen: dict[tuple[str, str], int] = {}
    for point in points:
        nearest = min(xs, key=lambda x: abs(point.x - x))
        where = f"{path}:{point.line}: curve {point.curve!r}"
        if abs(point.x - nearest) > tolerance:
            known = ", ".join(f"{times[x]} (x {x:g})" for x in xs)
            raise InvalidInput(
                f"{where}: x {point.x:g} is not within {tolerance:g} of any time point: {known}"
            )
        arm = arms.get(point.curve, point.curve)
        time_point = times[nearest]
        if (arm, time_point) in seen:
            raise InvalidInput(
                f"{where}: a second point at {time_point!r} for arm {arm!r} (also line "
                f"{seen[(arm, time_point)]})"
            )
        seen[(arm, time_point)] = point.line
        placed.append(PlacedPoint(point.curve, arm, time_point, point.x, point.y, point.line))
    return placed
