"""The rights matrix of the plan cycle's routes (docs/web.md), each role
against each route of the JSON API and each page, on SQLite and PostgreSQL,
with test_rights.py's roles and method: refusals first, which must change
nothing, then the allowed roles act."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from counterplan.web.auth import add_user
from counterplan.web.models import PlanException

from test_rights import ROLES, Case, _call, _only
from webtests import TABLES, Web, count

UNIT = {"agro-member1": 200, "agro-delegate": 200}
DATED = {"technique": "agriculture", "period": "2026", "date": "2026-03-31",
         "activity": 1000.0}


def _exception(web: Web) -> int:
    """An exception of the agro unit, as the monitor would have raised it."""
    with web.app.state.counterplan.tx() as db:
        version = db.execute(sa.text("SELECT id FROM versions WHERE number = 1")).scalar_one()
        plan = db.execute(sa.text("SELECT id FROM plans WHERE name = 'brazil'")).scalar_one()
        row = PlanException(plan_id=plan, version_id=version, unit_id="agro", technique="",
                            date=dt.date(2026, 5, 31), kind="step",
                            probability=0.9, forecast=0.8, reason="unit agro: the level moved",
                            state="unit", reports_since=0, note="")
        db.add(row)
        db.flush()
        return int(row.id)


CASES = [
    Case("dated report", "POST", "/units/agro/reports", _only({"agro-delegate": 201}),
         body=DATED),
    Case("unit exceptions", "GET", "/units/agro/exceptions", _only(UNIT)),
    Case("board", "GET", "/board", _only({"office": 200})),
    Case("cycle settings", "POST", "/cycle", _only({"office": 200}),
         body={"escalate_after": 2}),
    Case("re-plan", "POST", "/replan", _only({"office": 201}), body={"period": "2027"}),
]


def _snapshot(web: Web) -> dict[str, int]:
    return {t: count(web, t) for t in TABLES}


def _outsider(web: Web) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    web.as_("outsider")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cycle_rights(web: Web, case: Case) -> None:
    _outsider(web)
    ids = case.setup(web)
    before = _snapshot(web)
    refused = [r for r in ROLES if case.expect[r] >= 400]
    got = {role: _call(web, role, case, ids) for role in refused}
    assert _snapshot(web) == before, "a refused call changed the database"
    got |= {role: _call(web, role, case, ids) for role in ROLES if role not in refused}
    assert got == case.expect


@pytest.mark.parametrize("role", ROLES)
def test_acknowledging_an_exception(web: Web, role: str) -> None:
    """Only the unit's delegate and members acknowledge its exceptions (each
    role on an exception of its own, so that none is acknowledged before)."""
    _outsider(web)
    expect = _only({"agro-member1": 200, "agro-delegate": 200})[role]
    case = Case("acknowledge", "POST", f"/exceptions/{_exception(web)}/acknowledge",
                {role: expect}, body={"note": "we know: the harvest was late"})
    before = _snapshot(web)
    assert _call(web, role, case, {}) == expect
    if expect >= 400:
        assert _snapshot(web) == before


PAGES = {"/plans/brazil/board": _only({"office": 200}),
         "/plans/brazil/units/agro": _only({"agro-member1": 200, "agro-delegate": 200,
                                            "office": 200})}


@pytest.mark.parametrize("path", list(PAGES))
def test_cycle_pages(web: Web, path: str) -> None:
    """The board is the office's; the unit page shows exceptions to the unit
    only (the office sees the page without them)."""
    _outsider(web)
    _exception(web)
    for role in ROLES:
        if role == "anonymous":
            response = web.anonymous().get(path, follow_redirects=False,
                                           headers={"Accept": "text/html"})
            assert response.status_code == 303 and "/login" in response.headers["location"]
            continue
        response = web.as_(role).get(path, headers={"Accept": "text/html"})
        assert response.status_code == PAGES[path][role], (role, response.status_code)
        if path.endswith("/agro") and response.status_code == 200:
            shows = 'id="exceptions"' in response.text
            assert shows == (role != "office"), role
            assert ("unit agro: the level moved" in response.text) == (role != "office")


def test_page_forms_need_the_csrf_token(web: Web) -> None:
    ident = _exception(web)
    before = _snapshot(web)
    member = web.as_("agro-member1")
    office = web.as_("office")
    forms: list[tuple[Any, str, dict[str, str]]] = [
        (member, f"/plans/brazil/exceptions/{ident}/acknowledge", {"note": "ok"}),
        (office, "/plans/brazil/cycle", {"escalate_after": "2"}),
        (office, "/plans/brazil/replan", {"period": "2027"})]
    for user, path, data in forms:
        for token in ("", "forged"):
            response = user.client.post(path, data={**data, "csrf": token},
                                        headers={"Accept": "text/html"})
            assert response.status_code == 403, path
    assert _snapshot(web) == before
    done = member.client.post(f"/plans/brazil/exceptions/{ident}/acknowledge",
                              data={"note": "ok", "csrf": member.csrf}, follow_redirects=False)
    assert done.status_code == 303 and "done=acknowledged" in done.headers["location"]
