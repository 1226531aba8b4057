"""Start-up budget of the CLI: time of `reviewtool --help` and of typical read and write commands.

Run: python benchmarks/bench_startup.py [--repeat 15] [--only status]
Prints, per command, the median, min and max wall time and the median CPU time (user + system of
the child process, from ``resource.getrusage``), each run as a fresh process (as a user types it).
Wall time depends on what else the machine runs; CPU time much less, so compare CPU on a shared
machine. Budgets from issue 2: --help under 0.3 s, `member add` under 1 s; issue 13: every read
command, `analyze file` included, under 1 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _time(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``cmd`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--only", action="append", default=[], help="time only commands whose name holds this"
    )
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("reviewtool"))
    if not Path(exe).exists():
        exe = "reviewtool"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        csv_path = str(Path(tmp) / "three.csv")
        Path(csv_path).write_text(
            "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
            "A,1,1,10,0.5,1,10\nB,1.2,1,20,0.4,1.1,22\nC,0.7,0.9,15,0.6,1,14\n",
            encoding="utf-8",
        )
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
            "reviewtool status": lambda i: [exe, "status", "--db", db, "--as", "alice"],
            "reviewtool screen stats": lambda i: [
                exe,
                "screen",
                "stats",
                "--db",
                db,
                "--as",
                "alice",
            ],
            "reviewtool audit verify": lambda i: [
                exe,
                "audit",
                "verify",
                "--db",
                db,
                "--as",
                "alice",
            ],
            # Pools 3 studies: the time is Python, numpy and scipy.special starting (issue 13).
            "reviewtool analyze file": lambda i: [exe, "analyze", "file", csv_path, "-m", "SMD"],
        }
        print(
            f"{'command':28} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU median s':>13}"
            f"  (n={args.repeat})"
        )
        for name, make in cases.items():
            if args.only and not any(word in name for word in args.only):
                continue
            runs = [_time(make(i)) for i in range(args.repeat)]
            walls = [wall for wall, _ in runs]
            cpu = statistics.median(cpu for _, cpu in runs)
            print(
                f"{name:28} {statistics.median(walls):9.3f} {min(walls):7.3f} {max(walls):7.3f}"
                f" {cpu:13.3f}"
            )


if __name__ == "__main__":
    main()
