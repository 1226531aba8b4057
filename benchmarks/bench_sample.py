"""The sample review end to end: wall time of each step of ``sample_project/run.sh`` and in total.

Run: python benchmarks/bench_sample.py [--keep DIR]
Copies ``sample_project/`` to a temporary folder (the project's own copy is left alone) and runs its
``run.sh`` there with the ``rt`` helper replaced by one that times every ``reviewtool`` call.
Prints seconds per step (the command and its first arguments), the sum per command group, and the
whole script's wall time. Budget from issue 13: under 60 s wall on a 2-core machine for the whole
pipeline (the README's main job).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Replaces run.sh's `rt() { python3 -m reviewtool "$@"; }`: same call, timed, appended to a log.
_TIMED_RT = (
    'rt() { local t0=$EPOCHREALTIME rc=0; python3 -m reviewtool "$@" || rc=$?; '
    'awk -v a="$t0" -v b="$EPOCHREALTIME" -v c="$*" \'BEGIN{printf "%.3f\\t%s\\n", b-a, c}\' '
    '>> "$RT_TIMES"; return $rc; }'
)


def _step_name(args: str) -> str:
    words = [w for w in args.split() if not w.startswith("-")]
    return " ".join(words[:2]) if words else args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="run in this folder (kept) instead of a temp one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp) / "sample_project"
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(
            ROOT / "sample_project",
            work,
            ignore=shutil.ignore_patterns("review.db*", "analysis", "report"),
        )
        script = (work / "run.sh").read_text(encoding="utf-8")
        script, n = re.subn(r"^rt\(\) \{.*\}$", lambda _m: _TIMED_RT, script, count=1, flags=re.M)
        if n != 1:
            sys.exit("run.sh has no `rt() { ... }` line to time")
        (work / "run_timed.sh").write_text(script, encoding="utf-8")
        times = work / "times.tsv"
        env = {**os.environ, "RT_TIMES": str(times), "PYTHONPATH": str(ROOT)}
        load = os.getloadavg()
        start = time.perf_counter()
        subprocess.run(
            ["bash", str(work / "run_timed.sh")],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        total = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime
        groups: dict[str, float] = defaultdict(float)
        print(f"{'seconds':>8}  step")
        for line in times.read_text(encoding="utf-8").splitlines():
            secs, cmd = line.split("\t", 1)
            groups[_step_name(cmd).split()[0]] += float(secs)
            print(f"{float(secs):8.2f}  {cmd[:100]}")
        print()
        for name, secs in sorted(groups.items(), key=lambda kv: -kv[1]):
            print(f"{secs:8.2f}  all `{name}` steps")
        print(f"{cpu:8.2f}  total CPU time (user + system, every process)")
        print(f"{total:8.2f}  total wall time of run.sh ({os.cpu_count()} CPUs)")
        print(f"load average before the run: {load[0]:.1f}; after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
