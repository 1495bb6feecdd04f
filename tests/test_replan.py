"""Re-planning from the actual state: actuals equal to the plan reproduce it;
an investment shortfall lowers later capacity, and the re-plan is optimal
against an LP written independently from the equations of DESIGN.md §3."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from counterplan.cycle import ReplanOptions, check_reports, replan
from counterplan.cycle.replan import stock_levels
from counterplan.errors import CounterplanError
from counterplan.io.folder import read_folder
from counterplan.model import Economy
from counterplan.plan import PlanOptions, SolverOptions, solve
from test_cli import run

BAKERY = {
    "economy.toml": 'name = "bakery"\nperiods = ["2026", "2027", "2028"]\n',
    "items.csv": "id,kind,unit,name,depreciation\nbread,product,loaves,,\n"
                 "labour,resource,hours,,\noven,stock,ovens,,0.1\n",
    "techniques.csv": "id,name,unit_id,min,max\nbakery,,bakers,,\nbuild,,builders,,\n",
    "units.csv": "id,name\nbakers,\nbuilders,\n",
    "flows.csv": "technique,item,amount\nbakery,bread,1\nbakery,labour,-0.2\n"
                 "bakery,oven,-0.01\nbuild,oven,1\nbuild,labour,-5\n",
    "availability.csv": "item,period,amount\nlabour,2026,1000\nlabour,2027,1000\n"
                        "labour,2028,1000\noven,2026,1\n",
    "targets.csv": "item,period,amount,weight\nbread,2026,100,1\nbread,2027,110,1\n"
                   "bread,2028,120,1\n",
}


@pytest.fixture
def bakery(tmp_path: Path) -> Path:
    folder = tmp_path / "bakery"
    folder.mkdir()
    for name, text in BAKERY.items():
        (folder / name).write_text(text)
    return folder


def _reports(e: Economy, activity: np.ndarray, period: int) -> pd.DataFrame:
    """Each technique reports at the period's last day what ``activity`` says."""
    units = e.techniques["unit_id"].fillna("").astype(str)
    return pd.DataFrame({"unit_id": units.to_numpy(), "technique": e.techniques.index,
                         "period": e.periods[period], "date": f"{e.periods[period]}-12-31",
                         "activity": activity[:, period]})


def independent_lp(e: Economy, start: np.ndarray) -> float:
    """max Σ_t λ_t over the periods of ``e`` with the stocks starting at
    ``start``, written from the equations of DESIGN.md §3 with dense matrices:
    F x(t) ≥ λ_t g(t) (products), U x(t) ≤ R(t) (resources), N x(t) ≤ K(t),
    K(0) = start, K(t+1) = (1 − δ) K(t) + B x(t)."""
    F = e.flow_matrix.toarray()
    p, r, s = e.products, e.resources, e.stocks
    J, S, T = e.n_techniques, len(s), e.n_periods
    g, R = e.target_array(), e.availability_array()
    n = J * T + S * T + T  # x, then K, then λ
    x = lambda t: slice(J * t, J * (t + 1))  # noqa: E731
    A_ub, b_ub, A_eq, b_eq = [], [], [], []
    keep = 1 - e.items["depreciation"].to_numpy(dtype=float)[s]
    for t in range(T):
        for i in p:
            row = np.zeros(n)
            row[x(t)] = -F[i]
            row[J * T + S * T + t] = g[i, t]
            A_ub.append(row)
            b_ub.append(0.0)
        for i in r:
            row = np.zeros(n)
            row[x(t)] = np.maximum(-F[i], 0)
            A_ub.append(row)
            b_ub.append(R[i, t])
        for m, i in enumerate(s):
            row = np.zeros(n)
            row[x(t)] = np.maximum(-F[i], 0)
            row[J * T + S * t + m] = -1
            A_ub.append(row)
            b_ub.append(0.0)
            row = np.zeros(n)
            row[J * T + S * t + m] = 1.0
            if t == 0:
                b_eq.append(start[m])
            else:
                row[J * T + S * (t - 1) + m] = -keep[m]
                row[x(t - 1)] = -np.maximum(F[i], 0)
                b_eq.append(R[i, t])
            A_eq.append(row)
    cost = np.zeros(n)
    cost[J * T + S * T:] = -1.0
    done = linprog(cost, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                   bounds=[(0, None)] * n, method="highs")
    assert done.status == 0, done.message
    return float(-done.fun)


