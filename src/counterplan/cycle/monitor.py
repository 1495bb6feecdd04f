"""Watch fulfilment as it happens (Cybersyn's Cyberstride): filter every
index with the Harrison–Stevens multi-state model, forecast the period's end
and raise exceptions (docs/cycle.md).

    from counterplan.cycle import monitor, read_reports
    watch = monitor(plan, read_reports("reports.csv", plan.economy))
    watch.exceptions
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import norm

from counterplan.cycle.multistate import (
    CHANGES,
    STATES,
    FilterMemory,
    MultiStateOptions,
    forecast_even,
    run,
)
from counterplan.cycle.planned import PlanInForce
from counterplan.cycle.reports import Reports, index_table, period_dates
from counterplan.plan.result import Plan

FloatArray = NDArray[np.float64]
EXCEPTION_COLUMNS = ["unit_id", "technique", "date", "kind", "probability", "forecast",
                     "reason"]


@dataclass(frozen=True)
class MonitorOptions:
    """Thresholds of the exceptions and the model's priors (docs/cycle.md)."""

    states: MultiStateOptions = field(default_factory=MultiStateOptions)
    #: an exception when the probability that a step, slope change or outlier
    #: happened within the model's window of reports passes this
    threshold: float = 0.5
    #: ... or when the probability that the period ends below this fulfilment
    #: passes the threshold
    fulfilment: float = 0.95
    #: probability of the forecast interval
    interval: float = 0.9


@dataclass(frozen=True, eq=False)
class Monitoring:
    """``indices``: one row per index and report (indices.csv);
    ``exceptions``: exceptions.csv."""

    indices: pd.DataFrame
    exceptions: pd.DataFrame
    options: MonitorOptions

    def flagged(self) -> list[tuple[str, str]]:
        """(unit_id, technique) of every index with an exception."""
        pairs = self.exceptions[["unit_id", "technique"]].drop_duplicates()
        return list(pairs.itertuples(index=False, name=None))


def monitor(plan: Plan | PlanInForce, reports: Reports,
            options: MonitorOptions = MonitorOptions(),
            memory: FilterMemory | None = None) -> Monitoring:
    """Filter every index of ``reports`` against ``plan`` and list the
    exceptions; ``memory``: where the filter keeps each index's state, to go
    on from there when the index comes again with more reports (the same
    result, sooner)."""
    state = PlanInForce.of(plan)
    table = index_table(reports, state.economy, state.activity)
    table = table[np.isfinite(table["interval_index"])].reset_index(drop=True)
    series = table.groupby(["unit_id", "technique"], sort=False).ngroup().to_numpy()
    position = table.groupby(series).cumcount().to_numpy()
    y = np.full((series.max() + 1 if len(series) else 0, position.max() + 1 if len(series)
                 else 0), np.nan)
    y[series, position] = table["interval_index"].to_numpy()
    filtered = run(y, options.states, memory)
    at = (series, position)
    probability, revised, change = filtered.probability[at], filtered.revised[at], \
        filtered.change[at]
    columns: dict[str, Any] = {"level": filtered.level[at], "slope": filtered.slope[at],
                               "level_sd": filtered.level_sd[at], "noise": filtered.noise[at]}
    for k, name in enumerate(STATES):
        columns[f"p_{name}"] = probability[:, k]
    for k, name in enumerate(STATES):
        columns[f"p_{name}_next"] = revised[:, k]
    for k, name in enumerate(CHANGES):
        columns[f"p_{name}_window"] = change[:, k]
    columns["p_change"] = change.sum(axis=1)
    columns["change_kind"] = np.array(CHANGES)[change.argmax(axis=1)]
    lag = (1.0 - filtered.lagged[at][:, :, 0]).argmax(axis=1)
    dates = np.empty(y.shape, dtype=object)
    dates[at] = table["date"].to_numpy()
    columns["change_date"] = dates[series, position - np.minimum(lag, position)]
    mean, sd = _forecast(table, series, filtered.mean[at], filtered.cov[at], columns["noise"],
                         options.states)
    z = norm.ppf(0.5 + options.interval / 2)
    columns["forecast"] = mean
    columns["forecast_low"] = mean - z * sd
    columns["forecast_high"] = mean + z * sd
    columns["p_shortfall"] = norm.cdf((options.fulfilment - mean) / np.maximum(sd, 1e-12))
    table = pd.concat([table, pd.DataFrame(columns, index=table.index)], axis=1)
    table["date"] = pd.to_datetime(table["date"]).dt.date.astype(str)
    table["change_date"] = pd.to_datetime(table["change_date"]).dt.date.astype(str)
    return Monitoring(table, _exceptions(table, options), options)


