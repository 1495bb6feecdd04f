"""Reports within a period: ``reports.csv`` read and validated to the
``check`` standard, and the indices computed from it (docs/cycle.md).

    reports.csv   unit_id, technique, period, date, activity

``activity`` is the technique's cumulative activity in ``period`` from the
period's first day to ``date`` inclusive (the latest report counts, as in the
web application).  ``unit_id`` is the unit that runs the technique (empty for
a technique no unit runs, reported by the planning office).

Periods carry dates through their labels: a year (``2026``), a quarter
(``2026-Q2``), a month (``2026-05``) or an explicit ISO range
(``2026-01-01/2026-06-30``).

The index of technique j at a report dated d in period t is

    φ(d)   = (d − start_t + 1 day) / (end_t − start_t + 1 day)    share of the period gone
    P_j(d) = φ(d) x_j(t)                                          planned activity pro rata
    I_j(d) = A_j(d) / P_j(d)                                      cumulative index

and the interval index, Cyberstride's "actual over capability" of the
interval since the previous report d′ in the same period (d′ = the period's
start, with A = P = 0, for the first), is

    r_j(d) = (A_j(d) − A_j(d′)) / (P_j(d) − P_j(d′)).

A unit's indices are the same ratios of the sums over the techniques it has
reported by d (each technique at its latest report).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.io.problems import Problems, RawTable
from counterplan.model import Economy

FloatArray = NDArray[np.float64]
COLUMNS = ("unit_id", "technique", "period", "date", "activity")
_DAY = np.timedelta64(1, "D")


# -- period calendars --------------------------------------------------------

def period_dates(label: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of a period from its label, or None when the label
    names no dates (see the module's docstring for the forms)."""
    try:
        if m := re.fullmatch(r"(\d{4})", label):
            year = int(m[1])
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
            year, q = int(m[1]), int(m[2])
            first = dt.date(year, 3 * q - 2, 1)
            return first, _month_end(year, 3 * q)
        if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
            year, month = int(m[1]), int(m[2])
            return dt.date(year, month, 1), _month_end(year, month)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})", label):
            first, last = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
            return (first, last) if first <= last else None
    except ValueError:
        return None
    return None


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


@dataclass(frozen=True, eq=False)
class Reports:
    """Validated reports: one row per report with columns unit_id, technique,
    period, date (datetime64), activity, plus the codes ``t`` (technique
    position) and ``p`` (period position), sorted by technique and date."""

    frame: pd.DataFrame
    file: str = "reports.csv"

    def __len__(self) -> int:
        return len(self.frame)


def read_reports(path: str | Path, economy: Economy) -> Reports:
    """Read and validate a reports file against ``economy``; raise
    :class:`InvalidInput` listing every problem."""
    path = Path(path)
    problems = Problems()
    file = path.name
    if not path.is_file():
        problems.add(str(path), None, "reports file not found",
                     "give the CSV of the units' reports: " + ", ".join(COLUMNS))
        problems.raise_if_errors()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        problems.add(file, None, f"cannot be read as CSV: {exc}",
                     "save it as UTF-8 CSV with the header " + ",".join(COLUMNS))
        problems.raise_if_errors()
        raise AssertionError("unreachable") from None
    return check_reports(frame, economy, file)


