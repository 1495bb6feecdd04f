"""The command-line interface: glue only.  Each command parses its arguments,
calls the library, prints and sets the exit code:

    0  done;  1  a mistake in the input (a message, never a traceback);
    2  a mistake in the command line;  3  `balance` found deficits;
    130  interrupted (Ctrl-C), nothing written.

How to add a command, keeping start-up instant (``counterplan --help`` must not
load numpy, pandas, HiGHS or SQLAlchemy; tests/test_cli.py checks it):

1. Import nothing heavy at the top of this module.  A command imports what it
   needs inside its body::

       @app.command()
       def monitor(folder: Folder, out: OutFolder = None, quiet: Quiet = False) -> None:
           \"\"\"One short sentence for the command list.

           More about it, shown by `counterplan monitor --help`.\"\"\"
           from counterplan.monitor import run_monitor   # here, not at the top
           ...

2. Or, for a command that lives in its own module (with its own heavy
   imports at the top), register it lazily by name; the module is imported
   only when the command runs or shows its help::

       app.lazy("serve", "counterplan.web.cli:serve", "Run the web application.")

Give every option a metavar (``metavar="DIR"``) and every command a first
sentence short enough for the command list.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from counterplan.cli_support import HELP_CHOICES, App, Console
from counterplan.errors import CounterplanError, InvalidInput, Problem, Severity

if TYPE_CHECKING:
    import pandas as pd

    from counterplan.calc.linear import SolveOptions
    from counterplan.counter.proposals import CounterPlan
    from counterplan.model import Economy

app = App(no_args_is_help=True,
          help="Plan an economy: balances, labour values, optimal plans, counter-plans.")
import_app = App(no_args_is_help=True, help="Import economies from other tools.")
app.add_typer(import_app, name="import", help="Import economies from other tools.")
app.lazy("serve", "counterplan.web.cli:serve", "Run the web application.")
app.lazy("users", "counterplan.web.cli:users_app", "Administer the web application's accounts.")
app.lazy("export", "counterplan.web.cli:export",
         "Write the web application's whole state to a folder.")
app.lazy("restore", "counterplan.web.cli:restore", "Restore an archive into a new database.")
app.lazy("compare", "counterplan.mechanisms.cli:compare",
         "Compare planning mechanisms on one economy.")
app.lazy("sweep", "counterplan.mechanisms.cli:sweep",
         "Run many plans from one specification on Dask distributed.")
app.lazy("monitor", "counterplan.cycle.cli:monitor",
         "Watch fulfilment: filter every index, raise exceptions.")
app.lazy("replan", "counterplan.cycle.cli:replan",
         "Re-plan the remaining periods from what actually happened.")

console = Console()

#: exit status of `balance` when the targets need more than there is
DEFICITS = 3


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number (a tolerance such as 1e-4)") \
            from None
    if not 0 < value < 1:
        raise typer.BadParameter(f"{text} is not a tolerance between 0 and 1 (such as 1e-4)")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise typer.BadParameter(f"{text} is not a positive number of seconds")
    return value


def _choice(text: str, choices: tuple[str, ...]) -> str:
    """``text`` if it is one of ``choices``, else a usage error (exit 2)."""
    if text not in choices:
        raise typer.BadParameter(f"{text!r} is not one of {', '.join(choices)}")
    return text


def _algorithms() -> tuple[str, ...]:
    """The algorithms the solver offers, as the library declares them."""
    from counterplan.plan.highs import ALGORITHMS

    return ALGORITHMS


def _objectives() -> tuple[str, ...]:
    from counterplan.schema import OBJECTIVE_KINDS

    return OBJECTIVE_KINDS


def _algorithm(text: str) -> str:
    return _choice(text, _algorithms())


def _objective(text: str) -> str:
    return _choice(text, _objectives())


def _method(text: str) -> str:
    return _choice(text, ("auto", "direct", "iterative"))


def _format(text: str) -> str:
    return _choice(text, ("auto", "csv", "parquet"))


def _csv_or_parquet(text: str) -> str:
    return _choice(text, ("csv", "parquet"))


HELP_CHOICES["algorithms"] = _algorithms
HELP_CHOICES["objectives"] = _objectives

Folder = Annotated[Path, typer.Argument(
    help="plan folder (economy.toml and CSV or Parquet tables)", metavar="FOLDER",
    show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="print only errors")]
Force = Annotated[bool, typer.Option(
    "--force", help="write into an output folder that is not empty")]
Objective = Annotated[str | None, typer.Option(
    help="what to optimise: {objectives}", metavar="NAME", show_default="economy.toml's",
    parser=_objective)]
Method = Annotated[str, typer.Option(
    help="how to solve I - A: auto, direct (sparse LU) or iterative", metavar="NAME",
    parser=_method)]


def _out(help: str, default: str, metavar: str = "DIR") -> object:
    return typer.Option("--out", "-o", help=help, metavar=metavar, show_default=default)


def _print_problems(problems: list[Problem] | tuple[Problem, ...], err: bool = True) -> None:
    for p in problems:
        typer.echo(str(p), err=err)


def _output_folder(out: Path | None, folder: Path, suffix: str, force: bool,
                   inputs: list[Path], earlier: frozenset[str] | None) -> Path:
    """The output folder (default FOLDER-suffix), checked before any work."""
    from counterplan.io.outputs import prepare_folder

    out = out or folder.with_name(f"{folder.name}-{suffix}")
    prepare_folder(out, inputs, force, earlier)
    return out


def _wrote(out: Path) -> str:
    return f"wrote {out}: {', '.join(sorted(p.name for p in out.iterdir()))}"


def _version(shown: bool) -> None:
    if shown:
        from counterplan import __version__

        typer.echo(f"counterplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", help="show the version and exit", is_eager=True, callback=_version)
        ] = False) -> None:
    """Plan an economy: balances, labour values, optimal plans, counter-plans.

    Run `counterplan COMMAND --help` for a command's options; docs/cli.md has
    examples of each."""


@app.command()
def check(folder: Folder) -> None:
    """Check a plan folder and list every problem.

    Each problem names the file, the line, the value and the fix.  Exit 1 on
    errors, 0 when there are only warnings."""
    from counterplan.io.folder import check_folder

    problems = check_folder(folder)
    _print_problems(problems.found, err=False)
    n_err, n_warn = len(problems.errors), len(problems.warnings)
    typer.echo(f"{folder}: {n_err} error(s), {n_warn} warning(s)")
    if n_err:
        raise typer.Exit(1)


def _read(folder: Path) -> Economy:
    from counterplan.io.folder import load_folder

    with console.step(f"reading {folder}"):
        economy, warnings = load_folder(folder)
    for w in warnings:
        console.note(str(w))
    return economy


BALANCE_FILES = frozenset({"activity.csv", "balance.csv", "resources.csv"})


@app.command()
def balance(
    folder: Folder,
    out: Annotated[Path | None, _out("folder for the balance tables", "FOLDER-balance")] = None,
    method: Method = "auto",
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Material balances: what the targets require, and whether it is there.

    For an economy in input-output form, the activities that deliver exactly
    the targets, and for every product and resource whether it is there.
    Exit 3 when there are deficits (the tables are written all the same)."""
    from counterplan.calc.balance import material_balance
    from counterplan.io.atomic import staged_folder

    console.quiet = quiet
    out = _output_folder(out, folder, "balance", force, [folder], BALANCE_FILES)
    economy = _read(folder)
    with console.step("solving the balance"):
        result = material_balance(economy, _solve_options(method))
    with console.step(f"writing {out}"), staged_folder(out) as tmp:
        result.activity.to_csv(tmp / "activity.csv", index=False)
        result.products.to_csv(tmp / "balance.csv", index=False)
        result.resources.to_csv(tmp / "resources.csv", index=False)
    console.say(f"{economy!r}")
    console.say(f"solved by the {result.report.method} method, relative residual "
                f"{result.report.residual:.0e}")
    if result.idle_techniques:
        console.say(f"{len(result.idle_techniques)} technique(s) make only stocks and are left "
                    "at zero (investment is chosen by `counterplan solve`)")
    deficits = result.deficits()
    if len(deficits):
        typer.echo(f"{len(deficits)} deficit(s): the targets need more than there is")
        typer.echo(deficits.head(20).to_string(index=False))
    else:
        console.say("balanced: every product and resource the targets need is there")
    console.say(_wrote(out))
    if len(deficits):
        raise typer.Exit(DEFICITS)


