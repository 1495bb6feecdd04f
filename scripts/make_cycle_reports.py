"""Derive the bundled synthetic year of monthly reports of the
``brazil-five-year`` example (src/counterplan/examples/data/brazil-five-year/
reports.csv): every technique the plan runs in 2026 reports its cumulative
activity at the end of each month.  The interval index of each month is 1
plus noise (standard deviation 0.02), except that the ``mining`` unit's output
steps down to 0.8 of the plan from May and the ``manufacturing-light`` unit's
drifts down by 1.5 % of the plan a month from March.

    python scripts/make_cycle_reports.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from counterplan.examples import copy_example
from counterplan.io.folder import read_folder
from counterplan.plan import solve

STEP_UNIT, STEP_MONTH, STEP_TO = "mining", 5, 0.8
DRIFT_UNIT, DRIFT_MONTH, DRIFT = "manufacturing-light", 3, -0.015
NOISE, SEED, YEAR = 0.02, 2026, "2026"
OUT = Path(__file__).parent.parent / "src/counterplan/examples/data/brazil-five-year/reports.csv"


def month_ends(year: int) -> list[dt.date]:
    return [dt.date(year + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1) for m in range(1, 13)]


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        economy = read_folder(copy_example("brazil-five-year", Path(tmp) / "b5"))
    plan = solve(economy)
    p = economy.periods.index(YEAR)
    rng = np.random.default_rng(SEED)
    units = economy.techniques["unit_id"].fillna("").astype(str)
    ends = month_ends(int(YEAR))
    days = np.diff([0] + [(d - dt.date(int(YEAR), 1, 1)).days + 1 for d in ends])
    rows = []
    for j, technique in enumerate(economy.techniques.index):
        planned = plan.activity[j, p]
        if planned <= 0:
            continue
        month = np.arange(1, 13)
        index = 1 + NOISE * rng.standard_normal(12)
        if units.iloc[j] == STEP_UNIT:
            index += np.where(month >= STEP_MONTH, STEP_TO - 1, 0.0)
        if units.iloc[j] == DRIFT_UNIT:
            index += DRIFT * np.maximum(month - DRIFT_MONTH + 1, 0)
        cumulative = np.cumsum(index * planned * days / days.sum())
        rows += [(units.iloc[j], technique, YEAR, d.isoformat(), float(a))
                 for d, a in zip(ends, cumulative, strict=True)]
    frame = pd.DataFrame(rows, columns=["unit_id", "technique", "period", "date", "activity"])
    frame.sort_values(["date", "unit_id", "technique"]).to_csv(OUT, index=False)
    print(f"wrote {len(frame)} reports to {OUT}")


if __name__ == "__main__":
    main()
