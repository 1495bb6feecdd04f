"""Fixtures of the web tests: every test runs on a fresh copy of the seeded
demo database, once on SQLite and once on a real PostgreSQL server.

The PostgreSQL server is named by $COUNTERPLAN_TEST_POSTGRES (a URL to any
database of a server where the user may create databases); `.ci/run` starts
Debian's server and sets it.  Without it the PostgreSQL runs are skipped
here, and fail under CI=true, so that CI cannot pass without them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from counterplan.web import db as database
from counterplan.web import demo
from counterplan.web.app import Settings, create_app

BACKENDS = ("sqlite", "postgresql")
PASSWORD = demo.PASSWORD


def postgres_server() -> str | None:
    url = os.environ.get("COUNTERPLAN_TEST_POSTGRES")
    if url is None and os.environ.get("CI") == "true":
        pytest.fail("CI must test PostgreSQL: set COUNTERPLAN_TEST_POSTGRES (.ci/run does)")
    return url


def _with_database(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def _admin(url: str, statement: str) -> None:
    """Run one statement on the server's maintenance database."""
    engine = sa.create_engine(_with_database(url, "postgres").replace(
        "postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(statement))
    engine.dispose()


def _seed(url: str) -> None:
    engine = database.connect(url)
    app = create_app(Settings(db_url=url), engine)
    with app.state.counterplan.tx() as session:
        demo.seed(session)
    engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The seeded demo database of each backend, made once per test session."""
    made: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("db")
    made["sqlite"] = f"sqlite:///{folder / 'template.db'}"
    _seed(made["sqlite"])
    server = postgres_server()
    name = f"counterplan_template_{uuid.uuid4().hex[:8]}"
    if server is not None:
        _admin(server, f'CREATE DATABASE "{name}"')
        made["postgresql"] = _with_database(server, name)
        _seed(made["postgresql"])
    yield made
    if server is not None:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, templates: dict[str, str], tmp_path: Path
           ) -> Iterator[str]:
    """A fresh copy of the seeded demo database on each backend."""
    backend = request.param
    if backend not in templates:
        pytest.skip("no PostgreSQL server: set COUNTERPLAN_TEST_POSTGRES")
    if backend == "sqlite":
        copy = tmp_path / "counterplan.db"
        shutil.copy(templates["sqlite"].removeprefix("sqlite:///"), copy)
        yield f"sqlite:///{copy}"
        return
    server = postgres_server()
    assert server is not None
    name = f"counterplan_test_{uuid.uuid4().hex[:12]}"
    template = sa.make_url(templates["postgresql"]).database
    _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_database(server, name)
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


@pytest.fixture
def web(db_url: str) -> Iterator[Web]:
    engine = database.connect(db_url)
    app = create_app(Settings(db_url=db_url, max_upload=2 * 1024 * 1024), engine)
    yield Web(app)
    engine.dispose()


def count(web: Web, table: str) -> int:
    """Rows of ``table`` now (to show that a refusal changed nothing)."""
    with web.app.state.counterplan.engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


TABLES = ("users", "plans", "memberships", "versions", "publications", "rounds", "proposals",
          "outcomes", "polls", "poll_items", "voters", "ballots", "reports")


def snapshot(web: Web) -> dict[str, int]:
    return {t: count(web, t) for t in TABLES}
