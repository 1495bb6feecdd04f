"""A first-order primal–dual solver of our own for the plan LP.

The method is the restarted Halpern PDHG with reflection of cuPDLPx (Lu,
Peng and Yang, 2025, arXiv 2507.14051), itself a refinement of PDLP
(Applegate et al., 2021): only sparse matrix–vector products and vector
operations, so its cost per iteration is two passes over the nonzeros.

The problem, minimised (a maximisation is negated), in plan-relative units
(:mod:`counterplan.plan.scaling`) and then equilibrated (Pock–Chambolle;
Ruiz equilibration on top and PDLP's restarts to the average were measured
and did not pay, docs/benchmarks.md):

    min c·x   subject to   l ≤ A x ≤ u,   lo ≤ x ≤ hi

with the Lagrangian  c·x − y·A x + Σ_i (l_i y_i⁺ − u_i y_i⁻).  One PDHG step
T(x, y) with steps τ = η/ω, σ = η ω (η < 1/‖A‖₂, ω the primal weight):

    x' = proj_[lo,hi](x − τ (c − Aᵀ y))
    y' = max(v + σ l, 0) + min(v + σ u, 0),     v = y − σ A (2x' − x)

and the Halpern iteration with reflection, anchored at the restart point z⁰:

    z(k+1) = (k+1)/(k+2) · (2 T(z(k)) − z(k)) + 1/(k+2) · z⁰.

Restarts (to T(z)) when the fixed-point residual ‖z − T(z)‖ has fallen to
β_s = 0.2 of its value at the last restart, or to β_n = 0.8 and stopped
falling, or after β_a = 0.36 of all iterations so far; at each restart the
primal weight moves halfway (in logarithms) to ‖Δy‖/‖Δx‖.

Stopping rule, checked every ``CHECK_EVERY`` iterations at T(z), all in
plan-relative units: the largest row violation (a fraction of the row's
size), the largest reduced-cost violation over (1 + the largest cost), and
the gap — |primal − dual objective| plus what the remaining violations are
worth, over 1 + |primal| + |dual| (:func:`_errors`) — all at most the
tolerance (docs/solver.md).  Infeasibility and unboundedness are read from the difference of
successive iterates, which tends to a certificate (a Farkas ray or a primal
ray) when there is no optimum.

The iteration is written against an array module ``xp`` (numpy, or cupy on a
GPU): the CPU and the GPU run the same code.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.plan.build import LP
from counterplan.plan.scaling import row_sizes

FloatArray = NDArray[np.float64]

CHECK_EVERY = 64
#: the restart conditions are looked at every this many iterations (32 took 13.5 %
#: fewer over 15 plans of up to 2,000 products, but 54 % more at 10⁴: docs/benchmarks.md)
RESTART_EVERY = 16
#: ρ in (1 + ρ) T(z) − ρ z: 1 reflects (cuPDLPx), 0 is plain Halpern
REFLECTION = 1.0
RESTART_SUFFICIENT, RESTART_NECESSARY, RESTART_ARTIFICIAL = 0.2, 0.8, 0.36
#: a certificate of infeasibility or unboundedness must hold at this many checks in a row
CERTIFICATE_CHECKS = 3
#: a certificate's violation, relative to its objective part
INFEASIBLE_TOLERANCE = 1e-8
PROGRESS_SECONDS = 2.0
#: sparse products are split over up to this many threads, from this many nonzeros
MATVEC_THREADS, SPLIT_NONZEROS = 2, 500_000


@dataclass(frozen=True)
class Start:
    """A starting point in the LP's own units: the primal and dual of a related
    plan (warm start).  The primal weight starts at 1 as in a cold solve, not
    where the related plan's solve ended: measured on 20 counter-plans against
    three plans of 10³ products × 5 periods, resuming took 58,368 iterations
    in all, starting at 1 took 39,488 (fewer in 12 of them, more in 1)."""

    x: FloatArray
    y: FloatArray


@dataclass(frozen=True)
class Progress:
    iteration: int
    seconds: float
    primal: float  # largest row violation, a fraction of the row's size
    dual: float
    gap: float
    objective: float


@dataclass(frozen=True, eq=False)
class PdhgResult:
    """What the iteration ends with, in the LP's own units."""

    status: str  # optimal, infeasible, unbounded, time-limit, iteration-limit
    x: FloatArray
    y: FloatArray  # row duals in HiGHS's convention for the LP's own sense
    reduced_cost: FloatArray  # the same for the columns
    objective: float  # in the LP's own sense
    iterations: int
    seconds: float
    errors: dict[str, float]
    device: str


