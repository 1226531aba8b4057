"""Prioritised screening against ASReview's default model on every labelled set (issue 15).

Run from the repository root::

    python benchmarks/bench_prioritisation.py                    # every set, 3 seeds, ours + ASReview
    python benchmarks/bench_prioritisation.py --seeds 5 --sets Cohen_2006_ACEInhibitors Nagtegaal_2019
    python benchmarks/bench_prioritisation.py --no-asreview      # ours only
    python benchmarks/bench_prioritisation.py --asreview-only    # fill the ASReview cache only

For every folder of ``../shared/screening/`` (``records.csv``: id, title, abstract, …, label_included)
and every seed s = 1 … ``--seeds``, the prior knowledge is one include and one exclude drawn with the
seed (`simulation.prior_knowledge`, ASReview's default simulation start); both tools start from the
same two rows. Ours: `simulation.simulate` (its defaults: the linear SVM of ELAS u4 on TF-IDF,
retrained after every decision; the stopping rules at their default settings, ``--rules`` to
replay fewer). ASReview: its default model (``asreview simulate`` with no model options:
ELAS u4 in ASReview 2/3, a linear SVM on TF-IDF uni- and bigrams), installed from PyPI into a
separate virtual environment (``--venv``, default /tmp/asreview-venv, made with ``python -m venv`` and
``pip install asreview`` when absent), run as ``asreview simulate records.csv --prior-idx I E --seed s``;
its screening order is read from the project file's ``results`` table and scored with the same
metric functions as ours (`simulation.run_metrics`), so both columns are computed identically.
ASReview runs are cached in ``--cache`` (default /tmp/asreview-bench) by set, seed and priors.

Printed per set (means over seeds, in %): WSS@95 and recall at 10 % for both, then for each of our
stopping rules the mean and the lowest recall when it fired and the mean records screened (beyond
the prior records) as a % of the set. ``--json FILE`` writes every run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtool.screening import ranking, simulation, stopping  # noqa: E402

SHARED = ROOT.parent / "shared" / "screening"


def _read(name: str) -> tuple[list[str], list[bool]]:
    with (SHARED / name / "records.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    _, texts, labels = simulation.texts_and_labels(rows)
    return texts, labels


def ensure_asreview(venv: Path) -> Path | None:
    """The ``asreview`` executable of ``venv``, installing it from PyPI when absent (None: failed)."""
    exe = venv / "bin" / "asreview"
    if exe.exists():
        return exe
    print(f"installing asreview into {venv} …", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "asreview"],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        print(f"ASReview could not be installed: {exc} {exc.stderr or ''}".strip(), flush=True)
        return None
    return exe if exe.exists() else None


def asreview_order(
    exe: Path, name: str, seed: int, prior: tuple[int, int], cache: Path
) -> tuple[list[int], list[int], float]:
    """(prior rows, order of the other rows, seconds) of one ASReview default simulation."""
    cache.mkdir(parents=True, exist_ok=True)
    key = cache / f"{name}_seed{seed}_prior{prior[0]}-{prior[1]}.json"
    if key.exists():
        data = json.loads(key.read_text())
        return data["prior"], data["order"], data["seconds"]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "sim.asreview"
        start = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "simulate",
                str(SHARED / name / "records.csv"),
                "--prior-idx",
                str(prior[0]),
                str(prior[1]),
                "--seed",
                str(seed),
                "-o",
                str(project),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,  # ASReview leaves a synergy_cache.sqlite in its working directory
        )
        seconds = time.perf_counter() - start
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", tmp)
        db = sqlite3.connect(Path(tmp) / "results.db")
        rows = db.execute(
            "SELECT rec.dataset_row, r.training_set FROM results r "
            "JOIN record rec USING (record_id) ORDER BY r.rowid"
        ).fetchall()
        n = db.execute("SELECT count(*) FROM record").fetchone()[0]
        db.close()
    prior_rows = [int(r[0]) for r in rows if r[1] is None]
    order = [int(r[0]) for r in rows if r[1] is not None]
    seen = set(prior_rows) | set(order)
    # ASReview stops once every include is found; the rest are excludes in any order.
    order += [i for i in range(n) if i not in seen]
    key.write_text(json.dumps({"prior": prior_rows, "order": order, "seconds": seconds}))
    return prior_rows, order, seconds


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", nargs="*", default=None, help="folder names (default: all)")
    parser.add_argument("--venv", type=Path, default=Path("/tmp/asreview-venv"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/asreview-bench"))
    parser.add_argument("--no-asreview", action="store_true")
    parser.add_argument("--asreview-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--rules",
        nargs="*",
        default=list(stopping.RULES),
        choices=list(stopping.RULES),
        help="stopping rules to replay (default: all; safe replays a run of its own)",
    )
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"no labelled sets at {SHARED}")
    names = args.sets or sorted(p.parent.name for p in SHARED.glob("*/records.csv"))
    exe = None if args.no_asreview else ensure_asreview(args.venv)
    if exe is None and not args.no_asreview:
        print("ASReview is not available: printing ours only", flush=True)
    seeds = list(range(1, args.seeds + 1))
    rules = tuple(args.rules)
    print(
        f"{len(names)} sets, seeds {seeds}; stopping rules at defaults: "
        f"consecutive n={stopping.DEFAULTS['consecutive_exclusions']['n']}, hypergeometric "
        f"{stopping.DEFAULTS['hypergeometric']} (sampling after {simulation.SAMPLE_AFTER} excludes "
        f"in a row), SAFE {stopping.DEFAULTS['safe']}",
        flush=True,
    )
    header = (
        f"{'set':36s} {'N':>5s} {'R':>4s} | {'WSS@95 ours':>11s} {'ASReview':>8s} | "
        f"{'RRF@10 ours':>11s} {'ASReview':>8s} | "
        + " | ".join(f"{r[:14]:>14s} rec/min/work" for r in rules)
    )
    lines: list[str] = []
    everything: dict[str, Any] = {}
    for name in names:
        texts, labels = _read(name)
        features = None if args.asreview_only else ranking.fit_features(texts)
        ours: list[simulation.SimulationRun] = []
        theirs: list[simulation.SimulationRun] = []
        for seed in seeds:
            prior = simulation.prior_knowledge(labels, seed=seed)
            if exe is not None:
                try:
                    p_rows, order, secs = asreview_order(exe, name, seed, prior, args.cache)
                    theirs.append(simulation.run_metrics(seed, p_rows, order, labels))
                    print(f"  {name} seed {seed}: ASReview {secs:.1f} s", flush=True)
                except subprocess.CalledProcessError as exc:
                    print(f"{name} seed {seed}: asreview failed: {exc.stderr[-300:]}", flush=True)
            if features is not None:
                start = time.perf_counter()
                ours.append(
                    simulation.simulate(features, labels, seed=seed, prior=list(prior), rules=rules)
                )
                print(f"  {name} seed {seed}: ours {time.perf_counter() - start:.1f} s", flush=True)
        if args.asreview_only:
            print(f"{name}: ASReview runs cached", flush=True)
            continue
        n = len(labels) - 2
        stops = []
        for rule in rules:
            # recall over the seeds where the rule fired: one that never fired has no recall
            recalls = [
                100 * stop.recall for r in ours if (stop := r.stops[rule]).recall is not None
            ]
            work = [
                100 * (r.stops[rule].screened if r.stops[rule].screened is not None else n) / n
                for r in ours
            ]
            stops.append(
                f"{_mean(recalls):6.1f}/{min(recalls):5.1f}/{_mean(work):5.1f}"
                if recalls
                else "never fired"
            )
        line = (
            f"{name:36s} {len(labels):5d} {sum(labels):4d} | "
            f"{_mean([100 * r.wss95 for r in ours]):11.1f} "
            f"{_mean([100 * r.wss95 for r in theirs]):8.1f} | "
            f"{_mean([100 * r.recall_10 for r in ours]):11.1f} "
            f"{_mean([100 * r.recall_10 for r in theirs]):8.1f} | "
            + " | ".join(f"{s:>27s}" for s in stops)
        )
        lines.append(line)
        print(line, flush=True)
        everything[name] = {
            "ours": [r.metrics() for r in ours],
            "asreview": [r.metrics() for r in theirs],
        }
    if lines:
        print()
        print(header)
        print("\n".join(lines))
        print(
            "\n(means over seeds, %; stopping-rule columns: mean recall / lowest recall over the "
            "seeds where it fired / mean % of records screened when it fired (100 where it never "
            "fired); 'never fired': in no seed, so every record was screened)"
        )
        print(f"load average {os.getloadavg()[0]:.1f}")
    if args.json is not None:
        args.json.write_text(json.dumps(everything, indent=1))


if __name__ == "__main__":
    main()
