"""`reviewtool analyze file` on a small CSV: wall time as a user types it, and what its imports cost.

Run: python benchmarks/bench_analyze_file.py [--repeat 9]
Each run is a fresh ``python -m reviewtool analyze file three.csv`` process (the command's work is a
millisecond; the rest is interpreter start-up and imports). Prints the median, min and max wall
time and user CPU over ``--repeat`` runs, then the slowest top-level imports from one
``python -X importtime`` run (cumulative microseconds). Budget from issue 13: every read command,
``analyze file`` included, under 1 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSV = (
    "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
    "A,1,1,10,0.5,1,10\nB,1.2,1,20,0.4,1.1,22\nC,0.7,0.9,15,0.6,1,14\n"
)


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and user+system CPU seconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def top_imports(text: str, n: int) -> list[tuple[int, str]]:
    """The ``n`` imports with the largest cumulative time (µs) among those imported directly by
    the program or by reviewtool (nested imports are counted in their parent's time)."""
    rows: list[tuple[int, str]] = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip())) // 2
        module = name.strip()
        if depth <= 1 or module.startswith("reviewtool"):
            rows.append((int(cumulative), module))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "three.csv"
        data.write_text(CSV, encoding="utf-8")
        cmd = [sys.executable, "-m", "reviewtool", "analyze", "file", str(data)]
        _run(cmd, env)  # warm the file cache
        walls, cpus = zip(*(_run(cmd, env) for _ in range(args.repeat)), strict=True)
        helps = [_run([sys.executable, "-m", "reviewtool", "analyze", "--help"], env)[0]
                 for _ in range(args.repeat)]  # fmt: skip
        print(f"analyze file three.csv, {args.repeat} runs ({os.cpu_count()} CPUs, load "
              f"{os.getloadavg()[0]:.1f}):")  # fmt: skip
        print(f"  wall   median {statistics.median(walls):.3f} s, min {min(walls):.3f}, "
              f"max {max(walls):.3f}")  # fmt: skip
        print(f"  CPU    median {statistics.median(cpus):.3f} s (user + system)")
        print(f"analyze --help: wall median {statistics.median(helps):.3f} s, min {min(helps):.3f}")
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=env
        )
        print("\nslowest imports (cumulative ms), one run:")
        for micros, module in top_imports(done.stderr, args.top):
            print(f"  {micros / 1000:8.1f}  {module}")


if __name__ == "__main__":
    main()
