"""Optimal plans: build the LP of every constraint family, solve it with
HiGHS or our first-order solver (pdhg), and read the plan and its
valuations back through the registry.

    from counterplan.plan import solve
    plan = solve(economy, objective="kantorovich")
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from counterplan.errors import SolveFailed
from counterplan.model import Economy
from counterplan.plan import closed_form
from counterplan.plan.build import LP
from counterplan.plan.diagnose import (
    PlanInfeasible,
    PlanUnbounded,
    check_deliverable,
    explain_infeasible,
    explain_unbounded,
)
from counterplan.plan.highs import ALGORITHMS, Solution, SolverOptions, Status, violations
from counterplan.plan.objectives import OBJECTIVES, HarmonyOptions, build_lp, harmony
from counterplan.plan.pdhg import Start
from counterplan.plan.result import Plan, SolveInfo, valuations_from_duals, write_plan
from counterplan.plan.scaling import reference_activity
from counterplan.plan.solver import run_lp, start_of


@dataclass(frozen=True)
class PlanOptions:
    """Options of :func:`solve`: the solver's and the harmony approximation's."""

    solver: SolverOptions = field(default_factory=SolverOptions)
    harmony: HarmonyOptions = field(default_factory=HarmonyOptions)
    #: min-resource: weights of the resources to economise (default: economy.toml's)
    resources: dict[str, float] | None = None


def solve(economy: Economy, objective: str | None = None,
          options: PlanOptions = PlanOptions(), start: Start | None = None) -> Plan:
    """The optimal plan of ``economy`` under ``objective`` (default: the one in
    economy.toml).  Raises :class:`PlanInfeasible` or :class:`PlanUnbounded`
    with an explanation when there is none.

    ``start`` (``plan.start`` of a related plan: the same economy after
    counter-plans, or with other targets or availability) warm-starts the
    first-order solver; the other algorithms ignore it."""
    from counterplan import __version__

    kind = objective or economy.objective.kind
    check_deliverable(economy)
    if kind == "kantorovich" and options.solver.algorithm == "auto" and \
            closed_form.applies(economy):
        return _closed_form_plan(economy, options)
    began = time.perf_counter()
    lp = build_lp(economy, kind, options.harmony, options.resources)
    build_seconds = time.perf_counter() - began
    solution = run_lp(lp, options.solver, reference_activity(economy, lp), start)
    if solution.status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED) and \
            kind != "min-resource":
        raise explain_unbounded(economy, _unbounded_periods(economy, lp))
    if solution.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        raise explain_infeasible(economy, lp, options.solver)
    if solution.status != Status.OPTIMAL:
        raise SolveFailed(_failure(solution, options.solver))
    info = SolveInfo(
        solver=solution.solver, algorithm=solution.algorithm, build_seconds=build_seconds,
        solve_seconds=solution.seconds, iterations=solution.iterations,
        input_hash=economy.content_hash(), version=__version__,
        options={"objective": kind, **asdict(options)},
        violations=violations(lp, solution.x), errors=solution.errors or {},
    )
    return plan_from_solution(economy, kind, lp, solution, info)


def _failure(solution: Solution, options: SolverOptions) -> str:
    """What stopped the solver, and what would help, truthfully."""
    what = f"{solution.solver} ({solution.algorithm}) stopped without an optimal plan"
    spent = f"after {solution.seconds:.1f} s and {solution.iterations} iterations"
    if solution.algorithm == "pdhg" and solution.errors:
        e = solution.errors
        asked = options.tolerance_for("pdhg")
        reached = (f"it reached relative errors primal {e['primal']:.1e}, dual {e['dual']:.1e}, "
                   f"gap {e['gap']:.1e} (asked: {asked:.0e})")
        return (f"{what}: {solution.status} {spent}; {reached}. Give it more time "
                "(--time-limit) or accept a looser --tolerance")
    if solution.status == Status.TIME_LIMIT:
        return (f"{what}: {solution.status} {spent} (the limit was {options.time_limit:g} s). "
                "Give it more time (--time-limit) or try --algorithm pdhg, which is the "
                "fastest on large plans")
    if solution.algorithm == "pdlp":
        return (f"{what}: {solution.status} {spent} (HiGHS's PDLP did not converge to its "
                "tolerance). Try --algorithm pdhg (our first-order solver, which reports "
                "its errors in the plan's own units) or ipm")
    return (f"{what}: {solution.status} {spent}. Try another algorithm (--algorithm pdhg on "
            "large plans, simplex or ipm on small ones)")


def _closed_form_plan(economy: Economy, options: PlanOptions) -> Plan:
    from counterplan import __version__

    start = time.perf_counter()
    result = closed_form.kantorovich(economy)
    seconds = time.perf_counter() - start
    if result.free_periods:
        raise explain_unbounded(economy, result.free_periods)
    weights = np.array([economy.objective.weights.get(p, 1.0) for p in economy.periods])
    info = SolveInfo(
        solver="counterplan closed form", algorithm="closed-form (one Leontief solve a period)",
        build_seconds=0.0, solve_seconds=seconds, iterations=0,
        input_hash=economy.content_hash(), version=__version__,
        options={"objective": "kantorovich", **asdict(options)},
    )
    return Plan(economy=economy, objective="kantorovich", status="optimal",
                value=float(weights @ result.lambdas), lambdas=result.lambdas,
                activity=result.activity, levels=np.zeros((0, economy.n_periods)),
                valuations=result.valuations, info=info)


def _unbounded_periods(economy: Economy, lp: LP) -> list[int]:
    lam = lp.cols.get("lambda")
    if lam is None:
        return []
    return [int(t) for t in lam.period if np.isinf(lp.col_upper[lam.start + t])]


def plan_from_solution(economy: Economy, kind: str, lp: LP, solution: Solution,
                       info: SolveInfo) -> Plan:
    """The plan (activities, levels, valuations) from a solution of ``lp``."""
    t = economy.n_periods
    activity = lp.cols.get("activity")
    level = lp.cols.get("level")
    assert activity is not None and level is not None
    x = solution.x
    lam = lp.cols.get("lambda")
    return Plan(
        economy=economy, objective=kind, status=str(solution.status),
        value=solution.objective, start=start_of(solution),
        lambdas=None if lam is None else x[lam.slice].copy(),
        activity=np.maximum(x[activity.slice].reshape(t, -1).T, 0.0),
        levels=x[level.slice].reshape(t, -1).T.copy(),
        valuations=valuations_from_duals(lp, solution.row_dual, economy),
        info=info,
    )


__all__ = [
    "ALGORITHMS", "OBJECTIVES", "HarmonyOptions", "Plan", "PlanInfeasible", "PlanOptions",
    "PlanUnbounded", "SolverOptions", "Start", "harmony", "solve", "write_plan",
]
