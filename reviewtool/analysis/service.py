"""Pooled analyses inside a review: ``reviewtool analyze run``, ``runs`` and ``export``.

:func:`run_analysis` reads a long-format outcomes CSV (one row per study × outcome × time point,
arm-level columns; the schema is in ``docs/analysis.md``), pools every outcome × time point with the
review's settings (``analysis.model``, ``analysis.tau2``), adds the requested subgroup,
leave-one-out and small-study analyses, flags the time points of an outcome whose baseline
comparison differs, and stores it all as one ``analysis_run`` row with an ``analysis-run`` audit
event. Everything is checked before anything is written: bad input raises :class:`InvalidInput`
naming the file, the line and the column, and stores nothing.

:func:`export_run` writes a stored run's tables (CSV, Markdown, XLSX) and its forest and funnel
plots. It works from the stored results alone, so a run exports the same way years later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.analysis.effect_sizes import BINARY_MEASURES, CONTINUOUS_MEASURES
from reviewtool.analysis.funnel import FUNNEL_MIN_K
from reviewtool.analysis.meta import Settings, subgroup_analysis
from reviewtool.analysis.outcomes import (
    BASELINE_ALPHA,
    is_baseline,
    order_time_points,
    time_point_weeks,
)
from reviewtool.analysis.results import (
    FileAnalysis,
    SubgroupAnalysis,
)
from reviewtool.analysis.study_table import StudyTable, analyse_table, effect_sizes_from_table
from reviewtool.analysis.table_input import (
    BINARY_COLUMNS,
    CONTINUOUS_COLUMNS,
    cell_error,
    check_arms,
    read_csv_table,
)
from reviewtool.audit.events import AnalysisRunRecorded
from reviewtool.csvfiles import safe_writer, spreadsheet_safe
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound, ParseError
from reviewtool.storage import queries
from reviewtool.storage.models import AnalysisRun, Member
from reviewtool.storage.snapshots import analysis_run_snapshot

KEY_COLUMNS = ("study", "outcome", "time_point")
EXPORT_FORMATS = ("csv", "md", "xlsx")
PLOT_FORMATS = ("png", "svg")
BASELINE_FLAG = "baseline differs"
#: Optional per-outcome columns of the outcomes CSV that label the plots (constant per outcome:
#: the first filled value is used): the outcome's name with its ``unit``, the arms' names, and
#: which values of the outcome are good (``better``: ``higher`` or ``lower``).
LABEL_COLUMNS = ("outcome_title", "unit", "arm_exp", "arm_con", "better")
BETTER_VALUES = ("higher", "lower")
#: Latest time point accepted (100 years, in weeks): a later one is a typing error.
MAX_TIME_WEEKS = 100 * 52.0


# --------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class OutcomeTable:
    """The checked outcomes CSV: its columns, rows (as dicts), line numbers and data kinds."""

    path: str
    sha256: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    lines: tuple[int, ...]
    kinds: tuple[str, ...]  # "continuous" or "binary", per row
    time_points: tuple[str, ...] = ()  # named time points allowed (after every time, in order)


def _check_row(
    row: Mapping[str, str], path: str, line: int, named: Collection[str] = frozenset()
) -> str:
    """The row's kind ("continuous" or "binary") after checking every arm-level value."""
    for c in KEY_COLUMNS:
        if not row[c]:
            raise ParseError(f"column {c!r} is empty", path=path, line=line)
    has_cont = any(row.get(c, "") for c in CONTINUOUS_COLUMNS)
    has_bin = any(row.get(c, "") for c in BINARY_COLUMNS)
    if has_cont and has_bin:
        raise ParseError(
            "the row has both means/SDs and event counts; give one or the other",
            path=path,
            line=line,
        )
    if not (has_cont or has_bin):
        raise ParseError(
            f"no arm-level data: fill {', '.join(CONTINUOUS_COLUMNS)} "
            f"or {', '.join(BINARY_COLUMNS)}",
            path=path,
            line=line,
        )
    kind = "continuous" if has_cont else "binary"
    check_arms(row, kind, path, line)
    _check_time_point(row, path, line, named)
    return kind


def _check_time_point(
    row: Mapping[str, str], path: str, line: int, named: Collection[str] = frozenset()
) -> None:
    """Refuse a time point that is neither baseline nor a time (docs/analysis.md, forms allowed)
    nor one of ``named`` (time points an extraction form declares, e.g. "end of treatment", put
    after every time): it could not be put in time order."""
    text = row["time_point"]
    weeks = time_point_weeks(text)
    if weeks is None and text in named:
        return
    if weeks is None:
        raise cell_error(
            row,
            "time_point",
            f"{text!r} is not a time point: write baseline (or 0, week 0), or a number "
            "and a unit: 2 weeks, week 4, 6 months, 90 days (a bare number means weeks)",
            path,
            line,
        )
    if weeks > MAX_TIME_WEEKS:
        raise cell_error(
            row, "time_point", f"{text!r} is more than 100 years after baseline", path, line
        )


