"""The Harrison–Stevens multi-state model (Cybersyn's Cyberstride), written
from Harrison and Stevens (1971, 1976) and West and Harrison (1997), ch. 12,
with the posterior over the time of the last change kept for a window of
reports (a run-length posterior, as in Adams and MacKay 2007).

Each index follows a local linear trend dynamic linear model

    y_t = μ_t + ν_t                     ν_t ~ N(0, k_ν V)
    μ_t = μ_{t−1} + β_{t−1} + ω_t       ω_t ~ N(0, k_μ V)
    β_t = β_{t−1} + ζ_t                 ζ_t ~ N(0, k_β V)

under one of four states at each report, each a setting of (k_ν, k_μ, k_β)
with a prior probability π: *steady* (k_μ = k_β = 0), *step* (large k_μ: the
level jumps), *slope* (large k_β: the trend changes) and *outlier* (large
k_ν: one report is wrong or transient).  The observation variance V is
unknown and learned (West and Harrison §4.3: S_t, n_t degrees of freedom,
Student-t forecasts).

The posterior is a mixture over hypotheses about the last ``window`` reports
(West and Harrison's class II model with its histories restricted to at most
one change in the window): *no change in the window*, and *a change of kind
k at the L-th report back, steady since*, L = 0 … window − 1.  At each
report every hypothesis moves on under the steady state with probability
π_steady; the new hypotheses "a change of kind k now" (probability π_k)
start from the whole mixture, collapsed to one component by matching means
and variances (West and Harrison §12.3.4).  Each hypothesis has its own
Kalman filter; V is shared and learned robustly.  A hypothesis leaves the
window after ``window`` reports and is merged into *no change in the
window*: the most probable of the leaving components is kept, with their
summed weight (collapsing by selection).  Merging by moments instead lets
the spread of the many improbable changes seep into the steady state at
every report, which then follows a step part of the way (measured with a
window of 8: 32 % of the 2σ steps missed against 8 %; docs/cycle.md).

So the steady hypothesis never half-follows a step while the step is in the
window: the evidence for "a step at report τ" builds up over the reports
after τ, as in a CUSUM, and P(a change within the window | y_1..t), the sum
over the change's time, is the alarm.  Everything is vectorised over many
indices.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import erfc, gammaln

from counterplan.errors import CounterplanError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int_]
BoolArray = NDArray[np.bool_]

#: The states, in the order of every array's state axis.
STATES = ("steady", "step", "slope", "outlier")
CHANGES = STATES[1:]
#: reports that only place the level before V is learned (the slope's prior
#: is tight)
_PLACING = 1
#: the cap on a squared standardised error in learning V (3 standard
#: deviations), and E[min(z², cap)] for a standard normal z, which the capped
#: mean is divided by
_CAP = 9.0
_CAPPED_MEAN = float(1.0 - (1.0 - _CAP) * erfc(np.sqrt(_CAP / 2.0))
                     - np.sqrt(2.0 * _CAP / np.pi) * np.exp(-_CAP / 2.0))


@dataclass(frozen=True)
class MultiStateOptions:
    """Priors and variance multipliers of the four states (documented in
    docs/cycle.md).  Variances are multiples of the observation variance V."""

    #: prior probability of steady, step, slope change and outlier at each report
    #: (Harrison and Stevens' later textbook example, 0.85, 0.05, 0.03, 0.07,
    #: would put P(a change within 24 reports) near 0.98 before any report)
    priors: tuple[float, float, float, float] = (0.9977, 0.001, 0.0006, 0.0007)
    #: (k_ν, k_μ, k_β) of each state
    steady: tuple[float, float, float] = (1.0, 0.0, 0.0)
    step: tuple[float, float, float] = (1.0, 4.0, 0.0)
    slope: tuple[float, float, float] = (1.0, 0.0, 0.04)
    outlier: tuple[float, float, float] = (25.0, 0.0, 0.0)
    #: prior guess of the noise standard deviation of an index, and how many
    #: reports' worth of weight that guess carries
    noise: float = 0.05
    noise_weight: float = 2.0
    #: prior level (an index on plan is 1) and its standard deviation; prior
    #: slope standard deviation per report
    level: float = 1.0
    level_sd: float = 1.0
    slope_sd: float = 0.0005
    #: score reports with Student-t forecasts (V unknown) or normal ones (V = S)
    student: bool = True
    #: how many reports a change stays in the posterior (its time and kind
    #: revised by the later reports) before it is merged into the steady state
    window: int = 24

    def __post_init__(self) -> None:
        if not 1 <= self.window <= 48:
            raise CounterplanError(f"window {self.window}: give 1 to 48 reports")

    def multipliers(self) -> FloatArray:
        """(state, [k_ν, k_μ, k_β])."""
        return np.array([self.steady, self.step, self.slope, self.outlier], dtype=float)

    def prior(self) -> FloatArray:
        p = np.asarray(self.priors, dtype=float)
        return p / p.sum()


@dataclass(frozen=True, eq=False)
class Filtered:
    """The filter's output for n indices over T reports (NaN where an index
    has no report); w is the window.

    ``level``, ``slope`` (n × T): posterior means, mixed over hypotheses;
    ``level_sd`` the level's uncertainty; ``lagged`` (n × T × w × 4):
    P(state at the index's L-th previous report | y_1..t), L = 0 … w − 1;
    ``probability`` (n × T × 4): P(state at t | y_1..t), the view at the
    report itself; ``revised`` (n × T × 4): P(state at t | the reports up to
    w − 1 later), the most informed view (as late as there are reports);
    ``change`` (n × T × 3): P(a step, slope change or outlier at one of the
    last w reports | y_1..t), the sum over the change's time; ``noise``
    (n × T): the learned noise standard deviation; ``error`` (n × T): the
    standardised one-step forecast error; ``mean`` (n × T × 2) and ``cov``
    (n × T × 2 × 2): the mixture's posterior moments of (level, slope).
    """

    level: FloatArray
    slope: FloatArray
    level_sd: FloatArray
    lagged: FloatArray
    probability: FloatArray
    revised: FloatArray
    change: FloatArray
    noise: FloatArray
    error: FloatArray
    mean: FloatArray
    cov: FloatArray


@dataclass(frozen=True, eq=False)
class Components:
    """The posterior: one component per hypothesis, *no change in the
    window* first, then *a change of kind k at the L-th report back* at
    1 + 3L + k − 1: weights p (n × H), means m (n × H × 2), covariances C
    (n × H × 2 × 2); the noise variance S, its degrees of freedom and the
    number of reports filtered (n each)."""

    p: FloatArray
    m: FloatArray
    C: FloatArray
    S: FloatArray
    dof: FloatArray
    reports: FloatArray

    @staticmethod
    def start(n: int, o: MultiStateOptions) -> Components:
        H = 1 + 3 * o.window
        p = np.zeros((n, H))
        p[:, 0] = 1.0
        m = np.zeros((n, H, 2))
        m[..., 0] = o.level
        C = np.zeros((n, H, 2, 2))
        C[..., 0, 0] = o.level_sd**2
        C[..., 1, 1] = o.slope_sd**2
        return Components(p, m, C, np.full(n, o.noise**2), np.full(n, o.noise_weight),
                          np.zeros(n))

    def mixed(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Mean (n × 2), covariance (n × 2 × 2) and noise variance (n) of the
        mixture, collapsed to one component."""
        mean, cov = collapse(self.p, self.m, self.C)
        return mean, cov, self.S.copy()


def collapse(p: FloatArray, m: FloatArray, C: FloatArray) -> tuple[FloatArray, FloatArray]:
    """One component (m, C) from the components of weights p (n × h, not
    necessarily summing to 1), means m and covariances C (West and Harrison
    §12.3.4): m = Σ p_h m_h, C = Σ p_h (C_h + (m_h − m)(m_h − m)ᵀ), weights
    normalised."""
    total = p.sum(axis=1, keepdims=True)
    w = np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / p.shape[1])
    mean = np.einsum("nh,nhk->nk", w, m)
    d = m - mean[:, None, :]
    cov = np.einsum("nh,nhkl->nkl", w, C + d[..., :, None] * d[..., None, :])
    return mean, cov


