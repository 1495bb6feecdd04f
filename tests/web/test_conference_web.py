"""Production conferences in the web application, on SQLite and PostgreSQL:
once north's better flour norm is adopted and published, the south and east
bakeries (comparable and worse) see it offered with its gains, and nobody
else does; a member proposes the same norm in one step; the plan page lists
the best norm of every product; and the rights of every new route."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from typing import Any

import pytest

from counterplan.counter.conference import candidates
from counterplan.io.folder import read_folder
from counterplan.model import Flows
from counterplan.plan import solve
from counterplan.web.auth import add_user

from conferences import NOTE, PLAN, adopt_north_sieve, create, ok, set_up
from economies import BAKERIES
from webtests import Web, snapshot

PAGE = "/plans/bakeries"


def economy_after_sieve(tmp_path: Any) -> Any:
    folder = tmp_path / "bake"
    folder.mkdir()
    for name, text in BAKERIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    e = read_folder(folder)
    f = e.flows
    amount = f.amount.copy()
    north = e.techniques.index.get_loc("bake-north")
    flour = e.items.index.get_loc("flour")
    amount[(f.technique == north) & (f.item == flour)] = -0.5
    return replace(e, flows=Flows(f.technique, f.item, amount))


def test_an_adopted_norm_is_offered_exactly_to_the_comparable_worse_units(
        web: Web, tmp_path: Any) -> None:
    create(web)
    adopt_north_sieve(web, publish=False)
    # reconciled, not yet published: not adopted for the members yet
    assert ok(web.as_("agro-member1").get(f"{PLAN}/units/south/conference")) == []
    ok(web.as_("office").post(f"{PLAN}/versions/2/publish"))
    offers = {u: ok(web.as_("office").get(f"{PLAN}/units/{u}/conference?exact=true"))
              for u in ("north", "south", "east", "mill")}
    assert offers["north"] == [] and offers["mill"] == []
    assert [(o["technique"], o["input"]) for o in offers["south"]] == [("bake-south", "flour")]
    assert [(o["technique"], o["input"]) for o in offers["east"]] == [("bake-east", "flour")]
    south = offers["south"][0]
    assert (south["holder_unit"], south["holder_technique"], south["note"]) == \
        ("north", "bake-north", NOTE)
    assert (south["norm"], south["better_norm"], south["value"]) == \
        pytest.approx((0.8, 0.5, -0.5))
    # the same as the library on the economy in force, and the exact gain is
    # the optimum of the changed economy solved from nothing, less the plan's
    economy = economy_after_sieve(tmp_path)
    plan = solve(economy)
    assert south["estimated_gain"] == pytest.approx(float(candidates(
        economy, plan.balance_table()[["item", "period", "valuation"]],
        plan.activity_table(), [_adopted()]).set_index("technique")
        .loc["bake-south", "estimated_gain"]))
    f = economy.flows
    amount = f.amount.copy()
    amount[(f.technique == economy.techniques.index.get_loc("bake-south"))
           & (f.item == economy.items.index.get_loc("flour"))] = -0.5
    matched = solve(replace(economy, flows=Flows(f.technique, f.item, amount)))
    assert south["exact_gain"] == pytest.approx(matched.value - plan.value, rel=1e-6)
    assert south["exact_gain"] > 0
    assert web.as_("office").get(f"{PLAN}/units/nowhere/conference").status_code == 404
    # without asking, no exact gain is computed
    assert ok(web.as_("agro-member1").get(f"{PLAN}/units/south/conference"))[0][
        "exact_gain"] is None


def _adopted() -> Any:
    from counterplan.counter.conference import Adopted

    return Adopted("proposal 1", "bake-north", "flour", NOTE)


def hidden_fields(form: str) -> dict[str, str]:
    return {m.group(1): html.unescape(m.group(2)) for m in re.finditer(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)}


def test_a_member_proposes_the_better_norm_in_one_step(web: Web) -> None:
    set_up(web)
    member = web.as_("agro-member1")
    page = member.get(f"{PAGE}/units/south?exact=1")
    assert page.status_code == 200
    assert "Production conference" in page.text and html.escape(NOTE) in page.text
    forms = re.findall(r'<form method="post" action="[^"]*/proposals" class="inline">.*?</form>',
                       page.text, flags=re.S)
    assert len(forms) == 1
    fields = hidden_fields(forms[0])
    assert {k: fields[k] for k in ("kind", "technique", "item", "value")} == \
        {"kind": "norm", "technique": "bake-south", "item": "flour", "value": "-0.5"}
    sent = member.client.post(f"{PAGE}/units/south/proposals", data=fields,
                              follow_redirects=False)
    assert sent.status_code == 303
    made = ok(member.get(f"{PLAN}/units/south/proposals"))[0]
    assert made["rows"][0]["kind"] == "norm" and made["verdict"] == "accepted"
    assert "north" in made["note"] and NOTE in made["note"]
    offer = ok(member.get(f"{PLAN}/units/south/conference?exact=true"))[0]
    assert made["objective_after"] - made["objective_before"] == \
        pytest.approx(offer["exact_gain"], rel=1e-9)
    # judged as every other: the delegate submits it, the office reconciles and
    # publishes, and south no longer has a worse norm to match
    ok(web.as_("agro-delegate").post(f"{PLAN}/proposals/{made['id']}/submit"))
    ok(web.as_("office").post(f"{PLAN}/rounds/2/reconcile"))
    ok(web.as_("office").post(f"{PLAN}/versions/3/publish"))
    assert ok(member.get(f"{PLAN}/units/south/conference")) == []
    best = {(b["product"], b["input"]): b for b in ok(member.get(f"{PLAN}/norms"))}
    assert best[("bread", "flour")]["holders"] == "bake-north, bake-south"
    assert best[("bread", "flour")]["holder_units"] == "north, south"


def test_the_plan_page_lists_the_best_norms(web: Web) -> None:
    set_up(web)
    page = web.as_("mining-member1").get(PAGE)
    assert page.status_code == 200
    section = page.text[page.text.index('id="best-norms"'):page.text.index('id="versions"')]
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td class=\"num\">([\d.]+)</td>"
                      r"<td>([\w, ]+) ", section)
    assert ("bread", "flour", "0.5", "north") in rows
    assert ("bread", "labour", "0.25", "east, south") in rows
    assert not any(r[0] == "flour" for r in rows)  # one mill: nothing compared
    # the demo plan has one technique per product: the page says so
    demo = web.as_("agro-member1").get("/plans/brazil")
    assert "there is no norm to compare" in demo.text


def test_no_button_without_an_open_round_and_none_for_the_office(web: Web) -> None:
    create(web)
    adopt_north_sieve(web, publish=False)
    ok(web.as_("office").post(f"{PLAN}/versions/2/publish"))  # no round 2 opened
    page = web.as_("agro-member1").get(f"{PAGE}/units/south")
    assert "propose it when a round is open" in page.text
    assert "Propose this norm" not in page.text
    ok(web.as_("office").post(f"{PLAN}/rounds"), 201)
    office = web.as_("office").get(f"{PAGE}/units/south")
    assert "bake-south" in office.text and "Propose this norm" not in office.text
    # the office and another unit's member cannot send south's one-step form;
    # someone outside the plan is told it does not exist
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    before = snapshot(web)
    for name, status in (("food-member1", 403), ("office", 403), ("outsider", 404)):
        user = web.as_(name)
        refused = user.client.post(f"{PAGE}/units/south/proposals", data={
            "csrf": user.csrf, "kind": "norm", "technique": "bake-south", "item": "flour",
            "value": "-0.5"}, follow_redirects=False)
        assert refused.status_code == status, name
    assert snapshot(web) == before


# -- the rights of the new routes ------------------------------------------------------

ROLES = ("anonymous", "outsider", "food-member1", "food-delegate", "agro-member1",
         "agro-delegate", "office")
SOUTH = {"agro-member1": 200, "agro-delegate": 200, "office": 200}
EVERYONE = {r: 200 for r in ROLES[2:]}
CASES = [
    ("offers", f"{PLAN}/units/south/conference", SOUTH),
    ("offers with exact gains", f"{PLAN}/units/south/conference?exact=true", SOUTH),
    ("best norms", f"{PLAN}/norms", EVERYONE),
    ("unit page with exact gains", f"{PAGE}/units/south?exact=1", SOUTH),
    ("plan page with best norms", PAGE, EVERYONE),
]


@pytest.mark.parametrize("name, path, allowed", CASES, ids=[c[0] for c in CASES])
def test_rights(web: Web, name: str, path: str, allowed: dict[str, int]) -> None:
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", "counterplan-demo")
    set_up(web)
    before = snapshot(web)
    page = not path.startswith("/api")
    got = {}
    for role in ROLES:
        if role == "anonymous":
            response = web.anonymous().get(path, follow_redirects=False)
        else:
            response = web.as_(role).client.get(path, follow_redirects=False)
        got[role] = response.status_code
        if response.status_code == 200 and "conference" in path:
            offers = response.json() if not page else None
            assert page or [o["technique"] for o in offers] == ["bake-south"]
    want = {"anonymous": 303 if page else 401, "outsider": 404,
            **{r: 403 for r in ROLES[2:]}, **allowed}
    assert got == want
    assert snapshot(web) == before  # reading changes nothing
