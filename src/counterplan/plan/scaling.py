"""Plan-relative units for the first-order solver (DESIGN.md §7).

Every column is measured in its *reference activity* and every row in its
*reference size*, so that a tolerance of 1e-4 means "every balance holds to
1e-4 of its own size" whatever the units of the data (tonnes, hours,
thousands of reais).

Reference activity x̄ (columns):

- activity of technique j in period t: the gross output that the period's
  targets need, by a few Jacobi sweeps x ← S (U x + g(t)), where U is the
  input matrix and S shares each product's need out among the techniques
  that make it (per unit of their output).  Converges for a productive
  economy (column sums of A below one) like the Neumann series; it is a
  scale, not a solution, so ``SWEEPS`` sweeps are plenty;
- investment techniques (those that add to a stock): enough to replace the
  depreciation of the stock the reference activity needs, and to build what
  it needs beyond the starting level over the plan's periods; the products
  they use are added to the final demand and the gross output recomputed
  (twice);
- stock levels: the larger of the starting level and what x̄ needs;
- λ (complete sets): λ̄_t = min_r R_r(t) / (u_r · x(g(t))), the complete sets
  the resources allow with stocks aside (the per-period closed form), and
  the activity above is scaled by it; harmony ratios and values: 1.

Reference size of row i: s_i = max(|b_i|, Σ_j |a_ij| x̄_j) over its finite
bounds b_i, the row's gross flow at the reference activity (supply plus use
for a product balance, the availability or use of a resource).

No reference may be zero: a technique's reference in a period is at least
``ACROSS_PERIODS`` of its largest over the periods (a period without
targets still produces for later investment), and each is floored at
``FLOOR`` times the median of its kind, so an item nothing needs still has a
size.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.model import Economy
from counterplan.plan.build import LP, Parts

FloatArray = NDArray[np.float64]
SWEEPS = 30
FLOOR = 1e-3
#: no technique's reference in a period is below this share of its largest one
ACROSS_PERIODS = 0.1


def reference_activity(economy: Economy, lp: LP) -> FloatArray:
    """x̄: one positive reference level per column of ``lp`` (see the module)."""
    ref = np.ones(lp.matrix.shape[1])
    parts = Parts.of(economy)
    activity, level = lp.cols.get("activity"), lp.cols.get("level")
    if activity is None or economy.n_techniques == 0:
        return ref
    g = economy.target_array()[parts.products]
    x = _gross_output(parts, g)  # techniques × periods
    lam = lp.cols.get("lambda")
    sets = _complete_sets(economy, parts, x) if lam is not None else \
        np.ones(economy.n_periods)
    if lam is not None:
        ref[lam.slice] = sets[lam.period]
    final = g * sets[None, :]
    x = _gross_output(parts, final)
    if len(parts.stocks):
        # investment, then the products it uses, twice: the inputs of investment
        # are a large part of what some products must make
        for _ in range(2):
            invest = _investment(economy, parts, x)
            x = _gross_output(parts, final + parts.uses[parts.products] @ invest)
        invest = _investment(economy, parts, x)
        x += invest
    # a technique runs at a comparable scale in every period: a period without
    # targets (λ_t = 0) still makes what later periods' investment needs
    x = np.maximum(x, ACROSS_PERIODS * x.max(axis=1, keepdims=True))
    if len(parts.stocks) and level is not None:
        need = parts.uses[parts.stocks] @ x
        start = economy.availability_array()[parts.stocks][:, :1]
        ref[level.slice] = _floored(np.maximum(need, start).T.reshape(-1))
    ref[activity.slice] = _floored(x.T.reshape(-1))
    return ref


def _investment(economy: Economy, parts: Parts, x: FloatArray) -> FloatArray:
    """Investment activity that replaces the depreciation of the stocks ``x``
    needs and builds what they need beyond the start level over the periods."""
    need = parts.uses[parts.stocks] @ x  # stocks × periods
    start = economy.availability_array()[parts.stocks][:, :1]
    delta = economy.items["depreciation"].to_numpy(dtype=float)[parts.stocks]
    growth = np.maximum(need - start, 0.0) / max(1, economy.n_periods - 1)
    return _share_out(parts.adds[parts.stocks], need * np.maximum(delta, 0.05)[:, None] + growth)


def row_sizes(lp: LP, col_ref: FloatArray) -> FloatArray:
    """s: the reference size of every row (see the module)."""
    gross = np.asarray(abs(lp.matrix) @ col_ref).reshape(-1)
    bounds = np.maximum(np.where(np.isfinite(lp.row_lower), np.abs(lp.row_lower), 0.0),
                        np.where(np.isfinite(lp.row_upper), np.abs(lp.row_upper), 0.0))
    return _floored(np.maximum(gross, bounds))


def _gross_output(parts: Parts, g: FloatArray) -> FloatArray:
    """Jacobi sweeps x ← S (U x + g) for every period at once."""
    make = sp.csr_matrix(parts.adds[parts.products])
    use = sp.csr_matrix(parts.uses[parts.products])
    x = _share_out(make, g)
    for _ in range(SWEEPS):
        x = _share_out(make, use @ x + g)
    return x


def _complete_sets(economy: Economy, parts: Parts, x: FloatArray) -> FloatArray:
    """λ̄_t = min_r R_r(t) / (u_r · x̄(t)): how many complete sets of the
    targets the resources allow in each period, stocks aside (the per-period
    closed form); 1 where nothing limits them."""
    use = parts.uses[parts.resources] @ x
    available = economy.availability_array()[parts.resources]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(use > 0, available / np.where(use > 0, use, 1.0), np.inf)
    sets = ratio.min(axis=0, initial=np.inf)
    return np.where(np.isfinite(sets) & (sets > 0), sets, 1.0)


def _share_out(make: sp.csr_matrix, need: FloatArray) -> FloatArray:
    """Activity of each technique that covers ``need`` (items × periods) of
    what it makes, shared equally among the techniques making an item."""
    makers = np.diff(make.indptr)
    per_unit = sp.diags(1.0 / np.maximum(makers, 1)) @ need
    out = np.zeros((make.shape[1], need.shape[1]))
    inverse = make.copy()
    inverse.data = 1.0 / inverse.data
    out += inverse.T @ per_unit
    return out


def _floored(values: FloatArray) -> FloatArray:
    positive = values[values > 0]
    floor = FLOOR * float(np.median(positive)) if len(positive) else 1.0
    return np.maximum(values, floor)
