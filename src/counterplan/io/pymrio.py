"""Input-output tables from and to pymrio (https://github.com/IndEcol/pymrio).

:func:`read_pymrio_folder` reads what ``IOSystem.save_all(path)`` writes, txt
or Parquet, with pandas only; :func:`from_pymrio` takes a live ``IOSystem``;
:func:`to_pymrio` turns an economy in input-output form back into one.

The folder: ``file_parameters.json`` gives each account's file and its numbers
of index columns and header rows (txt: tab-separated, 12 significant digits;
Parquet: index in the pandas metadata); ``metadata.json`` the name and
description; each extension is a subfolder with its own file_parameters.json.

The mapping, for every (region, sector) j with gross output x_j:

- a product and a technique, both with id ``region/sector``; the technique
  makes +1 of its product per unit of activity (so activity = x) and uses
  A_ij of every product i with A_ij ≠ 0, the diagonal as a second row of its
  own product (own use).  A is read when the folder has it, else A = Z / x;
  x is read, else x = Z·1 + Y·1.
- each row r of each extension's F becomes a resource with id
  ``<extension>/<row labels joined by '/'>``, used at S_rj = F_rj / x_j and
  available at Σ_j F_rj, so the base year balances.  F_Y (direct final-demand
  stressors) has no technique and is not read.
- targets in period "1" are Y summed over all its columns.

A sector with x_j = 0 makes +1 of its product from nothing: pymrio's A has a
zero column there, and where A or S is computed here a non-zero Z or F column
with x_j = 0 is an error (pymrio silently reads 1/0 as 0).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from counterplan.calc.leontief import gross_output, io_system
from counterplan.errors import CounterplanError, InvalidInput
from counterplan.io.assemble import assemble
from counterplan.io.problems import Problems, RawTable
from counterplan.model import Economy

if TYPE_CHECKING:
    import pymrio

FloatArray = NDArray[np.float64]
PERIOD = "1"
PARAMETERS = "file_parameters.json"
SHOWN = 5  # labels quoted in one message


@dataclass
class _Source:
    """The pymrio accounts ("Z", "x", "emissions/F", ...), each read on first
    use, and the file (or attribute) each comes from, for messages."""

    name: str
    description: str
    origin: str
    readers: dict[str, Callable[[], pd.DataFrame]]
    labels: dict[str, str]
    extensions: list[str]
    default_label: str = "{}.txt"
    cache: dict[str, pd.DataFrame] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        return key in self.readers

    def where(self, key: str) -> str:
        return self.labels.get(key, self.default_label.format(key))

    def load(self, key: str) -> pd.DataFrame:
        if key not in self.cache:
            self.cache[key] = self.readers[key]()
        return self.cache[key]


@dataclass(frozen=True)
class _Resources:
    ids: NDArray[np.object_]
    units: NDArray[np.object_]
    use: sp.coo_matrix  # S, resources × sectors
    total: FloatArray  # Σ_j F_rj


def _fail(file: str, message: str, fix: str, value: object = None) -> InvalidInput:
    problems = Problems()
    problems.add(file, None, message, fix, value)
    return InvalidInput(problems.found)


# -- reading -----------------------------------------------------------------

def read_pymrio_folder(src: str | Path, *, clip_negative: bool = False) -> Economy:
    """The economy of a folder written by pymrio's ``IOSystem.save_all``.

    Y summed over its columns can be negative for a product (inventories drawn
    down); targets cannot, so that is an error naming the products, unless
    ``clip_negative`` sets those targets to 0 (then gross output no longer
    reproduces x).  Raises :class:`InvalidInput` naming the file and the fix.
    """
    return _build(_folder_source(Path(src)), clip_negative)


def from_pymrio(io_system: Any, *, clip_negative: bool = False) -> Economy:
    """The economy of a live ``pymrio.IOSystem`` (mapping as for a folder;
    extensions are named by their attribute, as ``save_all`` names folders)."""
    if not hasattr(io_system, "get_extensions"):
        raise CounterplanError(f"expected a pymrio IOSystem, got {type(io_system).__name__}")
    frames = {k: getattr(io_system, k, None) for k in ("Z", "A", "x", "Y", "unit")}
    names = sorted(io_system.get_extensions())  # attribute names, as save_all uses
    for name in names:
        extension = getattr(io_system, name)
        frames[f"{name}/F"], frames[f"{name}/unit"] = extension.F, extension.unit
    return _build(_Source(
        name=str(getattr(io_system, "name", None) or "pymrio"),
        description=str(getattr(getattr(io_system, "meta", None), "description", None) or ""),
        origin="the IOSystem", extensions=names, labels={}, default_label="IOSystem.{}",
        readers={k: partial(pd.DataFrame, v) for k, v in frames.items()
                 if isinstance(v, pd.DataFrame | pd.Series)},  # a Series is one column
    ), clip_negative)


def _folder_source(folder: Path) -> _Source:
    if not folder.is_dir():
        raise _fail(str(folder), "pymrio folder not found",
                    "give the folder written by pymrio's IOSystem.save_all(path)")
    root = _json(folder / PARAMETERS, required=True)
    if root.get("systemtype") != "IOSystem":
        raise _fail(f"{folder.name}/{PARAMETERS}", "not the folder of a whole IOSystem",
                    "give the folder that save_all wrote, not an extension's subfolder",
                    root.get("systemtype"))
    readers, labels = _entries(folder, "", root)
    extensions = []
    for sub in sorted(p for p in folder.iterdir() if (p / PARAMETERS).is_file()):
        params = _json(sub / PARAMETERS, required=True)
        if params.get("systemtype") == "Extension":
            extensions.append(sub.name)
            more_readers, more_labels = _entries(sub, f"{sub.name}/", params)
            readers.update(more_readers)
            labels.update(more_labels)
    meta = _json(folder / "metadata.json", required=False)
    suffix = next((Path(v).suffix for v in labels.values()), ".txt")
    return _Source(name=str(meta.get("name") or folder.name),
                   description=str(meta.get("description") or ""), origin=str(folder),
                   readers=readers, labels=labels, extensions=extensions,
                   default_label="{}" + suffix)


def _json(file: Path, required: bool) -> dict[str, Any]:
    """file_parameters.json (required, with a 'files' table) or metadata.json."""
    label = f"{file.parent.name}/{file.name}"
    try:
        content = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if not required:
            return {}  # metadata.json is optional: the name then comes from the folder
        missing = isinstance(exc, FileNotFoundError)
        raise _fail(label, "file is missing: this is not a folder written by pymrio" if missing
                    else f"cannot be read as JSON: {exc}",
                    "save the system with pymrio's IOSystem.save_all(path), give that path"
                    ) from None
    if required and not (isinstance(content, dict) and isinstance(content.get("files"), dict)):
        raise _fail(label, "has no 'files' table", "save the system again with save_all")
    return content if isinstance(content, dict) else {}


def _entries(folder: Path, prefix: str, params: dict[str, Any]
             ) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, str]]:
    """Readers of the listed accounts whose file exists, and their labels."""
    readers: dict[str, Callable[[], pd.DataFrame]] = {}
    labels: dict[str, str] = {}
    for key, entry in params["files"].items():
        name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
        labels[prefix + key] = prefix + name
        if name and (folder / name).is_file():
            readers[prefix + key] = partial(_read_table, folder / name, entry, prefix + name)
    return readers, labels


def _read_table(file: Path, entry: dict[str, Any], label: str) -> pd.DataFrame:
    """One account as pymrio's own ``load`` reads it."""
    try:
        if file.suffix == ".parquet":
            return pd.read_parquet(file)
        if file.suffix in (".txt", ".csv", ".tsv"):
            n_index, n_header = int(entry["nr_index_col"]), int(entry["nr_header"])
            return pd.read_csv(file, sep="\t", index_col=list(range(n_index)),
                               header=list(range(n_header)) if n_header > 1 else 0)
    except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise _fail(label, f"cannot be read as a pymrio table: {exc}",
                    "save the system again with pymrio's save_all") from None
    raise _fail(label, "unsupported table format (pickle files are never read: unsafe)",
                'save the system with save_all(path, table_format="txt") or "parquet"')


