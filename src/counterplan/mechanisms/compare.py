"""Mechanisms side by side on one economy: one table, one trajectory table,
one picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from counterplan.errors import CounterplanError
from counterplan.mechanisms.registry import MECHANISMS, check_mechanisms
from counterplan.mechanisms.result import MechanismResult, measure
from counterplan.model import Economy


def compare(economy: Economy, names: list[str]
            ) -> tuple[list[MechanismResult], dict[str, str]]:
    """Run each mechanism on ``economy`` (the names checked first).  A
    mechanism that cannot plan this economy (stocks for an iterative one, say)
    is refused with its reason; the others still run.  If none can, the first
    refusal is raised."""
    results, refused = [], {}
    for name in check_mechanisms(names):
        try:
            results.append(MECHANISMS[name](economy))
        except CounterplanError as exc:
            refused[name] = str(exc)
            if len(refused) == len(names):
                raise
    return results, refused


def compare_table(results: list[MechanismResult],
                  refused: dict[str, str] | None = None) -> pd.DataFrame:
    """One row a mechanism, every plan measured the same way: ``objective`` is
    the economy's objective (economy.toml) measured on the mechanism's plan,
    ``exact_objective`` the exact optimum's, ``own_objective`` what the
    mechanism itself aims at (``own_kind``: the heuristic and the
    participatory procedure aim at harmony); then both common measures
    (complete sets and harmony), fulfilment, resources used, imbalance,
    rounds, messages, seconds."""
    exact = next((r for r in results if r.mechanism == "exact"), None)
    rows: list[dict[str, Any]] = []
    for r in results:
        kind = r.economy.objective.kind
        row = r.summary()
        row["own_kind"], row["own_objective"] = row.pop("objective_kind"), row.pop("objective")
        row["objective_kind"] = kind
        row["objective"] = measure(r.economy, r.activity, kind, r.max_ratio)
        row["exact_objective"] = (measure(r.economy, exact.activity, kind, exact.max_ratio)
                                  if exact is not None else float("nan"))
        row["sets"] = measure(r.economy, r.activity, "kantorovich")
        row["harmony"] = measure(r.economy, r.activity, "harmony", r.max_ratio)
        row["error"] = ""
        rows.append(row)
    rows += [{"mechanism": name, "error": why} for name, why in (refused or {}).items()]
    table = pd.DataFrame(rows)
    first = ["mechanism", "objective_kind", "objective", "exact_objective", "own_kind",
             "own_objective"]
    table = table[first + [c for c in table.columns if c not in first]]
    table.insert(0, "economy", results[0].economy.name if results else "")
    return table


def trajectories(results: list[MechanismResult]) -> pd.DataFrame:
    frames = [r.trajectory.assign(mechanism=r.mechanism) for r in results]
    table = pd.concat(frames, ignore_index=True)
    return table[["mechanism", "round", "objective", "imbalance"]]


def write_comparison(results: list[MechanismResult], out: Path,
                     refused: dict[str, str] | None = None) -> Path:
    """OUT/compare.csv, OUT/trajectories.csv and OUT/compare.png, all or nothing."""
    from counterplan.io.folder import staged_folder

    table, paths = compare_table(results, refused), trajectories(results)
    with staged_folder(out) as tmp:
        table.to_csv(tmp / "compare.csv", index=False)
        paths.to_csv(tmp / "trajectories.csv", index=False)
        picture(table[table["error"] == ""].reset_index(drop=True), paths, results,
                tmp / "compare.png")
    return out


def picture(table: pd.DataFrame, paths: pd.DataFrame, results: list[MechanismResult],
            file: Path) -> None:
    """Objective reached against the exact optimum, the fulfilment of every
    target, and the imbalance and objective per round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    names = list(table["mechanism"])
    axes[0].bar(names, table["objective"], color="#4c72b0")
    if table["exact_objective"].notna().any():
        axes[0].axhline(float(table["exact_objective"].iloc[0]), color="k", ls="--",
                        label="exact optimum")
        axes[0].legend(loc="lower right", fontsize=7)
    for i, row in table.iterrows():
        axes[0].annotate(f"{row['rounds']} rounds\n{row['messages']:,} numbers",
                         (i, row["objective"]), ha="center", va="bottom", fontsize=7)
    axes[0].set_title(f"objective reached ({table['objective_kind'].iloc[0]})")
    axes[1].boxplot([r.ratios()[~pd.isna(r.ratios())] for r in results], tick_labels=names)
    axes[1].set_title("fulfilment of every target")
    for name, group in paths.groupby("mechanism", sort=False):
        if len(group) > 1:
            axes[2].plot(group["round"], group["imbalance"].clip(lower=1e-12), label=name)
            axes[3].plot(group["round"], group["objective"], label=name)
    axes[2].set_yscale("log")
    axes[2].set_title("imbalance per round")
    axes[3].set_title("own objective per round")
    for ax in axes[2:]:
        ax.set_xlabel("round")
        if ax.lines:
            ax.legend(fontsize=7)
    for ax in axes[:2]:
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.suptitle(f"{results[0].economy.name}: mechanisms compared")
    fig.tight_layout()
    fig.savefig(file, dpi=110)
    plt.close(fig)
