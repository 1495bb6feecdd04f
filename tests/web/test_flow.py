"""The whole flow through the JSON API, on SQLite and PostgreSQL: a member
proposes and gets the library's verdict, the unit votes in secret and
submits, the office reconciles and publishes, a delegate reports."""

from __future__ import annotations

import pandas as pd
import pytest

from counterplan.counter.evaluate import evaluate
from counterplan.counter.proposals import parse_counterplans
from counterplan.web.services.versions import economy_of_example

from webtests import Web, snapshot

PLAN = "/api/plans/brazil"
#: agriculture needs 9.02 jobs per BRL million; 12 is a worse norm, refused
NORM = {"kind": "norm", "technique": "agriculture", "item": "labour", "value": "-12"}
CAPACITY = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000000"}


def test_the_verdict_is_the_librarys(web: Web) -> None:
    member = web.as_("agro-member1")
    response = member.post(f"{PLAN}/units/agro/proposals", json=NORM)
    assert response.status_code == 201, response.text
    got = response.json()
    economy = economy_of_example("brazil-five-year")
    frame = pd.DataFrame([{"id": "x", "unit_id": "agro", **NORM}])
    plans, _ = parse_counterplans(frame, economy)
    expected = evaluate(economy, plans).verdicts.iloc[0]
    assert got["verdict"] == expected["verdict"]
    assert got["objective_after"] == pytest.approx(expected["objective_after"], rel=1e-9)
    assert got["reason"] == expected["reason"]
    assert got["state"] == "proposed"


def test_proposals_stay_in_the_unit_until_submitted(web: Web) -> None:
    made = web.as_("agro-member1").post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    assert [p["id"] for p in web.as_("agro-member2").get(
        f"{PLAN}/units/agro/proposals").json()] == [made["id"]]
    assert web.as_("food-member1").get(f"{PLAN}/units/agro/proposals").status_code == 403
    assert web.as_("office").get(f"{PLAN}/rounds/1/submitted").json() == []
    web.as_("agro-delegate").post(f"{PLAN}/proposals/{made['id']}/submit")
    assert [p["id"] for p in web.as_("office").get(f"{PLAN}/rounds/1/submitted").json()] == \
        [made["id"]]


def test_secret_ballot_one_member_one_vote(web: Web) -> None:
    first = web.as_("agro-member1").post(f"{PLAN}/units/agro/proposals", json=NORM).json()
    second = web.as_("agro-member2").post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    poll = web.as_("agro-delegate").post(f"{PLAN}/units/agro/polls").json()
    path = f"{PLAN}/polls/{poll['id']}"
    votes = {"agro-member1": {first["id"]: False, second["id"]: True},
             "agro-member2": {first["id"]: False, second["id"]: True},
             "agro-delegate": {first["id"]: True, second["id"]: False}}
    for name, choices in votes.items():
        response = web.as_(name).post(f"{path}/ballot", json={"choices": choices})
        assert response.status_code == 201, response.text
    again = web.as_("agro-member1").post(f"{path}/ballot", json={"choices": {first["id"]: True}})
    assert again.status_code == 409
    shown = web.as_("agro-member1").get(path).json()
    assert shown["voters"] == 3 and all("tally" not in i for i in shown["items"])
    closed = web.as_("agro-delegate").post(f"{path}/close").json()
    tally = {i["id"]: i["tally"] for i in closed["items"]}
    assert tally == {first["id"]: {"yes": 1, "no": 2}, second["id"]: {"yes": 2, "no": 1}}
    states = {p["id"]: p["state"] for p in web.as_("agro-member1").get(
        f"{PLAN}/units/agro/proposals").json()}
    assert states == {first["id"]: "proposed", second["id"]: "submitted"}
    with web.app.state.counterplan.engine.connect() as c:
        import sqlalchemy as sa

        tables = sa.inspect(c).get_table_names()
    assert "ballots" not in tables and "voters" in tables  # counts only: test_secrecy.py


def test_reconcile_publish_and_outcomes(web: Web) -> None:
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    good = delegate.post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    bad = delegate.post(f"{PLAN}/units/agro/proposals", json=NORM).json()
    for p in (good, bad):
        assert delegate.post(f"{PLAN}/proposals/{p['id']}/submit").status_code == 200
    done = office.post(f"{PLAN}/rounds/1/reconcile")
    assert done.status_code == 200, done.text
    assert done.json()["version"]["number"] == 2
    assert delegate.get(f"{PLAN}/rounds/1/outcomes").status_code == 403  # not yet published
    assert delegate.get(f"{PLAN}/versions/2").status_code == 404  # a draft
    assert office.post(f"{PLAN}/versions/2/publish").status_code == 200
    outcomes = {o["id"]: o for o in delegate.get(f"{PLAN}/rounds/1/outcomes").json()}
    assert outcomes[good["id"]]["outcome"] == "adopted"
    assert outcomes[bad["id"]]["outcome"] == "refused"
    assert "lowers the objective" in outcomes[bad["id"]]["outcome_reason"]
    v1, v2 = (delegate.get(f"{PLAN}/versions/{n}").json() for n in (1, 2))
    assert v2["objective"] > v1["objective"]
    compared = office.get(f"{PLAN}/compare/1/2").json()
    assert compared["a"]["number"] == 1 and compared["b"]["number"] == 2
    assert compared["changes"]  # more labour changes the activity


