"""Sparse linear solves for input-output systems, never by inversion.

Small systems are factorised once (SuperLU) and every right-hand side reuses
the factors.  Large ones are iterated: random sparse economies fill in badly
under factorisation (DESIGN.md §7).  The iteration is restarted GMRES, right
preconditioned by the diagonal (Jacobi), one right-hand side at a time (scipy's
product with a block of vectors was slower than one product per column).

Why GMRES: for N = I − A with A ≥ 0 productive, the spectrum of A is one
real Perron root ρ (about the mean input share, ~0.5 for generated tables)
and a bulk in a small disc around zero.  The plain iteration x ← f + A x
converges like ρᵏ (~35 products to 1e-10); GMRES removes the Perron root in
its first steps and then converges at the rate of the bulk (~0.15 a step),
with the fewest matrix products of any Krylov method (BiCGSTAB needs about
as many iterations but two products each).

The accuracy reported is always recomputed from the returned solution:
‖b − M x‖ / ‖b‖ per column, never a recurrence estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from counterplan.errors import SolveFailed

Method = Literal["auto", "direct", "iterative"]
FloatArray = NDArray[np.float64]
#: A matrix given by its product with a vector.
MatVec = Callable[[FloatArray], FloatArray]

#: Systems up to this size are factorised; above it they are iterated.
DIRECT_LIMIT = 500
#: Memory for the GMRES basis; the restart length is what fits, within the bounds below.
BASIS_BYTES = 2 << 30
MIN_RESTART, MAX_RESTART = 4, 40


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
    right-hand sides (the columns of a 2-D ``rhs``).  CSR and CSC matrices
    are used as they are (pass ``N.T`` for the transposed system: no copy)."""
    b = np.asarray(rhs, dtype=float)
    flat = b.ndim == 1
    b2 = b.reshape(len(b), -1)
    m = matrix if sp.issparse(matrix) and matrix.format in ("csr", "csc") \
        else sp.csr_matrix(matrix)
    method = options.method
    if method == "auto":
        method = "direct" if m.shape[0] <= DIRECT_LIMIT else "iterative"
    if m.shape[0] == 0 or b2.shape[1] == 0:
        x, iterations, residual = np.zeros_like(b2), 0, 0.0
    elif method == "direct":
        x, iterations = _direct(m, b2), 0
        residual = _relative_residual(lambda v: m @ v, x, b2)
    else:
        x, iterations, residual = _iterative(m, b2, options)
    _check(residual, options)
    return (x[:, 0] if flat else x), SolveReport(method, iterations, residual)


def solve_operator(matvec: MatVec, rhs: NDArray[np.float64],
                   options: SolveOptions = SolveOptions()
                   ) -> tuple[NDArray[np.float64], SolveReport]:
    """Solve ``M x = rhs`` for an M given only by its product with a vector,
    by restarted GMRES without preconditioning; each column of a 2-D ``rhs``
    is solved in turn.  Raises :class:`SolveFailed` like :func:`solve`."""
    b = np.asarray(rhs, dtype=float)
    x, iterations, residual = _columns(matvec, b.reshape(len(b), -1), options)
    _check(residual, options)
    return (x[:, 0] if b.ndim == 1 else x), SolveReport("iterative", iterations, residual)


def _check(residual: float, options: SolveOptions) -> None:
    if not residual <= max(options.rtol, 1e-12) * 10:
        raise SolveFailed(
            f"the linear solve reached a relative residual of {residual:.1e}, not "
            f"{options.rtol:.0e}: the table is probably not productive (some product "
            "needs, directly or indirectly, more than one unit of itself per unit made); "
            "check the input coefficients in flows.csv"
        )


def _direct(m: sp.csr_matrix | sp.csc_matrix, b: FloatArray) -> FloatArray:
    try:
        lu = spla.splu(sp.csc_matrix(m))
    except RuntimeError as exc:  # exactly singular
        raise SolveFailed(
            f"the input-output matrix (I - A) is singular ({exc}): some products are "
            "made only from each other with no net output; check flows.csv"
        ) from None
    return np.asarray(lu.solve(b))


def _iterative(m: sp.csr_matrix | sp.csc_matrix, b: FloatArray, options: SolveOptions
               ) -> tuple[FloatArray, int, float]:
    """GMRES on M D⁻¹ y = b, x = D⁻¹ y (D the diagonal of M)."""
    diagonal = m.diagonal()
    if np.any(diagonal == 0):
        raise SolveFailed("a product has no net output from its own technique "
                          "(zero on the diagonal of I - A); check flows.csv")
    inverse = 1.0 / diagonal
    buffer = np.empty_like(inverse)

    def scaled(v: FloatArray) -> FloatArray:
        return np.asarray(m @ np.multiply(inverse, v, out=buffer))

    y, iterations, residual = _columns(scaled, b, options)
    y *= inverse[:, None]
    return y, iterations, residual


