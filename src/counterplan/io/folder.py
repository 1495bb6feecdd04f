"""Read and write plan folders: CSV (or Parquet) tables and economy.toml
(DESIGN.md §4).  Writing goes through a temporary folder, so a failed write
never leaves a half-written plan behind."""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

from counterplan.errors import InvalidInput, Problem
from counterplan.io.assemble import MANIFEST, assemble
from counterplan.io.atomic import staged_folder
from counterplan.io.csvfile import encoding_problem, read_csv
from counterplan.io.outputs import PLAN_FILES
from counterplan.io.problems import Problems, RawTable
from counterplan.model import Economy, Entries
from counterplan.schema import TABLES, Table

Format = Literal["csv", "parquet"]


def read_folder(path: str | Path) -> Economy:
    """Read and validate a plan folder; raise :class:`InvalidInput` listing
    every problem when it has errors."""
    return load_folder(path)[0]


def load_folder(path: str | Path) -> tuple[Economy, list[Problem]]:
    """As :func:`read_folder`, and return the warnings too (for a caller that
    shows them: unknown columns, resources without availability)."""
    economy, problems = _read(Path(path))
    problems.raise_if_errors()
    assert economy is not None
    return economy, problems.warnings


def check_folder(path: str | Path) -> Problems:
    """Every problem of a plan folder (errors and warnings), without raising."""
    return _read(Path(path))[1]


def _read(path: Path) -> tuple[Economy | None, Problems]:
    if not path.is_dir():
        problems = Problems()
        problems.add(str(path), None, "plan folder not found",
                     "give the folder that holds economy.toml and the CSV tables "
                     "(`counterplan example list` shows examples to start from)")
        return None, problems
    manifest, manifest_problems = _read_manifest(path)
    tables: dict[str, RawTable] = {}
    read_problems = Problems()
    for table in TABLES:
        tables[table.name] = _read_table(path, table, read_problems)
    economy, problems = assemble(manifest, tables, default_name=path.name)
    problems.found[:0] = manifest_problems.found + read_problems.found
    problems.found = problems.sorted(
        [MANIFEST] + [f"{t.name}.{ext}" for t in TABLES for ext in ("csv", "parquet")])
    if manifest_problems.errors or read_problems.errors:
        economy = None
    return economy, problems


def _read_manifest(path: Path) -> tuple[dict[str, Any], Problems]:
    problems = Problems()
    file = path / MANIFEST
    if not file.exists():
        problems.add(MANIFEST, None, "required file is missing",
                     'create it with at least: name = "..." and periods = ["1"]')
        return {}, problems
    try:
        return tomllib.loads(file.read_text(encoding="utf-8")), problems
    except UnicodeDecodeError:
        encoding_problem(file, MANIFEST, problems, "save it as UTF-8 (an editor's 'Save with "
                         "encoding', UTF-8)")
        return {}, problems
    except tomllib.TOMLDecodeError as exc:
        problems.add(MANIFEST, getattr(exc, "lineno", None), f"not valid TOML: {exc}",
                     "correct the syntax (strings in double quotes, lists in [ ])")
        return {}, problems


