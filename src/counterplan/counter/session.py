"""The current plan held warm, against which each counter-plan is re-solved.

- :class:`WarmPlan`, for plans the simplex method solves quickly: the plan in
  HiGHS with its optimal basis; each counter-plan is applied in place, solved
  from the basis HiGHS holds (a few dual simplex iterations), read, and
  reverted; the share LP and the elastic LP of a partial pledge are solved
  on the same model, its own costs set aside.
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
import scipy.sparse as sp
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
        rows, 47,794 nonzeros) the web's mix of counter-plans took 9 ms on
        average against 33 ms that way with steepest-edge pricing and the
        share LPs of partial pledges built apart (benchmarks/
        bench_warm_simplex.py, docs/benchmarks.md).  An edit
        of the matrix or the costs, or one that adds columns, starts from the
        plan's basis and is followed by it: the factorization is lost anyway."""
        refactor = not edit.bounds_only
        if refactor:
            self.h.setBasis(self.basis)
        undo = self._apply(edit)
        result = self._solve()
        self._revert(undo, len(edit.columns))
        if refactor or result.status not in KEEPS_BASIS:
            self.h.setBasis(self.basis)
        return result

    def share(self, edit: Edit) -> Solution:
        """The share LP of a counter-plan of pledges and capacity, warm: max θ
        over the plan's rows, with each row bound the edit moves moved by θ of
        its change and each pledged activity x_c ≥ θ v_c (a row each), θ in
        [0, 1]; its solution's last column is θ.

        It starts from the basis HiGHS holds with θ at its upper bound: with
        the plan's own costs set to zero, every reduced cost but θ's is zero,
        so that basis is dual feasible, and the dual simplex walks from the
        whole counter-plan (θ = 1, which may not fit) back to the largest
        share that does.  The plan's costs, rows and basis are restored after.
        Measured on the Brazil demo against the share LP built apart and
        solved from nothing: docs/benchmarks.md."""
        h, lp, inf = self.h, self.lp, highspy.kHighsInf
        rows, change = edit.row_changes(lp)
        theta = self.n_cols
        h.addCol(1.0 if lp.sense > 0 else -1.0, 0.0, 1.0, len(rows), rows.astype(np.int32),
                 -change)
        n_pledges = len(edit.pledges)
        first_row = h.getNumRow()
        if n_pledges:
            cols = np.array([c for c, _ in edit.pledges], dtype=np.int32)
            values = np.array([v for _, v in edit.pledges], dtype=float)
            index = np.column_stack([cols, np.full(n_pledges, theta, np.int32)]).ravel()
            h.addRows(n_pledges, np.zeros(n_pledges), np.full(n_pledges, inf),
                      2 * n_pledges, np.arange(0, 2 * n_pledges, 2, dtype=np.int32), index,
                      np.column_stack([np.ones(n_pledges), -values]).ravel())
        basis = h.getBasis()
        status = list(basis.col_status)
        status[theta] = highspy.HighsBasisStatus.kUpper
        basis.col_status = status
        h.setBasis(basis)
        try:
            return self._without_costs()
        finally:
            if n_pledges:
                h.deleteRows(n_pledges, np.arange(first_row, first_row + n_pledges,
                                                  dtype=np.int32))
            h.deleteCols(1, np.array([theta], dtype=np.int32))
            h.setBasis(self.basis)

    def elastic(self, edit: Edit, slacks: sp.csc_matrix, weights: FloatArray) -> Solution:
        """The elastic LP of the plan with ``edit`` (bounds only) applied,
        warm: minimise Σ weights · s over the plan's rows, each relaxed by
        its slack column (``slacks``, rows × slacks); the solution's columns
        are the plan's, then the slacks.  With the plan's own costs set to
        zero the basis HiGHS holds, slacks at zero, is dual feasible, and the
        dual simplex walks to the smallest violations of the whole
        counter-plan.  Everything is restored after."""
        h, n = self.h, slacks.shape[1]
        sign = -1.0 if self.lp.sense > 0 else 1.0  # HiGHS keeps the plan's sense
        undo = self._apply(edit)
        h.addCols(n, sign * weights, np.zeros(n), np.full(n, highspy.kHighsInf),
                  slacks.nnz, slacks.indptr[:-1].astype(np.int32),
                  slacks.indices.astype(np.int32), slacks.data.astype(float))
        try:
            return self._without_costs()
        finally:
            h.deleteCols(n, np.arange(self.n_cols, self.n_cols + n, dtype=np.int32))
            self._revert(undo, 0)
            h.setBasis(self.basis)

    def _without_costs(self) -> Solution:
        """Solve with the plan's own costs set to zero (the objective is the
        columns added), then give them back."""
        costs = np.flatnonzero(self.lp.cost)
        for col in costs:
            self.h.changeColCost(int(col), 0.0)
        try:
            return self._solve()
        finally:
            for col in costs:
                self.h.changeColCost(int(col), float(self.lp.cost[col]))

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
