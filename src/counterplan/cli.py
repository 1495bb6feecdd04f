"""The command-line interface: glue only.  Each command parses its arguments,
calls the library, prints and sets the exit code; a user's mistake is printed
as a message (exit 1), never as a traceback."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from counterplan import __version__
from counterplan.calc.linear import SolveOptions
from counterplan.errors import CounterplanError, InvalidInput, Problem, Severity
from counterplan.model import Economy
from counterplan.web import cli as web_cli

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan an economy: balances, labour values, optimal plans, counter-plans.")
import_app = typer.Typer(no_args_is_help=True, help="Import economies from other tools.")
app.add_typer(import_app, name="import")
app.command()(web_cli.serve)
app.command()(web_cli.export)
app.command()(web_cli.restore)
app.add_typer(web_cli.users_app, name="users")

Folder = Annotated[Path, typer.Argument(help="plan folder (economy.toml and CSV/Parquet tables)")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="print only errors")]


class _Console:
    quiet = False

    def say(self, text: str = "") -> None:
        if not self.quiet:
            typer.echo(text)

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Report a long step on stderr: what, then how long it took."""
        start = time.perf_counter()
        if not self.quiet:
            typer.echo(f"{what} ...", err=True, nl=False)
        try:
            yield
        except BaseException:
            if not self.quiet:
                typer.echo(" stopped", err=True)
            raise
        if not self.quiet:
            typer.echo(f" {time.perf_counter() - start:.2f} s", err=True)


console = _Console()


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        typer.echo(str(p), err=p.severity is Severity.ERROR)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", help="show the version")] = False
          ) -> None:
    if version:
        typer.echo(f"counterplan {__version__}")
        raise typer.Exit()


@app.command()
def check(folder: Folder) -> None:
    """Check a plan folder and list every problem (exit 1 on errors)."""
    from counterplan.io.folder import check_folder

    problems = check_folder(folder)
    _print_problems(problems.found)
    n_err, n_warn = len(problems.errors), len(problems.warnings)
    typer.echo(f"{folder}: {n_err} error(s), {n_warn} warning(s)")
    if n_err:
        raise typer.Exit(1)


def _read(folder: Path) -> Economy:
    from counterplan.io.folder import read_folder

    with console.step(f"reading {folder}"):
        economy = read_folder(folder)
    return economy


@app.command()
def balance(
    folder: Folder,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the balance tables")],
    method: Annotated[str, typer.Option(help="auto, direct (sparse LU) or iterative")] = "auto",
    quiet: Quiet = False,
) -> None:
    """Material balances: the activities that deliver exactly the targets, and
    for every product and resource whether it is there (input-output case)."""
    from counterplan.calc.balance import material_balance
    from counterplan.io.folder import staged_folder

    console.quiet = quiet
    options = _solve_options(method)
    economy = _read(folder)
    with console.step("solving the balance"):
        result = material_balance(economy, options)
    with console.step(f"writing {out}"), staged_folder(out) as tmp:
        result.activity.to_csv(tmp / "activity.csv", index=False)
        result.products.to_csv(tmp / "balance.csv", index=False)
        result.resources.to_csv(tmp / "resources.csv", index=False)
    console.say(f"{economy!r}")
    console.say(f"solved by the {result.report.method} method, relative residual "
                f"{result.report.residual:.1e}")
    if result.idle_techniques:
        console.say(f"{len(result.idle_techniques)} technique(s) make only stocks and are left "
                    "at zero (investment is chosen by `counterplan solve`)")
    deficits = result.deficits()
    if len(deficits):
        typer.echo(f"{len(deficits)} deficit(s): the targets need more than there is")
        typer.echo(deficits.head(20).to_string(index=False))
    else:
        console.say("balanced: every product and resource the targets need is there")
    console.say(f"wrote {out}/activity.csv, balance.csv, resources.csv")


def _solve_options(method: str) -> SolveOptions:
    if method not in ("auto", "direct", "iterative"):
        raise CounterplanError(f"unknown --method {method!r}; use auto, direct or iterative")
    return SolveOptions(method=method)  # type: ignore[arg-type]


