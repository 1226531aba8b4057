"""Simulation metrics on hand-computed orders, the replay itself, and `reviewtool simulate`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.errors import InvalidInput
from reviewtool.screening import ranking, simulation, stopping

# N = 10 records after the prior ones, R = 3 includes at places 1, 3 and 7.
ORDER = [True, False, True, False, False, False, True, False, False, False]


def test_wss_at_95_by_hand():
    # recall ≥ 95 % needs ⌈0.95·3⌉ = 3 includes: k = 7 records; (TN + FN)/N − (1 − r) = 3/10 − 0.05
    assert simulation.records_to_recall(ORDER, 0.95) == 7
    assert simulation.wss(ORDER, 0.95) == pytest.approx(0.25)
    # WSS@85: ⌈0.85·3⌉ = 3 still; WSS@60: 2 includes at k = 3 → 7/10 − 0.4
    assert simulation.wss(ORDER, 0.85) == pytest.approx(0.15)
    assert simulation.wss(ORDER, 0.60) == pytest.approx(0.30)


def test_recall_at_fraction_screened_by_hand():
    # ⌊0.1·10⌋ = 1 record: 1 of 3; ⌊0.25·10⌋ = 2: 1 of 3; 5 records: 2 of 3
    assert simulation.recall_at(ORDER, 0.10) == pytest.approx(1 / 3)
    assert simulation.recall_at(ORDER, 0.25) == pytest.approx(1 / 3)
    assert simulation.recall_at(ORDER, 0.50) == pytest.approx(2 / 3)
    assert simulation.recall_at(ORDER, 0.0) == 0.0


def test_records_to_all_and_atd_by_hand():
    assert simulation.records_to_find_all(ORDER) == 7
    # mean of places 1, 3, 7 over N = 10
    assert simulation.atd(ORDER) == pytest.approx((1 + 3 + 7) / 3 / 10)
    curve = simulation.recall_curve(ORDER)
    assert curve.shape == (11,)
    assert list(curve[[0, 1, 2, 3, 7, 10]]) == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 1, 1])


def test_perfect_and_worst_orders():
    perfect = [True] * 5 + [False] * 95
    assert simulation.wss(perfect) == pytest.approx(0.95 - 0.05)  # 5 of 100 screened
    worst = [False] * 95 + [True] * 5
    assert simulation.wss(worst) == pytest.approx(0.0 - 0.05)
    with pytest.raises(InvalidInput):
        simulation.wss([False] * 4)


def test_prior_knowledge_is_seeded_and_has_both_classes():
    labels = [False] * 50 + [True] * 5 + [False] * 45
    a = simulation.prior_knowledge(labels, seed=3)
    assert a == simulation.prior_knowledge(labels, seed=3)
    assert labels[a[0]] is True and labels[a[1]] is False
    assert {simulation.prior_knowledge(labels, seed=s) for s in range(10)} != {a}
    with pytest.raises(InvalidInput):
        simulation.prior_knowledge([False] * 5, seed=1)


def _toy_set(n_off: int = 60) -> tuple[list[str], list[bool]]:
    on = [
        f"Mesenchymal stem cell therapy for liver cirrhosis, trial {i}: stem cells improve liver"
        for i in range(6)
    ]
    topics = ["albumin ascites", "beta blockers varices", "antivirals hepatitis", "rifaximin"]
    off = [f"{topics[i % 4]} in cirrhosis patients, cohort study {i}" for i in range(n_off)]
    return on + off, [True] * 6 + [False] * n_off


def test_simulation_is_reproducible_and_finds_the_includes_first():
    texts, labels = _toy_set()
    features = ranking.fit_features(texts)
    a = simulation.simulate(features, labels, seed=2, consecutive=10, consecutive_confidence=0)
    b = simulation.simulate(features, labels, seed=2, consecutive=10, consecutive_confidence=0)
    assert a.order == b.order and a.prior == b.prior
    assert len(a.order) == len(labels) - 2
    assert sorted(a.order + a.prior) == list(range(len(labels)))
    # the 5 includes left after the prior include come first
    assert a.records_to_all == 5 and a.recall_10 == 1.0
    assert a.wss95 == pytest.approx((64 - 5) / 64 - 0.05)
    stop = a.stops["consecutive_exclusions"]
    assert stop.screened == 15 and stop.recall == 1.0  # 10 excludes after the last include
    # Scaled to the review (the default): 6 includes in the first 7 of 66 records, K_tar =
    # floor(6/0.95 - 6 + 1) = 1 of the 59 left, p(m) = (59 - m)/59 < 0.05 from m = 57: the rule
    # fires after 5 + 57 = 62 records beyond the prior ones.
    scaled = simulation.simulate(features, labels, seed=2, consecutive=10)
    assert scaled.order == a.order
    stop = scaled.stops["consecutive_exclusions"]
    assert stop.screened == 62 and stop.recall == 1.0
    assert stop.evidence is not None and stop.evidence.numbers["p"] == pytest.approx(2 / 59)
    hyper = a.stops["hypergeometric"]
    assert hyper.evidence is not None and hyper.evidence.met
    assert hyper.screened == hyper.evidence.numbers["screened"] - 2
    assert hyper.evidence.numbers["p"] < 0.05


def test_hypergeometric_replay_starts_sampling_after_the_run():
    labels = [True] * 3 + [False] * 97
    order = list(range(100))
    decisions = [labels[i] for i in order]
    stop = simulation.hypergeometric_stop(
        decisions, order, labels, n_prior=0, n_prior_includes=0, seed=1, sample_after=20
    )
    assert stop.evidence is not None
    assert stop.evidence.numbers["prioritised"] == 23  # 3 includes then 20 excludes in a row
    # every include was found before sampling: K_tar = ⌊3/0.95 − 3 + 1⌋ = 1 of 77; p = 1 − n/77 < 0.05
    assert stop.evidence.numbers["k_target"] == 1
    assert stop.evidence.numbers["sample"] == 74
    assert stop.evidence.numbers["p"] == pytest.approx(3 / 77)
    assert stop.recall == 1.0


def test_safe_replay_runs_its_stages():
    texts, labels = _toy_set(200)
    features = ranking.fit_features(texts)
    stop = simulation.safe_stop(features, labels, [0, 10], seed=1, consecutive=20, confidence=0.0)
    assert stop.evidence is not None and stop.evidence.rule == "safe"
    assert stop.evidence.met and stop.recall == 1.0
    numbers = stop.evidence.numbers
    assert numbers["random_training"] == 3  # ⌈1 % of 206⌉
    assert numbers["stage2_complete_at"] is not None
    assert stop.screened == numbers["screened"]
    assert stopping.safe_procedure  # the same kernel decided it


# --- the command ------------------------------------------------------------------------------


def _write_set(path: Path, *, bad_label: str | None = None) -> Path:
    texts, labels = _toy_set()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "abstract", "authors", "year", "doi", "label_included"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            value = bad_label if (bad_label is not None and i == 3) else ("1" if label else "0")
            writer.writerow([f"R{i}", text, "", "", "", "", value])
    return path


def test_simulate_json_and_out_folder(tmp_path):
    data = _write_set(tmp_path / "set.csv")
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        app, ["simulate", str(data), "--seeds", "2", "--out", str(out), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["records"] == 66 and body["includes"] == 6
    assert [r["seed"] for r in body["runs"]] == [1, 2]
    for run in body["runs"]:
        assert run["records_to_all"] == 5 and run["recall_10"] == 100.0
        assert run["wss95"] == pytest.approx(100 * ((64 - 5) / 64 - 0.05))
        assert set(run["stops"]) == set(stopping.RULES)
        assert len(run["prior_ids"]) == 2
    assert (out / "recall_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "recall_curve.svg").read_text(encoding="utf-8")
    assert json.loads((out / "simulation.json").read_text(encoding="utf-8"))["includes"] == 6


def test_simulate_with_prior_ids_and_table(tmp_path):
    data = _write_set(tmp_path / "set.csv")
    result = CliRunner().invoke(
        app,
        ["simulate", str(data), "--prior-ids", "R0", "--prior-ids", "R10"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    wss_row = next(line for line in result.stdout.splitlines() if "WSS@95 (%)" in line)
    assert "87.2" in wss_row  # 100·((64 − 5)/64 − 0.05)
    assert "records to find every include" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prior-ids", "R999"], "--prior-ids 'R999' is not an id in the file"),
        (["--prior-ids", "R10"], "at least one include and one exclude"),
        (["--model", "bert"], "unknown relevance model 'bert'"),
    ],
)
def test_simulate_refuses_bad_options(tmp_path, args, message):
    data = _write_set(tmp_path / "set.csv")
    result = CliRunner().invoke(app, ["simulate", str(data), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_simulate_names_file_line_and_field_of_a_bad_label(tmp_path):
    data = _write_set(tmp_path / "set.csv", bad_label="yes")
    result = CliRunner().invoke(app, ["simulate", str(data)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"reviewtool: error: {data}:5: label_included must be 0 or 1, not 'yes'"
    )


def test_recall_at_a_stop_counts_the_prior_include():
    # prior: include, exclude; then include, 3 excludes (the rule fires), a last include missed
    decisions = [True, False, True, False, False, False, True]
    stop = simulation.consecutive_stop(
        decisions, n_prior=2, n_prior_includes=1, n=3, confidence=0.0
    )
    assert stop.screened == 4  # records after the prior ones
    assert stop.recall == pytest.approx(2 / 3)  # 2 of the 3 includes, the prior one among them


def test_simulate_csv_is_one_rectangular_row_per_seed(tmp_path):
    data = _write_set(tmp_path / "set.csv")
    result = CliRunner().invoke(app, ["simulate", str(data), "--seeds", "2", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [r["seed"] for r in rows] == ["1", "2"]
    assert all(r["records_to_all"] == "5" for r in rows)
    assert len({len(r) for r in rows}) == 1 and "hypergeometric_recall" in rows[0]


def _asreview_elas_u4_order(texts, labels, prior):
    """ASReview's default simulation written out from its source (asreview 3.0.8: models.py
    ELAS u4, balancers.Balanced, simulation/simulate.py): TF-IDF, LinearSVC C = 0.11 with the
    balanced weights of ratio 9.8, retrained after every record, the highest score next."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95)
    matrix = x.fit_transform(texts)
    y_all = np.asarray(labels, dtype=int)
    order = list(prior)
    while sum(labels[i] for i in order) < sum(labels):
        y = y_all[order]
        w = np.where(y == 1, 1.0, y.sum() / (9.8 * (y.size - y.sum())))
        w = w * (y.size / w.sum())
        svm = LinearSVC(C=0.11, loss="squared_hinge", max_iter=5000).fit(
            matrix[order], y, sample_weight=w
        )
        pool = np.setdiff1d(np.arange(len(labels)), order)
        order.append(int(pool[np.argsort(-svm.decision_function(matrix[pool]), kind="stable")[0]]))
    return order[len(prior) :]


