"""pymrio interoperability, anchored in pymrio's own test system: reading its
saved folder must reproduce pymrio's gross output x and multipliers M."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from counterplan.calc.balance import material_balance
from counterplan.calc.leontief import embodied, io_system
from counterplan.errors import CounterplanError, InvalidInput, NotInputOutput
from counterplan.io.folder import read_folder
from counterplan.io.pymrio import from_pymrio, read_pymrio_folder, to_pymrio
from counterplan.model import Economy

RTOL = 1e-8


@pytest.fixture(scope="module")
def test_mrio() -> Any:
    pymrio = pytest.importorskip("pymrio")
    io = pymrio.load_test()
    io.calc_all()
    return io


@pytest.fixture(scope="module")
def saved(test_mrio: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """pymrio's test system saved by save_all as txt and as Parquet."""
    root = tmp_path_factory.mktemp("pymrio")
    test_mrio.save_all(root / "txt")
    test_mrio.save_all(root / "parquet", table_format="parquet")
    return {"txt": root / "txt", "parquet": root / "parquet"}


def _ids(index: pd.Index) -> list[str]:
    return ["/".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in index]


def _max_rel(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


# -- the test system ---------------------------------------------------------

def test_save_all_layout_is_what_the_reader_expects(saved: dict[str, Path]) -> None:
    params = json.loads((saved["txt"] / "file_parameters.json").read_text())
    assert params["systemtype"] == "IOSystem"
    assert params["files"]["Z"] == {"name": "Z.txt", "nr_index_col": "2", "nr_header": "2"}
    assert params["files"]["x"]["nr_header"] == "1"
    ext = json.loads((saved["parquet"] / "emissions" / "file_parameters.json").read_text())
    assert ext["systemtype"] == "Extension" and ext["files"]["F"]["name"] == "F.parquet"


@pytest.mark.parametrize("fmt", ["txt", "parquet"])
def test_balance_gives_pymrio_gross_output(fmt: str, saved: dict[str, Path],
                                           test_mrio: Any) -> None:
    economy = read_pymrio_folder(saved[fmt])
    level = material_balance(economy).activity.set_index("technique")["level"]
    x = test_mrio.x["indout"]
    ours = level.loc[_ids(x.index)].to_numpy()
    assert len(level) == len(x) == 48
    assert _max_rel(ours, x.to_numpy()) < RTOL
    np.testing.assert_allclose(ours, x.to_numpy(), rtol=RTOL, atol=0)


@pytest.mark.parametrize("fmt", ["txt", "parquet"])
def test_embodied_gives_every_extension_multiplier(fmt: str, saved: dict[str, Path],
                                                   test_mrio: Any) -> None:
    economy = read_pymrio_folder(saved[fmt])
    system = io_system(economy)
    resources = economy.resources
    values, _ = embodied(system, resources)
    by_id = pd.DataFrame(values, index=economy.items.index[system.products],
                         columns=economy.items.index[resources])
    compared = []
    for name in ("emissions", "factor_inputs"):
        m = getattr(test_mrio, name).M
        for row, rid in zip(m.index, _ids(m.index), strict=True):
            ours = by_id.loc[_ids(m.columns), f"{name}/{rid}"].to_numpy()
            np.testing.assert_allclose(ours, m.loc[row].to_numpy(), rtol=RTOL, atol=0)
            compared.append(f"{name}/{rid}")
    assert sorted(compared) == sorted(economy.items.index[resources])
    assert len(compared) == 3


def test_ids_units_flows_and_availability(saved: dict[str, Path], test_mrio: Any) -> None:
    economy = read_pymrio_folder(saved["txt"])
    assert economy.name == "testmrio" and economy.periods == ("1",)
    items = economy.items
    assert items.loc["emissions/emission_type1/air", ["kind", "unit"]].tolist() == \
        ["resource", "kg"]
    assert items.loc["factor_inputs/Value Added", "unit"] == "Mill USD"
    assert items.loc["reg1/food", ["kind", "unit"]].tolist() == ["product", "Mill USD"]
    # own use: reg1/food lists itself twice, +1 and -A_jj
    f = economy.flows
    k = economy.items.index.get_loc("reg1/food")
    own = f.amount[(f.technique == economy.techniques.index.get_loc("reg1/food")) & (f.item == k)]
    a = test_mrio.A.loc[("reg1", "food"), ("reg1", "food")]
    np.testing.assert_allclose(sorted(own), [-a, 1.0], rtol=1e-11)
    available = pd.Series(economy.availability_array()[:, 0], index=items.index)
    f_air = test_mrio.emissions.F.loc[("emission_type1", "air")].sum()
    assert available["emissions/emission_type1/air"] == pytest.approx(f_air, rel=1e-11)
    targets = pd.Series(economy.target_array()[:, 0], index=items.index)
    np.testing.assert_allclose(targets.loc[_ids(test_mrio.Y.index)],
                               test_mrio.Y.sum(axis=1).to_numpy(), rtol=1e-11)


def test_from_pymrio_equals_the_saved_folder(saved: dict[str, Path], test_mrio: Any) -> None:
    live = from_pymrio(test_mrio)
    assert live == read_pymrio_folder(saved["parquet"])  # Parquet keeps every bit
    # txt keeps 12 significant digits (pymrio's float_format): equal up to rounding
    txt = read_pymrio_folder(saved["txt"])
    assert live != txt
    assert live.items.equals(txt.items) and live.techniques.equals(txt.techniques)
    np.testing.assert_allclose(live.flow_matrix.toarray(), txt.flow_matrix.toarray(),
                               rtol=1e-10, atol=0)


def test_from_pymrio_computes_a_and_x_when_absent(test_mrio: Any) -> None:
    pymrio = pytest.importorskip("pymrio")
    raw = pymrio.load_test()  # Z, Y and F only: x = Z·1 + Y·1, A = Z / x, S = F / x
    assert raw.x is None and raw.A is None
    economy = from_pymrio(raw)
    level = material_balance(economy).activity.set_index("technique")["level"]
    x = test_mrio.x["indout"]
    np.testing.assert_allclose(level.loc[_ids(x.index)], x, rtol=RTOL, atol=0)
    np.testing.assert_allclose(economy.flow_matrix.toarray(),
                               from_pymrio(test_mrio).flow_matrix.toarray(), rtol=1e-12)


def test_to_pymrio_round_trip(saved: dict[str, Path], test_mrio: Any) -> None:
    back = to_pymrio(read_pymrio_folder(saved["parquet"]))
    pd.testing.assert_frame_equal(back.A, test_mrio.A, rtol=1e-12, check_names=False)
    np.testing.assert_allclose(back.x["indout"], test_mrio.x["indout"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(back.Y.iloc[:, 0], test_mrio.Y.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(back.Z.to_numpy(), test_mrio.Z.to_numpy(), rtol=RTOL,
                               atol=1e-9 * test_mrio.Z.to_numpy().max())
    # pymrio's own maths on what we built gives back the multipliers.  (Not
    # calc_all: its regional accounts warn under pandas 3 when a Y column's
    # region, here the economy's name, is not a region of Z.)
    pymrio = pytest.importorskip("pymrio")
    s = pymrio.calc_S(back.resources.F, back.x)
    m = pymrio.calc_M(s, pymrio.calc_L(back.A))
    air = m.loc["emissions/emission_type1/air"].to_numpy()
    np.testing.assert_allclose(air, test_mrio.emissions.M.iloc[0].to_numpy(), rtol=RTOL)


def test_missing_inputs_name_the_file(saved: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(saved["txt"], tmp_path / "noZ")
    (folder / "Z.txt").unlink()
    read_pymrio_folder(folder)  # A and x are enough
    (folder / "A.txt").unlink()
    with pytest.raises(InvalidInput, match=r"Z\.txt.*neither A\.txt nor Z\.txt"):
        read_pymrio_folder(folder)
    (folder / "Y.txt").unlink()
    (folder / "x.txt").unlink()
    with pytest.raises(InvalidInput, match=r"x\.txt.*gross output is missing"):
        read_pymrio_folder(folder)


def test_missing_final_demand_names_the_file(saved: dict[str, Path], tmp_path: Path) -> None:
    folder = _copy(saved["parquet"], tmp_path / "noY")
    (folder / "Y.parquet").unlink()
    with pytest.raises(InvalidInput, match=r"Y\.parquet.*final demand is missing"):
        read_pymrio_folder(folder)


def _copy(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst))


# -- small hand-written folders in pymrio's layout (no pymrio needed) --------

def _write(folder: Path, z: np.ndarray, y: np.ndarray, f: np.ndarray | None = None,
           x: np.ndarray | None = None) -> Path:
    """A pymrio txt folder: regions r1, r2 with sectors a, b."""
    sectors = pd.MultiIndex.from_product([["r1", "r2"], ["a", "b"]], names=["region", "sector"])
    final = pd.MultiIndex.from_tuples([("r1", "households"), ("r1", "inventories")],
                                      names=["region", "category"])
    files: dict[str, tuple[pd.DataFrame, int, int]] = {
        "Z": (pd.DataFrame(z, index=sectors, columns=sectors), 2, 2),
        "Y": (pd.DataFrame(y, index=sectors, columns=final), 2, 2),
    }
    if x is not None:
        files["x"] = (pd.DataFrame({"indout": x}, index=sectors), 2, 1)
    _save(folder, files, {"systemtype": "IOSystem"})
    if f is not None:
        rows = pd.Index(["co2"], name="stressor")
        _save(folder / "air", {"F": (pd.DataFrame(f, index=rows, columns=sectors), 1, 2)},
              {"systemtype": "Extension", "name": "Air"})
    return folder


def _save(folder: Path, files: dict[str, tuple[pd.DataFrame, int, int]],
          params: dict[str, Any]) -> None:
    folder.mkdir(parents=True)
    params["files"] = {}
    for key, (frame, n_index, n_header) in files.items():
        frame.to_csv(folder / f"{key}.txt", sep="\t", float_format="%.12g")
        params["files"][key] = {"name": f"{key}.txt", "nr_index_col": str(n_index),
                                "nr_header": str(n_header)}
    (folder / "file_parameters.json").write_text(json.dumps(params))


Z = np.array([[1.0, 2, 0, 0], [0, 3, 0, 1], [0, 0, 0, 0], [2, 0, 0, 0]])
F = np.array([[5.0, 0, 0, 7]])


def test_hand_written_folder_balances(tmp_path: Path) -> None:
    y = np.array([[10.0, 1], [6, 0], [4, 0], [8, -2]])
    economy = read_pymrio_folder(_write(tmp_path / "io", Z, y, F))
    x = Z.sum(axis=1) + y.sum(axis=1)  # no x file: computed as pymrio's calc_x does
    level = material_balance(economy).activity.set_index("technique")["level"]
    np.testing.assert_allclose(level[["r1/a", "r1/b", "r2/a", "r2/b"]], x, rtol=1e-12)
    flows = _net_flows(economy)
    assert flows[("r1/b", "r1/a")] == pytest.approx(-2 / x[1])
    assert flows[("r2/b", "air/co2")] == pytest.approx(-7 / x[3])
    assert ("r1/b", "air/co2") not in flows  # zeros are skipped


def _net_flows(economy: Economy) -> dict[tuple[str, str], float]:
    """Net flows keyed by (technique, item)."""
    m = economy.flow_matrix.tocoo()
    return {(economy.techniques.index[j], economy.items.index[i]): v
            for i, j, v in zip(m.row, m.col, m.data, strict=True)}


def test_negative_final_demand_is_an_error_unless_clipped(tmp_path: Path) -> None:
    y = np.array([[10.0, 1], [6, 0], [4, 0], [8, -9]])  # r2/b: 8 - 9 < 0
    folder = _write(tmp_path / "io", Z, y, F, x=np.array([14.0, 10, -1, 1]))
    with pytest.raises(InvalidInput, match=r"x\.txt.*gross output is negative"):
        read_pymrio_folder(folder)
    folder = _write(tmp_path / "io2", Z, y, F)
    with pytest.raises(InvalidInput, match=r"Y\.txt.*negative for 1 product.*r2/b"):
        read_pymrio_folder(folder)
    economy = read_pymrio_folder(folder, clip_negative=True)
    targets = pd.Series(economy.target_array()[:, 0], index=economy.items.index)
    assert targets[["r1/a", "r1/b", "r2/a", "r2/b"]].tolist() == [11, 6, 4, 0]


def test_zero_output_sector_makes_from_nothing(tmp_path: Path) -> None:
    y = np.array([[10.0, 0], [6, 0], [0, 0], [8, 0]])  # r2/a: no output, no inputs
    economy = read_pymrio_folder(_write(tmp_path / "io", Z, y, F))
    flows = _net_flows(economy)
    assert [k for k in flows if k[0] == "r2/a"] == [("r2/a", "r2/a")]
    assert flows[("r2/a", "r2/a")] == 1.0
    z = Z.copy()
    z[0, 2] = 1.0  # r2/a uses r1/a but makes nothing
    with pytest.raises(InvalidInput, match=r"Z\.txt.*gross output 0.*r2/a"):
        read_pymrio_folder(_write(tmp_path / "io2", z, y - [[1, 0], [0, 0], [0, 0], [0, 0]], F))
    f = F.copy()
    f[0, 2] = 3.0  # r2/a emits but makes nothing
    with pytest.raises(InvalidInput, match=r"air/F\.txt.*gross output 0.*r2/a"):
        read_pymrio_folder(_write(tmp_path / "io3", Z, y, f))


def test_user_mistakes_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="pymrio folder not found"):
        read_pymrio_folder(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InvalidInput, match=r"file_parameters\.json.*not a folder written"):
        read_pymrio_folder(tmp_path / "plain")
    folder = _write(tmp_path / "io", Z, np.ones((4, 2)), F)
    text = (folder / "Y.txt").read_text().replace("\t1\t", "\tlots\t", 1)
    (folder / "Y.txt").write_text(text)
    with pytest.raises(InvalidInput, match=r"Y\.txt.*not a number"):
        read_pymrio_folder(folder)
    folder = _write(tmp_path / "io3", Z, np.ones((4, 2)), F, x=np.ones(4) * 9)
    (folder / "Y.txt").write_text((folder / "Y.txt").read_text().replace("r2\tb\t", "r3\tb\t"))
    with pytest.raises(InvalidInput, match=r"Y\.txt.*rows are not the sectors listed in x\.txt: "
                       r"1 missing, 1 unknown.*r2/b, r3/b"):
        read_pymrio_folder(folder)
    folder = _write(tmp_path / "io2", Z, np.ones((4, 2)), -F)
    with pytest.raises(InvalidInput, match=r"air/F\.txt.*used, not produced"):
        read_pymrio_folder(folder)
    with pytest.raises(CounterplanError, match="expected a pymrio IOSystem"):
        from_pymrio(object())


# -- to_pymrio on counterplan's own economies --------------------------------

def test_to_pymrio_plain_ids_and_periods(make_folder: Any) -> None:
    pytest.importorskip("pymrio")
    economy = read_folder(make_folder())  # bread and grain, periods 1 and 2
    with pytest.raises(CounterplanError, match="choose the period"):
        to_pymrio(economy)
    io = to_pymrio(economy, period="2")
    assert list(io.x.index) == [("mini", "bread"), ("mini", "grain")]
    grain = 0.5 * 110 / 0.9  # grain for 110 bread, 10% of grain used growing it
    np.testing.assert_allclose(io.x["indout"], [110, grain], rtol=1e-12)
    np.testing.assert_allclose(io.A.to_numpy(), [[0, 0], [0.5, 0.1]])
    np.testing.assert_allclose(io.resources.F.loc["labour"], [0.2 * 110, grain])
    assert io.resources.unit.loc["labour", "unit"] == "hours"


def test_to_pymrio_refuses_a_choice_of_techniques(example: Any) -> None:
    pytest.importorskip("pymrio")
    with pytest.raises(NotInputOutput):
        to_pymrio(read_folder(example("kantorovich-1939")))


def test_to_pymrio_without_pymrio(make_folder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymrio", None)
    with pytest.raises(CounterplanError, match="needs pymrio"):
        to_pymrio(read_folder(make_folder()), period="1")