@app.command()
def values(
    folder: Folder,
    out: Annotated[Path, typer.Option("--out", "-o", help="output file (.csv or .parquet)")],
    resource: Annotated[list[str] | None, typer.Option(
        help="only this resource or stock (repeatable); default all")] = None,
    method: Annotated[str, typer.Option(help="auto, direct (sparse LU) or iterative")] = "auto",
    quiet: Quiet = False,
) -> None:
    """Embodied resources: the amount of each resource needed, directly and
    indirectly, per unit of each product (labour values for labour)."""
    from counterplan.calc.leontief import embodied, io_system
    from counterplan.schema import PRODUCT

    console.quiet = quiet
    options = _solve_options(method)
    economy = _read(folder)
    rows = np.flatnonzero(economy.kind_codes != PRODUCT)
    if resource:
        codes = economy.items.index.get_indexer(pd.Index(resource))
        unknown = [r for r, c in zip(resource, codes, strict=True)
                   if c < 0 or economy.kind_codes[c] == PRODUCT]
        if unknown:
            raise CounterplanError(f"--resource {', '.join(unknown)}: not a resource or stock "
                                   f"of {folder}/items.csv")
        rows = codes.astype(np.int64)
    if len(rows) == 0:
        raise CounterplanError(f"{folder} has no resources or stocks to embody; "
                               "add one (e.g. labour) to items.csv")
    with console.step("solving the embodied resources"):
        system = io_system(economy)
        v, report = embodied(system, rows, options)
    ids = economy.items.index.to_numpy(dtype=object)
    table = pd.DataFrame({
        "item": np.repeat(ids[system.products], len(rows)),
        "resource": np.tile(ids[rows], len(system.products)),
        "value": v.reshape(-1),
    })
    _write_table(table, out)
    console.say(f"solved by the {report.method} method, relative residual {report.residual:.1e}")
    console.say(f"wrote {len(table)} values to {out}")


def _write_table(table: pd.DataFrame, out: Path) -> None:
    from counterplan.io.atomic import staged_file

    with console.step(f"writing {out}"), staged_file(out) as tmp:
        if out.suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)


@app.command()
def solve(
    folder: Folder,
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="folder for the solved plan")] = None,
    objective: Annotated[str | None, typer.Option(
        help="kantorovich, harmony or min-resource (default: economy.toml's)")] = None,
    algorithm: Annotated[str, typer.Option(
        help="auto (by size), simplex, ipm or pdlp")] = "auto",
    time_limit: Annotated[float | None, typer.Option(help="seconds")] = None,
    quiet: Quiet = False,
) -> None:
    """The optimal plan over all periods, with the valuation of every product,
    resource and stock (the duals)."""
    from counterplan.plan import OBJECTIVES, PlanOptions, SolverOptions, write_plan
    from counterplan.plan import solve as solve_plan

    console.quiet = quiet
    if objective is not None and objective not in OBJECTIVES:
        raise CounterplanError(f"unknown --objective {objective!r}; use one of "
                               f"{', '.join(OBJECTIVES)}")
    if algorithm not in ("auto", "simplex", "ipm", "pdlp"):
        raise CounterplanError(f"unknown --algorithm {algorithm!r}; use auto, simplex, "
                               "ipm or pdlp")
    economy = _read(folder)
    options = PlanOptions(solver=SolverOptions(algorithm=algorithm,  # type: ignore[arg-type]
                                               time_limit=time_limit, log=not quiet))
    plan = solve_plan(economy, objective, options)
    out = out or folder.with_name(folder.name + "-plan")
    write_plan(plan, out)
    console.say(f"{economy!r}")
    console.say(f"{plan.status}: {plan.objective} objective {plan.value:.6g} "
                f"(HiGHS {plan.info.algorithm}, build {plan.info.build_seconds:.2f} s, "
                f"solve {plan.info.solve_seconds:.2f} s)")
    if plan.lambdas is not None:
        lambdas = ", ".join(f"{p} {v:.6g}" for p, v in zip(economy.periods, plan.lambdas,
                                                          strict=True))
        console.say(f"complete sets of the targets (lambda) per period: {lambdas}")
    top = plan.resources_table().sort_values("valuation", ascending=False).head(5)
    if len(top) and top["valuation"].iloc[0] > 0:
        console.say("highest valuations of resources and stocks:")
        console.say(top.to_string(index=False))
    console.say(f"wrote {out}/summary.json, activity.csv, fulfilment.csv, balance.csv, "
                "resources.csv")


