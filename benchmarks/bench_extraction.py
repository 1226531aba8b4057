"""Speed and memory of extraction at scale: 500 studies × 4 arms × 10 outcomes × 6 time points.

Run from the repository root::

    python benchmarks/bench_extraction.py                      # 500 studies (targets below)
    python benchmarks/bench_extraction.py --studies 50         # a quick run

Two extractors (alice, bob) each import a long-layout CSV of every study's values: per arm and
time point mean, sd and n of 10 continuous outcomes (500 × 4 × 10 × 6 × 3 = 360,000 values per
extractor, plus each arm's n randomised), bob differing from alice in about 1 % of the means.
Timed: both imports (bob's import reaches consensus on every identical value), ``compare`` (every
disagreement), and the long and wide exports of the consensus values. The review (studies
included at full text) is built first, untimed, with ``tests/extraction_builder.py``.

Prints the seconds of each step (wall and CPU) and in total, the peak resident memory of the
process (targets: under 10 s in total, under 500 MB), and the machine's load average (on a
shared machine wall time includes waiting for a CPU). Then, outside the target, a full
``audit verify`` of the review (every event re-hashed, every extraction value and consensus
value compared with the ledger), with its own seconds and the peak memory after it.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewtool import audit  # noqa: E402
from reviewtool.extraction import service  # noqa: E402
from reviewtool.review.service import open_existing  # noqa: E402
from tests.extraction_builder import build_review  # noqa: E402

ARMS = ("MSC low", "MSC high", "placebo", "standard care")
TIMES = ("1 week", "4 weeks", "12 weeks", "24 weeks", "48 weeks", "96 weeks")
OUTCOMES = tuple(f"o{i}" for i in range(1, 11))


def form_text() -> str:
    """The benchmark's form: one study field, the arms, 10 continuous outcomes at 6 times."""
    times = ", ".join(f'"{t}"' for t in TIMES)
    outcomes = "".join(
        f'[[outcome]]\nkey = "{o}"\nkind = "continuous"\ntime_points = [{times}]\n'
        for o in OUTCOMES
    )
    return (
        '[form]\nname = "Benchmark"\n[[field]]\nkey = "country"\ntype = "text"\n'
        '[arms]\nfields = [{key = "n_randomised", type = "integer", min = 1}]\n' + outcomes
    )


def write_values(path: Path, studies: int, who: str, differ: bool) -> int:
    """A long-layout file of one extractor's values; returns its number of rows."""
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(service.LONG_COLUMNS)
        for study in range(1, studies + 1):
            out.writerow([study, "", "", "", "country", "Korea", "reported", "report 1", who])
            rows += 1
            for a, arm in enumerate(ARMS):
                out.writerow([study, arm, "", "", "n_randomised", 40, "reported", "Table 1", who])
                rows += 1
                for o, outcome in enumerate(OUTCOMES):
                    for t, time_point in enumerate(TIMES):
                        mean = 10 + a + o / 10 + t / 100
                        if differ and (study * 7 + a * 5 + o * 3 + t) % 100 == 0:
                            mean += 1
                        source = f"report {study}, Table {o + 2}"
                        for field, value in (("mean", mean), ("sd", 2.5), ("n", 40 - t)):
                            out.writerow(
                                [
                                    study,
                                    arm,
                                    outcome,
                                    time_point,
                                    field,
                                    value,
                                    "reported",
                                    source,
                                    who,
                                ]
                            )
                            rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_extraction_"))
    started = time.perf_counter()
    url = build_review(
        work / "review.db", [(f"Author{i}", 2000 + i % 25) for i in range(args.studies)]
    )
    review = open_existing(url)
    with review.transaction() as s:
        service.add_form(s, actor="olga", text=form_text())
    files = {who: work / f"{who}.csv" for who in ("alice", "bob")}
    rows = {who: write_values(path, args.studies, who, who == "bob") for who, path in files.items()}
    print(
        f"setup (untimed): {time.perf_counter() - started:.1f} s; {rows['alice']:,} rows per extractor"
    )

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clock = {"cpu": time.process_time()}

    def step(name: str, start: float) -> None:
        timings[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - clock["cpu"]
        print(f"{name:<28} {timings[name]:6.2f} s (CPU {cpu[name]:6.2f} s)")

    for who, path in files.items():
        start, clock["cpu"] = time.perf_counter(), time.process_time()
        with review.transaction() as s:
            summary = service.import_values(s, actor=who, path=str(path))
        step(f"import ({who})", start)
        assert summary.changed == rows[who], summary
    print(f"  consensus by agreement at bob's import: {summary.consensus:,}")
    start, clock["cpu"] = time.perf_counter(), time.process_time()
    with review.reading() as s:
        found = service.compare(s, actor="carol")
    step("compare", start)
    print(f"  disagreements: {len(found):,}")
    for layout in ("long", "wide"):
        start, clock["cpu"] = time.perf_counter(), time.process_time()
        with review.reading() as s:
            table = service.export_table(s, actor="carol", layout=layout)
        step(f"export --{layout}", start)
        print(f"  rows: {len(table.rows):,}")
    review.close()
    total = sum(timings.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"total: {total:.2f} s wall, {sum(cpu.values()):.2f} s CPU (target < 10 s); "
        f"peak memory: {peak:.0f} MB (target < 500 MB)"
    )
    print(
        f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall time is shared)"
    )
    review = open_existing(url)
    start, clock["cpu"] = time.perf_counter(), time.process_time()
    with review.reading() as s:
        report = audit.verify(s)
    step("audit verify (not in total)", start)
    review.close()
    assert report.ok, report.problems[:3]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  events: {report.events:,}; peak memory after verify: {peak:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)  # the review and the two files (hundreds of MB)


if __name__ == "__main__":
    main()
