"""Re-plan the remaining periods from what actually happened (docs/cycle.md).

The actual activity x̂_j(t) of each period before the re-plan is the latest
report of the period, pro rata to the whole period, x̂ = A(d) / φ(d); a
technique without a report keeps its planned activity.  The stock levels at
the start of period k then follow from the stock-level equation of the plan
(DESIGN.md §3) run on the actual activity:

    K_s(0)   = R_s(0)
    K_s(t+1) = (1 − δ_s) K_s(t) + Σ_j b_sj x̂_j(t) + R_s(t+1),      t < k

and the economy of periods k … T−1, starting from K(k), is solved again with
the same objective by :func:`counterplan.plan.solve`.

Warm start: when the plan in force is a solved :class:`Plan` that kept its
LP's primal and dual (``plan.start``), the re-plan starts from their part on
the remaining periods (the first-order solver uses it; the simplex method
starts from nothing).  A plan read from a folder has no such point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.cycle.planned import PlanInForce
from counterplan.cycle.reports import Reports, period_dates
from counterplan.errors import CounterplanError
from counterplan.model import Economy, Entries
from counterplan.plan import PlanOptions, Start, solve
from counterplan.plan.objectives import build_lp
from counterplan.plan.result import Plan

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ReplanOptions:
    """Options of the re-plan's solve (objective: the plan's own by default)."""

    plan: PlanOptions = field(default_factory=PlanOptions)
    objective: str | None = None


@dataclass(frozen=True, eq=False)
class Replan:
    """``plan``: the re-optimised remaining periods; ``actual``: the activity
    taken for the periods before (techniques × periods); ``start_levels``:
    K(k) per stock; ``changes``: changes.csv; ``start``: the warm start
    given to the solver (None when there was none)."""

    plan: Plan
    actual: FloatArray
    start_levels: FloatArray
    changes: pd.DataFrame
    start: Start | None


def replan(plan: Plan | PlanInForce, actuals: Reports, from_period: str,
           options: ReplanOptions = ReplanOptions()) -> Replan:
    """The periods from ``from_period`` on, re-optimised from the state the
    actual activity of the periods before it has left."""
    old = PlanInForce.of(plan)
    e = old.economy
    if from_period not in e.periods:
        raise CounterplanError(f"--from {from_period!r} is not a period of the plan; give one "
                               f"of {', '.join(e.periods)}")
    k = e.periods.index(from_period)
    if k == 0:
        raise CounterplanError(f"{from_period} is the plan's first period: nothing has "
                               "happened before it; re-plan from a later period")
    actual = actual_activity(old, actuals, k)
    levels = stock_levels(e, actual)
    rest = remaining_economy(e, k, levels)
    kind = options.objective or old.objective
    start = tail_start(plan, k, options) if isinstance(plan, Plan) and kind == plan.objective \
        else None
    new = solve(rest, kind, options.plan, start)
    return Replan(new, actual, levels, changes(old, new), start)


def tail_start(plan: Plan, k: int, options: ReplanOptions) -> Start | None:
    """The part of ``plan.start`` on periods k … T−1: every block of rows and
    columns of the plan LP is laid out by period, and the LP of the remaining
    economy has the same blocks on fewer periods."""
    if plan.start is None:
        return None
    lp = build_lp(plan.economy, plan.objective, options.plan.harmony, options.plan.resources)
    cols = np.concatenate([b.period >= k for b in lp.cols.blocks])
    rows = np.concatenate([b.period >= k for b in lp.rows.blocks])
    if len(cols) != len(plan.start.x) or len(rows) != len(plan.start.y):
        return None
    return Start(plan.start.x[cols], plan.start.y[rows])


def actual_activity(old: PlanInForce, actuals: Reports, k: int) -> FloatArray:
    """Activity of the periods before k: the plan's, replaced by the latest
    report of each technique and period pro rata to the whole period."""
    e = old.economy
    out = old.activity[:, :k].copy()
    r = actuals.frame[actuals.frame["p"] < k]
    latest = r.sort_values("date", kind="stable").drop_duplicates(["t", "p"], keep="last")
    for p in latest["p"].unique():
        group = latest[latest["p"] == p]
        first, last = period_dates(e.periods[int(p)])  # type: ignore[misc]
        days = (last - first).days + 1
        gone = (group["date"].to_numpy() - np.datetime64(first, "D")) / np.timedelta64(1, "D")
        share = (gone + 1) / days
        out[group["t"].to_numpy(), int(p)] = group["activity"].to_numpy() / share
    return out


def stock_levels(e: Economy, actual: FloatArray) -> FloatArray:
    """K(k) per stock after the periods of ``actual`` (techniques × k)."""
    s = e.stocks
    if len(s) == 0:
        return np.zeros(0)
    adds = e.flow_matrix.tocsr()[s].maximum(0)
    keep = 1.0 - e.items["depreciation"].to_numpy(dtype=float)[s]
    extra = e.availability_array()[s]
    level = extra[:, 0].copy()
    for t in range(actual.shape[1]):
        level = keep * level + np.asarray(adds @ actual[:, t]).ravel() + extra[:, t + 1]
    return level


def remaining_economy(e: Economy, k: int, levels: FloatArray) -> Economy:
    """The economy of periods k … T−1, stocks starting at ``levels``."""
    avail = _tail(e.availability, k)
    is_start = np.isin(avail.item, e.stocks) & (avail.period == 0)
    item = np.concatenate([avail.item[~is_start], e.stocks])
    period = np.concatenate([avail.period[~is_start], np.zeros(len(e.stocks), dtype=np.int64)])
    amount = np.concatenate([avail.amount[~is_start], levels])
    periods = e.periods[k:]
    weights = {p: w for p, w in e.objective.weights.items() if p in periods}
    return dataclasses.replace(
        e, periods=periods, availability=Entries(item, period, amount),
        targets=_tail(e.targets, k),
        objective=dataclasses.replace(e.objective, weights=weights))


def _tail(entries: Entries, k: int) -> Entries:
    keep = entries.period >= k
    weight = None if entries.weight is None else entries.weight[keep]
    return Entries(entries.item[keep], entries.period[keep] - k, entries.amount[keep], weight)


def changes(old: PlanInForce, new: Plan) -> pd.DataFrame:
    """changes.csv: kind (activity, fulfilment, valuation), id, period, old,
    new, change, for the remaining periods."""
    periods = list(new.economy.periods)
    k = old.economy.periods.index(periods[0])
    activity = new.activity_table().rename(columns={"technique": "id", "level": "new"})
    activity.insert(2, "old", old.activity[:, k:].reshape(-1))
    fulfilment = _merge(old.fulfilment, new.fulfilment_table(), "ratio", periods)
    valuation = _merge(old.resources, new.resources_table(), "valuation", periods)
    parts = [activity.assign(kind="activity"), fulfilment.assign(kind="fulfilment"),
             valuation.assign(kind="valuation")]
    out = pd.concat(parts, ignore_index=True)[["kind", "id", "period", "old", "new"]]
    out["change"] = out["new"] - out["old"]
    return out


def _merge(old: pd.DataFrame, new: pd.DataFrame, column: str, periods: list[str]
           ) -> pd.DataFrame:
    before = old[old["period"].astype(str).isin(periods)]
    merged = before[["item", "period", column]].merge(
        new[["item", "period", column]], on=["item", "period"], suffixes=("_old", "_new"),
        how="outer")
    return pd.DataFrame({"id": merged["item"], "period": merged["period"],
                         "old": merged[f"{column}_old"], "new": merged[f"{column}_new"]})


__all__ = [
    "Replan",
    "ReplanOptions",
    "actual_activity",
    "changes",
    "remaining_economy",
    "replan",
    "stock_levels",
    "tail_start",
]
