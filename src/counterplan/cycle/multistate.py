"""The Harrison–Stevens multi-state model (Cybersyn's Cyberstride), written
from Harrison and Stevens (1971, 1976) and West and Harrison (1997), ch. 12.

Each index follows a local linear trend dynamic linear model

    y_t = μ_t + ν_t                     ν_t ~ N(0, k_ν V)
    μ_t = μ_{t−1} + β_{t−1} + ω_t       ω_t ~ N(0, k_μ V)
    β_t = β_{t−1} + ζ_t                 ζ_t ~ N(0, k_β V)

under one of four states, each a setting of (k_ν, k_μ, k_β) with a prior
probability π: *steady* (small k_μ, k_β), *step* (large k_μ: the level
jumps), *slope* (large k_β: the trend changes) and *outlier* (large k_ν: one
report is wrong or transient).  The observation variance V is unknown and
learned (West and Harrison §4.3: S_t, n_t degrees of freedom, Student-t
forecasts).

After each report every posterior component of the last report (one per
state j) is carried forward under every state i: 4 × 4 Kalman updates, each
weighted by p_j π_i times its forecast density.  Their weights give the
posterior probability of each state now, P(i at t | y_1..t) = Σ_j p_ji, and
one report back, P(j at t−1 | y_1..t) = Σ_i p_ji, which is what tells a step
(the next report stays at the new level) from an outlier (it returns).  The
16 components are then collapsed to 4 by matching means and variances
(West and Harrison §12.3.4).  Everything is vectorised over many indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from counterplan.errors import CounterplanError

FloatArray = NDArray[np.float64]

#: The states, in the order of every array's state axis.
STATES = ("steady", "step", "slope", "outlier")
CHANGES = STATES[1:]
_G = np.array([[1.0, 1.0], [0.0, 1.0]])


@dataclass(frozen=True)
class MultiStateOptions:
    """Priors and variance multipliers of the four states (documented in
    docs/cycle.md).  Variances are multiples of the observation variance V."""

    #: prior probability of steady, step, slope change and outlier at each report
    #: (Harrison and Stevens' later textbook example is 0.85, 0.05, 0.03, 0.07:
    #: measured worse, see docs/cycle.md)
    priors: tuple[float, float, float, float] = (0.97, 0.01, 0.01, 0.01)
    #: (k_ν, k_μ, k_β) of each state
    steady: tuple[float, float, float] = (1.0, 0.0, 0.0)
    step: tuple[float, float, float] = (1.0, 4.0, 0.0)
    slope: tuple[float, float, float] = (1.0, 0.0, 0.01)
    outlier: tuple[float, float, float] = (25.0, 0.0, 0.0)
    #: prior guess of the noise standard deviation of an index, and how many
    #: reports' worth of weight that guess carries
    noise: float = 0.05
    noise_weight: float = 2.0
    #: prior level (an index on plan is 1) and its standard deviation; prior
    #: slope standard deviation per report
    level: float = 1.0
    level_sd: float = 1.0
    slope_sd: float = 0.005
    #: score reports with Student-t forecasts (V unknown) or normal ones (V = S)
    student: bool = True
    #: how many later reports revise a report's state probabilities before
    #: the mixture is collapsed (1: Harrison and Stevens' one report back)
    window: int = 3

    def __post_init__(self) -> None:
        if self.window not in (1, 2, 3):
            raise CounterplanError(f"window {self.window}: give 1, 2 or 3 reports")

    def multipliers(self) -> FloatArray:
        """(state, [k_ν, k_μ, k_β])."""
        return np.array([self.steady, self.step, self.slope, self.outlier], dtype=float)

    def prior(self) -> FloatArray:
        p = np.asarray(self.priors, dtype=float)
        return p / p.sum()


@dataclass(frozen=True, eq=False)
class Filtered:
    """The filter's output for n indices over T reports (NaN where an index
    has no report).

    ``level``, ``slope`` (n × T): posterior means, mixed over states;
    ``level_sd`` the level's uncertainty; ``lagged`` (n × T × (w+1) × 4):
    P(state at the index's L-th previous report | y_1..t), L = 0 … w (the
    window); ``probability`` (n × T × 4): P(state at t | y_1..t), the view at
    the report itself; ``revised`` (n × T × 4): P(state at t | the reports up
    to w later), the most informed view (as late as there are reports);
    ``noise`` (n × T): the learned noise standard deviation; ``error`` (n × T):
    the standardised one-step forecast error; ``mean`` (n × T × 2) and ``cov``
    (n × T × 2 × 2): the mixture's posterior moments of (level, slope).
    """

    level: FloatArray
    slope: FloatArray
    level_sd: FloatArray
    lagged: FloatArray
    probability: FloatArray
    revised: FloatArray
    noise: FloatArray
    error: FloatArray
    mean: FloatArray
    cov: FloatArray


@dataclass(frozen=True, eq=False)
class Components:
    """The collapsed posterior: one component per history of the states of
    the last w reports (4^w of them, oldest state first): weights p (n × H),
    means m (n × H × 2), covariances C (n × H × 2 × 2); the noise estimate S,
    its degrees of freedom and the number of reports filtered (n each)."""

    p: FloatArray
    m: FloatArray
    C: FloatArray
    S: FloatArray
    dof: FloatArray
    reports: FloatArray

    @staticmethod
    def start(n: int, o: MultiStateOptions) -> Components:
        prior = o.prior()
        p = np.ones(1)
        for _ in range(o.window):
            p = np.outer(p, prior).reshape(-1)
        H = len(p)
        m = np.zeros((n, H, 2))
        m[..., 0] = o.level
        C = np.zeros((n, H, 2, 2))
        C[..., 0, 0] = o.level_sd**2
        C[..., 1, 1] = o.slope_sd**2
        return Components(np.tile(p, (n, 1)), m, C, np.full(n, o.noise**2),
                          np.full(n, o.noise_weight), np.zeros(n))

    def mixed(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Mean (n × 2), covariance (n × 2 × 2) and noise variance (n) of the
        mixture, collapsed to one component."""
        w = self.p
        mean = np.einsum("nh,nhk->nk", w, self.m)
        d = self.m - mean[:, None, :]
        cov = np.einsum("nh,nhkl->nkl", w, self.C + d[..., :, None] * d[..., None, :])
        return mean, cov, self.S.copy()


