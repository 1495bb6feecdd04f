"""Sweeps on a real Dask LocalCluster of 2 workers: a grid of 8 runs, one of
which fails on purpose and is recorded; resuming skips what is done; bad
input is a named error with nothing written in OUT."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster

from counterplan.mechanisms import UnknownMechanism
from counterplan.mechanisms.spec import BadSpec, read_spec, run_hash
from counterplan.mechanisms.sweep import SchedulerUnreachable, run_sweep

#: 8 runs: seven economies that generate, one of a single product that cannot.
SPEC = """\
name = "ci"
mechanisms = ["harmony-heuristic"]
[generate]
products = [10, 12, 14, 16, 18, 20, 22, 1]
[perturb]
targets = 0.05
[run]
memory_per_worker = "1GiB"
timeout = 120
"""


def _spec(tmp_path: Path, text: str = SPEC) -> Path:
    file = tmp_path / "spec.toml"
    file.write_text(text, encoding="utf-8")
    return file


def test_sweep_records_the_failure_and_resumes(tmp_path: Path) -> None:
    spec = read_spec(_spec(tmp_path))
    out = tmp_path / "out"
    report = run_sweep(spec, out, workers=2, say=lambda _: None)
    assert (report.total, report.done, report.failed, report.workers) == (8, 8, 1, 2)
    assert report.memory_per_worker == 2**30
    table = pd.read_parquet(out / "results.parquet")
    assert len(table) == 8 and set(table["hash"]) == {run_hash(r) for r in spec.runs}
    failed = table[table["status"] == "failed"]
    assert list(failed["products"]) == [1]
    assert "products must be at least 2" in failed["error"].iloc[0]
    ok = table[table["status"] == "ok"]
    assert (ok["objective"] > 0).all() and (ok["rounds"] == 100).all()
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"

    # an interrupted sweep: three runs never finished; resumed on a running
    # cluster given by its scheduler's address (--scheduler)
    for run in spec.runs[:3]:
        (out / "runs" / f"{run_hash(run)}.parquet").unlink()
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="768MiB",
                      dashboard_address=None) as cluster:
        again = run_sweep(spec, out, scheduler=cluster.scheduler_address, say=lambda _: None)
    assert (again.skipped, again.done, again.workers) == (5, 3, 2)
    assert again.memory_per_worker == 768 * 2**20
    resumed = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_series_equal(resumed.set_index("hash")["objective"].sort_index(),
                                   table.set_index("hash")["objective"].sort_index())


@pytest.mark.parametrize("text, error, match", [
    ("name = 'x'\nmechanisms = [\n", BadSpec, "not valid TOML"),
    ("mechanisms = ['exact']\n[generate]\nproducts = [10]\nsize = 3\n", BadSpec,
     "unknown key size"),
    ("mechanisms = ['exact']\n", BadSpec, "exactly one of"),
    ("mechanisms = ['exact']\n[generate]\nproducts = ['ten']\n", BadSpec, "not an integer"),
    ("mechanisms = ['planometer']\n[generate]\nproducts = [10]\n", UnknownMechanism,
     "'planometer'"),
])
def test_a_malformed_spec_is_a_named_error(tmp_path: Path, text: str, error: type,
                                           match: str) -> None:
    with pytest.raises(error, match=match):
        read_spec(_spec(tmp_path, text))


def test_a_scheduler_that_does_not_answer_writes_nothing(tmp_path: Path) -> None:
    spec = read_spec(_spec(tmp_path))
    out = tmp_path / "out"
    with pytest.raises(SchedulerUnreachable, match="did not answer"):
        run_sweep(spec, out, scheduler="tcp://127.0.0.1:9", say=lambda _: None,
                  connect_timeout=2.0)
    assert not out.exists()


def test_a_folder_sweep_reconciles_subsets_of_counterplans(example, tmp_path: Path) -> None:
    """[folder] with counterplans: each subset is reconciled before the
    mechanism runs; runs are the real worker function, no cluster needed."""
    from counterplan.mechanisms.sweep import execute

    folder = example("kantorovich-1939")
    (tmp_path / "proposals.csv").write_text(
        "id,unit_id,kind,technique,item,period,value,note\n"
        "jig,milling-shop,norm,milling-part-1,part-1,,12,a jig\n"
        "lathe,turret-shop,capacity,,turret,,1,repaired\n"
        "shifts,automatic-shop,pledge,automatic-part-2,,,2,two shifts\n", encoding="utf-8")
    spec = read_spec(_spec(tmp_path, f"""\
mechanisms = ["exact"]
seeds = 3
[folder]
path = "{folder}"
counterplans = "proposals.csv"
subsets = 2
subset_size = 3
"""))
    assert len(spec.runs) == 6 and len({run_hash(r) for r in spec.runs}) == 6
    rows = [execute(run) for run in spec.runs]
    assert all(row["status"] == "ok" for row in rows), rows
    # all three adopted together: 102.5 complete sets (docs/counterplans.md)
    assert {round(row["objective"], 6) for row in rows} == {102.5}
    one = read_spec(_spec(tmp_path, f"""\
mechanisms = ["exact"]
seeds = 8
[folder]
path = "{folder}"
counterplans = "proposals.csv"
subset_size = 1
"""))
    alone = {round(execute(run)["objective"], 6) for run in one.runs}
    assert alone <= {90.0, 100.0, 86.666667} and len(alone) >= 2


def test_a_run_over_its_timeout_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    spec = read_spec(_spec(tmp_path, """\
mechanisms = ["harmony-heuristic"]
[generate]
products = [10, 600000, 12]
[run]
timeout = 6
"""))
    out = tmp_path / "out"
    report = run_sweep(spec, out, workers=1, say=lambda _: None)
    table = pd.read_parquet(out / "results.parquet").set_index("products")
    assert (report.done, report.failed) == (3, 1)
    assert table.loc[600000, "status"] == "failed"
    assert "took over 6 s" in table.loc[600000, "error"]
    assert (table.loc[[10, 12], "status"] == "ok").all()


def test_random_draws_per_seed_are_the_same_for_every_mechanism(tmp_path: Path) -> None:
    text = """\
mechanisms = ["exact", "harmony-heuristic"]
seeds = 6
[generate]
products = { min = 100, max = 10000 }
[perturb]
targets = { min = 0.0, max = 0.1 }
"""
    runs = read_spec(_spec(tmp_path, text)).runs
    assert runs == read_spec(_spec(tmp_path, text)).runs  # drawn from the seeds
    sizes = [r["economy"]["generate"]["products"] for r in runs]
    assert all(100 <= n <= 10_000 and isinstance(n, int) for n in sizes)
    assert sizes[::2] == sizes[1::2]  # both mechanisms plan the same economy
    assert len(set(sizes)) == 6 and all(0 <= r["targets"] <= 0.1 for r in runs)
    with pytest.raises(BadSpec, match="min 9 is above max 3"):
        read_spec(_spec(tmp_path, text.replace("{ min = 100, max = 10000 }",
                                                "{ min = 9, max = 3 }")))
