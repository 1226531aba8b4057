"""Backups of a whole review, taken while others keep working, and their restore.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot page by
  page while other connections read and write (WAL included); the copy is written to a temporary
  file beside the target and put in place when complete (``outfolder.written_new_file``, the
  tool's one writer of single files), so an interrupted backup leaves nothing.
- PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot of the database, taken in a
  repeatable-read transaction) into a temporary file, put in place when complete; restored with
  ``pg_restore`` into an empty database. Needs the PostgreSQL client programs on PATH.

A restore ends with a full ``audit verify`` of the restored review: a backup that does not verify is
reported, never silently accepted. Backups are an owner action (they hold every reviewer's open votes).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from reviewtool.access import require
from reviewtool.audit import verify
from reviewtool.domain import Action
from reviewtool.errors import AuditChainBroken, DatabaseUnavailable, InvalidInput
from reviewtool.outfolder import written_new_file
from reviewtool.storage import Review, open_review, sqlite_file

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore did: the file, its size in bytes, the ledger's events and head."""

    path: Path
    size: int
    events: int
    head: str
    kind: str


def _check_new(target: Path, *, doing: str) -> None:
    """InvalidInput when ``target``'s folder is missing or ``target`` exists (checked first, so the
    message says why; ``written_new_file`` checks the name again when the copy is complete).
    ``doing`` names the command in the refusal: "a backup" (OUT) or "a restore" (--db)."""
    if not target.parent.is_dir():
        raise InvalidInput(f"{target}: the folder {target.parent} does not exist")
    if target.exists():
        where = "; restore into a new --db path" if doing == "a restore" else ""
        raise InvalidInput(f"{target} exists already: {doing} never overwrites a file{where}")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DatabaseUnavailable(
            f"{name} is not installed: a PostgreSQL review is backed up and restored with the "
            "PostgreSQL client programs (apt-get install postgresql-client)"
        )
    return found


def _libpq_url(review: Review) -> str:
    """The review's URL as libpq takes it (no SQLAlchemy driver suffix, password included)."""
    url = review.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _ledger(review: Review) -> tuple[int, str]:
    with review.reading() as session:
        report = verify(session)
    if not report.ok:
        raise AuditChainBroken(
            f"{review.where}: the audit ledger does not verify ({report.problems[0]})"
        )
    return report.events, report.head_hash


def backup_review(review: Review, *, actor: str, out: Path) -> BackupReport:
    """Copy ``review`` to ``out`` (a new file) while others may keep working.

    Owners only (PermissionDenied otherwise). InvalidInput when ``out`` exists or its folder does
    not; DatabaseUnavailable when the copy cannot be made (disk full, no pg_dump). The ledger of
    the copy is verified before the copy is renamed into place.
    """
    with review.reading() as session:
        require(session, actor, Action.MANAGE_MEMBERS, doing="back up the review")
    _check_new(out, doing="a backup")
    with written_new_file(out) as tmp:
        path = sqlite_file(review.url)
        if path is not None:
            kind = "sqlite"
            try:
                src = sqlite3.connect(str(path))
                dst = sqlite3.connect(str(tmp))
                try:
                    src.backup(dst)
                finally:
                    dst.close()
                    src.close()
            except sqlite3.Error as error:
                raise DatabaseUnavailable(f"cannot back up {path} to {out}: {error}") from error
            copy = open_review(f"sqlite:///{tmp}")
            try:
                events, head = _ledger(copy)
            finally:
                copy.close()
        else:
            kind = "postgresql"
            events, head = _ledger(review)
            done = subprocess.run(
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp),
                 "--dbname", _libpq_url(review)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise DatabaseUnavailable(f"pg_dump failed: {done.stderr.strip().splitlines()[-1]}")
    return BackupReport(path=out, size=out.stat().st_size, events=events, head=head, kind=kind)


def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql`` (a pg_dump custom archive), read from the file's first bytes;
    InvalidInput for anything else."""
    try:
        with path.open("rb") as fh:
            start = fh.read(16)
    except OSError as error:
        raise InvalidInput(f"{path}: cannot read the backup ({error})") from None
    if start == SQLITE_MAGIC:
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InvalidInput(
        f"{path}: not a reviewtool backup (neither an SQLite file nor a pg_dump custom archive)"
    )


def _owner_of(review: Review, actor: str) -> None:
    with review.reading() as session:
        require(session, actor, Action.MANAGE_MEMBERS, doing="restore the review")


def restore_review(backup: Path, url: str, *, actor: str) -> BackupReport:
    """Restore ``backup`` into ``url``: a new SQLite file (never an existing one), or an empty
    PostgreSQL database. ``actor`` must be an owner of the review in the backup (PermissionDenied
    otherwise). The restored review's ledger is verified in full; AuditChainBroken when it does not.
    Nothing is left behind on a refusal: the SQLite copy is made in a temporary file renamed at the
    end; a PostgreSQL restore is one transaction (``pg_restore --single-transaction``) whose tables
    are dropped again when the check after it fails.

    InvalidInput for a backup of the other kind, an existing SQLite target or a PostgreSQL target
    that already holds tables.
    """
    kind = backup_kind(backup)
    target = sqlite_file(url)
    if (kind == "sqlite") != (target is not None):
        raise InvalidInput(
            f"{backup} is a {kind} backup; restore it into "
            + ("an SQLite file (--db FILE)" if kind == "sqlite" else "a PostgreSQL database URL")
        )
    if target is not None:
        _check_new(target, doing="a restore")
        with written_new_file(target) as tmp:
            try:
                src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
                dst = sqlite3.connect(str(tmp))
                try:
                    src.backup(dst)
                finally:
                    dst.close()
                    src.close()
            except sqlite3.Error as error:
                raise InvalidInput(f"{backup}: cannot read the backup ({error})") from None
            restored = open_review(f"sqlite:///{tmp}")
            try:
                _owner_of(restored, actor)
                events, head = _ledger(restored)
            finally:
                restored.close()
        return BackupReport(target, target.stat().st_size, events, head, kind)
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    try:
        if inspect(engine).get_table_names():
            raise InvalidInput(
                f"{engine.url.render_as_string(hide_password=True)} already holds tables: "
                "restore into an empty database"
            )
        libpq = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        engine.dispose()
    done = subprocess.run(
        [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
         "--dbname", libpq, str(backup)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise DatabaseUnavailable(f"pg_restore failed: {done.stderr.strip().splitlines()[-1]}")
    restored = open_review(url)
    try:
        _owner_of(restored, actor)
        events, head = _ledger(restored)
    except BaseException:
        from sqlalchemy import text

        with restored.engine.begin() as conn:  # the restore is refused: take it back out
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        raise
    finally:
        restored.close()
    return BackupReport(backup, backup.stat().st_size, events, head, kind)
