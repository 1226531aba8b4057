"""``reviewtool simulate LABELLED.csv``: replay a labelled screening set through prioritised screening.

No review database is used: the file is the whole input. See `reviewtool.screening.simulation` for
the replay and the metric definitions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from reviewtool.cli._common import (
    FormatOption,
    OutputFormat,
    console,
    counted,
    existing_file,
    write_csv,
)
from reviewtool.errors import InvalidInput

REQUIRED = {"id", "title", "label_included"}
#: What a run in which a stopping rule never fired means: the replay screened every record.
ALL_SCREENED = "(all records screened)"
NEVER_FIRED = f"never fired {ALL_SCREENED}"
METRICS = ("wss95", "recall_10", "recall_25", "recall_50", "records_to_all", "atd")
METRIC_NAMES = {
    "wss95": "WSS@95 (%)",
    "recall_10": "recall at 10% screened (%)",
    "recall_25": "recall at 25% screened (%)",
    "recall_50": "recall at 50% screened (%)",
    "records_to_all": "records to find every include",
    "atd": "ATD (%)",
}


def _read(path: Path) -> tuple[list[str], list[str], list[bool], list[int]]:
    """(ids, texts, labels, lines) of a labelled CSV, refusing bad rows with file:line: field."""
    from reviewtool.csvfiles import numbered, read_rows
    from reviewtool.screening.ranking import record_text

    rows = read_rows(
        str(path),
        required=REQUIRED,
        what="labelled records",
        unique=lambda row: (row.get("id") or "").strip() or None,
        unique_words="id",
    )
    ids: list[str] = []
    texts: list[str] = []
    labels: list[bool] = []
    lines: list[int] = []
    for line, row in numbered(rows):
        record = (row.get("id") or "").strip()
        if not record:
            raise InvalidInput(f"{path}:{line}: id is empty")
        label = (row.get("label_included") or "").strip()
        if label not in ("0", "1"):
            raise InvalidInput(f"{path}:{line}: label_included must be 0 or 1, not {label!r}")
        ids.append(record)
        texts.append(record_text(row.get("title"), row.get("abstract"), row.get("keywords")))
        labels.append(label == "1")
        lines.append(line)
    if not any(labels) or all(labels):
        raise InvalidInput(
            f"{path}: label_included holds {counted(sum(labels), 'include')} and "
            f"{counted(len(labels) - sum(labels), 'exclude')}; a simulation needs both"
        )
    return ids, texts, labels, lines


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of the metrics over the runs, and per stopping rule: ``fired`` (runs where it fired),
    ``never_fired`` (runs where every record was screened) and, over the runs where it fired only,
    ``mean_screened``, ``mean_recall`` and ``lowest_recall`` (%), all three None when it never
    fired: a run without a stop has no recall at a stop (see `stop_statistics`)."""
    import statistics

    out: dict[str, Any] = {m: statistics.fmean(r[m] for r in runs) for m in METRICS}
    out["stops"] = {
        rule: stop_statistics([r["stops"][rule] for r in runs]) for rule in runs[0]["stops"]
    }
    return out


def stop_statistics(stops: list[dict[str, Any]]) -> dict[str, Any]:
    """One stopping rule over runs (``SimulationRun.metrics()["stops"][rule]`` each): how often it
    fired, how often it never fired, and the mean records screened, mean and lowest recall (%) over
    the runs where it fired (None when there are none: no statistic of an empty set)."""
    import statistics

    fired = [s for s in stops if s["met"]]
    return {
        "fired": len(fired),
        "never_fired": len(stops) - len(fired),
        "mean_screened": statistics.fmean(s["screened"] for s in fired) if fired else None,
        "mean_recall": statistics.fmean(s["recall"] for s in fired) if fired else None,
        "lowest_recall": min(s["recall"] for s in fired) if fired else None,
    }


def stop_summary(summary: dict[str, Any], runs: int) -> str:
    """The table's words for one rule over ``runs`` runs (`stop_statistics`): that it never fired
    (all records screened) and no recall, or how often it fired with the lowest recall then, and
    how often it did not."""
    if not summary["fired"]:
        return NEVER_FIRED if runs == 1 else f"never fired in any of the {runs} runs {ALL_SCREENED}"
    text = f"fired in {summary['fired']}/{runs}, lowest recall {summary['lowest_recall']:.1f}"
    if summary["never_fired"]:
        text += f"; never fired in {summary['never_fired']} {ALL_SCREENED}"
    return text


