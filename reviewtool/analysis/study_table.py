"""Read a one-row-per-study CSV and run the whole standalone analysis on it.

Accepted column sets (besides ``study`` and optional ``year`` and subgroup columns):
``events_exp,total_exp,events_con,total_con`` (binary),
``mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con`` (continuous) or ``yi,vi`` / ``yi,sei``. The file
is read and its values checked by :mod:`reviewtool.analysis.table_input`, as for ``analyze run``:
errors name the file, the line, the column and the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewtool.analysis.bias import begg_test, egger_test, funnel_data, trim_and_fill
from reviewtool.analysis.effect_sizes import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURES,
    EffectSizes,
    binary_effects,
    continuous_effects,
    generic_effects,
)
from reviewtool.analysis.estimators import all_identical
from reviewtool.analysis.meta import (
    Settings,
    leave_one_out,
    meta_analysis,
    study_effects,
    subgroup_analysis,
)
from reviewtool.analysis.results import ARM_COLUMNS, FileAnalysis, StudyArms
from reviewtool.analysis.table_input import (
    BINARY_COLUMNS,
    CONTINUOUS_COLUMNS,
    cell_number,
    check_arms,
    read_csv_table,
    refuse_repeats,
)
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.text import counted


@dataclass(frozen=True)
class StudyTable:
    """The parsed CSV: header, rows as dicts and the line number of each row (and the header)."""

    path: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    lines: tuple[int, ...]
    header_line: int = 1


#: Columns that show a file holds one row per study × outcome × time point (``analyze run``).
LONG_FORMAT_COLUMNS = ("outcome", "time_point")


def _require_study(columns: tuple[str, ...], path: str, line: int) -> None:
    if "study" not in columns:
        raise ParseError("no 'study' column in the header", path=path, line=line)
    for c in LONG_FORMAT_COLUMNS:
        if c in columns:
            raise ParseError(
                f"column {c!r}: this is a long-format file (one row per study × outcome × "
                "time point); pool it with `reviewtool analyze run`, or keep one row per "
                "study for `analyze file`",
                path=path,
                line=line,
            )


def read_study_table(path: str | Path) -> StudyTable:
    """Read ``path`` with :func:`~reviewtool.analysis.table_input.read_csv_table` (the reader
    ``analyze run`` uses too) and require a ``study`` column, filled, with one row per study
    (study and ``year`` when there is a year column) and no ``outcome``/``time_point`` column (a
    long-format file is for ``analyze run``); :class:`ParseError` naming the file and line on
    malformed input. Values are checked by :func:`effect_sizes_from_table`, once the
    measure says which columns are used."""
    t = read_csv_table(path, what="study rows", check_header=_require_study)
    for row, line in zip(t.rows, t.lines, strict=True):
        if not row["study"]:
            raise ParseError("column 'study' is empty", path=t.path, line=line)
    year = "year" in t.columns
    refuse_repeats(
        t.rows,
        t.lines,
        lambda r: (r["study"], r["year"]) if year else (r["study"],),
        lambda k: (
            "column 'study': study "
            + (f"{k[0]!r} ({k[1]})" if len(k) == 2 and k[1] else repr(k[0]))
        ),
        t.path,
        "one row per study (a study given twice would be pooled twice)",
    )
    return StudyTable(t.path, t.columns, t.rows, t.lines, t.header_line)


def _checked(table: StudyTable, kind: str) -> None:
    # Every row's values for this kind of data, checked before any number is computed, so a bad
    # value is reported as FILE:LINE: column 'NAME': ... (study X) and never reaches numpy.
    for row, line in zip(table.rows, table.lines, strict=True):
        check_arms(row, kind, table.path, line)


def _numbers(table: StudyTable, column: str) -> list[float]:
    return [
        cell_number(row, column, table.path, line)
        for row, line in zip(table.rows, table.lines, strict=True)
    ]


def _has(table: StudyTable, cols: tuple[str, ...]) -> bool:
    return all(c in table.columns for c in cols)


def effect_sizes_from_table(
    table: StudyTable,
    measure: str,
    *,
    add: float = 0.5,
    drop_double_zero: bool = True,
) -> EffectSizes:
    """Effect sizes for ``measure`` from whichever supported column set the table has."""
    measure = measure.upper()
    if measure not in MEASURES:
        raise InvalidInput(f"measure {measure!r} is not one of {', '.join(MEASURES)}")
    labels = [r["study"] for r in table.rows]
    if "year" in table.columns:
        labels = [f"{r['study']} {r['year']}".strip() for r in table.rows]
    if _has(table, ("yi",)) and ("vi" in table.columns or "sei" in table.columns):
        _checked(table, "generic")
        yi = _numbers(table, "yi")
        if "vi" in table.columns:
            es = generic_effects(yi, vi=_numbers(table, "vi"), labels=labels, measure=measure)
        else:
            es = generic_effects(yi, sei=_numbers(table, "sei"), labels=labels, measure=measure)
    elif measure in BINARY_MEASURES:
        if not _has(table, BINARY_COLUMNS):
            missing = [c for c in BINARY_COLUMNS if c not in table.columns]
            raise ParseError(
                f"measure {measure} needs columns {', '.join(BINARY_COLUMNS)} "
                f"(missing: {', '.join(missing)})",
                path=table.path,
                line=table.header_line,
            )
        _checked(table, "binary")
        cols = [_numbers(table, c) for c in BINARY_COLUMNS]
        try:
            es = binary_effects(
                *cols,
                measure=measure,  # type: ignore[arg-type]
                labels=labels,
                add=add,
                to="only0" if add > 0 else "none",
                drop_double_zero=drop_double_zero,
            )
        except InvalidInput as exc:  # e.g. every study without events: name the file
            raise ParseError(str(exc), path=table.path) from None
    elif measure in CONTINUOUS_MEASURES:
        if not _has(table, CONTINUOUS_COLUMNS):
            missing = [c for c in CONTINUOUS_COLUMNS if c not in table.columns]
            raise ParseError(
                f"measure {measure} needs columns {', '.join(CONTINUOUS_COLUMNS)} "
                f"(missing: {', '.join(missing)})",
                path=table.path,
                line=table.header_line,
            )
        _checked(table, "continuous")
        cols = [_numbers(table, c) for c in CONTINUOUS_COLUMNS]
        es = continuous_effects(*cols, measure=measure, labels=labels)  # type: ignore[arg-type]
    else:
        raise ParseError(
            "measure GEN needs columns yi and vi (or yi and sei)",
            path=table.path,
            line=table.header_line,
        )
    # Carry every other column along so subgroup variables can be chosen later.
    known = {"study", "year", *BINARY_COLUMNS, *CONTINUOUS_COLUMNS, "yi", "vi", "sei"}
    gone = {lab for lab, _ in es.dropped}
    extra = {
        c: tuple(r[c] for r, lab in zip(table.rows, labels, strict=True) if lab not in gone)
        for c in table.columns
        if c not in known
    }
    # The dropped studies' columns, aligned with ``es.dropped``.
    row_of = dict(zip(labels, table.rows, strict=True))
    dropped_extra = {
        c: tuple(row_of[lab][c] for lab, _ in es.dropped if lab in row_of)
        for c in table.columns
        if c not in known
    }
    return EffectSizes(
        measure=es.measure,
        labels=es.labels,
        yi=es.yi,
        vi=es.vi,
        tables=es.tables,
        n_exp=es.n_exp,
        n_con=es.n_con,
        dropped=es.dropped,
        corrected=es.corrected,
        extra=extra,
        continuity=es.continuity,
        dropped_tables=es.dropped_tables,
        dropped_extra=dropped_extra,
    )


def study_arms(table: StudyTable, measure: str) -> tuple[StudyArms, ...]:
    """Every row's arm data (means, SDs and sizes, or events and totals), in input order.

    Includes the studies the analysis leaves out (e.g. double-zero studies), so the forest plot
    can show them as "Not estimable". Labels are those of :func:`effect_sizes_from_table`
    (study and year). Values must already be checked (they are read with ``cell_number``).
    """
    measure = measure.upper()
    if _has(table, ("yi",)) and ("vi" in table.columns or "sei" in table.columns):
        kind = "generic"
    elif measure in BINARY_MEASURES and _has(table, BINARY_COLUMNS):
        kind = "binary"
    elif measure in CONTINUOUS_MEASURES and _has(table, CONTINUOUS_COLUMNS):
        kind = "continuous"
    else:
        kind = "generic"
    known = {"study", "year", *BINARY_COLUMNS, *CONTINUOUS_COLUMNS, "yi", "vi", "sei"}
    out = []
    for row, line in zip(table.rows, table.lines, strict=True):
        label = f"{row['study']} {row['year']}".strip() if "year" in table.columns else row["study"]
        values = {c: cell_number(row, c, table.path, line) for c in ARM_COLUMNS[kind]}
        groups = {c: row[c] for c in table.columns if c not in known}
        out.append(StudyArms(study=label, kind=kind, values=values, groups=groups))
    return tuple(out)


def analyse_file(
    path: str | Path,
    *,
    measure: str,
    settings: Settings | None = None,
    by: str | None = None,
    loo: bool = False,
    bias: bool = False,
    add: float = 0.5,
    drop_double_zero: bool = True,
) -> FileAnalysis:
    """Everything ``reviewtool analyze file`` reports for one CSV."""
    return analyse_table(
        read_study_table(path),
        measure=measure,
        settings=settings,
        by=by,
        loo=loo,
        bias=bias,
        add=add,
        drop_double_zero=drop_double_zero,
    )


def analyse_table(
    table: StudyTable,
    *,
    measure: str,
    settings: Settings | None = None,
    by: str | None = None,
    loo: bool = False,
    bias: bool = False,
    add: float = 0.5,
    drop_double_zero: bool = True,
) -> FileAnalysis:
    """:func:`analyse_file` on rows already read (``reviewtool analyze run`` passes each group)."""
    s = settings or Settings()
    if by is not None and by.lower() not in table.columns:
        raise ParseError(
            f"no column {by!r} to group by (columns: {', '.join(table.columns)})",
            path=table.path,
            line=table.header_line,
        )
    if by is not None:
        for row, line in zip(table.rows, table.lines, strict=True):
            if not row[by.lower()]:
                raise ParseError(
                    f"column {by.lower()!r} is empty; every row needs a value to group by "
                    f"(study {row['study']})",
                    path=table.path,
                    line=line,
                )
    es = effect_sizes_from_table(table, measure, add=add, drop_double_zero=drop_double_zero)
    main = meta_analysis(es, s)
    shown = study_effects(es, s)  # the rows main shows: funnel and bias tests use the same
    warnings: list[str] = []
    sub = None
    if by is not None:
        sub = subgroup_analysis(es, es.extra[by.lower()], variable=by.lower(), settings=s)
    loo_rows = leave_one_out(es, s) if loo else None
    egger = begg = tf = None
    if bias:
        if shown.k < 3:
            warnings.append(f"small-study tests need at least 3 studies; there are {shown.k}")
        else:
            if all_identical(shown.yi):
                warnings.append(
                    "all study estimates are identical: Egger's and Begg's tests are undefined"
                )
            egger = egger_test(shown.yi, shown.vi, model="lm", level=s.level)
            begg = begg_test(shown.yi, shown.vi)
            if all_identical(shown.vi):
                warnings.append(
                    "every study has the same standard error: Egger's regression test is "
                    "undefined (its predictor is constant), Begg's rank correlation is undefined "
                    "(Kendall's tau NA, as metafor), and trim-and-fill cannot tell on which side "
                    "studies are missing, so it is not run"
                )
            else:
                tf = trim_and_fill(
                    shown.yi,
                    shown.vi,
                    model=main.model,
                    tau2_method=s.tau2_method,
                    measure=shown.measure,
                    level=s.level,
                )
            if shown.k < 10:
                warnings.append(
                    f"only {counted(shown.k, 'study')}: tests for funnel-plot asymmetry have "
                    "little power "
                    "below 10 (Cochrane Handbook 13.3.5.4)"
                )
    funnel = funnel_data(
        shown.yi, shown.vi, shown.labels, center=main.pooled.estimate, level=s.level
    )
    return FileAnalysis(
        source=table.path,
        main=main,
        subgroups=sub,
        leave_one_out=loo_rows,
        egger=egger,
        begg=begg,
        trim_fill=tf,
        funnel=funnel,
        warnings=tuple(warnings),
        arms=study_arms(table, measure),
    )
