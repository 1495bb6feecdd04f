"""The plan cycle in the web application, on SQLite and PostgreSQL: dated
reports, exceptions escalated from the unit to the office's board after the
plan's number of unacknowledged reports (and not before), acknowledgement
stopping them, bad reports refused with a named error and nothing changed,
fulfilment pro rata to the date, and re-planning the plan in force equal to
the library's ``replan``."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from counterplan.cycle import PlanInForce, read_reports, replan
from counterplan.io.folder import read_folder
from counterplan.web.auth import add_user
from counterplan.web.models import ESCALATE_AFTER, Membership

from cycletests import PLAN, board, exceptions, post_month, year_of_reports
from webtests import Web, snapshot

MINING = f"{PLAN}/units/mining"


def months_after(date: str, posted: list[str]) -> int:
    """Reports of an index after ``date``: one a month, each month posted."""
    return sum(d > date for d in posted)


def test_escalation_after_the_set_number_of_reports_and_not_before(web: Web) -> None:
    """Each exception stays the unit's while its index has had fewer than
    ESCALATE_AFTER (3) reports since it, and is on the office's board from
    the third on (the mining unit stays at 80 %: nothing recovers)."""
    months = year_of_reports("mining")
    posted: list[str] = []
    for date in list(months)[:10]:  # January to October
        post_month(web, months[date])
        posted.append(date)
        seen = exceptions(web)
        on_board = {x["id"] for x in board(web)["exceptions"]}
        for x in seen:
            after = months_after(x["date"], posted)
            assert x["reports_since"] == min(after, ESCALATE_AFTER), x  # counted till it goes
            expected = "escalated" if after >= ESCALATE_AFTER else "unit"
            assert x["state"] == expected, (date, x)
            assert (x["id"] in on_board) == (expected == "escalated"), (date, x)
    unit_shortfall = [x for x in seen if x["technique"] == "" and x["kind"] == "shortfall"]
    assert [x["date"] for x in unit_shortfall] == ["2026-06-30"]  # as docs/cycle.md says
    step = [x for x in seen if x["technique"] == "" and x["kind"] == "step"]
    assert [x["date"] for x in step] == ["2026-07-31"]
    shown = board(web)["exceptions"]
    assert [x["date"] for x in shown] == sorted((x["date"] for x in shown), reverse=True)
    assert len(shown) == sum(x["state"] == "escalated" for x in seen) >= 2


def test_the_escalation_counts_each_report_of_the_index(web: Web) -> None:
    """The unit's own shortfall of June, report by report: the unit's after
    July and August, the board's at September's first report."""
    months = year_of_reports("mining")
    for date in list(months)[:8]:  # to August
        post_month(web, months[date])
    mine = next(x for x in exceptions(web) if x["technique"] == "" and x["date"] == "2026-06-30")
    assert (mine["state"], mine["reports_since"]) == ("unit", 2)
    september = months["2026-09-30"]
    answer = post_month(web, september[:1])[0]
    assert mine["id"] in answer["exceptions"]["escalated"]
    again = next(x for x in exceptions(web) if x["id"] == mine["id"])
    assert (again["state"], again["reports_since"]) == ("escalated", 3)
    assert again["escalated_at"] is not None


def test_acknowledgement_stops_it(web: Web) -> None:
    months = year_of_reports("mining")
    dates = list(months)
    for date in dates[:6]:  # to June
        post_month(web, months[date])
    mine = next(x for x in exceptions(web) if x["technique"] == "" and x["date"] == "2026-06-30")
    before = snapshot(web)
    for who, status in (("office", 403), ("food-member1", 403), ("agro-delegate", 403)):
        refused = web.as_(who).post(f"{PLAN}/exceptions/{mine['id']}/acknowledge",
                                    json={"note": "not ours"})
        assert refused.status_code == status, (who, refused.text)
    empty = web.as_("mining-member1").post(f"{PLAN}/exceptions/{mine['id']}/acknowledge",
                                           json={"note": "  "})
    assert empty.status_code == 422 and "note" in empty.json()["error"]
    assert snapshot(web) == before
    done = web.as_("mining-member1").post(f"{PLAN}/exceptions/{mine['id']}/acknowledge",
                                          json={"note": "The crusher is down; fixed by "
                                                        "October."})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "acknowledged"
    twice = web.as_("mining-delegate").post(f"{PLAN}/exceptions/{mine['id']}/acknowledge",
                                            json={"note": "again"})
    assert twice.status_code == 409
    for date in dates[6:10]:  # July to October: four more reports
        post_month(web, months[date])
    after = next(x for x in exceptions(web) if x["id"] == mine["id"])
    assert after["state"] == "acknowledged" and after["escalated_at"] is None
    assert after["acknowledged_by"] == "mining-member1"
    assert after["note"] == "The crusher is down; fixed by October."
    shown = board(web)["exceptions"]
    assert mine["id"] not in {x["id"] for x in shown}
    assert any(x["state"] == "escalated" for x in exceptions(web))  # the others went on


def test_the_office_sets_the_number_of_reports(web: Web) -> None:
    office = web.as_("office")
    before = snapshot(web)
    for bad in (0, -1, 1001):
        refused = office.post(f"{PLAN}/cycle", json={"escalate_after": bad})
        assert refused.status_code == 422 and "escalate_after" in refused.json()["error"]
    refused = web.as_("mining-delegate").post(f"{PLAN}/cycle", json={"escalate_after": 1})
    assert refused.status_code == 403
    assert snapshot(web) == before
    assert office.post(f"{PLAN}/cycle", json={"escalate_after": 1}).status_code == 200
    assert board(web)["escalate_after"] == 1
    months = year_of_reports("mining")
    for date in list(months)[:7]:  # to July
        post_month(web, months[date])
    for x in exceptions(web):
        assert x["state"] == ("escalated" if x["date"] < "2026-07-31" else "unit"), x


# -- bad reports ------------------------------------------------------------------------

GOOD = {"technique": "iron_ore_mining", "period": "2026", "date": "2026-03-31",
        "activity": 1000.0}
BAD = {
    "unknown technique": ({"technique": "gold_mining"}, "unknown technique 'gold_mining'"),
    "another unit's technique": ({"technique": "agriculture"},
                                 "technique 'agriculture' is not one of unit 'mining''s: it "
                                 "is run by unit 'agro'"),
    "date outside its period": ({"date": "2027-01-15"},
                                "date 2027-01-15 is outside period 2026"),
    "date not a date": ({"date": "31/03/2026"}, "is not a date: write it as YYYY-MM-DD"),
    "negative activity": ({"activity": -5.0}, "is not a number >= 0"),
    "unknown period": ({"period": "2031"}, "period '2031' is not in the plan"),
    "activity falls": ({"date": "2026-04-30", "activity": 900.0},
                       "cumulative activity is lower than at the technique's previous report"),
    "activity above the next report": ({"date": "2026-02-28", "activity": 1200.0},
                                       "cumulative activity is higher than at the technique's "
                                       "next report in the period (1000 on 2026-03-31)"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_report_is_named_and_changes_nothing(web: Web, case: str) -> None:
    delegate = web.as_("mining-delegate")
    assert delegate.post(f"{MINING}/reports", json=GOOD).status_code == 201
    change, message = BAD[case]
    before = snapshot(web)
    refused = delegate.post(f"{MINING}/reports", json={**GOOD, **change})
    assert refused.status_code == 422, refused.text
    said = refused.json()["error"] + " ".join(refused.json()["problems"])
    assert message in said, said
    assert "nothing was changed" in said
    assert snapshot(web) == before


def test_a_bad_date_in_the_form_comes_back_as_typed(web: Web) -> None:
    delegate = web.as_("mining-delegate")
    page = delegate.post("/plans/brazil/units/mining/reports", data={
        "csrf": delegate.csrf, "technique": "iron_ore_mining", "period": "2026",
        "date": "2027-02-01", "activity": "5000"}, headers={"Accept": "text/html"})
    assert page.status_code == 422
    assert "is outside period 2026" in page.text and 'value="2027-02-01"' in page.text
    assert delegate.post("/plans/brazil/units/mining/reports", data={
        "csrf": delegate.csrf, "technique": "iron_ore_mining", "period": "2026",
        "date": "2026-02-01", "activity": "5000"}, follow_redirects=False).status_code == 303


def test_a_report_without_a_date_keeps_working_and_a_dated_one_counts_pro_rata(web: Web
                                                                                 ) -> None:
    delegate = web.as_("mining-delegate")
    planned = _planned(web, "iron_ore_mining", "2026")
    whole = delegate.post(f"{MINING}/reports", json={
        "technique": "iron_ore_mining", "period": "2026", "activity": planned * 0.9})
    assert whole.status_code == 201 and whole.json()["date"] is None
    assert whole.json()["exceptions"] == {"raised": [], "escalated": []}
    half = 181 / 365  # 2026-01-01 to 2026-06-30
    dated = delegate.post(f"{MINING}/reports", json={
        "technique": "iron_ore_mining", "period": "2026", "date": "2026-06-30",
        "activity": planned * half})
    assert dated.status_code == 201
    cells = web.as_("office").get(f"{PLAN}/fulfilment").json()["cells"]
    cell = next(c for c in cells if c["technique"] == "iron_ore_mining")
    assert cell["date"] == "2026-06-30"
    assert cell["ratio"] == pytest.approx(1.0, rel=1e-9)  # on plan by the date


def _planned(web: Web, technique: str, period: str) -> float:
    rows = web.as_("mining-delegate").get(f"{MINING}").json()["activity"]
    return float(next(r["level"] for r in rows
                      if r["technique"] == technique and r["period"] == period))


# -- re-planning from the web -----------------------------------------------------------

def _version_folders(web: Web, number: int, into: Path) -> tuple[Path, Path]:
    with web.app.state.counterplan.engine.connect() as c:
        economy_zip, plan_zip = c.execute(sa.text(
            "SELECT economy_zip, plan_zip FROM versions WHERE number = :n"), {"n": number}).one()
    for data, part in ((economy_zip, "economy"), (plan_zip, "plan")):
        zipfile.ZipFile(io.BytesIO(data)).extractall(into / f"v{number}" / part)
    return into / f"v{number}" / "economy", into / f"v{number}" / "plan"


def test_a_web_replan_is_the_librarys_replan(web: Web, tmp_path: Path) -> None:
    """Reports of 2026 (the mining unit's dated year, and one report of the
    whole year by agro, which counts as dated at the year's last day); the
    office re-plans from 2027: a draft version whose periods and activity are
    the library's replan of the plan in force on the same reports."""
    months = year_of_reports("mining")
    for date in months:
        post_month(web, months[date])
    agro = web.as_("agro-delegate").post(f"{PLAN}/units/agro/reports", json={
        "technique": "agriculture", "period": "2026", "activity": 250000.0})
    assert agro.status_code == 201
    before = snapshot(web)
    for who, status in (("mining-delegate", 403), ("agro-member1", 403)):
        assert web.as_(who).post(f"{PLAN}/replan", json={"period": "2027"}).status_code == status
    bad = web.as_("office").post(f"{PLAN}/replan", json={"period": "2026"})
    assert bad.status_code == 422 and "a period after the first" in bad.json()["error"]
    assert snapshot(web) == before
    made = web.as_("office").post(f"{PLAN}/replan", json={"period": "2027"})
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 2 and made.json()["in_force"] == 1
    assert made.json()["reports"] == 49

    rows = [r for date in months for r in months[date]]
    rows.append({"unit_id": "agro", "technique": "agriculture", "period": "2026",
                 "date": "2026-12-31", "activity": "250000.0"})
    pd.DataFrame(rows).to_csv(tmp_path / "reports.csv", index=False)
    economy_folder, plan_folder = _version_folders(web, 1, tmp_path)
    economy = read_folder(economy_folder)
    library = replan(PlanInForce.read(plan_folder, economy),
                     read_reports(tmp_path / "reports.csv", economy), "2027")
    new_economy, new_plan = _version_folders(web, 2, tmp_path)
    assert read_folder(new_economy).periods == ("2027", "2028", "2029", "2030")
    web_activity = pd.read_csv(new_plan / "activity.csv", dtype={"period": str})
    expected = library.plan.activity_table()
    merged = expected.merge(web_activity, on=["technique", "period"], suffixes=("_lib", "_web"))
    assert len(merged) == len(expected) == len(web_activity)
    scale = float(np.abs(merged["level_lib"]).max())
    assert np.allclose(merged["level_web"], merged["level_lib"], rtol=1e-7, atol=1e-7 * scale)
    versions = web.as_("office").get(f"{PLAN}").json()["versions"]
    draft = next(v for v in versions if v["number"] == 2)
    assert not draft["published"] and "re-planned from 2027" in draft["label"]
    compared = web.as_("office").get("/plans/brazil/compare/1/2")
    assert compared.status_code == 200
    changes = web.as_("office").get(f"{PLAN}/compare/1/2").json()["changes"]
    assert changes and {c["period"] for c in changes} <= {"2027", "2028", "2029", "2030"}
    summary: Any = web.as_("office").get(f"{PLAN}/versions/2").json()["summary"]
    assert summary["lambda"] == pytest.approx(dict(zip(
        library.plan.economy.periods, library.plan.lambdas, strict=True)), rel=1e-7)


def test_the_board_draws_every_units_indices(web: Web) -> None:
    months = year_of_reports("mining")
    for date in list(months)[:9]:
        post_month(web, months[date])
    shown = board(web)
    units = {u["unit"]: u for u in shown["units"]}
    assert len(units) == 12  # every unit, reported or not
    mining = units["mining"]["series"]
    assert mining[0]["technique"] == "" and len(mining[0]["points"]) == 9
    assert mining[0]["state"] in ("step", "shortfall")
    assert units["agro"]["series"] == []
    page = web.as_("office").get("/plans/brazil/board")
    assert page.status_code == 200
    assert page.text.count('<svg class="index"') == len(mining)
    assert "Not acknowledged after 3 report(s)" in page.text


def test_two_reports_at_the_same_moment_keep_each_exception_once(web: Web, db_url: str
                                                                  ) -> None:
    """Two delegates' reports of one unit in parallel (PostgreSQL runs them at
    once; SQLite one after the other): both answered, no exception kept twice."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time")
    months = year_of_reports("mining")
    for date in list(months)[:5]:  # to May
        post_month(web, months[date])
    june = months["2026-06-30"]
    web.as_("mining-delegate")
    with web.app.state.counterplan.tx() as db:
        second = add_user(db, "mining-delegate2", "counterplan-demo")
        plan = db.execute(sa.text("SELECT id FROM plans WHERE name = 'brazil'")).scalar_one()
        db.add(Membership(plan_id=plan, user_id=second.id, role="delegate", unit_id="mining"))
    web.as_("mining-delegate2")
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def send(who: str, rows: list[dict[str, str]]) -> None:
        barrier.wait()
        for r in rows:
            answers.append(web.as_(who).post(f"{MINING}/reports", json={
                "technique": r["technique"], "period": r["period"], "date": r["date"],
                "activity": float(r["activity"])}).status_code)

    threads = [threading.Thread(target=send, args=("mining-delegate", june[:2])),
               threading.Thread(target=send, args=("mining-delegate2", june[2:]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [201] * len(june)
    kept = [(x["technique"], x["date"], x["kind"]) for x in exceptions(web)]
    assert len(kept) == len(set(kept)) and ("", "2026-06-30", "shortfall") in kept
