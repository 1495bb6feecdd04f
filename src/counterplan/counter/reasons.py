"""Reasons in plain words: why a counter-plan changes nothing, what it gains,
or what blocks it — the items and periods that fall short and by how much,
traced upstream (the inputs of the inputs) to the binding resources, with
their valuations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.counter.apply import Edit, Locator
from counterplan.counter.proposals import CounterPlan
from counterplan.model import Economy
from counterplan.plan.build import LP
from counterplan.plan.elastic import Slacks, elastic_lp, read_slacks
from counterplan.plan.highs import Solution, Status, run_highs
from counterplan.plan.result import valuations_from_duals
from counterplan.schema import PRODUCT

FloatArray = NDArray[np.float64]
TOL = 1e-9
SHOWN = 5


@dataclass(frozen=True, eq=False)
class Context:
    """The current plan as the reasons need it."""

    economy: Economy
    lp: LP
    base: Solution
    matrix: sp.csc_matrix
    valuations: dict[str, FloatArray]

    @staticmethod
    def of(economy: Economy, lp: LP, base: Solution) -> Context:
        return Context(economy, lp, base, sp.csc_matrix(lp.matrix),
                       valuations_from_duals(lp, base.row_dual, economy))

    def name(self, item: int) -> str:
        e = self.economy
        label = str(e.items["name"].iloc[item])
        return f"{e.items.index[item]} ({label})" if label else str(e.items.index[item])

    # -- the exact answers from the valuations ---------------------------------
    def contributions(self, col: int, edit: Edit) -> tuple[float, float]:
        """(gain, cost) per unit of activity of an existing column after the
        edit, valued at the plan's valuations."""
        start, stop = self.matrix.indptr[col], self.matrix.indptr[col + 1]
        entries = dict(zip(self.matrix.indices[start:stop], self.matrix.data[start:stop],
                           strict=True))
        entries.update({r: v for (r, c), v in edit.coefficients.items() if c == col})
        cost = edit.cost.get(col, self.lp.cost[col])
        return self._split(np.fromiter(entries.keys(), dtype=np.int64, count=len(entries)),
                           np.fromiter(entries.values(), dtype=float, count=len(entries)), cost)

    def _split(self, rows: NDArray[np.int64], values: FloatArray, cost: float
               ) -> tuple[float, float]:
        # HiGHS's dual y is d(objective)/d(bound); one unit of activity moves the
        # rows by a, as if their bounds moved by −a: the objective changes by c − y·a
        sense = self.lp.sense
        parts = np.concatenate([[sense * cost], -sense * self.base.row_dual[rows] * values])
        return float(parts[parts > 0].sum()), float(-parts[parts < 0].sum())

    def unchanged(self, plan: CounterPlan, edit: Edit, at: Locator) -> str | None:
        """Why the optimum cannot change, when the valuations prove it; else None."""
        x, reasons = self.base.x, []
        periods = self.economy.periods
        for col, pledge in edit.pledges:
            if x[col] < pledge - TOL * max(1.0, pledge):
                return None
            j, t = _split_col(self.economy, col)
            reasons.append(f"the plan already runs {self.economy.techniques.index[j]} at "
                           f"{x[col]:.6g} in {periods[t]}, at or above the pledge of {pledge:.6g}")
        for row in edit.row_bounds:
            why = self._not_scarce(row)
            if why is None:
                return None
            reasons.append(why)
        for col in {c for (_, c) in edit.coefficients} | set(edit.cost):
            if x[col] > TOL:
                return None
            gain, cost = self.contributions(col, edit)
            if gain - cost > TOL * max(1.0, cost):
                return None
            reasons.append(_not_paying(self.economy, col, gain, cost))
        for column in edit.columns:
            gain, cost = self._split(column.rows, column.values, column.cost)
            if gain - cost > TOL * max(1.0, cost):
                return None
            reasons.append(f"the new technique {column.technique} does not pay in "
                           f"{periods[column.period]}: at the current valuations a unit of it "
                           f"yields {gain:.4g} and costs {cost:.4g}")
        if not reasons:
            return None
        return "accepted, the optimum is unchanged: " + "; ".join(
            list(dict.fromkeys(reasons))[:SHOWN])

    def _not_scarce(self, row: int) -> str | None:
        """A capacity row with room to spare (or a stock never fully used)."""
        lp, e = self.lp, self.economy
        for block in lp.rows.blocks:
            if block.start <= row < block.stop:
                break
        k = row - block.start
        item, period = int(block.key[k]), int(block.period[k])
        if block.family == "resource":
            used = float(self.base.row_value[row]) if self.base.row_value is not None else 0.0
            if lp.row_upper[row] - used <= TOL * max(1.0, abs(lp.row_upper[row])):
                return None
            return (f"{self.name(item)} is not scarce in {e.periods[period]} ({used:.6g} of "
                    f"{lp.row_upper[row]:.6g} used, valuation 0): more of it changes nothing")
        use = lp.rows.get("stock-use")
        assert use is not None and self.base.row_value is not None
        later = (use.key == item) & (use.period >= period)
        slack = -self.base.row_value[use.start + np.flatnonzero(later)]
        if slack.size and slack.min() <= TOL:
            return None
        return (f"the capacity {self.name(item)} is never fully used from "
                f"{e.periods[period]} on: more of it changes nothing")