def _check_header(columns: tuple[str, ...], by: Sequence[str], path: str, line: int) -> None:
    missing = [c for c in KEY_COLUMNS if c not in columns]
    if missing:
        raise ParseError(
            f"no column {missing[0]!r} in the header (needed: {', '.join(KEY_COLUMNS)})",
            path=path,
            line=line,
        )
    if not (set(CONTINUOUS_COLUMNS) <= set(columns) or set(BINARY_COLUMNS) <= set(columns)):
        wanted = CONTINUOUS_COLUMNS if "mean_exp" in columns else BINARY_COLUMNS
        gone = [c for c in wanted if c not in columns]
        raise ParseError(
            f"no column {gone[0]!r} in the header (arm-level data need "
            f"{', '.join(CONTINUOUS_COLUMNS)} or {', '.join(BINARY_COLUMNS)})",
            path=path,
            line=line,
        )
    for c in by:
        if c.lower() not in columns:
            raise ParseError(
                f"no column {c!r} to group by (columns: {', '.join(columns)})",
                path=path,
                line=line,
            )


def read_outcomes(
    path: str | Path,
    *,
    by: Sequence[str] = (),
    text: str | None = None,
    time_points: Sequence[str] = (),
) -> OutcomeTable:
    """Read and check the long-format outcomes CSV at ``path``; :class:`ParseError` on bad input.

    The file is read by :func:`~reviewtool.analysis.table_input.read_csv_table` and each row's
    arm-level values are checked by :func:`~reviewtool.analysis.table_input.check_arms`, as
    ``analyze file`` does. ``by`` names the study-level columns that will be used for subgroups:
    they must exist, be filled in every row, and agree across the rows of one study.
    ``time_points`` names time points allowed although they are not times (an extraction form's
    "end of treatment"); the analysis orders them after every time, in this order.
    """
    named = frozenset(time_points)
    csv_table = read_csv_table(
        path,
        what="data rows",
        check_header=lambda columns, p, line: _check_header(columns, by, p, line),
        text=text,
    )
    p, columns = csv_table.path, csv_table.columns
    kinds: list[str] = []
    first_line: dict[tuple[str, str, str], int] = {}
    outcome_kind: dict[str, tuple[str, int]] = {}
    study_values: dict[tuple[str, str], tuple[str, int]] = {}
    for row, start in zip(csv_table.rows, csv_table.lines, strict=True):
        kind = _check_row(row, p, start, named)
        key = (row["study"], row["outcome"], row["time_point"])
        if key in first_line:
            raise ParseError(
                f"study {key[0]!r}, outcome {key[1]!r}, time point {key[2]!r} is already on "
                f"line {first_line[key]}",
                path=p,
                line=start,
            )
        first_line[key] = start
        better = row.get("better", "").lower()
        if better not in ("", *BETTER_VALUES):
            raise ParseError(
                f"column 'better': {row['better']!r} is not one of {', '.join(BETTER_VALUES)} "
                "(which values of the outcome are good: higher, e.g. survival, or lower, e.g. "
                "MELD)",
                path=p,
                line=start,
            )
        seen_kind, seen_line = outcome_kind.setdefault(row["outcome"], (kind, start))
        if seen_kind != kind:
            raise ParseError(
                f"outcome {row['outcome']!r} has {kind} data here but {seen_kind} data on "
                f"line {seen_line}",
                path=p,
                line=start,
            )
        for c in by:
            value = row[c.lower()]
            if not value:
                raise ParseError(
                    f"column {c.lower()!r} is empty; every row needs a value to group by",
                    path=p,
                    line=start,
                )
            first, at = study_values.setdefault((row["study"], c.lower()), (value, start))
            if first != value:
                raise ParseError(
                    f"column {c.lower()!r}: study {row['study']!r} is {value!r} here but "
                    f"{first!r} on line {at}",
                    path=p,
                    line=start,
                )
        kinds.append(kind)
    return OutcomeTable(
        path=p,
        sha256=csv_table.sha256,
        columns=columns,
        rows=csv_table.rows,
        lines=csv_table.lines,
        kinds=tuple(kinds),
        time_points=tuple(time_points),
    )


