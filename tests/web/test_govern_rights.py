"""The rights matrix of the plan's self-government (docs/web.md, "Roles and
rights"): each role against each of its routes, on SQLite and PostgreSQL,
with the roles of test_rights.py (agro's delegate is also a member of agro,
food's of food; the office holds no unit role).

Refusals are tried first and must change nothing.  Where several roles may
act and the first one's act closes the door to the next (one open election
per seat, one answer per criticism), the next gets 409 (not now), which
shows that its right was granted: a missing right is 403 or 404."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from counterplan.web.auth import add_user

from test_rights import ROLES, Case, _call, _everyone, _only
from webtests import TABLES, Web, count

PLAN = "/api/plans/brazil"
GOVERN_TABLES = ("plan_rules", "terms", "elections", "election_options", "election_voters",
                 "petitions", "petition_signatures", "criticisms")
MEMBERS = {"food-member1": 201, "food-delegate": 201, "agro-member1": 201,
           "agro-delegate": 201}
VARIANTS = {"variants": [{"name": "invest", "changes": "weight 2030 2"},
                         {"name": "more food", "changes": "target agriculture 1.05"}]}


def _agro_election(web: Web) -> dict[str, Any]:
    made = web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member1", "agro-member2"]})
    assert made.status_code == 201, made.text
    return {"vote": made.json()["id"]}


def _office_election(web: Web) -> dict[str, Any]:
    made = web.as_("agro-member2").post(f"{PLAN}/elections", json={
        "seat": "office", "candidates": ["office"]})
    assert made.status_code == 201, made.text
    return {"vote": made.json()["id"]}


def _recall_vote(web: Web) -> dict[str, Any]:
    made = web.as_("agro-member2").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-delegate"})
    assert made.status_code == 201 and made.json()["vote"], made.text
    return {"vote": made.json()["vote"], "petition": made.json()["id"]}


def _petition(web: Web) -> dict[str, Any]:
    """A petition with one of the two signatures it needs (half of three)."""
    assert web.as_("office").post(f"{PLAN}/rules", json={"recall_share": 0.5}
                                  ).status_code == 200
    made = web.as_("agro-member2").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-delegate"})
    assert made.status_code == 201 and made.json()["vote"] is None, made.text
    return {"petition": made.json()["id"]}


def _criticism(to: str) -> Any:
    def made(web: Web) -> dict[str, Any]:
        sent = web.as_("agro-member2").post(f"{PLAN}/criticism", json={
            "to": to, "unit": "agro", "text": "Answer me."})
        assert sent.status_code == 201, sent.text
        return {"item": sent.json()["id"]}
    return made


def _variants(web: Web) -> dict[str, Any]:
    made = web.as_("office").post(f"{PLAN}/variants", json=VARIANTS)
    assert made.status_code == 201, made.text
    return {"vote": made.json()["id"]}


CASES = [
    Case("read who decides", "GET", "/govern", _everyone(200)),
    Case("read a vote", "GET", "/elections/{vote}", _everyone(200), setup=_agro_election),
    Case("read criticism", "GET", "/criticism", _everyone(200), setup=_criticism("office")),
    Case("read a variant", "GET", "/versions/3", _everyone(200), setup=_variants),
    Case("set the rules", "POST", "/rules", _only({"office": 200}), body={"vote_days": 5}),
    Case("open the election of the unit's delegate", "POST", "/elections",
         _only({"agro-member1": 201, "agro-delegate": 409, "office": 409}),
         body={"seat": "delegate", "unit": "agro", "candidates": ["agro-member1"]}),
    Case("open the election of the office", "POST", "/elections",
         _only({"food-member1": 201, "food-delegate": 409, "agro-member1": 409,
                "agro-delegate": 409, "office": 409}),
         body={"seat": "office", "candidates": ["office"]}),
    Case("ballot: the unit's delegate", "POST", "/elections/{vote}/ballot",
         _only({"agro-member1": 201, "agro-delegate": 201}),
         body={"choices": {"1": True}}, setup=_agro_election),
    Case("ballot: the office", "POST", "/elections/{vote}/ballot", _only(MEMBERS),
         body={"choices": {"1": True}}, setup=_office_election),
    Case("petition to recall the unit's delegate", "POST", "/petitions",
         _only({"agro-member1": 201, "agro-delegate": 409}),
         body={"seat": "delegate", "unit": "agro", "user": "agro-delegate"}),
    Case("petition to recall the office", "POST", "/petitions",
         _only({"food-member1": 201, "food-delegate": 409, "agro-member1": 409,
                "agro-delegate": 409}),
         body={"seat": "office", "user": "office"}),
    Case("sign a recall petition", "POST", "/petitions/{petition}/sign",
         _only({"agro-member1": 200, "agro-delegate": 409}), setup=_petition),
    Case("ballot: a recall", "POST", "/elections/{vote}/ballot",
         _only({"agro-member1": 201, "agro-delegate": 201}),
         body={"choices": {"1": False}}, setup=_recall_vote),
    Case("criticise the unit's delegate", "POST", "/criticism",
         _only({"agro-member1": 201, "agro-delegate": 201}),
         body={"to": "delegate", "unit": "agro", "text": "Why?"}),
    Case("criticise the office", "POST", "/criticism", _only(MEMBERS),
         body={"to": "office", "text": "Why?"}),
    Case("answer criticism of the unit's delegate", "POST", "/criticism/{item}/answer",
         _only({"agro-delegate": 200}), body={"text": "Because."},
         setup=_criticism("delegate")),
    Case("answer criticism of the office", "POST", "/criticism/{item}/answer",
         _only({"office": 200}), body={"text": "Because."}, setup=_criticism("office")),
    Case("hide a criticism on a stated ground", "POST", "/criticism/{item}/hide",
         _only({"office": 200}), body={"ground": "threat", "note": "a threat"},
         setup=_criticism("office")),
    Case("publish variants", "POST", "/variants", _only({"office": 201}), body=VARIANTS),
    Case("ballot: the plan's variants", "POST", "/elections/{vote}/ballot", _only(MEMBERS),
         body={"choices": {"2": True}}, setup=_variants),
]


def _snapshot(web: Web) -> dict[str, int]:
    return {t: count(web, t) for t in (*TABLES, *GOVERN_TABLES)}


def _counts(web: Web) -> list[Any]:
    """The vote counts and the rules too: a refused call changes no value."""
    with web.app.state.counterplan.engine.connect() as c:
        return [*c.execute(sa.text("SELECT id, yes, no FROM election_options ORDER BY id")),
                *c.execute(sa.text("SELECT * FROM plan_rules"))]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_govern_rights(web: Web, case: Case) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    web.as_("outsider")
    ids = case.setup(web)
    before = _snapshot(web), _counts(web)
    refused = [r for r in ROLES if case.expect[r] >= 400 and case.expect[r] != 409]
    got = {role: _call(web, role, case, ids) for role in refused}
    assert (_snapshot(web), _counts(web)) == before, "a refused call changed the database"
    got |= {role: _call(web, role, case, ids) for role in ROLES if role not in refused}
    assert got == case.expect
