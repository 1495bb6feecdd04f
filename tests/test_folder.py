"""The plan folder: reading, writing, round trips and immutability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from counterplan import read_folder, write_folder
from counterplan.examples import names
from counterplan.schema import PRODUCT, RESOURCE, STOCK


@pytest.mark.parametrize("name", names())
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_gives_an_equal_economy(bundled, tmp_path: Path, name: str, fmt: str) -> None:
    economy = bundled(name)
    written = write_folder(economy, tmp_path / f"out-{fmt}", format=fmt)
    assert sorted(p.suffix for p in written.iterdir() if p.suffix != ".toml") == \
        [f".{fmt}"] * len([p for p in written.iterdir() if p.suffix != ".toml"])
    again = read_folder(written)
    assert again == economy
    assert again is not economy


def test_equality_notices_a_changed_amount(make_folder) -> None:
    a = read_folder(make_folder("a"))
    b = read_folder(make_folder("b", flows_csv=(
        "technique,item,amount\nbakery,bread,1\nbakery,grain,-0.5\nbakery,labour,-0.25\n"
        "bakery,oven,-0.01\nfarm,grain,1\nfarm,grain,-0.1\nfarm,labour,-1\n")))
    assert a != b


def test_minimal_folder_reads_into_the_model(make_folder) -> None:
    e = read_folder(make_folder())
    assert e.periods == ("1", "2")
    assert list(e.items.index) == ["bread", "grain", "labour", "oven"]
    assert list(e.kind_codes) == [PRODUCT, PRODUCT, RESOURCE, STOCK]
    assert e.items.loc["oven", "depreciation"] == pytest.approx(0.1)
    assert e.techniques.loc["bakery", "unit_id"] == "bakers"
    assert e.techniques.loc["farm", "max"] == np.inf
    # own use: the farm lists grain twice, +1 and -0.1; the net flow is 0.9
    grain, farm = 1, 1
    assert e.flow_matrix[grain, farm] == pytest.approx(0.9)
    assert e.output_matrix[grain, farm] == 1
    assert e.input_matrix[grain, farm] == pytest.approx(0.1)
    assert e.target_array().tolist() == [[100, 110], [0, 0], [0, 0], [0, 0]]
    assert e.availability_array()[2].tolist() == [1000, 1000]


def test_economy_is_immutable(make_folder) -> None:
    e = read_folder(make_folder())
    with pytest.raises(ValueError):
        e.flows.amount[0] = 5.0
    with pytest.raises(AttributeError):
        e.name = "other"  # type: ignore[misc]


def test_periods_default_to_one(make_folder) -> None:
    e = read_folder(make_folder(
        economy_toml='name = "x"\n',
        availability_csv="item,period,amount\nlabour,1,10\noven,1,1\n",
        targets_csv="item,period,amount\nbread,1,1\n"))
    assert e.periods == ("1",)
    assert e.targets.weight is not None and e.targets.weight.tolist() == [1.0]


def test_write_is_all_or_nothing(make_folder, tmp_path: Path) -> None:
    e = read_folder(make_folder())
    target = tmp_path / "occupied"
    target.write_text("a file, not a folder")
    with pytest.raises(Exception, match="not a folder"):
        write_folder(e, target)
    assert target.read_text() == "a file, not a folder"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".occupied")]


def test_repr_names_the_sizes(make_folder) -> None:
    assert "4 items (2 products, 1 resources, 1 stocks), 2 techniques" in repr(
        read_folder(make_folder()))


def test_writing_again_in_the_other_format_leaves_one_version(make_folder,
                                                               tmp_path: Path) -> None:
    """A folder holds one version of every table, whatever was there before."""
    from counterplan import check_folder

    e = read_folder(make_folder())
    target = tmp_path / "twice"
    write_folder(e, target, format="csv")
    (target / "notes.txt").write_text("mine")
    write_folder(e, target, format="parquet")
    assert sorted(p.name for p in target.iterdir()) == [
        "availability.parquet", "economy.toml", "flows.parquet", "items.parquet", "notes.txt",
        "targets.parquet", "techniques.parquet", "units.parquet"]
    assert check_folder(target).found == []
    write_folder(e, target, format="csv")
    assert not list(target.glob("*.parquet"))
