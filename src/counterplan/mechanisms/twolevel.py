"""Two-level planning (Kornai and Lipták, 1965) on any economy, through the
existing :func:`counterplan.counter.rounds.run_rounds`.

The economy is split: the office knows, for every product, the first
technique that makes it (so its first plan exists), every technique with
bounds and every technique of no unit; each unit holds its other techniques
privately and proposes them when they pay at the published valuations.

Messages, counted as numbers passed: in every round the office publishes the
valuation of every item and period to every unit, and units send back the
flows of each paying proposal (one number a flow); at the end the office
sends each technique its activities.
"""

from __future__ import annotations

import time

import numpy as np

from counterplan.counter.proposals import CounterPlan, NewTechnique
from counterplan.counter.rounds import run_rounds
from counterplan.mechanisms.central import item_prices
from counterplan.mechanisms.result import MechanismResult, imbalance, trajectory
from counterplan.model import Economy, Flows
from counterplan.plan import PlanOptions


def two_level(economy: Economy, objective: str | None = None, max_rounds: int = 50,
              options: PlanOptions | None = None) -> MechanismResult:
    """Rounds of publish, propose what pays, reconcile, until nothing pays."""
    options = options or PlanOptions()
    start = time.perf_counter()
    private = private_techniques(economy)
    office = subset(economy, ~private)
    units = [_proposal(economy, int(j)) for j in np.flatnonzero(private)]
    result = run_rounds(office, units, max_rounds, objective, options)
    plan = result.plan
    index = plan.economy.techniques.index.get_indexer(economy.techniques.index)
    activity = np.where(index[:, None] >= 0, plan.activity[np.maximum(index, 0)], 0.0)
    table = result.rounds
    n_units = max(len(set(economy.techniques["unit_id"].dropna())), 1)
    published = economy.n_items * economy.n_periods * n_units * len(table)
    sizes = {p.id: sum(len(t.items) for t in p.techniques) for p in units}
    proposed = sum(sizes[i] for ids in table["proposals"] for i in str(ids).split() if i)
    rows = [(int(k), float(v), 0.0) for k, v in zip(table["round"], table["objective"],
                                                     strict=True)]
    return MechanismResult(
        mechanism="rounds", economy=economy, objective_kind=plan.objective,
        activity=activity, rounds=int(table["round"].iloc[-1]),
        messages=published + proposed + economy.n_techniques * economy.n_periods,
        seconds=time.perf_counter() - start,
        converged=bool(table["converged"].iloc[-1]) and imbalance(economy, activity) < 1e-6,
        trajectory=trajectory(rows), prices=item_prices(plan),
        info={"private_techniques": len(units), "value": plan.value},
        max_ratio=options.harmony.max_ratio)


def private_techniques(economy: Economy) -> np.ndarray:
    """Which techniques a unit holds privately (see the module docstring)."""
    t = economy.techniques
    unit = t["unit_id"].fillna("").astype(str).to_numpy() != ""
    bounded = (t["min"].fillna(0).to_numpy(float) > 0) | np.isfinite(
        t["max"].fillna(np.inf).to_numpy(float))
    out = economy.output_matrix.tocoo()
    products = economy.kind_codes[out.row] == 0
    first = np.full(economy.n_items, economy.n_techniques)
    np.minimum.at(first, out.row[products], out.col[products])
    known = np.zeros(economy.n_techniques, dtype=bool)
    known[first[first < economy.n_techniques]] = True
    return unit & ~bounded & ~known


def subset(economy: Economy, keep: np.ndarray) -> Economy:
    """The economy with only the techniques where ``keep`` is true."""
    f = economy.flows
    code = np.full(economy.n_techniques, -1, dtype=np.int64)
    code[keep] = np.arange(int(keep.sum()))
    mine = keep[f.technique]
    flows = Flows(technique=code[f.technique[mine]], item=f.item[mine], amount=f.amount[mine])
    return Economy(name=economy.name, periods=economy.periods, items=economy.items,
                   techniques=economy.techniques[keep], units=economy.units, flows=flows,
                   availability=economy.availability, targets=economy.targets,
                   description=economy.description, objective=economy.objective)


def _proposal(economy: Economy, j: int) -> CounterPlan:
    f = economy.flows
    mine = f.technique == j
    technique_id = str(economy.techniques.index[j])
    unit = str(economy.techniques["unit_id"].iloc[j])
    return CounterPlan(id=technique_id, unit_id=unit, changes=(), techniques=(
        NewTechnique(technique_id, tuple(int(i) for i in f.item[mine]),
                     tuple(float(a) for a in f.amount[mine])),))

