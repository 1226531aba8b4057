"""Fingerprint of what the bulk extraction paths write and return, to compare two versions.

Run it from the root of each version (copy this file into the other version's ``benchmarks/``:
it imports the ``reviewtool`` of the tree it is in) and compare the outputs::

    git archive main | tar -x -C /tmp/old && cp benchmarks/check_extraction_outputs.py \
        /tmp/old/benchmarks/
    (cd /tmp/old && PYTHONPATH=$PWD python3 benchmarks/check_extraction_outputs.py) > old.txt
    PYTHONPATH=$PWD python3 benchmarks/check_extraction_outputs.py > new.txt
    diff old.txt new.txt && echo identical

The clock is frozen (``audit.log.utc_now`` counts microseconds from a fixed instant, and
``audit.log.new_salt`` counts salts), so a run
writes the same ledger byte for byte, hashes included. The scenario (``--studies``, default 120:
more than two chunks of ``STUDIES_PER_CHUNK``), in the benchmark's layout: alice imports every
study's values; bob imports his (about 1 % of the means differ: consensus by agreement on the
rest); alice re-imports a file where some values and sources changed (updates; a changed value
under a consensus reopens it; the unchanged rest is skipped) and one value is new; dora, a third
extractor, imports three studies (agreement needs every extractor); alice takes over bob's values
of ten studies (agreement on changed values); olga unblinds; carol compares; alice takes bob's
value at one place, carol resolves another; bob sets a value by hand. Printed: each step's
summary or output (compare, values, the long, wide and characteristics exports, status, verify),
then each of ``extraction_value``, ``extraction_consensus``, ``audit_event`` and ``audit_head`` as
a count and a sha256 of its rows in id order.

``--python-agreement`` compares in Python where a first import finds agreement inside SQLite
(``extraction.service.AGREE_IN_SQLITE``): the fingerprint must be the same.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sqlite3
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))  # after PYTHONPATH: the version under test comes first
sys.path.insert(1, str(ROOT / "benchmarks"))

import bench_extraction as bench  # noqa: E402

from reviewtool import audit  # noqa: E402
from reviewtool.extraction import service  # noqa: E402
from reviewtool.review.service import open_existing  # noqa: E402
from tests.extraction_builder import build_review  # noqa: E402

TABLES = ("extraction_value", "extraction_consensus", "audit_event", "audit_head")


def _freeze_clock() -> None:
    """``utc_now`` gives 2026-01-01T00:00:00.000001Z, ...02Z, ... (one microsecond a call)."""
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    calls = [0]

    def now() -> str:
        calls[0] += 1
        moment = start + timedelta(microseconds=calls[0])
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")

    audit.log.utc_now = now  # type: ignore[assignment]
    # Each event's salt (schema 0019) is random: counted too, so the hashes repeat run to run
    # (a version without salts ignores it).
    salts = [0]

    def salt() -> str:
        salts[0] += 1
        return f"{salts[0]:032x}"

    if hasattr(audit.log, "new_salt"):
        audit.log.new_salt = salt  # type: ignore[attr-defined]


def _digest(rows: Iterable[Any]) -> tuple[int, str]:
    h = hashlib.sha256()
    count = 0
    for row in rows:
        h.update(repr(row).encode("utf-8"))
        h.update(b"\n")
        count += 1
    return count, h.hexdigest()


def _changed_file(source: Path, target: Path) -> None:
    """``source`` with every 50th mean changed, every 7th sd's source changed, one row added."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for i, row in enumerate(rows[1:], start=1):
        if row[4] == "mean" and i % 50 == 0:
            row[5] = f"{float(row[5]) + 0.5:g}"
        if row[4] == "sd" and i % 7 == 0:
            row[7] = row[7] + " (corrected)"
    rows.append(["2", "", "", "", "country", "Korea", "reported", "report 2, p. 3", "alice"])
    rows = [r for r in rows if not (r[0] == "2" and r[4] == "country" and r[7] == "report 1")]
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _third(source: Path, target: Path, studies: int) -> None:
    """dora's values: bob's of the first ``studies`` studies, one mean differing."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    out = [rows[0]]
    for row in rows[1:]:
        if int(row[0]) <= studies:
            out.append([*row[:8], "dora"])
    next(row for row in out[1:] if row[4] == "mean")[5] = "77"
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(out)


def _adopt(source: Path, target: Path, who: str, studies: int) -> None:
    """``who``'s values: the first ``studies`` studies of ``source`` (another's), taken over."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    out = [rows[0], *([*r[:8], who] for r in rows[1:] if int(r[0]) <= studies)]
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(out)


