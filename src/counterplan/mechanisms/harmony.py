"""Cockshott's harmony heuristic: plan for harmony by iteration, each
iteration O(nonzeros), no LP.

Cockshott and Cottrell (1993, pp. 94–99) and Cockshott's "Plan balancing
algorithms" (2018) and "New Harmony" (2020) raise the harmony
Σ_k w_k H(r_k) of the fulfilment ratios by repeatedly moving effort from
where it adds little harmony to where it adds much, within the resources.
This is our formulation of that idea, in two forms by the shape of the
economy (the published descriptions leave the details open):

- **input-output economies** (one technique per product, no joint
  production — every generated economy and Brazil): as in *Towards a New
  Socialism*, the embodied resources E (labour values for labour) are found
  once by iteration, and the heuristic moves the final deliveries f; the
  material balance holds by construction and the activities are x = N⁻¹f
  (one sparse iterative solve at the end).  The resource limits are E f ≤ R.
- **economies without intermediate products** (Kantorovich's machines, with
  a choice of technique): the heuristic moves the activities x directly; the
  net outputs are F x and the resource limits U x ≤ R.

In both, with z the moving quantities, M z ≤ R the limits and r = N z / g
the fulfilment of the targets, each iteration:

1. the marginal harmony of each target, w_k H'(r_k) / g_k, and of each
   variable, γ = Nᵀ(w H'(r) / g) (one sparse mat-vec);
2. the gain per share of the budgets, b_j = γ_j / c_j with c_j = Σ_r M_rj/R_r;
   variables above the budget-weighted mean b̄ grow, those below shrink:
   z_j ← z_j exp(η (b_j − b̄) / max|b − b̄|);
3. every variable is scaled to its scarcest resource,
   z_j ← z_j min_{r used by j} R_r / (M z)_r, so every limit holds; in the
   input-output form no delivery goes above r_max g (it would earn nothing),
   the budget it frees going to the others (with one limited resource the
   scale that fills the budget is found exactly, by Newton's method), and a
   delivery at the cap is valued at the slope just below it;
4. if harmony fell, the step is undone and η halved; else η grows by half, up
   to η_max = 256 (long runs of gains do reach it: large steps that push the
   weak variables to nothing pay; without a bound exp overflows past 709).

Economies with both a choice of technique and intermediate products are
refused with a clear error: neither form keeps their balances.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.calc.leontief import IOSystem, embodied, gross_output, io_system
from counterplan.errors import CounterplanError, NotInputOutput
from counterplan.mechanisms.blocks import blocks_of, resource_cost
from counterplan.mechanisms.result import MechanismResult, imbalance, trajectory
from counterplan.model import Economy

FloatArray = NDArray[np.float64]

#: the largest step η (step 4)
ETA_MAX = 256.0


@dataclass(frozen=True)
class HarmonyHeuristicOptions:
    """``iterations``: how many; ``step``: η, the largest change of a log
    quantity in one iteration at the start; ``record``: keep the trajectory."""

    iterations: int = 100
    step: float = 0.5
    record: bool = True
    #: ratios above it earn nothing more, as in the exact LP (HarmonyOptions.max_ratio)
    max_ratio: float = 3.0


@dataclass(frozen=True, eq=False)
class _Problem:
    """max Σ w H(N z / g) subject to M z ≤ R, z ≥ 0, for one period."""

    n: sp.csr_matrix  # targets × variables
    m: sp.csr_matrix  # resources × variables
    available: FloatArray
    g: FloatArray
    w: FloatArray
    max_ratio: float


def harmony_heuristic(economy: Economy,
                      options: HarmonyHeuristicOptions = HarmonyHeuristicOptions()
                      ) -> MechanismResult:
    """Cockshott's harmony heuristic, period by period (see the module docstring)."""
    start = time.perf_counter()
    blocks_of(economy, "harmony-heuristic")  # refuses stocks
    try:
        system: IOSystem | None = io_system(economy)
    except NotInputOutput:
        system = None
    x = np.zeros((economy.n_techniques, economy.n_periods))
    merged: dict[int, list[float]] = {}
    for t in range(economy.n_periods):
        problem = _io_problem(economy, system, t, options.max_ratio) if system is not None \
            else _activity_problem(economy, t, options.max_ratio)
        z, rows = _ascend(problem, options)
        x[:, t] = _activity(economy, system, t, z)
        for k, h in rows:
            merged.setdefault(k, []).append(h)
    rows_out = [(k, float(sum(h)), 0.0) for k, h in sorted(merged.items())]
    messages = 2 * len(economy.flows) + economy.n_techniques * economy.n_periods
    return MechanismResult(
        mechanism="harmony-heuristic", economy=economy, objective_kind="harmony",
        max_ratio=options.max_ratio,
        activity=x, rounds=options.iterations, messages=messages,
        seconds=time.perf_counter() - start, converged=imbalance(economy, x) < 1e-6,
        trajectory=trajectory(rows_out),
        info={"form": "input-output" if system is not None else "activities"})


