"""Pool 10,000 simulated meta-analyses of 5-50 studies with every estimator and print the time.

Run: ``python benchmarks/bench_analysis.py [n_meta_analyses]``. Prints numbers only; no asserts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from reviewtool.analysis.effect_sizes import TwoByTwo
from reviewtool.analysis.estimators import FixedEffect, MantelHaenszel, Peto, RandomEffects


def _simulate(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, np.ndarray, TwoByTwo]]:
    data = []
    for _ in range(n):
        k = int(rng.integers(5, 51))
        n1 = rng.integers(20, 400, size=k).astype(float)
        n2 = rng.integers(20, 400, size=k).astype(float)
        p2 = rng.uniform(0.05, 0.4, size=k)
        log_or = rng.normal(-0.3, 0.3, size=k)
        odds1 = p2 / (1 - p2) * np.exp(log_or)
        p1 = odds1 / (1 + odds1)
        ai = rng.binomial(n1.astype(int), p1).astype(float) + 1  # keep cells non-zero
        ci = rng.binomial(n2.astype(int), p2).astype(float) + 1
        t = TwoByTwo(ai, n1 - ai + 1, ci, n2 - ci + 1)
        yi = np.log(t.ai * t.di / (t.bi * t.ci))
        vi = 1 / t.ai + 1 / t.bi + 1 / t.ci + 1 / t.di
        data.append((yi, vi, t))
    return data


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = np.random.default_rng(2024)
    t0 = time.perf_counter()
    data = _simulate(rng, n)
    print(f"simulated {n} meta-analyses of 5-50 studies in {time.perf_counter() - t0:.2f} s")
    runs: dict[str, Callable[[np.ndarray, np.ndarray, TwoByTwo], object]] = {
        "fixed (IV)": lambda y, v, t: FixedEffect(measure="OR").fit(y, v).summary(),
        "random DL": lambda y, v, t: RandomEffects(tau2_method="DL").fit(y, v).summary(),
        "random REML": lambda y, v, t: RandomEffects(tau2_method="REML").fit(y, v).summary(),
        "random PM": lambda y, v, t: RandomEffects(tau2_method="PM").fit(y, v).summary(),
        "random REML + HKSJ": lambda y, v, t: RandomEffects(hksj=True).fit(y, v).summary(),
        "Mantel-Haenszel OR": lambda y, v, t: MantelHaenszel(measure="OR").fit(t, y, v).summary(),
        "Peto OR": lambda y, v, t: Peto().fit(t).summary(),
    }
    total = 0.0
    for name, fn in runs.items():
        start = time.perf_counter()
        for y, v, t in data:
            fn(y, v, t)
        elapsed = time.perf_counter() - start
        total += elapsed
        print(f"{name:<22} {elapsed:7.2f} s  ({1e6 * elapsed / n:7.1f} µs per meta-analysis)")
    print(f"{'all estimators':<22} {total:7.2f} s")


if __name__ == "__main__":
    main()
