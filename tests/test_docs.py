"""The docs stay true: every command has help with an example and is in the README tour."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from reviewtool.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, object]]:
    root = get_command(app)
    found: list[tuple[str, object]] = []

    def walk(prefix: str, command: object) -> None:
        sub = getattr(command, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(f"{prefix} {name}".strip(), child)
        else:
            found.append((prefix, command))

    walk("", root)
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = _commands()
    assert len(commands) >= 10
    for name, command in commands:
        text = getattr(command, "help", None) or ""
        assert text.strip(), f"`reviewtool {name}` has no help text"
        assert "Example: reviewtool " in text, f"`reviewtool {name}` help gives no example"


def test_every_command_is_in_the_readme_tour() -> None:
    for name, _ in _commands():
        assert f"reviewtool {name}" in README, (
            f"`reviewtool {name}` is missing from the README tour"
        )


def test_ci_runs_exactly_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command.strip() in ci.splitlines()
