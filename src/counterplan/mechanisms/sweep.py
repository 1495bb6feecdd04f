"""Sweeps: many plans from one SPEC.toml, run on Dask distributed.

Each run's inputs are hashed (:func:`counterplan.mechanisms.spec.run_hash`);
its row is written to ``OUT/runs/HASH.parquet`` as soon as it finishes, so a
sweep that is interrupted resumes where it stopped: a run already in OUT is
skipped.  A run that fails (an error, a timeout, a worker killed for using
too much memory) is recorded with its error and the sweep goes on.  At the
end every row is gathered in ``OUT/results.parquet`` with summary plots in
``OUT/summary.png`` and the sweep's settings in ``OUT/sweep.json``.

Dask is imported only here, inside the functions: the command line starts
without it.  Workers run one task at a time with BLAS pinned to one thread
(two BLAS threads per worker on a shared core made a solver 100× slower).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counterplan.errors import CounterplanError
from counterplan.mechanisms.spec import Spec, run_hash


class SchedulerUnreachable(CounterplanError):
    """The Dask scheduler given with --scheduler did not answer."""


@dataclass(frozen=True)
class SweepReport:
    total: int
    skipped: int
    done: int
    failed: int
    workers: int
    memory_per_worker: int
    seconds: float


def execute(run: dict[str, Any]) -> dict[str, Any]:
    """One run, on a worker: build the economy, run the mechanism, measure.
    Never raises: a failure is a row with ``status = "failed"`` and the error."""
    from threadpoolctl import threadpool_limits

    start, cpu = time.perf_counter(), time.process_time()
    row: dict[str, Any] = {"hash": run_hash(run), **_flat(run)}
    try:
        with threadpool_limits(1):
            result = _mechanism(run)
            summary = result.summary()
            summary.pop("mechanism")
            row.update(summary)
            row["status"], row["error"] = "ok", ""
    except Exception as exc:
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=5)
    row["run_seconds"] = time.perf_counter() - start
    row["cpu_seconds"] = time.process_time() - cpu
    return row


def _mechanism(run: dict[str, Any]) -> Any:
    from counterplan.mechanisms.perturb import Perturbation, perturb
    from counterplan.mechanisms.registry import MECHANISMS

    economy = _economy(run["economy"], run["seed"])
    economy = perturb(economy, Perturbation(run["targets"], run["availability"], run["norms"],
                                            run["seed"]))
    return MECHANISMS[run["mechanism"]](economy)


def _economy(spec: dict[str, Any], seed: int) -> Any:
    if "generate" in spec:
        from counterplan.generate import GeneratorOptions, generate

        return generate(GeneratorOptions(seed=seed, **spec["generate"]))
    from counterplan.io.folder import read_folder

    economy = read_folder(spec["folder"])
    if "counterplans" not in spec:
        return economy
    import numpy as np

    from counterplan.counter.proposals import read_counterplans
    from counterplan.counter.reconcile import reconcile

    plans = read_counterplans(spec["counterplans"], economy)
    rng = np.random.default_rng([seed, spec["subset"]])
    chosen = rng.choice(len(plans), size=min(spec["subset_size"], len(plans)), replace=False)
    return reconcile(economy, [plans[int(k)] for k in sorted(chosen)]).economy


def _flat(run: dict[str, Any]) -> dict[str, Any]:
    economy = run["economy"]
    flat: dict[str, Any] = {k: v for k, v in run.items() if k != "economy"}
    if "generate" in economy:
        flat.update({k: v for k, v in economy["generate"].items()})
    else:
        flat.update({k: v for k, v in economy.items()})
    return flat


def connect(scheduler: str | None, workers: int | None, memory: str | None,
            timeout: float = 10.0) -> tuple[Any, Any, int, int]:
    """A Dask client: on ``scheduler`` if given, else on a LocalCluster of one
    single-threaded worker per core (or ``workers``), each limited to
    ``memory`` (default: the machine's memory shared equally).  Returns the
    client, the cluster (None for a remote scheduler), workers and bytes per worker."""
    import os

    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster
    from distributed.system import MEMORY_LIMIT

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"the Dask scheduler at {scheduler} did not answer within {timeout:g} s "
                f"({type(exc).__name__}); start it (`dask scheduler`) or leave out "
                "--scheduler to run on this machine") from None
        info = client.scheduler_info()
        limits = [w.get("memory_limit", 0) for w in info.get("workers", {}).values()]
        return client, None, len(limits), int(min(limits, default=0))
    n = workers or os.cpu_count() or 1
    per_worker = parse_bytes(memory) if memory else int(MEMORY_LIMIT // n)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           memory_limit=per_worker, dashboard_address=None)
    return Client(cluster), cluster, n, per_worker


def run_sweep(spec: Spec, out: Path, scheduler: str | None = None, workers: int | None = None,
              say: Callable[[str], None] = print, connect_timeout: float = 10.0
              ) -> SweepReport:
    """Run every run of ``spec`` not already in ``out``; gather the results."""
    start = time.perf_counter()
    runs_dir = out / "runs"
    todo = [r for r in spec.runs if not (runs_dir / f"{run_hash(r)}.parquet").exists()]
    done = failed = n_workers = memory = 0
    if todo:  # connect first: a scheduler that does not answer leaves OUT untouched
        client, cluster, n_workers, memory = connect(scheduler, workers, spec.memory_per_worker,
                                                     connect_timeout)
        try:
            say(f"{len(spec.runs)} run(s), {len(spec.runs) - len(todo)} already done; "
                f"{n_workers} worker(s) of {memory / 2**30:.2f} GiB each")
            done, failed = run_on(client, todo, out, spec.timeout, say)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    report = SweepReport(total=len(spec.runs), skipped=len(spec.runs) - len(todo), done=done,
                         failed=failed, workers=n_workers, memory_per_worker=memory,
                         seconds=time.perf_counter() - start)
    gather(spec, out, report)
    return report


def run_on(client: Any, todo: list[dict[str, Any]], out: Path, timeout: float,
           say: Callable[[str], None] = print) -> tuple[int, int]:
    """Run ``todo`` on a connected Dask client, each row written to OUT/runs
    as it comes; returns how many ran and how many failed."""
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    return _submit(client, todo, runs_dir, timeout, say)


def _submit(client: Any, todo: list[dict[str, Any]], runs_dir: Path, timeout: float,
            say: Callable[[str], None]) -> tuple[int, int]:
    """Submit every run; record each as it finishes.  Workers run one task at
    a time and start a run when another finishes, so when nothing finishes
    for ``timeout`` seconds every run in progress has run at least that long:
    those are recorded as failed, the workers restarted (the only way to stop
    them), and the runs not yet done submitted again."""
    from distributed import wait

    count = {"done": 0, "failed": 0}
    remaining = list(todo)
    while remaining:
        client.run(_warm)  # imports are not a run's time (again after a restart)
        futures = {client.submit(execute, run, key=f"run-{run_hash(run)}", pure=False): run
                   for run in remaining}
        pending = set(futures)
        while pending:
            try:
                finished, pending = wait(pending, timeout=timeout,
                                         return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished for `timeout` seconds
                break
            for future in finished:
                _record(future, futures[future], runs_dir, len(todo), count, say)
        if not pending:
            break
        running = {key for keys in client.run(_executing).values() for key in keys}
        stuck = [f for f in pending if f.key in running] or list(pending)
        for future in stuck:
            row = _failed(futures[future], f"TimeoutError: the run took over {timeout:g} s")
            _store(row, runs_dir, len(todo), count, say)
        client.restart()
        done_keys = {f.key for f in stuck}
        remaining = [futures[f] for f in pending if f.key not in done_keys]
    return count["done"], count["failed"]


def _executing(dask_worker: Any) -> list[str]:
    """The keys a worker is executing now (not those queued on it)."""
    return [str(task.key) for task in dask_worker.state.executing]


def _warm() -> None:
    import counterplan.mechanisms.registry  # noqa: F401


def _failed(run: dict[str, Any], error: str) -> dict[str, Any]:
    return {"hash": run_hash(run), **_flat(run), "status": "failed", "error": error,
            "run_seconds": float("nan")}


def _record(future: Any, run: dict[str, Any], runs_dir: Path, total: int,
            count: dict[str, int], say: Callable[[str], None]) -> None:
    try:
        row = future.result()
    except Exception as exc:  # a worker killed (memory), lost: recorded, never raised
        row = _failed(run, f"{type(exc).__name__}: {exc}")
    _store(row, runs_dir, total, count, say)


def _store(row: dict[str, Any], runs_dir: Path, total: int, count: dict[str, int],
           say: Callable[[str], None]) -> None:
    _write_row(row, runs_dir / f"{row['hash']}.parquet")
    count["done"] += 1
    count["failed"] += row["status"] != "ok"
    say(f"[{count['done']}/{total}] {row['mechanism']} {row['hash']}: {row['status']}"
        + (f" ({row['error']})" if row["status"] != "ok" else ""))


def _write_row(row: dict[str, Any], file: Path) -> None:
    """One row, written by the client as each run finishes (a remote cluster's
    workers need not see OUT); through Arrow, a third of pandas' CPU time, which
    on a machine whose every core runs a worker is taken from the runs."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from counterplan.io.atomic import staged_file

    table = pa.Table.from_pylist([{k: (json.dumps(v) if isinstance(v, dict) else v)
                                   for k, v in row.items()}])
    with staged_file(file) as tmp:
        pq.write_table(table, tmp)


def gather(spec: Spec, out: Path, report: SweepReport) -> None:
    """OUT/results.parquet (the runs of this spec), OUT/summary.png, OUT/sweep.json."""
    import pandas as pd

    from counterplan.io.atomic import staged_file

    frames = [pd.read_parquet(out / "runs" / f"{run_hash(r)}.parquet") for r in spec.runs
              if (out / "runs" / f"{run_hash(r)}.parquet").exists()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    with staged_file(out / "results.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    if len(table):
        with staged_file(out / "summary.png") as tmp:
            summary_plot(table, tmp)
    settings = {"name": spec.name, "runs": report.total, "skipped": report.skipped,
                "done_now": report.done, "failed_now": report.failed,
                "workers": report.workers, "memory_per_worker_bytes": report.memory_per_worker,
                "seconds": report.seconds}
    with staged_file(out / "sweep.json") as tmp:
        tmp.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def summary_plot(table: Any, file: Path) -> None:
    """Objective, rounds and seconds of the successful runs by mechanism, and
    how many failed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = table[table["status"] == "ok"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, column in zip(axes[:3], ("objective", "rounds", "seconds"), strict=True):
        groups = [(name, g[column].dropna().to_numpy(float))
                  for name, g in ok.groupby("mechanism")] if len(ok) else []
        if groups:
            ax.boxplot([g for _, g in groups], tick_labels=[n for n, _ in groups])
        ax.set_title(column)
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    counts = table.groupby(["mechanism", "status"]).size().unstack(fill_value=0)
    counts.plot.bar(ax=axes[3], stacked=True, rot=20)
    axes[3].set_title("runs")
    fig.tight_layout()
    fig.savefig(file, format="png", dpi=100)
    plt.close(fig)