def _targets(economy: Economy, t: int, rows: NDArray[np.int64]
             ) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """Positions (in ``rows``) of the period's positive targets, their amounts and weights."""
    e = economy.targets
    k = np.flatnonzero((e.period == t) & (e.amount > 0))
    position = np.searchsorted(rows, e.item[k])
    weight = e.weight[k] if e.weight is not None else np.ones(len(k))
    return position, e.amount[k], weight


def _io_problem(economy: Economy, system: IOSystem, t: int, max_ratio: float) -> _Problem:
    """Variables: final deliveries of the targeted products; limits E f ≤ R."""
    position, g, w = _targets(economy, t, system.products)
    outside = np.flatnonzero(np.asarray(system.requirements.sum(axis=1)).ravel() > 0)
    values, _ = embodied(system, outside)  # products × limited items
    e = sp.csr_matrix(values[position].T)
    available = economy.availability_array()[outside, t]
    eye = sp.identity(len(position), format="csr")
    return _Problem(n=eye, m=e, available=available, g=g, w=w, max_ratio=max_ratio)


def _activity_problem(economy: Economy, t: int, max_ratio: float) -> _Problem:
    """Variables: activities; limits U x ≤ R; refused when products are inputs."""
    blocks = blocks_of(economy, "harmony-heuristic")
    if blocks.inp.nnz:
        raise CounterplanError(
            f"{economy.name} has both a choice of techniques and intermediate products; "
            "the harmony heuristic keeps the balances only in input-output economies "
            "(one technique per product) or in economies whose techniques use only "
            "resources. Use the exact mechanism")
    position, g, w = _targets(economy, t, economy.products)
    return _Problem(n=blocks.out[position], m=blocks.use, available=blocks.available[:, t],
                    g=g, w=w, max_ratio=max_ratio)


def _activity(economy: Economy, system: IOSystem | None, t: int, z: FloatArray) -> FloatArray:
    if system is None:
        return z
    f = np.zeros(len(system.products))
    f[_targets(economy, t, system.products)[0]] = z
    made, _ = gross_output(system, f[:, None])
    x = np.zeros(economy.n_techniques)
    x[system.techniques] = np.maximum(made[:, 0], 0.0)
    return x


class _Scaler:
    """z_j ← z_j min_{r used by j} R_r / (M z)_r, in O(nonzeros of M); one
    dense dot product when there is one limited resource."""

    def __init__(self, m: sp.csr_matrix, available: FloatArray) -> None:
        self.m = m
        self.row = m.toarray().ravel() if m.shape[0] == 1 else None
        pattern = m.tocsc()
        pattern.eliminate_zeros()
        self.rows, self.indptr = pattern.indices, pattern.indptr
        self.available = available

    def __call__(self, z: FloatArray) -> FloatArray:
        if self.row is not None:
            used = float(self.row @ z)
            return z * (float(self.available[0]) / used) if used > 0 else z
        used_r = self.m @ z
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(used_r > 0, self.available / np.where(used_r > 0, used_r, 1),
                            np.inf)
        return z * np.minimum.reduceat(room[self.rows], self.indptr[:-1])


