"""Shared fixtures: a fresh review on disk, a CLI runner, the path to ../shared/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# What a test run may leave in the repository's root or the working directory: tools' caches.
_LEFT_BY_TOOLS = {
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    ".import_linter_cache",
    "__pycache__",
}
_BEFORE: dict[Path, set[str]] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    for folder in {REPO, Path.cwd()}:
        _BEFORE[folder] = {p.name for p in folder.iterdir()}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test writes only under its tmp_path: a file left in the repository (a command given a
    relative --db or --to made an ``x`` here once, and it got committed) fails the run."""
    left = sorted(
        str(folder / name)
        for folder, before in _BEFORE.items()
        for name in {p.name for p in folder.iterdir()} - before - _LEFT_BY_TOOLS
    )
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"tests left files outside their tmp_path: {', '.join(left)}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must not pick up a developer's own review or identity.
    for var in ("REVIEWTOOL_DB", "REVIEWTOOL_USER", "REVIEWTOOL_DEBUG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def review_url(tmp_path: Path) -> str:
    """URL of a review file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'review.db'}"


@pytest.fixture
def fresh_review(review_url: str) -> Iterator[object]:
    """A new review owned by alice, with bob (reviewer) and carol (adjudicator)."""
    from reviewtool.domain import Role
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    review = init_review(review_url, title="MSC therapy in chronic liver disease", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
    yield review
    review.close()


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the repository; tests that need it skip cleanly where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


EXPORTS = REPO / "sample_project" / "exports"
SAMPLE_SOURCES = {
    "pubmed.nbib": "MEDLINE (PubMed)",
    "embase.ris": "Ovid EMBASE",
    "wos.txt": "Web of Science",
    "cochrane.ris": "Cochrane Library",
}


@pytest.fixture(scope="session")
def _sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project's four exports imported and deduplicated once per test session."""
    from reviewtool.dedup.service import run_dedup
    from reviewtool.domain import Role
    from reviewtool.importing.service import import_files
    from reviewtool.members.service import add_member
    from reviewtool.review.service import init_review

    path = tmp_path_factory.mktemp("sample") / "sample.db"
    review = init_review(f"sqlite:///{path}", title="Sample", owner="alice")
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
        for name, source in SAMPLE_SOURCES.items():
            import_files(session, actor="alice", paths=[EXPORTS / name], source=source)
    with review.transaction() as session:
        run_dedup(session, actor="alice")
    review.close()
    return path


@pytest.fixture
def sample_review_url(_sample_template: Path, tmp_path: Path) -> str:
    """A private copy of the imported and deduplicated sample review."""
    import shutil

    target = tmp_path / "sample.db"
    shutil.copy(_sample_template, target)
    return f"sqlite:///{target}"
