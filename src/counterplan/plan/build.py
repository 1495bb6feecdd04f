"""Build the plan LP from an economy: one ``define_*`` function per constraint
family (DESIGN.md §3), assembled sparse per family and stacked once.

Columns (variables), in this order:

    activity   x_j(t)  ≥ 0, within the technique's [min, max]      techniques × periods
    level      K_s(t)  ≥ 0, the stock level                       stocks × periods
    objective  λ_t (kantorovich), or r_k, h_k (harmony)           see objectives.py

Rows, one block per family; the registry records what each row's dual means,
so nothing parses names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.model import Economy

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
INF = np.inf


@dataclass(frozen=True, eq=False)
class Block:
    """A contiguous block of rows or columns: what each one stands for.

    ``key`` is an item code (products, resources, stocks), a technique code
    (activity) or a target entry (harmony); ``period`` the period code.
    """

    family: str
    start: int
    key: IntArray
    period: IntArray

    @property
    def stop(self) -> int:
        return self.start + len(self.key)

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


@dataclass
class Registry:
    """The blocks of rows (or columns), in order."""

    blocks: list[Block] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    def add(self, family: str, key: IntArray, period: IntArray) -> Block:
        block = Block(family, self.size, np.asarray(key, dtype=np.int64),
                      np.asarray(period, dtype=np.int64))
        self.blocks.append(block)
        return block

    def get(self, family: str) -> Block | None:
        return next((b for b in self.blocks if b.family == family), None)


@dataclass(frozen=True, eq=False)
class RowBlock:
    """Rows of one family before stacking: lower ≤ matrix @ columns ≤ upper."""

    family: str
    matrix: sp.csr_matrix
    lower: FloatArray
    upper: FloatArray
    key: IntArray
    period: IntArray


@dataclass(frozen=True, eq=False)
class LP:
    """The assembled problem; ``sense`` is +1 to maximise, −1 to minimise."""

    matrix: sp.csc_matrix
    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    sense: int
    rows: Registry
    cols: Registry


@dataclass(frozen=True, eq=False)
class Parts:
    """The economy's matrices split by item kind (all items × techniques)."""

    products: IntArray
    resources: IntArray
    stocks: IntArray
    net: sp.csr_matrix  # F, net flows
    uses: sp.csr_matrix  # positive amounts of inputs (and stock needs)
    adds: sp.csr_matrix  # positive amounts of outputs (stock additions)

    @staticmethod
    def of(economy: Economy) -> Parts:
        net = economy.flow_matrix.tocsr()
        return Parts(economy.products, economy.resources, economy.stocks, net,
                     sp.csr_matrix(-net.minimum(0)), sp.csr_matrix(net.maximum(0)))


def _per_period(block: sp.spmatrix, n_periods: int) -> sp.csr_matrix:
    """The same block on the diagonal for every period."""
    return sp.csr_matrix(sp.kron(sp.identity(n_periods, format="csr"), block, format="csr"))


def _keys(codes: IntArray, n_periods: int) -> tuple[IntArray, IntArray]:
    """(key, period) of rows laid out period by period."""
    return (np.tile(codes, n_periods).astype(np.int64),
            np.repeat(np.arange(n_periods), len(codes)).astype(np.int64))


def define_products(economy: Economy, parts: Parts, n_cols: int, final: FloatArray
                    ) -> RowBlock:
    """Products, per period t:  Σ_j F_ij x_j(t) − f_i(t) ≥ 0.

    Net output covers final deliveries; a surplus is allowed and reported.
    ``final`` (products × periods) is the part of f on the right-hand side;
    the objective may add columns that move deliveries to the left."""
    t = economy.n_periods
    block = _per_period(parts.net[parts.products], t)
    matrix = sp.hstack([block, sp.csr_matrix((block.shape[0], n_cols - block.shape[1]))])
    key, period = _keys(parts.products, t)
    lower = final.T.reshape(-1)
    return RowBlock("product", sp.csr_matrix(matrix), lower, np.full(len(key), INF), key,
                    period)


def define_resources(economy: Economy, parts: Parts, n_cols: int) -> RowBlock:
    """Resources, per period t:  Σ_j u_rj x_j(t) ≤ R_r(t)  (what is not used is lost)."""
    t = economy.n_periods
    block = _per_period(parts.uses[parts.resources], t)
    matrix = sp.hstack([block, sp.csr_matrix((block.shape[0], n_cols - block.shape[1]))])
    key, period = _keys(parts.resources, t)
    available = economy.availability_array()[parts.resources].T.reshape(-1)
    return RowBlock("resource", sp.csr_matrix(matrix), np.full(len(key), -INF), available,
                    key, period)


def define_stock_use(economy: Economy, parts: Parts, n_cols: int, level_start: int
                     ) -> RowBlock:
    """Stocks, per period t:  Σ_j n_sj x_j(t) − K_s(t) ≤ 0  (needed, not consumed)."""
    t, n_s = economy.n_periods, len(parts.stocks)
    use = _per_period(parts.uses[parts.stocks], t)
    level = -sp.identity(t * n_s, format="csr")
    matrix = sp.hstack([use, sp.csr_matrix((use.shape[0], level_start - use.shape[1])), level,
                        sp.csr_matrix((use.shape[0], n_cols - level_start - t * n_s))])
    key, period = _keys(parts.stocks, t)
    return RowBlock("stock-use", sp.csr_matrix(matrix), np.full(len(key), -INF),
                    np.zeros(len(key)), key, period)


def define_stock_levels(economy: Economy, parts: Parts, n_cols: int, level_start: int
                        ) -> RowBlock:
    """Stock levels:  K_s(t) − (1 − δ_s) K_s(t−1) − Σ_j b_sj x_j(t−1) = R_s(t),
    with K_s(0) = R_s(0): the first period's availability is the starting
    level, and additions made in t arrive in t + 1."""
    t, n_s = economy.n_periods, len(parts.stocks)
    keep = 1.0 - economy.items["depreciation"].to_numpy(dtype=float)[parts.stocks]
    previous = sp.eye(t, k=-1, format="csr")
    level = (sp.identity(t * n_s, format="csr")
             - sp.kron(previous, sp.diags(keep), format="csr"))
    added = -sp.kron(previous, parts.adds[parts.stocks], format="csr")
    n_x = added.shape[1]
    matrix = sp.hstack([added, sp.csr_matrix((t * n_s, level_start - n_x)), level,
                        sp.csr_matrix((t * n_s, n_cols - level_start - t * n_s))])
    key, period = _keys(parts.stocks, t)
    rhs = economy.availability_array()[parts.stocks].T.reshape(-1)
    return RowBlock("stock-level", sp.csr_matrix(matrix), rhs, rhs.copy(), key, period)


def activity_bounds(economy: Economy) -> tuple[FloatArray, FloatArray]:
    """Technique bounds, per period:  lo_j ≤ x_j(t) ≤ hi_j."""
    t = economy.n_periods
    lo = economy.techniques["min"].to_numpy(dtype=float)
    hi = economy.techniques["max"].to_numpy(dtype=float)
    return np.tile(lo, t), np.tile(hi, t)


def stack(rows: list[RowBlock]) -> tuple[sp.csc_matrix, FloatArray, FloatArray, Registry]:
    """Stack the row blocks once into the constraint matrix and the registry."""
    registry = Registry()
    for r in rows:
        registry.add(r.family, r.key, r.period)
    matrix = sp.vstack([r.matrix for r in rows], format="csc")
    lower = np.concatenate([r.lower for r in rows])
    upper = np.concatenate([r.upper for r in rows])
    return matrix, lower, upper, registry
