"""The FastAPI application: its state, the guard on every request, the
refusal handlers, and its routers (the JSON API in api.py, the pages in
pages/).  The modules below it (requests.py, the services) never import it."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from counterplan import __version__
from counterplan.web import api, api_govern, pages
from counterplan.web import db as database
from counterplan.web.assets import Assets
from counterplan.web.requests import Guard, Settings, State, problems_of, state_of
from counterplan.web.rights import Refused
from counterplan.web.store import VersionCache

log = logging.getLogger("counterplan.web")

__all__ = ["Settings", "State", "app_from_environment", "create_app", "settings_environment",
           "state_of"]
DEFAULTS = Settings()
#: every route of the JSON API and the pages
ROUTES = (*api.router.routes, *api_govern.router.routes, *pages.router.routes)
#: how `counterplan serve --processes N` hands its settings to each server process
SETTINGS_VARIABLE = "COUNTERPLAN_WEB_SETTINGS"


def create_app(settings: Settings = DEFAULTS, engine: Engine | None = None) -> FastAPI:
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
    app.add_middleware(Guard, settings=settings, refuse=_refusal)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _refusal(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return _refusal(request, problems_of(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """Starlette's own refusals (no such route, wrong method, too large)."""
        message = {404: "nothing here: the address names no page of this site",
                   405: f"{request.method} is not how this address is used"}
        return _refusal(request, Refused(exc.status_code,
                                         message.get(exc.status_code, str(exc.detail))))

    # the routes themselves, built once in the process, rather than
    # include_router: that builds a copy of every route for each app on its
    # first requests (150–450 ms an app, for each server process, and the web
    # tests make an app per test); the routers add no prefix, tags or
    # dependencies of their own that a copy would apply
    app.router.routes.extend(ROUTES)
    app.mount("/static", Assets(), name="static")
    return app


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes :func:`app_from_environment` build the app
    on ``settings``."""
    return {SETTINGS_VARIABLE: json.dumps(asdict(settings))}


def app_from_environment() -> FastAPI:
    """The app of one of several server processes: uvicorn starts each by this
    name and none can be handed an object, so the settings come from the
    environment (:func:`settings_environment`)."""
    return create_app(Settings(**json.loads(os.environ[SETTINGS_VARIABLE])))


def _refusal(request: Request, exc: Refused) -> Response:
    """JSON under /api and for clients that do not ask for HTML; the error
    page for people."""
    if request.url.path.startswith("/api") or "text/html" not in \
            request.headers.get("accept", ""):
        return JSONResponse({"error": exc.message, "problems": exc.problems},
                            status_code=exc.status)
    return pages.error_page(request, exc)
