"""The pages' static files (style, script, the chart library): each is named
in the pages with a digest of its content, so that a browser keeps it until
it changes instead of asking again at every page."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
#: how long a browser may keep a file named with its digest: a year, the
#: longest HTTP caches honour (RFC 9111); the name changes when the file does
KEEP = "public, max-age=31536000, immutable"


@cache
def asset_url(path: str) -> str:
    """The address of the static file ``path`` with its content's digest."""
    digest = hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:16]
    return f"/static/{path}?v={digest}"


class Assets(StaticFiles):
    """The static files; asked for with their digest they may be kept (the
    digest of a file as it is now is what the pages name), otherwise the
    browser asks again each time."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        named = response.status_code == 200 and asset_url(path).endswith(
            "?" + scope.get("query_string", b"").decode("latin-1"))
        response.headers["Cache-Control"] = KEEP if named else "no-cache"
        return response
