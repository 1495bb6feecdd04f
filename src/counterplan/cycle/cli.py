"""The `monitor` and `replan` commands (glue only; heavy imports inside)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from counterplan.errors import CounterplanError

PlanFolder = Annotated[Path, typer.Argument(metavar="PLAN", help="a solved-plan folder")]
Out = Annotated[Path, typer.Option("--out", "-o", metavar="OUT", help="folder to write")]
Force = Annotated[bool, typer.Option(
    "--force", help="write into an output folder that is not empty")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="print only errors")]
MONITOR_FILES = frozenset({"indices.csv", "exceptions.csv", "plots"})
REPLAN_FILES = frozenset({"summary.json", "activity.csv", "fulfilment.csv", "balance.csv",
                          "resources.csv", "stocks.csv", "changes.csv", "changes.png"})


def _economy_folder(plan: Path, economy: Path | None) -> Path:
    """The plan folder a solved plan came from: --economy, or PLAN without its
    '-plan' suffix (the name `counterplan solve` gives by default)."""
    if economy is not None:
        return economy
    if plan.name.endswith("-plan") and (plan.parent / plan.name[:-5]).is_dir():
        return plan.parent / plan.name[:-5]
    raise CounterplanError(f"say which plan folder {plan} was solved from: --economy DIR")


def monitor(
    plan: PlanFolder,
    reports: Annotated[Path, typer.Argument(
        metavar="REPORTS.csv", help="unit_id, technique, period, date, activity")],
    out: Out,
    economy: Annotated[Path | None, typer.Option(
        metavar="DIR", help="the plan folder PLAN was solved from (default: PLAN "
                            "without '-plan')")] = None,
    threshold: Annotated[float, typer.Option(
        metavar="P", min=0.0, max=1.0,
        help="exception when P(a step, slope change or outlier within the "
             "window) passes this")] = 0.5,
    fulfilment: Annotated[float, typer.Option(
        metavar="F", min=0.0, help="exception when the period is likely to end below this "
                                   "fulfilment")] = 0.95,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Watch fulfilment: filter every index, raise exceptions.

    For every technique and unit: the filtered level and slope of its index,
    the forecast of the period's end with a 90 % interval and the posterior
    probability of each state (steady, step, slope, outlier) at each report,
    in OUT/indices.csv; the exceptions in OUT/exceptions.csv; a picture per
    flagged index in OUT/plots/."""
    from counterplan.cycle.monitor import MonitorOptions
    from counterplan.cycle.monitor import monitor as watch
    from counterplan.cycle.planned import PlanInForce
    from counterplan.cycle.plots import write_index_plots
    from counterplan.cycle.reports import read_reports
    from counterplan.io.folder import read_folder, staged_folder
    from counterplan.io.outputs import prepare_folder

    economy_folder = _economy_folder(plan, economy)
    prepare_folder(out, [plan, reports, economy_folder], force, MONITOR_FILES)
    e = read_folder(economy_folder)
    state = PlanInForce.read(plan, e)
    result = watch(state, read_reports(reports, e),
                   MonitorOptions(threshold=threshold, fulfilment=fulfilment))
    with staged_folder(out) as tmp:
        result.indices.to_csv(tmp / "indices.csv", index=False)
        result.exceptions.to_csv(tmp / "exceptions.csv", index=False)
        plots = write_index_plots(result.indices, result.exceptions, tmp / "plots")
    if not quiet:
        n = result.indices.groupby(["unit_id", "technique"]).ngroups
        typer.echo(f"{n} indices, {len(result.indices)} reports, "
                   f"{len(result.exceptions)} exception(s)")
        for row in result.exceptions.head(20).itertuples():
            typer.echo(f"{row.date} {row.kind} (p {row.probability:.2f}): {row.reason}")
        typer.echo(f"wrote {out}/indices.csv, exceptions.csv and {len(plots)} plot(s)")


def replan(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="plan folder")],
    plan: Annotated[Path, typer.Option("--plan", metavar="PLAN",
                                       help="the solved plan in force (from solve)")],
    actuals: Annotated[Path, typer.Option(
        "--actuals", metavar="REPORTS.csv", help="the units' reports")],
    from_period: Annotated[str, typer.Option("--from", metavar="PERIOD",
                                             help="the first period to re-plan")],
    out: Out,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Re-plan the remaining periods from what actually happened.

    Stock levels at the start of PERIOD follow from the actual activity and
    investment of the periods before it; the periods from PERIOD on are
    solved again with the same objective.  OUT is a solved-plan folder plus
    changes.csv (old and new activity, fulfilment and valuations) and
    changes.png."""
    from counterplan.cycle.planned import PlanInForce
    from counterplan.cycle.plots import write_changes_plot
    from counterplan.cycle.replan import replan as again
    from counterplan.cycle.reports import read_reports
    from counterplan.io.folder import read_folder
    from counterplan.io.outputs import prepare_folder
    from counterplan.plan import write_plan

    prepare_folder(out, [folder, plan, actuals], force, REPLAN_FILES)
    e = read_folder(folder)
    result = again(PlanInForce.read(plan, e), read_reports(actuals, e), from_period)
    write_plan(result.plan, out, extra={"changes.csv": result.changes})
    write_changes_plot(result.changes, out / "changes.png")
    if not quiet:
        if result.plan.lambdas is not None:
            lambdas = ", ".join(f"{p} {v:.6g}" for p, v in zip(
                result.plan.economy.periods, result.plan.lambdas, strict=True))
            typer.echo(f"re-planned {lambdas}")
        typer.echo(f"{result.plan.status}: {result.plan.objective} objective "
                   f"{result.plan.value:.6g}; wrote {out} with changes.csv and changes.png")


__all__ = ["monitor", "replan"]
