"""Alembic environment: runs on the engine handed over by `shared.db.alembic_config`."""

from __future__ import annotations

from alembic import context

from shared.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
