"""The JSON API: every action of the app, as the OpenAPI document at
/openapi.json describes it.  Handlers are glue: they open one transaction,
find the caller's rights in the plan and call a service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from counterplan.web.auth import (
    SESSION_COOKIE,
    Caller,
    caller_of,
    change_password,
    client_address,
    log_out,
    login_request,
    same,
    set_device_cookie,
)
from counterplan.web.requests import (
    MAX_ID,
    AppState,
    Id,
    PageNumber,
    paged,
    read_upload,
    set_session_cookie,
    state_of,
    upload_body,
)
from counterplan.web.rights import Refused, actor
from counterplan.web.services import (
    competition,
    conference,
    cycle,
    reports,
    rounds,
    versions,
    votes,
)

router = APIRouter(prefix="/api")


def caller(request: Request) -> Caller:
    found = caller_of(state_of(request).factory, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise Refused(401, "log in first: POST /api/login with your name and password")
    return found


def writer(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
    """A caller allowed to change state: the CSRF header must match the session's."""
    if not same(request.headers.get("x-csrf-token"), who.csrf):
        raise Refused(403, "missing or wrong CSRF token: send the X-CSRF-Token header that "
                           "POST /api/login returned")
    return who


Reader = Annotated[Caller, Depends(caller)]
Writer = Annotated[Caller, Depends(writer)]


# -- accounts -------------------------------------------------------------------------

class LoginBody(BaseModel):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


@router.post("/login", summary="Log in; returns the CSRF token for later calls")
def login(body: LoginBody, request: Request, response: Response, state: AppState
          ) -> dict[str, str]:
    done = login_request(state.factory, request, body.name, body.password)
    set_session_cookie(response, done.token, state.settings.secure_cookies)
    set_device_cookie(response, done, state.settings.secure_cookies)
    return {"user": done.user.name, "csrf": done.csrf}


class PasswordBody(BaseModel):
    current: str = Field(max_length=1024)
    new: str = Field(max_length=1024)


@router.post("/password", summary="Change your password; your other sessions end")
def password(body: PasswordBody, request: Request, who: Writer, state: AppState
             ) -> dict[str, bool]:
    change_password(state.factory, who.user, body.current, body.new, client_address(request),
                    keep=who.token)
    return {"changed": True}


@router.post("/logout")
def logout(request: Request, response: Response, who: Writer, state: AppState
           ) -> dict[str, bool]:
    with state.tx() as db:
        log_out(db, who.token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"logged_out": True}


