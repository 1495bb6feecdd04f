"""Counter-plans: known answers on Kantorovich's example, the warm path
against solves from nothing, validation, and reconciliation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.optimize as so
from hypothesis import given, settings
from hypothesis import strategies as st

from counterplan import InvalidInput, read_folder
from counterplan.counter.apply import apply_edit, compile_edit
from counterplan.counter.evaluate import Evaluator, _share_lp, evaluate
from counterplan.counter.proposals import COLUMNS, parse_counterplans, read_counterplans
from counterplan.counter.reasons import shortfall_reason
from counterplan.counter.reconcile import reconcile
from counterplan.model import Economy
from counterplan.plan.highs import Status, run_highs

from economies import io_economies

RATES = {"milling": (10, 20, 3), "turret": (20, 30, 3), "automatic": (30, 80, 1)}


def kantorovich_lp(rates: dict[str, tuple[float, float, float]],
                   lower: dict[int, float] | None = None) -> float:
    """The first example solved independently with scipy: max z s.t. both
    parts ≥ z, machine-days within the machines."""
    names = list(rates)
    n = 2 * len(names)  # (machine, part) variables, then z
    a_ub, b_ub = [], []
    for part in range(2):
        row = np.zeros(n + 1)
        for m, name in enumerate(names):
            row[2 * m + part] = -rates[name][part]
        row[-1] = 1
        a_ub.append(row)
        b_ub.append(0.0)
    for m, name in enumerate(names):
        row = np.zeros(n + 1)
        row[2 * m: 2 * m + 2] = 1
        a_ub.append(row)
        b_ub.append(rates[name][2])
    bounds = [((lower or {}).get(k, 0), None) for k in range(n)] + [(0, None)]
    c = np.zeros(n + 1)
    c[-1] = -1
    result = so.linprog(c, A_ub=np.array(a_ub), b_ub=b_ub, bounds=bounds, method="highs")
    return float(-result.fun)


def plans_of(economy: Economy, *rows: tuple[str, ...]):  # type: ignore[no-untyped-def]
    frame = _frame(*rows)
    plans, problems = parse_counterplans(frame, economy)
    assert not problems.errors, [str(p) for p in problems.errors]
    return plans


def _frame(*rows: tuple[str, ...]) -> pd.DataFrame:
    """Counter-plan rows as read from a CSV: strings, missing columns empty."""
    padded = [list(r) + [""] * (len(COLUMNS) - len(r)) for r in rows]
    return pd.DataFrame(padded, columns=list(COLUMNS), dtype=object)


@pytest.fixture
def kantorovich(example) -> Economy:
    return read_folder(example("kantorovich-1939"))


def test_a_better_milling_norm(kantorovich: Economy) -> None:
    plans = plans_of(kantorovich, ("norm-12", "milling-shop", "norm", "milling-part-1",
                                   "part-1", "", "12"))
    row = evaluate(kantorovich, plans).verdicts.iloc[0]
    expected = kantorovich_lp({**RATES, "milling": (12, 20, 3)})
    assert expected == pytest.approx(90.0)
    assert row["verdict"] == "accepted" and row["share"] == 1
    assert row["objective_before"] == pytest.approx(86 + 2 / 3)
    assert row["objective_after"] == pytest.approx(expected, rel=1e-9)
    assert "rises from 86.6667 to 90" in row["reason"]


def test_one_more_turret_lathe(kantorovich: Economy) -> None:
    plans = plans_of(kantorovich, ("lathe", "turret-shop", "capacity", "", "turret", "", "1"))
    result = evaluate(kantorovich, plans)
    row = result.verdicts.iloc[0]
    assert row["objective_after"] == pytest.approx(kantorovich_lp(
        {**RATES, "turret": (20, 30, 4)}), rel=1e-9)
    effects = result.effects.set_index("item")
    assert effects.loc["part-1", "after"] == pytest.approx(row["objective_after"])


def test_two_shifts_on_the_one_automatic_lathe_fit_by_half(kantorovich: Economy) -> None:
    plans = plans_of(kantorovich, ("shifts", "automatic-shop", "pledge", "automatic-part-1",
                                   "", "", "2"))
    row = evaluate(kantorovich, plans).verdicts.iloc[0]
    assert row["verdict"] == "partial"
    assert row["share"] == pytest.approx(0.5, abs=1e-9)
    assert "automatic turret lathe" in row["reason"]
    assert "more needed than available by 1" in row["reason"]
    # at half the pledge the lathe does only part 1: the optimum is what scipy finds
    assert row["objective_after"] == pytest.approx(kantorovich_lp(RATES, {4: 1.0}), rel=1e-9)


def test_what_the_valuations_answer_alone(kantorovich: Economy) -> None:
    plans = plans_of(
        kantorovich,
        ("met", "milling-shop", "pledge", "milling-part-1", "", "day", "1"),
        ("new", "turret-shop", "technique", "turret-both", "part-1", "", "12"),
        ("new", "turret-shop", "technique", "turret-both", "part-2", "", "12"),
        ("new", "turret-shop", "technique", "turret-both", "turret", "", "-1"))
    result = evaluate(kantorovich, plans)
    assert result.counts["valuations"] == 2
    met, new = result.verdicts.itertuples()
    assert met.objective_after == met.objective_before
    assert "already runs milling-part-1 at 2.66667" in met.reason
    # 12 of each part is worth 12 × 2/3 + 12 × 1/3 = 12 sets; a turret-day is worth 13 1/3
    assert "yields 12 and costs 13.33" in new.reason
    paying = plans_of(
        kantorovich,
        ("better", "turret-shop", "technique", "turret-both", "part-1", "", "15"),
        ("better", "turret-shop", "technique", "turret-both", "part-2", "", "15"),
        ("better", "turret-shop", "technique", "turret-both", "turret", "", "-1"))
    row = evaluate(kantorovich, paying).verdicts.iloc[0]
    assert row["verdict"] == "accepted" and row["objective_after"] > row["objective_before"]


# -- the warm path equals a solve from nothing ----------------------------------------

@st.composite
def counterplan_rows(draw: st.DrawFn) -> list[tuple[str, ...]]:
    kind = draw(st.sampled_from(["pledge", "norm", "capacity"]))
    machine = draw(st.sampled_from(list(RATES)))
    part = draw(st.sampled_from(["1", "2"]))
    value = draw(st.floats(0.1, 4.0))
    technique = f"{machine}-part-{part}"
    unit = f"{machine}-shop"
    if kind == "pledge":
        return [("c", unit, "pledge", technique, "", "", str(value))]
    if kind == "norm":
        return [("c", unit, "norm", technique, f"part-{part}", "", str(10 * value))]
    return [("c", unit, "capacity", "", machine, "", str(value))]


@settings(max_examples=40, deadline=None)
@given(rows=counterplan_rows())
def test_warm_evaluation_equals_a_solve_from_nothing(rows, kantorovich_economy) -> None:
    economy = kantorovich_economy
    (plan,) = plans_of(economy, *rows)
    judge = Evaluator(economy)
    row, _ = judge.judge(plan)
    edit = compile_edit(plan, judge.at, float(row["share"]))
    scratch = run_highs(apply_edit(judge.lp, edit))
    if float(row["share"]) > 0:
        assert scratch.status == Status.OPTIMAL
        assert row["objective_after"] == pytest.approx(scratch.objective, rel=1e-7, abs=1e-9)
    if row["verdict"] == "partial":  # a little more than the share does not fit
        more = compile_edit(plan, judge.at, min(1.0, float(row["share"]) + 1e-4))
        assert run_highs(apply_edit(judge.lp, more)).status != Status.OPTIMAL


@pytest.fixture(scope="module")
def kantorovich_economy(tmp_path_factory) -> Economy:
    from counterplan.examples import copy_example

    return read_folder(copy_example("kantorovich-1939",
                                    tmp_path_factory.mktemp("k") / "k"))


def test_trials_one_after_another_equal_solves_from_nothing(tmp_path: Path) -> None:
    """The warm simplex goes on from where the last trial ended (an edit of
    bounds keeps HiGHS's basis and factorization), and a partial pledge's
    share LP and elastic LP are solved on the held model: whatever came
    before, including a pledge that does not fit and a norm (which changes
    the matrix), each verdict is the one solves from nothing give."""
    from counterplan.examples import copy_example

    economy = read_folder(copy_example("brazil-five-year", tmp_path / "brazil"))
    judge = Evaluator(economy)
    activity = judge.warm.base.x[: economy.n_techniques * economy.n_periods]
    planned = activity.reshape(economy.n_periods, -1).T
    techniques, units = economy.techniques.index, economy.techniques["unit_id"]
    rng = np.random.default_rng(3)
    producing = np.flatnonzero(~techniques.str.startswith("invest/"))
    rows = []
    for k in range(18):
        j, t = int(rng.choice(producing)), int(rng.integers(economy.n_periods))
        unit, technique, period = str(units.iloc[j]), str(techniques[j]), economy.periods[t]
        if k % 3 == 0:  # every other one far beyond what the plan can take
            value = planned[j, t] * (3.0 if k % 2 else rng.uniform(1.0, 1.1)) + 1.0
            rows.append((f"p{k}", unit, "pledge", technique, "", period, repr(float(value))))
        elif k % 3 == 1:
            rows.append((f"c{k}", unit, "capacity", "", f"capital/{technique}", period,
                         repr(float(rng.uniform(1.0, 1e4)))))
        else:
            f = economy.flows
            n = int(rng.choice(np.flatnonzero((f.technique == j) & (f.amount < 0))))
            rows.append((f"n{k}", unit, "norm", technique, str(economy.items.index[f.item[n]]),
                         "", repr(float(f.amount[n] * 0.9))))
    # three times the first year's activity with twice its stock: both move with the share
    j = int(producing[0])
    unit, technique = str(units.iloc[j]), str(techniques[j])
    stock = economy.items.index.get_loc(f"capital/{technique}")
    rows += [("both", unit, "pledge", technique, "", economy.periods[0],
              repr(float(3 * planned[j, 0]))),
             ("both", unit, "capacity", "", f"capital/{technique}", economy.periods[0],
              repr(float(economy.availability_array()[stock, 0])))]
    verdicts = []
    for plan in plans_of(economy, *rows):
        row, _ = judge.judge(plan)
        verdicts.append(row["verdict"])
        share = float(row["share"])  # type: ignore[arg-type]
        scratch = run_highs(apply_edit(judge.lp, compile_edit(plan, judge.at, share)))
        assert scratch.status == Status.OPTIMAL, plan.id
        assert row["objective_after"] == pytest.approx(scratch.objective, rel=1e-9), plan.id
        if share < 1:  # the largest share, and the reason the LPs built apart give
            more = compile_edit(plan, judge.at, min(1.0, share + 1e-6))
            assert run_highs(apply_edit(judge.lp, more)).status != Status.OPTIMAL, plan.id
            whole = compile_edit(plan, judge.at, 1.0)
            assert _share_lp(judge.lp, whole, judge.options.solver, plan.id) == \
                pytest.approx(share, abs=1e-9)
            assert row["reason"] == shortfall_reason(judge.context, plan,
                                                     apply_edit(judge.lp, whole), share)
    assert "partial" in verdicts and "accepted" in verdicts
    assert 0 < share < 1  # "both" fits in part
    nothing = compile_edit(plans_of(economy, rows[1])[0], judge.at, 0.0)  # the plan itself
    assert judge.warm.trial(nothing).objective == pytest.approx(judge.objective, rel=1e-12)


# -- validation ------------------------------------------------------------------------

BAD = {
    "unknown technique": (("x", "milling-shop", "pledge", "drilling", "", "", "1"), "drilling"),
    "unknown item": (("x", "milling-shop", "norm", "milling-part-1", "part-9", "", "1"),
                     "part-9"),
    "unknown period": (("x", "milling-shop", "pledge", "milling-part-1", "", "night", "1"),
                       "night"),
    "unknown unit_id": (("x", "drill-shop", "capacity", "", "milling", "", "1"), "drill-shop"),
    "technique belongs to another unit (turret-shop)": (
        ("x", "milling-shop", "pledge", "turret-part-1", "", "", "1"), "turret-part-1"),
    "'value' is not a finite number": (
        ("x", "milling-shop", "pledge", "milling-part-1", "", "", "lots"), "lots"),
    "a norm turns an input into an output": (
        ("x", "milling-shop", "norm", "milling-part-1", "milling", "", "1"), "1.0"),
    "unknown kind": (("x", "milling-shop", "wish", "", "", "", "1"), "wish"),
    "capacity is for resources and stocks": (
        ("x", "milling-shop", "capacity", "", "part-1", "", "1"), "part-1"),
    "technique already exists": (
        ("x", "milling-shop", "technique", "milling-part-1", "part-1", "", "1"),
        "milling-part-1"),
    "the new technique has no output": (
        ("x", "milling-shop", "technique", "idle", "milling", "", "-1"), "idle"),
    "a norm holds in every period": (
        ("x", "milling-shop", "norm", "milling-part-1", "part-1", "day", "12"), "day"),
}


@pytest.mark.parametrize("message", list(BAD))
def test_each_validation_error_names_line_value_and_fix(kantorovich: Economy,
                                                       message: str) -> None:
    row, value = BAD[message]
    _, problems = parse_counterplans(_frame(row), kantorovich, "cp.csv")
    matching = [p for p in problems.errors if p.message == message]
    assert matching, [str(p) for p in problems.errors]
    assert matching[0].value == value
    assert str(matching[0]).startswith("cp.csv:2: error:")
    assert matching[0].fix


def test_a_missing_column_and_a_missing_file(kantorovich: Economy, tmp_path: Path) -> None:
    (tmp_path / "cp.csv").write_text("id,kind\nx,pledge\n")
    with pytest.raises(InvalidInput, match="required column 'value' is missing"):
        read_counterplans(tmp_path / "cp.csv", kantorovich)
    with pytest.raises(InvalidInput, match="counter-plan file not found"):
        read_counterplans(tmp_path / "none.csv", kantorovich)


def test_invalid_counterplans_write_nothing(tmp_path: Path) -> None:
    from test_cli import run

    run("example", "kantorovich-1939", tmp_path / "k")
    (tmp_path / "cp.csv").write_text(",".join(COLUMNS) + "\n"
                                     "x,milling-shop,pledge,drilling,,,1,\n")
    for command in ("evaluate", "reconcile"):
        out = run(command, tmp_path / "k", tmp_path / "cp.csv", "--out", tmp_path / "out")
        assert out.returncode == 1
        assert "cp.csv:2: error: unknown technique (value 'drilling')" in out.stderr
        assert "Traceback" not in out.stderr
        assert not (tmp_path / "out").exists()


# -- reconciliation -------------------------------------------------------------------

def test_reconciling_conflicting_pledges_keeps_the_optimum_and_the_most_pledges(
        kantorovich: Economy) -> None:
    pledges = {"automatic-part-1": 0.6, "automatic-part-2": 0.8, "milling-part-2": 1.0,
               "turret-part-1": 3.0}
    units = {k: k.split("-part")[0] + "-shop" for k in pledges}
    plans = plans_of(kantorovich, *[(k, units[k], "pledge", k, "", "", str(v))
                                    for k, v in pledges.items()])
    result = reconcile(kantorovich, plans)
    assert result.plan.value == pytest.approx(86 + 2 / 3, rel=1e-9)  # the optimum is kept
    shares = dict(zip(result.table["id"], result.table["share"], strict=True))
    # independently: max Σθ s.t. the machines, both parts ≥ 86 2/3, x ≥ θ·pledge
    order = ["milling-part-1", "milling-part-2", "turret-part-1", "turret-part-2",
             "automatic-part-1", "automatic-part-2"]
    rate = [10, 20, 20, 30, 30, 80]
    n, k = 6, len(pledges)
    a_ub, b_ub = [], []
    for part in range(2):  # −(output of the part) ≤ −86 2/3
        row = np.zeros(n + k)
        row[part:n:2] = -np.array(rate[part::2])
        a_ub.append(row)
        b_ub.append(-(86 + 2 / 3) * (1 - 1e-9))
    for m, days in enumerate([3, 3, 1]):
        row = np.zeros(n + k)
        row[2 * m: 2 * m + 2] = 1
        a_ub.append(row)
        b_ub.append(days)
    for i, (name, value) in enumerate(pledges.items()):  # θ·v − x ≤ 0
        row = np.zeros(n + k)
        row[order.index(name)] = -1
        row[n + i] = value
        a_ub.append(row)
        b_ub.append(0.0)
    c = np.concatenate([np.zeros(n), -np.ones(k)])
    best = so.linprog(c, A_ub=np.array(a_ub), b_ub=b_ub,
                      bounds=[(0, None)] * n + [(0, 1)] * k, method="highs")
    assert sum(shares.values()) == pytest.approx(-best.fun, abs=1e-6)
    assert shares["turret-part-1"] == 1.0  # the plan runs the turret lathes on part 1 anyway
    assert result.table.set_index("id").loc["automatic-part-1", "verdict"] in \
        ("rejected", "partial")


def test_reconcile_adopts_what_helps_and_refuses_what_lowers(kantorovich: Economy) -> None:
    plans = plans_of(
        kantorovich,
        ("better", "milling-shop", "norm", "milling-part-1", "part-1", "", "12"),
        ("lathe", "turret-shop", "capacity", "", "turret", "", "1"),
        ("worse", "milling-shop", "norm", "milling-part-2", "part-2", "", "5"))
    result = reconcile(kantorovich, plans)
    verdicts = result.table.set_index("id")["verdict"].to_dict()
    assert verdicts == {"better": "accepted", "lathe": "accepted", "worse": "rejected"}
    assert result.plan.value == pytest.approx(kantorovich_lp(
        {**RATES, "milling": (12, 20, 3), "turret": (20, 30, 4)}), rel=1e-9)
    assert "lowers the objective" in result.table.set_index("id").loc["worse", "reason"]


def test_reconcile_command_writes_the_plan_and_the_table(tmp_path: Path) -> None:
    from test_cli import run

    run("example", "kantorovich-1939", tmp_path / "k")
    (tmp_path / "cp.csv").write_text(
        ",".join(COLUMNS) + "\n"
        "better,milling-shop,norm,milling-part-1,part-1,,12,a jig\n"
        "shifts,automatic-shop,pledge,automatic-part-2,,,2,two shifts\n")
    out = run("reconcile", tmp_path / "k", tmp_path / "cp.csv", "--out", tmp_path / "r", "-q")
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "r" / "reconciliation.csv")
    assert list(table.columns) == ["id", "verdict", "share", "reason"]
    assert (tmp_path / "r" / "summary.json").is_file()
    out = run("evaluate", tmp_path / "k", tmp_path / "cp.csv", "--out", tmp_path / "e", "-q")
    assert out.returncode == 0, out.stderr
    verdicts = pd.read_csv(tmp_path / "e" / "verdicts.csv")
    assert list(verdicts.columns) == ["id", "verdict", "share", "objective_before",
                                      "objective_after", "reason"]
    assert list(pd.read_csv(tmp_path / "e" / "effects.csv").columns) == [
        "id", "item", "period", "before", "after", "change"]


@st.composite
def io_cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    economy = draw(io_economies())
    products = list(economy.items.index[economy.products])
    resources = list(economy.items.index[economy.resources])
    kind = draw(st.sampled_from(["pledge", "norm", "capacity"]))
    p = draw(st.sampled_from(products))
    if kind == "pledge":
        row = ("c", "", "pledge", p, "", draw(st.sampled_from(["", *economy.periods])),
               str(draw(st.floats(0.0, 200.0))))
    elif kind == "norm":
        f = economy.flows
        j = economy.techniques.index.get_loc(p)
        inputs = [economy.items.index[i] for i, a in zip(f.item[f.technique == j],
                                                         f.amount[f.technique == j],
                                                         strict=True) if a < 0]
        item = draw(st.sampled_from(inputs))
        row = ("c", "", "norm", p, item, "", str(-draw(st.floats(0.0, 0.3))))
    else:
        row = ("c", "", "capacity", "", draw(st.sampled_from(resources)), "",
               str(draw(st.floats(0.1, 50.0))))
    return economy, row


@settings(max_examples=60, deadline=None)
@given(io_cases())
def test_the_closed_form_answers_equal_the_lp(case) -> None:  # type: ignore[no-untyped-def]
    from counterplan.plan import PlanOptions, SolverOptions

    economy, row = case
    (plan,) = plans_of(economy, row)
    fast = Evaluator(economy)
    slow = Evaluator(economy, options=PlanOptions(solver=SolverOptions(algorithm="simplex")))
    assert fast.fast is not None and slow.fast is None
    a, ratios_a = fast.judge(plan)
    b, ratios_b = slow.judge(plan)
    # the closed form answers all but the counter-plans that unbound the plan
    assert fast.counts["closed form"] == 1 or a["verdict"] == "rejected"
    assert a["verdict"] == b["verdict"]
    assert a["share"] == pytest.approx(b["share"], abs=1e-6)
    assert a["objective_after"] == pytest.approx(b["objective_after"], rel=1e-6, abs=1e-9)
    if b["share"] > 0:  # every target's fulfilment after agrees too (λ where it binds)
        after_b = slow.before if ratios_b is None else ratios_b
        assert ratios_a is not None
        assert np.nanmin(ratios_a) == pytest.approx(np.nanmin(after_b), rel=1e-6, abs=1e-9)


def test_a_norm_that_frees_a_technique_of_every_resource_is_refused() -> None:
    """Found by the property test above: a technique whose only resource input
    falls to (almost) nothing would make the plan unbounded, on both paths."""
    from economies import economy_from

    economy = economy_from(
        ["1"], items=pd.DataFrame({"id": ["p0", "r0"], "kind": ["product", "resource"]}),
        techniques=pd.DataFrame({"id": ["p0"]}),
        flows=pd.DataFrame({"technique": ["p0", "p0"], "item": ["p0", "r0"],
                            "amount": [1.0, -0.9537845]}),
        availability=pd.DataFrame({"item": ["r0"], "period": ["1"], "amount": [38.06]}),
        targets=pd.DataFrame({"item": ["p0"], "period": ["1"], "amount": [2.17]}))
    for value in ("-5e-324", "0"):
        (plan,) = plans_of(economy, ("c", "", "norm", "p0", "r0", "", value))
        row, _ = Evaluator(economy).judge(plan)
        assert row["verdict"] == "rejected" and "unbounded" in str(row["reason"])
