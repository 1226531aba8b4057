"""Every command's option flags are unique, and ``import`` reads its input format from its own option.

typer/click do not complain when two parameters of one command declare the same flag: the last one
silently wins, so ``import --format ris`` used to be taken as the (shared) output format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import typer
from typer.core import _click as click  # typer vendors click
from typer.testing import CliRunner

from reviewtool.cli import app

runner = CliRunner()


def _commands(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    subcommands: dict[str, click.Command] = getattr(cmd, "commands", {})  # groups only
    if subcommands:
        for name, sub in subcommands.items():
            yield from _commands(sub, f"{path} {name}")


def _clashes(cmd: click.Command) -> list[str]:
    flags = Counter(
        flag
        for param in cmd.params
        if param.param_type_name == "option"
        for flag in [*param.opts, *param.secondary_opts]
    )
    return sorted(flag for flag, n in flags.items() if n > 1)


def test_no_command_has_two_options_with_one_flag() -> None:
    root = typer.main.get_command(app)
    walked = list(_commands(root, "reviewtool"))
    assert len(walked) > 20  # the walk really reaches the sub-commands
    assert any(path == "reviewtool import" for path, _ in walked)
    clashes = {path: c for path, cmd in walked if (c := _clashes(cmd))}
    assert clashes == {}


def test_the_walk_would_catch_a_clash() -> None:
    demo = typer.Typer()

    @demo.command()
    def one(
        a: str = typer.Option("x", "--format"), b: str = typer.Option("y", "--format", "-f")
    ) -> None:
        """Two options sharing --format."""

    @demo.command()
    def two() -> None:
        """No options."""

    cmd = typer.main.get_command(demo)
    found = {p: c for p, sub in _commands(cmd, "demo") if (c := _clashes(sub))}
    assert found == {"demo one": ["--format"]}


def _ris(tmp_path: Path) -> Path:
    path = tmp_path / "records.txt"
    path.write_text("TY  - JOUR\nTI  - Otters and beavers\nPY  - 2010\nER  - \n", encoding="utf-8")
    return path


def test_import_input_format_and_output_format_are_separate(tmp_path: Path) -> None:
    db = str(tmp_path / "review.db")
    env = {"REVIEWTOOL_USER": "alice"}
    result = runner.invoke(app, ["init", "--db", db, "--title", "T"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            *("import", str(_ris(tmp_path)), "--db", db, "--source", "Scopus"),
            *("--input-format", "ris", "--format", "json"),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert '"format": "ris"' in result.stdout
    assert '"records": 1' in result.stdout
    # --format is the output format only: an input format given there is refused, not misread.
    result = runner.invoke(
        app,
        ["import", str(_ris(tmp_path)), "--db", db, "--source", "Scopus", "--format", "ris"],
        env=env,
    )
    assert result.exit_code != 0


def test_import_skip_bad_counts_found_imported_and_skipped(tmp_path: Path) -> None:
    db = str(tmp_path / "review.db")
    env = {"REVIEWTOOL_USER": "alice"}
    assert runner.invoke(app, ["init", "--db", db, "--title", "T"], env=env).exit_code == 0
    path = tmp_path / "zoorec.txt"
    # Three records: one with a Zoological Record tag (kept), one cut off by the next PT (bad),
    # one fine.
    path.write_text(
        "FN Web of Science\nVR 1.0\n"
        "PT J\nTI Frogs\nTA Anura\nUT ZOOREC:1\nER\n\n"
        "PT J\nTI Toads\nUT ZOOREC:2\n"
        "PT J\nTI Newts\nUT ZOOREC:3\nER\n\nEF\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["import", str(path), "--db", db, "--source", "Zoological Record", "--skip-bad"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # rich wraps long lines at the terminal width
    assert text.startswith("Imported 2 records from zoorec.txt (wos, utf-8) as batch 1")
    assert (
        "3 records found, 2 imported, 1 skipped as bad: skipped line 9, record 'ZOOREC:2': "
        "record has no ER " in text
    )
    assert "1 warning: warning: line 3: tag 'TA' is not a Web of Science field" in text
