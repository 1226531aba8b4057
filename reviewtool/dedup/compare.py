"""Which words of one record's field another record lacks: the highlight a person compares by.

Pure (no database, no rich): the duplicate review screen and ``dedup queue`` render the chunks.
"""

from __future__ import annotations

import difflib


def word_diff(mine: str, theirs: str) -> list[tuple[str, bool]]:
    """``mine`` cut into runs of words, each marked True where ``theirs`` lacks it (any case).

    Words are whitespace-separated; runs are joined with single spaces, so
    ``" ".join(chunk for chunk, _ in word_diff(a, b))`` is ``a`` with its spacing normalised.

    >>> word_diff("Stem cells in cirrhosis", "Stem cells for cirrhosis")
    [('Stem cells', False), ('in', True), ('cirrhosis', False)]
    """
    a, b = mine.split(), theirs.split()
    matcher = difflib.SequenceMatcher(
        a=[w.casefold() for w in a], b=[w.casefold() for w in b], autojunk=False
    )
    chunks: list[tuple[str, bool]] = []
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        chunk = " ".join(a[i1:i2])
        if chunk:
            chunks.append((chunk, tag != "equal"))
    return chunks
