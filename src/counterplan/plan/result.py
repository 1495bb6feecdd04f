"""The solved plan: a result object kept apart from its inputs, its tables,
and the solved-plan folder (DESIGN.md §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.io.folder import staged_folder
from counterplan.model import Economy
from counterplan.plan.build import LP
from counterplan.plan.pdhg import Start

FloatArray = NDArray[np.float64]

#: Dual sign per family: rows of ≥ type (products) value *lowering* their bound.
_ROW_SIGN = {"product": -1.0, "resource": 1.0, "stock-use": 1.0, "stock-level": 1.0}


@dataclass(frozen=True)
class SolveInfo:
    """Where a plan came from: solver, algorithm, times, input hash, version."""

    solver: str
    algorithm: str
    build_seconds: float
    solve_seconds: float
    iterations: int
    input_hash: str
    version: str
    options: dict[str, Any] = field(default_factory=dict)
    violations: dict[str, float] = field(default_factory=dict)
    #: pdhg: relative primal, dual and gap errors in plan-relative units at the stop
    errors: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Plan:
    """An optimal (or failed) plan.  Arrays are items/techniques × periods.

    ``valuations[family]`` holds the objectively determined valuation of each
    row: the gain in the objective from one more unit of the item available in
    that period (products, resources, stock capacity) or arriving in it (stock
    levels); zero where nothing binds.
    """

    economy: Economy
    objective: str
    status: str
    value: float
    lambdas: FloatArray | None
    activity: FloatArray
    levels: FloatArray  # stocks × periods
    valuations: dict[str, FloatArray]
    info: SolveInfo
    #: the LP's primal and dual, to warm-start the solve of a related plan
    start: Start | None = None

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    # -- quantities -------------------------------------------------------------
    def supply(self) -> FloatArray:
        return np.asarray(self.economy.output_matrix.tocsr() @ self.activity)

    def use(self) -> FloatArray:
        return np.asarray(self.economy.input_matrix.tocsr() @ self.activity)

    def planned_final(self) -> FloatArray:
        """Final deliveries the plan commits to: λ_t g (kantorovich), r g
        (harmony) or g (min-resource); items × periods."""
        g = self.economy.target_array()
        if self.lambdas is not None:
            return g * self.lambdas[None, :]
        return g * self.ratios()

    def ratios(self) -> FloatArray:
        """Fulfilment ratio of each target: net output / target (items × periods;
        NaN where there is no target)."""
        g = self.economy.target_array()
        net = self.supply() - self.use()
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(g > 0, net / np.where(g > 0, g, 1.0), np.nan)

    # -- tables ---------------------------------------------------------------
    def activity_table(self) -> pd.DataFrame:
        e = self.economy
        return pd.DataFrame({
            "technique": np.repeat(e.techniques.index.to_numpy(dtype=object), e.n_periods),
            "period": np.tile(np.asarray(e.periods, dtype=object), e.n_techniques),
            "level": self.activity.reshape(-1),
        })

    def fulfilment_table(self) -> pd.DataFrame:
        e = self.economy
        item, period = e.targets.item, e.targets.period
        net = (self.supply() - self.use())[item, period]
        target = e.targets.amount
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(target > 0, net / np.where(target > 0, target, 1.0), np.nan)
        return pd.DataFrame({
            "item": e.items.index.to_numpy(dtype=object)[item],
            "period": np.asarray(e.periods, dtype=object)[period],
            "target": target, "delivered": net, "ratio": ratio,
        })

    def balance_table(self) -> pd.DataFrame:
        e = self.economy
        p = e.products
        supply, use, final = self.supply()[p], self.use()[p], self.planned_final()[p]
        return _long(e, p, {"supply": supply, "use": use, "final": final,
                            "surplus": supply - use - final,
                            "valuation": self.valuations["product"]})

    def resources_table(self) -> pd.DataFrame:
        e = self.economy
        resources = _long(e, e.resources, {
            "available": e.availability_array()[e.resources],
            "used": self.use()[e.resources], "valuation": self.valuations["resource"]})
        s = e.stocks
        stocks = _long(e, s, {"available": self.levels, "used": self.use()[s],
                              "valuation": self.valuations["stock-use"]})
        return pd.concat([resources, stocks], ignore_index=True)

    def stocks_table(self) -> pd.DataFrame:
        """Per stock and period: level, additions made by techniques (available
        from the next period), capacity used, and the valuation of one more
        unit arriving."""
        e = self.economy
        s = e.stocks
        added = np.asarray(e.output_matrix.tocsr()[s] @ self.activity)
        return _long(e, s, {"level": self.levels, "added": added, "used": self.use()[s],
                            "valuation": self.valuations["stock-level"]})

    def summary(self) -> dict[str, Any]:
        lambdas = None if self.lambdas is None else dict(
            zip(self.economy.periods, map(float, self.lambdas), strict=True))
        i = self.info
        return {
            "status": self.status,
            "objective": {"kind": self.objective, "value": self.value},
            "lambda": lambdas,
            "solver": {"name": i.solver, "algorithm": i.algorithm, "iterations": i.iterations},
            "seconds": {"build": i.build_seconds, "solve": i.solve_seconds},
            "violations": i.violations,
            "errors": i.errors,
            "input_hash": i.input_hash,
            "counterplan_version": i.version,
            "options": i.options,
            "economy": self.economy.name,
        }


def _long(e: Economy, rows: NDArray[np.int64], values: dict[str, FloatArray]) -> pd.DataFrame:
    n, t = len(rows), e.n_periods
    frame: dict[str, Any] = {
        "item": np.repeat(e.items.index.to_numpy(dtype=object)[rows], t),
        "period": np.tile(np.asarray(e.periods, dtype=object), n),
    }
    frame.update({k: np.asarray(v, dtype=float).reshape(n * t) for k, v in values.items()})
    return pd.DataFrame(frame)


def valuations_from_duals(lp: LP, row_dual: FloatArray, economy: Economy
                          ) -> dict[str, FloatArray]:
    """Map each family's duals to (items of the family × periods) valuations
    through the row registry."""
    out: dict[str, FloatArray] = {}
    codes = {"product": economy.products, "resource": economy.resources,
             "stock-use": economy.stocks, "stock-level": economy.stocks}
    for family, sign in _ROW_SIGN.items():
        rows = codes[family]
        values = np.zeros((len(rows), economy.n_periods))
        block = lp.rows.get(family)
        if block is not None:
            position = np.searchsorted(rows, block.key)
            values[position, block.period] = lp.sense * sign * row_dual[block.slice]
        out[family] = values + 0.0  # no negative zeros in the tables
    return out


def write_plan(plan: Plan, out: str | Path,
               extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write the solved-plan folder: summary.json, activity.csv,
    fulfilment.csv, balance.csv, resources.csv, and stocks.csv when the
    economy has stocks, and any ``extra`` tables by file name."""
    out = Path(out)
    with staged_folder(out) as tmp:
        (tmp / "summary.json").write_text(json.dumps(plan.summary(), indent=2) + "\n",
                                          encoding="utf-8")
        plan.activity_table().to_csv(tmp / "activity.csv", index=False)
        plan.fulfilment_table().to_csv(tmp / "fulfilment.csv", index=False)
        plan.balance_table().to_csv(tmp / "balance.csv", index=False)
        plan.resources_table().to_csv(tmp / "resources.csv", index=False)
        if len(plan.economy.stocks):
            plan.stocks_table().to_csv(tmp / "stocks.csv", index=False)
        for name, table in (extra or {}).items():
            table.to_csv(tmp / name, index=False)
    return out