CounterPlans = Annotated[Path, typer.Argument(
    help="counter-plan CSV: id, unit_id, kind, technique, item, period, value, note")]


@app.command()
def evaluate(
    folder: Folder,
    counterplans: CounterPlans,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for verdicts and effects")],
    objective: Annotated[str | None, typer.Option(help="default: economy.toml's")] = None,
    quiet: Quiet = False,
) -> None:
    """Judge each counter-plan alone against the optimal plan: verdict, share
    that fits, objective after, reason, and the effect on every target."""
    from counterplan.counter.evaluate import evaluate as judge
    from counterplan.counter.proposals import read_counterplans
    from counterplan.io.folder import staged_folder

    console.quiet = quiet
    economy = _read(folder)
    plans = read_counterplans(counterplans, economy)
    with console.step(f"evaluating {len(plans)} counter-plan(s)"):
        result = judge(economy, plans, objective)
    with staged_folder(out) as tmp:
        result.verdicts.to_csv(tmp / "verdicts.csv", index=False)
        result.effects.to_csv(tmp / "effects.csv", index=False)
    for row in result.verdicts.itertuples():
        console.say(f"{row.id}: {row.verdict} (share {row.share:.4g}, objective "
                    f"{row.objective_before:.6g} -> {row.objective_after:.6g})\n  {row.reason}")
    console.say(f"wrote {out}/verdicts.csv and effects.csv")


@app.command()
def reconcile(
    folder: Folder,
    counterplans: CounterPlans,
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the reconciled plan")],
    objective: Annotated[str | None, typer.Option(help="default: economy.toml's")] = None,
    quiet: Quiet = False,
) -> None:
    """Reconcile all counter-plans together: adopt what does not lower the plan,
    keep each pledge at the largest share the optimum allows."""
    from counterplan.counter.proposals import read_counterplans
    from counterplan.counter.reconcile import reconcile as settle
    from counterplan.plan import write_plan

    console.quiet = quiet
    economy = _read(folder)
    plans = read_counterplans(counterplans, economy)
    with console.step(f"reconciling {len(plans)} counter-plan(s)"):
        result = settle(economy, plans, objective)
    write_plan(result.plan, out, extra={"reconciliation.csv": result.table})
    for row in result.table.itertuples():
        console.say(f"{row.id}: {row.verdict} (share {row.share:.4g})\n  {row.reason}")
    console.say(f"reconciled objective {result.plan.value:.6g}; wrote {out}")


