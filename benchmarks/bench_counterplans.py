"""Benchmark: evaluating single-change counter-plans against a generated plan.

For a generated economy (default 10⁴ products, one period), times
``Evaluator.judge`` on ``--count`` random single-change counter-plans (pledges,
better norms, more capacity) and compares, in the same run, with re-solving
from nothing for each counter-plan:

- naive LP: the plan LP with the change applied, solved by HiGHS from scratch
  with PDLP (the fastest of HiGHS's algorithms at this size; interior point
  took 954 s on one), on a sample of ``--naive`` counter-plans;
- naive closed form: the economy with the change adopted, its Kantorovich plan
  recomputed by the closed form (norms and capacity only: the strongest
  from-nothing baseline counterplan has).

Prints medians and means per kind and the ratios.  Not a test: run it by hand,

    python benchmarks/bench_counterplans.py --products 10000 --count 1000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from counterplan.counter.apply import apply_edit, compile_edit
from counterplan.counter.evaluate import Evaluator
from counterplan.counter.proposals import COLUMNS, CounterPlan, parse_counterplans
from counterplan.counter.reconcile import adopt
from counterplan.generate import GeneratorOptions, generate
from counterplan.model import Economy
from counterplan.plan import closed_form
from counterplan.plan.highs import SolverOptions, run_highs


def counterplans(economy: Economy, activity: np.ndarray, count: int, seed: int
                 ) -> list[CounterPlan]:
    """Random single-change counter-plans: a third each of pledges (0.5–2 ×
    the planned activity), better norms (an input 10–30 % lower) and more
    capacity (1–5 % more of a resource)."""
    rng = np.random.default_rng(seed)
    f = economy.flows
    inputs = np.flatnonzero((f.amount < 0) & (economy.kind_codes[f.item] == 0))
    resources = economy.items.index[economy.resources]
    available = economy.availability_array()[economy.resources, 0]
    rows = []
    for k in range(count):
        kind = ("pledge", "norm", "capacity")[k % 3]
        if kind == "pledge":
            j = int(rng.integers(economy.n_techniques))
            value = float(activity[j] * rng.uniform(0.5, 2.0))
            rows.append((f"c{k}", "", "pledge", economy.techniques.index[j], "", "", repr(value)))
        elif kind == "norm":
            n = int(rng.choice(inputs))
            value = float(f.amount[n] * rng.uniform(0.7, 0.9))
            rows.append((f"c{k}", "", "norm", economy.techniques.index[f.technique[n]],
                         economy.items.index[f.item[n]], "", repr(value)))
        else:
            r = int(rng.integers(len(resources)))
            rows.append((f"c{k}", "", "capacity", "", resources[r], "",
                         repr(float(available[r] * rng.uniform(0.01, 0.05)))))
    frame = pd.DataFrame(rows, columns=list(COLUMNS)[:7]).assign(note="")
    plans, problems = parse_counterplans(frame, economy)
    problems.raise_if_errors()
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=3, help="naive LP re-solves to time")
    parser.add_argument("--naive-closed", type=int, default=30,
                        help="naive closed-form re-solves to time")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    economy = generate(GeneratorOptions(products=args.products, periods=1, seed=args.seed))
    start = time.perf_counter()
    judge = Evaluator(economy)
    setup = time.perf_counter() - start
    assert judge.fast is not None
    activity = judge.fast.x[:, 0] * judge.fast.lambdas[0]
    plans = counterplans(economy, activity[np.argsort(judge.fast.system.techniques)],
                         args.count, args.seed)
    times: dict[str, list[float]] = defaultdict(list)
    verdicts: dict[str, int] = defaultdict(int)
    for plan in plans:
        start = time.perf_counter()
        row, _ = judge.judge(plan)
        times[next(iter(plan.kinds))].append(time.perf_counter() - start)
        verdicts[str(row["verdict"])] += 1

    naive_lp: list[float] = []
    for plan in plans[: args.naive]:
        start = time.perf_counter()
        lp = apply_edit(judge.lp, compile_edit(plan, judge.at, 1.0))
        solution = run_highs(lp, SolverOptions(algorithm="pdlp", time_limit=600))
        naive_lp.append(time.perf_counter() - start)
        print(f"naive LP re-solve of {plan.id} ({next(iter(plan.kinds))}): "
              f"{naive_lp[-1]:.1f} s, {solution.status}, {solution.algorithm}")
    naive_closed: list[float] = []
    for plan in [p for p in plans if "pledge" not in p.kinds][: args.naive_closed]:
        start = time.perf_counter()
        closed_form.kantorovich(adopt(economy, [plan]))
        naive_closed.append(time.perf_counter() - start)

    every = [t for ts in times.values() for t in ts]
    print(f"\n{economy!r}\nsetup (closed-form plan, embodied resources): {setup:.2f} s")
    print(f"verdicts: {dict(verdicts)}; answered by: {judge.counts}\n")
    print("| counter-plans | count | median ms | mean ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for kind, ts in [*sorted(times.items()), ("all", every)]:
        print(f"| {kind} | {len(ts)} | {1000 * statistics.median(ts):.2f} | "
              f"{1000 * statistics.mean(ts):.2f} | {1000 * max(ts):.1f} |")
    mean = statistics.mean(every)
    if naive_lp:
        print(f"\nnaive LP re-solve: median {statistics.median(naive_lp):.1f} s over "
              f"{len(naive_lp)}; ratio {statistics.median(naive_lp) / mean:,.0f}x the mean "
              "evaluation")
    if naive_closed:
        m = statistics.median(naive_closed)
        norm_capacity = statistics.mean(times["norm"] + times["capacity"])
        print(f"naive closed-form re-solve (norms, capacity): median {1000 * m:.1f} ms over "
              f"{len(naive_closed)}; ratio {m / norm_capacity:,.1f}x the mean evaluation "
              "of the same kinds")


if __name__ == "__main__":
    main()
