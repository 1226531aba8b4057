"""Pure normalisation of bibliographic field values (no I/O, no database).

Parsers hand over field text as the export wrote it; these functions turn it into the canonical
forms that the rest of reviewtool compares and stores: lowercase bare DOIs, digit-only PMIDs,
integer years, "Family, Given" author names and full page ranges. Every function accepts ``None``
or junk and returns ``None`` (or an empty tuple) rather than raising, because one odd field must
never cost a record.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = [
    "clean_text",
    "latex_to_unicode",
    "normalize_author",
    "normalize_doi",
    "normalize_pages",
    "normalize_pmid",
    "parse_year",
    "split_authors",
    "split_keywords",
    "split_no_pagination",
]

_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(
    r"^(?:https?://)?(?:(?:dx\.)?doi\.org/|(?:www\.)?doi\.org/)|^doi\s*[:=]?\s*", re.IGNORECASE
)
_PMID_PREFIX = re.compile(r"^(?:pmid|pubmed id)\s*[:\-]?\s*", re.IGNORECASE)
_PMID = re.compile(r"(\d{1,9})(?:\s*\[[^\]]*\])?\s*$")
_PAGE_DASHES = re.compile(r"\s*(?:--|[-‐‑‒–—−])+\s*")
_PAGE_RANGE = re.compile(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])?(?!\d)")

# Combining marks for the one-character LaTeX accent commands (\'e, \"{o}, \c{c} ...).
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_LATEX_SYMBOLS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "textendash": "–",
    "textemdash": "—",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textregistered": "®",
    "texttrademark": "™",
    "copyright": "©",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "kappa": "κ",
    "mu": "μ",
    "pm": "±",
    "times": "×",
    "le": "≤",
    "ge": "≥",
    "textless": "<",
    "textgreater": ">",
}
_ACCENT_SYMBOL = re.compile(r"\\([`'^\"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))")
_ACCENT_LETTER = re.compile(r"\\([cvuHkrdb])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+([A-Za-z]))")
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*(?:\{\})?")
_ESCAPED = re.compile(r"\\([&%$#_{}])")


def _accent(mark: str, letter: str) -> str:
    if letter in ("\\i", "\\j"):
        letter = letter[1]
    return unicodedata.normalize("NFC", letter + _ACCENTS[mark])


def latex_to_unicode(text: str) -> str:
    """Replace LaTeX accents, symbols and escapes by Unicode and drop grouping braces.

    >>> latex_to_unicode(r"Schr{\\"o}dinger and G{\\'e}rard \\& \\c{C}elik")
    'Schrödinger and Gérard & Çelik'
    """
    if "\\" not in text and "{" not in text and "$" not in text and "~" not in text:
        return text
    text = _ACCENT_SYMBOL.sub(lambda m: _accent(m.group(1), m.group(2) or m.group(3)), text)
    text = _ACCENT_LETTER.sub(lambda m: _accent(m.group(1), m.group(2) or m.group(3)), text)

    def command(m: re.Match[str]) -> str:
        # Unknown commands (\emph, \textit ...) vanish and leave their argument behind.
        return _LATEX_SYMBOLS.get(m.group(1), "")

    text = _ESCAPED.sub(lambda m: "\x00" + m.group(1), text)
    text = _COMMAND.sub(command, text)
    text = text.replace("{", "").replace("}", "").replace("$", "")
    text = text.replace("---", "—").replace("--", "–").replace("~", "\u00a0")
    # Escaped specials were parked behind NUL so the brace/dollar stripping above spared them.
    return text.replace("\x00", "")


def clean_text(value: str | None, *, latex: bool = False) -> str | None:
    """Collapse whitespace, unescape HTML entities, drop HTML tags and (optionally) LaTeX markup.

    Returns ``None`` for empty results so that "missing" has one spelling.
    """
    if value is None:
        return None
    text = value
    if latex:
        text = latex_to_unicode(text)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _HTML_TAG.sub("", text)
    if text.isprintable():
        # The only whitespace a printable string can hold is the ASCII space.
        while "  " in text:
            text = text.replace("  ", " ")
        return text.strip(" ") or None
    # str.split() and re's \s agree on what whitespace is (str.isspace); split is ~10x faster.
    text = " ".join(text.split())
    return text or None


def normalize_doi(value: str | None) -> str | None:
    """Return the bare, lowercase DOI (``10.xxxx/...``) found in ``value``, or ``None``.

    Accepts ``https://doi.org/...``, ``dx.doi.org`` URLs, ``doi:`` prefixes, URL-encoded slashes and
    PubMed's trailing `` [doi]`` marker.
    """
    if not value:
        return None
    text = value.strip()
    if "%" in text:
        text = unquote(text)
    text = _DOI_PREFIX.sub("", text)
    match = _DOI.search(text)
    if match is None:
        return None
    doi = match.group(0)
    # Trailing punctuation belongs to the sentence around the DOI, never to the DOI itself.
    doi = doi.rstrip(".,;:)]}>\"'")
    return doi.lower() or None


def normalize_pmid(value: str | None) -> str | None:
    """Return a PubMed id as a string of digits without leading zeros, or ``None``."""
    if not value:
        return None
    text = value.strip()
    if len(text) <= 9 and text.isascii() and text.isdigit():
        return text.lstrip("0") or None
    text = _PMID_PREFIX.sub("", text)
    match = _PMID.match(text)
    if match is None:
        return None
    pmid = match.group(1).lstrip("0")
    return pmid or None


def parse_year(value: str | None) -> int | None:
    """Pick the publication year out of a messy date ("2014///", "2018 Mar 12", "12/03/2018")."""
    if not value:
        return None
    match = _YEAR.search(value) or _COMPACT_DATE.search(value)
    return int(match.group(1)) if match else None


def normalize_pages(value: str | None) -> str | None:
    """Write a page range in full with a plain hyphen: "112-20" -> "112-120", "e12" stays "e12"."""
    text = clean_text(value)
    if text is None:
        return None
    if text.isascii():
        if text.isdigit():
            return text
        first, dash, last = text.partition("-")
        if dash and first.isdigit() and last.isdigit():  # "112-20": skip the regexes
            if len(last) < len(first):
                last = first[: len(first) - len(last)] + last
            return first if int(last) == int(first) else f"{first}-{last}"
    text = _PAGE_DASHES.sub("-", text)
    match = _PAGE_RANGE.fullmatch(text)
    if match is None:
        return text.strip("-") or None
    pre1, start, pre2, end = match.groups()
    if pre2 and pre2 != pre1:
        return text
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    if int(end) == int(start):
        return f"{pre1}{start}"
    return f"{pre1}{start}-{pre1}{end}"


_NO_PAGINATION = re.compile(
    r"^\s*(?P<volume>[^()]*?)\s*(?:\((?P<issue>[^()]*)\))?\s*\(no pagination\)\s*$", re.IGNORECASE
)


def split_no_pagination(
    volume: str | None, issue: str | None
) -> tuple[str | None, str | None, str | None] | None:
    """Read Embase's "(no pagination)" volume: ``("14 (1) (no pagination)", "e0212345")``.

    Embase writes an article without page numbers as volume ``14 (1) (no pagination)`` (the issue
    in parentheses) and puts the article number where the issue belongs. Returns
    ``(volume, issue, article_number)``, here ``("14", "1", "e0212345")``, or ``None`` when
    ``volume`` does not carry the "(no pagination)" mark. ``issue`` is taken as the article
    number only when it differs from the issue in parentheses.
    """
    if not volume or "pagination" not in volume.lower():
        return None
    match = _NO_PAGINATION.match(volume)
    if match is None:
        return None
    vol = clean_text(match.group("volume"))
    inner = clean_text(match.group("issue"))
    given = clean_text(issue)
    article = given if given and given != inner else None
    return vol, inner, article


_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du", "la", "le", "dos", "das"}
)
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$|^(?:[A-Z]\.\s?)+$")


def normalize_author(name: str | None) -> str | None:
    """Rewrite one personal name as "Family, Given".

    Handles "Family, Given", Vancouver "Smith JA" / Embase "Adler D.G.", and natural order
    "John A. Smith" (keeping particles such as "van der" with the family name). Names we cannot
    split (one word, corporate authors in braces) come back cleaned but unchanged.
    """
    text = clean_text(name)
    if text is None:
        return None
    text = text.strip(" ;,")
    if not text:
        return None
    if "," in text:
        family, _, given = text.partition(",")
        family, given = family.strip(), given.strip(" ,")
        return f"{family}, {given}" if given else family
    parts = text.split(" ")
    if len(parts) == 1:
        return text
    if _INITIALS.match(parts[-1]):
        # Vancouver/Embase order: family name first, initials last.
        return f"{' '.join(parts[:-1])}, {parts[-1]}"
    split = len(parts) - 1
    while split > 1 and parts[split - 1].lower() in _PARTICLES:
        split -= 1
    return f"{' '.join(parts[split:])}, {' '.join(parts[:split])}"


def split_authors(value: str | None) -> tuple[str, ...]:
    """Split a one-field author list ("A; B", "A and B", "Smith J, Doe A") into normalised names."""
    text = clean_text(value)
    if text is None:
        return ()
    if ";" in text:
        parts = text.split(";")
    elif _AND.search(text):
        parts = _AND.split(text)
    elif "," in text:
        pieces = [p.strip() for p in text.split(",")]
        # "Smith J, Doe A" lists every name with a space; "Smith, John" is a single name.
        parts = pieces if len(pieces) > 2 or all(" " in p for p in pieces if p) else [text]
    else:
        parts = [text]
    return normalize_authors(parts)


def normalize_authors(names: Iterable[str]) -> tuple[str, ...]:
    """Normalise a sequence of names, dropping empties."""
    out = []
    for name in names:
        norm = normalize_author(name)
        if norm:
            out.append(norm)
    return tuple(out)


@functools.cache
def _separator_pattern(separators: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(separators) + "]")


def split_keywords(values: Iterable[str] | str | None, *, separators: str = ";") -> tuple[str, ...]:
    """Split and clean keywords, removing duplicates while keeping their first-seen order."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    seen: dict[str, None] = {}
    pattern = _separator_pattern(separators) if separators else None
    for value in values:
        pieces = pattern.split(value) if pattern else [value]
        for piece in pieces:
            kw = clean_text(piece)
            if kw and kw not in seen:
                seen[kw] = None
    return tuple(seen)
