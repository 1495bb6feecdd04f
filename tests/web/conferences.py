"""A plan for the production-conference tests: three bakeries and a mill
(tests/test_conference.py's economy), made by the demo's office from an
uploaded folder.  The demo's agro accounts work in the south bakery (the
unit the tests look at), the food accounts in the north bakery (whose better
norm is adopted), mining-member1 in the east bakery."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from economies import BAKERIES
from webtests import Web

PLAN = "/api/plans/bakeries"
ROLES = {"agro-delegate": ("south", True), "agro-member1": ("south", False),
         "food-delegate": ("north", True), "food-member1": ("north", False),
         "mining-member1": ("east", False)}
NOTE = "A finer sieve: less flour is lost on the bench"


def bakeries_zip() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for name, text in BAKERIES.items():
            z.writestr(f"bakeries/{name}", text)
    return data.getvalue()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def create(web: Web) -> None:
    """The plan, its roles, version 1 published and round 1 open."""
    office = web.as_("office")
    ok(office.post("/api/plans/upload", data={"name": "bakeries", "title": "Bakeries"},
                   files={"file": ("bakeries.zip", bakeries_zip(), "application/zip")}), 201)
    for user, (unit, delegate) in ROLES.items():
        roles = ["delegate", "member"] if delegate else ["member"]
        for role in roles:
            ok(office.post(f"{PLAN}/members", json={"user": user, "role": role, "unit": unit}),
               201)
    ok(office.post(f"{PLAN}/versions/1/publish"))
    ok(office.post(f"{PLAN}/rounds"), 201)


def adopt_north_sieve(web: Web, publish: bool = True) -> dict[str, Any]:
    """North proposes its better flour norm, its delegate submits it, the
    office reconciles round 1 (version 2) and, with ``publish``, publishes
    it and opens round 2."""
    made = ok(web.as_("food-member1").post(f"{PLAN}/units/north/proposals", json={
        "kind": "norm", "technique": "bake-north", "item": "flour", "value": "-0.5",
        "note": NOTE}), 201)
    ok(web.as_("food-delegate").post(f"{PLAN}/proposals/{made['id']}/submit"))
    office = web.as_("office")
    ok(office.post(f"{PLAN}/rounds/1/reconcile"))
    if publish:
        ok(office.post(f"{PLAN}/versions/2/publish"))
        ok(office.post(f"{PLAN}/rounds"), 201)
    return made


def set_up(web: Web) -> dict[str, Any]:
    create(web)
    return adopt_north_sieve(web)
