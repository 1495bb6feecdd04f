"""The first-order solver (pdhg) against HiGHS's simplex, an independent exact
method: objectives, valuations (dual feasibility and complementary
slackness), infeasible and unbounded plans, warm starts, and the array
module that lets the same code run on a GPU."""

from __future__ import annotations

import re
import types

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings

from counterplan.counter.proposals import CounterPlan, parse_counterplans
from counterplan.generate import GeneratorOptions, generate
from counterplan.io.folder import read_folder
from counterplan.model import Economy
from counterplan.plan import PlanOptions, SolverOptions, solve
from counterplan.plan import pdhg as pdhg_module
from counterplan.plan.highs import run_highs
from counterplan.plan.objectives import build_lp
from counterplan.plan.pdhg import Settings, Start, run_pdhg
from counterplan.plan.scaling import reference_activity, row_sizes
from test_plan import economies, random_economy

TOLERANCE = 1e-5


def _pdhg(tolerance: float = TOLERANCE, **kw: object) -> PlanOptions:
    return PlanOptions(solver=SolverOptions(algorithm="pdhg", tolerance=tolerance,
                                            time_limit=120, **kw))  # type: ignore[arg-type]


def _simplex() -> PlanOptions:
    return PlanOptions(solver=SolverOptions(algorithm="simplex"))


def _counterplans(economy: Economy, rows: list[tuple[str, str, str, str, str, str]]
                  ) -> list[CounterPlan]:
    """Counter-plans from (id, kind, technique, item, period, value) rows."""
    frame = pd.DataFrame([(i, "", k, t, it, p, v, "") for i, k, t, it, p, v in rows],
                         columns=["id", "unit_id", "kind", "technique", "item", "period",
                                  "value", "note"])
    plans, problems = parse_counterplans(frame, economy)
    problems.raise_if_errors()
    return plans


def _check_optimality(economy: Economy, kind: str, tolerance: float) -> None:
    """pdhg's point is primal feasible, its duals dual feasible and
    complementary, row by row in plan-relative units, and its objective
    that of the simplex method, to ``tolerance``."""
    lp = build_lp(economy, kind)
    exact = run_highs(lp, SolverOptions(algorithm="simplex"))
    ref = reference_activity(economy, lp)
    r = run_pdhg(lp, ref, Settings(tolerance, 120, 10**7, False))
    assert r.status == "optimal"
    scale = 1.0 + abs(exact.objective)
    assert abs(r.objective - exact.objective) <= 20 * tolerance * scale
    size = row_sizes(lp, ref)
    ax = lp.matrix @ r.x
    # primal: every row within its bounds to a fraction of its size
    assert (ax >= lp.row_lower - 10 * tolerance * size).all()
    assert (ax <= lp.row_upper + 10 * tolerance * size).all()
    # dual signs (HiGHS's convention for a maximisation: y ≤ 0 on a binding lower
    # bound); a valuation where the row is slack would be a missed complementarity
    y = -lp.sense * r.y
    worth = np.abs(r.y) * size  # what the row's whole size is worth
    slack_low = (ax - lp.row_lower) / size > 1e-3
    slack_up = (lp.row_upper - ax) / size > 1e-3
    assert (worth[slack_low & (y > 0)] <= 20 * tolerance * scale).all()
    assert (worth[slack_up & (y < 0)] <= 20 * tolerance * scale).all()
    # reduced costs: a column well inside its bounds has none
    inside = (r.x - lp.col_lower) / ref > 1e-3
    assert (np.abs(r.reduced_cost[inside & np.isinf(lp.col_upper)] * ref[
        inside & np.isinf(lp.col_upper)]) <= 20 * tolerance * scale).all()


@settings(max_examples=8, deadline=None)
@given(economies())
def test_pdhg_agrees_with_simplex_on_economies_with_stocks(economy: Economy) -> None:
    _check_optimality(economy, "kantorovich", TOLERANCE)


def test_pdhg_converges_where_the_two_largest_singular_values_are_close() -> None:
    """A plan of 30 rows that the property test above drew: the scaled
    matrix's two largest singular values are 0.957 and 0.941, power iteration
    put ‖Â‖₂ at 0.953, and with the step from that estimate pdhg ran to its
    time limit, primal error 10⁻⁴ and dual error 3·10⁻², never converging."""
    _check_optimality(random_economy(300, 5, 2, 3), "kantorovich", TOLERANCE)


