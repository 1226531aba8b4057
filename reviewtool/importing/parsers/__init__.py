"""Format parsers and the single entry point that applies the bad-record policy.

``parse_bytes`` decodes, detects the format, runs the format's parser and either refuses the file at
the first bad record (default) or returns the good records with the bad ones listed
(``skip_bad=True``). Every failure surfaces as ``ParseError`` or ``InvalidInput``.

Format modules are imported lazily so that importing this package stays cheap.
"""

from __future__ import annotations

import bisect
import gc
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from reviewtool.csvfiles import check_lines
from reviewtool.domain import CitationIn
from reviewtool.errors import InvalidInput, ParseError
from reviewtool.importing import normalize as nz
from reviewtool.importing.detect import FORMATS, decode, decoding_warnings, detect_format
from reviewtool.importing.parsers._base import BadRecord, ParseWarning, Progress, excerpt
from reviewtool.importing.parsers._repeats import record_label

__all__ = [
    "FORMATS",
    "RAW_BASE64",
    "BadRecord",
    "ParseWarning",
    "ParsedFile",
    "parse_bytes",
    "parse_file",
    "parse_text",
    "raw_text",
]

_MODULES = {
    "ris": "ris",
    "nbib": "nbib",
    "ovid": "ovid",
    "bibtex": "bibtex",
    "endnote_xml": "endnote_xml",
    "endnote_tagged": "endnote_tagged",
    "wos": "wos",
    "wos_tab": "wos",
    "csv": "csv_table",
}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Switch the cyclic garbage collector off while a file is parsed.

    Parsing allocates millions of small containers that all stay alive until the file is done, and
    CPython's collector keeps rescanning them: on 100,000-record files that was a third to a half of
    the parse time. The parsers create no reference cycles, so nothing is lost by waiting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class ParsedFile:
    """What one export file yielded: its format, the encoding it was read with, the records."""

    name: str
    format: str
    encoding: str
    citations: tuple[CitationIn, ...]
    bad: tuple[BadRecord, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()


def _no_pagination(citation: CitationIn) -> CitationIn:
    """Embase's ``14 (1) (no pagination)`` volume split into volume, issue, article number.

    Every format goes through here, so the fields are clean whichever export carried them:
    ``volume``, ``issue`` and ``extra["article_number"]`` (the name RIS C7 and WoS AR use);
    ``pages`` stays empty.
    """
    split = nz.split_no_pagination(citation.volume, citation.issue)
    if split is None:
        return citation
    volume, issue, article = split
    extra = dict(citation.extra)
    if article and not extra.get("article_number"):
        extra["article_number"] = article
    return replace(citation, volume=volume, issue=issue, extra=extra)


def parse_text(
    text: str,
    *,
    name: str,
    format: str,
    encoding: str = "utf-8",
    skip_bad: bool = False,
    column_map: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Parse already-decoded ``text`` in the given ``format``, any case (see ``parse_bytes``)."""
    format = format.strip().lower().replace("-", "_")
    if format not in _MODULES:
        raise InvalidInput(f"{name}: unknown format {format!r}; use one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{_MODULES[format]}")
    kwargs: dict[str, object] = {"name": name, "progress": progress}
    if format == "csv":
        kwargs["column_map"] = column_map
    elif format in ("wos", "wos_tab"):
        kwargs["tabular"] = format == "wos_tab"
    parse: Callable[..., object] = module.parse
    good: list[CitationIn] = []
    bad: list[BadRecord] = []
    warnings: list[ParseWarning] = []
    try:
        with _gc_paused():
            for item in parse(text, **kwargs):  # type: ignore[attr-defined]
                if isinstance(item, CitationIn):
                    if item.volume and "pagination" in item.volume.lower():
                        item = _no_pagination(item)
                    good.append(item)
                    if item.title is None and item.doi is None and item.pmid is None:
                        # Every format: a record nothing can identify is kept, but said so.
                        warnings.append(
                            ParseWarning(
                                item.line,
                                f"{record_label(item)}: no title, DOI or PMID; imported with its "
                                "raw text (check the file or the column mapping)",
                            )
                        )
                elif isinstance(item, BadRecord):
                    if not skip_bad:
                        raise ParseError(
                            f"{item.describe()}; nothing imported (use --skip-bad to import the "
                            "other records)",
                            path=name,
                            line=item.line,
                        )
                    bad.append(item)
                else:
                    warnings.append(item)
    except (ParseError, InvalidInput):
        raise
    except RecursionError:
        raise ParseError(f"nesting too deep to parse as {format}", path=name) from None
    except Exception as exc:  # a library bug must still reach the user as a clear ParseError
        raise ParseError(
            f"could not parse as {format}: {type(exc).__name__}: {excerpt(str(exc), 120)}",
            path=name,
        ) from exc
    return ParsedFile(
        name=name,
        format=format,
        encoding=encoding,
        citations=tuple(good),
        bad=tuple(bad),
        warnings=tuple(warnings),
    )


def parse_bytes(
    data: bytes,
    *,
    name: str,
    format: str | None = None,
    encoding: str | None = None,
    skip_bad: bool = False,
    column_map: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Decode, detect and parse one export file.

    ``name`` is used in every message (pass the path as the user typed it). ``format`` overrides
    detection (any case); ``encoding`` overrides the decoding order of ``detect.decode``, whose
    guesses (a legacy code page, replaced bytes) come back as warnings naming the line and record. ``column_map`` maps CitationIn field names to CSV column headers
    (``{"title": "Article Title"}``); unmapped fields are matched by common header names.
    ``progress`` is called with the number of records processed so far.

    A record with no title, no DOI and no PMID is kept with a warning (whatever the format).
    Raises ``ParseError`` naming the file, line and record at the first bad record unless
    ``skip_bad`` is set, and ``InvalidInput`` for undecodable, binary or unrecognisable files.
    """
    text, used = decode(data, name=name, encoding=encoding)
    fmt = format or detect_format(text, name=name)
    parsed = parse_text(
        text,
        name=name,
        format=fmt,
        encoding=used,
        skip_bad=skip_bad,
        column_map=column_map,
        progress=progress,
    )
    if used.startswith("utf-8 (") and encoding is None:
        parsed = _keep_original_bytes(parsed, data, text)
    # An encoding the user named is no guess: only detection's guesses and replacements warn.
    notes = decoding_warnings(data, text, used, name=name) if encoding is None else []
    if not notes:
        return parsed
    starts = [c.line for c in parsed.citations]
    found: list[ParseWarning] = []
    for line, message in notes:
        # Name the record the line belongs to (the last one starting at or before it).
        at = bisect.bisect_right(starts, line) - 1
        if at >= 0 and not message.startswith(name):
            message = f"{record_label(parsed.citations[at])}: {message}"
        found.append(ParseWarning(line, message))
    return replace(parsed, warnings=(*found, *parsed.warnings))


RAW_BASE64 = "base64:"
"""How a record's ``raw`` starts when the file held bytes there that are not valid UTF-8: the
rest is the base64 of the record's bytes exactly as they were (``raw_text`` shows them)."""


def raw_text(raw: str) -> str:
    """A record's raw text to show: ``raw`` itself, or for a ``RAW_BASE64`` raw its bytes read as
    UTF-8 with U+FFFD for each invalid byte."""
    import base64

    if not raw.startswith(RAW_BASE64):
        return raw
    return base64.b64decode(raw[len(RAW_BASE64) :]).decode("utf-8", errors="replace")


def _line_starts(text: str) -> list[int]:
    """Offsets in ``text`` where each line starts (CRLF, CR and LF end a line, as ``split_lines``)."""
    starts = [0]
    i, n = 0, len(text)
    while True:
        j = min((k for k in (text.find("\n", i), text.find("\r", i)) if k >= 0), default=-1)
        if j < 0:
            return starts
        i = j + 2 if text.startswith("\r\n", j) else j + 1
        starts.append(i)
        if i >= n:
            return starts


def _keep_original_bytes(parsed: ParsedFile, data: bytes, text: str) -> ParsedFile:
    """Each record whose raw text holds a U+FFFD that stands for an invalid byte of the file gets
    ``raw`` = ``RAW_BASE64`` + the base64 of its original bytes, so nothing of the file is lost.

    ``text`` is what the parsers read (``detect.decode``: one U+FFFD per invalid byte), so it lines
    up character for character with the file decoded with ``surrogateescape``; a record's raw is
    found in it from the record's line (as is, or with line ends made LF as line-based parsers
    keep it), and the same span of the escaped text is encoded back to the file's bytes. A raw
    that cannot be found is kept as it is (its U+FFFD stay) with a warning.
    """
    import base64
    import re

    escaped = data.decode("utf-8", errors="surrogateescape")
    if escaped.startswith("\ufeff"):
        escaped = escaped[1:]
    if len(escaped) != len(text):
        return parsed
    flat_text = flat_escaped = None
    starts = _line_starts(text)
    citations: list[CitationIn] = []
    lost: list[ParseWarning] = []
    for citation in parsed.citations:
        raw = citation.raw
        if "\ufffd" not in raw:
            citations.append(citation)
            continue
        begin = starts[min(max(citation.line, 1), len(starts)) - 1]
        at = text.find(raw, begin)
        source = escaped
        if at < 0:
            if flat_text is None:
                flat_text = re.sub("\r\n?", "\n", text)
                flat_escaped = re.sub("\r\n?", "\n", escaped)
            at = flat_text.find(raw, max(0, begin - text.count("\r\n", 0, begin)))
            source = flat_escaped or ""
        if at < 0:
            lost.append(
                ParseWarning(
                    citation.line,
                    f"{record_label(citation)}: its original bytes could not be kept (the raw "
                    "text holds U+FFFD for them)",
                )
            )
            citations.append(citation)
            continue
        original = source[at : at + len(raw)].encode("utf-8", errors="surrogateescape")
        try:
            original.decode("utf-8")
        except UnicodeDecodeError:
            encoded = RAW_BASE64 + base64.b64encode(original).decode("ascii")
            citations.append(replace(citation, raw=encoded))
            continue
        citations.append(citation)  # its U+FFFD were in the file as such
    return replace(parsed, citations=tuple(citations), warnings=(*parsed.warnings, *lost))


def parse_file(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    skip_bad: bool = False,
    column_map: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ParsedFile:
    """Read ``path`` and parse it with ``parse_bytes`` (its name appears in every message)."""
    p = Path(path)
    try:
        check_lines(p, what="export")
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{p}: cannot read the file ({exc.strerror or exc})") from None
    return parse_bytes(
        data,
        name=str(path),
        format=format,
        encoding=encoding,
        skip_bad=skip_bad,
        column_map=column_map,
        progress=progress,
    )
