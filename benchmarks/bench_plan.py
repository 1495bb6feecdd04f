"""Plan benchmark: building and solving the plan LP, against linopy and HiGHS's algorithms.

For each size N (products over ``--periods`` periods, with capacity stocks and
investment techniques, :mod:`counterplan.generate`), every job runs in its own
subprocess, so that its peak memory (VmHWM) is its own:

- ``counterplan``: ``build_lp`` timed alone; the hand-off of its matrix to HiGHS
  (the ``passModel`` call ``run_highs`` makes before running); then
  ``counterplan.plan.solve`` with ``algorithm="auto"``: ``info.build_seconds``,
  ``info.solve_seconds``, the algorithm chosen, status, objective (Σ_t λ_t) and
  the largest violation of any row family in original units;
- ``linopy`` and ``linopy-sparse``: the same LP written the way a linopy user
  would (variables over (period, technique), (period, stock) and period; each
  constraint family a grouped sum over the flows), in a default ``Model()`` and
  in ``Model(sparse=True)`` under v1 semantics, timed up to ``to_highspy()``,
  where linopy hands the matrix to HiGHS; then the matrix, bounds and costs
  HiGHS received are compared with ``build_lp``'s entry by entry;
- ``simplex``, ``ipm``, ``pdlp``: ``solve`` with that algorithm (the one
  ``auto`` chose is not run twice).

Every solve gets ``--time-limit`` seconds; one that hits it is reported with
what it reached and is not repeated, nor is one longer than ``--repeat-budget``
seconds.  Medians over ``--repeat`` runs.  Children run under an address-space
limit (``--memory-gib``), so a job that would need more fails with a
MemoryError instead of taking the machine down.

    .venv/bin/python benchmarks/bench_plan.py --sizes 1e3 1e4 1e5 --periods 5 --repeat 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from counterplan.errors import CounterplanError
from counterplan.generate import GeneratorOptions, generate
from counterplan.model import Economy
from counterplan.plan import PlanOptions, SolverOptions, solve
from counterplan.plan.build import LP
from counterplan.plan.highs import Status, run_highs, violations
from counterplan.plan.objectives import build_lp
from counterplan.schema import PRODUCT, RESOURCE, STOCK

ALGORITHMS = ("simplex", "ipm", "pdlp")
LINOPY = ("linopy", "linopy-sparse")
OBJECTIVE = "kantorovich"
RESULTS = Path(__file__).parent / "results"
MARK = "RESULT "


# -- children: one job each -------------------------------------------------------

def peak_gib() -> float:
    """Peak resident memory of this process so far (VmHWM), GiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(f: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = f()
    return value, time.perf_counter() - start


def economy_of(args: argparse.Namespace) -> tuple[Economy, dict[str, Any]]:
    options = GeneratorOptions(products=args.size, periods=args.periods, seed=args.seed,
                               stocks=True)
    economy, seconds = timed(lambda: generate(options))
    return economy, {"generate": seconds, "peak_generate": peak_gib(),
                     "economy": economy.content_hash()}


def hand_off(lp: LP) -> float:
    """Seconds to pass ``lp`` to a fresh HiGHS instance, the call ``run_highs``
    makes before it runs (the same arrays, the same ``passModel``)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    start = time.perf_counter()
    m = lp.matrix.tocsc()
    m.sort_indices()
    inf = highspy.kHighsInf
    h.passModel(int(m.shape[1]), int(m.shape[0]), int(m.nnz), 1, -1 if lp.sense > 0 else 1,
                0.0, lp.cost, np.clip(lp.col_lower, -inf, inf), np.clip(lp.col_upper, -inf, inf),
                np.clip(lp.row_lower, -inf, inf), np.clip(lp.row_upper, -inf, inf),
                m.indptr.astype(np.int32), m.indices.astype(np.int32), m.data.astype(float),
                np.zeros(m.shape[1], dtype=np.int32))
    return time.perf_counter() - start


def highs_runs(lp: LP, algorithm: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """``run_highs`` up to ``repeat`` times; stops at the first run that is not optimal,
    keeping what it reached (objective, λ, the largest violation of any family), or
    that took longer than ``--repeat-budget`` seconds (far above the noise)."""
    options = SolverOptions(algorithm=algorithm, time_limit=args.time_limit)
    lam = lp.cols.get("lambda")
    runs: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        s = run_highs(lp, options)
        found = violations(lp, s.x)
        runs.append({"algorithm": s.algorithm, "status": str(s.status),
                     "objective": s.objective, "solve": s.seconds, "iterations": s.iterations,
                     "violation": max(found.values()), "violations": found,
                     "point": bool(np.any(s.x)),
                     "lambdas": [] if lam is None else s.x[lam.slice].tolist()})
        print(f"  {algorithm} ({s.algorithm}): {s.status} in {s.seconds:.1f} s "
              f"(objective {s.objective:.6g})", file=sys.stderr, flush=True)
        if s.status != Status.OPTIMAL or s.seconds > args.repeat_budget:
            break
    return runs


def plan_api(economy: Economy, args: argparse.Namespace) -> dict[str, Any]:
    """One ``counterplan.plan.solve`` with ``auto``: what ``plan.info`` records."""
    options = PlanOptions(solver=SolverOptions(time_limit=args.time_limit))
    try:
        plan, wall = timed(lambda: solve(economy, OBJECTIVE, options))
    except CounterplanError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    info = plan.info
    return {"algorithm": info.algorithm, "status": plan.status, "objective": plan.value,
            "build": info.build_seconds, "solve": info.solve_seconds, "wall": wall}


def counterplan_job(args: argparse.Namespace) -> dict[str, Any]:
    economy, out = economy_of(args)
    builds = [timed(lambda: build_lp(economy, OBJECTIVE)) for _ in range(args.repeat)]
    lp = builds[-1][0]
    out.update(build_lp=[s for _, s in builds], hand_off=[hand_off(lp) for _ in builds],
               rows=lp.matrix.shape[0], cols=lp.matrix.shape[1], nnz=int(lp.matrix.nnz),
               peak_build=peak_gib())
    del builds
    out["solves"] = highs_runs(lp, "auto", args)
    del lp
    if out["solves"][-1]["status"] == "optimal":  # solve() raises on anything else
        out["plan"] = plan_api(economy, args)
    out["peak"] = peak_gib()
    return out


def algorithm_job(args: argparse.Namespace) -> dict[str, Any]:
    economy, out = economy_of(args)
    out["solves"] = highs_runs(build_lp(economy, OBJECTIVE), args.job, args)
    out["peak"] = peak_gib()
    return out


def linopy_model(economy: Economy, sparse: bool) -> Any:
    """The kantorovich plan LP as a linopy user would write it: labelled
    variables, and each family a sum over the flows (the long table of the
    flow matrix F) grouped by item, as PyPSA writes its nodal balances.

        product     Σ_j F_ij x_j(t) − g_i(t) λ_t ≥ 0
        resource    Σ_j u_rj x_j(t) ≤ R_r(t)
        stock-use   Σ_j n_sj x_j(t) − K_s(t) ≤ 0
        stock-level K_s(t) − (1 − δ_s) K_s(t−1) − Σ_j b_sj x_j(t−1) = R_s(t)
    """
    import linopy
    from xarray import DataArray

    flow = economy.flow_matrix.tocoo()
    kind = economy.kind_codes[flow.row]
    ids = np.asarray(economy.items.index, dtype=object)
    period = _index(economy.periods, "period")
    technique = _index(economy.techniques.index, "technique")
    product, stock = _index(ids[economy.products], "product"), _index(ids[economy.stocks], "stock")
    available = economy.availability_array()
    m = linopy.Model(sparse=sparse)
    techniques = economy.techniques
    x = m.add_variables(lower=DataArray(techniques["min"].to_numpy(float), coords=[technique]),
                        upper=DataArray(techniques["max"].to_numpy(float), coords=[technique]),
                        coords=[period, technique], name="activity")
    level = m.add_variables(lower=0, coords=[period, stock], name="level")
    g = DataArray(economy.target_array()[economy.products].T, coords=[period, product])
    lam = m.add_variables(lower=0, upper=(g > 0).any("product") * np.inf, coords=[period],
                          name="lambda")

    def total(mask: np.ndarray, amount: np.ndarray, dim: str) -> Any:
        terms = DataArray(amount[mask], dims="flow") * x.isel(
            technique=DataArray(flow.col[mask], dims="flow"))
        return terms.groupby(DataArray(ids[flow.row[mask]], dims="flow", name=dim)).sum()

    uses, adds = -np.minimum(flow.data, 0.0), np.maximum(flow.data, 0.0)
    m.add_constraints(total(kind == PRODUCT, flow.data, "product") - g * lam >= 0,
                      name="product")
    m.add_constraints(total((kind == RESOURCE) & (uses > 0), uses, "resource")
                      <= DataArray(available[economy.resources].T,
                                   coords=[period, _index(ids[economy.resources], "resource")]),
                      name="resource")
    m.add_constraints(total((kind == STOCK) & (uses > 0), uses, "stock") - level <= 0,
                      name="stock-use")
    keep = DataArray(1 - economy.items["depreciation"].to_numpy(float)[economy.stocks],
                     coords=[stock])
    arriving = total((kind == STOCK) & (adds > 0), adds, "stock").shift(period=1).fillna(0)
    m.add_constraints(level - (keep * level).shift(period=1).fillna(0) - arriving
                      == DataArray(available[economy.stocks].T, coords=[period, stock]),
                      name="stock-level")
    weights = [economy.objective.weights.get(p, 1.0) for p in economy.periods]
    m.add_objective((DataArray(weights, coords=[period]) * lam).sum(), sense="max")
    return m


def _index(values: Any, name: str) -> Any:
    import pandas as pd

    return pd.Index(np.asarray(values, dtype=object), name=name)


def agreement(h: highspy.Highs, lp: LP) -> dict[str, Any]:
    """Sizes of what linopy handed to HiGHS against ``build_lp``'s LP, and, when
    the sizes match, the largest difference in the matrix, bounds and costs
    (rows and columns come in the same order: period-major, items by code)."""
    model = h.getLp()
    a = model.a_matrix_
    shape = (int(model.num_row_), int(model.num_col_))
    arrays = (np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_))
    theirs = sp.csr_matrix(arrays, shape=shape) if a.format_ == highspy.MatrixFormat.kRowwise \
        else sp.csc_matrix(arrays, shape=shape)
    out: dict[str, Any] = {"linopy": [*shape, int(theirs.nnz)],
                           "counterplan": [*lp.matrix.shape, int(lp.matrix.nnz)]}
    if shape != lp.matrix.shape:
        return out
    maximise = model.sense_ == highspy.ObjSense.kMaximize
    out["difference"] = {
        "matrix": float(abs(theirs - lp.matrix).max()),
        "cost": _gap(np.asarray(model.col_cost_), lp.cost),
        "col_bounds": max(_gap(np.asarray(model.col_lower_), lp.col_lower),
                          _gap(np.asarray(model.col_upper_), lp.col_upper)),
        "row_bounds": max(_gap(np.asarray(model.row_lower_), lp.row_lower),
                          _gap(np.asarray(model.row_upper_), lp.row_upper)),
        "sense": 0.0 if maximise == (lp.sense > 0) else 1.0,
    }
    return out


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a − b|, where equal infinities count as no difference."""
    same = a == b  # equal infinities included
    with np.errstate(invalid="ignore"):
        return float(np.where(same, 0.0, np.abs(a - b)).max(initial=0.0))


def linopy_job(args: argparse.Namespace) -> dict[str, Any]:
    import linopy

    sparse = args.job == "linopy-sparse"
    if sparse:
        linopy.options["semantics"] = "v1"
    economy, out = economy_of(args)
    builds: list[float] = []
    hands: list[float] = []
    for run in range(args.repeat):
        try:
            model, seconds = timed(lambda: linopy_model(economy, sparse))
            h, handing = timed(model.to_highspy)
        except MemoryError as exc:  # keep the runs that fitted
            if not builds:
                raise
            out["failed_repeat"] = f"run {run + 1}: MemoryError: {exc}"[:300]
            break
        builds.append(seconds)
        hands.append(handing)
        print(f"  {args.job}: model {seconds:.2f} s, to_highspy {handing:.2f} s",
              file=sys.stderr, flush=True)
        if run == 0:
            out["peak_build"] = peak_gib()
            out["agreement"] = agreement(h, build_lp(economy, OBJECTIVE))
        del model, h
        gc.collect()  # the model holds reference cycles: free it before the next
    out.update(build=builds, to_highspy=hands, version=linopy.__version__, peak=peak_gib())
    return out


def child(args: argparse.Namespace) -> None:
    jobs = {"counterplan": counterplan_job, **dict.fromkeys(ALGORITHMS, algorithm_job),
            **dict.fromkeys(LINOPY, linopy_job)}
    try:
        result = jobs[args.job](args)
    except (MemoryError, Exception) as exc:  # reported, not raised: the parent goes on
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:300], "peak": peak_gib()}
    print(MARK + json.dumps(result), flush=True)


