"""First-order solvers on the five-year plan with stocks, measured the same way.

For each size N (``counterplan generate --products N --periods 5 --stocks``,
Kantorovich objective), each solver runs in its own subprocess (its own peak
memory, VmHWM) on the LP ``build_lp`` makes, with ``--time-limit`` seconds:

- ``pdhg``: counterplan's first-order solver, to ``--tolerance`` in
  plan-relative units;
- ``highs-pdlp``: HiGHS's PDLP, its optimality tolerance set to ``--tolerance``;
- ``ortools-pdlp``: OR-Tools' PDLP (``ortools.pdlp``), relative optimality
  tolerance ``--tolerance``;
- ``hipo``: HiGHS's HiPO interior point (``highspy[extras]``), the exact
  reference, up to ``--exact-max`` products.

``--kinds plain sectors`` runs each size on both kinds of generated economy:
suppliers drawn from the whole economy (no locality for the sparse products
to use), and products in sectors of 100 neighbouring ids drawing most inputs
from their own sector (``generate --sectors``, the structure of real tables).

Every solver's point is then judged in the same units: the largest row
violation as a fraction of the row's reference size (the first-order
solver's primal error), and the objective's relative distance to the best
exact optimum of the same run.  The table prints seconds, iterations, peak
memory and those two errors, and the ratio of the best other first-order
solver's time to pdhg's.

    .venv/bin/python benchmarks/bench_pdhg.py --sizes 1e3 1e4 --time-limit 300
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

# The children load the LP from a file: OR-Tools links a HiGHS of its own, which
# cannot share a process with highspy, so its child never imports counterplan.plan.

SOLVERS = ("pdhg", "highs-pdlp", "ortools-pdlp", "hipo")
#: products per sector in the ``sectors`` kind of economy
SECTOR_SIZE = 100
MARK = "RESULT "
RESULTS = Path(__file__).parent / "results"


def peak_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return math.nan


def save_lp(n: int, seed: int, sectors: int, path: Path) -> None:
    """The plan LP, its reference activity and row sizes, to ``path`` (.npz)."""
    from counterplan.generate import GeneratorOptions, generate
    from counterplan.plan.objectives import build_lp
    from counterplan.plan.scaling import reference_activity, row_sizes

    economy = generate(GeneratorOptions(products=n, periods=5, seed=seed, stocks=True,
                                        sectors=sectors))
    lp = build_lp(economy, "kantorovich")
    ref = reference_activity(economy, lp)
    m = sp.csr_matrix(lp.matrix)
    np.savez(path, data=m.data, indices=m.indices, indptr=m.indptr, shape=m.shape,
             cost=lp.cost, col_lower=lp.col_lower, col_upper=lp.col_upper,
             row_lower=lp.row_lower, row_upper=lp.row_upper, sense=lp.sense, ref=ref,
             size=row_sizes(lp, ref))


class Problem:
    """The LP as the children read it (the fields of counterplan's LP)."""

    def __init__(self, path: Path):
        f = np.load(path)
        self.matrix = sp.csr_matrix((f["data"], f["indices"], f["indptr"]),
                                    shape=tuple(f["shape"]))
        for name in ("cost", "col_lower", "col_upper", "row_lower", "row_upper", "ref",
                     "size"):
            setattr(self, name, f[name])
        self.sense = int(f["sense"])

    def lp(self) -> Any:
        from counterplan.plan.build import LP, Registry

        return LP(self.matrix.tocsc(), self.cost, self.col_lower, self.col_upper,
                  self.row_lower, self.row_upper, self.sense, Registry(), Registry())


def run_pdhg_job(p: Problem, args: argparse.Namespace) -> dict[str, Any]:
    from counterplan.plan.pdhg import Settings, run_pdhg

    r = run_pdhg(p.lp(), p.ref, Settings(args.tolerance, args.time_limit, 10**8, False))
    return {"status": r.status, "x": r.x, "iterations": r.iterations, "seconds": r.seconds,
            "errors": r.errors}


def run_highs_job(p: Problem, algorithm: str, args: argparse.Namespace) -> dict[str, Any]:
    from counterplan.plan.highs import SolverOptions, _run

    tolerance = args.tolerance if algorithm == "pdlp" else 1e-7
    s = _run(p.lp(), SolverOptions(time_limit=args.time_limit, tolerance=tolerance), algorithm)
    return {"status": str(s.status), "x": s.x, "iterations": s.iterations,
            "seconds": s.seconds}


def run_ortools_job(lp: Problem, args: argparse.Namespace) -> dict[str, Any]:
    from ortools.pdlp import solvers_pb2
    from ortools.pdlp.python import pdlp

    qp = pdlp.QuadraticProgram()
    n_rows, n_cols = lp.matrix.shape
    qp.resize_and_initialize(n_cols, n_rows)
    qp.objective_vector = -lp.sense * lp.cost  # OR-Tools minimises
    qp.constraint_matrix = sp.csc_matrix(lp.matrix)
    qp.constraint_lower_bounds = lp.row_lower
    qp.constraint_upper_bounds = lp.row_upper
    qp.variable_lower_bounds = lp.col_lower
    qp.variable_upper_bounds = lp.col_upper
    params = solvers_pb2.PrimalDualHybridGradientParams()
    criteria = params.termination_criteria.simple_optimality_criteria
    criteria.eps_optimal_relative = args.tolerance
    criteria.eps_optimal_absolute = args.tolerance
    params.termination_criteria.time_sec_limit = args.time_limit
    params.num_threads = 1
    start = time.perf_counter()
    result = pdlp.primal_dual_hybrid_gradient(qp, params)
    seconds = time.perf_counter() - start
    log = result.solve_log
    status = "optimal" if log.termination_reason == 1 else \
        f"reason {log.termination_reason}"
    return {"status": status, "x": np.asarray(result.primal_solution),
            "iterations": int(log.iteration_count), "seconds": seconds}


def child(args: argparse.Namespace) -> None:
    lp = Problem(args.lp)
    if args.job == "pdhg":
        out = run_pdhg_job(lp, args)
    elif args.job == "ortools-pdlp":
        out = run_ortools_job(lp, args)
    else:
        out = run_highs_job(lp, "pdlp" if args.job == "highs-pdlp" else "hipo", args)
    x = out.pop("x")
    ax = lp.matrix @ x
    violation = np.maximum(lp.row_lower - ax, ax - lp.row_upper) / lp.size
    out.update(objective=float(lp.cost @ x), primal=float(np.maximum(violation, 0).max()),
               peak=peak_gib(), nnz=int(lp.matrix.nnz), rows=lp.matrix.shape[0])
    print(MARK + json.dumps(out), flush=True)


def run_job(job: str, n: int, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{n} × 5, {job} ...", file=sys.stderr, flush=True)
    command = [sys.executable, __file__, "--job", job, "--lp", str(path), "--time-limit",
               str(args.time_limit), "--tolerance", str(args.tolerance)]
    cap = int(args.memory_gib * 2**30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False,
                              timeout=2 * args.time_limit + 300, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"status": "killed"}
    lines = [s for s in done.stdout.splitlines() if s.startswith(MARK)]
    result = json.loads(lines[-1][len(MARK):]) if lines else \
        {"status": f"failed (exit {done.returncode})"}
    print(f"  {result}", file=sys.stderr, flush=True)
    return dict(result)


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| products × 5 | economy | solver | status | seconds | iterations | peak GiB "
             "| row violation (fraction of size) | objective − exact (relative) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        exact = r.get("exact")
        for job, out in r["jobs"].items():
            gap = abs(out["objective"] - exact) / abs(exact) if exact and "objective" in out \
                else math.nan
            lines.append(
                f"| {r['n']:,} | {r['kind']} | {job} | {out.get('status')} "
                f"| {out.get('seconds', math.nan):.1f} "
                f"| {out.get('iterations', '')} | {out.get('peak', math.nan):.2f} "
                f"| {out.get('primal', math.nan):.1e} | {gap:.1e} |")
        lines.append(f"| {r['n']:,} | {r['kind']} | ratio best other PDLP ÷ pdhg (seconds, "
                     f"optimal runs only) | {r['ratio']} | | | | | |")
    return "\n".join(lines)


def parent(args: argparse.Namespace) -> None:
    import tempfile

    results = []
    for size, kind in itertools.product(args.sizes, args.kinds):
        n = int(float(size))
        sectors = max(2, n // SECTOR_SIZE) if kind == "sectors" else 0
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "lp.npz"
            save_lp(n, args.seed, sectors, path)
            jobs = {job: run_job(job, n, path, args) for job in args.solvers
                    if job != "hipo" or n <= args.exact_max}
        hipo = jobs.get("hipo", {})
        exact = hipo.get("objective") if hipo.get("status") == "optimal" else None
        if exact is None and kind == "plain" and n in args.known:
            exact = args.known[n]
        ours = jobs["pdhg"]
        others = [j["seconds"] for k, j in jobs.items()
                  if k.endswith("pdlp") and j.get("status") == "optimal"]
        ratio = "no other PDLP finished" if not others else \
            f"{min(others) / ours['seconds']:.2f}" if ours.get("status") == "optimal" else \
            "pdhg did not finish"
        results.append({"n": n, "kind": kind, "jobs": jobs, "exact": exact, "ratio": ratio})
        print(table(results), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_pdhg.json").write_text(json.dumps(results, indent=1) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", default=["1e3", "1e4"])
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--tolerance", type=float, default=1e-4)
    p.add_argument("--exact-max", type=int, default=1000,
                   help="run HiPO (exact) up to this many products")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", nargs="+", default=["plain"], choices=["plain", "sectors"],
                   help="plain: suppliers from the whole economy; sectors: generate --sectors "
                        f"N/{SECTOR_SIZE} (products draw most inputs from their own sector)")
    p.add_argument("--memory-gib", type=float, default=16.0)
    p.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS,
                   help="the solvers to run (pdhg always runs): at 10⁵ and 10⁶ products "
                        "the other first-order solvers do not fit one time limit each")
    p.add_argument("--job", choices=SOLVERS)
    p.add_argument("--lp", type=Path)
    p.add_argument("--known", nargs="*", default=[], metavar="N=OBJECTIVE",
                   help="an exact optimum found before (plain economies, this seed), for "
                        "sizes where HiPO does not finish in this run")
    args = p.parse_args()
    args.solvers = ["pdhg", *(s for s in args.solvers if s != "pdhg")]
    args.known = {int(float(k)): float(v) for k, v in (item.split("=") for item in args.known)}
    if args.job:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
