"""Production conferences: an adopted norm is offered exactly to the
techniques of other units that are comparable and worse (checked against a
brute-force enumeration over the flows, written from the definition), and
the exact gain of each offer is the change of the optimum found by solving
the changed economy from nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from counterplan.counter.conference import (
    Adopted,
    best_norms,
    candidates,
    conference,
    exact_gains,
    valuation_table,
)
from counterplan.model import Economy, Flows
from counterplan.plan import solve
from test_cli import run

from economies import BAKERIES, economy_from

UNITS = ["north", "south", "east", "west"]


def random_economy(seed: int, objective: str = "kantorovich") -> Economy:
    """Three products, each made by two to four techniques of random units
    (some of no unit, one with a by-product), from random inputs and labour."""
    rng = np.random.default_rng(seed)
    products = ["bread", "flour", "grain"]
    rows, techniques = [], []
    for p in products:
        for k in range(int(rng.integers(2, 5))):
            name = f"{p}-{k}"
            unit = "" if rng.random() < 0.15 else str(rng.choice(UNITS))
            techniques.append((name, unit))
            out = float(rng.choice([1.0, 2.0, 0.5]))
            rows.append((name, p, out))
            for q in products:
                if q != p and rng.random() < 0.6:
                    rows.append((name, q, -round(float(rng.uniform(0.05, 0.3)) * out, 3)))
            rows.append((name, "labour", -round(float(rng.uniform(0.1, 1.0)), 3)))
            if rng.random() < 0.3:
                rows.append((name, "machine", -round(float(rng.uniform(0.1, 0.5)), 3)))
    if rng.random() < 0.5:  # joint production: has no norms
        techniques.append(("mixed", str(rng.choice(UNITS))))
        rows += [("mixed", "bread", 1.0), ("mixed", "flour", 0.5), ("mixed", "labour", -0.4)]
    frame = pd.DataFrame(rows, columns=["technique", "item", "amount"])
    return economy_from(
        ["1", "2"],
        items=pd.DataFrame({"id": [*products, "labour", "machine"],
                            "kind": ["product"] * 3 + ["resource"] * 2}),
        techniques=pd.DataFrame({"id": [t for t, _ in techniques],
                                 "unit_id": [u for _, u in techniques]}),
        units=pd.DataFrame({"id": UNITS, "name": UNITS}),
        flows=frame,
        availability=pd.DataFrame([("labour", "1", 100.0), ("labour", "2", 120.0),
                                   ("machine", "1", 8.0), ("machine", "2", 8.0)],
                                  columns=["item", "period", "amount"]),
        targets=pd.DataFrame([(p, t, float(rng.uniform(1, 10))) for p in products
                              for t in ("1", "2")], columns=["item", "period", "amount"]))


def brute_force(economy: Economy, adopted: Adopted) -> dict[tuple[str, str], float]:
    """{(technique, input): better norm} from the definition, over plain
    dictionaries of the flows: techniques of another unit (not none) whose
    one output is the holder's and which use more input per unit of it."""
    net: dict[str, dict[str, float]] = {}
    f = economy.flows
    for j, i, a in zip(f.technique, f.item, f.amount, strict=True):
        t, item = str(economy.techniques.index[j]), str(economy.items.index[i])
        net.setdefault(t, {})[item] = net.setdefault(t, {}).get(item, 0.0) + float(a)
    unit = {str(t): str(u) for t, u in economy.techniques["unit_id"].items()}

    def output(t: str) -> str | None:
        made = [i for i, a in net[t].items() if a > 0]
        return made[0] if len(made) == 1 else None

    holder = adopted.technique
    p = output(holder)
    if p is None:
        return {}
    inputs = [i for i, a in net[holder].items() if a < 0]
    if adopted.item != p:  # an input, or one the norm took away (norm zero)
        inputs = [adopted.item] if net[holder].get(adopted.item, 1.0) <= 0 else []
    found = {}
    for i in inputs:
        best = -net[holder][i] / net[holder][p]
        for t in net:
            if t == holder or unit[t] in ("", unit[holder]) or output(t) != p:
                continue
            if net[t].get(i, 0.0) < 0 and -net[t][i] / net[t][p] > best * (1 + 1e-9):
                found[(t, i)] = best
    return found


