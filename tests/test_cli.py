"""The command-line interface, run as a user runs it: a real process."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from economies import MINIMAL

#: What `counterplan --help` and `--version` must start without.
HEAVY = ("numpy", "pandas", "scipy", "pyarrow", "highspy", "sqlalchemy", "fastapi")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The command line through its entry point ``main``, in this process: the
    code a user runs, without starting Python and importing numpy and pandas
    again for every command (3 s a command on a busy machine).  The tests of
    what only a process shows (start-up, Ctrl-C, the solver's own output)
    use :func:`run_process`."""
    from counterplan.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv, here, code = sys.argv, os.getcwd(), 0
    sys.argv = ["counterplan", *map(str, args)]
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.argv = argv
        os.chdir(here)
    return subprocess.CompletedProcess(sys.argv, code, out.getvalue(), err.getvalue())


def run_process(*args: str | Path, cwd: Path | None = None
                ) -> subprocess.CompletedProcess[str]:
    """The command line as a user starts it: a new process."""
    return subprocess.run([sys.executable, "-m", "counterplan.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_version_needs_no_command() -> None:
    from counterplan import __version__

    out = run_process("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"counterplan {__version__}\n"


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-h"], ["example", "list"]])
def test_help_version_and_example_list_load_nothing_heavy(args: list[str]) -> None:
    """Start-up stays instant: the libraries a command computes with are
    imported when it runs, not for --help, --version or the list of examples."""
    code = ("import sys\nfrom counterplan.cli import main\n"
            f"sys.argv = ['counterplan', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "[]"


def test_check_loads_no_sparse_algebra(tmp_path) -> None:
    """`check` reads and validates a folder: scipy (0.1 s of its start-up,
    measured) is imported only by the commands that compute."""
    code = ("import sys\nfrom counterplan.cli import main\n"
            f"sys.argv = ['counterplan', 'example', 'textbook', {str(tmp_path / 'tb')!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            f"sys.argv = ['counterplan', 'check', {str(tmp_path / 'tb')!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "0 error(s), 0 warning(s)" in out.stdout
    assert out.stdout.splitlines()[-1] == "[]"


def _commands(help_text: str) -> list[str]:
    section = help_text.split("Commands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line[:3].strip()]


def test_the_command_list_has_a_whole_sentence_for_each() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: counterplan [OPTIONS] COMMAND [ARGS]...\n")
    commands = _commands(out.stdout)
    assert {"check", "balance", "values", "solve", "example", "generate", "import", "serve",
            "users", "export", "restore"} <= set(commands)
    listing = " ".join(out.stdout.split("Commands:\n", 1)[1].split())
    for name in commands:
        summary = listing.split(f"{name} ", 1)[1]
        assert re.match(r"[A-Z][^.]*?[.)]", summary), (name, summary)
    assert "..." not in listing


def _help_pages() -> list[list[str]]:
    return [["check"], ["balance"], ["values"], ["solve"], ["evaluate"], ["reconcile"],
            ["rounds"], ["plot"], ["example"], ["generate"], ["import", "pymrio"], ["serve"],
            ["users", "add"], ["export"], ["restore"]]


@pytest.mark.parametrize("command", _help_pages(), ids=" ".join)
def test_every_help_page_reads_like_a_researchers_tool(command: list[str]) -> None:
    out = run(*command, "--help")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: counterplan {' '.join(command)} [OPTIONS]"), usage
    assert not re.search(r"<\w+>|\{\w+\}|╭|│", text), text  # no <bool>, {folder}, boxes
    options = text.split("Options:\n", 1)[1]
    for line in options.splitlines():
        if line.startswith("  -"):
            assert len(line.split("  ")) > 2 or line.rstrip().endswith(("help", "exit")), line
    if "--out" in text and command[0] not in ("export",):
        assert "(default: " in text.split("--out", 1)[1].split("\n  -", 1)[0], text


def test_example_list_names_every_example() -> None:
    out = run("example", "list")
    assert out.returncode == 0
    for name in ("brazil-2021", "kantorovich-1939", "textbook"):
        assert name in out.stdout


def test_the_readme_quickstart_on_brazil(tmp_path: Path) -> None:
    assert run_process("example", "brazil-2021", tmp_path / "br").returncode == 0
    out = run_process("balance", tmp_path / "br", "--out", tmp_path / "br-plan")
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


def _bad_folder(tmp_path: Path) -> Path:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, text in MINIMAL.items():
        (bad / name).write_text(text.replace("grain,product", "grain,prodcut"))
    (bad / "flows.csv").write_text(MINIMAL["flows.csv"] + "mill,grain,-1\n")
    return bad


def test_check_exit_codes(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "ok")
    assert run("check", tmp_path / "ok").returncode == 0
    out = run("check", _bad_folder(tmp_path))
    assert out.returncode == 1
    assert "items.csv:3: error: unknown kind (value 'prodcut')" in out.stdout
    assert "flows.csv:9: error: unknown technique (value 'mill')" in out.stdout
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
    out = run("balance", folder, "--out", tmp_path / "b")
    assert "warning: resource has no availability in period(s) 2" in out.stderr


@pytest.mark.parametrize("args, message", [
    (["balance", "{tmp}/nowhere", "--out", "{tmp}/o"], "plan folder not found"),
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


@pytest.mark.parametrize("args, message", [
    (["solve", "{ex}", "--objective", "profit"], "'profit' is not one of kantorovich"),
    (["solve", "{ex}", "--algorithm", "magic"], "'magic' is not one of auto, simplex"),
    (["solve", "{ex}", "--time-limit", "-1"], "-1 is not a positive number of seconds"),
    (["balance", "{ex}", "--method", "magic"], "'magic' is not one of auto, direct"),
    (["generate", "{tmp}/g", "--format", "xlsx"], "'xlsx' is not one of auto, csv, parquet"),
    (["evaluate", "{ex}"], "Missing argument 'COUNTERPLANS'"),
    (["solve"], "Missing argument 'FOLDER'"),
    (["rounds", "{ex}"], "Missing option '--units'"),
    (["sovle", "{ex}"], "No such command 'sovle'"),
])
def test_command_line_mistakes_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    """docs/cli.md: 2 for a mistake in the command line itself."""
    out = run(*[a.format(tmp=tmp_path, ex=tmp_path / "ex") for a in args])
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_balance_says_deficits_in_its_exit_status(tmp_path: Path) -> None:
    """Exit 3 when the targets need more than there is (the tables are written
    all the same); 0 when balanced.  The output folder defaults to DIR-balance,
    as solve's to DIR-plan."""
    run("example", "textbook", tmp_path / "tb")
    out = run("balance", tmp_path / "tb")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "tb-balance" / "activity.csv").exists()
    (tmp_path / "tb" / "availability.csv").write_text("item,period,amount\nlabour,1,400\n")
    out = run("balance", tmp_path / "tb")
    assert out.returncode == 3, out.stderr
    assert "1 deficit(s)" in out.stdout and "labour" in out.stdout
    resources = pd.read_csv(tmp_path / "tb-balance" / "resources.csv")
    assert resources["used"].iloc[0] == pytest.approx(800)


def test_no_command_writes_over_its_input(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "tb")
    flows = (tmp_path / "tb" / "flows.csv").read_bytes()
    for args in (["values", "tb", "--out", "tb/flows.csv"],
                 ["values", "tb", "--out", "tb/economy.toml"],
                 ["solve", "tb", "--out", "tb", "--force"],
                 ["solve", "tb", "--out", ".", "--force"],
                 ["balance", "tb", "--out", "tb", "--force"]):
        out = run(*args, cwd=tmp_path)
        assert out.returncode == 1, (args, out.stderr)
        assert "would write over" in out.stderr and "choose another output" in out.stderr
    assert (tmp_path / "tb" / "flows.csv").read_bytes() == flows
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tb"]


def test_a_non_empty_folder_needs_force(tmp_path: Path) -> None:
    run("example", "textbook", tmp_path / "tb")
    edited = tmp_path / "tb" / "targets.csv"
    edited.write_text("item,period,amount,weight\nsector-1,1,1,1\n")
    out = run("example", "textbook", tmp_path / "tb")
    assert out.returncode == 1
    assert "is not empty" in out.stderr and "--force" in out.stderr
    assert edited.read_text() == "item,period,amount,weight\nsector-1,1,1,1\n"
    assert run("example", "textbook", tmp_path / "tb", "--force").returncode == 0
    assert "1700" in edited.read_text()
    # an earlier result of the same command is replaced; another command's is not
    assert run("solve", tmp_path / "tb", "-q").returncode == 0
    assert run("solve", tmp_path / "tb", "-q").returncode == 0
    out = run("balance", tmp_path / "tb", "--out", tmp_path / "tb-plan")
    assert out.returncode == 1 and "tb-plan is not empty" in out.stderr


def test_generating_twice_leaves_one_version_of_each_table(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    assert run("generate", folder, "--products", "30", "-q").returncode == 0
    out = run("generate", folder, "--products", "30", "--format", "parquet", "-q")
    assert out.returncode == 1 and "is not empty" in out.stderr
    out = run("generate", folder, "--products", "30", "--format", "parquet", "-q", "--force")
    assert out.returncode == 0, out.stderr
    assert not list(folder.glob("*.csv"))
    assert run("check", folder).returncode == 0


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


def test_serve_on_a_busy_port_says_so_before_announcing_itself(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run("serve", "--port", port, "--db", f"sqlite:///{tmp_path}/web.db")
    assert out.returncode == 1, out.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "--port" in out.stderr
    assert "counterplan on http" not in out.stdout
    assert "Traceback" not in out.stderr
