"""The reference: the exact optimum of :func:`counterplan.plan.solve`, under
any objective, as a mechanism result.

A central optimiser needs every unit's techniques once and sends every
unit its activities back: its messages are the flows (one number each) and
the activities (one per technique and period)."""

from __future__ import annotations

import time

import numpy as np

from counterplan.mechanisms.result import MechanismResult, trajectory
from counterplan.model import Economy
from counterplan.plan import Plan, PlanOptions, solve


def exact(economy: Economy, objective: str | None = None,
          options: PlanOptions | None = None) -> MechanismResult:
    """The optimal plan of ``economy`` (objective default: economy.toml's)."""
    options = options or PlanOptions()
    start = time.perf_counter()
    plan = solve(economy, objective, options)
    seconds = time.perf_counter() - start
    return MechanismResult(
        mechanism="exact", economy=economy, objective_kind=plan.objective,
        activity=plan.activity, rounds=0,
        messages=len(economy.flows) + economy.n_techniques * economy.n_periods,
        seconds=seconds, converged=plan.optimal,
        trajectory=trajectory([(0, plan.value, 0.0)]), prices=item_prices(plan),
        info={"value": plan.value, "solver": plan.info.solver,
              "algorithm": plan.info.algorithm},
        max_ratio=options.harmony.max_ratio)


def item_prices(plan: Plan) -> np.ndarray:
    """The plan's valuations of products and resources as one items × periods array."""
    e = plan.economy
    prices = np.zeros((e.n_items, e.n_periods))
    prices[e.products] = plan.valuations["product"]
    prices[e.resources] = plan.valuations["resource"]
    return prices
