"""SPEC.toml: the plans of a sweep, as a grid (and random draws by seed).

    name = "a study"
    mechanisms = ["exact", "harmony-heuristic"]
    seeds = 2                      # draws per grid point: seeds 0 .. seeds-1

    [generate]                     # generated economies (or [folder])
    products = [100, 1000]         # every list is a grid axis;
                                   # { min = 100, max = 1000 } draws one per seed
    inputs = [5, 10]               # optional: default log2(N) + 5
    periods = 1

    [folder]                       # or one plan folder ...
    path = "br"                    # relative to SPEC.toml
    counterplans = "proposals.csv" # ... and random subsets of a counter-plan file,
    subsets = 4                    #     reconciled before the mechanisms run
    subset_size = 3

    [perturb]                      # σ of log-normal factors (0: unchanged)
    targets = [0.0, 0.05]
    availability = [0.0]
    norms = [0.0]

    [run]
    memory_per_worker = "2GiB"     # default: the machine's memory / workers
    timeout = 600                  # seconds a run may take
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counterplan.errors import CounterplanError


class BadSpec(CounterplanError):
    """SPEC.toml cannot be read or says something impossible."""


@dataclass(frozen=True)
class Spec:
    name: str
    runs: tuple[dict[str, Any], ...]
    memory_per_worker: str | None
    timeout: float


_TOP = {"name", "mechanisms", "seeds", "generate", "folder", "perturb", "run"}
_TABLES = {"generate": {"products", "inputs", "periods", "stocks"},
           "folder": {"path", "counterplans", "subsets", "subset_size"},
           "perturb": {"targets", "availability", "norms"},
           "run": {"memory_per_worker", "timeout"}}


def read_spec(file: Path) -> Spec:
    """Read and expand SPEC.toml; :class:`BadSpec` names the key and the fix."""
    from counterplan.mechanisms.registry import check_mechanisms

    try:
        raw = tomllib.loads(Path(file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadSpec(f"{file}: no such file; give a sweep specification (SPEC.toml)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadSpec(f"{file}: not valid TOML ({exc}); see docs/mechanisms.md") from None
    _known(raw, _TOP, str(file))
    for table, keys in _TABLES.items():
        if table in raw:
            if not isinstance(raw[table], dict):
                raise BadSpec(f"{file}: [{table}] must be a table")
            _known(raw[table], keys, f"{file} [{table}]")
    mechanisms = raw.get("mechanisms")
    if not isinstance(mechanisms, list) or not all(isinstance(m, str) for m in mechanisms):
        raise BadSpec(f"{file}: mechanisms must be a list of names, e.g. "
                      'mechanisms = ["exact", "harmony-heuristic"]')
    check_mechanisms(mechanisms)
    if ("generate" in raw) == ("folder" in raw):
        raise BadSpec(f"{file}: give exactly one of [generate] (generated economies) or "
                      "[folder] (a plan folder)")
    seeds = _integer(raw.get("seeds", 1), f"{file}: seeds", 1)
    economies = _economies(raw, Path(file).parent, str(file))
    perturb = raw.get("perturb", {})
    axes = [_axis(perturb.get(k, 0.0), f"{file} [perturb] {k}", float)
            for k in ("targets", "availability", "norms")]
    runs = []
    for economy, targets, availability, norms, seed, mechanism in itertools.product(
            economies, *axes, range(seeds), mechanisms):
        runs.append(_drawn({"economy": economy, "targets": targets,
                            "availability": availability, "norms": norms, "seed": seed,
                            "mechanism": mechanism}, seed))
    run = raw.get("run", {})
    timeout = run.get("timeout", 600)
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise BadSpec(f"{file} [run] timeout: {timeout!r} is not a positive number of seconds")
    memory = run.get("memory_per_worker")
    if memory is not None and not isinstance(memory, str | int):
        raise BadSpec(f"{file} [run] memory_per_worker: give bytes or a size like \"2GiB\"")
    return Spec(name=str(raw.get("name", Path(file).stem)), runs=tuple(runs),
                memory_per_worker=None if memory is None else str(memory),
                timeout=float(timeout))


def run_hash(run: dict[str, Any]) -> str:
    """SHA-256 of a run's inputs (canonical JSON): the run's name in OUT."""
    text = json.dumps(run, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _known(raw: dict[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise BadSpec(f"{where}: unknown key {', '.join(unknown)}; "
                      f"use {', '.join(sorted(keys))}")


def _axis(value: Any, where: str, kind: type) -> list[Any]:
    if isinstance(value, dict):
        return [_range(value, where, kind)]
    values = value if isinstance(value, list) else [value]
    if not values:
        raise BadSpec(f"{where}: an empty list makes no runs; give at least one value")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or \
                (kind is int and not isinstance(v, int)):
            raise BadSpec(f"{where}: {v!r} is not a{'n integer' if kind is int else ' number'}")
        if v < 0 or (kind is int and v < 1):
            least = "at least 1" if kind is int else "zero or more"
            raise BadSpec(f"{where}: {v!r} must be {least}")
    return [kind(v) for v in values]


def _range(value: dict[str, Any], where: str, kind: type) -> dict[str, Any]:
    """``{ min = a, max = b }``: a random draw per seed (see :func:`_drawn`)."""
    if set(value) != {"min", "max"}:
        raise BadSpec(f"{where}: a random draw is written {{ min = A, max = B }}, "
                      f"not with {', '.join(sorted(value))}")
    low, high = _axis([value["min"], value["max"]], where, kind)
    if low > high:
        raise BadSpec(f"{where}: min {low!r} is above max {high!r}")
    return {"draw": [low, high], "integer": kind is int}


def _drawn(run: dict[str, Any], seed: int) -> dict[str, Any]:
    """The run with every ``{min, max}`` drawn from the seed and the key's name:
    integers log-uniformly (sizes), numbers uniformly.  The same seed draws
    the same economy for every mechanism."""
    import zlib

    import numpy as np

    def resolve(value: Any, key: str) -> Any:
        if isinstance(value, dict) and "draw" in value:
            rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
            low, high = value["draw"]
            if value["integer"]:
                return round(float(np.exp(rng.uniform(np.log(low), np.log(high)))))
            return float(rng.uniform(low, high))
        if isinstance(value, dict):
            return {k: resolve(v, k) for k, v in value.items()}
        return value

    return {k: resolve(v, k) for k, v in run.items()}


def _integer(value: Any, where: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise BadSpec(f"{where}: {value!r} must be an integer of at least {least}")
    return value


def _economies(raw: dict[str, Any], base: Path, file: str) -> list[dict[str, Any]]:
    if "generate" in raw:
        g = raw["generate"]
        if "products" not in g:
            raise BadSpec(f"{file} [generate]: products is required, e.g. products = [100]")
        products = _axis(g["products"], f"{file} [generate] products", int)
        inputs = _axis(g["inputs"], f"{file} [generate] inputs", int) if "inputs" in g \
            else [None]
        periods = _integer(g.get("periods", 1), f"{file} [generate] periods", 1)
        stocks = bool(g.get("stocks", False))
        return [{"generate": {"products": n, "inputs": k, "periods": periods,
                              "stocks": stocks}} for n, k in itertools.product(products, inputs)]
    f = raw["folder"]
    if "path" not in f:
        raise BadSpec(f"{file} [folder]: path is required (a plan folder)")
    path = (base / str(f["path"])).resolve()
    if not path.is_dir():
        raise BadSpec(f"{file} [folder] path: {path} is not a folder")
    from counterplan.io.folder import read_folder

    content = read_folder(path).content_hash()
    entry: dict[str, Any] = {"folder": str(path), "content": content}
    if "counterplans" not in f:
        return [entry]
    proposals = (base / str(f["counterplans"])).resolve()
    if not proposals.is_file():
        raise BadSpec(f"{file} [folder] counterplans: {proposals} is not a file")
    subsets = _integer(f.get("subsets", 1), f"{file} [folder] subsets", 1)
    size = _integer(f.get("subset_size", 1), f"{file} [folder] subset_size", 1)
    digest = hashlib.sha256(proposals.read_bytes()).hexdigest()
    return [{**entry, "counterplans": str(proposals), "counterplans_hash": digest,
             "subset": k, "subset_size": size} for k in range(subsets)]
