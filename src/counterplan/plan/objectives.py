"""The three objectives and the LP they make with the constraint families.

    kantorovich   max Σ_t w_t λ_t   with   net output_i(t) ≥ λ_t g_i(t)
    min-resource  min Σ_r c_r Σ_t used_r(t)   with   net output_i(t) ≥ g_i(t)
    harmony       max Σ_k w_k H(r_k)   with   net output_i(t) ≥ r_k g_i(t),
                  H concave (Cockshott), approximated piecewise linearly

The piecewise-linear harmony takes h_k ≤ a_m + b_m r_k for the secant of each
segment m between breakpoints.  As H is concave, the smallest secant at r is
the linear interpolant of H, which lies below H by at most (Δ²/8)·max|H''| on
a segment of width Δ.  |H''| = 1 below r = 1 and 1/r² above, so breakpoints
spaced Δ = √(8ε) on [0, 1] and geometrically by (1 + √(8ε)) above 1 keep the
error below ε everywhere on [0, r_max]; ratios above r_max earn nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.model import Economy
from counterplan.plan.build import (
    INF,
    LP,
    Parts,
    Registry,
    RowBlock,
    activity_bounds,
    define_products,
    define_resources,
    define_stock_levels,
    define_stock_use,
    stack,
)

FloatArray = NDArray[np.float64]
OBJECTIVES = ("kantorovich", "harmony", "min-resource")


@dataclass(frozen=True)
class HarmonyOptions:
    """ε: the largest error of the piecewise-linear H; r_max: ratios above it earn nothing."""

    tolerance: float = 1e-3
    max_ratio: float = 3.0


def harmony(ratio: FloatArray) -> FloatArray:
    """Cockshott's harmony H of a fulfilment ratio: s = ratio − 1,
    H = s − s²/2 for s < 0, ln(1 + s) otherwise."""
    s = np.asarray(ratio, dtype=float) - 1.0
    return np.where(s < 0, s - s * s / 2, np.log1p(np.maximum(s, 0.0)))


def harmony_breakpoints(options: HarmonyOptions) -> FloatArray:
    """Breakpoints on [0, r_max] keeping the interpolation error below ε."""
    step = np.sqrt(8 * options.tolerance)
    below = np.linspace(0.0, 1.0, int(np.ceil(1.0 / step)) + 1)
    n_above = int(np.ceil(np.log(options.max_ratio) / np.log1p(step))) if \
        options.max_ratio > 1 else 0
    above = np.minimum(options.max_ratio, (1 + step) ** np.arange(1, n_above + 1))
    return np.unique(np.concatenate([below, above]))


def harmony_secants(options: HarmonyOptions) -> tuple[FloatArray, FloatArray]:
    """Intercepts a_m and slopes b_m of the secants between breakpoints."""
    r = harmony_breakpoints(options)
    h = harmony(r)
    slope = np.diff(h) / np.diff(r)
    return h[:-1] - slope * r[:-1], slope


def build_lp(economy: Economy, kind: str, harmony_options: HarmonyOptions = HarmonyOptions(),
             resources: Mapping[str, float] | None = None) -> LP:
    """The plan LP for ``economy`` under objective ``kind``."""
    if kind not in OBJECTIVES:
        raise CounterplanError(f"unknown objective {kind!r}; use one of {', '.join(OBJECTIVES)}")
    parts = Parts.of(economy)
    t, n_x, n_s = economy.n_periods, economy.n_techniques * economy.n_periods, \
        len(parts.stocks) * economy.n_periods
    cols = Registry()
    cols.add("activity", np.tile(np.arange(economy.n_techniques), t),
             np.repeat(np.arange(t), economy.n_techniques))
    cols.add("level", np.tile(parts.stocks, t), np.repeat(np.arange(t), len(parts.stocks)))
    targets = economy.target_array()[parts.products]
    extra = _objective_columns(economy, kind, cols, harmony_options)
    n_cols = cols.size
    final = targets if kind == "min-resource" else np.zeros_like(targets)
    rows = [define_products(economy, parts, n_cols, final),
            define_resources(economy, parts, n_cols),
            define_stock_use(economy, parts, n_cols, n_x),
            define_stock_levels(economy, parts, n_cols, n_x)]
    rows[0] = _with_deliveries(rows[0], economy, kind, cols, targets)
    if kind == "harmony":
        rows.append(_harmony_rows(cols, n_cols, harmony_options))
    matrix, row_lower, row_upper, row_registry = stack([r for r in rows if r.matrix.shape[0]])
    lo, hi = activity_bounds(economy)
    col_lower = np.concatenate([lo, np.zeros(n_s), extra[0]])
    col_upper = np.concatenate([hi, np.full(n_s, INF), extra[1]])
    weights = economy.objective.resources if resources is None else resources
    cost = np.concatenate([_activity_cost(economy, parts, kind, weights), np.zeros(n_s),
                           extra[2]])
    sense = -1 if kind == "min-resource" else 1
    return LP(matrix, cost, col_lower, col_upper, row_lower, row_upper, sense, row_registry,
              cols)


def _objective_columns(economy: Economy, kind: str, cols: Registry,
                       options: HarmonyOptions) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Add the objective's columns; return their lower, upper bounds and costs."""
    t = economy.n_periods
    if kind == "kantorovich":
        cols.add("lambda", np.zeros(t, dtype=np.int64), np.arange(t))
        weights = np.array([economy.objective.weights.get(p, 1.0) for p in economy.periods])
        has_target = np.zeros(t, dtype=bool)
        has_target[economy.targets.period[economy.targets.amount > 0]] = True
        return np.zeros(t), np.where(has_target, INF, 0.0), weights
    if kind == "harmony":
        e = economy.targets
        k = np.flatnonzero(e.amount > 0)
        cols.add("ratio", k, e.period[k])
        cols.add("harmony", k, e.period[k])
        n = len(k)
        weight = e.weight[k] if e.weight is not None else np.ones(n)
        return (np.concatenate([np.zeros(n), np.full(n, -INF)]),
                np.concatenate([np.full(n, options.max_ratio), np.full(n, INF)]),
                np.concatenate([np.zeros(n), weight]))
    return np.zeros(0), np.zeros(0), np.zeros(0)