def _evolved(m: FloatArray) -> FloatArray:
    """G m for each component, G = [[1, 1], [0, 1]] written out: the level
    moves by the slope."""
    a = m.copy()
    a[..., 0] += m[..., 1]
    return a


def _evolved_cov(C: FloatArray) -> FloatArray:
    """G C Gᵀ for each component, written out (the products of a 2 × 2
    matrix with a fixed one cost less as four sums than as an einsum)."""
    R = np.empty_like(C)
    R[..., 1, 1] = C[..., 1, 1]
    R[..., 0, 1] = C[..., 0, 1] + C[..., 1, 1]
    R[..., 1, 0] = C[..., 1, 0] + C[..., 1, 1]
    R[..., 0, 0] = C[..., 0, 0] + C[..., 1, 0] + R[..., 0, 1]
    return R


def _t_density(e: FloatArray, q: FloatArray, dof: FloatArray) -> FloatArray:
    """Student-t density of the forecast error e with scale² q and ``dof``."""
    v = dof
    z2 = e * e / q
    log = (gammaln((v + 1) / 2) - gammaln(v / 2) - 0.5 * np.log(v * np.pi * q)
           - (v + 1) / 2 * np.log1p(z2 / v))
    return np.exp(log)


def _before(c: Components, o: MultiStateOptions
            ) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
    """The hypotheses before the report: the oldest changes merged into *no
    change in the window*, the others one report older, the new changes
    started from the whole mixture.  Returns their prior weights, means,
    covariances and states (indices into STATES)."""
    W = o.window
    prior = o.prior()
    kept = slice(1, 1 + 3 * (W - 1))  # lags 0 … W−2, which become 1 … W−1
    leaving = np.r_[0, np.arange(1 + 3 * (W - 1), 1 + 3 * W)]
    best = leaving[c.p[:, leaving].argmax(axis=1)]
    rows = np.arange(len(c.p))
    source = collapse(c.p, c.m, c.C)
    n = len(c.p)
    p = np.concatenate([c.p[:, leaving].sum(axis=1, keepdims=True) * prior[0],
                        np.tile(prior[1:], (n, 1)), c.p[:, kept] * prior[0]], axis=1)
    m = np.concatenate([c.m[rows, best][:, None], np.repeat(source[0][:, None], 3, axis=1),
                        c.m[:, kept]], axis=1)
    C = np.concatenate([c.C[rows, best][:, None], np.repeat(source[1][:, None], 3, axis=1),
                        c.C[:, kept]], axis=1)
    state = np.zeros(1 + 3 * W, dtype=int)
    state[1:4] = (1, 2, 3)
    return p / p.sum(axis=1, keepdims=True), m, C, state


