"""The PRISMA 2020 flow of a review as a table, a diagram (SVG and PNG) and the input CSV of the
PRISMA2020 R package / Shiny app.

Counts come from ``screening.prisma.prisma_counts`` (records, references, reports, studies and
decisions; never typed in) and, for the optional meta-analysis box, from the newest analysis run
(``analysis.service.list_runs``): the report layer composes the two stages. The arithmetic of
``shared/spec/rob_prisma.md`` section 4.4 is checked before anything is written; a broken identity
is one ``InvalidInput`` line naming both sides.

The diagram follows the PRISMA 2020 flow diagram for new systematic reviews which included
searches of databases and registers only (Page MJ, McKenzie JE, Bossuyt PM, et al. BMJ
2021;372:n71): a yellow title box, blue phase labels (Identification, Screening, Included) on the
left, the main column of boxes joined by downward arrows and a side box to the right of each with
what left the flow there. The CSV has the columns and rows of ``inst/extdata/PRISMA.csv`` of the
PRISMA2020 R package v1.1.4 (Haddaway, McGuinness, Pritchard; MIT licence), with our counts in
``n``, so the diagram can also be drawn with ``PRISMA2020::PRISMA_flowdiagram`` or its Shiny app.
"""

from __future__ import annotations

import csv
import itertools
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from reviewtool.errors import InvalidInput
from reviewtool.screening.prisma import PrismaCounts, prisma_counts

TEMPLATE_COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")
# The first seven columns of every row of the R package's PRISMA.csv, in its order; ``n`` is ours.
TEMPLATE_ROWS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies", "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review", "Studies included in previous version of review", "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review", "Reports of studies included in previous version of review", "NA", "previous_reports.html"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via databases and registers", "Identification of new studies via databases and registers", "Yellow title box; Identification of new studies via databases and registers", "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases", "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases", "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA", "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers", "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods", "Identification of new studies via other methods", "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites", "Records identified from: Websites, Organisations and Citation Searching", "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations", "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching", "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records", "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools", "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons", "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)", "Records screened", "Records screened (databases and registers)", "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)", "Records excluded", "Records excluded (databases and registers)", "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval", "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and registers)", "Reports not retrieved", "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)", "Reports sought for retrieval", "Reports sought for retrieval (other)", "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)", "Reports not retrieved", "Reports not retrieved (other)", "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and registers)", "Reports assessed for eligibility", "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded", "Reports excluded (databases and registers)", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)", "Reports assessed for eligibility", "Reports assessed for eligibility (other)", "other_assessed.html"),
    ("other_excluded", "node21", "box15", "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded", "Reports excluded (other)", "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review", "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies", "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review", "Total studies included in review", "Total studies included in review", "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies", "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification", "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening", "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box", "included.html"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis", "Total studies included in meta-analysis", "Total studies included in meta-analysis", "total_studies_meta_analysis.html"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis", "Reports of total included studies in meta-analysis", "NA", "NA"),
)  # fmt: skip
_ARM = re.compile(r"\s*\([^()]*\)\s*$")
# Rows that are titles or phase labels: the template holds 0 in their ``n``.
LABEL_ROWS = frozenset({"identification", "screening", "included"})

TITLE = "Identification of studies via databases and registers"
FOOTNOTES = (
    "*Consider, if feasible to do so, reporting the number of records identified from each "
    "database or register searched (rather than the total number across all databases/registers).",
    "**If automation tools were used, indicate how many records were excluded by a human and how "
    "many were excluded by automation tools.",
    "From: Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated "
    "guideline for reporting systematic reviews. BMJ 2021;372:n71. doi: 10.1136/bmj.n71",
)


@dataclass(frozen=True)
class PrismaReport:
    """The PRISMA 2020 counts of a review and what the report adds to them.

    :ivar counts: ``screening.prisma.PrismaCounts``.
    :ivar studies_in_meta_analysis: distinct studies pooled in the newest analysis run, or None
        when nothing has been analysed (the R package's optional box 17 is then left blank).
    """

    counts: PrismaCounts
    studies_in_meta_analysis: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def reports_in_meta_analysis(self) -> int | None:
        """Reports of the pooled studies: known when every included study has one report."""
        c = self.counts
        if self.studies_in_meta_analysis is None:
            return None
        if c.reports_of_included_studies != c.studies_included:
            return None
        return self.studies_in_meta_analysis


