"""The sample review end to end: wall time of each step of ``sample_project/run.sh`` and in total.

Run: python benchmarks/bench_sample.py [--keep DIR] [--warm] [--steps N]
Copies ``sample_project/`` to a temporary folder (the project's own copy is left alone) and runs its
``run.sh`` there with the ``rt`` helper replaced by one that times every ``reviewtool`` call.
Prints wall and CPU seconds per step (the command and its first arguments; CPU is user + system
time of the step's processes, plot workers included), the sums per command group, and the whole
script's CPU and wall time. On a machine that runs other work, compare CPU times: wall time
depends on the load. The run starts with an empty plot cache (``analysis.plot_cache``: so
``report build`` copies the plots ``analyze run`` drew, as on a newcomer's first run), unless
``--warm``. Budget from issue 13: under 60 s wall on a 2-core machine for the whole
pipeline (the README's main job). ``--steps N`` stops after the first N ``reviewtool`` calls (a
quick run that checks the script still works; tests/test_benchmarks_run.py uses it).
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

# Replaces run.sh's `rt() { python3 -m reviewtool "$@"; }`: same call, timed, appended to a log as
# wall seconds, CPU seconds (user + system of the command and its children, from bash's `times`
# before and after: its second line is the shell's children) and the arguments.
_TIMED_RT = (
    'rt() { if [ -n "${RT_STEPS:-}" ]; then [ "$RT_STEPS" -le 0 ] && exit 0; '
    "RT_STEPS=$((RT_STEPS - 1)); fi; "
    'local t0=$EPOCHREALTIME rc=0; times > "$RT_TIMES.cpu"; '
    'python3 -m reviewtool "$@" || rc=$?; times >> "$RT_TIMES.cpu"; '
    'awk -v a="$t0" -v b="$EPOCHREALTIME" -v c="$*" '
    '\'function s(x){split(x,p,"m"); return p[1]*60+p[2]} '
    "NR==2{u0=s($1)+s($2)} NR==4{u1=s($1)+s($2)} "
    'END{printf "%.3f\\t%.3f\\t%s\\n", b-a, u1-u0, c}\' '
    '"$RT_TIMES.cpu" >> "$RT_TIMES"; return $rc; }'
)


def _step_name(args: str) -> str:
    words = [w for w in args.split() if not w.startswith("-")]
    return " ".join(words[:2]) if words else args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="run in this folder (kept) instead of a temp one")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="use the user's plot cache (plots drawn by earlier runs are copied); by default a "
        "new empty one, as on a first run",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="stop after the first N reviewtool calls of run.sh (a quick check that the script "
        "still runs; the totals are then not the issue's budget)",
    )
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
        if args.steps is not None:
            env["RT_STEPS"] = str(args.steps)
        if not args.warm:  # a first run: no plot drawn by an earlier run is reused
            env["REVIEWTOOL_PLOT_CACHE"] = str(work / ".plot-cache")
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
        cpu_groups: dict[str, float] = defaultdict(float)
        print(f"{'wall s':>8} {'CPU s':>7}  step")
        for line in times.read_text(encoding="utf-8").splitlines():
            secs, cpu_secs, cmd = line.split("\t", 2)
            groups[_step_name(cmd).split()[0]] += float(secs)
            cpu_groups[_step_name(cmd).split()[0]] += float(cpu_secs)
            print(f"{float(secs):8.2f} {float(cpu_secs):7.2f}  {cmd[:100]}")
        print()
        for name, secs in sorted(groups.items(), key=lambda kv: -cpu_groups[kv[0]]):
            print(f"{secs:8.2f} {cpu_groups[name]:7.2f}  all `{name}` steps")
        print(f"{cpu:8.2f}  total CPU time (user + system, every process)")
        print(f"{total:8.2f}  total wall time of run.sh ({os.cpu_count()} CPUs)")
        print(f"load average before the run: {load[0]:.1f}; after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
