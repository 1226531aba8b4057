"""Peak memory of refusing an overlong line (issue 14, section 5): a 200 MB file that is one line.

Usage: python benchmarks/bench_long_line.py [--mb 200] [--kind ris|csv|xml|decisions]

Writes the file to a temporary folder, runs the command that reads it (``reviewtool import`` for an
export, ``screen import-decisions`` for a decisions file) in a subprocess on a fresh review, and
prints the child's exit code, its one line of error, its peak RSS (``resource.getrusage
(RUSAGE_CHILDREN).ru_maxrss``, read after the child is reaped) and the wall-clock seconds. The
target is a peak under 2x the longest line reviewtool reads (``csvfiles.MAX_LINE_BYTES``, 64 MiB):
the file is refused while read in 1 MiB pieces, so its size never reaches memory. A baseline run
(``reviewtool --help`` in a subprocess: the interpreter and the CLI alone) is printed beside it.
Figures only; nothing is asserted (``tests/test_trust_long_lines.py`` pins the behaviour).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_one_line(path: Path, kind: str, size: int) -> None:
    """A file of about ``size`` bytes whose long part is a single line (no line end at all)."""
    head = {
        "ris": b"TI  - ",
        "csv": b"title,year\n",
        "xml": b'<?xml version="1.0"?><xml><records><record><titles><title>',
        "decisions": b"record_id,decision,note\n1,include,",
    }[kind]
    block = b"x" * (1 << 20)
    with path.open("wb") as fh:
        fh.write(head)
        written = len(head)
        while written < size:
            fh.write(block)
            written += len(block)


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, float, float]:
    """Exit code, last stderr line, peak RSS (MiB) and seconds of one child process."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    if peak <= before:  # ru_maxrss is the largest child so far: run each case in its own parent
        peak = before
    lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
    return done.returncode, lines[-1] if lines else "", peak / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument(
        "--kind", choices=("ris", "csv", "xml", "decisions"), default="ris", help="file kind"
    )
    parser.add_argument("--child", choices=("baseline", "case"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    options = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO), REVIEWTOOL_USER="alice")
    if options.child:
        # One measurement per parent process: ru_maxrss of RUSAGE_CHILDREN is the largest child.
        work = Path(options.dir)
        db = str(work / "review.db")
        if options.child == "baseline":
            args = [sys.executable, "-m", "reviewtool", "--help"]
        elif options.kind == "decisions":
            args = [sys.executable, "-m", "reviewtool", "screen", "import-decisions",
                    str(work / "long.csv"), "--stage", "tiab", "--db", db]  # fmt: skip
        else:
            suffix = {"ris": "ris", "csv": "csv", "xml": "xml"}[options.kind]
            args = [sys.executable, "-m", "reviewtool", "import", str(work / f"long.{suffix}"),
                    "--source", "bench", "--db", db]  # fmt: skip
        code, line, peak, seconds = run(args, env)
        print(f"{code}\t{peak:.1f}\t{seconds:.2f}\t{line}")
        return
    import reviewtool.csvfiles as csvfiles

    max_line = getattr(csvfiles, "MAX_LINE_BYTES", 64 << 20)  # (absent before the bound existed)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = str(work / "review.db")
        subprocess.run(
            [sys.executable, "-m", "reviewtool", "init", "--title", "bench", "--db", db],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        name = "long.csv" if options.kind == "decisions" else f"long.{options.kind}"
        size = options.mb * 1000 * 1000
        write_one_line(work / name, options.kind, size)
        me = [sys.executable, __file__, "--kind", options.kind, "--dir", tmp]
        rows = {}
        for child in ("baseline", "case"):
            out = subprocess.run(
                [*me, "--child", child], env=env, capture_output=True, text=True, check=True
            ).stdout.strip()
            code, peak, seconds, line = out.split("\t", 3)
            rows[child] = (int(code), float(peak), float(seconds), line)
        limit_mib = max_line / (1 << 20)
        code, peak, seconds, line = rows["case"]
        print(f"file: {name}, {size / 1e6:.0f} MB, one line ({options.kind})")
        print(f"longest line read: {limit_mib:.0f} MiB; target peak < {2 * limit_mib:.0f} MiB")
        print(f"baseline (reviewtool --help): peak RSS {rows['baseline'][1]:.1f} MiB")
        print(f"refusal: exit {code}, peak RSS {peak:.1f} MiB, {seconds:.2f} s")
        print(f"  {line}")


if __name__ == "__main__":
    main()