def studies_in_meta_analysis(results: dict[str, Any]) -> int:
    """Distinct studies pooled in one analysis run's results (``analyses[*].studies[*].study``).

    A label is one comparison; the comparisons of one multi-arm study are told apart by a
    parenthesis after the study's name ("Suk 2016 (one injection)", "Suk 2016 (two injections)":
    RevMan's convention), which is dropped to count studies.
    """
    labels = {str(s["study"]) for a in results.get("analyses", []) for s in a.get("studies", [])}
    return len({_ARM.sub("", label) for label in labels})


def prisma_report(session: Session, *, actor: str) -> PrismaReport:
    """The counts of ``prisma_counts`` (same permission rules) and the pooled studies of the newest
    analysis run; InvalidInput naming both sides when an identity of rob_prisma.md 4.4 is broken."""
    from reviewtool.analysis.service import list_runs

    counts = prisma_counts(session, actor=actor)
    runs = list_runs(session)
    pooled = studies_in_meta_analysis(runs[-1].results) if runs else None
    report = PrismaReport(counts=counts, studies_in_meta_analysis=pooled, notes=list(counts.notes))
    check(report)
    return report


def check(report: PrismaReport) -> None:
    """InvalidInput with the first broken identity ("name: left != right") of the counts."""
    broken = report.counts.broken_identities()
    pooled = report.studies_in_meta_analysis
    if pooled is not None and pooled > report.counts.studies_included:
        broken.append(
            f"studies in meta-analysis <= studies included: {pooled} > "
            f"{report.counts.studies_included}"
        )
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise InvalidInput(f"the PRISMA counts do not add up: {broken[0]}{more}")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pairs(values: dict[str, int]) -> str:
    """The R package's "Name, n; Name, n" string (commas inside names would split them: dropped)."""
    return "; ".join(f"{_capital(k.replace(',', ''))}, {n}" for k, n in values.items())


def table_rows(report: PrismaReport) -> list[tuple[str, str]]:
    """(box, n) in the diagram's order, reasons indented under their box (for the rich table)."""
    c = report.counts
    rows: list[tuple[str, str]] = [("Records identified from databases", str(c.identified))]
    rows += [(f"  {s}", str(n)) for s, n in c.identified_by_source.items()]
    rows += [
        ("Duplicate records removed", str(c.duplicates_removed)),
        ("Records after duplicates removed", str(c.identified - c.duplicates_removed)),
        (
            "Records marked as ineligible by automation tools (not screened: screening stopped)",
            str(c.not_screened_stopped),
        ),
        ("Records removed for other reasons", str(c.removed_other)),
    ]
    rows += [(f"  {_capital(r)}", str(n)) for r, n in c.removed_by_reason.items()]
    rows += [
        ("Records screened", str(c.records_screened)),
        ("Records excluded", str(c.records_excluded)),
    ]
    if c.awaiting_title_abstract:
        rows.append(("Records awaiting title/abstract decision", str(c.awaiting_title_abstract)))
    rows += [
        ("Reports sought for retrieval", str(c.reports_sought)),
        ("Reports not retrieved", str(c.reports_not_retrieved)),
        ("Reports assessed for eligibility", str(c.reports_assessed)),
        ("Reports excluded", str(c.reports_excluded)),
    ]
    rows += [(f"  {_capital(r)}", str(n)) for r, n in c.excluded_by_reason.items()]
    if c.awaiting_full_text:
        rows.append(("Reports awaiting full-text decision", str(c.awaiting_full_text)))
    rows += [
        ("Studies included in review", str(c.studies_included)),
        ("Reports of included studies", str(c.reports_of_included_studies)),
    ]
    if report.studies_in_meta_analysis is not None:
        rows.append(("Studies included in meta-analysis", str(report.studies_in_meta_analysis)))
    return rows


