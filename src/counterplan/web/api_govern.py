"""The JSON API of the plan's self-government (docs/web.md, "Governing the
plan"): its rules, elections and recalls of delegates and the office,
criticism that must be answered, and the plan's variants chosen by every
member.  Handlers are glue, as in api.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from counterplan.web.api import Reader, Writer
from counterplan.web.requests import MAX_ID, AppState, Id
from counterplan.web.rights import actor
from counterplan.web.services import criticism, governance
from counterplan.web.services import variants as plan_variants
from counterplan.web.services.rules import set_rules

router = APIRouter(prefix="/api")


@router.get("/plans/{plan}/govern",
            summary="The plan's rules, seats, votes, recall petitions and terms")
def govern(plan: str, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return governance.overview(db, actor(db, who.user, plan))


class RulesBody(BaseModel):
    term_days: int | None = Field(None, description="how long an elected term runs (30-1830)")
    recall_share: float | None = Field(
        None, description="share of the electorate whose signatures start a recall "
                          "vote (0.01-0.5; 1/3 unless set)")
    answer_days: int | None = Field(None, description="days to answer a criticism (1-90)")
    vote_days: int | None = Field(None, description="days a vote stays open (1-30)")
    office_electorate: str | None = Field(None, description="members or delegates")


@router.post("/plans/{plan}/rules", summary="The office sets the plan's rules, within bounds")
def rules(plan: str, body: RulesBody, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return set_rules(db, actor(db, who.user, plan), body.model_dump())


class ElectionBody(BaseModel):
    seat: str = Field(description="delegate or office")
    unit: str = Field("", max_length=128, description="the unit, for its delegate")
    candidates: list[Annotated[str, Field(max_length=64)]] = Field(max_length=50)


@router.post("/plans/{plan}/elections", status_code=201,
             summary="Open the secret election of a unit's delegate or of the office")
def open_election(plan: str, body: ElectionBody, who: Writer, state: AppState
                  ) -> dict[str, Any]:
    with state.tx() as db:
        return governance.open_election(db, actor(db, who.user, plan), body.seat, body.unit,
                                        body.candidates)


@router.get("/plans/{plan}/elections/{vote}",
            summary="A vote: turnout and tallies once it is closed")
def election(plan: str, vote: Id, who: Reader, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return governance.show(db, actor(db, who.user, plan), vote)


class ChoicesBody(BaseModel):
    choices: dict[Annotated[int, Field(ge=0, le=MAX_ID)], bool] = Field(
        description="option position → approved (true) or not (false); a recall: "
                    "{1: true} to recall, {1: false} to keep")


@router.post("/plans/{plan}/elections/{vote}/ballot", status_code=201,
             summary="Cast your secret ballot (approval: approve any number of options)")
def ballot(plan: str, vote: Id, body: ChoicesBody, who: Writer, state: AppState
           ) -> dict[str, Any]:
    with state.tx() as db:
        return governance.cast(db, actor(db, who.user, plan), vote, body.choices)


class PetitionBody(BaseModel):
    seat: str = Field(description="delegate or office")
    unit: str = Field("", max_length=128)
    user: str = Field(max_length=64, description="who is to be recalled")
    reason: str = Field("", max_length=2000)


@router.post("/plans/{plan}/petitions", status_code=201,
             summary="Start (and sign) a petition to recall a delegate or an office holder")
def petition(plan: str, body: PetitionBody, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return governance.start_petition(db, actor(db, who.user, plan), body.seat, body.unit,
                                         body.user, body.reason)


@router.post("/plans/{plan}/petitions/{petition}/sign",
             summary="Sign a recall petition; the vote opens when enough have signed")
def sign(plan: str, petition: Id, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return governance.sign(db, actor(db, who.user, plan), petition)


class VariantBody(BaseModel):
    name: str = Field(max_length=150)
    changes: str = Field("", max_length=2000, description="lines 'target ITEM FACTOR' or "
                                                          "'weight PERIOD WEIGHT'")


class VariantsBody(BaseModel):
    variants: list[VariantBody] = Field(max_length=20)


@router.post("/plans/{plan}/variants", status_code=201,
             summary="The office publishes variants of the next version, each solved, to a "
                     "vote of every member")
def variants(plan: str, body: VariantsBody, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return plan_variants.publish_variants(db, state.cache, actor(db, who.user, plan),
                                           [(v.name, v.changes) for v in body.variants])


@router.get("/plans/{plan}/criticism", summary="Every criticism of the plan, newest first")
def criticisms(plan: str, who: Reader, state: AppState) -> list[dict[str, Any]]:
    with state.tx() as db:
        return criticism.criticisms(db, actor(db, who.user, plan))


class CriticismBody(BaseModel):
    to: str = Field(description="delegate (of your unit) or office")
    unit: str = Field("", max_length=128)
    text: str = Field(max_length=2000)
    anonymous: bool = Field(False, description="without your name: nothing keeps it")


@router.post("/plans/{plan}/criticism", status_code=201,
             summary="Criticise your unit's delegate or the office; they must answer")
def criticise(plan: str, body: CriticismBody, who: Writer, state: AppState
              ) -> dict[str, Any]:
    with state.tx() as db:
        return criticism.criticise(db, actor(db, who.user, plan), body.to, body.unit,
                                   body.text, body.anonymous)


class TextBody(BaseModel):
    text: str = Field(max_length=2000)


@router.post("/plans/{plan}/criticism/{item}/answer", summary="Answer a criticism, in public")
def answer(plan: str, item: Id, body: TextBody, who: Writer, state: AppState
           ) -> dict[str, Any]:
    with state.tx() as db:
        return criticism.answer(db, actor(db, who.user, plan), item, body.text)


class HideBody(BaseModel):
    ground: str = Field(description="personal-data, threat or not-about-the-plan")
    note: str = Field(max_length=2000, description="why, in words everyone reads")


@router.post("/plans/{plan}/criticism/{item}/hide",
             summary="The office hides a criticism's text on a stated ground, in public")
def hide(plan: str, item: Id, body: HideBody, who: Writer, state: AppState) -> dict[str, Any]:
    with state.tx() as db:
        return criticism.hide(db, actor(db, who.user, plan), item, body.ground, body.note)
