"""Leontief benchmark: generate, write and read back, solve, against the floor.

For each size N (one subprocess per size, so that peak memory is per size):

- generate a random economy (:mod:`counterplan.generate`), write it as a
  Parquet plan folder and read it back with ``read_folder`` (validation
  included), build ``io_system`` and run ``material_balance``;
- solve gross output x = (I − A)⁻¹ f (``gross_output``) and labour values
  v = (I − A)⁻ᵀ l (``embodied``) to a relative residual of 1e-10, timed apart;
- run the floor on the same matrix: a bare scipy CSR loop x ← f + A x until
  ‖x_new − x‖ / ‖f‖ ≤ 1e-10 (that is the residual of x), which is what memory
  bandwidth allows one product at a time;
- once, at min(N, 5000) products, pymrio's dense calculation (calc_L, then
  calc_x_from_L and calc_M) against our solves of the same economy.

Phases run in their own processes (write; read; solve), so each peak memory
is its own.  When the solve phase is killed for memory, it runs again on the
system built by :func:`coordinate_system` (marked † in the table), so that the
solver itself is still measured.

Medians over ``--repeat`` runs are printed as a markdown table and written to
benchmarks/results/.  BLAS is pinned to one thread everywhere (pymrio too), so
every method runs on one core.

    python benchmarks/bench_leontief.py --sizes 1e4 1e5 1e6 1e7 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from counterplan.calc.balance import material_balance
from counterplan.calc.leontief import IOSystem, embodied, gross_output, io_system
from counterplan.generate import GeneratorOptions, generate
from counterplan.io.folder import read_folder, write_folder
from counterplan.model import Economy
from counterplan.schema import PRODUCT

RTOL = 1e-10
PYMRIO_MAX = 5_000
RESULTS = Path(__file__).parent / "results"


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def first_touch_seconds_per_gib() -> float:
    """What writing 1 GiB of freshly allocated memory costs on this machine
    (page faults; about 0.2 s on bare Linux, far more in some VMs)."""
    start = time.perf_counter()
    block = np.empty(2**27)
    block.fill(1.0)
    return time.perf_counter() - start


def bare_loop(a: sp.csr_matrix, f: np.ndarray) -> tuple[np.ndarray, int]:
    """x ← f + A x until the residual of x, ‖f + A x − x‖/‖f‖, is ≤ RTOL."""
    x, norm_f = f.copy(), float(np.linalg.norm(f))
    for k in range(1, 100_000):
        y = a @ x
        y += f
        step = float(np.linalg.norm(y - x)) / norm_f
        x = y
        if step <= RTOL:
            return x, k
    raise RuntimeError("bare loop did not converge")


def phase_write(n: int, seed: int, folder: Path) -> dict[str, Any]:
    """Generate, then write the Parquet plan folder."""
    clock = Clock()
    economy = generate(GeneratorOptions(n, seed=seed))
    clock.lap("generate")
    write_folder(economy, folder, "parquet")
    clock.lap("write")
    return clock.laps


def phase_read(n: int, seed: int, folder: Path) -> dict[str, Any]:
    """Read the folder back, with every validation."""
    clock = Clock()
    read_folder(folder)
    clock.lap("read")
    return clock.laps


def phase_solve(n: int, seed: int, folder: Path, coordinates: bool = False
                ) -> dict[str, Any]:
    """io_system, gross output, labour values, balance, and the bare loop, on
    the economy generated again (it equals the one read back).  With
    ``coordinates``, the system is built by :func:`coordinate_system` instead
    of io_system, and the balance is skipped."""
    economy = generate(GeneratorOptions(n, seed=seed))
    clock = Clock()
    system = coordinate_system(economy) if coordinates else io_system(economy)
    clock.lap("coordinate_system" if coordinates else "io_system")
    final = economy.target_array()[system.products][:, 0]
    labour = np.flatnonzero(economy.items.index == "labour")
    clock.lap("setup")
    x, report = gross_output(system, final)
    clock.lap("gross")
    _, labour_report = embodied(system, labour)
    clock.lap("labour")
    if not coordinates:
        material_balance(economy, system=system)
        clock.lap("balance")
    row = dict(clock.laps, nnz=int(system.net.nnz), gross_iterations=report.iterations,
               gross_residual=report.residual, labour_iterations=labour_report.iterations,
               labour_residual=labour_report.residual)
    a = sp.identity(len(final), format="csr") - system.net
    a.eliminate_zeros()
    del economy, system
    with threadpool_limits(limits=1):
        clock.lap("setup")
        y, row["bare_iterations"] = bare_loop(a, final)
        row["bare"] = clock.lap("bare")
    row["bare_residual"] = float(np.linalg.norm(final - y + a @ y) / np.linalg.norm(final))
    row["gross_vs_bare"] = float(np.linalg.norm(x - y) / np.linalg.norm(y))
    return row


def phase_coordinates(n: int, seed: int, folder: Path) -> dict[str, Any]:
    return phase_solve(n, seed, folder, coordinates=True)


def coordinate_system(economy: Economy) -> IOSystem:
    """What io_system returns, built straight from the flow coordinates: one
    CSR build with int32 positions instead of flow_matrix, its CSR copy, two
    fancy-indexed copies and a full-size minimum(0).  For an economy already
    known to be in input-output form (a generated one); the fallback when
    io_system runs out of memory, and the proposal for io_system."""
    f = economy.flows
    made = (f.amount > 0) & (economy.kind_codes[f.item] == PRODUCT)
    order = np.argsort(f.item[made], kind="stable")
    products, techniques = f.item[made][order], f.technique[made][order]
    row = np.full(economy.n_items, -1, dtype=np.int32)
    row[products] = np.arange(len(products), dtype=np.int32)
    column = np.full(economy.n_techniques, -1, dtype=np.int32)
    column[techniques] = np.arange(len(techniques), dtype=np.int32)
    r, c = row[f.item], column[f.technique]
    inside = (r >= 0) & (c >= 0)
    m = len(products)
    net = sp.csr_matrix((f.amount[inside], (r[inside], c[inside])), shape=(m, m))
    del inside
    outside = (r < 0) & (c >= 0) & (f.amount < 0)
    requirements = sp.csr_matrix((-f.amount[outside], (f.item[outside], c[outside])),
                                 shape=(economy.n_items, m))
    idle = np.flatnonzero(column < 0)
    return IOSystem(products.astype(np.int64), techniques.astype(np.int64), net,
                    requirements, idle)


class Clock:
    """Seconds since the previous lap, by name."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now
        print(f"  {name}: {self.laps[name]:.2f} s (peak so far {peak_gib():.1f} GiB)",
              file=sys.stderr, flush=True)
        return self.laps[name]


