"""Each counter-plan alone against the optimal plan: a verdict, the share
that fits, the objective after, the reason, and the effect on every target.

Where the plan has a closed form (input-output economies), counter-plans
are answered from it with at most one sparse solve and a small dense LP
(io_fast.py).  Otherwise the valuations answer first where they are exact: a
pledge the plan already meets, capacity of something that is not scarce, and
a norm or technique that does not pay at the current valuations leave the
optimum unchanged.  Everything else is solved from the plan's optimal basis
(warm dual simplex).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.counter.apply import Edit, Locator, apply_edit, compile_edit
from counterplan.counter.io_fast import InputOutputJudge
from counterplan.counter.proposals import CounterPlan
from counterplan.counter.reasons import Context, gain_reason, pays_reason, shortfall_reason
from counterplan.counter.session import WarmFirstOrder, WarmPlan
from counterplan.errors import SolveFailed
from counterplan.model import Economy
from counterplan.plan import PlanOptions
from counterplan.plan import solve as solve_plan
from counterplan.plan.build import INF, LP
from counterplan.plan.elastic import Slacks
from counterplan.plan.highs import (
    Solution,
    SolverOptions,
    Status,
    choose_algorithm,
    run_highs,
)
from counterplan.plan.objectives import build_lp
from counterplan.plan.scaling import reference_activity

FloatArray = NDArray[np.float64]
TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Evaluation:
    verdicts: pd.DataFrame  # id, verdict, share, objective_before, objective_after, reason
    effects: pd.DataFrame  # id, item, period, before, after, change
    counts: dict[str, int]  # how many were answered by valuations, closed form, warm simplex


class Evaluator:
    """The plan of an economy, against which counter-plans are judged: in
    closed form where the plan has one (input-output economies, see
    io_fast.py), else held warm in HiGHS."""

    def __init__(self, economy: Economy, objective: str | None = None,
                 options: PlanOptions | None = None):
        self.options = options or PlanOptions()
        self.economy = economy
        self.kind = objective or economy.objective.kind
        self.weights = dict(economy.objective.resources if self.options.resources is None
                            else self.options.resources)
        self.lp = build_lp(economy, self.kind, self.options.harmony, self.weights)
        self.at = Locator(economy, self.lp, self.weights)
        self.counts = {"valuations": 0, "closed form": 0, "warm simplex": 0, "warm pdhg": 0}
        self.first_order = choose_algorithm(self.lp, self.options.solver.algorithm) == "pdhg"
        # as in solve(): the closed form unless an algorithm is asked for by name
        closed = self.options.solver.algorithm == "auto" and \
            InputOutputJudge.applies(economy, self.kind)
        self.fast = InputOutputJudge(economy) if closed else None
        self._warm: WarmPlan | WarmFirstOrder | None = None
        self.before = self.fast.ratios(self.fast.lambdas) if self.fast is not None else \
            self.fulfilment(self.warm.base)

    @property
    def warm(self) -> WarmPlan | WarmFirstOrder:
        """The plan held warm (HiGHS's basis, or pdhg's point past the simplex
        limit), made at first need (it is the costly part)."""
        if self._warm is None:
            self._warm = WarmFirstOrder(self.lp, reference_activity(self.economy, self.lp),
                                        self.options.solver) if self.first_order else \
                WarmPlan(self.lp, self.options.solver)
            if self._warm.base.status != Status.OPTIMAL:
                solve_plan(self.economy, self.kind, self.options)  # raises the explanation
            self.context = Context.of(self.economy, self.lp, self._warm.base)
        return self._warm

    @property
    def objective(self) -> float:
        return self.fast.objective if self.fast is not None else self.warm.base.objective

    def fulfilment(self, solution: Solution) -> FloatArray:
        """Delivered / target for every target entry (net output of the product)."""
        e, lp = self.economy, self.lp
        product = lp.rows.get("product")
        assert product is not None and solution.row_value is not None
        net = solution.row_value[product.slice].reshape(e.n_periods, -1).T.copy()
        lam = lp.cols.get("lambda")
        g = e.target_array()[e.products]
        if lam is not None:
            net += g * solution.x[lam.slice][None, :]
        ratio = lp.cols.get("ratio")
        if ratio is not None:
            k = ratio.key
            rows = np.searchsorted(e.products, e.targets.item[k])
            np.add.at(net, (rows, e.targets.period[k]), e.targets.amount[k] *
                      solution.x[ratio.slice])
        row = np.searchsorted(e.products, e.targets.item)
        amount = e.targets.amount
        delivered = net[row, e.targets.period]
        return np.where(amount > 0, delivered / np.where(amount > 0, amount, 1.0), np.nan)

    def judge(self, plan: CounterPlan) -> tuple[dict[str, object], FloatArray | None]:
        """The verdict row of one counter-plan, and every target's fulfilment
        after it (None when nothing changes)."""
        before = self.objective
        row: dict[str, object] = {"id": plan.id, "objective_before": before}
        if self.fast is not None:
            answer = self.fast.answer(plan)
            if answer is not None:
                self.counts["closed form"] += 1
                row.update(verdict=answer.verdict, share=answer.share,
                           objective_after=answer.objective, reason=answer.reason)
                return row, answer.ratios
        edit = compile_edit(plan, self.at, 1.0)
        warm = self.warm
        quick = self.context.unchanged(plan, edit, self.at)
        if quick is not None:
            self.counts["valuations"] += 1
            row.update(verdict="accepted", share=1.0, objective_after=before, reason=quick)
            return row, None
        self.counts["warm pdhg" if self.first_order else "warm simplex"] += 1
        if self.first_order and plan.kinds <= {"pledge", "capacity"}:
            return self._share_first(plan, edit, row)
        solution = warm.trial(edit)
        if solution.status == Status.OPTIMAL:
            row.update(verdict="accepted", share=1.0, objective_after=solution.objective,
                       reason=gain_reason(self.context, plan, before, solution.objective))
            return row, self.fulfilment(solution)
        if solution.status == Status.UNBOUNDED:
            row.update(verdict="rejected", share=0.0, objective_after=before,
                       reason=pays_reason(self.economy, plan))
            return row, None
        share = self.largest_share(plan, edit)
        if share <= TOL:
            row.update(verdict="rejected", share=0.0, objective_after=before,
                       reason=self.shortfall(plan, edit, 0.0))
            return row, None
        share, partial = self.plan_at_share(plan, share, TOL)
        row.update(verdict="partial", share=share, objective_after=partial.objective,
                   reason=self.shortfall(plan, edit, share))
        return row, self.fulfilment(partial)

    def _share_first(self, plan: CounterPlan, edit: Edit, row: dict[str, object]
                     ) -> tuple[dict[str, object], FloatArray | None]:
        """Pledges and capacity past the simplex limit: the share LP first (it
        always has a solution, θ = 0), then the plan at that share.  A first-order
        solver proves that a whole pledge does not fit only slowly (measured at
        10³ products × 5 periods: about 25 s of the 27 s a partial pledge took)."""
        before = self.objective
        share = self.largest_share(plan, edit)
        tolerance = self.options.solver.tolerance_for("pdhg")
        if share >= 1 - tolerance:
            solution = self.warm.trial(edit)
            if solution.status == Status.OPTIMAL:
                row.update(verdict="accepted", share=1.0, objective_after=solution.objective,
                           reason=gain_reason(self.context, plan, before, solution.objective))
                return row, self.fulfilment(solution)
            share = 1 - tolerance
        if share < 2 * tolerance:  # below the tolerance once backed off by it
            row.update(verdict="rejected", share=0.0, objective_after=before,
                       reason=self.shortfall(plan, edit, 0.0))
            return row, None
        share, partial = self.plan_at_share(plan, share, tolerance)
        row.update(verdict="partial", share=share, objective_after=partial.objective,
                   reason=self.shortfall(plan, edit, share))
        return row, self.fulfilment(partial)

    def shortfall(self, plan: CounterPlan, edit: Edit, share: float) -> str:
        """What blocks the whole counter-plan (:func:`shortfall_reason`), its
        elastic LP solved warm from the plan: by the held simplex where the
        edit moves bounds alone (pledges, capacity), by pdhg past the
        simplex limit (measured at 10³ products × 5 periods: 2.5 s, where
        simplex from nothing took 14 s), else by simplex from nothing."""
        edited = apply_edit(self.lp, edit)
        warm = self.warm
        if isinstance(warm, WarmFirstOrder):
            pdhg = replace(self.options.solver, algorithm="pdhg")

            def first_order(lp: LP, slacks: Slacks) -> Solution:
                return warm.solve(lp, pdhg, tail=slacks.size, dual=False)
            tolerance = self.options.solver.tolerance_for("pdhg")
            return shortfall_reason(self.context, plan, edited, share, first_order,
                                    10 * tolerance)
        if not edit.bounds_only:
            return shortfall_reason(self.context, plan, edited, share)

        def held(lp: LP, slacks: Slacks) -> Solution:
            extra = slice(slacks.start, None)
            return warm.elastic(edit, lp.matrix[:, extra].tocsc(), lp.cost[extra])
        return shortfall_reason(self.context, plan, edited, share, held)

    def plan_at_share(self, plan: CounterPlan, share: float, tolerance: float
                      ) -> tuple[float, Solution]:
        """The optimal plan with ``share`` of the counter-plan, and the share it
        was computed at.  The largest share is known only to ``tolerance``, from
        either side; at a share above the true one the plan has no solution, and
        just below it the plan's feasible set is thin, where a first-order
        method converges slowly (measured at 30 products × 3 periods, tolerance
        10⁻⁸: a share 4·10⁻⁹ below the largest, pdhg unconverged after two
        minutes; 10⁻⁸ below, 35 s; 3·10⁻⁸ below, 13 s; at tolerance 10⁻⁴ and
        10⁻⁴ below, 0.5 s).  So the first-order path backs off by the
        tolerance first, and each path backs off tenfold while the plan at the
        share has no solution.  The share reported is the one the plan was
        computed at: within a few tolerances of the largest, never above it."""
        steps = (1.0, 10.0, 100.0) if self.first_order else (0.0, 1.0, 10.0)
        solution = None
        for step in steps:
            theta = share - step * tolerance
            if theta <= 0:
                break
            solution = self.warm.trial(compile_edit(plan, self.at, theta))
            if solution.status == Status.OPTIMAL:
                return theta, solution
        status = solution.status.value if solution is not None else "no share left"
        raise SolveFailed(
            f"counter-plan {plan.id!r}: {share:.6g} of it fits, but the plan at that share "
            f"could not be solved ({status}, {steps[-1]:g} tolerances below it "
            f"included); give the solver more time (--time-limit) or a looser --tolerance")

    def largest_share(self, plan: CounterPlan, edit: Edit) -> float:
        """The largest θ in [0, 1] at which θ of the counter-plan fits: every
        pledged activity ≥ θ × its pledge, every availability raised by θ × its
        capacity, every norm's flow moved θ of the way to its new value.  One
        LP for pledges and capacity (linear in θ), bisection when norms are
        involved; a share below the solver's tolerance is none (rejected)."""
        solver = self.options.solver
        if any(c.kind == "norm" for c in plan.changes):
            tolerance = solver.tolerance_for(choose_algorithm(self.lp, solver.algorithm))
            lo, hi = 0.0, 1.0
            while hi - lo > tolerance / 10:  # the share to a tenth of the tolerance
                mid = (lo + hi) / 2
                ok = self.warm.trial(compile_edit(plan, self.at, mid)).status == Status.OPTIMAL
                lo, hi = (mid, hi) if ok else (lo, mid)
            share = lo
        elif isinstance(self.warm, WarmFirstOrder):
            # past the simplex limit: the share LP by pdhg, warm from the plan (θ = 0)
            tolerance = solver.tolerance_for("pdhg")
            share = _share_lp(self.lp, edit, solver, plan.id, self.warm)
        else:
            exact = exact_options(self.lp, solver)
            tolerance = exact.tolerance_for(exact.algorithm)
            if isinstance(self.warm, WarmPlan) and edit.bounds_only:
                share = _theta(self.warm.share(edit), plan.id)
            else:
                share = _share_lp(self.lp, edit, solver, plan.id)
        return share if share >= tolerance else 0.0


