"""Pure normalisation of bibliographic fields for duplicate matching.

Every function here takes the verbatim value a database export gave and returns a comparable form.
Nothing is stored: the normalised values exist only while candidate pairs are scored, so the rules
can change without touching imported data.

The functions are deliberately forgiving (``None`` and empty strings give empty keys) because
exports omit fields at random; "missing" must never look like "different".
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "PreparedRecord",
    "abstract_key",
    "author_family",
    "first_page",
    "is_notice_title",
    "is_thesis",
    "journal_key",
    "journals_match",
    "locator",
    "name_words",
    "normalize_doi",
    "normalize_pmid",
    "normalize_title",
    "page_range",
    "page_starts",
    "prepare",
    "record_kind",
    "title_numbers",
]

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Δ": "delta", "Γ": "gamma",
    "Θ": "theta", "Λ": "lambda", "Π": "pi", "Σ": "sigma", "Φ": "phi", "Ψ": "psi", "Ω": "omega",
    "µ": "mu",
}  # fmt: skip
_GREEK_RE = re.compile("|".join(map(re.escape, _GREEK)))

_DOI_PREFIX_RE = re.compile(
    r"^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE
)
_DOI_RE = re.compile(r"10\.\d{4,9}/\S+")
_TAG_RE = re.compile(r"<[^>]{1,40}>")
# LaTeX: \command{x} -> x, accents such as {\"o} and \'e -> the letter, remaining braces dropped.
_LATEX_CMD_RE = re.compile(r"\\[a-zA-Z]+\s*\{([^{}]*)\}")
_LATEX_ACCENT_RE = re.compile(r"\\[\"'`^~=.uvHckbdr]\s*\{?([a-zA-Z])\}?")
_LATEX_BARE_CMD_RE = re.compile(r"\\[a-zA-Z]+")
# Trailing annotations that databases append to titles and that never distinguish two studies.
_TITLE_TAIL_RE = re.compile(
    r"(?:\s*[\[\(]\s*(?:abstracts?|see comments?|comment|editorial comment|letter|reviews?|"
    r"\d+\s*refs?|in process citation|article in [a-z ]+|author'?s?'? transl?|"
    r"published erratum appears? in[^\]\)]*|erratum appears? in[^\]\)]*|erratum in[^\]\)]*|"
    r"comment (?:in|on)[^\]\)]*|[a-z]+ language|english abstract|meeting abstract|corrected|"
    r"provisional abstract|structured abstract|abstract only|[a-z]+ translation|multiple letters|"
    r"abstract no\.?:?\s*\w+|\d{1,2}|\*)\s*[\]\)]\.?\s*)+$",
    re.IGNORECASE,
)
# Single-word bracket at the end ("[Swedish]", "[Review]") and unclosed notes cut off by a database
# field limit ("...[Erratum appears in J Pediatr. 2003 Jun").
_TITLE_TAIL_WORD_RE = re.compile(r"(?:\s*\[[A-Za-z]+\]\.?)+\s*$")
_TITLE_TAIL_OPEN_RE = re.compile(
    r"\s*(?:\[(?:published )?(?:erratum|comment|see comment|update|corrected|retracted).*|"
    r"\((?:published )?(?:erratum|comment|see comment|update|corrected|retracted)[^\)]*)$",
    re.IGNORECASE,
)
# A citation of another article appended to a title: the record is a notice about that article.
# WoS "(vol 360, pg 542, 2009)"; Embase "(New England Journal of Medicine (2009) 360 (542-544))".
_NOTICE_TAIL_RE = re.compile(
    r"\s*\((?:vol\.?\s+\w+,?\s*)?pg\.?\s+\w+,?\s*(?:\d{4})?\)\s*$|"
    r"\s*\([A-Z][^()]{3,}\(\d{4}\)\s*[\w ]*\(\s*[\w\- ]+\)\s*\)\s*$",
    re.IGNORECASE,
)
# MEDLINE letters that repeat the commented article's citation: "... N Engl J Med. 2009;360(5):544-6".
_CITED_TAIL_RE = re.compile(
    r"\s*(?:\.{2,}|\u2026)\s*[A-Z][^;]{2,60}\b(?:19|20)\d\d\b[^;]{0,20};\s*\d+\s*(?:\(\w+\))?:"
    r"\s*[\w\-]+\.?\s*$"
)
_FOOTNOTE_GUARD = frozenset(
    {"part", "phase", "type", "stage", "grade", "study", "trial", "class", "volume", "vol", "no",
     "number", "chapter", "section", "wave", "cohort", "group", "arm", "day", "days", "week",
     "weeks", "month", "months", "year", "years", "session", "round", "issue", "edition",
     "version", "series", "step", "level", "module", "report", "paper", "experiment", "covid",
     "cov", "hiv", "hpv", "tier", "category", "dose", "doses", "factor", "and", "or", "to", "of",
     "web", "industry", "generation", "gen", "plus", "aged", "age", "ages", "than", "over",
     "under", "with", "in", "at", "for", "by", "from", "top", "first", "last", "n", "p"}
)  # fmt: skip
_LEADING_KIND_RE = re.compile(
    r"^(?:erratum|errata|correction|corrigendum|comment|commentary|reply|response|re|letter)"
    r"(?: (?:to|on|in|for|regarding))? (?:the )?(?:article )?"
)
_ROMAN_PAGE_RE = re.compile(r"[ivxlc]+")
_NON_WORD_RE = re.compile(r"[^a-z0-9]+")
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_PART_ROMAN_RE = re.compile(r"\b(part|phase|type|stage|grade|study|trial|class)\s+(i|v|x)\b")
_SINGLE_ROMAN = {"i": "1", "v": "5", "x": "10"}

# Words that mark a record as something other than a research report about the same study.
_KIND_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("erratum", re.compile(r"^(?:erratum|errata|correction|corrigendum)\b|\b(?:erratum|corrigendum)"
                           r"\b|^correction to\b|^notice of retraction\b|\bretraction\b|"
                           r"\bvol \d+ pg \d+")),
    ("comment", re.compile(r"^(?:comment|comments|commentary|reply|response|re|author reply|"
                           r"authors reply|letter|in reply|invited commentary|comment on|reply to|"
                           r"response to|commentary on|letter to the editor)\b|"
                           r"\b(?:authors? reply|reply from the authors?)$")),
    ("protocol", re.compile(r"\bprotocol\b|\bstudy design and rationale\b|\brationale and design\b"
                            r"|\bdesign and rationale\b")),
)  # fmt: skip

_JOURNAL_STOP = frozenset(
    {"the", "of", "and", "for", "in", "on", "de", "la", "le", "des", "du", "der", "die", "und",
     "fur", "et", "a", "an", "official"}
)  # fmt: skip
_CONFERENCE_RE = re.compile(
    r"\b(?:abstracts?|congress|conference|meeting|symposium|proceedings|poster|workshop|"
    r"colloquium|inproceedings)\b"
)
# Journals whose names contain "proceedings" but publish full articles.
_PROCEEDINGS_JOURNAL_RE = re.compile(
    r"proceedings of the (?:national academy|royal society|ieee\b(?! [a-z]+ conference))|"
    r"\bproc natl acad|\bproc r soc|mayo clin(?:ic)? proc|proceedings \(baylor"
)
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la",
                        "le", "dos", "das", "ter", "ten", "el", "al", "bin", "ibn"})  # fmt: skip


class _CombiningTable(dict[int, int | None]):
    """``str.translate`` table deleting combining marks, filled as characters are met."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_DROP_COMBINING = _CombiningTable()


