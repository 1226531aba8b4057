"""What the PostgreSQL tests share: the throw-away cluster module and connecting as a login.

``pgcluster`` is ``benchmarks/_pgcluster.py`` (a loopback cluster started for the tests, the same
code the benchmarks use), loaded by path because ``benchmarks`` is not a package. ``as_login`` and
``dsn`` turn the owner's URL of a test database into one that connects as another PostgreSQL role
(trust authentication on the loopback cluster): for SQLAlchemy and for psycopg.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def _load_pgcluster() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_pgcluster", Path(__file__).resolve().parents[1] / "benchmarks" / "_pgcluster.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pgcluster = _load_pgcluster()


def as_login(url: str, login: str) -> str:
    """``url`` connecting as the PostgreSQL role ``login`` (trust authentication)."""
    return url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://{login}@", 1)


def dsn(url: str, login: str) -> str:
    """A libpq connection string for psycopg: the same database as ``url``, as ``login``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = dict(parsed.query)
    return f"dbname={parsed.database} user={login} host={query['host']} port={query['port']}"
