"""Alembic's environment: migrations run on the connection the app hands in
(counterplan.web.db.migrate), or on an engine from ``sqlalchemy.url``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from counterplan.web.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url") or "sqlite:///counterplan.db")
    with engine.begin() as own:
        context.configure(connection=own, target_metadata=Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
