"""`reviewtool report build OUT/` (issue 13, "The report"): the folder and its one self-contained page.

The full review is the sample project as run.sh builds it (screened, risk of bias by run.sh's own
block via ``tests/test_rob_sample.py``'s fixture, outcomes pooled with subgroups and leave-one-out)
plus the seed's extraction form and Table 1 values entered by both extractors. The known answers:
the PRISMA counts of the seed (892 → 288 → 604 → 332 + 238 → 34 → 22 → 12), Cohen's κ 0.705 at
title/abstract (tests/test_sample_screening.py), the paper's 3 high / 7 moderate / 2 low quality,
and the stored run's own pooled numbers, rounded as the seed's Table 2 rounds them.
The page is opened in a real browser (Debian's chromium, headless) where one is installed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from tests.test_rob_sample import rob_block
from tests.test_sample_screening import SAMPLE, SCREENING, load_generator

runner = CliRunner()
SECTIONS = (
    "prisma", "characteristics", "risk-of-bias", "results", "forest", "subgroups",
    "leave-one-out", "agreement", "settings", "audit",
)  # fmt: skip


def _cli(url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", url, *args])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample review as run.sh builds it (imports, dedup, removals before screening, votes,
    resolutions, run.sh's risk-of-bias block, the outcomes pooled with subgroups by disease and
    leave-one-out), plus the seed's Table 1 values entered by both extractors; then
    ``report build``."""
    from reviewtool.screening.service import import_decisions, import_resolutions, unblind_stage

    work = tmp_path_factory.mktemp("report_sample")
    path = work / "review.db"
    generator = load_generator()
    review = generator.build_review(f"sqlite:///{path}")
    generator.remove_before_screening(review, generator.load_references(review), work)
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
    url = str(path)
    rob_out = work / "rob"
    rob_out.mkdir()
    here = Path.cwd()
    os.chdir(SAMPLE)  # the block names its input files relative to sample_project/
    try:
        for args in rob_block():
            args = [
                str(rob_out / Path(a).name) if prev == "--out" else a
                for prev, a in zip(["", *args[:-1]], args, strict=True)
            ]
            result = _cli(url, *args)
            assert result.exit_code == 0, (args, result.output)  # type: ignore[attr-defined]
    finally:
        os.chdir(here)
    steps = [
        ("extract", "form", "add", str(SAMPLE / "extraction" / "form.toml"), "--as", "jniu"),
        ("extract", "import", str(SAMPLE / "extraction" / "table1.csv"), "--as", "yliu"),
        ("extract", "import", str(SAMPLE / "extraction" / "table1.csv"), "--as", "ydong"),
        ("analyze", "run", str(SAMPLE / "outcomes.csv"), "--name", "Liu 2022 outcomes",
         "--by", "disease", "--loo", "--as", "yliu"),
    ]  # fmt: skip
    for args in steps:
        result = _cli(url, *args)
        assert result.exit_code == 0, (args, result.output)  # type: ignore[attr-defined]
    out = tmp_path_factory.mktemp("built") / "report"
    result = _cli(url, "report", "build", str(out), "--as", "jniu")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert f"Wrote {len(json.loads((out / 'report.json').read_text())['files']) + 1} files" in (
        result.stdout  # type: ignore[attr-defined]
    )
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_folder_holds_every_part(built: Path) -> None:
    for stem in (
        "characteristics",
        "results",
        "subgroups",
        "leave_one_out",
        "agreement",
        "settings",
    ):
        for ext in ("csv", "md", "xlsx"):
            assert (built / f"{stem}.{ext}").stat().st_size > 0, (stem, ext)
    for name in ("prisma.svg", "prisma.png", "prisma_PRISMA2020.csv", "index.html", "report.json"):
        assert (built / name).is_file(), name
    for name in ("traffic_light_rob1", "summary_rob1"):
        assert (built / "rob" / f"{name}.svg").is_file() and (
            built / "rob" / f"{name}.png"
        ).is_file()
    assert (built / "rob" / "robvis_rob1.csv").is_file()
    assert (built / "analysis" / "pooled.csv").is_file()
    assert (built / "analysis" / "plots" / "forest_MELD_baseline.svg").is_file()
    manifest = json.loads((built / "report.json").read_text(encoding="utf-8"))
    assert manifest["sections"] == list(SECTIONS)
    assert manifest["analysis_run"] == 1
    # The page and the manifest name the same ledger head, which is the ledger's newest event.
    page = (built / "index.html").read_text(encoding="utf-8")
    assert manifest["ledger_head"]["hash"] in page
    assert not list(built.parent.glob(".report.*")), "the temporary folder is gone"


def test_prisma_counts_are_the_seeds(built: Path) -> None:
    page = (built / "index.html").read_text(encoding="utf-8")
    section = re.search(r'<section id="prisma">(.*?)</section>', page, re.S)
    assert section is not None
    cells = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", section.group(1)))
    assert cells["Records identified from databases"] == "892"
    assert cells["Duplicate records removed"] == "288"
    assert cells["Records after duplicates removed"] == "604"
    assert cells["Records removed for other reasons"] == "332"
    assert cells["Records excluded"] == "238"
    assert cells["Reports assessed for eligibility"] == "34"
    assert cells["Reports excluded"] == "22"
    assert cells["Studies included in review"] == "12"
    assert cells["Studies included in meta-analysis"] == "12"