# ------------------------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class OutcomeAnalysis:
    """One outcome at one time point: the pooled analysis, its subgroups and its flag."""

    outcome: str
    time_point: str
    kind: str
    flag: str
    analysis: FileAnalysis
    subgroups: tuple[SubgroupAnalysis, ...] = ()
    labels: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the ``analyze file`` keys plus outcome, time point, flag and
        ``labels`` (the :data:`LABEL_COLUMNS` given for the outcome, e.g. ``unit``)."""
        d = self.analysis.to_dict()
        d.pop("source", None)
        d["subgroups"] = [sg.to_dict() for sg in self.subgroups]
        if self.analysis.funnel is not None:
            d["funnel"] = self.analysis.funnel.to_dict()
        return {
            "outcome": self.outcome,
            "time_point": self.time_point,
            "kind": self.kind,
            "flag": self.flag,
            "labels": dict(self.labels or {}),
            **d,
        }


def analyse_outcomes_table(
    table: OutcomeTable,
    *,
    settings: Settings,
    by: Sequence[str] = (),
    loo: bool = False,
    bias: bool = False,
    continuous_measure: str = "SMD",
    binary_measure: str = "OR",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[OutcomeAnalysis, ...]:
    """Pool every outcome × time point of ``table`` (pure: no database); ``progress(done,
    total)`` is called after each outcome × time point is pooled."""
    by = [c.lower() for c in by]
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(table.rows):
        groups.setdefault((row["outcome"], row["time_point"]), []).append(i)
    step = progress or (lambda _done, _total: None)
    out: list[OutcomeAnalysis] = []
    for outcome in dict.fromkeys(r["outcome"] for r in table.rows):
        labels = {
            c: next((r[c] for r in table.rows if r["outcome"] == outcome and r.get(c)), "")
            for c in LABEL_COLUMNS
            if c in table.columns
        }
        if "better" in labels:
            labels["better"] = labels["better"].lower()
        time_points = order_time_points([tp for o, tp in groups if o == outcome], table.time_points)
        differs = False
        for tp in time_points:
            idx = groups[(outcome, tp)]
            kind = table.kinds[idx[0]]
            data_cols = CONTINUOUS_COLUMNS if kind == "continuous" else BINARY_COLUMNS
            cols = ("study", *dict.fromkeys(by), *data_cols)
            sub = StudyTable(
                path=table.path,
                columns=cols,
                rows=tuple({c: table.rows[i][c] for c in cols} for i in idx),
                lines=tuple(table.lines[i] for i in idx),
            )
            measure = continuous_measure if kind == "continuous" else binary_measure
            try:
                fa = analyse_table(sub, measure=measure, settings=settings, loo=loo, bias=bias)
                subgroups: tuple[SubgroupAnalysis, ...] = ()
                if by:
                    es = effect_sizes_from_table(sub, measure)
                    subgroups = tuple(
                        subgroup_analysis(es, es.extra[c], variable=c, settings=settings)
                        for c in dict.fromkeys(by)
                    )
            except InvalidInput as exc:
                raise InvalidInput(f"{table.path}: {outcome} at {tp}: {exc}") from None
            if is_baseline(tp):
                differs = fa.main.pooled.p < BASELINE_ALPHA
            out.append(
                OutcomeAnalysis(
                    outcome=outcome,
                    time_point=tp,
                    kind=kind,
                    flag=BASELINE_FLAG if differs else "",
                    analysis=fa,
                    subgroups=subgroups,
                    labels=labels,
                )
            )
            step(len(out), len(groups))
    return tuple(out)


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_run` wrote."""

    run_id: int
    out_dir: str
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunView:
    """A stored analysis run as the CLI shows it (``run_by``: the member's name)."""

    id: int
    name: str
    run_by: str
    run_at: str
    settings: dict[str, Any]
    input_sha256: str
    input_source: str
    results: dict[str, Any]
    already_stored: bool = False
    """True when :func:`run_analysis` found this run already stored (same name, settings and
    input SHA-256) and stored nothing new."""

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per outcome × time point (the ``pooled`` table)."""
        return pooled_rows(self.results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (without the full results)."""
        return {
            "id": self.id,
            "name": self.name,
            "run_by": self.run_by,
            "run_at": self.run_at,
            "settings": self.settings,
            "input_sha256": self.input_sha256,
            "input_source": self.input_source,
            "analyses": len(self.results.get("analyses", [])),
        }


def _json_clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_json_clean(value), ensure_ascii=False, allow_nan=False)


def _view(run: AnalysisRun, run_by: str) -> RunView:
    assert run.id is not None
    return RunView(
        id=run.id,
        name=run.name,
        run_by=run_by,
        run_at=run.run_at,
        settings=json.loads(run.settings),
        input_sha256=run.input_sha256,
        input_source=run.input_source,
        results=json.loads(run.results),
    )