def exact_options(lp: LP, options: SolverOptions) -> SolverOptions:
    """The solver options for a vertex of ``lp`` (exact to the tolerance, with
    exact duals): simplex, or the interior point method with crossover where
    ``auto`` would choose a first-order method, whose answers are only as
    close as its stopping rule."""
    if options.algorithm in ("simplex", "ipm"):
        return options
    small = choose_algorithm(lp, "auto") == "simplex"
    return replace(options, algorithm="simplex" if small else "ipm")


def run_exact(lp: LP, options: SolverOptions) -> Solution:
    """``lp`` solved to a vertex with :func:`exact_options`; where the interior
    point method breaks down (it does on badly scaled share LPs, matrix
    entries from 1e-9 to 1e7), by the simplex method."""
    exact = exact_options(lp, options)
    solution = run_highs(lp, exact)
    if exact.algorithm == "ipm" and solution.status in (Status.ERROR, Status.UNKNOWN):
        solution = run_highs(lp, replace(exact, algorithm="simplex"))
    return solution


def _share_lp(lp: LP, full: Edit, options: SolverOptions, name: str,
              warm: WarmFirstOrder | None = None) -> float:
    """max θ subject to the plan's rows, every pledged activity x_c ≥ θ v_c
    (each pledge a row of its own, so two pledges of one activity both hold),
    and every row bound the counter-plan moves (capacity) moved by θ of its
    change; solved to a vertex (:func:`run_exact`), or by pdhg from the plan's
    own point (θ = 0, feasible) when ``warm`` holds a first-order plan."""
    base = apply_edit(lp, Edit(columns=full.columns))
    n_rows, n_cols = base.matrix.shape
    moved, change = full.row_changes(lp)
    d_row = np.zeros(n_rows)
    d_row[moved] = change
    cols = np.array([c for c, _ in full.pledges], dtype=np.int64)
    values = np.array([v for _, v in full.pledges], dtype=float)
    pick = sp.csc_matrix((np.ones(len(cols)), (np.arange(len(cols)), cols)),
                         shape=(len(cols), n_cols))
    theta = sp.csc_matrix(np.concatenate([-d_row, -values]).reshape(-1, 1))
    matrix = sp.bmat([[base.matrix, theta[:n_rows]], [pick, theta[n_rows:]]], format="csc")
    theta_lp = LP(
        matrix, np.concatenate([np.zeros(n_cols), [1.0]]),
        np.concatenate([base.col_lower, [0.0]]), np.concatenate([base.col_upper, [1.0]]),
        np.concatenate([base.row_lower, np.zeros(len(cols))]),
        np.concatenate([base.row_upper, np.full(len(cols), INF)]), 1, lp.rows, lp.cols)
    if warm is not None:
        solution = warm.solve(theta_lp, replace(options, algorithm="pdhg"), dual=False)
    else:
        solution = run_exact(theta_lp, options)
    return _theta(solution, name)