class _Targets:
    """r = N z / g and Nᵀ y, skipping the products when N is the identity
    (the input-output form)."""

    def __init__(self, n: sp.csr_matrix, g: FloatArray) -> None:
        square = n.shape[0] == n.shape[1] and n.nnz == n.shape[0]
        self.identity = bool(square and (n.diagonal() == 1).all())
        self.n, self.n_t, self.g = n, n.T.tocsr(), g

    def ratios(self, z: FloatArray) -> FloatArray:
        return (z if self.identity else self.n @ z) / self.g

    def back(self, y: FloatArray) -> FloatArray:
        return y if self.identity else self.n_t @ y


def _ascend(problem: _Problem, options: HarmonyHeuristicOptions
            ) -> tuple[FloatArray, list[tuple[int, float]]]:
    """Multiplicative ascent of harmony within the limits (steps 1–4)."""
    cost = resource_cost_of(problem)
    runs = np.isfinite(cost)
    targets = _Targets(problem.n[:, runs], problem.g)
    c, w_over_g = cost[runs], problem.w / problem.g
    fit = _Fit(problem, runs, targets.identity)
    z = fit(1.0 / (c * max(len(c), 1)))
    r = targets.ratios(z)
    h, eta = _total(problem, r), options.step
    history = []
    for k in range(options.iterations):
        gain = targets.back(w_over_g * _slope(r, problem.max_ratio))  # γ; b = γ / c
        b = gain / c
        b -= float(z @ gain) / max(float(z @ c), 1e-300)  # the budget-weighted mean
        spread = max(float(b.max()), -float(b.min())) or 1.0
        b *= eta / spread
        trial = fit(z * np.exp(b, out=b))
        r_trial = targets.ratios(trial)
        h_trial = _total(problem, r_trial)
        if h_trial >= h:
            z, r, h, eta = trial, r_trial, h_trial, min(eta * 1.5, ETA_MAX)
        else:
            eta /= 2
        if options.record:
            history.append((k + 1, h))
    full = np.zeros(len(cost))
    full[runs] = z
    return full, history


class _Fit:
    """Step 3, and in the input-output form no delivery above r_max g (it
    would earn nothing).  With one limited resource the scale s is exact:
    Σ_j c_j min(s z_j, cap_j) = Σ_j u_j min(s, q_j) = R (u = c z, q = cap / z),
    piecewise linear and concave in s, solved by Newton's method from s = 1:
    the ascent hands over a z that spent the budget before its last step, so
    few breakpoints lie between 1 and the answer (measured at 10⁴ products: 5
    to 6 steps, against the 8-step limit reached from below at R / Σ u).  A
    tangent of a concave function lies above it, so one step from above lands
    below, and from below the steps rise to the answer without passing it."""

    NEWTON = 30

    def __init__(self, problem: _Problem, runs: NDArray[np.bool_], identity: bool) -> None:
        self.scale = _Scaler(problem.m[:, runs], problem.available)
        self.cap = problem.max_ratio * problem.g[runs] if identity and \
            np.isfinite(problem.max_ratio) else None
        row = self.scale.row
        self.cap_cost = float(row @ self.cap) if row is not None and self.cap is not None \
            else np.inf

    def __call__(self, z: FloatArray) -> FloatArray:
        if self.cap is None:
            return self.scale(z)
        row = self.scale.row
        if row is None:  # several resources: scale, cut, scale again
            for _ in range(4):
                z = np.minimum(self.scale(np.minimum(z, self.cap)), self.cap)
            return z
        budget = float(self.scale.available[0])
        if self.cap_cost <= budget:
            return self.cap.copy()
        u = row * z
        with np.errstate(divide="ignore", over="ignore"):  # z_j = 0: q_j = inf
            q = self.cap / z
        low, below = np.empty_like(q), np.empty(len(q), dtype=bool)
        s = 1.0
        for _ in range(self.NEWTON):
            gap = budget - float(u @ np.minimum(q, s, out=low))
            if 0.0 <= gap <= 1e-12 * budget:
                break
            slope = float(u @ np.greater(q, s, out=below))  # (sum(where=) is 5× slower)
            if slope <= 0:
                break
            s += gap / slope
        return np.minimum(s * z, self.cap)


