"""The pages (server-rendered with Jinja2).  Placeholder until the pages land."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from counterplan.web.rights import Refused

router = APIRouter()


def error_page(request: Request, exc: Refused) -> Response:
    from html import escape

    return HTMLResponse(f"<p>{escape(exc.message)}</p>", status_code=exc.status)
