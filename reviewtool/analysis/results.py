"""Immutable result objects of the meta-analysis library.

Every result has ``to_dict()`` returning plain JSON-ready values under the keys documented in
``docs/analysis.md``; the CLI's ``--format json`` prints exactly these dictionaries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf: report them as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True)
class Pooled:
    """A pooled estimate on the analysis scale (log scale for OR/RR) and, for ratios, exponentiated.

    ``statistic`` is a z value, or a t value with ``df`` degrees of freedom under HKSJ.
    ``pi_low``/``pi_high`` is the prediction interval (random-effects models only).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    statistic_name: str
    p: float
    df: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    exp_estimate: float | None = None
    exp_ci_low: float | None = None
    exp_ci_high: float | None = None
    exp_pi_low: float | None = None
    exp_pi_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (keys as in docs/analysis.md)."""
        d = asdict(self)
        d[self.statistic_name] = d.pop("statistic")
        d["test"] = d.pop("statistic_name")
        return _clean(d)


@dataclass(frozen=True)
class Heterogeneity:
    """Cochran's Q and the heterogeneity summaries, as metafor reports them.

    ``i2`` and ``h2`` are always Q-based (I² = (Q-df)/Q, H² = Q/df; RevMan's and Stata's I², the
    one the model-choice rule uses), and ``i2_form`` says so (``"Q-based"``). For random-effects
    models ``i2_tau2`` and ``h2_tau2`` hold metafor's τ²-based forms (I² = τ²/(τ²+ṽ),
    H² = (τ²+ṽ)/ṽ with ṽ the typical within-study variance, as ``rma`` prints them); None
    otherwise. ``tau2`` is NaN (JSON null) for a single study, which has no τ².
    """

    q: float
    df: int
    p: float
    i2: float
    h2: float
    tau2: float
    tau: float
    i2_form: str
    tau2_method: str
    i2_tau2: float | None = None
    h2_tau2: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: Q, df, p, I2, H2, tau2, tau, I2_form, tau2_method, I2_tau2,
        H2_tau2."""
        return _clean(
            {
                "Q": self.q,
                "df": self.df,
                "p": self.p,
                "I2": self.i2,
                "H2": self.h2,
                "tau2": self.tau2,
                "tau": self.tau,
                "I2_form": self.i2_form,
                "tau2_method": self.tau2_method,
                "I2_tau2": self.i2_tau2,
                "H2_tau2": self.h2_tau2,
            }
        )


@dataclass(frozen=True)
class StudyRow:
    """One study as it enters the analysis: effect, variance, CI and its weight in percent."""

    study: str
    yi: float
    vi: float
    se: float
    ci_low: float
    ci_high: float
    weight: float
    n_exp: float | None = None
    n_con: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(asdict(self))


#: The arm-level columns a forest plot shows, per kind of data (RevMan's columns).
ARM_COLUMNS: dict[str, tuple[str, ...]] = {
    "continuous": ("mean_exp", "sd_exp", "n_exp", "mean_con", "sd_con", "n_con"),
    "binary": ("events_exp", "total_exp", "events_con", "total_con"),
    "generic": (),
}


_COUNT_PREFIXES = ("n_", "total_", "events_")


