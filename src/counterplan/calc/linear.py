"""Sparse linear solves for input-output systems, never by inversion.

Small systems are factorised once (SuperLU) and every right-hand side reuses
the factors.  Large ones are solved by BiCGSTAB with a Jacobi (diagonal)
preconditioner: random sparse economies fill in badly under factorisation
(DESIGN.md §7), while a productive table, whose input coefficients sum to less
than one per column, converges in a few tens of matrix-vector products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from counterplan.errors import SolveFailed

Method = Literal["auto", "direct", "iterative"]

#: Systems up to this size are factorised; above it they are iterated.
DIRECT_LIMIT = 5_000


@dataclass(frozen=True)
class SolveOptions:
    """How to solve ``M x = b``: the method and the relative residual wanted."""

    method: Method = "auto"
    rtol: float = 1e-10
    maxiter: int = 10_000


@dataclass(frozen=True)
class SolveReport:
    method: str
    iterations: int
    residual: float  # the largest relative residual ||b - M x|| / ||b|| over the columns


def solve(matrix: sp.sparray | sp.spmatrix, rhs: NDArray[np.float64],
          options: SolveOptions = SolveOptions()) -> tuple[NDArray[np.float64], SolveReport]:
    """Solve ``matrix @ X = rhs`` for a square sparse matrix and one or more
    right-hand sides (the columns of a 2-D ``rhs``)."""
    b = np.asarray(rhs, dtype=float)
    flat = b.ndim == 1
    b2 = b.reshape(len(b), -1)
    m = sp.csr_matrix(matrix)
    method = options.method
    if method == "auto":
        method = "direct" if m.shape[0] <= DIRECT_LIMIT else "iterative"
    if m.shape[0] == 0:
        x, iterations = np.zeros_like(b2), 0
    elif method == "direct":
        x, iterations = _direct(m, b2), 0
    else:
        x, iterations = _iterative(m, b2, options)
    residual = _relative_residual(m, x, b2)
    if not residual <= max(options.rtol, 1e-12) * 10:
        raise SolveFailed(
            f"the linear solve reached a relative residual of {residual:.1e}, not "
            f"{options.rtol:.0e}: the table is probably not productive (some product "
            "needs, directly or indirectly, more than one unit of itself per unit made); "
            "check the input coefficients in flows.csv"
        )
    return (x[:, 0] if flat else x), SolveReport(method, iterations, residual)


def _direct(m: sp.csr_matrix, b: NDArray[np.float64]) -> NDArray[np.float64]:
    try:
        lu = spla.splu(m.tocsc())
    except RuntimeError as exc:  # exactly singular
        raise SolveFailed(
            f"the input-output matrix (I - A) is singular ({exc}): some products are "
            "made only from each other with no net output; check flows.csv"
        ) from None
    return np.asarray(lu.solve(b))


def _iterative(m: sp.csr_matrix, b: NDArray[np.float64], options: SolveOptions
               ) -> tuple[NDArray[np.float64], int]:
    diagonal = m.diagonal()
    if np.any(diagonal == 0):
        raise SolveFailed("a product has no net output from its own technique "
                          "(zero on the diagonal of I - A); check flows.csv")
    inverse_diagonal = 1.0 / diagonal
    preconditioner = spla.LinearOperator(m.shape, matvec=lambda v: inverse_diagonal * v,
                                         dtype=float)
    x = np.zeros_like(b)
    total = 0
    counter = _Counter()
    with threadpool_limits(limits=1):
        for k in range(b.shape[1]):
            if not np.any(b[:, k]):
                continue
            counter.n = 0
            start = inverse_diagonal * b[:, k]
            solution, info = spla.bicgstab(m, b[:, k], x0=start, rtol=options.rtol, atol=0.0,
                                           maxiter=options.maxiter, M=preconditioner,
                                           callback=counter)
            if info != 0:
                solution, info = spla.gmres(m, b[:, k], x0=start, rtol=options.rtol, atol=0.0,
                                            restart=50, maxiter=options.maxiter,
                                            M=preconditioner, callback=counter,
                                            callback_type="pr_norm")
            x[:, k] = solution
            total += counter.n
    return x, total


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, _: object) -> None:
        self.n += 1


def _relative_residual(m: sp.csr_matrix, x: NDArray[np.float64], b: NDArray[np.float64]
                       ) -> float:
    if x.size == 0:
        return 0.0
    r = np.linalg.norm(b - m @ x, axis=0)
    scale = np.linalg.norm(b, axis=0)
    ratio = np.where(scale > 0, r / np.where(scale > 0, scale, 1.0), r)
    return float(ratio.max(initial=0.0))