def test_default_replay_is_asreview_default_model_retrained_after_every_decision():
    import random

    rng = random.Random(5)
    words = [f"w{i}" for i in range(120)]
    topic = ["stem", "cell", "liver", "cirrhosis", "trial"]
    texts, labels = [], []
    for i in range(90):
        included = i % 9 == 0
        # a third of the records share topic words, one in nine is included: hard enough that
        # logistic regression, naive Bayes or the cheaper schedule each give another order
        body = rng.sample(words, 12) + (rng.sample(topic, 2) if i % 3 == 0 else [])
        texts.append(" ".join(body))
        labels.append(included)
    features = ranking.fit_features(texts)
    prior = simulation.prior_knowledge(labels, seed=1)
    run = simulation.simulate(features, labels, seed=1, prior=list(prior), rules=())
    expected = _asreview_elas_u4_order(texts, labels, list(prior))
    assert list(run.order[: len(expected)]) == expected


def test_retraining_schedules(monkeypatch):
    texts, labels = _toy_set(200)
    features = ranking.fit_features(texts)
    fits: list[int] = []
    real = ranking.train_rows

    def counting(features, rows, labels, **kwargs):
        fits.append(len(rows))
        return real(features, rows, labels, **kwargs)

    monkeypatch.setattr(ranking, "train_rows", counting)
    prior = [0, 10]
    run = simulation.simulate(features, labels, seed=1, prior=prior, rules=())
    # every decision: one fit per record screened until the last include (then random order)
    assert fits == list(range(2, 2 + run.records_to_all))
    fits.clear()
    # the cheap schedule with 31 records known (no longer one fit per record): a fit after each
    # include but the last (then only excludes remain), none after an exclude until the new
    # decisions reach half of those known
    start = [0, *range(10, 40)]
    order = simulation.active_learning(features, labels, start, seed=1, retrain_growth=0.5)
    found = [k + 1 for k, i in enumerate(order) if labels[i] and k >= len(start)]
    assert fits == [31, *found[:-1]]


