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
    priors: tuple[float, float, float, float] = (0.85, 0.05, 0.03, 0.07)
    #: (k_ν, k_μ, k_β) of each state
    steady: tuple[float, float, float] = (1.0, 0.01, 0.0001)
    step: tuple[float, float, float] = (1.0, 16.0, 0.0001)
    slope: tuple[float, float, float] = (1.0, 0.01, 0.25)
    outlier: tuple[float, float, float] = (36.0, 0.01, 0.0001)
    #: prior guess of the noise standard deviation of an index, and how many
    #: reports' worth of weight that guess carries
    noise: float = 0.05
    noise_weight: float = 2.0
    #: prior level (an index on plan is 1) and its standard deviation; prior
    #: slope standard deviation per report
    level: float = 1.0
    level_sd: float = 1.0
    slope_sd: float = 0.1

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
    ``level_sd`` their uncertainty; ``probability`` (n × T × 4): P(state at t |
    y_1..t); ``back`` (n × T × 4): P(state at t | y_1..t+1), the same
    probabilities one report later (equal to ``probability`` at the last
    report); ``noise`` (n × T): the learned noise standard deviation;
    ``error`` (n × T): the standardised one-step forecast error; ``mean``
    (n × T × 2) and ``cov`` (n × T × 2 × 2): the mixture's posterior moments
    of (level, slope), for forecasting.
    """

    level: FloatArray
    slope: FloatArray
    level_sd: FloatArray
    probability: FloatArray
    back: FloatArray
    noise: FloatArray
    error: FloatArray
    mean: FloatArray
    cov: FloatArray


@dataclass(frozen=True, eq=False)
class Components:
    """Four collapsed posterior components per index: weights p (n × 4), means
    m (n × 4 × 2), covariances C (n × 4 × 2 × 2), noise estimates S (n × 4)
    degrees of freedom (n) and the number of reports filtered (n)."""

    p: FloatArray
    m: FloatArray
    C: FloatArray
    S: FloatArray
    dof: FloatArray
    reports: FloatArray

    @staticmethod
    def start(n: int, o: MultiStateOptions) -> Components:
        p = np.tile(o.prior(), (n, 1))
        m = np.zeros((n, 4, 2))
        m[..., 0] = o.level
        C = np.zeros((n, 4, 2, 2))
        C[..., 0, 0] = o.level_sd**2
        C[..., 1, 1] = o.slope_sd**2
        S = np.full((n, 4), o.noise**2)
        return Components(p, m, C, S, np.full(n, o.noise_weight), np.zeros(n))

    def mixed(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Mean (n × 2), covariance (n × 2 × 2) and noise variance (n) of the
        mixture, collapsed to one component."""
        w = self.p
        mean = np.einsum("ns,nsk->nk", w, self.m)
        d = self.m - mean[:, None, :]
        cov = np.einsum("ns,nskl->nkl", w, self.C + d[..., :, None] * d[..., None, :])
        noise = 1.0 / np.einsum("ns,ns->n", w, 1.0 / self.S)
        return mean, cov, noise


def _t_density(e: FloatArray, q: FloatArray, dof: FloatArray) -> FloatArray:
    """Student-t density of the forecast error e with scale² q and ``dof``."""
    v = dof
    z2 = e * e / q
    log = (gammaln((v + 1) / 2) - gammaln(v / 2) - 0.5 * np.log(v * np.pi * q)
           - (v + 1) / 2 * np.log1p(z2 / v))
    return np.exp(log)