@router.get("/me")
def me(who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return {"user": who.user.name, "csrf": who.csrf, "plans": versions.my_plans(db, who.user)}


# -- plans and versions ---------------------------------------------------------------

class ExampleBody(BaseModel):
    name: str
    example: str
    title: str = ""


@router.get("/plans")
def plans(who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return versions.my_plans(db, who.user)


@router.post("/plans/example", status_code=201,
             summary="Create a plan from a bundled example; you become its office")
def plan_from_example(body: ExampleBody, who: Writer, state: AppState) -> dict[str, Any]:
    economy = versions.economy_of_example(body.example)
    with state.tx() as db:
        plan = versions.create_plan(db, who.user, body.name, body.title, economy)
        return {"plan": plan.name, "title": plan.title}


@router.post("/plans/upload", status_code=201,
             summary="Create a plan from a zipped plan folder; you become its office",
             openapi_extra=upload_body(name="the plan's name", title="its title (optional)"))
async def plan_from_upload(request: Request, who: Writer, state: AppState) -> dict[str, Any]:
    """The body is read only once the session and the CSRF header are checked."""
    upload = await read_upload(request)

    def create() -> dict[str, Any]:  # reading and solving: in a worker thread
        economy = versions.economy_of_upload(upload.data, upload.filename or "upload.zip")
        with state.tx() as db:
            plan = versions.create_plan(db, who.user, upload.field("name").strip(),
                                        upload.field("title"), economy)
            return {"plan": plan.name, "title": plan.title}
    return await run_in_threadpool(create)


@router.get("/plans/{plan}")
def plan(plan: str, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        current = versions.published(db, a.plan)
        return {"plan": a.plan.name, "title": a.plan.title, "description": a.plan.description,
                "roles": a.roles(), "versions": versions.versions(db, a),
                "published": None if current is None else current.number,
                "rounds": rounds.rounds(db, a)}


class MemberBody(BaseModel):
    user: str
    role: str
    unit: str = ""


@router.post("/plans/{plan}/members", status_code=201)
def add_member(plan: str, body: MemberBody, who: Writer, state: AppState) -> dict[str, str]:
    with state.tx() as db:
        return versions.grant(db, actor(db, who.user, plan), body.user, body.role, body.unit,
                              state.cache)


@router.get("/plans/{plan}/versions/{number}")
def version(plan: str, number: Id, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return versions.detail(db, state.cache, actor(db, who.user, plan), number)


@router.get("/plans/{plan}/compare/{first}/{second}")
def compare(plan: str, first: Id, second: Id, who: Reader, state: AppState
            ) -> dict[str, Any]:
    with state.tx() as db:
        return versions.compare(db, state.cache, actor(db, who.user, plan), first, second)


@router.post("/plans/{plan}/versions/{number}/publish")
def publish(plan: str, number: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return versions.publish(db, actor(db, who.user, plan), number)


# -- rounds, proposals, votes ---------------------------------------------------------

@router.post("/plans/{plan}/rounds", status_code=201)
def open_round(plan: str, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return rounds.open_round(db, actor(db, who.user, plan))


@router.get("/plans/{plan}/rounds/{number}/submitted")
def submitted(plan: str, number: Id, who: Reader, state: AppState, response: Response,
              page: PageNumber = 1) -> list[dict[str, Any]]:
    with state.tx() as db:
        return paged(rounds.submitted(db, actor(db, who.user, plan), number), page, response)


@router.post("/plans/{plan}/rounds/{number}/reconcile")
def reconcile(plan: str, number: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return rounds.reconcile_round(db, state.cache, actor(db, who.user, plan), number)


@router.get("/plans/{plan}/rounds/{number}/outcomes")
def outcomes(plan: str, number: Id, who: Reader, state: AppState, response: Response,
             page: PageNumber = 1) -> list[dict[str, Any]]:
    with state.tx() as db:
        return paged(rounds.outcomes(db, actor(db, who.user, plan), number), page, response)


@router.get("/plans/{plan}/units/{unit}")
def unit(plan: str, unit: str, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return versions.unit_view(db, state.cache, actor(db, who.user, plan), unit)


@router.get("/plans/{plan}/units/{unit}/conference",
            summary="Better norms adopted elsewhere that the unit's techniques could match")
def unit_conference(plan: str, unit: str, who: Reader, state: AppState, exact: bool = False
                    ) -> list[dict[str, Any]]:
    """Each offer with the norm value to propose, the estimated gain and, with
    ``exact=true``, the exact gain from the evaluator (one evaluation each)."""
    with state.tx() as db:
        return conference.offers(db, state.cache, actor(db, who.user, plan), unit, exact)


@router.get("/plans/{plan}/norms", summary="The best norm of every product and who holds it")
def best_norms(plan: str, who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return conference.best(db, state.cache, actor(db, who.user, plan))


class ProposalBody(BaseModel):
    kind: str = Field(description="pledge, norm, capacity or technique")
    technique: str = ""
    item: str = ""
    period: str = ""
    value: str = Field("", description="a number, as in counterplan.csv")
    note: str = Field("", max_length=2000)
    flows: str = Field("", description="a new technique's flows: 'item amount' per line")


@router.post("/plans/{plan}/units/{unit}/proposals", status_code=201,
             summary="Propose a counter-plan; the verdict comes back at once")
def propose(plan: str, unit: str, body: ProposalBody, who: Writer, state: AppState
            ) -> dict[str, Any]:
    frame = rounds.form_rows(unit, body.kind, body.technique, body.item, body.period,
                             body.value, body.note, body.flows)
    return rounds.propose(state.tx, state.cache, who.user, plan, unit, frame)[0]


@router.post("/plans/{plan}/units/{unit}/proposals/upload", status_code=201,
             summary="Propose the counter-plans of a counterplan.csv file",
             openapi_extra=upload_body())
async def propose_file(plan: str, unit: str, request: Request, who: Writer,
                       state: AppState) -> list[dict[str, Any]]:
    """The body is read only once the session and the CSRF header are checked."""
    upload = await read_upload(request)
    name = upload.filename or "counterplan.csv"

    def judge() -> list[dict[str, Any]]:  # judging: in a worker thread
        frame = rounds.upload_rows(upload.data, name, unit)
        return rounds.propose(state.tx, state.cache, who.user, plan, unit, frame, name)
    return await run_in_threadpool(judge)


@router.get("/plans/{plan}/units/{unit}/proposals",
            summary="The unit's proposals, newest first, 50 a page")
def proposals(plan: str, unit: str, who: Reader, state: AppState, response: Response,
              page: PageNumber = 1) -> list[dict[str, Any]]:
    with state.tx() as db:
        return paged(rounds.unit_proposals(db, actor(db, who.user, plan), unit), page,
                     response)


@router.post("/plans/{plan}/proposals/{proposal}/submit")
def submit(plan: str, proposal: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return rounds.submit(db, actor(db, who.user, plan), proposal)


@router.post("/plans/{plan}/units/{unit}/polls", status_code=201,
             summary="Open a secret vote on the unit's waiting proposals")
def open_poll(plan: str, unit: str, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return votes.open_poll(db, actor(db, who.user, plan), unit)


@router.get("/plans/{plan}/units/{unit}/polls")
def polls(plan: str, unit: str, who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return votes.polls(db, actor(db, who.user, plan), unit)


@router.get("/plans/{plan}/polls/{poll}")
def poll(plan: str, poll: Id, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return votes.show_poll(db, actor(db, who.user, plan), poll)


class BallotBody(BaseModel):
    choices: dict[Annotated[int, Field(ge=0, le=MAX_ID)], bool] = Field(
        description="proposal id → yes (true) or no (false)")


@router.post("/plans/{plan}/polls/{poll}/ballot", status_code=201)
def ballot(plan: str, poll: Id, body: BallotBody, who: Writer, state: AppState
           ) -> dict[str, Any]:
    with state.tx() as db:
        return votes.cast(db, actor(db, who.user, plan), poll, body.choices)


@router.post("/plans/{plan}/polls/{poll}/close")
def close_poll(plan: str, poll: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return votes.close_poll(db, actor(db, who.user, plan), poll)


# -- reports and fulfilment -----------------------------------------------------------

class ReportBody(BaseModel):
    technique: str
    period: str
    activity: float
    note: str = Field("", max_length=2000)
    date: str | None = Field(None, max_length=40, description=(
        "ISO date (YYYY-MM-DD) within the period: the activity is then cumulative from "
        "the period's first day to that day, and the monitor watches it; none for a report "
        "of the whole period"))


@router.post("/plans/{plan}/units/{unit}/reports", status_code=201,
             summary="Report activity; with a date, exceptions raised or escalated come back")
def report(plan: str, unit: str, body: ReportBody, who: Writer, state: AppState
           ) -> dict[str, Any]:
    with state.tx() as db:
        return reports.report(db, state.cache, actor(db, who.user, plan), unit,
                              body.technique, body.period, body.activity, body.note,
                              cycle.parse_date(body.date))


@router.get("/plans/{plan}/fulfilment")
def fulfilment(plan: str, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return reports.fulfilment(db, state.cache, actor(db, who.user, plan))


# -- the plan cycle: exceptions, the office's board, re-planning ----------------------

@router.get("/plans/{plan}/units/{unit}/exceptions",
            summary="The unit's exceptions, newest first (the unit's own)")
def exceptions(plan: str, unit: str, who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return cycle.unit_exceptions(db, actor(db, who.user, plan), unit)


class AcknowledgeBody(BaseModel):
    note: str = Field(max_length=2000, description="what the unit does about it")


@router.post("/plans/{plan}/exceptions/{exception}/acknowledge",
             summary="The unit acknowledges an exception with a note: it goes no further")
def acknowledge(plan: str, exception: Id, body: AcknowledgeBody, who: Writer,
                state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return cycle.acknowledge(db, actor(db, who.user, plan), exception, body.note)


@router.get("/plans/{plan}/board",
            summary="The office's board: every unit's indices, escalated exceptions")
def board(plan: str, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return cycle.board(db, state.cache, actor(db, who.user, plan))


class CycleBody(BaseModel):
    escalate_after: int = Field(description="reports of an index after an exception, "
                                            "unacknowledged and not recovered, before it "
                                            "goes to the office's board")


@router.post("/plans/{plan}/cycle", summary="Change the plan's cycle settings")
def cycle_settings(plan: str, body: CycleBody, who: Writer, state: AppState
                   ) -> dict[str, int]:
    with state.tx() as db:
        return cycle.set_escalate_after(db, actor(db, who.user, plan), body.escalate_after)


class ReplanBody(BaseModel):
    period: str = Field(max_length=200, description="the first period to re-plan")


@router.post("/plans/{plan}/replan", status_code=201,
             summary="Re-plan the plan in force from a period on the reports received: a "
                     "new draft version")
def replan(plan: str, body: ReplanBody, who: Writer, state: AppState) -> dict[str, Any]:
    return cycle.replan_version(state.tx, state.cache, who.user, plan, body.period)
# -- competition between units ---------------------------------------------------------

@router.get("/plans/{plan}/challenges",
            summary="Every challenge between units, with its running standings")
def challenges(plan: str, who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return competition.challenges(db, state.cache, actor(db, who.user, plan))


class ChallengeBody(BaseModel):
    unit: str = Field(max_length=200, description="the challenging unit (you are its delegate)")
    opponent: str = Field(max_length=200, description="the unit challenged")
    measure: str = Field(max_length=200, description="fulfilment, norms or delivery")
    item: str = Field("", max_length=200, description="delivery: the product")
    first_period: str = Field("", max_length=200)
    last_period: str = Field("", max_length=200)
    rules: str = Field("", max_length=2000, description="what is at stake, in words")


@router.post("/plans/{plan}/challenges", status_code=201,
             summary="Challenge another unit on a measure over a span of periods")
def make_challenge(plan: str, body: ChallengeBody, who: Writer, state: AppState
                   ) -> dict[str, Any]:
    with state.tx() as db:
        return competition.make(db, state.cache, actor(db, who.user, plan), body.unit,
                                body.opponent, body.measure, body.item, body.first_period,
                                body.last_period, body.rules)


@router.post("/plans/{plan}/challenges/{number}/accept")
def accept_challenge(plan: str, number: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return competition.answer(db, actor(db, who.user, plan), number, True)


@router.post("/plans/{plan}/challenges/{number}/decline")
def decline_challenge(plan: str, number: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return competition.answer(db, actor(db, who.user, plan), number, False)