def _ascii(text: str) -> str:
    """Fold diacritics and Greek letters into ASCII so ``Müller`` equals ``Muller``."""
    if text.isascii():
        return text
    text = _GREEK_RE.sub(lambda m: " " + _GREEK[m.group(0)] + " ", text)
    out = unicodedata.normalize("NFKD", text).translate(_DROP_COMBINING)
    # ß and ø have no decomposition; the common exporters spell them ss and o.
    return out.replace("ß", "ss").replace("ø", "o").replace("Ø", "O").replace("æ", "ae")


_MARKUP_CHARS_RE = re.compile(r"[&<\\{}$]")


def _strip_markup(text: str) -> str:
    if not _MARKUP_CHARS_RE.search(text):
        return text
    text = html.unescape(html.unescape(text))
    text = _TAG_RE.sub(" ", text)
    text = _LATEX_ACCENT_RE.sub(r"\1", text)
    for _ in range(3):  # nested \emph{\textbf{x}}
        new = _LATEX_CMD_RE.sub(r"\1", text)
        if new == text:
            break
        text = new
    text = _LATEX_BARE_CMD_RE.sub(" ", text)
    return text.replace("{", "").replace("}", "").replace("$", "")


@lru_cache(maxsize=131072)
def normalize_doi(value: str | None) -> str:
    """Return the DOI in lower case without resolver prefix or trailing punctuation.

    >>> normalize_doi("https://doi.org/10.1056/NEJMoa1.")
    '10.1056/nejmoa1'
    """
    if not value:
        return ""
    text = html.unescape(value.strip())
    text = _DOI_PREFIX_RE.sub("", text)
    match = _DOI_RE.search(text)
    if not match:
        return ""
    doi = match.group(0).lower().rstrip(".,;)]}")
    # Exports sometimes paste two DOIs or a PMID after a space; the first token is the DOI.
    return doi.split()[0] if doi else ""


