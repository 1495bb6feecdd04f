"""The documentation's examples run as written, and the format documentation
covers every column of the schema."""

from __future__ import annotations

import inspect
import re
import subprocess
from pathlib import Path

import pytest

from counterplan.schema import TABLES
from test_cli import run

DOCS = Path(__file__).parent.parent / "docs"


def console_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every `$ ` line of console blocks."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def matches(expected: list[str], actual: list[str]) -> bool:
    """Do the lines agree exactly, where a line ``...`` in ``expected``
    stands for any number of lines (none included)?"""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


@pytest.mark.parametrize("expected, actual, agree", [
    (["a", "b"], ["a", "b"], True),
    (["a"], ["a", "b"], False),
    (["a", "...", "d"], ["a", "b", "c", "d"], True),
    (["a", "...", "d"], ["a", "d"], True),
    (["a", "...", "d"], ["a", "b", "c"], False),
    (["..."], [], True),
])
def test_elided_lines_match_any_number_of_lines(expected: list[str], actual: list[str],
                                               agree: bool) -> None:
    assert matches(expected, actual) is agree


@pytest.mark.parametrize("doc", ["cli.md", "../README.md"])
def test_console_examples_print_exactly_what_is_shown(doc: str, tmp_path: Path) -> None:
    """Standard output, line by line (progress goes to standard error)."""
    steps = console_blocks((DOCS / doc).read_text(encoding="utf-8"))
    assert steps, f"{doc} has no console examples"
    for command, expected in steps:
        argv = command.split()
        if argv[0] == "counterplan":
            out = run(*argv[1:], cwd=tmp_path)
        else:
            out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"{command}: {out.stderr}"
        actual = [line.rstrip() for line in out.stdout.splitlines()]
        assert matches(expected, actual), (
            f"{doc}: `{command}` printed\n" + "\n".join(actual)
            + "\nbut the documentation shows\n" + "\n".join(expected))


def test_the_documented_choice_of_algorithm_is_the_codes() -> None:
    from counterplan.plan.highs import ALGORITHMS, SIMPLEX_LIMIT, choose_algorithm

    text = " ".join((DOCS / "cli.md").read_text(encoding="utf-8").split())
    assert f"simplex method up to {SIMPLEX_LIMIT:,} nonzeros" in text
    assert "interior point for medium" not in text
    for name in ALGORITHMS:
        assert f"`{name}`" in text, name
    source = inspect.getsource(choose_algorithm)
    assert '"simplex" if lp.matrix.nnz <= SIMPLEX_LIMIT else "pdhg"' in source


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
    text = (DOCS / "counterplans.md").read_text(encoding="utf-8")
    assert run("example", "kantorovich-1939", "k", cwd=tmp_path).returncode == 0
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    out = _exec_python_block(code, "counterplans.md", tmp_path)
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
        done = run(*command.split(), "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr


def _exec_python_block(code: str, name: str, cwd: Path) -> str:
    import contextlib
    import io
    import os

    printed = io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, name, "exec"), {})
    finally:
        os.chdir(here)
    return printed.getvalue()


def test_the_readme_library_example_prints_labelled_results(tmp_path: Path) -> None:
    """The README's Python: every number printed comes with its label."""
    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    for name, folder in (("brazil-2021", "br"), ("brazil-five-year", "b5")):
        assert run("example", name, folder, cwd=tmp_path).returncode == 0
    out = _exec_python_block(code, "README.md", tmp_path)
    assert "Empty DataFrame" in out  # no deficits
    assert "Name: labour" in out
    assert "{'2026': 1.02, '2027': 1.00099" in out
    assert re.search(r"item\s+period\nagriculture\s+2026\s+1.02", out)
    assert "Name: ratio" in out
    assert re.search(r"item\s+period\s+available\s+used\s+valuation", out)
    assert "array(" not in out and "[[" not in out
    assert (tmp_path / "b5-plan" / "stocks.csv").exists()


def test_the_readme_quickstart_commands_run(tmp_path: Path) -> None:
    """The first command of the README, without its `pip install .`."""
    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    quickstart = re.findall(r"```sh\npip install \. && (counterplan .*?)\n```", text)[0]
    for command in quickstart.split(" && "):
        done = run(*command.split()[1:], cwd=tmp_path)
        assert done.returncode == 0, f"{command}: {done.stderr}"
    assert "balanced" in done.stdout


def _run_console_blocks(doc: str, cwd: Path) -> None:
    """Each `$ counterplan ...` line of the page's console blocks, in this
    process; each line shown under it must appear in what it prints."""
    for command, expected in console_blocks((DOCS / doc).read_text(encoding="utf-8")):
        done = run(*command.split()[1:], cwd=cwd)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        printed = " ".join(done.stdout.split())
        for line in filter(str.strip, expected):
            assert " ".join(line.split()) in printed, f"{command}: expected {line!r} in {printed!r}"


def test_the_cycle_docs_run_as_written(tmp_path: Path) -> None:
    """docs/cycle.md: the console example, then the Python example and what it prints."""
    _run_console_blocks("cycle.md", tmp_path)
    text = (DOCS / "cycle.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (printed,) = re.findall(r"prints\n\n```\n(.*?)```", text, flags=re.S)
    assert _exec_python_block(code, "cycle.md", tmp_path).split() == printed.split()


def test_the_mechanisms_page_runs_as_written(tmp_path: Path) -> None:
    """docs/mechanisms.md: its console examples (compare, then the sweep of
    its SPEC.toml, twice: the second run skips everything) and its Python."""
    text = (DOCS / "mechanisms.md").read_text(encoding="utf-8")
    (spec,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    (tmp_path / "study.toml").write_text(spec, encoding="utf-8")
    _run_console_blocks("mechanisms.md", tmp_path)
    for code in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        _exec_python_block(code, "mechanisms.md", tmp_path)
