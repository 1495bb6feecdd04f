"""What every page shares: the templates, the logged-in visitor, the CSRF
check of forms, the route class that turns a refusal into the error page,
and the number format."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from counterplan.web.assets import asset_url
from counterplan.web.auth import SESSION_COOKIE, Caller, caller_of, same
from counterplan.web.numbers import amount, humane, judged, number, percent
from counterplan.web.requests import AppState, Upload, problems_of, read_upload, state_of
from counterplan.web.rights import Refused

TEMPLATES = Path(__file__).parent.parent / "templates"


templates = Environment(loader=FileSystemLoader(TEMPLATES),
                        autoescape=select_autoescape(default=True, default_for_string=True),
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
templates.filters["number"] = number
templates.filters["percent"] = percent
templates.filters["amount"] = amount
templates.filters["humane"] = humane
templates.globals["judged"] = judged
templates.globals["asset"] = asset_url
#: The verdicts of the library's evaluator, in the pages' words.
templates.globals["verdict_words"] = {"accepted": "fits the plan", "partial": "fits in part",
                                      "rejected": "does not fit"}


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """``template`` as a page; ``viewer`` is None on the pages seen
    before logging in."""
    context.setdefault("viewer", None)
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


# -- who is looking -------------------------------------------------------------------

class LoginNeeded(Exception):
    """The page needs a logged-in visitor; the route sends the browser to /login."""




def viewer(request: Request) -> Caller:
    found = caller_of(state_of(request).factory, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginNeeded
    return found


def check_csrf(sent: object, who: Caller) -> None:
    if not same(sent if isinstance(sent, str) else None, who.csrf):
        raise Refused(403, "this form was not sent from a page of this site, or it is "
                           "older than your login (its security token does not match): "
                           "nothing was changed. Go back, reload the page and send it again")


async def writer(request: Request, who: Annotated[Caller, Depends(viewer)]) -> Caller:
    """A visitor sending a form: its hidden ``csrf`` field must be the session's."""
    form = await request.form()
    check_csrf(form.get("csrf"), who)
    return who


async def page_upload(request: Request, who: Caller) -> Upload:
    """An upload form of a logged-in visitor (the route's Visitor is checked
    before any of the body is read); its ``csrf`` field, sent before the
    file, must match before the file is read."""
    return await read_upload(request, lambda fields: check_csrf(fields.get("csrf"), who))


Visitor = Annotated[Caller, Depends(viewer)]
Writer = Annotated[Caller, Depends(writer)]
__all__ = ["AppState", "Caller", "PageRoute", "Visitor", "Writer", "page_upload", "render",
           "see_other"]


def local(url: str) -> str:
    """``url`` when it is a path of this site, else the home page (a login
    link must not send anyone elsewhere)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or \
            "\\" in url:
        return "/"
    return url


def see_other(url: str) -> RedirectResponse:
    """After a form: go to ``url`` with GET (so a reload sends nothing twice)."""
    return RedirectResponse(url, status_code=303)


# -- refusals -------------------------------------------------------------------------

def back_link(request: Request) -> str:
    """Where the error page's link goes: the page the form was on when the
    browser says so and it is this site's, else the plan's page or home."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/") and \
            not referer.path.startswith("//"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    parts = request.url.path.split("/")
    return f"/plans/{parts[2]}" if len(parts) > 3 and parts[1] == "plans" else "/"


def error_page(request: Request, exc: Refused) -> Response:
    """A refusal as a page: what was refused, why, and a way back."""
    titles = {401: "Please log in", 403: "Not allowed", 404: "Not found", 409: "Not now",
              413: "Too large", 422: "Something in the form is not right",
              429: "Too many tries"}
    return render("error.html", status=exc.status, title=titles.get(exc.status, "Refused"),
                  message=exc.message, problems=exc.problems, back=back_link(request))


class PageRoute(APIRoute):
    """A page's route: a visitor who is not logged in goes to /login; a
    refusal (or a malformed request) is shown as the error page with its
    status, whatever the browser says it accepts."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded:  # back here after logging in
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return see_other("/login" if here == "/" or request.method != "GET"
                                 else f"/login?next={quote(here, safe='')}")
            except Refused as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                return error_page(request, problems_of(exc))

        return route
