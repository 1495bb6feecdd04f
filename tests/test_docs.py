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