# -- parent: one subprocess per size and job -------------------------------------

def run_job(job: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{n} products × {args.periods} periods, {job}:", file=sys.stderr, flush=True)
    command = [sys.executable, __file__, "--job", job, "--size", str(n),
               "--periods", str(args.periods), "--repeat", str(args.repeat),
               "--time-limit", str(args.time_limit), "--seed", str(args.seed),
               "--repeat-budget", str(args.repeat_budget)]
    cap = int(args.memory_gib * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    wall_limit = args.repeat * (2 * args.time_limit + 300) + 600
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False,
                              timeout=wall_limit, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"error": f"killed after {wall_limit:.0f} s"}
    lines = [s for s in done.stdout.splitlines() if s.startswith(MARK)]
    if not lines:
        return {"error": f"exit {done.returncode} with no result (negative: a signal)"}
    return dict(json.loads(lines[-1][len(MARK):]))


def size_results(n: int, args: argparse.Namespace) -> dict[str, Any]:
    jobs = {"counterplan": run_job("counterplan", n, args)}
    auto = jobs["counterplan"].get("solves") or [{}]
    for job in [*args.linopy, *args.algorithms]:
        if job == auto[0].get("algorithm"):
            continue  # auto's run stands for it
        jobs[job] = run_job(job, n, args)
    return {"n": n, "periods": args.periods, "jobs": jobs}


def percent(x: float) -> str:
    return f"{100 * x:.2g} %"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def solve_runs(result: dict[str, Any], algorithm: str) -> list[dict[str, Any]]:
    cp = result["jobs"]["counterplan"]
    auto = cp.get("solves", [])
    if algorithm == "auto" or (auto and auto[0].get("algorithm") == algorithm):
        return list(auto) or [{"error": cp.get("error", "no run")}]
    job = result["jobs"].get(algorithm, {})
    return list(job.get("solves", [])) or [{"error": job.get("error", "not run")}]


def optimal_seconds(runs: list[dict[str, Any]]) -> float:
    """Median solve time of the optimal runs; NaN when none was optimal."""
    return median([r["solve"] for r in runs if r.get("status") == "optimal"])


def solve_cell(runs: list[dict[str, Any]]) -> str:
    seconds = optimal_seconds(runs)
    if not math.isnan(seconds):
        return f"{seconds:.1f} s"
    r = runs[-1]
    if "error" in r:
        return f"failed ({r['error'][:80]})"
    if not r["point"]:
        return f"**{r['status']}** at {r['solve']:.0f} s (no point returned)"
    return (f"**{r['status']}** at {r['solve']:.0f} s (objective {r['objective']:.4g}, "
            f"violation {r['violation']:.1e})")


def auto_table(results: list[dict[str, Any]]) -> str:
    lines = ["| products × periods | rows | columns | nonzeros | `build_lp` s "
             "| `info.build_seconds` s | hand-off s | auto chose | solve s | status "
             "| objective Σλ | build ÷ solve | peak GiB (build / solve) |",
             "|" + "---|" * 13]
    for r in results:
        cp = r["jobs"]["counterplan"]
        name = f"{r['n']:.0e} × {r['periods']}"
        if "error" in cp:
            lines.append(f"| {name} | failed: {cp['error'][:100]} |" + " |" * 11)
            continue
        runs = cp["solves"]
        build = median(cp["build_lp"])
        last = runs[-1]
        solved = optimal_seconds(runs)
        ratio = percent(build / solved) if not math.isnan(solved) else \
            "≤ " + percent(build / last.get("solve", math.inf))
        lines.append(
            f"| {name} | {cp['rows']:,} | {cp['cols']:,} | {cp['nnz']:,} | {build:.3f} "
            f"| {plan_build(cp)} "
            f"| {median(cp['hand_off']):.3f} | {last.get('algorithm', '?')} "
            f"| {solve_cell(runs)} | {last.get('status', 'error')} "
            f"| {last.get('objective', math.nan):.6g} | {ratio} "
            f"| {cp['peak_build']:.2f} / {cp['peak']:.2f} |")
    return "\n".join(lines)


def plan_build(cp: dict[str, Any]) -> str:
    """``plan.info.build_seconds`` of the one ``solve`` call, which is made only
    when ``auto`` reached the optimum (``solve`` raises SolveFailed otherwise)."""
    plan = cp.get("plan")
    if plan is None:
        return "— (not optimal)"
    if "error" in plan:
        return f"failed ({plan['error'][:60]})"
    return f"{plan['build']:.3f} (solve {plan['solve']:.1f} s, {plan['algorithm']})"


def algorithm_table(results: list[dict[str, Any]], algorithms: list[str]) -> str:
    lines = ["| products × periods | " + " | ".join(algorithms) + " | auto ÷ best other |",
             "|" + "---|" * (len(algorithms) + 2)]
    for r in results:
        chosen = solve_runs(r, "auto")[0].get("algorithm")
        cells = [solve_cell(solve_runs(r, a)) + (" (auto)" if a == chosen else "")
                 for a in algorithms]
        lines.append(f"| {r['n']:.0e} × {r['periods']} | " + " | ".join(cells)
                     + f" | {auto_versus_best(r, algorithms)} |")
    return "\n".join(lines)


def auto_versus_best(result: dict[str, Any], algorithms: list[str]) -> str:
    auto_runs = solve_runs(result, "auto")
    chosen = auto_runs[0].get("algorithm")
    others = {a: optimal_seconds(solve_runs(result, a)) for a in algorithms if a != chosen}
    finished = {a: s for a, s in others.items() if not math.isnan(s)}
    auto = optimal_seconds(auto_runs)
    if not finished:
        return "no other algorithm finished" + ("" if not math.isnan(auto) else
                                                 "; neither did auto")
    best = min(finished, key=lambda a: finished[a])
    if math.isnan(auto):
        return f"auto did not finish; {best} did in {finished[best]:.1f} s"
    return f"{auto / finished[best]:.2f} (best other: {best}, {finished[best]:.1f} s)"


def linopy_table(results: list[dict[str, Any]], variants: list[str]) -> str:
    lines = ["| products × periods | counterplan `build_lp` + hand-off s | "
             + " | ".join(f"{v}: model + `to_highspy` s (peak GiB)" for v in variants)
             + " | " + " | ".join(f"{v} ÷ counterplan" for v in variants) + " | same LP? |",
             "|" + "---|" * (2 + 2 * len(variants) + 1)]
    for r in results:
        cp = r["jobs"]["counterplan"]
        if "error" in cp:
            continue
        ours = median(cp["build_lp"]) + median(cp["hand_off"])
        cells, ratios, checks = [], [], []
        for v in variants:
            job = r["jobs"].get(v, {"error": "not run"})
            if "error" in job:
                cells.append(f"failed ({job['error'][:60]}; peak {job.get('peak', 0):.1f})")
                ratios.append("—")
                continue
            theirs = median(job["build"]) + median(job["to_highspy"])
            failed = f"; {job['failed_repeat'][:40]}" if "failed_repeat" in job else ""
            cells.append(f"{median(job['build']):.2f} + {median(job['to_highspy']):.2f} "
                         f"({job['peak_build']:.2f}{failed})")
            ratios.append(f"{theirs / ours:.0f}×")
            checks.append(agreement_text(v, job["agreement"]))
        lines.append(f"| {r['n']:.0e} × {r['periods']} | {median(cp['build_lp']):.3f} + "
                     f"{median(cp['hand_off']):.3f} | " + " | ".join(cells) + " | "
                     + " | ".join(ratios) + f" | {'; '.join(checks) or '—'} |")
    return "\n".join(lines)


def agreement_text(variant: str, agreement: dict[str, Any]) -> str:
    if "difference" not in agreement:
        return f"{variant}: sizes differ {agreement['linopy']} vs {agreement['counterplan']}"
    worst = max(agreement["difference"].values())
    return f"{variant}: {'yes' if worst <= 1e-12 else 'no'} (largest difference {worst:.0e})"


def same_economy(result: dict[str, Any]) -> str:
    """Did every job of a size generate the same economy (same content hash)?"""
    hashes = {job.get("economy") for job in result["jobs"].values() if "economy" in job}
    return "yes" if len(hashes) == 1 else f"NO ({len(hashes)} different economies)"


def goals(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        cp = r["jobs"]["counterplan"]
        if "error" in cp:
            continue
        solved = optimal_seconds(cp["solves"])
        build = median(cp["build_lp"])
        share = build / solved if not math.isnan(solved) else \
            build / cp["solves"][-1].get("solve", math.inf)
        lines.append(f"- {r['n']:.0e} × {r['periods']}: build ÷ solve "
                     f"{'' if not math.isnan(solved) else '≤ '}{percent(share)} "
                     f"({'met' if share < 0.1 else 'NOT met'}: goal under 10 %); auto solved "
                     + (f"to optimality in {solved:.1f} s" if not math.isnan(solved)
                        else "NOT to optimality within the time limit")
                     + f"; every job solved the same economy: {same_economy(r)}")
    return "\n".join(lines)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{memory:.0f} GiB, Python {platform.python_version()}, numpy {np.__version__}, "
            f"highspy {metadata.version('highspy')}, load average at start "
            f"{os.getloadavg()[0]:.1f}")


def linopy_version(results: list[dict[str, Any]]) -> str:
    return next((job["version"] for r in results for job in r["jobs"].values()
                 if "version" in job), "?")


def header(args: argparse.Namespace) -> str:
    return (f"{dt.date.today()}, {machine()}; medians of up to {args.repeat} runs; "
            f"time limit {args.time_limit:.0f} s per solve; objective {OBJECTIVE}; "
            f"seed {args.seed}.")


def report(results: list[dict[str, Any]], args: argparse.Namespace, head: str) -> str:
    return (f"{head}\n\n"
            f"counterplan, `auto`:\n\n{auto_table(results)}\n\n"
            f"HiGHS's algorithms on the same LP (solve seconds to optimality):\n\n"
            f"{algorithm_table(results, args.algorithms)}\n\n"
            + (f"The same LP built with linopy {linopy_version(results)}:\n\n"
               f"{linopy_table(results, args.linopy)}\n\n"
               if args.linopy else "")
            + f"Goals:\n\n{goals(results)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e3, 1e4, 1e5],
                        help="numbers of products")
    parser.add_argument("--periods", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per solve")
    parser.add_argument("--repeat-budget", type=float, default=120.0,
                        help="a solve that took longer than this is not repeated")
    parser.add_argument("--algorithms", nargs="*", default=list(ALGORITHMS),
                        choices=ALGORITHMS, help="HiGHS algorithms compared with auto")
    parser.add_argument("--linopy", nargs="*", default=list(LINOPY), choices=LINOPY,
                        help="linopy builds to compare (none: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-gib", type=float, default=16.0,
                        help="address-space limit of every child")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for .md and .json")
    parser.add_argument("--report", type=Path,
                        help="print the report of a saved .json again (give the same "
                        "--algorithms and --linopy)")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        child(args)
        return
    if args.report:
        saved = json.loads(args.report.read_text(encoding="utf-8"))
        print(report(saved["results"], args, saved["header"]))
        return
    head = header(args)
    results = []
    for size in args.sizes:
        results.append(size_results(int(size), args))
        print(report(results, args, head), file=sys.stderr, flush=True)
    text = report(results, args, head)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (args.out / f"plan-{stamp}.md").write_text(text, encoding="utf-8")
    saved = {"header": head, "options": {k: str(v) for k, v in vars(args).items()},
             "results": results}
    (args.out / f"plan-{stamp}.json").write_text(json.dumps(saved, indent=1),
                                                encoding="utf-8")


if __name__ == "__main__":
    main()
