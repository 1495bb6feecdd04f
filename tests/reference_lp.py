"""The plan LP rebuilt from docs/format.md and docs/notation.md alone: it reads
the plan folder's CSV files with pandas and assembles the equations of the
docs with scipy.sparse, sharing no code with counterplan, and solves them with
scipy.optimize.linprog.  The tests compare counterplan against it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import strategies as st
from scipy.optimize import linprog

INF = np.inf


@dataclass
class Folder:
    """A plan folder as the docs describe it, read with pandas."""

    periods: list[str]
    kind: str
    period_weights: dict[str, float]
    resources: dict[str, float]
    items: pd.DataFrame  # index id: kind, depreciation
    techniques: pd.DataFrame  # index id: min, max
    flows: pd.DataFrame  # technique, item, amount
    availability: pd.DataFrame  # item, period, amount
    targets: pd.DataFrame  # item, period, amount, weight

    @staticmethod
    def read(path: Path) -> Folder:
        manifest = tomllib.loads((path / "economy.toml").read_text(encoding="utf-8"))
        objective = manifest.get("objective", {})
        items = pd.read_csv(path / "items.csv", dtype={"id": str}).set_index("id")
        items["depreciation"] = items.get("depreciation", pd.Series(dtype=float)) \
            .astype(float).fillna(0.0) if "depreciation" in items else 0.0
        techniques = pd.read_csv(path / "techniques.csv", dtype={"id": str}).set_index("id")
        for column, empty in (("min", 0.0), ("max", INF)):
            techniques[column] = techniques[column].astype(float).fillna(empty) \
                if column in techniques else empty
        targets = pd.read_csv(path / "targets.csv", dtype={"item": str, "period": str})
        targets["weight"] = targets["weight"].astype(float).fillna(1.0) \
            if "weight" in targets else 1.0
        return Folder(
            [str(p) for p in manifest.get("periods", ["1"])],
            objective.get("kind", "kantorovich"),
            {str(k): float(v) for k, v in objective.get("weights", {}).items()},
            {str(k): float(v) for k, v in objective.get("resources", {}).items()},
            items, techniques,
            pd.read_csv(path / "flows.csv", dtype={"technique": str, "item": str}),
            pd.read_csv(path / "availability.csv", dtype={"item": str, "period": str}),
            targets)


@dataclass
class Changes:
    """A counter-plan as docs/counterplans.md describes it; ``period`` None
    means every period (a stock's capacity: at the start)."""

    pledges: list[tuple[str, str | None, float]] = field(default_factory=list)
    norms: list[tuple[str, str, float]] = field(default_factory=list)
    capacity: list[tuple[str, str | None, float]] = field(default_factory=list)


@dataclass
class Reference:
    """max cost·z  s.t.  upper: A_ub z ≤ b_ub,  A_eq z = b_eq,  bounds."""

    cost: np.ndarray
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    maximise: bool
    ub_rows: list[tuple[str, str, str]]  # (family, item, period) of each ≤ row
    eq_rows: list[tuple[str, str, str]]
    cols: dict[tuple[str, str, str], int]  # (family, key, period) -> column


@dataclass
class Result:
    objective: float  # as the docs say it is reported
    z: np.ndarray
    valuations: dict[tuple[str, str, str], float]  # gain per unit more available


def harmony_breakpoints(eps: float, rho_max: float) -> np.ndarray:
    """docs/notation.md: evenly spaced on [0, 1] at most √(8ε) apart (the fewest
    such points), then (1 + √(8ε))^k above 1, clipped at ρ_max."""
    step = np.sqrt(8 * eps)
    below = np.linspace(0.0, 1.0, int(np.ceil(1 / step)) + 1)
    above, r = [], 1.0
    while r < rho_max:
        r *= 1 + step
        above.append(min(r, rho_max))
    return np.unique(np.concatenate([below, above]))


def harmony_exact(rho: np.ndarray) -> np.ndarray:
    s = np.asarray(rho, dtype=float) - 1
    return np.where(s < 0, s - s * s / 2, np.log1p(np.maximum(s, 0)))


def _net_flows(folder: Folder, changes: Changes) -> dict[tuple[str, str], float]:
    """Net flow per (technique, item); a norm replaces the output row when its
    value is positive, else the input row (docs/counterplans.md)."""
    rows = [(str(t), str(i), float(a)) for t, i, a in folder.flows.itertuples(index=False)]
    for technique, item, value in changes.norms:
        rows = [(t, i, value if (t, i) == (technique, item) and (a > 0) == (value > 0) else a)
                for t, i, a in rows]
    net: dict[tuple[str, str], float] = {}
    for t, i, a in rows:
        net[(t, i)] = net.get((t, i), 0.0) + a
    return net


def build(folder: Folder, kind: str | None = None, changes: Changes | None = None,
          eps: float = 1e-3, rho_max: float = 3.0,
          resources: dict[str, float] | None = None) -> Reference:
    """The plan LP of docs/notation.md for ``folder`` with ``changes`` adopted."""
    kind = kind or folder.kind
    changes = changes or Changes()
    periods, items = folder.periods, folder.items
    techs = list(folder.techniques.index)
    stocks = [i for i in items.index if items.kind[i] == "stock"]
    cols: dict[tuple[str, str, str], int] = {}
    lower: list[float] = []
    upper: list[float] = []
    cost: list[float] = []

    def column(key: tuple[str, str, str], lo: float, hi: float, c: float = 0.0) -> int:
        cols[key] = len(lower)
        lower.append(lo)
        upper.append(hi)
        cost.append(c)
        return cols[key]

    for p in periods:
        for j in techs:  # the pledges' lower bounds are set at the end (with_pledges)
            lo = max(float(folder.techniques.loc[j, "min"]), 0.0)
            column(("x", j, p), lo, float(folder.techniques.loc[j, "max"]))
        for s in stocks:
            column(("K", s, p), 0.0, INF)
    net = _net_flows(folder, changes)
    avail = {(str(i), str(p)): float(a) for i, p, a in folder.availability.itertuples(index=False)}
    for item, period, value in changes.capacity:
        if items.kind[item] == "stock":
            key = (item, period or periods[0])
            avail[key] = avail.get(key, 0.0) + value
        else:
            for p in periods if period is None else [period]:
                avail[(item, p)] = avail.get((item, p), 0.0) + value
    weights = folder.resources if resources is None else resources
    if kind == "min-resource":
        for (j, i), a in net.items():
            for p in periods:
                cost[cols[("x", j, p)]] += weights.get(i, 0.0) * max(-a, 0.0)
    targets = [t for t in folder.targets.itertuples(index=False) if t.amount > 0]
    deliveries: dict[tuple[str, str], list[tuple[int, float]]] = {}
    if kind == "kantorovich":
        for p in periods:
            has = any(t.period == p for t in targets)
            lam = column(("lambda", "", p), 0.0, INF if has else 0.0,
                         folder.period_weights.get(p, 1.0))
            for t in targets:
                if t.period == p:
                    deliveries.setdefault((t.item, p), []).append((lam, t.amount))
    harmony_rows = []
    if kind == "harmony":
        r = harmony_breakpoints(eps, rho_max)
        h = harmony_exact(r)
        slope = np.diff(h) / np.diff(r)
        intercept = h[:-1] - slope * r[:-1]
        for t in targets:
            rho = column(("rho", t.item, t.period), 0.0, rho_max)
            weight = t.weight  # docs: per-period weights do not enter harmony
            hk = column(("h", t.item, t.period), -INF, INF, weight)
            deliveries.setdefault((t.item, t.period), []).append((rho, t.amount))
            harmony_rows += [((hk, 1.0), (rho, -b), a, t.item, t.period)
                             for a, b in zip(intercept, slope, strict=True)]
    fixed = {(str(t.item), str(t.period)): float(t.amount) for t in targets} \
        if kind == "min-resource" else {}

    ub: list[dict[int, float]] = []
    b_ub: list[float] = []
    ub_rows: list[tuple[str, str, str]] = []
    eq: list[dict[int, float]] = []
    b_eq: list[float] = []
    eq_rows: list[tuple[str, str, str]] = []
    for p in periods:
        for i in items.index:
            kind_i = items.kind[i]
            row: dict[int, float] = {}
            for (j, item), a in net.items():
                if item != i or a == 0:
                    continue
                x = cols[("x", j, p)]
                if kind_i == "product":
                    row[x] = -a  # −Σ_j F_ij x_j(t) + f_i(t) ≤ 0
                elif a < 0:  # resources and stock needs: Σ_j u_rj x_j(t)
                    row[x] = -a
            if kind_i == "product":
                for col, g in deliveries.get((i, p), []):
                    row[col] = row.get(col, 0.0) + g
                ub.append(row)
                b_ub.append(-fixed.get((i, p), 0.0))
                ub_rows.append(("product", i, p))
            elif kind_i == "resource":
                ub.append(row)
                b_ub.append(avail.get((i, p), 0.0))
                ub_rows.append(("resource", i, p))
            else:
                row[cols[("K", i, p)]] = -1.0
                ub.append(row)
                b_ub.append(0.0)
                ub_rows.append(("stock-use", i, p))
    for k, p in enumerate(periods):
        for s in stocks:
            row = {cols[("K", s, p)]: 1.0}
            if k > 0:
                before = periods[k - 1]
                row[cols[("K", s, before)]] = -(1 - float(items.depreciation[s]))
                for (j, item), a in net.items():
                    if item == s and a > 0:
                        row[cols[("x", j, before)]] = -a
            eq.append(row)
            b_eq.append(avail.get((s, p), 0.0))
            eq_rows.append(("stock-level", s, p))
    for (hk, one), (rho, b), a, item, p in harmony_rows:
        ub.append({hk: one, rho: b})
        b_ub.append(a)
        ub_rows.append(("harmony", item, p))
    n = len(lower)
    unpledged = Reference(np.array(cost), _sparse(ub, n), np.array(b_ub), _sparse(eq, n),
                          np.array(b_eq), np.array(lower), np.array(upper),
                          kind != "min-resource", ub_rows, eq_rows, cols)
    return with_pledges(unpledged, folder, changes.pledges, 1.0)


def _sparse(rows: list[dict[int, float]], n: int) -> sp.csr_matrix:
    r = [k for k, row in enumerate(rows) for _ in row]
    c = [col for row in rows for col in row]
    v = [value for row in rows for value in row.values()]
    return sp.csr_matrix((v, (r, c)), shape=(len(rows), n))


def solve(ref: Reference) -> Result | None:
    """The optimum, reported as the docs say (the positive cost for
    min-resource), and every row's valuation (≥ 0: the gain per unit more)."""
    sign = -1.0 if ref.maximise else 1.0
    res = linprog(sign * ref.cost, A_ub=ref.a_ub if ref.a_ub.shape[0] else None,
                  b_ub=ref.b_ub if ref.a_ub.shape[0] else None,
                  A_eq=ref.a_eq if ref.a_eq.shape[0] else None,
                  b_eq=ref.b_eq if ref.a_eq.shape[0] else None,
                  bounds=np.column_stack([ref.lower, ref.upper]), method="highs")
    if res.status != 0:
        return None
    # linprog's marginals are d(res.fun)/d(b): one more unit available gains −marginal
    valuations = {key: -float(y) for key, y in
                  zip(ref.ub_rows, res.ineqlin.marginals, strict=True)}
    valuations |= {key: -float(y) for key, y in
                   zip(ref.eq_rows, res.eqlin.marginals, strict=True)}
    return Result(float(sign * res.fun), res.x, valuations)


def largest_share(folder: Folder, kind: str | None, changes: Changes, **options: float
                  ) -> float:
    """max θ in [0, 1] with every pledge's activity ≥ θ × value (docs: a share
    is θ in activity ≥ θ·value), the norms and capacity of ``changes`` in full."""
    ref = build(folder, kind, Changes([], changes.norms, changes.capacity), **options)
    n = len(ref.lower)
    rows = [{ref.cols[("x", t, p)]: -1.0, n: v} for t, period, v in changes.pledges
            for p in (folder.periods if period is None else [period])]
    a_ub = sp.vstack([sp.hstack([ref.a_ub, sp.csr_matrix((ref.a_ub.shape[0], 1))]),
                      _sparse(rows, n + 1)], format="csr")
    a_eq = sp.hstack([ref.a_eq, sp.csr_matrix((ref.a_eq.shape[0], 1))], format="csr")
    res = linprog(np.concatenate([np.zeros(n), [-1.0]]), A_ub=a_ub,
                  b_ub=np.concatenate([ref.b_ub, np.zeros(len(rows))]),
                  A_eq=a_eq if a_eq.shape[0] else None, b_eq=ref.b_eq if a_eq.shape[0] else None,
                  bounds=np.vstack([np.column_stack([ref.lower, ref.upper]), [[0.0, 1.0]]]),
                  method="highs")
    return float(res.x[-1]) if res.status == 0 else 0.0


def with_pledges(ref: Reference, folder: Folder,
                 pledges: list[tuple[str, str | None, float]], theta: float) -> Reference:
    """``ref`` (built without pledges) with θ of every pledge: the pledged
    activity's lower bound raised to θ × value.  Every pledge holds, so the
    largest binds.  :func:`build` sets the pledges (θ = 1) through this."""
    lower = ref.lower.copy()
    for t, period, v in pledges:
        for p in folder.periods if period is None else [period]:
            j = ref.cols[("x", t, p)]
            lower[j] = max(lower[j], theta * v)
    return replace(ref, lower=lower)


def scaled(folder: Folder, changes: Changes, theta: float) -> Changes:
    """θ of every change: pledges θ × value, capacity θ × value, a norm's flow
    moved θ of the way from the old amount to the new one."""
    norms = []
    for technique, item, value in changes.norms:
        flows = folder.flows
        old = flows.amount[(flows.technique == technique) & (flows.item == item)
                           & ((flows.amount > 0) == (value > 0))]
        norms.append((technique, item, float(old.iloc[0]) + theta * (value - float(old.iloc[0]))))
    return Changes([(t, p, theta * v) for t, p, v in changes.pledges], norms,
                   [(i, p, theta * v) for i, p, v in changes.capacity])


def share_by_bisection(folder: Folder, kind: str | None, changes: Changes, steps: int = 50,
                       **options: float) -> float:
    """The largest θ in [0, 1] at which θ of every change is feasible."""
    def feasible(theta: float) -> bool:
        return solve(build(folder, kind, scaled(folder, changes, theta), **options)) is not None

    if feasible(1.0):
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
    return lo


def _amount(lo: int, hi: int) -> st.SearchStrategy[float]:
    """Numbers with two decimals, written to CSV and read back exactly."""
    return st.integers(lo, hi).map(lambda v: v / 100)


@st.composite
def small_economies(draw: st.DrawFn, stocks: bool = True, bounds: bool = True
                    ) -> dict[str, str]:
    """The files of a small plan folder: 1–3 products with one or two
    techniques each (choice of technique, own use, joint inputs), 1–2
    resources every technique uses, 1–2 periods, optionally a depreciating
    stock that techniques need and an investment technique adds to, and
    optionally activity bounds."""
    n_p, n_r, n_t = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    stock = stocks and draw(st.booleans())
    periods = [f"y{t}" for t in range(n_t)]
    products = [f"p{i}" for i in range(n_p)]
    resources = [f"r{k}" for k in range(n_r)]
    items = ["id,kind,unit,name,depreciation"] + [f"{p},product,,," for p in products] + \
        [f"{r},resource,,," for r in resources]
    if stock:
        items.append(f"k0,stock,,,{draw(_amount(0, 30))}")
    techniques, flows = ["id,name,unit_id,min,max"], ["technique,item,amount"]
    for i, p in enumerate(products):
        for a in range(draw(st.integers(1, 2))):
            t = f"{p}-{a}"
            lo = draw(_amount(0, 50)) if bounds and draw(st.booleans()) else ""
            hi = draw(_amount(100, 3000)) if bounds and draw(st.booleans()) else ""
            techniques.append(f"{t},,,{lo},{hi}")
            flows.append(f"{t},{p},{draw(_amount(50, 200))}")
            if draw(st.booleans()):  # own use
                flows.append(f"{t},{p},-{draw(_amount(1, 20))}")
            for j, q in enumerate(products):
                if j != i and draw(st.booleans()):
                    flows.append(f"{t},{q},-{draw(_amount(1, 30)) / n_p:.4f}")
            for k, r in enumerate(resources):
                if k == 0 or draw(st.booleans()):
                    flows.append(f"{t},{r},-{draw(_amount(10, 200))}")
            if stock and draw(st.booleans()):
                flows.append(f"{t},k0,-{draw(_amount(1, 50))}")
    if stock:
        techniques.append("build,,,,")
        flows += [f"build,k0,{draw(_amount(50, 200))}", f"build,p0,-{draw(_amount(10, 100))}",
                  f"build,r0,-{draw(_amount(10, 100))}"]
    availability = ["item,period,amount"] + \
        [f"{r},{t},{draw(_amount(500, 10000))}" for r in resources for t in periods]
    if stock:
        availability.append(f"k0,{periods[0]},{draw(_amount(0, 2000))}")
    targets = ["item,period,amount,weight"]
    for p in products:
        for t in periods:
            if draw(st.booleans()) or (p == products[0] and t == periods[0]):
                targets.append(f"{p},{t},{draw(_amount(1, 1000))},{draw(_amount(50, 200))}")
    periods_toml = ", ".join(f'"{t}"' for t in periods)
    return {
        "economy.toml": f'name = "small"\nperiods = [{periods_toml}]\n',
        "items.csv": "\n".join(items) + "\n",
        "techniques.csv": "\n".join(techniques) + "\n",
        "flows.csv": "\n".join(flows) + "\n",
        "availability.csv": "\n".join(availability) + "\n",
        "targets.csv": "\n".join(targets) + "\n",
    }


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def dual_value(ref: Reference, valuations: dict[tuple[str, str, str], float],
               slack: float = 1e-7) -> float | None:
    """The least value of the dual of ``ref`` (in its maximised form) with the
    multipliers of every product, resource, stock-use and stock-level row
    fixed at ``valuations``; the harmony rows' multipliers and the bounds'
    are free (reduced costs may miss by ``slack``).  It equals the optimum
    exactly when the valuations are an optimal dual solution; None when they
    are not dual feasible at all."""
    c = ref.cost if ref.maximise else -ref.cost
    free = [k for k, key in enumerate(ref.ub_rows) if key[0] == "harmony"]
    fixed = [k for k, key in enumerate(ref.ub_rows) if key[0] != "harmony"]
    y = np.array([valuations[ref.ub_rows[k]] for k in fixed])
    mu = np.array([valuations[key] for key in ref.eq_rows])
    residual = c - ref.a_ub[fixed].T @ y - (ref.a_eq.T @ mu if len(mu) else 0.0)
    constant = float(ref.b_ub[fixed] @ y + (ref.b_eq @ mu if len(mu) else 0.0))
    n, n_free = len(c), len(free)
    upper_ok, lower_ok = np.isfinite(ref.upper), np.isfinite(ref.lower)
    # variables: y_free ≥ 0, p ≥ 0 (upper bounds), q ≥ 0 (lower bounds)
    body = sp.hstack([ref.a_ub[free].T, sp.identity(n), -sp.identity(n)], format="csr")
    tol = slack * np.maximum(1.0, np.abs(c))
    cost = np.concatenate([ref.b_ub[free], np.where(upper_ok, ref.upper, 0.0),
                           -np.where(lower_ok, ref.lower, 0.0)])
    bounds = [(0, None)] * n_free + [(0, None if ok else 0) for ok in upper_ok] + \
        [(0, None if ok else 0) for ok in lower_ok]
    res = linprog(cost, A_ub=sp.vstack([body, -body], format="csr"),
                  b_ub=np.concatenate([residual + tol, -(residual - tol)]), bounds=bounds,
                  method="highs")
    return None if res.status != 0 else constant + float(res.fun)
