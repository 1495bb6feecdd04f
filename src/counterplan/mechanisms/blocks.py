"""The economy cut into the sparse blocks the iterative mechanisms work on,
one period at a time (they plan periods independently, so no stocks)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.model import Economy

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Blocks:
    """``out`` and ``inp``: gross outputs and inputs of products (products ×
    techniques, CSR); ``use``: resources used (resources × techniques, CSR);
    ``available``: resources × periods; ``targets`` and ``weights``: products ×
    periods (zero where there is no target)."""

    out: sp.csr_matrix
    inp: sp.csr_matrix
    use: sp.csr_matrix
    available: FloatArray
    targets: FloatArray
    weights: FloatArray

    @property
    def n_products(self) -> int:
        return int(self.out.shape[0])

    @property
    def n_techniques(self) -> int:
        return int(self.out.shape[1])


def blocks_of(economy: Economy, mechanism: str) -> Blocks:
    """Cut ``economy`` into blocks; a clear error when it has stocks."""
    if len(economy.stocks):
        raise CounterplanError(
            f"the {mechanism} mechanism plans each period on its own and cannot carry "
            f"stocks from one period to the next; {economy.name} has {len(economy.stocks)} "
            "stock(s). Use the exact or rounds mechanism for plans with investment")
    p, r = economy.products, economy.resources
    out = economy.output_matrix.tocsr()
    inp = economy.input_matrix.tocsr()
    e = economy.targets
    weights = np.zeros((economy.n_items, economy.n_periods))
    weights[e.item, e.period] = e.weight if e.weight is not None else 1.0
    return Blocks(out=out[p], inp=inp[p], use=inp[r],
                  available=economy.availability_array()[r],
                  targets=economy.target_array()[p], weights=weights[p])


def resource_cost(blocks: Blocks, t: int) -> FloatArray:
    """c_j = Σ_r u_rj / R_r(t): the share of every budget one unit of
    technique j takes; an error for a technique that takes none (nothing
    would bound it)."""
    with np.errstate(divide="ignore"):
        inverse = np.where(blocks.available[:, t] > 0, 1.0 / blocks.available[:, t], np.inf)
    cost = np.asarray(blocks.use.T @ np.where(np.isinf(inverse), 0.0, inverse)).ravel()
    scarce = np.asarray((blocks.use[np.isinf(inverse)] > 0).sum(axis=0)).ravel() > 0
    cost[scarce] = np.inf  # uses a resource of which there is none: never runs
    if (cost == 0).any():
        raise CounterplanError(
            f"{int((cost == 0).sum())} technique(s) use no resource, so nothing bounds "
            "their activity; give every technique a resource input (e.g. labour)")
    return cost
