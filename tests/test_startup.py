"""Start-up of a command (issue 13: the sample review in under a minute, ~75 start-ups).

``cli.main`` hands typer only the command named on the command line (typer reads the signature of
every registered command before parsing, a tenth of a second per start-up); pinned here: which word
is the command, that only it is built, that the app is whole again afterwards, and that what a
person sees (help, a mistyped command) is what the whole app shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import _invoked_word, app

REPO = Path(__file__).resolve().parents[1]


def _words(text: str) -> list[str]:
    """Text as words (the subprocess and CliRunner wrap help at different widths)."""
    return text.split()


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["status"], "status"),
        (["--as", "olga", "status", "-f", "json"], "status"),
        (["--db", "x.db", "--debug", "screen", "stats"], "screen"),
        (["--db=x.db", "--as=olga", "member", "list"], "member"),
        (["--help"], None),
        (["--db", "x.db"], None),
        ([], None),
    ],
)
def test_the_command_word_follows_the_root_options(args: list[str], word: str | None) -> None:
    assert _invoked_word(args) == word


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``cli.main`` as ``python -m reviewtool`` does, recording the commands of every click
    group typer builds; prints them and the app's commands afterwards on the last two lines."""
    probe = (
        "import sys, typer.main\n"
        "from reviewtool import cli\n"
        "built = []\n"
        "real = typer.main.get_group\n"
        "def spy(t):\n"
        "    g = real(t)\n"
        "    built.append(sorted(g.commands))\n"
        "    return g\n"
        "typer.main.get_group = spy\n"
        f"sys.argv = ['reviewtool', *{list(args)!r}]\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print()\n"
        "print(built)\n"
        "print(len(cli.app.registered_commands) + len(cli.app.registered_groups))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )


def test_only_the_command_invoked_is_built_and_the_app_is_whole_again() -> None:
    whole = len(app.registered_commands) + len(app.registered_groups)
    done = _main("--as", "olga", "settings", "--help")
    *shown, built, after = done.stdout.splitlines()
    assert built == "[['settings']]" and int(after) == whole > 15
    # The help is the whole app's help for that group, word for word.
    whole_help = CliRunner().invoke(app, ["settings", "--help"]).stdout
    assert _words("\n".join(shown)) == _words(whole_help)


def test_help_and_a_mistyped_command_see_the_whole_app() -> None:
    whole = len(app.registered_commands) + len(app.registered_groups)
    helped = _main("--help")
    *shown, built, _ = helped.stdout.splitlines()
    assert len(eval(built)[0]) == whole  # every command listed
    commands = shown[shown.index("Commands:") + 1 :]
    listed = [line.split()[0] for line in commands if line.startswith("  ") and line.strip()]
    assert len(listed) == whole
    typo = _main("staus")
    assert "No such command 'staus'" in typo.stderr
    assert len(eval(typo.stdout.splitlines()[-2])[0]) == whole