def _solve_options(method: str) -> SolveOptions:
    from counterplan.calc.linear import SolveOptions

    return SolveOptions(method=method)  # type: ignore[arg-type]


@app.command()
def values(
    folder: Folder,
    out: Annotated[Path | None, _out("output file (.csv or .parquet)", "FOLDER-values.csv",
                                     "FILE")] = None,
    resource: Annotated[list[str] | None, typer.Option(
        help="only this resource or stock (repeatable); default all", metavar="ID")] = None,
    method: Method = "auto",
    quiet: Quiet = False,
) -> None:
    """Embodied resources per unit of each product (labour values for labour).

    The amount of each resource needed, directly and through the inputs of
    the inputs, per unit of each product."""
    import numpy as np
    import pandas as pd

    from counterplan.calc.leontief import embodied, io_system
    from counterplan.io.outputs import prepare_file
    from counterplan.schema import PRODUCT

    console.quiet = quiet
    out = out or folder.with_name(f"{folder.name}-values.csv")
    prepare_file(out, [folder])
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
        v, report = embodied(system, rows, _solve_options(method))
    ids = economy.items.index.to_numpy(dtype=object)
    table = pd.DataFrame({
        "item": np.repeat(ids[system.products], len(rows)),
        "resource": np.tile(ids[rows], len(system.products)),
        "value": v.reshape(-1),
    })
    _write_table(table, out)
    console.say(f"solved by the {report.method} method, relative residual {report.residual:.0e}")
    console.say(f"wrote {len(table)} values to {out}")


