"""The rights matrix: each role against each route of the JSON API, for
its own unit (agro) and for another (food), on SQLite and PostgreSQL.

Refusals are tried first and must change nothing; then the allowed roles
act.  Roles: the office; agro's delegate (who is also a member of agro);
an agro member; food's delegate and a food member (another unit); a user
with no role in the plan (told the plan does not exist); nobody logged in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from counterplan.web.auth import add_user

from webtests import Web, snapshot

PLAN = "/api/plans/brazil"
ROLES = ("anonymous", "outsider", "food-member1", "food-delegate", "agro-member1",
         "agro-delegate", "office")
PROPOSAL = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}
CSV = b"id,kind,item,period,value\nx,capacity,labour,2028,500\n"


def _proposal(web: Web) -> dict[str, Any]:
    made = web.as_("agro-member1").post(f"{PLAN}/units/agro/proposals", json=PROPOSAL)
    assert made.status_code == 201, made.text
    return {"proposal": made.json()["id"]}


def _poll(web: Web) -> dict[str, Any]:
    ids = _proposal(web)
    poll = web.as_("agro-delegate").post(f"{PLAN}/units/agro/polls")
    assert poll.status_code == 201, poll.text
    return {**ids, "poll": poll.json()["id"]}


def _reconciled(web: Web) -> dict[str, Any]:
    ids = _proposal(web)
    assert web.as_("agro-delegate").post(
        f"{PLAN}/proposals/{ids['proposal']}/submit").status_code == 200
    assert web.as_("office").post(f"{PLAN}/rounds/1/reconcile").status_code == 200
    return ids


def _published(web: Web) -> dict[str, Any]:
    ids = _reconciled(web)
    assert web.as_("office").post(f"{PLAN}/versions/2/publish").status_code == 200
    return ids


def _everyone(status: int) -> dict[str, int]:
    return {"anonymous": 401, "outsider": 404, "food-member1": status,
            "food-delegate": status, "agro-member1": status, "agro-delegate": status,
            "office": status}


def _only(allowed: dict[str, int], others: int = 403) -> dict[str, int]:
    return {"anonymous": 401, "outsider": 404,
            **{r: others for r in ROLES[2:]}, **allowed}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    setup: Callable[[Web], dict[str, Any]] = field(default=lambda web: {})
    upload: bool = False


UNIT = {"agro-member1": 200, "agro-delegate": 200}
CASES = [
    Case("plan", "GET", "", _everyone(200)),
    Case("published version", "GET", "/versions/1", _everyone(200)),
    Case("draft version", "GET", "/versions/2", _only({"office": 200}, 404), setup=_reconciled),
    Case("compare", "GET", "/compare/1/1", _everyone(200)),
    Case("fulfilment", "GET", "/fulfilment", _everyone(200)),
    Case("unit page", "GET", "/units/agro", _only({**UNIT, "office": 200})),
    Case("unit proposals", "GET", "/units/agro/proposals", _only(UNIT)),
    Case("propose", "POST", "/units/agro/proposals",
         _only({"agro-member1": 201, "agro-delegate": 201}), body=PROPOSAL),
    Case("propose a file", "POST", "/units/agro/proposals/upload",
         _only({"agro-member1": 201, "agro-delegate": 201}), upload=True),
    Case("submit", "POST", "/proposals/{proposal}/submit", _only({"agro-delegate": 200}),
         setup=_proposal),
    Case("open a vote", "POST", "/units/agro/polls", _only({"agro-delegate": 201}),
         setup=_proposal),
    Case("unit votes", "GET", "/units/agro/polls", _only(UNIT), setup=_poll),
    Case("a vote", "GET", "/polls/{poll}", _only(UNIT), setup=_poll),
    Case("ballot", "POST", "/polls/{poll}/ballot",
         _only({"agro-member1": 201, "agro-delegate": 201}),
         body={"choices": {"{proposal}": True}}, setup=_poll),
    Case("close a vote", "POST", "/polls/{poll}/close", _only({"agro-delegate": 200}),
         setup=_poll),
    Case("report", "POST", "/units/agro/reports", _only({"agro-delegate": 201}),
         body={"technique": "agriculture", "period": "2026", "activity": 1.0}),
    Case("open a round", "POST", "/rounds", _only({"office": 409})),  # one is open
    Case("submitted inbox", "GET", "/rounds/1/submitted", _only({"office": 200})),
    Case("reconcile", "POST", "/rounds/1/reconcile", _only({"office": 200}),
         setup=lambda web: {**_proposal(web), "_": web.as_("agro-delegate").post(
             f"{PLAN}/proposals/1/submit").status_code}),
    Case("publish", "POST", "/versions/2/publish", _only({"office": 200}), setup=_reconciled),
    Case("outcomes", "GET", "/rounds/1/outcomes", _everyone(200), setup=_published),
    Case("give a role", "POST", "/members", _only({"office": 201}),
         body={"user": "outsider", "role": "member", "unit": "food"}),
]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        for key, v in ids.items():
            value = value.replace("{" + key + "}", str(v))
        return value
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    return value


def _call(web: Web, role: str, case: Case, ids: dict[str, Any]) -> int:
    path = PLAN + _fill(case.path, ids)
    kw: dict[str, Any] = {}
    if case.upload:
        kw["files"] = {"file": ("counterplan.csv", CSV, "text/csv")}
    elif case.body is not None:
        kw["json"] = _fill(case.body, ids)
    if role == "anonymous":
        client = web.anonymous()
        return int(client.request(case.method, path, **kw).status_code)
    user = web.as_(role)
    response = user.get(path) if case.method == "GET" else user.post(path, **kw)
    return int(response.status_code)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rights(web: Web, case: Case) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    web.as_("outsider")  # logs in (argon2) before the counting starts
    ids = case.setup(web)
    before = snapshot(web)
    refused = [r for r in ROLES if case.expect[r] >= 400]
    got = {role: _call(web, role, case, ids) for role in refused}
    assert snapshot(web) == before, "a refused call changed the database"
    got |= {role: _call(web, role, case, ids) for role in ROLES if role not in refused}
    assert got == case.expect


def test_writes_need_the_csrf_token(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    before = snapshot(web)
    for token in ("", "forged"):
        response = delegate.client.post(f"{PLAN}/units/agro/proposals", json=PROPOSAL,
                                         headers={"X-CSRF-Token": token})
        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]
    assert snapshot(web) == before


def test_logins_are_throttled(web: Web) -> None:
    client = web.anonymous()
    for _ in range(5):
        wrong = client.post("/api/login", json={"name": "office", "password": "nope-nope"})
        assert wrong.status_code == 401
    throttled = client.post("/api/login", json={"name": "office",
                                                "password": "counterplan-demo"})
    assert throttled.status_code == 429
    assert "too many failed logins" in throttled.json()["error"]
    other = client.post("/api/login", json={"name": "agro-delegate",
                                            "password": "counterplan-demo"})
    assert other.status_code == 200  # per name: others still log in


def test_the_session_cookie_and_stored_secrets(web: Web) -> None:
    response = web.anonymous().post("/api/login", json={"name": "office",
                                                        "password": "counterplan-demo"})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    import sqlalchemy as sa

    with web.app.state.counterplan.engine.connect() as c:
        hashes = c.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
        tokens = c.execute(sa.text("SELECT token_hash FROM auth_sessions")).scalars().all()
    assert all(h.startswith("$argon2id$") for h in hashes)
    token = response.cookies.get("counterplan_session")
    assert token and token not in tokens and len(tokens) >= 1