def array_module(device: str) -> tuple[Any, Any]:
    """(xp, sparse): numpy and scipy.sparse on the CPU, cupy and
    cupyx.scipy.sparse on a GPU."""
    if device == "cpu":
        return np, sp
    if device == "gpu":
        try:
            import cupy
            import cupyx.scipy.sparse as cusparse
        except ImportError as e:
            raise CounterplanError(
                "--device gpu needs CuPy and a CUDA device: pip install cupy-cuda12x "
                f"(or the build for your CUDA); {e}") from None
        return cupy, cusparse
    raise CounterplanError(f"unknown device {device!r}; use cpu or gpu")


@dataclass(eq=False)
class Scaled:
    """The LP in the solver's units: Â = D_r A D_c with everything that maps
    back: x = D_c x̂, y = D_r ŷ; ``row_plan`` and ``col_plan`` turn a scaled
    row violation and reduced cost into plan-relative units."""

    matrix: Any  # Â, CSR
    matrix_t: Any  # Âᵀ, CSR
    cost: Any
    lo: Any
    hi: Any
    l: Any  # noqa: E741  (row bounds, the paper's notation)
    u: Any
    d_row: FloatArray
    d_col: FloatArray
    row_plan: Any
    col_plan: Any
    cost_scale: float  # 1 + the largest cost in plan units
    norm: float  # an upper bound on ‖Â‖₂: 1 (:func:`scale`)


def scale(lp: LP, col_ref: FloatArray, xp: Any, sparse: Any) -> Scaled:
    """Plan-relative units, then Pock–Chambolle equilibration.

    The equilibration bounds the operator norm: with R_i and C_j the 1-norms
    of row i and column j, Â_ij = A_ij / √(R_i C_j), and Schur's test with
    the weights √R and √C gives ‖Â‖₂ ≤ 1.  The step is taken from that bound,
    not from an estimate: power iteration approaches ‖Â‖₂ from below, and
    where the two largest singular values are close it stops short (measured
    on a plan of 30 rows: 0.9529 against 0.9566), so that τσ‖Â‖² > 1 and
    the iteration never converged.  On generated plans of 300 and 1,000
    products × 5 periods ‖Â‖₂ is 0.996 and 0.99999: the bound costs nothing."""
    size = row_sizes(lp, col_ref)
    m = sp.csr_matrix(sp.diags(1.0 / size) @ lp.matrix @ sp.diags(col_ref))
    # Pock–Chambolle with α = 1: rows and columns by the square root of their 1-norms
    r = np.sqrt(np.asarray(abs(m).sum(axis=1)).reshape(-1))
    c = np.sqrt(np.asarray(abs(m).sum(axis=0)).reshape(-1))
    r[r == 0], c[c == 0] = 1.0, 1.0
    m = sp.csr_matrix(sp.diags(1 / r) @ m @ sp.diags(1 / c))
    d_row = 1.0 / (r * size)
    d_col = col_ref / c
    sense = -float(lp.sense)  # minimise
    cost = sense * lp.cost * d_col
    with np.errstate(invalid="ignore"):
        lo, hi = lp.col_lower / d_col, lp.col_upper / d_col
        lower, upper = lp.row_lower * d_row, lp.row_upper * d_row
    cost_plan = np.abs(lp.cost * col_ref)
    m.sort_indices()
    mt = sp.csr_matrix(m.T)
    dev = sparse.csr_matrix if xp is not np else _Split.of
    return Scaled(dev(m), dev(mt), xp.asarray(cost), xp.asarray(lo), xp.asarray(hi),
                  xp.asarray(lower), xp.asarray(upper), d_row, d_col,
                  xp.asarray(r), xp.asarray(c),
                  1.0 + float(cost_plan.max(initial=0.0)), 1.0)


