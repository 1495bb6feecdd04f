"""Optimal plans: known answers, properties on random multi-period economies
with stocks, and the explanations when no plan can be made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counterplan import CounterplanError, SolveFailed, material_balance, read_folder
from counterplan.calc.leontief import embodied, io_system
from counterplan.model import Economy
from counterplan.plan import (
    HarmonyOptions,
    PlanInfeasible,
    PlanOptions,
    PlanUnbounded,
    SolverOptions,
    harmony,
    solve,
    write_plan,
)
from counterplan.plan.objectives import harmony_breakpoints, harmony_secants

from economies import economy_from, io_economies, machine_economy

# -- known answers ----------------------------------------------------------------

def test_kantorovich_first_example(example) -> None:
    plan = solve(read_folder(example("kantorovich-1939")))
    assert plan.status == "optimal"
    assert plan.value == pytest.approx(86 + 2 / 3, rel=1e-9)
    assert plan.lambdas is not None and plan.lambdas[0] == pytest.approx(86 + 2 / 3)
    valuations = dict(zip(plan.economy.items.index[plan.economy.resources],
                          plan.valuations["resource"][:, 0], strict=True))
    assert valuations == pytest.approx({"milling": 6 + 2 / 3, "turret": 13 + 1 / 3,
                                        "automatic": 26 + 2 / 3}, rel=1e-9)


def test_cockshott_harmony_test_problem() -> None:
    """Three parts on three machine types, one machine each (rates per machine-day)."""
    plan = solve(machine_economy([[105, 107, 64], [56, 66, 38], [56, 83, 53]], [1, 1, 1]))
    assert round(plan.value, 3) == 70.493


def test_min_resource_equals_the_balance_labour(example) -> None:
    economy = read_folder(example("brazil-2021"))
    plan = solve(economy, "min-resource", PlanOptions(resources={"labour": 1.0}))
    balance = material_balance(economy).resources.set_index("item")
    assert plan.value == pytest.approx(balance.loc["labour", "used"], rel=1e-7)
    # the product valuations of min-resource are the labour values
    v, _ = embodied(io_system(economy), economy.items.index.get_indexer(["labour"]))
    assert plan.valuations["product"][:, 0] == pytest.approx(v[:, 0], rel=1e-6)


def test_textbook_min_resource(example) -> None:
    plan = solve(read_folder(example("textbook")))
    assert plan.objective == "min-resource"
    assert plan.value == pytest.approx(800)
    assert plan.activity[:, 0] == pytest.approx([1000, 2000])


# -- harmony ----------------------------------------------------------------------

@pytest.mark.parametrize("tolerance", [1e-2, 1e-3, 1e-4])
def test_harmony_approximation_error_is_within_its_bound(tolerance: float) -> None:
    options = HarmonyOptions(tolerance=tolerance, max_ratio=3.0)
    a, b = harmony_secants(options)
    r = np.linspace(0, 3, 20001)
    pwl = np.min(a[None, :] + b[None, :] * r[:, None], axis=1)
    error = harmony(r) - pwl
    assert error.min() >= -1e-12  # the interpolant never overstates harmony
    assert error.max() <= tolerance
    assert error.max() >= tolerance / 10  # the bound is not absurdly loose
    assert len(harmony_breakpoints(options)) < 40 / np.sqrt(tolerance / 1e-3)


def test_harmony_values_the_ratios_it_plans() -> None:
    economy = machine_economy([[105, 107, 64], [56, 66, 38], [56, 83, 53]], [1, 1, 1])
    rough = solve(economy, "harmony", PlanOptions(harmony=HarmonyOptions(tolerance=1e-2,
                                                                         max_ratio=200)))
    fine = solve(economy, "harmony", PlanOptions(harmony=HarmonyOptions(tolerance=1e-5,
                                                                        max_ratio=200)))
    for plan, eps in ((rough, 1e-2), (fine, 1e-5)):
        ratios = plan.fulfilment_table()["ratio"].to_numpy()
        exact = float(harmony(ratios).sum())
        assert exact - 3 * eps <= plan.value <= exact + 1e-9
    assert abs(rough.value - fine.value) <= 3 * 1e-2
    # each objective is best at what it maximises
    sets = solve(economy, "kantorovich")
    assert fine.fulfilment_table()["ratio"].min() <= sets.value + 1e-6
    assert fine.value >= float(harmony(sets.fulfilment_table()["ratio"]).sum()) - 3e-5


# -- properties on random economies ---------------------------------------------------

@st.composite
def economies(draw: st.DrawFn) -> Economy:
    seed = draw(st.integers(0, 2**32 - 1))
    return random_economy(seed, draw(st.integers(1, 5)), draw(st.integers(0, 2)),
                          draw(st.integers(1, 4)))


def random_economy(seed: int, n_p: int, n_s: int, n_t: int) -> Economy:
    """A random economy of ``n_p`` products, ``n_s`` stocks and ``n_t``
    periods, drawn from ``seed`` (the property tests' economies)."""
    rng = np.random.default_rng(seed)
    periods = [str(2026 + t) for t in range(n_t)]
    products = [f"p{i}" for i in range(n_p)]
    stocks = [f"k{i}" for i in range(n_s)]
    items = pd.DataFrame({"id": [*products, "labour", *stocks],
                          "kind": ["product"] * n_p + ["resource"] + ["stock"] * n_s,
                          "depreciation": [0.0] * (n_p + 1) + list(rng.uniform(0, 0.3, n_s))})
    rows: list[tuple[str, str, float]] = []
    techniques = []
    for i, p in enumerate(products):
        for c in range(int(rng.integers(1, 3))):
            j = f"make-{p}-{c}"
            techniques.append(j)
            rows.append((j, p, float(rng.uniform(0.5, 2))))
            for q in rng.choice(products, size=min(n_p, 2), replace=False):
                if q != p:
                    rows.append((j, str(q), -float(rng.uniform(0, 0.3))))
            rows.append((j, "labour", -float(rng.uniform(0.1, 1))))
            for s in stocks:
                if rng.random() < 0.7:
                    rows.append((j, s, -float(rng.uniform(0.1, 1))))
        del i
    for s in stocks:
        j = f"invest-{s}"
        techniques.append(j)
        rows += [(j, s, 1.0), (j, products[0], -float(rng.uniform(0.2, 1))),
                 (j, "labour", -float(rng.uniform(0.1, 0.5)))]
    flows = pd.DataFrame(rows, columns=["technique", "item", "amount"])
    availability = [("labour", t, float(rng.uniform(50, 100))) for t in periods]
    availability += [(s, periods[0], float(rng.uniform(5, 50))) for s in stocks]
    targets = [(p, t, float(rng.uniform(0.5, 5))) for p in products for t in periods
               if rng.random() < 0.8] or [(products[0], periods[0], 1.0)]
    return economy_from(
        periods, items=items, techniques=pd.DataFrame({"id": techniques}), flows=flows,
        availability=pd.DataFrame(availability, columns=["item", "period", "amount"]),
        targets=pd.DataFrame(targets, columns=["item", "period", "amount"]))


@settings(max_examples=40, deadline=None)
@given(economies())
def test_strong_duality_through_the_valuations(economy: Economy) -> None:
    """With no activity bounds, the optimum equals the availability valued at
    the valuations: Σ R·y(resources) + Σ R·y(stock arrivals)."""
    plan = solve(economy)
    available = economy.availability_array()
    dual_value = float((plan.valuations["resource"] * available[economy.resources]).sum()
                       + (plan.valuations["stock-level"] * available[economy.stocks]).sum())
    assert plan.value == pytest.approx(dual_value, rel=1e-6, abs=1e-7)
    for family in ("product", "resource", "stock-use", "stock-level"):
        assert (plan.valuations[family] >= -1e-9).all()


@settings(max_examples=40, deadline=None)
@given(economy=economies())
def test_written_plan_satisfies_every_balance(economy: Economy, tmp_path_factory) -> None:
    plan = solve(economy)
    out = write_plan(plan, tmp_path_factory.mktemp("plan") / "out")
    balance = pd.read_csv(out / "balance.csv")
    resources = pd.read_csv(out / "resources.csv")
    activity = pd.read_csv(out / "activity.csv", dtype={"period": str})
    assert (balance["surplus"] >= -1e-6 * (1 + balance["supply"])).all()
    assert (resources["used"] <= resources["available"] + 1e-6 * (1 + resources["available"])
            ).all()
    # stock levels follow K(t+1) = (1 - δ) K(t) + additions(t) + availability(t+1)
    x = activity.pivot(index="technique", columns="period", values="level")
    x = x.loc[economy.techniques.index, list(economy.periods)].to_numpy()
    adds = np.asarray(economy.output_matrix.tocsr()[economy.stocks] @ x)
    levels = plan.levels
    available = economy.availability_array()[economy.stocks]
    keep = 1 - economy.items["depreciation"].to_numpy()[economy.stocks]
    for t in range(1, economy.n_periods):
        expected = keep * levels[:, t - 1] + adds[:, t - 1] + available[:, t]
        assert levels[:, t] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert levels[:, 0] == pytest.approx(available[:, 0], abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(economies())
def test_fulfilment_ratios_equal_lambda_where_binding(economy: Economy) -> None:
    plan = solve(economy)
    assert plan.lambdas is not None
    table = plan.fulfilment_table()
    period = pd.Index(economy.periods).get_indexer(table["period"])
    lam = plan.lambdas[period]
    assert (table["ratio"].to_numpy() >= lam - 1e-6 * (1 + lam)).all()
    row = economy.products.searchsorted(economy.targets.item)
    binding = plan.valuations["product"][row, economy.targets.period] > 1e-7
    assert table["ratio"].to_numpy()[binding] == pytest.approx(lam[binding], rel=1e-6)
    for t in np.unique(period):  # in every period with targets, some target binds
        assert table["ratio"][period == t].min() == pytest.approx(plan.lambdas[t], rel=1e-6)


# -- when no plan can be made -----------------------------------------------------------

def _edit(folder: Path, file: str, text: str) -> Path:
    (folder / file).write_text(text, encoding="utf-8")
    return folder


def test_an_impossible_pledge_names_the_conflict(example) -> None:
    folder = example("kantorovich-1939")
    techniques = (folder / "techniques.csv").read_text()
    _edit(folder, "techniques.csv", techniques.replace(
        "automatic-part-1,first part on the automatic lathe,automatic-shop,,",
        "automatic-part-1,first part on the automatic lathe,automatic-shop,2,"))
    with pytest.raises(PlanInfeasible) as caught:
        solve(read_folder(folder))
    message = str(caught.value)
    assert "automatic" in message and "day" in message
    conflicts = caught.value.conflicts
    assert set(conflicts["item"]) & {"automatic", "automatic-part-1"}
    assert conflicts["amount"].sum() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("algorithm", ["auto", "pdhg"])
def test_an_unbounded_plan_names_the_free_product(make_folder, algorithm: str) -> None:
    folder = make_folder(
        items_csv="id,kind,unit,name,depreciation\nbread,product,,,\nair,product,,,\n"
                  "labour,resource,,,\n",
        techniques_csv="id\nbakery\nbreathe\n",
        flows_csv="technique,item,amount\nbakery,bread,1\nbakery,labour,-1\nbreathe,air,1\n",
        availability_csv="item,period,amount\nlabour,1,10\nlabour,2,10\n",
        targets_csv="item,period,amount\nair,1,1\nair,2,1\n")
    options = PlanOptions(solver=SolverOptions(algorithm=algorithm))  # type: ignore[arg-type]
    with pytest.raises(PlanUnbounded, match=r"unbounded in 1, 2.*air"):
        solve(read_folder(folder), options=options)


def test_a_target_nothing_can_deliver_names_what_is_missing(make_folder) -> None:
    folder = make_folder(availability_csv="item,period,amount\nlabour,1,1000\noven,1,5\n")
    with pytest.raises(PlanInfeasible, match=r"bread in 2: bakery needs grain, labour.*none"):
        solve(read_folder(folder))


def test_min_resource_needs_resources_to_economise(make_folder) -> None:
    with pytest.raises(CounterplanError, match=r"resources = \{ labour = 1.0 \}"):
        solve(read_folder(make_folder()), "min-resource")


@pytest.mark.parametrize("algorithm", ["auto", "pdhg"])
def test_infeasible_min_resource_targets_name_the_shortage(example, algorithm: str) -> None:
    folder = example("textbook")
    _edit(folder, "availability.csv", "item,period,amount\nlabour,1,400\n")
    options = PlanOptions(solver=SolverOptions(algorithm=algorithm))  # type: ignore[arg-type]
    with pytest.raises(PlanInfeasible) as caught:
        solve(read_folder(folder), options=options)
    message = str(caught.value)
    assert "sector-2 in 1: short of what the plan needs by 1053.9" in message
    assert "labour in 1: all 400 used" in message


def test_brazil_five_year_plan_invests_and_values(example) -> None:
    economy = read_folder(example("brazil-five-year"))
    plan = solve(economy)
    assert plan.optimal and plan.lambdas is not None
    assert plan.value == pytest.approx(4.789328, rel=1e-5)
    assert (plan.lambdas > 0.85).all() and (plan.lambdas < 1.1).all()
    stocks = plan.stocks_table()
    invested = stocks.groupby("period")["added"].sum()
    assert invested.iloc[:-1].min() > 100_000  # BRL million of capacity a year until 2029
    labour = plan.resources_table().set_index(["item", "period"]).loc["labour"]
    assert (labour.loc[["2026", "2027", "2028"], "valuation"] > 0).all()  # labour binds
    assert max(plan.info.violations.values()) < 1e-3


@settings(max_examples=40, deadline=None)
@given(io_economies())
def test_closed_form_equals_the_lp(economy: Economy) -> None:
    fast = solve(economy)
    lp = solve(economy, options=PlanOptions(solver=SolverOptions(algorithm="simplex")))
    assert fast.info.algorithm.startswith("closed-form")
    assert fast.value == pytest.approx(lp.value, rel=1e-8)
    assert fast.lambdas == pytest.approx(lp.lambdas, rel=1e-8)
    available = economy.availability_array()[economy.resources]
    assert float((fast.valuations["resource"] * available).sum()) == pytest.approx(fast.value)
    assert (fast.resources_table()["used"] <= fast.resources_table()["available"] * (1 + 1e-9)
            ).all()
    assert (fast.balance_table()["surplus"] >= -1e-8).all()


def test_a_solver_stopped_by_its_time_limit_says_so(example) -> None:
    economy = read_folder(example("brazil-five-year"))
    with pytest.raises(SolveFailed, match=r"stopped without an optimal plan: time-limit.*"
                                          r"--time-limit"):
        solve(economy, options=PlanOptions(solver=SolverOptions(algorithm="ipm",
                                                                time_limit=0.0)))