def pymrio_run(n: int, seed: int) -> dict[str, Any]:
    """pymrio's dense L against our sparse solves, on the same economy."""
    import pymrio

    economy = generate(GeneratorOptions(n, seed=seed))
    system = io_system(economy)
    final = economy.target_array()[system.products][:, 0]
    labour = np.flatnonzero(economy.items.index == "labour")
    dense_a = np.eye(n) - system.net.toarray()
    dense_s = system.requirements[labour].toarray()
    row: dict[str, Any] = {"nnz": int(system.net.nnz)}
    clock = Clock()
    with threadpool_limits(limits=1):
        big_l = pymrio.calc_L(dense_a)
        row["pymrio_L"] = clock.lap("L")
        x_dense = pymrio.calc_x_from_L(big_l, final)
        row["pymrio_x"] = clock.lap("x")
        v_dense = pymrio.calc_M(dense_s, big_l)
        row["pymrio_M"] = clock.lap("M")
    x, _ = gross_output(system, final)
    row["gross"] = clock.lap("gross")
    v, _ = embodied(system, labour)
    row["labour"] = clock.lap("labour")
    row["agree"] = max(float(np.abs(x - x_dense).max() / np.abs(x_dense).max()),
                       float(np.abs(v[:, 0] - v_dense[0]).max() / np.abs(v_dense).max()))
    return row


PHASES = {"write": phase_write, "read": phase_read, "solve": phase_solve}
#: Run when a phase failed (the out-of-memory killer), to measure what can be.
FALLBACK = {"solve": "coordinates"}
CHILDREN = {**PHASES, "coordinates": phase_coordinates}


def child(phase: str, n: int, seed: int, folder: Path) -> dict[str, Any]:
    """One phase of one run, in its own process: its peak memory is its own."""
    row = pymrio_run(n, seed) if phase == "pymrio" else CHILDREN[phase](n, seed, folder)
    return dict(row, peak_gib=peak_gib(), first_touch=first_touch_seconds_per_gib())


