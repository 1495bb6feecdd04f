"""Where a command may write: never over a file it reads, and into a
non-empty folder only when asked (``--force``) or when the folder holds an
earlier result of the same kind.

Light on purpose (no numpy or pandas): the command line checks its outputs
before it reads anything, so that a refusal costs nothing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from counterplan.errors import CounterplanError
from counterplan.schema import TABLES

MANIFEST = "economy.toml"
#: Every file a plan folder may hold: the manifest and each table in either format.
PLAN_FILES = frozenset([MANIFEST] + [f"{t.name}.{ext}" for t in TABLES
                                     for ext in ("csv", "parquet")])
#: How many names a refusal lists.
SHOWN = 5


def input_files(paths: Iterable[Path]) -> set[Path]:
    """The files a command reads from ``paths``: a file itself, or every
    plan-folder file inside a folder (at any depth: a folder of units holds
    plan folders)."""
    files: set[Path] = set()
    for path in paths:
        path = Path(path).resolve()
        if path.is_file():
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("*") if p.name in PLAN_FILES and p.is_file())
    return files


def refuse_inputs(out: Path, inputs: Iterable[Path]) -> None:
    """Raise when writing ``out`` (a file or a folder) would replace or
    contain a file the command reads."""
    inputs = [Path(p) for p in inputs]
    target = Path(out).resolve()
    for path in inputs:
        source = path.resolve()
        if target == source or source.is_relative_to(target):
            raise CounterplanError(
                f"{out} would write over the input {path}; choose another output")
    for file in input_files(inputs):
        if file == target:
            raise CounterplanError(
                f"{out} would write over {file.name}, a file of the input; choose another "
                "output")


def prepare_folder(out: Path, inputs: Iterable[Path], force: bool,
                   earlier: frozenset[str] | None = None) -> None:
    """Check an output folder before anything is computed: it must not be
    an input, and it must be new, empty, hold only files named in
    ``earlier`` (a result of the same kind, which is replaced), or ``force``
    must be given."""
    out = Path(out)
    refuse_inputs(out, inputs)
    if out.exists() and not out.is_dir():
        raise CounterplanError(f"{out} exists and is not a folder; choose another output")
    if force or not out.is_dir():
        return
    present = sorted(p.name for p in out.iterdir())
    if not present or (earlier is not None and set(present) <= earlier):
        return
    shown = ", ".join(present[:SHOWN]) + (", …" if len(present) > SHOWN else "")
    raise CounterplanError(
        f"{out} is not empty (it holds {shown}); give a new folder, or add --force to "
        "write into it")


def prepare_file(out: Path, inputs: Iterable[Path]) -> None:
    """Check an output file before anything is computed: not an input, not a folder."""
    out = Path(out)
    if out.is_dir():
        raise CounterplanError(f"{out} is a folder; give a file name such as {out}/values.csv")
    refuse_inputs(out, inputs)
