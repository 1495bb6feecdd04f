"""The plan in force as the plan cycle needs it: the economy, the planned
activity, and the tables a re-plan is compared against, from a solved
:class:`~counterplan.plan.Plan` or from a solved-plan folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.errors import CounterplanError
from counterplan.model import Economy
from counterplan.plan.result import Plan

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class PlanInForce:
    """``activity`` is techniques × periods; ``fulfilment`` and ``resources``
    are the solved-plan folder's tables of the same names."""

    economy: Economy
    objective: str
    activity: FloatArray
    fulfilment: pd.DataFrame
    resources: pd.DataFrame

    @staticmethod
    def of(plan: Plan | PlanInForce) -> PlanInForce:
        if isinstance(plan, PlanInForce):
            return plan
        return PlanInForce(plan.economy, plan.objective, plan.activity,
                           plan.fulfilment_table(), plan.resources_table())

    @staticmethod
    def read(folder: str | Path, economy: Economy) -> PlanInForce:
        """Read a solved-plan folder made from ``economy`` (checked through the
        input hash in summary.json)."""
        folder = Path(folder)
        needed = ["summary.json", "activity.csv", "fulfilment.csv", "resources.csv"]
        missing = [n for n in needed if not (folder / n).is_file()]
        if missing:
            raise CounterplanError(
                f"{folder} is not a solved-plan folder ({', '.join(missing)} missing); "
                "make one with `counterplan solve DIR --out PLAN_DIR`")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if summary.get("input_hash") != economy.content_hash():
            raise CounterplanError(
                f"{folder} was not solved from this plan folder (the input hash in "
                "summary.json differs); give the folder the plan was solved from, or solve "
                "it again with `counterplan solve`")
        read = {"dtype": {"technique": str, "item": str, "period": str}}
        table = pd.read_csv(folder / "activity.csv", **read)  # type: ignore[call-overload]
        t = economy.techniques.index.get_indexer(pd.Index(table["technique"]))
        p = pd.Index(economy.periods).get_indexer(pd.Index(table["period"]))
        if (t < 0).any() or (p < 0).any():
            raise CounterplanError(f"{folder}/activity.csv names techniques or periods the "
                                   "plan folder does not have; solve it again")
        activity = np.zeros((economy.n_techniques, economy.n_periods))
        activity[t, p] = table["level"].to_numpy(dtype=float)
        return PlanInForce(economy, str(summary["objective"]["kind"]), activity,
                           pd.read_csv(folder / "fulfilment.csv", **read),  # type: ignore[call-overload]
                           pd.read_csv(folder / "resources.csv", **read))  # type: ignore[call-overload]


__all__ = ["PlanInForce"]