def _with_deliveries(rows: RowBlock, economy: Economy, kind: str, cols: Registry,
                     targets: FloatArray) -> RowBlock:
    """Move the deliveries λ_t g_i(t) (kantorovich) or r_k g_k (harmony) into the
    product rows."""
    n_products = targets.shape[0]
    if kind == "kantorovich":
        lam = cols.get("lambda")
        assert lam is not None
        row = np.arange(targets.size)  # rows are laid out period by period
        g = targets.T.reshape(-1)
        col = lam.start + np.repeat(np.arange(economy.n_periods), n_products)
        values = -g
    elif kind == "harmony":
        ratio = cols.get("ratio")
        assert ratio is not None
        e = economy.targets
        entry = ratio.key
        product_row = np.searchsorted(economy.products, e.item[entry])
        row = e.period[entry] * n_products + product_row
        col = ratio.start + np.arange(len(entry))
        values = -e.amount[entry]
    else:
        return rows
    nz = values != 0
    delivery = sp.csr_matrix((values[nz], (row[nz], col[nz])), shape=rows.matrix.shape)
    return RowBlock(rows.family, sp.csr_matrix(rows.matrix + delivery), rows.lower, rows.upper,
                    rows.key, rows.period)


def _harmony_rows(cols: Registry, n_cols: int, options: HarmonyOptions) -> RowBlock:
    """h_k − b_m r_k ≤ a_m for every target entry k and secant m."""
    ratio, harm = cols.get("ratio"), cols.get("harmony")
    assert ratio is not None and harm is not None
    a, b = harmony_secants(options)
    n, m = len(ratio.key), len(a)
    row = np.repeat(np.arange(n * m), 2)
    k = np.repeat(np.arange(n), m)
    col = np.column_stack([harm.start + k, ratio.start + k]).reshape(-1)
    values = np.column_stack([np.ones(n * m), -np.tile(b, n)]).reshape(-1)
    matrix = sp.csr_matrix((values, (row, col)), shape=(n * m, n_cols))
    return RowBlock("harmony", matrix, np.full(n * m, -INF), np.tile(a, n),
                    np.repeat(ratio.key, m), np.repeat(ratio.period, m))


def _activity_cost(economy: Economy, parts: Parts, kind: str,
                   weights: Mapping[str, float]) -> FloatArray:
    """min-resource: Σ_r c_r u_rj per unit of activity, every period; else zero."""
    n = economy.n_techniques * economy.n_periods
    if kind != "min-resource":
        return np.zeros(n)
    if not weights:
        raise CounterplanError(
            "the min-resource objective needs the resources to economise: add "
            "[objective] resources = { labour = 1.0 } to economy.toml")
    codes = economy.items.index.get_indexer(pd.Index(list(weights)))
    unknown = [r for r, c in zip(weights, codes, strict=True)
               if c < 0 or economy.kind_codes[c] == 0]
    if unknown:
        raise CounterplanError(f"min-resource: {', '.join(unknown)} is not a resource or stock "
                               "of the economy")
    c = np.zeros(economy.n_items)
    c[codes] = list(weights.values())
    per_technique = np.asarray(parts.uses.T @ c).reshape(-1)
    return np.tile(per_technique, economy.n_periods)