def _split_col(economy: Economy, col: int) -> tuple[int, int]:
    return col % economy.n_techniques, col // economy.n_techniques


def _not_paying(economy: Economy, col: int, gain: float, cost: float) -> str:
    j, t = _split_col(economy, col)
    return (f"with the new norm {economy.techniques.index[j]} still does not pay in "
            f"{economy.periods[t]}: a unit of it yields {gain:.4g} and costs {cost:.4g} at "
            "the current valuations, so the plan does not run it")


def gain_reason(ctx: Context, plan: CounterPlan, before: float, after: float) -> str:
    change = after - before
    if abs(change) <= 1e-9 * max(1.0, abs(before)):
        return "accepted: it fits, and the optimum is unchanged"
    sense = "rises" if (change > 0) == (ctx.lp.sense > 0) else "falls"
    pct = 100 * change / before if before else float("inf")
    return (f"accepted: it fits, and the plan's objective {sense} from {before:.6g} to "
            f"{after:.6g} ({pct:+.3g} %)")


def pays_reason(economy: Economy, plan: CounterPlan) -> str:
    names = ", ".join(t.id for t in plan.techniques) or "it"
    return (f"rejected: with {names} the plan would be unbounded — something is made "
            "without using any limited resource or stock; give its inputs")


def shortfall_reason(ctx: Context, plan: CounterPlan, edited: LP, share: float,
                     solve: Callable[[LP, Slacks], Solution] | None = None,
                     floor: float = 0.0) -> str:
    """What falls short at the full proposal, traced to the binding limits:
    the elastic LP of ``edited`` solved by ``solve`` (HiGHS's simplex when
    None), slacks under ``floor`` of their row's size not counted."""
    elastic, slacks = elastic_lp(edited, relax_bounds=False)
    solution = solve(elastic, slacks) if solve is not None else run_highs(elastic)
    head = (f"only {share:.4g} of it fits" if share > TOL else "nothing of it fits")
    if solution.status != Status.OPTIMAL:
        return f"{head}: the plan cannot be made with it"
    conflicts = read_slacks(ctx.economy, edited, slacks, solution.x, floor)
    parts = []
    for r in conflicts.head(SHOWN).itertuples():
        code = -1 if r.family == "minimum" else \
            int(ctx.economy.items.index.get_indexer(pd.Index([r.item]))[0])
        label = ctx.name(code) if code >= 0 else str(r.item)
        text = f"{label} in {r.period}: {r.conflict} by {r.amount:.6g}"
        period = ctx.economy.periods.index(str(r.period))
        if r.family == "product" and code >= 0:
            limits = upstream(ctx, code, period)
            if limits:
                text += " (made from " + ", ".join(limits) + ")"
        elif code >= 0:
            text += f" (valued at {_valuation(ctx, code, period):.4g} in the plan)"
        parts.append(text)
    return f"{head}; at the full proposal: " + "; ".join(parts)


def upstream(ctx: Context, item: int, period: int, depth: int = 4) -> list[str]:
    """The binding resources and stocks that ``item`` needs, directly or
    through the inputs of its inputs, with their valuations in ``period``."""
    e = ctx.economy
    makes, uses = e.output_matrix.tocsr(), e.input_matrix.tocsc()
    limits: dict[int, float] = {}
    frontier, seen = [item], {item}
    for _ in range(depth):
        following = []
        for product in frontier[:50]:
            for j in makes[product].indices:
                for i in uses[:, j].indices:
                    if e.kind_codes[i] == PRODUCT:
                        if i not in seen:
                            seen.add(i)
                            following.append(int(i))
                        continue
                    value = _valuation(ctx, int(i), period)
                    if value > TOL:
                        limits[int(i)] = value
        frontier = following
    ranked = sorted(limits.items(), key=lambda kv: -kv[1])[:SHOWN]
    return [f"{ctx.name(i)}, binding, valued at {v:.4g}" for i, v in ranked]


def _valuation(ctx: Context, item: int, period: int) -> float:
    e = ctx.economy
    for family, codes in (("resource", e.resources), ("stock-use", e.stocks)):
        k = np.searchsorted(codes, item)
        if k < len(codes) and codes[k] == item:
            return float(ctx.valuations[family][k, period])
    return 0.0
