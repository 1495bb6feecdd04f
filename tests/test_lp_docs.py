"""Every statement of docs/notation.md ("The plan LP", "Counter-plans in the
LP") and docs/format.md about the objectives, checked against the LP rebuilt
from those pages alone (tests/reference_lp.py: pandas, scipy.sparse and
scipy.optimize.linprog, no code of counterplan), so that checks written from
the docs agree with the code."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference_lp as ref
from counterplan import read_folder
from counterplan.counter.evaluate import evaluate
from counterplan.counter.proposals import parse_counterplans
from counterplan.counter.reconcile import reconcile
from counterplan.examples import copy_example
from counterplan.model import Economy
from counterplan.plan import HarmonyOptions, Plan, PlanInfeasible, PlanOptions, solve
from counterplan.plan.objectives import harmony_breakpoints

COLUMNS = ["id", "unit_id", "kind", "technique", "item", "period", "value", "note"]
FolderMaker = Callable[..., Path]


def _valuations(plan: Plan) -> dict[tuple[str, str, str], float]:
    """counterplan's valuations keyed as the reference's rows."""
    e = plan.economy
    codes = {"product": e.products, "resource": e.resources, "stock-use": e.stocks,
             "stock-level": e.stocks}
    out = {}
    for family, items in codes.items():
        for k, item in enumerate(e.items.index[items]):
            for t, period in enumerate(e.periods):
                out[(family, str(item), period)] = float(plan.valuations[family][k, t])
    return out


def _agree(folder: Path, kind: str, harmony: HarmonyOptions | None = None) -> Plan:
    """solve() and the docs' LP have one optimum, and counterplan's valuations
    are an optimal dual solution of the docs' LP (strong duality, the reduced
    costs allowed to miss by 10⁻⁹ of each cost, which may lower the dual's value
    by a small multiple of that times the activities)."""
    harmony = harmony or HarmonyOptions()
    plan = solve(read_folder(folder), kind, PlanOptions(harmony=harmony))
    lp = ref.build(ref.Folder.read(folder), kind, eps=harmony.tolerance,
                   rho_max=harmony.max_ratio)
    result = ref.solve(lp)
    assert result is not None
    assert plan.value == pytest.approx(result.objective, rel=1e-7, abs=1e-7)
    maximised = result.objective if lp.maximise else -result.objective
    slack = 1e-9
    dual = ref.dual_value(lp, _valuations(plan), slack)
    assert dual is not None, "the valuations are not dual feasible in the docs' LP"
    loss = 100 * slack * float(np.abs(result.z) @ np.maximum(1.0, np.abs(lp.cost)))
    assert maximised - loss - 1e-6 <= dual <= maximised + 1e-6 * max(1.0, abs(maximised))
    return plan


def _with_objective(files: dict[str, str], kind: str, weights: dict[str, float]
                    ) -> dict[str, str]:
    table = ", ".join(f'"{p}" = {w}' for p, w in weights.items())
    toml = files["economy.toml"] + f'\n[objective]\nkind = "{kind}"\nweights = {{ {table} }}\n'
    if kind == "min-resource":
        toml += 'resources = { r0 = 1.0, r1 = 0.5 }\n' if "r1," in files["items.csv"] else \
            'resources = { r0 = 1.0 }\n'
    return {**files, "economy.toml": toml}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["kantorovich", "harmony", "min-resource"]),
       eps=st.sampled_from([1e-3, 1e-2, 3e-4]), rho_max=st.sampled_from([3.0, 1.7, 0.9]))
def test_the_docs_lp_has_the_optimum_and_valuations_of_solve(tmp_path_factory, data, kind,
                                                             eps, rho_max) -> None:  # type: ignore[no-untyped-def]
    """Random small economies: stocks with depreciation and investment, own use,
    choice of technique, activity bounds, periods without targets, per-period
    and per-target weights, under each objective and harmony approximation."""
    files = data.draw(ref.small_economies())
    periods = [p.strip(' "') for p in files["economy.toml"].split("[")[1].split("]")[0]
               .split(",")]
    weights = {p: data.draw(st.integers(1, 300)) / 100 for p in periods}
    folder = ref.write_folder(tmp_path_factory.mktemp("economy"),
                              _with_objective(files, kind, weights))
    try:
        _agree(folder, kind, HarmonyOptions(eps, rho_max))
    except PlanInfeasible:
        assume(False)


@pytest.mark.parametrize(("eps", "rho_max"), [(1e-3, 3.0), (1e-2, 1.7), (3e-4, 5.0),
                                              (1e-3, 0.8), (0.02, 1.0)])
def test_the_harmony_breakpoints_are_as_documented(eps: float, rho_max: float) -> None:
    """Evenly spaced on [0, 1] at most √(8ε) apart, then by the factor
    1 + √(8ε), the last clipped at ρ_max; 12 + 13 segments by default."""
    ours = harmony_breakpoints(HarmonyOptions(eps, rho_max))
    np.testing.assert_allclose(ours, ref.harmony_breakpoints(eps, rho_max), rtol=1e-15)
    assert ours[-1] == max(1.0, rho_max)
    if (eps, rho_max) == (1e-3, 3.0):
        assert len(ours) == 26 and np.allclose(np.diff(ours[:13]), 1 / 12)


def _minimal(make_folder: FolderMaker, toml: str = "", targets: str | None = None) -> Path:
    files = {"economy_toml": 'name = "mini"\nperiods = ["1", "2"]\n' + toml}
    if targets is not None:
        files["targets_csv"] = targets
    return make_folder(**files)


def test_which_weights_each_objective_reads(make_folder: FolderMaker) -> None:
    """Per-period weights enter kantorovich only; target weights harmony only;
    min-resource reads neither (every target is met in full)."""
    targets = "item,period,amount,weight\nbread,1,100,1\nbread,2,110,{w}\n"
    values = {}
    for name, period_weight, target_weight in (("plain", 1, 1), ("period", 3, 1),
                                               ("target", 1, 4)):
        folder = _minimal(make_folder, f'\n[objective]\nweights = {{ "2" = {period_weight} }}\n'
                          'resources = { labour = 1.0 }\n', targets.format(w=target_weight))
        folder = folder.rename(folder.with_name(name))
        values[name] = {kind: _agree(folder, kind).value
                        for kind in ("kantorovich", "harmony", "min-resource")}
    assert values["period"]["kantorovich"] != pytest.approx(values["plain"]["kantorovich"])
    assert values["target"]["kantorovich"] == pytest.approx(values["plain"]["kantorovich"])
    assert values["period"]["harmony"] == pytest.approx(values["plain"]["harmony"])
    assert values["target"]["harmony"] != pytest.approx(values["plain"]["harmony"])
    for name in ("period", "target"):
        assert values[name]["min-resource"] == pytest.approx(values["plain"]["min-resource"])


def test_min_resource_reports_the_cost_as_a_positive_number(tmp_path: Path) -> None:
    """The textbook example: 800 hours of labour, Σ_r c_r × used."""
    folder = copy_example("textbook", tmp_path / "t")
    plan = _agree(folder, "min-resource")
    e = plan.economy
    labour = e.items.index.get_loc("labour")
    used = -(e.flow_matrix.tocsr()[labour] @ plan.activity).sum()
    assert plan.value == pytest.approx(800.0) == pytest.approx(used)


def test_lambda_is_zero_in_a_period_without_targets(make_folder: FolderMaker) -> None:
    folder = _minimal(make_folder, targets="item,period,amount,weight\nbread,1,100,1\n")
    plan = _agree(folder, "kantorovich")
    assert plan.lambdas is not None
    assert plan.lambdas[1] == 0 and plan.lambdas[0] > 0


def test_rho_stops_at_rho_max(make_folder: FolderMaker) -> None:
    """With labour to spare every ratio would rise; ρ ≤ ρ_max caps the
    harmony at Σ_k w_k H(ρ_max) (ρ_max is a breakpoint, where the
    interpolant is exact)."""
    folder = make_folder(availability_csv="item,period,amount\nlabour,1,1e7\nlabour,2,1e7\n"
                         "oven,1,1e5\n",
                         targets_csv="item,period,amount,weight\nbread,1,100,1\nbread,2,110,2\n")
    for rho_max in (3.0, 1.7):
        plan = _agree(folder, "harmony", HarmonyOptions(max_ratio=rho_max))
        assert plan.value == pytest.approx(3 * np.log(rho_max), rel=1e-9)


def _judge(folder: Path, rows: list[list[str]], kind: str = "kantorovich") -> pd.DataFrame:
    economy = read_folder(folder)
    plans, problems = parse_counterplans(pd.DataFrame(rows, columns=COLUMNS), economy)
    assert not problems.errors
    return evaluate(economy, plans, kind).verdicts


@pytest.mark.parametrize(("value", "net"), [("-0.05", 0.95), ("1.2", 1.1), ("0", 1.0)])
def test_a_norm_on_an_item_listed_twice_replaces_the_row_its_sign_names(
        make_folder: FolderMaker, value: str, net: float) -> None:
    """farm lists grain twice (1 and −0.1): a norm ≤ 0 replaces the input row,
    a positive one the output row."""
    folder = make_folder()
    rows = [["n", "", "norm", "farm", "grain", "", value, ""]]
    verdict = _judge(folder, rows).iloc[0]
    changes = ref.Changes(norms=[("farm", "grain", float(value))])
    after = ref.solve(ref.build(ref.Folder.read(folder), "kantorovich", changes))
    assert after is not None
    assert verdict["objective_after"] == pytest.approx(after.objective, rel=1e-9)
    economy = read_folder(folder)
    plans, _ = parse_counterplans(pd.DataFrame(rows, columns=COLUMNS), economy)
    adopted: Economy = reconcile(economy, plans).economy
    grain, farm = adopted.items.index.get_loc("grain"), adopted.techniques.index.get_loc("farm")
    assert adopted.flow_matrix[grain, farm] == pytest.approx(net)


def test_a_share_is_theta_in_activity_at_least_theta_times_value(make_folder: FolderMaker
                                                                 ) -> None:
    """The bakery must run at least 300 (min); room for 1000 / 0.2 = 5000 loaves
    less the farm's labour: a pledge of 10,000 fits by exactly the θ of the
    docs' LP, not by (x − min) / (value − min)."""
    folder = make_folder(techniques_csv="id,name,unit_id,min,max\nbakery,bakery,bakers,300,\n"
                         "farm,farm,,,\n")
    rows = [["p", "bakers", "pledge", "bakery", "", "1", "10000", ""]]
    share = _judge(folder, rows)["share"].iloc[0]
    expected = ref.largest_share(ref.Folder.read(folder), "kantorovich",
                                 ref.Changes(pledges=[("bakery", "1", 10000.0)]))
    assert 0 < expected < 1
    assert share == pytest.approx(expected, rel=1e-9)


