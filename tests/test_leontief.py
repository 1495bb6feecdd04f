"""Gross output, balances and embodied resources, anchored in known answers
and in properties of productive tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from counterplan import (
    Economy,
    NotInputOutput,
    SolveFailed,
    SolveOptions,
    embodied,
    io_system,
    material_balance,
    read_folder,
)
from counterplan.io.assemble import assemble
from counterplan.io.problems import RawTable


def io_economy(a: np.ndarray, labour: np.ndarray, final: np.ndarray) -> Economy:
    """An economy whose technique j makes product j from a[:, j] and labour[j]."""
    n = len(labour)
    ids = [f"s{j}" for j in range(n)]
    rows, cols = np.nonzero(a)
    flows = pd.DataFrame({
        "technique": ids + [ids[j] for j in cols] + ids,
        "item": ids + [ids[i] for i in rows] + ["labour"] * n,
        "amount": np.concatenate([np.ones(n), -a[rows, cols], -labour]),
    })
    tables = {
        "items": pd.DataFrame({"id": [*ids, "labour"], "kind": ["product"] * n + ["resource"]}),
        "techniques": pd.DataFrame({"id": ids}),
        "flows": flows,
        "availability": pd.DataFrame({"item": ["labour"], "period": ["1"],
                                      "amount": [float(labour @ np.linalg.solve(
                                          np.eye(n) - a, final))]}),
        "targets": pd.DataFrame({"item": ids, "period": "1", "amount": final}),
        "units": None,
    }
    raw = {k: RawTable(f"{k}.csv", v, np.arange(0 if v is None else len(v)) + 2)
           for k, v in tables.items()}
    economy, problems = assemble({"periods": ["1"]}, raw)
    problems.raise_if_errors()
    assert economy is not None
    return economy


def test_miller_blair_gross_output(example) -> None:
    b = material_balance(read_folder(example("textbook")))
    assert b.activity["level"].tolist() == pytest.approx([1000.0, 2000.0], rel=1e-12)
    assert b.products["use"].tolist() == pytest.approx([650.0, 300.0], rel=1e-12)  # Z rows
    assert b.resources["used"].tolist() == pytest.approx([800.0], rel=1e-12)
    assert b.deficits().empty


def test_miller_blair_labour_values_by_hand(example) -> None:
    e = read_folder(example("textbook"))
    v, _ = embodied(io_system(e), e.resources)
    # 0.85 v1 - 0.20 v2 = 0.3 ; -0.25 v1 + 0.95 v2 = 0.25 (see SOURCE.md)
    assert v[:, 0].tolist() == pytest.approx([0.335 / 0.7575, 0.2875 / 0.7575], rel=1e-12)


def test_balance_and_values_of_the_minimal_economy(make_folder) -> None:
    e = read_folder(make_folder())
    b = material_balance(e)
    levels = b.activity.set_index(["technique", "period"])["level"]
    assert levels[("bakery", "1")] == pytest.approx(100)
    assert levels[("farm", "1")] == pytest.approx(50 / 0.9)
    assert levels[("farm", "2")] == pytest.approx(55 / 0.9)
    res = b.resources.set_index(["item", "period"])
    assert res.loc[("labour", "1"), "used"] == pytest.approx(20 + 50 / 0.9)
    # the oven stock depreciates by 10 % a period with no investment
    assert res.loc[("oven", "2"), "available"] == pytest.approx(4.5)
    assert res.loc[("oven", "2"), "used"] == pytest.approx(1.1)
    v, _ = embodied(io_system(e), np.array([2, 3]))
    assert v[:, 0].tolist() == pytest.approx([0.2 + 0.5 / 0.9, 1 / 0.9])  # bread, grain
    assert v[:, 1].tolist() == pytest.approx([0.01, 0.0])


def test_deficits_name_the_item_period_and_shortfall(make_folder) -> None:
    folder = make_folder(availability_csv="item,period,amount\nlabour,1,50\nlabour,2,1000\n"
                                          "oven,1,5\n")
    d = material_balance(read_folder(folder)).deficits()
    assert d.to_dict("records") == [
        {"item": "labour", "period": "1", "shortfall": pytest.approx(20 + 50 / 0.9 - 50)}]


def test_a_choice_of_techniques_points_to_solve(example) -> None:
    with pytest.raises(NotInputOutput, match=r"more than one technique.*part-1.*counterplan solve"):
        io_system(read_folder(example("kantorovich-1939")))


def test_a_table_that_is_not_productive_fails_clearly() -> None:
    a = np.array([[0.5, 0.9], [0.9, 0.5]])  # column sums 1.4: not productive
    e = io_economy(np.array([[0.1, 0.2], [0.3, 0.1]]), np.ones(2), np.ones(2))
    system = io_system(e)
    bad = type(system)(system.products, system.techniques, sp.csr_matrix(np.eye(2) - a),
                       system.requirements, system.idle)
    with pytest.raises(SolveFailed, match="not productive"):
        embodied(bad, e.resources, SolveOptions(method="iterative", maxiter=50))


@pytest.mark.parametrize("name", ["textbook", "brazil-2021"])
def test_direct_and_iterative_solves_agree(example, name: str) -> None:
    e = read_folder(example(name))
    direct = material_balance(e, SolveOptions(method="direct")).activity["level"]
    iterative = material_balance(e, SolveOptions(method="iterative"))
    assert iterative.report.method == "iterative" and iterative.report.residual <= 1e-10
    assert iterative.activity["level"].to_numpy() == pytest.approx(direct.to_numpy(), rel=1e-8)


def test_brazil_reproduces_the_base_year(example) -> None:
    """The example's availability is what 2021's gross output used, so the
    targets (2021's final demand) must need exactly all of it."""
    e = read_folder(example("brazil-2021"))
    b = material_balance(e)
    r = b.resources.set_index("item")
    assert r["used"].to_numpy() == pytest.approx(r["available"].to_numpy(), rel=1e-12)
    assert r.loc["labour", "used"] == pytest.approx(105_065_178, rel=1e-12)
    assert b.activity["level"].sum() == pytest.approx(16_581_873, rel=1e-12)
    v, _ = embodied(io_system(e), e.resources)
    f = e.target_array()[e.products, 0]
    assert (v.T @ f) == pytest.approx(r["used"].to_numpy(), rel=1e-10)


@st.composite
def productive_tables(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    col = a.sum(axis=0)
    target_sum = rng.uniform(0.0, 0.95, n)
    a = a * np.where(col > 0, target_sum / np.where(col > 0, col, 1), 0)
    labour = rng.uniform(0.01, 2.0, n)
    final = rng.uniform(0.0, 100.0, n)
    return a, labour, final


@settings(max_examples=60, deadline=None)
@given(productive_tables())
def test_properties_of_productive_tables(table: tuple[np.ndarray, np.ndarray, np.ndarray]
                                         ) -> None:
    a, labour, final = table
    e = io_economy(a, labour, final)
    b = material_balance(e)
    x = b.activity["level"].to_numpy()
    scale = max(1.0, float(np.abs(final).max()))
    assert np.abs(x - a @ x - final).max() <= 1e-9 * scale  # x - A x = f
    assert (x >= -1e-9 * scale).all()
    v, _ = embodied(io_system(e), e.resources)
    assert (v >= 0).all()
    assert (v[:, 0] >= labour - 1e-12).all()  # embodied labour includes the direct labour
    assert float(v[:, 0] @ final) == pytest.approx(float(labour @ x), rel=1e-9, abs=1e-9)
