"""What people read, on SQLite and PostgreSQL: fulfilment against the plan
in force with the numbers of that version, the vote button only when a vote
can be opened, a refused report kept in its form, the version in force not
called a draft, and charts whose colours do not repeat."""

from __future__ import annotations

import re
from typing import Any

from test_pages import AGRO, CAPACITY, PLAN, form, made_id

from counterplan.web import charts

from webtests import Web


def test_fulfilment_uses_the_numbers_of_the_plan_in_force(web: Web) -> None:
    """The page said 'against the plan in force (version 2)' and used
    version 1's planned levels."""
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    planned_v1 = _level(office, "agriculture", "2027")
    assert delegate.post(f"/api{PLAN}/units/agro/reports", json={
        "technique": "agriculture", "period": "2027", "activity": 1000.0}).status_code == 201
    made = made_id(form(delegate, f"{AGRO}/proposals", CAPACITY))
    form(delegate, f"{PLAN}/proposals/{made}/submit")
    form(office, f"{PLAN}/rounds/1/reconcile")
    form(office, f"{PLAN}/versions/2/publish")
    planned_v2 = _level(office, "agriculture", "2027")
    assert planned_v2 != planned_v1  # the reconciled plan moved it
    table = delegate.get(f"/api{PLAN}/fulfilment").json()
    assert table["version"] == 2
    (cell,) = table["cells"]
    assert cell["planned"] == planned_v2 and cell["reported_against"] == 1
    assert cell["ratio"] == 1000.0 / planned_v2
    page = delegate.get(f"{PLAN}/fulfilment").text
    assert "planned as in version 2" in page and "version 1" in page


def _level(user: Any, technique: str, period: str) -> float:
    """The planned level in the plan in force, as the unit's API gives it."""
    return float(next(r["level"] for r in user.get(f"/api{PLAN}/units/agro").json()["activity"]
                      if r["technique"] == technique and r["period"] == period))


def _vote_button(html: str) -> bool:
    return "Open a vote on the waiting proposals" in html


def test_the_vote_button_shows_only_when_a_vote_can_be_opened(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    form(delegate, f"{AGRO}/proposals", CAPACITY)
    assert _vote_button(delegate.get(AGRO).text)
    form(delegate, f"{AGRO}/polls")
    page = delegate.get(AGRO).text
    assert not _vote_button(page) and "A vote is open" in page


def test_a_refused_report_keeps_what_was_typed(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    got = form(delegate, f"{AGRO}/reports", {"technique": "livestock", "period": "2028",
                                             "activity": "12,5", "note": "our harvest"})
    assert got.status_code == 422 and 'id="report-refusal"' in got.text
    assert 'value="12,5"' in got.text and 'value="our harvest"' in got.text
    assert re.search(r'<option value="2028" selected>', got.text)


def test_the_version_in_force_is_not_called_a_draft(web: Web) -> None:
    page = web.as_("office").get(PLAN).text
    row = page[page.index("version 1</a>"):]
    row = row[:row.index("</tr>")]
    assert "first draft" not in row and "the first version" in row and "in force" in row


def test_many_techniques_get_distinct_colours_and_every_legend_entry() -> None:
    techniques = [{"id": f"t{k}", "name": f"technique {k}"} for k in range(15)]
    activity = [{"technique": t["id"], "period": p, "level": 1.0 + k}
                for k, t in enumerate(techniques) for p in ("2026", "2027")]
    spec: dict[str, Any] = charts.planned_activity(activity, techniques)
    colour = spec["encoding"]["color"]
    assert len(set(colour["scale"]["range"])) >= 40  # no colour repeats up to 40
    assert colour["legend"]["symbolLimit"] == 0  # every technique named
    assert "columns" in colour["legend"]  # wrapping into columns