def resource_cost_of(problem: _Problem) -> FloatArray:
    """c_j = Σ_r M_rj / R_r (see :func:`counterplan.mechanisms.blocks.resource_cost`)."""
    from counterplan.mechanisms.blocks import Blocks

    empty = sp.csr_matrix((0, problem.m.shape[1]))
    return resource_cost(Blocks(out=empty, inp=empty, use=problem.m,
                                available=problem.available[:, None],
                                targets=np.zeros((0, 1)), weights=np.zeros((0, 1))), 0)


def _total(problem: _Problem, r: FloatArray) -> float:
    """Σ w H(r), ratios cut to [0, r_max]: H = ln r above 1, s − s²/2 below
    (s = r − 1), written so that each term is one pass over the targets."""
    r = np.clip(r, 0.0, problem.max_ratio)
    s = np.minimum(r - 1.0, 0.0)
    return float(problem.w @ (np.log(np.maximum(r, 1.0)) + s - 0.5 * s * s))


def _slope(r: FloatArray, max_ratio: float) -> FloatArray:
    """H'(r): 2 − r below 1 (s − s²/2 with s = r − 1), 1/r above; at and above
    r_max the slope from the left, 1/r_max (deliveries are held at the cap
    where they can be, so the slope is the value of not falling below it).
    One expression: 2 − r ≤ 1/r for every r > 0, with equality at 1."""
    return np.maximum(2.0 - r, 1.0 / np.clip(r, 1.0, max_ratio))


def io_harmony_optimum(economy: Economy, max_ratio: float = 3.0) -> FloatArray:
    """The exact harmony optimum (activities, techniques × periods) of an
    input-output economy with one limited resource, without an LP: with
    c_k = e_k g_k the resource embodied in target k, the optimum has
    w_k H'(r_k) = μ c_k wherever 0 < r_k < r_max, so r_k(μ) is H'⁻¹ in closed
    form and μ is found by bisection on Σ c_k r_k(μ) = R.  An independent
    check of the LP's piecewise-linear harmony, and the reference at sizes the
    LP does not reach."""
    system = io_system(economy)
    x = np.zeros((economy.n_techniques, economy.n_periods))
    for t in range(economy.n_periods):
        problem = _io_problem(economy, system, t, max_ratio)
        if problem.m.shape[0] != 1:
            raise CounterplanError("the closed-form harmony optimum needs exactly one limited "
                                   f"resource; {economy.name} has {problem.m.shape[0]}")
        c = problem.m.toarray().ravel() * problem.g / problem.w
        budget = float(problem.available[0])
        if float(c @ np.full(len(c), max_ratio)) <= budget:
            ratio = np.full(len(c), max_ratio)
        else:
            low, high = 0.0, 2.0 / float(c[c > 0].min())
            for _ in range(200):
                mu = (low + high) / 2
                low, high = (mu, high) if c @ _inverse_slope(mu * c, max_ratio) > budget \
                    else (low, mu)
            ratio = _inverse_slope(high * c, max_ratio)
        x[:, t] = _activity(economy, system, t, ratio * problem.g)
    return x


def _inverse_slope(y: FloatArray, max_ratio: float) -> FloatArray:
    """r with H'(r) = y on [0, r_max]: 2 − y for y in [1, 2], 1/y for y in
    [1/r_max, 1], the ends beyond."""
    with np.errstate(divide="ignore"):
        above = np.where(y > 0, 1.0 / np.where(y > 0, y, 1.0), np.inf)
    return np.clip(np.where(y >= 1, 2.0 - y, above), 0.0, max_ratio)