@pytest.mark.parametrize("economy", [
    random_economy(300, 5, 2, 3), random_economy(7, 5, 2, 4),
    generate(GeneratorOptions(products=200, periods=3, seed=1, stocks=True)),
], ids=["close-singular-values", "random", "generated"])
def test_the_step_bound_is_above_the_scaled_matrix_norm(economy: Economy) -> None:
    """The step rests on ‖Â‖₂ ≤ 1 after the equilibration (Schur's test,
    :func:`counterplan.plan.pdhg.scale`); checked by a dense SVD."""
    lp = build_lp(economy, "kantorovich")
    scaled = pdhg_module.scale(lp, reference_activity(economy, lp), np, sp)
    largest = np.linalg.svd(scaled.matrix.toarray(), compute_uv=False)[0]
    assert largest <= scaled.norm
    assert largest >= 0.9 * scaled.norm  # the bound is close, so the step is not wasted


@settings(max_examples=5, deadline=None)
@given(economies())
def test_pdhg_valuations_have_the_meaning_of_highs(economy: Economy) -> None:
    """Strong duality through the valuations, as for HiGHS: the optimum is the
    availability valued at pdhg's valuations.  The objective is within twice
    the tolerance of the optimum, relative: the gap's denominator counts both
    objectives (docs/solver.md)."""
    plan = solve(economy, options=_pdhg())
    exact = solve(economy, options=_simplex())
    available = economy.availability_array()
    dual_value = float((plan.valuations["resource"] * available[economy.resources]).sum()
                       + (plan.valuations["stock-level"] * available[economy.stocks]).sum())
    assert plan.value == pytest.approx(exact.value, rel=2 * TOLERANCE, abs=TOLERANCE)
    assert dual_value == pytest.approx(exact.value, rel=1e-4, abs=1e-5)
    for family in ("product", "resource", "stock-use", "stock-level"):
        assert (plan.valuations[family] >= -1e-5 * (1 + np.abs(exact.value))).all()


@pytest.mark.parametrize("name", ["kantorovich-1939", "brazil-five-year"])
def test_pdhg_on_the_bundled_examples(example, name: str) -> None:
    economy = read_folder(example(name))
    kind = economy.objective.kind
    _check_optimality(economy, kind, 1e-6)


def test_pdhg_on_a_generated_plan_with_stocks_and_its_summary() -> None:
    economy = generate(GeneratorOptions(products=60, periods=3, seed=4, stocks=True))
    plan = solve(economy, options=_pdhg(1e-5))
    exact = solve(economy, options=_simplex())
    assert plan.value == pytest.approx(exact.value, rel=5e-5)
    errors = plan.summary()["errors"]
    assert max(errors["primal"], errors["dual"], errors["gap"]) <= 1e-5
    assert plan.info.algorithm == "pdhg"


def test_a_warm_start_from_the_optimum_stops_at_once() -> None:
    economy = generate(GeneratorOptions(products=40, periods=3, seed=2, stocks=True))
    lp = build_lp(economy, "kantorovich")
    exact = run_highs(lp, SolverOptions(algorithm="simplex", tolerance=1e-9))
    r = run_pdhg(lp, reference_activity(economy, lp), Settings(1e-6, 60, 10**7, False),
                 Start(exact.x, exact.row_dual))
    assert r.status == "optimal"
    assert r.iterations == 0
    cold = run_pdhg(lp, reference_activity(economy, lp), Settings(1e-6, 60, 10**7, False))
    assert cold.iterations > 100


