"""Schema versions: which revision a database is at, upgrading it, refusing newer ones.

Opening a review must be cheap, so the version is read with one plain query and alembic (about half
a second to import) is imported only when an upgrade is really needed.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from reviewtool.errors import DatabaseUnavailable, SchemaError, SchemaTooNew

if TYPE_CHECKING:
    from alembic.config import Config

# Every revision in ``migrations/versions``, oldest first. A test checks this against alembic's own
# script directory, so it cannot drift; it lets us answer "behind, current or ahead?" without alembic.
REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0014",
    "0015",
    "0017",
    "0018",
    "0019",
)
HEAD = REVISIONS[-1]


def migrations_dir() -> Path:
    """Where the alembic scripts live: inside the installed wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_migrations", here.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise SchemaError(f"cannot find the migration scripts (looked in {here / '_migrations'})")


def alembic_config(connection: Connection) -> Config:
    """An alembic Config built in code (no alembic.ini), bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has no reviewtool schema at all."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        conn.rollback()
    return None if row is None else str(row[0])


def check_revision(revision: str | None, where: str) -> bool:
    """Raise if ``revision`` is not usable; return True when the database needs an upgrade."""
    if revision is None:
        raise SchemaError(
            f"{where} is not a reviewtool review database: it holds no reviewtool tables "
            "(run `reviewtool init` to create one)"
        )
    if revision not in REVISIONS and not (revision.isdigit() and revision > HEAD):
        # Another alembic-managed application's database, not a review from a newer reviewtool.
        raise SchemaError(
            f"{where} is not a reviewtool review database: its schema revision {revision!r} "
            "is not one of reviewtool's"
        )
    if revision not in REVISIONS:
        raise SchemaTooNew(
            f"{where} has schema revision {revision}, newer than this reviewtool knows "
            f"(newest known: {HEAD}); upgrade reviewtool to open it"
        )
    return revision != HEAD


def upgrade(engine: Engine, target: str = "head") -> None:
    """Run the alembic migrations up to ``target`` in one transaction (see ``_migrate``)."""
    _migrate(engine, "upgrade", target)


def downgrade(engine: Engine, target: str) -> None:
    """Undo the migrations after ``target`` in one transaction (tests build old schemas so)."""
    _migrate(engine, "downgrade", target)


def _migrate(engine: Engine, direction: str, target: str) -> None:
    """Run alembic ``direction`` (upgrade / downgrade) to ``target`` in one transaction.

    On SQLite the foreign keys are switched off around that transaction and checked before it
    commits (SQLite's own procedure for changing a table's shape, "Making Other Kinds Of Table
    Schema Changes" in its ALTER TABLE documentation): a table other rows point at (an import
    batch's records) is rebuilt to change a column, and with the keys on, dropping the old copy
    would be refused. SchemaError, nothing changed, when a row points at nothing afterwards.
    """
    from alembic import command

    run = command.upgrade if direction == "upgrade" else command.downgrade
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # outside any transaction: inside one SQLite ignores the pragma
            driver.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                run(alembic_config(conn), target)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        table, rowid, parent = broken[0][:3]
                        raise SchemaError(
                            f"the schema {direction} would leave {table} row {rowid} pointing "
                            f"at a missing {parent} row ({len(broken)} such rows); nothing was "
                            "changed"
                        )
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def backup_sqlite(database: str) -> Path:
    """Copy an SQLite file before an upgrade, with the online backup API (safe under WAL).

    DatabaseUnavailable when the copy cannot be written (a read-only folder, a full disk): the
    schema is then left as it was.
    """
    source = Path(database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.name}.bak-{stamp}")
    try:
        src = sqlite3.connect(str(source))
        try:
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except (sqlite3.Error, OSError) as error:
        raise DatabaseUnavailable(
            f"cannot back up {source} to {target} before upgrading its schema: {error}"
        ) from error
    if not target.exists():  # pragma: no cover - sqlite3 raises before this
        shutil.copy2(source, target)
    return target
