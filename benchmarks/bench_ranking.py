"""Speed of retraining the relevance model on 10,000 records (issue 15: under 1 s on 2 cores).

Run from the repository root::

    python benchmarks/bench_ranking.py                 # 10,000 records, every model, 5 repeats
    python benchmarks/bench_ranking.py --records 20000 --labelled 2000 --repeats 3

The records are real titles and abstracts: the labelled screening sets in ``../shared/screening/``
(all folders, in name order, cut to ``--records``; repeated if there are fewer), with their labels;
without that folder, synthetic texts. The TF-IDF features are fitted once on all records and cached
(`ranking.fit_features`, timed separately); each retraining fits only the classifier
(`ranking.train_rows`) on ``--labelled`` records (default: all of them) and scores every record.
It prints the feature fit time and, per model, the median and maximum wall time of a retrain, its
median CPU time (what it costs on an idle machine: the fit runs on one thread) and the scoring time,
with the load average (the machine is shared; the verdict is judged on the wall time).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtool.screening import ranking  # noqa: E402

SHARED = ROOT.parent / "shared" / "screening"


def _records(n: int) -> tuple[list[str], list[bool]]:
    texts: list[str] = []
    labels: list[bool] = []
    for path in sorted(SHARED.glob("*/records.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                texts.append(ranking.record_text(row["title"], row["abstract"], None))
                labels.append(row["label_included"].strip() == "1")
    if not texts:  # synthetic fallback
        rng = random.Random(1)
        words = [f"w{i}" for i in range(5000)]
        for i in range(n):
            texts.append(" ".join(rng.choice(words) for _ in range(150)))
            labels.append(i % 20 == 0)
    while len(texts) < n:
        texts, labels = texts + texts, labels + labels
    return texts[:n], labels[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--labelled", type=int, default=None, help="default: all records")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts, labels = _records(args.records)
    labelled = args.labelled or len(texts)
    rows = list(range(labelled))
    print(
        f"{len(texts)} records ({sum(labels)} included), training on {labelled}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    start = time.perf_counter()
    features = ranking.fit_features(texts)
    print(
        f"features (once, cached): {time.perf_counter() - start:.2f} s, "
        f"{features.matrix.shape[1]} terms, {features.matrix.nnz} non-zeros"
    )
    for model in ranking.MODELS:
        fits: list[float] = []
        cpu: list[float] = []
        scoring: list[float] = []
        for repeat in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            trained = ranking.train_rows(
                features, rows, labels[:labelled], model=model, seed=repeat
            )
            middle = time.perf_counter()
            cpu.append(time.process_time() - start_cpu)
            trained.scores_of_rows()
            fits.append(middle - start)
            scoring.append(time.perf_counter() - middle)
        verdict = "ok" if statistics.median(fits) < 1.0 else "OVER 1 s"
        print(
            f"{model:12s} retrain median {statistics.median(fits):.3f} s, max {max(fits):.3f} s "
            f"(CPU {statistics.median(cpu):.3f} s); "
            f"score all {statistics.median(scoring):.3f} s  [{verdict}]"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
