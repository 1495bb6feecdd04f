"""What the plan cycle's web tests share: the bundled synthetic year of
monthly reports of the brazil-five-year example (the demo's plan), in which
the mining unit's output steps down to 80 % of the plan from May, posted
month by month through the JSON API as its delegate would."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from counterplan import examples

from webtests import Web

PLAN = "/api/plans/brazil"


def year_of_reports(unit: str) -> dict[str, list[dict[str, str]]]:
    """The example's reports of ``unit``, by date (month end), in date order."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = examples.copy_example("brazil-five-year", Path(tmp) / "b5")
        with (folder / "reports.csv").open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["unit_id"] == unit]
    months: dict[str, list[dict[str, str]]] = {}
    for r in sorted(rows, key=lambda r: (r["date"], r["technique"])):
        months.setdefault(r["date"], []).append(r)
    return months


def post_month(web: Web, rows: Iterable[dict[str, str]], who: str = "mining-delegate"
               ) -> list[dict[str, Any]]:
    """Post one month's reports; the answers."""
    out = []
    for r in rows:
        made = web.as_(who).post(f"{PLAN}/units/{r['unit_id']}/reports", json={
            "technique": r["technique"], "period": r["period"], "date": r["date"],
            "activity": float(r["activity"])})
        assert made.status_code == 201, made.text
        out.append(made.json())
    return out


def exceptions(web: Web, unit: str = "mining", who: str = "mining-member1"
               ) -> list[dict[str, Any]]:
    got = web.as_(who).get(f"{PLAN}/units/{unit}/exceptions")
    assert got.status_code == 200, got.text
    return list(got.json())


def board(web: Web) -> dict[str, Any]:
    got = web.as_("office").get(f"{PLAN}/board")
    assert got.status_code == 200, got.text
    return dict(got.json())
