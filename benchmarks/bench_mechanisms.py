"""Speed of the mechanisms (docs/mechanisms.md):

1. one participatory round (worker councils answer, consumer councils
   answer, prices move) at N goods × N worker councils × 100 consumer councils;
2. one harmony-heuristic iteration against one sparse mat-vec with the
   flow matrix of the same economy;
3. a sweep of 8 independent plans of 10⁴ products (harmony heuristic, then
   the exact optimum) on a LocalCluster of 1 worker and of 2 workers.

    python benchmarks/bench_mechanisms.py [--products 30000] [--sweep]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from counterplan.generate import GeneratorOptions, generate
from counterplan.mechanisms import HarmonyHeuristicOptions, ParticipatoryOptions
from counterplan.mechanisms.councils import build_market, next_prices
from counterplan.mechanisms.harmony import harmony_heuristic


def best_of(f, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def participatory_round(n: int) -> None:
    economy = generate(GeneratorOptions(products=n, seed=0))
    market = build_market(economy, 0, ParticipatoryOptions(consumers=100))
    p = np.random.default_rng(0).lognormal(0, 0.5, economy.n_items)

    def one_round() -> None:
        _, z = market.excess(p)
        next_prices(p, z, 0.2)

    print(f"participatory round: {n:,} goods x {n:,} worker councils x 100 consumer "
          f"councils ({len(economy.flows):,} flows): {best_of(one_round) * 1e3:.1f} ms")


def harmony_iteration(n: int) -> None:
    economy = generate(GeneratorOptions(products=n, seed=0))
    f = economy.flow_matrix.tocsr()
    x = np.ones(economy.n_techniques)
    matvec = best_of(lambda: f @ x, 20)
    run = {k: best_of(lambda k=k: harmony_heuristic(economy, HarmonyHeuristicOptions(
        iterations=k, record=False)), 3) for k in (10, 1010)}
    per_iteration = (run[1010] - run[10]) / 1000
    print(f"harmony heuristic at {n:,} products: {per_iteration * 1e3:.2f} ms an iteration, "
          f"one mat-vec with F {matvec * 1e3:.2f} ms (ratio {per_iteration / matvec:.2f}); "
          f"100 iterations end to end {run[10] + 90 * per_iteration:.2f} s")


def harmony_gap(n: int) -> None:
    """The gap to the exact harmony optimum (closed form, checked against the
    LP in tests/test_mechanisms.py) after 100 and 1,000 iterations."""
    from counterplan.mechanisms.harmony import io_harmony_optimum
    from counterplan.mechanisms.result import measure

    for seed in range(3):
        economy = generate(GeneratorOptions(products=n, seed=seed))
        best = measure(economy, io_harmony_optimum(economy), "harmony", 3.0)
        reached = {k: harmony_heuristic(economy, HarmonyHeuristicOptions(
            iterations=k, record=False)).objective for k in (100, 1000)}
        print(f"harmony heuristic at {n:,} products, seed {seed}: optimum {best:.4f}; "
              + ", ".join(f"{k} iterations {v:.4f} (gap {1 - v / best:.1e})"
                          for k, v in reached.items()))


def _warm() -> None:
    import counterplan.mechanisms.registry
    import counterplan.mechanisms.sweep  # noqa: F401


def sweep_speedup(mechanism: str) -> None:
    """Cluster start-up (seconds, paid once a sweep) is timed apart from the runs."""
    import pandas as pd
    from distributed import Client, LocalCluster

    from counterplan.mechanisms.spec import read_spec
    from counterplan.mechanisms.sweep import run_on

    with tempfile.TemporaryDirectory() as tmp:
        spec_file = Path(tmp) / "spec.toml"
        spec_file.write_text(f'mechanisms = ["{mechanism}"]\nseeds = 8\n'
                             '[generate]\nproducts = 10000\n', encoding="utf-8")
        spec = read_spec(spec_file)
        seconds = {}
        for workers in (1, 2):
            start = time.perf_counter()
            with LocalCluster(n_workers=workers, threads_per_worker=1,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.run(_warm)  # every worker imports the library before the clock starts
                started = time.perf_counter()
                run_on(client, list(spec.runs), Path(tmp) / f"out-{workers}", 600,
                       say=lambda _: None)
                seconds[workers] = time.perf_counter() - started
            rows = pd.concat([pd.read_parquet(f) for f in
                              (Path(tmp) / f"out-{workers}" / "runs").glob("*.parquet")])
            print(f"{mechanism}, {workers} worker(s): cluster start {started - start:.1f} s, "
                  f"8 plans of 10,000 products {seconds[workers]:.2f} s, "
                  f"CPU {rows['cpu_seconds'].sum():.1f} s in the runs "
                  f"(wall {rows['run_seconds'].sum():.1f} s)")
    print(f"{mechanism}: sweep speed-up with 2 workers: {seconds[1] / seconds[2]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=30_000)
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    with threadpool_limits(1):
        participatory_round(args.products)
        harmony_iteration(10_000)
        harmony_gap(10_000)
    if args.sweep:
        for mechanism in ("harmony-heuristic", "exact"):
            sweep_speedup(mechanism)


if __name__ == "__main__":
    main()