def check_reports(frame: pd.DataFrame, economy: Economy, file: str = "reports.csv"
                  ) -> Reports:
    """Validate reports given as a table of strings (or values) with the
    columns of reports.csv; raise :class:`InvalidInput` on any error."""
    problems = Problems()
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        problems.add(file, 1, f"missing column(s) {', '.join(missing)}",
                     "the header must be " + ",".join(COLUMNS))
        problems.raise_if_errors()
    table = RawTable(file, frame, np.arange(len(frame), dtype=np.int64) + 2)
    text = {c: frame[c].astype(str).str.strip() for c in ("unit_id", "technique", "period")}
    t = economy.techniques.index.get_indexer(pd.Index(text["technique"]))
    problems.rows(table, t < 0, "unknown technique",
                  "use a technique id of techniques.csv", text["technique"])
    owner = economy.techniques["unit_id"].fillna("").astype(str).to_numpy()
    runs = np.where(t >= 0, owner[np.maximum(t, 0)], text["unit_id"].to_numpy())
    problems.rows(table, (t >= 0) & (runs != text["unit_id"].to_numpy()),
                  "a unit reports for a technique it does not run",
                  "report each technique under the unit_id techniques.csv gives it "
                  "(empty for a technique no unit runs)", text["unit_id"])
    p = pd.Index(economy.periods).get_indexer(pd.Index(text["period"]))
    problems.rows(table, p < 0, "unknown period",
                  f"use one of the periods of economy.toml: {', '.join(economy.periods)}",
                  text["period"])
    calendar = [period_dates(label) for label in economy.periods]
    undated = [label for label, c in zip(economy.periods, calendar, strict=True) if c is None]
    if undated:
        problems.add("economy.toml", None, f"period(s) {', '.join(undated)} name no dates",
                     "name periods by year (2026), quarter (2026-Q1), month (2026-03) or "
                     "ISO range (2026-01-01/2026-06-30) to receive dated reports")
    date = pd.to_datetime(frame["date"].astype(str).str.strip(), format="%Y-%m-%d",
                          errors="coerce").to_numpy(dtype="datetime64[D]")
    problems.rows(table, np.isnat(date), "date is not an ISO date",
                  "write the date as YYYY-MM-DD", frame["date"])
    start, end = _bounds(calendar, p)
    outside = ~np.isnat(date) & (p >= 0) & ~np.isnat(start) & ((date < start) | (date > end))
    problems.rows(table, outside, "date is outside its period",
                  "give a date within the period (or the period the date falls in)",
                  frame["date"])
    activity = pd.to_numeric(frame["activity"].astype(str).str.strip(), errors="coerce"
                             ).to_numpy(dtype=float)
    problems.rows(table, ~np.isfinite(activity), "activity is not a number",
                  "give the cumulative activity in the period up to the date",
                  frame["activity"])
    problems.rows(table, activity < 0, "activity is negative",
                  "activity is a level run, 0 or more", frame["activity"])
    key = pd.DataFrame({"t": text["technique"], "d": frame["date"].astype(str).str.strip()})
    problems.rows(table, key.duplicated(keep="first").to_numpy(),
                  "a second report of the same technique on the same date",
                  "keep one report per technique and date", key["t"] + " " + key["d"])
    _check_monotone(table, problems, t, p, date, activity)
    problems.raise_if_errors()
    return _reports(text, date, activity, t, p, table.lines, file)


def _reports(text: dict[str, pd.Series], date: NDArray[np.datetime64], activity: FloatArray,
             t: NDArray[np.intp], p: NDArray[np.intp], lines: NDArray[np.int64], file: str
             ) -> Reports:
    out = pd.DataFrame({"unit_id": text["unit_id"], "technique": text["technique"],
                        "period": text["period"], "date": date, "activity": activity,
                        "t": t, "p": p, "line": lines})
    out = out.sort_values(["t", "date"], kind="stable").reset_index(drop=True)
    return Reports(out, file)


def reports_of(frame: pd.DataFrame, economy: Economy, file: str = "reports") -> Reports:
    """Reports already checked, each against the others when it was made (the
    web application's, read back from its database): the table
    :func:`check_reports` would give, without checking them all again.
    ``frame``: unit_id, technique, period, date (dates), activity (numbers),
    of techniques and periods of ``economy``."""
    text = {c: frame[c].astype(str) for c in ("unit_id", "technique", "period")}
    t = economy.techniques.index.get_indexer(pd.Index(text["technique"]))
    p = pd.Index(economy.periods).get_indexer(pd.Index(text["period"]))
    if (t < 0).any() or (p < 0).any():
        raise CounterplanError(f"{file}: a report of a technique or period the plan does not "
                               "have: check them with check_reports")
    date = np.array(list(frame["date"]), dtype="datetime64[D]")
    activity = frame["activity"].to_numpy(dtype=float)
    return _reports(text, date, activity, t, p, np.arange(len(frame), dtype=np.int64) + 2, file)


def _bounds(calendar: list[tuple[dt.date, dt.date] | None], p: NDArray[np.intp]
            ) -> tuple[NDArray[np.datetime64], NDArray[np.datetime64]]:
    nat = np.datetime64("NaT", "D")
    first = np.array([nat if c is None else np.datetime64(c[0], "D") for c in calendar] + [nat])
    last = np.array([nat if c is None else np.datetime64(c[1], "D") for c in calendar] + [nat])
    return first[p], last[p]  # p = -1 picks the NaT at the end


#: What a report whose cumulative activity falls is told (also by the web's
#: check of one dated report against its neighbours).
FALLS = "cumulative activity is lower than at the technique's previous report in the period"
NEVER_FALLS = "report the activity from the period's start to the date (it never falls)"


