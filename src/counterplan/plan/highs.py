"""The solver interface: HiGHS through highspy, fed the sparse matrix directly
(no modelling layer, no per-nonzero Python loop)."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.plan.build import LP

Algorithm = Literal["auto", "simplex", "ipm", "pdlp"]
FloatArray = NDArray[np.float64]

#: Up to this many nonzeros the simplex method; up to IPM_LIMIT interior point; above, PDLP.
SIMPLEX_LIMIT = 200_000
IPM_LIMIT = 3_000_000


class Status(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible-or-unbounded"
    TIME_LIMIT = "time-limit"
    ITERATION_LIMIT = "iteration-limit"
    ERROR = "error"


_STATUS = {
    highspy.HighsModelStatus.kOptimal: Status.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE_OR_UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
    highspy.HighsModelStatus.kIterationLimit: Status.ITERATION_LIMIT,
}


@dataclass(frozen=True)
class SolverOptions:
    """How HiGHS runs: the algorithm (``auto`` chooses by size), a time limit in
    seconds, whether to show its log, and the optimality tolerance."""

    algorithm: Algorithm = "auto"
    time_limit: float | None = None
    log: bool = False
    tolerance: float = 1e-7


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


def choose_algorithm(lp: LP, algorithm: Algorithm) -> str:
    if algorithm != "auto":
        return algorithm
    nnz = lp.matrix.nnz
    return "simplex" if nnz <= SIMPLEX_LIMIT else "ipm" if nnz <= IPM_LIMIT else "pdlp"


def run_highs(lp: LP, options: SolverOptions = SolverOptions()) -> Solution:
    """Solve ``lp`` with HiGHS; duals are returned as HiGHS reports them
    (the change of the objective per unit change of the row's active bound).

    For the first-order method (PDLP) the model is first scaled by its
    reference levels (DESIGN.md §7): without it the stopping rule is dominated
    by the largest rows and the reported optimum can be off by percents."""
    algorithm = choose_algorithm(lp, options.algorithm)
    if algorithm == "pdlp":
        rows, cols = reference_scaling(lp)
        solution = _run(scaled(lp, rows, cols), options, algorithm)
        return Solution(solution.status, solution.objective, solution.x * cols,
                        solution.row_dual * rows, solution.col_dual / cols, algorithm,
                        solution.seconds, solution.iterations, solution.solver,
                        None if solution.row_value is None else solution.row_value / rows)
    return _run(lp, options, algorithm)


def reference_scaling(lp: LP) -> tuple[FloatArray, FloatArray]:
    """Row factors 1 / (the row's reference level: its finite bound, or its
    largest coefficient when the bound is zero), then column factors making
    each column's largest coefficient one."""
    m = abs(sp.csr_matrix(lp.matrix))
    biggest = m.max(axis=1).toarray().reshape(-1)
    bound = np.maximum(np.where(np.isfinite(lp.row_lower), np.abs(lp.row_lower), 0),
                       np.where(np.isfinite(lp.row_upper), np.abs(lp.row_upper), 0))
    level = np.where(bound > 0, bound, biggest)
    rows = 1.0 / np.where(level > 0, level, 1.0)
    column_max = sp.csc_matrix(sp.diags(rows) @ m).max(axis=0).toarray().reshape(-1)
    cols = 1.0 / np.where(column_max > 0, column_max, 1.0)
    return rows, cols


def scaled(lp: LP, rows: FloatArray, cols: FloatArray) -> LP:
    """The LP in the scaled variables x' = x / cols, rows multiplied by ``rows``."""
    matrix = sp.csc_matrix(sp.diags(rows) @ lp.matrix @ sp.diags(cols))
    return LP(matrix, lp.cost * cols, lp.col_lower / cols, lp.col_upper / cols,
              lp.row_lower * rows, lp.row_upper * rows, lp.sense, lp.rows, lp.cols)


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
        h.setOptionValue(name, options.tolerance)
    if algorithm == "pdlp":
        h.setOptionValue("pdlp_optimality_tolerance", max(options.tolerance, 1e-7))
    m = lp.matrix.tocsc()
    m.sort_indices()
    h.passModel(
        int(m.shape[1]), int(m.shape[0]), int(m.nnz), 1, -1 if lp.sense > 0 else 1, 0.0,
        np.ascontiguousarray(lp.cost, dtype=float), _finite(lp.col_lower), _finite(lp.col_upper),
        _finite(lp.row_lower), _finite(lp.row_upper),
        m.indptr.astype(np.int32), m.indices.astype(np.int32), m.data.astype(float),
        np.zeros(m.shape[1], dtype=np.int32),
    )
    start = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - start
    status = _STATUS.get(h.getModelStatus(), Status.ERROR)
    solution, info = h.getSolution(), h.getInfo()
    n_rows = m.shape[0]
    x = np.asarray(solution.col_value, dtype=float) if solution.value_valid else \
        np.zeros(m.shape[1])
    row_dual = np.asarray(solution.row_dual, dtype=float) if solution.dual_valid else \
        np.zeros(n_rows)
    col_dual = np.asarray(solution.col_dual, dtype=float) if solution.dual_valid else \
        np.zeros(m.shape[1])
    iterations = int(max(info.simplex_iteration_count, info.ipm_iteration_count,
                         info.pdlp_iteration_count, 0))
    row_value = np.asarray(solution.row_value, dtype=float) if solution.value_valid else \
        np.zeros(n_rows)
    return Solution(status, float(info.objective_function_value), x, row_dual, col_dual,
                    algorithm, seconds, iterations, f"HiGHS {h.version()}", row_value)


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