def template_values(report: PrismaReport) -> dict[str, str]:
    """``data`` key of the R package's CSV -> our ``n`` ("" leaves the box out, as the seed's
    example does for what a new review without other methods does not have)."""
    c = report.counts
    ma_reports = report.reports_in_meta_analysis
    return {
        "previous_studies": "",
        "previous_reports": "",
        "database_results": str(c.identified),
        "database_specific_results": _pairs(c.identified_by_source),
        "register_results": "0",
        "register_specific_results": "",
        "website_results": "",
        "organisation_results": "",
        "citations_results": "",
        "duplicates": str(c.duplicates_removed),
        "excluded_automatic": str(c.not_screened_stopped),
        "excluded_other": str(c.removed_other),
        "records_screened": str(c.records_screened),
        "records_excluded": str(c.records_excluded),
        "dbr_sought_reports": str(c.reports_sought),
        "dbr_notretrieved_reports": str(c.reports_not_retrieved),
        "other_sought_reports": "",
        "other_notretrieved_reports": "",
        "dbr_assessed": str(c.reports_assessed),
        "dbr_excluded": _pairs(c.excluded_by_reason) or str(c.reports_excluded),
        "other_assessed": "",
        "other_excluded": "",
        "new_studies": str(c.studies_included),
        "new_reports": str(c.reports_of_included_studies),
        "total_studies": "",
        "total_reports": "",
        "total_studies_ma": (
            "" if report.studies_in_meta_analysis is None else str(report.studies_in_meta_analysis)
        ),
        "total_reports_ma": "" if ma_reports is None else str(ma_reports),
    }


def write_template_csv(report: PrismaReport, path: Path) -> Path:
    """The R package / Shiny app input CSV at ``path`` (columns and row order of its PRISMA.csv)."""
    values = template_values(report)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TEMPLATE_COLUMNS)
        for row in TEMPLATE_ROWS:
            key = row[0]
            n = "0" if key == "NA" or key in LABEL_ROWS else values[key]
            writer.writerow([*row, n])
    return path


# --- the diagram -----------------------------------------------------------------------------


def _n(n: int) -> str:
    return f"(n = {n})"


def box_texts(report: PrismaReport) -> dict[str, list[str]]:
    """Box id -> the lines it shows (before wrapping), in the template's wording."""
    c = report.counts
    identified = ["Records identified from*:", f"Databases {_n(c.identified)}"]
    identified += [f"    {s} {_n(n)}" for s, n in c.identified_by_source.items()]
    identified.append(f"Registers {_n(0)}")
    removed = [
        "Records removed before screening:",
        f"Duplicate records removed {_n(c.duplicates_removed)}",
        f"Records marked as ineligible by automation tools {_n(c.not_screened_stopped)}",
    ]
    if c.not_screened_stopped:
        removed.append(f"    Not screened: screening stopped {_n(c.not_screened_stopped)}")
    removed += [
        f"Records removed for other reasons {_n(c.removed_other)}",
    ]
    removed += [f"    {_capital(r)} {_n(n)}" for r, n in c.removed_by_reason.items()]
    screened = [f"Records screened {_n(c.records_screened)}"]
    if c.awaiting_title_abstract:
        screened.append(f"Awaiting a decision {_n(c.awaiting_title_abstract)}")
    assessed = [f"Reports assessed for eligibility {_n(c.reports_assessed)}"]
    if c.awaiting_full_text:
        assessed.append(f"Awaiting a decision {_n(c.awaiting_full_text)}")
    excluded = ["Reports excluded:"]
    excluded += [f"{_capital(r)} {_n(n)}" for r, n in c.excluded_by_reason.items()]
    if not c.excluded_by_reason:
        excluded = [f"Reports excluded {_n(0)}"]
    included = [
        f"Studies included in review {_n(c.studies_included)}",
        f"Reports of included studies {_n(c.reports_of_included_studies)}",
    ]
    if report.studies_in_meta_analysis is not None:
        included.append(f"Studies included in meta-analysis {_n(report.studies_in_meta_analysis)}")
    return {
        "identified": identified,
        "removed": removed,
        "screened": screened,
        "records_excluded": [f"Records excluded** {_n(c.records_excluded)}"],
        "sought": [f"Reports sought for retrieval {_n(c.reports_sought)}"],
        "not_retrieved": [f"Reports not retrieved {_n(c.reports_not_retrieved)}"],
        "assessed": assessed,
        "reports_excluded": excluded,
        "included": included,
    }


