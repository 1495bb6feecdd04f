"""Bad input through the JSON API: each gets a clear message naming what is
wrong and the fix, and changes nothing."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from webtests import Web, snapshot

PLAN = "/api/plans/brazil"


def _refused(web: Web, call: Any, status: int, *words: str) -> dict[str, Any]:
    before = snapshot(web)
    response = call()
    assert response.status_code == status, response.text
    body = response.json()
    text = body["error"] + " " + " ".join(body["problems"])
    for word in words:
        assert word in text
    assert snapshot(web) == before
    return dict(body)


def test_a_non_number_in_the_form(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "pledge", "technique": "agriculture", "period": "2027", "value": "lots"}),
        422, "'value' is not a finite number", "lots", "give a number")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/reports", json={
        "technique": "agriculture", "period": "2026", "activity": "lots"}), 422, "activity")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/reports", json={
        "technique": "agriculture", "period": "2026", "activity": -5}),
        422, "not a number >= 0")


def test_what_the_library_refuses_is_named(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    body = _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "pledge", "technique": "no-such-technique", "period": "2027", "value": "1"}),
        422, "unknown technique", "no-such-technique")
    assert body["problems"]
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "norm", "technique": "oil_gas_extraction", "item": "labour", "value": "-1"}),
        422, "belongs to another unit")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/reports", json={
        "technique": "oil_gas_extraction", "period": "2026", "activity": 1}),
        422, "not one of unit 'agro'")


def test_a_malformed_upload(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", b"id,kind,value\n\"x,pledge", "text/csv")}),
        422, "counterplan.csv")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", b"\xff\xfe\x00garbage", "text/csv")}),
        422, "cannot be read as CSV")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", b"id,unit_id,kind,item,value\nx,food,capacity,labour,5\n",
                 "text/csv")}), 403, "counterplan.csv:2", "not your unit")
    _refused(web, lambda: delegate.post("/api/plans/upload", data={"name": "mine"}, files={
        "file": ("plan.zip", b"this is no zip", "application/zip")}), 422, "not a zip file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("economy.toml", 'name = "x"\nperiods = ["1"]\n')
        archive.writestr("items.csv", "id,kind\nwheat,product\n")
    _refused(web, lambda: delegate.post("/api/plans/upload", data={"name": "mine"}, files={
        "file": ("plan.zip", buffer.getvalue(), "application/zip")}), 422, "techniques")


def test_an_oversized_file(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    big = b"id,kind,item,period,value\n" + b"x,capacity,labour,2027,1\n" * 100_000
    assert len(big) > 2 * 1024 * 1024  # the tests' limit
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", big, "text/csv")}), 413, "MiB")


@pytest.mark.parametrize("path", ["/proposals/{other}/submit", "/proposals/999999/submit",
                                  "/polls/999999/close", "/polls/999999/ballot"])
def test_a_tampered_id(web: Web, path: str) -> None:
    food = web.as_("food-member1").post(f"{PLAN}/units/food/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "10"}).json()
    delegate = web.as_("agro-delegate")
    url = PLAN + path.replace("{other}", str(food["id"]))
    status = 403 if "{other}" in path else 404
    _refused(web, lambda: delegate.post(url, json={"choices": {"1": True}}), status)


def test_a_tampered_plan_name_reveals_nothing(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    a = delegate.get("/api/plans/no-such-plan")
    with web.app.state.counterplan.tx() as db:
        import sqlalchemy as sa

        from counterplan.web.models import User
        from counterplan.web.services.versions import create_plan, economy_of_example

        office = db.scalar(sa.select(User).where(User.name == "office"))
        create_plan(db, office, "secret", "", economy_of_example("kantorovich-1939"))
    b = delegate.get("/api/plans/secret")
    assert a.status_code == b.status_code == 404
    assert a.json()["error"].replace("no-such-plan", "X") == \
        b.json()["error"].replace("secret", "X")
