"""Every script in ``benchmarks/`` runs, in its smallest configuration, and prints what it promises.

A benchmark nobody runs rots silently: ``bench_audit_verify.py`` wrote vote rows itself and failed
with "NOT NULL constraint failed: screening_decision.reference_id" for a whole session before
anyone noticed. Here each script runs as a subprocess (``python benchmarks/<script> <args>``, the
worktree first on ``PYTHONPATH``, its temporary files under the test's ``tmp_path``), must exit 0,
and every line pattern of its entry in ``RUNS`` must match a line of its standard output: the
figures it promises, each a number with its unit ("0.42 s", "81 MB", "p50 3.1 ms"), and its
self-checks ("verified=OK", "invariants HOLD"). The values are never asserted (speed is never
asserted in a test); only that the line with the number is there.

``test_every_benchmark_has_an_entry`` lists ``benchmarks/*.py`` (``_``-prefixed files are modules,
not scripts) and fails for a script without an entry, so a new benchmark cannot be added untested.
Each entry's arguments are the script's smallest configuration: a few seconds of CPU each (at most
about 20 s), about a minute of CPU for the module; the figures are meaningless at that size.
Scripts that need a dependency the machine may lack (the labelled sets of ``../shared``, a
PostgreSQL server) skip with the reason where it is absent.
"""

from __future__ import annotations

import importlib.util
import os
import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"

NUM = r"-?\d[\d,]*(?:\.\d+)?"  # 12 / 1,450 / 0.42 / -1.4
S = rf"{NUM} s"  # seconds
MS = rf"{NUM} ms"
MB = rf"{NUM} MB"
MIB = rf"{NUM} MiB"
ASREVIEW_VENV = Path("/tmp/asreview-venv")  # bench_prioritisation.py's default --venv


@dataclass(frozen=True)
class Run:
    """One run of a benchmark script: its arguments and what its standard output must hold.

    ``args``: ``{tmp}`` in one is replaced by the test's ``tmp_path``. ``lines``: regular
    expressions, each matched (``re.search``) against every line of stdout; each must match at
    least one. ``needs``: what the run needs beyond the repository (``"shared"``: ``../shared``;
    ``"postgres"``: a throw-away PostgreSQL cluster, see ``benchmarks/_pgcluster.py``;
    ``"asreview"``: ASReview installed in ``ASREVIEW_VENV``); absent, the run skips with the
    reason. ``failing``: the script fails today, with the reason (a strict xfail: the test
    fails once the script is fixed, so the mark is removed then). ``too_big``: the script has no
    configuration small enough to run here, with the reason (skipped until it has one).
    ``own_tmp``: the script's temporary files go under ``tmp_path`` (``TMPDIR``); False where
    another user must reach them (the PostgreSQL cluster runs as ``postgres``, and its socket
    path must stay short).
    """

    script: str
    args: tuple[str, ...]
    lines: tuple[str, ...]
    needs: tuple[str, ...] = ()
    failing: str | None = None
    too_big: str | None = None
    own_tmp: bool = True
    label: str = ""

    @property
    def id(self) -> str:
        return self.script.removesuffix(".py") + (f"-{self.label}" if self.label else "")


ESTIMATORS = (
    "fixed (IV)",
    "random DL",
    "random REML",
    "random PM",
    "random REML + HKSJ",
    "Mantel-Haenszel OR",
    "Peto OR",
)
PARSE_FORMATS = ("ris", "nbib", "bibtex", "endnote_xml", "wos", "wos_tab", "csv")
STARTUP_COMMANDS = (
    "--help",
    "member add",
    "status",
    "screen stats",
    "audit verify",
    "analyze file",
)
RANKING_MODELS = ("logistic", "svm", "naive_bayes")
CRASH_OPERATIONS = ("import", "dedup", "decisions", "analysis")
SOAK_BLOCK = (
    r"^decisions\s+\d+\s+\(expected \d+\)$",
    rf"^seconds\s+{NUM}\s+\(all three processes, wall clock\)$",
    rf"^decisions per second\s+{NUM}\s+\(per vote p50 {MS}, p95 {MS}\)$",
    r"^lost\s+0\s+\(\+ 0 with another decision\)$",
    r"^doubled\s+0\s+",
    r"^errors shown to a user\s+0$",
    r"^conflicts\s+\d+\s+resolved exactly once \d+, twice 0, unresolved 0",
    r"^audit verify\s+OK\b",
    r"^invariants\s+HOLD$",
    r"^all invariants hold$",
)

