"""What the web tests share: the demo password, the test server's
PostgreSQL, logged-in clients, and counts of rows to show that a refusal
changed nothing."""


from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from counterplan.web import db as database
from counterplan.web import demo
from counterplan.web.app import Settings, create_app

PASSWORD = demo.PASSWORD


def postgres_server() -> str | None:
    url = os.environ.get("COUNTERPLAN_TEST_POSTGRES")
    if url is None and os.environ.get("CI") == "true":
        pytest.fail("CI must test PostgreSQL: set COUNTERPLAN_TEST_POSTGRES (.ci/run does)")
    return url


def _with_database(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str, statement: str) -> Any:
    """Run one statement on the server's maintenance database; its first value."""
    engine = sa.create_engine(_with_database(url, "postgres").replace(
        "postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        result = c.execute(sa.text(statement))
        first = result.scalar() if result.returns_rows else None
    engine.dispose()
    return first


@contextmanager
def new_database(server: str, name: str, template: str = "template1") -> Iterator[str]:
    """Database ``name`` on ``server``, a copy of ``template``, for the time
    of the block (dropped after it); yields its URL."""
    _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"{_copy_strategy(server)}')
    try:
        yield _with_database(server, name)
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
def _copy_strategy(url: str) -> str:
    """How CREATE DATABASE copies the template.  Since PostgreSQL 15 the
    default writes every block of the copy to the WAL (0.4–0.6 s a copy of
    the demo here); copying the files is about 0.05 s.  Older servers copy
    the files anyway and know no STRATEGY."""
    version = int(_admin(url, "SHOW server_version_num"))
    return " STRATEGY FILE_COPY" if version >= 150000 else ""


@contextmanager
def fresh_copy(templates: dict[str, str], backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded demo database of ``backend`` (``templates``
    holds one per backend), in ``tmp_path`` for SQLite."""
    if backend == "sqlite":
        target = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copy(templates["sqlite"].removeprefix("sqlite:///"), target)
        yield f"sqlite:///{target}"
        return
    server = postgres_server()
    assert server is not None
    name = f"counterplan_test_{uuid.uuid4().hex[:12]}"
    template = sa.make_url(templates["postgresql"]).database
    with new_database(server, name, template) as url:
        yield url


def _seed(url: str) -> None:
    engine = database.connect(url)
    app = create_app(Settings(db_url=url), engine)
    with app.state.counterplan.tx() as session:
        demo.seed(session)
    engine.dispose()


@dataclass
class Web:
    """The app on one database, and a logged-in client for each demo account."""

    app: Any
    clients: dict[str, User] = field(default_factory=dict)

    def as_(self, name: str) -> User:
        if name not in self.clients:
            self.clients[name] = User.log_in(self.app, name)
        return self.clients[name]

    def anonymous(self) -> TestClient:
        return TestClient(self.app)


class User:
    """A logged-in test client that sends its CSRF token with every write."""

    def __init__(self, client: TestClient, name: str, csrf: str):
        self.client, self.name, self.csrf = client, name, csrf

    @classmethod
    def log_in(cls, app: Any, name: str, password: str = PASSWORD) -> User:
        client = TestClient(app)
        response = client.post("/api/login", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        return cls(client, name, response.json()["csrf"])

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)


def count(web: Web, table: str) -> int:
    """Rows of ``table`` now (to show that a refusal changed nothing)."""
    with web.app.state.counterplan.engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


TABLES = ("users", "plans", "memberships", "versions", "publications", "rounds", "proposals",
          "outcomes", "polls", "poll_items", "voters", "reports", "plan_exceptions",
          "cycle_settings", "challenges", "plan_rules", "terms", "elections",
          "election_options", "election_voters", "petitions", "petition_signatures",
          "criticisms")


def snapshot(web: Web) -> dict[str, int]:
    return {t: count(web, t) for t in TABLES}