def test_the_time_limit_is_looked_at_every_iteration(monkeypatch) -> None:
    """Between two checks of the stopping rule (every CHECK_EVERY iterations)
    a plan of 10⁶ products spends over two minutes: the limit must stop the
    iteration within one iteration of passing, counted from the start of the
    solve.  A clock that moves one second each time it is read makes this
    exact: the limit of 20 s passes after about 20 readings."""
    clock = iter(range(10**6))
    monkeypatch.setattr(pdhg_module, "time",
                        types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    economy = generate(GeneratorOptions(products=40, periods=3, seed=2, stocks=True))
    lp = build_lp(economy, "kantorovich")
    r = run_pdhg(lp, reference_activity(economy, lp), Settings(1e-6, 20, 10**7, False))
    assert r.status == "time-limit"
    assert 0 < r.iterations < pdhg_module.CHECK_EVERY
    assert 20 < r.seconds < 30


def test_a_warm_start_from_a_related_plan_is_faster_than_cold() -> None:
    economy = generate(GeneratorOptions(products=40, periods=3, seed=2, stocks=True))
    plan = solve(economy, options=_pdhg())
    lp = build_lp(economy, "kantorovich")
    upper = lp.row_upper.copy()
    resource = lp.rows.get("resource")
    assert resource is not None
    upper[resource.slice] *= 0.99  # 1 % less labour in every period
    changed = type(lp)(lp.matrix, lp.cost, lp.col_lower, lp.col_upper, lp.row_lower, upper,
                       lp.sense, lp.rows, lp.cols)
    ref = reference_activity(economy, lp)
    settings_ = Settings(TOLERANCE, 60, 10**7, False)
    warm = run_pdhg(changed, ref, settings_, plan.start)
    cold = run_pdhg(changed, ref, settings_)
    assert warm.status == cold.status == "optimal"
    assert warm.objective == pytest.approx(cold.objective, rel=1e-5)
    assert warm.objective == pytest.approx(
        run_highs(changed, SolverOptions(algorithm="simplex")).objective, rel=1e-5)
    assert warm.iterations < cold.iterations


def test_the_cpu_runs_the_code_path_of_the_gpu(monkeypatch) -> None:
    """Every array operation of the iteration goes through the array module:
    with a module that records what is asked of it, the solve is the same
    and the module is the one that did the work."""
    used: set[str] = set()

    class Recording(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            used.add(name)
            return getattr(np, name)

    xp = Recording("xp")
    monkeypatch.setattr(pdhg_module, "array_module", lambda device: (xp, pdhg_module.sp))
    economy = generate(GeneratorOptions(products=30, periods=2, seed=1, stocks=True))
    lp = build_lp(economy, "kantorovich")
    ref = reference_activity(economy, lp)
    r = run_pdhg(lp, ref, Settings(1e-5, 60, 10**7, False))
    assert r.status == "optimal"
    assert {"clip", "maximum", "minimum", "asarray", "zeros", "where"} <= used


def test_an_unknown_device_is_a_clear_error() -> None:
    from counterplan.errors import CounterplanError

    with pytest.raises(CounterplanError, match="unknown device 'tpu'"):
        pdhg_module.array_module("tpu")


@pytest.mark.parametrize("tolerance", [1e-4, 1e-6])
def test_counterplan_verdicts_warm_from_pdhg_agree_with_simplex(tolerance: float) -> None:
    """The verdict path past the simplex limit (warm pdhg re-solves) gives the
    verdicts of the warm simplex path; a partial share is never above the
    largest (simplex's), and is within a few tolerances of it; each objective
    after is simplex's at the share reported.  Near the largest share the
    objective is steep (a share 1.6·10⁻⁶ below it raises the objective 0.5 % here),
    so the objective is compared at the share reported, not at simplex's."""

    from counterplan.counter.apply import compile_edit
    from counterplan.counter.evaluate import Evaluator, evaluate

    economy = generate(GeneratorOptions(products=30, periods=3, seed=5, stocks=True))
    plan = solve(economy, options=_simplex())
    techniques = economy.techniques.index
    first = plan.activity[:, 1]
    busy = [j for j in np.argsort(-first) if not techniques[j].startswith("invest")][:2]
    f = economy.flows
    inputs = np.flatnonzero((f.amount < 0) & (economy.kind_codes[f.item] == 0))
    n = int(inputs[0])
    rows = [
        ("small-pledge", "pledge", techniques[busy[0]], "", "2",
         repr(float(0.9 * first[busy[0]]))),
        ("big-pledge", "pledge", techniques[busy[1]], "", "2",
         repr(float(50 * first[busy[1]] + 50))),
        ("better-norm", "norm", techniques[f.technique[n]], economy.items.index[f.item[n]], "",
         repr(float(0.8 * f.amount[n]))),
        ("more-labour", "capacity", "", "labour", "2", "5"),
    ]
    plans = _counterplans(economy, rows)
    warm = evaluate(economy, plans, options=_pdhg(tolerance)).verdicts.set_index("id")
    exact = evaluate(economy, plans, options=_simplex()).verdicts.set_index("id")
    assert list(warm["verdict"]) == list(exact["verdict"])
    assert warm.loc["big-pledge", "verdict"] == "partial"
    assert (warm["share"] <= exact["share"] + 1e-12).all()
    assert np.allclose(warm["share"], exact["share"], rtol=0, atol=4 * tolerance)
    # the reason of a partial pledge (its elastic LP by warm pdhg): the same
    # conflicts, by the same amounts to the tolerance, and the share reported
    conflict = re.compile(r"(?:: |; )([^;(]+?) by ([0-9.e+-]+)")
    ours, theirs = (frame.loc["big-pledge", "reason"] for frame in (warm, exact))
    assert ours.startswith(f"only {warm.loc['big-pledge', 'share']:.4g} of it fits")
    assert [c for c, _ in conflict.findall(ours)] == [c for c, _ in conflict.findall(theirs)]
    assert len(conflict.findall(ours)) >= 3
    for (_, a), (_, b) in zip(conflict.findall(ours), conflict.findall(theirs), strict=True):
        assert float(a) == pytest.approx(float(b), rel=10 * tolerance)
    at_share = Evaluator(economy, options=_simplex())
    for name, (share, objective) in warm[["share", "objective_after"]].iterrows():
        changed = at_share.warm.trial(compile_edit(
            next(p for p in plans if p.id == name), at_share.at, share))
        assert changed.status == "optimal", name
        # pdhg's point holds each row to the tolerance, so its objective may pass
        # the optimum by a few tolerances (as in every pdhg test here)
        assert objective == pytest.approx(changed.objective, rel=5 * tolerance), name


def test_a_plan_at_a_share_that_does_not_fit_is_a_named_error() -> None:
    """Where the plan at a share has no solution even after backing off, the
    verdict is an error naming the counter-plan and what would help, not the
    objective of a point that is not a plan."""

    from counterplan.counter.evaluate import Evaluator
    from counterplan.errors import SolveFailed

    economy = generate(GeneratorOptions(products=30, periods=3, seed=5, stocks=True))
    judge = Evaluator(economy, options=_simplex())
    technique = next(t for t in economy.techniques.index if not t.startswith("invest"))
    plans = _counterplans(economy, [("huge", "pledge", technique, "", "2", "1e9")])
    with pytest.raises(SolveFailed, match=r"counter-plan 'huge': 0\.5 of it fits.*--time-limit"):
        judge.plan_at_share(plans[0], 0.5, 1e-9)


def test_a_share_lp_stopped_by_its_limit_is_an_error_not_a_rejection() -> None:
    """The share LP always has a solution (θ = 0, the plan itself); one that
    stops at its time limit says so, naming the counter-plan, instead of
    reporting a share of 0 (a rejection the counter-plan did not earn)."""
    from dataclasses import replace

    from counterplan.counter.apply import compile_edit
    from counterplan.counter.evaluate import Evaluator
    from counterplan.errors import SolveFailed

    economy = generate(GeneratorOptions(products=30, periods=3, seed=5, stocks=True))
    judge = Evaluator(economy, options=_pdhg(1e-6))
    technique = next(t for t in economy.techniques.index if not t.startswith("invest"))
    plans = _counterplans(economy, [("big", "pledge", technique, "", "2", "1e5")])
    edit = compile_edit(plans[0], judge.at, 1.0)
    assert 0 < judge.largest_share(plans[0], edit) < 1  # given time, it is found
    judge.options = replace(judge.options, solver=replace(judge.options.solver,
                                                          time_limit=1e-9))
    with pytest.raises(SolveFailed, match=r"largest share of counter-plan 'big'.*time-limit"):
        judge.largest_share(plans[0], edit)


def test_solve_with_pdhg_from_the_command_line(tmp_path) -> None:
    """`solve --algorithm pdhg --tolerance`: the plan and its errors in
    summary.json; a tolerance or device out of range is a user's mistake."""
    import json

    from test_cli import run

    run("generate", "--products", "40", "--periods", "3", "--stocks", tmp_path / "g")
    out = run("solve", tmp_path / "g", "--algorithm", "pdhg", "--tolerance", "1e-5",
              "--out", tmp_path / "plan", "--quiet")
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["solver"]["algorithm"] == "pdhg"
    assert max(summary["errors"][k] for k in ("primal", "dual", "gap")) <= 1e-5
    exact = solve(read_folder(tmp_path / "g"), options=_simplex())
    assert summary["objective"]["value"] == pytest.approx(exact.value, rel=5e-5)
    bad = run("solve", tmp_path / "g", "--algorithm", "pdhg", "--tolerance", "2",
              "--out", tmp_path / "p2")
    assert bad.returncode == 2 and "between 0 and 1" in bad.stderr
    gpu = run("solve", tmp_path / "g", "--device", "tpu", "--out", tmp_path / "p3")
    assert gpu.returncode == 1 and "unknown --device 'tpu'" in gpu.stderr
    assert not (tmp_path / "p2").exists() and not (tmp_path / "p3").exists()