def test_a_counterplan_mixing_a_norm_and_a_pledge_gets_one_verdict(tmp_path: Path) -> None:
    """One share θ for both rows: the automatic lathe takes 2 machine-days per
    day of part 2 (θ of the way from 1) while pledging 0.8 days (θ of it):
    0.8θ(1 + θ) ≤ 1, θ = 0.7247…, which neither row alone limits."""
    folder = copy_example("kantorovich-1939", tmp_path / "k")
    rows = [["m", "automatic-shop", "norm", "automatic-part-2", "automatic", "", "-2", ""],
            ["m", "automatic-shop", "pledge", "automatic-part-2", "", "", "0.8", ""]]
    verdicts = _judge(folder, rows)
    assert len(verdicts) == 1 and verdicts["verdict"].iloc[0] == "partial"
    expected = ref.share_by_bisection(
        ref.Folder.read(folder), "kantorovich",
        ref.Changes(pledges=[("automatic-part-2", None, 0.8)],
                    norms=[("automatic-part-2", "automatic", -2.0)]))
    # both bisections on feasibility, to HiGHS's feasibility tolerance (1e-7)
    assert expected == pytest.approx((-0.8 + np.sqrt(0.64 + 3.2)) / 1.6, abs=2e-7)
    assert verdicts["share"].iloc[0] == pytest.approx(expected, abs=2e-7)


