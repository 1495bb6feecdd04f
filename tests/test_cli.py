"""The command-line interface, run as a user runs it: a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from economies import MINIMAL


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "counterplan.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_example_list_names_every_example() -> None:
    out = run("example", "list")
    assert out.returncode == 0
    for name in ("brazil-2021", "kantorovich-1939", "textbook"):
        assert name in out.stdout


def test_the_readme_quickstart_on_brazil(tmp_path: Path) -> None:
    assert run("example", "brazil-2021", tmp_path / "br").returncode == 0
    out = run("balance", tmp_path / "br", "--out", tmp_path / "br-plan")
    assert out.returncode == 0, out.stderr
    assert "balanced" in out.stdout
    activity = pd.read_csv(tmp_path / "br-plan" / "activity.csv")
    assert list(activity.columns) == ["technique", "period", "level"]
    assert activity["level"].sum() == pytest.approx(16_581_873, rel=1e-12)
    balance = pd.read_csv(tmp_path / "br-plan" / "balance.csv")
    assert list(balance.columns) == ["item", "period", "supply", "use", "final", "surplus"]
    resources = pd.read_csv(tmp_path / "br-plan" / "resources.csv")
    assert list(resources.columns) == ["item", "period", "available", "used", "surplus"]


def test_values_writes_item_resource_value(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "tb")
    out = run("values", tmp_path / "tb", "--out", tmp_path / "values.csv", "--quiet")
    assert out.returncode == 0, out.stderr
    values = pd.read_csv(tmp_path / "values.csv")
    assert list(values.columns) == ["item", "resource", "value"]
    assert values["value"].tolist() == pytest.approx([0.335 / 0.7575, 0.2875 / 0.7575])
    out = run("values", tmp_path / "tb", "--out", tmp_path / "v.parquet", "--resource", "labour")
    assert out.returncode == 0
    assert pd.read_parquet(tmp_path / "v.parquet").shape == (2, 3)


def test_check_exit_codes(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "ok")
    assert run("check", tmp_path / "ok").returncode == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, text in MINIMAL.items():
        (bad / name).write_text(text.replace("grain,product", "grain,prodcut"))
    (bad / "flows.csv").write_text(MINIMAL["flows.csv"] + "mill,grain,-1\n")
    out = run("check", bad)
    assert out.returncode == 1
    assert "items.csv:3: error: unknown kind (value 'prodcut')" in out.stderr
    assert "flows.csv:9: error: unknown technique (value 'mill')" in out.stderr
    assert "Traceback" not in out.stderr


def test_warnings_only_exit_zero(tmp_path: Path) -> None:
    folder = tmp_path / "warn"
    folder.mkdir()
    for name, text in MINIMAL.items():
        (folder / name).write_text(text)
    (folder / "availability.csv").write_text("item,period,amount\nlabour,1,5\n")
    out = run("check", folder)
    assert out.returncode == 0
    assert "warning: resource has no availability in period(s) 2" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["balance", "{tmp}/nowhere", "--out", "{tmp}/o"], "plan folder not found"),
    (["balance", "{ex}", "--out", "{tmp}/o", "--method", "magic"], "unknown --method"),
    (["example", "atlantis", "{tmp}/x"], "no example called 'atlantis'"),
    (["values", "{ex}", "--out", "{tmp}/v.csv", "--resource", "sector-1"],
     "not a resource or stock"),
    (["values", "{ex}", "--out", "{tmp}"], "is a folder"),
])
def test_user_mistakes_give_a_message_not_a_traceback(tmp_path: Path, args: list[str],
                                                       message: str) -> None:
    run("example", "textbook", tmp_path / "ex")
    out = run(*[a.format(tmp=tmp_path, ex=tmp_path / "ex") for a in args])
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()


def test_invalid_input_writes_nothing(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "ex")
    flows = tmp_path / "ex" / "flows.csv"
    flows.write_text(flows.read_text() + "sector-1,sector-3,-0.1\n")
    out = run("balance", tmp_path / "ex", "--out", tmp_path / "o")
    assert out.returncode == 1
    assert "flows.csv:10: error: unknown item (value 'sector-3')" in out.stderr
    assert "nothing was written" in out.stderr
    assert not (tmp_path / "o").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ex"]


def test_a_choice_of_techniques_points_to_solve(tmp_path: Path) -> None:
    run("example", "kantorovich-1939", tmp_path / "k")
    out = run("balance", tmp_path / "k", "--out", tmp_path / "o")
    assert out.returncode == 1
    assert "counterplan solve" in out.stderr
