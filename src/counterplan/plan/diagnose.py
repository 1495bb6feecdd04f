"""Why a plan cannot be made, in terms a planner can act on.

- a target nothing can deliver: found before solving, by a fixed point over
  the techniques (a technique can run when every input can be had);
- an unbounded objective: the targets that some technique makes without any
  limited resource or stock;
- infeasible bounds or pledges: an elastic version of the LP that minimises
  the shortfalls (relative to each row's size) says which items, periods and
  amounts conflict.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.model import Economy
from counterplan.plan.build import LP, Parts
from counterplan.plan.highs import SolverOptions, Status, run_highs

BoolArray = NDArray[np.bool_]
SHOWN = 10


class PlanInfeasible(CounterplanError):
    """The plan cannot be made; ``conflicts`` says where (item or technique,
    period, kind of conflict, amount)."""

    def __init__(self, message: str, conflicts: pd.DataFrame | None = None):
        super().__init__(message)
        self.conflicts = conflicts if conflicts is not None else pd.DataFrame()


class PlanUnbounded(CounterplanError):
    """The objective can grow without limit."""


def _greatest_fixed_point(parts: Parts, ok_items: BoolArray, ok_techniques: BoolArray
                          ) -> tuple[BoolArray, BoolArray]:
    """Products that can be had and techniques that can run, given the
    non-products that can be had: a technique runs when all its inputs can be
    had; a product can be had when some running technique makes it."""
    uses = sp.csr_matrix(parts.uses.T > 0, dtype=np.int32)  # techniques × items
    makes = sp.csr_matrix(parts.adds > 0, dtype=np.int32)  # items × techniques
    is_product = np.zeros(len(ok_items), dtype=bool)
    is_product[parts.products] = True
    have = ok_items.copy()
    have[is_product] = True
    while True:
        runs = ok_techniques & (uses @ (~have).astype(np.int32) == 0)
        made = np.asarray(makes @ runs.astype(np.int32)).reshape(-1) > 0
        new = np.where(is_product, made & have, have)
        if np.array_equal(new, have):
            return have, runs
        have = new


def check_deliverable(economy: Economy) -> None:
    """Raise :class:`PlanInfeasible` for targets that nothing can deliver in
    their period, naming what is missing."""
    parts = Parts.of(economy)
    available = economy.availability_array()
    can_invest = np.asarray(parts.adds.sum(axis=1)).reshape(-1) > 0
    hi = economy.techniques["max"].to_numpy(dtype=float)
    rows = []
    for t, period in enumerate(economy.periods):
        ok = np.zeros(economy.n_items, dtype=bool)
        ok[parts.resources] = available[parts.resources, t] > 0
        stocked = available[parts.stocks, : t + 1].sum(axis=1) > 0
        ok[parts.stocks] = stocked | (can_invest[parts.stocks] & (t > 0))
        have, _ = _greatest_fixed_point(parts, ok, hi > 0)
        missing = np.flatnonzero(~ok & np.isin(np.arange(economy.n_items),
                                               np.concatenate([parts.resources, parts.stocks])))
        e = economy.targets
        lost = (e.period == t) & (e.amount > 0) & ~have[e.item]
        for i in e.item[lost]:
            rows.append({"item": economy.items.index[i], "period": period,
                         "conflict": "cannot be delivered",
                         "amount": float(e.amount[(e.item == i) & (e.period == t)][0]),
                         "because": _blockers(economy, parts, i, have, missing)})
    if rows:
        conflicts = pd.DataFrame(rows)
        lines = [f"  {r['item']} in {r['period']}: {r['because']}" for r in rows[:SHOWN]]
        more = f"\n  ... and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
        raise PlanInfeasible(
            f"{len(rows)} target(s) cannot be delivered at all, whatever the plan:\n"
            + "\n".join(lines) + more
            + "\nGive availability for what is missing, or remove these targets.", conflicts)


def _blockers(economy: Economy, parts: Parts, item: int, have: BoolArray,
              missing: NDArray[np.int64]) -> str:
    """What stops every technique that makes ``item``."""
    makers = parts.adds[item].indices
    if len(makers) == 0:
        return "no technique makes it"
    reasons = []
    missing_set = set(missing.tolist())
    ids = economy.items.index
    for j in makers[:3]:
        inputs = parts.uses[:, j].nonzero()[0]
        lacking = [ids[i] for i in inputs if (i in missing_set) or
                   (not have[i] and economy.kind_codes[i] == 0)]
        technique = economy.techniques.index[j]
        if economy.techniques["max"].iloc[j] <= 0:
            reasons.append(f"{technique} has max 0")
        elif lacking:
            reasons.append(f"{technique} needs {', '.join(map(str, lacking[:4]))}, "
                           "of which there is none")
    return "; ".join(reasons) or "its techniques need inputs that cannot be had"


def explain_unbounded(economy: Economy, periods: list[int]) -> PlanUnbounded:
    """The targets some technique makes with no limited resource or stock."""
    parts = Parts.of(economy)
    limited = np.zeros(economy.n_items, dtype=bool)
    limited[parts.resources] = True
    limited[parts.stocks] = True
    hi = economy.techniques["max"].to_numpy(dtype=float)
    free, _ = _greatest_fixed_point(parts, ~limited, ~np.isfinite(hi))
    e = economy.targets
    names = sorted({str(economy.items.index[i]) for i in e.item[(e.amount > 0) & free[e.item]]})
    shown = ", ".join(names[:SHOWN]) or "(none found directly: look for a technique whose " \
        "output exceeds its inputs of the same product)"
    labels = ", ".join(economy.periods[t] for t in periods) or "some period"
    return PlanUnbounded(
        f"the plan is unbounded in {labels}: the targets can be met any number of times "
        f"over, because some products need no limited resource or stock: {shown}. "
        "Give the techniques that make them a resource input (e.g. labour) or a max bound.")


def explain_infeasible(economy: Economy, lp: LP, options: SolverOptions) -> PlanInfeasible:
    """Solve the elastic LP and report the smallest set of shortfalls."""
    from counterplan.plan.elastic import elastic_lp, read_slacks

    elastic, slacks = elastic_lp(lp)
    solution = run_highs(elastic, options)
    if solution.status != Status.OPTIMAL:
        return PlanInfeasible(f"the plan cannot be made, and the solver could not find "
                              f"where the conflict lies ({solution.status})")
    conflicts = read_slacks(economy, lp, slacks, solution.x)
    lines = [f"  {r.item} in {r.period}: {r.conflict} by {r.amount:.6g}"
             for r in conflicts.head(SHOWN).itertuples()]
    more = f"\n  ... and {len(conflicts) - SHOWN} more" if len(conflicts) > SHOWN else ""
    limits = _binding_limits(economy, elastic, solution.row_dual)
    because = ("\nWhat limits it (used in full, with its valuation in the elastic problem):\n"
               + "\n".join(limits)) if limits else ""
    return PlanInfeasible(
        "the plan cannot be made: the bounds, pledges and targets conflict. The smallest "
        "changes that would make it possible:\n" + "\n".join(lines) + more + because,
        conflicts)


def _binding_limits(economy: Economy, lp: LP,
                    row_dual: NDArray[np.float64]) -> list[str]:
    """Resources and stock capacities that bind in the elastic solution."""
    out = []
    for family in ("resource", "stock-use"):
        block = lp.rows.get(family)
        if block is None:
            continue
        dual = np.abs(row_dual[block.slice])
        for k in np.argsort(-dual)[:SHOWN]:
            if dual[k] <= 1e-9:
                break
            item = economy.items.index[block.key[k]]
            period = economy.periods[block.period[k]]
            amount = (f"all {lp.row_upper[block.start + k]:.6g} used" if family == "resource"
                      else "all capacity in use")
            out.append(f"  {item} in {period}: {amount} (valuation {dual[k]:.4g})")
    return out
