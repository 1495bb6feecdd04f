"""The database: an engine for a URL (SQLite in a file by default,
PostgreSQL by URL), brought to the newest schema by Alembic's migrations, and
a transaction helper."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from counterplan.errors import CounterplanError

DEFAULT_URL = "sqlite:///counterplan.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def connect(url: str, connections: int = 10) -> Engine:
    """An engine for ``url`` with the settings the app relies on: SQLite in
    WAL mode with foreign keys and a busy timeout (many readers, one writer
    at a time); PostgreSQL through psycopg 3.  The pool holds up to
    ``connections`` (give the number of request threads)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False,
                                                      "timeout": 30},
                                   pool_size=connections, max_overflow=5)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_size=connections, max_overflow=5,
                                   pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise CounterplanError(
            f"cannot use the database URL {url!r}: {exc}. Give sqlite:///FILE or "
            "postgresql://USER:PASSWORD@HOST/NAME") from exc
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # freed bytes are zeroed (secret ballots)
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@functools.cache
def newest_revision() -> str | None:
    """The head of the migrations, read from their files once per process."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creating it when empty).  A
    database already there is only asked its revision: Alembic's upgrade
    would read and compile every migration file again (measured: 6 % of the
    web tests' time, where each test opens a fresh copy)."""
    try:
        with engine.begin() as connection:
            if MigrationContext.configure(connection).get_current_revision() == \
                    newest_revision():
                return
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise CounterplanError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: "
            f"{exc.orig}. Check that the server runs and the URL is right") from exc


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).has_table("users")


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together at the end, or not at all."""
    with factory() as session, session.begin():
        yield session