def test_safe_switches_to_another_model(monkeypatch):
    texts, labels = _toy_set(200)
    features = ranking.fit_features(texts)
    models: list[str] = []
    real = simulation.active_learning

    def recording(*args, **kwargs):
        models.append(kwargs["model"])
        return real(*args, **kwargs)

    monkeypatch.setattr(simulation, "active_learning", recording)
    simulation.safe_stop(features, labels, [0, 10], seed=1, consecutive=20)
    assert models == ["svm", "logistic"]  # stage 3 needs a model other than the default SVM
    models.clear()
    simulation.safe_stop(features, labels, [0, 10], seed=1, consecutive=20, model="logistic")
    assert models == ["logistic", "svm"]


def _figure_runs():
    texts, labels = _toy_set(200)
    features = ranking.fit_features(texts)
    return [
        simulation.simulate(features, labels, seed=s, consecutive=20, consecutive_confidence=0)
        for s in (1, 2)
    ]


def test_recall_figure_legend_names_the_lines_and_sits_outside_the_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    runs = _figure_runs()
    assert all(stop.screened is not None for run in runs for stop in run.stops.values())
    fig = simulation.recall_figure(runs, title="toy")
    ax = fig.axes[0]
    assert ax.get_legend() is None  # no legend inside the axes
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [
        "random order (expected)",
        "random order (one shuffle)",
        "prioritised (relevance model)",
        "stop: consecutive exclusions",
        "stop: hypergeometric test (Callaghan & Müller-Hansen), after random sampling",
        "stop: SAFE-like stages (a run of their own)",
    ]
    assert not any("seed" in t for t in texts)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = legend.get_window_extent()
    axes_box = ax.get_tightbbox(canvas.get_renderer())
    assert box.y1 <= axes_box.y0  # wholly below the axes and their tick labels: covers no curve
    figure_box = fig.bbox
    assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1  # and not cut off at the sides


