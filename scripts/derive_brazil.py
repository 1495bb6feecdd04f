#!/usr/bin/env python3
"""Derive the bundled example economy ``brazil-2021`` from IBGE's 2021 tables.

Source: IBGE, Sistema de Contas Nacionais, "Tabela 1 - Recursos de bens e
servicos - 2021" and "Tabela 2 - Usos de bens e servicos - 2021" at the level
of 68 activities x 128 products, current prices, as shipped by the PyPI
package ``iotbr`` (MIT licence). The symmetric industry-by-industry table is
iotbr's own construction (``iotbr.io_system.system``): the use table is moved
from purchasers' to basic prices and stripped of imports following the
method of Guilhoto and Sesso Filho, then made square with the market-share
(industry-technology) assumption, A = D B.

This script is a developer tool, not part of the package; it needs iotbr:

    python3 -m venv /tmp/brvenv
    /tmp/brvenv/bin/pip install iotbr pandas
    /tmp/brvenv/bin/python scripts/derive_brazil.py [--out DIR]

See docs/data-brazil.md for every step and assumption.
"""

from __future__ import annotations

import argparse
import csv
import re
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np

YEAR = "2021"
LEVEL = "68"
DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "counterplan"
    / "examples"
    / "data"
    / "brazil-2021"
)

# IBGE activity code -> stable item/technique id.
SLUGS = {
    "0191": "agriculture",
    "0192": "livestock",
    "0280": "forestry_fishing",
    "0580": "coal_nonmetallic_mining",
    "0680": "oil_gas_extraction",
    "0791": "iron_ore_mining",
    "0792": "nonferrous_ore_mining",
    "1091": "meat_dairy_fish",
    "1092": "sugar",
    "1093": "other_food",
    "1100": "beverages",
    "1200": "tobacco",
    "1300": "textiles",
    "1400": "apparel",
    "1500": "footwear_leather",
    "1600": "wood_products",
    "1700": "pulp_paper",
    "1800": "printing",
    "1991": "petroleum_refining",
    "1992": "biofuels",
    "2091": "basic_chemicals",
    "2092": "pesticides_paints_chemicals",
    "2093": "cleaning_cosmetics",
    "2100": "pharmaceuticals",
    "2200": "rubber_plastics",
    "2300": "nonmetallic_minerals",
    "2491": "iron_steel",
    "2492": "nonferrous_metals_foundry",
    "2500": "metal_products",
    "2600": "electronics",
    "2700": "electrical_equipment",
    "2800": "machinery",
    "2991": "motor_vehicles",
    "2992": "vehicle_parts",
    "3000": "other_transport_equipment",
    "3180": "furniture_misc_manufacturing",
    "3300": "machinery_repair_installation",
    "3500": "electricity_gas",
    "3680": "water_sewage_waste",
    "4180": "construction",
    "4500": "vehicle_trade_repair",
    "4680": "wholesale_retail_trade",
    "4900": "land_transport",
    "5000": "water_transport",
    "5100": "air_transport",
    "5280": "storage_postal",
    "5500": "accommodation",
    "5600": "food_services",
    "5800": "publishing",
    "5980": "broadcasting_audiovisual",
    "6100": "telecommunications",
    "6280": "it_services",
    "6480": "finance_insurance",
    "6800": "real_estate",
    "6980": "legal_accounting_consulting",
    "7180": "architecture_engineering_rd",
    "7380": "other_professional_services",
    "7700": "rental_ip_leasing",
    "7880": "administrative_support",
    "8000": "security_services",
    "8400": "public_administration",
    "8591": "public_education",
    "8592": "private_education",
    "8691": "public_health",
    "8692": "private_health",
    "9080": "arts_entertainment",
    "9480": "associations_personal_services",
    "9700": "domestic_services",
}

DESCRIPTION = (
    "Brazil's economy in 2021: a 68-activity industry-by-industry input-output "
    "table (domestic flows at basic prices, BRL million) with jobs, imported "
    "inputs and taxes on inputs. Derived from IBGE's 2021 supply and use tables "
    "(Sistema de Contas Nacionais); source: IBGE."
)


def f2s(value: float) -> str:
    """Full-precision text for a finite float."""
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"non-finite number {value!r}")
    return repr(value)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def load():
    """Return the symmetric table and its satellite vectors from iotbr."""
    from iotbr import io_system, tru

    sysio = io_system.system(YEAR, LEVEL, "t")
    labels = [str(c) for c in sysio.mZ.columns]
    codes = [c.split("\n", 1)[0].strip() for c in labels]
    names = [re.sub(r"\s+", " ", c.split("\n", 1)[1]).strip() for c in labels]

    Z = np.array(sysio.mZ, dtype=float)  # activity x activity, basic prices, domestic
    Y = np.array(sysio.mY, dtype=float)  # activity x 6 final-demand columns
    y_cols = [str(c) for c in sysio.mY.columns]
    M = sysio.mM_int.to_numpy(dtype=float).ravel()  # imported intermediate inputs per activity
    T = sysio.mT_int.to_numpy(dtype=float).sum(axis=1)  # I_imp + ICMS + IPI + OI_liq_Sub
    va = tru.read_var(YEAR, LEVEL, "VA_table", "t")
    va_cols = [str(c) for c in va.columns]
    x = va["Valor da produção"].to_numpy(dtype=float)
    gva = va["Valor adicionado bruto ( PIB )"].to_numpy(dtype=float)
    jobs_col = next(c for c in va_cols if c.startswith("Fator trabalho"))
    jobs = va[jobs_col].to_numpy(dtype=float)
    make = tru.read_var(YEAR, LEVEL, "P_matrix", "t").to_numpy(dtype=float)
    return dict(
        codes=codes,
        names=names,
        Z=Z,
        Y=Y,
        y_cols=y_cols,
        M=M,
        T=T,
        x=x,
        gva=gva,
        jobs=jobs,
        make=make,
    )


