"""A counter-plan as a change of the plan LP, at a share θ of what it proposes.

Changes are compiled to an :class:`Edit` of the LP built by
:func:`counterplan.plan.objectives.build_lp`: new lower bounds (pledges), new
coefficients and costs (norms), new row bounds (capacity) and new columns
(techniques, one per period).  The same edit applies to a copy of the LP (a
solve from nothing) or, in place and reverted after, to a warm HiGHS model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.counter.proposals import Change, CounterPlan, NewTechnique, norm_net
from counterplan.model import Economy
from counterplan.plan.build import LP, Block
from counterplan.schema import PRODUCT, RESOURCE

FloatArray = NDArray[np.float64]


@dataclass
class NewColumn:
    cost: float
    rows: NDArray[np.int64]
    values: FloatArray
    technique: str
    period: int


@dataclass
class Edit:
    """What a counter-plan changes in the LP (absolute new values)."""

    col_lower: dict[int, float] = field(default_factory=dict)
    coefficients: dict[tuple[int, int], float] = field(default_factory=dict)
    cost: dict[int, float] = field(default_factory=dict)
    row_bounds: dict[int, tuple[float, float]] = field(default_factory=dict)
    columns: list[NewColumn] = field(default_factory=list)
    pledges: list[tuple[int, float]] = field(default_factory=list)  # (column, full pledge)

    @property
    def empty(self) -> bool:
        return not (self.col_lower or self.coefficients or self.cost or self.row_bounds
                    or self.columns)

    @property
    def bounds_only(self) -> bool:
        """It moves bounds alone (pledges, capacity): the matrix, the costs
        and the columns stay as they are."""
        return not (self.coefficients or self.cost or self.columns)

    def row_changes(self, lp: LP) -> tuple[NDArray[np.int64], FloatArray]:
        """The rows whose bounds the edit moves, and by how much: the upper
        bound's move where it moves, else the lower's (a bound absent on
        both sides has not moved)."""
        rows = np.fromiter(self.row_bounds, dtype=np.int64, count=len(self.row_bounds))
        bounds = np.array(list(self.row_bounds.values()), dtype=float).reshape(-1, 2)
        with np.errstate(invalid="ignore"):  # inf − inf where a bound is absent
            d_lower = np.nan_to_num(bounds[:, 0] - lp.row_lower[rows], nan=0.0)
            d_upper = np.nan_to_num(bounds[:, 1] - lp.row_upper[rows], nan=0.0)
        return rows, np.where(d_upper != 0, d_upper, d_lower)


class Locator:
    """Rows and columns of the plan LP by item or technique and period."""

    def __init__(self, economy: Economy, lp: LP, resource_weights: dict[str, float]):
        self.economy, self.lp = economy, lp
        self.n_t = economy.n_periods
        self.blocks = {b.family: b for b in lp.rows.blocks}
        self.codes = {"product": economy.products, "resource": economy.resources,
                      "stock-use": economy.stocks, "stock-level": economy.stocks}
        self.weights = np.zeros(economy.n_items)
        for name, w in resource_weights.items():
            self.weights[economy.items.index.get_loc(name)] = w
        self.matrix = sp.csr_matrix(lp.matrix)

    def column(self, technique: int, period: int) -> int:
        activity = self.lp.cols.get("activity")
        assert activity is not None
        return activity.start + period * self.economy.n_techniques + technique

    def row(self, family: str, item: int, period: int) -> int | None:
        block: Block | None = self.blocks.get(family)
        if block is None or not 0 <= period < self.n_t:
            return None
        codes = self.codes[family]
        return block.start + period * len(codes) + int(np.searchsorted(codes, item))

    def periods(self, period: int) -> range:
        return range(self.n_t) if period < 0 else range(period, period + 1)

    def entries(self, item: int, net: float, period: int) -> list[tuple[int, float]]:
        """(row, coefficient) of a column whose net flow of ``item`` is ``net``."""
        kind = self.economy.kind_codes[item]
        if kind == PRODUCT:
            return [(r, net) for r in [self.row("product", item, period)] if r is not None]
        if kind == RESOURCE:
            return [(r, -min(net, 0.0)) for r in [self.row("resource", item, period)]
                    if r is not None]
        out = [(r, -min(net, 0.0)) for r in [self.row("stock-use", item, period)]
               if r is not None]
        later = self.row("stock-level", item, period + 1)
        return out + ([(later, -max(net, 0.0))] if later is not None else [])


def compile_edit(plan: CounterPlan, at: Locator, share: float = 1.0) -> Edit:
    """The LP edit that adopts ``share`` (0..1) of the counter-plan."""
    edit = Edit()
    for change in plan.changes:
        if change.kind == "pledge":
            _pledge(edit, at, change, share)
        elif change.kind == "norm":
            _norm(edit, at, change, share)
        else:
            _capacity(edit, at, change, share)
    for technique in plan.techniques:
        _technique(edit, at, technique)
    return edit


def _pledge(edit: Edit, at: Locator, change: Change, share: float) -> None:
    for t in at.periods(change.period):
        col = at.column(change.technique, t)
        # two pledges of one activity both hold: the larger binds
        edit.col_lower[col] = max(edit.col_lower.get(col, at.lp.col_lower[col]),
                                  share * change.value)
        edit.pledges.append((col, change.value))


def _norm(edit: Edit, at: Locator, change: Change, share: float) -> None:
    f = at.economy.flows
    rows = (f.technique == change.technique) & (f.item == change.item)
    old, new = norm_net(f.amount[rows], change.value)
    target = old + share * (new - old)
    for t in at.periods(change.period):
        col = at.column(change.technique, t)
        for (row, _), (_, value) in zip(at.entries(change.item, old, t),
                                        at.entries(change.item, target, t), strict=True):
            edit.coefficients[(row, col)] = value
        weight = at.weights[change.item]
        if weight and at.lp.sense < 0:
            edit.cost[col] = at.lp.cost[col] + weight * (min(old, 0.0) - min(target, 0.0))


def _capacity(edit: Edit, at: Locator, change: Change, share: float) -> None:
    if at.economy.kind_codes[change.item] == RESOURCE:
        for t in at.periods(change.period):
            row = at.row("resource", change.item, t)
            assert row is not None
            lower, upper = edit.row_bounds.get(row, (at.lp.row_lower[row], at.lp.row_upper[row]))
            edit.row_bounds[row] = (lower, upper + share * change.value)  # capacity adds up
        return
    row = at.row("stock-level", change.item, max(change.period, 0))
    assert row is not None
    level = edit.row_bounds.get(row, (at.lp.row_lower[row], 0.0))[0] + share * change.value
    edit.row_bounds[row] = (level, level)


def _technique(edit: Edit, at: Locator, technique: NewTechnique) -> None:
    use = sum(at.weights[i] * max(-a, 0.0) for i, a in
              zip(technique.items, technique.amounts, strict=True))
    cost = use if at.lp.sense < 0 else 0.0  # min-resource: the weighted use it costs
    for t in range(at.n_t):
        entries = [e for i, a in zip(technique.items, technique.amounts, strict=True)
                   for e in at.entries(i, a, t)]
        rows = np.array([r for r, _ in entries], dtype=np.int64)
        values = np.array([v for _, v in entries], dtype=float)
        keep = values != 0
        edit.columns.append(NewColumn(cost, rows[keep], values[keep], technique.id, t))


def apply_edit(lp: LP, edit: Edit) -> LP:
    """A copy of ``lp`` with the edit applied (for a solve from nothing)."""
    matrix = sp.csc_matrix(lp.matrix, copy=True)
    if edit.coefficients:
        (rows, cols), values = zip(*edit.coefficients.keys(), strict=True), \
            list(edit.coefficients.values())
        old = np.asarray(sp.csr_matrix(lp.matrix)[list(rows), list(cols)]).reshape(-1)
        delta = sp.csc_matrix((np.asarray(values) - old, (rows, cols)), shape=matrix.shape)
        matrix = sp.csc_matrix(matrix + delta)
    col_lower, cost = lp.col_lower.copy(), lp.cost.copy()
    for c, v in edit.col_lower.items():
        col_lower[c] = v
    for c, v in edit.cost.items():
        cost[c] = v
    row_lower, row_upper = lp.row_lower.copy(), lp.row_upper.copy()
    for r, (lo, hi) in edit.row_bounds.items():
        row_lower[r], row_upper[r] = lo, hi
    col_upper = lp.col_upper
    if edit.columns:
        n = len(edit.columns)
        added = sp.csc_matrix((
            np.concatenate([c.values for c in edit.columns]),
            (np.concatenate([c.rows for c in edit.columns]),
             np.repeat(np.arange(n), [len(c.rows) for c in edit.columns]))),
            shape=(matrix.shape[0], n))
        matrix = sp.csc_matrix(sp.hstack([matrix, added]))
        cost = np.concatenate([cost, [c.cost for c in edit.columns]])
        col_lower = np.concatenate([col_lower, np.zeros(n)])
        col_upper = np.concatenate([col_upper, np.full(n, np.inf)])
    return LP(matrix, cost, col_lower, col_upper, row_lower, row_upper, lp.sense, lp.rows,
              lp.cols)
