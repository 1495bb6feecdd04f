"""Competition in the open, on SQLite and PostgreSQL: a delegate challenges
another unit on fulfilment, delivery of a product or norm improvement over a
span of periods; the other delegate answers; the standings are computed from
the reports and versions (recomputed here by hand from what the API shows),
say how, and are public to the plan; the existing ranking says how too; the
rights of every new route; and challenges survive export and restore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app
from counterplan.web.archive import exporter, restorer
from counterplan.web.auth import add_user

from conferences import PLAN, adopt_north_sieve, create, ok
from test_archive import as_format_2, new_empty, tree
from webtests import Web, snapshot

SOUTH_VS_NORTH = {"unit": "south", "opponent": "north", "measure": "fulfilment",
                  "first_period": "1", "last_period": "2",
                  "rules": "The slower bakery bakes for the other's open day"}


def challenge(web: Web, **changes: str) -> dict[str, Any]:
    return ok(web.as_("agro-delegate").post(f"{PLAN}/challenges",
                                            json={**SOUTH_VS_NORTH, **changes}), 201)


def report(web: Web, delegate: str, unit: str, technique: str, period: str,
           activity: float) -> int:
    made = ok(web.as_(delegate).post(f"{PLAN}/units/{unit}/reports", json={
        "technique": technique, "period": period, "activity": activity}), 201)
    return int(made["id"])


def planned(web: Web, unit: str) -> dict[tuple[str, str], float]:
    view = ok(web.as_("office").get(f"{PLAN}/units/{unit}"))
    return {(r["technique"], r["period"]): r["level"] for r in view["activity"]}


def standings(web: Web, number: int, who: str = "mining-member1") -> dict[str, Any]:
    rows = ok(web.as_(who).get(f"{PLAN}/challenges"))
    (found,) = [c for c in rows if c["number"] == number]
    return found


def test_fulfilment_standings_come_from_the_latest_reports(web: Web) -> None:
    create(web)
    made = challenge(web)
    assert made["state"] == "proposed" and made["number"] == 1
    assert ok(web.as_("food-delegate").post(f"{PLAN}/challenges/1/accept"))["state"] == \
        "accepted"
    north, south = planned(web, "north"), planned(web, "south")
    r1 = report(web, "food-delegate", "north", "bake-north", "1", 0.5 * north["bake-north", "1"])
    report(web, "agro-delegate", "south", "bake-south", "1", 0.7 * south["bake-south", "1"])
    r3 = report(web, "agro-delegate", "south", "bake-south", "1", 0.9 * south["bake-south", "1"])
    r4 = report(web, "agro-delegate", "south", "bake-south", "2", 1.1 * south["bake-south", "2"])
    c = standings(web, 1)  # read by a third unit: public to the plan
    assert c["rules"] == SOUTH_VS_NORTH["rules"]
    first, second = c["standings"]
    assert first["unit"] == "south" and first["leads"] is True
    assert first["value"] == pytest.approx((0.9 + 1.1) / 2)  # the latest report counts
    assert sorted(cell["report"] for cell in first["cells"]) == [r3, r4]
    assert "2 technique-period cell(s) of 1, 2" in first["how"]
    assert second["unit"] == "north" and second["value"] == pytest.approx(0.5)
    assert [cell["report"] for cell in second["cells"]] == [r1]
    page = web.as_("mining-member1").get("/plans/bakeries/challenges")
    assert page.status_code == 200 and f"#{r3}" in page.text and "leads" in page.text
    # a span of one period counts only its reports
    challenge(web, first_period="2", last_period="2")
    c = standings(web, 2)
    assert [(s["unit"], s["value"]) for s in c["standings"]] == \
        [("south", pytest.approx(1.1)), ("north", None)]
    assert "north has reported no activity" in c["standings"][1]["how"]


def test_delivery_counts_what_was_made_against_what_was_planned(web: Web) -> None:
    create(web)
    challenge(web, measure="delivery", item="bread")
    north, south = planned(web, "north"), planned(web, "south")
    report(web, "food-delegate", "north", "bake-north", "1", 10.0)
    report(web, "agro-delegate", "south", "bake-south", "2", 100.0)
    sides = {s["unit"]: s for s in standings(web, 1)["standings"]}
    # one loaf a unit of activity; a period not reported counts as nothing made
    assert sides["north"]["value"] == pytest.approx(
        10.0 / (north["bake-north", "1"] + north["bake-north", "2"]))
    assert sides["south"]["value"] == pytest.approx(
        100.0 / (south["bake-south", "1"] + south["bake-south", "2"]))
    assert "counts as nothing made" in sides["north"]["how"]


def test_norm_improvement_runs_from_the_version_of_the_challenge(web: Web) -> None:
    create(web)
    challenge(web, unit="south", opponent="north", measure="norms", first_period="",
              last_period="")
    adopt_north_sieve(web)  # north's flour norm 0.6 -> 0.5, published as version 2
    v1 = ok(web.as_("office").get(f"{PLAN}/versions/1"))
    price: dict[str, list[float]] = {}
    for row in v1["valuations"] + v1["resources"]:
        price.setdefault(row["item"], []).append(row["valuation"])
    mean = {k: sum(v) / len(v) for k, v in price.items()}
    then = 0.6 * mean["flour"] + 0.28 * mean["labour"]
    now = 0.5 * mean["flour"] + 0.28 * mean["labour"]
    sides = {s["unit"]: s for s in standings(web, 1)["standings"]}
    assert sides["north"]["value"] == pytest.approx(1 - now / then)
    assert sides["north"]["leads"] is True
    assert sides["south"]["value"] == pytest.approx(0.0)
    assert "version 1 (when the challenge was made) and in version 2" in sides["north"]["how"]


@pytest.mark.parametrize("body, words", [
    ({"measure": "speed"}, "no measure called 'speed'"),
    ({"opponent": "south"}, "is not another unit"),
    ({"opponent": "nowhere"}, "is not another unit"),
    ({"first_period": "2", "last_period": "1"}, "runs backwards"),
    ({"first_period": "9"}, "the first period '9' is not a period"),
    ({"measure": "delivery", "item": "flour"}, "not a product that both south and north make"),
    ({"measure": "norms"}, "leave the periods and the product empty"),
    ({"item": "bread"}, "names no product"),
    ({"rules": "x\x00"}, "NUL"),
])
def test_a_challenge_that_does_not_fit_is_refused_with_why(web: Web, body: dict[str, str],
                                                           words: str) -> None:
    create(web)
    before = snapshot(web)
    refused = web.as_("agro-delegate").post(f"{PLAN}/challenges",
                                            json={**SOUTH_VS_NORTH, **body})
    assert refused.status_code == 422, refused.text
    assert words in refused.json()["error"]
    assert snapshot(web) == before
    assert ok(web.as_("office").get(f"{PLAN}/challenges")) == []


def test_a_challenge_is_answered_once_and_a_declined_one_has_no_standings(web: Web) -> None:
    create(web)
    challenge(web)
    north = web.as_("food-delegate")
    assert ok(north.post(f"{PLAN}/challenges/1/decline"))["state"] == "declined"
    again = north.post(f"{PLAN}/challenges/1/accept")
    assert again.status_code == 409 and "already declined" in again.json()["error"]
    assert standings(web, 1)["standings"] == []
    assert north.post(f"{PLAN}/challenges/7/accept").status_code == 404


def test_the_ranking_says_how_each_number_was_computed(web: Web) -> None:
    create(web)
    south = planned(web, "south")
    r = report(web, "agro-delegate", "south", "bake-south", "1", 0.8 * south["bake-south", "1"])
    table = ok(web.as_("mining-member1").get(f"{PLAN}/fulfilment"))
    row = {x["unit"]: x for x in table["by_fulfilment"]}
    assert row["south"]["fulfilment"] == pytest.approx(0.8)
    assert row["south"]["reports"] == [r]
    assert "over 1 reported technique-period cell(s)" in row["south"]["how"]
    assert row["north"]["how"] == "no report of a planned technique yet"
    assert "1 − cost now ÷ cost then" in row["south"]["norm_how"]
    assert [c["report"] for c in table["cells"]] == [r]
    page = web.as_("mining-member1").get("/plans/bakeries/fulfilment")
    assert f"#{r}" in page.text and "cost then" in page.text


def test_challenges_survive_export_and_restore(web: Web, db_url: str, tmp_path: Path) -> None:
    create(web)
    challenge(web)
    ok(web.as_("food-delegate").post(f"{PLAN}/challenges/1/accept"))
    challenge(web, measure="norms", first_period="", last_period="", rules="=1+1")
    shown = ok(web.as_("office").get(f"{PLAN}/challenges"))
    engine = web.app.state.counterplan.engine
    exporter.export(engine, tmp_path / "one")
    assert (tmp_path / "one" / "plans" / "bakeries" / "challenges.csv").is_file()
    with new_empty(db_url, tmp_path) as url:
        restored = database.connect(url)
        try:
            counts = restorer.restore(restored, tmp_path / "one")
            assert counts["challenges"] == 2
            again = Web(create_app(Settings(db_url=url), restored))
            assert ok(again.as_("office").get(f"{PLAN}/challenges")) == shown
            exporter.export(restored, tmp_path / "two")
            assert tree(tmp_path / "one") == tree(tmp_path / "two")
        finally:
            restored.dispose()


# -- the rights of the new routes ------------------------------------------------------

ROLES = ("anonymous", "outsider", "food-member1", "food-delegate", "agro-member1",
         "agro-delegate", "office")


def _only(allowed: dict[str, int]) -> dict[str, int]:
    return {"anonymous": 401, "outsider": 404, **{r: 403 for r in ROLES[2:]}, **allowed}


EVERYONE = {r: 200 for r in ROLES[2:]}
CASES = [
    ("read the challenges", "GET", "/challenges", {"anonymous": 401, "outsider": 404,
                                                    **EVERYONE}, False),
    ("challenge another unit", "POST", "/challenges", _only({"agro-delegate": 201}), False),
    ("accept a challenge", "POST", "/challenges/1/accept", _only({"food-delegate": 200}),
     True),
    ("decline a challenge", "POST", "/challenges/1/decline", _only({"food-delegate": 200}),
     True),
]


@pytest.mark.parametrize("name, method, path, expect, made", CASES, ids=[c[0] for c in CASES])
def test_rights(web: Web, name: str, method: str, path: str, expect: dict[str, int],
                made: bool) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    create(web)
    if made:
        challenge(web)
    before = snapshot(web)
    refused = [r for r in ROLES if expect[r] >= 400]
    allowed = [r for r in ROLES if expect[r] < 400]

    def call(role: str) -> int:
        kw = {"json": SOUTH_VS_NORTH} if method == "POST" and not made else {}
        if role == "anonymous":
            return int(web.anonymous().request(method, PLAN + path, **kw).status_code)
        user = web.as_(role)
        response = user.get(PLAN + path) if method == "GET" else user.post(PLAN + path, **kw)
        return int(response.status_code)

    got = {role: call(role) for role in refused}
    assert snapshot(web) == before, "a refused call changed the database"
    got |= {role: call(role) for role in allowed}
    assert got == expect


@pytest.mark.parametrize("path, status", [("/plans/bakeries/challenges", 200)])
def test_the_page_is_public_to_the_plan(web: Web, path: str, status: int) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    create(web)
    challenge(web)
    for role in ROLES[2:]:
        page = web.as_(role).client.get(path)
        assert page.status_code == status and "south challenges north" in page.text
    assert web.as_("outsider").client.get(path).status_code == 404
    form = web.as_("agro-delegate").get(path).text
    assert 'action="/plans/bakeries/challenges"' in form  # a delegate may challenge
    assert "Accept the challenge" in web.as_("food-delegate").get(path).text
    assert "Accept the challenge" not in web.as_("food-member1").get(path).text
    north = web.as_("food-member1")
    before = snapshot(web)
    refused = north.client.post(f"{path}/1/accept", data={"csrf": north.csrf},
                                follow_redirects=False)
    assert refused.status_code == 403 and snapshot(web) == before
    delegate = web.as_("food-delegate")
    done = delegate.client.post(f"{path}/1/accept", data={"csrf": delegate.csrf},
                                follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("#challenge-1")
    assert standings(web, 1)["state"] == "accepted"


def test_an_archive_of_format_2_restores_with_no_challenges(web: Web, db_url: str,
                                                             tmp_path: Path) -> None:
    """Format 2 had no challenges.csv and no count of challenges."""
    create(web)
    exporter.export(web.app.state.counterplan.engine, tmp_path / "a")
    as_format_2(tmp_path / "a")
    with new_empty(db_url, tmp_path) as url:
        restored = database.connect(url)
        try:
            counts = restorer.restore(restored, tmp_path / "a")
            assert counts["challenges"] == 0 and counts["plans"] == 2
        finally:
            restored.dispose()
