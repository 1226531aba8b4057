"""Forest and funnel plot files (PNG, SVG or PDF by extension), one at a time or many at once.

The figures are built by :mod:`reviewtool.analysis.forest` and :mod:`reviewtool.analysis.funnel`;
this module checks the paths, saves each figure once per file format (one drawing, several
files), and :func:`draw_all` draws many plots in a process pool from plain data (the stored
results' dictionaries), since drawing is what an export spends its time on. matplotlib is imported
inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewtool.analysis.forest import (
    ForestLabels,
    Section,
    forest_figure,
    main_sections,
    overall_effect_line,
    pyplot,
    subgroup_sections,
    subgroup_test_line,
)
from reviewtool.analysis.funnel import funnel_figure
from reviewtool.errors import InvalidInput

if TYPE_CHECKING:
    from reviewtool.analysis.results import (
        BeggResult,
        EggerResult,
        FunnelData,
        MetaAnalysisResult,
        StudyArms,
        SubgroupAnalysis,
    )

_FORMATS = (".png", ".svg", ".pdf")
DPI = 200


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in _FORMATS:
        raise InvalidInput(f"{p}: plot files must end in {', '.join(_FORMATS)}")
    if not p.parent.exists():
        raise InvalidInput(f"{p}: folder {p.parent} does not exist")
    return p


def save(fig: Any, paths: Sequence[str | Path]) -> list[Path]:
    """Save ``fig`` to every path (the format from each extension) and close it."""
    out = [_check_path(p) for p in paths]
    try:
        for p in out:
            if p.suffix == ".png":
                # zlib level 1: a quarter of the time of the default 6, files ~25% larger.
                fig.savefig(p, dpi=DPI, pil_kwargs={"compress_level": 1})
            else:
                fig.savefig(p, dpi=DPI, metadata={"Date": None} if p.suffix == ".svg" else None)
    finally:
        pyplot().close(fig)
    return out


def forest_plot(
    result: MetaAnalysisResult,
    path: str | Path | Sequence[str | Path],
    *,
    subgroups: SubgroupAnalysis | None = None,
    title: str | None = None,
    arms: Sequence[StudyArms] = (),
    labels: ForestLabels | None = None,
    subgroup_weights: str = "overall",
) -> Path:
    """Write a forest plot of ``result`` (with subgroup sections and the test for subgroup
    differences if ``subgroups`` is given) to ``path`` (or to each of several paths); returns
    the first path. ``arms`` gives the per-arm columns and the "Not estimable" rows."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    for p in paths:
        _check_path(p)
    if subgroups is not None and (subgroups.groups or subgroups.undefined):
        fig = forest_figure(
            subgroup_sections(subgroups, arms, weights=subgroup_weights),
            measure=result.measure,
            level=result.level,
            labels=labels,
            title=title or "",
            overall=result,
            footer=[subgroup_test_line(subgroups)],
        )
    else:
        fig = forest_figure(
            main_sections(result, arms),
            measure=result.measure,
            level=result.level,
            labels=labels,
            title=title or "",
        )
    return save(fig, paths)[0]


def funnel_plot(
    funnel: FunnelData,
    path: str | Path | Sequence[str | Path],
    *,
    measure: str = "GEN",
    title: str | None = None,
    egger: EggerResult | None = None,
    begg: BeggResult | None = None,
) -> Path:
    """Write a funnel plot (effect vs standard error, pseudo CI limits, Egger and Begg lines)."""
    paths = [path] if isinstance(path, str | Path) else list(path)
    for p in paths:
        _check_path(p)
    fig = funnel_figure(funnel, measure=measure, title=title or "", egger=egger, begg=begg)
    return save(fig, paths)[0]


# ------------------------------------------------------------------- many plots from stored data


def analysis_title(a: Mapping[str, Any], *, time_point: bool = True) -> str:
    """``MELD (points), 12 weeks (baseline differs)`` for a stored analysis."""
    labels = ForestLabels.from_mapping(a.get("labels"), a["outcome"])
    text = labels.title()
    if time_point:
        text += f", {a['time_point']}"
        if a.get("flag"):
            text += f" ({a['flag']})"
    return text


def _arms(a: Mapping[str, Any]) -> tuple[StudyArms, ...]:
    from reviewtool.analysis.results import StudyArms

    return tuple(StudyArms.from_dict(x) for x in a.get("arms", []))


def draw_job(job: Mapping[str, Any]) -> list[str]:
    """Draw one plot described by plain data (see :func:`figure_for`) into ``job["paths"]`` and
    return the files written. A plot drawn before with the same job, format and drawing code is
    copied from :mod:`reviewtool.analysis.plot_cache` instead of drawn again."""
    from reviewtool.analysis import plot_cache

    pyplot()  # matplotlib set up before the cache key reads its settings
    copied = plot_cache.fetch(job, DPI)
    if copied is not None:
        return copied
    files = [str(p) for p in save(figure_for(job), job["paths"])]
    plot_cache.store(job, DPI)
    return files