def normalize_pmid(value: str | None) -> str:
    """Return the PubMed id as bare digits (``"PMID: 012345"`` -> ``"12345"``); empty if none."""
    if not value:
        return ""
    text = str(value)
    digits = text if text.isdigit() else re.sub(r"\D", "", text)
    return digits.lstrip("0")


@lru_cache(maxsize=131072)
def normalize_title(value: str | None) -> str:
    """Lower-case ASCII words separated by single spaces, without markup or trailing annotations.

    Translated titles that MEDLINE wraps in brackets lose the brackets; Roman numerals after
    "part", "phase" and the like become digits so "Part II" equals "Part 2".

    >>> normalize_title("[Effect of β-blockers: Part II]. [Article in German]")
    'effect of beta blockers part 2'
    """
    if not value:
        return ""
    text = _strip_markup(value).strip()
    for _ in range(3):  # "[Title]. [Review] [16 refs] [Romanian]" needs several rounds
        if not _TAIL_HINT_RE.search(text):
            break  # no bracket, parenthesis or ellipsis: nothing below can match (fast path)
        before = text
        text = _TITLE_TAIL_OPEN_RE.sub("", text).strip()
        text = _NOTICE_TAIL_RE.sub("", text).strip()
        text = _CITED_TAIL_RE.sub("", text).strip()
        text = _cut_unclosed(text)
        text = _TITLE_TAIL_RE.sub("", text).strip()
        text = _TITLE_TAIL_WORD_RE.sub("", text).strip()
        text = text.rstrip(". ,;")
        if text.startswith("[") and text.endswith("]") and "[" not in text[1:-1]:
            text = text[1:-1].strip()
        if text == before:
            break
    text = _strip_subject_codes(text)
    text = _ascii(text).lower().replace("'", "").replace("’", "")
    text = _THOUSANDS_RE.sub(r"\1\2", text)  # "10 000 women" = "10,000 women" = "10000 women"
    text = _NON_WORD_RE.sub(" ", text).strip()
    text = _PART_ROMAN_RE.sub(lambda m: f"{m.group(1)} {_SINGLE_ROMAN[m.group(2)]}", text)
    words = [_ROMAN.get(w, w) for w in text.split()]
    if (
        len(words) >= 6
        and len(words[-1]) == 1
        and words[-1].isdigit()
        and words[-2] not in _FOOTNOTE_GUARD
        and not words[-2].isdigit()
        and re.search(r"[A-Za-z\]\)'’\"]\s?\d\s*$", value)
    ):
        # A footnote mark exported as text ("... employee representation 1"), not a part number.
        words.pop()
    return " ".join(words)


