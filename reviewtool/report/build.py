"""``reviewtool report build OUT/``: the whole review in one folder and one self-contained page.

The report layer composes the stages (it may import every one of them; they never import each
other): the PRISMA 2020 flow (``report.prisma``), the study-characteristics table
(``extraction.service.export_table(layout="characteristics")``, the seed's Table 1), the
risk-of-bias figures (``rob.exchange.robvis_export`` drawn by ``rob.figures``), the stored analysis
run (``analysis.service.export_run``: its tables and forest/funnel plots), a results table per
outcome × time point in the layout of the seed's Table 2 (studies, I² and its p, estimate, CI, p),
subgroup and leave-one-out tables, screening agreement (``screening.service.screening_stats``), the
settings, the tool version and the audit ledger's head.

Everything is read in the caller's read session and written by ``outfolder.written_whole`` (the
one writer of every export folder) into a temporary sibling folder renamed to ``OUT`` only when
complete, so a failure leaves nothing half-written; an earlier report in ``OUT`` (it holds
``report.json``) is replaced whole. A stage without data yet (no extraction form, no risk-of-bias
judgement, no analysis run) gets a section that says so. Tables are written as CSV, Markdown and XLSX, every CSV/XLSX
cell through ``csvfiles.spreadsheet_safe``. ``index.html`` holds no link to anything outside itself:
CSS inline, images as ``data:`` URIs (SVG), no script.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from reviewtool.errors import InvalidInput, PermissionDenied
from reviewtool.text import counted

#: The ids of the sections of ``index.html``, in page order.
SECTION_IDS: tuple[str, ...] = (
    "prisma",
    "characteristics",
    "risk-of-bias",
    "results",
    "forest",
    "subgroups",
    "leave-one-out",
    "agreement",
    "settings",
    "audit",
)
#: Columns of the results table (the seed's Table 2: studies, I² and its p, estimate, CI, p).
RESULTS_COLUMNS: tuple[str, ...] = (
    "outcome", "time_point", "measure", "model", "n_studies", "i2_percent", "heterogeneity_p",
    "estimate", "ci_low", "ci_high", "p_value",
)  # fmt: skip
#: The parts :func:`build_report` reports its progress by, in order.
BUILD_STEPS: tuple[str, ...] = (
    "PRISMA flow",
    "study characteristics",
    "risk of bias",
    "analysis tables and plots",
    "agreement, settings, audit",
)
#: The file that marks a folder as written by ``report build`` (it may be replaced by a new build).
MARKER = "report.json"
REFUSAL = (
    "the report shows every stage's outcomes, hidden while {stage} is blind; a reviewer may build "
    "it once no stage is blind to them (owners and adjudicators at any time)"
)
STAGE_WORDS = {
    "tiab": "title/abstract screening",
    "fulltext": "full-text screening",
    "extraction": "extraction",
    "rob": "risk of bias",
}
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR", "ROM"})


@dataclass
class Section:
    """One part of the report: its id (``SECTION_IDS``), heading and HTML body."""

    id: str
    title: str
    body: str


@dataclass
class BuildReport:
    """What :func:`build_report` wrote: the folder, its files (relative paths) and notes."""

    out_dir: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_id: int | None = None
    ledger_head: dict[str, Any] = field(default_factory=dict)


# --- permission --------------------------------------------------------------------------------


def check_may_build(session: Session, actor: str) -> None:
    """PermissionDenied unless ``actor`` is an owner or adjudicator, or a member to whom no stage
    (screening, extraction, risk of bias) is blind (``access.sight``)."""
    from reviewtool.access import require, sight
    from reviewtool.domain import Action

    require(session, actor, Action.READ, doing="build the report")
    seen = sight(session, actor)
    if not seen.privileged and seen.blind:
        first = min(seen.blind, key=lambda s: list(STAGE_WORDS).index(s) if s in STAGE_WORDS else 9)
        raise PermissionDenied(REFUSAL.format(stage=STAGE_WORDS.get(first, first)))


# --- the folder --------------------------------------------------------------------------------


def check_out_dir(out: Path) -> None:
    """InvalidInput when ``out`` cannot receive a report: a file, or a non-empty folder that an
    earlier ``report build`` did not write (it holds no ``report.json``)."""
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise InvalidInput(
            f"{out}: a folder that is not an earlier report (no {MARKER}); "
            "name a new folder or an empty one"
        )


def _earlier_report(out: Path) -> Callable[[str], bool]:
    """``could_write`` for ``outfolder.written_whole``: every file of a folder holding
    ``report.json`` belongs to the earlier report there (reports written before the
    ``.reviewtool-export`` marker included), so a new build may replace it whole."""
    return lambda _name: (out / MARKER).is_file()


# --- cells and tables --------------------------------------------------------------------------


def _num(value: Any, digits: int) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return round(float(value), digits)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)) if abs(value) >= 1e4 else f"{value:g}"
        return f"{value:.4g}" if abs(value) < 1e-3 else f"{round(value, 4):g}"
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def write_table(
    folder: Path, stem: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[Path]:
    """``stem``.csv, ``stem``.md and ``stem``.xlsx in ``folder``; CSV and XLSX cells go through
    ``csvfiles.spreadsheet_safe`` (numbers stay numbers)."""
    from openpyxl import Workbook

    from reviewtool.csvfiles import safe_writer, spreadsheet_safe

    csv_path, md_path, xlsx_path = (folder / f"{stem}.{ext}" for ext in ("csv", "md", "xlsx"))
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = safe_writer(handle)
        writer.writerow(columns)
        writer.writerows([_text(r.get(c)) for c in columns] for r in rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join(_text(r.get(c)).replace("|", "\\|") for c in columns) + " |" for r in rows
    ]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = stem[:31]
    sheet.append(list(columns))
    for r in rows:
        cells = []
        for c in columns:
            value = r.get(c)
            if isinstance(value, list | tuple | dict | bool):
                value = _text(value)
            cells.append(spreadsheet_safe(value))
        sheet.append(cells)
    book.save(xlsx_path)
    return [csv_path, md_path, xlsx_path]


def _html_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_text(r.get(c)))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _image(path: Path, alt: str) -> str:
    """An ``<img>`` whose source is the file itself as a base64 ``data:`` URI."""
    kind = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img src="data:{kind};base64,{data}" alt="{html.escape(alt)}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _p(text: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<p{klass}>{html.escape(text)}</p>"


def _files(paths: Sequence[Path], root: Path) -> str:
    names = ", ".join(f"<code>{html.escape(str(p.relative_to(root)))}</code>" for p in paths)
    return f'<p class="files">Files: {names}</p>' if paths else ""


# --- the parts ---------------------------------------------------------------------------------


def results_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per outcome × time point in the layout of the seed's Table 2 (``RESULTS_COLUMNS``).

    ``n_studies``: k; ``i2_percent``: I² in percent (1 decimal); ``heterogeneity_p``: the p of
    Cochran's Q (3 decimals); ``estimate``, ``ci_low``, ``ci_high``: the pooled estimate and its
    confidence interval (2 decimals), back-transformed from the log scale for ratio measures (OR,
    RR: as the seed's odds ratios), on the measure's scale otherwise (SMD, MD); ``p_value``
    (3 decimals). The unrounded values are in ``analysis/pooled.csv``.
    """
    from reviewtool.analysis.service import pooled_rows

    rows = []
    for r in pooled_rows(results):
        ratio = str(r["measure"]).upper() in RATIO_MEASURES and r["exp_estimate"] is not None
        prefix = "exp_" if ratio else ""
        rows.append(
            {
                "outcome": r["outcome"],
                "time_point": r["time_point"],
                "measure": r["measure"],
                "model": r["model"],
                "n_studies": r["k"],
                "i2_percent": _num(r["I2"], 1),
                "heterogeneity_p": _num(r["p_Q"], 3),
                "estimate": _num(r[f"{prefix}estimate"], 2),
                "ci_low": _num(r[f"{prefix}ci_low"], 2),
                "ci_high": _num(r[f"{prefix}ci_high"], 2),
                "p_value": _num(r["p"], 3),
            }
        )
    return rows