def figure_for(job: Mapping[str, Any]) -> Any:
    """The figure of one plot described by plain data (the caller saves or closes it).

    ``job``: ``kind`` (``forest``, ``subgroup``, ``outcome`` or ``funnel``) and ``analysis`` (one
    stored analysis dictionary, as ``OutcomeAnalysis.to_dict()``) or ``analyses`` (an outcome's
    time points, for ``outcome``); ``variable`` for ``subgroup``; ``subgroup_weights``
    (``overall``/``within``).
    """
    from reviewtool.analysis.results import (
        BeggResult,
        EggerResult,
        funnel_from_dict,
        meta_result_from_dict,
        subgroups_from_dict,
    )

    kind = job["kind"]
    if kind == "outcome":
        analyses = job["analyses"]
        first = analyses[0]
        sections = [
            Section(a["time_point"], meta_result_from_dict(a), _arms(a), flag=a.get("flag", ""))
            for a in analyses
        ]
        fig = forest_figure(
            sections,
            measure=first["measure"],
            level=first["level"],
            labels=ForestLabels.from_mapping(first.get("labels"), first["outcome"]),
            title=analysis_title(first, time_point=False),
            footer=list(
                dict.fromkeys(
                    f"{a['time_point']}: {n}" for a in analyses for n in a.get("notes", ())
                )
            ),
        )
        return fig
    a = job["analysis"]
    labels = ForestLabels.from_mapping(a.get("labels"), a["outcome"])
    if kind == "funnel":
        e, b = a.get("egger"), a.get("begg")
        egger = (
            EggerResult(
                model=e["model"],
                predictor=e["predictor"],
                bias=_num(e["bias"]),
                se=_num(e["se"]),
                statistic=_num(e.get(e["test"])),
                statistic_name=e["test"],
                df=e.get("df"),
                p=_num(e["p"]),
                limit_estimate=_num(e["limit_estimate"]),
                limit_ci_low=_num(e["limit_ci_low"]),
                limit_ci_high=_num(e["limit_ci_high"]),
            )
            if e
            else None
        )
        begg = BeggResult(tau=_num(b["tau"]), p=_num(b["p"]), exact=b["exact"]) if b else None
        fig = funnel_figure(
            funnel_from_dict(a["funnel"]),
            measure=a["measure"],
            title=analysis_title(a),
            egger=egger,
            begg=begg,
        )
        return fig
    main = meta_result_from_dict(a)
    if kind == "subgroup":
        sg = next(s for s in a["subgroups"] if s["variable"] == job["variable"])
        sub = subgroups_from_dict(sg)
        fig = forest_figure(
            subgroup_sections(sub, _arms(a), weights=job.get("subgroup_weights", "overall")),
            measure=main.measure,
            level=main.level,
            labels=labels,
            title=analysis_title(a) + f", by {sub.variable}",
            overall=main,
            footer=[subgroup_test_line(sub), *a.get("notes", ())],
        )
    else:
        fig = forest_figure(
            main_sections(main, _arms(a)),
            measure=main.measure,
            level=main.level,
            labels=labels,
            title=analysis_title(a),
            footer=list(a.get("notes", ())),  # e.g. a shared control arm split (23.3.4)
        )
    return fig


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


def draw_all(
    jobs: Sequence[Mapping[str, Any]],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Draw every job (see :func:`draw_job`; a plot drawn before is copied from the plot cache),
    in a process pool when there are several CPUs and enough jobs; returns the files written, in
    job order. ``workers`` defaults to the CPU count.
    The jobs are plain data, so the children need nothing from the parent but the module.
    ``progress(done, total)`` is called after each plot (jobs done, of ``len(jobs)``)."""
    from reviewtool.analysis import plot_cache

    workers = workers or os.cpu_count() or 1
    total = len(jobs)
    done: list[str] = []
    if total:
        pyplot()  # children forked after this start with matplotlib loaded
        if plot_cache.folder() is not None:
            plot_cache.code_fingerprint()  # once, inherited by the children
    if workers < 2 or total < 4:
        for n, job in enumerate(jobs, 1):
            done += draw_job(job)
            if progress is not None:
                progress(n, total)
        plot_cache.prune()
        return done
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    ctx = multiprocessing.get_context(method)
    chunk = max(1, len(jobs) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for n, files in enumerate(pool.map(draw_job, jobs, chunksize=chunk), 1):
            done += files
            if progress is not None:
                progress(n, total)
    plot_cache.prune()
    return done


__all__ = [
    "ForestLabels",
    "analysis_title",
    "draw_all",
    "draw_job",
    "figure_for",
    "forest_plot",
    "funnel_plot",
    "overall_effect_line",
    "save",
]