def _forecast(table: pd.DataFrame, series: NDArray[np.int64], mean: FloatArray,
              cov: FloatArray, noise: FloatArray, o: MultiStateOptions
              ) -> tuple[FloatArray, FloatArray]:
    """End-of-period fulfilment (actual + forecast of the rest) / planned, with
    the rest split into as many future reports as the index's usual spacing
    (the median days between its reports) leaves in the period.  ``series``
    numbers each row's index; an index's rows are together, by date."""
    date = pd.to_datetime(table["date"]).to_numpy(dtype="datetime64[D]")
    ends = {p: np.datetime64(period_dates(p)[1], "D")  # type: ignore[index]
            for p in table["period"].unique()}
    end = np.array([ends[p] for p in table["period"]], dtype="datetime64[D]")
    day = date.astype(np.int64).astype(float)
    between = np.full(len(day), np.nan)
    same = series[1:] == series[:-1]
    between[1:][same] = (day[1:] - day[:-1])[same]
    gap = pd.Series(between).groupby(series).transform("median")
    spacing = np.nan_to_num(gap.to_numpy(dtype=float), nan=30.0).clip(min=1.0)
    days_left = (end - date) / np.timedelta64(1, "D")
    steps = np.where(days_left > 0, np.maximum(1, np.round(days_left / spacing)), 0).astype(int)
    rest = (table["planned_period"] - table["planned"]).to_numpy(dtype=float).clip(min=0)
    total, sd = forecast_even(mean, cov, noise, rest, steps, o)
    planned = table["planned_period"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (table["actual"].to_numpy(dtype=float) + total) / planned
        return f, sd / planned


def _exceptions(table: pd.DataFrame, o: MonitorOptions) -> pd.DataFrame:
    """A change at a report where the probability that a step, slope change
    or outlier happened within the window passes the threshold and the
    index's previous report had no such alarm or named another kind (the
    kind is restated as the later reports tell a step from an outlier); a
    shortfall where the probability that the period ends below the
    fulfilment threshold first passes the threshold in a period."""
    alarm = table["p_change"] > o.threshold
    index = [table["unit_id"], table["technique"]]
    before = alarm.groupby(index, sort=False).shift(1, fill_value=False).astype(bool)
    kind_before = table["change_kind"].groupby(index, sort=False).shift(1)
    rows = []
    for i in np.flatnonzero((alarm & (~before | (kind_before != table["change_kind"])))
                            .to_numpy()):
        r = table.iloc[i]
        rows.append((r["unit_id"], r["technique"], r["date"], r["change_kind"], r["p_change"],
                     r["forecast"], _change_reason(r, o.states.window)))
    key = [table["unit_id"], table["technique"], table["period"]]
    below = table["p_shortfall"] > o.threshold
    before = below.groupby(key, sort=False).shift(1, fill_value=False).astype(bool)
    for i in np.flatnonzero((below & ~before).to_numpy()):
        r = table.iloc[i]
        rows.append((r["unit_id"], r["technique"], r["date"], "shortfall", r["p_shortfall"],
                     r["forecast"],
                     f"{_name(r)}: the forecast fulfilment of {r['period']} is "
                     f"{r['forecast']:.3f} ({r['forecast_low']:.3f} to "
                     f"{r['forecast_high']:.3f}), below {o.fulfilment:g}"))
    out = pd.DataFrame(rows, columns=EXCEPTION_COLUMNS)
    return out.sort_values(["date", "unit_id", "technique"], kind="stable"
                           ).reset_index(drop=True)


def _name(r: pd.Series) -> str:
    return f"unit {r['unit_id']}" if r["technique"] == "" else f"technique {r['technique']}"


def _change_reason(r: pd.Series, window: int) -> str:
    kind = r["change_kind"]
    what = {"step": "the level moved", "slope": "the trend changed",
            "outlier": "one report out of line"}[kind]
    return (f"{_name(r)}: {what} (P {r[f'p_{kind}_window']:.2f}; P of any change within the "
            f"last {window} reports {r['p_change']:.2f}), most probably at the report of "
            f"{r['change_date']}: interval index {r['interval_index']:.3f} against a "
            f"filtered level of {r['level']:.3f} (slope {r['slope']:+.4f} a report)")


__all__ = ["EXCEPTION_COLUMNS", "MonitorOptions", "Monitoring", "monitor"]
