"""Logging in and out, and the home page: my plans, and new plans made from
a bundled example or an uploaded plan folder."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from counterplan import examples
from counterplan.web import auth
from counterplan.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    log_out,
    login_request,
    same,
    set_device_cookie,
)
from counterplan.web.pages.common import (
    AppState,
    Caller,
    PageRoute,
    Visitor,
    Writer,
    local,
    page_upload,
    render,
    see_other,
)
from counterplan.web.requests import State, set_session_cookie
from counterplan.web.rights import Refused
from counterplan.web.services import versions

router = APIRouter(route_class=PageRoute)


def login_page(state: AppState, status: int = 200, message: str = "", name: str = "",
               next: str = "/") -> Response:
    """The login form with a fresh pre-login CSRF token, in a cookie and in
    the form (double submit)."""
    token = secrets.token_urlsafe(32)
    response = render("login.html", status=status, title="Log in", csrf=token,
                      message=message, name=name, next=local(next))
    response.set_cookie(CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                        secure=state.settings.secure_cookies, path="/login")
    return response


@router.get("/login")
def login_form(state: AppState, next: str = "/") -> Response:
    return login_page(state, next=next)


@router.post("/login")
def login(request: Request, state: AppState, name: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    if not same(request.cookies.get(CSRF_COOKIE), csrf):
        return login_page(state, 403, "The login form was not sent from this site, or it "
                                      "is too old: nobody was logged in. Try again here.",
                          name, next)
    try:
        done = login_request(state.factory, request, name, password)
    except Refused as exc:
        return login_page(state, exc.status, exc.message, name, next)
    response = see_other(local(next))
    set_session_cookie(response, done.token, state.settings.secure_cookies)
    set_device_cookie(response, done, state.settings.secure_cookies)
    response.delete_cookie(CSRF_COOKIE, path="/login")
    return response


@router.get("/account/password")
def password_form(who: Visitor) -> Response:
    return render("password.html", viewer=who, title="Change your password", message="")


@router.post("/account/password")
def change_password(request: Request, who: Writer, state: AppState,
                    current: Annotated[str, Form(max_length=1024)] = "",
                    new: Annotated[str, Form(max_length=1024)] = "",
                    again: Annotated[str, Form(max_length=1024)] = "") -> Response:
    """A new password for the visitor; the form comes back with what is wrong."""
    try:
        if new != again:
            raise Refused(422, "the two new passwords differ; nothing was changed")
        auth.change_password(state.factory, who.user, current, new, auth.client_address(request),
                             keep=who.token)
    except Refused as exc:
        return render("password.html", status=exc.status, viewer=who,
                      title="Change your password", message=exc.message)
    return see_other("/?done=password")


@router.post("/logout")
def logout(who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        log_out(db, who.token)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(who: Visitor, state: AppState) -> Response:
    with state.tx() as db:
        plans = versions.my_plans(db, who.user)
    return render("home.html", viewer=who, title="My plans", plans=plans,
                  examples=[(n, examples.describe(n)) for n in examples.names()])


@router.post("/plans/example")
def plan_from_example(who: Writer, state: AppState, name: Annotated[str, Form()] = "",
                      example: Annotated[str, Form()] = "",
                      title: Annotated[str, Form()] = "") -> Response:
    economy = versions.economy_of_example(example)
    with state.tx() as db:
        plan = versions.create_plan(db, who.user, name.strip(), title, economy)
    return see_other(f"/plans/{plan.name}?done=created")


@router.post("/plans/upload")
async def plan_from_upload(request: Request, who: Visitor, state: AppState) -> Response:
    upload = await page_upload(request, who)
    return await run_in_threadpool(_create_uploaded, who, state, upload.field("name").strip(),
                                   upload.field("title"), upload.data,
                                   upload.filename or "upload.zip")


def _create_uploaded(who: Caller, state: State, name: str, title: str, data: bytes,
                     filename: str) -> Response:
    economy = versions.economy_of_upload(data, filename)
    with state.tx() as db:
        plan = versions.create_plan(db, who.user, name, title, economy)
    return see_other(f"/plans/{plan.name}?done=created")