def agreement_rows(session: Session, actor: str) -> list[dict[str, Any]]:
    """Per screening stage and reviewer pair: n, agreements, percent agreement, Cohen's κ and its
    95% CI, PABAK (``screening.service.screening_stats``), plus the stage's conflict counts."""
    from reviewtool.screening.service import screening_stats

    rows = []
    for stage in ("tiab", "fulltext"):
        stats = screening_stats(session, actor=actor, stage=stage)
        for pair in stats.agreement:
            rows.append(
                {
                    "stage": stage,
                    "reviewer_a": pair["reviewer_a"],
                    "reviewer_b": pair["reviewer_b"],
                    "n": pair["n"],
                    "agreements": pair["agreements"],
                    "disagreements": pair["disagreements"],
                    "percent_agreement": _num(pair["percent_agreement"], 1),
                    "kappa": _num(pair["kappa"], 3),
                    "kappa_ci_lower": _num(pair["kappa_ci_lower"], 3),
                    "kappa_ci_upper": _num(pair["kappa_ci_upper"], 3),
                    "pabak": _num(pair["pabak"], 3),
                    "conflicts_resolved": stats.conflicts_resolved,
                    "conflicts_open": stats.conflicts_open,
                }
            )
    return rows


AGREEMENT_COLUMNS: tuple[str, ...] = (
    "stage", "reviewer_a", "reviewer_b", "n", "agreements", "disagreements", "percent_agreement",
    "kappa", "kappa_ci_lower", "kappa_ci_upper", "pabak", "conflicts_resolved", "conflicts_open",
)  # fmt: skip


