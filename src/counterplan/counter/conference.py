"""Production conferences: a better norm adopted in one unit, offered to every
other unit whose technique is comparable and worse.

Definitions (docs/counterplans.md, "Production conferences"), on net flows
F (items × techniques; own use netted):

- a technique's *output* is its one item with a positive net flow; a
  technique with several (joint production) has no norms here;
- the *norm* of technique j for input i is n_ij = −F_ij / F_pj, the amount
  of i it uses per unit of its output p (less is better);
- two techniques are *comparable* for (p, i) when both have p as their one
  output and both use i: the same input in the same role;
- a norm n_ik is *worse* than n* when n_ik > n* (1 + RTOL).

A candidate is a technique k of a unit other than the holder's, comparable
to the holder j of an adopted norm and worse.  Matching means: the flow of i
in k becomes −n* F_pk, its output unchanged (a ``norm`` row of
counterplan.csv).  Its *estimated gain* is first order, at the plan's
valuations v: Σ_t v_i(t) (n_ik − n*) F_pk x_k(t); its *exact gain* is the
change of the objective the evaluator finds when the norm is adopted alone
(positive when the plan gets better, for every objective).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from counterplan.counter.evaluate import Evaluator
from counterplan.counter.proposals import Change, CounterPlan
from counterplan.model import Economy
from counterplan.plan.result import Plan

#: Relative margin by which a norm must be worse to be a candidate.
RTOL = 1e-9

NORM_COLUMNS = ["technique", "unit", "product", "input", "norm"]
CANDIDATE_COLUMNS = ["unit", "technique", "product", "input", "norm", "better_norm",
                     "holder_unit", "holder_technique", "source", "value", "estimated_gain",
                     "note"]


@dataclass(frozen=True)
class Adopted:
    """An adopted norm: the flow of ``item`` in ``technique`` as the economy
    now holds it, brought by counter-plan ``source`` with its ``note``."""

    source: str
    technique: str
    item: str
    note: str = ""


def outputs(economy: Economy) -> NDArray[np.int64]:
    """The output item of each technique (code), or −1 where it has none or
    several (net flows)."""
    f = economy.flow_matrix.tocoo()
    positive = f.data > 0
    count = np.bincount(f.col[positive], minlength=economy.n_techniques)
    out = np.full(economy.n_techniques, -1, dtype=np.int64)
    one = positive & (count[f.col] == 1)
    out[f.col[one]] = f.row[one]
    return out


def norm_table(economy: Economy) -> pd.DataFrame:
    """Every norm of the economy: one row per technique with one output and
    each of its inputs (``technique, unit, product, input, norm``, codes in
    ``j, p, i``)."""
    f = economy.flow_matrix.tocoo()
    output = outputs(economy)
    amount_out = np.zeros(economy.n_techniques)
    has = output >= 0
    amount_out[has] = np.asarray(
        economy.flow_matrix[output[has], np.flatnonzero(has)]).reshape(-1)
    keep = (f.data < 0) & (output[f.col] >= 0)
    j, i = f.col[keep], f.row[keep]
    p = output[j]
    items = economy.items.index.to_numpy(dtype=object)
    return pd.DataFrame({
        "technique": economy.techniques.index.to_numpy(dtype=object)[j],
        "unit": economy.techniques["unit_id"].astype(str).to_numpy(dtype=object)[j],
        "product": items[p], "input": items[i], "norm": -f.data[keep] / amount_out[j],
        "j": j, "p": p, "i": i, "output": amount_out[j]})


def best_norms(economy: Economy) -> pd.DataFrame:
    """Per (product, input) made by more than one technique: the best (least)
    norm, who holds it (``holders``: techniques at it, ``holder_units``),
    how many techniques are compared and how many are worse."""
    table = norm_table(economy)
    columns = ["product", "input", "best_norm", "holders", "holder_units", "techniques",
               "worse"]
    key = ["product", "input"]
    table = table[table.groupby(key)["norm"].transform("size") > 1]
    if table.empty:
        return pd.DataFrame(columns=columns)
    table = table.assign(best=table.groupby(key)["norm"].transform("min"))
    table["worse"] = table["norm"] > table["best"] * (1 + RTOL)
    at_best = table[~table["worse"]].sort_values([*key, "technique"])
    grouped = table.groupby(key, sort=True)
    out = pd.DataFrame({
        "best_norm": grouped["best"].first(),
        "holders": at_best.groupby(key)["technique"].agg(", ".join),
        "holder_units": at_best.groupby(key)["unit"].agg(
            lambda units: ", ".join(dict.fromkeys(u for u in units if u))),
        "techniques": grouped.size(), "worse": grouped["worse"].sum().astype(int)})
    return out.reset_index()[columns]


def adopted_norms(plans: list[CounterPlan], economy: Economy) -> list[Adopted]:
    """The norm rows of ``plans`` (the counter-plans a reconciliation adopted)."""
    techniques, items = economy.techniques.index, economy.items.index
    return [Adopted(p.id, str(techniques[c.technique]), str(items[c.item]), p.note)
            for p in plans for c in p.changes if c.kind == "norm"]


def valuation_table(plan: Plan) -> pd.DataFrame:
    """``item, period, valuation`` of every product, resource and stock of a
    solved plan (balance.csv and resources.csv together)."""
    return pd.concat([plan.balance_table()[["item", "period", "valuation"]],
                      plan.resources_table()[["item", "period", "valuation"]]],
                     ignore_index=True)


def candidates(economy: Economy, valuations: pd.DataFrame, activity: pd.DataFrame,
               adopted: list[Adopted]) -> pd.DataFrame:
    """Every technique of another unit comparable to an adopted norm and
    worse, with the norm that would match it and the estimated gain.

    ``valuations`` (item, period, valuation) and ``activity`` (technique,
    period, level) are the solved plan's tables; an adopted norm whose
    technique has no single output, or whose item it neither makes nor uses,
    offers nothing."""
    table = norm_table(economy)
    offers = _offers(economy, table, adopted)
    if offers.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    found = table.merge(offers, on=["p", "i"])
    found = found[(found["unit"] != "") & (found["unit"] != found["holder_unit"])
                  & (found["norm"] > found["better_norm"] * (1 + RTOL))]
    # one row per technique and input: the best of the adopted norms that beat it
    found = found.sort_values(["j", "i", "better_norm", "source"], kind="stable")
    found = found.drop_duplicates(["j", "i"]).reset_index(drop=True)
    found["value"] = _matching_value(economy, found)
    found["estimated_gain"] = _estimate(economy, found, valuations, activity)
    return found[CANDIDATE_COLUMNS].sort_values(
        ["estimated_gain", "unit", "technique", "input"], ascending=[False, True, True, True],
        kind="stable").reset_index(drop=True)


def _offers(economy: Economy, table: pd.DataFrame, adopted: list[Adopted]) -> pd.DataFrame:
    """The (p, i) norms each adopted flow sets: for an input, its norm for the
    technique's output (zero where the norm took the input away); for the
    output, every input's norm."""
    output = outputs(economy)
    parts = []
    for a in adopted:
        if a.technique not in economy.techniques.index or a.item not in economy.items.index:
            continue
        j = int(economy.techniques.index.get_indexer(pd.Index([a.technique]))[0])
        i = int(economy.items.index.get_indexer(pd.Index([a.item]))[0])
        if output[j] < 0:
            continue  # joint production (or nothing made): no norms
        mine = table[table["j"] == j]
        chosen = mine if i == output[j] else mine[mine["i"] == i]
        if chosen.empty and i != output[j] and _listed(economy, j, i):
            unit = str(economy.techniques["unit_id"].iloc[j])
            chosen = pd.DataFrame({"p": [output[j]], "i": [i], "norm": [0.0], "unit": [unit]})
        parts.append(pd.DataFrame({
            "p": chosen["p"], "i": chosen["i"], "better_norm": chosen["norm"],
            "holder_technique": a.technique, "holder_unit": chosen["unit"],
            "source": a.source, "note": a.note}))
    columns = ["p", "i", "better_norm", "holder_technique", "holder_unit", "source", "note"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _listed(economy: Economy, j: int, i: int) -> bool:
    """Does technique j list item i in its flows with a net flow of zero (a
    norm that took the input away)?"""
    f = economy.flows
    rows = (f.technique == j) & (f.item == i)
    return bool(rows.any()) and float(f.amount[rows].sum()) == 0.0


def _matching_value(economy: Economy, found: pd.DataFrame) -> NDArray[np.float64]:
    """The counter-plan ``value`` of each candidate's norm: its input row of i
    becomes this, so that its net flow of i is −n* F_pk (any output row of i
    it has, own use, stays)."""
    f = economy.flows
    positive = f.amount > 0
    own = pd.Series(f.amount[positive]).groupby(
        [f.technique[positive], f.item[positive]]).sum()
    keys = list(zip(found["j"], found["i"], strict=True))
    made = np.array([float(own.get(k, 0.0)) for k in keys]) if len(own) else \
        np.zeros(len(found))
    return -found["better_norm"].to_numpy() * found["output"].to_numpy() - made + 0.0


def _estimate(economy: Economy, found: pd.DataFrame, valuations: pd.DataFrame,
              activity: pd.DataFrame) -> NDArray[np.float64]:
    """Σ_t v_i(t) (n_ik − n*) F_pk x_k(t): the input saved, valued."""
    v = valuations.assign(item=valuations["item"].astype(str),
                          period=valuations["period"].astype(str)).set_index(
        ["item", "period"])["valuation"]
    x = activity.assign(technique=activity["technique"].astype(str),
                        period=activity["period"].astype(str)).set_index(
        ["technique", "period"])["level"]
    saved = ((found["norm"] - found["better_norm"]) * found["output"]).to_numpy(dtype=float)
    inputs = found["input"].astype(str).to_numpy()
    techniques = found["technique"].astype(str).to_numpy()
    out = np.zeros(len(found))
    for t in economy.periods:
        worth = np.array([float(v.get((i, t), 0.0)) for i in inputs])
        level = np.array([float(x.get((j, t), 0.0)) for j in techniques])
        out += saved * worth * level
    return out


def matching_counterplan(economy: Economy, row: pd.Series | dict[str, object],
                         note: str = "") -> CounterPlan:
    """The counter-plan that makes candidate ``row`` match the better norm."""
    j = economy.techniques.index.get_loc(str(row["technique"]))
    i = economy.items.index.get_loc(str(row["input"]))
    change = Change("norm", int(j), int(i), -1, float(row["value"]))  # type: ignore[arg-type]
    return CounterPlan(f"match-{row['technique']}-{row['input']}", str(row["unit"]),
                       (change,), (), note)


def exact_gains(economy: Economy, table: pd.DataFrame, judge: Evaluator | None = None,
                objective: str | None = None) -> NDArray[np.float64]:
    """The exact gain of each candidate: the evaluator's objective with its
    norm adopted alone, minus the plan's, signed so that a better plan gains
    (for min-resource, the cost saved)."""
    judge = judge or Evaluator(economy, objective)
    out = np.zeros(len(table))
    for k in range(len(table)):
        row, _ = judge.judge(matching_counterplan(economy, table.iloc[k]))
        after = float(row["objective_after"])  # type: ignore[arg-type]
        before = float(row["objective_before"])  # type: ignore[arg-type]
        out[k] = (after - before) * judge.lp.sense
    return out


def conference(economy: Economy, plan: Plan, adopted: list[Adopted], exact: bool = False,
               objective: str | None = None) -> pd.DataFrame:
    """The candidates of ``adopted`` norms in ``economy`` (which holds them),
    against its solved ``plan``; with ``exact``, each one's exact gain too."""
    table = candidates(economy, valuation_table(plan), plan.activity_table(), adopted)
    table["exact_gain"] = exact_gains(economy, table, objective=objective or plan.objective) \
        if exact else np.nan
    return table[[*CANDIDATE_COLUMNS[:-1], "exact_gain", "note"]]


__all__ = ["CANDIDATE_COLUMNS", "RTOL", "Adopted", "adopted_norms", "best_norms",
           "candidates", "conference", "exact_gains", "matching_counterplan", "norm_table",
           "outputs", "valuation_table"]
