"""Verdicts exact to the solver's tolerance, checked against the plan LP
rebuilt independently from the docs (tests/reference_lp.py): the share of a
counter-plan is the largest feasible θ, its objective_after is the optimum at
θ, and reconcile keeps the plan's optimum itself, not an optimum less a slack."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import counterplan.plan.highs as highs
import reference_lp as ref
from counterplan import read_folder
from counterplan.counter.apply import compile_edit
from counterplan.counter.evaluate import Evaluator, evaluate
from counterplan.counter.proposals import CounterPlan, parse_counterplans
from counterplan.counter.reconcile import reconcile
from counterplan.examples import copy_example
from counterplan.plan import PlanInfeasible, PlanOptions, solve
from counterplan.plan.highs import DEFAULT_TOLERANCE

COLUMNS = ["id", "unit_id", "kind", "technique", "item", "period", "value", "note"]
TOLERANCE = DEFAULT_TOLERANCE["simplex"]
MACHINES = {"milling": 1.0, "turret": 1.0, "automatic": 1.0}


def _plans(economy, rows: list[list[str]]) -> list[CounterPlan]:  # type: ignore[no-untyped-def]
    plans, problems = parse_counterplans(pd.DataFrame(rows, columns=COLUMNS), economy)
    assert not problems.errors, problems.errors
    return plans


def _changes(economy, plan: CounterPlan) -> ref.Changes:  # type: ignore[no-untyped-def]
    """The counter-plan in the reference's terms (ids, None for every period)."""
    techniques, items = economy.techniques.index, economy.items.index
    out = ref.Changes()
    for c in plan.changes:
        period = economy.periods[c.period] if c.period >= 0 else None
        if c.kind == "pledge":
            out.pledges.append((techniques[c.technique], period, c.value))
        elif c.kind == "norm":
            out.norms.append((techniques[c.technique], items[c.item], c.value))
        else:
            out.capacity.append((items[c.item], period, c.value))
    return out


def _share_tolerance(plan: CounterPlan) -> float:
    """Activities are exact to the solver's feasibility tolerance (1e-7 in
    the activity's units), so a share is exact to that over the pledge."""
    pledges = [c.value for c in plan.changes if c.kind == "pledge" and c.value > 0]
    return 10 * TOLERANCE / min([1.0, *pledges])


def _check_verdicts(folder: Path, kind: str, rows: list[list[str]],
                    resources: dict[str, float] | None = None) -> None:
    """Every verdict's share and objective_after against the reference LP."""
    economy = read_folder(folder)
    reference = ref.Folder.read(folder)
    plans = _plans(economy, rows)
    options = PlanOptions(resources=resources)
    verdicts = evaluate(economy, plans, kind, options).verdicts
    for plan, (_, row) in zip(plans, verdicts.iterrows(), strict=True):
        changes = _changes(economy, plan)
        share = ref.share_by_bisection(reference, kind, changes, resources=resources) \
            if changes.norms or changes.capacity else \
            ref.largest_share(reference, kind, changes, resources=resources)
        expected = share if share >= TOLERANCE else 0.0
        assert row["share"] == pytest.approx(expected, rel=1e-6, abs=_share_tolerance(plan)), \
            plan.id
        assert row["verdict"] == ("accepted" if expected == 1 else "rejected" if expected == 0
                                  else "partial"), plan.id
        at = ref.solve(ref.build(reference, kind, ref.scaled(reference, changes, row["share"]),
                                 resources=resources))
        assert at is not None
        assert row["objective_after"] == pytest.approx(at.objective, rel=1e-7, abs=1e-9), \
            plan.id


