"""The plot cache (issue 13: the sample review in under a minute): ``report build`` copies the
forest and funnel plots ``analyze run --out`` drew instead of drawing them again.

Pinned: a job drawn once is copied the next time (the drawing code is not called, the bytes are
those drawn), in every format; a job that differs in anything it shows, a changed drawing code or
another format is drawn anew; ``REVIEWTOOL_PLOT_CACHE=off`` draws every time; an unusable cache
folder changes nothing; the cache keeps the most recently used files only.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from reviewtool.analysis import plot_cache, plots
from reviewtool.analysis.service import plot_jobs, run_analysis

HEADER = "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con"
ROWS = [
    "A 2010,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36",
    "B 2012,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30",
    "C 2015,MELD,4 weeks,12.5,3.0,25,13.0,3.0,24",
]


@pytest.fixture
def job(fresh_review: Any, tmp_path: Path) -> dict[str, Any]:
    """The forest plot job of a three-study analysis, drawn as PNG and SVG into ``tmp_path/a``."""
    data = tmp_path / "outcomes.csv"
    data.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    with fresh_review.transaction() as session:
        run = run_analysis(session, actor="bob", data_path=data, name="main")
    (tmp_path / "a").mkdir()
    (forest,) = [
        j for j in plot_jobs(run.results, tmp_path / "a", plot_formats=("png", "svg"))
        if j["kind"] == "forest"
    ]  # fmt: skip
    return forest


def _elsewhere(job: dict[str, Any], folder: Path) -> dict[str, Any]:
    folder.mkdir(exist_ok=True)
    return {**job, "paths": [str(folder / Path(p).name) for p in job["paths"]]}


def _no_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(job: Any) -> Any:
        raise AssertionError("drawn again")

    monkeypatch.setattr(plots, "figure_for", refuse)


def test_a_plot_drawn_once_is_copied_the_next_time(
    job: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(plot_cache.ENV, str(cache))
    first = plots.draw_job(job)
    assert [Path(p).suffix for p in first] == [".png", ".svg"]
    assert sorted(p.suffix for p in cache.iterdir()) == [".png", ".svg"]
    with monkeypatch.context() as patch:
        _no_drawing(patch)
        again = plots.draw_job(_elsewhere(job, tmp_path / "b"))
    assert [Path(p).read_bytes() for p in again] == [Path(p).read_bytes() for p in first]
    # Another format of the same plot is drawn (PDF is not in the cache).
    pdf = {**job, "paths": [str(tmp_path / "b" / "forest.pdf")]}
    assert Path(plots.draw_job(pdf)[0]).read_bytes()[:5] == b"%PDF-"
    assert len(list(cache.iterdir())) == 3


def test_what_the_plot_shows_or_draws_it_is_in_the_key(
    job: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(plot_cache.ENV, str(tmp_path / "cache"))
    base = plot_cache.key(job, ".png", plots.DPI)
    assert plot_cache.key(_elsewhere(job, tmp_path / "b"), ".png", plots.DPI) == base
    changed = copy.deepcopy(job)
    changed["analysis"]["studies"][0]["weight"] += 1e-9  # one stored number
    assert plot_cache.key(changed, ".png", plots.DPI) != base
    assert plot_cache.key({**job, "subgroup_weights": "within"}, ".png", plots.DPI) != base
    assert plot_cache.key(job, ".svg", plots.DPI) != base
    assert plot_cache.key(job, ".png", plots.DPI + 1) != base
    with monkeypatch.context() as patch:  # the drawing code changed
        patch.setattr(plot_cache, "code_fingerprint", lambda: "other code")
        assert plot_cache.key(job, ".png", plots.DPI) != base


def test_off_or_unusable_means_drawing_every_time(
    job: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(plot_cache.ENV, "off")
    assert plot_cache.folder() is None
    plots.draw_job(job)
    with monkeypatch.context() as patch:
        _no_drawing(patch)
        with pytest.raises(AssertionError, match="drawn again"):
            plots.draw_job(_elsewhere(job, tmp_path / "b"))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(plot_cache.ENV, str(blocker / "cache"))  # cannot be made
    files = plots.draw_job(_elsewhere(job, tmp_path / "c"))
    assert all(Path(p).stat().st_size > 1000 for p in files)


def test_the_cache_keeps_the_most_recently_used_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv(plot_cache.ENV, str(cache))
    for n in range(5):
        path = cache / f"{n}.png"
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
    plot_cache.prune(limit=2)
    assert sorted(p.name for p in cache.iterdir()) == ["3.png", "4.png"]


def test_the_default_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plot_cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert plot_cache.folder() == tmp_path / "reviewtool" / "plots"