# Rows of the main column (box id, side box id or None) and the phase each belongs to.
ROWS: tuple[tuple[str, str | None, str], ...] = (
    ("identified", "removed", "Identification"),
    ("screened", "records_excluded", "Screening"),
    ("sought", "not_retrieved", "Screening"),
    ("assessed", "reports_excluded", "Screening"),
    ("included", None, "Included"),
)

# Layout, in inches (the R package: boxes 3.5 in wide, 0.5 in apart).
FONT_SIZE = 9.0
LINE = 0.19  # line height at FONT_SIZE
PAD = 0.12  # inside a box, above and below the text
BOX_W = 3.3
WRAP = 46  # characters per line that fit BOX_W at FONT_SIZE (checked by a test)
GAP_X = 0.7  # between the main and the side column
GAP_Y = 0.45  # between rows (room for the arrow)
BAND_W = 0.42  # the blue phase labels
PHASE_MIN = 1.05  # the height a rotated phase label needs
MARGIN = 0.25
YELLOW = "#FFC125"  # Graphviz Goldenrod1, the R package's title box
BLUE = "#A4C8E8"  # the template's light blue phase labels


@dataclass(frozen=True)
class Box:
    """One drawn box: its id, lower-left corner and size in inches (y grows upwards), its lines."""

    key: str
    x: float
    y: float
    w: float
    h: float
    lines: tuple[str, ...]

    def overlaps(self, other: Box) -> bool:
        """True when the two rectangles share any area."""
        return not (
            self.x + self.w <= other.x
            or other.x + other.w <= self.x
            or self.y + self.h <= other.y
            or other.y + other.h <= self.y
        )


def _wrap(lines: Sequence[str], width: int = WRAP) -> tuple[str, ...]:
    out: list[str] = []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        # "(n = 12)" is never broken: its spaces are no-break spaces while wrapping.
        kept = re.sub(r"\(n = (\d+)\)", "(n\u00a0=\u00a0\\1)", line.strip())
        out += [
            part.replace("\u00a0", " ")
            for part in textwrap.wrap(
                kept,
                width=width - indent,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + 2),
            )
        ] or [""]
    return tuple(out)


def layout(report: PrismaReport) -> tuple[list[Box], float, float]:
    """The boxes of the diagram (title, phase bands, flow boxes) and the page's width and height."""
    texts = {k: _wrap(v) for k, v in box_texts(report).items()}
    x_main = MARGIN + BAND_W + 0.15
    x_side = x_main + BOX_W + GAP_X
    width = x_side + BOX_W + MARGIN
    heights = [
        max(len(texts[main]), len(texts[side]) if side else 0) * LINE + 2 * PAD
        for main, side, _ in ROWS
    ]
    # A phase alone in its row (Identification, Included) needs room for its rotated label.
    for i, (_, _, phase) in enumerate(ROWS):
        if sum(1 for row in ROWS if row[2] == phase) == 1:
            heights[i] = max(heights[i], PHASE_MIN)
    title_h = LINE + 2 * PAD
    foot = [line for note in FOOTNOTES for line in textwrap.wrap(note, width=120)]
    foot_h = len(foot) * LINE * 0.72 + 0.15
    height = MARGIN + title_h + 0.25 + sum(heights) + GAP_Y * (len(ROWS) - 1) + foot_h + MARGIN
    boxes = [
        Box("title", x_main, height - MARGIN - title_h, x_side + BOX_W - x_main, title_h, (TITLE,))
    ]
    top = height - MARGIN - title_h - 0.25
    phases: dict[str, list[float]] = {}
    for (main, side, phase), h in zip(ROWS, heights, strict=True):
        y = top - h
        lines = texts[main]
        alone = sum(1 for row in ROWS if row[2] == phase) == 1
        main_h = h if alone else len(lines) * LINE + 2 * PAD
        boxes.append(Box(main, x_main, y + (h - main_h) / 2, BOX_W, main_h, lines))
        if side is not None:
            side_lines = texts[side]
            side_h = len(side_lines) * LINE + 2 * PAD
            boxes.append(Box(side, x_side, y + (h - side_h) / 2, BOX_W, side_h, side_lines))
        span = phases.setdefault(phase, [y, top])
        span[0] = min(span[0], y)
        top = y - GAP_Y
    for phase, (low, high) in phases.items():
        boxes.append(Box(f"phase:{phase}", MARGIN, low, BAND_W, high - low, (phase,)))
    boxes.append(Box("footnotes", MARGIN, MARGIN, width - 2 * MARGIN, foot_h - 0.15, tuple(foot)))
    return boxes, width, height


