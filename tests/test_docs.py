"""The documentation's examples run as written, and the format documentation
covers every column of the schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from counterplan.schema import TABLES

DOCS = Path(__file__).parent.parent / "docs"


def console_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every `$ ` line of console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps and line.strip():
                steps[-1][1].append(line)
    return steps


@pytest.mark.parametrize("doc", ["cli.md", "../README.md"])
def test_console_examples_run(doc: str, tmp_path: Path) -> None:
    steps = console_blocks((DOCS / doc).read_text(encoding="utf-8"))
    assert steps, f"{doc} has no console examples"
    for command, expected in steps:
        argv = command.split()
        if argv[0] == "counterplan":
            argv = [sys.executable, "-m", "counterplan.cli", *argv[1:]]
        out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"{command}: {out.stderr}"
        for line in expected:
            assert line in out.stdout, f"{command}: expected {line!r} in {out.stdout!r}"


def test_format_documents_every_column() -> None:
    text = (DOCS / "format.md").read_text(encoding="utf-8")
    for table in TABLES:
        section = text.split(f"## {table.name}.csv", 1)
        assert len(section) == 2, f"no section for {table.name}.csv"
        body = section[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| `{column.name}` | {'yes' if column.required else 'no'} |" in body


def test_the_counterplan_example_runs_as_documented(tmp_path: Path) -> None:
    """docs/counterplans.md: the console and Python examples, in order."""
    import contextlib
    import io
    import os

    text = (DOCS / "counterplans.md").read_text(encoding="utf-8")
    subprocess.run([sys.executable, "-m", "counterplan.cli", "example", "kantorovich-1939",
                    "k"], cwd=tmp_path, check=True, capture_output=True)
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "counterplans.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = printed.getvalue()
    for line in ("0     jig  accepted    1.0        90.000000",
                 "2  shifts   partial    0.5        86.666667", "102.5"):
        assert line in out, out
    assert "automatic (automatic turret lathe)" in out
    rows = re.findall(r'\["(\w+)", "([\w-]+)", "(\w+)", "([\w-]*)", "([\w-]*)", "", "(\d+)", '
                      r'"([\w ]+)"\]', code)
    (tmp_path / "k-proposals.csv").write_text(
        "id,unit_id,kind,technique,item,period,value,note\n"
        + "".join(",".join([*r[:5], "", *r[5:]]) + "\n" for r in rows))
    for command in ("evaluate k k-proposals.csv --out k-verdicts",
                    "reconcile k k-proposals.csv --out k-reconciled"):
        done = subprocess.run([sys.executable, "-m", "counterplan.cli", *command.split(), "-q"],
                              cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
