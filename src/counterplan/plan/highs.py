"""The solver interface: HiGHS through highspy, fed the sparse matrix directly
(no modelling layer, no per-nonzero Python loop)."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import highspy
import numpy as np
from numpy.typing import NDArray

from counterplan.plan.build import LP

Algorithm = Literal["auto", "simplex", "ipm", "pdlp", "pdhg"]
#: The algorithms ``--algorithm`` takes: HiGHS's three and our first-order solver.
ALGORITHMS: tuple[str, ...] = ("auto", "simplex", "ipm", "pdlp", "pdhg")
Device = Literal["cpu", "gpu"]
#: Tolerance of each algorithm when none is asked: HiGHS's feasibility tolerance, and
#: the relative error in plan-relative units at which the first-order solver stops.
DEFAULT_TOLERANCE = {"simplex": 1e-7, "ipm": 1e-7, "pdlp": 1e-7, "pdhg": 1e-4}
FloatArray = NDArray[np.float64]

#: Up to this many nonzeros the simplex method (an exact vertex, exact valuations);
#: above it our first-order solver (``pdhg``, :mod:`counterplan.plan.pdhg`), which
#: stops in plan-relative units.  Measured on generated plans with stocks over five
#: periods (docs/benchmarks.md): at 300 products (36,000 nonzeros) simplex 5.2 s,
#: interior point 6.3 s, HiGHS PDLP 4.3 s; at 1,000 products (131,000 nonzeros) HiGHS
#: PDLP 14 s, interior point 236 s, simplex not done in 600 s.
SIMPLEX_LIMIT = 100_000


class Status(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible-or-unbounded"
    TIME_LIMIT = "time-limit"
    ITERATION_LIMIT = "iteration-limit"
    UNKNOWN = "unknown"  # stopped without proving optimality (e.g. PDLP not converged)
    MEMORY_LIMIT = "memory-limit"
    ERROR = "error"


_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE_OR_UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.ITERATION_LIMIT,
    highspy.HighsModelStatus.kUnknown: Status.UNKNOWN,
    highspy.HighsModelStatus.kMemoryLimit: Status.MEMORY_LIMIT,
}


@dataclass(frozen=True)
class SolverOptions:
    """How the plan LP is solved: the algorithm (``auto`` chooses by size), a
    time limit in seconds, whether to show the solver's log (a progress line
    for ``pdhg``), the tolerance (None: the algorithm's default,
    ``DEFAULT_TOLERANCE``) and, for ``pdhg``, the device (cpu or gpu)."""

    algorithm: Algorithm = "auto"
    time_limit: float | None = None
    log: bool = False
    tolerance: float | None = None
    device: Device = "cpu"
    #: pdhg: a progress line on standard error every two seconds once a solve has run
    #: ``PROGRESS_AFTER`` seconds (the command line sets it unless --quiet)
    progress: bool = False

    def tolerance_for(self, algorithm: str) -> float:
        return self.tolerance if self.tolerance is not None else \
            DEFAULT_TOLERANCE.get(algorithm, 1e-7)


@dataclass(frozen=True, eq=False)
class Solution:
    status: Status
    objective: float
    x: FloatArray
    row_dual: FloatArray
    col_dual: FloatArray
    algorithm: str
    seconds: float
    iterations: int
    solver: str
    row_value: FloatArray | None = None  # the rows' activities, A x
    #: pdhg: relative primal, dual and gap errors in plan-relative units
    errors: dict[str, float] | None = None


def choose_algorithm(lp: LP, algorithm: Algorithm) -> str:
    if algorithm != "auto":
        return algorithm
    return "simplex" if lp.matrix.nnz <= SIMPLEX_LIMIT else "pdhg"


def run_highs(lp: LP, options: SolverOptions = SolverOptions()) -> Solution:
    """Solve ``lp`` with HiGHS; duals are returned as HiGHS reports them
    (the change of the objective per unit change of the row's active bound).

    The model goes to HiGHS unscaled: its PDLP scales the problem itself
    (Ruiz and Pock–Chambolle), and scaling it beforehand by the reference
    levels made PDLP fail to converge on generated plans with stocks (measured:
    300 products × 5 periods, optimal in 4.3 s unscaled, no convergence in
    33 s scaled).  The violation of every family is reported after the solve
    (:func:`violations`)."""
    algorithm = choose_algorithm(lp, options.algorithm)
    if algorithm == "pdhg":  # past the simplex limit: our first-order solver
        from counterplan.plan.solver import run_lp

        return run_lp(lp, options)
    return _run(lp, options, algorithm)


def violations(lp: LP, x: FloatArray) -> dict[str, float]:
    """The largest violation of each row family and of the bounds, in the
    model's own units (zero for an exact solution)."""
    activity = lp.matrix @ x
    out = {}
    for block in lp.rows.blocks:
        a = activity[block.slice]
        over = np.maximum(lp.row_lower[block.slice] - a, a - lp.row_upper[block.slice])
        out[block.family] = float(np.maximum(over, 0).max(initial=0.0))
    bounds = np.maximum(lp.col_lower - x, x - lp.col_upper)
    out["bounds"] = float(np.maximum(bounds, 0).max(initial=0.0))
    return out


def _run(lp: LP, options: SolverOptions, algorithm: str) -> Solution:
    h = _new_highs(options.log)
    h.setOptionValue("solver", algorithm)
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
    for name in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(name, options.tolerance_for(algorithm))
    if algorithm == "pdlp":
        h.setOptionValue("pdlp_optimality_tolerance", max(options.tolerance_for(algorithm),
                                                           1e-7))
    h.passModel(_highs_lp(lp))
    start = time.perf_counter()
    _solve_interruptibly(h)
    seconds = time.perf_counter() - start
    status = _STATUS.get(h.getModelStatus(), Status.ERROR)
    solution, info = h.getSolution(), h.getInfo()
    n_rows, n_cols = lp.matrix.shape
    x = np.asarray(solution.col_value, dtype=float) if solution.value_valid else \
        np.zeros(n_cols)
    row_dual = np.asarray(solution.row_dual, dtype=float) if solution.dual_valid else \
        np.zeros(n_rows)
    col_dual = np.asarray(solution.col_dual, dtype=float) if solution.dual_valid else \
        np.zeros(n_cols)
    iterations = int(max(info.simplex_iteration_count, info.ipm_iteration_count,
                         info.pdlp_iteration_count, 0))
    row_value = np.asarray(solution.row_value, dtype=float) if solution.value_valid else \
        np.zeros(n_rows)
    return Solution(status, float(info.objective_function_value), x, row_dual, col_dual,
                    algorithm, seconds, iterations, f"HiGHS {h.version()}", row_value)


def _highs_lp(lp: LP) -> highspy.HighsLp:
    """The LP as HiGHS's own object.  It carries no integrality array (the
    array form of ``passModel`` needs one, and then HiGHS warns of "no
    semi-integer/integer variables in model with non-empty integrality")."""
    m = lp.matrix.tocsc()
    m.sort_indices()
    model = highspy.HighsLp()
    model.num_row_, model.num_col_ = int(m.shape[0]), int(m.shape[1])
    model.sense_ = highspy.ObjSense.kMaximize if lp.sense > 0 else highspy.ObjSense.kMinimize
    model.col_cost_ = np.ascontiguousarray(lp.cost, dtype=float)
    model.col_lower_, model.col_upper_ = _finite(lp.col_lower), _finite(lp.col_upper)
    model.row_lower_, model.row_upper_ = _finite(lp.row_lower), _finite(lp.row_upper)
    matrix = model.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_row_, matrix.num_col_ = model.num_row_, model.num_col_
    matrix.start_ = m.indptr.astype(np.int32)
    matrix.index_ = m.indices.astype(np.int32)
    matrix.value_ = m.data.astype(float)
    return model


#: After Ctrl-C, how long HiGHS is given to stop at its next check before the
#: solve is abandoned (PDLP never checks; its thread then ends with the process).
STOP_WAIT = 1.0


def _solve_interruptibly(h: highspy.Highs) -> None:
    """``h.run()`` in a worker thread (HiGHS releases the GIL), so that the
    calling thread stays free to receive Ctrl-C: then HiGHS is asked to stop
    (simplex and interior point check between iterations) and
    KeyboardInterrupt is raised at once.  (highspy's own ``startSolve``
    is not used: its lock is shared by every instance, so two plans solved
    at once in the web application would refuse each other.)"""
    h.HandleUserInterrupt = True
    done = threading.Event()  # (not Thread.join: an interrupted join stops waiting for good)

    def work() -> None:
        try:
            h.run()
        finally:
            done.set()

    threading.Thread(target=work, name="highs", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        h.cancelSolve()
        done.wait(STOP_WAIT)
        raise


def _new_highs(log: bool) -> highspy.Highs:
    """A HiGHS instance; without ``log`` even its start-up banner is silenced
    (it writes to the process's standard output directly)."""
    if log:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _finite(a: FloatArray) -> FloatArray:
    """HiGHS reads ±1e30 and beyond as infinite."""
    return np.clip(np.asarray(a, dtype=float), -highspy.kHighsInf, highspy.kHighsInf)