class _Split:
    """A CSR matrix whose products run on every core: its rows in one block
    per thread (scipy's sparse product releases the GIL).  Measured: a
    product with 4.8·10⁶ nonzeros, 96 ms on one thread, 67 ms on two on a
    loaded two-core machine."""

    _pool: ThreadPoolExecutor | None = None

    def __init__(self, blocks: list[sp.csr_matrix]):
        self.blocks = blocks
        self.shape = (sum(b.shape[0] for b in blocks), blocks[0].shape[1])

    @classmethod
    def of(cls, m: sp.csr_matrix) -> _Split | sp.csr_matrix:
        threads = min(os.cpu_count() or 1, MATVEC_THREADS)
        if threads < 2 or m.nnz < SPLIT_NONZEROS:
            return m
        cuts = np.searchsorted(m.indptr, np.linspace(0, m.nnz, threads + 1))
        cuts[0], cuts[-1] = 0, m.shape[0]
        return cls([sp.csr_matrix(m[a:b]) for a, b in itertools.pairwise(cuts)])

    def __matmul__(self, v: FloatArray) -> FloatArray:
        if _Split._pool is None:
            _Split._pool = ThreadPoolExecutor(MATVEC_THREADS)
        return np.concatenate(list(_Split._pool.map(lambda b: b @ v, self.blocks)))


class _Iterate:
    """A primal–dual point with the products A x and Aᵀ y that go with it."""

    __slots__ = ("aty", "ax", "x", "y")

    def __init__(self, x: Any, y: Any, ax: Any, aty: Any):
        self.x, self.y, self.ax, self.aty = x, y, ax, aty

    def copy(self) -> _Iterate:
        return _Iterate(self.x.copy(), self.y.copy(), self.ax.copy(), self.aty.copy())


@dataclass(frozen=True)
class Settings:
    tolerance: float
    time_limit: float | None
    iteration_limit: int
    log: bool
    progress: Callable[[Progress], None] | None = None
    #: print the progress line once the solve has run this long (log: at once)
    print_after: float = math.inf


class _Monitor:
    """The checks every ``CHECK_EVERY`` iterations: errors, progress,
    certificates and limits.  ``check`` returns the status to stop with."""

    def __init__(self, s: Scaled, settings: Settings, xp: Any, began: float | None = None):
        self.s, self.settings, self.xp = s, settings, xp
        self.last_log = time.perf_counter()
        self.began = self.last_log if began is None else began
        self.certificate = _Certificates()
        self.errors: dict[str, float] = {}

    def check(self, t: _Iterate, total: int, omega: float) -> str | None:
        settings = self.settings
        self.errors = errors = _errors(self.s, t, self.xp)
        seconds = time.perf_counter() - self.began
        if settings.progress is not None:
            settings.progress(Progress(total, seconds, errors["primal"], errors["dual"],
                                       errors["gap"], errors["objective"]))
        shown = settings.log or seconds > settings.print_after
        if shown and time.perf_counter() - self.last_log > PROGRESS_SECONDS:
            self.last_log = time.perf_counter()
            _print_progress(total, seconds, errors, omega)
        if max(errors["primal"], errors["dual"], errors["gap"]) <= settings.tolerance:
            return "optimal"
        verdict = self.certificate.check(self.s, t, self.xp)
        if verdict is not None:
            return verdict
        if settings.time_limit is not None and seconds > settings.time_limit:
            return "time-limit"
        if total >= settings.iteration_limit:
            return "iteration-limit"
        return None

    def out_of_time(self) -> bool:
        """Past the time limit: looked at every iteration, since at 10⁶
        products CHECK_EVERY iterations take over two minutes."""
        limit = self.settings.time_limit
        return limit is not None and time.perf_counter() - self.began > limit


def _restart_due(r: float, residual0: float, previous: float, k: int, total: int) -> bool:
    return (r <= RESTART_SUFFICIENT * residual0
            or (r <= RESTART_NECESSARY * residual0 and r > previous)
            or k >= RESTART_ARTIFICIAL * total)


Outcome = tuple[str, _Iterate, int, dict[str, float]]


