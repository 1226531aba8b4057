"""Make the sample review's outcome data, ``outcomes.csv`` (deterministic, stdlib only).

ILLUSTRATIVE VALUES. The seed review (Liu et al., Stem Cell Res Ther 2022) shows its per-study data
only in forest-plot images, so every number written here is made up. What is real: the 13
comparisons of its 12 trials (Table 1: study, disease, cell type, route, number of injections, arm
sizes), the outcomes and time points it analysed, and roughly the pooled results it reports
(``../../shared/seed/reported_results.csv``), which the made-up data are drawn around:

- MELD falls more with MSCs from 2 weeks on; ALB rises; TBIL falls, very heterogeneous;
  PTA rises a little; ALT and AST barely differ;
- INR already differs at baseline (SMD about -0.33, p < 0.05), so its later comparisons are
  flagged "baseline differs"; no other outcome differs at baseline;
- survival (number of patients alive per arm) is somewhat better with MSCs (OR about 1.3) with no
  heterogeneity.

Each study's true standardised effect is the seed's pooled value plus between-study spread; its
observed effect adds sampling error; arm means and SDs are then built around typical laboratory
values for the disease. Follow-up arm sizes are the patients still alive (simulated survival times),
so the continuous outcomes and survival agree with each other.

Run: ``python sample_project/make_outcomes.py [OUT.csv]`` (default: ``outcomes.csv`` beside this
script). ``tests/test_sample_outcomes.py`` checks the committed file is reproduced byte for byte.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

SEED = 20220107  # any fixed number: the data must not change between runs

HEADER_NOTE = (
    "# ILLUSTRATIVE VALUES, NOT THE TRIALS' DATA: made up by make_outcomes.py around the seed "
    "review's pooled results (the per-study data are only in its forest-plot images). "
    "See README.md."
)

COLUMNS = (
    "study",
    "disease",
    "cell_type",
    "route",
    "injections",
    "outcome",
    "outcome_title",
    "unit",
    "better",
    "arm_exp",
    "arm_con",
    "time_point",
    "mean_exp",
    "sd_exp",
    "n_exp",
    "mean_con",
    "sd_con",
    "n_con",
    "events_exp",
    "total_exp",
    "events_con",
    "total_con",
)

WEEKS = (2, 4, 12, 24, 48)

# How the plots name each outcome, and which of its values are good (the forest plot's
# "Favours ..." sides); the arms as the seed names them.
OUTCOME_TITLES = {
    "MELD": ("MELD score", "lower"),
    "ALB": ("Serum albumin", "higher"),
    "TBIL": ("Total bilirubin", "lower"),
    "PTA": ("Prothrombin activity", "higher"),
    "INR": ("International normalised ratio", "lower"),
    "ALT": ("Alanine aminotransferase", "lower"),
    "AST": ("Aspartate aminotransferase", "lower"),
    "survival": ("Survival", "higher"),
}
ARM_EXP, ARM_CON = "MSC therapy", "control"


@dataclass(frozen=True)
class Comparison:
    """One row of the seed's Table 1 (Suk 2016 has two: one per dose arm)."""

    study: str
    disease: str
    cell_type: str
    route: str
    injections: str
    n_exp: int
    n_con: int
    follow_up_weeks: int  # longest follow-up, from Table 1
    first_week: int  # first follow-up visit reported


