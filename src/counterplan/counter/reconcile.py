"""All counter-plans together, decided by the optimiser, not by arrival order.

1. Better norms, capacity and new techniques are adopted when, alone, they
   fit and do not lower the objective.
2. With them adopted, the plan is solved: optimum z*.
3. Every pledge k is kept at a share θ_k: a second LP maximises Σ_k θ_k
   over the optimal face of the plan, so that no kept pledge lowers the
   plan's optimum z* at all.  The face is written exactly with the
   valuations of step 2 (complementary slackness): every column whose
   reduced cost is not zero stays at the bound it is at, every row whose
   valuation is not zero stays at its bound; a point of the plan's polytope
   on that face is optimal, and every optimal point is on it.  Shares below
   the solver's tolerance are none, shares within it of 1 are whole.
4. The plan is solved once more with the kept pledges as bounds, for its
   valuations, and written as the reconciled plan; its objective is z* to
   the solver's tolerance, or the shares are cut back (bisection on a common
   factor) until it is.

Every LP here is solved to a vertex (simplex, or the interior point method
with crossover where ``auto`` would choose a first-order method), as the
face needs exact valuations.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from counterplan.counter.apply import Locator, compile_edit
from counterplan.counter.evaluate import Evaluator, exact_options, run_exact
from counterplan.counter.proposals import CounterPlan, replaced_rows
from counterplan.errors import CounterplanError
from counterplan.model import Economy, Entries, Flows
from counterplan.plan import Plan, PlanOptions, plan_from_solution
from counterplan.plan.build import INF, LP
from counterplan.plan.highs import Solution, SolverOptions, Status, violations
from counterplan.plan.objectives import build_lp
from counterplan.plan.result import SolveInfo

TOL = 1e-7


@dataclass(frozen=True, eq=False)
class Reconciliation:
    plan: Plan
    table: pd.DataFrame  # id, verdict, share, reason
    economy: Economy  # the economy with the adopted norms, capacity and techniques


def reconcile(economy: Economy, plans: list[CounterPlan], objective: str | None = None,
              options: PlanOptions | None = None) -> Reconciliation:
    options = options or PlanOptions()
    judge = Evaluator(economy, objective, options)
    adopted: list[CounterPlan] = []
    notes: dict[str, str] = {}
    for plan in plans:
        structural = replace(plan, changes=tuple(c for c in plan.changes if c.kind != "pledge"))
        if not structural.changes and not structural.techniques:
            continue
        row, _ = judge.judge(structural)
        after, before = float(row["objective_after"]), judge.objective  # type: ignore[arg-type]
        lowers = (after - before) * judge.lp.sense < -TOL * max(1.0, abs(before))
        if row["verdict"] == "accepted" and not lowers:
            adopted.append(structural)
            notes[plan.id] = (f"adopted: alone it takes the objective from {before:.6g} to "
                              f"{after:.6g}")
        else:
            why = "it lowers the objective" if lowers else str(row["reason"])
            notes[plan.id] = f"refused: {why}"
    reconciled = adopt(economy, adopted)
    kind = judge.kind
    weights = dict(economy.objective.resources if options.resources is None
                   else options.resources)
    start = time.perf_counter()
    lp = build_lp(reconciled, kind, options.harmony, weights)
    at = Locator(reconciled, lp, weights)
    pledged = [(p, compile_edit(replace(p, changes=tuple(c for c in p.changes
                                                          if c.kind == "pledge"),
                                        techniques=()), at, 1.0).pledges)
               for p in plans if any(c.kind == "pledge" for c in p.changes)]
    exact = exact_options(lp, options.solver)
    first = run_exact(lp, exact)
    if first.status != Status.OPTIMAL:
        raise CounterplanError(f"the reconciled plan cannot be solved ({first.status})")
    shares = _keep_pledges(lp, first, pledged, exact)
    final_lp, solution, shares = _verified(lp, first.objective, pledged, shares, exact)
    build_seconds = time.perf_counter() - start
    from counterplan import __version__

    info = SolveInfo(solution.solver, solution.algorithm, build_seconds, solution.seconds,
                     solution.iterations, reconciled.content_hash(), __version__,
                     {"objective": kind, "reconciled": [p.id for p in plans],
                      **asdict(options)}, violations(final_lp, solution.x))
    result = plan_from_solution(reconciled, kind, final_lp, solution, info)
    table = _table(plans, notes, dict(zip([p.id for p, _ in pledged], shares, strict=True)),
                   result)
    return Reconciliation(result, table, reconciled)


def adopt(economy: Economy, plans: list[CounterPlan]) -> Economy:
    """The economy with the norms, capacity and new techniques of ``plans``."""
    flows = economy.flows
    technique, item, amount = flows.technique.copy(), flows.item.copy(), flows.amount.copy()
    avail = economy.availability.dense(economy.n_items, economy.n_periods)
    new_ids: list[str] = []
    new_units: list[str] = []
    new_rows: list[tuple[int, int, float]] = []
    n_t = economy.n_techniques
    for plan in plans:
        for c in plan.changes:
            if c.kind == "norm":
                rows = np.flatnonzero((technique == c.technique) & (item == c.item))
                amount[rows[replaced_rows(amount[rows], c.value)]] = c.value
            elif c.kind == "capacity":
                if economy.kind_codes[c.item] == 2 and c.period < 0:  # a stock: at the start
                    avail[c.item, 0] += c.value
                else:
                    periods = range(economy.n_periods) if c.period < 0 else [c.period]
                    avail[c.item, list(periods)] += c.value
        for t in plan.techniques:
            code = n_t + len(new_ids)
            new_ids.append(t.id)
            new_units.append(plan.unit_id)
            new_rows += [(code, i, a) for i, a in zip(t.items, t.amounts, strict=True)]
    if new_rows:
        extra = np.array(new_rows, dtype=float)
        technique = np.concatenate([technique, extra[:, 0].astype(np.int64)])
        item = np.concatenate([item, extra[:, 1].astype(np.int64)])
        amount = np.concatenate([amount, extra[:, 2]])
    techniques = pd.concat([economy.techniques, pd.DataFrame(
        {"name": [""] * len(new_ids), "unit_id": new_units, "min": 0.0, "max": np.inf},
        index=pd.Index(new_ids, name="id", dtype=object))]) if new_ids else economy.techniques
    i, p = np.nonzero(avail)
    return replace(economy, techniques=techniques, flows=Flows(technique, item, amount),
                   availability=Entries(i.astype(np.int64), p.astype(np.int64), avail[i, p]))


def _keep_pledges(lp: LP, first: Solution,
                  pledged: list[tuple[CounterPlan, list[tuple[int, float]]]],
                  options: SolverOptions) -> list[float]:
    """max Σ θ_k s.t. the plan on its optimal face, x_c ≥ θ_k v_c for each pledge."""
    if not pledged:
        return []
    tol = options.tolerance_for(options.algorithm)
    face = optimal_face(lp, first, tol)
    n_rows, n_cols = lp.matrix.shape
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for k, (_, pledges) in enumerate(pledged):
        for col, value in pledges:
            r = len(rows) // 2
            rows += [r, r]
            cols += [col, n_cols + k]
            vals += [1.0, -value]
    n_k, n_p = len(pledged), len(rows) // 2
    pledge_rows = sp.csc_matrix((vals, (rows, cols)), shape=(n_p, n_cols + n_k))
    matrix = sp.vstack([sp.hstack([face.matrix, sp.csc_matrix((n_rows, n_k))]), pledge_rows],
                       format="csc")
    second = LP(matrix, np.concatenate([np.zeros(n_cols), np.ones(n_k)]),
                np.concatenate([face.col_lower, np.zeros(n_k)]),
                np.concatenate([face.col_upper, np.ones(n_k)]),
                np.concatenate([face.row_lower, np.zeros(n_p)]),
                np.concatenate([face.row_upper, np.full(n_p, INF)]), 1, lp.rows, lp.cols)
    solution = run_exact(second, options)
    if solution.status != Status.OPTIMAL:
        return [0.0] * n_k
    theta = np.clip(solution.x[n_cols:], 0.0, 1.0)
    return [0.0 if v < tol else 1.0 if v > 1 - tol else float(v) for v in theta]


def optimal_face(lp: LP, solution: Solution, tolerance: float) -> LP:
    """``lp`` restricted to the face of its optimal solutions, from the
    reduced costs and valuations of one optimal ``solution``: a column whose
    reduced cost exceeds ``tolerance`` is fixed at the bound it is at, a row
    whose valuation does is fixed at its active bound.  By complementary
    slackness a feasible point of the face is optimal, and every optimal
    point is on the face; no objective row with a slack is needed."""
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    at_upper = np.abs(solution.x - lp.col_upper) < np.abs(solution.x - lp.col_lower)
    fixed = np.abs(solution.col_dual) > tolerance
    col_lower[fixed & at_upper] = lp.col_upper[fixed & at_upper]
    col_upper[fixed & ~at_upper] = lp.col_lower[fixed & ~at_upper]
    row_lower, row_upper = lp.row_lower.copy(), lp.row_upper.copy()
    activity = lp.matrix @ solution.x
    on_upper = np.abs(activity - lp.row_upper) < np.abs(activity - lp.row_lower)
    bound = np.abs(solution.row_dual) > tolerance
    row_lower[bound & on_upper] = lp.row_upper[bound & on_upper]
    row_upper[bound & ~on_upper] = lp.row_lower[bound & ~on_upper]
    return replace(lp, col_lower=col_lower, col_upper=col_upper, row_lower=row_lower,
                   row_upper=row_upper)


def _verified(lp: LP, optimum: float,
              pledged: list[tuple[CounterPlan, list[tuple[int, float]]]], shares: list[float],
              options: SolverOptions) -> tuple[LP, Solution, list[float]]:
    """The plan with the kept pledges, checked: it must reach the optimum to
    the solver's tolerance; where it does not, every share is cut back by the
    largest common factor with which it does.  Returns the plan's LP, its
    solution and the shares it holds."""
    tol = options.tolerance_for(options.algorithm)

    def attempt(factor: float) -> tuple[LP, Solution, bool]:
        final_lp = _with_pledges(lp, pledged, [factor * s for s in shares])
        solution = run_exact(final_lp, options)
        kept = solution.status == Status.OPTIMAL and \
            (solution.objective - optimum) * lp.sense >= \
            -tol * max(1.0, abs(optimum))
        return final_lp, solution, kept

    final_lp, solution, kept = attempt(1.0)
    if kept or not any(shares):
        return final_lp, solution, shares
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if attempt(mid)[2] else (lo, mid)
    final_lp, solution, _ = attempt(lo)
    return final_lp, solution, [lo * s if lo * s >= tol else 0.0
                                for s in shares]


def _with_pledges(lp: LP, pledged: list[tuple[CounterPlan, list[tuple[int, float]]]],
                  shares: list[float]) -> LP:
    lower = lp.col_lower.copy()
    for (_, pledges), share in zip(pledged, shares, strict=True):
        for col, value in pledges:
            lower[col] = max(lower[col], share * value)
    return replace(lp, col_lower=lower)


def _table(plans: list[CounterPlan], notes: dict[str, str], shares: dict[str, float],
           plan: Plan) -> pd.DataFrame:
    rows = []
    for p in plans:
        parts, share = [], 1.0
        note = notes.get(p.id)
        refused = note is not None and note.startswith("refused")
        if note:
            parts.append(note)
        if p.id in shares:
            share = shares[p.id]
            if share >= 1 - 1e-9:
                parts.append("pledge kept in full")
            elif share > 0:
                parts.append(f"pledge kept at {share:.4g} of it: more would lower the plan's "
                             f"optimum of {plan.value:.6g}")
            else:
                parts.append(f"pledge refused: any of it would lower the plan's optimum of "
                             f"{plan.value:.6g}")
        if refused and p.id not in shares:
            share = 0.0
        verdict = "rejected" if share <= 0 else "partial" if share < 1 - 1e-9 or refused \
            else "accepted"
        rows.append({"id": p.id, "verdict": verdict, "share": share,
                     "reason": "; ".join(parts)})
    return pd.DataFrame(rows, columns=["id", "verdict", "share", "reason"])