def run_child(phase: str, n: int, seed: int, folder: Path) -> dict[str, Any] | None:
    command = [sys.executable, __file__, "--child", phase, "--sizes", str(n), "--seed",
               str(seed), "--folder", str(folder)]
    print(f"N = {n}, {phase}, seed {seed}:", file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        print(f"  failed (exit {done.returncode}; -9 is the out-of-memory killer)",
              file=sys.stderr, flush=True)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(n: int, args: argparse.Namespace, phases: list[str]) -> dict[str, Any]:
    """Medians over the repeats of every phase; a phase that failed is absent,
    and so are the phases after it in that run."""
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-leontief-") as tmp:
        for r in range(args.repeat):
            row: dict[str, Any] = {}
            for phase in phases:
                got = run_child(phase, n, args.seed + r, Path(tmp) / "plan")
                if got is None and phase in FALLBACK:
                    row[f"{phase}_failed"] = 1
                    phase = FALLBACK[phase]
                    got = run_child(phase, n, args.seed + r, Path(tmp) / "plan")
                if got is None:
                    row[f"{phase}_failed"] = 1
                    continue
                row[f"{phase}_peak_gib"] = got.pop("peak_gib")
                row["first_touch"] = got.pop("first_touch")
                row.update(got)
            runs.append(row)
    keys = {k for run in runs for k, v in run.items() if isinstance(v, int | float)}
    medians = {k: statistics.median(run[k] for run in runs if k in run) for k in keys}
    return {"n": n, "pymrio": phases == ["pymrio"], "repeat": args.repeat,
            "median": medians, "runs": runs}


def cell(m: dict[str, Any], key: str, digits: int = 2, count: str = "") -> str:
    if key not in m:
        return "OOM" if any(k.endswith("_failed") for k in m) else "–"
    text = m[key] if isinstance(m[key], str) else f"{m[key]:.{digits}f}"
    return f"{text} ({m[count]:.0f})" if count and count in m else text


def table(results: list[dict[str, Any]]) -> str:
    head = ("| products | nonzeros | generate s | write s | read s | io_system s "
            "| gross s (its) | labour s (its) | balance s | bare loop s (its) "
            "| gross ÷ bare | peak GiB: write, read, solve |\n|" + "---|" * 12)
    lines = [head]
    for r in results:
        m = r["median"]
        if r["pymrio"]:
            continue
        ratio = f"{m['gross'] / m['bare']:.2f}" if "gross" in m and "bare" in m else "–"
        peaks = ", ".join(cell(m, f"{p}_peak_gib", 1) for p in PHASES)
        if "coordinates_peak_gib" in m:  # the solve phase ran on coordinate_system
            m = {**m, **{k: f"{m[k]:.2f}†" for k in ("gross", "labour", "bare")}}
            peaks = peaks.rsplit(",", 1)[0] + \
                f", OOM ({m['coordinates_peak_gib']:.1f}†)"
            ratio += "†"
        lines.append(
            f"| {r['n']:.0e} | {m.get('nnz', float('nan')):.2e} | {cell(m, 'generate')} "
            f"| {cell(m, 'write')} | {cell(m, 'read')} | {cell(m, 'io_system')} "
            f"| {cell(m, 'gross', 2, 'gross_iterations')} "
            f"| {cell(m, 'labour', 2, 'labour_iterations')} | {cell(m, 'balance')} "
            f"| {cell(m, 'bare', 2, 'bare_iterations')} | {ratio} | {peaks} |")
    for r in results:
        if r["pymrio"]:
            m = r["median"]
            dense = m["pymrio_L"] + m["pymrio_x"] + m["pymrio_M"]
            ours = m["gross"] + m["labour"]
            lines.append(
                f"\npymrio (dense, {r['n']} sectors, {m['nnz']:.2e} nonzeros): calc_L "
                f"{m['pymrio_L']:.2f} s + calc_x {m['pymrio_x']:.3f} s + calc_M "
                f"{m['pymrio_M']:.3f} s = {dense:.2f} s; counterplan gross + labour "
                f"{ours:.3f} s: {dense / ours:.0f}× faster (largest difference "
                f"{m['agree']:.1e} relative).")
    return "\n".join(lines)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{memory:.0f} GiB, Python {platform.python_version()}, numpy {np.__version__}, "
            f"scipy {scipy.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e4, 1e5, 1e6, 1e7])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pymrio", action="store_true", help="skip the pymrio row")
    parser.add_argument("--child", choices=[*CHILDREN, "pymrio"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        n = int(args.sizes[0])
        print(json.dumps(child(args.child, n, args.seed, args.folder)))
        return
    results = [measure(int(size), args, list(PHASES)) for size in args.sizes]
    if not args.no_pymrio:
        results.append(measure(min(int(max(args.sizes)), PYMRIO_MAX), args, ["pymrio"]))
    touch = statistics.median(r["median"]["first_touch"] for r in results
                              if "first_touch" in r["median"])
    text = (f"{dt.date.today()}, {machine()}; medians of {args.repeat} runs; "
            f"writing fresh memory costs {touch:.2f} s/GiB here.\n\n{table(results)}\n")
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"leontief-{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"leontief-{stamp}.json").write_text(json.dumps(results, indent=1),
                                                   encoding="utf-8")


if __name__ == "__main__":
    main()