_TAIL_HINT_RE = re.compile(r"[\[\(\u2026]|\.\.")
# Subject classification codes some repositories append to a title, as ANZSRC fields of research:
# "... coating 06 Biological Sciences 0605 Microbiology" (a 2-digit division, then 4- or 6-digit
# groups and fields of it, each followed by its name).
_SUBJECT_HINT_RE = re.compile(r"\s\d{4}(?:\d\d)?\s+[A-Z]")
_SUBJECT_TAIL_RE = re.compile(r"(?:\s+\d{2}(?:\d{2}){0,2}\s+[A-Z][A-Za-z,&'\- ]*[A-Za-z]){2,}\s*$")
_SUBJECT_CODE_RE = re.compile(r"\b\d{2}(?:\d{2}){0,2}\b")


def _strip_subject_codes(text: str) -> str:
    """Drop a trailing run of subject codes with their names ("06 Biological Sciences 0605 ...").

    The run must hold a 2-digit division and at least one longer code that starts with it, so a
    title that merely ends in numbers and capitalised words ("... Cohort 2010 Update") is kept.
    """
    if not _SUBJECT_HINT_RE.search(text):
        return text
    match = _SUBJECT_TAIL_RE.search(text)
    if not match or match.start() < 10:
        return text
    codes = _SUBJECT_CODE_RE.findall(match.group(0))
    divisions = {c for c in codes if len(c) == 2}
    if not any(len(c) > 2 and c[:2] in divisions for c in codes):
        return text
    return text[: match.start()].rstrip(" .,;:")


_THOUSANDS_RE = re.compile(r"\b(\d{1,3})[ ,](\d{3})\b")


def _cut_unclosed(text: str) -> str:
    """Drop an unclosed parenthesis a field limit left at the end ("... (The Journal of Pe")."""
    if text.count("(") <= text.count(")"):
        return text
    depth = 0
    cut = -1
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                cut = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
    if depth and cut >= 20 and len(text) - cut <= 80:
        return text[:cut].rstrip()
    return text


def is_notice_title(value: str | None) -> bool:
    """Whether a title ends with the citation of another article (an erratum or comment notice)."""
    if not value or ")" not in value[-12:]:
        return False
    return bool(_NOTICE_TAIL_RE.search(_strip_markup(value).strip().rstrip(". ")))


def title_numbers(norm_title: str) -> frozenset[str]:
    """Numbers in a normalised title: different numbers mean different parts, years or trials."""
    if not _DIGITS_RE.search(norm_title):
        return _NO_NUMBERS
    return frozenset(d.lstrip("0") or "0" for d in _DIGITS_RE.findall(norm_title))


_DIGITS_RE = re.compile(r"\d+")
_YEAR_RE = re.compile(r"(1[5-9]\d\d|20\d\d)")
_NO_NUMBERS: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def record_kind(norm_title: str, publication_type: str | None = None) -> frozenset[str]:
    """Markers such as ``erratum``, ``comment`` or ``protocol`` found in a title or type.

    Two records with different markers are different publications even when the rest agrees,
    for example an article and the erratum that repeats its title.
    """
    text = norm_title
    if publication_type:
        text = text + " " + normalize_title(publication_type)
    if not _may_have_kind(text):
        return _NO_KINDS
    kinds = {name for name, pattern in _KIND_PATTERNS if pattern.search(text)}
    return frozenset(kinds)


_NO_KINDS: frozenset[str] = frozenset()
_KIND_WORDS = ("errat", "correct", "corrig", "retract", "vol ", "protocol", "rationale")
_KIND_STARTS = ("comment", "reply", "response", "re ", "author", "letter", "in reply", "invited")
_KIND_ENDS = ("reply", "author", "authors", "re")


def _may_have_kind(text: str) -> bool:
    """A cheap superset of ``_KIND_PATTERNS``: most titles match none, and skip the regexes."""
    return (
        any(word in text for word in _KIND_WORDS)
        or text.startswith(_KIND_STARTS)
        or text.endswith(_KIND_ENDS)
    )


