"""Render a reference (and votes on it) as rich Text: citation lines, highlighted abstract."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rich.text import Text

from reviewtool.text import printable, printable_fields

# Two colours a reader tells apart at a glance, with the background carrying the meaning so the
# highlight survives terminals with few colours.
INCLUDE_STYLE = "bold black on green3"
EXCLUDE_STYLE = "bold white on red3"
DECISION_STYLES = {"include": "bold green", "maybe": "bold yellow", "exclude": "bold red"}
MAX_AUTHORS = 6


@lru_cache(maxsize=16)
def _keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    # A keyword matches at the start of a word and takes the rest of that word with it, so
    # "randomi" marks "randomised" and "randomized"; longest first so "meta-analysis" beats "meta".
    alternatives = "|".join(re.escape(w) + (r"\w*" if w[-1].isalnum() else "") for w in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})", re.IGNORECASE)


def highlight(
    text: str, include: Sequence[str], exclude: Sequence[str], *, style: str = ""
) -> Text:
    """``text`` with inclusion keywords in one colour and exclusion keywords in another."""
    out = Text(text, style=style)
    for words, keyword_style in ((include, INCLUDE_STYLE), (exclude, EXCLUDE_STYLE)):
        pattern = _keyword_pattern(tuple(words))
        if pattern is not None:
            out.highlight_regex(pattern, keyword_style)
    return out


def authors_line(authors: Sequence[str]) -> str:
    """The author list, shortened to the first few and "et al." as reference lists do."""
    if not authors:
        return "(no authors)"
    shown = "; ".join(authors[:MAX_AUTHORS])
    return shown + (f"; … et al. ({len(authors)} authors)" if len(authors) > MAX_AUTHORS else "")


def source_line(fields: dict[str, Any]) -> str:
    """Journal. Year;Volume(Issue):Pages, leaving out what the record lacks."""
    journal = fields.get("journal") or "(no journal)"
    where = str(fields.get("year") or "n.d.")
    if fields.get("volume"):
        where += f";{fields['volume']}"
        if fields.get("issue"):
            where += f"({fields['issue']})"
    if fields.get("pages"):
        where += f":{fields['pages']}"
    return f"{journal}. {where}"


def vote_text(vote: Any, *, label: str | None = None) -> Text:
    """One vote: who (or ``label``), the decision in its colour, the reason and the note (control
    characters not shown)."""
    out = Text()
    out.append(f"{label or vote.reviewer}: ", style="bold")
    out.append(vote.decision, style=DECISION_STYLES.get(vote.decision, "bold"))
    if vote.reason:
        out.append(f" ({printable(vote.reason)})")
    if vote.note:
        out.append(f" · note: {printable(vote.note)}", style="italic")
    return out


def citation_text(
    fields: dict[str, Any], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Text:
    """Title, authors, journal line, identifiers, type, the labels the reader may see (``labels``:
    own plain, another member's as ``name:label``) and the abstract, keywords highlighted.
    Control characters in the data are not shown (``reviewtool.text.printable``)."""
    fields = printable_fields(fields)
    out = Text()
    out.append_text(highlight(fields.get("title") or "(no title)", include, exclude, style="bold"))
    out.append("\n")
    out.append(authors_line(fields.get("authors") or ()), style="italic")
    out.append("\n")
    out.append(source_line(fields))
    out.append("\n")
    ids = [f"DOI: {fields.get('doi') or '—'}", f"PMID: {fields.get('pmid') or '—'}"]
    out.append(" · ".join(ids), style="dim")
    extra = [str(fields[k]) for k in ("publication_type", "source") if fields.get(k)]
    if extra:
        out.append(" · " + " · ".join(extra), style="dim")
    labels = fields.get("labels")
    if labels:
        out.append("\nLabels: ", style="bold")
        out.append(" · ".join(labels), style="bold magenta")
    out.append("\n\n")
    abstract = fields.get("abstract")
    if abstract:
        out.append_text(highlight(abstract, include, exclude))
    else:
        out.append("(no abstract)", style="dim italic")
    return out