class _Work:
    """Scratch arrays, and σ l, σ u for the current σ: the iteration writes
    into these instead of allocating (allocating a large array costs its
    pages anew each time; measured at 10⁴ products × 5 periods, the vector
    work took longer than the two sparse products)."""

    def __init__(self, s: Scaled, xp: Any):
        self.s, self.xp = s, xp
        self.n = xp.zeros(s.lo.shape[0])
        self.m = xp.zeros(s.l.shape[0])
        self.sigma = math.nan
        self.low = self.up = self.m

    def bounds(self, sigma: float) -> tuple[Any, Any]:
        if sigma != self.sigma:
            self.sigma, self.low, self.up = sigma, sigma * self.s.l, sigma * self.s.u
        return self.low, self.up


def solve_scaled(s: Scaled, start: _Iterate, settings: Settings, xp: Any,
                 warm: bool = False, began: float | None = None) -> Outcome:
    """The restarted Halpern iteration with reflection on the scaled LP; a
    ``warm`` start that already meets the stopping rule is the answer.  The
    time limit counts from ``began`` (the scaling included), or from now."""
    eta = 0.998 / s.norm
    # the primal weight ω = 1 in plan-relative units: a unit of every activity weighs
    # as much as a unit of every valuation (PDLP's start, ‖c‖/‖b‖, converged more
    # slowly here); a warm start does not resume a related plan's ω (docs/solver.md)
    omega = 1.0
    monitor = _Monitor(s, settings, xp, began)
    if warm:
        errors = _errors(s, start, xp)
        if max(errors["primal"], errors["dual"], errors["gap"]) <= settings.tolerance:
            return "optimal", start, 0, errors
    work = _Work(s, xp)
    anchor, last_restart, z, t = start.copy(), start.copy(), start.copy(), start.copy()
    residual0 = previous = math.inf
    k = total = 0
    while True:
        _step(s, z, eta / omega, eta * omega, t, work)
        if k == 0:  # the fixed-point residual at the restart point
            residual0 = previous = _distance(z, t, omega, xp)
        if total % CHECK_EVERY == 0 or monitor.out_of_time():
            status = monitor.check(t, total, omega)
            if status is not None:
                return status, t, total, monitor.errors
        if k > 0 and k % RESTART_EVERY == 0:
            r = _distance(z, t, omega, xp)
            if _restart_due(r, residual0, previous, k, total):
                omega = _new_weight(t, last_restart, omega, xp)
                last_restart, anchor, z, k = t.copy(), t.copy(), t.copy(), 0
                total += 1
                continue
            previous = r
        _halpern(z, t, anchor, k, work)
        k += 1
        total += 1


def _step(s: Scaled, z: _Iterate, tau: float, sigma: float, out: _Iterate,
          work: _Work) -> None:
    """One PDHG step T(z) into ``out``, with A x' and Aᵀ y' (two sparse
    products); ``out`` must not be ``z``."""
    xp = work.xp
    x = out.x
    xp.subtract(z.aty, s.cost, out=x)
    x *= tau
    x += z.x
    xp.clip(x, s.lo, s.hi, out=x)
    out.ax = s.matrix @ x
    v = out.y  # v = y − σ (2 A x' − A x), then y' in place
    xp.multiply(out.ax, 2.0, out=v)
    v -= z.ax
    v *= -sigma
    v += z.y
    low, up = work.bounds(sigma)
    positive = work.m
    xp.add(v, low, out=positive)
    xp.maximum(positive, 0.0, out=positive)
    v += up
    xp.minimum(v, 0.0, out=v)
    v += positive
    out.aty = s.matrix_t @ v


def _halpern(z: _Iterate, t: _Iterate, anchor: _Iterate, k: int, work: _Work) -> None:
    """z ← (k+1)/(k+2) ((1 + ρ) T(z) − ρ z) + 1/(k+2) z⁰, in place."""
    w = (k + 1) / (k + 2)
    xp = work.xp
    for name in _Iterate.__slots__:
        target = getattr(z, name)
        scratch = work.n if target.shape == work.n.shape else work.m
        target *= -REFLECTION * w
        xp.multiply(getattr(t, name), (1 + REFLECTION) * w, out=scratch)
        target += scratch
        xp.multiply(getattr(anchor, name), 1 - w, out=scratch)
        target += scratch