@pytest.mark.parametrize("kind", ["harmony", "kantorovich", "min-resource"])
def test_shares_on_kantorovich_1939_are_the_largest_feasible(tmp_path: Path, kind: str) -> None:
    """Pledges alone, twice on one activity (both hold), with capacity given
    twice (it adds up), with a norm; under every objective."""
    folder = copy_example("kantorovich-1939", tmp_path / "k")
    rows = [
        ["a", "automatic-shop", "pledge", "automatic-part-2", "", "", "26.455", ""],
        ["b", "milling-shop", "pledge", "milling-part-2", "", "", "183.412", ""],
        ["b", "milling-shop", "pledge", "milling-part-2", "", "", "160.689", ""],
        ["c", "milling-shop", "capacity", "", "milling", "", "1.532", ""],
        ["c", "milling-shop", "capacity", "", "milling", "", "0.583", ""],
        ["c", "milling-shop", "pledge", "milling-part-1", "", "", "123.347", ""],
        ["d", "turret-shop", "pledge", "turret-part-2", "", "", "174.35", ""],
        ["d", "turret-shop", "capacity", "", "automatic", "", "1.447", ""],
        ["d", "turret-shop", "pledge", "turret-part-2", "", "", "12.871", ""],
        ["e", "milling-shop", "norm", "milling-part-1", "milling", "", "-0.7", ""],
        ["e", "milling-shop", "pledge", "milling-part-1", "", "", "95", ""],
        ["f", "automatic-shop", "pledge", "automatic-part-1", "", "", "1e-9", ""],
        ["g", "automatic-shop", "pledge", "automatic-part-2", "", "", "1e8", ""],
    ]
    _check_verdicts(folder, kind, rows, MACHINES if kind == "min-resource" else None)


def test_a_pledge_above_a_minimum_activity_is_theta_of_the_pledge(tmp_path: Path) -> None:
    """A share is θ in activity ≥ θ × pledge, whatever the technique's own
    minimum: with min = 0.5 on the automatic lathe's part 2 and one machine-day,
    a pledge of 4 fits by 1/4 (not by (1 − 0.5) / (4 − 0.5))."""
    folder = copy_example("kantorovich-1939", tmp_path / "k")
    techniques = pd.read_csv(folder / "techniques.csv", dtype=str, keep_default_na=False)
    techniques.loc[techniques["id"] == "automatic-part-2", "min"] = "0.5"
    techniques.to_csv(folder / "techniques.csv", index=False)
    rows = [["a", "automatic-shop", "pledge", "automatic-part-2", "", "", "4", ""]]
    for kind in ("harmony", "kantorovich"):
        _check_verdicts(folder, kind, rows)
    verdict = evaluate(read_folder(folder), _plans(read_folder(folder), rows)).verdicts
    assert verdict["share"].iloc[0] == pytest.approx(0.25, abs=1e-12)


def test_the_share_is_a_vertex_past_the_simplex_limit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Past the simplex limit ``auto`` picks a first-order method, whose
    answer is only as close as its stopping rule (HiGHS's PDLP returned a
    share of 0, or one 5.5e-4 off, on such plans).  The share LP is solved to a
    vertex there too: by the interior point method with crossover, and by
    simplex where that breaks down, as it does on Brazil's share LP (entries
    from 1e-9 to 1e7).  The limit is lowered so that this plan is past it."""
    folder = copy_example("brazil-2021", tmp_path / "b")
    economy = read_folder(folder)
    judge = Evaluator(economy, "harmony")
    plan = _plans(economy, [["a", "", "pledge", "agriculture", "", "", "2.5e7", ""]])[0]
    monkeypatch.setattr(highs, "SIMPLEX_LIMIT", 0)
    share = judge.largest_share(plan, compile_edit(plan, judge.at, 1.0))
    expected = ref.largest_share(ref.Folder.read(folder), "harmony", _changes(economy, plan))
    assert 0 < expected < 1
    assert share == pytest.approx(expected, rel=1e-9)


@st.composite
def pledges(draw: st.DrawFn, files: dict[str, str]) -> list[list[str]]:
    """One to three counter-plans of one or two pledges (every period or one)."""
    techniques = [line.split(",")[0] for line in files["techniques.csv"].splitlines()[1:]]
    periods = [p.strip(' "') for p in
               files["economy.toml"].split("[")[1].split("]")[0].split(",")]
    rows = []
    for k in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(1, 2))):
            period = draw(st.sampled_from(["", *periods]))
            value = draw(st.integers(1, 100_000)) / 100
            rows.append([f"c{k}", "", "pledge", draw(st.sampled_from(techniques)), "", period,
                         str(value), ""])
    return rows


def _solvable(path: Path, data: st.DataObject, kind: str
              ) -> tuple[Path, list[list[str]], dict[str, float] | None]:
    """A small economy whose plan exists under ``kind``, and pledges for it."""
    files = data.draw(ref.small_economies())
    folder = ref.write_folder(path, files)
    resources = {"r0": 1.0} if kind == "min-resource" else None
    try:
        solve(read_folder(folder), kind, PlanOptions(resources=resources))
    except PlanInfeasible:
        assume(False)
    return folder, data.draw(pledges(files)), resources


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["harmony", "kantorovich", "min-resource"]))
def test_shares_on_small_economies_are_the_largest_feasible(tmp_path_factory, data, kind
                                                            ) -> None:  # type: ignore[no-untyped-def]
    folder, rows, resources = _solvable(tmp_path_factory.mktemp("economy"), data, kind)
    _check_verdicts(folder, kind, rows, resources)


# -- reconcile ---------------------------------------------------------------------------

def _kept_share(reference: ref.Folder, kind: str, changes: ref.Changes,
                resources: dict[str, float] | None) -> tuple[float, float]:
    """The optimum z* with the structural changes, and the largest θ of the
    pledges at which the reference optimum is still z* (bisection).  The
    reference LP is built once without the pledges; each step sets the
    pledged activities' lower bounds, as ref.build does for a pledge."""
    base = ref.build(reference, kind, ref.Changes([], changes.norms, changes.capacity),
                     resources=resources)
    unpledged = ref.solve(base)
    assert unpledged is not None
    optimum = unpledged.objective
    sense = -1.0 if kind == "min-resource" else 1.0

    def keeps(theta: float) -> bool:
        result = ref.solve(ref.with_pledges(base, reference, changes.pledges, theta))
        return result is not None and \
            (result.objective - optimum) * sense >= -1e-12 * max(1.0, abs(optimum))

    if keeps(1.0):
        return optimum, 1.0
    lo, hi = 0.0, 1.0
    for _ in range(34):  # to 2⁻³⁴ ≈ 6e-11, far inside a share's tolerance (1e-6 or more)
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if keeps(mid) else (lo, mid)
    return optimum, lo