def test_actuals_equal_to_the_plan_reproduce_it(bakery: Path) -> None:
    e = read_folder(bakery)
    plan = solve(e)
    reports = check_reports(_reports(e, plan.activity, 0), e)
    again = replan(plan, reports, "2027")
    assert again.start_levels == pytest.approx(plan.levels[:, 1])
    assert again.plan.lambdas == pytest.approx(plan.lambdas[1:], rel=1e-7)
    assert again.plan.value == pytest.approx(plan.lambdas[1:].sum(), rel=1e-7)
    activity = again.changes[again.changes["kind"] == "activity"]
    assert np.allclose(activity["new"], activity["old"], rtol=1e-6, atol=1e-6)


def test_an_investment_shortfall_lowers_later_capacity(bakery: Path) -> None:
    e = read_folder(bakery)
    plan = solve(e)
    build = e.techniques.index.get_loc("build")
    assert plan.activity[build, 0] > 0, "the plan invests in its first period"
    actual = plan.activity.copy()
    actual[build, 0] *= 0.5
    again = replan(plan, check_reports(_reports(e, actual, 0), e), "2027")
    assert again.start_levels[0] < plan.levels[0, 1] - 1e-9
    expected = 0.9 * plan.levels[0, 0] + actual[build, 0]
    assert again.start_levels[0] == pytest.approx(expected)
    assert again.plan.optimal
    assert again.plan.value < plan.lambdas[1:].sum() - 1e-9
    assert again.plan.value == pytest.approx(
        independent_lp(again.plan.economy, again.start_levels), rel=1e-7)


@pytest.mark.parametrize("seed", range(5))
def test_replan_is_optimal_against_an_independent_lp(bakery: Path, seed: int) -> None:
    e = read_folder(bakery)
    plan = solve(e)
    rng = np.random.default_rng(seed)
    actual = plan.activity * rng.uniform(0.6, 1.1, plan.activity.shape)
    reports = check_reports(pd.concat([_reports(e, actual, 0), _reports(e, actual, 1)]), e)
    again = replan(plan, reports, "2028")
    assert again.start_levels == pytest.approx(stock_levels(e, actual[:, :2]))
    assert again.plan.value == pytest.approx(
        independent_lp(again.plan.economy, again.start_levels), rel=1e-7)


def test_the_replan_starts_warm_from_the_plan_in_force(bakery: Path) -> None:
    """With actuals equal to the plan, the tail of its primal and dual is
    optimal for the remaining periods: pdhg stops at its first check."""
    e = read_folder(bakery)
    options = PlanOptions(solver=SolverOptions(algorithm="pdhg"))
    plan = solve(e, options=options)
    reports = check_reports(_reports(e, plan.activity, 0), e)
    warm = replan(plan, reports, "2027", ReplanOptions(plan=options))
    cold = replan(dataclasses.replace(plan, start=None), reports, "2027",
                  ReplanOptions(plan=options))
    assert warm.start is not None and cold.start is None
    assert warm.plan.info.iterations == 0 < cold.plan.info.iterations
    assert warm.plan.lambdas == pytest.approx(cold.plan.lambdas, rel=1e-3)


def test_replan_from_the_first_or_an_unknown_period_is_refused(bakery: Path) -> None:
    e = read_folder(bakery)
    plan = solve(e)
    reports = check_reports(_reports(e, plan.activity, 0), e)
    with pytest.raises(CounterplanError, match="first period"):
        replan(plan, reports, "2026")
    with pytest.raises(CounterplanError, match="not a period of the plan"):
        replan(plan, reports, "2031")


def test_replan_command_on_the_example(example, tmp_path: Path) -> None:
    folder = example("brazil-five-year")
    assert run("solve", folder, "--out", tmp_path / "plan", "-q").returncode == 0
    done = run("replan", folder, "--plan", tmp_path / "plan", "--actuals",
               folder / "reports.csv", "--from", "2027", "--out", tmp_path / "again")
    assert done.returncode == 0, done.stderr
    changes = pd.read_csv(tmp_path / "again" / "changes.csv", dtype={"period": str})
    assert set(changes["kind"]) == {"activity", "fulfilment", "valuation"}
    assert set(changes["period"]) == {"2027", "2028", "2029", "2030"}
    assert (tmp_path / "again" / "changes.png").is_file()
    assert (tmp_path / "again" / "summary.json").is_file()