# Table 1 of the seed (../../shared/seed/table1_characteristics.csv), in its order.
COMPARISONS = (
    Comparison("Shi 2021", "Decompensated cirrhosis", "UC-MSCs", "intravenous", "multiple",
               108, 111, 300, 4),
    Comparison("Schacher 2021", "ACLF", "BM-MSCs", "intravenous", "multiple", 4, 5, 13, 2),
    Comparison("Xu 2019", "ACLF", "UC-MSCs", "intravenous", "multiple", 30, 30, 48, 2),
    Comparison("Lin 2017", "ACLF", "BM-MSCs", "intravenous", "multiple", 56, 54, 24, 2),
    Comparison("Suk 2016 (one injection)", "Decompensated cirrhosis", "BM-MSCs",
               "hepatic artery", "single", 18, 18, 48, 12),
    Comparison("Suk 2016 (two injections)", "Decompensated cirrhosis", "BM-MSCs",
               "hepatic artery", "multiple", 19, 18, 48, 12),
    Comparison("Xu 2014", "Cirrhosis", "BM-MSCs", "hepatic artery", "single", 20, 19, 24, 2),
    Comparison("Salama 2014", "Decompensated cirrhosis", "BM-MSCs", "intravenous", "single",
               20, 20, 24, 4),
    Comparison("Mohamadnejad 2013", "Decompensated cirrhosis", "BM-MSCs", "intravenous",
               "single", 14, 11, 48, 12),
    Comparison("Zhang 2012", "Decompensated cirrhosis", "UC-MSCs", "intravenous", "multiple",
               30, 15, 48, 2),
    Comparison("Shi 2012", "ACLF", "UC-MSCs", "intravenous", "multiple", 24, 19, 48, 2),
    Comparison("El-Ansary 2012", "Cirrhosis", "BM-MSCs", "intravenous", "single", 15, 10, 24, 12),
    Comparison("Peng 2011", "ACLF", "BM-MSCs", "hepatic artery", "single", 53, 105, 48, 2),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """A continuous outcome: who reports it, the effects to draw around, typical values."""

    name: str
    unit: str
    decimals: int
    studies: tuple[str, ...]  # study-name prefixes (both Suk arms match "Suk")
    smd: dict[str, float]  # time point -> pooled SMD (MSC minus control) to draw around
    tau: dict[str, float]  # time point -> between-study SD of the true SMDs
    base: dict[str, tuple[float, float]]  # disease -> (control mean, SD) at baseline
    aclf_course: tuple[float, ...]  # control mean at 2..48 weeks / baseline, ACLF
    other_course: tuple[float, ...]  # the same for cirrhosis
    cap: float | None = None  # upper limit of the scale (PTA %)


OUTCOMES = (
    Outcome(
        "MELD", "points", 1,
        ("Schacher", "Xu 2019", "Lin", "Suk", "Mohamadnejad", "Shi 2012", "Peng"),
        {"baseline": 0.02, "2 weeks": -0.25, "4 weeks": -0.32, "12 weeks": -0.42,
         "24 weeks": -0.85, "48 weeks": -0.45},
        {"baseline": 0.0, "2 weeks": 0.1, "4 weeks": 0.15, "12 weeks": 0.3, "24 weeks": 0.65,
         "48 weeks": 0.3},
        {"ACLF": (24.0, 5.0), "Decompensated cirrhosis": (14.5, 3.8), "Cirrhosis": (12.0, 3.0)},
        (0.88, 0.80, 0.72, 0.66, 0.62), (1.0, 1.0, 1.01, 1.02, 1.03),
    ),
    Outcome(
        "ALB", "g/L", 1,
        ("Shi 2021", "Xu 2019", "Lin", "Suk", "Xu 2014", "Salama", "Zhang", "Shi 2012", "Peng"),
        {"baseline": 0.08, "2 weeks": 0.81, "4 weeks": 0.72, "12 weeks": 0.7, "24 weeks": 0.83,
         "48 weeks": 0.6},
        {"baseline": 0.0, "2 weeks": 0.55, "4 weeks": 0.6, "12 weeks": 0.7, "24 weeks": 0.75,
         "48 weeks": 0.6},
        {"ACLF": (31.0, 4.5), "Decompensated cirrhosis": (29.0, 5.0), "Cirrhosis": (33.0, 5.0)},
        (1.0, 1.02, 1.05, 1.08, 1.1), (1.0, 1.0, 1.01, 1.01, 1.0),
    ),
    Outcome(
        "TBIL", "umol/L", 1,
        ("Shi 2021", "Xu 2019", "Lin", "Suk", "Xu 2014", "Salama", "Zhang", "Shi 2012", "Peng"),
        {"baseline": 0.05, "2 weeks": -0.45, "4 weeks": -0.6, "12 weeks": -0.55,
         "24 weeks": -0.5, "48 weeks": -0.35},
        {"baseline": 0.35, "2 weeks": 0.5, "4 weeks": 1.3, "12 weeks": 0.6, "24 weeks": 0.6,
         "48 weeks": 0.4},
        {"ACLF": (285.0, 110.0), "Decompensated cirrhosis": (42.0, 22.0),
         "Cirrhosis": (30.0, 14.0)},
        (0.8, 0.62, 0.42, 0.3, 0.26), (1.0, 0.98, 1.0, 1.02, 1.02),
    ),
    Outcome(
        "PTA", "%", 1,
        ("Xu 2014", "Zhang", "Shi 2012"),
        {"baseline": -0.18, "2 weeks": 0.2, "4 weeks": 0.28, "12 weeks": 0.35, "24 weeks": 0.31,
         "48 weeks": 0.38},
        {"baseline": 0.0, "2 weeks": 0.1, "4 weeks": 0.2, "12 weeks": 0.2, "24 weeks": 0.5,
         "48 weeks": 0.3},
        {"ACLF": (33.0, 8.0), "Decompensated cirrhosis": (56.0, 12.0), "Cirrhosis": (64.0, 12.0)},
        (1.12, 1.3, 1.65, 1.95, 2.05), (1.0, 1.01, 1.02, 1.02, 1.03),
        cap=100.0,
    ),
    Outcome(
        "INR", "ratio", 2,
        ("Lin", "Suk", "Salama", "El-Ansary"),
        {"baseline": -0.38, "2 weeks": -0.3, "4 weeks": -0.35, "12 weeks": -0.3,
         "24 weeks": -0.3, "48 weeks": -0.25},
        {"baseline": 0.0, "2 weeks": 0.1, "4 weeks": 0.1, "12 weeks": 0.2, "24 weeks": 0.2,
         "48 weeks": 0.2},
        {"ACLF": (2.1, 0.4), "Decompensated cirrhosis": (1.5, 0.25), "Cirrhosis": (1.3, 0.18)},
        (0.93, 0.85, 0.75, 0.68, 0.66), (1.0, 1.0, 1.0, 1.01, 1.01),
    ),
    Outcome(
        "ALT", "U/L", 1,
        ("Shi 2021", "Xu 2019", "Lin", "Xu 2014", "Salama", "Zhang", "Shi 2012", "Peng"),
        {"baseline": -0.1, "2 weeks": -0.15, "4 weeks": -0.12, "12 weeks": -0.08,
         "24 weeks": -0.05, "48 weeks": -0.05},
        {"baseline": 0.0, "2 weeks": 0.2, "4 weeks": 0.2, "12 weeks": 0.15, "24 weeks": 0.1,
         "48 weeks": 0.1},
        {"ACLF": (150.0, 90.0), "Decompensated cirrhosis": (45.0, 24.0),
         "Cirrhosis": (52.0, 25.0)},
        (0.6, 0.45, 0.35, 0.3, 0.3), (1.0, 0.97, 0.95, 0.95, 0.95),
    ),
    Outcome(
        "AST", "U/L", 1,
        ("Xu 2019", "Lin", "Xu 2014", "Zhang", "Shi 2012"),
        {"baseline": -0.05, "2 weeks": -0.15, "4 weeks": -0.1, "12 weeks": -0.1,
         "24 weeks": -0.05, "48 weeks": -0.05},
        {"baseline": 0.0, "2 weeks": 0.1, "4 weeks": 0.1, "12 weeks": 0.1, "24 weeks": 0.1,
         "48 weeks": 0.1},
        {"ACLF": (160.0, 80.0), "Decompensated cirrhosis": (56.0, 25.0),
         "Cirrhosis": (60.0, 25.0)},
        (0.62, 0.48, 0.38, 0.33, 0.33), (1.0, 0.97, 0.95, 0.95, 0.95),
    ),
)  # fmt: skip

SURVIVAL_STUDIES = ("Shi 2021", "Schacher", "Xu 2019", "Lin", "Suk", "Shi 2012", "Peng")
SURVIVAL_WEEKS = (4, 12, 24, 48)
SURVIVAL_OR = 1.3
# Probability of being alive at week t in the control arm (piecewise, interpolated in weeks).
CONTROL_SURVIVAL = {
    "ACLF": ((0, 1.0), (2, 0.9), (4, 0.8), (12, 0.66), (24, 0.57), (48, 0.52)),
    "Decompensated cirrhosis": ((0, 1.0), (12, 0.97), (24, 0.93), (48, 0.87)),
    "Cirrhosis": ((0, 1.0), (12, 0.99), (24, 0.97), (48, 0.94)),
}


def _reports(comparison: Comparison, prefixes: tuple[str, ...]) -> bool:
    return any(comparison.study.startswith(p) for p in prefixes)


def _weeks(c: Comparison) -> list[int]:
    return [w for w in WEEKS if c.first_week <= w <= c.follow_up_weeks]


def _control_alive(disease: str, week: float) -> float:
    points = CONTROL_SURVIVAL[disease]
    for (w0, s0), (w1, s1) in itertools.pairwise(points):
        if w0 <= week <= w1:
            return s0 + (s1 - s0) * (week - w0) / (w1 - w0)
    return points[-1][1]


def _alive(rng: random.Random, c: Comparison, n: int, experimental: bool) -> dict[int, int]:
    """Patients alive at each week: one simulated survival time per patient (counts never rise)."""
    out = {0: n}
    deaths_by = []
    for _ in range(n):
        u = rng.random()
        # Alive at week w iff u < S(w); experimental survival has odds x SURVIVAL_OR.
        last = 0
        for w in (*WEEKS, *SURVIVAL_WEEKS):
            s = _control_alive(c.disease, w)
            if experimental:
                odds = SURVIVAL_OR * s / (1 - s) if s < 1 else math.inf
                s = odds / (1 + odds) if math.isfinite(odds) else 1.0
            if u < s:
                last = max(last, w)
        deaths_by.append(last)
    for w in sorted({*WEEKS, *SURVIVAL_WEEKS}):
        out[w] = sum(1 for last in deaths_by if last >= w)
    return out


def _hedges_j(n1: int, n2: int) -> float:
    m = n1 + n2 - 2
    return math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)