# -- from the accounts to an economy ----------------------------------------

def _build(src: _Source, clip_negative: bool) -> Economy:
    sectors, x = _gross_output(src)
    a = _coefficients(src, sectors, x)
    y = _final_demand(src, sectors, clip_negative)
    units = _units(src, "unit", sectors)
    resources = [_extension(src, name, sectors, x) for name in src.extensions]
    tables = _tables(src.origin, sectors, units, a, y, resources)
    manifest = {"name": src.name, "description": src.description, "periods": [PERIOD]}
    economy, problems = assemble(manifest, tables, default_name=src.name)
    problems.raise_if_errors()
    assert economy is not None
    return economy


def _ids(index: pd.Index) -> NDArray[np.object_]:
    """Labels as ids: the levels of a MultiIndex joined by '/'."""
    levels = [index.get_level_values(k).astype(str).to_numpy(dtype=object)
              for k in range(index.nlevels)]
    out = levels[0]
    for level in levels[1:]:
        out = out + "/" + level
    return np.asarray(out, dtype=object)


def _matrix(src: _Source, key: str, rows: NDArray[np.object_] | None,
            cols: NDArray[np.object_] | None) -> tuple[FloatArray, NDArray[np.object_]]:
    """An account as numbers, rows and columns in the order asked (None: as
    stored); returns the values and the row ids."""
    frame, label = src.load(key), src.where(key)
    try:
        values = frame.to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise _fail(label, f"has a value that is not a number ({exc})",
                    "every entry must be a number") from None
    row_ids, col_ids = _ids(frame.index), _ids(frame.columns)
    r = _positions(row_ids, rows, label, "row", src)
    c = _positions(col_ids, cols, label, "column", src)
    if r is not None or c is not None:
        values = values[np.ix_(np.arange(len(row_ids)) if r is None else r,
                               np.arange(len(col_ids)) if c is None else c)]
    row_ids = row_ids if rows is None else rows
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        col = (col_ids if cols is None else cols)[bad[0, 1]]
        raise _fail(label, f"{len(bad)} empty or non-finite value(s), the first at row "
                    f"{row_ids[bad[0, 0]]}, column {col}",
                    "give every entry as a finite number (0 where nothing flows)")
    return values, row_ids