def _t_density(e: FloatArray, q: FloatArray, dof: FloatArray) -> FloatArray:
    """Student-t density of the forecast error e with scale² q and ``dof``."""
    v = dof
    z2 = e * e / q
    log = (gammaln((v + 1) / 2) - gammaln(v / 2) - 0.5 * np.log(v * np.pi * q)
           - (v + 1) / 2 * np.log1p(z2 / v))
    return np.exp(log)


def step(c: Components, y: FloatArray, o: MultiStateOptions
         ) -> tuple[Components, FloatArray, FloatArray]:
    """One report y (n; NaN: no report, nothing changes).  Returns the new
    components, P(state at the L-th previous report | y_1..t) for L = 0 … w
    (n × (w+1) × 4), and the standardised forecast error of the mixture (n)."""
    k = o.multipliers()
    n, H = c.p.shape
    seen = np.isfinite(y)
    yv = np.where(seen, y, 0.0)
    S = c.S[:, None, None]
    # carry each history h forward under each state i: (n, h, i, ...)
    a = np.einsum("kl,nhl->nhk", _G, c.m)[:, :, None, :].repeat(4, axis=2)
    R = np.einsum("kl,nhlm,pm->nhkp", _G, c.C, _G)[:, :, None].repeat(4, axis=2)
    R[..., 0, 0] += k[None, None, :, 1] * S
    R[..., 1, 1] += k[None, None, :, 2] * S
    Q = R[..., 0, 0] + k[None, None, :, 0] * S
    e = yv[:, None, None] - a[..., 0]
    density = (_t_density(e, Q, c.dof[:, None, None]) if o.student
               else np.exp(-0.5 * e * e / Q) / np.sqrt(2 * np.pi * Q))
    joint = c.p[:, :, None] * o.prior()[None, None, :] * density
    total = joint.sum(axis=(1, 2), keepdims=True)
    w = joint / np.where(total > 0, total, 1.0)
    # V is learned from the reports the model judges steady: the conjugate
    # update (West and Harrison §4.3) weighted by P(steady at t−1 and at t),
    # each squared standardised error capped at 9, so that an outlier or a
    # step does not pass for noise; the first two reports only place the
    # level and slope (their errors say nothing of V under the vague prior).
    steady_before = np.arange(H) % 4 == 0  # histories whose newest state is steady
    w_ss = w[:, steady_before, 0]
    r = np.minimum(e[:, steady_before, 0] ** 2 / Q[:, steady_before, 0], 9.0)
    weight = np.where(seen & (c.reports >= 2), w_ss.sum(axis=1), 0.0)
    mean_r = (w_ss * r).sum(axis=1) / np.maximum(w_ss.sum(axis=1), 1e-300)
    dof = c.dof + weight
    S_new = np.maximum(c.S * (1.0 + weight * (mean_r - 1.0) / np.maximum(dof, 1e-9)), 1e-12)
    # the Kalman update of every (history, state), scaled to the new S
    A = R[..., :, 0] / Q[..., None]
    m_new = a + A * e[..., None]
    C_new = (S_new / c.S)[:, None, None, None, None] * (
        R - A[..., :, None] * A[..., None, :] * Q[..., None, None])
    # collapse over the oldest state: (n, oldest, the rest of the history and i)
    wf = w.reshape(n, 4, H)
    p_new = wf.sum(axis=1)
    share = wf / np.where(p_new > 0, p_new, 1.0)[:, None, :]
    mf = m_new.reshape(n, 4, H, 2)
    m_c = np.einsum("nog,nogk->ngk", share, mf)
    d = mf - m_c[:, None]
    C_c = np.einsum("nog,nogkl->ngkl", share,
                    C_new.reshape(n, 4, H, 2, 2) + d[..., :, None] * d[..., None, :])
    lagged = _marginals(w.reshape(n, -1), o.window)
    f_mix = np.einsum("nh,nh->n", c.p, a[:, :, 0, 0])
    q_mix = np.einsum("nh,nh->n", c.p, Q[:, :, 0])
    z = (yv - f_mix) / np.sqrt(q_mix)
    keep = ~seen
    new = Components(
        p=np.where(keep[:, None], c.p, p_new),
        m=np.where(keep[:, None, None], c.m, m_c),
        C=np.where(keep[:, None, None, None], c.C, C_c),
        S=np.where(keep, c.S, S_new),
        dof=np.where(keep, c.dof, dof),
        reports=c.reports + seen,
    )
    lagged[~seen] = np.nan
    return new, lagged, np.where(seen, z, np.nan)


