"""Bad input through the JSON API: each gets a clear message naming what is
wrong and the fix, and changes nothing."""

from __future__ import annotations

import io
import re
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


def test_numbers_far_beyond_the_plan_are_refused(web: Web) -> None:
    """A report of 1e308 once topped the ranking; it and its kin are refused,
    saying the plan's scale."""
    delegate = web.as_("agro-delegate")
    levels = delegate.get(f"{PLAN}/units/agro").json()["activity"]
    most = max(r["level"] for r in levels if r["technique"] == "livestock")
    for activity in (1e308, most * 101):
        _refused(web, lambda a=activity: delegate.post(f"{PLAN}/units/agro/reports", json={
            "technique": "livestock", "period": "2026", "activity": a}),
            422, "more than 100 times", "livestock", "slip")
    kept = delegate.post(f"{PLAN}/units/agro/reports", json={
        "technique": "livestock", "period": "2026", "activity": most * 2})
    assert kept.status_code == 201  # twice the plan is a report, not a slip
    for body in ({"kind": "pledge", "technique": "livestock", "period": "2027",
                  "value": "1e308"},
                 {"kind": "capacity", "item": "labour", "period": "2027", "value": "1e20"},
                 {"kind": "norm", "technique": "livestock", "item": "labour",
                  "value": "-1e15"}):
        _refused(web, lambda b=body: delegate.post(f"{PLAN}/units/agro/proposals", json=b),
                 422, "far beyond the plan's scale", f"{body['kind']} ")
    ranking = delegate.get(f"{PLAN}/fulfilment").json()["by_fulfilment"]
    planned = next(r["level"] for r in levels
                   if r["technique"] == "livestock" and r["period"] == "2026")
    assert ranking[0]["fulfilment"] == pytest.approx(most * 2 / planned)


def test_an_upload_holds_a_bounded_number_of_counterplans(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    rows = "".join(f"c{k},capacity,labour,2027,1\n" for k in range(101))
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("many.csv", b"id,kind,item,period,value\n" + rows.encode(), "text/csv")}),
        413, "many.csv", "101 counter-plans", "at most 100")


def test_a_semicolon_file_is_told_about_its_separator(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("excel.csv", b"id;kind;item;period;value\nx;capacity;labour;2027;5\n",
                 "text/csv")}), 422, "excel.csv", "separated by semicolons", "commas")


def test_a_nul_character_is_refused_at_the_door(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "5",
        "note": "a\x00b"}), 422, "NUL")
    _refused(web, lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("nul.csv", b"id,kind,item,period,value,note\nx,capacity,labour,2027,5,a\x00\n",
                 "text/csv")}), 422, "nul.csv", "NUL")
    assert delegate.get("/api/plans/bra%00zil").status_code == 404


def test_long_lists_come_in_pages(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    rows = "".join(f"c{k},capacity,labour,2027,{k + 1}\n" for k in range(60))
    made = delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("sixty.csv", b"id,kind,item,period,value\n" + rows.encode(), "text/csv")})
    assert made.status_code == 201 and len(made.json()) == 60
    first = delegate.get(f"{PLAN}/units/agro/proposals")
    second = delegate.get(f"{PLAN}/units/agro/proposals?page=2")
    assert first.headers["x-total-count"] == "60" and first.headers["x-pages"] == "2"
    assert len(first.json()) == 50 and len(second.json()) == 10
    assert {p["id"] for p in first.json()}.isdisjoint(p["id"] for p in second.json())
    page = delegate.get("/plans/brazil/units/agro?page=2", headers={"Accept": "text/html"})
    assert "page 2 of 2" in page.text and "‹ newer" in page.text
    # an upload's verdicts are shown in the file's order
    ids = [p["id"] for p in made.json()]
    assert ids == sorted(ids)
    shown = delegate.get(f"/plans/brazil/units/agro?made={','.join(map(str, ids))}")
    order = [int(m) for m in __import__("re").findall(r'Your proposal #(\d+)', shown.text)]
    assert order == ids


def test_the_office_inbox_and_a_rounds_outcomes_come_in_pages(web: Web) -> None:
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    rows = "".join(f"c{k},capacity,labour,2027,{k + 1}\n" for k in range(55))
    made = delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("many.csv", b"id,kind,item,period,value\n" + rows.encode(), "text/csv")})
    assert made.status_code == 201
    for proposal in made.json():
        assert delegate.post(f"{PLAN}/proposals/{proposal['id']}/submit").status_code == 200
    html = {"Accept": "text/html"}
    first = office.get("/plans/brazil", headers=html)
    assert "round 1 (55)" in first.text and "page 1 of 2" in first.text
    assert "next ›" in first.text and "‹ previous" not in first.text
    second = office.get("/plans/brazil?page=2", headers=html)
    assert "page 2 of 2" in second.text and "‹ previous" in second.text
    shown = [set(re.findall(r"<td>(\d+)</td><td>agro</td>", page.text)) for page in (first, second)]
    assert len(shown[0]) == 50 and len(shown[1]) == 5 and shown[0].isdisjoint(shown[1])
    assert office.post(f"{PLAN}/rounds/1/reconcile").status_code == 200
    outcomes = office.get("/plans/brazil/rounds/1/outcomes?page=2", headers=html)
    assert "page 2 of 2" in outcomes.text
    assert len(re.findall(r"<td>\d+</td><td>agro</td>", outcomes.text)) == 5


def test_a_unit_cannot_claim_another_units_capacity(web: Web) -> None:
    """agro once proposed capacity of mining's iron-ore stock: it was accepted,
    submitted and adopted."""
    delegate = web.as_("agro-delegate")
    for send in (lambda: delegate.post(f"{PLAN}/units/agro/proposals", json={
                     "kind": "capacity", "item": "capital/iron_ore_mining", "period": "2027",
                     "value": "100"}),
                 lambda: delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
                     "file": ("c.csv", b"id,kind,item,period,value\n"
                                       b"x,capacity,capital/iron_ore_mining,2027,100\n",
                              "text/csv")})):
        _refused(web, send, 422, "not the unit's", "mining", "capital/iron_ore_mining")
    own = delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "capital/agriculture", "period": "2027", "value": "100"})
    assert own.status_code == 201