def _columns(matvec: MatVec, b: FloatArray, options: SolveOptions
             ) -> tuple[FloatArray, int, float]:
    """GMRES on every column of ``b``: solutions, total products, worst residual."""
    n = b.shape[0]
    restart = int(np.clip(BASIS_BYTES // max(8 * n, 1) - 1, MIN_RESTART, MAX_RESTART))
    basis = np.empty((restart + 1, n))
    x = np.zeros_like(b)
    iterations, worst = 0, 0.0
    with threadpool_limits(limits=1):
        for k in range(b.shape[1]):
            if np.any(b[:, k]):
                column = np.ascontiguousarray(b[:, k])
                x[:, k], used, residual = _gmres(matvec, column, basis, options)
                iterations, worst = iterations + used, max(worst, residual)
    return x, iterations, worst


def _gmres(matvec: MatVec, b: FloatArray, basis: FloatArray, options: SolveOptions
           ) -> tuple[FloatArray, int, float]:
    """Restarted GMRES from zero (Saad, Iterative Methods for Sparse Linear
    Systems, 2003, alg. 6.9), ``len(basis) - 1`` steps a cycle.

    A cycle ends when the residual estimated by the rotated least-squares
    problem is below half the tolerance; the true residual is then recomputed
    (one product) and decides whether to stop, so the residual reported is
    that of the solution returned."""
    norm_b = float(np.linalg.norm(b))
    target = options.rtol * norm_b
    x = np.zeros_like(b)
    residual, norm_r, iterations = b.copy(), norm_b, 0
    while norm_r > target and iterations < options.maxiter:
        steps = min(len(basis) - 1, options.maxiter - iterations)
        used = _cycle(matvec, residual, norm_r, basis[:steps + 1], 0.5 * target, x)
        iterations += used
        residual = b - matvec(x)
        norm_r = float(np.linalg.norm(residual))
    return x, iterations, norm_r / norm_b


def _cycle(matvec: MatVec, r: FloatArray, beta: float, basis: FloatArray, target: float,
           x: FloatArray) -> int:
    """One GMRES cycle from residual ``r``; adds the correction to ``x`` and
    returns the number of matrix products it took.  Arnoldi by classical
    Gram–Schmidt (two products with the basis), repeated when cancellation
    shrinks the vector below 0.7 of its norm (Daniel, Gragg, Kaufman and
    Stewart, 1976)."""
    m = len(basis) - 1
    np.divide(r, beta, out=basis[0])
    h = np.zeros((m + 1, m))
    rotations = np.zeros((m, 2))
    g = np.zeros(m + 1)
    g[0] = beta
    used = m
    for j in range(m):
        w = basis[j + 1]
        w[...] = matvec(basis[j])
        norm_w = float(np.linalg.norm(w))
        for _ in range(2):  # once more only if cancellation lost accuracy (DGKS)
            coef = basis[:j + 1] @ w
            w -= coef @ basis[:j + 1]
            h[:j + 1, j] += coef
            norm_w, before = float(np.linalg.norm(w)), norm_w
            if norm_w > 0.7 * before:
                break
        h[j + 1, j] = norm_w
        if norm_w > 0:
            w /= norm_w
        _rotate(h, rotations, g, j)
        if abs(g[j + 1]) <= target or norm_w == 0:  # converged, or an exact solution
            used = j + 1
            break
    y = np.linalg.lstsq(np.triu(h[:used, :used]), g[:used], rcond=None)[0]
    x += y @ basis[:used]
    return used


def _rotate(h: FloatArray, rotations: FloatArray, g: FloatArray, j: int) -> None:
    """Apply the earlier Givens rotations to column j of H, then the one that
    zeroes H[j+1, j]; rotate the right-hand side g with it."""
    for i in range(j):
        c, s = rotations[i]
        h[i, j], h[i + 1, j] = c * h[i, j] + s * h[i + 1, j], -s * h[i, j] + c * h[i + 1, j]
    a, b = h[j, j], h[j + 1, j]
    r = float(np.hypot(a, b))
    c, s = (a / r, b / r) if r > 0 else (1.0, 0.0)
    rotations[j] = c, s
    h[j, j], h[j + 1, j] = r, 0.0
    g[j + 1] = -s * g[j]
    g[j] = c * g[j]


def _relative_residual(matvec: MatVec, x: FloatArray, b: FloatArray) -> float:
    if x.size == 0:
        return 0.0
    r = np.linalg.norm(b - matvec(x), axis=0)
    scale = np.linalg.norm(b, axis=0)
    ratio = np.where(scale > 0, r / np.where(scale > 0, scale, 1.0), r)
    return float(ratio.max(initial=0.0))