def test_a_worse_norm_that_does_not_lower_the_plan_is_adopted(tmp_path: Path) -> None:
    """Turret lathes make no part 2 at the optimum, so a norm of 2 lathe-days
    per day of part 2 on them lowers nothing: reconcile adopts it."""
    folder = copy_example("kantorovich-1939", tmp_path / "k")
    economy = read_folder(folder)
    rows = [["w", "turret-shop", "norm", "turret-part-2", "turret", "", "-2", ""]]
    plans, _ = parse_counterplans(pd.DataFrame(rows, columns=COLUMNS), economy)
    together = reconcile(economy, plans)
    assert together.table["verdict"].iloc[0] == "accepted"
    assert together.table["reason"].iloc[0].startswith("adopted")
    turret = together.economy.items.index.get_loc("turret")
    technique = together.economy.techniques.index.get_loc("turret-part-2")
    assert together.economy.flow_matrix[turret, technique] == -2
    worse = ref.solve(ref.build(ref.Folder.read(folder), "kantorovich",
                                ref.Changes(norms=[("turret-part-2", "turret", -2.0)])))
    assert worse is not None
    assert together.plan.value == pytest.approx(worse.objective, rel=1e-12)
    assert together.plan.value == pytest.approx(86 + 2 / 3, rel=1e-12)