@dataclass(frozen=True)
class StudyArms:
    """One study's data per arm as typed in the input, whether or not it has an estimate.

    ``kind`` is ``continuous`` (``values`` holds mean, SD and n per arm: ``mean_exp, sd_exp,
    n_exp, mean_con, sd_con, n_con``), ``binary`` (``events_exp, total_exp, events_con,
    total_con``) or ``generic`` (no arm data). ``groups`` holds the study-level columns carried
    along (the subgroup variables), so a study without an estimate can still be placed in its
    subgroup. A study listed here but absent from the analysis' ``studies`` is shown as
    "Not estimable" (e.g. a double-zero study for an odds ratio).
    """

    study: str
    kind: str
    values: dict[str, float]
    groups: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: ``study``, ``kind``, the arm columns (counts as integers),
        ``groups``."""
        values = {
            k: int(v) if k.startswith(_COUNT_PREFIXES) and float(v).is_integer() else v
            for k, v in self.values.items()
        }
        return _clean({"study": self.study, "kind": self.kind, **values, "groups": self.groups})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudyArms:
        """Rebuild from :meth:`to_dict` (a stored run)."""
        kind = d.get("kind", "generic")
        values = {
            c: (math.nan if d.get(c) is None else float(d[c])) for c in ARM_COLUMNS.get(kind, ())
        }
        return cls(study=d["study"], kind=kind, values=values, groups=dict(d.get("groups", {})))


@dataclass(frozen=True)
class MetaAnalysisResult:
    """The result of one pooled analysis: settings, the model used and why, studies, estimate."""

    measure: str
    model: str  # "fixed" or "random"
    model_reason: str
    method: str  # "IV", "MH" or "Peto"
    tau2_method: str
    hksj: bool
    level: float
    k: int
    studies: tuple[StudyRow, ...]
    pooled: Pooled
    heterogeneity: Heterogeneity
    dropped: tuple[tuple[str, str], ...] = ()
    corrected: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (keys as in docs/analysis.md)."""
        return {
            "measure": self.measure,
            "model": self.model,
            "model_reason": self.model_reason,
            "method": self.method,
            "tau2_method": self.tau2_method,
            "hksj": self.hksj,
            "level": self.level,
            "k": self.k,
            "studies": [s.to_dict() for s in self.studies],
            "pooled": self.pooled.to_dict(),
            "heterogeneity": self.heterogeneity.to_dict(),
            "dropped": [{"study": s, "reason": r} for s, r in self.dropped],
            "continuity_corrected": list(self.corrected),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Pooled results per subgroup and the test for subgroup differences.

    ``undefined`` lists the subgroups whose pooled result is not estimable (e.g. a
    Mantel-Haenszel OR with Σ a·d/n = 0; metafor gives NA) with the reason; they are
    left out of ``groups`` and of the test, which uses the estimable subgroups only.
    """

    variable: str
    groups: tuple[tuple[str, MetaAnalysisResult], ...]
    q_between: float
    df: int
    p: float
    method_note: str
    undefined: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(
            {
                "variable": self.variable,
                "groups": [{"group": name, **res.to_dict()} for name, res in self.groups],
                "not_estimable": [{"group": g, "reason": why} for g, why in self.undefined],
                "test_for_subgroup_differences": {
                    "Q_between": self.q_between,
                    "df": self.df,
                    "p": self.p,
                    "note": self.method_note,
                },
            }
        )


@dataclass(frozen=True)
class LeaveOneOutRow:
    """The pooled result with one study left out.

    When the rest cannot be pooled (e.g. a Mantel-Haenszel OR with Σ a·d/n = 0;
    metafor's ``leave1out`` gives an NA row) the numbers are NaN (``null`` in JSON) and ``note``
    says why.
    """

    omitted: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    q: float
    i2: float
    tau2: float
    exp_estimate: float | None = None
    exp_ci_low: float | None = None
    exp_ci_high: float | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        d = asdict(self)
        d["Q"] = d.pop("q")
        d["I2"] = d.pop("i2")
        return _clean(d)


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test (metafor ``regtest``): test of the coefficient on the predictor.

    ``bias`` is that coefficient (for ``predictor="sei"`` and ``model="lm"`` it equals the
    intercept of Egger's original regression of yi/sei on 1/sei); ``limit_estimate`` is the
    intercept, the effect expected for a study of infinite precision.
    """

    model: str
    predictor: str
    bias: float
    se: float
    statistic: float
    statistic_name: str
    df: int | None
    p: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        d = asdict(self)
        d[self.statistic_name] = d.pop("statistic")
        d["test"] = d.pop("statistic_name")
        return _clean(d)


@dataclass(frozen=True)
class BeggResult:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``)."""

    tau: float
    p: float
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(asdict(self))


@dataclass(frozen=True)
class TrimFillResult:
    """Duval and Tweedie's trim-and-fill: number of imputed studies and the adjusted estimate."""

    side: str
    k0: int
    estimator: str
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    adjusted: Pooled

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(
            {
                "side": self.side,
                "k0": self.k0,
                "estimator": self.estimator,
                "filled_yi": list(self.filled_yi),
                "filled_vi": list(self.filled_vi),
                "adjusted": self.adjusted.to_dict(),
            }
        )


@dataclass(frozen=True)
class FunnelData:
    """Points and pseudo confidence limits for a funnel plot."""

    yi: tuple[float, ...]
    sei: tuple[float, ...]
    labels: tuple[str, ...]
    center: float
    level: float
    se_max: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(asdict(self))


@dataclass(frozen=True)
class CheckResult:
    """Consistency of a reported estimate, CI and p-value."""

    label: str
    consistent: bool
    problems: tuple[str, ...]
    implied_p: float | None
    implied_estimate: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return _clean(asdict(self))


@dataclass(frozen=True)
class FileAnalysis:
    """Everything ``reviewtool analyze file`` computes for one CSV."""

    source: str
    main: MetaAnalysisResult
    subgroups: SubgroupAnalysis | None = None
    leave_one_out: tuple[LeaveOneOutRow, ...] | None = None
    egger: EggerResult | None = None
    begg: BeggResult | None = None
    trim_fill: TrimFillResult | None = None
    funnel: FunnelData | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    arms: tuple[StudyArms, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object printed by ``analyze file --format json``."""
        d: dict[str, Any] = {"source": self.source, **self.main.to_dict()}
        if self.subgroups is not None:
            d["subgroups"] = self.subgroups.to_dict()
        if self.leave_one_out is not None:
            d["leave_one_out"] = [r.to_dict() for r in self.leave_one_out]
        if self.egger is not None:
            d["egger"] = self.egger.to_dict()
        if self.begg is not None:
            d["begg"] = self.begg.to_dict()
        if self.trim_fill is not None:
            d["trim_fill"] = self.trim_fill.to_dict()
        d["warnings"] = list(self.warnings)
        d["arms"] = [a.to_dict() for a in self.arms]
        return d


@dataclass(frozen=True)
class PoolingSummary:
    """What an estimator's ``summary()`` returns: estimate, heterogeneity and study weights (%)."""

    model: str
    method: str
    pooled: Pooled
    heterogeneity: Heterogeneity
    weights: tuple[float, ...]
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------- stored results (JSON) back to objects


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


def pooled_from_dict(d: Mapping[str, Any]) -> Pooled:
    """Rebuild a :class:`Pooled` from its ``to_dict()`` (null numbers become NaN)."""
    test = d["test"]
    return Pooled(
        estimate=_nan(d["estimate"]),
        se=_nan(d["se"]),
        ci_low=_nan(d["ci_low"]),
        ci_high=_nan(d["ci_high"]),
        statistic=_nan(d.get(test)),
        statistic_name=test,
        p=_nan(d["p"]),
        df=d.get("df"),
        pi_low=d.get("pi_low"),
        pi_high=d.get("pi_high"),
        exp_estimate=d.get("exp_estimate"),
        exp_ci_low=d.get("exp_ci_low"),
        exp_ci_high=d.get("exp_ci_high"),
        exp_pi_low=d.get("exp_pi_low"),
        exp_pi_high=d.get("exp_pi_high"),
    )


def meta_result_from_dict(d: Mapping[str, Any]) -> MetaAnalysisResult:
    """Rebuild a :class:`MetaAnalysisResult` from its ``to_dict()`` (for plotting a stored run)."""
    h = d["heterogeneity"]
    return MetaAnalysisResult(
        measure=d["measure"],
        model=d["model"],
        model_reason=d["model_reason"],
        method=d["method"],
        tau2_method=d["tau2_method"],
        hksj=d["hksj"],
        level=d["level"],
        k=d["k"],
        studies=tuple(
            StudyRow(
                study=s["study"],
                yi=_nan(s["yi"]),
                vi=_nan(s["vi"]),
                se=_nan(s["se"]),
                ci_low=_nan(s["ci_low"]),
                ci_high=_nan(s["ci_high"]),
                weight=_nan(s["weight"]),
                n_exp=s.get("n_exp"),
                n_con=s.get("n_con"),
            )
            for s in d["studies"]
        ),
        pooled=pooled_from_dict(d["pooled"]),
        heterogeneity=Heterogeneity(
            q=_nan(h["Q"]),
            df=h["df"],
            p=_nan(h["p"]),
            i2=_nan(h["I2"]),
            h2=_nan(h["H2"]),
            tau2=_nan(h["tau2"]),
            tau=_nan(h["tau"]),
            i2_form=h["I2_form"],
            tau2_method=h["tau2_method"],
            i2_tau2=h.get("I2_tau2"),
            h2_tau2=h.get("H2_tau2"),
        ),
        dropped=tuple((x["study"], x["reason"]) for x in d["dropped"]),
        corrected=tuple(d["continuity_corrected"]),
        notes=tuple(d["notes"]),
    )


def subgroups_from_dict(d: Mapping[str, Any]) -> SubgroupAnalysis:
    """Rebuild a :class:`SubgroupAnalysis` from its ``to_dict()``."""
    t = d["test_for_subgroup_differences"]
    return SubgroupAnalysis(
        variable=d["variable"],
        groups=tuple((g["group"], meta_result_from_dict(g)) for g in d["groups"]),
        q_between=_nan(t["Q_between"]),
        df=t["df"],
        p=_nan(t["p"]),
        method_note=t["note"],
        undefined=tuple((g["group"], g["reason"]) for g in d.get("not_estimable", [])),
    )


def funnel_from_dict(d: Mapping[str, Any]) -> FunnelData:
    """Rebuild :class:`FunnelData` from its ``to_dict()``."""
    return FunnelData(
        yi=tuple(_nan(v) for v in d["yi"]),
        sei=tuple(_nan(v) for v in d["sei"]),
        labels=tuple(d["labels"]),
        center=_nan(d["center"]),
        level=d["level"],
        se_max=_nan(d["se_max"]),
    )
