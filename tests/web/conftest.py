"""Fixtures of the web tests: every test runs on a fresh copy of the seeded
demo database, once on SQLite and once on a real PostgreSQL server.

The PostgreSQL server is named by $COUNTERPLAN_TEST_POSTGRES (a URL to any
database of a server where the user may create databases); `.ci/run` starts
Debian's server and sets it.  Without it the PostgreSQL runs are skipped
here, and fail under CI=true, so that CI cannot pass without them.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app

from liveserver import FLAGS, chromium_or_fail
from webtests import Web, _seed, fresh_copy, new_database, postgres_server

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The seeded demo database of each backend, made once per test session."""
    made: dict[str, str] = {}
    folder = tmp_path_factory.mktemp("db")
    made["sqlite"] = f"sqlite:///{folder / 'template.db'}"
    _seed(made["sqlite"])
    server = postgres_server()
    with contextlib.ExitStack() as stack:
        if server is not None:
            made["postgresql"] = stack.enter_context(
                new_database(server, f"counterplan_template_{uuid.uuid4().hex[:8]}"))
            _seed(made["postgresql"])
        yield made


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, templates: dict[str, str], tmp_path: Path
           ) -> Iterator[str]:
    """A fresh copy of the seeded demo database on each backend."""
    backend = request.param
    if backend not in templates:
        pytest.skip("no PostgreSQL server: set COUNTERPLAN_TEST_POSTGRES")
    with fresh_copy(templates, backend, tmp_path) as url:
        yield url


@pytest.fixture
def web(db_url: str) -> Iterator[Web]:
    engine = database.connect(db_url)
    app = create_app(Settings(db_url=db_url, max_upload=2 * 1024 * 1024), engine)
    yield Web(app)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched once for each module of browser tests."""
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_or_fail(), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def demo_copy(templates: dict[str, str], tmp_path: Path) -> Path:
    """A fresh file copy of the seeded SQLite demo, for a live server."""
    copy = tmp_path / "counterplan.db"
    shutil.copy(templates["sqlite"].removeprefix("sqlite:///"), copy)
    return copy
