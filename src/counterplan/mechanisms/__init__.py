"""Planning mechanisms compared on the same economy, each a plain function
returning a :class:`MechanismResult`:

    exact               the optimum of ``counterplan.plan.solve`` (the reference)
    harmony-heuristic   Cockshott's iterative harmony planning, no LP
    rounds              two-level planning (Kornai–Lipták) with messages counted
    participatory       Hahnel and Albert's iterative participatory procedure

    from counterplan.mechanisms import run_mechanism  # by name, default options
    result = run_mechanism("participatory", economy)
"""

from __future__ import annotations

import importlib
from typing import Any

#: where each public name lives (imported on first use: the command line starts fast)
_HOMES = {
    "MECHANISMS": "registry", "UnknownMechanism": "registry", "check_mechanisms": "registry",
    "run_mechanism": "registry", "MechanismResult": "result", "exact": "central",
    "harmony_heuristic": "harmony", "HarmonyHeuristicOptions": "harmony",
    "participatory": "councils", "ParticipatoryOptions": "councils",
    "consumer_councils": "councils", "two_level": "twolevel",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'counterplan.mechanisms' has no attribute {name!r}")
    return getattr(importlib.import_module(f"counterplan.mechanisms.{_HOMES[name]}"), name)


__all__ = sorted(_HOMES)
