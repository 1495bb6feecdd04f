"""The tables of a plan folder: one schema per table drives reading, writing,
validation and the format documentation (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What an item is (DESIGN.md §3)."""

    PRODUCT = "product"
    RESOURCE = "resource"
    STOCK = "stock"


KIND_CODES: dict[str, int] = {k.value: i for i, k in enumerate(Kind)}
PRODUCT, RESOURCE, STOCK = (KIND_CODES[k.value] for k in Kind)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "id", "ref", "text", "number", "kind"
    required: bool
    description: str
    default: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    description: str
    columns: tuple[Column, ...]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ITEMS = Table(
    "items", True, "every product, resource and stock",
    (
        Column("id", "id", True, "unique id of the item"),
        Column("kind", "kind", True, "product, resource or stock"),
        Column("unit", "text", False, "unit of measure, e.g. 't' or 'hours'"),
        Column("name", "text", False, "readable name"),
        Column("depreciation", "number", False,
               "share of a stock's level lost each period, in [0, 1]", "0"),
    ),
)
TECHNIQUES = Table(
    "techniques", True, "ways of making things; flows are per unit of activity",
    (
        Column("id", "id", True, "unique id of the technique"),
        Column("name", "text", False, "readable name"),
        Column("unit_id", "ref", False, "the workplace (units.csv) that runs it"),
        Column("min", "number", False, "lower bound on the activity in every period", "0"),
        Column("max", "number", False, "upper bound on the activity in every period", "inf"),
    ),
)
FLOWS = Table(
    "flows", True, "per unit of activity: + output, - input (or stock needed)",
    (
        Column("technique", "ref", True, "technique id"),
        Column("item", "ref", True, "item id"),
        Column("amount", "number", True, "amount per unit of activity"),
    ),
)
AVAILABILITY = Table(
    "availability", False, "resource amounts per period; stock levels at the start",
    (
        Column("item", "ref", True, "resource or stock id"),
        Column("period", "ref", True, "period label"),
        Column("amount", "number", True, "amount available (>= 0)"),
    ),
)
TARGETS = Table(
    "targets", False, "final deliveries wanted per product and period",
    (
        Column("item", "ref", True, "product id"),
        Column("period", "ref", True, "period label"),
        Column("amount", "number", True, "amount wanted (>= 0)"),
        Column("weight", "number", False, "relative weight of the target", "1"),
    ),
)
UNITS = Table(
    "units", False, "the workplaces",
    (
        Column("id", "id", True, "unique id of the unit"),
        Column("name", "text", False, "readable name"),
    ),
)

TABLES: tuple[Table, ...] = (ITEMS, TECHNIQUES, FLOWS, AVAILABILITY, TARGETS, UNITS)
OBJECTIVE_KINDS = ("kantorovich", "harmony", "min-resource")