def step(c: Components, y: FloatArray, o: MultiStateOptions
         ) -> tuple[Components, FloatArray, FloatArray, FloatArray]:
    """One report y (n; NaN: no report, nothing changes).  Returns the new
    components, P(state now) (n × 4), P(state one report back) (n × 4), and
    the standardised forecast error of the mixture (n)."""
    k = o.multipliers()
    seen = np.isfinite(y)
    yv = np.where(seen, y, 0.0)
    # carry each component j forward under each state i: (n, j, i, ...)
    a = np.einsum("kl,njl->njk", _G, c.m)[:, :, None, :].repeat(4, axis=2)
    R = np.einsum("kl,njlm,pm->njkp", _G, c.C, _G)[:, :, None].repeat(4, axis=2)
    S = c.S[:, :, None]
    R[..., 0, 0] += k[None, None, :, 1] * S
    R[..., 1, 1] += k[None, None, :, 2] * S
    f = a[..., 0]
    Q = R[..., 0, 0] + k[None, None, :, 0] * S
    e = yv[:, None, None] - f
    dof = c.dof[:, None, None]
    density = _t_density(e, Q, dof)
    joint = c.p[:, :, None] * o.prior()[None, None, :] * density
    total = joint.sum(axis=(1, 2), keepdims=True)
    total = np.where(total > 0, total, 1.0)
    pji = joint / total
    # Kalman update of each of the 16 components.  V is learned from the
    # reports the model judges steady: the conjugate update (West and Harrison
    # §4.3) weighted by the posterior probability of steady -> steady, so
    # that an outlier or a step does not pass for noise; the first two
    # reports only place the level and slope (their errors hold no
    # information on V under the vague prior).
    A = R[..., :, 0] / Q[..., None]
    w_ss = np.where(c.reports >= 2, pji[:, 0, 0], 0.0)
    r_ss = np.minimum(e[:, 0, 0] ** 2 / Q[:, 0, 0], 9.0)
    dof_new = c.dof + np.where(seen, w_ss, 0.0)
    S_now = c.S[:, 0] * (1.0 + w_ss * (r_ss - 1.0) / np.maximum(dof_new, 1e-9))
    S_now = np.where(seen, np.maximum(S_now, 1e-12), c.S[:, 0])
    S_new = np.broadcast_to(S_now[:, None, None], pji.shape).copy()
    m_new = a + A * e[..., None]
    C_new = (S_new / S)[..., None, None] * (R - A[..., :, None] * A[..., None, :] * Q[..., None,
                                                                                      None])
    # collapse over j for every state i
    p_i = pji.sum(axis=1)
    safe = np.where(p_i > 0, p_i, 1.0)
    w = pji / safe[:, None, :]
    S_i = 1.0 / np.einsum("nji,nji->ni", w, 1.0 / S_new)
    m_i = np.einsum("nji,njik->nik", w, m_new)
    d = m_new - m_i[:, None]
    scale = S_i[:, None, :] / S_new
    C_i = np.einsum("nji,njikl->nikl", w * scale,
                    C_new + d[..., :, None] * d[..., None, :])
    back = pji.sum(axis=2)
    # the mixture's standardised one-step error (for the z-score view)
    f_mix = np.einsum("nj,nj->n", c.p, f[:, :, 0])
    q_mix = np.einsum("nj,nj->n", c.p, Q[:, :, 0])
    z = (yv - f_mix) / np.sqrt(q_mix)
    keep = ~seen
    new = Components(
        p=np.where(keep[:, None], c.p, p_i),
        m=np.where(keep[:, None, None], c.m, m_i),
        C=np.where(keep[:, None, None, None], c.C, C_i),
        S=np.where(keep[:, None], c.S, S_i),
        dof=np.where(keep, c.dof, dof_new),
        reports=c.reports + seen,
    )
    nan4 = np.full((len(y), 4), np.nan)
    return (new, np.where(seen[:, None], p_i, nan4), np.where(seen[:, None], back, nan4),
            np.where(seen, z, np.nan))


def run(y: FloatArray, options: MultiStateOptions = MultiStateOptions()) -> Filtered:
    """Filter n series of T reports each (an n × T array; NaN: no report)."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, T = y.shape
    c = Components.start(n, options)
    level, slope, level_sd, noise, error = (np.full((n, T), np.nan) for _ in range(5))
    prob = np.full((n, T, 4), np.nan)
    back = np.full((n, T, 4), np.nan)
    means = np.full((n, T, 2), np.nan)
    covs = np.full((n, T, 2, 2), np.nan)
    last = np.full(n, -1)
    for t in range(T):
        c, p_now, p_back, z = step(c, y[:, t], options)
        seen = np.isfinite(y[:, t])
        prob[:, t] = p_now
        # the probabilities of each index's previous report, revised by this one
        rows = np.flatnonzero(seen & (last >= 0))
        back[rows, last[rows]] = p_back[rows]
        mean, cov, v = c.mixed()
        level[seen, t] = mean[seen, 0]
        slope[seen, t] = mean[seen, 1]
        level_sd[seen, t] = np.sqrt(cov[seen, 0, 0])
        noise[seen, t] = np.sqrt(v[seen])
        means[seen, t] = mean[seen]
        covs[seen, t] = cov[seen]
        error[:, t] = z
        last = np.where(seen, t, last)
    rows = np.flatnonzero(last >= 0)
    back[rows, last[rows]] = prob[rows, last[rows]]
    return Filtered(level, slope, level_sd, prob, back, noise, error, means, covs)


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


__all__ = ["CHANGES", "STATES", "Filtered", "MultiStateOptions", "forecast_sum", "run"]
