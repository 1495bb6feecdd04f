"""The current plan held warm, against which each counter-plan is re-solved.

- :class:`WarmPlan`, for plans the simplex method solves quickly: the plan in
  HiGHS with its optimal basis; each counter-plan is applied in place, solved
  from that basis (a few dual simplex iterations), read, and reverted.
- :class:`WarmFirstOrder`, for plans past the simplex limit: each
  counter-plan's LP is solved by the first-order solver (pdhg) starting from
  the plan's own primal, dual and primal weight, so that a small change costs
  a few restarts instead of a solve from nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import highspy
import numpy as np
from numpy.typing import NDArray

from counterplan.counter.apply import Edit, apply_edit
from counterplan.plan.build import LP
from counterplan.plan.highs import (
    _STATUS,
    Solution,
    SolverOptions,
    Status,
    _new_highs,
    choose_algorithm,
)
from counterplan.plan.pdhg import Start
from counterplan.plan.solver import resized, run_lp, start_of

FloatArray = NDArray[np.float64]
#: A trial's end whose basis HiGHS may go on from (dual feasible for the plan).
KEEPS_BASIS = (Status.OPTIMAL, Status.INFEASIBLE)
#: HiGHS's simplex_dual_edge_weight_strategy for Devex pricing.
DEVEX = 1


@dataclass
class Undo:
    """The plan's values that an edit overwrote."""

    lower: list[tuple[int, float]] = field(default_factory=list)
    coef: list[tuple[int, int, float]] = field(default_factory=list)
    cost: list[tuple[int, float]] = field(default_factory=list)
    rows: list[tuple[int, float, float]] = field(default_factory=list)


class WarmPlan:
    """The plan LP held in HiGHS with its optimal basis."""

    def __init__(self, lp: LP, options: SolverOptions | None = None):
        options = options or SolverOptions()
        self.lp = lp
        self.h = _new_highs(options.log)
        m = lp.matrix.tocsc()
        m.sort_indices()
        inf = highspy.kHighsInf
        self.h.passModel(
            int(m.shape[1]), int(m.shape[0]), int(m.nnz), 1, -1 if lp.sense > 0 else 1, 0.0,
            lp.cost.astype(float), np.clip(lp.col_lower, -inf, inf),
            np.clip(lp.col_upper, -inf, inf), np.clip(lp.row_lower, -inf, inf),
            np.clip(lp.row_upper, -inf, inf), m.indptr.astype(np.int32),
            m.indices.astype(np.int32), m.data.astype(float), np.zeros(m.shape[1], np.int32))
        # the first solve may use any method that ends with a basis (the interior
        # point method crosses over to one); every trial after it is warm simplex
        first = choose_algorithm(lp, options.algorithm)
        self.h.setOptionValue("solver", "ipm" if first == "pdlp" else first)
        self.n_cols = m.shape[1]
        self.base = self._solve()
        self.h.setOptionValue("solver", "simplex")
        # Devex pricing: the dual steepest-edge weights that HiGHS would otherwise
        # compute afresh (a solve per row) whenever a trial starts from a basis
        # it has not factorized cost more than the few pivots a trial takes
        self.h.setOptionValue("simplex_dual_edge_weight_strategy", DEVEX)
        self.basis = self.h.getBasis()

    def trial(self, edit: Edit) -> Solution:
        """Solve the plan with ``edit`` applied, then restore the plan.

        An edit of bounds alone (pledges, capacity) leaves HiGHS where the
        trial ended: that basis is still dual feasible for the plan (no cost
        changed), and HiGHS keeps its factorization, so the next trial starts
        a few dual simplex pivots from the plan's optimum.  Setting the plan's
        basis again would factorize it afresh: on the Brazil demo (1,030
        rows, 47,794 nonzeros) a pledge took 36 ms on average that way and
        17 ms going on, the web's mix of counter-plans 21 ms against 12 ms
        (benchmarks/bench_warm_simplex.py, docs/benchmarks.md).  An edit
        of the matrix or the costs, or one that adds columns, starts from the
        plan's basis and is followed by it: the factorization is lost anyway."""
        refactor = bool(edit.coefficients or edit.cost or edit.columns)
        if refactor:
            self.h.setBasis(self.basis)
        undo = self._apply(edit)
        result = self._solve()
        self._revert(undo, len(edit.columns))
        if refactor or result.status not in KEEPS_BASIS:
            self.h.setBasis(self.basis)
        return result

    def _solve(self) -> Solution:
        start = time.perf_counter()
        self.h.run()
        seconds = time.perf_counter() - start
        status = _STATUS.get(self.h.getModelStatus(), Status.ERROR)
        solution, info = self.h.getSolution(), self.h.getInfo()
        return Solution(
            status, float(info.objective_function_value),
            np.asarray(solution.col_value, dtype=float),
            np.asarray(solution.row_dual, dtype=float),
            np.asarray(solution.col_dual, dtype=float),
            "simplex (warm)", seconds, int(info.simplex_iteration_count),
            f"HiGHS {self.h.version()}", np.asarray(solution.row_value, dtype=float))

    def _apply(self, edit: Edit) -> Undo:
        lp, h = self.lp, self.h
        undo = Undo()
        for col, lower in edit.col_lower.items():
            undo.lower.append((col, lp.col_lower[col]))
            h.changeColBounds(col, lower, min(lp.col_upper[col], highspy.kHighsInf))
        for (row, col), value in edit.coefficients.items():
            undo.coef.append((row, col, float(lp.matrix[row, col])))
            h.changeCoeff(row, col, value)
        for col, cost in edit.cost.items():
            undo.cost.append((col, lp.cost[col]))
            h.changeColCost(col, cost)
        for row, (lo, hi) in edit.row_bounds.items():
            undo.rows.append((row, lp.row_lower[row], lp.row_upper[row]))
            h.changeRowBounds(row, max(lo, -highspy.kHighsInf), min(hi, highspy.kHighsInf))
        for c in edit.columns:
            h.addCol(c.cost, 0.0, highspy.kHighsInf, len(c.rows), c.rows.astype(np.int32),
                     c.values)
        return undo

    def _revert(self, undo: Undo, n_added: int) -> None:
        h, inf = self.h, highspy.kHighsInf
        if n_added:
            h.deleteCols(n_added, np.arange(self.n_cols, self.n_cols + n_added,
                                            dtype=np.int32))
        for col, lower in undo.lower:
            h.changeColBounds(col, lower, min(self.lp.col_upper[col], inf))
        for row, col, value in undo.coef:
            h.changeCoeff(row, col, value)
        for col, cost in undo.cost:
            h.changeColCost(col, cost)
        for row, lo, hi in undo.rows:
            h.changeRowBounds(row, max(lo, -inf), min(hi, inf))


