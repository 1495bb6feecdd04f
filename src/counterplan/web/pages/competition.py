"""The plan's challenges between units: every challenge, its rules and its
running standings with how each number was computed; a delegate's form to
challenge another unit; the challenged delegate's answer."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Response

from counterplan.web.pages.common import AppState, PageRoute, Visitor, Writer, render, see_other
from counterplan.web.requests import Id
from counterplan.web.rights import actor
from counterplan.web.services import competition, versions

router = APIRouter(route_class=PageRoute)

DONE = {"made": "The challenge is made: it is public to the plan, and waits for the other "
                "unit's delegate to accept or decline it.",
        "accepted": "The challenge is accepted: its standings run from the reports.",
        "declined": "The challenge is declined."}


def _url(plan: str, done: str = "", number: int | None = None) -> str:
    return (f"/plans/{quote(plan, safe='')}/challenges" + (f"?done={done}" if done else "")
            + (f"#challenge-{number}" if number else ""))


@router.get("/plans/{plan}/challenges")
def challenges_page(plan: str, who: Visitor, state: AppState, done: str = "") -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        rows = competition.challenges(db, state.cache, a)
        version = versions.in_force(db, a)
        economy = versions.loaded(db, state.cache, version).economy
    return render("challenges.html", viewer=who, title=f"{a.plan.title}: challenges",
                  plan=a.plan.name, challenges=rows, notice=DONE.get(done, ""),
                  delegate_of=sorted(a.delegate_of), units=[str(u) for u in economy.units.index],
                  periods=list(economy.periods), measures=competition.MEASURE_WORDS,
                  products=[str(i) for i in economy.items.index[economy.products]])


@router.post("/plans/{plan}/challenges")
def make(plan: str, who: Writer, state: AppState, unit: Annotated[str, Form()] = "",
         opponent: Annotated[str, Form()] = "", measure: Annotated[str, Form()] = "",
         item: Annotated[str, Form()] = "", first_period: Annotated[str, Form()] = "",
         last_period: Annotated[str, Form()] = "",
         rules: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with state.tx() as db:
        made = competition.make(db, state.cache, actor(db, who.user, plan), unit, opponent,
                                measure, item, first_period, last_period, rules)
    return see_other(_url(plan, "made", made["number"]))


@router.post("/plans/{plan}/challenges/{number}/accept")
def accept(plan: str, number: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        competition.answer(db, actor(db, who.user, plan), number, True)
    return see_other(_url(plan, "accepted", number))


@router.post("/plans/{plan}/challenges/{number}/decline")
def decline(plan: str, number: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        competition.answer(db, actor(db, who.user, plan), number, False)
    return see_other(_url(plan, "declined", number))
