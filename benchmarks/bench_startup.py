"""Start-up budget of the CLI: wall time of `reviewtool --help` and of a typical write command.

Run: python benchmarks/bench_startup.py [--repeat 15]
Prints the median, min and max wall time of each command, each run as a fresh process (as a user
types it). Budgets from issue 2: --help under 0.3 s, `member add` under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("reviewtool"))
    if not Path(exe).exists():
        exe = "reviewtool"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run(
            [exe, "init", "--title", "Bench", "--db", db, "--as", "alice"],
            check=True,
            capture_output=True,
        )
        cases = {
            "reviewtool --help": lambda i: [exe, "--help"],
            "reviewtool member add": lambda i: [
                exe,
                "member",
                "add",
                f"m{i}",
                "--role",
                "reviewer",
                "--db",
                db,
                "--as",
                "alice",
            ],
            "reviewtool status": lambda i: [exe, "status", "--db", db],
            "reviewtool audit verify": lambda i: [exe, "audit", "verify", "--db", db],
        }
        print(f"{'command':28} {'median s':>9} {'min s':>7} {'max s':>7}  (n={args.repeat})")
        for name, make in cases.items():
            times = [_time(make(i)) for i in range(args.repeat)]
            print(f"{name:28} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
