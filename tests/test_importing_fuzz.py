"""Random bytes and mutated real exports fed to every parser: only ParseError / InvalidInput may
escape (never another exception type, never a hang)."""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.domain import CitationIn
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.importing.detect import FORMATS
from reviewtool.importing.parsers import BadRecord, ParseWarning, parse_bytes

FORMATS_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "formats"

# One small real seed per format, so mutations stay close to what each parser really reads.
SEEDS = {
    "ris": "ris/colrev__loader_ris_data.ris",
    "nbib": "nbib/colrev__eric_nbib.nbib",
    "ovid": "ovid_embase/knh11545__Embase_endnote_r3001-3002.cgi",
    "bibtex": "bibtex/bibtexparser__features2.bib",
    "endnote_xml": "endnote_xml/reflib__multipart.xml",
    "endnote_tagged": "endnote_tagged/colrev__loader_enl_data.enl",
    "wos": "wos_plaintext/metaknowledge__SimplePaper.isi",
    "wos_tab": "wos_tabdelimited/uvt__savedrecs.txt",
    "csv": "csv/colrev__loader_csv_data.csv",
}

FUZZ = settings(
    max_examples=30, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _parse_all_ways(data: bytes, fmt: str | None) -> None:
    for skip_bad in (False, True):
        with contextlib.suppress(ParseError, InvalidInput):
            parse_bytes(data, name="fuzz.bin", format=fmt, skip_bad=skip_bad)


@pytest.mark.parametrize("fmt", [None, *FORMATS])
@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(fmt: str | None, data: bytes) -> None:
    _parse_all_ways(data, fmt)


@pytest.mark.parametrize("fmt", [None, *FORMATS])
@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=500))
def test_random_text_with_format_markers(fmt: str | None, text: str) -> None:
    for prefix in (
        "TY  - JOUR\n",
        "PMID- 1\n",
        "@article{",
        "<xml><records><record>",
        "PT J\n",
        "%0 ",
        "PT\tAU\tTI\n",
        "id,title\n",
        "sep=;\nTitle;Year\n",
        "<1. >\nVN  - Ovid Technologies\n",
    ):
        _parse_all_ways((prefix + text).encode(), fmt)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "cut", "dup", "insert", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:]
        elif op == "dup":
            j = draw(st.integers(i, min(len(data), i + 200)))
            data[i:i] = data[i:j]
        elif op == "insert":
            data[i:i] = draw(
                st.sampled_from(
                    [
                        b"{",
                        b"}",
                        b"<",
                        b"</record>",
                        b"\n",
                        b"\r",
                        b"ER  -",
                        b"TY  - ",
                        b'"',
                        b"\x00",
                        b"@article{x,",
                    ]
                )
            )
        else:
            j = draw(st.integers(i, min(len(data), i + 50)))
            del data[i:j]
    return bytes(data)


@pytest.mark.skipif(not FORMATS_DIR.is_dir(), reason=f"shared fixtures not found at {FORMATS_DIR}")
@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_mutated_real_files(fmt: str) -> None:
    seed = (FORMATS_DIR / SEEDS[fmt]).read_bytes()

    @FUZZ
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        _parse_all_ways(data, fmt)
        _parse_all_ways(data, None)

    run()


# The entry point wraps any stray exception into ParseError, which would hide a crash inside a
# format module. These tests call each module's ``parse`` generator directly: only ParseError /
# InvalidInput may escape, and what it yields must be well formed.
_MODULES: dict[str, tuple[str, dict[str, object]]] = {
    "ris": ("ris", {}),
    "nbib": ("nbib", {}),
    "ovid": ("ovid", {}),
    "bibtex": ("bibtex", {}),
    "endnote_xml": ("endnote_xml", {}),
    "endnote_tagged": ("endnote_tagged", {}),
    "wos": ("wos", {"tabular": False}),
    "wos_tab": ("wos", {"tabular": True}),
    "csv": ("csv_table", {"column_map": None}),
}


def _run_module(fmt: str, text: str) -> None:
    module_name, kwargs = _MODULES[fmt]
    module = importlib.import_module(f"reviewtool.importing.parsers.{module_name}")
    n_lines = text.count("\n") + text.count("\r") + 1
    try:
        items = list(module.parse(text, name="fuzz.txt", progress=None, **kwargs))
    except (ParseError, InvalidInput):
        return
    for item in items:
        assert isinstance(item, CitationIn | BadRecord | ParseWarning), item
        assert 1 <= item.line <= n_lines, (item.line, n_lines)
        if isinstance(item, CitationIn | BadRecord):
            assert isinstance(item.raw, str)


@pytest.mark.parametrize("fmt", sorted(_MODULES))
@FUZZ
@given(text=st.text(max_size=400))
def test_format_module_on_random_text(fmt: str, text: str) -> None:
    for prefix in (
        *("", "TY  - JOUR\n", "PMID- 1\n", "@article{k,", "PT J\n", "%0 Journal\n"),
        "<1. >\nVN  - Ovid Technologies\n",
    ):
        _run_module(fmt, prefix + text)


@pytest.mark.skipif(not FORMATS_DIR.is_dir(), reason=f"shared fixtures not found at {FORMATS_DIR}")
@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_format_module_on_mutated_real_files(fmt: str) -> None:
    seed = (FORMATS_DIR / SEEDS[fmt]).read_bytes()

    @FUZZ
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        _run_module(fmt, data.decode("utf-8", errors="replace"))

    run()


_BIB_PIECE = st.sampled_from(
    ["{a}", "{a, b}", "{{N}ested}", '"q"', '"x {"} y"', "12", "jan", "mac", "{}", '""']
)


@st.composite
def _bib_entry(draw: st.DrawFn) -> str:
    fields = []
    for i in range(draw(st.integers(0, 4))):
        pieces = draw(st.lists(_BIB_PIECE, min_size=1, max_size=3))
        sep = draw(st.sampled_from([" # ", "#", " #\n  "]))
        equals = draw(st.sampled_from(["=", " = ", "=\n  "]))
        fields.append(f"f{i} {equals}{sep.join(pieces)}")
    joiner = draw(st.sampled_from([",", ",\n  ", "\n , "]))
    tail = draw(st.sampled_from(["", ",", "\n", ",\n"]))
    opener, closer = draw(st.sampled_from([("{", "}"), ("(", ")")]))
    return f"@article{opener}key{joiner}{joiner.join(fields)}{tail}{closer}"


@FUZZ
@given(raw=_bib_entry())
def test_bibtex_scanner_agrees_with_bibtexparser(raw: str) -> None:
    from reviewtool.importing.parsers import bibtex

    ours = bibtex.read_entry(raw)
    if ours is not None:
        assert ours == bibtex._with_bibtexparser(raw)
