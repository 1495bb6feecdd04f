"""A unit's page and its forms: its part of the plan in force, proposals
judged at once, the delegate's submissions, the unit's secret votes and its
reports of actual activity."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from counterplan.web import charts, minicharts
from counterplan.web.pages.common import (
    AppState,
    Caller,
    PageRoute,
    Visitor,
    Writer,
    page_upload,
    render,
    see_other,
)
from counterplan.web.requests import MAX_ID, Id, PageNumber, State
from counterplan.web.rights import Refused, actor
from counterplan.web.services import conference, cycle, reports, rounds, versions, votes
from counterplan.web.services.limits import page_of

router = APIRouter(route_class=PageRoute)

#: What the unit page says after one of its forms has done its work.
DONE = {"submitted": "The proposal is submitted: it is in the planning office's inbox.",
        "poll": "The vote is open: every member of the unit may now cast one secret ballot.",
        "voted": "Your ballot is counted. The tallies are shown when the delegate closes "
                 "the vote.",
        "closed": "The vote is closed: each proposal with more yes than no is submitted to "
                  "the planning office.",
        "reported": "The report is saved; it counts in the plan fulfilment.",
        "raised": "The report is saved. The monitor raised an exception on the unit's "
                  "indices: see the unit's exceptions.",
        "acknowledged": "The exception is acknowledged with your note: it goes no further."}


def unit_url(plan: str, unit: str, query: str = "", anchor: str = "") -> str:
    return (f"/plans/{quote(plan, safe='')}/units/{quote(unit, safe='')}"
            + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else ""))


def made_ids(made: str) -> set[int]:
    return {int(x) for x in made.split(",") if x.strip().isdigit()}


@router.get("/plans/{plan}/units/{unit}")
def unit_page(plan: str, unit: str, who: Visitor, state: AppState, made: str = "",
              done: str = "", page: PageNumber = 1, exact: bool = False) -> Response:
    return render("unit.html", viewer=who,
                  **unit_context(plan, unit, who, state, made, done, page, exact))


def unit_context(plan: str, unit: str, who: Caller, state: State, made: str = "",
                 done: str = "", page: int = 1, exact: bool = False) -> dict[str, Any]:
    """What the unit page shows to ``who``."""
    with state.tx() as db:
        a = actor(db, who.user, plan)
        view = versions.unit_view(db, state.cache, a, unit)
        own = a.in_unit(unit)
        proposals = rounds.unit_proposals(db, a, unit) if own else []
        polls = votes.polls(db, a, unit) if own else []
        round_open = rounds.current_round(db, a) is not None
        exceptions = cycle.unit_exceptions(db, a, unit) if own else []
        watched = cycle.unit_indices(db, state.cache, a, unit) if own else []
        after = cycle.escalate_after(db, a.plan.id)
        offers = conference.offers(db, state.cache, a, unit, exact)
    fresh = made_ids(made)
    shown, pages = page_of(proposals, page)
    levels: dict[str, dict[str, float]] = {}
    for row in view["activity"]:
        levels.setdefault(row["technique"], {})[row["period"]] = row["level"]
    return {
        "title": f"{view['name']} ({unit})",
        "plan": a.plan.name, "plan_title": a.plan.title, "u": view, "own": own,
        "delegate": unit in a.delegate_of, "member": unit in a.member_of,
        "office": a.office, "round_open": round_open, "levels": levels,
        "offers": offers, "exact": exact,
        "proposals": proposals, "proposals_page": shown, "page": min(page, pages),
        "pages": pages,
        # in the order they were made (the file's order for an upload)
        "fresh": sorted((p for p in proposals if p["id"] in fresh), key=lambda p: p["id"]),
        "polls": polls, "poll_open": any(p["state"] == "open" for p in polls),
        "notice": DONE.get(done, ""), "form": {}, "refusal": None,
        "report_form": {}, "report_refusal": None,
        "exceptions": exceptions, "watched": watched, "escalate_after": after,
        "colours": cycle.STATES, "chart": minicharts.index_chart,
        "charts": {"activity": charts.planned_activity(view["activity"], view["techniques"]),
                   "shares": charts.balance_shares(view["balance"]),
                   "valuations": charts.unit_valuations(view["balance"],
                                                        money=view["numeraire"])}}


@router.post("/plans/{plan}/units/{unit}/proposals")
def propose(plan: str, unit: str, who: Writer, state: AppState,
            kind: Annotated[str, Form()] = "", technique: Annotated[str, Form()] = "",
            new_technique: Annotated[str, Form()] = "", item: Annotated[str, Form()] = "",
            period: Annotated[str, Form()] = "", value: Annotated[str, Form()] = "",
            note: Annotated[str, Form(max_length=2000)] = "",
            flows: Annotated[str, Form()] = "") -> Response:
    """One proposal from the form; the page it leads to shows its verdict.  A
    proposal the plan cannot read comes back in the form, with what is wrong."""
    name = new_technique if kind.strip() == "technique" else technique
    try:
        frame = rounds.form_rows(unit, kind, name, item, period, value, note, flows)
        made = rounds.propose(state.tx, state.cache, who.user, plan, unit, frame)
    except Refused as exc:
        if exc.status != 422:
            raise
        context = unit_context(plan, unit, who, state)
        context.update(refusal=exc, form={
            "kind": kind, "technique": technique, "new_technique": new_technique,
            "item": item, "period": period, "value": value, "note": note, "flows": flows})
        return render("unit.html", status=exc.status, viewer=who, **context)
    return see_other(unit_url(plan, unit, "made=" + ",".join(str(p["id"]) for p in made),
                              "made"))


@router.post("/plans/{plan}/units/{unit}/proposals/upload")
async def propose_file(plan: str, unit: str, request: Request, who: Visitor,
                       state: AppState) -> Response:
    upload = await page_upload(request, who)
    return await run_in_threadpool(_propose_file, plan, unit, who, state, upload.data,
                                   upload.filename or "counterplan.csv")


def _propose_file(plan: str, unit: str, who: Caller, state: State, data: bytes,
                  filename: str) -> Response:
    frame = rounds.upload_rows(data, filename, unit)
    made = rounds.propose(state.tx, state.cache, who.user, plan, unit, frame, filename)
    return see_other(unit_url(plan, unit, "made=" + ",".join(str(p["id"]) for p in made),
                              "made"))


@router.post("/plans/{plan}/proposals/{proposal}/submit")
def submit(plan: str, proposal: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        done = rounds.submit(db, actor(db, who.user, plan), proposal)
    return see_other(unit_url(plan, done["unit"], "done=submitted", "proposals"))


# -- votes ----------------------------------------------------------------------------

@router.post("/plans/{plan}/units/{unit}/polls")
def open_poll(plan: str, unit: str, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        votes.open_poll(db, actor(db, who.user, plan), unit)
    return see_other(unit_url(plan, unit, "done=poll", "votes"))


async def ballot_choices(request: Request) -> dict[int, bool]:
    """The ballot form's answers: a field ``vote-<proposal id>`` for each
    proposal answered, ``yes`` or ``no``."""
    form = await request.form()
    choices: dict[int, bool] = {}
    for key, answer in form.multi_items():
        if not key.startswith("vote-"):
            continue
        if not key[5:].isdigit() or int(key[5:]) > MAX_ID or answer not in ("yes", "no"):
            raise Refused(422, f"the ballot's field {key!r} = {str(answer)[:40]!r} is not "
                               "a proposal answered yes or no; nothing was counted")
        choices[int(key[5:])] = answer == "yes"
    return choices


@router.post("/plans/{plan}/polls/{poll}/ballot")
def ballot(plan: str, poll: Id, who: Writer, state: AppState,
           choices: Annotated[dict[int, bool], Depends(ballot_choices)]) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        votes.cast(db, a, poll, choices)
        unit = votes.show_poll(db, a, poll)["unit"]
    return see_other(unit_url(plan, unit, "done=voted", "votes"))


@router.post("/plans/{plan}/polls/{poll}/close")
def close_poll(plan: str, poll: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        closed = votes.close_poll(db, actor(db, who.user, plan), poll)
    return see_other(unit_url(plan, closed["unit"], "done=closed", "votes"))


# -- reports --------------------------------------------------------------------------

@router.post("/plans/{plan}/units/{unit}/reports")
def report(plan: str, unit: str, who: Writer, state: AppState,
           technique: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "",
           activity: Annotated[str, Form()] = "",
           note: Annotated[str, Form(max_length=2000)] = "",
           date: Annotated[str, Form(max_length=40)] = "") -> Response:
    """A report; one the plan refuses comes back in the form, as typed, with why."""
    try:
        with state.tx() as db:
            made = reports.report(db, state.cache, actor(db, who.user, plan), unit, technique,
                                  period, reports.activity_of(activity), note,
                                  cycle.parse_date(date))
    except Refused as exc:
        if exc.status != 422:
            raise
        context = unit_context(plan, unit, who, state)
        context.update(report_refusal=exc, report_form={
            "technique": technique, "period": period, "activity": activity, "note": note,
            "date": date})
        return render("unit.html", status=exc.status, viewer=who, **context)
    if made["exceptions"]["raised"]:
        return see_other(unit_url(plan, unit, "done=raised", "exceptions"))
    return see_other(unit_url(plan, unit, "done=reported", "report"))
