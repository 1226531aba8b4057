"""Decode export bytes and recognise their format from the content (the extension is only a hint).

Both functions are pure and cheap: decoding tries a fixed, documented order of encodings, and format
detection looks at the first lines only.
"""

from __future__ import annotations

import codecs
import re

from reviewtool.errors import InvalidInput

__all__ = [
    "FORMATS",
    "GUESSED",
    "LINES_NAMED",
    "check_encoding",
    "decode",
    "decoding_warnings",
    "detect_format",
    "lines_named",
    "replaced_lines",
]

FORMATS: tuple[str, ...] = (
    "ris",
    "nbib",
    "ovid",
    "bibtex",
    "endnote_xml",
    "endnote_tagged",
    "wos",
    "wos_tab",
    "csv",
)
"""Format names accepted by ``parse_bytes(format=...)``."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# C0 controls that never occur in a text export; many of them mean we were handed a binary file.
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


GUESSED: tuple[str, ...] = ("cp1252", "latin-1")
"""Encodings ``decode`` falls back to when the bytes are neither UTF-8 nor UTF-16: a guess."""

# Double-byte code pages worth naming when a guessed file's bytes are also valid in them.
_DOUBLE_BYTE = ("gbk", "big5", "shift_jis", "euc-kr")
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def check_encoding(encoding: str) -> str:
    """The canonical name of a text encoding the user named (``--encoding``).

    Raises ``InvalidInput`` (one line) for a name Python does not know or a codec that is not a
    text encoding (``base64``, ``rot13`` ...).
    """
    try:
        info = codecs.lookup(encoding.strip())
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise InvalidInput(
            f"--encoding: unknown text encoding {encoding!r} "
            "(e.g. utf-8, utf-16, cp1252, latin-1, gbk, gb18030, big5, shift_jis, euc-kr)"
        )
    return info.name


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of byte ``offset``, counting CRLF, CR and LF as ``split_lines`` does."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def decoding_warnings(data: bytes, text: str, encoding: str, *, name: str) -> list[tuple[int, str]]:
    """``(line, message)`` pairs for what decoding had to guess or replace, in file order.

    A legacy code page (``GUESSED``) is a guess: one message names the file, the encoding and the
    line of the first byte that is not UTF-8, and the double-byte code pages (GBK, Big5,
    Shift-JIS, EUC-KR) in which the bytes are also valid when every run of high bytes has even
    length. For ``"utf-8 (N invalid bytes replaced)"``, one message per line holding a U+FFFD.
    """
    out: list[tuple[int, str]] = []
    if encoding in GUESSED:
        try:
            data.decode("utf-8")
            start = 0
        except UnicodeDecodeError as exc:
            start = exc.start
        hint = ""
        runs = _HIGH_RUN.findall(data)
        if runs and all(len(r) % 2 == 0 for r in runs):
            also = []
            for codec in _DOUBLE_BYTE:
                try:
                    data.decode(codec)
                except UnicodeDecodeError:
                    continue
                also.append(codec)
            if also:
                hint = (
                    f"; the bytes are also valid {' and '.join(also)}: if the text is Chinese, "
                    f"Japanese or Korean, import again with --encoding {also[0]}"
                )
        out.append(
            (
                _line_of(data, start),
                f"{name} is not UTF-8 or UTF-16 (byte 0x{data[start]:02X} on line "
                f"{_line_of(data, start)}); read as {encoding}, a guess: check its non-ASCII "
                f"letters, or name the encoding with --encoding{hint}",
            )
        )
    elif encoding.startswith("utf-8 (") and "\ufffd" in text:
        # One warning per line for the first few (with the record, named by the caller), then
        # one for the rest: "and N more lines" naming where the next ones are.
        lines = replaced_lines(data)
        split = _split_lines(text)
        for number in lines[:LINES_NAMED]:
            line = split[number - 1]
            n = line.count("\ufffd")
            at = line.index("\ufffd") if n else 0
            context = line[max(0, at - 30) : at + 30].strip()
            out.append(
                (
                    number,
                    f"{n} invalid UTF-8 byte{'s' if n != 1 else ''} replaced with U+FFFD "
                    f"on this line ({context!r})",
                )
            )
        rest = lines[LINES_NAMED:]
        if rest:
            out.append(
                (
                    rest[0],
                    f"{name}: and {len(rest)} more line{'s' if len(rest) != 1 else ''} with "
                    f"invalid UTF-8 bytes replaced ({lines_named(name, rest)})",
                )
            )
    return out


def _split_lines(text: str) -> list[str]:
    """``text`` split on CRLF, CR or LF (the parsers' line numbering)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def decode(data: bytes, *, name: str = "<input>", encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data`` and return ``(text, encoding)``.

    ``encoding`` (the user's ``--encoding``) forces one codec: the bytes must be valid in it, else
    ``InvalidInput`` names the file, line and byte. Otherwise:

    Order: a byte-order mark decides (UTF-8, UTF-16, UTF-32); then strict UTF-8; then UTF-8 with
    U+FFFD for a handful of corrupt bytes in an otherwise clearly UTF-8 file (reported as
    ``"utf-8 (N invalid bytes replaced)"``); then UTF-16 without BOM when every other byte is NUL;
    then Windows-1252; then Latin-1, which accepts any byte. The returned ``encoding`` names what
    was used, so the import record can state it.

    Raises ``InvalidInput`` when the text looks binary (NULs or many control characters).
    ``decoding_warnings`` says what a guess or a replacement may have cost.
    """
    text: str | None = None
    forced = encoding
    encoding = ""
    if forced is not None:
        codec = check_encoding(forced)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{name}:{_line_of(data, exc.start)}: not valid {codec} (byte "
                f"0x{data[exc.start]:02X} at offset {exc.start}: {exc.reason}); check --encoding"
            ) from None
        encoding = codec
    for bom, codec in _BOMS if text is None else ():
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"{name}: starts with a {codec} byte-order mark but is not valid {codec} "
                    f"(byte {exc.start}); re-export the file as UTF-8"
                ) from None
            encoding = codec
            break
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = None
    if text is None:
        # A UTF-8 file with a few corrupt bytes: keep its many good multibyte characters rather
        # than reading everything as cp1252 mojibake; the encoding name says what was done.
        # Each invalid byte becomes one U+FFFD (surrogateescape, then replaced one for one), so
        # the text lines up with ``data.decode("utf-8", "surrogateescape")``, from which
        # ``parsers.parse_bytes`` takes back the original bytes of the records they are in.
        escaped = data.decode("utf-8", errors="surrogateescape")
        bad = len(_ESCAPED.findall(escaped))
        multibyte = sum(1 for ch in escaped if ord(ch) > 0x7F) - bad
        if 0 < bad <= max(3, multibyte // 100) and multibyte >= 2 * bad and b"\x00" not in data:
            text = _ESCAPED.sub("\ufffd", escaped)
            encoding = f"utf-8 ({bad} invalid bytes replaced)"
    if text is None and len(data) >= 4 and data.count(0) * 3 >= len(data):
        even_nuls = data[0::2].count(0)
        odd_nuls = data[1::2].count(0)
        codec = "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        try:
            text, encoding = data.decode(codec), codec
        except UnicodeDecodeError:
            text = None
    if text is None:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "latin-1"
    if text.startswith("\ufeff"):
        text = text[1:]
    sample = text[:65536]
    controls = len(_BINARY_CONTROLS.findall(sample))
    if "\x00" in sample or controls > max(8, len(sample) // 100):
        raise InvalidInput(
            f"{name}: looks like a binary file, not a text export "
            f"({controls} control characters in the first {len(sample)} characters)"
        )
    return text, encoding


_ESCAPED = re.compile("[\udc80-\udcff]")
"""An invalid UTF-8 byte as ``surrogateescape`` decodes it (U+DC80 + the byte)."""

LINES_NAMED = 5
"""How many lines with invalid bytes are named one by one before "and N more"."""


def replaced_lines(data: bytes) -> list[int]:
    """The 1-based lines (CRLF, CR and LF as the parsers count them) of ``data`` that hold a
    byte that is not valid UTF-8, in file order; empty for valid UTF-8."""
    escaped = data.decode("utf-8", errors="surrogateescape")
    if not _ESCAPED.search(escaped):
        return []
    return [n for n, line in enumerate(_split_lines(escaped), start=1) if _ESCAPED.search(line)]


def lines_named(name: str, lines: list[int], limit: int = LINES_NAMED) -> str:
    """``name:line`` for the first ``limit`` of ``lines``, then "and N more" (e.g.
    ``a.ris:8, a.ris:12 and 3 more``)."""
    shown = ", ".join(f"{name}:{n}" for n in lines[:limit])
    more = len(lines) - limit
    return f"{shown} and {more} more" if more > 0 else shown


_RIS_TY = re.compile(r"^\s*TY\s{1,2}-", re.MULTILINE)
# An Ovid record-number line ("<3001. >") followed by a field line ("VN  - ...").
_OVID_RECORD = re.compile(
    r"^<[ \t]*\d+\.?[ \t]*>[ \t]*\r?\n[A-Z][A-Z0-9]{1,3} {0,2}- ", re.MULTILINE
)
_OVID_VENDOR = re.compile(r"^VN  - Ovid Technologies", re.MULTILINE)
_NBIB_TAG = re.compile(r"^(PMID|OWN |STAT|PMC |TI  |FAU |AU  |DP  |JT  |OID )-", re.MULTILINE)
_WOS_FIRST = re.compile(r"^(?:FN |VR |PT [A-Z]\b)")
_WOS_TAB = re.compile(r"^(?:PT|FN)\t(?:[A-Z][A-Z0-9]\t)+")
_BIBTEX = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_XML = re.compile(r"^\s*<(?:\?xml|xml\b|records\b|record\b)")
_TAGGED = re.compile(r"^%[0-9A-Z@!#$&()*+^|~?\]] ", re.MULTILINE)

_EXTENSIONS = {
    ".ris": "ris",
    ".nbib": "nbib",
    ".ovd": "ovid",
    ".medline": "nbib",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".xml": "endnote_xml",
    ".enw": "endnote_tagged",
    ".enl": "endnote_tagged",
    ".isi": "wos",
    ".ciw": "wos",
    ".csv": "csv",
    ".tsv": "csv",
}


def detect_format(text: str, *, name: str = "<input>") -> str:
    """Return the format of ``text`` (one of ``FORMATS``), judged by its first lines.

    The file name's extension only breaks ties: a Web of Science file named ``.ris`` is detected as
    ``wos`` and an EndNote RIS export named ``.txt`` as ``ris``.
    """
    head = text[:65536]
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    if not first:
        raise InvalidInput(f"{name}: the file is empty")
    if _XML.match(first):
        return "endnote_xml"
    if _WOS_TAB.match(first):
        return "wos_tab"
    if _WOS_FIRST.match(first):
        return "wos"
    if _RIS_TY.search(head):
        return "ris"
    if _OVID_RECORD.search(head) or _OVID_VENDOR.search(head):
        return "ovid"
    if _NBIB_TAG.search(head):
        return "nbib"
    if _TAGGED.match(first):
        return "endnote_tagged"
    if _BIBTEX.search(head):
        return "bibtex"
    lowered = name.lower()
    ext = lowered[lowered.rfind(".") :] if "." in lowered else ""
    if ext in ("csv", ".tsv") or any(sep in first for sep in (",", "\t", ";")):
        if ext in _EXTENSIONS and _EXTENSIONS[ext] != "csv":
            return _EXTENSIONS[ext]
        return "csv"
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    raise InvalidInput(
        f"{name}: cannot tell the format from the content (first line: {first[:60]!r}); "
        f"pass the format explicitly (one of {', '.join(FORMATS)})"
    )