def _read_table(path: Path, table: Table, problems: Problems) -> RawTable:
    csv_file, parquet_file = path / f"{table.name}.csv", path / f"{table.name}.parquet"
    if csv_file.exists() and parquet_file.exists():
        problems.add(parquet_file.name, None, "both a CSV and a Parquet version exist",
                     "keep only one of them")
    if parquet_file.exists():
        return _read_parquet(parquet_file, table, problems)
    file = csv_file.name
    if not csv_file.exists():
        return RawTable(file, None, np.zeros(0, dtype=np.int64))
    try:
        frame = read_csv(csv_file, file, problems)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame({c: pd.Series([], dtype=str) for c in table.column_names})
        problems.add(file, None, "file is empty (no header row)",
                     f"start it with the header {','.join(table.column_names)}")
    if frame is None:
        return RawTable(file, None, np.zeros(0, dtype=np.int64), readable=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(file, frame, np.arange(len(frame), dtype=np.int64) + 2)


def _read_parquet(file: Path, table: Table, problems: Problems) -> RawTable:
    refs = [c.name for c in table.columns if c.type in ("ref",)]
    try:
        schema = pq.read_schema(file)
        dictionary = [c for c in refs if c in schema.names]
        arrow = pq.read_table(file, read_dictionary=dictionary)
    except (OSError, pa.ArrowException) as exc:
        problems.add(file.name, None, f"cannot be read as Parquet: {exc}",
                     "write it again with pandas.DataFrame.to_parquet or pyarrow")
        return RawTable(file.name, None, np.zeros(0, dtype=np.int64), readable=False)
    arrow = _one_dictionary(arrow).combine_chunks()
    frame = arrow.to_pandas(split_blocks=True, self_destruct=True)
    del arrow
    pa.default_memory_pool().release_unused()  # the copies made on the way, for the OS
    return RawTable(file.name, frame, np.arange(len(frame), dtype=np.int64) + 1)


def _one_dictionary(arrow: pa.Table) -> pa.Table:
    """Give every dictionary column one dictionary for all its chunks.  The
    chunks of a column read from one row group share their dictionary: then
    the indices are simply joined (unifying 10⁷-entry dictionaries chunk by
    chunk took minutes); otherwise the dictionaries are unified."""
    for k, column in enumerate(arrow.columns):
        if not pa.types.is_dictionary(column.type) or column.num_chunks < 2:
            continue
        first = column.chunk(0).dictionary
        if all(c.dictionary is first or c.dictionary.equals(first) for c in column.chunks):
            indices = pa.concat_arrays([c.indices for c in column.chunks])
            joined = pa.DictionaryArray.from_arrays(indices, first)
            arrow = arrow.set_column(k, arrow.field(k), pa.chunked_array([joined]))
    return arrow.unify_dictionaries()


# -- writing -----------------------------------------------------------------

def write_folder(economy: Economy, path: str | Path, format: Format = "csv") -> Path:
    """Write ``economy`` as a plan folder at ``path``; return the path.  A
    table already there in the other format (or one the economy does not
    have) is removed, so the folder holds one version of every table."""
    path = Path(path)
    with staged_folder(path, stale=PLAN_FILES) as tmp:
        (tmp / MANIFEST).write_text(tomli_w.dumps(_manifest(economy)), encoding="utf-8")
        for name, frame in _tables(economy).items():
            if name == "units" and len(frame) == 0:
                continue
            if format == "parquet":
                _write_parquet(frame, tmp / f"{name}.parquet")
            else:
                _write_csv(frame, tmp / f"{name}.csv")
    return path


def _manifest(economy: Economy) -> dict[str, Any]:
    objective: dict[str, Any] = {"kind": economy.objective.kind}
    if economy.objective.weights:
        objective["weights"] = dict(economy.objective.weights)
    if economy.objective.resources:
        objective["resources"] = dict(economy.objective.resources)
    return {"name": economy.name, "description": economy.description,
            "periods": list(economy.periods), "objective": objective}


def _ids(index: pd.Index, codes: np.ndarray) -> pa.DictionaryArray:
    """Ids by position, dictionary-encoded: cheap at any size."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False)),
                                          _strings(index))


def _strings(values: pd.Index | pd.Series) -> pa.Array:
    """A column of text as Arrow strings: taken as it is when pandas already
    holds it as strings (no Python object per row: 10⁷ ids took seconds)."""
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(
            values.dtype):
        arrow = pa.array(values)
        return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
    if isinstance(values, pd.Index):
        return pa.array(values.astype(str).to_numpy(dtype=object))
    return pa.array(values.to_numpy(dtype=object))


def _tables(e: Economy) -> dict[str, pa.Table]:
    items = pa.table({
        "id": _strings(e.items.index),
        "kind": _strings(e.items["kind"]),
        "unit": _strings(e.items["unit"]),
        "name": _strings(e.items["name"]),
        "depreciation": e.items["depreciation"].to_numpy(dtype=float),
    })
    hi = e.techniques["max"].to_numpy(dtype=float)
    techniques = pa.table({
        "id": _strings(e.techniques.index),
        "name": _strings(e.techniques["name"]),
        "unit_id": _strings(e.techniques["unit_id"]),
        "min": e.techniques["min"].to_numpy(dtype=float),
        "max": pa.array(hi, mask=~np.isfinite(hi)),
    })
    flows = pa.table({
        "technique": _ids(e.techniques.index, e.flows.technique),
        "item": _ids(e.items.index, e.flows.item),
        "amount": e.flows.amount,
    })
    periods = pd.Index(e.periods)
    return {
        "items": items, "techniques": techniques, "flows": flows,
        "availability": _entries(e.availability, e.items.index, periods),
        "targets": _entries(e.targets, e.items.index, periods),
        "units": pa.table({"id": e.units.index.astype(str).to_numpy(dtype=object),
                           "name": e.units["name"].to_numpy(dtype=object)}),
    }


def _entries(entries: Entries, items: pd.Index, periods: pd.Index) -> pa.Table:
    columns: dict[str, Any] = {
        "item": _ids(items, entries.item), "period": _ids(periods, entries.period),
        "amount": entries.amount,
    }
    if entries.weight is not None:
        columns["weight"] = entries.weight
    return pa.table(columns)


def _write_parquet(table: pa.Table, file: Path) -> None:
    """Dictionary-encode only the reference and text columns (dictionary
    encoding of 10⁷ distinct amounts or ids only costs time), keep each
    reference column's dictionary whole however large it is, in one row group
    (so it is stored, and read back, once), and skip min/max statistics of
    the dictionary columns (string comparisons over every page: 8 s of 9 for
    the items of 10⁶ products' flows)."""
    encoded = [f.name for f in table.schema if f.name != "id"
               and (pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)
                    or pa.types.is_large_string(f.type))]
    plain = [f.name for f in table.schema if not pa.types.is_dictionary(f.type)]
    pq.write_table(table, file, use_dictionary=encoded, dictionary_pagesize_limit=1 << 30,
                   row_group_size=max(table.num_rows, 1), write_statistics=plain)


def _write_csv(table: pa.Table, file: Path) -> None:
    """CSV with full float precision (repr), empty for missing values."""
    columns = []
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        values = col.to_pylist()
        if pa.types.is_floating(col.type):
            columns.append([_number(v) for v in values])
        else:
            columns.append(["" if v is None else str(v) for v in values])
    with file.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(zip(*columns, strict=True))


def _number(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return ""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


__all__ = ["InvalidInput", "check_folder", "load_folder", "read_folder", "staged_folder",
           "write_folder"]