def test_recall_figure_legend_without_stops_lists_only_the_lines():
    runs = _figure_runs()[:1]
    bare = [simulation.SimulationRun(**{**runs[0].__dict__, "stops": {}})]
    fig = simulation.recall_figure(bare, title="toy")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "random order (expected)",
        "random order (one shuffle)",
        "prioritised (relevance model)",
    ]


def test_a_rule_that_never_fired_has_no_recall_in_any_format(tmp_path):
    # On the toy set with seeds 1 and 2 the consecutive rule (scaled, default) never fires: 66
    # records are too few for the run it needs. It used to read "fired 0/2, lowest recall 100.0".
    data = _write_set(tmp_path / "set.csv")
    args = ["simulate", str(data), "--seeds", "2"]
    body = json.loads(CliRunner().invoke(app, [*args, "-f", "json"]).stdout)
    assert [r["stops"]["consecutive_exclusions"] for r in body["runs"]] == [
        {"screened": None, "recall": None, "met": False, "methods_text": None}
    ] * 2
    assert body["mean"]["stops"]["consecutive_exclusions"] == {
        "fired": 0,
        "never_fired": 2,
        "mean_screened": None,
        "mean_recall": None,
        "lowest_recall": None,
    }
    # SAFE fires in seed 2 only (after all 64 records beyond the prior ones, recall 100 %)
    assert body["mean"]["stops"]["safe"] == {
        "fired": 1,
        "never_fired": 1,
        "mean_screened": 64.0,
        "mean_recall": 100.0,
        "lowest_recall": 100.0,
    }
    rows = list(csv.DictReader(CliRunner().invoke(app, [*args, "-f", "csv"]).stdout.splitlines()))
    assert [
        (
            r["consecutive_exclusions_fired"],
            r["consecutive_exclusions_screened"],
            r["consecutive_exclusions_recall"],
        )
        for r in rows
    ] == [("false", "", "")] * 2
    assert [(r["safe_fired"], r["safe_recall"]) for r in rows] == [("false", ""), ("true", "100")]
    table = CliRunner().invoke(app, args, env={"COLUMNS": "400"}).stdout
    row = next(line for line in table.splitlines() if "consecutive exclusions" in line)
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[1:] == [
        "never fired (all records screened)",
        "never fired (all records screened)",
        "never fired in any of the 2 runs (all records screened)",
    ]
    assert "recall" not in row
    safe = next(line for line in table.splitlines() if "SAFE-like" in line)
    assert [c.strip() for c in safe.split("│")[1:-1]][-1] == (
        "fired in 1/2, lowest recall 100.0; never fired in 1 (all records screened)"
    )