@lru_cache(maxsize=262144)
def author_family(name: str) -> str:
    """Family name of one author in lower-case ASCII letters only.

    Handles ``"Zhang, Zheng"``, ``"Zhang Z"``, ``"Zhang ZY"``, ``"Le Quintrec, M"`` and
    ``"Zheng Zhang"``.

    >>> [author_family(a) for a in ("Zhang, Zheng", "Zhang Z", "Le Quintrec M", "Zheng Zhang")]
    ['zhang', 'zhang', 'quintrec', 'zhang']
    """
    text = _ascii(_strip_markup(name)).strip()
    if not text:
        return ""
    if "," in text:
        family = text.split(",", 1)[0]
    else:
        parts = text.replace(".", ". ").split()
        if len(parts) == 1:
            family = parts[0]
        elif _looks_like_initials(parts[-1]):
            # "Zhang ZY" / "Le Quintrec M": trailing initials, family name first.
            family = " ".join(p for p in parts if not _looks_like_initials(p))
        elif _looks_like_initials(parts[0]):
            # "Z. Zhang" / "J.-P. Michel"
            family = " ".join(p for p in parts if not _looks_like_initials(p))
        else:
            family = parts[-1]
    # "?" stands for a letter an export could not encode ("G?k" for "Gök"); it is kept as a wildcard.
    words = re.sub(r"[^a-z? ]", "", family.lower().replace("-", " ")).split()
    # "van der Graaf" and "Graaf" are both exported for the same person; keep the core name.
    core = [w for w in words if w not in _PARTICLES] or words
    return "".join(core)


def _looks_like_initials(token: str) -> bool:
    bare = token.replace(".", "").replace("-", "")
    return bool(bare) and len(bare) <= 3 and bare.isupper() and bare.isalpha()


@lru_cache(maxsize=65536)
def journal_key(value: str | None) -> tuple[str, ...]:
    """Journal words in lower-case ASCII, stop words dropped, for abbreviation-aware comparison."""
    if not value:
        return ()
    text = _ascii(_strip_markup(value)).lower().replace("&", " and ")
    text = _JOURNAL_CONFERENCE_RE.split(text)[0]  # "Pediatric Nephrology.Conference: 45th ..."
    text = re.sub(r"\(.*?\)", " ", text)  # "(London, England)", "(Clinical research ed.)"
    text = text.split(":")[0] if len(text.split(":")[0]) > 6 else text
    words = _NON_WORD_RE.sub(" ", text).split()
    return tuple(w for w in words if w not in _JOURNAL_STOP)


_JOURNAL_CONFERENCE_RE = re.compile(r"\.\s*(?:conference|meeting|congress)\b")


def journals_match(a: tuple[str, ...], b: tuple[str, ...]) -> bool | None:
    """Whether two journal keys name the same journal; ``None`` when either is missing.

    An abbreviation matches when every word of the shorter form is a prefix of the word in the same
    position of the longer, so ``Nat Rev Nephrol`` matches ``Nature Reviews Nephrology`` and
    ``J Am Coll Cardiol`` matches ``Journal of the American College of Cardiology``.
    """
    if not a or not b:
        return None
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 3 and len(long_) > len(short):
        # Bilingual names: "Revista Panamericana de Salud Publica/Pan American Journal of Public
        # Health", "International journal of cancer. Journal international du cancer".
        n = len(short)
        if any(long_[k : k + n] == short for k in range(len(long_) - n + 1)):
            return True
    if len(short) == len(long_):
        return all(x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=True))
    # Allow the longer title to carry a few extra words the abbreviation drops.
    i = 0
    abbreviated = False
    for word in long_:
        if i < len(short) and (word.startswith(short[i]) or short[i].startswith(word)):
            abbreviated = abbreviated or len(word) - len(short[i]) >= 2
            i += 1
    # Extra words are tolerated only in a real abbreviation ("J Pediatr"), not between two full
    # names ("Journal of Pediatrics" vs "Journal of Pediatric Surgery").
    return i == len(short) and abbreviated and len(long_) - len(short) <= 2 and len(short) >= 2