RUNS: tuple[Run, ...] = (
    Run(
        "bench_analysis.py",
        ("200",),
        (
            rf"^simulated 200 meta-analyses of 5-50 studies in {S}$",
            *(rf"^{re.escape(e)}\s+{S}\s+\(\s*{NUM} µs per meta-analysis\)$" for e in ESTIMATORS),
            rf"^all estimators\s+{S}$",
        ),
    ),
    Run(
        "bench_analyze_file.py",
        ("--repeat", "1", "--top", "3"),
        (
            rf"^\s+wall\s+median {S}, min {NUM}, max {NUM}$",
            rf"^\s+CPU\s+median {S} \(user \+ system\)$",
            rf"^analyze --help: wall median {S}, min {NUM}$",
            rf"^\s+{NUM}\s+[\w.]+$",  # an import and its cumulative ms
        ),
    ),
    Run(
        "bench_startup.py",
        ("--repeat", "1"),
        tuple(
            rf"^reviewtool {re.escape(c)}\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}$"
            for c in STARTUP_COMMANDS
        ),
    ),
    Run(
        "bench_sample.py",
        ("--steps", "10"),  # run.sh up to its four imports
        (
            rf"^\s*{NUM}\s+{NUM}  init --title ",  # wall and CPU seconds per step of run.sh
            rf"^\s*{NUM}\s+{NUM}  all `import` steps$",
            rf"^\s*{NUM}\s+total CPU time \(user \+ system, every process\)$",
            rf"^\s*{NUM}\s+total wall time of run.sh",
        ),
    ),
    Run(
        "bench_import_parse.py",
        ("--records", "200"),
        # The line ends with records/s: a "(expected N)" after it means records were lost.
        tuple(rf"^{f}\s+\d+\s+{NUM}\s+{NUM}\s+{NUM}\s+\d+$" for f in PARSE_FORMATS),
        needs=("shared",),
    ),
    Run(
        "bench_long_line.py",
        ("--mb", "70"),  # just past the 64 MiB line bound, so the refusal is measured
        (
            r"^file: long\.ris, 70 MB, one line \(ris\)$",
            rf"^baseline \(reviewtool --help\): peak RSS {MIB}$",
            rf"^refusal: exit [1-9]\d*, peak RSS {MIB}, {S}$",
            r"long\.ris:1: a line longer than",
        ),
    ),
    Run(
        "bench_ranking.py",
        ("--records", "200", "--repeats", "1"),
        (
            r"^200 records \(\d+ included\), training on 200",
            rf"^features \(once, cached\): {S}, \d+ terms, \d+ non-zeros$",
            *(
                rf"^{m}\s+retrain median {S}, max {S} \(CPU {S}\); score all {S}"
                for m in RANKING_MODELS
            ),
        ),
    ),
    Run(
        "bench_prioritisation.py",
        ("--no-asreview", "--sets", "Cohen_2006_Antihistamines", "--seeds", "1"),
        (
            rf"^\s+Cohen_2006_Antihistamines seed 1: ours {S}$",
            # WSS@95 and recall at 10 % (ours, ASReview's nan), then per stopping rule
            # mean recall / lowest recall / % screened, or "never fired" (no recall).
            rf"^Cohen_2006_Antihistamines\s+\d+\s+\d+ \|\s+{NUM}\s+nan \|\s+{NUM}\s+nan \|"
            + r" \|".join([rf"\s+(?:{NUM}/\s*{NUM}/\s*{NUM}|never fired)"] * 3)
            + "$",
        ),
        needs=("shared",),
    ),
    Run(
        "bench_prioritisation.py",
        # ASReview's simulation beside ours; a cache of our own, so ASReview really runs
        (
            *("--sets", "Cohen_2006_Antihistamines", "--seeds", "1"),
            *("--venv", str(ASREVIEW_VENV), "--cache", "{tmp}/asreview-cache"),
        ),
        (
            rf"^\s+Cohen_2006_Antihistamines seed 1: ASReview {S}$",
            rf"^\s+Cohen_2006_Antihistamines seed 1: ours {S}$",
            rf"^Cohen_2006_Antihistamines\s+\d+\s+\d+ \|\s+{NUM}\s+{NUM} \|\s+{NUM}\s+{NUM} \|",
        ),
        needs=("shared", "asreview"),
        label="asreview",
    ),
    Run(
        "bench_dedup.py",
        # one set from ../shared/dedup, one of the repository's own (benchmarks/sets)
        ("--no-peer", "--sets", "special_cases", "shared_identifiers", "--sizes", "200"),
        (
            *(
                rf"^{name}\s+\d+\s+\d+ \| reviewtool\s+\d+\s+\d+\s+\d+\s+{NUM}\s+{NUM}\s+{NUM}"
                rf"\s+\d+\(\d+\)\s+{NUM}\s+\d+\s+{NUM}$"
                for name in ("special_cases", "shared_identifiers")
            ),
            r"^all sets: TP \d+  FP \d+  FN \d+  review queue \d+",
            # the speed step (a subprocess): "failed: ..." in its place when it breaks
            rf"^\s+200 reviewtool\s+{NUM}\s+{NUM}\s+{NUM}\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+$",
        ),
        needs=("shared",),
    ),
    Run(
        "bench_import_dedup.py",
        ("--sizes", "200"),
        (rf"^\s+200\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}\s+\d+\s+\d+\s+\d+\s+{NUM}\s+{NUM}$",),
        needs=("shared",),
    ),
    Run(
        "bench_import_decisions.py",
        ("--sizes", "200"),
        # ends with the verdict on the target; "VERIFY FAILED" after it when audit verify fails
        (rf"^\s+200(\s+{NUM}){{3}}\s+\d+(\s+{NUM}){{5}}  (ok|MISSES TARGET)$",),
    ),
    Run(
        "bench_screening.py",
        ("--records", "200", "--presses", "5"),
        (
            r"^built 200 references \(0 prior votes by bob\) in " + S + "$",
            rf"^screening_queue \(start-up, once\)\s+{MS}$",
            rf"^\(a\) library: record_decision \(committed\)\s+p50\s+{MS}\s+p95\s+{MS}\s+n=5$",
            rf"^\(a\) library: decision \+ next card\s+p50\s+{MS}\s+p95\s+{MS}\s+n=5",
            rf"^app start-up \(queue \+ counts \+ first card\)\s+{MS}$",
            rf"^\(b\) in app: key handler incl\. write \+ widgets\s*p50\s+{MS}\s+p95\s+{MS}\s+n=5",
            rf"^\(c\) pilot: wall time per press\s+p50\s+{MS}\s+p95\s+{MS}\s+n=5",
            r"^\s+\(bob's votes after the run: 5\)$",
        ),
    ),
    Run(
        "check_extraction_outputs.py",
        ("--studies", "12"),
        (
            r"^verify: \(True, \d+, \[\]\)$",
            *(
                rf"^{table}: \(\d+, '[0-9a-f]{{64}}'\)$"
                for table in (
                    "extraction_value",
                    "extraction_consensus",
                    "audit_event",
                    "audit_head",
                )
            ),
        ),
    ),
    Run(
        "bench_extraction.py",
        ("--studies", "2"),
        (
            *(
                rf"^{re.escape(step)}\s+{S} \(CPU\s+{S}\)$"
                for step in ("import (alice)", "import (bob)", "compare")
            ),
            rf"^export --long\s+{S} \(CPU\s+{S}\)$",
            rf"^export --wide\s+{S} \(CPU\s+{S}\)$",
            rf"^total: {S} wall, {S} CPU \(target < 10 s\); peak memory: {MB}",
            rf"^audit verify \(not in total\)\s+{S} \(CPU\s+{S}\)$",
            rf"^\s+events: {NUM}; peak memory after verify: {MB}$",
        ),
    ),
    Run(
        "bench_audit_verify.py",
        ("--records", "200", "--changes", "10"),
        (
            rf"^built 200 references in {S}, then 800 votes in bulk in {S}$",
            rf"^\(a\) full verify, 200 records\s+{S}\s+cpu\s+{S}\s+peak\s+{MB}\s+events \d+"
            r"\s+verified=OK\b",
            rf"^\(b\) since the checkpoint, 10 votes changed\s+{S}\s+cpu\s+{S}\s+peak\s+{MB}"
            r"\s+events \d+\s+verified=OK\b",
        ),
    ),
    Run(
        "crash_safety.py",
        ("--kills", "1", "--records", "200", "--no-plots"),
        (
            rf"^prepared in {S}: 200 references \(240 records\), 240 votes; 1 kills per operation",
            *(rf"^{op}: uninterrupted run {S};" for op in CRASH_OPERATIONS),
            # kills, mid-operation, finished, WAL written, consistent, present, absent, partial
            *(rf"^{op}\s+1(\s+\d+){{7}}$" for op in CRASH_OPERATIONS),
            r"^every kill left a consistent review, the operation wholly present or absent$",
        ),
    ),
    Run(
        "soak_screening.py",
        ("--references", "20", "--no-pg"),
        (r"^== SQLite: 20 references built in " + S + "$", *SOAK_BLOCK),
        label="sqlite",
    ),
    Run(
        "soak_screening.py",
        ("--references", "20", "--no-sqlite"),
        (r"^== PostgreSQL \(throw-away cluster\): 20 references built in " + S + "$", *SOAK_BLOCK),
        needs=("postgres",),
        own_tmp=False,
        label="postgres",
    ),
)


