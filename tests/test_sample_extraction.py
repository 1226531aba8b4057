"""The sample review's extraction: run.sh's extraction block, and the analysis fed from it.

The block of ``sample_project/run.sh`` that starts at ``rt extract form add`` is read from the script
and run command by command through the CLI on the sample review screened as run.sh screens it, so
the script and this test cannot drift apart. Known answers:

* the disagreements are the four slips ``make_extraction.py`` lists (and nothing else), and the
  consensus is the value of ``outcomes.csv`` / Table 1 at each;
* ``analyze run`` from the consensus values pools exactly what ``analyze run outcomes.csv`` pools:
  the same comparisons (Suk 2016's two MSC arms against its one control arm as
  "Suk 2016 (one injection)" and "Suk 2016 (two injections)"), the same estimates, CIs, τ² and I²
  for every outcome × time point;
* a changed consensus value changes the run's input hash and ``analyze run`` says so.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.test_rob_sample import HIGH_QUALITY, LOW_QUALITY, rob_block
from tests.test_sample_screening import SAMPLE, SCREENING, load_generator

EXTRACTION = SAMPLE / "extraction"


def _generator() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_extraction", SAMPLE / "make_extraction.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def extraction_block() -> list[list[str]]:
    """The commands of run.sh's extraction block, as argument lists without ``rt``."""
    lines = (SAMPLE / "run.sh").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("rt extract form add"))
    commands: list[list[str]] = []
    pending = ""
    for line in lines[start:]:
        if not line.strip():
            break
        pending += line.removesuffix("\\") + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        if pending.startswith("rt "):
            commands.append(shlex.split(pending)[1:])
        pending = ""
    return commands


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The sample review screened as run.sh does, then run.sh's extraction block through the
    CLI. Yields (database path, {command name: output})."""
    from reviewtool.screening.service import import_decisions, import_resolutions, unblind_stage

    work = tmp_path_factory.mktemp("extraction_sample")
    path = work / "review.db"
    review = load_generator().build_review(f"sqlite:///{path}")
    for stage in ("tiab", "fulltext"):
        for reviewer in ("yliu", "ydong"):
            with review.transaction() as session:
                import_decisions(
                    session,
                    actor=reviewer,
                    path=str(SCREENING / f"{stage}_{reviewer}.csv"),
                    stage=stage,
                )
        with review.transaction() as session:
            import_resolutions(
                session, actor="jniu", path=str(SCREENING / f"{stage}_resolutions.csv"), stage=stage
            )
            unblind_stage(session, actor="jniu", stage=stage)
    review.close()
    runner = CliRunner()
    outputs: dict[str, str] = {}
    here = Path.cwd()
    os.chdir(SAMPLE)  # the block names its input files relative to sample_project/
    try:
        for args in rob_block():  # the consensus risk of bias, for --exclude-rob / --by rob_overall
            if args[:2] in (["rob", "plot"], ["rob", "export"]):
                continue
            result = runner.invoke(app, ["--db", str(path), *args], terminal_width=200)
            assert result.exit_code == 0, (args, result.output)
        for args in extraction_block():
            args = [
                str(work / Path(a).name) if prev == "--out" else a
                for prev, a in zip(["", *args[:-1]], args, strict=True)
            ]
            result = runner.invoke(app, ["--db", str(path), *args], terminal_width=200)
            assert result.exit_code == 0, (args, result.output)
            outputs[args[1]] = outputs.get(args[1], "") + result.output
    finally:
        os.chdir(here)
    yield path, outputs


def _invoke(path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(path), *args], terminal_width=200)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def test_the_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    _generator().main(["make_extraction.py", str(tmp_path)])
    for who in ("yliu", "ydong"):
        name = f"values_{who}.csv"
        assert (tmp_path / name).read_bytes() == (EXTRACTION / name).read_bytes(), name


def test_the_block_is_there_and_complete() -> None:
    verbs = [args[1] for args in extraction_block()]
    assert verbs[:4] == ["form", "import", "import", "compare"]
    assert verbs[-2:] == ["status", "export"]
    assert set(verbs[4:-2]) == {"agree", "resolve"}
    run_sh = (SAMPLE / "run.sh").read_text(encoding="utf-8")
    assert run_sh.index("rt rob export") < run_sh.index("rt extract form add")
    assert run_sh.index("rt extract export") < run_sh.index("rt analyze run --from-extraction")


def test_the_disagreements_are_the_four_slips(sample: tuple[Path, dict[str, str]]) -> None:
    path, _ = sample
    # compare after consensus lists nothing open; the disagreements themselves are in the ledger
    # as the consensus decisions: check the consensus at each slip is the right value.
    slips = _generator().DISAGREEMENTS
    consensus = json.loads(
        _invoke(path, "extract", "values", "--extractor", "consensus", "-f", "json", "--as", "jniu")
    )
    held = {(v["study"], v["arm"], v["outcome"], v["time_point"], v["field"]): v for v in consensus}
    right = {
        ("Xu 2019", "MSC", "meld", "12 weeks", "mean"): 14.4,  # outcomes.csv line of Xu 2019
        ("Lin 2017", "control", "alb", "2 weeks", "sd"): 4.4,
        ("Peng 2011", "MSC", "survival", "24 weeks", "events"): 30,
        ("Zhang 2012", "control", "", "", "median_age"): 47,  # Table 1: median age 47
    }
    assert {s[:5] for s in slips} == set(right)
    for key, value in right.items():
        assert float(held[key]["value"]) == value, key
    yliu = {tuple(r[c] for c in ("study", "arm", "outcome", "time_point", "field")): r["value"]
            for r in csv.DictReader((EXTRACTION / "values_yliu.csv").open(encoding="utf-8"))}  # fmt: skip
    ydong = {tuple(r[c] for c in ("study", "arm", "outcome", "time_point", "field")): r["value"]
             for r in csv.DictReader((EXTRACTION / "values_ydong.csv").open(encoding="utf-8"))}  # fmt: skip
    differ = {k for k in yliu.keys() | ydong.keys() if yliu.get(k) != ydong.get(k)}
    assert differ == set(right)


def test_compare_listed_four_disagreements(sample: tuple[Path, dict[str, str]]) -> None:
    _, outputs = sample
    assert "4 disagreements." in outputs["compare"]
    status = outputs["status"]
    assert "yliu" in status and "ydong" in status


def _pooled(
    path: Path, *source: str, name: str
) -> tuple[dict[tuple[str, str], dict[str, Any]], Any]:
    from reviewtool.analysis.service import list_runs
    from reviewtool.review.service import open_existing

    _invoke(path, "analyze", "run", *source, "--name", name, "--as", "yliu")
    review = open_existing(f"sqlite:///{path}")
    try:
        with review.transaction() as session:
            run = next(r for r in reversed(list_runs(session)) if r.name == name)
    finally:
        review.close()
    return {(r["outcome"].lower(), r["time_point"]): r for r in run.summary_rows()}, run


def _same(got: object, want: object) -> bool:
    """Equal numbers (to 1e-9 relative), or both absent (a τ² or p the model does not give)."""
    if want is None or got is None:
        return got is want
    return bool(got == pytest.approx(want, rel=1e-9, abs=1e-12))


def _split_shared_control(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """outcomes.csv's rows with a control arm shared by several comparisons of one study at one
    outcome × time point divided between them, as the Cochrane Handbook (section 23.3.4) says:
    n (continuous; mean and SD kept) or events and total, in whole parts as equal as possible, the
    first comparison taking the remainder (Suk 2016's control arm of 18 at MELD baseline: 9 and
    9; of 17 at 24 weeks: 9 and 8)."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    out = [dict(r) for r in rows]
    for r in out:
        groups.setdefault((_study(r["study"]), r["outcome"], r["time_point"]), []).append(r)
    for group in groups.values():
        k = len(group)
        if k < 2:
            continue
        for column in ("n_con", "events_con", "total_con"):
            if not group[0][column]:
                continue
            whole = int(group[0][column])
            for j, r in enumerate(group):
                r[column] = str(whole // k + (1 if j < whole % k else 0))
    return out


def _write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _assert_same_pooled(
    got: dict[tuple[str, str], dict[str, Any]], want: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert set(got) == set(want)
    for key, w in want.items():
        assert got[key]["k"] == w["k"], key
        for field in ("estimate", "ci_low", "ci_high", "tau2", "I2", "p"):
            assert _same(got[key][field], w[field]), (key, field, got[key][field], w[field])
        assert got[key]["flag"] == w["flag"], key


def test_pooled_from_extraction_splits_suk_2016s_shared_control_arm(
    sample: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Suk 2016 compares two MSC arms with one control arm. Pooled from the extraction, its
    control arm is split between the two comparisons (Cochrane Handbook 23.3.4): the result is
    what outcomes.csv gives with Suk 2016's n_con split (and nothing else changed); with
    ``--shared-control twice`` it is outcomes.csv's as it stands (the seed paper's double count).
    Only the outcome × time points where both Suk 2016 arms have values change."""
    path, _ = sample
    rows = _csv_rows()
    split_csv = _write_rows(tmp_path / "split.csv", _split_shared_control(rows))
    want, _ = _pooled(path, "--from-csv", str(split_csv), name="csv split")
    got, run = _pooled(path, "--from-extraction", name="extraction split")
    _assert_same_pooled(got, want)
    as_printed, _ = _pooled(path, str(SAMPLE / "outcomes.csv"), name="csv as printed")
    twice, _ = _pooled(path, "--shared-control", "twice", name="extraction twice")
    _assert_same_pooled(twice, as_printed)
    shared = {
        (r["outcome"].lower(), r["time_point"])
        for r in rows
        if r["study"] == "Suk 2016 (two injections)"
        and any(
            o["study"] == "Suk 2016 (one injection)"
            and (o["outcome"], o["time_point"]) == (r["outcome"], r["time_point"])
            for o in rows
        )
    }
    changed = {k for k in got if not _same(got[k]["estimate"], as_printed[k]["estimate"])}
    # Survival at 4 and 12 weeks: every patient of Suk 2016 alive in all three arms, so both
    # comparisons have no events to compare (an odds ratio of 0/n vs 0/n is not estimable and
    # leaves the pooled result alone), split or not.
    assert shared - changed == {("survival", "4 weeks"), ("survival", "12 weeks")}
    assert changed < shared
    assert sorted(changed) == [
        ("alb", "12 weeks"), ("alb", "24 weeks"), ("alb", "48 weeks"), ("alb", "baseline"),
        ("inr", "12 weeks"), ("inr", "24 weeks"), ("inr", "48 weeks"), ("inr", "baseline"),
        ("meld", "12 weeks"), ("meld", "24 weeks"), ("meld", "baseline"),
        ("survival", "24 weeks"), ("survival", "48 weeks"), ("tbil", "baseline"),
    ]  # fmt: skip
    splits = run.settings["input"]["shared_control_splits"]
    assert {(s["outcome"].lower(), s["time_point"]) for s in splits} == shared
    meld = next(s for s in splits if (s["outcome"], s["time_point"]) == ("meld", "24 weeks"))
    assert (meld["n"], [p["n"] for p in meld["parts"]]) == (17, [9, 8])
    assert meld["note"] == (
        "Suk 2016: shared control arm n 17 split 9 (Suk 2016 (one injection)) + 8 "
        "(Suk 2016 (two injections)) (Cochrane Handbook v6.5 section 23.3.4)"
    )
    analysis = next(
        a
        for a in run.results["analyses"]
        if (a["outcome"], a["time_point"]) == ("meld", "24 weeks")
    )
    assert analysis["notes"] == [meld["note"]]


def test_pooled_from_extraction_twice_equals_pooled_from_outcomes_csv(
    sample: tuple[Path, dict[str, str]],
) -> None:
    path, _ = sample
    from_csv, csv_run = _pooled(path, str(SAMPLE / "outcomes.csv"), name="csv")
    from_ex, ex_run = _pooled(
        path, "--from-extraction", "--shared-control", "twice", name="extraction"
    )
    assert set(from_ex) == set(from_csv)
    assert len(from_csv) == 46  # 7 laboratory outcomes x 6 time points + survival at 4
    for key, want in from_csv.items():
        got = from_ex[key]
        assert got["k"] == want["k"], key
        for field in ("estimate", "ci_low", "ci_high", "tau2", "I2", "p"):
            assert _same(got[field], want[field]), (key, field, got[field], want[field])
        assert got["flag"] == want["flag"], key
    studies = {
        s["study"]
        for a in ex_run.results["analyses"]
        for s in a["studies"]
        if a["outcome"] == "meld" and a["time_point"] == "baseline"
    }
    assert {"Suk 2016 (one injection)", "Suk 2016 (two injections)"} <= studies
    assert ex_run.settings["input"]["from"] == "extraction"
    assert ex_run.settings["input"]["form_version"] == 1
    assert ex_run.input_source == "extraction consensus (form version 1)"
    assert csv_run.settings["input"] == {"from": "csv"}


def test_a_changed_consensus_value_shows_in_the_next_run(
    sample: tuple[Path, dict[str, str]],
) -> None:
    path, _ = sample
    _invoke(path, "analyze", "run", "--name", "before", "--as", "yliu")
    again = _invoke(path, "analyze", "run", "--name", "again", "--as", "yliu")
    assert "Input unchanged since run" in again
    _invoke(
        path, "extract", "resolve", "Xu 2019", "mean", "14.0", "--arm", "MSC",
        "--outcome", "meld", "--time", "12 weeks", "--as", "jniu",
    )  # fmt: skip
    after = _invoke(path, "analyze", "run", "--name", "after", "--as", "yliu")
    assert "Input changed since run" in after
    runs = json.loads(_invoke(path, "analyze", "runs", "--format", "json", "--as", "yliu"))
    by_name = {r["name"]: r for r in runs}
    assert by_name["before"]["input_sha256"] == by_name["again"]["input_sha256"]
    assert by_name["after"]["input_sha256"] != by_name["again"]["input_sha256"]
    # put it back: the run from the consensus is again the one from outcomes.csv
    _invoke(
        path, "extract", "resolve", "Xu 2019", "mean", "14.4", "--arm", "MSC",
        "--outcome", "meld", "--time", "12 weeks", "--as", "jniu",
    )  # fmt: skip
    back = _invoke(path, "analyze", "run", "--name", "back", "--as", "yliu")
    assert "Input changed since run" in back
    runs = json.loads(_invoke(path, "analyze", "runs", "--format", "json", "--as", "yliu"))
    by_name = {r["name"]: r for r in runs}
    assert by_name["back"]["input_sha256"] == by_name["again"]["input_sha256"]


def _csv_rows() -> list[dict[str, str]]:
    text = (SAMPLE / "outcomes.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines(True) if not line.startswith("#")))


def _study(label: str) -> str:
    return label.split(" (")[0]


def test_exclude_rob_high_pools_without_the_two_low_quality_trials(
    sample: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The paper's two low-quality trials (Peng 2011, Xu 2014: overall risk High) left out gives
    what outcomes.csv without their rows gives."""
    path, _ = sample
    output = _invoke(path, "analyze", "run", "--exclude-rob", "high", "-n", "sens", "--as", "yliu")
    assert "Left out (consensus overall risk of bias High): Peng 2011, Xu 2014" in output
    rows = _split_shared_control([r for r in _csv_rows() if _study(r["study"]) not in LOW_QUALITY])
    assert len(rows) < len(_csv_rows())
    filtered = tmp_path / "without_high.csv"
    with filtered.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    want, _ = _pooled(path, "--from-csv", str(filtered), name="csv without high")
    got, run = _pooled(path, "--exclude-rob", "high", name="sens again")
    assert set(got) == set(want)
    for key, w in want.items():
        assert got[key]["k"] == w["k"], key
        for field in ("estimate", "ci_low", "ci_high", "tau2", "I2"):
            assert _same(got[key][field], w[field]), (key, field, got[key][field], w[field])
    assert run.settings["input"]["exclude_rob"] == "High"
    assert run.settings["input"]["excluded"] == ["Peng 2011", "Xu 2014"]


def test_by_rob_overall_groups_comparisons_by_their_studys_rating(
    sample: tuple[Path, dict[str, str]],
) -> None:
    """Subgroups Low / Unclear / High hold the comparisons of the paper's 3 high-, 7 moderate- and
    2 low-quality trials; both Suk 2016 comparisons are in Suk 2016's (Low)."""
    path, _ = sample
    _, run = _pooled(path, "--by", "rob_overall", name="by rob")
    rating = {s: "Low" for s in HIGH_QUALITY} | {s: "High" for s in LOW_QUALITY}
    seen = 0
    for a in run.results["analyses"]:
        want = {
            r["study"]: rating.get(_study(r["study"]), "Unclear")
            for r in _csv_rows()
            if (r["outcome"].lower(), r["time_point"]) == (a["outcome"], a["time_point"])
        }
        got = {arm["study"]: arm["groups"]["rob_overall"] for arm in a["arms"]}
        assert got == want, (a["outcome"], a["time_point"])
        (sg,) = a["subgroups"]
        names = [g["group"] for g in sg["groups"]] + [g["group"] for g in sg["not_estimable"]]
        assert sorted(names) == sorted(set(want.values())), (a["outcome"], a["time_point"])
        seen += len(got)
    assert seen == len(_csv_rows())
    assert rating["Suk 2016"] == "Low"
