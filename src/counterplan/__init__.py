"""counterplan: plan an economy from input-output and technology data.

The library's main entry points::

    from counterplan import read_folder, material_balance, io_system, embodied
    economy = read_folder("br")
    balance = material_balance(economy)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("counterplan")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

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

__all__ = [
    "Balance", "CounterplanError", "Economy", "Entries", "Flows", "IOSystem", "InvalidInput",
    "NotInputOutput", "Objective", "Problem", "SolveFailed", "SolveOptions", "__version__",
    "check_folder", "embodied", "gross_output", "io_system", "material_balance", "read_folder",
    "write_folder",
]