def _prisma(session: Session, actor: str, out: Path) -> tuple[Section, list[Path]]:
    from reviewtool.report.prisma import (
        check,
        prisma_report,
        table_rows,
        write_diagram,
        write_template_csv,
    )

    report = prisma_report(session, actor=actor)
    check(report)  # the identities, before anything is drawn from the counts
    # Straight into the report's folder, which is itself written whole (build_report).
    paths = write_diagram(report, out)
    paths.append(write_template_csv(report, out / "prisma_PRISMA2020.csv"))
    rows = [{"box": box, "n": n} for box, n in table_rows(report)]
    body = _image(out / "prisma.svg", "PRISMA 2020 flow diagram")
    body += _html_table(("box", "n"), rows)
    body += "".join(_p(note, "note") for note in report.notes)
    return Section("prisma", "PRISMA 2020 flow", body + _files(paths, out)), paths


def _characteristics(session: Session, actor: str, out: Path) -> tuple[Section, list[Path]]:
    from reviewtool.errors import StageOrderError
    from reviewtool.extraction.service import current_form, export_table

    title = "Characteristics of the included studies"
    try:
        current_form(session)
    except StageOrderError:
        return Section("characteristics", title, _p("No extraction form yet.", "empty")), []
    table = export_table(session, actor=actor, layout="characteristics")
    if not table.rows:
        body = _p("No consensus extraction values yet.", "empty")
        return Section("characteristics", title, body), []
    paths = write_table(out, "characteristics", table.columns, table.rows)
    body = _html_table(table.columns, table.rows) + _files(paths, out)
    return Section("characteristics", title, body), paths


def _risk_of_bias(session: Session, actor: str, out: Path) -> tuple[Section, list[Path]]:
    from reviewtool.rob import figures
    from reviewtool.rob.exchange import robvis_export
    from reviewtool.rob.robvis import write_robvis_file
    from reviewtool.rob.service import ROB1, ROB2

    body, paths = "", []
    exts = ("svg", "png")
    for tool, name in ((ROB1, "RoB 1"), (ROB2, "RoB 2")):
        table = robvis_export(session, actor=actor, tool=tool)
        if not table.rows:
            continue
        folder = out / "rob"
        folder.mkdir(exist_ok=True)
        made = [folder / f"robvis_{tool}.csv"]
        write_robvis_file(table, made[0])
        # Each figure is built once and saved as SVG and PNG.
        made += figures.traffic_light(table, [folder / f"traffic_light_{tool}.{e}" for e in exts])
        made += figures.summary_plot(table, [folder / f"summary_{tool}.{e}" for e in exts])
        body += f"<h3>{name} (consensus, {counted(len(table.rows), 'study')})</h3>"
        body += _image(folder / f"traffic_light_{tool}.svg", f"{name}: traffic-light plot")
        body += _image(folder / f"summary_{tool}.svg", f"{name}: summary plot")
        body += _files(made, out)
        paths += made
    if not paths:
        body = _p("No consensus risk-of-bias judgements yet.", "empty")
    return Section("risk-of-bias", "Risk of bias", body), paths


