"""The counter-plan file and its validation (DESIGN.md §4).

    counterplan.csv   id, unit_id, kind, technique, item, period, value, note

Rows with the same ``id`` form one counter-plan.  Kinds:

- ``pledge``: the technique's activity in ``period`` (every period when
  empty) is at least ``value``;
- ``norm``: the flow of ``item`` in ``technique`` becomes ``value`` (in
  every period: ``period`` stays empty);
- ``capacity``: the availability of a resource rises by ``value`` (in
  ``period``, every period when empty), or a stock's level rises by ``value``
  (arriving in ``period``, at the start when empty);
- ``technique``: a new technique named in ``technique``, one row per flow
  (``item``, ``value``), run by ``unit_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.errors import Problem
from counterplan.io.csvfile import check_header, read_csv
from counterplan.io.problems import Problems, RawTable
from counterplan.model import Economy
from counterplan.schema import RESOURCE, STOCK

KINDS = ("pledge", "norm", "capacity", "technique")
COLUMNS = ("id", "unit_id", "kind", "technique", "item", "period", "value", "note")
REQUIRED = ("id", "kind", "value")


@dataclass(frozen=True)
class Change:
    """One row of a counter-plan, resolved to codes of the economy.

    ``technique`` is a technique code (pledge, norm) or −1; ``item`` an item
    code or −1; ``period`` a period code or −1 for every period (the start,
    for a stock's capacity)."""

    kind: str
    technique: int
    item: int
    period: int
    value: float


@dataclass(frozen=True)
class NewTechnique:
    """A technique a counter-plan proposes: its id and flows per unit."""

    id: str
    items: tuple[int, ...]
    amounts: tuple[float, ...]


@dataclass(frozen=True)
class CounterPlan:
    id: str
    unit_id: str
    changes: tuple[Change, ...]
    techniques: tuple[NewTechnique, ...]
    note: str = ""

    @property
    def kinds(self) -> set[str]:
        return {c.kind for c in self.changes} | ({"technique"} if self.techniques else set())


def replaced_rows(amounts: NDArray[np.float64], value: float) -> NDArray[np.bool_]:
    """Which of a technique's rows for an item a norm of ``value`` replaces:
    the output row for a positive value, the input row otherwise (a norm of
    zero removes an input).  With own use the item has one row of each."""
    return amounts > 0 if value > 0 else amounts < 0


def norm_net(amounts: NDArray[np.float64], value: float) -> tuple[float, float]:
    """(old, new) net flow of the item when the norm replaces its row."""
    old = float(amounts.sum())
    return old, old - float(amounts[replaced_rows(amounts, value)].sum()) + value


def read_counterplans(path: str | Path, economy: Economy) -> list[CounterPlan]:
    """Read and validate a counter-plan CSV against ``economy``; raise
    :class:`InvalidInput` listing every problem."""
    return load_counterplans(path, economy)[0]


def load_counterplans(path: str | Path, economy: Economy
                      ) -> tuple[list[CounterPlan], list[Problem]]:
    """As :func:`read_counterplans`, and return the warnings too (unknown
    columns, each with the known column it may mean)."""
    path = Path(path)
    problems = Problems()
    if not path.is_file():
        problems.add(str(path), None, "counter-plan file not found",
                     f"give a CSV with the columns {', '.join(COLUMNS)}")
        problems.raise_if_errors()
    try:
        frame = read_csv(path, path.name, problems)
    except pd.errors.EmptyDataError:
        problems.add(path.name, None, "file is empty (no header row)",
                     f"start it with the header {','.join(COLUMNS)}")
    problems.raise_if_errors()
    assert frame is not None
    plans, problems = parse_counterplans(frame, economy, path.name)
    problems.raise_if_errors()
    return plans, problems.warnings


def parse_counterplans(frame: pd.DataFrame, economy: Economy, file: str = "counterplans.csv",
                       resources: str = "any") -> tuple[list[CounterPlan], Problems]:
    """Counter-plans from a table of strings (one row per change), with every
    problem found; the list is empty when there are errors.

    A counter-plan that names a unit proposes capacity only for a stock the
    unit's own techniques use or add, and for a resource as ``resources``
    allows: ``"any"`` resource, only those the unit's techniques ``"use"``,
    or ``"none"`` (see :func:`check_capacity_rights`)."""
    problems = Problems()
    frame = frame.rename(columns=lambda c: str(c).strip())
    if not check_header(list(frame.columns), list(COLUMNS), list(REQUIRED), file, problems):
        return [], problems
    if len(frame) == 0:
        problems.add(file, None, "no counter-plans", "add at least one row")
        return [], problems
    table = RawTable(file, frame, np.arange(len(frame)) + 2)
    rows = [_row(table, k, economy, problems) for k in range(len(frame))]
    check_capacity_rights(table, rows, economy, problems, resources)
    plans = _group(table, rows, economy, problems)
    return ([] if problems.errors else plans), problems


def _text(frame: pd.DataFrame, col: str, k: int) -> str:
    return str(frame[col].iloc[k]).strip() if col in frame.columns else ""


def _row(table: RawTable, k: int, economy: Economy, problems: Problems
         ) -> tuple[str, str, str, str, Change | None, str]:
    """Check one row; return (id, unit, kind, technique id, change, note)."""
    assert table.frame is not None
    f, line = table.frame, int(table.lines[k])
    cid, unit, kind = _text(f, "id", k), _text(f, "unit_id", k), _text(f, "kind", k).lower()
    tech, item, period = _text(f, "technique", k), _text(f, "item", k), _text(f, "period", k)
    raw_value, note = _text(f, "value", k), _text(f, "note", k)
    file = table.file
    ok = True
    if not cid:
        problems.add(file, line, "counter-plan has an empty id",
                     "give every counter-plan an id; rows with the same id form one")
        ok = False
    if kind not in KINDS:
        problems.add(file, line, "unknown kind", f"use one of {', '.join(KINDS)}", kind)
        return cid, unit, kind, tech, None, note
    if unit and unit not in economy.units.index:
        problems.add(file, line, "unknown unit_id", "use a unit of units.csv", unit)
        ok = False
    try:
        value = float(raw_value)
    except ValueError:
        value = np.nan
    if not np.isfinite(value):
        problems.add(file, line, "'value' is not a finite number", "give a number", raw_value)
        ok = False
    t = int(economy.techniques.index.get_indexer(pd.Index([tech]))[0]) if tech else -1
    i = int(economy.items.index.get_indexer(pd.Index([item]))[0]) if item else -1
    p = economy.periods.index(period) if period in economy.periods else -1
    if period and p < 0:
        problems.add(file, line, "unknown period", "use a period of economy.toml", period)
        ok = False
    if item and i < 0:
        problems.add(file, line, "unknown item", "use an item of items.csv", item)
        ok = False
    if kind in ("norm", "technique") and period:
        problems.add(file, line, f"a {kind} holds in every period",
                     "leave the period empty (propose a pledge for one period)", period)
        ok = False
    ok &= _check_kind(file, line, kind, economy, unit, tech, t, item, i, value, problems)
    change = Change(kind, t, i, p, value) if ok else None
    return cid, unit, kind, tech, change, note


def _check_kind(file: str, line: int, kind: str, economy: Economy, unit: str, tech: str,
                t: int, item: str, i: int, value: float, problems: Problems) -> bool:
    """The rules of each kind; report and return False where broken."""
    n_errors = len(problems.errors)
    if kind in ("pledge", "norm"):
        if not tech:
            problems.add(file, line, f"a {kind} needs a technique", "name the technique")
        elif t < 0:
            problems.add(file, line, "unknown technique", "use a technique of techniques.csv",
                         tech)
        else:
            owner = str(economy.techniques["unit_id"].iloc[t])
            if owner and owner != unit:
                problems.add(file, line, f"technique belongs to another unit ({owner})",
                             "a unit proposes only for its own techniques", tech)
    if kind == "pledge" and np.isfinite(value) and value < 0:
        problems.add(file, line, "a pledge is negative", "pledge an activity >= 0", value)
    if kind == "norm" and t >= 0 and i >= 0 and np.isfinite(value):
        _check_norm(file, line, economy, t, i, value, problems)
    if kind in ("norm", "capacity", "technique") and not item:
        problems.add(file, line, f"a {kind} needs an item", "name the item")
    if kind == "capacity" and i >= 0:
        if economy.kind_codes[i] not in (RESOURCE, STOCK):
            problems.add(file, line, "capacity is for resources and stocks",
                         "name a resource or stock (products are made by techniques)", item)
        if np.isfinite(value) and value <= 0:
            problems.add(file, line, "capacity must rise", "give a positive amount", value)
    if kind == "technique":
        if not tech:
            problems.add(file, line, "a new technique needs an id in 'technique'",
                         "name the technique it proposes")
        elif t >= 0:
            problems.add(file, line, "technique already exists",
                         "to change an existing technique propose a norm; give a new id",
                         tech)
    return len(problems.errors) == n_errors


RESOURCE_RIGHTS = ("any", "use", "none")


def check_capacity_rights(table: RawTable, rows: list[tuple[str, str, str, str, Change | None,
                                                            str]],
                          economy: Economy, problems: Problems, resources: str = "any") -> None:
    """A unit claims only capacity that is its own: a stock its techniques
    use or add, a resource as ``resources`` allows (any, the ones its
    techniques use, none).  Rows that name no unit are the office's."""
    if resources not in RESOURCE_RIGHTS:
        raise ValueError(f"resources must be one of {RESOURCE_RIGHTS}, not {resources!r}")
    f = economy.flows
    owners = economy.techniques["unit_id"].astype(str).to_numpy()[f.technique]
    for k, (_, unit, kind, _, change, _) in enumerate(rows):
        if kind != "capacity" or change is None or not unit:
            continue
        i = change.item
        stock = economy.kind_codes[i] == STOCK
        if not stock and resources == "any":
            continue
        touch = (f.item == i) & ((f.amount != 0) if stock else (f.amount < 0))
        holders = set(owners[touch]) - {""}
        if not stock and resources == "none":
            why = "the office does not let units propose capacity of resources"
        elif unit not in holders:
            why = (f"no technique of unit {unit!r} {'uses or adds' if stock else 'uses'} it"
                   + (f" (it is {', '.join(sorted(holders))}'s)" if holders else ""))
        else:
            continue
        what = "stock" if stock else "resource"
        problems.add(table.file, int(table.lines[k]),
                     f"capacity of a {what} that is not the unit's: {why}",
                     "propose capacity for what your own techniques use; the unit that holds "
                     "it, or the office, may propose the rest", economy.items.index[i])


def _check_norm(file: str, line: int, economy: Economy, t: int, i: int, value: float,
                problems: Problems) -> None:
    f = economy.flows
    current = f.amount[(f.technique == t) & (f.item == i)]
    item = economy.items.index[i]
    if len(current) == 0:
        problems.add(file, line, "the technique has no flow of this item",
                     "a norm changes an existing flow; propose a new technique to add one",
                     item)
    elif value > 0 and (current < 0).all():
        problems.add(file, line, "a norm turns an input into an output",
                     "give the new input as a negative amount per unit of activity", value)
    elif value <= 0 and (current > 0).all():
        problems.add(file, line, "a norm turns an output into an input",
                     "give the new output as a positive amount per unit of activity", value)
    elif value > 0 and economy.kind_codes[i] == RESOURCE:
        problems.add(file, line, "a technique produces a resource", "resources are inputs",
                     value)


def _group(table: RawTable, rows: list[tuple[str, str, str, str, Change | None, str]],
           economy: Economy, problems: Problems) -> list[CounterPlan]:
    """Rows with the same id form one counter-plan, from one unit."""
    order: dict[str, list[int]] = {}
    for k, row in enumerate(rows):
        order.setdefault(row[0], []).append(k)
    plans = []
    for cid, ks in order.items():
        units = {rows[k][1] for k in ks}
        if len(units) > 1:
            problems.add(table.file, int(table.lines[ks[0]]),
                         "a counter-plan's rows name different units",
                         "one counter-plan comes from one unit; split it", cid)
        changes = tuple(c for k in ks if rows[k][2] != "technique"
                        and (c := rows[k][4]) is not None)
        techniques = _new_techniques(table, [k for k in ks if rows[k][2] == "technique"],
                                     rows, economy, problems)
        note = " ".join(dict.fromkeys(rows[k][5] for k in ks if rows[k][5]))
        plans.append(CounterPlan(cid, rows[ks[0]][1], changes, techniques, note))
    return plans


def _new_techniques(table: RawTable, ks: list[int],
                    rows: list[tuple[str, str, str, str, Change | None, str]],
                    economy: Economy, problems: Problems) -> tuple[NewTechnique, ...]:
    by_id: dict[str, list[int]] = {}
    for k in ks:
        by_id.setdefault(rows[k][3], []).append(k)
    out = []
    for tech, members in by_id.items():
        changes = [c for k in members if (c := rows[k][4]) is not None]
        if len(changes) < len(members):
            continue
        items = [c.item for c in changes]
        amounts = [c.value for c in changes]
        line = int(table.lines[members[0]])
        if len(set(items)) < len(items):
            problems.add(table.file, line, "the new technique lists an item twice",
                         "give one flow per item", tech)
        if not any(a > 0 and economy.kind_codes[i] != RESOURCE
                   for i, a in zip(items, amounts, strict=True)):
            problems.add(table.file, line, "the new technique has no output",
                         "add a row with a positive amount of what it makes", tech)
        for i, a in zip(items, amounts, strict=True):
            if a > 0 and economy.kind_codes[i] == RESOURCE:
                problems.add(table.file, line, "a technique produces a resource",
                             "resources are inputs: give a negative amount",
                             economy.items.index[i])
        out.append(NewTechnique(tech, tuple(items), tuple(amounts)))
    return tuple(out)


__all__ = ["KINDS", "Change", "CounterPlan", "NewTechnique", "parse_counterplans",
           "read_counterplans"]
