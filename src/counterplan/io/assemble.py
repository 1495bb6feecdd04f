"""Turn the tables of a plan folder into a validated :class:`Economy`.

Every check runs, vectorised, and every problem is collected (file, line,
value, fix) before anything is raised: a planner fixes the whole folder in
one pass, not one error per run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.io.csvfile import check_header
from counterplan.io.outputs import MANIFEST
from counterplan.io.problems import Problems, RawTable
from counterplan.model import Economy, Entries, Flows, IntArray, Objective
from counterplan.schema import (
    AVAILABILITY,
    FLOWS,
    ITEMS,
    KIND_CODES,
    OBJECTIVE_KINDS,
    PRODUCT,
    RESOURCE,
    TARGETS,
    TECHNIQUES,
    UNITS,
    Table,
)


def assemble(manifest: dict[str, Any], tables: dict[str, RawTable],
             default_name: str = "economy") -> tuple[Economy | None, Problems]:
    """Check every table and build the economy; ``None`` when there are errors."""
    problems = Problems()
    periods = _periods(manifest, problems)
    usable = {t.name: _columns(tables[t.name], t, problems) for t in
              (ITEMS, TECHNIQUES, FLOWS, AVAILABILITY, TARGETS, UNITS)}

    units = _units(tables["units"], problems) if usable["units"] else _empty_units()
    items = _items(tables["items"], problems) if usable["items"] else None
    techniques = (_techniques(tables["techniques"], units, problems)
                  if usable["techniques"] else None)
    if items is None or techniques is None or not usable["flows"]:
        return None, problems
    flows = _flows(tables["flows"], items, techniques, problems)
    period_index = pd.Index(periods)
    availability = (_availability(tables["availability"], items, period_index, problems)
                    if usable["availability"] else _no_entries(False))
    made = np.zeros(len(items), dtype=bool)
    made[flows.item[flows.amount > 0]] = True
    targets = (_targets(tables["targets"], items, period_index, made, problems)
               if usable["targets"] else _no_entries(True))
    _warn_missing_availability(items, flows, availability, periods, tables, problems)
    objective = _objective(manifest, periods, items, problems)
    if problems.errors:
        return None, problems
    economy = Economy(
        name=str(manifest.get("name", default_name)),
        description=str(manifest.get("description", "")),
        periods=tuple(periods),
        items=items, techniques=techniques, units=units,
        flows=flows, availability=availability, targets=targets,
        objective=objective,
    )
    return economy, problems


# -- the manifest -----------------------------------------------------------

def _periods(manifest: dict[str, Any], problems: Problems) -> list[str]:
    raw = manifest.get("periods", ["1"])
    if not isinstance(raw, list) or not raw:
        problems.add(MANIFEST, None, "'periods' must be a non-empty list of labels",
                     'write for example periods = ["2026", "2027", "2028"]', raw)
        return ["1"]
    periods = [str(p) for p in raw]
    unique: list[str] = []
    for p in periods:
        if p in unique:
            problems.add(MANIFEST, None, "period listed twice in 'periods'",
                         "list every period once, in order", p)
        else:
            unique.append(p)
    return unique


def _objective(manifest: dict[str, Any], periods: list[str], items: pd.DataFrame,
               problems: Problems) -> Objective:
    raw = manifest.get("objective", {})
    if not isinstance(raw, dict):
        problems.add(MANIFEST, None, "[objective] must be a table", 'write [objective] kind = '
                     '"kantorovich"', raw)
        return Objective()
    kind = str(raw.get("kind", "kantorovich"))
    if kind not in OBJECTIVE_KINDS:
        problems.add(MANIFEST, None, "unknown objective kind",
                     f"use one of {', '.join(OBJECTIVE_KINDS)}", kind)
    weights = _number_table(raw.get("weights", {}), "weights", set(periods),
                            "a period of 'periods'", problems)
    resources = _number_table(raw.get("resources", {}), "resources",
                              set(items.index[items["kind"] != "product"]),
                              "a resource or stock of items.csv", problems)
    return Objective(kind=kind, weights=weights, resources=resources)


def _number_table(raw: object, key: str, allowed: set[str], what: str,
                  problems: Problems) -> dict[str, float]:
    if not isinstance(raw, dict):
        problems.add(MANIFEST, None, f"[objective] {key} must be a table of numbers",
                     f"write {key} = {{ name = 1.0 }}", raw)
        return {}
    out: dict[str, float] = {}
    for name, value in raw.items():
        if name not in allowed:
            problems.add(MANIFEST, None, f"[objective] {key} names an unknown entry",
                         f"name {what}", name)
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not np.isfinite(value) or value < 0:
            problems.add(MANIFEST, None, f"[objective] {key}.{name} is not a finite number >= 0",
                         "give a non-negative number", value)
            continue
        out[str(name)] = float(value)
    return out


# -- generic column helpers ---------------------------------------------------

def _columns(table: RawTable, schema: Table, problems: Problems) -> bool:
    """Is the table there, with its required columns and some rows?"""
    if table.frame is None:
        if schema.required and table.readable:
            problems.add(table.file, None, "required file is missing",
                         f"create it with the columns {', '.join(schema.column_names)}")
        return False
    if not check_header([str(c) for c in table.frame.columns], schema.column_names,
                        schema.required_columns, table.file, problems):
        return False
    if schema.required and len(table) == 0:
        problems.add(table.file, None, "table has no rows",
                     f"add at least one row ({schema.description})")
        return False
    return True


def _text(table: RawTable, col: str) -> pd.Series:
    """A column as stripped strings ('' where absent)."""
    assert table.frame is not None
    if col not in table.frame.columns:
        return pd.Series([""] * len(table), dtype=object)
    # blanks filled in numpy, then straight to pandas' string dtype (Arrow
    # under pandas 3: strip runs in C): 1.2–2× faster than pandas' where and
    # astype on an object column, at 10 rows and at 10⁵
    values = table.frame[col].to_numpy(dtype=object)
    absent = pd.isna(values)
    if absent.any():
        values = np.where(absent, "", values)
    return pd.Series(values, dtype="str").str.strip()


def _numbers(table: RawTable, col: str, default: float, problems: Problems, fix: str,
             required: bool = False) -> NDArray[np.float64]:
    """A numeric column; blanks take ``default`` (or are reported when
    ``required``); non-numbers and non-finite values are reported and read as NaN."""
    assert table.frame is not None
    if col not in table.frame.columns:
        return np.full(len(table), default)
    s = table.frame[col].reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        blank = np.isnan(values) & s.isna().to_numpy()
        raw: pd.Series = s
    else:
        raw = _text(table, col)
        blank = (raw == "").to_numpy()
        values = pd.to_numeric(raw.where(~blank, "0"), errors="coerce").to_numpy(dtype=float)
    if required:
        problems.rows(table, blank, f"'{col}' is empty", fix)
    if blank.any():  # (no copy of a column of 10⁸ numbers when none is blank)
        values = np.where(blank, np.nan if required else default, values)
    bad = ~blank & ~np.isfinite(values)
    if bad.any():
        problems.rows(table, bad, f"'{col}' is not a finite number", fix, raw)
        values = values.copy()
        values[bad] = np.nan
    return values


def _raw(table: RawTable, col: str) -> pd.Series:
    """A column as read, for quoting values in messages (no conversion)."""
    assert table.frame is not None
    if col not in table.frame.columns:
        return pd.Series([""] * len(table), dtype=object)
    return table.frame[col].reset_index(drop=True)


def _ids(table: RawTable, what: str, problems: Problems) -> pd.Series:
    """The id column, with empty and duplicate ids reported."""
    ids = _text(table, "id")
    problems.rows(table, (ids == "").to_numpy(), f"{what} has an empty id",
                  f"give every {what} a unique id")
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    if dup.any():
        first = dict(zip(ids[~ids.duplicated()], table.lines[~ids.duplicated().to_numpy()],
                         strict=True))
        for i in np.flatnonzero(dup)[:10]:
            problems.add(table.file, int(table.lines[i]), f"duplicate {what} id",
                         f"ids must be unique; it is already used on line {first[ids[i]]}",
                         ids[i])
        if dup.sum() > 10:
            problems.add(table.file, None, f"{dup.sum() - 10} more duplicate {what} ids",
                         "ids must be unique")
    return ids


def _refs(table: RawTable, col: str, index: pd.Index, what: str, problems: Problems,
          fix: str) -> IntArray:
    """Resolve a reference column to positions in ``index`` (-1 where unknown):
    32-bit where they fit, to halve the memory of 10⁸ flows."""
    position = np.int32 if len(index) < 2**31 - 1 else np.int64
    raw = table.frame[col] if table.frame is not None else None
    if isinstance(getattr(raw, "dtype", None), pd.CategoricalDtype):
        assert raw is not None  # dictionary-encoded Parquet: resolve each category once
        cats = pd.Index(raw.cat.categories.astype(str).str.strip())
        if cats.equals(index):  # written by write_folder: the ids in order, no hashing
            lookup = np.append(np.arange(len(index), dtype=position), -1)
        else:
            lookup = np.append(index.get_indexer(cats), -1).astype(position)
        codes = lookup[raw.cat.codes.to_numpy()]
        values: pd.Series = raw.reset_index(drop=True)
    else:
        values = _text(table, col)
        codes = index.get_indexer(pd.Index(values))
    problems.rows(table, codes < 0, f"unknown {what}", fix, values)
    return codes.astype(position, copy=False)


# -- the tables ---------------------------------------------------------------

def _empty_units() -> pd.DataFrame:
    return pd.DataFrame({"name": pd.Series([], dtype=object)},
                        index=pd.Index([], name="id", dtype=object))


def _units(table: RawTable, problems: Problems) -> pd.DataFrame:
    ids = _ids(table, "unit", problems)
    keep = ~ids.duplicated().to_numpy() & (ids != "").to_numpy()
    return pd.DataFrame({"name": _text(table, "name")[keep].to_numpy(dtype=object)},
                        index=pd.Index(ids[keep].to_numpy(dtype=object), name="id"))


def _items(table: RawTable, problems: Problems) -> pd.DataFrame:
    ids = _ids(table, "item", problems)
    kind = _text(table, "kind").str.lower()
    bad_kind = ~kind.isin(list(KIND_CODES)).to_numpy()
    problems.rows(table, bad_kind, "unknown kind",
                  "use product (made and used within a period), resource (given each "
                  "period) or stock (durable capacity)", _text(table, "kind"))
    dep = _numbers(table, "depreciation", 0.0, problems, "give a number between 0 and 1")
    outside = (dep < 0) | (dep > 1)
    problems.rows(table, outside, "depreciation outside [0, 1]",
                  "give the share of the stock lost each period, between 0 and 1", dep)
    keep = ~ids.duplicated().to_numpy() & (ids != "").to_numpy()
    frame = pd.DataFrame({
        "kind": kind.to_numpy(dtype=object),
        "unit": _text(table, "unit").to_numpy(dtype=object),
        "name": _text(table, "name").to_numpy(dtype=object),
        "depreciation": dep,
    }, index=pd.Index(ids.to_numpy(dtype=object), name="id"))
    return frame[keep]


def _techniques(table: RawTable, units: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    ids = _ids(table, "technique", problems)
    unit_id = _text(table, "unit_id")
    named = (unit_id != "").to_numpy()
    unknown = named & (units.index.get_indexer(pd.Index(unit_id)) < 0)
    problems.rows(table, unknown, "unknown unit_id",
                  "add the unit to units.csv or leave unit_id empty", unit_id)
    lo = _numbers(table, "min", 0.0, problems, "give a finite number, or leave it empty for 0")
    hi = _numbers(table, "max", np.inf, problems,
                  "give a finite number, or leave it empty for no upper bound")
    problems.rows(table, lo < 0, "min is negative", "activity bounds must be >= 0", lo)
    problems.rows(table, lo > hi, "min is above max", "make min <= max", _raw(table, "min"))
    keep = ~ids.duplicated().to_numpy() & (ids != "").to_numpy()
    frame = pd.DataFrame({
        "name": _text(table, "name").to_numpy(dtype=object),
        "unit_id": unit_id.to_numpy(dtype=object),
        "min": lo, "max": hi,
    }, index=pd.Index(ids.to_numpy(dtype=object), name="id"))
    return frame[keep]


def _flows(table: RawTable, items: pd.DataFrame, techniques: pd.DataFrame,
           problems: Problems) -> Flows:
    t = _refs(table, "technique", techniques.index, "technique", problems,
              "add it to techniques.csv or correct the id")
    i = _refs(table, "item", items.index, "item", problems,
              "add it to items.csv or correct the id")
    amount = _numbers(table, "amount", np.nan, problems,
                      "give the amount per unit of activity as a finite number", required=True)
    ok = (t >= 0) & (i >= 0) & np.isfinite(amount)
    _duplicate_flows(table, t, i, amount, ok, problems)

    kinds = _kind_codes(items)
    resource_out = ok & (amount > 0)
    resource_out &= kinds[i if ok.all() else np.maximum(i, 0)] == RESOURCE
    problems.rows(table, resource_out, "a technique produces a resource",
                  "resources are given from outside; make the item a product or stock, "
                  "or make the amount negative (an input)", _raw(table, "item"))
    has_output = np.zeros(len(techniques), dtype=bool)
    has_output[t[ok & (amount > 0)]] = True
    for j in np.flatnonzero(~has_output)[:10]:
        problems.add(table.file, None, "technique has no output (no positive flow)",
                     "add a row with a positive amount of what it makes",
                     techniques.index[j])
    if (~has_output).sum() > 10:
        problems.add(table.file, None, f"{(~has_output).sum() - 10} more techniques "
                     "have no output", "add a positive flow to each")
    if ok.all():  # nothing to drop: no copies
        return Flows(technique=t, item=i, amount=amount)
    return Flows(technique=t[ok], item=i[ok], amount=amount[ok])


def _duplicate_flows(table: RawTable, t: IntArray, i: IntArray,
                     amount: NDArray[np.float64], ok: NDArray[np.bool_],
                     problems: Problems) -> None:
    """A (technique, item) pair may appear twice only as one output and one input."""
    n_i = int(i.max(initial=0)) + 1
    # one key per (technique, item, sign): own use (the same pair as output and
    # input) is fine.  Sorted, a repeated key sits next to itself (measured at
    # 2.3·10⁷ flows: 0.5 s, where counting through a sparse matrix took 3.0 s)
    rows = slice(None) if ok.all() else ok  # a slice takes no copy
    keys: IntArray = t[rows].astype(np.int64)
    np.multiply(keys, 2 * n_i, out=keys)
    np.add(keys, 2 * i[rows], out=keys, casting="unsafe")
    np.add(keys, amount[rows] > 0, out=keys, casting="unsafe")
    keys.sort()
    if not (keys[1:] == keys[:-1]).any():
        return  # every (technique, item, sign) once: the common case
    del keys
    key = pd.DataFrame({"t": t, "i": i, "pos": amount > 0})[ok]
    # a second output or a second input of the same item is one too many
    extra = key.groupby(["t", "i", "pos"], sort=False).cumcount().to_numpy() >= 1
    mask = np.zeros(len(t), dtype=bool)
    mask[key.index[extra]] = True
    problems.rows(table, mask, "duplicate flow for the same technique and item",
                  "list an item at most twice per technique, once as output (+) and once "
                  "as input (-, own use); otherwise add the amounts into one row",
                  _raw(table, "item"))


def _entries(table: RawTable, items: pd.DataFrame, periods: pd.Index, what: str,
             problems: Problems) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                          NDArray[np.float64], NDArray[np.bool_]]:
    i = _refs(table, "item", items.index, "item", problems,
              "add it to items.csv or correct the id")
    p = _refs(table, "period", periods, "period", problems,
              "use one of the periods listed in economy.toml")
    amount = _numbers(table, "amount", np.nan, problems, f"give the {what} as a number >= 0",
                      required=True)
    problems.rows(table, amount < 0, f"{what} is negative", f"give the {what} as a number >= 0",
                  _raw(table, "amount"))
    ok = (i >= 0) & (p >= 0) & np.isfinite(amount)
    dup = pd.DataFrame({"i": i, "p": p}).duplicated().to_numpy() & ok
    problems.rows(table, dup, "the same item and period appear twice",
                  "give one row per item and period", _raw(table, "item"))
    return i, p, amount, ok & ~dup


def _availability(table: RawTable, items: pd.DataFrame, periods: pd.Index,
                  problems: Problems) -> Entries:
    i, p, amount, ok = _entries(table, items, periods, "availability", problems)
    kinds = _kind_codes(items)
    product = ok & (kinds[np.maximum(i, 0)] == PRODUCT)
    problems.rows(table, product, "availability given for a product",
                  "products are made by techniques; give availability only for resources "
                  "and stocks (or make the item a resource)", _raw(table, "item"))
    ok &= ~product
    return Entries(item=i[ok], period=p[ok], amount=amount[ok])


def _targets(table: RawTable, items: pd.DataFrame, periods: pd.Index,
             made: NDArray[np.bool_], problems: Problems) -> Entries:
    i, p, amount, ok = _entries(table, items, periods, "target", problems)
    weight = _numbers(table, "weight", 1.0, problems, "give a weight >= 0")
    problems.rows(table, weight < 0, "weight is negative", "give a weight >= 0", weight)
    kinds = _kind_codes(items)
    not_product = ok & (kinds[np.maximum(i, 0)] != PRODUCT) & (kinds[np.maximum(i, 0)] >= 0)
    problems.rows(table, not_product, "target for an item that is not a product",
                  "targets are final deliveries of products", _raw(table, "item"))
    unmade = ok & ~not_product & ~made[np.maximum(i, 0)] & (amount > 0)
    problems.rows(table, unmade, "target for a product that no technique makes",
                  "add a technique with this product as output, or remove the target",
                  _raw(table, "item"))
    ok &= ~not_product & np.isfinite(weight) & (weight >= 0)
    return Entries(item=i[ok], period=p[ok], amount=amount[ok], weight=weight[ok])


def _kind_codes(items: pd.DataFrame) -> NDArray[np.int8]:
    return np.asarray(items["kind"].map(KIND_CODES).fillna(-1), dtype=np.int8)


def _no_entries(weighted: bool) -> Entries:
    empty_i = np.zeros(0, dtype=np.int64)
    return Entries(item=empty_i, period=empty_i, amount=np.zeros(0),
                   weight=np.zeros(0) if weighted else None)


def _warn_missing_availability(items: pd.DataFrame, flows: Flows, availability: Entries,
                               periods: list[str], tables: dict[str, RawTable],
                               problems: Problems) -> None:
    """A resource used by some technique but without availability in a period
    has zero there: legal, but usually an oversight."""
    kinds = _kind_codes(items)
    used = np.unique(flows.item[(flows.amount < 0) & (kinds[flows.item] == RESOURCE)])
    if len(used) == 0:
        return
    given = np.zeros((len(items), len(periods)), dtype=bool)
    given[availability.item, availability.period] = True
    file = tables["availability"].file
    for r in used:
        missing = [periods[k] for k in np.flatnonzero(~given[r])]
        if missing:
            problems.warn(file, None,
                          f"resource has no availability in period(s) {', '.join(missing)}: "
                          "it counts as zero there", "add rows for these periods if any "
                          "of it is available", items.index[r])


__all__ = ["MANIFEST", "assemble"]