def _theta(solution: Solution, name: str) -> float:
    """θ, the share LP's last column."""
    if solution.status != Status.OPTIMAL:  # it always has one (θ = 0): the solver gave up
        raise SolveFailed(f"the largest share of counter-plan {name!r} could not be found "
                          f"(its LP stopped: {solution.status.value}); give the solver more "
                          "time (--time-limit) or a looser --tolerance")
    return float(min(1.0, max(0.0, solution.x[-1])))


def evaluate(economy: Economy, plans: list[CounterPlan], objective: str | None = None,
             options: PlanOptions | None = None) -> Evaluation:
    """Judge each counter-plan alone against the optimal plan of ``economy``."""
    judge = Evaluator(economy, objective, options)
    rows, effects = [], []
    ids = economy.items.index.to_numpy(dtype=object)[economy.targets.item]
    periods = np.asarray(economy.periods, dtype=object)[economy.targets.period]
    for plan in plans:
        row, after = judge.judge(plan)
        rows.append(row)
        if after is None:
            continue
        changed = np.abs(after - judge.before) > 1e-9 * np.maximum(1.0, np.abs(judge.before))
        effects.append(pd.DataFrame({
            "id": plan.id, "item": ids[changed], "period": periods[changed],
            "before": judge.before[changed], "after": after[changed],
            "change": after[changed] - judge.before[changed]}))
    columns = ["id", "verdict", "share", "objective_before", "objective_after", "reason"]
    verdicts = pd.DataFrame(rows, columns=columns)
    effect_columns = ["id", "item", "period", "before", "after", "change"]
    effect_table = pd.concat(effects, ignore_index=True) if effects else \
        pd.DataFrame(columns=effect_columns)
    return Evaluation(verdicts, effect_table[effect_columns], dict(judge.counts))