def _analysis(
    session: Session, actor: str, out: Path, run_id: int | None
) -> tuple[list[Section], list[Path], int | None]:
    from reviewtool.analysis.service import export_run, list_runs, result_tables

    runs = list_runs(session)
    titles = {
        "results": "Results per outcome and time point",
        "forest": "Forest and funnel plots",
        "subgroups": "Subgroup analyses",
        "leave-one-out": "Leave-one-out analyses",
    }
    if run_id is None and not runs:
        empty = _p("No analysis run yet (`reviewtool analyze run`).", "empty")
        return [Section(k, t, empty) for k, t in titles.items()], [], None
    run = next((r for r in runs if r.id == run_id), None) if run_id is not None else runs[-1]
    if run is None:
        from reviewtool.errors import NotFound

        raise NotFound(f"no analysis run {run_id}; `reviewtool analyze runs` lists them")
    # The page shows the plots as SVG (vector: what a journal takes); PNG copies, three quarters
    # of the drawing time, are for `analyze run/export --out`.
    exported = export_run(
        session, run.id, out / "analysis", ("csv", "md", "xlsx"), plot_formats=("svg",)
    )
    paths = [Path(f) for f in exported.files]
    intro = _p(
        f"Analysis run {run.id} “{run.name}”, by {run.run_by} at {run.run_at}; model "
        f"{run.settings.get('model')} (τ² {run.settings.get('tau2_method')}); input "
        f"{run.input_source} (sha256 {run.input_sha256})."
    )
    rows = results_rows(run.results)
    paths += write_table(out, "results", RESULTS_COLUMNS, rows)
    results = intro + _html_table(RESULTS_COLUMNS, rows)
    results += _files([out / f"results.{e}" for e in ("csv", "md", "xlsx")], out)
    tables = result_tables(run.results)
    sections = [Section("results", titles["results"], results)]
    from reviewtool.analysis.service import plot_jobs

    folder = out / "analysis" / "plots"
    # plot_jobs keeps the run's order among single-analysis jobs (a stable sort by size).
    shown = [
        folder / Path(p).name
        for job in plot_jobs(run.results, folder, funnel_min_k=_funnel_min_k(session))
        if job["kind"] in ("forest", "funnel")
        for p in job["paths"]
        if p.endswith(".svg") and (folder / Path(p).name).is_file()
    ]
    forest = "".join(_image(p, p.stem.replace("_", " ")) for p in shown)
    forest = forest or _p("No plots were drawn for this run.", "empty")
    sections.append(Section("forest", titles["forest"], forest))
    for key, name in (("subgroups", "subgroups"), ("leave-one-out", "leave_one_out")):
        found = tables.get(name, [])
        if not found:
            sections.append(Section(key, titles[key], _p(f"Run {run.id} has none.", "empty")))
            continue
        # Columns no row fills (the back-transformed ones of an SMD) are left out here.
        columns = [c for c in found[0] if any(r.get(c) is not None for r in found)]
        paths += write_table(out, name, columns, found)
        body = _html_table(columns, found)
        body += _files([out / f"{name}.{e}" for e in ("csv", "md", "xlsx")], out)
        sections.append(Section(key, titles[key], body))
    return sections, paths, run.id


def _funnel_min_k(session: Session) -> int:
    from reviewtool.storage.queries import setting

    return int(str(setting(session, "analysis.funnel_min_k")))


def _agreement(session: Session, actor: str, out: Path) -> tuple[Section, list[Path]]:
    rows = agreement_rows(session, actor)
    title = "Screening agreement"
    if not rows:
        return Section(
            "agreement", title, _p("No two reviewers' votes to compare yet.", "empty")
        ), []
    paths = write_table(out, "agreement", AGREEMENT_COLUMNS, rows)
    body = _p(
        "Cohen's κ per reviewer pair over the references both voted on (maybe counts as include)."
    )
    return Section(
        "agreement", title, body + _html_table(AGREEMENT_COLUMNS, rows) + _files(paths, out)
    ), paths


def _settings(session: Session, out: Path) -> tuple[Section, list[Path]]:
    from reviewtool import __version__
    from reviewtool.domain import SETTINGS
    from reviewtool.review.service import get_settings

    rows = [
        {"key": k, "value": v if isinstance(v, str) else json.dumps(v), "meaning": SETTINGS[k].help}
        for k, v in get_settings(session).items()
    ]
    paths = write_table(out, "settings", ("key", "value", "meaning"), rows)
    body = _p(f"reviewtool {__version__}") + _html_table(("key", "value", "meaning"), rows)
    return Section("settings", "Settings and tool version", body + _files(paths, out)), paths