def run_analysis(
    session: Session,
    *,
    actor: str,
    data_path: str | Path,
    name: str,
    by: Sequence[str] = (),
    loo: bool = False,
    bias: bool = False,
    continuous_measure: str = "SMD",
    binary_measure: str = "OR",
    data_text: str | None = None,
    input_details: Mapping[str, Any] | None = None,
    time_points: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> RunView:
    """Pool the outcomes CSV at ``data_path`` and store the run; committed by the caller.

    ``data_text``, when given, is the outcomes table's CSV text (made from the extraction's
    consensus values by the CLI) and ``data_path`` names where it came from; it is checked as a
    file is. ``input_details`` (e.g. the form version) is stored in the run's settings as
    ``input``. ``time_points`` names time points that are not times but allowed (those an
    extraction form declares: "end of treatment"), ordered after every time in this order.
    ``progress(done, total)``: outcome × time points pooled so far, of all.

    A retry is idempotent: when a run with the same name, settings (model, τ² estimator,
    measures, ``by``, leave-one-out, bias, level) and input SHA-256 is stored already, that run
    is returned with ``already_stored=True`` and nothing is stored or recorded; a changed input
    or setting stores a new run.

    The model (``analysis.model``) and τ² estimator (``analysis.tau2``) are the review's
    settings. Exporting is a separate step (:func:`export_run`, in a read session) so that
    drawing plots never holds the review's write lock.
    """
    runner = require(session, actor, Action.ANALYSE, doing="run an analysis")
    assert runner.id is not None
    name = name.strip()
    if not name:
        raise InvalidInput("a run needs a name (--name)")
    continuous_measure, binary_measure = continuous_measure.upper(), binary_measure.upper()
    if continuous_measure not in CONTINUOUS_MEASURES:
        raise InvalidInput(
            f"continuous measure {continuous_measure!r}: choose {', '.join(CONTINUOUS_MEASURES)}"
        )
    if binary_measure not in BINARY_MEASURES:
        raise InvalidInput(
            f"binary measure {binary_measure!r}: choose {', '.join(BINARY_MEASURES)}"
        )
    settings = Settings(
        model=str(queries.setting(session, "analysis.model")),
        tau2_method=str(queries.setting(session, "analysis.tau2")),
    )
    by = list(dict.fromkeys(c.strip().lower() for c in by))
    table = read_outcomes(data_path, by=by, text=data_text, time_points=time_points)
    stored_settings = {
        "model": settings.model,
        "tau2_method": settings.tau2_method,
        "method": settings.method,
        "hksj": settings.hksj,
        "level": settings.level,
        "continuous_measure": continuous_measure,
        "binary_measure": binary_measure,
        "by": by,
        "leave_one_out": loo,
        "bias": bias,
        "baseline_alpha": BASELINE_ALPHA,
    }
    if input_details is not None:
        stored_settings["input"] = dict(input_details)
    same = _same_run(session, name, _dumps(stored_settings), table.sha256)
    if same is not None:
        return same
    analyses = analyse_outcomes_table(
        table,
        settings=settings,
        by=by,
        loo=loo,
        bias=bias,
        continuous_measure=continuous_measure,
        binary_measure=binary_measure,
        progress=progress,
    )
    notes: dict[tuple[str, str], list[str]] = {}
    for split in (input_details or {}).get("shared_control_splits", []):
        notes.setdefault((split["outcome"], split["time_point"]), []).append(split["note"])
    results = {
        "source": table.path,
        "analyses": [
            a.to_dict()
            | ({"notes": notes[key]} if (key := (a.outcome, a.time_point)) in notes else {})
            for a in analyses
        ],
    }
    run = AnalysisRun(
        name=name,
        run_by_id=runner.id,
        run_at=audit.log.utc_now(),
        settings=_dumps(stored_settings),
        input_sha256=table.sha256,
        input_source=table.path,
        results=_dumps(results),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    audit.record(
        session,
        actor,
        AnalysisRunRecorded(
            run_id=run.id,
            after=analysis_run_snapshot(run),
            results=run.results,
            settings_text=run.settings,
        ),
    )
    return _view(run, runner.name)


def _same_run(session: Session, name: str, settings: str, sha256: str) -> RunView | None:
    """The stored run with this name, settings (canonical JSON) and input SHA-256, if any."""
    found = session.exec(
        select(AnalysisRun, Member.name)
        .join(Member, col(Member.id) == col(AnalysisRun.run_by_id))
        .where(
            AnalysisRun.name == name,
            AnalysisRun.settings == settings,
            AnalysisRun.input_sha256 == sha256,
        )
        .order_by(col(AnalysisRun.id))
    ).first()
    if found is None:
        return None
    return replace(_view(found[0], found[1]), already_stored=True)


def _runs_with_names(session: Session, run_id: int | None = None) -> list[RunView]:
    """Stored runs, oldest first, each with its runner's name (``member`` joined)."""
    query = (
        select(AnalysisRun, Member.name)
        .join(Member, col(Member.id) == col(AnalysisRun.run_by_id))
        .order_by(col(AnalysisRun.id))
    )
    if run_id is not None:
        query = query.where(AnalysisRun.id == run_id)
    return [_view(run, name) for run, name in session.exec(query).all()]


def list_runs(session: Session) -> list[RunView]:
    """Every stored run, oldest first."""
    return _runs_with_names(session)


def get_run(session: Session, run_id: int) -> RunView:
    """The stored run ``run_id``; :class:`NotFound` when there is none."""
    found = _runs_with_names(session, run_id)
    if not found:
        raise NotFound(f"no analysis run {run_id}; `reviewtool analyze runs` lists them")
    return found[0]


def find_run(session: Session, which: str) -> RunView:
    """The stored run named by its id, or by its name (the newest run of that name);
    :class:`NotFound` naming how to list them."""
    text = which.strip()
    runs = _runs_with_names(session, int(text)) if text.isdigit() else []
    if not runs:
        runs = [r for r in _runs_with_names(session) if r.name == text]
    if not runs:
        raise NotFound(f"no analysis run {which!r}; `reviewtool analyze runs` lists them")
    return runs[-1]


def study_weights(results: Mapping[str, Any], outcome: str, time_point: str) -> dict[str, float]:
    """study -> its weight (%) in the pooled estimate of ``outcome`` at ``time_point`` of a run's
    results (the weights the forest plot prints; random-effects weights under a random-effects
    model). Studies without an estimate are left out. :class:`NotFound` names the analyses the run
    has when it has no such one."""
    for a in results["analyses"]:
        if a["outcome"] == outcome and str(a["time_point"]) == time_point:
            return {s["study"]: float(s["weight"]) for s in a["studies"] if s["weight"] is not None}
    known = ", ".join(f"{a['outcome']}@{a['time_point']}" for a in results["analyses"])
    raise NotFound(f"the run has no analysis {outcome}@{time_point}; it has: {known}")


def export_run(
    session: Session,
    run_id: int,
    out_dir: str | Path,
    formats: Sequence[str] | None = None,
    *,
    plots: bool = True,
    subgroup_plots: bool = False,
    subgroup_weights: str = "overall",
    funnel_min_k: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    plot_formats: Sequence[str] = PLOT_FORMATS,
) -> ExportReport:
    """Write run ``run_id``'s tables and plots into ``out_dir`` (created if missing).

    ``formats`` is any of ``csv``, ``md``, ``xlsx``; None means csv and md, and xlsx too when
    openpyxl is installed. Asking for xlsx without openpyxl is refused before anything is written.
    Plots (forest and funnel per outcome × time point, PNG and SVG) go to ``out_dir/plots``; with
    ``subgroup_plots`` also a forest plot with subgroup sections per ``--by`` variable, whose
    study weights add to 100% over all subgroups (``subgroup_weights="overall"``, RevMan) or within
    each subgroup (``"within"``); per outcome one forest plot with its time points as sections.
    Funnel plots are drawn where an analysis has at least ``funnel_min_k`` studies (default: the
    review's setting ``analysis.funnel_min_k``, 10). The plots are drawn in a process pool
    (:func:`reviewtool.analysis.plots.draw_all`); ``progress(done, total)`` counts them.
    ``plot_formats``: the file formats of each plot (``png``, ``svg``), default both.
    """
    chosen = check_export(out_dir, formats)
    if subgroup_weights not in ("overall", "within"):
        raise InvalidInput(f"subgroup weights {subgroup_weights!r}: choose overall or within")
    if funnel_min_k is None:
        funnel_min_k = int(str(queries.setting(session, "analysis.funnel_min_k")))
    return _export(
        get_run(session, run_id),
        Path(out_dir),
        chosen,
        plots=plots,
        subgroup_plots=subgroup_plots,
        subgroup_weights=subgroup_weights,
        funnel_min_k=funnel_min_k,
        progress=progress,
        plot_formats=plot_formats,
    )


# -------------------------------------------------------------------------------------- export


def _has_openpyxl() -> bool:
    import importlib.util

    return importlib.util.find_spec("openpyxl") is not None


def check_export(out_dir: str | Path | None, formats: Sequence[str] | None) -> tuple[str, ...]:
    """The table formats to write, or :class:`InvalidInput` for a bad format, a missing openpyxl
    or an ``out_dir`` that is a file. ``analyze run --out`` calls it before storing the run."""
    chosen: tuple[str, ...]
    if formats is None:
        chosen = ("csv", "md", "xlsx") if _has_openpyxl() else ("csv", "md")
    else:
        chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats))
        bad = [f for f in chosen if f not in EXPORT_FORMATS]
        if bad:
            raise InvalidInput(f"export format {bad[0]!r}: choose {', '.join(EXPORT_FORMATS)}")
        if "xlsx" in chosen and not _has_openpyxl():
            raise InvalidInput(
                "XLSX export needs the openpyxl package (pip install openpyxl); "
                "or export csv and md only"
            )
    if out_dir is not None:
        from reviewtool.outfolder import check_target

        check_target(Path(out_dir), could_write=_export_could_write)
    return chosen