def _learn(c: Components, w: FloatArray, r: FloatArray, state: IntArray, seen: BoolArray
           ) -> tuple[FloatArray, FloatArray]:
    """The new noise variance and its degrees of freedom: the conjugate update
    (West and Harrison §4.3) with the squared standardised errors r of the
    hypotheses, each capped at 9 (3 standard deviations; the mean corrected
    for the cap) and averaged over those that do not call this report an
    outlier, weighted by their posterior probability; so that neither a step
    nor an outlier passes for noise.  The first report only places the
    level."""
    plain = w * (state != 3)[None, :]
    weight = np.where(seen & (c.reports >= _PLACING), plain.sum(axis=1), 0.0)
    mean_r = ((plain * np.minimum(r, _CAP)).sum(axis=1)
              / np.maximum(plain.sum(axis=1), 1e-300) / _CAPPED_MEAN)
    dof = c.dof + weight
    S = np.maximum(c.S * (1.0 + weight * (mean_r - 1.0) / np.maximum(dof, 1e-9)), 1e-12)
    return S, dof


def step(c: Components, y: FloatArray, o: MultiStateOptions
         ) -> tuple[Components, FloatArray, FloatArray]:
    """One report y (n; NaN: no report, nothing changes).  Returns the new
    components, P(a change of kind k at the L-th previous report | y_1..t)
    for L = 0 … w − 1 (n × w × 3), and the standardised one-step forecast
    error of the mixture (n)."""
    seen = np.isfinite(y)
    yv = np.where(seen, y, 0.0)
    p, m, C, state = _before(c, o)
    k = o.multipliers()[state]  # (H, 3)
    S = c.S[:, None]
    a = _evolved(m)
    R = _evolved_cov(C)
    R[..., 0, 0] += k[None, :, 1] * S
    R[..., 1, 1] += k[None, :, 2] * S
    Q = R[..., 0, 0] + k[None, :, 0] * S
    e = yv[:, None] - a[..., 0]
    density = (_t_density(e, Q, c.dof[:, None]) if o.student
               else np.exp(-0.5 * e * e / Q) / np.sqrt(2 * np.pi * Q))
    joint = p * density
    total = joint.sum(axis=1, keepdims=True)
    w = joint / np.where(total > 0, total, 1.0)
    S_new, dof = _learn(c, w, e * e / Q, state, seen)
    A = R[..., :, 0] / Q[..., None]
    m_new = a + A * e[..., None]
    C_new = (S_new / c.S)[:, None, None, None] * (R - A[..., :, None] * A[..., None, :]
                                                  * Q[..., None, None])
    f_mix = np.einsum("nh,nh->n", p, a[..., 0])
    q_mix = np.einsum("nh,nh->n", p, Q + (a[..., 0] - f_mix[:, None]) ** 2)
    z = (yv - f_mix) / np.sqrt(q_mix)
    keep = ~seen
    new = Components(
        p=np.where(keep[:, None], c.p, w),
        m=np.where(keep[:, None, None], c.m, m_new),
        C=np.where(keep[:, None, None, None], c.C, C_new),
        S=np.where(keep, c.S, S_new),
        dof=np.where(keep, c.dof, dof),
        reports=c.reports + seen,
    )
    lagged = w[:, 1:].reshape(len(w), o.window, 3)
    lagged[~seen] = np.nan
    return new, lagged, np.where(seen, z, np.nan)


