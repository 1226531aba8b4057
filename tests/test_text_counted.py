"""`reviewtool.text.counted`, the one rule for a count and its noun, importable from every layer
(the CLI, the TUI and the report used to print "1 references", "1 studies", "1 warnings")."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.text import counted


@pytest.mark.parametrize(
    ("n", "noun", "plural", "said"),
    [
        (1, "study", None, "1 study"),
        (2, "study", None, "2 studies"),
        (0, "reference", None, "0 references"),
        (1, "reference", None, "1 reference"),
        (2, "key", None, "2 keys"),  # a vowel before the y: keys, not kies
        (1, "more field", None, "1 more field"),
        (3, "analysis", "analyses", "3 analyses"),
    ],
)
def test_counted(n: int, noun: str, plural: str | None, said: str) -> None:
    assert counted(n, noun, plural) == said


def test_the_cli_keeps_importing_counted_from_common() -> None:
    from reviewtool.cli import _common

    assert _common.counted is counted


def test_simulate_says_one_include_in_the_singular(tmp_path) -> None:
    labelled = tmp_path / "set.csv"
    labelled.write_text("id,title,label_included\nA,one,1\nB,two,1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", str(labelled)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"reviewtool: error: {labelled}: label_included holds 2 includes and 0 excludes; "
        "a simulation needs both"
    )
    labelled.write_text("id,title,label_included\nA,one,0\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["simulate", str(labelled)])
    assert result.stderr.strip() == (
        f"reviewtool: error: {labelled}: label_included holds 0 includes and 1 exclude; "
        "a simulation needs both"
    )
