"""Stopping rules for prioritised title/abstract screening (a pure kernel: no database).

Every rule is a function over the *screening order*: ``labels[i]`` is True when the i-th record screened
was included (the decision the stopping rule sees), in the order the records were screened. Each returns
a `StopEvidence`: the rule, whether it is met at the end of that order, its parameters, the numbers it
rests on, and `StopEvidence.methods_text`, a paragraph ready to paste into a methods section.

Rules:

* `consecutive_exclusions`: the common heuristic "stop after N excludes in a row" (reported as a
  heuristic), with N scaled to the review: the run must be at least ``n`` long *and* long enough
  that, had the records left when it began been screened in random order, a run that long without
  an include would have had probability below 1 − ``confidence`` if recall were still below
  ``recall_target`` (`exclusion_run_p`: Callaghan & Müller-Hansen's hypergeometric test with the
  run taken as if it were their random sample, k = 0). A run in prioritised order is at least that
  strong evidence only if the model ranks the includes left at least as high as a random order
  would, which nothing guarantees: hence a heuristic. ``confidence`` = 0 gives the fixed-N rule.
* `hypergeometric_test`: the statistical stopping rule of Callaghan & Müller-Hansen (2020), "Statistical
  stopping criteria for automated screening in systematic reviews", Systematic Reviews 9:254
  (doi:10.1186/s13643-020-01521-4). After prioritised screening of ``sample_start`` records, of which
  ρ_AL were included, the records are drawn at random from the N − ``sample_start`` that remained (the
  urn); after n draws holding k includes, ρ_seen = ρ_AL + k. H0 is "recall < τ", i.e. the urn holds at
  least K_tar = ⌊ρ_seen/τ − ρ_AL + 1⌋ includes. The p-value is the hypergeometric probability of k or
  fewer includes in n draws from an urn of N − sample_start records of which K_tar are includes:
  p = P(X ≤ k), X ~ Hypergeometric(N − sample_start, K_tar, n) (``scipy.stats.hypergeom.cdf(k, N −
  sample_start, K_tar, n)``), as in the authors' code (buscarpy ``calculate_h0`` and the R example of
  github.com/mcallaghan/rapid-screening ``analysis/hyper_criteriaR.md``: 20 includes then 70 excludes
  in N = 100, τ = 0.9, the last 70 as sample, gives K_tar = 3 and p = 0.001460565). H0 is rejected,
  and screening may stop, when p < 1 − confidence. ρ_seen/τ is computed in exact rationals (τ as the
  decimal fraction it is written as), so no rounding can move the floor. When K_tar exceeds the
  urn H0 is impossible and p = 0. `hypergeometric_retrospective` is the authors' later variant (buscar):
  the minimum p over every tail of the order treated as if it were the random sample (conservative when
  prioritised screening finds includes at least as often as random sampling would).
* `safe_procedure`: a staged procedure in the manner of SAFE (Boetje & van de Schoot 2024, Systematic
  Reviews 13:81, doi:10.1186/s13643-024-02502-7). Evaluated from the order of decisions:
  stage 1, a random training set (its first ``random_training`` records, screened in random order),
  gives the estimated prevalence and the estimated number of includes; stage 2, prioritised screening
  with the first model, is complete when at least ``relevant_factor`` × the estimated number of includes
  and at least ``min_fraction`` of all records have been screened and the last ``consecutive`` records
  were all excluded, the run also long enough for `exclusion_run_p` at ``recall_target`` and
  ``confidence`` (as `consecutive_exclusions`; ``confidence`` = 0: the published 50 in a row only);
  stage 3, after switching to a different model at ``switched_at``, is complete when
  the last ``consecutive`` records screened under it were all excluded. Stage 4 (quality checks: key
  papers found, a second screener on top-ranked excluded records, citation chasing) is a human task
  that an order of decisions cannot show; the evidence says so and the rule is met when stages 1-3 are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from reviewtool.errors import InvalidInput
from reviewtool.text import counted

if TYPE_CHECKING:
    import numpy as np

Number = int | float | str | None

#: Default parameters, one dict per rule (the settings a review starts from).
DEFAULTS: dict[str, dict[str, Any]] = {
    "consecutive_exclusions": {"n": 100, "recall_target": 0.95, "confidence": 0.95},
    "hypergeometric": {"recall_target": 0.95, "confidence": 0.95},
    "safe": {
        "random_fraction": 0.01,
        "consecutive": 50,
        "min_fraction": 0.10,
        "relevant_factor": 2.0,
        "recall_target": 0.95,
        "confidence": 0.95,
    },
}
RULES: tuple[str, ...] = ("consecutive_exclusions", "hypergeometric", "safe")


@dataclass(frozen=True)
class StopEvidence:
    """Whether a stopping rule is met at the end of a screening order, and on what evidence.

    ``rule``: one of `RULES`. ``met``: the rule is met. ``heuristic``: the rule makes no statistical
    claim about recall. ``parameters``: the rule's settings. ``numbers``: the counts and statistics it
    was decided on (``screened``: records screened, ``included``: includes among them, and the rule's
    own). ``stages``: for a staged procedure, a line per stage saying what was found. ``orders``:
    how many of the records screened carry each order stamp (``ORDER_STAMPS``: the queue order a
    vote was drawn in, ``screening_decision.queue_order``; ``unstamped`` for none); empty when the
    order is not known to be anything but the prioritised order the rule assumes (a simulation).
    """

    rule: str
    met: bool
    heuristic: bool
    parameters: dict[str, Number]
    numbers: dict[str, Number]
    stages: tuple[str, ...] = field(default_factory=tuple)
    orders: dict[str, int] = field(default_factory=dict)

    def methods_text(self) -> str:
        """One paragraph for a methods section that states the rule, its settings and its outcome."""
        return _METHODS[self.rule](self)

    def numbers_text(self) -> str:
        """The numbers in words, ``label: value`` joined by "; " (`NUMBER_LABELS`; floats to 4
        significant digits, None left out), then the records screened by order stamp."""
        labels = NUMBER_LABELS.get(self.rule, {})
        said = []
        for key, value in self.numbers.items():
            if value is None:
                continue
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            said.append(f"{labels.get(key, key)}: {shown}")
        if self.orders:
            by = ", ".join(f"{k} {v}" for k, v in _ordered(self.orders))
            said.append(f"records screened by order stamp: {by}")
        return "; ".join(said)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (rule, met, heuristic, parameters, numbers, stages, orders,
        numbers_text, methods_text)."""
        return {
            "rule": self.rule,
            "met": self.met,
            "heuristic": self.heuristic,
            "parameters": dict(self.parameters),
            "numbers": dict(self.numbers),
            "stages": list(self.stages),
            "orders": dict(self.orders),
            "numbers_text": self.numbers_text(),
            "methods_text": self.methods_text(),
        }