def test_stop_statistics_are_over_the_runs_where_the_rule_fired():
    from reviewtool.cli.simulate import stop_statistics, stop_summary

    never = {"screened": None, "recall": None, "met": False}
    stops = [
        {"screened": 10, "recall": 80.0, "met": True},
        never,
        {"screened": 20, "recall": 90.0, "met": True},
    ]
    summary = stop_statistics(stops)
    assert summary == {
        "fired": 2,
        "never_fired": 1,
        "mean_screened": 15.0,  # not (10 + N + 20)/3
        "mean_recall": 85.0,
        "lowest_recall": 80.0,
    }
    assert stop_summary(summary, 3) == (
        "fired in 2/3, lowest recall 80.0; never fired in 1 (all records screened)"
    )
    assert stop_summary(stop_statistics([never]), 1) == "never fired (all records screened)"
    assert stop_statistics([]) == {
        "fired": 0,
        "never_fired": 0,
        "mean_screened": None,
        "mean_recall": None,
        "lowest_recall": None,
    }


def test_simulate_names_a_comment_line_not_the_field_count(tmp_path):
    # A labelled set with a '#' line before the header used to be refused with
    # "set.csv:2: 5 more fields than the header has (2 columns): 'abstract'".
    data = _write_set(tmp_path / "set.csv")
    body = data.read_text(encoding="utf-8")
    data.write_text("# labelled set, from ASReview's synergy data\n" + body, encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", str(data)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"reviewtool: error: {data}:1: a comment line (it starts with '#'), and a labelled "
        "records file has none: delete the line (or quote the value if it is data)"
    )
    # a blank line before a bad label: the label's own line (6; it was counted one short)
    bad = _write_set(tmp_path / "bad.csv", bad_label="yes")  # R3's label, line 5
    lines = bad.read_text(encoding="utf-8").splitlines(keepends=True)
    bad.write_text("".join([*lines[:2], "\n", *lines[2:]]), encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", str(bad)])
    assert result.stderr.strip() == (
        f"reviewtool: error: {bad}:6: label_included must be 0 or 1, not 'yes'"
    )


def test_metrics_are_percentages_without_float_noise():
    """A fraction's percentage is printed as the number it is: 0.9 - 0.903125 is
    -0.0031249999999999 in binary, and 100 times it printed -0.31250000000000444 in simulate's
    CSV (found by a new user); rounded to 10 decimals it is -0.3125."""
    run = simulation.SimulationRun(
        seed=1,
        prior=(0, 1),
        order=(2, 3),
        labels=(True, False),
        wss95=0.9 - 0.903125,
        recall_10=0.1 + 0.2,
        recall_25=79 / 320,
        recall_50=1.0,
        records_to_all=2,
        atd=0.5,
    )
    found = run.metrics()
    assert (found["wss95"], found["recall_10"], found["recall_25"]) == (-0.3125, 30.0, 24.6875)
    assert 100 * (0.9 - 0.903125) != -0.3125  # the noise the rounding removes