def draw(report: PrismaReport) -> Any:
    """The diagram as a matplotlib Figure (matplotlib imported here, not at module load)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    boxes, width, height = layout(report)
    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)  # so the text can be measured before saving (a test does)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    by_key = {b.key: b for b in boxes}
    for b in boxes:
        if b.key == "footnotes":
            ax.text(
                b.x, b.y + b.h, "\n".join(b.lines), ha="left", va="top",
                fontsize=FONT_SIZE * 0.75, family="DejaVu Sans", color="#333333",
                gid="footnotes", linespacing=1.2,
            )  # fmt: skip
            continue
        if b.key.startswith("phase:"):
            face, rounding, rotation, weight = BLUE, 0.08, 90, "bold"
        elif b.key == "title":
            face, rounding, rotation, weight = YELLOW, 0.08, 0, "bold"
        else:
            face, rounding, rotation, weight = "white", 0.0, 0, "normal"
        ax.add_patch(
            FancyBboxPatch(
                (b.x, b.y), b.w, b.h,
                boxstyle=f"round,pad=0,rounding_size={rounding}" if rounding else "square,pad=0",
                facecolor=face, edgecolor="black", linewidth=0.9, gid=f"box:{b.key}",
            )
        )  # fmt: skip
        centred = b.key == "title" or b.key.startswith("phase:")
        ax.text(
            b.x + b.w / 2 if centred else b.x + PAD,
            b.y + b.h / 2,
            "\n".join(b.lines),
            ha="center" if centred else "left",
            va="center",
            rotation=rotation,
            fontsize=FONT_SIZE,
            fontweight=weight,
            family="DejaVu Sans",
            linespacing=1.35,
            gid=f"text:{b.key}",
        )

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        ax.add_patch(
            FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=12, linewidth=0.9, color="black",
                shrinkA=0, shrinkB=0,
            )
        )  # fmt: skip

    mains = [by_key[main] for main, _, _ in ROWS]
    for upper, lower in itertools.pairwise(mains):
        arrow((upper.x + upper.w / 2, upper.y), (lower.x + lower.w / 2, lower.y + lower.h))
    for main, side, _ in ROWS:
        if side is None:
            continue
        m, s = by_key[main], by_key[side]
        mid = s.y + s.h / 2
        arrow((m.x + m.w, mid), (s.x, mid))
    return fig


def write_diagram(report: PrismaReport, out_dir: Path, stem: str = "prisma") -> list[Path]:
    """``stem``.svg (text kept as text) and ``stem``.png (300 dpi) in ``out_dir``."""
    import matplotlib

    fig = draw(report)
    svg, png = out_dir / f"{stem}.svg", out_dir / f"{stem}.png"
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "reviewtool"}):
        fig.savefig(svg, format="svg", metadata={"Date": None})
    fig.savefig(png, format="png", dpi=300)
    return [svg, png]


def write_prisma(report: PrismaReport, out_dir: Path) -> list[Path]:
    """The diagram (SVG, PNG) and the R package CSV in ``out_dir`` (made if missing); the paths.
    The folder is written whole (:func:`reviewtool.outfolder.written_whole`): an existing one is
    replaced once the new one is complete, or refused when it holds files reviewtool did not write.

    The identities are checked again first (InvalidInput), so nothing is written from counts that
    do not add up; an ``out_dir`` that is a file, or a folder that cannot be written, is one
    InvalidInput line naming it.
    """
    from reviewtool.outfolder import written_whole

    check(report)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"{out_dir}: not a directory (--out names the folder to write into)")
    try:
        # Written into a temporary sibling and renamed into place when complete.
        with written_whole(out_dir, kind="prisma") as temp:
            paths = write_diagram(report, temp)
            paths.append(write_template_csv(report, temp / "prisma_PRISMA2020.csv"))
    except OSError as exc:
        raise InvalidInput(f"{exc.filename or out_dir}: cannot write ({exc.strerror})") from None
    return [out_dir / p.relative_to(temp) for p in paths]
