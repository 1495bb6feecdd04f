"""Pictures of a solved plan, drawn from its folder alone: fulfilment per
period, resource use against availability, investment over time and the
highest valuations.  PNG (or SVG) for papers, a self-contained HTML page for
reading."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from counterplan.errors import CounterplanError
from counterplan.io.atomic import staged_file

SHOWN = 12


def read_plan_folder(folder: Path) -> dict[str, Any]:
    """The tables of a solved-plan folder, with a clear error for a wrong folder."""
    needed = ["summary.json", "fulfilment.csv", "balance.csv", "resources.csv"]
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise CounterplanError(
            f"{folder} is not a solved-plan folder ({', '.join(missing)} missing); "
            "make one with `counterplan solve DIR --out PLAN_DIR`")
    tables: dict[str, Any] = {
        "summary": json.loads((folder / "summary.json").read_text(encoding="utf-8")),
        "fulfilment": _csv(folder / "fulfilment.csv"),
        "balance": _csv(folder / "balance.csv"),
        "resources": _csv(folder / "resources.csv"),
    }
    stocks = folder / "stocks.csv"
    tables["stocks"] = _csv(stocks) if stocks.is_file() else None
    return tables


def _csv(file: Path) -> pd.DataFrame:
    return pd.read_csv(file, dtype={"period": str, "item": str})


def figure(tables: dict[str, Any]) -> Figure:
    """The four panels of a plan."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), layout="constrained")
    s = tables["summary"]
    fig.suptitle(f"{s.get('economy', '')}: {s['objective']['kind']} plan, "
                 f"{s['status']}, objective {s['objective']['value']:.4g}", fontsize=13)
    _fulfilment(axes[0, 0], tables["fulfilment"], s.get("lambda"))
    _resources(axes[0, 1], tables["resources"], tables["stocks"])
    _investment(axes[1, 0], tables["stocks"])
    _valuations(axes[1, 1], tables["balance"], tables["resources"])
    return fig


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", transform=ax.transAxes)
    ax.set_axis_off()


def _periods(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["period"]))


def _fulfilment(ax: Axes, f: pd.DataFrame, lambdas: dict[str, float] | None) -> None:
    ax.set_title("Fulfilment of the targets per period")
    if f.empty:
        _empty(ax, "no targets")
        return
    periods = _periods(f)
    groups = f.groupby("period", sort=False)["ratio"]
    lo, mid, hi = groups.min()[periods], groups.median()[periods], groups.max()[periods]
    x = range(len(periods))
    ax.fill_between(x, lo, hi, alpha=0.2, label="range over targets")
    ax.plot(x, mid, marker="o", label="median ratio")
    if lambdas:
        ax.plot(x, [lambdas[p] for p in periods], marker="s", linestyle="--",
                label="λ: complete sets of the targets")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(list(x), periods)
    ax.set_ylabel("delivered / target")
    ax.legend(loc="best", fontsize=8)


def _resources(ax: Axes, r: pd.DataFrame, stocks: pd.DataFrame | None) -> None:
    ax.set_title("Use of resources against availability")
    names = set(stocks["item"]) if stocks is not None else set()
    r = r[~r["item"].isin(names)]
    if r.empty:
        _empty(ax, "no resources")
        return
    top = (r.groupby("item")["valuation"].max().sort_values(ascending=False)
           .head(8).index.tolist())
    periods = _periods(r)
    width = 0.8 / len(top)
    for k, item in enumerate(top):
        rows = r[r["item"] == item].set_index("period").reindex(periods)
        share = 100 * rows["used"] / rows["available"].where(rows["available"] > 0)
        ax.bar([p + k * width for p in range(len(periods))], share.fillna(0), width,
               label=item)
    ax.axhline(100, color="grey", linewidth=0.8)
    ax.set_xticks([p + 0.4 - width / 2 for p in range(len(periods))], periods)
    ax.set_ylabel("% of availability used")
    ax.legend(loc="lower right", fontsize=8)


def _investment(ax: Axes, stocks: pd.DataFrame | None) -> None:
    ax.set_title("Investment: capacity added and capacity level")
    if stocks is None or stocks.empty:
        _empty(ax, "no stocks in this economy")
        return
    periods = _periods(stocks)
    by = stocks.groupby("period", sort=False)
    x = range(len(periods))
    ax.bar(x, by["added"].sum()[periods], label="added (available next period)")
    ax.plot(x, by["level"].sum()[periods], marker="o", color="black", label="level")
    ax.plot(x, by["used"].sum()[periods], marker=".", linestyle=":", label="used")
    ax.set_xticks(list(x), periods)
    ax.set_ylabel("units of stock, all stocks")
    ax.legend(loc="best", fontsize=8)


def _valuations(ax: Axes, balance: pd.DataFrame, resources: pd.DataFrame) -> None:
    ax.set_title(f"Highest valuations (the {SHOWN} largest, first period)")
    first = balance["period"].iloc[0] if len(balance) else None
    rows = pd.concat([balance[balance["period"] == first][["item", "valuation"]],
                      resources[resources["period"] == first][["item", "valuation"]]])
    rows = rows[rows["valuation"] > 0].nlargest(SHOWN, "valuation").iloc[::-1]
    if rows.empty:
        _empty(ax, "nothing binds: every valuation is zero")
        return
    ax.barh(rows["item"], rows["valuation"])
    ax.set_xlabel("objective gained per extra unit")
    ax.tick_params(axis="y", labelsize=8)


def write_picture(folder: Path, out: Path) -> Path:
    """Draw the plan in ``folder`` to ``out``: .png, .svg or .html."""
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg", ".html"):
        raise CounterplanError(f"cannot draw to {out.name}: give a file ending in .png, "
                               ".svg or .html")
    tables = read_plan_folder(folder)
    fig = figure(tables)
    try:
        with staged_file(out) as tmp:
            if suffix == ".html":
                tmp.write_text(_page(tables, fig), encoding="utf-8")
            else:
                fig.savefig(tmp, dpi=110, format=suffix[1:])
    finally:
        plt.close(fig)
    return out


def _page(tables: dict[str, Any], fig: Figure) -> str:
    """A self-contained HTML page: the picture inline as SVG, and the numbers."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    s = tables["summary"]
    facts = {"status": s["status"], "objective": s["objective"]["kind"],
             "value": f"{s['objective']['value']:.6g}",
             "solver": f"{s['solver']['name']} ({s['solver']['algorithm']})",
             "input hash": s["input_hash"][:16]}
    if s.get("lambda"):
        facts["λ per period"] = ", ".join(f"{p}: {v:.4g}" for p, v in s["lambda"].items())
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in facts.items())
    top = tables["resources"].nlargest(SHOWN, "valuation")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(str(s.get('economy', 'plan')))}: plan</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "svg{max-width:100%;height:auto}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>{html.escape(str(s.get('economy', 'plan')))}</h1>"
        f"<table>{rows}</table>{svg}"
        "<h2>Highest valuations of resources and stocks</h2>"
        + top.to_html(index=False, float_format=lambda v: f"{v:.6g}", escape=True)
        + "</body></html>\n"
    )
