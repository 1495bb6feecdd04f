"""Pictures of the plan cycle: one per flagged index (observations,
filtered trend, forecast band, state probabilities under it) and one of a
re-plan's changes."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from counterplan.cycle.multistate import STATES

COLOURS = {"steady": "#9e9e9e", "step": "#d62728", "slope": "#ff7f0e", "outlier": "#1f77b4"}


def index_figure(rows: pd.DataFrame, exceptions: pd.DataFrame) -> Figure:
    """One index's reports (rows of indices.csv) and its exceptions."""
    date = pd.to_datetime(rows["date"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True,
                                      height_ratios=[2.2, 1])
    # fixed margins rather than layout="constrained", which took half of
    # each plot's time (16 plots: 8 s → 3.6 s), for an index's plot is always
    # laid out alike: ratios near 1 on the left, dates below
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.06, hspace=0.07)
    unit, technique = rows["unit_id"].iloc[0], rows["technique"].iloc[0]
    top.set_title(f"unit {unit}" if technique == "" else f"{technique} (unit {unit or '-'})")
    top.plot(date, rows["interval_index"], "o", color="black", ms=4,
             label="interval index (actual / planned)")
    top.plot(date, rows["index"], "-", color="#555555", lw=1, label="cumulative index")
    top.plot(date, rows["level"], "-", color="#2ca02c", lw=2, label="filtered level")
    top.fill_between(date, rows["level"] - 2 * rows["level_sd"],
                     rows["level"] + 2 * rows["level_sd"], color="#2ca02c", alpha=0.15)
    top.fill_between(date, rows["forecast_low"].clip(lower=0), rows["forecast_high"],
                     color="#9467bd", alpha=0.15, label="forecast of the period's end")
    top.plot(date, rows["forecast"], "--", color="#9467bd", lw=1)
    top.axhline(1.0, color="black", lw=0.5)
    for when, kind in zip(exceptions["date"].astype(str), exceptions["kind"].astype(str),
                          strict=True):
        colour = COLOURS.get(kind, "#8c564b")
        top.axvline(pd.Timestamp(when), color=colour, lw=1, ls=":")
        top.annotate(kind, (pd.Timestamp(when), top.get_ylim()[1]), fontsize=8,
                     rotation=90, va="top", ha="right", color=colour)
    top.set_ylabel("index")
    top.legend(fontsize=8, loc="lower left")
    probabilities = [rows[f"p_{s}_next"].to_numpy() for s in STATES]
    bottom.stackplot(date, probabilities, labels=STATES, colors=[COLOURS[s] for s in STATES])
    if "p_change" in rows:
        bottom.plot(date, rows["p_change"], "-", color="black", lw=1.5,
                    label="P(a change within the window)")
    bottom.set_ylim(0, 1)
    bottom.set_ylabel("P(state)")
    bottom.legend(fontsize=8, loc="lower left", ncols=5)
    return fig


def write_index_plots(indices: pd.DataFrame, exceptions: pd.DataFrame, folder: Path
                      ) -> list[Path]:
    """A PNG per flagged index in ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for (unit, technique), flagged in exceptions.groupby(["unit_id", "technique"], sort=True):
        rows = indices[(indices["unit_id"] == unit) & (indices["technique"] == technique)]
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{unit or 'office'}--{technique or 'unit'}")
        fig = index_figure(rows, flagged)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def changes_figure(changes: pd.DataFrame, shown: int = 15) -> Figure:
    """A re-plan's changes: the largest activity changes of the first
    re-planned period, and old against new fulfilment per period."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
    activity = changes[changes["kind"] == "activity"]
    first = activity[activity["period"] == activity["period"].iloc[0]] if len(activity) \
        else activity
    top = first.reindex(first["change"].abs().sort_values(ascending=False).index).head(shown)
    left.barh(top["id"].astype(str)[::-1], top["change"][::-1],
              color=["#d62728" if c < 0 else "#2ca02c" for c in top["change"][::-1]])
    left.set_title(f"largest changes of activity in {first['period'].iloc[0]}"
                   if len(first) else "no activity")
    left.set_xlabel("new − old activity")
    fulfilment = changes[changes["kind"] == "fulfilment"].groupby("period")[["old", "new"]]
    mean = fulfilment.mean()
    right.plot(mean.index, mean["old"], "o-", label="plan in force")
    right.plot(mean.index, mean["new"], "s-", label="re-plan")
    right.set_title("mean fulfilment of the targets")
    right.set_ylabel("delivered / target")
    right.legend()
    return fig


def write_changes_plot(changes: pd.DataFrame, path: Path) -> Path:
    fig = changes_figure(changes)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["changes_figure", "index_figure", "write_changes_plot", "write_index_plots"]
