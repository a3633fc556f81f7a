"""Alembic environment: the same settings and engine as the functions (videogen.data.db)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from videogen.data.db import build_engine
from videogen.data.models import Base
from videogen.runtime.config import get_settings

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL for review (``alembic upgrade head --sql``) without a database."""
    context.configure(
        url="postgresql+psycopg://",
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through a connection handed over by the caller (tests, migrate function) or our own."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(get_settings())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