@lru_cache(maxsize=65536)
def page_range(value: str | None) -> tuple[str, str]:
    """First and last page, with the abbreviated last page expanded ("112-20" -> 112, 120).

    >>> page_range("112-20"), page_range("e1234"), page_range("47--65")
    (('112', '120'), ('e1234', ''), ('47', '65'))
    """
    if not value:
        return ("", "")
    text = str(value).strip().lower().replace("–", "-").replace("—", "-")
    text = re.split(r"[,;+]", text)[0]  # "532, 534-536": the first range starts the article
    text = re.split(r"\s+(?=[\[(])|\s*[\[(]", text)[0]  # "P63 [tp 104]"
    parts = [p for p in re.split(r"\s*-+\s*|\s+to\s+", text) if p]
    if not parts:
        return ("", "")
    first = re.sub(r"[^a-z0-9]", "", parts[0]).lstrip("0")
    last = re.sub(r"[^a-z0-9]", "", parts[1]).lstrip("0") if len(parts) > 1 else ""
    if not re.search(r"\d", first) and not _ROMAN_PAGE_RE.fullmatch(first):
        # "Suppl-29", "t-8": broken exports; a guess here would create false conflicts.
        return ("", "")
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return (first, last)


def page_starts(value: str | None) -> frozenset[str]:
    """First page of every range in a multi-range field ("230-5, 246-51, 233-8")."""
    if not value or not _RANGE_SEP_RE.search(str(value)):
        return _NO_STARTS
    starts = (page_range(part)[0] for part in _RANGE_SEP_RE.split(str(value).strip('"')))
    return frozenset(s for s in starts if s)


_RANGE_SEP_RE = re.compile(r"[,;+]")
_NO_STARTS: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def _page_keys(value: str | None) -> tuple[tuple[str, str], frozenset[str]]:
    """``page_range`` and ``page_starts``; a page count ("215 p") is no location at all."""
    if value and _PAGE_COUNT_RE.fullmatch(value.strip()):
        return ("", ""), _NO_STARTS
    return page_range(value), page_starts(value)


def first_page(value: str | None) -> str:
    """The first page only, for blocking and comparison."""
    return page_range(value)[0]


