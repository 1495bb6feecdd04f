"""The Kantorovich optimum without an LP, where it has a closed form.

When every product is made by exactly one technique with one output, there
are no stocks and no activity bounds, the only choice left is how far to go
along the plan ray: in period t the targets g(t) need x(g) = N⁻¹ g(t) and
u_r·x(g) of each resource r, so

    λ_t = min_r R_r(t) / (u_r · x(g(t))),     x(t) = λ_t x(g(t)),

one Leontief solve per period (DESIGN.md §7).  The binding resource r* is
valued at w_t / (u_r*·x(g)) complete sets per unit; a product at that times
its embodied r* (one more unit of it saves that much of r*)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from counterplan.calc.leontief import embodied, gross_output, io_system
from counterplan.calc.linear import SolveOptions
from counterplan.errors import NotInputOutput
from counterplan.model import Economy

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ClosedForm:
    lambdas: FloatArray
    activity: FloatArray  # techniques × periods
    valuations: dict[str, FloatArray]
    free_periods: list[int]  # periods whose targets need no resource at all (unbounded)


def applies(economy: Economy) -> bool:
    """Is the economy in the form where the closed form is exact?"""
    t = economy.techniques
    if len(economy.stocks) or (t["min"] > 0).any() or np.isfinite(t["max"]).any():
        return False
    try:
        system = io_system(economy)
    except NotInputOutput:
        return False
    return len(system.idle) == 0 and len(system.products) == len(economy.products)


def kantorovich(economy: Economy, options: SolveOptions = SolveOptions()) -> ClosedForm:
    """λ, activities and valuations of the Kantorovich plan (see module docstring)."""
    system = io_system(economy)
    targets = economy.target_array()[system.products]
    xg, _ = gross_output(system, targets, options)  # products × periods
    resources = economy.resources
    need = np.asarray(system.requirements[resources] @ xg)  # resources × periods
    available = economy.availability_array()[resources]
    weights = np.array([economy.objective.weights.get(p, 1.0) for p in economy.periods])
    n_t = economy.n_periods
    lambdas = np.zeros(n_t)
    binding = np.full(n_t, -1)
    free = []
    for t in range(n_t):
        if not targets[:, t].any():
            continue
        used = need[:, t] > 0
        if not used.any():
            free.append(t)
            continue
        ratio = np.where(used, available[:, t] / np.where(used, need[:, t], 1.0), np.inf)
        binding[t] = int(np.argmin(ratio))
        lambdas[t] = ratio[binding[t]]
    activity = np.zeros((economy.n_techniques, n_t))
    activity[system.techniques] = xg * lambdas[None, :]
    resource_value = np.zeros((len(resources), n_t))
    product_value = np.zeros((len(economy.products), n_t))
    rows = np.unique(binding[binding >= 0])
    if len(rows):
        v, _ = embodied(system, resources[rows], options)
        for p in map(int, np.flatnonzero(binding >= 0)):
            r = int(binding[p])
            resource_value[r, p] = weights[p] / need[r, p]
            product_value[np.searchsorted(economy.products, system.products), p] = \
                resource_value[r, p] * v[:, int(np.searchsorted(rows, r))]
    empty = np.zeros((0, n_t))
    return ClosedForm(lambdas, activity, {"product": product_value, "resource": resource_value,
                                          "stock-use": empty, "stock-level": empty}, free)