def _fmt(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


@dataclass
class _Draft:
    """One study × time point before its effect is centred (see ``_continuous_rows``)."""

    comparison: Comparison
    label: str
    n1: int
    n2: int
    vi: float
    g: float
    mean_con: float
    sd_con: float
    sd_exp: float


def _continuous_rows(
    rng: random.Random, outcome: Outcome, alive: dict[str, tuple[dict[int, int], dict[int, int]]]
) -> list[dict[str, str]]:
    drafts: list[_Draft] = []
    for c in COMPARISONS:
        if not _reports(c, outcome.studies):
            continue
        mean0, sd0 = outcome.base[c.disease]
        study_mean = mean0 * rng.uniform(0.9, 1.1)
        study_sd = sd0 * rng.uniform(0.85, 1.15)
        z_study = rng.gauss(0, 1)  # the study's own lean, shared by its time points
        points = [("baseline", 0)] + [(f"{w} weeks", w) for w in _weeks(c)]
        for label, week in points:
            if week and rng.random() < 0.12:  # not every visit is reported
                continue
            if week:
                course = outcome.aclf_course if c.disease == "ACLF" else outcome.other_course
                factor = course[WEEKS.index(week)]
            else:
                factor = 1.0
            a_exp, a_con = alive.get(c.study, ({}, {}))
            n1 = a_exp.get(week, round(c.n_exp * (1 - 0.004 * week)))
            n2 = a_con.get(week, round(c.n_con * (1 - 0.004 * week)))
            if week and c.n_exp > 6:  # a few patients miss the visit
                n1 -= rng.randint(0, max(1, n1 // 15))
                n2 -= rng.randint(0, max(1, n2 // 15))
            n1, n2 = max(n1, 2), max(n2, 2)
            sd = study_sd * factor**0.7
            true = outcome.smd[label] + outcome.tau[label] * (0.6 * z_study + 0.8 * rng.gauss(0, 1))
            vi = 1 / n1 + 1 / n2 + true**2 / (2 * (n1 + n2))
            g = true + rng.gauss(0, 1) * math.sqrt(vi)
            mean_con = study_mean * factor * rng.uniform(0.96, 1.04)
            sd_con = sd * rng.uniform(0.85, 1.15)
            sd_exp = sd * rng.uniform(0.85, 1.15)
            drafts.append(_Draft(c, label, n1, n2, vi, g, mean_con, sd_con, sd_exp))
    # Centre each time point's effects on the seed's pooled value (inverse-variance mean), keeping
    # their spread: the illustrative data then reproduce the reported direction and size.
    for label in outcome.smd:
        group = [d for d in drafts if d.label == label]
        if not group:
            continue
        w = [1 / d.vi for d in group]
        mean = sum(wi * d.g for wi, d in zip(w, group, strict=True)) / sum(w)
        for d in group:
            d.g = d.g - mean + outcome.smd[label]
    rows = []
    for d in drafts:
        c, n1, n2 = d.comparison, d.n1, d.n2
        sd_exp, sd_con, mean_con = d.sd_exp, d.sd_con, d.mean_con
        sp = math.sqrt(((n1 - 1) * sd_exp**2 + (n2 - 1) * sd_con**2) / (n1 + n2 - 2))
        mean_exp = mean_con + d.g * sp / _hedges_j(n1, n2)
        if outcome.cap is not None:
            mean_con = min(mean_con, outcome.cap - sd_con / 2)
            mean_exp = min(mean_exp, outcome.cap - sd_exp / 2)
        floor = 10.0**-outcome.decimals
        rows.append(
            _row(c, outcome.name, outcome.unit, d.label)
            | {
                "mean_exp": _fmt(max(mean_exp, floor), outcome.decimals),
                "sd_exp": _fmt(max(sd_exp, floor), outcome.decimals),
                "n_exp": str(n1),
                "mean_con": _fmt(max(mean_con, floor), outcome.decimals),
                "sd_con": _fmt(max(sd_con, floor), outcome.decimals),
                "n_con": str(n2),
            }
        )
    return rows


def _row(c: Comparison, outcome: str, unit: str, time_point: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        study=c.study,
        disease=c.disease,
        cell_type=c.cell_type,
        route=c.route,
        injections=c.injections,
        outcome=outcome,
        outcome_title=OUTCOME_TITLES[outcome][0],
        unit=unit,
        better=OUTCOME_TITLES[outcome][1],
        arm_exp=ARM_EXP,
        arm_con=ARM_CON,
        time_point=time_point,
    )
    return row


CONTROL_COLUMNS = ("mean_con", "sd_con", "n_con", "events_con", "total_con")


def _share_control_arm(rows: list[dict[str, str]], first: str, second: str) -> None:
    """Give ``second`` the control arm of ``first`` where both report an outcome × time point.

    Suk 2016 randomised two MSC arms against ONE control arm, so its two comparisons share the
    control arm's values (as the extraction holds them: one value per arm). The second
    comparison's MSC mean moves by the control mean's change, so its made-up difference in means
    stays what was drawn.
    """
    firsts = {(r["outcome"], r["time_point"]): r for r in rows if r["study"] == first}
    for r in rows:
        shared = firsts.get((r["outcome"], r["time_point"]))
        if r["study"] != second or shared is None:
            continue
        if r["mean_con"]:
            decimals = len(r["mean_exp"].partition(".")[2])
            moved = float(r["mean_exp"]) + float(shared["mean_con"]) - float(r["mean_con"])
            r["mean_exp"] = _fmt(max(moved, 10.0**-decimals), decimals)
        r.update({c: shared[c] for c in CONTROL_COLUMNS})


def build() -> str:
    """The whole CSV as text (header note, header, rows)."""
    rng = random.Random(SEED)
    alive = {
        c.study: (_alive(rng, c, c.n_exp, True), _alive(rng, c, c.n_con, False))
        for c in COMPARISONS
        if _reports(c, SURVIVAL_STUDIES) or c.disease == "ACLF"
    }
    rows: list[dict[str, str]] = []
    for outcome in OUTCOMES:
        rows.extend(_continuous_rows(rng, outcome, alive))
    for c in COMPARISONS:
        if not _reports(c, SURVIVAL_STUDIES):
            continue
        a_exp, a_con = alive[c.study]
        for w in SURVIVAL_WEEKS:
            if c.follow_up_weeks < w:
                continue
            rows.append(
                _row(c, "survival", "patients alive", f"{w} weeks")
                | {
                    "events_exp": str(a_exp[w]),
                    "total_exp": str(c.n_exp),
                    "events_con": str(a_con[w]),
                    "total_con": str(c.n_con),
                }
            )
    _share_control_arm(rows, "Suk 2016 (one injection)", "Suk 2016 (two injections)")
    buf = io.StringIO()
    buf.write(HEADER_NOTE + "\n")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    """Write the CSV to ``argv[1]`` or beside this script."""
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "outcomes.csv"
    out.write_text(build(), encoding="utf-8", newline="")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
