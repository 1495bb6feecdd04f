"""The `compare` and `sweep` commands (glue only; heavy imports inside)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from counterplan.errors import CounterplanError


def compare(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="plan folder")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="OUT",
                                      help="folder for compare.csv, trajectories.csv and "
                                           "compare.png")],
    mechanisms: Annotated[str, typer.Option(
        metavar="NAMES", help="comma-separated: exact, harmony-heuristic, rounds, "
                              "participatory")] = "exact,harmony-heuristic,rounds,participatory",
) -> None:
    """Compare planning mechanisms on one economy.

    Each mechanism's objective (and the exact optimum's), the fulfilment of
    every target, resources used, rounds, messages exchanged and seconds in
    OUT/compare.csv; each iterative mechanism's imbalance and objective per
    round in OUT/trajectories.csv; one picture, OUT/compare.png."""
    from counterplan.mechanisms.registry import check_mechanisms

    names = check_mechanisms([m.strip() for m in mechanisms.split(",") if m.strip()])
    from counterplan.io.folder import read_folder
    from counterplan.mechanisms.compare import compare as run_all
    from counterplan.mechanisms.compare import compare_table, write_comparison

    economy = read_folder(folder)
    results, refused = run_all(economy, names)
    write_comparison(results, out, refused)
    table = compare_table(results)
    columns = ["mechanism", "objective", "exact_objective", "fulfilment_min", "imbalance",
               "rounds", "messages", "seconds"]
    typer.echo(table[columns].to_string(index=False))
    for name, why in refused.items():
        typer.echo(f"{name}: cannot plan {folder}: {why}", err=True)
    typer.echo(f"wrote {out}/compare.csv, trajectories.csv and compare.png")


def sweep(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.toml", help="the sweep specification")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="OUT",
                                      help="folder for the runs and results.parquet")],
    scheduler: Annotated[str | None, typer.Option(
        metavar="ADDRESS", help="a Dask scheduler (tcp://host:8786); default: a local "
                                "cluster, one worker per core")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, metavar="N", help="local workers (default: one per core)")] = None,
) -> None:
    """Run many plans from one specification on Dask distributed.

    Runs already in OUT are skipped (an interrupted sweep resumes); a run
    that fails is recorded with its error. Results in OUT/results.parquet,
    plots in OUT/summary.png."""
    from counterplan.mechanisms.spec import read_spec
    from counterplan.mechanisms.sweep import run_sweep

    plan = read_spec(spec)
    if out.exists() and not out.is_dir():
        raise CounterplanError(f"{out} is a file; give a folder for the sweep's results")
    try:
        report = run_sweep(plan, out, scheduler, workers, say=lambda s: typer.echo(s, err=True))
    except KeyboardInterrupt:
        kept = len(list((out / "runs").glob("*.parquet"))) if (out / "runs").is_dir() else 0
        typer.echo(f"interrupted; the {kept} run(s) done are kept in {out}/runs: run the same "
                   "command again to resume", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"{report.total} run(s): {report.skipped} skipped (done before), "
               f"{report.done} run now, {report.failed} failed; {report.workers} worker(s) "
               f"of {report.memory_per_worker / 2**30:.2f} GiB; {report.seconds:.1f} s")
    typer.echo(f"wrote {out}/results.parquet, summary.png and sweep.json")
