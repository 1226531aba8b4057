"""Make the sample review's extraction files: what the two extractors entered (deterministic).

Writes ``extraction/values_yliu.csv`` and ``extraction/values_ydong.csv`` in the long extraction
layout (docs/extraction.md), each with:

* Table 1's real values (``extraction/table1.csv``, from the seed paper), and
* the ILLUSTRATIVE per-arm outcome values of ``outcomes.csv`` (made up by ``make_outcomes.py``;
  the trials' own data are not public): one row per study × arm × outcome × time point ×
  statistic. A comparison "Suk 2016 (one injection)" is the study "Suk 2016"'s arm
  "MSC one injection" against its arm "control" (the arm names of table1.csv); every other
  study's arms are "MSC" and "control".

Then a few made-up slips (:data:`DISAGREEMENTS`): one extractor's value differs from the other's
(or is missing), and the consensus the adjudicator reaches is the value of ``outcomes.csv`` /
Table 1, so the analysis fed from the consensus pools exactly what ``outcomes.csv`` pools
(``tests/test_sample_extraction.py``). ``run.sh`` records the consensus with the commands in
:data:`DISAGREEMENTS`'s last column.

Run: ``python sample_project/make_extraction.py`` (files written beside ``table1.csv``);
``tests/test_sample_extraction.py`` checks the committed files are reproduced byte for byte.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LONG_COLUMNS = (
    "study", "arm", "outcome", "time_point", "field", "value", "source_kind", "source", "extractor",
)  # fmt: skip
EXTRACTORS = ("yliu", "ydong")
ILLUSTRATIVE_SOURCE = "ILLUSTRATIVE value (sample_project/make_outcomes.py), not the trial's data"
STATISTICS = ("mean", "sd", "n", "events", "total")

# (study, arm, outcome, time point, field, extractor who slipped, their value ("" = left empty),
#  how the consensus is reached: "agree" (take the other's value) or "resolve" (the adjudicator
#  enters it)). The other extractor's value is the right one.
DISAGREEMENTS: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("Xu 2019", "MSC", "meld", "12 weeks", "mean", "ydong", "14.1", "agree"),
    ("Lin 2017", "control", "alb", "2 weeks", "sd", "ydong", "0.44", "resolve"),
    ("Peng 2011", "MSC", "survival", "24 weeks", "events", "yliu", "35", "agree"),
    ("Zhang 2012", "control", "", "", "median_age", "ydong", "", "agree"),
)


def _comments_out(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("#")]


def _arm(comparison: str) -> tuple[str, str]:
    """(study, experimental arm) of an outcomes.csv comparison label."""
    if comparison.startswith("Suk 2016 ("):
        return "Suk 2016", "MSC " + comparison.removeprefix("Suk 2016 (").removesuffix(")")
    return comparison, "MSC"


def outcome_values() -> list[dict[str, str]]:
    """outcomes.csv as per-arm values (a shared control arm once), in the file's order."""
    text = (HERE / "outcomes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO("".join(_comments_out(text.splitlines(True))))))
    found: dict[tuple[str, str, str, str, str], str] = {}
    for r in rows:
        study, arm = _arm(r["study"])
        outcome = r["outcome"].lower()
        for which, name in (("exp", arm), ("con", "control")):
            for stat in STATISTICS:
                value = r[f"{stat}_{which}"]
                if not value:
                    continue
                key = (study, name, outcome, r["time_point"], stat)
                if found.setdefault(key, value) != value:
                    raise SystemExit(f"{key}: {found[key]} and {value} (a shared arm differs)")
    return [
        dict(zip(LONG_COLUMNS[:5], key, strict=True))
        | {"value": value, "source_kind": "reported", "source": ILLUSTRATIVE_SOURCE}
        for key, value in found.items()
    ]


def table1_values() -> list[dict[str, str]]:
    """table1.csv's rows (Table 1's real values)."""
    with (HERE / "extraction" / "table1.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def build(extractor: str) -> str:
    """``extractor``'s file as text."""
    rows = table1_values() + outcome_values()
    slips = {d[:5]: d[6] for d in DISAGREEMENTS if d[5] == extractor}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LONG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        key = tuple(row[c] for c in LONG_COLUMNS[:5])
        if key in slips:
            if not slips[key]:
                continue  # left empty
            row = row | {"value": slips[key]}
        writer.writerow(row | {"extractor": extractor})
    return buf.getvalue()


def main(argv: list[str]) -> int:
    """Write both extractors' files to ``argv[1]`` (a folder) or to ``extraction/``."""
    out = Path(argv[1]) if len(argv) > 1 else HERE / "extraction"
    for who in EXTRACTORS:
        path = out / f"values_{who}.csv"
        path.write_text(build(who), encoding="utf-8", newline="")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