def _largest(v: Any, xp: Any) -> float:
    """max(v), 0 for an empty v (CuPy's max takes no ``initial``)."""
    return float(xp.max(v)) if v.size else 0.0


def _distance(a: _Iterate, b: _Iterate, omega: float, xp: Any) -> float:
    dx = float(xp.linalg.norm(a.x - b.x))
    dy = float(xp.linalg.norm(a.y - b.y))
    return math.sqrt(omega * dx * dx + dy * dy / omega)


def _new_weight(t: _Iterate, last: _Iterate, omega: float, xp: Any) -> float:
    dx = float(xp.linalg.norm(t.x - last.x))
    dy = float(xp.linalg.norm(t.y - last.y))
    if dx > 1e-10 and dy > 1e-10:
        return math.exp(0.5 * math.log(dy / dx) + 0.5 * math.log(omega))
    return omega


def _reduced_cost_violation(s: Scaled, rc: Any, xp: Any) -> Any:
    """The part of the reduced costs no bound can absorb (dual infeasibility)."""
    return (xp.where(xp.isinf(s.hi), xp.maximum(-rc, 0.0), 0.0)
            + xp.where(xp.isinf(s.lo), xp.maximum(rc, 0.0), 0.0))


def _bound_terms(lower: Any, upper: Any, v: Any, xp: Any) -> float:
    """Σ (lower v⁺ − upper v⁻) over the finite bounds."""
    low = xp.where(xp.isfinite(lower), lower, 0.0)
    up = xp.where(xp.isfinite(upper), upper, 0.0)
    return float(low @ xp.maximum(v, 0.0) - up @ xp.maximum(-v, 0.0))


def _errors(s: Scaled, t: _Iterate, xp: Any) -> dict[str, float]:
    """Relative primal, dual and gap errors in plan-relative units.

    The gap counts, besides |primal − dual objective|, what the remaining
    violations are worth: Σ_i |y_i| (row violation)_i, the objective bought
    by breaking balances at the current valuations, and Σ_j (reduced-cost
    violation)_j max(|x_j|, x̄_j), by which the dual objective understates the
    bound (at least one reference activity x̄_j: a column the iterate leaves
    at zero may be large at the optimum).
    Both are invariant under the scaling, so a gap below ε puts the
    objective within about ε (relative) of the optimum, not only the
    residuals within ε row by row."""
    viol = xp.maximum(s.l - t.ax, 0.0) + xp.maximum(t.ax - s.u, 0.0)
    primal = _largest(viol * s.row_plan, xp)
    rc = s.cost - t.aty
    rc_viol = _reduced_cost_violation(s, rc, xp)
    dual = _largest(rc_viol * s.col_plan, xp) / s.cost_scale
    pobj = float(s.cost @ t.x)
    dobj = _bound_terms(s.l, s.u, t.y, xp) + _bound_terms(s.lo, s.hi, rc, xp)
    worth = float(xp.abs(t.y) @ viol) + float(rc_viol @ xp.maximum(xp.abs(t.x), s.col_plan))
    gap = (abs(pobj - dobj) + worth) / (1.0 + abs(pobj) + abs(dobj))
    return {"primal": primal, "dual": dual, "gap": gap, "objective": pobj,
            "dual_objective": dobj}


