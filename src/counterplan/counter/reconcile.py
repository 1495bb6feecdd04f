"""All counter-plans together, decided by the optimiser, not by arrival order.

1. Better norms, capacity and new techniques are adopted when, alone, they
   fit and do not lower the objective.
2. With them adopted, the plan is solved: optimum z*.
3. Every pledge k is kept at a share θ_k: a second LP maximises Σ_k θ_k
   subject to every balance, x ≥ θ_k × pledge, and the objective ≥ z*
   (≤ for min-resource), so no kept pledge lowers the plan's optimum.
4. The plan is solved once more with the kept pledges as bounds, for its
   valuations, and written as the reconciled plan.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from counterplan.counter.apply import Locator, compile_edit
from counterplan.counter.evaluate import Evaluator
from counterplan.counter.proposals import CounterPlan, replaced_rows
from counterplan.errors import CounterplanError
from counterplan.model import Economy, Entries, Flows
from counterplan.plan import Plan, PlanOptions, plan_from_solution
from counterplan.plan.build import INF, LP
from counterplan.plan.highs import Status, run_highs, violations
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
    first = run_highs(lp, options.solver)
    if first.status != Status.OPTIMAL:
        raise CounterplanError(f"the reconciled plan cannot be solved ({first.status})")
    shares = _keep_pledges(lp, first.objective, pledged, options)
    final_lp = _with_pledges(lp, pledged, shares)
    build_seconds = time.perf_counter() - start
    solution = run_highs(final_lp, options.solver)
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


def _keep_pledges(lp: LP, optimum: float,
                  pledged: list[tuple[CounterPlan, list[tuple[int, float]]]],
                  options: PlanOptions) -> list[float]:
    """max Σ θ_k s.t. the plan, x_c ≥ θ_k v_c for each pledge, objective kept."""
    if not pledged:
        return []
    n_rows, n_cols = lp.matrix.shape
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    for k, (_, pledges) in enumerate(pledged):
        for col, value in pledges:
            r = len(lower)
            rows += [r, r]
            cols += [col, n_cols + k]
            vals += [1.0, -value]
            lower.append(lp.col_lower[col])
    n_k = len(pledged)
    pledge_rows = sp.csc_matrix((vals, (rows, cols)), shape=(len(lower), n_cols + n_k))
    objective_row = sp.csc_matrix(np.concatenate([lp.cost, np.zeros(n_k)]).reshape(1, -1))
    slack = 1e-9 * max(1.0, abs(optimum))
    keep = (optimum - slack, INF) if lp.sense > 0 else (-INF, optimum + slack)
    matrix = sp.vstack([sp.hstack([lp.matrix, sp.csc_matrix((n_rows, n_k))]), pledge_rows,
                        objective_row], format="csc")
    second = LP(matrix, np.concatenate([np.zeros(n_cols), np.ones(n_k)]),
                np.concatenate([lp.col_lower, np.zeros(n_k)]),
                np.concatenate([lp.col_upper, np.ones(n_k)]),
                np.concatenate([lp.row_lower, lower, [keep[0]]]),
                np.concatenate([lp.row_upper, np.full(len(lower), INF), [keep[1]]]),
                1, lp.rows, lp.cols)
    solution = run_highs(second, options.solver)
    if solution.status != Status.OPTIMAL:
        return [0.0] * n_k
    theta = np.clip(solution.x[n_cols:], 0.0, 1.0)
    # shares within the solver's tolerance of 0 or 1 are 0 or 1
    return [0.0 if v < 1e-6 else 1.0 if v > 1 - 1e-6 else float(v) for v in theta]


def _with_pledges(lp: LP, pledged: list[tuple[CounterPlan, list[tuple[int, float]]]],
                  shares: list[float]) -> LP:
    lower = lp.col_lower.copy()
    for (_, pledges), share in zip(pledged, shares, strict=True):
        for col, value in pledges:
            lower[col] = max(lower[col], share * value * (1 - 1e-12))
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
