"""A plan's pages: its overview (versions, rounds, units, the office's
inbox and roles), a version, two versions compared, a round's outcomes, and
plan fulfilment with the ranking of the units."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Response

from counterplan.web import charts
from counterplan.web.pages.common import (
    AppState,
    PageRoute,
    Visitor,
    Writer,
    render,
    see_other,
)
from counterplan.web.requests import Id, PageNumber
from counterplan.web.rights import actor
from counterplan.web.services import conference, criticism, reports, rounds, versions
from counterplan.web.services.limits import page_of

router = APIRouter(route_class=PageRoute)

#: What the plan page says after a form of the office has done its work.
DONE = {"created": "The plan is made. Its first version is a draft that only the office "
                   "sees: publish it when it is ready.",
        "published": "The version is published: it is now the plan in force for everyone.",
        "round": "A round is open: the units can now propose counter-plans.",
        "granted": "The role is given.",
        "criticised": "Your criticism is public; the addressed must answer it by its "
                      "deadline.",
        "answered": "The answer is public.",
        "hidden": "The criticism's text is hidden; the hiding, its ground and its reason are "
                  "public."}


@router.get("/plans/{plan}")
def plan_page(plan: str, who: Visitor, state: AppState, done: str = "",
              page: PageNumber = 1) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        current = versions.published(db, a.plan)
        all_rounds = rounds.rounds(db, a)
        open_round = next((r for r in all_rounds if r["state"] == "open"), None)
        inbox = rounds.submitted(db, a, open_round["number"]) \
            if a.office and open_round else []
        inbox_page, pages = page_of(inbox, page)
        context: dict[str, Any] = {
            "plan": {"name": a.plan.name, "title": a.plan.title,
                     "description": a.plan.description},
            "roles": a.roles(), "office": a.office, "versions": versions.versions(db, a),
            "published": None if current is None else current.number,
            "rounds": all_rounds, "open_round": open_round, "inbox": inbox_page,
            "inbox_count": len(inbox), "page": min(page, pages), "pages": pages,
            "units": versions.units(db, state.cache, a),
            "best_norms": conference.best(db, state.cache, a),
            "criticisms": criticism.criticisms(db, a), "grounds": criticism.GROUNDS,
            "my_units": sorted(a.units), "delegate_of": sorted(a.delegate_of)}
    return render("plan.html", viewer=who, title=a.plan.title, notice=DONE.get(done, ""),
                  **context)


@router.post("/plans/{plan}/versions/{number}/publish")
def publish(plan: str, number: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        versions.publish(db, actor(db, who.user, plan), number)
    return see_other(f"/plans/{plan}?done=published")


@router.post("/plans/{plan}/rounds")
def open_round(plan: str, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        rounds.open_round(db, actor(db, who.user, plan))
    return see_other(f"/plans/{plan}?done=round")


@router.post("/plans/{plan}/rounds/{number}/reconcile")
def reconcile(plan: str, number: Id, who: Writer, state: AppState) -> Response:
    with state.tx() as db:
        rounds.reconcile_round(db, state.cache, actor(db, who.user, plan), number)
    return see_other(f"/plans/{plan}/rounds/{number}/outcomes")


@router.post("/plans/{plan}/members")
def grant(plan: str, who: Writer, state: AppState, user: Annotated[str, Form()] = "",
          role: Annotated[str, Form()] = "", unit: Annotated[str, Form()] = "") -> Response:
    with state.tx() as db:
        versions.grant(db, actor(db, who.user, plan), user.strip(), role, unit, state.cache)
    return see_other(f"/plans/{plan}?done=granted")


@router.get("/plans/{plan}/versions/{number}")
def version_page(plan: str, number: Id, who: Visitor, state: AppState) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        detail = versions.detail(db, state.cache, a, number)
    return render("version.html", viewer=who, title=f"{a.plan.title}: version {number}",
                  plan=a.plan.name, office=a.office, v=detail,
                  charts={"fulfilment": charts.fulfilment_per_period(detail["fulfilment"]),
                          "valuations": charts.top_valuations(detail["valuations"],
                                                              money=detail["numeraire"])})


@router.get("/plans/{plan}/compare")
def compare_form(plan: str, first: int, second: int, who: Visitor) -> Response:
    return see_other(f"/plans/{quote(plan, safe='')}/compare/{first}/{second}")


@router.get("/plans/{plan}/compare/{first}/{second}")
def compare_page(plan: str, first: Id, second: Id, who: Visitor, state: AppState
                 ) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        both = versions.compare(db, state.cache, a, first, second)
    ratios = [{r["period"]: r["ratio"] for r in both[k]["fulfilment"]} for k in ("a", "b")]
    periods = [{"period": p, "a": ratios[0].get(p), "b": ratios[1].get(p)}
               for p in dict.fromkeys([*ratios[0], *ratios[1]])]
    return render("compare.html", viewer=who, periods=periods,
                  title=f"{a.plan.title}: version {first} and version {second}",
                  plan=a.plan.name, first=both["a"], second=both["b"],
                  changes=both["changes"], norms=both["norms_changed"],
                  charts={"fulfilment": charts.fulfilment_compare(both["a"], both["b"]),
                          "changes": charts.activity_changes(both["changes"])})


@router.get("/plans/{plan}/rounds/{number}/outcomes")
def outcomes_page(plan: str, number: Id, who: Visitor, state: AppState,
                  page: PageNumber = 1) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        rows = rounds.outcomes(db, a, number)
    counts = {word: sum(r["outcome"] == word for r in rows)
              for word in rounds.OUTCOME_WORDS.values()}
    shown, pages = page_of(rows, page)
    return render("outcomes.html", viewer=who, title=f"{a.plan.title}: round {number}",
                  plan=a.plan.name, number=number, outcomes=shown, counts=counts,
                  page=min(page, pages), pages=pages,
                  charts={"by_unit": charts.outcomes_by_unit(rows),
                          "shares": charts.outcome_shares(rows)})


@router.get("/plans/{plan}/fulfilment")
def fulfilment_page(plan: str, who: Visitor, state: AppState) -> Response:
    with state.tx() as db:
        a = actor(db, who.user, plan)
        table = reports.fulfilment(db, state.cache, a)
    return render("fulfilment.html", viewer=who, title=f"{a.plan.title}: plan fulfilment",
                  plan=a.plan.name, t=table,
                  charts={"cells": charts.fulfilment_cells(table["cells"]),
                          "ranking": charts.ranking(table["by_fulfilment"], "fulfilment",
                                                    "Fulfilment"),
                          "norms": charts.ranking(table["by_norms"], "norm_improvement",
                                                  "Norm improvement")})
