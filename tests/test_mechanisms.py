"""Planning mechanisms on the same economy, against known answers: the exact
mechanism is `solve`; the harmony heuristic against the LP's harmony
optimum (Kantorovich's problem and generated economies); two-level rounds
reach the optimum; the participatory procedure's rounds against the
published statistics (Hahnel 2021; Szczepanczyk 2023)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from counterplan import read_folder
from counterplan.cli import app
from counterplan.errors import CounterplanError
from counterplan.generate import GeneratorOptions, generate
from counterplan.mechanisms import (
    HarmonyHeuristicOptions,
    ParticipatoryOptions,
    UnknownMechanism,
    exact,
    harmony_heuristic,
    participatory,
    run_mechanism,
    two_level,
)
from counterplan.mechanisms.harmony import io_harmony_optimum
from counterplan.mechanisms.perturb import Perturbation, perturb
from counterplan.mechanisms.result import measure
from counterplan.mechanisms.spec import BadSpec
from counterplan.plan import HarmonyOptions, PlanOptions, solve


def test_exact_is_solve(example) -> None:
    for name in ("kantorovich-1939", "brazil-five-year"):
        economy = read_folder(example(name))
        plan, result = solve(economy), exact(economy)
        assert result.objective == pytest.approx(plan.value, rel=1e-6)
        np.testing.assert_allclose(result.activity, plan.activity, rtol=1e-9, atol=1e-9)
        assert result.rounds == 0 and result.messages == len(economy.flows) + \
            economy.n_techniques * economy.n_periods


def test_harmony_heuristic_reaches_90_percent_on_kantorovich(example) -> None:
    """Cockshott: about 90 % of the LP optimum's harmony in 100 iterations.
    The targets are one set each, so fulfilment reaches ~65 and ~130: the
    harmony of both sides counts ratios up to 150."""
    economy = read_folder(example("kantorovich-1939"))
    optimum = solve(economy, "harmony", PlanOptions(harmony=HarmonyOptions(max_ratio=150)))
    best = measure(economy, optimum.activity, "harmony", 150)
    result = harmony_heuristic(economy, HarmonyHeuristicOptions(iterations=100, max_ratio=150))
    start = result.trajectory["objective"].iloc[0]
    print(f"harmony after 100 iterations {result.objective:.6f}, LP optimum {best:.6f}, "
          f"first iteration {start:.6f}")
    assert result.objective >= 0.9 * best
    assert result.objective <= best * (1 + 1e-3)  # the LP's ε = 1e-3 bounds how far above
    assert result.imbalance() < 1e-12
    assert (np.diff(result.trajectory["objective"]) >= -1e-12).all()


def test_harmony_heuristic_on_generated_economies_against_the_lp() -> None:
    """The LP's piecewise-linear harmony lies below H by at most ε = 1e-3 a
    target; the closed-form optimum (bisection on the labour valuation) is
    exact: the two agree within that, and the heuristic gets within 1 %."""
    ratios = []
    for seed in range(3):
        economy = generate(GeneratorOptions(products=300, seed=seed))
        plan = solve(economy, "harmony")
        closed = measure(economy, io_harmony_optimum(economy), "harmony", 3.0)
        n_targets = int((economy.targets.amount > 0).sum())
        assert plan.value <= closed <= plan.value + 1e-3 * n_targets
        assert measure(economy, plan.activity, "harmony", 3.0) <= closed + 1e-9
        result = harmony_heuristic(economy)
        ratios.append(result.objective / closed)
        assert result.imbalance() < 1e-6  # x = N⁻¹ f keeps every balance
    print(f"harmony heuristic / exact optimum at 300 products, 100 iterations: {ratios}")
    assert min(ratios) >= 0.999


def test_harmony_heuristic_gap_at_ten_thousand_products() -> None:
    """Where the LP does not reach: the gap to the closed-form optimum after
    100 and 1,000 iterations (reported; docs/mechanisms.md)."""
    economy = generate(GeneratorOptions(products=10_000, seed=0))
    best = measure(economy, io_harmony_optimum(economy), "harmony", 3.0)
    gaps = {k: 1 - harmony_heuristic(economy, HarmonyHeuristicOptions(
        iterations=k, record=False)).objective / best for k in (100, 1000)}
    print(f"10^4 products: optimum {best:.4f}, gap after 100 iterations {gaps[100]:.1e}, "
          f"after 1,000 {gaps[1000]:.1e}")
    assert 0 <= gaps[1000] <= gaps[100] < 1e-3


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_harmony_heuristic_long_runs_of_gains_do_not_overflow() -> None:
    """η grows by half after every gain; on this economy it grew past where
    exp overflows (1,000 iterations), the trial became inf and nan and was
    refused only because nan compares false.  η is bounded now: no warning,
    and harmony never falls from one iteration to the next."""
    economy = generate(GeneratorOptions(products=1000, seed=1))
    result = harmony_heuristic(economy, HarmonyHeuristicOptions(iterations=1000))
    assert np.isfinite(result.objective)
    assert (np.diff(result.trajectory["objective"]) >= -1e-12).all()


def test_iterative_mechanisms_refuse_stocks_with_a_named_error(example) -> None:
    economy = read_folder(example("brazil-five-year"))
    for mechanism in (harmony_heuristic, participatory):
        with pytest.raises(CounterplanError, match="stock"):
            mechanism(economy)


def test_rounds_reach_the_exact_optimum_and_count_messages(example) -> None:
    economy = read_folder(example("kantorovich-1939"))
    result = two_level(economy)
    print(f"rounds {result.rounds}, messages {result.messages}, "
          f"private techniques {result.info['private_techniques']}")
    assert result.objective == pytest.approx(exact(economy).objective, rel=1e-9)
    assert result.info["private_techniques"] == 4 and result.rounds >= 2
    first = result.trajectory["objective"].iloc[0]
    assert first < result.objective  # the office alone plans worse
    # published valuations to 3 units × rounds + proposals + activities back
    assert result.messages > 3 * economy.n_items * (result.rounds + 1)


def _rounds(economy, options: ParticipatoryOptions) -> dict[str, int]:  # type: ignore[no-untyped-def]
    result = participatory(economy, options)
    assert result.converged
    return result.info["rounds_to"]


def test_participatory_rounds_against_the_published_statistics() -> None:
    """40 seeded experiments on generated economies of 20 goods, from
    arbitrary prices (log-normal, σ = 0.5) and from the previous plan's
    prices after a change of the economy (targets σ = 0.3, availability and
    norms σ = 0.15).  Published: 11.85 rounds to 5 %, 19.2 to 3 %, 6.5 from
    the previous prices.  Our 5 % and warm-start means fall within ±30 %;
    the 3 % mean does not: in this model the last rounds contract
    geometrically, so 3 % follows 5 % within about one round (the measured
    gap is asserted below, see docs/mechanisms.md)."""
    cold5, cold3, warm5, contraction = [], [], [], []
    for seed in range(40):
        economy = generate(GeneratorOptions(products=20, seed=seed))
        first = participatory(economy, ParticipatoryOptions(seed=seed))
        cold5.append(first.info["rounds_to"]["0.05"])
        cold3.append(first.info["rounds_to"]["0.03"])
        z = first.trajectory["imbalance"].to_numpy()
        contraction.append(z[-1] / z[-2])  # the last round's shrinking of the imbalance
        nxt = perturb(economy, Perturbation(targets=0.3, availability=0.15, norms=0.15,
                                            seed=seed))
        warm5.append(_rounds(nxt, ParticipatoryOptions(seed=seed, start=first.prices))["0.05"])
    means = np.mean(cold5), np.mean(cold3), np.mean(warm5)
    print(f"mean rounds to 5 % {means[0]:.2f} (published 11.85), to 3 % {means[1]:.2f} "
          f"(19.2), from the previous prices {means[2]:.2f} (6.5); the imbalance shrinks "
          f"by a factor {np.median(contraction):.2f} in the last round (median), where "
          f"5 % to 3 % in 7.35 rounds means {0.6 ** (1 / 7.35):.2f} a round")
    assert 0.7 * 11.85 <= means[0] <= 1.3 * 11.85
    assert 0.7 * 6.5 <= means[2] <= 1.3 * 6.5
    assert means[1] - means[0] < 2.0  # the explained difference: 3 % within ~1 round of 5 %
    assert np.median(contraction) < 0.6  # 5 % to under 3 % in one round


def test_participatory_records_every_round_and_prices() -> None:
    economy = generate(GeneratorOptions(products=30, seed=3))
    result = participatory(economy)
    z = result.trajectory["imbalance"].to_numpy()
    assert len(result.trajectory) == result.rounds
    assert z[-1] < 0.03 <= z[:-1].min()
    assert result.prices is not None and (result.prices > 0).all()
    n_targets = int((economy.targets.amount > 0).sum())
    assert result.messages == 2 * result.rounds * (len(economy.flows) + 100 * n_targets)


def test_unknown_mechanism_is_a_named_error(example) -> None:
    economy = read_folder(example("textbook"))
    with pytest.raises(UnknownMechanism, match=r"'central-committee'.*participatory"):
        run_mechanism("central-committee", economy)


def test_compare_command_writes_table_trajectories_and_picture(example, tmp_path: Path
                                                               ) -> None:
    folder = example("kantorovich-1939")
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compare.csv")
    assert list(table["mechanism"]) == ["exact", "harmony-heuristic", "rounds", "participatory"]
    exact_row = table.set_index("mechanism").loc["exact"]
    assert exact_row["objective"] == pytest.approx(86 + 2 / 3)
    assert table.set_index("mechanism").loc["rounds", "objective"] == pytest.approx(86 + 2 / 3)
    paths = pd.read_csv(out / "trajectories.csv")
    assert set(paths["mechanism"]) == set(table["mechanism"])
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_refuses_an_unknown_mechanism_and_writes_nothing(example, tmp_path: Path
                                                                 ) -> None:
    from counterplan.cli import main

    folder, out = example("textbook"), tmp_path / "cmp"
    import sys

    argv = sys.argv
    sys.argv = ["counterplan", "compare", str(folder), "--out", str(out),
                "--mechanisms", "exact,gosplan"]
    try:
        with pytest.raises(SystemExit) as stop:
            main()
    finally:
        sys.argv = argv
    assert stop.value.code == 1
    assert not out.exists()


def test_compare_records_a_mechanism_that_cannot_plan_the_economy(example, tmp_path: Path
                                                                   ) -> None:
    folder, out = example("brazil-five-year"), tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(folder), "--out", str(out),
                                      "--mechanisms", "exact,participatory"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "compare.csv", keep_default_na=False).set_index("mechanism")
    assert table.loc["exact", "error"] == ""
    assert "stock" in table.loc["participatory", "error"]
    assert "participatory: cannot plan" in result.output


def test_sweep_command_refuses_a_malformed_spec_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "spec.toml").write_text("mechanisms = ['exact']\n[generate]\nproducts = 0\n",
                                        encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "spec.toml"), "--out", str(out)])
    assert result.exit_code == 1
    assert isinstance(result.exception, BadSpec)
    assert "[generate] products: 0 must be at least 1" in str(result.exception)
    assert not out.exists()