def _positions(have: NDArray[np.object_], want: NDArray[np.object_] | None, label: str,
               axis: str, src: _Source) -> NDArray[np.intp] | None:
    """Where each wanted label is in ``have`` (None: no reordering needed)."""
    index = pd.Index(have)
    if index.has_duplicates:
        raise _fail(label, f"a {axis} label appears twice", "give every sector once",
                    index[index.duplicated()][0])
    if want is None or index.equals(pd.Index(want)):
        return None
    pos = index.get_indexer(pd.Index(want))
    missing, extra = want[pos < 0], index.difference(pd.Index(want))
    if len(missing) or len(extra):
        shown = ", ".join(map(str, [*missing[:SHOWN], *extra[:SHOWN]]))
        first = src.where("x" if src.has("x") else "Z")
        raise _fail(label, f"its {axis}s are not the sectors listed in {first}: "
                    f"{len(missing)} missing, {len(extra)} unknown",
                    "every account must list the same regions and sectors", shown)
    return pos


def _gross_output(src: _Source) -> tuple[NDArray[np.object_], FloatArray]:
    if src.has("x"):
        x, sectors = _matrix(src, "x", None, None)
        if x.shape[1] != 1:
            raise _fail(src.where("x"), f"has {x.shape[1]} columns, not 1",
                        "x is gross output: one column (pymrio names it 'indout')")
        x = x[:, 0]
    elif src.has("Z") and src.has("Y"):
        z, sectors = _matrix(src, "Z", None, None)
        x = z.sum(axis=1) + _matrix(src, "Y", sectors, None)[0].sum(axis=1)
    else:
        raise _fail(src.where("x"), f"gross output is missing (and {src.where('Z')} or "
                    f"{src.where('Y')} to compute it)", "save the system after calc_all()")
    if (x < 0).any():
        raise _fail(src.where("x"), "gross output is negative",
                    "correct x (or Z and Y)", sectors[x < 0][0])
    return sectors, x


def _per_output(m: FloatArray, x: FloatArray, label: str,
                sectors: NDArray[np.object_]) -> FloatArray:
    """M / x by column, refusing a non-zero column where x_j = 0."""
    zero = x == 0
    wrong = zero & (m != 0).any(axis=0)
    if wrong.any():
        raise _fail(label, f"{wrong.sum()} sector(s) with gross output 0 have non-zero entries "
                    "(pymrio would silently drop them)", "correct x, or zero their columns",
                    ", ".join(map(str, sectors[wrong][:SHOWN])))
    return np.divide(m, x, out=np.zeros_like(m), where=~zero)


