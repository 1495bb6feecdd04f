"""Economies the tests share: the minimal plan folder, economies built from
tables, Kantorovich-style machine economies, and the hypothesis strategy of
productive input-output economies."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from counterplan.model import Economy

MINIMAL = {
    "economy.toml": 'name = "mini"\nperiods = ["1", "2"]\n',
    "items.csv": "id,kind,unit,name,depreciation\n"
                 "bread,product,loaves,bread,\n"
                 "grain,product,t,grain,\n"
                 "labour,resource,hours,labour,\n"
                 "oven,stock,ovens,ovens,0.1\n",
    "techniques.csv": "id,name,unit_id,min,max\n"
                      "bakery,bakery,bakers,,\n"
                      "farm,farm,,,\n",
    "units.csv": "id,name\nbakers,the bakers' cooperative\n",
    "flows.csv": "technique,item,amount\n"
                 "bakery,bread,1\n"
                 "bakery,grain,-0.5\n"
                 "bakery,labour,-0.2\n"
                 "bakery,oven,-0.01\n"
                 "farm,grain,1\n"
                 "farm,grain,-0.1\n"
                 "farm,labour,-1\n",
    "availability.csv": "item,period,amount\n"
                        "labour,1,1000\n"
                        "labour,2,1000\n"
                        "oven,1,5\n",
    "targets.csv": "item,period,amount,weight\n"
                   "bread,1,100,1\n"
                   "bread,2,110,1\n",
}


def economy_from(periods: list[str], **tables: pd.DataFrame | None) -> Economy:
    """Build an economy from data frames shaped like the plan folder's tables
    (through the same validation as a folder)."""
    from counterplan.io.assemble import assemble
    from counterplan.io.problems import RawTable

    raw = {}
    for name in ("items", "techniques", "flows", "availability", "targets", "units"):
        frame = tables.get(name)
        raw[name] = RawTable(f"{name}.csv", frame,
                             np.arange(0 if frame is None else len(frame)) + 2)
    economy, problems = assemble({"periods": periods}, raw)
    problems.raise_if_errors()
    assert economy is not None
    return economy


def machine_economy(rates: list[list[float]], machines: list[float]) -> Economy:
    """Kantorovich's machine problem: rates[k][m] pieces of part k per day on
    machine type m, machines[m] machines; one of each part per complete set."""
    n_parts, n_types = len(rates), len(machines)
    parts = [f"part-{k + 1}" for k in range(n_parts)]
    types = [f"machine-{m + 1}" for m in range(n_types)]
    techniques = [f"{t}-{p}" for p in parts for t in types]
    flows = pd.DataFrame({
        "technique": techniques * 2,
        "item": [p for p in parts for _ in types] + [t for _ in parts for t in types],
        "amount": [float(r) for row in rates for r in row] + [-1.0] * len(techniques),
    })
    flows = flows[flows["amount"] != 0]
    return economy_from(
        ["1"],
        items=pd.DataFrame({"id": parts + types,
                            "kind": ["product"] * n_parts + ["resource"] * n_types}),
        techniques=pd.DataFrame({"id": techniques}),
        flows=flows,
        availability=pd.DataFrame({"item": types, "period": "1", "amount": machines}),
        targets=pd.DataFrame({"item": parts, "period": "1", "amount": 1.0}),
    )


@st.composite
def io_economies(draw: st.DrawFn) -> Economy:
    """Input-output economies (one single-output technique per product) with
    one to three resources and one to three periods."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, n_r, n_t = draw(st.integers(1, 8)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    a *= rng.uniform(0, 0.9, n) / np.maximum(a.sum(axis=0), 1e-12)
    products, resources = [f"p{i}" for i in range(n)], [f"r{k}" for k in range(n_r)]
    periods = [str(t + 1) for t in range(n_t)]
    rows = [(p, p, 1.0) for p in products]
    rows += [(products[j], products[i], -a[i, j]) for i, j in zip(*np.nonzero(a), strict=True)]
    rows += [(p, r, -float(rng.uniform(0.1, 1))) for p in products for r in resources]
    return economy_from(
        periods,
        items=pd.DataFrame({"id": products + resources,
                            "kind": ["product"] * n + ["resource"] * n_r}),
        techniques=pd.DataFrame({"id": products}),
        flows=pd.DataFrame(rows, columns=["technique", "item", "amount"]),
        availability=pd.DataFrame([(r, t, float(rng.uniform(10, 100))) for r in resources
                                   for t in periods], columns=["item", "period", "amount"]),
        targets=pd.DataFrame([(p, t, float(rng.uniform(0.1, 5))) for p in products
                              for t in periods], columns=["item", "period", "amount"]))


#: Three bakeries and a mill (tests/test_conference.py, the web's conference tests).
BAKERIES = {
    "economy.toml": 'name = "bakeries"\nperiods = ["1", "2"]\n',
    "items.csv": "id,kind,unit,name,depreciation\nbread,product,loaves,bread,\n"
                 "flour,product,kg,flour,\nlabour,resource,hours,labour,\n",
    "techniques.csv": "id,name,unit_id,min,max\nbake-north,,north,,30\nbake-south,,south,,\n"
                      "bake-east,,east,,20\nmill,,mill,,\n",
    "units.csv": "id,name\nnorth,north bakery\nsouth,south bakery\neast,east bakery\n"
                 "mill,the mill\n",
    "flows.csv": "technique,item,amount\nbake-north,bread,1\nbake-north,flour,-0.6\n"
                 "bake-north,labour,-0.28\nbake-south,bread,1\nbake-south,flour,-0.8\n"
                 "bake-south,labour,-0.25\nbake-east,bread,2\nbake-east,flour,-1.1\n"
                 "bake-east,labour,-0.5\nmill,flour,1\nmill,labour,-0.2\n",
    "availability.csv": "item,period,amount\nlabour,1,100\nlabour,2,110\n",
    "targets.csv": "item,period,amount,weight\nbread,1,10,1\nbread,2,10,1\n",
}
