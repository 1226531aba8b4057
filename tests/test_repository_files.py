"""The repository holds no stray review databases: an SQLite file may be committed only as a test
fixture (``tests/fixtures/``). A file named ``x`` (a review a test made in the working directory)
was committed twice before this test."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [name for name in listed.decode("utf-8").split("\0") if name]


def test_sqlite_databases_are_committed_only_as_test_fixtures() -> None:
    stray = []
    for name in _tracked():
        path = REPO / name
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(16) == b"SQLite format 3\0" and not name.startswith("tests/fixtures/"):
                stray.append(name)
    assert stray == [], f"review databases committed outside tests/fixtures/: {stray}"