def _pg_unavailable() -> str | None:
    """Why ``benchmarks/_pgcluster.py`` cannot start a cluster here (None: it can)."""
    spec = importlib.util.spec_from_file_location("_pgcluster", BENCHMARKS / "_pgcluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reason: str | None = module.unavailable()
    return reason


def _scripts() -> list[str]:
    return sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


def test_every_benchmark_has_an_entry() -> None:
    """A script in benchmarks/ without a run in RUNS (or a run of a script that is gone) fails."""
    scripts = set(_scripts())
    covered = {run.script for run in RUNS}
    assert scripts - covered == set(), "benchmarks with no entry in RUNS (add one)"
    assert covered - scripts == set(), "entries in RUNS for scripts that do not exist"
    ids = [run.id for run in RUNS]
    assert len(ids) == len(set(ids)), "two runs of one script need distinct labels"


def test_patterns_match_a_recorded_line() -> None:
    """The helpers the patterns are built from match the lines they are meant for (and not a
    line that lost its number), so a pattern cannot pass or fail for a reason of its own."""
    assert re.search(rf"^all estimators\s+{S}$", "all estimators            3.91 s")
    assert not re.search(rf"^all estimators\s+{S}$", "all estimators            nan s")
    assert re.search(rf"^rows: {NUM}$", "rows: 1,450")
    assert re.search(rf"^x {NUM}$", "x -1.4")
    (verify,) = [r for r in RUNS if r.script == "bench_audit_verify.py"]
    line = (
        "(a) full verify, 200 records                     0.40 s  cpu   0.11 s  peak    81 MB"
        "  events 1007  verified=OK  (target < 10 s, < 500 MB)"
    )
    assert re.search(verify.lines[1], line)
    assert not re.search(verify.lines[1], line.replace("verified=OK", "verified=FAILED"))


@pytest.mark.parametrize("run", [pytest.param(r, id=r.id) for r in RUNS])
def test_benchmark_runs(run: Run, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The script exits 0 and prints each promised line (number and unit, self-checks)."""
    if "shared" in run.needs:
        request.getfixturevalue("shared_dir")  # skips with the reason where ../shared is absent
    if "postgres" in run.needs and (reason := _pg_unavailable()) is not None:
        pytest.skip(f"PostgreSQL: {reason}")
    if "asreview" in run.needs and not (ASREVIEW_VENV / "bin" / "asreview").exists():
        pytest.skip(f"ASReview is not installed in {ASREVIEW_VENV} (the script would install it)")
    if run.too_big is not None:
        pytest.skip(run.too_big)
    if run.failing is not None:
        request.applymarker(pytest.mark.xfail(reason=run.failing, strict=True))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWTOOL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if run.own_tmp:
        env["TMPDIR"] = str(tmp_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / run.script), *(a.format(tmp=tmp_path) for a in run.args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # wall clock on a loaded machine; a hang fails rather than blocks
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"{run.id}: {cpu:.1f} s CPU\n{done.stdout}")  # shown with -rA / on failure
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
    assert done.returncode == 0, f"{run.id} exited {done.returncode}:\n{tail}"
    lines = done.stdout.splitlines()
    missing = [p for p in run.lines if not any(re.search(p, line) for line in lines)]
    assert missing == [], f"{run.id} did not print lines matching {missing}:\n{done.stdout}"


def test_the_extraction_fingerprint_is_the_same_run_to_run(tmp_path: Path) -> None:
    """``check_extraction_outputs.py`` is only worth its diff if two runs of the same code print
    the same fingerprint: the clock and the ledger's salts are frozen (a random salt per event,
    schema 0019, would otherwise change every hash)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWTOOL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["TMPDIR"] = str(tmp_path)
    script = [sys.executable, str(BENCHMARKS / "check_extraction_outputs.py"), "--studies", "12"]
    first, second = (
        subprocess.run(script, cwd=REPO, env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    )
    assert "audit_event: (" in first.stdout
    assert first.stdout == second.stdout


def test_agreement_found_in_sqlite_writes_what_python_finds(tmp_path: Path) -> None:
    """A first import finds agreement inside SQLite (``AGREE_IN_SQLITE``); the whole scenario of
    ``check_extraction_outputs.py`` (imports, updates, reopening, a third extractor, adoption,
    compare, resolve, exports, verify) fingerprints the same with agreement found in Python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWTOOL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["TMPDIR"] = str(tmp_path)
    script = [sys.executable, str(BENCHMARKS / "check_extraction_outputs.py"), "--studies", "12"]
    in_sqlite, in_python = (
        subprocess.run(
            script + extra, cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        for extra in ([], ["--python-agreement"])
    )
    assert (
        "import bob.csv: ImportSummary(changed=8700, unchanged=0, studies=12, consensus=8671"
        in (in_sqlite.stdout)
    )
    assert in_sqlite.stdout == in_python.stdout