def main() -> None:
    """Run the scenario and print its fingerprint."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=120)
    parser.add_argument(
        "--python-agreement",
        action="store_true",
        help="find agreement in Python on every write (the output must not change)",
    )
    args = parser.parse_args()
    if args.python_agreement:
        service.AGREE_IN_SQLITE = False
    print(f"code: {Path(service.__file__).resolve().parents[2]}", file=sys.stderr)
    _freeze_clock()
    work = Path(tempfile.mkdtemp(prefix="check_extraction_"))
    url = build_review(
        work / "review.db", [(f"Author{i}", 2000 + i % 25) for i in range(args.studies)]
    )
    review = open_existing(url)
    from reviewtool.domain import Role
    from reviewtool.members.service import add_member

    with review.transaction() as s:
        add_member(s, actor="olga", name="dora", roles=[Role.REVIEWER])
        service.add_form(s, actor="olga", text=bench.form_text())
    files = {who: work / f"{who}.csv" for who in ("alice", "bob")}
    for who, path in files.items():
        bench.write_values(path, args.studies, who, who == "bob")
    _changed_file(files["alice"], work / "alice2.csv")
    _third(files["bob"], work / "dora.csv", 3)
    _adopt(files["bob"], work / "alice3.csv", "alice", 10)

    def out(label: str, value: Any) -> None:
        print(f"{label}: {value}")

    steps = [("alice", "alice2.csv"), ("dora", "dora.csv"), ("alice", "alice3.csv")]
    for who, path in (*files.items(), *((who, work / name) for who, name in steps)):
        with review.transaction() as s:
            out(f"import {path.name}", service.import_values(s, actor=who, path=str(path)))
    with review.transaction() as s:
        out("unblind", service.unblind(s, actor="olga"))
    with review.reading() as s:
        found = service.compare(s, actor="carol")
    out("compare", _digest(found))
    first, second = found[0], found[1]
    with review.transaction() as s:
        place = {
            "field": first.field,
            "arm": first.arm,
            "outcome": first.outcome,
            "time_point": first.time_point,
        }
        out("agree", service.agree(s, actor="alice", study=first.study_id, take="bob", **place))
        place = {
            "field": second.field,
            "arm": second.arm,
            "outcome": second.outcome,
            "time_point": second.time_point,
        }
        out(
            "resolve", service.resolve(s, actor="carol", study=second.study_id, value="11", **place)
        )
    with review.transaction() as s:
        out(
            "set",
            service.set_value(
                s,
                actor="bob",
                study=1,
                field="mean",
                value="10.25",
                arm=bench.ARMS[0],
                outcome="o1",
                time_point=bench.TIMES[0],
            ),
        )
    with review.reading() as s:
        out("compare after", _digest(service.compare(s, actor="carol")))
        for who in ("alice", "bob", "dora", "consensus"):
            out(f"values {who}", _digest(service.values(s, actor="carol", extractor=who)))
        for layout in ("long", "wide", "characteristics"):
            table = service.export_table(s, actor="carol", layout=layout)
            out(f"export {layout}", (table.columns, _digest(table.rows)))
        out("status", _digest(service.status(s, actor="carol")))
        report = audit.verify(s)
        out("verify", (report.ok, report.events, report.problems[:3]))
    review.close()
    with sqlite3.connect(work / "review.db") as conn:
        for table in TABLES:
            order = "seq" if table == "audit_event" else "id"
            out(table, _digest(conn.execute(f"SELECT * FROM {table} ORDER BY {order}")))


if __name__ == "__main__":
    main()