@dataclass(frozen=True, eq=False)
class _Snapshot:
    """One series after its reports: its components (one row), the positions
    of its last w reports and what :func:`run` gave at each report."""

    components: Components
    previous: IntArray
    filled: dict[str, FloatArray]

    @property
    def nbytes(self) -> int:
        return (sum(a.nbytes for a in self.filled.values())
                + sum(a.nbytes for a in vars(self.components).values()) + self.previous.nbytes)


class FilterMemory:
    """Series :func:`run` has filtered, kept so that a series seen again with
    up to ``lookback`` more reports (or its last ones changed) goes on from
    where it was instead of from its first report: the web application runs
    the filter over a unit's indices at every dated report, and without this
    each report would cost as much as all the earlier ones together.  Kept by
    the series' values and the options (the same series gives the same
    result, whoever reported it), at most ``max_bytes``, the least recently
    used forgotten first; safe to share between threads.  :func:`run` gives
    the same result with or without it."""

    def __init__(self, max_bytes: int = 64 * 2**20, lookback: int = 3):
        self.max_bytes, self.lookback = max_bytes, lookback
        self._kept: OrderedDict[bytes, _Snapshot] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        #: series that went on from a snapshot (and of those, how many reports
        #: they did not filter again)
        self.resumed = 0
        self.reports_saved = 0

    @staticmethod
    def _key(options: MultiStateOptions, series: FloatArray) -> bytes:
        return hashlib.blake2b(repr(options).encode() + series.tobytes(),
                               digest_size=20).digest()

    def recall(self, options: MultiStateOptions, series: FloatArray
               ) -> tuple[int, _Snapshot | None]:
        """The longest prefix of ``series`` (all of it, or up to ``lookback``
        reports fewer) kept, and its snapshot; (0, None) if none is."""
        for k in range(len(series), max(len(series) - self.lookback - 1, 0), -1):
            key = self._key(options, series[:k])
            with self._lock:
                snapshot = self._kept.get(key)
                if snapshot is not None:
                    self._kept.move_to_end(key)
                    self.resumed += 1
                    self.reports_saved += k
                    return k, snapshot
        return 0, None

    def keep(self, options: MultiStateOptions, series: FloatArray, snapshot: _Snapshot) -> None:
        key = self._key(options, series)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return
            self._kept[key] = snapshot
            self._bytes += snapshot.nbytes
            while self._bytes > self.max_bytes and self._kept:
                self._bytes -= self._kept.popitem(last=False)[1].nbytes


