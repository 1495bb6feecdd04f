"""Counter-plans against a five-year plan with stocks: warm first-order
re-solves against cold ones, in the same run.

For a generated economy with stocks (``--products`` N × 5 periods), the plan is
solved once by ``Evaluator`` (pdhg past the simplex limit), then each of
``--count`` counter-plans (a third each of pledges, better norms and more
capacity, as in bench_counterplans.py) is judged by ``Evaluator.judge``, timed.
For a sample of them (``--cold``) the same changed LP is also solved from
nothing by pdhg, to the same tolerance: the ratio of the medians is what the
warm start buys, and the objectives must agree to the tolerance.

    python benchmarks/bench_warm.py --products 1000 --count 9 --cold 6

``--counter-time-limit`` caps each counter-plan's solves (the plan keeps its
30 minutes): a counter-plan stopped by it is printed as "over", and its time
counts in the medians as what it took, a lower bound.  ``--cold-kinds``
re-solves cold only the counter-plans of those kinds (at 10⁴ products a cold
re-solve is a plan solve's worth of time).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

from bench_counterplans import counterplans
from counterplan.counter.apply import apply_edit, compile_edit
from counterplan.counter.evaluate import Evaluator
from counterplan.errors import SolveFailed
from counterplan.generate import GeneratorOptions, generate
from counterplan.plan import PlanOptions
from counterplan.plan.highs import SolverOptions
from counterplan.plan.scaling import reference_activity
from counterplan.plan.solver import run_lp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--count", type=int, default=9)
    parser.add_argument("--cold", type=int, default=6, help="cold re-solves to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sectors", type=int, default=0)
    parser.add_argument("--algorithm", default="auto",
                        help="the plan's algorithm (auto: pdhg past the simplex limit)")
    parser.add_argument("--counter-time-limit", type=float, default=None,
                        help="seconds for each counter-plan's solves (default: the plan's 1800)")
    parser.add_argument("--cold-kinds", nargs="+", default=["pledge", "norm", "capacity"],
                        help="re-solve cold only counter-plans of these kinds")
    args = parser.parse_args()

    economy = generate(GeneratorOptions(products=args.products, periods=5, seed=args.seed,
                                        stocks=True, sectors=args.sectors))
    start = time.perf_counter()
    judge = Evaluator(economy, options=PlanOptions(solver=SolverOptions(
        algorithm=args.algorithm, time_limit=1800)))  # type: ignore[arg-type]
    setup = time.perf_counter() - start
    base = judge.warm.base
    activity = base.x[: economy.n_techniques]  # the first period's activities
    plans = counterplans(economy, activity, args.count, args.seed)
    print(f"{economy!r}\nthe plan: {base.algorithm}, {base.iterations} iterations, "
          f"{setup:.1f} s; objective {base.objective:.6g}", flush=True)
    if args.counter_time_limit is not None:
        judge.options = replace(judge.options, solver=replace(
            judge.options.solver, time_limit=args.counter_time_limit))
        judge.warm.options = replace(judge.warm.options, time_limit=args.counter_time_limit)
    times: dict[str, list[float]] = defaultdict(list)
    in_order: dict[str, float] = {}
    after: dict[str, float] = {}
    for plan in plans:
        began = time.perf_counter()
        kind = next(iter(plan.kinds))
        try:
            row, _ = judge.judge(plan)
        except SolveFailed as e:
            times[kind].append(time.perf_counter() - began)
            print(f"  {plan.id} {kind}: over, stopped after {times[kind][-1]:.2f} s ({e})",
                  flush=True)
            continue
        times[kind].append(time.perf_counter() - began)
        in_order[plan.id] = times[kind][-1]
        after[plan.id] = float(row["objective_after"])  # type: ignore[arg-type]
        print(f"  {plan.id} {kind}: {row['verdict']} (share {row['share']:.4g}) in "
              f"{times[kind][-1]:.2f} s", flush=True)
    cold: list[float] = []
    warm_sample: list[float] = []
    agree: list[float] = []
    ref = reference_activity(economy, judge.lp)
    chosen = [p for p in plans if next(iter(p.kinds)) in args.cold_kinds and p.id in after]
    for plan in chosen[: args.cold]:
        lp = apply_edit(judge.lp, compile_edit(plan, judge.at, 1.0))
        padded = np.ones(lp.matrix.shape[1])
        padded[: len(ref)] = ref
        began = time.perf_counter()
        solution = run_lp(lp, SolverOptions(algorithm="pdhg", time_limit=1800), padded)
        cold.append(time.perf_counter() - began)
        warm_sample.append(in_order[plan.id])
        if solution.status == "optimal":
            agree.append(abs(solution.objective - after[plan.id]) / abs(solution.objective))
        print(f"  cold {plan.id}: {solution.status}, {solution.iterations} iterations, "
              f"{cold[-1]:.2f} s", flush=True)
    every = [t for ts in times.values() for t in ts]
    print(f"\nanswered by: {judge.counts}")
    print("| counter-plans | count | median s | max s |")
    print("|---|---:|---:|---:|")
    for kind, ts in [*sorted(times.items()), ("all", every)]:
        print(f"| {kind} | {len(ts)} | {statistics.median(ts):.2f} | {max(ts):.2f} |")
    if cold:
        print(f"\ncold pdhg re-solve: median {statistics.median(cold):.2f} s over {len(cold)}; "
              f"warm (the same counter-plans) median {statistics.median(warm_sample):.2f} s; "
              f"ratio {statistics.median(cold) / statistics.median(warm_sample):.1f}x")
    if agree:
        print(f"objective after, warm against cold: largest relative difference "
              f"{max(agree):.1e}")


if __name__ == "__main__":
    main()