def simulate(
    labelled: Path = typer.Argument(
        ...,
        help="CSV with id,title,abstract,…,label_included (0/1), e.g. a set from shared/screening.",
        callback=existing_file,
    ),
    seeds: int = typer.Option(1, "--seeds", min=1, help="Number of seeded runs (seeds 1 … N)."),
    prior_ids: list[str] = typer.Option(
        [],
        "--prior-ids",
        help="Ids screened first (at least one include and one exclude); repeatable. "
        "Default: one include and one exclude drawn with each seed, as ASReview does.",
    ),
    model: str = typer.Option(
        "svm", "--model", help="Relevance model: svm (default), logistic or naive_bayes."
    ),
    retrain_growth: float = typer.Option(
        0.0,
        "--retrain-growth",
        min=0.0,
        max=1.0,
        help="0 (default): retrain after every decision, as ASReview. g > 0: after every include "
        "and when the new decisions reach g × those known (faster on large sets).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write recall_curve.png, recall_curve.svg and simulation.json here."
    ),
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Replay a labelled set through prioritised screening: WSS@95, recall at 10/25/50% screened,
    records needed to find every include, ATD, and when each stopping rule would have fired.

    Both reviewers are simulated from the labels. Metrics exclude the prior records (as ASReview).

    Example: reviewtool simulate ../shared/screening/Cohen_2006_ACEInhibitors/records.csv --seeds 3 --out sim/
    """
    from reviewtool.screening import ranking, simulation

    if model not in ranking.MODELS:
        raise InvalidInput(
            f"unknown relevance model {model!r} (choose {', '.join(ranking.MODELS)})"
        )
    ids, texts, labels, _ = _read(labelled)
    prior: list[int] | None = None
    if prior_ids:
        where = {record: i for i, record in enumerate(ids)}
        unknown = [p for p in prior_ids if p not in where]
        if unknown:
            raise InvalidInput(f"{labelled}: --prior-ids {unknown[0]!r} is not an id in the file")
        prior = list(dict.fromkeys(where[p] for p in prior_ids))
        chosen = [labels[i] for i in prior]
        if all(chosen) or not any(chosen):
            raise InvalidInput("--prior-ids must name at least one include and one exclude")
    features = ranking.fit_features(texts)
    runs = [
        simulation.simulate(
            features, labels, seed=seed, prior=prior, model=model, retrain_growth=retrain_growth
        )
        for seed in range(1, seeds + 1)
    ]
    data = [run.metrics() for run in runs]
    for row, run in zip(data, runs, strict=True):
        row["prior_ids"] = [ids[i] for i in run.prior]
        del row["prior"]
    result = {
        "file": str(labelled),
        "records": len(labels),
        "includes": sum(labels),
        "model": model,
        "retrain_growth": retrain_growth,
        "mean": _summary(data),
        "runs": data,
    }
    files: list[Path] = []
    if out is not None:
        files = _write(out, runs, result, title=labelled.parent.name or labelled.stem)
        result["files"] = [str(f) for f in files]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        columns = ["seed", "prior_ids", *METRICS]
        rules = list(data[0]["stops"])
        columns += [f"{rule}_{what}" for rule in rules for what in ("fired", "screened", "recall")]
        flat = []
        for row in data:
            item = {k: row[k] for k in ("seed", *METRICS)}
            item["prior_ids"] = " ".join(row["prior_ids"])
            for rule in rules:
                item[f"{rule}_fired"] = row["stops"][rule]["met"]
                item[f"{rule}_screened"] = row["stops"][rule]["screened"]
                item[f"{rule}_recall"] = row["stops"][rule]["recall"]
            flat.append(item)
        write_csv(flat, columns)
        return
    _table(result, files)


def _write(out: Path, runs: list[Any], result: dict[str, Any], *, title: str) -> list[Path]:
    from reviewtool.outfolder import written_whole
    from reviewtool.screening.simulation import recall_figure

    names = ("recall_curve.png", "recall_curve.svg", "simulation.json")
    with written_whole(out, kind="simulation", could_write=lambda n: n in names) as temp:
        fig = recall_figure(runs, title=f"{title}: prioritised screening vs random order")
        fig.savefig(temp / "recall_curve.png", dpi=150)
        fig.savefig(temp / "recall_curve.svg", metadata={"Date": None})
        (temp / "simulation.json").write_text(
            json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return [out / n for n in names]


def _table(result: dict[str, Any], files: list[Path]) -> None:
    from rich.table import Table

    from reviewtool.screening.simulation import RULE_LABELS

    runs = result["runs"]
    table = Table("metric", *(f"seed {r['seed']}" for r in runs), "mean")
    table.title = (
        f"{result['file']}: {counted(result['records'], 'record')}, {result['includes']} included "
        f"({result['model']})"
    )
    for metric in METRICS:
        cells = [f"{r[metric]:.1f}" if metric != "records_to_all" else str(r[metric]) for r in runs]
        table.add_row(METRIC_NAMES[metric], *cells, f"{result['mean'][metric]:.1f}")
    for rule, label in RULE_LABELS.items():
        if rule not in runs[0]["stops"]:
            continue
        cells = []
        for r in runs:
            stop = r["stops"][rule]
            cells.append(
                f"after {stop['screened']}: recall {stop['recall']:.1f}"
                if stop["met"]
                else NEVER_FIRED
            )
        table.add_row(
            f"stop: {label}", *cells, stop_summary(result["mean"]["stops"][rule], len(runs))
        )
    console().print(table)
    console().print(
        "Metrics leave the prior records out; a stop's records screened are counted after them, "
        "its recall over every include (the review's recall had it stopped there).",
        highlight=False,
    )
    for path in files:
        console().print(f"Wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the root command group."""
    app.command("simulate")(simulate)