_NO_PAGINATION_RE = re.compile(r"\(?\s*no pagination\s*\)?", re.IGNORECASE)
_VOLUME_ISSUE_RE = re.compile(r"^\s*([^()\s]+)\s*\(\s*([^()]+?)\s*\)")
_ARTICLE_NUMBER_RE = re.compile(
    r"^\s*(?:article(?:\s*(?:number|no\.?|id))?|art\.?\s*no\.?|artn|paper(?:\s*no\.?)?)"
    r"\s*[:.#]?\s*([a-z]{0,3}\d[\w.\-]*)\s*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=65536)
def locator(
    volume: str | None,
    issue: str | None,
    pages: str | None,
    article_number: str | None = None,
) -> tuple[str | None, str | None, str | None]:
    """Volume, issue and pages as three separate values, whichever way an export packed them.

    Embase gives an online-only article as volume ``"14 (1) (no pagination)"`` with the article
    number in the issue field and no pages; other databases give volume ``14``, issue ``1`` and the
    article number as pages, or in a field of its own (``article_number``). Both shapes give
    ``("14", "1", "<article number>")`` here. A labelled article number ("Article Number: 50",
    "Art. No. e0123", "Artn 50") in any field is the pages; "(no pagination)" is no location.

    >>> locator("14 (1) (no pagination)", "50", None)
    ('14', '1', '50')
    >>> locator("14", "1", None, "50"), locator("12 (Supplement 3) (no pagination)", None, None)
    (('14', '1', '50'), ('12', 'Supplement 3', None))
    """
    no_pagination = False
    fields = []
    for value in (volume, issue, pages):
        text = str(value).strip() if value else ""
        if text and "pagination" in text.lower():
            text = _NO_PAGINATION_RE.sub(" ", text).strip()
            no_pagination = True
        fields.append(text or None)
    vol, iss, pgs = fields
    numbered = None
    for k, value in ((1, iss), (2, pgs)):
        match = _ARTICLE_NUMBER_RE.match(value) if value else None
        if match:
            numbered = numbered or match.group(1)
            fields[k] = None
    vol, iss, pgs = fields
    packed = _VOLUME_ISSUE_RE.match(vol) if vol and "(" in vol else None
    if packed:
        vol = packed.group(1)
        if iss and iss != packed.group(2) and not pgs and not numbered and no_pagination:
            numbered = iss  # Embase: the issue field holds the article number
        iss = packed.group(2)
    if not pgs:
        pgs = numbered or (str(article_number).strip() if article_number else None) or None
    return vol, iss, pgs


def _volume(value: str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str) and value.isdigit():
        return value.lstrip("0")
    match = _DIGITS_RE.search(str(value))
    return match.group(0).lstrip("0") if match else ""


def _year(value: int | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1500 <= value <= 2099 else None
    if len(value) == 4 and value.isdigit():
        year = int(value)
        return year if 1500 <= year <= 2099 else None
    match = _YEAR_RE.search(value)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """All comparison keys of one record, computed once before scoring."""

    id: str
    title: str
    title_squashed: str
    core_title: str
    """Title without a leading "Erratum:" / "Reply to" marker, to compare notices by location."""
    numbers: frozenset[str]
    kinds: frozenset[str]
    authors: tuple[str, ...]
    year: int | None
    journal: tuple[str, ...]
    volume: str
    issue: str
    pages: tuple[str, str]
    page_starts: frozenset[str]
    """Starts of every page range when the field lists several (empty otherwise)."""
    doi: str
    pmid: str
    is_conference: bool
    completeness: int
    author_names: tuple[str, ...] = ()
    """The authors as exported; ``name_words`` of them catches given and family names swapped."""
    abstract_key: str = ""
    """The start of a long abstract in squashed lower-case ASCII (empty when short or missing)."""
    is_thesis: bool = False
    """A thesis, or its listing in Dissertation Abstracts."""
    headed: bool = False
    """The exported title starts with a section heading cut off by an ellipsis ("How I did it ...")."""


def prepare(
    *,
    id: str,
    title: str | None,
    authors: tuple[str, ...],
    year: int | str | None,
    journal: str | None,
    volume: str | None,
    issue: str | None,
    pages: str | None,
    doi: str | None,
    pmid: str | None,
    abstract: str | None = None,
    publication_type: str | None = None,
    booktitle: str | None = None,
    isbn: str | None = None,
    article_number: str | None = None,
) -> PreparedRecord:
    """Compute every comparison key of one record.

    ``volume``, ``issue`` and ``pages`` go through :func:`locator` first, so Embase's
    ``"14 (1) (no pagination)"`` and clean fields give the same keys; ``article_number`` stands
    for the pages when there are none.

    The per-field work is cached on the raw values (titles, venues and author lists repeat across
    databases and within synthetic benchmarks), so preparing many records costs little more than
    building the dataclasses.
    """
    norm, squashed, core, numbers, kinds, headed = _title_keys(title)
    completeness = (
        (1 if title else 0) + (1 if journal or booktitle else 0) + (1 if volume else 0)
        + (1 if issue else 0) + (1 if pages else 0) + (1 if doi else 0) + (1 if pmid else 0)
        + (1 if abstract else 0) + (1 if isbn else 0) + (1 if authors else 0) + (1 if year else 0)
    )  # fmt: skip
    if volume or issue or pages or article_number:
        volume, issue, pages = locator(volume, issue, pages, article_number)
    page_keys = _page_keys(pages)
    venue = journal or booktitle
    journal_words, is_conference = _venue_keys(venue, publication_type)
    thesis = is_thesis(venue, publication_type, volume, issue)
    year_value = _year(year)
    volume_key = _volume(volume)
    if year_value and volume_key == str(year_value):
        volume_key = ""  # "volume 2016" in a 2016 record is the year again, not a volume
    return PreparedRecord(
        id=id,
        title=norm,
        title_squashed=squashed,
        core_title=core,
        numbers=numbers,
        kinds=kinds,
        authors=_families(authors),
        year=year_value,
        journal=journal_words,
        volume=volume_key,
        issue=_volume(issue),
        pages=page_keys[0],
        page_starts=page_keys[1],
        doi=normalize_doi(doi),
        pmid=normalize_pmid(pmid),
        is_conference=is_conference and not thesis,
        completeness=completeness,
        author_names=authors,
        abstract_key=abstract_key(abstract),
        is_thesis=thesis,
        headed=headed,
    )


_PAGE_COUNT_RE = re.compile(r"\d+\s*pp?\.?", re.IGNORECASE)
"""A page count ("215 p"), as theses and books give, is not a location."""
_HEADING_RE = re.compile(r"^\s*\w[\w'’ ]{2,30}?\s*(?:\.\.\.|\u2026)\s+\S")
_THESIS_VENUE_RE = re.compile(r"dissertation abstracts|masters abstracts", re.IGNORECASE)
_THESIS_MARK_RE = re.compile(
    r"\bph\.?\s?d\b|\bthesis\b|\bdissertation\b|\bdoctoral\b", re.IGNORECASE
)
_THESIS_TYPES = frozenset({"phdthesis", "mastersthesis", "thesis", "dissertation"})
_ABSTRACT_KEY_CHARS = 300


@lru_cache(maxsize=16384)
def is_thesis(
    venue: str | None, publication_type: str | None, volume: str | None, issue: str | None
) -> bool:
    """Whether a record is a thesis or its Dissertation Abstracts listing.

    >>> is_thesis("Dissertation Abstracts International", None, "73", "3-B")
    True
    >>> is_thesis(None, None, "Ph.D.", None), is_thesis("Stroke", "article", "41", "7")
    (True, False)
    """
    if (publication_type or "").strip().lower() in _THESIS_TYPES:
        return True
    if venue and _THESIS_VENUE_RE.search(venue):
        return True
    return any(v and not v.isdigit() and _THESIS_MARK_RE.search(v) for v in (volume, issue))


@lru_cache(maxsize=65536)
def abstract_key(value: str | None) -> str:
    """The first 300 letters and digits of an abstract, lower-case ASCII; empty below that length.

    Two records with the same long abstract carry the same text, whatever their DOIs say.
    Accents are dropped and other non-ASCII characters removed: the key is compared for equality
    only, so it needs to be consistent, not readable.
    """
    if not value or len(value) < _ABSTRACT_KEY_CHARS:
        return ""
    head = _strip_markup(value[: 3 * _ABSTRACT_KEY_CHARS])  # the key needs only the start
    if not head.isascii():
        head = unicodedata.normalize("NFKD", head).encode("ascii", "ignore").decode("ascii")
    squashed = _NON_WORD_RE.sub("", head.lower())
    return squashed[:_ABSTRACT_KEY_CHARS] if len(squashed) >= _ABSTRACT_KEY_CHARS else ""


_CONFERENCE_TYPES = frozenset(
    {"inproceedings", "conference", "conference paper", "conference abstract", "abstract",
     "proceedings"}
)  # fmt: skip


@lru_cache(maxsize=131072)
def _title_keys(
    title: str | None,
) -> tuple[str, str, str, frozenset[str], frozenset[str], bool]:
    norm = normalize_title(title)
    kinds = record_kind(norm, None)
    if is_notice_title(title):
        kinds = kinds | _ERRATUM
    core = _LEADING_KIND_RE.sub("", norm) if kinds else norm
    headed = bool(title and _HEADING_RE.match(title))
    return norm, norm.replace(" ", ""), core.replace(" ", ""), title_numbers(norm), kinds, headed


@lru_cache(maxsize=16384)
def _venue_keys(venue: str | None, publication_type: str | None) -> tuple[tuple[str, ...], bool]:
    venue_text = _ascii(venue or "").lower() + " " + (publication_type or "").lower()
    is_conference = bool(
        (publication_type or "").lower() in _CONFERENCE_TYPES
        or (_CONFERENCE_RE.search(venue_text) and not _PROCEEDINGS_JOURNAL_RE.search(venue_text))
    )
    return journal_key(venue), is_conference


@lru_cache(maxsize=131072)
def _families(authors: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f for f in (author_family(a) for a in authors) if f)


_ERRATUM = frozenset({"erratum"})


@lru_cache(maxsize=65536)
def name_words(authors: tuple[str, ...]) -> frozenset[str]:
    """Every word (3+ letters, lower-case ASCII) of the first twelve author names."""
    words: set[str] = set()
    for name in authors[:12]:
        text = _ascii(name).lower().replace("'", "").replace("’", "")  # "O’Brochta" = "obrochta"
        words.update(w for w in _NON_WORD_RE.sub(" ", text).split() if len(w) >= 3)
    return frozenset(words)