def _check_monotone(table: RawTable, problems: Problems, t: NDArray[np.intp],
                    p: NDArray[np.intp], date: NDArray[np.datetime64],
                    activity: FloatArray) -> None:
    """Cumulative activity cannot fall between two reports of one period."""
    ok = (t >= 0) & (p >= 0) & ~np.isnat(date) & np.isfinite(activity) & (activity >= 0)
    rows = np.flatnonzero(ok)
    order = rows[np.lexsort((date[rows], p[rows], t[rows]))]
    same = (t[order][1:] == t[order][:-1]) & (p[order][1:] == p[order][:-1])
    falls = same & (activity[order][1:] < activity[order][:-1])
    mask = np.zeros(len(t), dtype=bool)
    mask[order[1:][falls]] = True
    problems.rows(table, mask, FALLS, NEVER_FALLS, activity)


# -- indices -------------------------------------------------------------------

def index_table(reports: Reports, economy: Economy, planned: FloatArray) -> pd.DataFrame:
    """Indices of every technique and unit at each of its reports (module
    docstring): unit_id, technique ('' for a unit's index), period, date,
    actual, planned, planned_period, index, interval_index."""
    r = reports.frame
    calendar = [period_dates(label) for label in economy.periods]
    if any(c is None for c in calendar):
        raise CounterplanError("the periods of economy.toml name no dates; name them by year, "
                               "quarter, month or ISO range (docs/cycle.md)")
    start = np.array([np.datetime64(c[0], "D") for c in calendar if c])
    end = np.array([np.datetime64(c[1], "D") for c in calendar if c])
    p = r["p"].to_numpy()
    share = ((r["date"].to_numpy() - start[p]) / _DAY + 1) / ((end[p] - start[p]) / _DAY + 1)
    whole = planned[r["t"].to_numpy(), p]
    cells = pd.DataFrame({"unit_id": r["unit_id"], "technique": r["technique"],
                          "period": r["period"], "date": r["date"],
                          "actual": r["activity"], "planned": share * whole,
                          "planned_period": whole})
    units = _unit_rows(cells[cells["unit_id"] != ""])
    table = pd.concat([cells, units], ignore_index=True)
    table = table.sort_values(["unit_id", "technique", "date"], kind="stable")
    return _ratios(table.reset_index(drop=True))


def _unit_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """Per unit and report date: sums over its techniques at their latest
    report in the period up to that date.  Each report replaces its
    technique's previous one in the period, so it adds its change to the
    unit's sum: the sums are running totals of the changes, by date (sorts
    and one grouped running total; nothing the size of units × techniques).
    Reports are cumulative and never fall within a period (checked), so the
    changes are not negative and the running totals lose nothing to
    cancellation."""
    if cells.empty:
        return cells.iloc[0:0]
    values = ["actual", "planned", "planned_period"]
    period = pd.factorize(cells["period"])[0]
    technique = pd.factorize(cells["technique"])[0]
    # one key per unit and period, one per technique within them
    group = pd.factorize(cells["unit_id"])[0] * (period.max() + 1) + period
    series = group * (technique.max() + 1) + technique
    day = cells["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    n = len(cells)
    # each report's change: by technique's series and date (then as given, so
    # that the last report of a date wins)
    by_series = np.lexsort((np.arange(n), day, series))
    v = cells[values].to_numpy(dtype=float)[by_series]
    same = np.zeros(n, dtype=bool)
    same[1:] = series[by_series][1:] == series[by_series][:-1]
    change = np.empty_like(v)
    change[by_series] = v
    change[by_series[same]] -= v[np.flatnonzero(same) - 1]
    # running totals by unit and period, in date order; the last of each date
    by_date = np.lexsort((day, group))
    group, day = group[by_date], day[by_date]
    totals = pd.DataFrame(change[by_date]).groupby(group, sort=False).cumsum().to_numpy()
    last = np.ones(n, dtype=bool)
    last[:-1] = (group[1:] != group[:-1]) | (day[1:] != day[:-1])
    rows = by_date[last]
    frame = pd.DataFrame({"unit_id": cells["unit_id"].to_numpy()[rows], "technique": "",
                          "period": cells["period"].to_numpy()[rows],
                          "date": cells["date"].to_numpy()[rows]})
    for j, c in enumerate(values):
        frame[c] = totals[last, j]
    return frame


def _ratios(table: pd.DataFrame) -> pd.DataFrame:
    key = [table["unit_id"], table["technique"], table["period"]]
    previous_actual = table.groupby(key, sort=False)["actual"].shift(1).fillna(0.0)
    previous_planned = table.groupby(key, sort=False)["planned"].shift(1).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["index"] = np.where(table["planned"] > 0, table["actual"] / table["planned"],
                                  np.nan)
        step = table["planned"] - previous_planned
        table["interval_index"] = np.where(step > 0, (table["actual"] - previous_actual) / step,
                                           np.nan)
    return table


__all__ = ["COLUMNS", "FALLS", "NEVER_FALLS", "Reports", "check_reports", "index_table",
           "period_dates", "read_reports", "reports_of"]
