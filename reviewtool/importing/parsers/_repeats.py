"""One policy for a tag that holds one value but appears more than once in a record.

Every tagged parser (RIS, nbib, Ovid, EndNote tagged, Web of Science) reads a record into
``tag -> [value, ...]`` and then asks these functions for the field's value, so the rule is the
same everywhere:

- running text (abstracts, notes): every occurrence is kept, joined in file order with a blank
  line between paragraphs (Zotero writes a long abstract as several ``AB`` lines);
- a title: the first is the title; the others are kept as alternative (e.g. translated) titles,
  returned for ``extra["alternative_title"]``;
- an identifier (DOI, PMID, accession number): the first value that is valid after normalising;
- any other single value (volume, year ...): the first non-empty value.

Whenever a repetition changes or drops something, a note is appended to the caller's ``notes``
list; the parser turns each note into a ``ParseWarning`` that names the record
(``record_warnings``). Repeating the same value twice costs nothing and says nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence

from reviewtool.domain import CitationIn
from reviewtool.importing import normalize as nz
from reviewtool.importing.parsers._base import ParseWarning, excerpt

__all__ = [
    "ALTERNATIVE_TITLE",
    "first_valid",
    "first_value",
    "joined_text",
    "record_label",
    "record_warnings",
    "title_and_alternatives",
    "unknown_tag_warnings",
    "year",
]

ALTERNATIVE_TITLE = "alternative_title"
"""The ``extra`` key that holds second and later titles ("; "-separated, in file order)."""

PARAGRAPH = "\n\n"
"""What joins the occurrences of a running-text tag (abstract, notes)."""


def _distinct(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value is not None:
            text = value.strip()
            if text:
                seen.setdefault(text, None)
    return list(seen)


def joined_text(tag: str, values: Sequence[str | None], notes: list[str]) -> str | None:
    """Clean each occurrence of a running-text tag and join them with a blank line, in order.

    Returns ``None`` when every occurrence is empty. Each paragraph goes through
    ``normalize.clean_text`` (whitespace collapsed inside it); paragraphs are separated by
    ``PARAGRAPH``. Two or more different paragraphs add a note.
    """
    if len(values) <= 1:  # the usual case, without building lists
        return nz.clean_text(values[0]) if values else None
    paragraphs = _distinct(nz.clean_text(v) for v in values)
    if not paragraphs:
        return None
    if len(paragraphs) > 1:
        notes.append(f"{tag} appears {len(paragraphs)} times; joined in order as paragraphs")
    return PARAGRAPH.join(paragraphs)


def title_and_alternatives(
    tag: str, values: Sequence[str | None], notes: list[str], *, latex: bool = False
) -> tuple[str | None, str | None]:
    """``(title, alternatives)``: the first cleaned title, and the others joined by "; " or None.

    The alternatives belong in ``extra[ALTERNATIVE_TITLE]``; a note says so when there are any.
    """
    if len(values) <= 1:
        return (nz.clean_text(values[0], latex=latex) if values else None), None
    titles = _distinct(nz.clean_text(v, latex=latex) for v in values)
    if not titles:
        return None, None
    if len(titles) == 1:
        return titles[0], None
    notes.append(
        f"{tag} appears {len(titles)} times; the first is the title, the others are kept as "
        f"{ALTERNATIVE_TITLE!r}"
    )
    return titles[0], "; ".join(titles[1:])


def first_valid(
    tag: str,
    values: Sequence[str | None],
    normalize: Callable[[str], str | None],
    notes: list[str],
) -> str | None:
    """The first value that ``normalize`` accepts (e.g. ``normalize_doi``), normalised.

    A note lists the values when the tag holds more than one different value, or when an
    invalid value was passed over.
    """
    if len(values) <= 1:
        only = values[0] if values else None
        return normalize(only) if only else None
    given = _distinct(values)
    if not given:
        return None
    valid = [v for v in (normalize(g) for g in given) if v]
    if len(given) > 1 and (len(_distinct(valid)) > 1 or len(valid) < len(given)):
        shown = ", ".join(repr(excerpt(g, 60)) for g in given)
        kept = f"{valid[0]!r} is kept" if valid else "none is valid"
        notes.append(f"{tag} holds {len(given)} different values ({shown}); {kept}")
    return valid[0] if valid else None


def first_value(tag: str, values: Sequence[str | None], notes: list[str]) -> str | None:
    """The first non-empty value (stripped); a note when later occurrences differ from it."""
    if len(values) <= 1:
        only = values[0].strip() if values and values[0] else None
        return only or None
    given = _distinct(values)
    if not given:
        return None
    if len(given) > 1:
        others = ", ".join(repr(excerpt(g, 40)) for g in given[1:])
        notes.append(f"{tag} appears {len(given)} times; {given[0]!r} is kept, not {others}")
    return given[0]


def year(candidates: Sequence[tuple[str, str | None]], notes: list[str]) -> int | None:
    """The publication year from ``candidates``: ``(field label, value)`` pairs, most trusted first.

    The year is the first candidate's that holds one (``normalize.parse_year``). A value that
    holds no year never vanishes in silence: a note names it when it is the first (main year)
    field, saying where the year came from instead or that it is left empty; and when no field
    holds a year, a note names the first value given. (Later date fields that hold only a month
    or a day, as EndNote's pub-dates often do, are not worth a note when the year is found.)
    The value itself stays in the record's raw text.
    """
    found: int | None = None
    source = ""
    for label, value in candidates:
        found = nz.parse_year(value)
        if found is not None:
            source = label
            break
    given = [(label, value.strip()) for label, value in candidates if value and value.strip()]
    if not given:
        return found
    first_label, first_value = candidates[0]
    if first_value and first_value.strip() and nz.parse_year(first_value) is None:
        shown = excerpt(first_value.strip(), 40)
        if found is not None:
            notes.append(
                f"{first_label} {shown!r} holds no year; the year {found} is from {source}"
            )
        else:
            notes.append(f"{first_label} {shown!r} holds no year; the year is left empty")
    elif found is None:
        label, value = given[0]
        notes.append(f"{label} {excerpt(value, 40)!r} holds no year; the year is left empty")
    return found


def record_label(citation: CitationIn) -> str:
    """How a warning names a record: its source key, else the start of its title."""
    if citation.source_key:
        return f"record {citation.source_key!r}"
    if citation.title:
        return f"record {excerpt(citation.title, 50)!r}"
    return "record"


def record_warnings(citation: CitationIn, notes: list[str]) -> Iterator[ParseWarning]:
    """One ``ParseWarning`` per note, at the record's first line, naming the record."""
    if notes:
        label = record_label(citation)
        for note in notes:
            yield ParseWarning(citation.line, f"{label}: {note}")


def unknown_tag_warnings(seen: dict[str, list[int]], what: str) -> Iterator[ParseWarning]:
    """One warning per unknown tag of a file: ``seen`` maps tag -> [first line, records].

    The tag's values are in each record's ``extra`` as ``tag_<TAG>`` (the parsers' rule for tags
    they do not know: kept, never a reason to refuse the record).
    """
    for tag, (first, records) in seen.items():
        yield ParseWarning(
            first,
            f"tag {tag!r} is not a {what} field this tool knows; kept in extra as 'tag_{tag}' "
            f"({records} record{'s' if records != 1 else ''})",
        )


def count_unknown(
    seen: dict[str, list[int]], tags: Iterable[str], known: Collection[str], line: int
) -> None:
    """Note the ``tags`` of one record (first line ``line``) that are not in ``known``.

    ``seen`` maps tag -> [first line, records] for ``unknown_tag_warnings``.
    """
    for tag in tags:
        if tag in known:
            continue
        entry = seen.get(tag)
        if entry is None:
            seen[tag] = [line, 1]
        else:
            entry[1] += 1


def span(first: int, last: int) -> str:
    """``"line 4"`` or ``"lines 4-9"`` (1-based, inclusive)."""
    return f"line {first}" if first == last else f"lines {first}-{last}"


def outside_warning(lines: Sequence[str], where: Sequence[int]) -> ParseWarning:
    """The warning for non-tag text outside any record (``where``: 0-based line indexes)."""
    first, last = where[0] + 1, where[-1] + 1
    return ParseWarning(
        first,
        f"text outside any record not imported ({len(where)} non-tag "
        f"line{'s' if len(where) != 1 else ''} in {span(first, last)}): "
        f"{excerpt(lines[where[0]], 60)!r}",
    )
