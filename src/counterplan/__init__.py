"""counterplan: plan an economy from input-output and technology data.

The library's main entry points::

    from counterplan import read_folder, material_balance, io_system, embodied
    economy = read_folder("br")
    balance = material_balance(economy)

Names are imported when first used (PEP 562), so that ``import counterplan``
and the command line start at once and load numpy, pandas or HiGHS only for
what actually needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from counterplan.calc.balance import Balance, material_balance
    from counterplan.calc.leontief import IOSystem, embodied, gross_output, io_system
    from counterplan.calc.linear import SolveOptions
    from counterplan.errors import (
        CounterplanError,
        InvalidInput,
        NotInputOutput,
        Problem,
        SolveFailed,
    )
    from counterplan.io.folder import check_folder, read_folder, write_folder
    from counterplan.model import Economy, Entries, Flows, Objective

    __version__: str

#: where each public name lives
_HOMES = {
    "Balance": "counterplan.calc.balance", "material_balance": "counterplan.calc.balance",
    "IOSystem": "counterplan.calc.leontief", "embodied": "counterplan.calc.leontief",
    "gross_output": "counterplan.calc.leontief", "io_system": "counterplan.calc.leontief",
    "SolveOptions": "counterplan.calc.linear",
    "CounterplanError": "counterplan.errors", "InvalidInput": "counterplan.errors",
    "NotInputOutput": "counterplan.errors", "Problem": "counterplan.errors",
    "SolveFailed": "counterplan.errors",
    "check_folder": "counterplan.io.folder", "read_folder": "counterplan.io.folder",
    "write_folder": "counterplan.io.folder",
    "Economy": "counterplan.model", "Entries": "counterplan.model", "Flows": "counterplan.model",
    "Objective": "counterplan.model",
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("counterplan")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'counterplan' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


__all__ = [
    "Balance", "CounterplanError", "Economy", "Entries", "Flows", "IOSystem", "InvalidInput",
    "NotInputOutput", "Objective", "Problem", "SolveFailed", "SolveOptions", "__version__",
    "check_folder", "embodied", "gross_output", "io_system", "material_balance", "read_folder",
    "write_folder",
]