def _write_table(table: pd.DataFrame, out: Path) -> None:
    from counterplan.io.atomic import staged_file

    with console.step(f"writing {out}"), staged_file(out) as tmp:
        if out.suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)


PLAN_FILES = frozenset({"summary.json", "activity.csv", "fulfilment.csv", "balance.csv",
                        "resources.csv", "stocks.csv"})


@app.command()
def solve(
    folder: Folder,
    out: Annotated[Path | None, _out("folder for the solved plan", "FOLDER-plan")] = None,
    objective: Objective = None,
    algorithm: Annotated[str, typer.Option(
        help="the solver's algorithm, one of {algorithms}; auto chooses by size",
        metavar="NAME", parser=_algorithm)] = "auto",
    time_limit: Annotated[float | None, typer.Option(
        help="stop the solver after this many seconds", metavar="SECONDS",
        parser=_positive)] = None,
    tolerance: Annotated[float | None, typer.Option(
        help="the solver's tolerance (pdhg: the relative error in plan-relative units, "
             "default 1e-4; HiGHS: its feasibility tolerance, default 1e-7)",
        metavar="EPS", parser=_tolerance)] = None,
    device: Annotated[str, typer.Option(
        help="where pdhg runs: cpu, or gpu (needs CuPy and a CUDA device)",
        metavar="DEVICE")] = "cpu",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="show the solver's log")
                       ] = False,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """The optimal plan over all periods, with the valuation of everything.

    The valuations (the duals) of every product, resource and stock in every
    period come with it."""
    from counterplan.plan import PlanOptions, SolverOptions, write_plan
    from counterplan.plan import solve as solve_plan

    console.quiet = quiet
    out = _output_folder(out, folder, "plan", force, [folder], PLAN_FILES)
    economy = _read(folder)
    if device not in ("cpu", "gpu"):
        raise CounterplanError(f"unknown --device {device!r}; use cpu or gpu")
    options = PlanOptions(solver=SolverOptions(algorithm=algorithm,  # type: ignore[arg-type]
                                               time_limit=time_limit, log=verbose,
                                               tolerance=tolerance, progress=not quiet,
                                               device=device))  # type: ignore[arg-type]
    with console.step("solving the plan"):
        plan = solve_plan(economy, objective, options)
    write_plan(plan, out)
    console.note(f"solved by {plan.info.solver} ({plan.info.algorithm}) in "
                 f"{plan.info.solve_seconds:.2f} s, built in {plan.info.build_seconds:.2f} s")
    console.say(f"{economy!r}")
    console.say(f"{plan.status}: {plan.objective} objective {plan.value:.6g}")
    if plan.lambdas is not None:
        lambdas = ", ".join(f"{p} {v:.6g}" for p, v in zip(economy.periods, plan.lambdas,
                                                          strict=True))
        console.say(f"complete sets of the targets (lambda) per period: {lambdas}")
    top = plan.resources_table().sort_values("valuation", ascending=False).head(5)
    if len(top) and top["valuation"].iloc[0] > 0:
        console.say("highest valuations of resources and stocks:")
        console.say(top.to_string(index=False))
    console.say(_wrote(out))


