"""A throw-away PostgreSQL cluster on a unix socket, for the benchmarks.

Started the way ``tests/test_postgres.py``'s ``pg_server`` fixture starts one: ``initdb`` and
``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (Debian's postgresql package) or ``/usr/local/bin``,
run as the ``postgres`` system user through ``runuser`` when we are root (initdb refuses root),
trust authentication, no TCP listener, ``fsync=off`` (the numbers are the tool's, not the disk's).

    with pg_cluster() as base:            # None plus a reason when it cannot be started
        url = new_database(base, "soak")  # postgresql+psycopg://postgres@/soak?host=...&port=...
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _pg_tools() -> tuple[Path, Path] | None:
    """(initdb, pg_ctl) of the newest server found, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    candidates.append(Path("/usr/local/bin"))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder / "initdb", folder / "pg_ctl"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def unavailable() -> str | None:
    """Why no cluster can be started here (None: it can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the PostgreSQL driver is not installed (pip install '.[postgres]')"
    if _pg_tools() is None:
        return "no PostgreSQL server binaries (initdb/pg_ctl); give a server with --pg URL"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start a PostgreSQL cluster"
    return None


@contextmanager
def pg_cluster() -> Iterator[str]:
    """Start a cluster; yield its base URL (no database name); stop and delete it afterwards.

    Raises RuntimeError with the reason when it cannot be started.
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    tools = _pg_tools()
    assert tools is not None
    initdb, pg_ctl = tools
    workdir = Path(tempfile.mkdtemp(prefix="reviewtool-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = workdir / "data"
    try:
        done = subprocess.run(
            _as_postgres([str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres"]),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip().splitlines()[-1:]}")
        options = (
            f"-k {workdir} -p {port} -c listen_addresses='' -c fsync=off -c max_connections=100"
        )
        start = [str(pg_ctl), "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w"]
        done = subprocess.run(
            _as_postgres([*start, "start"]),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip().splitlines()[-1:]}")
        yield f"postgresql+psycopg://postgres@/?host={workdir}&port={port}"
    finally:
        subprocess.run(
            _as_postgres([str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)


def new_database(base: str, name: str) -> str:
    """Create database ``name`` (dropped first if there) on the server at ``base``; its URL.

    ``base`` is a URL whose path is empty (``.../?host=...``) or names a database (the new one
    replaces it in the URL).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)