def _marginals(w: FloatArray, window: int) -> FloatArray:
    """P(state at lag L) for L = 0 … window from the weights of the histories
    (oldest state first, newest last): n × (window+1) × 4."""
    n = len(w)
    full = w.reshape((n,) + (4,) * (window + 1))
    out = np.empty((n, window + 1, 4))
    for lag in range(window + 1):
        axis = window + 1 - lag  # the newest state is the last axis
        others = tuple(a for a in range(1, window + 2) if a != axis)
        out[:, lag] = full.sum(axis=others) if others else full
    return out


def run(y: FloatArray, options: MultiStateOptions = MultiStateOptions()) -> Filtered:
    """Filter n series of T reports each (an n × T array; NaN: no report)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, T = y.shape
    W = options.window
    c = Components.start(n, options)
    level, slope, level_sd, noise, error = (np.full((n, T), np.nan) for _ in range(5))
    lagged = np.full((n, T, W + 1, 4), np.nan)
    revised = np.full((n, T, 4), np.nan)
    means = np.full((n, T, 2), np.nan)
    covs = np.full((n, T, 2, 2), np.nan)
    previous = np.full((n, W + 1), -1)  # positions of the last W+1 reports, newest first
    for t in range(T):
        c, lag, z = step(c, y[:, t], options)
        seen = np.isfinite(y[:, t])
        previous[seen] = np.concatenate([np.full((seen.sum(), 1), t), previous[seen, :-1]],
                                        axis=1)
        lagged[:, t] = lag
        for L in range(W + 1):
            rows = np.flatnonzero(seen & (previous[:, L] >= 0))
            revised[rows, previous[rows, L]] = lag[rows, L]
        mean, cov, v = c.mixed()
        level[seen, t] = mean[seen, 0]
        slope[seen, t] = mean[seen, 1]
        level_sd[seen, t] = np.sqrt(cov[seen, 0, 0])
        noise[seen, t] = np.sqrt(v[seen])
        means[seen, t] = mean[seen]
        covs[seen, t] = cov[seen]
        error[:, t] = z
    return Filtered(level, slope, level_sd, lagged, lagged[:, :, 0], revised, noise, error,
                    means, covs)


def forecast_sum(mean: FloatArray, cov: FloatArray, noise: FloatArray, weights: FloatArray,
                 o: MultiStateOptions) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of Σ_h w_h y_{t+h}, h = 1..H, for n indices
    (weights n × H; H may be 0) from the posterior mean (n × 2), covariance
    (n × 2 × 2) and noise standard deviation (n), under the steady state.

    With G^h = [[1, h], [0, 1]]: y_{t+h} = μ_t + h β_t + Σ_{k≤h} (ω_k + (h−k) ζ_k)
    + ν_{t+h}, so the sum's variance is aᵀCa + Σ_k (c_k² k_μ + d_k² k_β) V + Σ_h w_h² V
    with a = (Σ w_h, Σ h w_h), c_k = Σ_{h≥k} w_h, d_k = Σ_{h≥k} (h−k) w_h."""
    v = noise**2
    w = np.asarray(weights, dtype=float)
    H = w.shape[1]
    h = np.arange(1, H + 1, dtype=float)
    a = np.stack([w.sum(axis=1), w @ h], axis=1)
    total = a[:, 0] * mean[:, 0] + a[:, 1] * mean[:, 1]
    tail = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # c_k
    lag = (h[None, :, None] - h[None, None, :]).clip(min=0)  # (1, h, k): h − k where h ≥ k
    d = np.einsum("nh,ohk->nk", w, lag)
    k_nu, k_mu, k_beta = o.multipliers()[0]
    var = (np.einsum("nk,nkl,nl->n", a, cov, a)
           + v * (k_mu * (tail**2).sum(axis=1) + k_beta * (d**2).sum(axis=1)
                  + k_nu * (w**2).sum(axis=1)))
    return total, np.sqrt(var)


__all__ = ["CHANGES", "STATES", "Components", "Filtered", "MultiStateOptions", "forecast_sum",
           "run", "step"]