def test_reports_and_ranking(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    planned = delegate.get(f"{PLAN}/units/agro").json()["activity"]
    row = next(r for r in planned if r["technique"] == "livestock" and r["period"] == "2026")
    for activity in (0.5 * row["level"], 0.9 * row["level"]):  # the latest counts
        response = delegate.post(f"{PLAN}/units/agro/reports", json={
            "technique": "livestock", "period": "2026", "activity": activity})
        assert response.status_code == 201, response.text
    table = web.as_("food-member1").get(f"{PLAN}/fulfilment").json()
    cell = next(c for c in table["cells"] if c["technique"] == "livestock")
    assert cell["ratio"] == pytest.approx(0.9)
    assert table["by_fulfilment"][0]["unit"] == "agro"
    assert snapshot(web)["reports"] == 2  # nothing is deleted


def test_a_round_mixes_form_and_file_proposals(web: Web) -> None:
    """An uploaded counterplan.csv may leave out columns that a form fills."""
    delegate = web.as_("agro-delegate")
    from_form = delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "pledge", "technique": "agriculture", "period": "2026", "value": "100",
        "note": "more grain"}).json()
    from_file = delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", b"id,kind,item,value\nx,capacity,labour,500\n",
                 "text/csv")}).json()[0]  # no period column: every period
    for p in (from_form, from_file):
        assert delegate.post(f"{PLAN}/proposals/{p['id']}/submit").status_code == 200
    office = web.as_("office")
    done = office.post(f"{PLAN}/rounds/1/reconcile")
    assert done.status_code == 200, done.text
    outcomes = {o["id"]: o for o in done.json()["outcomes"]}
    assert outcomes[from_file["id"]]["outcome"] == "adopted"
    assert outcomes[from_form["id"]]["outcome"] == "adopted"


def test_norm_improvement_ranks_the_unit_that_saved(web: Web) -> None:
    """Agriculture's labour norm 9.02 → 8.5 jobs: agro's techniques cost
    (9.02 − 8.5) × the valuation of labour less, at version 1's valuations."""
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    made = delegate.post(f"{PLAN}/units/agro/proposals", json={
        "kind": "norm", "technique": "agriculture", "item": "labour", "value": "-8.5"}).json()
    delegate.post(f"{PLAN}/proposals/{made['id']}/submit")
    assert office.post(f"{PLAN}/rounds/1/reconcile").json()["outcomes"][0]["outcome"] == \
        "adopted"
    v1 = office.get(f"{PLAN}/versions/1").json()
    office.post(f"{PLAN}/versions/2/publish")
    prices = pd.concat([pd.DataFrame(v1["valuations"]), pd.DataFrame(v1["resources"])])
    price = prices.groupby("item")["valuation"].mean()
    economy = economy_of_example("brazil-five-year")
    f = economy.flows
    agro = set(economy.techniques.index[economy.techniques["unit_id"] == "agro"])
    cost_then = sum(-a * price.get(economy.items.index[i], 0.0)
                    for t, i, a in zip(f.technique, f.item, f.amount, strict=True)
                    if a < 0 and economy.techniques.index[t] in agro)
    old = -float(f.amount[(economy.techniques.index[f.technique] == "agriculture")
                          & (economy.items.index[f.item] == "labour")][0])
    expected = (old - 8.5) * price["labour"] / cost_then
    ranking = {r["unit"]: r["norm_improvement"] for r in
               delegate.get(f"{PLAN}/fulfilment").json()["by_norms"]}
    assert ranking["agro"] == pytest.approx(expected, rel=1e-9)
    assert expected > 0
    assert all(v == pytest.approx(0.0, abs=1e-12) for u, v in ranking.items() if u != "agro")


def test_a_counter_plan_the_solver_cannot_judge_is_refused_and_nothing_kept(
        web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the solver gives up (SolveFailed: the plan at a partial share
    found no solution within its limits; no small plan makes it happen, so
    the judge is made to raise it), the proposal gets a 503 that says so,
    not a 500, and no proposal row is written."""
    from counterplan.counter.evaluate import Evaluator
    from counterplan.errors import SolveFailed

    def gives_up(self: Evaluator, plan: object) -> None:
        raise SolveFailed("counter-plan 'x': 0.5 of it fits, but the plan at that share "
                          "could not be solved")
    member = web.as_("agro-member1")
    monkeypatch.setattr(Evaluator, "judge", gives_up)
    response = member.post(f"{PLAN}/units/agro/proposals", json=NORM)
    assert response.status_code == 503, response.text
    assert "could not be judged" in response.text and "nothing was kept" in response.text
    monkeypatch.undo()
    assert member.get(f"{PLAN}/units/agro/proposals").json() == []
