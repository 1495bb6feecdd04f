"""One entry point for every algorithm on the plan LP: HiGHS's (simplex,
interior point, PDLP) or our first-order solver (``pdhg``), with the same
:class:`Solution` back, duals in HiGHS's sign convention."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from counterplan.plan.build import LP
from counterplan.plan.highs import Solution, SolverOptions, Status, choose_algorithm, run_highs
from counterplan.plan.pdhg import Settings, Start, run_pdhg

FloatArray = NDArray[np.float64]

_STATUS = {"optimal": Status.OPTIMAL, "infeasible": Status.INFEASIBLE,
           "unbounded": Status.UNBOUNDED, "time-limit": Status.TIME_LIMIT,
           "iteration-limit": Status.ITERATION_LIMIT}
#: pdhg stops after this many iterations when no time limit is set
ITERATION_LIMIT = 10_000_000
#: seconds after which a solve with ``progress`` shows its progress line
PROGRESS_AFTER = 5.0


def run_lp(lp: LP, options: SolverOptions | None = None,
           col_ref: FloatArray | None = None, start: Start | None = None) -> Solution:
    """Solve ``lp`` with the algorithm ``options`` asks for (``auto``: by size).

    ``col_ref`` is the reference activity of every column (plan-relative
    units, :func:`counterplan.plan.scaling.reference_activity`; ones when
    None) and ``start`` a related plan's primal and dual: both are used by
    ``pdhg`` only."""
    options = options or SolverOptions()
    algorithm = choose_algorithm(lp, options.algorithm)
    if algorithm != "pdhg":
        return run_highs(lp, replace(options, algorithm=algorithm))  # type: ignore[arg-type]
    settings = Settings(tolerance=options.tolerance_for("pdhg"), time_limit=options.time_limit,
                        iteration_limit=ITERATION_LIMIT, log=options.log,
                        print_after=PROGRESS_AFTER if options.progress else math.inf)
    ref = np.ones(lp.matrix.shape[1]) if col_ref is None else col_ref
    r = run_pdhg(lp, ref, settings, start, options.device)
    return Solution(_STATUS[r.status], r.objective, r.x, r.y, r.reduced_cost, "pdhg",
                    r.seconds, r.iterations, f"counterplan pdhg ({r.device})",
                    lp.matrix @ r.x, r.errors)


def start_of(solution: Solution) -> Start:
    """A warm start for a related LP from ``solution`` (same rows and columns
    first; a longer LP pads with zeros, see :func:`resized`)."""
    return Start(solution.x, solution.row_dual)


def resized(start: Start, n_rows: int, n_cols: int) -> Start:
    """``start`` for an LP with more (or fewer) rows and columns at the end."""
    x = np.zeros(n_cols)
    y = np.zeros(n_rows)
    x[:min(n_cols, len(start.x))] = start.x[:n_cols]
    y[:min(n_rows, len(start.y))] = start.y[:n_rows]
    return Start(x, y)