def derive(out: Path) -> dict:
    warnings.simplefilter("ignore")
    d = load()
    codes, names, Z, Y, M, T, x, jobs = (
        d[k] for k in ("codes", "names", "Z", "Y", "M", "T", "x", "jobs")
    )
    n = len(codes)
    assert n == 68 and len(set(codes)) == n, codes
    ids = [SLUGS[c] for c in codes]
    assert len(set(ids)) == n
    assert np.allclose(d["make"].sum(axis=0), x, rtol=0, atol=1e-6)

    # Accounting identities of iotbr's table, before any change.
    row_gap = np.max(np.abs(Z.sum(axis=1) + Y.sum(axis=1) - x) / x)
    col_gap = np.max(np.abs(Z.sum(axis=0) + M + T + d["gva"] - x) / x)

    # IBGE's make table has one negative entry (activity 5600 makes -294 of the
    # trade product); through the market shares it gives three tiny negative
    # domestic flows. Set them to zero and take the same amount off the
    # supplying activity's final demand, so that rows still balance and A >= 0.
    neg = [(int(i), int(j), float(Z[i, j])) for i, j in zip(*np.nonzero(Z < 0), strict=True)]
    f = Y.sum(axis=1)
    f_iotbr = f.copy()
    for i, j, z in neg:
        Z[i, j] = 0.0
        f[i] += z  # z < 0: final demand falls by |z|
    negative_targets = [(ids[i], float(f[i])) for i in np.nonzero(f < 0)[0]]
    # None occur for 2021; if one did, it would be recorded and set to zero.
    f_target = np.where(f < 0, 0.0, f)

    A = Z / x[None, :]
    imp = M / x
    tax = T / x
    lab = jobs / x

    out.mkdir(parents=True, exist_ok=True)
    (out / "economy.toml").write_text(
        'name = "brazil-2021"\n'
        f'description = "{DESCRIPTION}"\n'
        'periods = ["2021"]\n'
        "\n"
        "[objective]\n"
        'kind = "kantorovich"\n',
        encoding="utf-8",
    )
    items = [[ids[k], "product", "BRL million", names[k], ""] for k in range(n)]
    items += [
        ["labour", "resource", "jobs", "Labour: jobs (IBGE 'Fator trabalho (ocupações)')", ""],
        [
            "imports",
            "resource",
            "BRL million",
            "Imported intermediate inputs (c.i.f./f.o.b.-adjusted, excl. import duties)",
            "",
        ],
        [
            "taxes",
            "resource",
            "BRL million",
            "Net taxes on products paid on intermediate use "
            "(import duties, IPI, ICMS, other net of subsidies)",
            "",
        ],
    ]
    write_csv(out / "items.csv", ["id", "kind", "unit", "name", "depreciation"], items)
    write_csv(
        out / "techniques.csv",
        ["id", "name", "unit_id", "min", "max"],
        [[ids[k], names[k], "", "", ""] for k in range(n)],
    )

    flows = []
    for j in range(n):
        flows.append([ids[j], ids[j], f2s(1.0)])
        for i in range(n):
            if A[i, j] != 0.0:
                flows.append([ids[j], ids[i], f2s(-A[i, j])])
        for item, coef in (("imports", imp[j]), ("taxes", tax[j]), ("labour", lab[j])):
            if coef != 0.0:
                flows.append([ids[j], item, f2s(-coef)])
    write_csv(out / "flows.csv", ["technique", "item", "amount"], flows)

    write_csv(
        out / "availability.csv",
        ["item", "period", "amount"],
        [
            ["labour", YEAR, f2s(jobs.sum())],
            ["imports", YEAR, f2s(M.sum())],
            ["taxes", YEAR, f2s(T.sum())],
        ],
    )
    write_csv(
        out / "targets.csv",
        ["item", "period", "amount", "weight"],
        [[ids[k], YEAR, f2s(f_target[k]), "1"] for k in range(n)],
    )

    # Check: the activity levels that deliver the targets are IBGE's outputs.
    x_rep = np.linalg.solve(np.eye(n) - A, f_target)
    report = dict(
        iotbr_version=version("iotbr"),
        products=n,
        flows_rows=len(flows),
        nonzero_A=int(np.count_nonzero(A)),
        gross_output=float(x.sum()),
        final_demand=float(f_target.sum()),
        final_demand_by_column={
            c: float(v) for c, v in zip(d["y_cols"], Y.sum(axis=0), strict=True)
        },
        employment=float(jobs.sum()),
        imports=float(M.sum()),
        taxes=float(T.sum()),
        gva=float(d["gva"].sum()),
        row_identity_gap=float(row_gap),
        column_identity_gap=float(col_gap),
        negative_flows_zeroed=[(ids[i], ids[j], z) for i, j, z in neg],
        final_demand_change={ids[i]: float(f[i] - f_iotbr[i]) for i, _, _ in neg},
        negative_targets=negative_targets,
        max_rel_diff_gross_output=float(np.max(np.abs(x_rep - x) / x)),
        labour_check=float(lab @ x_rep - jobs.sum()),
        spectral_radius_A=float(np.max(np.abs(np.linalg.eigvals(A)))),
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    report = derive(args.out)
    for key, value in report.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
