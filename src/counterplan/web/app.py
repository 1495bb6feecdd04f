"""The FastAPI application: state, security, error pages, and its routers
(the JSON API in api.py, the pages in pages.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from counterplan import __version__
from counterplan.web import db as database
from counterplan.web.rights import Refused
from counterplan.web.store import VersionCache

HERE = Path(__file__).parent
log = logging.getLogger("counterplan.web")


@dataclass(frozen=True)
class Settings:
    """How the app runs.  ``secure_cookies`` when it is served over TLS (a
    proxy in front); uploads larger than ``max_upload`` bytes are refused."""

    db_url: str = database.DEFAULT_URL
    secure_cookies: bool = False
    max_upload: int = 20 * 1024 * 1024
    cache_versions: int = 16
    #: threads that run requests (the library's work is in them)
    workers: int = 40


@dataclass
class State:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    cache: VersionCache = field(default_factory=VersionCache)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: all of a request's writes land together or not at all."""
        with database.transaction(self.factory) as session:
            yield session


def create_app(settings: Settings = Settings(), engine: Engine | None = None) -> FastAPI:
    """The app on ``settings.db_url`` (migrated to the newest schema)."""
    engine = engine or database.connect(settings.db_url, settings.workers)
    database.migrate(engine)
    state = State(settings, engine, database.sessions(engine),
                  VersionCache(settings.cache_versions))
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.workers
        yield

    # no /docs or /redoc: their pages load scripts from a CDN, which neither the
    # Content-Security-Policy nor an offline federation allows
    app = FastAPI(title="counterplan", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Plans, counter-plans, votes and reports of a federation of "
                              "workplaces. Every action of the pages is here as JSON; "
                              "state-changing calls need the X-CSRF-Token header that "
                              "POST /api/login returns.")
    app.state.counterplan = state

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.max_upload:
            return _refusal(request, Refused(
                413, f"the request is {int(length) / 2**20:.1f} MiB; the most this server "
                     f"takes is {settings.max_upload / 2**20:.0f} MiB"))
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' "
            "'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _refusal(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}"
                    for e in exc.errors()]
        return _refusal(request, Refused(422, "the request has errors; nothing was changed",
                                         problems))

    from counterplan.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def _refusal(request: Request, exc: Refused) -> Response:
    if request.url.path.startswith("/api") or "text/html" not in \
            request.headers.get("accept", ""):
        return JSONResponse({"error": exc.message, "problems": exc.problems},
                            status_code=exc.status)
    from counterplan.web.pages import error_page

    return error_page(request, exc)


def state_of(request: Request) -> State:
    state: State = request.app.state.counterplan
    return state