def _audit(session: Session) -> tuple[Section, dict[str, Any]]:
    from reviewtool.audit.anchors import current_anchor

    anchor = current_anchor(session)
    head = {"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at}
    body = _p(
        f"The audit ledger's head when this report was built: event {anchor.seq}, sha256 "
        f"{anchor.hash} (read at {anchor.at}). `reviewtool audit verify` checks the chain and "
        "the state up to it; `reviewtool audit anchor` keeps the head outside the database."
    )
    body += _html_table(("seq", "hash", "at"), [head])
    return Section("audit", "Audit ledger", body), head


# --- the page ----------------------------------------------------------------------------------

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;color:#222;background:#fff;font-size:14px}
header{background:#1f3b57;color:#fff;padding:16px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0}nav{padding:8px 24px;background:#eef2f6;border-bottom:1px solid #ccd}
nav a{margin-right:14px;color:#1f3b57}main{padding:0 24px 40px}
section{border-bottom:1px solid #ddd;padding:8px 0 16px}h2{color:#1f3b57}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef2f6}tbody tr:nth-child(even){background:#fafafa}
.scroll{overflow-x:auto;max-width:100%}figure{margin:12px 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:12px;color:#555}.empty{color:#8a5a00;font-style:italic}
.files{font-size:12px;color:#555}.note{font-size:12px;color:#555}code{font-size:12px}
"""


def render_html(title: str, sections: Sequence[Section], facts: Sequence[str]) -> str:
    """The self-contained page: inline CSS, a link list, then one ``<section id=...>`` per part."""
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    parts = "".join(
        f'<section id="{s.id}"><h2>{html.escape(s.title)}</h2>{s.body}</section>' for s in sections
    )
    lines = "".join(_p(f) for f in facts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1>{lines}</header>"
        f"<nav>{nav}</nav><main>{parts}</main></body></html>\n"
    )


def build_report(
    session: Session,
    *,
    actor: str,
    out_dir: str | Path,
    run_id: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> BuildReport:
    """Write the report folder ``out_dir`` (see the module docstring) and return what it holds.

    Raises PermissionDenied for a reviewer while any stage is blind to them (``REFUSAL``),
    InvalidInput for an ``out_dir`` that is a file or a foreign non-empty folder, NotFound for an
    unknown ``run_id``; nothing is written then, nor when any part fails.
    ``progress(done, total, step)`` is called as each of the :data:`BUILD_STEPS` begins (``done``
    steps finished before it) and once at the end (``total``, ``total``, "").
    """
    from reviewtool import __version__
    from reviewtool.audit.log import utc_now
    from reviewtool.outfolder import written_whole
    from reviewtool.review.service import review_info

    check_may_build(session, actor)
    out = Path(out_dir)
    check_out_dir(out)
    tell = progress or (lambda _done, _total, _step: None)

    def step(name: str) -> None:
        tell(BUILD_STEPS.index(name), len(BUILD_STEPS), name)

    with written_whole(out, kind="report", could_write=_earlier_report(out)) as tmp:
        sections: list[Section] = []
        paths: list[Path] = []
        step("PRISMA flow")
        section, made = _prisma(session, actor, tmp)
        sections.append(section)
        paths += made
        step("study characteristics")
        section, made = _characteristics(session, actor, tmp)
        sections.append(section)
        paths += made
        step("risk of bias")
        section, made = _risk_of_bias(session, actor, tmp)
        sections.append(section)
        paths += made
        step("analysis tables and plots")
        analysis, made, used_run = _analysis(session, actor, tmp, run_id)
        paths += made
        sections += analysis
        step("agreement, settings, audit")
        section, made = _agreement(session, actor, tmp)
        sections.append(section)
        paths += made
        section, made = _settings(session, tmp)
        sections.append(section)
        paths += made
        section, head = _audit(session)
        sections.append(section)
        order = {sid: i for i, sid in enumerate(SECTION_IDS)}
        sections.sort(key=lambda s: order[s.id])
        review = review_info(session)
        built_at = utc_now()
        facts = [
            f"Built {built_at} by {actor} with reviewtool {__version__}; audit ledger head: "
            f"event {head['seq']} ({head['hash'][:16]}…)."
        ]
        page = render_html(f"Systematic review report: {review.title}", sections, facts)
        (tmp / "index.html").write_text(page, encoding="utf-8")
        files = sorted(
            str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() and p.name != MARKER
        )
        manifest = {
            "review": review.title,
            "built_at": built_at,
            "built_by": actor,
            "reviewtool_version": __version__,
            "analysis_run": used_run,
            "ledger_head": head,
            "sections": [s.id for s in sections],
            "files": files,
        }
        (tmp / MARKER).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    tell(len(BUILD_STEPS), len(BUILD_STEPS), "")
    return BuildReport(out_dir=out, files=[*files, MARKER], run_id=used_run, ledger_head=head)