def _check_reconcile(folder: Path, kind: str, rows: list[list[str]],
                     resources: dict[str, float] | None = None) -> None:
    """One pledging counter-plan (with capacity, which always fits): the
    reconciled plan reaches the reference's z* itself, and keeps the pledge
    at the reference's largest share that keeps z*."""
    economy = read_folder(folder)
    reference = ref.Folder.read(folder)
    plans = _plans(economy, rows)
    result = reconcile(economy, plans, kind, PlanOptions(resources=resources))
    optimum, share = _kept_share(reference, kind, _changes(economy, plans[0]), resources)
    assert result.plan.value == pytest.approx(optimum, rel=1e-11, abs=1e-11)
    row = result.table.iloc[0]
    expected = share if share >= TOLERANCE else 0.0
    assert row["share"] == pytest.approx(expected, rel=1e-6, abs=_share_tolerance(plans[0]))
    assert row["verdict"] == ("accepted" if expected == 1 else "rejected" if expected == 0
                              else "partial")


@pytest.mark.parametrize("technique", ["milling-part-1", "milling-part-2", "turret-part-1",
                                       "turret-part-2", "automatic-part-1",
                                       "automatic-part-2"])
@pytest.mark.parametrize("capacity", ["", "milling", "automatic"])
def test_reconcile_keeps_the_optimum_itself_on_kantorovich_1939(tmp_path: Path,
                                                                  technique: str,
                                                                  capacity: str) -> None:
    """A pledge that cannot be kept at all is rejected (not "partial, 3e-6"),
    and the plan's objective is the optimum (not 1e-9 below it)."""
    folder = copy_example("kantorovich-1939", tmp_path / "k")
    unit = technique.split("-")[0] + "-shop"
    rows = [["p", unit, "pledge", technique, "", "", "5", ""]]
    if capacity:
        rows.append(["p", unit, "capacity", "", capacity, "", "1.3", ""])
    _check_reconcile(folder, "kantorovich", rows)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["harmony", "kantorovich", "min-resource"]))
def test_reconcile_keeps_the_optimum_itself_on_small_economies(tmp_path_factory, data, kind
                                                               ) -> None:  # type: ignore[no-untyped-def]
    folder, rows, resources = _solvable(tmp_path_factory.mktemp("economy"), data, kind)
    _check_reconcile(folder, kind, [r for r in rows if r[0] == "c0"], resources)
