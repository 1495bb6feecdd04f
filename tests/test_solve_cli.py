"""`counterplan solve` and `counterplan plot`, run as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from test_cli import run, run_process


def test_solve_writes_the_solved_plan_folder(tmp_path: Path) -> None:
    run("example", "kantorovich-1939", tmp_path / "k")
    out = run("solve", tmp_path / "k", "--out", tmp_path / "plan", "--quiet")
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["objective"] == {"kind": "kantorovich", "value": pytest.approx(86 + 2 / 3)}
    assert summary["lambda"] == {"day": pytest.approx(86 + 2 / 3)}
    assert summary["solver"]["name"].startswith("HiGHS")
    assert set(summary["seconds"]) == {"build", "solve"}
    assert len(summary["input_hash"]) == 64
    assert summary["counterplan_version"]
    resources = pd.read_csv(tmp_path / "plan" / "resources.csv")
    assert list(resources.columns) == ["item", "period", "available", "used", "valuation"]
    assert resources.set_index("item")["valuation"].to_dict() == pytest.approx(
        {"milling": 20 / 3, "turret": 40 / 3, "automatic": 80 / 3})
    balance = pd.read_csv(tmp_path / "plan" / "balance.csv")
    assert list(balance.columns) == ["item", "period", "supply", "use", "final", "surplus",
                                     "valuation"]
    fulfilment = pd.read_csv(tmp_path / "plan" / "fulfilment.csv")
    assert list(fulfilment.columns) == ["item", "period", "target", "delivered", "ratio"]
    activity = pd.read_csv(tmp_path / "plan" / "activity.csv")
    assert list(activity.columns) == ["technique", "period", "level"]


def test_the_same_input_gives_the_same_hash(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "a")
    run("example", "textbook", tmp_path / "b")
    for name in "ab":
        assert run("solve", tmp_path / name, "--out", tmp_path / f"{name}-plan", "-q"
                   ).returncode == 0
    hashes = {json.loads((tmp_path / f"{n}-plan" / "summary.json").read_text())["input_hash"]
              for n in "ab"}
    assert len(hashes) == 1


def test_the_objective_option_wins_over_the_manifest(tmp_path: Path) -> None:
    run("example", "kantorovich-1939", tmp_path / "k")
    assert run("solve", tmp_path / "k", "--out", tmp_path / "p", "--objective", "harmony",
               "-q").returncode == 0
    summary = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert summary["objective"]["kind"] == "harmony"


def test_an_impossible_plan_exits_non_zero_with_the_conflict(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "t")
    folder = tmp_path / "t"
    (folder / "availability.csv").write_text("item,period,amount\nlabour,1,400\n")
    out = run("solve", folder, "--out", tmp_path / "p", "-q")
    assert out.returncode == 1
    assert "cannot be made" in out.stderr and "labour in 1" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "p").exists()


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Kantorovich's example solved once for the plot tests."""
    tmp = tmp_path_factory.mktemp("solved")
    run("example", "kantorovich-1939", tmp / "k")
    assert run("solve", tmp / "k", "--out", tmp / "plan", "-q").returncode == 0
    return tmp


@pytest.mark.parametrize("suffix", [".png", ".html", ".svg"])
def test_plot_draws_a_solved_plan(solved: Path, suffix: str) -> None:
    out = run("plot", solved / "plan", "--out", solved / f"plan{suffix}")
    assert out.returncode == 0, out.stderr
    data = (solved / f"plan{suffix}").read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG") and len(data) > 20_000
    else:
        text = data.decode()
        assert "<svg" in text and "Highest valuations" in text
        if suffix == ".html":
            assert "automatic" in text and "<script" not in text and "http" not in \
                text.split("<svg")[0]


def test_plot_refuses_a_folder_that_is_not_a_plan(solved: Path) -> None:
    out = run("plot", solved / "k", "--out", solved / "x.png")
    assert out.returncode == 1
    assert "not a solved-plan folder" in out.stderr
    out = run("plot", solved / "plan", "--out", solved / "x.pdf")
    assert out.returncode == 1 and ".png, .svg or .html" in out.stderr


@pytest.fixture(scope="module")
def long_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A five-period plan with stocks that HiGHS takes minutes over (docs/benchmarks.md)."""
    folder = tmp_path_factory.mktemp("long") / "g"
    out = run("generate", folder, "--products", "1000", "--periods", "5", "--stocks", "-q")
    assert out.returncode == 0, out.stderr
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["ipm", "pdlp"])
def test_ctrl_c_stops_a_long_solve_and_writes_nothing(long_plan: Path, algorithm: str) -> None:
    """Interior point is asked to stop; PDLP, which never checks, is left behind."""
    out = long_plan.with_name(f"plan-{algorithm}")
    # A test run started in the background by a shell (`pytest &`) inherits
    # SIGINT ignored, and Python then leaves it ignored in every child: the
    # child would not hear the Ctrl-C at all.  A handler of our own is reset
    # to the default at exec, so the child hears it as a terminal's would.
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        solving = subprocess.Popen(
            [sys.executable, "-m", "counterplan.cli", "solve", str(long_plan), "--out",
             str(out), "--algorithm", algorithm],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert solving.stderr is not None
        seen = ""
        while "solving the plan" not in seen and solving.poll() is None:
            seen += solving.stderr.read(1)
        time.sleep(1)  # into HiGHS's iterations
        solving.send_signal(signal.SIGINT)
        _, err = solving.communicate(timeout=15)  # minutes when Ctrl-C is not honoured
    finally:
        solving.kill()
        solving.communicate()  # reaped and its pipes closed, whatever happened
    assert solving.returncode == 130, err
    assert err.endswith("\ninterrupted; nothing was written\n")
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in long_plan.parent.iterdir()) == ["g"]


def test_the_solver_log_only_with_verbose_and_without_warnings(solved: Path) -> None:
    """HiGHS has nothing to warn about on Kantorovich's LP (no integrality
    array is passed), and its log is shown only when asked for."""
    out = run_process("solve", solved / "k", "--out", solved / "again", "--algorithm",
                      "simplex")
    assert out.returncode == 0, out.stderr
    assert "HiGHS" not in out.stdout and "Running HiGHS" not in out.stderr
    assert "solved by HiGHS" in out.stderr
    out = run_process("solve", solved / "k", "--out", solved / "again", "--algorithm",
                      "simplex", "--verbose")
    assert out.returncode == 0, out.stderr
    assert "Model status        : Optimal" in out.stdout
    assert "WARNING" not in out.stdout + out.stderr