class _Certificates:
    """Infeasibility or unboundedness read from the difference of the points
    at successive checks (normalised), held for ``CERTIFICATE_CHECKS`` checks."""

    def __init__(self) -> None:
        self.last: _Iterate | None = None
        self.seen: dict[str, int] = {"infeasible": 0, "unbounded": 0}

    def check(self, s: Scaled, t: _Iterate, xp: Any) -> str | None:
        last, self.last = self.last, t.copy()
        if last is None:
            return None
        found = None
        dy, daty = t.y - last.y, t.aty - last.aty
        scale_y = _largest(xp.abs(dy), xp)
        if scale_y > 0 and self._farkas(s, dy / scale_y, -daty / scale_y, xp):
            found = "infeasible"
        dx, dax = t.x - last.x, t.ax - last.ax
        scale_x = _largest(xp.abs(dx), xp)
        if found is None and scale_x > 0 and self._ray(s, dx / scale_x, dax / scale_x, xp):
            found = "unbounded"
        for key in self.seen:
            self.seen[key] = self.seen[key] + 1 if key == found else 0
        return found if found and self.seen[found] >= CERTIFICATE_CHECKS else None

    @staticmethod
    def _farkas(s: Scaled, y: Any, rc: Any, xp: Any) -> bool:
        """A dual ray: a positive bound term, and Aᵀy within what the bounds
        absorb to ``INFEASIBLE_TOLERANCE`` of it."""
        term = _bound_terms(s.l, s.u, y, xp) + _bound_terms(s.lo, s.hi, rc, xp)
        if term <= 0:
            return False
        violation = _largest(_reduced_cost_violation(s, rc, xp), xp)
        return violation <= INFEASIBLE_TOLERANCE * term

    @staticmethod
    def _ray(s: Scaled, dx: Any, adx: Any, xp: Any) -> bool:
        """A primal ray: c·d < 0 with A d and d in the recession cones, to
        ``INFEASIBLE_TOLERANCE`` of |c·d|."""
        gain = -float(s.cost @ dx)
        if gain <= 0:
            return False
        row = (xp.where(xp.isfinite(s.l), xp.maximum(-adx, 0.0), 0.0)
               + xp.where(xp.isfinite(s.u), xp.maximum(adx, 0.0), 0.0))
        col = (xp.where(xp.isfinite(s.lo), xp.maximum(-dx, 0.0), 0.0)
               + xp.where(xp.isfinite(s.hi), xp.maximum(dx, 0.0), 0.0))
        worst = max(_largest(row, xp), _largest(col, xp))
        return worst <= INFEASIBLE_TOLERANCE * gain


def _print_progress(iteration: int, seconds: float, errors: dict[str, float],
                    omega: float) -> None:
    print(f"pdhg {iteration:>8} it {seconds:7.1f} s  primal {errors['primal']:.1e}  "
          f"dual {errors['dual']:.1e}  gap {errors['gap']:.1e}  objective "
          f"{errors['objective']:.8g}  weight {omega:.2g}", file=sys.stderr, flush=True)


def run_pdhg(lp: LP, col_ref: FloatArray, settings: Settings, start: Start | None = None,
             device: str = "cpu") -> PdhgResult:
    """Solve ``lp`` in plan-relative units given by ``col_ref`` (see
    :mod:`counterplan.plan.scaling`), from ``start`` if given."""
    from threadpoolctl import threadpool_limits

    xp, sparse = array_module(device)
    began = time.perf_counter()
    s = scale(lp, col_ref, xp, sparse)
    n_rows, n_cols = lp.matrix.shape
    if start is not None:
        x0 = xp.asarray(np.asarray(start.x, dtype=float) / s.d_col)
        y0 = xp.asarray(-float(lp.sense) * np.asarray(start.y, dtype=float) / s.d_row)
        xp.clip(x0, s.lo, s.hi, out=x0)
    else:
        x0 = xp.clip(xp.zeros(n_cols), s.lo, s.hi)
        y0 = xp.zeros(n_rows)
    z = _Iterate(x0, y0, s.matrix @ x0, s.matrix_t @ y0)
    with threadpool_limits(limits=1):
        status, t, iterations, errors = solve_scaled(s, z, settings, xp,
                                                     warm=start is not None, began=began)
    x = _to_host(t.x, xp) * s.d_col
    y_min = _to_host(t.y, xp) * s.d_row
    rc = (_to_host(s.cost - t.aty, xp)) / s.d_col
    errors = {k: float(v) for k, v in errors.items()}
    objective = float(lp.cost @ x)
    return PdhgResult(status, x, -float(lp.sense) * y_min, -float(lp.sense) * rc, objective,
                      iterations, time.perf_counter() - began, errors, device)


def _to_host(a: Any, xp: Any) -> FloatArray:
    return np.asarray(a.get() if hasattr(a, "get") and xp is not np else a, dtype=float)