_EXPORT_FILE = re.compile(
    r"(pooled|studies|subgroups|leave_one_out|small_study_effects)\.csv|analysis\.(md|xlsx)"
    r"|results\.json|plots/[^/]+\.(png|svg)|metafor/[^/]+\.csv"
)


def _export_could_write(name: str) -> bool:
    """May an analysis export write the file ``name`` (relative, ``/``-separated)?"""
    return _EXPORT_FILE.fullmatch(name) is not None


def _slug(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") for p in parts)


def pooled_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per outcome × time point: k, model and why, estimate, CI, p, heterogeneity, flag."""
    rows = []
    for a in results["analyses"]:
        p, h = a["pooled"], a["heterogeneity"]
        rows.append(
            {
                "outcome": a["outcome"],
                "time_point": a["time_point"],
                "measure": a["measure"],
                "k": a["k"],
                "model": a["model"],
                "model_reason": a["model_reason"],
                "estimate": p["estimate"],
                "se": p["se"],
                "ci_low": p["ci_low"],
                "ci_high": p["ci_high"],
                "p": p["p"],
                "exp_estimate": p["exp_estimate"],
                "exp_ci_low": p["exp_ci_low"],
                "exp_ci_high": p["exp_ci_high"],
                "pi_low": p["pi_low"],
                "pi_high": p["pi_high"],
                "I2": h["I2"],
                "I2_form": h["I2_form"],
                "tau2": h["tau2"],
                "Q": h["Q"],
                "Q_df": h["df"],
                "p_Q": h["p"],
                "flag": a["flag"],
                "notes": "; ".join(a["notes"]),
            }
        )
    return rows


def _study_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every study of every analysis, in input order, with ``weight (%)``; a study without an
    estimate (e.g. a double-zero study for an odds ratio) gets a row with ``note`` "not
    estimable: <reason>" and no numbers, instead of disappearing."""
    rows = []
    numbers = ("yi", "vi", "se", "ci_low", "ci_high", "weight")
    for a in results["analyses"]:
        shown = {s["study"]: s for s in a["studies"]}
        reasons = {d["study"]: d["reason"] for d in a.get("dropped", [])}
        order = [x["study"] for x in a.get("arms", [])] or [*shown, *reasons]
        arms = {x["study"]: x for x in a.get("arms", [])}
        for study in order:
            s = shown.get(study)
            arm = arms.get(study, {})
            row: dict[str, Any] = {
                "outcome": a["outcome"],
                "time_point": a["time_point"],
                "measure": a["measure"],
                "study": study,
            }
            for key in numbers:
                row["weight (%)" if key == "weight" else key] = s[key] if s else None
            row["n_exp"] = s["n_exp"] if s else arm.get("n_exp", arm.get("total_exp"))
            row["n_con"] = s["n_con"] if s else arm.get("n_con", arm.get("total_con"))
            row["note"] = None if s else f"not estimable: {reasons.get(study, 'no estimate')}"
            rows.append(row)
    return rows


def _subgroup_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for a in results["analyses"]:
        for sg in a.get("subgroups", []):
            t = sg["test_for_subgroup_differences"]
            for g in sg["groups"]:
                p, h = g["pooled"], g["heterogeneity"]
                rows.append(
                    {
                        "outcome": a["outcome"],
                        "time_point": a["time_point"],
                        "variable": sg["variable"],
                        "subgroup": g["group"],
                        "k": g["k"],
                        "model": g["model"],
                        "estimate": p["estimate"],
                        "ci_low": p["ci_low"],
                        "ci_high": p["ci_high"],
                        "p": p["p"],
                        "exp_estimate": p["exp_estimate"],
                        "exp_ci_low": p["exp_ci_low"],
                        "exp_ci_high": p["exp_ci_high"],
                        "I2": h["I2"],
                        "tau2": h["tau2"],
                        "Q_between": t["Q_between"],
                        "df_between": t["df"],
                        "p_between": t["p"],
                        "note": None,
                    }
                )
            for g in sg.get("not_estimable", []):
                rows.append(
                    {
                        "outcome": a["outcome"],
                        "time_point": a["time_point"],
                        "variable": sg["variable"],
                        "subgroup": g["group"],
                        **dict.fromkeys(
                            (
                                "k",
                                "model",
                                "estimate",
                                "ci_low",
                                "ci_high",
                                "p",
                                "exp_estimate",
                                "exp_ci_low",
                                "exp_ci_high",
                                "I2",
                                "tau2",
                            )
                        ),
                        "Q_between": t["Q_between"],
                        "df_between": t["df"],
                        "p_between": t["p"],
                        "note": f"not estimable: {g['reason']}",
                    }
                )
    return rows


def _loo_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"outcome": a["outcome"], "time_point": a["time_point"], **r}
        for a in results["analyses"]
        for r in a.get("leave_one_out", [])
    ]


