"""Two-level planning in rounds (Kornai and Lipták, 1965; Malinvaud, 1967),
with real units in place of simulated ones.

The office publishes the plan and its valuations; each unit holds private
candidate techniques and capacity the office does not know, and proposes
those that pay at the published valuations (a technique whose outputs are
worth more than its inputs, capacity of something with a positive valuation);
the office reconciles and republishes.  The rounds stop when no unit has a
paying proposal, or after ``max_rounds``.  Pricing against the valuations is
column generation: when nothing pays, the plan is optimal for the economy
with every unit's techniques in it.

A units folder holds one folder per unit, named by its unit id, each with
``techniques.csv`` (id, name), ``flows.csv`` (technique, item, amount) and
optionally ``availability.csv`` (item, period, amount: capacity the unit can
add).  Items are the economy's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from counterplan.counter.proposals import COLUMNS, CounterPlan, NewTechnique, parse_counterplans
from counterplan.counter.reconcile import reconcile
from counterplan.errors import InvalidInput
from counterplan.io.problems import Problems
from counterplan.model import Economy
from counterplan.plan import Plan, PlanOptions, solve
from counterplan.schema import PRODUCT, RESOURCE

TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Rounds:
    plan: Plan  # the last published plan
    economy: Economy  # the office's economy at the end
    rounds: pd.DataFrame  # round, objective, proposed, adopted, proposals, converged
    valuations: pd.DataFrame  # round, item, period, valuation


def read_units(folder: str | Path, economy: Economy) -> list[CounterPlan]:
    """Every unit's private techniques and capacity, as counter-plans."""
    folder = Path(folder)
    problems = Problems()
    if not folder.is_dir():
        problems.add(str(folder), None, "units folder not found",
                     "give a folder with one folder per unit (techniques.csv, flows.csv)")
        problems.raise_if_errors()
    plans: list[CounterPlan] = []
    for unit_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        plans += _unit(unit_dir, economy, problems)
    problems.raise_if_errors()
    return plans


def _unit(unit_dir: Path, economy: Economy, problems: Problems) -> list[CounterPlan]:
    unit = unit_dir.name
    out: list[CounterPlan] = []
    flows = _table(unit_dir / "flows.csv")
    if len(flows):
        rows = pd.DataFrame({
            "id": unit + "/" + flows.get("technique", pd.Series([""] * len(flows))),
            "unit_id": unit, "kind": "technique",
            "technique": flows.get("technique", ""), "item": flows.get("item", ""),
            "period": "", "value": flows.get("amount", ""), "note": ""}, columns=list(COLUMNS))
        plans, found = parse_counterplans(rows, economy, f"{unit}/flows.csv")
        problems.found += found.found
        out += plans
    capacity = _table(unit_dir / "availability.csv")
    if len(capacity):
        rows = pd.DataFrame({
            "id": [f"{unit}/capacity/{i}/{p}" for i, p in
                   zip(capacity.get("item", []), capacity.get("period", []), strict=True)],
            "unit_id": unit, "kind": "capacity", "technique": "",
            "item": capacity.get("item", ""), "period": capacity.get("period", ""),
            "value": capacity.get("amount", ""), "note": ""}, columns=list(COLUMNS))
        plans, found = parse_counterplans(rows, economy, f"{unit}/availability.csv")
        problems.found += found.found
        out += plans
    return out


def _table(file: Path) -> pd.DataFrame:
    if not file.is_file():
        return pd.DataFrame()
    return pd.read_csv(file, dtype=str, keep_default_na=False)


def pays(plan: Plan, proposal: CounterPlan) -> bool:
    """Does the proposal pay at the plan's valuations?"""
    e, v = plan.economy, plan.valuations
    for change in proposal.changes:  # capacity
        k = e.resources if e.kind_codes[change.item] == RESOURCE else e.stocks
        row = int(np.searchsorted(k, change.item))
        family = "resource" if e.kind_codes[change.item] == RESOURCE else "stock-level"
        periods = range(e.n_periods) if change.period < 0 else [change.period]
        if family == "stock-level" and change.period < 0:
            periods = [0]
        if any(v[family][row, t] > TOL for t in periods):
            return True
    return any(_profit(plan, t) > TOL for t in proposal.techniques)


def _profit(plan: Plan, technique: NewTechnique) -> float:
    """The best value, over periods, of one unit of the technique's activity."""
    e, v = plan.economy, plan.valuations
    weights = np.zeros(e.n_items)
    for name, w in (e.objective.resources.items() if plan.objective == "min-resource" else []):
        weights[e.items.index.get_loc(name)] = w
    best = -np.inf
    for t in range(e.n_periods):
        value = 0.0
        for i, a in zip(technique.items, technique.amounts, strict=True):
            kind = e.kind_codes[i]
            if kind == PRODUCT:
                value += v["product"][np.searchsorted(e.products, i), t] * a
            elif kind == RESOURCE:
                value += v["resource"][np.searchsorted(e.resources, i), t] * a
                value += weights[i] * a  # min-resource: using it costs its weight
            else:
                s = np.searchsorted(e.stocks, i)
                if a < 0:
                    value += v["stock-use"][s, t] * a
                elif t + 1 < e.n_periods:
                    value += v["stock-level"][s, t + 1] * a
        best = max(best, value)
    return float(best)


def run_rounds(economy: Economy, units: list[CounterPlan], max_rounds: int = 20,
               objective: str | None = None, options: PlanOptions | None = None) -> Rounds:
    """Publish, collect the paying proposals, reconcile, republish, until
    nothing pays or ``max_rounds`` have passed."""
    plan = solve(economy, objective, options or PlanOptions())
    pending = list(units)
    rows = [_row(0, plan, [], [], converged=False)]
    valuations = [_valuations(plan, 0)]
    for k in range(1, max_rounds + 1):
        proposals = [p for p in pending if pays(plan, p)]
        if not proposals:
            rows.append(_row(k, plan, [], [], converged=True))
            break
        result = reconcile(economy, proposals, objective, options)
        adopted = [p.id for p, verdict in zip(proposals, result.table["verdict"], strict=True)
                   if verdict == "accepted"]
        economy, plan = result.economy, result.plan
        pending = [p for p in pending if p.id not in set(adopted)]
        rows.append(_row(k, plan, proposals, adopted, converged=False))
        valuations.append(_valuations(plan, k))
    columns = ["round", "objective", "proposed", "adopted", "proposals", "converged"]
    return Rounds(plan, economy, pd.DataFrame(rows, columns=columns),
                  pd.concat(valuations, ignore_index=True))


def _row(k: int, plan: Plan, proposals: list[CounterPlan], adopted: list[str],
         converged: bool) -> dict[str, object]:
    return {"round": k, "objective": plan.value, "proposed": len(proposals),
            "adopted": len(adopted), "proposals": " ".join(p.id for p in proposals),
            "converged": converged}


def _valuations(plan: Plan, k: int) -> pd.DataFrame:
    resources = plan.resources_table()[["item", "period", "valuation"]]
    products = plan.balance_table()[["item", "period", "valuation"]]
    frame = pd.concat([products, resources], ignore_index=True)
    frame.insert(0, "round", k)
    return frame


__all__ = ["InvalidInput", "Rounds", "pays", "read_units", "run_rounds"]
