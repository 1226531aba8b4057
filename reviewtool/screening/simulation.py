"""Replaying a labelled screening data set through prioritised screening (a pure kernel: no database).

A simulation starts from prior knowledge (by default, as ASReview's simulation does, one include and
one exclude drawn at random with the seed), then screens the records one at a time in the queue order
of `ranking.order_queue` (relevance ordering), the model (ASReview's ELAS u4 by default: a linear SVM,
`ranking.DEFAULT_MODEL`) retrained on every decision so far after every decision, as ASReview's
simulation does and as the screening queue does while reviewers screen (``retrain_growth`` = 0, the
default). A cheaper schedule for large sets: with ``retrain_growth`` = g > 0 the model is retrained
after every decision while fewer than 20 are known, after every include, and otherwise whenever the
decisions since the last training reach g × those known (g = 0.05 keeps a 10,000-record replay to a
few hundred fits; with the SVM on 15 of the benchmark sets, seeds 1–3, its WSS@95 was within 1.3
points of every-decision retraining). Both reviewers are simulated from the labels, so the order of decisions is the order of
the labels. Once every include has been found the rest (all excludes) follow in seeded random order:
no metric or stopping rule depends on their order.

Metrics (``../shared/screening/README.md``; Cohen et al. 2006 for WSS), on the screening order
*excluding the prior records* (N records, R of them included; as ASReview reports them):

* WSS@r = (TN + FN)/N − (1 − r) at the first point where recall ≥ r: ``r − k/N`` for the fewest k
  records screened with found(k) ≥ r·R (`wss`);
* RRF@x (recall after x of the records): found(⌊x·N⌋)/R (`recall_at`);
* records needed to find every include: the place of the last include (`records_to_find_all`);
* ATD (average time to discovery): the mean over includes of (records screened until it was found,
  itself counted)/N (`atd`).

Fractions are returned (multiply by 100 for %). The stopping rules of `stopping` are replayed on the
same decisions: consecutive exclusions where it first fires; the hypergeometric rule
of Callaghan & Müller-Hansen with random sampling of the remaining records (seeded) started where
``sample_after`` excludes in a row first occur; and SAFE-like stages in a run of their own (a random
training set of ``random_fraction`` of the records after the prior knowledge, prioritised screening
until stage 2 is complete, then a second model until stage 3 is). Each reports the records screened
when it fired (beyond the prior records) and the recall then, counted over *every* include, the prior
ones too: that is the recall of the review had it stopped there, and the quantity the rules control
(the hypergeometric test counts the prior records among those seen and in N). A rule that never
fired has neither (None): every record was screened, so there was no stop to have a recall.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from reviewtool.errors import InvalidInput
from reviewtool.screening import ranking, stopping
from reviewtool.text import counted

if TYPE_CHECKING:
    import numpy as np

#: Default simulation settings.
RETRAIN_GROWTH = 0.0
EVERY_RECORD_UNTIL = 20
#: SAFE's stage 3 switches to this model, or to `OTHER_SECOND_MODEL` when this one ranked stage 2.
SECOND_MODEL = "svm"
OTHER_SECOND_MODEL = "logistic"
#: The hypergeometric rule starts random sampling after this many excludes in a row.
SAMPLE_AFTER = 50


def _flags(labels: Sequence[bool] | np.ndarray) -> list[bool]:
    return [bool(x) for x in labels]


def _fraction(value: float, what: str) -> Fraction:
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise InvalidInput(f"{what} must be between 0 and 1, not {value}")
    return Fraction(str(value))


# -- metrics ------------------------------------------------------------------------------------------


def recall_curve(labels: Sequence[bool] | np.ndarray) -> np.ndarray:
    """Recall after k records screened, k = 0 … N: shape (N + 1,), from 0 to 1 (all 0 when R = 0)."""
    import numpy as np

    flags = np.asarray(_flags(labels), dtype=np.int64)
    found = np.concatenate([[0], np.cumsum(flags)])
    total = int(flags.sum())
    return found / total if total else np.zeros(flags.size + 1)


def records_to_recall(labels: Sequence[bool] | np.ndarray, recall: float) -> int:
    """The fewest records k screened with found(k) ≥ recall·R (exact rationals); 0 when R = 0."""
    target = _fraction(recall, "the recall")
    flags = _flags(labels)
    total = sum(flags)
    need = math.ceil(target * total)
    found = 0
    if need == 0:
        return 0
    for k, flag in enumerate(flags, start=1):
        found += flag
        if found >= need:
            return k
    return len(flags)  # not reached: cannot happen for recall ≤ 1


def wss(labels: Sequence[bool] | np.ndarray, recall: float = 0.95) -> float:
    """Work saved over sampling at ``recall`` (Cohen 2006): (N − k)/N − (1 − recall), a fraction.

    k = `records_to_recall`. Raises `InvalidInput` for an empty order or one without includes.
    """
    flags = _flags(labels)
    if not flags or not any(flags):
        raise InvalidInput("WSS needs a screening order with at least one include")
    k = records_to_recall(flags, recall)
    n = len(flags)
    return (n - k) / n - (1.0 - recall)


def recall_at(labels: Sequence[bool] | np.ndarray, fraction: float) -> float:
    """RRF: recall after ⌊fraction·N⌋ records screened, a fraction. Raises `InvalidInput` without
    includes."""
    share = _fraction(fraction, "the share screened")
    flags = _flags(labels)
    total = sum(flags)
    if not total:
        raise InvalidInput("recall needs a screening order with at least one include")
    k = math.floor(share * len(flags))
    return sum(flags[:k]) / total


def records_to_find_all(labels: Sequence[bool] | np.ndarray) -> int:
    """Records screened until the last include was found (its place, 1-based); 0 without includes."""
    flags = _flags(labels)
    last = 0
    for k, flag in enumerate(flags, start=1):
        if flag:
            last = k
    return last


def atd(labels: Sequence[bool] | np.ndarray) -> float:
    """Average time to discovery: mean over includes of (place, 1-based)/N, a fraction.

    Raises `InvalidInput` without includes."""
    flags = _flags(labels)
    places = [k for k, flag in enumerate(flags, start=1) if flag]
    if not places:
        raise InvalidInput("ATD needs a screening order with at least one include")
    return sum(places) / len(places) / len(flags)


# -- prior knowledge -------------------------------------------------------------------------------


def prior_knowledge(labels: Sequence[bool] | np.ndarray, *, seed: int) -> tuple[int, int]:
    """ASReview's default simulation start: one include and one exclude drawn at random.

    Returns (index of the include, index of the exclude), drawn with ``numpy.random.default_rng(seed)``
    (the include first). Raises `InvalidInput` when the labels lack either class.
    """
    import numpy as np

    flags = _flags(labels)
    includes = [i for i, f in enumerate(flags) if f]
    excludes = [i for i, f in enumerate(flags) if not f]
    if not includes or not excludes:
        raise InvalidInput(
            f"a simulation needs at least one include and one exclude "
            f"({len(includes)} and {len(excludes)} here)"
        )
    rng = np.random.default_rng(seed)
    return includes[int(rng.integers(len(includes)))], excludes[int(rng.integers(len(excludes)))]


# -- active learning -----------------------------------------------------------------------------------


def _shuffled(indexes: Sequence[int], seed: int, salt: str) -> list[int]:
    return ranking.random_order(list(indexes), seed=hash_seed(seed, salt))


def hash_seed(seed: int, salt: str) -> int:
    """A derived seed for one use (``salt``) of a simulation seed (stable across runs and machines)."""
    import hashlib

    digest = hashlib.sha256(f"{seed}:{salt}".encode()).hexdigest()
    return int(digest[:12], 16)


def active_learning(
    features: ranking.TextFeatures,
    labels: Sequence[bool],
    start: Sequence[int],
    *,
    model: str = ranking.DEFAULT_MODEL,
    seed: int,
    retrain_growth: float = RETRAIN_GROWTH,
    stop: Callable[[list[bool]], bool] | None = None,
) -> list[int]:
    """Continue screening from ``start`` (row indexes already screened, in order) to an order of rows.

    Each next record is the head of the `ranking.order_queue` relevance order of the rows not yet
    screened, by a model (`ranking.train_rows`) trained on the decisions so far and retrained as the
    module docstring says (random order while the decisions lack an include or an exclude). After
    the last include the rest follow in seeded random order. ``stop(flags)`` (the labels of the order
    so far) is asked after each record and ends the order early when True.
    """
    flags_all = _flags(labels)
    n = len(flags_all)
    if features.n_documents != n:
        raise InvalidInput(
            f"{counted(features.n_documents, 'feature row')} for {counted(n, 'label')}"
        )
    order = list(start)
    seen = set(order)
    if len(seen) != len(order) or any(not 0 <= i < n for i in order):
        raise InvalidInput("the start of a simulation names a record twice or one out of range")
    total_includes = sum(flags_all)
    found = sum(flags_all[i] for i in order)
    flags = [flags_all[i] for i in order]
    queue: list[int] = []
    since = 0
    while len(order) < n:
        if stop is not None and stop(flags):
            return order
        if found == total_includes:  # only excludes remain
            rest = _shuffled([i for i in range(n) if i not in seen], seed, "rest")
            for i in rest:
                order.append(i)
                flags.append(False)
                if stop is not None and stop(flags):
                    return order
            return order
        known_in = sum(flags)
        known_out = len(flags) - known_in
        due = (
            since >= max(1, math.ceil(retrain_growth * len(order)))
            or len(order) < EVERY_RECORD_UNTIL
            or (since > 0 and flags[-1])  # an include was found since the last training
        )
        if not queue or due:
            unseen = [i for i in range(n) if i not in seen]
            scores = None
            if known_in and known_out:
                trained = ranking.train_rows(
                    features, order, flags, model=model, seed=seed, ids=order
                )
                scores = trained.scores_of_rows(unseen)
            queue = ranking.order_queue(
                unseen,
                scores,
                ordering="relevance",
                seed=seed,
                random_fraction=0.0,
                min_includes=1,
                min_excludes=1,
                known_includes=known_in,
                known_excludes=known_out,
            )
            queue.reverse()  # pop from the end
            since = 0
        nxt = queue.pop()
        while nxt in seen:
            nxt = queue.pop()
        order.append(nxt)
        seen.add(nxt)
        flags.append(flags_all[nxt])
        found += flags_all[nxt]
        since += 1
    return order


# -- stopping rules replayed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StopPoint:
    """When a stopping rule fired in a simulation: ``screened`` records beyond the prior records
    and ``recall`` then (includes found, prior ones too, over all includes, a fraction), both None
    when it never fired (every record was screened: there is no stop to have a recall), and the
    rule's evidence then."""

    rule: str
    screened: int | None
    recall: float | None
    evidence: stopping.StopEvidence | None

    @property
    def fired(self) -> bool:
        """Whether the rule fired before every record was screened."""
        return self.screened is not None


