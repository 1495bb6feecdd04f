"""Counter-plans judged by the warm dual simplex as it is now and as it was
before 2026-12-03, in the same run.

For the web demo's economy (``brazil-five-year``: 68 activities, their
capital stocks, 5 years) and generated economies with stocks (``--sizes``
products × 5 periods, below the simplex limit), ``--count`` seeded
counter-plans, the mix of benchmarks/load_web.py (a third each of pledges of
100–120 % of a planned activity in one period, norms with an input 2–20 %
lower, and 1–5 % more of a capital stock), are judged twice by
``Evaluator.judge``, each time on a fresh evaluator:

- now: what ``WarmPlan.trial`` does, Devex pricing and the plan's basis
  set again only after an edit of the matrix, the costs or the columns (its
  factorization is lost then anyway);
- before: what it did before, the plan's basis set after every trial,
  which makes HiGHS factorize it afresh, dual steepest-edge pricing, whose
  weights HiGHS then computes afresh too (a solve per row) at the trial's
  first pivot, and a partial pledge's share LP and elastic LP (its reason)
  built apart and solved from nothing, where they are now solved on the
  held model from the plan's basis.

Prints the median and mean milliseconds per kind (and verdict) for both,
the ratio of the means, and the largest difference between the two runs'
objectives after (they must agree to the solver's tolerance).  Not a test:
run it by hand,

    .venv/bin/python benchmarks/bench_warm_simplex.py --count 150
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
import pandas as pd

from counterplan.counter.apply import Edit, apply_edit
from counterplan.counter.evaluate import Evaluator, _share_lp, exact_options
from counterplan.counter.proposals import COLUMNS, CounterPlan, parse_counterplans
from counterplan.counter.reasons import shortfall_reason
from counterplan.counter.session import WarmPlan
from counterplan.generate import GeneratorOptions, generate
from counterplan.model import Economy
from counterplan.plan.highs import Solution
from counterplan.web.services.versions import economy_of_example

#: HiGHS's simplex_dual_edge_weight_strategy when it chooses (dual steepest edge).
CHOOSE = -1


class Reset(WarmPlan):
    """The warm plan as it was: the plan's basis set after every trial, and
    HiGHS's own choice of pricing (dual steepest edge)."""

    def trial(self, edit: Edit) -> Solution:
        result = super().trial(edit)
        self.h.setBasis(self.basis)
        return result


class Before(Evaluator):
    """The evaluator as it was: the plan's basis set after every trial, dual
    steepest-edge pricing, and a partial pledge's share LP and elastic LP
    built apart and solved from nothing."""

    def __init__(self, economy: Economy) -> None:
        super().__init__(economy)
        warm = self.warm
        assert isinstance(warm, WarmPlan)
        warm.__class__ = Reset
        warm.h.setOptionValue("simplex_dual_edge_weight_strategy", CHOOSE)

    def largest_share(self, plan: CounterPlan, edit: Edit) -> float:
        if any(c.kind == "norm" for c in plan.changes) or edit.columns:
            return super().largest_share(plan, edit)
        exact = exact_options(self.lp, self.options.solver)
        share = _share_lp(self.lp, edit, self.options.solver, plan.id)
        return share if share >= exact.tolerance_for(exact.algorithm) else 0.0

    def shortfall(self, plan: CounterPlan, edit: Edit, share: float) -> str:
        return shortfall_reason(self.context, plan, apply_edit(self.lp, edit), share)


