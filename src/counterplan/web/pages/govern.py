"""The plan's self-government as pages: who holds which seat and until
when, elections and recalls with their secret ballots, the vote on the
plan's variants, the rules, and the forms of criticism (shown on the plan
page).  The handlers call the same services as the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from counterplan.web.pages.common import (
    AppState,
    PageRoute,
    Visitor,
    Writer,
    render,
    see_other,
)
from counterplan.web.requests import MAX_ID, Id
from counterplan.web.rights import Refused, actor
from counterplan.web.services import criticism, governance
from counterplan.web.services import variants as plan_variants
from counterplan.web.services.rules import set_rules

router = APIRouter(route_class=PageRoute)

#: What the page says after one of its forms has done its work.
DONE = {"election": "The election is open: its electorate may now cast one secret ballot "
                    "each until it closes.",
        "voted": "Your ballot is counted. Turnout and tallies are shown when the vote closes.",
        "petition": "The petition is signed.",
        "variants": "The variants are solved and put to the vote of every member.",
        "rules": "The rules are changed."}


def govern_url(plan: str, anchor: str = "", done: str = "") -> str:
    return f"/plans/{plan}/govern" + (f"?done={done}" if done else "") + \
        (f"#{anchor}" if anchor else "")


@router.get("/plans/{plan}/govern")
def govern_page(plan: str, who: Visitor, state: AppState, done: str = "") -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        view = governance.overview(db, a)
    units = [s["unit"] for s in view["seats"] if s["unit"]] if a.office else sorted(a.units)
    return render("govern.html", viewer=who, title=f"{a.plan.title}: who decides",
                  plan=a.plan.name, office=a.office, g=view, notice=DONE.get(done, ""),
                  units=units, member_of=sorted(a.member_of))


@router.post("/plans/{plan}/rules")
def rules(plan: str, who: Writer, state: AppState,
          term_days: Annotated[int, Form(ge=0, le=MAX_ID)],
          recall_share: Annotated[float, Form()],
          answer_days: Annotated[int, Form(ge=0, le=MAX_ID)],
          vote_days: Annotated[int, Form(ge=0, le=MAX_ID)],
          office_electorate: Annotated[str, Form()]) -> Response:
    with state.tx() as db:
        set_rules(db, actor(db, who.user, plan), {
            "term_days": term_days, "recall_share": recall_share, "answer_days": answer_days,
            "vote_days": vote_days, "office_electorate": office_electorate})
    return see_other(govern_url(plan, "rules", "rules"))


@router.post("/plans/{plan}/elections")
def open_election(plan: str, who: Writer, state: AppState, seat: Annotated[str, Form()] = "",
                  unit: Annotated[str, Form(max_length=128)] = "",
                  candidates: Annotated[str, Form(max_length=4000)] = "") -> Response:
    with state.tx() as db:
        made = governance.open_election(db, actor(db, who.user, plan), seat, unit,
                                        candidates.splitlines())
    return see_other(govern_url(plan, f"vote-{made['id']}", "election"))


async def choices_of(request: Request) -> dict[int, bool]:
    """The ballot form's answers: ``choice-<position>`` = ``yes`` for each
    option approved (a recall: ``yes`` or ``no``)."""
    form = await request.form()
    choices: dict[int, bool] = {}
    for key, answer in form.multi_items():
        if not key.startswith("choice-"):
            continue
        if not key[7:].isdigit() or int(key[7:]) > MAX_ID or answer not in ("yes", "no"):
            raise Refused(422, f"the ballot's field {key!r} = {str(answer)[:40]!r} is not an "
                               "option answered yes or no; nothing was counted")
        choices[int(key[7:])] = answer == "yes"
    return choices


@router.post("/plans/{plan}/elections/{vote}/ballot")
def ballot(plan: str, vote: Id, who: Writer, state: AppState,
           choices: Annotated[dict[int, bool], Depends(choices_of)]) -> Response:
    with state.tx() as db:
        governance.cast(db, actor(db, who.user, plan), vote, choices)
    return see_other(govern_url(plan, f"vote-{vote}", "voted"))


@router.post("/plans/{plan}/petitions")
def petition(plan: str, who: Writer, state: AppState, seat: Annotated[str, Form()] = "",
             unit: Annotated[str, Form(max_length=128)] = "",
             user: Annotated[str, Form(max_length=64)] = "",
             reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with state.tx() as db:
        made = governance.start_petition(db, actor(db, who.user, plan), seat, unit, user,
                                         reason)
    return see_other(govern_url(plan, f"petition-{made['id']}", "petition"))


@router.post("/plans/{plan}/petitions/{petition_id}/sign")
def sign(plan: str, petition_id: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        governance.sign(db, actor(db, who.user, plan), petition_id)
    return see_other(govern_url(plan, f"petition-{petition_id}", "petition"))


@router.post("/plans/{plan}/variants")
async def variants(plan: str, request: Request, who: Writer, state: AppState) -> Response:
    """Variants from the form's pairs ``name-<k>`` and ``changes-<k>``."""
    form = await request.form()
    pairs = []
    for k in range(1, plan_variants.MOST_VARIANTS + 1):
        name, changes = form.get(f"name-{k}", ""), form.get(f"changes-{k}", "")
        pairs.append((name if isinstance(name, str) else "",
                      changes if isinstance(changes, str) else ""))
    with state.tx() as db:
        made = plan_variants.publish_variants(db, state.cache, actor(db, who.user, plan), pairs)
    return see_other(govern_url(plan, f"vote-{made['id']}", "variants"))


# -- criticism (shown on the plan page) ------------------------------------------------

def plan_url(plan: str, anchor: str, done: str = "") -> str:
    return f"/plans/{plan}" + (f"?done={done}" if done else "") + f"#{anchor}"


@router.post("/plans/{plan}/criticism")
def criticise(plan: str, who: Writer, state: AppState, to: Annotated[str, Form()] = "",
              text: Annotated[str, Form(max_length=2000)] = "",
              anonymous: Annotated[str, Form()] = "") -> Response:
    """``to`` is ``office`` or ``delegate:<unit>``."""
    role, _, unit = to.partition(":")
    with state.tx() as db:
        made = criticism.criticise(db, actor(db, who.user, plan), role, unit, text,
                                   anonymous == "yes")
    return see_other(plan_url(plan, f"criticism-{made['id']}", "criticised"))


@router.post("/plans/{plan}/criticism/{item}/answer")
def answer(plan: str, item: Id, who: Writer, state: AppState,
           text: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with state.tx() as db:
        criticism.answer(db, actor(db, who.user, plan), item, text)
    return see_other(plan_url(plan, f"criticism-{item}", "answered"))


@router.post("/plans/{plan}/criticism/{item}/hide")
def hide(plan: str, item: Id, who: Writer, state: AppState,
         ground: Annotated[str, Form()] = "",
         note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    with state.tx() as db:
        criticism.hide(db, actor(db, who.user, plan), item, ground, note)
    return see_other(plan_url(plan, f"criticism-{item}", "hidden"))
