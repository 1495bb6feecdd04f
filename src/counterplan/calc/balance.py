"""Material balances: what the targets require, and is it there?

For an economy in input-output form the activities that deliver exactly the
targets are x(t) = N⁻¹ f(t) (a sparse solve, never an inverse).  From them,
per item and period:

    products   supply = Σ_j o_ij x_j,  use = Σ_j a_ij x_j,
               surplus = supply − use − final
    resources  used = Σ_j u_rj x_j,    surplus = available − used
    stocks     used = Σ_j n_sj x_j against the level
               K(t+1) = (1 − δ) K(t) + availability(t+1)  (no investment chosen)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.calc.leontief import IOSystem, gross_output, io_system
from counterplan.calc.linear import SolveOptions, SolveReport
from counterplan.model import Economy
from counterplan.schema import PRODUCT, STOCK

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Balance:
    """The result of :func:`material_balance`; inputs are never modified."""

    activity: pd.DataFrame  # technique, period, level
    products: pd.DataFrame  # item, period, supply, use, final, surplus
    resources: pd.DataFrame  # item, period, available, used, surplus (resources and stocks)
    report: SolveReport
    idle_techniques: tuple[str, ...]

    def deficits(self, rtol: float = 1e-9) -> pd.DataFrame:
        """Rows of products and resources whose surplus is negative beyond
        rounding, largest shortfall first.  Rounding is ``rtol`` of the row's
        size, and for products also what the solve leaves: its relative
        residual times the size of the period's final deliveries (a small
        product can carry a larger relative error than the whole vector)."""
        frames = []
        p = self.products
        norm = p.groupby("period", sort=False)["final"].transform(
            lambda f: float(np.linalg.norm(f)))
        solve_error = 10 * max(self.report.residual, 1e-10) * norm
        for frame, scale_cols, extra in ((p, ["supply", "use"], solve_error),
                                         (self.resources, ["available", "used"], 0.0)):
            scale = frame[scale_cols].abs().max(axis=1)
            short = frame[frame["surplus"] < -(rtol * np.maximum(scale, 1.0) + extra)]
            frames.append(short[["item", "period", "surplus"]])
        out = pd.concat(frames, ignore_index=True)
        out["shortfall"] = -out.pop("surplus")
        return out.sort_values("shortfall", ascending=False, ignore_index=True)


def stock_levels(economy: Economy, availability: FloatArray) -> FloatArray:
    """Stock levels per period with no investment: K(1) = availability(1),
    K(t+1) = (1 − δ) K(t) + availability(t+1).  Rows of other items are zero."""
    levels = np.zeros_like(availability)
    stocks = economy.stocks
    keep = 1.0 - economy.items["depreciation"].to_numpy(dtype=float)[stocks]
    for t in range(economy.n_periods):
        previous = keep * levels[stocks, t - 1] if t else 0.0
        levels[stocks, t] = previous + availability[stocks, t]
    return levels


def material_balance(economy: Economy, options: SolveOptions = SolveOptions(),
                     system: IOSystem | None = None) -> Balance:
    """Activities delivering exactly the targets, and every item's balance."""
    system = system or io_system(economy)
    targets = economy.target_array()
    x_made, report = gross_output(system, targets[system.products], options)
    x = np.zeros((economy.n_techniques, economy.n_periods))
    x[system.techniques] = x_made
    supply = np.asarray(economy.output_matrix.tocsr() @ x)
    use = np.asarray(economy.input_matrix.tocsr() @ x)
    available = economy.availability_array()
    kinds = economy.kind_codes
    available = np.where((kinds == STOCK)[:, None], stock_levels(economy, available), available)
    periods = np.asarray(economy.periods, dtype=object)
    ids = economy.items.index.to_numpy(dtype=object)
    products, others = economy.products, np.flatnonzero(kinds != PRODUCT)
    return Balance(
        activity=_long(economy.techniques.index.to_numpy(dtype=object), periods,
                       {"level": x}),
        products=_long(ids[products], periods, {
            "supply": supply[products], "use": use[products], "final": targets[products],
            "surplus": supply[products] - use[products] - targets[products]}),
        resources=_long(ids[others], periods, {
            "available": available[others], "used": use[others],
            "surplus": available[others] - use[others]}),
        report=report,
        idle_techniques=tuple(map(str, economy.techniques.index[system.idle])),
    )


def _long(ids: NDArray[np.object_], periods: NDArray[np.object_],
          values: dict[str, FloatArray]) -> pd.DataFrame:
    """(rows × periods) arrays to a long table keyed by (id, period)."""
    n, t = len(ids), len(periods)
    key = "technique" if "level" in values else "item"
    frame: dict[str, np.ndarray] = {key: np.repeat(ids, t), "period": np.tile(periods, n)}
    frame.update({name: v.reshape(n * t) for name, v in values.items()})
    return pd.DataFrame(frame)


__all__ = ["Balance", "material_balance", "stock_levels"]