@pytest.mark.parametrize("seed", range(12))
def test_offers_go_exactly_to_comparable_worse_techniques_of_other_units(seed: int) -> None:
    economy = random_economy(seed)
    plan = solve(economy)
    rng = np.random.default_rng(seed + 100)
    f = economy.flows
    offered = 0
    for k in rng.choice(len(f), size=6, replace=False):  # inputs and outputs alike
        adopted = Adopted("cp", str(economy.techniques.index[f.technique[k]]),
                          str(economy.items.index[f.item[k]]), "how it was done")
        table = candidates(economy, valuation_table(plan), plan.activity_table(), [adopted])
        got = {(r.technique, r.input): r.better_norm for r in table.itertuples()}
        want = brute_force(economy, adopted)
        assert got.keys() == want.keys(), (adopted, got, want)
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-12)
        assert (table["note"] == "how it was done").all()
        assert (table["holder_technique"] == adopted.technique).all()
        offered += len(table)
    assert offered > 0  # the draw offers something to someone

def changed(economy: Economy, technique: str, item: str, value: float) -> Economy:
    """The economy with the input row of ``item`` in ``technique`` set to
    ``value``, written directly on the flows (not through the library's
    counter-plan code)."""
    f = economy.flows
    j = economy.techniques.index.get_loc(technique)
    i = economy.items.index.get_loc(item)
    amount = f.amount.copy()
    amount[(f.technique == j) & (f.item == i) & (f.amount < 0)] = value
    return replace(economy, flows=Flows(f.technique, f.item, amount))


@pytest.mark.parametrize("seed, objective", [(s, "kantorovich") for s in range(6)]
                         + [(s, "min-resource") for s in range(6, 9)])
def test_exact_gains_are_the_change_of_the_optimum_solved_from_nothing(
        seed: int, objective: str) -> None:
    economy = random_economy(seed)
    if objective == "min-resource":
        economy = replace(economy, objective=replace(economy.objective, kind=objective,
                                                     resources={"labour": 1.0}))
    plan = solve(economy)
    table = pd.concat([candidates(economy, valuation_table(plan), plan.activity_table(),
                                  [Adopted("cp", str(t), "labour")])
                       for t in economy.techniques.index], ignore_index=True)
    table = table.drop_duplicates(["technique", "input"])
    assert len(table) > 0
    gains = exact_gains(economy, table)
    sense = -1.0 if objective == "min-resource" else 1.0
    for row, gain in zip(table.itertuples(), gains, strict=True):
        other = solve(changed(economy, row.technique, row.input, row.value))
        assert gain == pytest.approx(sense * (other.value - plan.value), rel=1e-6, abs=1e-7)
        assert gain >= -1e-7  # less input never makes the plan worse
        # the changed technique has the better norm now
        assert -float(other.economy.flow_matrix[
            other.economy.items.index.get_loc(row.input),
            other.economy.techniques.index.get_loc(row.technique)]) / \
            float(other.economy.flow_matrix[
                other.economy.items.index.get_loc(row.product),
                other.economy.techniques.index.get_loc(row.technique)]) == \
            pytest.approx(row.better_norm, rel=1e-12)