def _bias_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for a in results["analyses"]:
        if "egger" not in a and not a["warnings"]:
            continue
        e, b, tf = a.get("egger", {}), a.get("begg", {}), a.get("trim_fill", {})
        adj = tf.get("adjusted", {})
        rows.append(
            {
                "outcome": a["outcome"],
                "time_point": a["time_point"],
                "k": a["k"],
                "egger_bias": e.get("bias"),
                "egger_se": e.get("se"),
                "egger_t": e.get("t"),
                "egger_df": e.get("df"),
                "egger_p": e.get("p"),
                "begg_tau": b.get("tau"),
                "begg_p": b.get("p"),
                "trimfill_k0": tf.get("k0"),
                "trimfill_side": tf.get("side"),
                "trimfill_estimate": adj.get("estimate"),
                "trimfill_ci_low": adj.get("ci_low"),
                "trimfill_ci_high": adj.get("ci_high"),
                "warnings": "; ".join(a["warnings"]),
            }
        )
    return rows


def _tables(results: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    tables = {
        "pooled": pooled_rows(results),
        "studies": _study_rows(results),
        "subgroups": _subgroup_rows(results),
        "leave_one_out": _loo_rows(results),
        "small_study_effects": _bias_rows(results),
    }
    return {name: rows for name, rows in tables.items() if rows}


def result_tables(results: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A stored run's tables by name (``pooled``, ``studies``, ``subgroups``, ``leave_one_out``,
    ``small_study_effects``; empty ones left out), each a list of rows keyed by column, as
    :func:`export_run` writes them (the report layer shows them too)."""
    return _tables(results)


# Columns that count things (participants, studies, degrees of freedom): whole numbers print as
# integers even when an older stored run holds them as floats (4.0 -> "4", never "4.0000").
COUNT_COLUMNS = frozenset({"n_exp", "n_con", "k", "df", "df_between", "n", "trimfill_k0"})


def _count(value: Any, column: str | None) -> Any:
    if column in COUNT_COLUMNS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cell(value: Any, column: str | None = None) -> str:
    value = _count(value, column)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    return str(value)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = safe_writer(fh)
        writer.writerow(list(rows[0]))
        writer.writerows([_cell(v, k) for k, v in r.items()] for r in rows)


def _md_table(rows: list[dict[str, Any]]) -> str:
    cols = list(rows[0])
    esc = [[_cell(r[c], c).replace("|", "\\|") for c in cols] for r in rows]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(r) + " |" for r in esc]
    return "\n".join(out)


def _write_md(path: Path, run: RunView, tables: dict[str, list[dict[str, Any]]]) -> None:
    s = run.settings
    head = [
        f"# Analysis run {run.id}: {run.name}",
        "",
        f"- run by {run.run_by} at {run.run_at}",
        f"- input: `{run.input_source}` (sha256 `{run.input_sha256}`)",
        f"- model: {s['model']} (tau² {s['tau2_method']}); measures: {s['continuous_measure']} "
        f"(continuous), {s['binary_measure']} (binary, analysed on the log scale; exp_* columns "
        "back-transformed)",
        f"- subgroups by: {', '.join(s['by']) or 'none'}; leave-one-out: "
        f"{'yes' if s['leave_one_out'] else 'no'}; Egger/Begg: {'yes' if s['bias'] else 'no'}",
        f"- `{BASELINE_FLAG}`: the outcome's baseline comparison has p < {s['baseline_alpha']}",
        "",
    ]
    body = []
    for name, rows in tables.items():
        body += [f"## {name.replace('_', ' ').capitalize()}", "", _md_table(rows), ""]
    path.write_text("\n".join(head + body), encoding="utf-8")


def _write_xlsx(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in tables.items():
        ws = wb.create_sheet(title=name[:31])
        cols = list(rows[0])
        ws.append(cols)
        for r in rows:
            ws.append([spreadsheet_safe(_count(r[c], c)) for c in cols])
    wb.save(path)


def plot_jobs(
    results: Mapping[str, Any],
    folder: Path,
    *,
    subgroup_plots: bool = False,
    subgroup_weights: str = "overall",
    funnel_min_k: int = FUNNEL_MIN_K,
    plot_formats: Sequence[str] = PLOT_FORMATS,
) -> list[dict[str, Any]]:
    """The plots of a stored run as plain-data jobs for :func:`reviewtool.analysis.plots.draw_all`.

    Per outcome × time point a forest plot (``forest_OUTCOME_TIME``), with ``subgroup_plots`` one
    per ``--by`` variable (``forest_OUTCOME_TIME_by_VARIABLE``), and a funnel plot where there are
    at least ``funnel_min_k`` studies (``funnel_OUTCOME_TIME``); per outcome one forest plot with
    its time points as sections (``forest_OUTCOME``). Each in every one of ``plot_formats``
    (default PNG and SVG).
    """

    def files(stem: str) -> list[str]:
        return [str(folder / f"{stem}.{ext}") for ext in plot_formats]

    jobs: list[dict[str, Any]] = []
    by_outcome: dict[str, list[Mapping[str, Any]]] = {}
    for a in results["analyses"]:
        by_outcome.setdefault(a["outcome"], []).append(a)
        slug = _slug(a["outcome"], a["time_point"])
        jobs.append({"kind": "forest", "analysis": a, "paths": files(f"forest_{slug}")})
        for sg in a.get("subgroups", []) if subgroup_plots else ():
            jobs.append(
                {
                    "kind": "subgroup",
                    "analysis": a,
                    "variable": sg["variable"],
                    "subgroup_weights": subgroup_weights,
                    "paths": files(f"forest_{slug}_by_{_slug(sg['variable'])}"),
                }
            )
        if a.get("funnel") is not None and a["k"] >= max(2, funnel_min_k):
            jobs.append({"kind": "funnel", "analysis": a, "paths": files(f"funnel_{slug}")})
    for outcome, analyses in by_outcome.items():
        jobs.append(
            {"kind": "outcome", "analyses": analyses, "paths": files(f"forest_{_slug(outcome)}")}
        )
    # Biggest first, so the pool's last job is a short one.
    return sorted(jobs, key=lambda j: -len(j.get("analyses", [j.get("analysis")])))


def _export(
    run: RunView,
    out: Path,
    formats: Sequence[str],
    *,
    plots: bool,
    subgroup_plots: bool = False,
    subgroup_weights: str = "overall",
    funnel_min_k: int = FUNNEL_MIN_K,
    progress: Callable[[int, int], None] | None = None,
    plot_formats: Sequence[str] = PLOT_FORMATS,
) -> ExportReport:
    """Write the export into a temporary sibling of ``out`` and rename it into place when whole
    (:func:`reviewtool.outfolder.written_whole`); the paths reported are those under ``out``."""
    from reviewtool.outfolder import written_whole

    with written_whole(out, kind="analysis", could_write=_export_could_write) as temp:
        written = _write_export(
            run,
            temp,
            formats,
            plots=plots,
            subgroup_plots=subgroup_plots,
            subgroup_weights=subgroup_weights,
            funnel_min_k=funnel_min_k,
            progress=progress,
            plot_formats=plot_formats,
        )
    notes = []
    if "xlsx" not in formats and not _has_openpyxl():
        notes.append("no XLSX: the openpyxl package is not installed")
    return ExportReport(
        run_id=run.id,
        out_dir=str(out),
        files=tuple(str(out / f.relative_to(temp)) for f in written),
        notes=tuple(notes),
    )


def _write_export(
    run: RunView,
    out: Path,
    formats: Sequence[str],
    *,
    plots: bool,
    subgroup_plots: bool,
    subgroup_weights: str,
    funnel_min_k: int,
    progress: Callable[[int, int], None] | None = None,
    plot_formats: Sequence[str] = PLOT_FORMATS,
) -> list[Path]:
    files: list[Path] = []
    tables = _tables(run.results)
    if "csv" in formats:
        for name, rows in tables.items():
            files.append(out / f"{name}.csv")
            _write_csv(files[-1], rows)
    if "csv" in formats:  # metafor-ready: escalc's yi, vi per study, one file per analysis
        from reviewtool.analysis import metafor_csv

        files += metafor_csv.write(run.results, out)
    if "md" in formats:
        files.append(out / "analysis.md")
        _write_md(files[-1], run, tables)
    if "xlsx" in formats:
        files.append(out / "analysis.xlsx")
        _write_xlsx(files[-1], tables)
    files.append(out / "results.json")
    files[-1].write_text(
        json.dumps(run.results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    if plots:
        from reviewtool.analysis import plots as plotting

        folder = out / "plots"
        folder.mkdir(exist_ok=True)
        jobs = plot_jobs(
            run.results,
            folder,
            subgroup_plots=subgroup_plots,
            subgroup_weights=subgroup_weights,
            funnel_min_k=funnel_min_k,
            plot_formats=plot_formats,
        )
        files += [Path(f) for f in plotting.draw_all(jobs, progress=progress)]
    return files


__all__ = [
    "EXPORT_FORMATS",
    "ExportReport",
    "OutcomeAnalysis",
    "OutcomeTable",
    "RunView",
    "analyse_outcomes_table",
    "check_export",
    "export_run",
    "get_run",
    "list_runs",
    "pooled_rows",
    "read_outcomes",
    "result_tables",
    "run_analysis",
]
