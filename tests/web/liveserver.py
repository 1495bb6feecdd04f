"""A real server and a real browser for the browser tests: the app on
uvicorn in a thread on 127.0.0.1, and Debian's Chromium driven by
Playwright (its own browser download is never used)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from counterplan.web.app import Settings, create_app

CHROMIUM = os.environ.get("COUNTERPLAN_CHROMIUM", "/usr/bin/chromium")
#: Screenshots of the browser tests, kept as artefacts (git-ignored).
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page: Any, name: str) -> Path:
    """The whole page as a JPEG in test-artifacts/, for people to look at.
    JPEG at quality 80: a full-page PNG took a fifth of a browser test's time."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.jpg"
    page.screenshot(path=str(path), full_page=True, type="jpeg", quality=80)
    return path


FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(db_url: str, **settings: Any) -> Iterator[str]:
    """The app on ``db_url`` (with other ``settings`` when given), listening
    on 127.0.0.1; yields its base URL."""
    port = free_port()
    app = create_app(Settings(db_url=db_url, **settings))
    config = uvicorn.Config(app, host="127.0.0.1",
                            port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.counterplan.engine.dispose()


def chromium_or_fail() -> str:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: no Chromium at {CHROMIUM} "
                        "(.ci/run installs Debian's chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    return CHROMIUM