#: Each rule's ``StopEvidence.numbers`` in words (what `StopEvidence.numbers_text` prints).
NUMBER_LABELS: dict[str, dict[str, str]] = {
    "consecutive_exclusions": {
        "screened": "records screened",
        "included": "included",
        "run": "excluded in a row at the end",
        "run_needed": "run needed to stop",
        "urn": "records left when the run began",
        "k_target": "relevant records among them were recall below the target (K_tar)",
        "p": "p (a random run that long missing them all)",
    },
    "hypergeometric": {
        "screened": "records screened",
        "included": "included",
        "prioritised": "screened before the random sample",
        "prioritised_included": "included before the random sample",
        "sample": "random sample (votes stamped random at the end)",
        "sample_included": "included in the random sample",
        "urn": "records left after those screened before the random sample",
        "k_target": "relevant records among them were recall below the target (K_tar)",
        "p": "p (k or fewer includes in the sample)",
    },
    "safe": {
        "screened": "records screened",
        "included": "included",
        "stage": "stage in progress",
        "random_training": "random training set (votes stamped random first)",
        "random_included": "included in the random training set",
        "estimated_prevalence": "estimated prevalence",
        "estimated_relevant": "estimated relevant records",
        "stage2_needed": "records to screen before stage 2 may end",
        "stage2_complete_at": "stage 2 complete after",
        "run": "excluded in a row at the end",
        "switched_at": "model switched after",
    },
}

#: Every order stamp a vote can carry (``screening_decision.queue_order``, ``unstamped`` for none),
#: with what it says of how the record came to be screened. Only ``random`` is a random sample.
ORDER_STAMPS: dict[str, str] = {
    "relevance": "screened in the order of a relevance model retrained on the screening decisions "
    "(prioritised screening)",
    "mixed-relevance": "picked by a relevance model retrained on the screening decisions within a "
    "mixed order",
    "mixed-random": "picked at random within a mixed order",
    "random": "screened in random order",
    "calibration": "screened in a calibration round (a sample shared by the reviewers)",
    "imported": "imported from files as decisions already made (the order they were screened in "
    "is not known)",
    "unstamped": "screened before screening orders were recorded (the order is not known)",
}
#: Stamps that say nothing of the order: neither a random sample nor evidence of random order.
UNKNOWN_ORDER = ("calibration", "imported", "unstamped")


def _ordered(orders: dict[str, int]) -> list[tuple[str, int]]:
    known = [(k, orders[k]) for k in ORDER_STAMPS if orders.get(k)]
    return known + sorted((k, v) for k, v in orders.items() if k not in ORDER_STAMPS and v)