@app.command()
def rounds(
    folder: Folder,
    units: Annotated[Path, typer.Option(
        help="folder with one plan folder per unit: its private techniques and capacity")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder for the rounds")],
    max_rounds: Annotated[int, typer.Option(min=1, help="stop after this many rounds")] = 20,
    objective: Annotated[str | None, typer.Option(help="default: economy.toml's")] = None,
    quiet: Quiet = False,
) -> None:
    """Two-level planning: publish the plan and its valuations, collect the
    units' paying proposals, reconcile, republish, until nothing pays."""
    from counterplan.counter.rounds import read_units, run_rounds
    from counterplan.io.folder import staged_folder
    from counterplan.plan import write_plan

    console.quiet = quiet
    economy = _read(folder)
    proposals = read_units(units, economy)
    with console.step(f"planning in rounds with {len(proposals)} private proposal(s)"):
        result = run_rounds(economy, proposals, max_rounds, objective)
    with staged_folder(out) as tmp:
        result.rounds.to_csv(tmp / "rounds.csv", index=False)
        result.valuations.to_csv(tmp / "valuations.csv", index=False)
        write_plan(result.plan, tmp / "plan")
    for row in result.rounds.itertuples():
        console.say(f"round {row.round}: objective {row.objective:.6g}, {row.proposed} "
                    f"proposed, {row.adopted} adopted")
    last = result.rounds.iloc[-1]
    console.say("converged: no unit has a paying proposal" if last["converged"] else
                f"stopped after {max_rounds} rounds with proposals still paying")
    console.say(f"wrote {out}/rounds.csv, valuations.csv and the final plan in {out}/plan")


@app.command()
def plot(
    plan_folder: Annotated[Path, typer.Argument(help="a solved-plan folder (from solve)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="picture: .png, .svg or .html")],
) -> None:
    """Draw a solved plan: fulfilment, resource use, investment, valuations."""
    from counterplan.plan.plot import write_picture

    write_picture(plan_folder, out)
    typer.echo(f"wrote {out}")


@app.command()
def example(
    name: Annotated[str, typer.Argument(help="example name, or 'list' to list them")],
    folder: Annotated[Path | None, typer.Argument(help="where to write its plan folder")] = None,
) -> None:
    """List the bundled examples, or write one as a plan folder."""
    from counterplan import examples

    if name == "list":
        for n in examples.names():
            typer.echo(f"{n}\n    {examples.describe(n)}")
        return
    if folder is None:
        raise CounterplanError(f"say where to write it: counterplan example {name} FOLDER")
    examples.copy_example(name, folder)
    typer.echo(f"wrote the {name} example to {folder}")


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="plan folder to write")],
    products: Annotated[int, typer.Option(min=1, help="number of products")] = 1000,
    inputs: Annotated[int | None, typer.Option(
        min=1, help="inputs per product (default log2(N) + 5)")] = None,
    periods: Annotated[int, typer.Option(min=1, help="number of periods")] = 1,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    stocks: Annotated[bool, typer.Option(
        "--stocks/--no-stocks", help="capacity stocks and investment techniques")] = False,
    format: Annotated[str, typer.Option(help="csv or parquet (default: parquet above "
                                        "100,000 products)")] = "auto",
    quiet: Quiet = False,
) -> None:
    """Generate a realistic sparse economy for benchmarks (deterministic from the seed)."""
    from counterplan.generate import GeneratorOptions
    from counterplan.generate import generate as make
    from counterplan.io.folder import write_folder

    console.quiet = quiet
    if format not in ("auto", "csv", "parquet"):
        raise CounterplanError(f"unknown --format {format!r}; use csv or parquet")
    chosen = ("parquet" if products > 100_000 else "csv") if format == "auto" else format
    options = GeneratorOptions(products=products, inputs=inputs, periods=periods, seed=seed,
                               stocks=stocks)
    with console.step(f"generating {products:,} products"):
        economy = make(options)
    with console.step(f"writing {out} ({chosen})"):
        write_folder(economy, out, format=chosen)  # type: ignore[arg-type]
    console.say(f"{economy!r}")


@import_app.command("pymrio")
def import_pymrio(
    src: Annotated[Path, typer.Argument(help="folder written by pymrio's save_all")],
    out: Annotated[Path, typer.Argument(help="plan folder to write")],
    format: Annotated[str, typer.Option(help="csv or parquet")] = "csv",
) -> None:
    """Import a pymrio folder (txt or parquet) as a plan folder; pymrio itself
    is not needed."""
    from counterplan.io.folder import write_folder
    from counterplan.io.pymrio import read_pymrio_folder

    if format not in ("csv", "parquet"):
        raise CounterplanError(f"unknown --format {format!r}; use csv or parquet")
    economy = read_pymrio_folder(src)
    write_folder(economy, out, format=format)  # type: ignore[arg-type]
    typer.echo(f"{economy!r}\nwrote {out}")


def main() -> None:
    """Entry point: run the app, turning a user's mistake into a message.
    Usage errors are reported by the command-line parser itself (exit 2)."""
    try:
        app()
    except InvalidInput as exc:
        _print_problems(list(exc.problems))
        n_errors = len([p for p in exc.problems if p.severity is Severity.ERROR])
        typer.echo(f"error: {n_errors} error(s) in the input; nothing was written", err=True)
        sys.exit(1)
    except CounterplanError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