def _recall_of(flags: Sequence[bool], n_prior_includes: int, total_includes: int) -> float:
    """Recall of the review at the end of ``flags`` (the decisions, prior records first)."""
    del n_prior_includes  # counted: the reviewers found them
    return sum(flags) / total_includes if total_includes else 1.0


def consecutive_stop(
    decisions: Sequence[bool],
    *,
    n_prior: int,
    n_prior_includes: int,
    n: int,
    recall_target: float = stopping.DEFAULTS["consecutive_exclusions"]["recall_target"],
    confidence: float = stopping.DEFAULTS["consecutive_exclusions"]["confidence"],
) -> StopPoint:
    """Where `stopping.consecutive_exclusions` first fires on the decisions (prior records first;
    the review's records are all of them)."""
    includes = sum(decisions)
    records = len(decisions)
    at = stopping.consecutive_exclusions_met_at(
        decisions, total=records, n=n, recall_target=recall_target, confidence=confidence
    )
    if at is None:
        return StopPoint("consecutive_exclusions", None, None, None)
    evidence = stopping.consecutive_exclusions(
        decisions[:at], total=records, n=n, recall_target=recall_target, confidence=confidence
    )
    return StopPoint(
        "consecutive_exclusions",
        at - n_prior,
        _recall_of(decisions[:at], n_prior_includes, includes),
        evidence,
    )