def order_sentence(orders: dict[str, int]) -> str:
    """How the records were screened, from the counts of their order stamps (`ORDER_STAMPS`),
    e.g. "Of the 30 records screened, 20 were screened in random order and 10 were imported from
    files …". Empty ``orders``: the prioritised order the rules were written for (a simulation)."""
    parts = _ordered(orders)
    if not parts:
        return f"Records were {ORDER_STAMPS['relevance']}."
    total = sum(v for _k, v in parts)
    if len(parts) == 1:
        what = ORDER_STAMPS.get(parts[0][0], f"stamped {parts[0][0]}")
        if total == 1:
            return f"The one record screened was {what}."
        if total == 1:
            return f"The one record screened was {what}."
        return f"All {total} records screened were {what}."
    said = [
        f"{v} {'was' if v == 1 else 'were'} {ORDER_STAMPS.get(k, f'stamped {k}')}" for k, v in parts
    ]
    text = f"Of the {counted(total, 'record')} screened, {', '.join(said[:-1])} and {said[-1]}."
    if any(orders.get(k) for k in UNKNOWN_ORDER):
        text += (
            " Records imported, screened in a calibration round or without a recorded order count "
            "as screened, but neither as a random sample nor as evidence of random order."
        )
    return text


def _as_flags(labels: Sequence[bool] | np.ndarray) -> list[bool]:
    return [bool(x) for x in labels]


def _trailing_exclusions(flags: Sequence[bool]) -> int:
    run = 0
    for flag in reversed(flags):
        if flag:
            break
        run += 1
    return run


