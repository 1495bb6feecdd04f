"""Benchmark: what a dated report costs as its unit's reports pile up.

A delegate of one unit of the demo (``--unit``, default agro) reports each
of the unit's techniques day after day through the first period (cumulative
activity at a pace drawn once per technique, 0.8–1.1 of the plan), through
the web application's API in this process (FastAPI's test client, a fresh
SQLite demo database).  Every dated report checks the unit's reports and
runs the plan cycle's monitor over them (docs/cycle.md).  The same days are
reported twice, each on its own fresh database: with the filter going on
from each index's last report (the web application's ``FilterMemory``) and
with a memory that keeps nothing, so that every report filters each index
from its first report.  Prints the median latency of each sampled day's
reports for both and their ratio.  Not a test: run it by hand,

    .venv/bin/python benchmarks/bench_dated_reports.py --days 120
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from counterplan.cycle.multistate import FilterMemory
from counterplan.cycle.reports import period_dates
from counterplan.web import db as database
from counterplan.web import demo
from counterplan.web.app import Settings, create_app
from counterplan.web.models import Version
from counterplan.web.services import cycle
from counterplan.web.services.versions import loaded, unit_part

PASSWORD = "counterplan-demo"


def latencies(folder: Path, unit: str, days: int, memory: FilterMemory, seed: int
              ) -> list[list[float]]:
    """Seconds of each report, per day."""
    url = f"sqlite:///{folder / 'counterplan.db'}"
    engine = database.connect(url)
    app = create_app(Settings(db_url=url), engine)
    state = app.state.counterplan
    with state.tx() as session:
        demo.seed(session)
    with state.tx() as session:
        got = loaded(session, state.cache, session.scalars(select(Version)
                                                           .order_by(Version.id)).first())
    e = got.economy
    period = e.periods[0]
    span = period_dates(period)
    if span is None:
        raise SystemExit(f"period {period!r} of the demo names no dates")
    techniques = list(e.techniques.index[unit_part(e, unit)])
    activity = got.tables["activity"]
    planned = activity[activity["period"] == period].set_index("technique")["level"]
    rng = np.random.default_rng(seed)
    pace = {t: float(rng.uniform(0.8, 1.1)) for t in techniques}
    length = (span[1] - span[0]).days + 1
    client = TestClient(app)
    login = client.post("/api/login", json={"name": f"{unit}-delegate", "password": PASSWORD})
    login.raise_for_status()
    headers = {"X-CSRF-Token": login.json()["csrf"]}
    cycle.FILTERS = memory
    out = []
    try:
        for day in range(1, days + 1):
            date = span[0] + dt.timedelta(days=day - 1)
            times = []
            for t in techniques:
                body = {"technique": t, "period": period, "date": date.isoformat(),
                        "activity": float(planned[t]) * pace[t] * day / length}
                start = time.perf_counter()
                made = client.post(f"/api/plans/brazil/units/{unit}/reports", json=body,
                                   headers=headers)
                times.append(time.perf_counter() - start)
                if made.status_code != 201:
                    raise SystemExit(f"day {day}, {t}: {made.status_code} {made.text}")
            out.append(times)
    finally:
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unit", default="agro")
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    runs = {}
    for name, memory in [("going on", FilterMemory()), ("from the first", FilterMemory(0))]:
        with tempfile.TemporaryDirectory() as tmp:
            runs[name] = latencies(Path(tmp), args.unit, args.days, memory, args.seed)
        print(f"{name}: done", flush=True)
    sampled = sorted({1, 10, *range(30, args.days + 1, 30), args.days})
    print(f"\nunit {args.unit}, median of each day's reports (ms):")
    print(f"{'day':>5} {'going on':>10} {'from the first':>15} {'ratio':>7}")
    for day in sampled:
        a, b = (1e3 * float(np.median(runs[k][day - 1])) for k in ("going on", "from the first"))
        print(f"{day:>5} {a:>10.1f} {b:>15.1f} {b / a:>7.2f}")


if __name__ == "__main__":
    main()