def _coefficients(src: _Source, sectors: NDArray[np.object_], x: FloatArray) -> sp.coo_matrix:
    if src.has("A"):
        a, _ = _matrix(src, "A", sectors, sectors)
        label = src.where("A")
    elif src.has("Z"):
        label = src.where("Z")
        a = _per_output(_matrix(src, "Z", sectors, sectors)[0], x, label, sectors)
    else:
        raise _fail(src.where("Z"), f"the inputs are missing: neither {src.where('A')} nor "
                    f"{src.where('Z')} is there", "save the system with Z (or after calc_all())")
    if (a < 0).any():
        raise _fail(label, "negative input coefficient (a technique would make its input)",
                    "correct the table; counterplan reads inputs as amounts >= 0",
                    sectors[np.argwhere(a < 0)[0, 1]])
    return sp.coo_matrix(a)


def _final_demand(src: _Source, sectors: NDArray[np.object_], clip_negative: bool
                  ) -> FloatArray:
    if not src.has("Y"):
        raise _fail(src.where("Y"), "final demand is missing: it gives the targets",
                    "save the system with Y")
    y = _matrix(src, "Y", sectors, None)[0].sum(axis=1)
    negative = y < 0
    if negative.any() and not clip_negative:
        raise _fail(src.where("Y"), f"final demand summed over all columns is negative for "
                    f"{negative.sum()} product(s) (inventories drawn down?); targets must be "
                    ">= 0", "remove or net out the inventory-change columns of Y, or read "
                    "with clip_negative=True to set these targets to 0",
                    ", ".join(map(str, sectors[negative][:SHOWN])))
    return np.maximum(y, 0.0)


def _units(src: _Source, key: str, ids: NDArray[np.object_]) -> NDArray[np.object_]:
    """The 'unit' column of a unit account by id ('' where absent)."""
    if not src.has(key):
        return np.full(len(ids), "", dtype=object)
    frame = src.load(key)
    column = frame["unit"] if "unit" in frame.columns else frame.iloc[:, 0]
    by_id = pd.Series(column.astype(str).to_numpy(dtype=object), index=_ids(frame.index))
    by_id = by_id[~by_id.index.duplicated()]
    return by_id.reindex(ids).fillna("").to_numpy(dtype=object)


def _extension(src: _Source, name: str, sectors: NDArray[np.object_],
               x: FloatArray) -> _Resources:
    key = f"{name}/F"
    if not src.has(key):
        raise _fail(src.where(key), "extension has no F (its totals per sector)",
                    "save the system after calc_all(), or remove the extension")
    f, rows = _matrix(src, key, None, sectors)
    if (f < 0).any():
        r = np.argwhere(f < 0)[0, 0]
        raise _fail(src.where(key), "negative entries: a resource can be used, not produced",
                    "drop or split that row (positive and negative parts) before reading",
                    rows[r])
    use = sp.coo_matrix(_per_output(f, x, src.where(key), sectors))
    return _Resources(ids=np.asarray(name + "/" + rows, dtype=object),
                      units=_units(src, f"{name}/unit", rows), use=use, total=f.sum(axis=1))


def _tables(origin: str, sectors: NDArray[np.object_], units: NDArray[np.object_],
            a: sp.coo_matrix, y: FloatArray, resources: list[_Resources]
            ) -> dict[str, RawTable]:
    """The plan-folder tables: items, techniques, flows, availability, targets."""
    n = len(sectors)
    item_ids = pd.Index(np.concatenate([sectors, *(r.ids for r in resources)]), dtype=object)
    if item_ids.has_duplicates:
        raise _fail(origin, "a resource id equals a product id",
                    "rename the extension or the region", item_ids[item_ids.duplicated()][0])
    made = y > 0
    frames = {
        "items": pd.DataFrame({
            "id": item_ids, "kind": np.where(np.arange(len(item_ids)) < n, "product", "resource"),
            "unit": np.concatenate([units, *(r.units for r in resources)])}),
        "techniques": pd.DataFrame({"id": sectors}),
        "flows": _flows(pd.Index(sectors, dtype=object), item_ids, a, resources),
        "availability": pd.DataFrame({
            "item": item_ids[n:], "period": PERIOD,
            "amount": np.concatenate([np.zeros(0), *(r.total for r in resources)])}),
        "targets": pd.DataFrame({"item": sectors[made], "period": PERIOD, "amount": y[made]}),
    }
    tables = {k: RawTable(f"{origin}: {k}", v, np.arange(len(v), dtype=np.int64) + 1)
              for k, v in frames.items()}
    tables["units"] = RawTable(f"{origin}: units", None, np.zeros(0, dtype=np.int64))
    return tables