def hypergeometric_stop(
    decisions: Sequence[bool],
    order: Sequence[int],
    labels: Sequence[bool],
    *,
    n_prior: int,
    n_prior_includes: int,
    seed: int,
    sample_after: int = SAMPLE_AFTER,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> StopPoint:
    """Callaghan & Müller-Hansen replayed: random sampling starts where ``sample_after`` excludes in a
    row first occur in the prioritised order; the remaining records are then screened in seeded random
    order until `stopping.hypergeometric_test` rejects H0 (or none remain)."""
    import numpy as np

    flags_all = _flags(labels)
    total = sum(flags_all)
    n = len(flags_all)
    start = stopping.consecutive_exclusions_met_at(decisions, n=sample_after)
    if start is None:
        return StopPoint("hypergeometric", None, None, None)
    seen = set(order[:start])
    sample = _shuffled([i for i in range(n) if i not in seen], seed, "sample")
    sequence = list(decisions[:start]) + [flags_all[i] for i in sample]
    ps = stopping.hypergeometric_p_values(
        sequence, total=n, sample_start=start, recall_target=recall_target
    )
    below = np.flatnonzero(ps < 1.0 - confidence)
    if below.size == 0:
        return StopPoint("hypergeometric", None, None, None)
    end = start + int(below[0]) + 1
    evidence = stopping.hypergeometric_test(
        sequence[:end],
        total=n,
        sample_start=start,
        recall_target=recall_target,
        confidence=confidence,
    )
    return StopPoint(
        "hypergeometric",
        end - n_prior,
        _recall_of(sequence[:end], n_prior_includes, total),
        evidence,
    )


def safe_stop(
    features: ranking.TextFeatures,
    labels: Sequence[bool],
    prior: Sequence[int],
    *,
    seed: int,
    model: str = ranking.DEFAULT_MODEL,
    second_model: str | None = None,
    random_fraction: float = 0.01,
    consecutive: int = 50,
    min_fraction: float = 0.10,
    relevant_factor: float = 2.0,
    recall_target: float = stopping.DEFAULTS["safe"]["recall_target"],
    confidence: float = stopping.DEFAULTS["safe"]["confidence"],
    retrain_growth: float = RETRAIN_GROWTH,
) -> StopPoint:
    """SAFE-like stages replayed in a run of their own (see the module docstring). The stage
    boundaries and `stopping.safe_procedure` count records after the prior knowledge. Stage 3
    uses ``second_model`` (default `SECOND_MODEL`, or `OTHER_SECOND_MODEL` when ``model`` is
    `SECOND_MODEL`: the stage needs a different model)."""
    flags_all = _flags(labels)
    n = len(flags_all)
    total = sum(flags_all)
    n_prior = len(prior)
    n_prior_includes = sum(flags_all[i] for i in prior)
    pool = _shuffled([i for i in range(n) if i not in set(prior)], seed, "safe-random")
    random_n = min(len(pool), math.ceil(random_fraction * n))
    start = list(prior) + pool[:random_n]
    random_in = sum(flags_all[i] for i in pool[:random_n])
    estimated = (random_in / random_n) * n if random_n else 0.0
    needed = math.ceil(max(estimated * relevant_factor, min_fraction * n))

    def stage2_done(flags: list[bool]) -> bool:
        screened = len(flags) - n_prior
        run = 0
        for f in reversed(flags):
            if f:
                break
            run += 1
        return (
            screened > random_n
            and screened >= needed
            and run >= consecutive
            and stopping.run_long_enough(
                flags[n_prior:], run, n - n_prior, recall_target, confidence
            )[0]
        )

    stage2 = active_learning(
        features,
        flags_all,
        start,
        model=model,
        seed=seed,
        retrain_growth=retrain_growth,
        stop=stage2_done,
    )
    switched = len(stage2) - n_prior

    def stage3_done(flags: list[bool]) -> bool:
        tail = flags[len(stage2) :]
        return len(tail) >= consecutive and not any(tail[-consecutive:])

    order = active_learning(
        features,
        flags_all,
        stage2,
        model=second_model or (OTHER_SECOND_MODEL if model == SECOND_MODEL else SECOND_MODEL),
        seed=seed,
        retrain_growth=retrain_growth,
        stop=stage3_done,
    )
    decisions = [flags_all[i] for i in order]
    after_prior = decisions[n_prior:]
    evidence = stopping.safe_procedure(
        after_prior,
        total=n - n_prior,
        random_training=random_n,
        switched_at=min(switched, len(after_prior)),
        consecutive=consecutive,
        min_fraction=min_fraction,
        relevant_factor=relevant_factor,
        recall_target=recall_target,
        confidence=confidence,
    )
    if not evidence.met:
        return StopPoint("safe", None, None, evidence)
    return StopPoint(
        "safe", len(after_prior), _recall_of(decisions, n_prior_includes, total), evidence
    )


# -- one run -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationRun:
    """One seeded replay: ``prior`` (row indexes), ``order`` (rows after the prior records, in the
    order screened), ``labels`` (their labels), the metrics (fractions) and the stopping rules'
    `StopPoint` by rule name."""

    seed: int
    prior: tuple[int, ...]
    order: tuple[int, ...]
    labels: tuple[bool, ...]
    wss95: float
    recall_10: float
    recall_25: float
    recall_50: float
    records_to_all: int
    atd: float
    stops: dict[str, StopPoint] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """The run's numbers as plain JSON-ready data (metrics in %, rounded to 10 decimals so
        that 24.6875 is not printed as 24.687499999999996)."""

        def percent(fraction: float) -> float:
            return round(100 * fraction, 10)

        return {
            "seed": self.seed,
            "prior": list(self.prior),
            "records": len(self.order),
            "relevant": sum(self.labels),
            "wss95": percent(self.wss95),
            "recall_10": percent(self.recall_10),
            "recall_25": percent(self.recall_25),
            "recall_50": percent(self.recall_50),
            "records_to_all": self.records_to_all,
            "atd": percent(self.atd),
            "stops": {
                name: {
                    "screened": stop.screened,
                    "recall": None if stop.recall is None else percent(stop.recall),
                    "met": stop.fired,
                    "methods_text": stop.evidence.methods_text() if stop.evidence else None,
                }
                for name, stop in self.stops.items()
            },
        }


def run_metrics(
    seed: int, prior: Sequence[int], order: Sequence[int], labels: Sequence[bool]
) -> SimulationRun:
    """A `SimulationRun` (no stopping rules) for a given screening order of the non-prior rows."""
    flags_all = _flags(labels)
    after = [flags_all[i] for i in order]
    return SimulationRun(
        seed=seed,
        prior=tuple(prior),
        order=tuple(order),
        labels=tuple(after),
        wss95=wss(after, 0.95),
        recall_10=recall_at(after, 0.10),
        recall_25=recall_at(after, 0.25),
        recall_50=recall_at(after, 0.50),
        records_to_all=records_to_find_all(after),
        atd=atd(after),
    )


def simulate(
    features: ranking.TextFeatures,
    labels: Sequence[bool],
    *,
    seed: int,
    prior: Sequence[int] | None = None,
    model: str = ranking.DEFAULT_MODEL,
    retrain_growth: float = RETRAIN_GROWTH,
    consecutive: int = stopping.DEFAULTS["consecutive_exclusions"]["n"],
    consecutive_confidence: float = stopping.DEFAULTS["consecutive_exclusions"]["confidence"],
    sample_after: int = SAMPLE_AFTER,
    recall_target: float = stopping.DEFAULTS["hypergeometric"]["recall_target"],
    confidence: float = stopping.DEFAULTS["hypergeometric"]["confidence"],
    rules: Sequence[str] = stopping.RULES,
) -> SimulationRun:
    """One seeded replay of ``labels`` (row i of ``features`` is record i) with metrics and stops.

    ``prior``: row indexes screened first (default `prior_knowledge` with the seed); they must hold an
    include and an exclude. ``rules``: the stopping rules to replay (`stopping.RULES`); the
    consecutive rule with ``consecutive`` and ``consecutive_confidence`` (0: the fixed run) at
    ``recall_target``.
    Raises `InvalidInput` for labels without an include among the non-prior records.
    """
    flags_all = _flags(labels)
    chosen = list(prior) if prior is not None else list(prior_knowledge(flags_all, seed=seed))
    if not any(flags_all[i] for i in chosen) or all(flags_all[i] for i in chosen):
        raise InvalidInput("the prior records must hold at least one include and one exclude")
    if sum(flags_all) - sum(flags_all[i] for i in chosen) == 0:
        raise InvalidInput("no include is left to find after the prior records")
    full = active_learning(
        features, flags_all, chosen, model=model, seed=seed, retrain_growth=retrain_growth
    )
    run = run_metrics(seed, chosen, full[len(chosen) :], flags_all)
    decisions = [flags_all[i] for i in full]
    n_prior_in = sum(flags_all[i] for i in chosen)
    stops: dict[str, StopPoint] = {}
    if "consecutive_exclusions" in rules:
        stops["consecutive_exclusions"] = consecutive_stop(
            decisions,
            n_prior=len(chosen),
            n_prior_includes=n_prior_in,
            n=consecutive,
            recall_target=recall_target,
            confidence=consecutive_confidence,
        )
    if "hypergeometric" in rules:
        stops["hypergeometric"] = hypergeometric_stop(
            decisions,
            full,
            flags_all,
            n_prior=len(chosen),
            n_prior_includes=n_prior_in,
            seed=seed,
            sample_after=sample_after,
            recall_target=recall_target,
            confidence=confidence,
        )
    if "safe" in rules:
        stops["safe"] = safe_stop(
            features, flags_all, chosen, seed=seed, model=model, retrain_growth=retrain_growth
        )
    return SimulationRun(**{**run.__dict__, "stops": stops})


def texts_and_labels(
    rows: Sequence[dict[str, str]],
) -> tuple[list[Hashable], list[str], list[bool]]:
    """(ids, texts, labels) of labelled-set rows (``id``, ``title``, ``abstract``, optional
    ``keywords``, ``label_included`` 0/1) without checks (see the CLI for checked reading)."""
    ids: list[Hashable] = []
    texts: list[str] = []
    labels: list[bool] = []
    for row in rows:
        ids.append(row.get("id", ""))
        texts.append(
            ranking.record_text(row.get("title"), row.get("abstract"), row.get("keywords"))
        )
        labels.append(str(row.get("label_included", "")).strip() == "1")
    return ids, texts, labels


# -- the recall curve ----------------------------------------------------------------------------------

RULE_LABELS = {
    "consecutive_exclusions": "consecutive exclusions",
    "hypergeometric": "hypergeometric test (Callaghan & Müller-Hansen), after random sampling",
    "safe": "SAFE-like stages (a run of their own)",
}
_RULE_MARKERS = {"consecutive_exclusions": "o", "hypergeometric": "s", "safe": "^"}
#: The legend entries of the two random-order lines of `recall_figure`.
RANDOM_EXPECTED_LABEL = "random order (expected)"
RANDOM_SHUFFLE_LABEL = "random order (one shuffle)"


def recall_figure(runs: Sequence[SimulationRun], *, title: str, random_seed: int = 0) -> Any:
    """A matplotlib Figure: % of includes found against % of records screened (prior records left
    out), one line per run, the expected random order (the diagonal) and one random order (a shuffle
    of the first run's labels with ``random_seed``), with a marker where each stopping rule fired.
    The legend is a figure legend below the axes, so it never covers a curve. Raises `InvalidInput`
    for no runs."""
    import numpy as np
    from matplotlib.figure import Figure

    if not runs:
        raise InvalidInput("no simulation runs to draw")
    fig = Figure(figsize=(7.0, 6.0), layout="constrained")
    ax = fig.add_subplot()
    n = len(runs[0].labels)
    x = np.arange(n + 1) / n * 100
    ax.plot(
        [0, 100],
        [0, 100],
        linestyle="--",
        color="0.45",
        linewidth=1.0,
        label=RANDOM_EXPECTED_LABEL,
    )
    shuffled = [runs[0].labels[i] for i in _shuffled(range(n), random_seed, "figure")]
    ax.plot(
        x,
        recall_curve(shuffled) * 100,
        color="0.65",
        linewidth=1.0,
        label=RANDOM_SHUFFLE_LABEL,
    )
    for k, run in enumerate(runs):
        ax.plot(
            x,
            recall_curve(run.labels) * 100,
            color="C0",
            linewidth=1.4,
            alpha=0.85,
            label="prioritised (relevance model)" if k == 0 else None,
        )
    for j, rule in enumerate(RULE_LABELS):
        points = [
            (100 * stop.screened / n, 100 * stop.recall)
            for stop in (run.stops.get(rule) for run in runs)
            if stop is not None and stop.screened is not None and stop.recall is not None
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(
                xs,
                ys,
                marker=_RULE_MARKERS[rule],
                color=f"C{j + 1}",
                zorder=3,
                s=36,
                clip_on=False,  # a stop at 100 % screened or 100 % recall sits on the frame
                label=f"stop: {RULE_LABELS[rule]}",
            )
    ax.axhline(95, color="0.8", linewidth=0.8, zorder=0)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 101)
    ax.set_xlabel("records screened (%)")
    ax.set_ylabel("includes found (recall, %)")
    ax.set_title(title)
    # Below the axes, outside them: inside, any corner can cover a curve (the random order runs
    # along the bottom right, a well-ranked set along the top left).
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=1, fontsize="small")
    ax.grid(True, color="0.92")
    return fig