def test_results_table_is_table_2s_layout_with_the_runs_numbers(built: Path) -> None:
    results = _rows(built / "results.csv")
    assert list(results[0]) == [
        "outcome", "time_point", "measure", "model", "n_studies", "i2_percent", "heterogeneity_p",
        "estimate", "ci_low", "ci_high", "p_value",
    ]  # fmt: skip
    from reviewtool.analysis.service import pooled_rows

    # The stored run's unrounded numbers (analysis/results.json is the run's results as stored).
    stored = json.loads((built / "analysis" / "results.json").read_text(encoding="utf-8"))
    pooled = pooled_rows(stored)
    assert len(results) == len(pooled) == 46
    for r, p in zip(results, pooled, strict=True):
        assert (r["outcome"], r["time_point"], int(r["n_studies"])) == (
            p["outcome"], p["time_point"], p["k"]
        )  # fmt: skip
        ratio = p["measure"] in ("OR", "RR")
        pre = "exp_" if ratio else ""
        for ours, theirs, digits in (
            ("estimate", f"{pre}estimate", 2), ("ci_low", f"{pre}ci_low", 2),
            ("ci_high", f"{pre}ci_high", 2), ("p_value", "p", 3), ("i2_percent", "I2", 1),
            ("heterogeneity_p", "p_Q", 3),
        ):  # fmt: skip
            if p[theirs] is None:
                assert r[ours] == "", (r, ours)
            else:
                assert float(r[ours]) == pytest.approx(round(p[theirs], digits), abs=1e-9)
    survival = [r for r in results if r["outcome"] == "survival"]
    assert survival and all(r["measure"] == "OR" for r in survival)
    # The seed reports how many studies it pooled at baseline (reported_results.csv).
    by = {(r["outcome"], r["time_point"]): r for r in results}
    assert by[("MELD", "baseline")]["n_studies"] == "8"
    assert by[("ALB", "baseline")]["n_studies"] == "10"
    assert by[("TBIL", "baseline")]["n_studies"] == "10"
    subgroups = _rows(built / "subgroups.csv")
    assert {s["variable"] for s in subgroups} == {"disease"}
    loo = _rows(built / "leave_one_out.csv")
    meld0 = [x for x in loo if (x["outcome"], x["time_point"]) == ("MELD", "baseline")]
    assert len(meld0) == 8  # one row per study left out


def test_characteristics_agreement_and_rob(built: Path) -> None:
    table = _rows(built / "characteristics.csv")
    assert len(table) == 12
    # the seed's form has its own publication_year and first_author columns: printed once
    assert list(table[0])[:2] == ["publication_year", "first_author"] and "year" not in table[0]
    assert table[0]["publication_year"] == "2021" and table[-1]["publication_year"] == "2011"
    assert {r["first_author"] for r in table} >= {"Suk", "Peng", "Mohamadnejad"}
    agreement = _rows(built / "agreement.csv")
    tiab = next(r for r in agreement if r["stage"] == "tiab")
    assert (tiab["reviewer_a"], tiab["reviewer_b"]) == ("ydong", "yliu")
    assert float(tiab["kappa"]) == pytest.approx(0.705, abs=0.001)
    robvis = _rows(built / "rob" / "robvis_rob1.csv")
    overall = [r["Overall"] for r in robvis]
    assert len(robvis) == 12
    assert "<h3>RoB 1 (consensus, 12 studies)</h3>" in (built / "index.html").read_text("utf-8")
    assert (overall.count("Low"), overall.count("Unclear"), overall.count("High")) == (3, 7, 2)
    settings = {r["key"]: r["value"] for r in _rows(built / "settings.csv")}
    assert settings["rob1.overall_rule"] == "count_unmet"
    assert settings["analysis.model"] == "auto"


def test_the_page_needs_no_network(built: Path) -> None:
    page = (built / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page), "only data: URIs and anchors"
    assert "<script" not in page and "@import" not in page and "url(" not in page
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert page.count('<img src="data:image/svg+xml;base64,') >= 4


# --- in a real browser ----------------------------------------------------------------------------

CHECK = """
<script>
window.addEventListener('load', function () {
  var out = {sections: {}, images: [], broken: []};
  document.querySelectorAll('section').forEach(function (s) {
    var box = s.getBoundingClientRect(), style = getComputedStyle(s);
    out.sections[s.id] = box.height > 20 && box.width > 200 && style.display !== 'none'
      && style.visibility !== 'hidden';
  });
  document.querySelectorAll('img').forEach(function (img) {
    (img.complete && img.naturalWidth > 0 ? out.images : out.broken).push(img.alt);
  });
  var pre = document.createElement('pre');
  pre.id = 'check-result';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium: .ci/run installs Debian's chromium with apt-get (best effort)")


def test_every_section_shows_in_chromium(built: Path, tmp_path: Path) -> None:
    browser = _chromium()
    # A copy with a checking script (the report itself holds none).
    page = tmp_path / "check.html"
    page.write_text(
        (built / "index.html").read_text(encoding="utf-8").replace("</body>", CHECK + "</body>"),
        encoding="utf-8",
    )
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,4000"]
    env = {**os.environ, "HOME": str(tmp_path)}
    dom = subprocess.run(
        [browser, *flags, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    found = re.search(r'<pre id="check-result">(.*?)</pre>', dom.stdout, re.S)
    assert found is not None, dom.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert result["sections"] == dict.fromkeys(SECTIONS, True)
    assert result["broken"] == []
    assert "PRISMA 2020 flow diagram" in result["images"]
    assert "RoB 1: traffic-light plot" in result["images"]
    assert any(alt.startswith("forest MELD") for alt in result["images"])
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", (built / "index.html").as_uri()],
        capture_output=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (
        int.from_bytes(shot.read_bytes()[16:20]),
        int.from_bytes(shot.read_bytes()[20:24]),
    )
    assert (width, height) == (1280, 4000)
