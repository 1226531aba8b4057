"""From per-arm values to the comparisons ``analyze run`` pools (pure; plain rows in and out).

The extraction stage gives one row per study × arm × outcome × time point (consensus values,
``reviewtool.extraction.service.analysis_rows``); the analysis pools one row per comparison ×
outcome × time point (the outcomes CSV layout, docs/analysis.md). The CLI composes the two
stages: it reads the rows from extraction and hands them here as plain mappings.

Rules (docs/extraction.md, "The analysis fed from extraction"):

* the **control arm** of a study is the arm named ``control`` (any case); every other arm is an
  experimental arm, compared with it: one comparison per experimental arm;
* a study with one experimental arm keeps its label ("Xu 2019"); a study with several gets one
  label per arm, "STUDY (ARM)", where ARM is the experimental arm's name without the words all
  its experimental arms' names begin with (arms "MSC one injection" and "MSC two injections" of
  Suk 2016 give "Suk 2016 (one injection)" and "Suk 2016 (two injections)");
* a comparison exists at an outcome × time point where both arms have values; an arm with values
  where the control arm has none (or the reverse) is refused, naming study, arm, outcome and time
  point, as is a missing statistic (mean, SD, n; or events, total);
* **a shared control arm is split** (Cochrane Handbook for Systematic Reviews of Interventions
  v6.5, section 23.3.4, "Studies with more than two intervention groups"): when k experimental
  arms are compared with one control arm at an outcome × time point, the control arm's n
  (continuous; its mean and SD are kept) or its events and total (dichotomous) are divided
  between the k comparisons, so that no participant is counted twice in a pooled result. The
  parts are whole numbers as equal as possible, the first arms taking the remainder (n 21 over
  2 arms: 11 and 10); each split is reported (:class:`SharedControlSplit`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewtool.errors import InvalidInput

CONTROL_ARM = "control"

CONTINUOUS_STATISTICS = ("mean", "sd", "n")
DICHOTOMOUS_STATISTICS = ("events", "total")

COMPARISON_COLUMNS = (
    "study",
    "outcome",
    "outcome_title",
    "unit",
    "better",
    "arm_exp",
    "arm_con",
    "time_point",
    "mean_exp",
    "sd_exp",
    "n_exp",
    "mean_con",
    "sd_con",
    "n_con",
    "events_exp",
    "total_exp",
    "events_con",
    "total_con",
)


SHARED_CONTROL_SOURCE = "Cochrane Handbook v6.5 section 23.3.4"
SHARED_CONTROL_CHOICES = ("split", "twice")


@dataclass(frozen=True)
class SharedControlSplit:
    """One control arm shared by several comparisons at one outcome × time point, and how it
    was divided: ``parts`` gives per comparison label its (n or total, events or None)."""

    study: str
    outcome: str
    time_point: str
    control_arm: str
    n: int
    events: int | None
    parts: tuple[tuple[str, int, int | None], ...]

    def line(self) -> str:
        """``Suk 2016: control arm n 18 split 9 / 9 between ... (Cochrane Handbook ...)``."""
        what = "n" if self.events is None else "events/total"
        whole = str(self.n) if self.events is None else f"{self.events}/{self.n}"
        shares = " + ".join(
            (f"{n}" if events is None else f"{events}/{n}") + f" ({label})"
            for label, n, events in self.parts
        )
        return (
            f"{self.study}: shared {self.control_arm} arm {what} {whole} split {shares} "
            f"({SHARED_CONTROL_SOURCE})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in a run's ``settings.input``)."""
        return {
            "study": self.study,
            "outcome": self.outcome,
            "time_point": self.time_point,
            "control_arm": self.control_arm,
            "n": self.n,
            "events": self.events,
            "parts": [
                {"comparison": label, "n": n, "events": events} for label, n, events in self.parts
            ],
            "note": self.line(),
        }