def counterplans(economy: Economy, activity: np.ndarray, count: int, seed: int
                 ) -> list[CounterPlan]:
    """The load script's mix; ``activity`` is techniques × periods."""
    rng = np.random.default_rng(seed)
    f, items, techniques = economy.flows, economy.items.index, economy.techniques
    units = (techniques["unit_id"].fillna("").astype(str) if "unit_id" in techniques
             else pd.Series("", index=techniques.index))
    inputs = np.flatnonzero((f.amount < 0) & np.isin(f.item, economy.products))
    start = economy.availability_array()[:, 0]
    stocks = [i for i in economy.stocks if start[i] > 0]
    rows = []
    for k in range(count):
        kind = ("pledge", "norm", "capacity")[k % 3] if stocks else ("pledge", "norm")[k % 2]
        if kind == "pledge":
            j, t = int(rng.integers(economy.n_techniques)), int(rng.integers(economy.n_periods))
            value = max(float(activity[j, t]), 1.0) * rng.uniform(1.0, 1.2)
            rows.append((f"c{k}", units.iloc[j], kind, techniques.index[j], "",
                         economy.periods[t], f"{value:.6g}"))
        elif kind == "norm":
            n = int(rng.choice(inputs))
            rows.append((f"c{k}", units.iloc[f.technique[n]], kind,
                         techniques.index[f.technique[n]], items[f.item[n]], "",
                         f"{f.amount[n] * rng.uniform(0.8, 0.98):.6g}"))
        else:
            i = stocks[int(rng.integers(len(stocks)))]
            users = f.technique[(f.item == i) & (f.amount < 0)]
            unit = units.iloc[int(users[0])] if len(users) else ""
            period = ["", *economy.periods][int(rng.integers(economy.n_periods + 1))]
            rows.append((f"c{k}", unit, kind, "", items[i], period,
                         f"{start[i] * rng.uniform(0.01, 0.05):.6g}"))
    rng.shuffle(rows)  # the kinds in no fixed order, as proposals come on the web
    frame = pd.DataFrame(rows, columns=list(COLUMNS)[:7]).assign(note="")
    plans, problems = parse_counterplans(frame, economy)
    problems.raise_if_errors()
    return plans


def judged(economy: Economy, plans: list[CounterPlan], reset: bool
           ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seconds per kind (and verdict, where not accepted), and each
    counter-plan's objective after."""
    if not isinstance(Evaluator(economy).warm, WarmPlan):
        raise SystemExit(f"{economy!r} is past the simplex limit: no warm simplex to time")
    judge = Before(economy) if reset else Evaluator(economy)
    times: dict[str, list[float]] = defaultdict(list)
    after: dict[str, float] = {}
    for plan in plans:
        began = time.perf_counter()
        row, _ = judge.judge(plan)
        verdict = "" if row["verdict"] == "accepted" else f" ({row['verdict']})"
        times[",".join(sorted(plan.kinds)) + verdict].append(time.perf_counter() - began)
        after[plan.id] = float(row["objective_after"])  # type: ignore[arg-type]
    return times, after


def ms(seconds: list[float]) -> str:
    return f"{1e3 * statistics.median(seconds):.1f} / {1e3 * statistics.mean(seconds):.1f}"


def economies(sizes: list[int], seed: int) -> list[tuple[str, Economy]]:
    out = [("brazil-five-year", economy_of_example("brazil-five-year"))]
    for n in sizes:
        out.append((f"generated {n} × 5", generate(GeneratorOptions(
            products=n, periods=5, seed=seed, stocks=True))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 300],
                        help="generated economies' products (5 periods, with stocks)")
    parser.add_argument("--count", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| economy | counter-plans | count | now: median / mean ms "
          "| before: median / mean ms | ratio of the means |")
    print("|---|---|---:|---:|---:|---:|")
    for name, economy in economies(args.sizes, args.seed):
        base = Evaluator(economy).warm.base
        n_x = economy.n_techniques * economy.n_periods
        activity = base.x[:n_x].reshape(economy.n_periods, -1).T
        plans = counterplans(economy, activity, args.count, args.seed)
        on, after_on = judged(economy, plans, reset=False)
        off, after_off = judged(economy, plans, reset=True)
        for kind in [*sorted(on), "all"]:
            a = [t for ts in on.values() for t in ts] if kind == "all" else on[kind]
            b = [t for ts in off.values() for t in ts] if kind == "all" else off[kind]
            print(f"| {name} | {kind} | {len(a)} | {ms(a)} | {ms(b)} "
                  f"| {statistics.mean(b) / statistics.mean(a):.1f} |", flush=True)
        worst = max(abs(after_on[k] - after_off[k]) / max(abs(after_off[k]), 1e-300)
                    for k in after_on)
        print(f"|  | objectives after, largest relative difference {worst:.1e} | | | | |")


if __name__ == "__main__":
    main()
