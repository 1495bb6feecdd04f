"""The plan cycle's state through export and restore, on SQLite and
PostgreSQL: dated reports, exceptions in every state (the unit's,
acknowledged with a note, escalated, recovered when there is one) and the
plan's setting are written to the archive and read back; exporting again
gives the same files, and the restored app shows and counts them as before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from counterplan.web import archive

from cycletests import PLAN, board, exceptions, post_month, year_of_reports
from test_archive import empty_url, engine_of, engines, tree, web_on
from webtests import Web, snapshot

__all__ = ["empty_url", "engines"]  # fixtures, used by name


def test_the_cycle_round_trips(web: Web, empty_url: str, tmp_path: Path,
                               engines: Callable[[str], sa.Engine]) -> None:
    months = year_of_reports("mining")
    for date in list(months)[:6]:  # to June
        post_month(web, months[date])
    mine = next(x for x in exceptions(web) if x["technique"] == "" and x["date"] == "2026-06-30")
    assert web.as_("mining-member1").post(f"{PLAN}/exceptions/{mine['id']}/acknowledge", json={
        "note": "=a formula? no: the crusher"}).status_code == 200
    assert web.as_("office").post(f"{PLAN}/cycle", json={"escalate_after": 2}).status_code == 200
    for date in list(months)[6:8]:  # July, August
        post_month(web, months[date])
    states = {x["state"] for x in exceptions(web)}
    assert {"unit", "acknowledged", "escalated"} <= states
    counts = archive.export(engine_of(web), tmp_path / "a")
    assert counts["plan_exceptions"] == len(exceptions(web)) > 0
    assert counts["cycle_settings"] == 1
    assert {t: n for t, n in counts.items() if t != "ballots"} == snapshot(web)
    text = (tmp_path / "a" / "plans" / "brazil" / "exceptions.csv").read_text(encoding="utf-8")
    assert "'=a formula? no: the crusher" in text  # guarded for spreadsheets
    assert (tmp_path / "a" / "plans" / "brazil" / "cycle.csv").read_text() == \
        "escalate_after\n2\n"
    assert ",2026-08-31\n" in (tmp_path / "a" / "plans" / "brazil" / "reports.csv").read_text()

    assert archive.restore(engines(empty_url), tmp_path / "a") == counts
    archive.export(engines(empty_url), tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    restored = web_on(empty_url, engines)
    assert exceptions(restored) == exceptions(web)
    assert board(restored)["exceptions"] == board(web)["exceptions"]
    assert board(restored)["escalate_after"] == 2
    assert board(restored)["units"] == board(web)["units"]
    # and the watch goes on: September's reports escalate what waited
    post_month(restored, months["2026-09-30"])
    post_month(web, months["2026-09-30"])
    assert [x["state"] for x in exceptions(restored)] == [x["state"] for x in exceptions(web)]