def split_count(count: int, k: int) -> list[int]:
    """``count`` divided into ``k`` whole parts as equal as possible, the first parts taking the
    remainder: ``split_count(21, 2) == [11, 10]``. Events split this way never exceed the total
    split this way (both give the remainder to the first parts)."""
    return [count // k + (1 if j < count % k else 0) for j in range(k)]


def _is_control(arm: str) -> bool:
    return arm.strip().casefold() == CONTROL_ARM


def comparison_labels(study: str, arms: Iterable[str]) -> dict[str, str]:
    """``{experimental arm: comparison label}`` for one study's arms (rules in the module
    docstring); the control arm is left out.

    >>> comparison_labels("Suk 2016", ["MSC one injection", "control", "MSC two injections"])
    {'MSC one injection': 'Suk 2016 (one injection)', 'MSC two injections': 'Suk 2016 (two injections)'}
    """
    experimental = [a for a in dict.fromkeys(arms) if not _is_control(a)]
    if len(experimental) <= 1:
        return dict.fromkeys(experimental, study)
    words = [a.split() for a in experimental]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
        common += 1
    return {
        a: f"{study} ({' '.join(w[common:])})" for a, w in zip(experimental, words, strict=True)
    }


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def comparison_rows(
    arm_rows: Iterable[Mapping[str, Any]],
    outcomes: Mapping[str, Mapping[str, str]],
    study_values: Mapping[str, Mapping[str, str]] | None = None,
    arm_values: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    *,
    shared_control: str = "split",
    splits: list[SharedControlSplit] | None = None,
) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """The outcomes table (columns, rows of text) of the comparisons in ``arm_rows``.

    :param arm_rows: one mapping per study × arm × outcome × time point with keys ``study``,
        ``arm``, ``outcome``, ``kind`` (continuous | dichotomous), ``time_point`` and the
        statistics ``mean``, ``sd``, ``n`` or ``events``, ``total`` (None when missing).
    :param outcomes: ``{outcome: {"title", "unit", "better"}}`` (better: higher | lower).
    :param study_values: ``{study: {field: value}}`` study-level values, one column each (for
        ``--by``).
    :param arm_values: ``{(study, arm): {field: value}}`` arm-level values; each comparison
        takes its experimental arm's (e.g. the number of injections), one column each.
    :param shared_control: ``split`` (default; Cochrane Handbook 23.3.4: a control arm shared
        by k comparisons gives each about 1/k of its n, or of its events and total) or ``twice``
        (every comparison takes the whole control arm, counting it k times).
    :param splits: when given, each split made is appended to it.
    :raises InvalidInput: naming study, arm, outcome and time point, when a study has no control
        arm, an arm has no counterpart, a statistic is missing, or a shared control arm has
        fewer participants than comparisons to split it between.
    """
    if shared_control not in SHARED_CONTROL_CHOICES:
        raise InvalidInput(
            f"shared control {shared_control!r}: choose {', '.join(SHARED_CONTROL_CHOICES)}"
        )
    study_values = study_values or {}
    arm_values = arm_values or {}
    cells: dict[tuple[str, str, str], dict[str, Mapping[str, Any]]] = {}
    arms_of: dict[str, list[str]] = {}
    for r in arm_rows:
        cells.setdefault((r["study"], r["outcome"], r["time_point"]), {})[r["arm"]] = r
        arms_of.setdefault(r["study"], []).append(r["arm"])
    extra_study = list(dict.fromkeys(k for v in study_values.values() for k in v))
    extra_arm = [
        k for k in dict.fromkeys(k for v in arm_values.values() for k in v) if k not in extra_study
    ]
    columns = (COMPARISON_COLUMNS[0], *extra_study, *extra_arm, *COMPARISON_COLUMNS[1:])
    rows: list[dict[str, str]] = []
    for (study, outcome, time_point), by_arm in cells.items():
        where = f"extraction: study {study!r}, outcome {outcome!r} at {time_point!r}"
        control = next((a for a in by_arm if _is_control(a)), None)
        if control is None:
            raise InvalidInput(
                f"{where}: no control arm (the arm named {CONTROL_ARM!r}) among "
                f"{', '.join(sorted(by_arm))}"
            )
        labels = comparison_labels(study, arms_of[study])
        if len(by_arm) == 1:
            raise InvalidInput(f"{where}: the control arm has values but no other arm has")
        con = by_arm[control]
        kind = con["kind"]
        stats = CONTINUOUS_STATISTICS if kind == "continuous" else DICHOTOMOUS_STATISTICS
        spec = outcomes.get(outcome, {})
        for which, r in by_arm.items():
            gone = [s for s in stats if r.get(s) is None]
            if gone:
                raise InvalidInput(f"{where}: arm {which!r} has no consensus {', '.join(gone)}")
        shares = _control_shares(
            where, con, [a for a in by_arm if a != control], kind, shared_control
        )
        if shares and splits is not None:
            size = "n" if kind == "continuous" else "total"
            splits.append(
                SharedControlSplit(
                    study=study,
                    outcome=outcome,
                    time_point=time_point,
                    control_arm=control,
                    n=int(con[size]),
                    events=None if kind == "continuous" else int(con["events"]),
                    parts=tuple(
                        (labels[a], part[size], part.get("events")) for a, part in shares.items()
                    ),
                )
            )
        for arm, exp in by_arm.items():
            if arm == control:
                continue
            row = {"study": labels[arm]}
            row |= {k: str(study_values.get(study, {}).get(k, "")) for k in extra_study}
            row |= {k: str(arm_values.get((study, arm), {}).get(k, "")) for k in extra_arm}
            row |= {
                "outcome": outcome,
                "outcome_title": spec.get("title", ""),
                "unit": spec.get("unit", ""),
                "better": spec.get("better", ""),
                "arm_exp": arm,
                "arm_con": control,
                "time_point": time_point,
            }
            con_arm = {**con, **shares.get(arm, {})}
            for s in (*CONTINUOUS_STATISTICS, *DICHOTOMOUS_STATISTICS):
                row[f"{s}_exp"] = _number(exp.get(s)) if s in stats else ""
                row[f"{s}_con"] = _number(con_arm.get(s)) if s in stats else ""
            rows.append(row)
    if not rows:
        raise InvalidInput("extraction: no consensus outcome values to analyse")
    return columns, rows


def _control_shares(
    where: str, con: Mapping[str, Any], experimental: list[str], kind: str, how: str
) -> dict[str, dict[str, int]]:
    """Per experimental arm its share of a control arm shared by several (Handbook 23.3.4):
    ``{arm: {"n": ...}}`` (continuous) or ``{arm: {"total": ..., "events": ...}}``; empty when
    the control arm is not shared or ``how`` is ``twice``."""
    k = len(experimental)
    if k < 2 or how != "split":
        return {}
    size = "n" if kind == "continuous" else "total"
    total = int(con[size])
    if total < k:
        raise InvalidInput(
            f"{where}: the control arm's {size} ({total}) cannot be split between {k} "
            "comparisons (Cochrane Handbook 23.3.4); use --shared-control twice"
        )
    sizes = split_count(total, k)
    if kind == "continuous":
        return {a: {"n": n} for a, n in zip(experimental, sizes, strict=True)}
    events = split_count(int(con["events"]), k)
    return {
        a: {"total": n, "events": e} for a, n, e in zip(experimental, sizes, events, strict=True)
    }


def comparison_csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    """The rows as CSV text (``analyze run`` reads and checks it as it reads a file; its SHA-256
    is the run's ``input_sha256``)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# --------------------------------------------------------------------- risk of bias, per study

ROB_COLUMN = "rob_overall"
NOT_ASSESSED = "not assessed"


def study_of_comparison(label: str, studies: Iterable[str]) -> str | None:
    """The study of a comparison label among ``studies``: the label itself, or the part before
    " (" ("Suk 2016 (one injection)" -> "Suk 2016"); None when neither is one of them."""
    known = set(studies)
    if label in known:
        return label
    head = label.split(" (", 1)[0]
    return head if head in known else None


def parse_outcomes_csv(text: str) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    """An outcomes CSV's text as (columns, rows); lines starting with ``#`` and blank lines are
    left out, column names lower-cased (as ``analyze run`` reads them). Malformed files are left
    to ``read_outcomes``, which names the line: here a short row just gets empty cells."""
    lines = [line for line in text.splitlines(True) if line.strip() and not line.startswith("#")]
    reader = csv.reader(io.StringIO("".join(lines)))
    header = next(reader, None)
    if header is None:
        return (), []
    columns = tuple(h.strip().lower() for h in header)
    rows = [dict(zip(columns, [*cells, *[""] * len(columns)], strict=False)) for cells in reader]
    return columns, rows


def with_risk_of_bias(
    columns: tuple[str, ...],
    rows: list[dict[str, str]],
    overall: Mapping[str, str],
    *,
    exclude: str | None = None,
    add_column: bool = False,
) -> tuple[tuple[str, ...], list[dict[str, str]], list[str], list[str]]:
    """Rows without the comparisons of studies whose overall risk of bias is ``exclude``, and
    (``add_column``) with a :data:`ROB_COLUMN` column (the study's overall risk, or
    :data:`NOT_ASSESSED`) for ``--by rob_overall``.

    :param overall: ``{study label: Low | Unclear | High}`` (the consensus overall risk of bias;
        ``rob.service.overall_risk_by_study``); a comparison is matched to its study by
        :func:`study_of_comparison`.
    :param exclude: a risk level (any case) whose studies' comparisons are left out; a study
        without a rating is kept.
    :returns: (columns, rows, the comparison labels left out, the comparison labels without a
        rating), labels sorted.
    """
    levels = {study.casefold(): level for study, level in overall.items()}
    by_fold = {study.casefold(): study for study in overall}
    kept: list[dict[str, str]] = []
    dropped: set[str] = set()
    unrated: set[str] = set()
    for row in rows:
        study = study_of_comparison(row["study"].casefold(), by_fold)
        level = levels.get(study) if study is not None else None
        if level is None:
            unrated.add(row["study"])
        if exclude is not None and level is not None and level.casefold() == exclude.casefold():
            dropped.add(row["study"])
            continue
        kept.append(row | ({ROB_COLUMN: level or NOT_ASSESSED} if add_column else {}))
    if add_column and ROB_COLUMN not in columns:
        columns = (columns[0], ROB_COLUMN, *columns[1:])
    if not kept:
        raise InvalidInput(
            f"--exclude-rob {exclude}: every comparison is left out ({', '.join(sorted(dropped))})"
        )
    return columns, kept, sorted(dropped), sorted(unrated)