def test_the_estimate_is_the_input_saved_at_the_valuations() -> None:
    economy = bakeries()
    plan = solve(economy)
    table = conference(economy, plan, [Adopted("sieve", "bake-north", "flour", "a sieve")],
                       exact=True)
    east = table.set_index("technique").loc["bake-east"]
    flour = valuation_table(plan).query("item == 'flour'").set_index("period")["valuation"]
    level = plan.activity_table().query("technique == 'bake-east'").set_index("period")["level"]
    # bake-east makes 2 loaves from 1.1 kg of flour; at 0.5 kg a loaf it saves 0.1 kg
    assert east["value"] == pytest.approx(-1.0)
    assert east["estimated_gain"] == pytest.approx(sum(0.1 * flour[t] * level[t]
                                                       for t in ("1", "2")))
    assert east["exact_gain"] > 0
    south = table.set_index("technique").loc["bake-south"]
    level = plan.activity_table().query("technique == 'bake-south'").set_index("period")["level"]
    assert south["estimated_gain"] == pytest.approx(sum(0.3 * flour[t] * level[t]
                                                        for t in ("1", "2")))
    assert "bake-north" not in set(table["technique"])  # the holder itself
    assert "mill" not in set(table["technique"])  # flour is its output, not comparable


def test_an_output_norm_sets_every_input_norm_of_its_technique() -> None:
    economy = changed(bakeries(), "bake-north", "flour", -0.6)
    f = economy.flows
    j = economy.techniques.index.get_loc("bake-north")
    amount = f.amount.copy()
    amount[(f.technique == j) & (f.amount > 0)] = 2.0  # two loaves from the same inputs
    economy = replace(economy, flows=Flows(f.technique, f.item, amount))
    plan = solve(economy)
    table = candidates(economy, valuation_table(plan), plan.activity_table(),
                       [Adopted("oven", "bake-north", "bread")])
    got = {(r.technique, r.input): r.better_norm for r in table.itertuples()}
    assert got == pytest.approx({("bake-south", "flour"): 0.3, ("bake-south", "labour"): 0.14,
                                 ("bake-east", "flour"): 0.3, ("bake-east", "labour"): 0.14})


def test_best_norms_name_their_holders() -> None:
    best = best_norms(bakeries()).set_index(["product", "input"])
    assert best.loc[("bread", "flour"), "best_norm"] == pytest.approx(0.5)
    assert best.loc[("bread", "flour"), "holders"] == "bake-north"
    assert best.loc[("bread", "labour"), "best_norm"] == pytest.approx(0.25)
    # a tie: both hold it
    assert best.loc[("bread", "labour"), "best_norm"] == pytest.approx(0.25)
    assert best.loc[("bread", "labour"), "holders"] == "bake-east, bake-south"
    assert best.loc[("bread", "labour"), "holder_units"] == "east, south"
    assert best.loc[("bread", "labour"), "techniques"] == 3
    assert best.loc[("bread", "labour"), "worse"] == 1
    assert ("flour", "labour") not in best.index  # one mill: nothing to compare




def write_bakeries(folder: Path) -> Path:
    folder.mkdir()
    for name, text in BAKERIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def bakeries() -> Economy:
    import tempfile

    from counterplan.io.folder import read_folder

    with tempfile.TemporaryDirectory() as tmp:
        economy = read_folder(write_bakeries(Path(tmp) / "bake"))
    return changed(economy, "bake-north", "flour", -0.5)


def test_cli_writes_the_candidates_with_exact_gains(tmp_path: Path) -> None:
    write_bakeries(tmp_path / "bake")
    (tmp_path / "adopted.csv").write_text(
        "id,unit_id,kind,technique,item,period,value,note\n"
        "sieve,north,norm,bake-north,flour,,-0.5,a finer sieve\n", encoding="utf-8")
    out = run("conference", tmp_path / "bake", "--adopted", tmp_path / "adopted.csv",
              "--out", tmp_path / "conf", "--exact")
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "conf" / "candidates.csv", keep_default_na=False)
    assert list(table.columns) == ["unit", "technique", "product", "input", "norm",
                                   "better_norm", "holder_unit", "holder_technique", "source",
                                   "value", "estimated_gain", "exact_gain", "note"]
    assert set(table["technique"]) == {"bake-east", "bake-south"}
    economy, plan = bakeries(), solve(bakeries())
    assert np.allclose(table["exact_gain"], exact_gains(economy, table))
    assert "east/bake-east: flour per bread 0.55 -> 0.5 as north/bake-north" in out.stdout
    assert (tmp_path / "conf" / "best-norms.csv").is_file()
    assert plan.value > 0