def run(y: FloatArray, options: MultiStateOptions = MultiStateOptions(),
        memory: FilterMemory | None = None) -> Filtered:
    """Filter n series of T reports each (an n × T array; NaN: no report),
    each going on from where ``memory`` left it, when it kept it."""
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n, T = y.shape
    W = options.window
    c = Components.start(n, options)
    level, slope, level_sd, noise, error = (np.full((n, T), np.nan) for _ in range(5))
    filled = {"level": level, "slope": slope, "level_sd": level_sd, "noise": noise,
              "error": error, "lagged": np.full((n, T, W, 4), np.nan),
              "revised": np.full((n, T, 4), np.nan), "mean": np.full((n, T, 2), np.nan),
              "cov": np.full((n, T, 2, 2), np.nan)}
    lagged, revised, means, covs = (filled[k] for k in ("lagged", "revised", "mean", "cov"))
    previous = np.full((n, W), -1)  # positions of the last W reports, newest first
    # each series' reports end after its last finite value: the NaN after it change nothing
    finite = np.isfinite(y)
    length = np.where(finite.any(axis=1), T - np.argmax(finite[:, ::-1], axis=1), 0)
    start = np.zeros(n, dtype=int)
    if memory is not None:
        for i in np.flatnonzero(length):
            start[i], snapshot = memory.recall(options, y[i, :length[i]])
            if snapshot is not None:
                for name, kept in vars(snapshot.components).items():
                    getattr(c, name)[i] = kept[0]
                previous[i] = snapshot.previous
                for name, values in snapshot.filled.items():
                    filled[name][i, :start[i]] = values
    todo = start < length
    for t in range(start[todo].min() if todo.any() else 0, length[todo].max(initial=0)):
        yt = np.where(t >= start, y[:, t], np.nan)  # NaN: nothing changes
        c, changes, z = step(c, yt, options)
        seen = np.isfinite(yt)
        previous[seen] = np.concatenate([np.full((seen.sum(), 1), t), previous[seen, :-1]],
                                        axis=1)
        lagged[seen, t, :, 1:] = changes[seen]
        lagged[seen, t, :, 0] = 1.0 - changes[seen].sum(axis=2)
        # each of the last W reports of a series seen now: its revised view
        rows, L = np.nonzero(seen[:, None] & (previous >= 0))
        revised[rows, previous[rows, L]] = lagged[rows, t, L]
        mean, cov, v = c.mixed()
        level[seen, t] = mean[seen, 0]
        slope[seen, t] = mean[seen, 1]
        level_sd[seen, t] = np.sqrt(cov[seen, 0, 0])
        noise[seen, t] = np.sqrt(v[seen])
        means[seen, t] = mean[seen]
        covs[seen, t] = cov[seen]
        error[seen, t] = z[seen]
    if memory is not None:
        for i in np.flatnonzero(todo):
            memory.keep(options, y[i, :length[i]], _Snapshot(
                Components(**{k: a[i:i + 1].copy() for k, a in vars(c).items()}),
                previous[i].copy(),
                {name: a[i, :length[i]].copy() for name, a in filled.items()}))
    return Filtered(level, slope, level_sd, lagged, lagged[:, :, 0], revised,
                    lagged[..., 1:].sum(axis=2), noise, error, means, covs)


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


def forecast_even(mean: FloatArray, cov: FloatArray, noise: FloatArray, total: FloatArray,
                  steps: NDArray[np.int64], o: MultiStateOptions
                  ) -> tuple[FloatArray, FloatArray]:
    """:func:`forecast_sum` with ``total`` (n) split evenly over the next
    ``steps`` (n, each its own; 0: nothing) reports: w_h = total / H, whose
    sums have closed forms, so that indices with any number of reports left
    cost one vector operation together: Σ w_h = H w, Σ h w_h = w H(H + 1)/2,
    Σ c_k² = w² H(H + 1)(2H + 1)/6, Σ d_k² = w² M(M + 1)(M + 2)(3M² + 6M + 1)/60
    with M = H − 1, Σ w_h² = H w²."""
    H = np.asarray(steps, dtype=float)
    w = np.divide(total, H, out=np.zeros(len(H)), where=H > 0)
    a0, a1 = H * w, w * H * (H + 1) / 2
    M = H - 1
    sum_c2 = w**2 * H * (H + 1) * (2 * H + 1) / 6
    sum_d2 = np.where(H > 0, w**2 * M * (M + 1) * (M + 2) * (3 * M**2 + 6 * M + 1) / 60, 0.0)
    k_nu, k_mu, k_beta = o.multipliers()[0]
    var = (a0**2 * cov[:, 0, 0] + a0 * a1 * (cov[:, 0, 1] + cov[:, 1, 0]) + a1**2 * cov[:, 1, 1]
           + noise**2 * (k_mu * sum_c2 + k_beta * sum_d2 + k_nu * H * w**2))
    return a0 * mean[:, 0] + a1 * mean[:, 1], np.sqrt(var)


__all__ = ["CHANGES", "STATES", "Components", "FilterMemory", "Filtered", "MultiStateOptions",
           "collapse", "forecast_even", "forecast_sum", "run", "step"]
