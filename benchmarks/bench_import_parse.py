"""Parse throughput per format: real fixtures replicated to ~N records, records/s printed.

Usage: python benchmarks/bench_import_parse.py [--records 100000] [--formats ris,nbib,...]
Figures only; nothing is asserted. The fixtures are read from ../shared/fixtures/formats.
records/s is computed from CPU seconds (``time.process_time``), which other jobs on a shared
machine disturb far less than wall-clock seconds; both are printed.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from reviewtool.importing.parsers import parse_bytes

FORMATS_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats"

# format -> (seed file, records in it, how to replicate it)
SEEDS = {
    "ris": ("ris/reflib__blue-light.ris", 102, "concat"),
    "nbib": ("nbib/reflib__blue-light.nbib", 80, "concat"),
    "bibtex": ("bibtex/uvt__wos_savedrecs.bib", 10, "bibtex"),
    "endnote_xml": ("endnote_xml/reflib__blue-light.xml", 102, "xml"),
    "wos": ("wos_plaintext/metaknowledge__testFile.isi", 34, "wos"),
    "wos_tab": ("wos_tabdelimited/uvt__savedrecs_cited_by.txt", 15, "table"),
    "csv": ("csv/litstudy__scopus.csv", 58, "table"),
}


def replicate(fmt: str, target: int) -> tuple[bytes, int]:
    rel, per_copy, how = SEEDS[fmt]
    text = (FORMATS_DIR / rel).read_text(encoding="utf-8-sig")
    copies = max(1, target // per_copy)
    if how == "concat":
        body = text if text.endswith("\n") else text + "\n"
        out = "\n".join([body] * copies)
    elif how == "bibtex":
        # Keys must differ per copy only for readability; duplicates are kept anyway.
        out = "\n".join(re.sub(r"(@\w+\{)([^,]+),", rf"\1\2_{i}:", text) for i in range(copies))
        out = out.replace(":\n", ",\n")
    elif how == "xml":
        start, end = text.index("<records>") + len("<records>"), text.rindex("</records>")
        out = text[:start] + text[start:end] * copies + text[end:]
    elif how == "wos":
        body = text[text.index("PT ") : text.rindex("EF")]
        out = "FN Thomson Reuters Web of Science\nVR 1.0\n" + body * copies + "EF\n"
    else:
        header, _, rows = text.partition("\n")
        out = header + "\n" + (rows if rows.endswith("\n") else rows + "\n") * copies
    return out.encode("utf-8"), copies * per_copy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--formats", default=",".join(SEEDS))
    args = ap.parse_args()
    print(f"{'format':<12} {'records':>8} {'MB':>7} {'wall s':>7} {'CPU s':>7} {'records/s':>10}")
    for fmt in args.formats.split(","):
        data, expected = replicate(fmt, args.records)
        t0, c0 = time.perf_counter(), time.process_time()
        parsed = parse_bytes(data, name=f"bench.{fmt}", format=fmt)
        wall, dt = time.perf_counter() - t0, time.process_time() - c0
        n = len(parsed.citations)
        flag = "" if n == expected else f"  (expected {expected})"
        print(
            f"{fmt:<12} {n:>8} {len(data) / 1e6:>7.1f} {wall:>7.2f} {dt:>7.2f} {n / dt:>10.0f}{flag}"
        )
        del parsed


if __name__ == "__main__":
    main()
