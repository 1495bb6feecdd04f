"""The input-output case: every product made by exactly one single-output
technique.  Gross output solves (I − A) x = f and embodied resources (labour
values when the resource is labour, pymrio's multipliers M in general) solve
(I − A)ᵀ v = l, both by sparse solves (see :mod:`counterplan.calc.linear`).

Here ``N`` is the square net-output matrix, products × the techniques that
make them (``N = diag(o) − inputs``; it is I − A when outputs are scaled to
one), and ``U`` holds the resource and stock requirements per unit of
activity (non-products × techniques, positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.calc.linear import SolveOptions, SolveReport, solve
from counterplan.errors import NotInputOutput, SolveFailed
from counterplan.model import Economy
from counterplan.schema import PRODUCT

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class IOSystem:
    """An economy in input-output form (see module docstring)."""

    products: IntArray  # item codes of the products made, in row order of N
    techniques: IntArray  # techniques[k] makes products[k]
    net: sp.csr_matrix  # N, products × techniques
    requirements: sp.csr_matrix  # U, items × techniques: what each technique takes of the
    # items outside the system (resources, stocks, products nothing makes); zero elsewhere
    idle: IntArray  # techniques outside the system (they make only stocks)


def io_system(economy: Economy) -> IOSystem:
    """The input-output form of ``economy``, or :class:`NotInputOutput`
    explaining where it has a choice of techniques or joint production."""
    out = economy.output_matrix.tocsc()
    out.sum_duplicates()
    column = np.repeat(np.arange(economy.n_techniques), np.diff(out.indptr))
    is_product = economy.kind_codes[out.indices] == PRODUCT
    outputs_per_tech = np.bincount(column, minlength=economy.n_techniques)
    n_product_out = np.bincount(column[is_product], minlength=economy.n_techniques)
    joint = np.flatnonzero((n_product_out >= 1) & (outputs_per_tech > 1))
    if len(joint):
        names = ", ".join(map(str, economy.techniques.index[joint[:5]]))
        raise NotInputOutput(
            f"{len(joint)} technique(s) make more than one item (joint production), "
            f"e.g. {names}; `counterplan balance` needs one product per technique. "
            "Use `counterplan solve` for economies with joint production."
        )
    techniques = np.flatnonzero(n_product_out == 1)
    first_product = np.full(economy.n_techniques, -1)
    first_product[column[is_product]] = out.indices[is_product]
    products = first_product[techniques]
    makers = np.bincount(products, minlength=economy.n_items)
    if np.any(makers > 1):
        chosen = np.flatnonzero(makers > 1)
        names = ", ".join(map(str, economy.items.index[chosen[:5]]))
        raise NotInputOutput(
            f"{len(chosen)} product(s) can be made by more than one technique (a choice "
            f"of techniques), e.g. {names}; a material balance cannot choose. "
            "Use `counterplan solve` to choose the techniques optimally."
        )
    # build N and U straight from the flow coordinates: one sparse build each,
    # int32 positions, no full-size intermediate matrices (10⁷ products fit)
    order = np.argsort(products, kind="stable")
    products, techniques = products[order].astype(np.int64), techniques[order].astype(np.int64)
    m = len(products)
    row = np.full(economy.n_items, -1, dtype=np.int32)
    row[products] = np.arange(m, dtype=np.int32)
    column = np.full(economy.n_techniques, -1, dtype=np.int32)
    column[techniques] = np.arange(m, dtype=np.int32)
    f = economy.flows
    rows, cols = row[f.item], column[f.technique]
    inside = (rows >= 0) & (cols >= 0)
    net = sp.csr_matrix((f.amount[inside], (rows[inside], cols[inside])), shape=(m, m))
    del inside
    outside = (rows < 0) & (cols >= 0) & (f.amount < 0)  # resources, stocks, unmade inputs
    requirements = sp.csr_matrix((-f.amount[outside], (f.item[outside], cols[outside])),
                                 shape=(economy.n_items, m))
    idle = np.flatnonzero(column < 0)
    return IOSystem(products, techniques, net, requirements, idle)


def gross_output(system: IOSystem, final: FloatArray, options: SolveOptions = SolveOptions()
                 ) -> tuple[FloatArray, SolveReport]:
    """Activities x with N x = f: the techniques' levels that deliver exactly the
    final deliveries ``final`` (products of the system × periods)."""
    x, report = solve(system.net, final, options)
    _require_non_negative(x, "activity", "final deliveries")
    return x, report


def embodied(system: IOSystem, rows: IntArray, options: SolveOptions = SolveOptions()
             ) -> tuple[FloatArray, SolveReport]:
    """Embodied amounts V (products × len(rows)) with Nᵀ v_r = u_r for each item r
    of ``rows``: the amount of r needed, directly and through every input of
    every input, per unit of each product delivered to final use."""
    direct = system.requirements[rows].T.toarray() if len(rows) else np.zeros((0, 0))
    v, report = solve(system.net.T, direct.reshape(len(system.products), len(rows)), options)
    _require_non_negative(v, "embodied amount", "direct requirements")
    return v, report


def _require_non_negative(x: FloatArray, what: str, given: str) -> None:
    """A productive table turns non-negative data into non-negative results;
    a negative one means the table is not productive."""
    scale = float(np.abs(x).max(initial=0.0))
    if x.size and float(x.min()) < -1e-9 * max(scale, 1.0):
        raise SolveFailed(
            f"the table is not productive: non-negative {given} give a negative {what} "
            f"({float(x.min()):.4g}); some products need, directly or indirectly, more than "
            "one unit of themselves per unit made. Check the input coefficients in flows.csv"
        )


__all__ = ["IOSystem", "embodied", "gross_output", "io_system"]