class WarmFirstOrder:
    """The plan solved by pdhg; each trial starts from its primal and dual."""

    def __init__(self, lp: LP, col_ref: FloatArray, options: SolverOptions | None = None):
        self.lp, self.col_ref = lp, col_ref
        self.options = options or SolverOptions()
        self.base = run_lp(lp, self.options, col_ref)
        self.start = start_of(self.base)

    def trial(self, edit: Edit) -> Solution:
        """Solve the plan with ``edit`` applied, warm from the plan's point."""
        return self.solve(apply_edit(self.lp, edit))

    def solve(self, lp: LP, options: SolverOptions | None = None,
              tail: FloatArray | None = None, dual: bool = True) -> Solution:
        """Solve ``lp``, the plan's LP with rows and columns added at the end,
        warm from the plan's point: the plan's reference activity for its own
        columns, ``tail`` for the last columns, 1 for the others.

        ``dual=False`` starts the dual at zero instead of the plan's
        valuations, for an LP with an objective of its own (the share LP, the
        elastic LP of a reason), whose duals price something else.  Measured
        on the share LP of a pledge against a plan of 10⁴ products × 5
        periods: from the plan's valuations pdhg stalled (primal error 10⁻³
        after 14 minutes), from zero it converged in 199 s; at 10³ both take
        0.3–0.4 s."""
        n_rows, n_cols = lp.matrix.shape
        ref = np.ones(n_cols)
        ref[:len(self.col_ref)] = self.col_ref
        if tail is not None:
            ref[n_cols - len(tail):] = tail
        start = resized(self.start, n_rows, n_cols)
        if not dual:
            start = Start(start.x, np.zeros(n_rows))
        return run_lp(lp, options or self.options, ref, start)