def test_cli_refuses_a_file_without_norms_and_names_bad_rows(tmp_path: Path) -> None:
    write_bakeries(tmp_path / "bake")
    (tmp_path / "pledge.csv").write_text(
        "id,unit_id,kind,technique,item,period,value,note\n"
        "more,north,pledge,bake-north,,,5,\n", encoding="utf-8")
    out = run("conference", tmp_path / "bake", "--adopted", tmp_path / "pledge.csv",
              "--out", tmp_path / "conf")
    assert out.returncode == 1
    assert "pledge.csv: error: has no norm rows" in out.stderr
    assert not (tmp_path / "conf").exists()
    (tmp_path / "bad.csv").write_text(
        "id,unit_id,kind,technique,item,period,value,note\n"
        "x,north,norm,bake-north,flour,,-zero,\n", encoding="utf-8")
    out = run("conference", tmp_path / "bake", "--adopted", tmp_path / "bad.csv",
              "--out", tmp_path / "conf")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "bad.csv:2" in out.stderr and "-zero" in out.stderr


def test_the_help_page_reads_like_the_other_commands() -> None:
    import test_cli

    test_cli.test_every_help_page_reads_like_a_researchers_tool(["conference"])
    out = run("conference", "--help")
    assert "--adopted COUNTERPLANS" in out.stdout and "--exact" in out.stdout


@pytest.mark.parametrize("seed", range(4))
def test_best_norms_are_the_least_of_the_comparable_norms(seed: int) -> None:
    economy = random_economy(seed)
    norms: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for t in economy.techniques.index:  # brute force: every norm, from the definition
        column = economy.flow_matrix[:, economy.techniques.index.get_loc(t)].toarray().ravel()
        made = np.flatnonzero(column > 0)
        if len(made) != 1:
            continue
        p = made[0]
        for i in np.flatnonzero(column < 0):
            key = (str(economy.items.index[p]), str(economy.items.index[i]))
            norms.setdefault(key, []).append((-column[i] / column[p], str(t)))
    want = {k: v for k, v in norms.items() if len(v) > 1}
    best = best_norms(economy).set_index(["product", "input"])
    assert set(best.index) == set(want)
    for key, found in want.items():
        least = min(n for n, _ in found)
        assert best.loc[key, "best_norm"] == pytest.approx(least, rel=1e-12)
        assert best.loc[key, "holders"] == ", ".join(sorted(
            t for n, t in found if n <= least * (1 + 1e-9)))
        assert best.loc[key, "techniques"] == len(found)
        assert best.loc[key, "worse"] == sum(n > least * (1 + 1e-9) for n, _ in found)


def test_a_norm_that_takes_an_input_away_offers_zero() -> None:
    economy = changed(bakeries(), "bake-north", "flour", 0.0)  # bread from no flour at all
    plan = solve(economy)
    table = candidates(economy, valuation_table(plan), plan.activity_table(),
                       [Adopted("magic", "bake-north", "flour")])
    assert set(table["technique"]) == {"bake-south", "bake-east"}
    assert (table["better_norm"] == 0).all() and (table["value"] == 0).all()
    assert brute_force(economy, Adopted("magic", "bake-north", "flour")) == {
        ("bake-south", "flour"): 0.0, ("bake-east", "flour"): 0.0}
    gains = exact_gains(economy, table)
    for row, gain in zip(table.itertuples(), gains, strict=True):
        other = solve(changed(economy, row.technique, "flour", 0.0))
        assert gain == pytest.approx(other.value - plan.value, rel=1e-6)
