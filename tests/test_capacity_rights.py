"""A unit claims only capacity that is its own (issue: agro once proposed
capacity of mining's iron-ore stock, and it was adopted): a stock its own
techniques use or add; a resource as the office allows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from counterplan import read_folder
from counterplan.counter.proposals import COLUMNS, parse_counterplans
from counterplan.examples import copy_example
from counterplan.model import Economy


@pytest.fixture(scope="module")
def brazil(tmp_path_factory: pytest.TempPathFactory) -> Economy:
    return read_folder(copy_example("brazil-five-year",
                                    Path(tmp_path_factory.mktemp("b")) / "brazil"))


def capacity(unit: str, item: str) -> pd.DataFrame:
    return pd.DataFrame([["c", unit, "capacity", "", item, "2027", "10", ""]],
                        columns=list(COLUMNS))


def errors(economy: Economy, frame: pd.DataFrame, resources: str = "any") -> list[str]:
    _, problems = parse_counterplans(frame, economy, "counterplan.csv", resources)
    return [str(p) for p in problems.errors]


def test_a_unit_may_not_claim_another_units_stock(brazil: Economy) -> None:
    (problem,) = errors(brazil, capacity("agro", "capital/iron_ore_mining"))
    assert "counterplan.csv" in problem and "not the unit's" in problem
    assert "mining" in problem and "capital/iron_ore_mining" in problem


def test_a_unit_may_claim_its_own_stock(brazil: Economy) -> None:
    assert errors(brazil, capacity("agro", "capital/agriculture")) == []
    assert errors(brazil, capacity("mining", "capital/iron_ore_mining")) == []


def test_the_office_may_propose_any_capacity(brazil: Economy) -> None:
    assert errors(brazil, capacity("", "capital/iron_ore_mining")) == []


def test_resources_as_the_office_allows(brazil: Economy) -> None:
    assert errors(brazil, capacity("agro", "labour"), "any") == []
    assert errors(brazil, capacity("agro", "labour"), "use") == []  # agro's techniques use it
    (none,) = errors(brazil, capacity("agro", "labour"), "none")
    assert "does not let units" in none
    with pytest.raises(ValueError, match="resources must be one of"):
        errors(brazil, capacity("agro", "labour"), "some")


def test_a_resource_the_unit_does_not_use(tmp_path: Path) -> None:
    economy = read_folder(copy_example("kantorovich-1939", tmp_path / "k"))
    frame = capacity("milling-shop", "automatic").assign(period="")
    assert errors(economy, frame, "any") == []
    (problem,) = errors(economy, frame, "use")
    assert "no technique of unit 'milling-shop' uses it" in problem
    assert "automatic-shop" in problem
