"""The elastic plan LP: every row may be violated at a cost, so that the
smallest violations show where an infeasible plan conflicts.

    products     Σ_j F_ij x_j − … + s ≥ f          s: shortfall
    resources    Σ_j u_rj x_j − e ≤ R               e: use beyond availability
    stock use    Σ_j n_sj x_j − K − e ≤ 0            e: use beyond the level
    minimum      x_j(t) + m ≥ lo_j                   m: activity below its minimum

minimising Σ slack / max(1, |bound|), i.e. the relative violations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.model import Economy
from counterplan.plan.build import INF, LP, Registry

FloatArray = NDArray[np.float64]

_ELASTIC = {"product": (1.0, "short of what the plan needs"),
            "resource": (-1.0, "more needed than available"),
            "stock-use": (-1.0, "more capacity needed than there is")}


@dataclass(frozen=True)
class Slacks:
    """Which elastic column stands for which row or bound."""

    family: NDArray[np.object_]
    key: NDArray[np.int64]
    period: NDArray[np.int64]
    start: int
    size: FloatArray  # max(1, |bound|): what each slack is measured against


def elastic_lp(lp: LP, relax_bounds: bool = True) -> tuple[LP, Slacks]:
    """The elastic version of ``lp`` and the meaning of its slack columns;
    with ``relax_bounds`` false the activities' minimums stay hard (to see
    what a pledge would need rather than how much of it to drop)."""
    n_rows, n_cols = lp.matrix.shape
    rows, signs, family, key, period, weight = [], [], [], [], [], []
    for block in lp.rows.blocks:
        if block.family not in _ELASTIC:
            continue
        sign = _ELASTIC[block.family][0]
        r = np.arange(block.start, block.stop)
        bound = lp.row_lower[r] if sign > 0 else lp.row_upper[r]
        rows.append(r)
        signs.append(np.full(len(r), sign))
        family.append(np.full(len(r), block.family, dtype=object))
        key.append(block.key)
        period.append(block.period)
        weight.append(1.0 / np.maximum(1.0, np.abs(np.where(np.isfinite(bound), bound, 0))))
    n_slack = int(sum(len(r) for r in rows))
    slack = sp.csc_matrix((np.concatenate(signs), (np.concatenate(rows), np.arange(n_slack))),
                          shape=(n_rows, n_slack))

    # activities with a positive minimum: x_j(t) + m ≥ lo_j, with x_j(t) ≥ 0
    activity = lp.cols.get("activity")
    assert activity is not None
    bounded = np.flatnonzero(lp.col_lower[activity.slice] > 0) + activity.start
    if not relax_bounds:
        bounded = bounded[:0]
    n_min = len(bounded)
    lo = lp.col_lower[bounded]
    pick = sp.csc_matrix((np.ones(n_min), (np.arange(n_min), bounded)), shape=(n_min, n_cols))
    matrix = sp.bmat([[lp.matrix, slack, None],
                      [pick, None, sp.identity(n_min, format="csc")]], format="csc")
    family.append(np.full(n_min, "minimum", dtype=object))
    key.append(activity.key[bounded - activity.start])
    period.append(activity.period[bounded - activity.start])
    weight.append(1.0 / np.maximum(1.0, lo))

    col_lower = lp.col_lower.copy()
    col_lower[bounded] = 0.0
    n_extra = n_slack + n_min
    elastic = LP(
        matrix=matrix,
        cost=np.concatenate([np.zeros(n_cols), *weight]),
        col_lower=np.concatenate([col_lower, np.zeros(n_extra)]),
        col_upper=np.concatenate([lp.col_upper, np.full(n_extra, INF)]),
        row_lower=np.concatenate([lp.row_lower, lo]),
        row_upper=np.concatenate([lp.row_upper, np.full(n_min, INF)]),
        sense=-1, rows=lp.rows, cols=Registry(list(lp.cols.blocks)),
    )
    return elastic, Slacks(np.concatenate(family), np.concatenate(key).astype(np.int64),
                           np.concatenate(period).astype(np.int64), n_cols,
                           1.0 / np.concatenate(weight))


def read_slacks(economy: Economy, lp: LP, slacks: Slacks, x: FloatArray,
                floor: float = 0.0) -> pd.DataFrame:
    """The violations of the elastic solution, largest relative one first;
    a slack under ``floor`` of its row's size is no violation (a first-order
    solution's slacks are exact only to its tolerance)."""
    values = x[slacks.start: slacks.start + len(slacks.family)]
    scale = np.maximum(1e-9, 1e-7 * np.abs(values).max(initial=1.0))
    hit = np.flatnonzero(values > np.maximum(scale, floor * slacks.size))
    names = {"minimum": economy.techniques.index}
    text = {f: t for f, (_, t) in _ELASTIC.items()}
    text["minimum"] = "the technique's minimum (pledge) cannot be met"
    rows = []
    for k in hit:
        f = str(slacks.family[k])
        ids = names.get(f, economy.items.index)
        rows.append({"item": str(ids[slacks.key[k]]), "period": economy.periods[slacks.period[k]],
                     "conflict": text[f], "amount": float(values[k]), "family": f})
    frame = pd.DataFrame(rows, columns=["item", "period", "conflict", "amount", "family"])
    return frame.sort_values("amount", ascending=False, ignore_index=True)