CounterPlans = Annotated[Path, typer.Argument(
    help="counter-plan CSV: id, unit_id, kind, technique, item, period, value, note",
    metavar="COUNTERPLANS", show_default=False)]


def _read_counterplans(path: Path, economy: Economy) -> list[CounterPlan]:
    from counterplan.counter.proposals import load_counterplans

    plans, warnings = load_counterplans(path, economy)
    for w in warnings:
        console.note(str(w))
    return plans


@app.command()
def evaluate(
    folder: Folder,
    counterplans: CounterPlans,
    out: Annotated[Path | None, _out("folder for verdicts and effects", "FOLDER-verdicts")
                   ] = None,
    objective: Objective = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Judge each counter-plan alone against the optimal plan.

    For each: the verdict, the share that fits, the objective after, the
    reason, and the effect on every target."""
    from counterplan.counter.evaluate import evaluate as judge
    from counterplan.io.atomic import staged_folder

    console.quiet = quiet
    out = _output_folder(out, folder, "verdicts", force, [folder, counterplans],
                         frozenset({"verdicts.csv", "effects.csv"}))
    economy = _read(folder)
    plans = _read_counterplans(counterplans, economy)
    with console.step(f"evaluating {len(plans)} counter-plan(s)"):
        result = judge(economy, plans, objective)
    with staged_folder(out) as tmp:
        result.verdicts.to_csv(tmp / "verdicts.csv", index=False)
        result.effects.to_csv(tmp / "effects.csv", index=False)
    for row in result.verdicts.itertuples():
        console.say(f"{row.id}: {row.verdict} (share {row.share:.4g}, objective "
                    f"{row.objective_before:.6g} -> {row.objective_after:.6g})\n  {row.reason}")
    console.say(_wrote(out))


@app.command()
def reconcile(
    folder: Folder,
    counterplans: CounterPlans,
    out: Annotated[Path | None, _out("folder for the reconciled plan", "FOLDER-reconciled")
                   ] = None,
    objective: Objective = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Reconcile all counter-plans together, decided by the optimiser.

    Adopt what does not lower the plan; keep each pledge at the largest share
    the optimum allows."""
    from counterplan.counter.reconcile import reconcile as settle
    from counterplan.plan import write_plan

    console.quiet = quiet
    out = _output_folder(out, folder, "reconciled", force, [folder, counterplans],
                         PLAN_FILES | {"reconciliation.csv"})
    economy = _read(folder)
    plans = _read_counterplans(counterplans, economy)
    with console.step(f"reconciling {len(plans)} counter-plan(s)"):
        result = settle(economy, plans, objective)
    write_plan(result.plan, out, extra={"reconciliation.csv": result.table})
    for row in result.table.itertuples():
        console.say(f"{row.id}: {row.verdict} (share {row.share:.4g})\n  {row.reason}")
    console.say(f"reconciled objective {result.plan.value:.6g}")
    console.say(_wrote(out))


@app.command()
def conference(
    folder: Folder,
    adopted: Annotated[Path, typer.Option(
        help="counter-plan CSV whose norm rows were adopted (the reconciliation's accepted "
             "ones)", metavar="COUNTERPLANS", show_default=False)],
    out: Annotated[Path | None, _out("folder for candidates.csv and best-norms.csv",
                                     "FOLDER-conference")] = None,
    exact: Annotated[bool, typer.Option(
        "--exact", help="also the exact gain of each candidate (one evaluation each)")
        ] = False,
    objective: Objective = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Offer adopted better norms to every unit with a comparable, worse technique.

    The adopted norms are put into the economy, the plan is solved, and every
    technique of another unit that makes the same product with more of the
    same input is listed with what matching the better norm would gain."""
    import numpy as np

    from counterplan.counter.conference import adopted_norms, best_norms
    from counterplan.counter.conference import conference as gather
    from counterplan.counter.reconcile import adopt
    from counterplan.io.atomic import staged_folder
    from counterplan.plan import solve as solve_plan

    console.quiet = quiet
    out = _output_folder(out, folder, "conference", force, [folder, adopted],
                         frozenset({"candidates.csv", "best-norms.csv"}))
    economy = _read(folder)
    plans = _read_counterplans(adopted, economy)
    norms = adopted_norms(plans, economy)
    if not norms:
        raise InvalidInput([Problem(adopted.name, None, "has no norm rows: nothing to offer",
                                    "give the counter-plans whose norms were adopted "
                                    "(kind 'norm')")])
    economy = adopt(economy, [p for p in plans if any(c.kind == "norm" for c in p.changes)])
    with console.step("solving the plan with the adopted norms"):
        plan = solve_plan(economy, objective)
    with console.step(f"comparing {len(norms)} adopted norm(s)" +
                      (" and evaluating each candidate" if exact else "")):
        table = gather(economy, plan, norms, exact, objective)
    with staged_folder(out) as tmp:
        table.to_csv(tmp / "candidates.csv", index=False)
        best_norms(economy).to_csv(tmp / "best-norms.csv", index=False)
    for row in table.to_dict("records"):
        exact_gain = float(row["exact_gain"])
        gain = "" if np.isnan(exact_gain) else f", exact {exact_gain:.6g}"
        console.say(f"{row['unit']}/{row['technique']}: {row['input']} per {row['product']} "
                    f"{float(row['norm']):.6g} -> {float(row['better_norm']):.6g} as "
                    f"{row['holder_unit']}/{row['holder_technique']} (gain estimated "
                    f"{float(row['estimated_gain']):.6g}{gain})")
    console.say(f"{len(table)} candidate(s) for {len(norms)} adopted norm(s)")
    console.say(_wrote(out))


@app.command()
def rounds(
    folder: Folder,
    units: Annotated[Path, typer.Option(
        help="folder with one plan folder per unit: its private techniques and capacity",
        metavar="DIR")],
    out: Annotated[Path | None, _out("folder for the rounds", "FOLDER-rounds")] = None,
    max_rounds: Annotated[int, typer.Option(min=1, help="stop after this many rounds",
                                            metavar="N")] = 20,
    objective: Objective = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Two-level planning: units propose what pays, until nothing does.

    Publish the plan and its valuations, collect the units' paying proposals,
    reconcile, republish, until no unit has a proposal that pays."""
    from counterplan.counter.rounds import read_units, run_rounds
    from counterplan.io.atomic import staged_folder
    from counterplan.plan import write_plan

    console.quiet = quiet
    out = _output_folder(out, folder, "rounds", force, [folder, units],
                         frozenset({"rounds.csv", "valuations.csv", "plan"}))
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
    console.say(f"wrote {out}: rounds.csv, valuations.csv and the final plan in {out}/plan")


@app.command()
def plot(
    plan_folder: Annotated[Path, typer.Argument(
        help="a solved-plan folder (from solve)", metavar="PLAN", show_default=False)],
    out: Annotated[Path | None, _out("picture: .png, .svg or .html", "PLAN.png", "FILE")
                   ] = None,
) -> None:
    """Draw a solved plan: fulfilment, resource use, investment, valuations."""
    from counterplan.io.outputs import prepare_file
    from counterplan.plan.plot import write_picture

    out = out or plan_folder.with_name(f"{plan_folder.name}.png")
    prepare_file(out, [plan_folder])
    write_picture(plan_folder, out)
    typer.echo(f"wrote {out}")


@app.command()
def example(
    name: Annotated[str, typer.Argument(
        help="example name, or 'list' to list them", metavar="NAME", show_default=False)],
    folder: Annotated[Path | None, typer.Argument(
        help="where to write its plan folder", metavar="FOLDER", show_default=False)] = None,
    force: Force = False,
) -> None:
    """List the bundled examples, or write one as a plan folder."""
    from counterplan import examples
    from counterplan.io.outputs import prepare_folder

    if name == "list":
        for n in examples.names():
            typer.echo(n)
            typer.echo(textwrap.fill(examples.describe(n), 79, initial_indent="    ",
                                     subsequent_indent="    ", break_on_hyphens=False))
        return
    if folder is None:
        raise CounterplanError(f"say where to write it: counterplan example {name} FOLDER")
    examples.describe(name)  # an unknown name is refused before anything else
    prepare_folder(folder, [], force)
    examples.copy_example(name, folder)
    typer.echo(f"wrote the {name} example to {folder}")


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="plan folder to write", metavar="FOLDER",
                                        show_default=False)],
    products: Annotated[int, typer.Option(min=1, help="number of products", metavar="N")
                        ] = 1000,
    inputs: Annotated[int | None, typer.Option(
        min=1, help="inputs per product", metavar="K", show_default="log2(N) + 5")] = None,
    periods: Annotated[int, typer.Option(min=1, help="number of periods", metavar="T")] = 1,
    seed: Annotated[int, typer.Option(help="random seed", metavar="SEED")] = 0,
    stocks: Annotated[bool, typer.Option(
        "--stocks/--no-stocks", help="capacity stocks and investment techniques")] = False,
    sectors: Annotated[int, typer.Option(
        min=0, help="products in K sectors of neighbouring ids, drawing most inputs from "
                    "their own sector (0: from the whole economy)", metavar="K")] = 0,
    format: Annotated[str, typer.Option(
        help="auto, csv or parquet; auto is Parquet above 100,000 products", metavar="NAME",
        parser=_format)] = "auto",
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Generate a realistic sparse economy for benchmarks (deterministic from the seed)."""
    from counterplan.generate import GeneratorOptions
    from counterplan.generate import generate as make
    from counterplan.io.folder import write_folder
    from counterplan.io.outputs import prepare_folder

    console.quiet = quiet
    prepare_folder(out, [], force)
    chosen = ("parquet" if products > 100_000 else "csv") if format == "auto" else format
    options = GeneratorOptions(products=products, inputs=inputs, periods=periods, seed=seed,
                               stocks=stocks, sectors=sectors)
    with console.step(f"generating {products:,} products"):
        economy = make(options)
    with console.step(f"writing {out} ({chosen})"):
        write_folder(economy, out, format=chosen)  # type: ignore[arg-type]
    console.say(f"{economy!r}")


@import_app.command("pymrio")
def import_pymrio(
    src: Annotated[Path, typer.Argument(help="folder written by pymrio's save_all",
                                        metavar="SRC", show_default=False)],
    out: Annotated[Path, typer.Argument(help="plan folder to write", metavar="OUT",
                                        show_default=False)],
    format: Annotated[str, typer.Option(help="csv or parquet", metavar="NAME",
                                        parser=_csv_or_parquet)] = "csv",
    force: Force = False,
) -> None:
    """Import a pymrio folder (txt or parquet) as a plan folder.

    pymrio itself is not needed."""
    from counterplan.io.folder import write_folder
    from counterplan.io.outputs import prepare_folder
    from counterplan.io.pymrio import read_pymrio_folder

    prepare_folder(out, [src], force)
    economy = read_pymrio_folder(src)
    write_folder(economy, out, format=format)  # type: ignore[arg-type]
    typer.echo(f"{economy!r}\nwrote {out}")


def main() -> None:
    """Entry point: run the app, turning a user's mistake into a message.
    Usage errors are reported by the command-line parser itself (exit 2)."""
    try:
        app(prog_name="counterplan")
    except InvalidInput as exc:
        _print_problems(exc.problems)
        n_errors = len([p for p in exc.problems if p.severity is Severity.ERROR])
        typer.echo(f"error: {n_errors} error(s) in the input; nothing was written", err=True)
        sys.exit(1)
    except CounterplanError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
