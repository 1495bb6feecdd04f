"""The one result type every mechanism returns, and the measures that make
mechanisms comparable on the same economy.

Every mechanism hands back the activity of each technique in each period;
everything else is measured from it the same way for all of them:

    net output      n = F_products x                      (products × periods)
    fulfilment      r_k = n_i(t) / g_i(t) for every target k = (i, t)
    sets            λ_t = min_k r_k over the targets of period t (Kantorovich's
                    complete sets), summed over periods with their weights
    harmony         Σ_k w_k H(min(r_k, r_max)), Cockshott's H (``counterplan.plan.harmony``),
                    ratios above r_max earning nothing more, as in the exact LP
    imbalance       the largest shortage of a product or resource relative to
                    its use: max_i max(0, use_i − supply_i) / use_i
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.model import Economy
from counterplan.plan.objectives import harmony

FloatArray = NDArray[np.float64]

#: Columns of every trajectory table.
TRAJECTORY_COLUMNS = ("round", "objective", "imbalance")


@dataclass(frozen=True, eq=False)
class MechanismResult:
    """What a mechanism reached on an economy, and at what cost.

    ``activity`` is techniques × periods.  ``rounds`` counts the rounds or
    iterations (0 for a one-shot solve); ``messages`` the numbers passed
    between the centre and the units; ``trajectory`` one row per round with
    the objective of that round's plan and its imbalance.  ``prices`` are the
    mechanism's final valuations or indicative prices (items × periods) where
    it has them."""

    mechanism: str
    economy: Economy
    objective_kind: str
    activity: FloatArray
    rounds: int
    messages: int
    seconds: float
    converged: bool
    trajectory: pd.DataFrame
    prices: FloatArray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    #: harmony: ratios above it earn nothing more (as in the exact LP)
    max_ratio: float = 3.0

    @property
    def objective(self) -> float:
        """The economy's objective measured on this plan (sets or harmony)."""
        return measure(self.economy, self.activity, self.objective_kind, self.max_ratio)

    def ratios(self) -> FloatArray:
        """Fulfilment ratio of every target entry (in targets.csv order)."""
        return fulfilment(self.economy, self.activity)

    def imbalance(self) -> float:
        return imbalance(self.economy, self.activity)

    def resources_used(self) -> FloatArray:
        """Use of each resource over its availability (resources × periods)."""
        e = self.economy
        used = np.asarray(e.input_matrix.tocsr()[e.resources] @ self.activity)
        available = e.availability_array()[e.resources]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(available > 0, used / np.where(available > 0, available, 1), 0.0)

    def summary(self) -> dict[str, Any]:
        """One row of the comparison table."""
        r = self.ratios()
        r = r[np.isfinite(r)]
        used = self.resources_used()
        return {
            "mechanism": self.mechanism, "objective_kind": self.objective_kind,
            "objective": self.objective,
            "fulfilment_min": float(r.min()) if len(r) else np.nan,
            "fulfilment_median": float(np.median(r)) if len(r) else np.nan,
            "fulfilment_max": float(r.max()) if len(r) else np.nan,
            "resources_used_max": float(used.max()) if used.size else 0.0,
            "imbalance": self.imbalance(), "rounds": self.rounds,
            "messages": self.messages, "seconds": self.seconds,
            "converged": self.converged,
        }


def net_output(economy: Economy, activity: FloatArray) -> FloatArray:
    """Net output of every item (items × periods): supply − use."""
    return np.asarray(economy.flow_matrix.tocsr() @ activity)


def fulfilment(economy: Economy, activity: FloatArray) -> FloatArray:
    """Net output over target for every target entry with a positive amount
    (NaN for entries of zero)."""
    e = economy.targets
    net = net_output(economy, activity)[e.item, e.period]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e.amount > 0, net / np.where(e.amount > 0, e.amount, 1.0), np.nan)


def measure(economy: Economy, activity: FloatArray, kind: str,
            max_ratio: float = np.inf) -> float:
    """The objective ``kind`` of a plan: complete sets Σ_t w_t min_k r_k
    (kantorovich), Σ_k w_k H(r_k) (harmony), or minus the weighted resources
    used (min-resource)."""
    e = economy.targets
    r = fulfilment(economy, activity)
    ok = np.isfinite(r)
    if kind == "harmony":
        weight = e.weight if e.weight is not None else np.ones(len(r))
        return float(np.sum(weight[ok] * harmony(np.clip(r[ok], 0.0, max_ratio))))
    if kind == "min-resource":
        weights = np.zeros(economy.n_items)
        for name, w in economy.objective.resources.items():
            weights[economy.items.index.get_loc(name)] = w
        used = np.asarray(economy.input_matrix.tocsr() @ activity)
        return -float(weights @ used.sum(axis=1))
    period_weights = np.array([economy.objective.weights.get(p, 1.0) for p in economy.periods])
    total = 0.0
    for t in range(economy.n_periods):
        mine = ok & (e.period == t)
        if mine.any():
            total += period_weights[t] * float(r[mine].min())
    return total


def imbalance(economy: Economy, activity: FloatArray) -> float:
    """Largest relative shortage of a product (supply below use) or of a
    resource (use above availability) in any period."""
    use = np.asarray(economy.input_matrix.tocsr() @ activity)
    p, r = economy.products, economy.resources
    supply = np.asarray(economy.output_matrix.tocsr()[p] @ activity)
    short = np.concatenate([use[p] - supply, use[r] - economy.availability_array()[r]])
    used = np.concatenate([use[p], use[r]])
    relative = np.maximum(short, 0.0) / np.maximum(used, 1e-300)
    return float(relative.max(initial=0.0))


def trajectory(rows: list[tuple[int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TRAJECTORY_COLUMNS))


__all__ = ["MechanismResult", "fulfilment", "imbalance", "measure", "net_output",
           "trajectory"]
