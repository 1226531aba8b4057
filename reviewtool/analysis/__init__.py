"""Meta-analysis: effect sizes, pooling, heterogeneity, subgroups, small-study effects, plots.

The modules here are pure (numpy/scipy, no database) and follow R metafor's conventions so that
every number can be checked against what metafor prints. This package ``__init__`` stays light:
import the submodules you need (``reviewtool.analysis.effect_sizes``, ``.estimators``, ...).
"""

from __future__ import annotations

__all__: list[str] = []
