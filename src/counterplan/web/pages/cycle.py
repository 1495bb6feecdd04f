"""The plan cycle's pages: the office's board (every unit's indices as small
charts coloured by state, the exceptions escalated to it, newest first; the
cycle's setting; re-planning the plan in force), and the forms a unit
acknowledges an exception with."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Response
from starlette.concurrency import run_in_threadpool

from counterplan.web import minicharts
from counterplan.web.pages.common import AppState, PageRoute, Visitor, Writer, render, see_other
from counterplan.web.requests import Id
from counterplan.web.rights import Refused, actor
from counterplan.web.services import cycle

router = APIRouter(route_class=PageRoute)

DONE = {"settings": "The setting is saved: it applies from the next report."}


def board_url(plan: str, query: str = "") -> str:
    return f"/plans/{quote(plan, safe='')}/board" + (f"?{query}" if query else "")


@router.get("/plans/{plan}/board")
def board_page(plan: str, who: Visitor, state: AppState, done: str = "") -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        shown = cycle.board(db, state.cache, a)
    return render("board.html", viewer=who, title=f"{a.plan.title}: the office's board",
                  plan=a.plan.name, b=shown, notice=DONE.get(done, ""),
                  colours=cycle.STATES, chart=minicharts.index_chart)


@router.post("/plans/{plan}/cycle")
def settings(plan: str, who: Writer, state: AppState,
             escalate_after: Annotated[str, Form()] = "") -> Response:
    if not escalate_after.strip().isdigit():
        raise Refused(422, f"{escalate_after.strip()[:40]!r} is not a number of reports: give "
                           f"a whole number from 1 to {cycle.MOST_REPORTS}; nothing was changed")
    with state.tx() as db:
        cycle.set_escalate_after(db, actor(db, who.user, plan), int(escalate_after))
    return see_other(board_url(plan, "done=settings"))


@router.post("/plans/{plan}/replan")
async def replan(plan: str, who: Writer, state: AppState,
                 period: Annotated[str, Form()] = "") -> Response:
    made = await run_in_threadpool(cycle.replan_version, state.tx, state.cache, who.user, plan,
                                   period)
    return see_other(f"/plans/{quote(plan, safe='')}/compare/{made['in_force']}/"
                     f"{made['version']}")


@router.post("/plans/{plan}/exceptions/{exception}/acknowledge")
def acknowledge(plan: str, exception: Id, who: Writer, state: AppState,
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with state.tx() as db:
        done = cycle.acknowledge(db, actor(db, who.user, plan), exception, note)
    return see_other(f"/plans/{quote(plan, safe='')}/units/{quote(done['unit'], safe='')}"
                     "?done=acknowledged#exceptions")
