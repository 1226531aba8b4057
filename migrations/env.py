"""Alembic environment for reviewtool.

Built for programmatic use: ``reviewtool.storage.schema.alembic_config`` passes an open connection in
``config.attributes["connection"]`` so the migration runs in the caller's transaction. Run from the
command line (``alembic -x url=sqlite:///review.db ...``) it opens its own engine.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from reviewtool.storage.engine import make_engine
from reviewtool.storage.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite has almost no ALTER TABLE: batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("pass the database with: alembic -x url=sqlite:///review.db ...")
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("reviewtool migrations run online only")
run_migrations_online()