def _flows(sectors: pd.Index, items: pd.Index, a: sp.coo_matrix,
           resources: list[_Resources]) -> pd.DataFrame:
    """+1 output per technique, −A_ij inputs, −S_rj resource use; ids as
    categoricals so that assemble resolves each id once."""
    n = len(sectors)
    offsets = np.cumsum([n] + [len(r.ids) for r in resources])[:-1]
    own = np.arange(n)
    technique = np.concatenate([own, a.col, *(r.use.col for r in resources)])
    item = np.concatenate([own, a.row, *(o + r.use.row
                                        for o, r in zip(offsets, resources, strict=True))])
    return pd.DataFrame({
        "technique": pd.Categorical.from_codes(technique.astype(np.int64), categories=sectors),
        "item": pd.Categorical.from_codes(item.astype(np.int64), categories=items),
        "amount": np.concatenate([np.ones(n), -a.data, *(-r.use.data for r in resources)]),
    })


# -- writing -----------------------------------------------------------------

def to_pymrio(economy: Economy, period: str | None = None) -> pymrio.IOSystem:
    """A ``pymrio.IOSystem`` of an economy in input-output form, for ``period``
    (default: the only one): x = gross output delivering the targets, Z =
    A·diag(x), Y = the targets as one final-demand column (region: the
    economy's name), and one extension ``resources`` with F = each sector's use
    of each resource (stocks have no pymrio counterpart and are left out).
    Region and sector come from splitting product ids at the first '/' (the
    economy's name as region where there is none).  Z, A and F are dense, as
    pymrio holds them."""
    try:
        import pymrio
    except ImportError:
        raise CounterplanError("to_pymrio needs pymrio: pip install 'counterplan[pymrio]'"
                               ) from None
    system = io_system(economy)
    t = _period(economy, period)
    unmade = np.setdiff1d(economy.products, system.products)
    if len(unmade):
        raise CounterplanError(
            f"{len(unmade)} product(s) are made by no technique, e.g. "
            f"{', '.join(map(str, economy.items.index[unmade[:SHOWN]]))}: pymrio needs "
            "one sector per product; add a technique for each or remove them")
    p, j, r = system.products, system.techniques, economy.resources
    final = economy.target_array()[p, t]
    activity, _ = gross_output(system, final)
    made = economy.output_matrix.tocsr()[p][:, j].diagonal()
    use = economy.input_matrix.tocsr()
    sectors = _regions_sectors(economy.items.index[p].to_numpy(dtype=object), economy.name)
    names = pd.Index(economy.items.index[r].astype(str), name="resource")
    units = economy.items["unit"].to_numpy(dtype=object)
    columns = pd.MultiIndex.from_tuples([(economy.name, "final demand")],
                                        names=["region", "category"])
    return pymrio.IOSystem(
        Z=pd.DataFrame((use[p][:, j] @ sp.diags(activity)).toarray(), sectors, sectors),
        A=pd.DataFrame((use[p][:, j] @ sp.diags(1.0 / made)).toarray(), sectors, sectors),
        x=pd.DataFrame({"indout": made * activity}, index=sectors),
        Y=pd.DataFrame(final[:, None], index=sectors, columns=columns),
        unit=pd.DataFrame({"unit": units[p]}, index=sectors),
        name=economy.name, description=economy.description,
        resources={"name": "resources", "unit": pd.DataFrame({"unit": units[r]}, index=names),
                   "F": pd.DataFrame((use[r][:, j] @ sp.diags(activity)).toarray(), names,
                                     sectors)},
    )


def _period(economy: Economy, period: str | None) -> int:
    if period is None and economy.n_periods == 1:
        return 0
    if period in economy.periods:
        return economy.periods.index(period)
    raise CounterplanError(f"choose the period to export: one of {', '.join(economy.periods)}"
                           + ("" if period is None else f" (not {period!r})"))


def _regions_sectors(ids: NDArray[np.object_], name: str) -> pd.MultiIndex:
    """Split ids at the first '/': region and sector (region ``name`` if none)."""
    parts = pd.Series(ids, dtype=object).astype(str).str.partition("/")
    plain = (parts[1] == "").to_numpy()
    region = np.where(plain, name, parts[0].to_numpy(dtype=object))
    sector = np.where(plain, parts[0].to_numpy(dtype=object), parts[2].to_numpy(dtype=object))
    return pd.MultiIndex.from_arrays([region, sector], names=["region", "sector"])


__all__ = ["from_pymrio", "read_pymrio_folder", "to_pymrio"]
