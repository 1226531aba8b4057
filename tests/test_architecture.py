"""Layer rules (STYLE.md 2.1) and the start-up budget, checked on the real import graph."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "textual",
    "rich",
)


def test_import_contracts_hold() -> None:
    # import-linter reads the contracts from pyproject.toml; it prints which import broke which rule.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def _modules_loaded_by(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in out.stdout.splitlines()}


def test_help_imports_nothing_heavy() -> None:
    # `reviewtool --help` must stay under 0.3 s; each of these costs 0.1-1 s to import.
    loaded = _modules_loaded_by(
        "from typer.testing import CliRunner\n"
        "from reviewtool.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for g in ('member', 'audit', 'settings'):\n"
        "    assert CliRunner().invoke(app, [g, '--help']).exit_code == 0\n"
    )
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_write_commands_do_not_import_alembic(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewtool",
            "init",
            "--title",
            "T",
            "--db",
            str(db),
            "--as",
            "alice",
        ],
        check=True,
        capture_output=True,
    )
    loaded = _modules_loaded_by(
        "from typer.testing import CliRunner\n"
        "from reviewtool.cli import app\n"
        f"r = CliRunner().invoke(app, ['member', 'add', 'bob', '--role', 'reviewer', '--db', {str(db)!r}, '--as', 'alice'])\n"
        "assert r.exit_code == 0, r.output\n"
    )
    assert "alembic" not in loaded
    assert not loaded & {"numpy", "pandas", "scipy", "matplotlib", "textual"}
