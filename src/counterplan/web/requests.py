"""What the JSON API and the pages share about a request, below both of them:
the app's settings and state, the limit on what a request may carry, the
session cookie, and uploads read as they stream in.

The web package reads top-down: ``app`` builds the application from
``api`` and ``pages``; both use this module and the services; nothing here
imports either of them.

Limits (docs/web.md, "Limits"): a request body is counted while it streams
in, whether or not it declares its length, and refused with 413 the moment
it passes the limit: ``max_upload`` for the upload routes (paths ending in
``/upload``), ``max_request`` for every other route.  An upload route checks
the session (and, in the JSON API, the CSRF header) before it reads a byte
of the body; a page's upload form carries its CSRF token as the first field,
and the file that follows is read only once that token matched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterplan.web import db as database
from counterplan.web.auth import SESSION_COOKIE, SESSION_DAYS
from counterplan.web.rights import Refused
from counterplan.web.services.limits import page_of
from counterplan.web.store import VersionCache

#: Ids and numbers are INTEGER columns: 32-bit signed in PostgreSQL.
MAX_ID = 2**31 - 1
#: An id in a path: one past the databases' range (2³¹ or 2⁶³ alike) names nothing (404).
Id = Annotated[int, Path(ge=0, le=MAX_ID)]
#: The page of a long list (from 1).
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID, description="page of the list, from 1")]


@dataclass(frozen=True)
class Settings:
    """How the app runs.  ``secure_cookies`` when it is served over TLS (a
    proxy in front); an upload larger than ``max_upload`` bytes, and any
    other request body larger than ``max_request`` bytes, is refused."""

    db_url: str = database.DEFAULT_URL
    secure_cookies: bool = False
    max_upload: int = 20 * 1024 * 1024
    max_request: int = 1024 * 1024
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


def state_of(request: Request) -> State:
    state: State = request.app.state.counterplan
    return state


AppState = Annotated[State, Depends(state_of)]


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_DAYS * 86400, httponly=True,
                        samesite="lax", secure=secure, path="/")


def paged(rows: list[dict[str, Any]], page: int, response: Response) -> list[dict[str, Any]]:
    """Page ``page`` of ``rows``; the headers X-Total-Count and X-Pages say
    how many rows and pages there are."""
    shown, pages = page_of(rows, page)
    response.headers["X-Total-Count"] = str(len(rows))
    response.headers["X-Pages"] = str(pages)
    return shown


def problems_of(exc: RequestValidationError) -> Refused:
    """A malformed request as a refusal.  A path that does not parse (a
    word where an id goes, an id past 2⁶³) names nothing: 404."""
    errors = exc.errors()
    if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        return Refused(404, "nothing here: the address names no plan, version, round, "
                            "proposal or vote of this site")
    problems = [f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in errors]
    return Refused(422, "the request has errors; nothing was changed", problems)


# -- how much a request may carry -----------------------------------------------------

class Stop(HTTPException):
    """A request refused while its body streams in (an HTTPException, so that
    FastAPI passes it on unchanged to the app's refusal handler)."""


def too_large(limit: int) -> Refused:
    return Refused(413, f"the request is larger than {limit / 2**20:.1f} MiB, the most this "
                        "server takes here: send a smaller file")


NUL = Refused(422, "the request contains a NUL character (code 0), which no text here may "
                   "hold: remove it and send again; nothing was changed")
#: A NUL in a body, as each kind of body writes it.  A multipart form is
#: read on every route but the uploads, whose file may be binary and is
#: checked where it is read.
NUL_MARKS = {b"application/json": (b"\\u0000", b"\x00"),
             b"application/x-www-form-urlencoded": (b"%00", b"\x00"),
             b"multipart/form-data": (b"\x00",)}


def body_limit(settings: Settings, path: str) -> int:
    return settings.max_upload if path.endswith("/upload") else settings.max_request


Refuse = Callable[[Request, Refused], Response]


class Guard:
    """ASGI middleware at the door of every request: it counts the body as
    it streams in and stops it at its limit (a declared Content-Length past
    the limit is refused before anything is read); it refuses a NUL
    character in the path, the query or a JSON or form body, multipart
    included (PostgreSQL text cannot hold one; ``NUL_MARKS``); and it adds
    the security headers to every response.  ``refuse`` renders a refusal
    (the error page or JSON)."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"same-origin"),
               (b"content-security-policy",
                b"default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' "
                b"'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"))

    def __init__(self, app: ASGIApp, settings: Settings, refuse: Refuse) -> None:
        self.app, self.settings, self.refuse = app, settings, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in self.HEADERS if h[0] not in present)]
            await send(message)

        limit = body_limit(self.settings, scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        refusal = None
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            refusal = Refused(404, NUL.message) if "\x00" in scope["path"] else NUL
        elif declared.isdigit() and int(declared) > limit:
            refusal = too_large(limit)
        if refusal is not None:
            await self.refuse(Request(scope, receive), refusal)(scope, receive, secured)
            return
        kind = headers.get(b"content-type", b"").split(b";")[0].strip()
        marks = () if scope["path"].endswith("/upload") else NUL_MARKS.get(kind, ())
        await self.app(scope, _checked(receive, limit, marks), secured)


def _checked(receive: Receive, limit: int, marks: tuple[bytes, ...]) -> Receive:
    """``receive``, counting the body against ``limit`` and looking for the
    ``marks`` of a NUL (across the chunks' edges too)."""
    read, tail = 0, b""

    async def checked() -> Message:
        nonlocal read, tail
        message = await receive()
        chunk = message.get("body", b"")
        read += len(chunk)
        if read > limit:
            refusal = too_large(limit)
            raise Stop(refusal.status, refusal.message)
        if any(mark in tail + chunk for mark in marks):
            raise Stop(NUL.status, NUL.message)
        tail = (tail + chunk)[-8:]
        return message
    return checked


# -- uploads --------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """A multipart form read as it streamed in: its text fields and its one file."""

    fields: Mapping[str, str]
    filename: str
    data: bytes

    def field(self, name: str) -> str:
        return self.fields.get(name, "")


class _Parser(MultiPartParser):
    """Starlette's streaming parser, with a check that runs on the fields
    sent so far when the first file part begins (before any of its bytes)."""

    def __init__(self, request: Request, before_file: Callable[[dict[str, str]], None]):
        super().__init__(request.headers, request.stream(), max_files=1, max_fields=20)
        self.before_file = before_file

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        if self._current_part.file is not None:
            self.before_file({k: v for k, v in self.items if isinstance(v, str)})


def _accept(_fields: dict[str, str]) -> None:
    return None


async def read_upload(request: Request, before_file: Callable[[dict[str, str]], None]
                      = _accept) -> Upload:
    """The multipart form of ``request``, read only after the caller's rights
    were checked; ``before_file`` checks the fields that precede the file
    (a page's CSRF token) before the file is read.  The body's size is
    limited while it streams (:class:`Guard`)."""
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise Refused(415, "send the file as multipart/form-data, in a field called 'file'")
    try:
        form = await _Parser(request, before_file).parse()
    except MultiPartException as exc:
        raise Refused(422, f"the upload cannot be read: {exc.message}") from None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Refused(422, "the upload has no file: send it in a field called 'file'")
        data = await file.read()
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        return Upload(fields, file.filename or "", data)
    finally:
        await form.close()


def upload_body(**fields: str) -> dict[str, Any]:
    """The OpenAPI description of an upload route's multipart body: a
    ``file`` and the text ``fields`` (name → description)."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    properties.update({k: {"type": "string", "description": v} for k, v in fields.items()})
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file", *[k for k in fields if k == "name"]],
        "properties": properties}}}}}
