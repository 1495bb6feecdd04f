#!/usr/bin/env python3
"""Derive the bundled example economy ``brazil-five-year`` (periods 2026-2030).

It extends ``brazil-2021`` (68 activities, IBGE's 2021 supply and use tables,
see scripts/derive_brazil.py and docs/data-brazil.md) into a five-period plan
with investment:

- the 68 products and activity techniques of ``brazil-2021`` with the same ids
  and coefficients, less the ``taxes`` resource, each activity needing
  ``kappa_j`` of its own capacity stock ``capital/<id>`` per unit of activity;
- one investment technique ``invest/<id>`` per activity that makes one unit of
  that capacity from products (and imports) in the proportions of Brazil's
  2021 gross fixed capital formation (IBGE, via iotbr);
- targets: the 2021 final demand without gross fixed capital formation, grown
  3 % a year; labour and imports available per period, grown from 2021.

Every assumption is a named constant below and is documented in
docs/data-brazil-five-year.md. The script is a developer tool, not part of the
package; it needs iotbr (and scipy, optionally, for the LP check):

    python3 -m venv /tmp/brvenv
    /tmp/brvenv/bin/pip install iotbr pandas scipy
    /tmp/brvenv/bin/python scripts/derive_brazil_five_year.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import re
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "counterplan" / "examples" / "data"
SOURCE = EXAMPLES / "brazil-2021"
DEFAULT_OUT = EXAMPLES / "brazil-five-year"

BASE_YEAR = 2021
PERIODS = [2026, 2027, 2028, 2029, 2030]
TARGET_GROWTH = 0.03  # final demand (without GFCF), a year from 2021
LABOUR_GROWTH = 0.01  # jobs available, a year from 2021
IMPORTS_GROWTH = 0.03  # imports available, a year from 2021
CAPACITY_GROWTH = 0.03  # growth of capacity 2021 -> 2026 behind the starting levels
SPARE = 0.02  # spare capacity on top of that
DEPRECIATION = 0.05  # share of each capacity stock lost each period
STOCK_UNIT = "BRL million of capacity"

# Capital-output ratio kappa_j: BRL million of capacity needed per BRL million
# of gross output a year. An assumption (no capital-stock data are used): 1.0
# for every activity except the capital-intensive groups below.
KAPPA_DEFAULT = 1.0
KAPPA = {
    "real_estate": 3.0,  # dwellings and other buildings behind (imputed) rents
    "electricity_gas": 2.5,  # plants, grids, pipelines
    "water_sewage_waste": 2.5,  # networks, treatment plants, landfills
    "oil_gas_extraction": 2.0,  # platforms, wells
    "iron_ore_mining": 2.0,
    "nonferrous_ore_mining": 2.0,
    "coal_nonmetallic_mining": 2.0,
    "telecommunications": 1.5,  # networks
    "land_transport": 1.5,  # vehicles, rolling stock, terminals
    "water_transport": 1.5,  # ships, ports
    "air_transport": 1.5,  # aircraft
    "storage_postal": 1.5,  # warehouses, terminals
}

# Workplace units and the activities they run.
UNITS = {
    "agro": (
        "Agriculture, livestock, forestry and fishing",
        ["agriculture", "livestock", "forestry_fishing"],
    ),
    "mining": (
        "Mining, oil and gas extraction",
        [
            "coal_nonmetallic_mining",
            "oil_gas_extraction",
            "iron_ore_mining",
            "nonferrous_ore_mining",
        ],
    ),
    "food": (
        "Food, beverages and tobacco",
        ["meat_dairy_fish", "sugar", "other_food", "beverages", "tobacco"],
    ),
    "manufacturing-light": (
        "Light manufacturing: textiles, apparel, wood, paper, printing, "
        "cosmetics, pharmaceuticals, plastics, furniture",
        [
            "textiles",
            "apparel",
            "footwear_leather",
            "wood_products",
            "pulp_paper",
            "printing",
            "cleaning_cosmetics",
            "pharmaceuticals",
            "rubber_plastics",
            "furniture_misc_manufacturing",
        ],
    ),
    "manufacturing-heavy": (
        "Heavy manufacturing: fuels, chemicals, minerals, metals, machinery, electronics, vehicles",
        [
            "petroleum_refining",
            "biofuels",
            "basic_chemicals",
            "pesticides_paints_chemicals",
            "nonmetallic_minerals",
            "iron_steel",
            "nonferrous_metals_foundry",
            "metal_products",
            "electronics",
            "electrical_equipment",
            "machinery",
            "motor_vehicles",
            "vehicle_parts",
            "other_transport_equipment",
            "machinery_repair_installation",
        ],
    ),
    "energy": (
        "Energy, water and waste utilities",
        ["electricity_gas", "water_sewage_waste"],
    ),
    "construction": ("Construction", ["construction"]),
    "trade": (
        "Wholesale, retail and vehicle trade",
        ["vehicle_trade_repair", "wholesale_retail_trade"],
    ),
    "transport": (
        "Transport, storage and post",
        ["land_transport", "water_transport", "air_transport", "storage_postal"],
    ),
    "services": (
        "Information, finance, real estate and business services",
        [
            "publishing",
            "broadcasting_audiovisual",
            "telecommunications",
            "it_services",
            "finance_insurance",
            "real_estate",
            "legal_accounting_consulting",
            "architecture_engineering_rd",
            "other_professional_services",
            "rental_ip_leasing",
            "administrative_support",
            "security_services",
        ],
    ),
    "personal-services": (
        "Hospitality, private education and health, culture, personal and domestic services",
        [
            "accommodation",
            "food_services",
            "private_education",
            "private_health",
            "arts_entertainment",
            "associations_personal_services",
            "domestic_services",
        ],
    ),
    "public": (
        "Public administration, education and health",
        ["public_administration", "public_education", "public_health"],
    ),
}

DESCRIPTION = (
    "Brazil over five years, 2026-2030: the 68 activities of IBGE's 2021 "
    "input-output table (domestic flows at basic prices, BRL million) with jobs "
    "and imports, one capacity stock per activity (capital-output ratios and 5 % "
    "depreciation assumed) and investment techniques shaped like 2021's gross "
    "fixed capital formation. Targets are 2021 final demand without investment, "
    "grown 3 % a year; labour grows 1 % and imports 3 % a year. Derived from IBGE's "
    "2021 supply and use tables (Sistema de Contas Nacionais); source: IBGE."
)


def f2s(value: float) -> str:
    """Full-precision text for a finite float."""
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"non-finite number {value!r}")
    return repr(value)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def read_source(folder: Path) -> dict:
    """The products, activity flows and 2021 targets of ``brazil-2021``."""
    items = read_csv(folder / "items.csv")
    products = [r for r in items if r["kind"] == "product"]
    ids = [r["id"] for r in products]
    names = [r["name"] for r in products]
    resources = {r["id"]: r for r in items if r["kind"] == "resource"}
    flows: dict[str, list[tuple[str, float]]] = {k: [] for k in ids}
    for r in read_csv(folder / "flows.csv"):
        flows[r["technique"]].append((r["item"], float(r["amount"])))
    target = {r["item"]: float(r["amount"]) for r in read_csv(folder / "targets.csv")}
    n = len(ids)
    index = {k: i for i, k in enumerate(ids)}
    A = np.zeros((n, n))
    lab = np.zeros(n)
    imp = np.zeros(n)
    for j, tech in enumerate(ids):
        for item, amount in flows[tech]:
            if item in index:
                if not (item == tech and amount > 0):
                    A[index[item], j] -= amount
            elif item == "labour":
                lab[j] = -amount
            elif item == "imports":
                imp[j] = -amount
    return dict(
        ids=ids,
        names=names,
        resources=resources,
        flows=flows,
        f2021=np.array([target[k] for k in ids]),
        A=A,
        lab=lab,
        imp=imp,
    )


def read_iotbr() -> dict:
    """The 2021 table from iotbr: output, jobs, imports, final-demand columns."""
    from iotbr import io_system, tru

    sysio = io_system.system(str(BASE_YEAR), "68", "t")
    labels = [str(c) for c in sysio.mZ.columns]
    names = [re.sub(r"\s+", " ", c.split("\n", 1)[1]).strip() for c in labels]
    y_cols = [str(c) for c in sysio.mY.columns]
    assert y_cols == ["X_bens_serv", "C_g", "C_ong", "C_f", "FBKF", "DE"], y_cols
    Y = np.array(sysio.mY, dtype=float)
    m_final = sysio.mM_final.to_numpy(dtype=float).ravel()
    va = tru.read_var(str(BASE_YEAR), "68", "VA_table", "t")
    x = va["Valor da produção"].to_numpy(dtype=float)
    jobs_col = next(c for c in va.columns if str(c).startswith("Fator trabalho"))
    return dict(
        names=names,
        Y=Y,
        y_cols=y_cols,
        gfcf=Y[:, y_cols.index("FBKF")],
        gfcf_imports=float(m_final[y_cols.index("FBKF")]),
        final_imports=dict(zip(y_cols, (float(v) for v in m_final), strict=True)),
        Z=np.array(sysio.mZ, dtype=float),
        M=sysio.mM_int.to_numpy(dtype=float).ravel(),
        x=x,
        jobs=va[jobs_col].to_numpy(dtype=float),
    )


def growth(rate: float, year: int) -> float:
    return (1.0 + rate) ** (year - BASE_YEAR)


def derive(out: Path, source: Path) -> dict:
    warnings.simplefilter("ignore")
    s = read_source(source)
    d = read_iotbr()
    ids, names, A, lab, imp = (s[k] for k in ("ids", "names", "A", "lab", "imp"))
    n = len(ids)
    assert n == 68 and names == d["names"], "brazil-2021 and iotbr disagree on activities"
    x, jobs, M = d["x"], d["jobs"], d["M"]
    # brazil-2021's coefficients are iotbr's table (up to its three zeroed flows).
    assert np.allclose(A * x[None, :], np.maximum(d["Z"], 0.0), rtol=1e-12, atol=1e-9)
    assert np.allclose(lab * x, jobs, rtol=1e-12) and np.allclose(imp * x, M, rtol=1e-12)
    assert np.allclose(np.linalg.solve(np.eye(n) - A, s["f2021"]), x, rtol=1e-12)

    unit_of = {a: u for u, (_, acts) in UNITS.items() for a in acts}
    assert sorted(unit_of) == sorted(ids), set(ids) ^ set(unit_of)
    assert set(KAPPA) <= set(ids)
    kappa = np.array([KAPPA.get(k, KAPPA_DEFAULT) for k in ids])

    # Targets: brazil-2021's 2021 final demand (which includes its -2.67
    # correction on food_services) less gross fixed capital formation.
    G = d["gfcf"]
    f_nogfcf = s["f2021"] - G
    adjust = s["f2021"] - d["Y"].sum(axis=1)  # brazil-2021's correction
    other_cols = np.delete(d["Y"], d["y_cols"].index("FBKF"), axis=1).sum(axis=1)
    assert np.allclose(f_nogfcf, other_cols + adjust, rtol=0, atol=1e-6)
    clipped_targets = {ids[i]: float(f_nogfcf[i]) for i in np.nonzero(f_nogfcf < 0)[0]}
    f_base = np.where(f_nogfcf < 0, 0.0, f_nogfcf)

    # Investment: one unit of capacity costs 1 BRL million of inputs in the
    # proportions of 2021 GFCF: domestic products at basic prices plus imports.
    skipped_gfcf = {ids[i]: float(G[i]) for i in np.nonzero(G <= 0)[0]}
    G_pos = np.where(G > 0, G, 0.0)
    gfcf_total = G_pos.sum() + d["gfcf_imports"]
    c_inv = G_pos / gfcf_total
    c_inv_imports = d["gfcf_imports"] / gfcf_total
    assert abs(c_inv.sum() + c_inv_imports - 1.0) < 1e-12

    start_level = kappa * x * (1.0 + CAPACITY_GROWTH) ** (PERIODS[0] - BASE_YEAR) * (1.0 + SPARE)
    labour_avail = {t: jobs.sum() * growth(LABOUR_GROWTH, t) for t in PERIODS}
    imports_avail = {t: (M.sum() + d["gfcf_imports"]) * growth(IMPORTS_GROWTH, t) for t in PERIODS}
    targets = {t: f_base * growth(TARGET_GROWTH, t) for t in PERIODS}

    # ---- write the folder -------------------------------------------------
    out.mkdir(parents=True, exist_ok=True)
    periods_toml = ", ".join(f'"{t}"' for t in PERIODS)
    (out / "economy.toml").write_text(
        'name = "brazil-five-year"\n'
        f'description = "{DESCRIPTION}"\n'
        f"periods = [{periods_toml}]\n"
        "\n"
        "[objective]\n"
        'kind = "kantorovich"\n',
        encoding="utf-8",
    )
    res = s["resources"]
    items = [[ids[k], "product", "BRL million", names[k], ""] for k in range(n)]
    items += [[r, "resource", res[r]["unit"], res[r]["name"], ""] for r in ("labour",)]
    items.append(
        [
            "imports",
            "resource",
            "BRL million",
            "Imports for intermediate use and for investment "
            "(c.i.f./f.o.b.-adjusted, excl. import duties)",
            "",
        ]
    )
    items += [
        [
            f"capital/{ids[k]}",
            "stock",
            STOCK_UNIT,
            f"Productive capacity: {names[k]}",
            f2s(DEPRECIATION),
        ]
        for k in range(n)
    ]
    write_csv(out / "items.csv", ["id", "kind", "unit", "name", "depreciation"], items)

    techniques = [[ids[k], names[k], unit_of[ids[k]], "", ""] for k in range(n)]
    techniques += [
        [f"invest/{ids[k]}", f"Investment in capacity: {names[k]}", "", "", ""] for k in range(n)
    ]
    write_csv(out / "techniques.csv", ["id", "name", "unit_id", "min", "max"], techniques)

    flows = []
    dropped_tax_rows = 0
    for j in range(n):
        for item, amount in s["flows"][ids[j]]:
            if item == "taxes":
                dropped_tax_rows += 1
                continue
            flows.append([ids[j], item, f2s(amount)])
        flows.append([ids[j], f"capital/{ids[j]}", f2s(-kappa[j])])
    for j in range(n):
        tech = f"invest/{ids[j]}"
        flows.append([tech, f"capital/{ids[j]}", f2s(1.0)])
        for i in range(n):
            if c_inv[i] != 0.0:
                flows.append([tech, ids[i], f2s(-c_inv[i])])
        if c_inv_imports != 0.0:
            flows.append([tech, "imports", f2s(-c_inv_imports)])
    write_csv(out / "flows.csv", ["technique", "item", "amount"], flows)

    avail = [["labour", str(t), f2s(labour_avail[t])] for t in PERIODS]
    avail += [["imports", str(t), f2s(imports_avail[t])] for t in PERIODS]
    avail += [[f"capital/{ids[k]}", str(PERIODS[0]), f2s(start_level[k])] for k in range(n)]
    write_csv(out / "availability.csv", ["item", "period", "amount"], avail)
    write_csv(
        out / "targets.csv",
        ["item", "period", "amount", "weight"],
        [[ids[k], str(t), f2s(targets[t][k]), "1"] for t in PERIODS for k in range(n)],
    )
    write_csv(out / "units.csv", ["id", "name"], [[u, nm] for u, (nm, _) in UNITS.items()])

    # ---- checks -------------------------------------------------------------
    L = np.eye(n) - A
    static = []
    for k, t in enumerate(PERIODS):
        xt = np.linalg.solve(L, targets[t])
        level = start_level * (1.0 - DEPRECIATION) ** k  # no investment
        use = kappa * xt
        short = use > level
        static.append(
            dict(
                period=t,
                gross_output=float(xt.sum()),
                capacity_used=float(use.sum()),
                capacity_level_no_investment=float(level.sum()),
                max_utilisation=float(np.max(use / level)),
                max_utilisation_activity=ids[int(np.argmax(use / level))],
                activities_short=int(short.sum()),
                capacity_shortfall=float((use - level)[short].sum()),
                labour_used=float(lab @ xt),
                labour_available=float(labour_avail[t]),
                imports_used=float(imp @ xt),
                imports_available=float(imports_avail[t]),
            )
        )
    # 2026 at 1.03^5 x 2021 gross output (i.e. with 2021's share of investment).
    x_full = x * (1.0 + CAPACITY_GROWTH) ** (PERIODS[0] - BASE_YEAR)
    full_2026 = dict(
        max_utilisation=float(np.max(kappa * x_full / start_level)),
        labour_used=float(lab @ x_full),
        imports_used=float(imp @ x_full + d["gfcf_imports"] * growth(TARGET_GROWTH, PERIODS[0])),
    )
    capital_2021 = float(kappa @ x)
    report = dict(
        iotbr_version=version("iotbr"),
        products=n,
        stocks=n,
        techniques=2 * n,
        units=len(UNITS),
        flows_rows=len(flows),
        tax_rows_dropped=dropped_tax_rows,
        investment_inputs=int(np.count_nonzero(c_inv)) + (1 if c_inv_imports else 0),
        gfcf_domestic=float(G.sum()),
        gfcf_domestic_positive=float(G_pos.sum()),
        gfcf_imports=d["gfcf_imports"],
        gfcf_skipped=skipped_gfcf,
        investment_imports_share=float(c_inv_imports),
        investment_top_inputs=sorted(
            ((ids[i], round(float(c_inv[i]), 4)) for i in range(n)), key=lambda p: -p[1]
        )[:6],
        final_imports_2021=d["final_imports"],
        targets_clipped=clipped_targets,
        final_demand_2021_without_gfcf=float(f_base.sum()),
        intermediate_imports_2021=float(M.sum()),
        jobs_2021=float(jobs.sum()),
        capital_2021=capital_2021,
        mean_kappa=capital_2021 / float(x.sum()),
        steady_investment_2021=(DEPRECIATION + TARGET_GROWTH) * capital_2021,
        gfcf_total_2021=float(gfcf_total),
        start_capacity_2026=float(start_level.sum()),
        full_2026=full_2026,
        static=static,
    )
    report["lp"] = lp_check(
        A, lab, imp, kappa, c_inv, c_inv_imports, start_level, targets, labour_avail, imports_avail
    )
    return report


def lp_check(A, lab, imp, kappa, c_inv, c_inv_imports, start_level, targets, labour, imports):
    """Solve the Kantorovich plan with scipy's HiGHS, if scipy is installed.

    Variables per period t: activity x(t) (n), investment v(t) (n), lambda_t.
    Rows per period: products -(I - A) x + c 1'v + lambda g <= 0; labour and
    imports <= availability; stocks kappa x(t) - sum_{s<t} keep^(t-1-s) v(s)
    <= keep^t K0, with keep = 1 - depreciation. Maximise sum_t lambda_t.
    """
    try:
        from scipy.optimize import linprog
    except ImportError:
        return "skipped (scipy not installed)"
    n, T = len(kappa), len(PERIODS)
    keep = 1.0 - DEPRECIATION
    width = 2 * n + 1
    col_x = [t * width for t in range(T)]
    col_v = [t * width + n for t in range(T)]
    col_l = [t * width + 2 * n for t in range(T)]
    rows_per = 2 * n + 2
    A_ub = np.zeros((T * rows_per, T * width))
    b_ub = np.zeros(T * rows_per)
    for t, year in enumerate(PERIODS):
        r = t * rows_per
        A_ub[r : r + n, col_x[t] : col_x[t] + n] = A - np.eye(n)
        A_ub[r : r + n, col_v[t] : col_v[t] + n] = c_inv[:, None]
        A_ub[r : r + n, col_l[t]] = targets[year]
        A_ub[r + n, col_x[t] : col_x[t] + n] = lab
        b_ub[r + n] = labour[year]
        A_ub[r + n + 1, col_x[t] : col_x[t] + n] = imp
        A_ub[r + n + 1, col_v[t] : col_v[t] + n] = c_inv_imports
        b_ub[r + n + 1] = imports[year]
        rs = r + n + 2
        A_ub[rs : rs + n, col_x[t] : col_x[t] + n] = np.diag(kappa)
        for s_ in range(t):
            A_ub[rs : rs + n, col_v[s_] : col_v[s_] + n] = -np.eye(n) * keep ** (t - 1 - s_)
        b_ub[rs : rs + n] = start_level * keep**t
    cost = np.zeros(T * width)
    cost[col_l] = -1.0
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        return f"LP status {res.status}: {res.message}"
    per = []
    for t, year in enumerate(PERIODS):
        xt = res.x[col_x[t] : col_x[t] + n]
        vt = res.x[col_v[t] : col_v[t] + n]
        level = start_level * keep**t + sum(
            keep ** (t - 1 - s_) * res.x[col_v[s_] : col_v[s_] + n] for s_ in range(t)
        )
        per.append(
            dict(
                period=year,
                lam=round(float(res.x[col_l[t]]), 4),
                investment=round(float(vt.sum()), 1),
                labour_used_share=round(float(lab @ xt / labour[year]), 4),
                imports_used_share=round(
                    float((imp @ xt + c_inv_imports * vt.sum()) / imports[year]), 4
                ),
                stocks_at_capacity=int(np.sum(kappa * xt > level * (1 - 1e-7))),
            )
        )
    # The largest lambda common to all periods: lambda_t = lambda_2026 for all t.
    A_eq = np.zeros((T - 1, T * width))
    for t in range(1, T):
        A_eq[t - 1, col_l[0]], A_eq[t - 1, col_l[t]] = 1.0, -1.0
    res_c = linprog(
        cost,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=np.zeros(T - 1),
        bounds=(0, None),
        method="highs",
    )
    return dict(
        sum_lambda=round(-float(res.fun), 4),
        per_period=per,
        common_lambda=round(float(res_c.x[col_l[0]]), 4) if res_c.status == 0 else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the brazil-2021 folder")
    args = parser.parse_args()
    report = derive(args.out, args.source)
    for key, value in report.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{key}:")
            for entry in value:
                print(f"  {entry}")
        elif isinstance(value, dict) and "per_period" in value:
            print(f"{key}: sum_lambda={value['sum_lambda']} common_lambda={value['common_lambda']}")
            for entry in value["per_period"]:
                print(f"  {entry}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
