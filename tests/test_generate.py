"""The economy generator: deterministic, the asked size and shape, productive,
hub industries, valid (round trips through both formats) and balanced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from counterplan import (
    CounterplanError,
    Economy,
    io_system,
    material_balance,
    read_folder,
    write_folder,
)
from counterplan.generate import DEPRECIATION, LABOUR_SLACK, GeneratorOptions, generate
from counterplan.schema import STOCK

N = 2_000


def input_coefficients(e: Economy, n: int) -> sp.csc_matrix:
    """A (products × production techniques): the product inputs, positive."""
    return sp.csc_matrix(e.input_matrix[:n, :n])


@pytest.fixture(scope="module")
def economy() -> Economy:
    return generate(GeneratorOptions(N, periods=3, seed=7))


def test_the_same_seed_gives_the_same_economy(economy: Economy) -> None:
    assert generate(GeneratorOptions(N, periods=3, seed=7)) == economy


def test_another_seed_gives_another_economy(economy: Economy) -> None:
    other = generate(GeneratorOptions(N, periods=3, seed=8))
    assert other != economy
    assert not np.array_equal(other.flows.item, economy.flows.item)


def test_sizes_and_ids(economy: Economy) -> None:
    assert len(economy.products) == N and list(economy.resources) == [N]
    assert economy.n_techniques == N and economy.periods == ("1", "2", "3")
    assert economy.items.index[42] == "p0000042" and economy.items.index[N] == "labour"
    assert economy.techniques.index[N - 1] == f"p{N - 1:07d}"


@pytest.mark.parametrize(("n", "inputs"), [(2_000, None), (10_000, None), (5_000, 40)])
def test_mean_inputs_per_product_is_near_the_option(n: int, inputs: int | None) -> None:
    options = GeneratorOptions(n, inputs=inputs, seed=1)
    a = input_coefficients(generate(options), n)
    expected = inputs if inputs is not None else round(np.log2(n)) + 5
    assert options.mean_inputs == expected
    assert a.nnz / n == pytest.approx(expected, rel=0.03)


def test_no_pair_twice_and_every_technique_has_labour(economy: Economy) -> None:
    f = economy.flows
    key = f.technique.astype(np.int64) * economy.n_items + f.item
    sign = f.amount > 0
    assert len(np.unique(key[sign])) == sign.sum()
    assert len(np.unique(key[~sign])) == (~sign).sum()
    labour = economy.input_matrix.tocsr()[N]
    assert labour.nnz == N and labour.data.min() > 0


def test_the_table_is_productive(economy: Economy) -> None:
    column_sums = np.asarray(input_coefficients(economy, N).sum(axis=0)).ravel()
    assert column_sums.max() < 0.8 + 1e-12 and column_sums.min() > 0.2 - 1e-12


def test_hub_industries_supply_most_techniques(economy: Economy) -> None:
    used_by = np.diff(input_coefficients(economy, N).tocsr().indptr)
    assert used_by.max() > 0.5 * N
    assert used_by.max() > 50 * np.median(used_by)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_gives_an_equal_economy(tmp_path: Path, economy: Economy, fmt: str) -> None:
    write_folder(economy, tmp_path / "plan", fmt)  # type: ignore[arg-type]
    assert read_folder(tmp_path / "plan") == economy


def test_the_balance_delivers_exactly_the_targets(economy: Economy) -> None:
    system = io_system(economy)
    balance = material_balance(economy, system=system)
    x = balance.activity["level"].to_numpy().reshape(N, 3)
    f = economy.target_array()[:N]
    a = input_coefficients(economy, N)
    residual = np.linalg.norm(x - a @ x - f, axis=0) / np.linalg.norm(f, axis=0)
    assert residual.max() <= 1e-10


def test_labour_is_available_with_the_slack(economy: Economy) -> None:
    used = material_balance(economy).resources.set_index("period")["used"]
    available = economy.availability_array()[N]
    assert available == pytest.approx(LABOUR_SLACK * used.to_numpy(), rel=1e-3)


def test_targets_grow_and_cover_about_half_of_the_products(economy: Economy) -> None:
    g = economy.target_array()[:N]
    wanted = g[:, 0] > 0
    assert 0.4 < wanted.mean() < 0.6
    growth = g[wanted, 1:] / g[wanted, :-1]
    assert growth.min() >= 1.0 and growth.max() <= 1.05 + 1e-12


def test_stocks_and_investment_techniques(tmp_path: Path) -> None:
    n = 500
    e = generate(GeneratorOptions(n, periods=2, stocks=True, seed=3))
    stocks = e.stocks
    assert len(stocks) == n and e.items.index[stocks[0]] == "k0000000"
    assert np.all(e.items["depreciation"].to_numpy()[stocks] == DEPRECIATION)
    assert list(e.techniques.index[n:n + 2]) == ["invest-0000000", "invest-0000001"]
    f = e.flow_matrix.tocsr()
    needs = f[stocks][:, :n]  # production techniques need their own stock
    assert needs.nnz == n and needs.diagonal().max() < 0
    makes = f[stocks][:, n:]  # investment techniques make it
    assert np.array_equal(makes.toarray(), np.eye(n))
    invest_inputs = f[:n][:, n:]
    assert invest_inputs.nnz >= n and invest_inputs.data.max() < 0
    start = e.availability_array()[stocks, 0]
    assert start.min() >= 0 and start.max() > 0 and not e.availability_array()[stocks, 1].any()
    assert (e.kind_codes[e.availability.item] != STOCK).sum() == 2  # labour, both periods
    system = io_system(e)  # investment techniques make only stocks: outside the system
    assert len(system.idle) == n
    write_folder(e, tmp_path / "plan", "parquet")
    assert read_folder(tmp_path / "plan") == e


def test_first_period_capacity_covers_the_targets() -> None:
    n = 500
    e = generate(GeneratorOptions(n, stocks=True, seed=4))
    balance = material_balance(e)
    stocks = balance.resources[balance.resources["item"].str.startswith("k")]
    used, available = stocks["used"].to_numpy(), stocks["available"].to_numpy()
    assert (used > 0).sum() > 0.5 * n
    assert available.sum() == pytest.approx(1.05 * used.sum(), rel=1e-3)
    assert np.all(available >= used - 1e-3 * available.max())


def test_no_labour_row_when_asked() -> None:
    e = generate(GeneratorOptions(100, labour=False))
    assert len(e.resources) == 0 and len(e.availability) == 0


@pytest.mark.parametrize("options", [dict(products=1), dict(products=10, inputs=6),
                                     dict(products=10, inputs=0), dict(products=10, periods=0)])
def test_impossible_options_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(CounterplanError):
        GeneratorOptions(**options)


@pytest.mark.parametrize("n", [2, 3, 10, 64])
@pytest.mark.parametrize("stocks", [False, True])
def test_tiny_economies_are_valid(tmp_path: Path, n: int, stocks: bool) -> None:
    e = generate(GeneratorOptions(n, periods=2, stocks=stocks, seed=n))
    write_folder(e, tmp_path / "plan", "parquet")
    assert read_folder(tmp_path / "plan") == e
    levels = material_balance(e).activity["level"].to_numpy()
    assert levels.min() >= 0 and levels.max() > 0


def test_sectors_keep_most_inputs_near_their_product() -> None:
    """With sectors, products draw most inputs from their own block of ids;
    the table stays productive and has one flow per pair."""
    n = 2000
    plain = generate(GeneratorOptions(products=n, seed=3))
    sectors = generate(GeneratorOptions(products=n, seed=3, sectors=20))
    size = n // 20

    def local_share(e: Economy) -> float:
        m = e.flow_matrix.tocoo()
        inputs = (m.data < 0) & (m.row < n)
        return float(np.mean(m.row[inputs] // size == m.col[inputs] // size))

    assert local_share(sectors) > 0.75 > 0.2 > local_share(plain)
    pairs = sectors.flows.technique.astype(np.int64) * 10**7 + sectors.flows.item
    assert len(np.unique(pairs)) == len(pairs)
    a = -sp.csr_matrix(sectors.flow_matrix)[:n, :n].minimum(0)
    assert float(abs(a).sum(axis=0).max()) < 1.0  # every column sum of A below one
