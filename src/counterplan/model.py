"""The economy: items, techniques with sparse flows, periods, availability and
targets (DESIGN.md §3).  Validated once at the boundary (see
:mod:`counterplan.io.assemble`), immutable afterwards, and sparse throughout.

Notation (see docs/notation.md): the flow matrix ``F`` (items × techniques)
holds the amount of item *i* per unit of activity of technique *j*; outputs
are positive, inputs negative.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.schema import KIND_CODES, PRODUCT, RESOURCE, STOCK

if TYPE_CHECKING:  # scipy.sparse is imported where a matrix is first made: `check` needs none
    import scipy.sparse as sp

IntArray = NDArray[np.signedinteger[Any]]
FloatArray = NDArray[np.float64]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Flows:
    """Flows per unit of activity, one entry per row of flows.csv (coordinates)."""

    technique: IntArray
    item: IntArray
    amount: FloatArray

    def __post_init__(self) -> None:
        for name in ("technique", "item", "amount"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def __len__(self) -> int:
        return len(self.amount)


@dataclass(frozen=True, eq=False)
class Entries:
    """Amounts per (item, period): availability or targets."""

    item: IntArray
    period: IntArray
    amount: FloatArray
    weight: FloatArray | None = None

    def __post_init__(self) -> None:
        for name in ("item", "period", "amount", "weight"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _frozen(getattr(self, name)))

    def __len__(self) -> int:
        return len(self.amount)

    def dense(self, n_items: int, n_periods: int) -> FloatArray:
        """Amounts as an (items × periods) array; absent entries are zero."""
        out = np.zeros((n_items, n_periods))
        np.add.at(out, (self.item, self.period), self.amount)
        return out


@dataclass(frozen=True)
class Objective:
    """What ``solve`` maximises; read from ``[objective]`` in economy.toml."""

    kind: str = "kantorovich"
    weights: Mapping[str, float] = field(default_factory=dict)
    resources: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Economy:
    """A validated economy.  Build it with :func:`counterplan.io.assemble.assemble`
    (or :func:`counterplan.read_folder`), which checks every reference.

    ``items`` has index ``id`` and columns ``kind, unit, name, depreciation``;
    ``techniques`` has index ``id`` and columns ``name, unit_id, min, max``
    (``max`` is ``inf`` when unbounded); ``units`` has index ``id`` and column
    ``name``.  Flows, availability and targets refer to rows by position.
    """

    name: str
    periods: tuple[str, ...]
    items: pd.DataFrame
    techniques: pd.DataFrame
    units: pd.DataFrame
    flows: Flows
    availability: Entries
    targets: Entries
    description: str = ""
    objective: Objective = field(default_factory=Objective)

    # -- sizes and codes ------------------------------------------------------
    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_techniques(self) -> int:
        return len(self.techniques)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @cached_property
    def kind_codes(self) -> NDArray[np.int8]:
        """Kind of each item as a code: PRODUCT, RESOURCE or STOCK."""
        codes = self.items["kind"].map(KIND_CODES).to_numpy(dtype=np.int8)
        return _frozen(codes)

    def items_of_kind(self, code: int) -> IntArray:
        return np.flatnonzero(self.kind_codes == code)

    @property
    def products(self) -> IntArray:
        return self.items_of_kind(PRODUCT)

    @property
    def resources(self) -> IntArray:
        return self.items_of_kind(RESOURCE)

    @property
    def stocks(self) -> IntArray:
        return self.items_of_kind(STOCK)

    # -- matrices -------------------------------------------------------------
    @cached_property
    def flow_matrix(self) -> sp.csc_matrix:
        """Net flows F (items × techniques), duplicates (own use) summed."""
        import scipy.sparse as sp

        f = self.flows
        m = sp.csc_matrix(
            (f.amount, (f.item, f.technique)), shape=(self.n_items, self.n_techniques)
        )
        m.sum_duplicates()
        return m

    @cached_property
    def output_matrix(self) -> sp.csc_matrix:
        """Gross outputs (positive flow rows only), items × techniques."""
        import scipy.sparse as sp

        f = self.flows
        pos = f.amount > 0
        return sp.csc_matrix(
            (f.amount[pos], (f.item[pos], f.technique[pos])),
            shape=(self.n_items, self.n_techniques),
        )

    @cached_property
    def input_matrix(self) -> sp.csc_matrix:
        """Gross inputs as positive amounts (negative flow rows only), items × techniques."""
        import scipy.sparse as sp

        f = self.flows
        neg = f.amount < 0
        return sp.csc_matrix(
            (-f.amount[neg], (f.item[neg], f.technique[neg])),
            shape=(self.n_items, self.n_techniques),
        )

    def target_array(self) -> FloatArray:
        """Targets g as an (items × periods) array (zero where none)."""
        return self.targets.dense(self.n_items, self.n_periods)

    def availability_array(self) -> FloatArray:
        """Availability R as an (items × periods) array (zero where none)."""
        return self.availability.dense(self.n_items, self.n_periods)

    def content_hash(self) -> str:
        """SHA-256 of everything that defines the economy (not its row order)."""
        h = hashlib.sha256()
        for text in (self.name, self.description, "\x1f".join(self.periods),
                     repr(sorted(self.objective.weights.items())),
                     repr(sorted(self.objective.resources.items())), self.objective.kind):
            h.update(text.encode("utf-8") + b"\x1e")
        for frame in (self.items, self.techniques, self.units):
            h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        for arrays in (_canon_flows(self.flows), _canon(self.availability), _canon(self.targets)):
            for a in arrays:
                h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    # -- equality (for round trips) ------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Economy):
            return NotImplemented
        same_meta = (
            self.name == other.name
            and self.description == other.description
            and self.periods == other.periods
            and self.objective == other.objective
        )
        return (
            same_meta
            and _frames_equal(self.items, other.items)
            and _frames_equal(self.techniques, other.techniques)
            and _frames_equal(self.units, other.units)
            and _entries_equal(_canon_flows(self.flows), _canon_flows(other.flows))
            and _entries_equal(_canon(self.availability), _canon(other.availability))
            and _entries_equal(_canon(self.targets), _canon(other.targets))
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Economy({self.name!r}: {self.n_items} items ({len(self.products)} products, "
            f"{len(self.resources)} resources, {len(self.stocks)} stocks), "
            f"{self.n_techniques} techniques, {len(self.flows)} flows, "
            f"{self.n_periods} periods)"
        )


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or not a.index.equals(b.index):
        return False
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            if not np.array_equal(x.to_numpy(float), y.to_numpy(float), equal_nan=True):
                return False
        elif list(x.astype(str)) != list(y.astype(str)):
            return False
    return True


def _canon_flows(f: Flows) -> tuple[np.ndarray, ...]:
    order = np.lexsort((f.amount, f.item, f.technique))
    return (f.technique[order], f.item[order], f.amount[order])


def _canon(e: Entries) -> tuple[np.ndarray, ...]:
    order = np.lexsort((e.period, e.item))
    cols = [e.item[order], e.period[order], e.amount[order]]
    if e.weight is not None:
        cols.append(e.weight[order])
    return tuple(cols)


def _entries_equal(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


__all__ = ["PRODUCT", "RESOURCE", "STOCK", "Economy", "Entries", "Flows", "Objective"]
