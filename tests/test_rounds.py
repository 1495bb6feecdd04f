"""Two-level planning: on economies where the units together hold all the
techniques, the rounds reach the optimum a fully informed planner computes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counterplan import InvalidInput
from counterplan.counter.rounds import read_units, run_rounds
from counterplan.plan import solve

from economies import economy_from


@st.composite
def split_economies(draw: st.DrawFn) -> dict[str, object]:
    """A random multi-period economy with stocks and choices of technique, and
    which of its techniques the office knows (the first way of making each
    product) and which each unit holds privately (all the others)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_p, n_s, n_t = draw(st.integers(1, 4)), draw(st.integers(0, 2)), draw(st.integers(1, 3))
    n_units = draw(st.integers(1, 3))
    periods = [str(2026 + t) for t in range(n_t)]
    products, stocks = [f"p{i}" for i in range(n_p)], [f"k{i}" for i in range(n_s)]
    units = [f"u{k}" for k in range(n_units)]
    rows, owners = [], {}
    for p in products:
        for c in range(int(rng.integers(1, 4))):
            j = f"make-{p}-{c}"
            owners[j] = None if c == 0 else units[int(rng.integers(n_units))]
            rows.append((j, p, float(rng.uniform(0.5, 2))))
            rows += [(j, q, -float(rng.uniform(0, 0.3))) for q in products
                     if q != p and rng.random() < 0.5]
            rows.append((j, "labour", -float(rng.uniform(0.1, 1))))
            rows += [(j, s, -float(rng.uniform(0.1, 1))) for s in stocks if rng.random() < 0.6]
    for s in stocks:
        j = f"invest-{s}"
        owners[j] = units[int(rng.integers(n_units))]
        rows += [(j, s, 1.0), (j, products[0], -float(rng.uniform(0.2, 1))),
                 (j, "labour", -float(rng.uniform(0.1, 0.5)))]
    flows = pd.DataFrame(rows, columns=["technique", "item", "amount"])
    return {
        "periods": periods, "owners": owners, "flows": flows,
        "items": pd.DataFrame({"id": [*products, "labour", *stocks],
                               "kind": ["product"] * n_p + ["resource"] + ["stock"] * n_s,
                               "depreciation": [0.0] * (n_p + 1) + [0.1] * n_s}),
        "units": pd.DataFrame({"id": units}),
        "availability": pd.DataFrame(
            [("labour", t, float(rng.uniform(50, 100))) for t in periods]
            + [(s, periods[0], float(rng.uniform(5, 50))) for s in stocks],
            columns=["item", "period", "amount"]),
        "targets": pd.DataFrame([(p, t, float(rng.uniform(0.5, 5))) for p in products
                                 for t in periods], columns=["item", "period", "amount"]),
    }


def _economy(data: dict, techniques: list[str]):  # type: ignore[no-untyped-def]
    flows = data["flows"]
    return economy_from(
        data["periods"], items=data["items"], units=data["units"],
        techniques=pd.DataFrame({"id": techniques}),
        flows=flows[flows["technique"].isin(techniques)],
        availability=data["availability"], targets=data["targets"])


def _write_units(data: dict, folder: Path) -> None:
    flows = data["flows"]
    for unit in data["units"]["id"]:
        mine = [j for j, o in data["owners"].items() if o == unit]
        (folder / unit).mkdir()
        pd.DataFrame({"id": mine}).to_csv(folder / unit / "techniques.csv", index=False)
        flows[flows["technique"].isin(mine)].to_csv(folder / unit / "flows.csv", index=False)


@settings(max_examples=30, deadline=None)
@given(split_economies())
def test_rounds_reach_the_full_information_optimum(data: dict) -> None:
    everything = _economy(data, list(data["owners"]))
    office = _economy(data, [j for j, o in data["owners"].items() if o is None])
    with tempfile.TemporaryDirectory() as tmp:
        _write_units(data, Path(tmp))
        units = read_units(tmp, office)
    result = run_rounds(office, units, max_rounds=50)
    full = solve(everything)
    assert bool(result.rounds["converged"].iloc[-1])
    assert result.plan.value == pytest.approx(full.value, rel=1e-6, abs=1e-8)
    objectives = result.rounds["objective"].to_numpy()
    assert (np.diff(objectives) >= -1e-7 * (1 + abs(objectives[:-1]))).all()


def test_rounds_on_kantorovich_with_a_private_lathe(example, tmp_path: Path) -> None:
    from counterplan import read_folder

    economy = read_folder(example("kantorovich-1939"))
    unit = tmp_path / "units" / "turret-shop"
    unit.mkdir(parents=True)
    (unit / "techniques.csv").write_text("id,name\nturret-both,both parts at once\n")
    (unit / "flows.csv").write_text("technique,item,amount\nturret-both,part-1,15\n"
                                    "turret-both,part-2,15\nturret-both,turret,-1\n")
    (unit / "availability.csv").write_text("item,period,amount\nturret,day,1\n")
    result = run_rounds(economy, read_units(tmp_path / "units", economy))
    first, *_, last = result.rounds.itertuples()
    assert first.objective == pytest.approx(86 + 2 / 3)
    assert last.converged and last.objective > first.objective
    assert result.rounds["adopted"].sum() == 2
    assert set(result.valuations["round"]) == set(range(len(result.rounds) - 1))


def test_a_units_folder_with_mistakes_is_refused(example, tmp_path: Path) -> None:
    from counterplan import read_folder

    economy = read_folder(example("kantorovich-1939"))
    unit = tmp_path / "units" / "turret-shop"
    unit.mkdir(parents=True)
    (unit / "flows.csv").write_text("technique,item,amount\nturret-both,part-7,15\n")
    with pytest.raises(InvalidInput, match=r"turret-shop/flows.csv:2: error: unknown item"):
        read_units(tmp_path / "units", economy)
    with pytest.raises(InvalidInput, match="units folder not found"):
        read_units(tmp_path / "nowhere", economy)