def _positive_int(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a whole number of at least 1, not {value!r}")


def _proportion(name: str, value: float, *, open_low: bool = True) -> None:
    if math.isnan(value) or not (0.0 < value < 1.0 if open_low else 0.0 <= value < 1.0):
        raise InvalidInput(f"{name} must be between 0 and 1 (exclusive), not {value!r}")


# -- (a) N consecutive exclusions ------------------------------------------------------------------


def exclusion_run_p(
    *, total: int, screened: int, included: int, run: int, recall_target: float = 0.95
) -> tuple[float, int, int]:
    """How unlikely a run of excludes would be if recall were below τ, were the run a random draw.

    ``total``: N records; ``screened``: records screened, the last ``run`` of them excluded;
    ``included``: includes among them (all before the run). Callaghan & Müller-Hansen's test
    (`hypergeometric_p`) with the run as the sample and k = 0: the urn is the U = N − (screened −
    run) records left when the run began, K_tar = ⌊ρ/τ − ρ + 1⌋ (ρ = ``included``) and
    p = P(X = 0), X ~ Hypergeometric(U, K_tar, run) = C(U − K_tar, run)/C(U, run)
    = ∏_{i<K_tar} (U − run − i)/(U − i); p = 0 when K_tar > U − run (the run could not have missed
    them all). Returns (p, K_tar, U). Raises `InvalidInput` for counts that cannot be.
    """
    _proportion("the recall target", recall_target)
    if min(total, screened, included, run) < 0 or run + included > screened or screened > total:
        raise InvalidInput(
            f"impossible counts: {screened} of {counted(total, 'record')} screened, {included} included, "
            f"the last {run} excluded"
        )
    urn = total - (screened - run)
    k_target = _k_target(included, included, recall_target)
    if k_target > urn - run:
        return 0.0, k_target, urn
    p = 1.0
    for i in range(k_target):
        p *= (urn - run - i) / (urn - i)
    return p, k_target, urn


def _check_confidence(confidence: float) -> None:
    if math.isnan(confidence) or not 0.0 <= confidence < 1.0:
        raise InvalidInput(f"the confidence level must be in [0, 1), not {confidence!r}")


def run_long_enough(
    flags: Sequence[bool], run: int, total: int, recall_target: float, confidence: float
) -> tuple[bool, float | None, int | None]:
    """Whether the last ``run`` of ``flags`` (a screening order of ``total`` records, True =
    included) passes `exclusion_run_p` at ``confidence``: (passes, p, K_tar); always passes, with
    p and K_tar None, when ``confidence`` is 0 (the fixed-N rule)."""
    if confidence == 0.0:
        return True, None, None
    p, k_target, _urn = exclusion_run_p(
        total=total,
        screened=len(flags),
        included=sum(flags),
        run=run,
        recall_target=recall_target,
    )
    return p < 1.0 - confidence, p, k_target


def run_needed(
    *,
    total: int,
    screened: int,
    included: int,
    run: int,
    n: int,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> int:
    """The run of excludes that would meet `consecutive_exclusions` now: the smallest m ≥ ``n``
    with `exclusion_run_p` < 1 − ``confidence`` for a run of m begun where the current ``run``
    began (the same records left, the same includes found); ``n`` when ``confidence`` is 0."""
    _check_confidence(confidence)
    if confidence == 0.0:
        return n
    urn = total - (screened - run)
    for m in range(max(n, 1), urn + 1):
        p, _k, _u = exclusion_run_p(
            total=total,
            screened=screened - run + m,
            included=included,
            run=m,
            recall_target=recall_target,
        )
        if p < 1.0 - confidence:
            return m
    return max(n, urn + 1)  # not even screening every record left could meet it


def consecutive_exclusions(
    labels: Sequence[bool] | np.ndarray,
    *,
    total: int,
    n: int = 100,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> StopEvidence:
    """Met when the last ``n`` or more records screened were all excluded and the run passes
    `exclusion_run_p` (p < 1 − ``confidence``) for the ``total`` records of the review (a
    heuristic; ``confidence`` = 0: the fixed-N rule).

    ``numbers``: screened, included, run (excludes in a row at the end), run_needed
    (`run_needed`), urn (records left when the run began), k_target and p (None with
    ``confidence`` 0 or before any exclude). Raises `InvalidInput` when ``n`` < 1, for a target or
    confidence out of range, or more labels than records.
    """
    _positive_int("the number of consecutive exclusions", n)
    _proportion("the recall target", recall_target)
    _check_confidence(confidence)
    flags = _as_flags(labels)
    if len(flags) > total:
        raise InvalidInput(
            f"{counted(len(flags), 'record')} screened but the review holds only {total}"
        )
    run = _trailing_exclusions(flags)
    long_enough, p, k_target = (
        run_long_enough(flags, run, total, recall_target, confidence)
        if run
        else (False, None, None)
    )
    needed = run_needed(
        total=total,
        screened=len(flags),
        included=sum(flags),
        run=run,
        n=n,
        recall_target=recall_target,
        confidence=confidence,
    )
    return StopEvidence(
        rule="consecutive_exclusions",
        met=run >= n and long_enough,
        heuristic=True,
        parameters={"n": n, "recall_target": recall_target, "confidence": confidence},
        numbers={
            "screened": len(flags),
            "included": sum(flags),
            "run": run,
            "run_needed": needed,
            "urn": total - (len(flags) - run),
            "k_target": k_target,
            "p": p,
        },
    )


def consecutive_exclusions_met_at(
    labels: Sequence[bool] | np.ndarray,
    *,
    total: int | None = None,
    n: int = 100,
    recall_target: float = 0.95,
    confidence: float = 0.0,
) -> int | None:
    """The number of records screened when `consecutive_exclusions` (with these parameters) was
    first met (None: never). Without ``total`` only the fixed ``n`` counts (``confidence`` must
    then be 0): ``n`` excludes in a row."""
    _positive_int("the number of consecutive exclusions", n)
    _check_confidence(confidence)
    if confidence and total is None:
        raise InvalidInput("the scaled run of exclusions needs the number of records (total)")
    flags = _as_flags(labels)
    run = included = 0
    for position, flag in enumerate(flags, start=1):
        run = 0 if flag else run + 1
        included += flag
        if run < n:
            continue
        if confidence == 0.0:
            return position
        assert total is not None
        p, _k, _u = exclusion_run_p(
            total=total, screened=position, included=included, run=run, recall_target=recall_target
        )
        if p < 1.0 - confidence:
            return position
    return None


def _methods_consecutive(e: StopEvidence) -> str:
    n, screened, run = e.parameters["n"], e.numbers["screened"], e.numbers["run"]
    conf = float(e.parameters.get("confidence") or 0.0)
    tau = float(e.parameters.get("recall_target") or 0.0)
    if conf:
        plan = (
            f"We planned to stop screening after a run of consecutive excluded records at least {n} "
            "long and long enough that, had the records left when the run began been screened in "
            f"random order, a run without a relevant record would have had a probability below "
            f"{1 - conf:.2g} if recall were below {tau:.0%} (the hypergeometric test of Callaghan "
            "and Müller-Hansen (2020) with the run taken as the sample)."
        )
    else:
        plan = (
            "We planned to stop screening after a record was excluded."
            if n == 1
            else f"We planned to stop screening after {n} consecutive records were excluded."
        )
    detail = ""
    if conf and e.numbers.get("p") is not None:
        p = float(e.numbers["p"] or 0.0)
        detail = (
            f" If recall were below {tau:.0%}, at least {counted(e.numbers['k_target'], 'relevant record')} "
            f"would have been among the {e.numbers['urn']} left when the run began; a random run "
            f"of {run} of them would have missed "
            f"{'it' if e.numbers['k_target'] == 1 else 'them all'} with probability p = {p:.3g}."
        )
    outcome = (
        f"This was met after {counted(screened, 'record')} had been screened ({e.numbers['included']} included); "
        + (
            "the last record screened was excluded."
            if run == 1
            else f"the last {run} records screened were all excluded."
        )
        + detail
        if e.met
        else f"This was not met: after {counted(screened, 'record')} screened, the last "
        f"{'one was' if run == 1 else f'{run} were'} excluded "
        f"(a run of {e.numbers.get('run_needed', n)} was needed).{detail}"
    )
    all_random = bool(e.orders) and set(k for k, v in e.orders.items() if v) == {"random"}
    caveat = ""
    if conf and not all_random:
        caveat = (
            " Not every record was screened in random order, so the probability holds only if the "
            "order ranked the relevant records left at least as high as a random order would."
        )
    return (
        f"{order_sentence(e.orders)} {plan} {outcome} This is a heuristic stopping rule: it gives "
        f"no statistical guarantee of the proportion of relevant records found (recall).{caveat}"
    )


# -- (b) Callaghan & Müller-Hansen 2020: hypergeometric test -----------------------------------------


def _k_target(seen_included: int, prioritised_included: int, recall_target: float) -> int:
    """K_tar = ⌊ρ_seen/τ − ρ_AL + 1⌋, exact in rationals (τ read as the decimal it is written as)."""
    tau = Fraction(str(recall_target))
    return math.floor(Fraction(seen_included) / tau - prioritised_included + 1)


def hypergeometric_p(
    *,
    total: int,
    prioritised: int,
    prioritised_included: int,
    sample: int,
    sample_included: int,
    recall_target: float = 0.95,
) -> tuple[float, int]:
    """p-value of H0 "recall < τ" (Callaghan & Müller-Hansen 2020) and its K_tar.

    ``total``: N records; ``prioritised``: records screened before random sampling began (ρ_AL =
    ``prioritised_included`` of them included); ``sample``: n records drawn at random from the
    N − prioritised that remained, ``sample_included`` = k of them included. Returns
    (p, K_tar) with K_tar = ⌊(ρ_AL + k)/τ − ρ_AL + 1⌋ and p = P(X ≤ k) for
    X ~ Hypergeometric(population N − prioritised, K_tar successes, n draws); p = 0 when K_tar exceeds
    the population (H0 cannot hold). Raises `InvalidInput` for counts that cannot be.
    """
    from scipy.stats import hypergeom

    _proportion("the recall target", recall_target)
    urn = total - prioritised
    if min(total, prioritised, prioritised_included, sample, sample_included) < 0:
        raise InvalidInput("screening counts cannot be negative")
    if urn < sample or prioritised_included > prioritised or sample_included > sample:
        raise InvalidInput(
            f"impossible counts: {prioritised} screened by priority ({prioritised_included} included) and "
            f"{sample} sampled ({sample_included} included) out of {counted(total, 'record')}"
        )
    k_target = _k_target(
        prioritised_included + sample_included, prioritised_included, recall_target
    )
    if k_target > urn:
        return 0.0, k_target
    p = float(hypergeom.cdf(sample_included, urn, k_target, sample))
    return min(max(p, 0.0), 1.0), k_target


def hypergeometric_test(
    labels: Sequence[bool] | np.ndarray,
    *,
    total: int,
    sample_start: int | None,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> StopEvidence:
    """The stopping rule of Callaghan & Müller-Hansen (2020) at the end of a screening order.

    ``labels[:sample_start]`` were screened in priority order, ``labels[sample_start:]`` are a random
    sample (without replacement) of the ``total`` − ``sample_start`` records that remained; None means
    random sampling has not begun (the rule cannot be met). Met when p < 1 − ``confidence``
    (`hypergeometric_p`). ``numbers``: screened, included, prioritised, prioritised_included, sample,
    sample_included, urn, k_target, p (None before any record is sampled).
    Raises `InvalidInput` for a sample start outside the order, more labels than records, or
    a target or confidence outside (0, 1).
    """
    _proportion("the recall target", recall_target)
    _proportion("the confidence level", confidence)
    flags = _as_flags(labels)
    if len(flags) > total:
        raise InvalidInput(
            f"{counted(len(flags), 'record')} screened but the review holds only {total}"
        )
    parameters: dict[str, Number] = {"recall_target": recall_target, "confidence": confidence}
    numbers: dict[str, Number] = {"screened": len(flags), "included": sum(flags)}
    if sample_start is None:
        numbers.update({"prioritised": len(flags), "prioritised_included": sum(flags), "sample": 0})
        numbers.update(
            {"sample_included": 0, "urn": total - len(flags), "k_target": None, "p": None}
        )
        return StopEvidence("hypergeometric", False, False, parameters, numbers)
    if not 0 <= sample_start <= len(flags):
        raise InvalidInput(
            f"random sampling cannot start at record {sample_start} of {len(flags)} screened"
        )
    prioritised_included = sum(flags[:sample_start])
    sample = len(flags) - sample_start
    sample_included = sum(flags[sample_start:])
    p: float | None = None
    k_target: int | None = None
    if sample > 0:
        p, k_target = hypergeometric_p(
            total=total,
            prioritised=sample_start,
            prioritised_included=prioritised_included,
            sample=sample,
            sample_included=sample_included,
            recall_target=recall_target,
        )
    numbers.update(
        {
            "prioritised": sample_start,
            "prioritised_included": prioritised_included,
            "sample": sample,
            "sample_included": sample_included,
            "urn": total - sample_start,
            "k_target": k_target,
            "p": p,
        }
    )
    met = p is not None and p < 1.0 - confidence
    return StopEvidence("hypergeometric", met, False, parameters, numbers)


def hypergeometric_p_values(
    labels: Sequence[bool] | np.ndarray,
    *,
    total: int,
    sample_start: int,
    recall_target: float = 0.95,
) -> np.ndarray:
    """p after each sampled record: element j is `hypergeometric_test`'s p on ``labels[: sample_start
    + j + 1]``; shape (len(labels) − sample_start,). Vectorised over the sample (for simulations)."""
    import numpy as np
    from scipy.stats import hypergeom

    _proportion("the recall target", recall_target)
    flags = np.asarray(_as_flags(labels), dtype=np.int64)
    if not 0 <= sample_start <= flags.size or flags.size > total:
        raise InvalidInput(f"random sampling cannot start at record {sample_start} of {flags.size}")
    r_al = int(flags[:sample_start].sum())
    k = np.cumsum(flags[sample_start:])
    n = np.arange(1, k.size + 1)
    tau = Fraction(str(recall_target))
    k_target = np.array(
        [math.floor(Fraction(r_al + int(x)) / tau - r_al + 1) for x in k], dtype=np.int64
    )
    urn = total - sample_start
    with np.errstate(all="ignore"):
        p = hypergeom.cdf(k, urn, np.minimum(k_target, urn), n)
    p = np.where(k_target > urn, 0.0, np.clip(p, 0.0, 1.0))
    return np.asarray(p, dtype=np.float64)


def hypergeometric_retrospective(
    labels: Sequence[bool] | np.ndarray, *, total: int, recall_target: float = 0.95
) -> tuple[float | None, int | None]:
    """buscar's variant: the minimum p over every tail of the order taken as the random sample.

    Returns (p, n): the smallest `hypergeometric_p` over sample sizes n = 1 … len(labels), treating the
    last n records as the sample, and that n (the smallest n on ties); (None, None) for an empty order.
    Valid as a test only if prioritised screening finds includes at least as often as random sampling
    (buscarpy ``calculate_h0`` with bias 1).
    """
    import numpy as np
    from scipy.stats import hypergeom

    _proportion("the recall target", recall_target)
    flags = np.asarray(_as_flags(labels), dtype=np.int64)
    if flags.size == 0:
        return None, None
    if flags.size > total:
        raise InvalidInput(
            f"{counted(flags.size, 'record')} screened but the review holds only {total}"
        )
    r_seen = int(flags.sum())
    k = np.cumsum(flags[::-1])  # includes among the last n
    n = np.arange(1, flags.size + 1)
    r_al = r_seen - k
    tau = Fraction(str(recall_target))
    base = Fraction(r_seen) / tau + 1
    k_target = np.array([math.floor(base - int(x)) for x in r_al], dtype=np.int64)
    urn = total - (flags.size - n)
    with np.errstate(all="ignore"):
        p = hypergeom.cdf(k, urn, np.minimum(k_target, urn), n)
    p = np.where(k_target > urn, 0.0, np.clip(p, 0.0, 1.0))
    best = int(np.argmin(p))
    return float(p[best]), best + 1


def _methods_hypergeometric(e: StopEvidence) -> str:
    tau = float(e.parameters["recall_target"] or 0)
    conf = float(e.parameters["confidence"] or 0)
    sample = (
        "The random sample is the run of records screened in random order (stamped random) that "
        "ends the order; everything screened before it counts only as screened."
        if e.orders
        else "Prioritised screening was followed by screening of a random sample of the remaining "
        "records."
    )
    head = (
        f"{order_sentence(e.orders)} {sample} We used the statistical stopping criterion of "
        "Callaghan and Müller-Hansen (2020): screening "
        f"stops when the null hypothesis that recall is below {tau:.0%} is rejected at the "
        f"{conf:.0%} confidence level (hypergeometric test, p < {1 - conf:.2g})."
    )
    n = e.numbers
    if n["p"] is None:
        return (
            f"{head} After {counted(n['screened'], 'record')} screened ({n['included']} included) random "
            "sampling had not begun, so the criterion could not yet be evaluated."
        )
    p = float(n["p"])
    verdict = (
        f"so the hypothesis was rejected and screening stopped with an estimated recall of at least "
        f"{tau:.0%} ({conf:.0%} confidence)."
        if e.met
        else "so the hypothesis could not be rejected and screening continued."
    )
    return (
        f"{head} {counted(n['prioritised'], 'record')} "
        f"{'was' if n['prioritised'] == 1 else 'were'} screened before the random sample "
        f"({n['prioritised_included']} included); of the {counted(n['urn'], 'record')} that remained, a random sample of {n['sample']} was "
        f"screened ({n['sample_included']} included). If recall were below {tau:.0%}, at least "
        f"{counted(n['k_target'], 'relevant record')} would have been among those {n['urn']}; the probability of "
        f"finding {n['sample_included']} or fewer of them in the sample was p = {p:.3g}, {verdict}"
    )


# -- (c) a staged procedure in the manner of SAFE -----------------------------------------------------


def safe_procedure(
    labels: Sequence[bool] | np.ndarray,
    *,
    total: int,
    random_training: int,
    switched_at: int | None,
    consecutive: int = 50,
    min_fraction: float = 0.10,
    relevant_factor: float = 2.0,
    recall_target: float = 0.95,
    confidence: float = 0.95,
) -> StopEvidence:
    """Stages 1-3 of a SAFE-like procedure (Boetje & van de Schoot 2024) at the end of an order.

    ``labels[:random_training]``: stage 1, records screened in random order (the estimated prevalence
    is their share of includes; the estimated number of includes that × ``total``); an order shorter
    than ``random_training`` is still in stage 1.
    ``labels[random_training:switched_at]``: stage 2, prioritised with the first model; complete when,
    at its end, screened ≥ max(``relevant_factor`` × estimated includes, ``min_fraction`` × total)
    and the last ``consecutive`` or more were excluded, a run that also passes `exclusion_run_p`
    at ``recall_target`` and ``confidence`` (0: not asked, the published procedure).
    ``labels[switched_at:]``: stage 3, prioritised with a different model; complete when its last
    ``consecutive`` were excluded or every record has been screened (None: not switched yet).
    Met when stage 3 is complete after a complete stage 2. ``numbers``: screened, included, stage
    (1-3, the stage in progress or 4 when 1-3 are complete), random_training (planned size),
    random_included,
    estimated_prevalence, estimated_relevant, stage2_needed (records to screen before stage 2 may end),
    stage2_complete_at (records screened when stage 2 was first complete, None if not), run (excludes
    in a row at the end), switched_at.
    Raises `InvalidInput` for boundaries outside the order or parameters out of range.
    """
    _positive_int("the number of consecutive exclusions", consecutive)
    _proportion("the minimum fraction screened", min_fraction, open_low=False)
    _proportion("the recall target", recall_target)
    _check_confidence(confidence)
    if math.isnan(relevant_factor) or relevant_factor < 0:
        raise InvalidInput(f"the relevant-records factor must be ≥ 0, not {relevant_factor!r}")
    flags = _as_flags(labels)
    if len(flags) > total:
        raise InvalidInput(
            f"{counted(len(flags), 'record')} screened but the review holds only {total}"
        )
    if not 0 <= random_training <= total:
        raise InvalidInput(
            f"the random training set ({random_training}) is larger than the {counted(total, 'record')}"
        )
    if switched_at is not None and not random_training <= switched_at <= len(flags):
        raise InvalidInput(f"the model switch at record {switched_at} is outside stage 2")
    random_done = min(random_training, len(flags))
    random_included = sum(flags[:random_training])
    prevalence = random_included / random_done if random_done else None
    estimated = prevalence * total if prevalence is not None else None
    needed = math.ceil(max((estimated or 0.0) * relevant_factor, min_fraction * total))
    end2 = len(flags) if switched_at is None else switched_at
    complete2_at: int | None = None
    run = 0
    for position in range(1, end2 + 1):
        run = 0 if flags[position - 1] else run + 1
        if (
            position > random_training
            and position >= needed
            and run >= consecutive
            and run_long_enough(flags[:position], run, total, recall_target, confidence)[0]
        ):
            complete2_at = position
            break
    stages = [
        f"stage 1 (random training set): {random_done} of {counted(random_training, 'record')} screened in "
        f"random order, {random_included} included"
        + (
            f"; estimated prevalence {prevalence:.2%}, about {estimated:.0f} relevant records"
            if prevalence is not None and estimated is not None
            else "; no random training set, so no estimate of the number of relevant records"
        )
    ]
    stage = 1 if len(flags) < random_training else 2
    scaled = (
        f", the run long enough for recall ≥ {recall_target:.0%} at {confidence:.0%} confidence "
        "had it been random"
        if confidence
        else ""
    )
    stage2_text = (
        f"stage 2 (prioritised screening, first model): the heuristic (at least {counted(needed, 'record')} "
        f"screened and {consecutive} or more excluded in a row{scaled}) "
    )
    stage2_text += (
        f"was met after {counted(complete2_at, 'record')}"
        if complete2_at is not None
        else "was not met"
    )
    if switched_at is not None:
        stage2_text += f"; the model was switched after {counted(switched_at, 'record')}"
    stages.append(stage2_text)
    stage3_run = 0
    met = False
    if switched_at is not None:
        stage = 3
        stage3_run = _trailing_exclusions(flags[switched_at:])
        # Every record screened: nothing is left for a run to find (stage 2 may have used it up).
        complete3 = stage3_run >= consecutive or len(flags) == total
        met = complete2_at is not None and complete3
        stages.append(
            f"stage 3 (prioritised screening, second model): {counted(len(flags) - switched_at, 'record')} "
            f"screened, {sum(flags[switched_at:])} included, the last {stage3_run} excluded"
            + (
                " (complete)"
                if stage3_run >= consecutive
                else " (complete: every record screened)"
                if complete3
                else f" (needs {consecutive} in a row)"
            )
        )
    if met:
        stage = 4
    stages.append(
        "stage 4 (quality checks: key papers found, a second screener on top-ranked excluded records, "
        "citation chasing) is done by the reviewers and is not evaluated here"
    )
    numbers: dict[str, Number] = {
        "screened": len(flags),
        "included": sum(flags),
        "stage": stage,
        "random_training": random_training,
        "random_included": random_included,
        "estimated_prevalence": prevalence,
        "estimated_relevant": estimated,
        "stage2_needed": needed,
        "stage2_complete_at": complete2_at,
        "run": _trailing_exclusions(flags),
        "switched_at": switched_at,
    }
    parameters: dict[str, Number] = {
        "consecutive": consecutive,
        "min_fraction": min_fraction,
        "relevant_factor": relevant_factor,
        "recall_target": recall_target,
        "confidence": confidence,
    }
    return StopEvidence("safe", met, True, parameters, numbers, tuple(stages))


def _methods_safe(e: StopEvidence) -> str:
    p, n = e.parameters, e.numbers
    intro = (
        "We followed a staged stopping procedure in the manner of SAFE (Boetje and van de Schoot, "
        f"2024): (1) {counted(n['random_training'], 'record')} screened in random order as training data and to "
        "estimate the number of relevant records; (2) prioritised screening with a relevance model "
        f"until at least {float(p['relevant_factor'] or 0):g} times the estimated number of relevant "
        f"records and at least {float(p['min_fraction'] or 0):.0%} of all records had been screened "
        f"and at least {p['consecutive']} consecutive records were excluded{_scaled_run(p)}; (3) "
        "prioritised screening with a "
        f"different model until another {p['consecutive']} consecutive records were excluded; (4) "
        "quality checks by the reviewers."
    )
    outcome = " ".join(s[0].upper() + s[1:] + "." for s in e.stages)
    if e.orders:
        outcome = (
            f"{order_sentence(e.orders)} Stage 1 is the run of records screened in random order "
            f"(stamped random) that begins the order. {outcome}"
        )
    verdict = (
        f" Stages 1-3 were complete after {counted(n['screened'], 'record')} had been screened ({n['included']} "
        "included)."
        if e.met
        else f" The procedure was not complete after {counted(n['screened'], 'record')} screened."
    )
    return (
        f"{intro} {outcome}{verdict} The procedure combines heuristics and gives no statistical "
        "guarantee of recall."
    )


def _scaled_run(p: dict[str, Number]) -> str:
    conf = float(p.get("confidence") or 0.0)
    if not conf:
        return ""
    tau = float(p.get("recall_target") or 0.0)
    return (
        ", a run long enough that, had the records left when it began been screened in random "
        f"order, it would have had a probability below {1 - conf:.2g} if recall were below "
        f"{tau:.0%} (the hypergeometric test of Callaghan and Müller-Hansen (2020) with the run "
        "as the sample)"
    )


_METHODS = {
    "consecutive_exclusions": _methods_consecutive,
    "hypergeometric": _methods_hypergeometric,
    "safe": _methods_safe,
}
