"""Shared fixtures: bundled examples copied to a temporary folder, and a
builder for small hand-written plan folders."""

from __future__ import annotations

import os

# Argon2id at argon2-cffi's CHEAPEST parameters: the web tests log in
# thousands of times, and at the deployed cost (0.28 s a hash here) that was
# most of the suite's time.  The code path is the same; the deployed default
# is tested in tests/web/test_login.py.  Set the variable to run with another.
os.environ.setdefault("COUNTERPLAN_PASSWORD_PROFILE", "CHEAPEST")

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import settings

from counterplan.examples import copy_example
from counterplan.io.folder import read_folder
from counterplan.model import Economy

from economies import MINIMAL

FolderMaker = Callable[..., Path]


@pytest.fixture
def make_folder(tmp_path: Path) -> FolderMaker:
    """Write the minimal plan folder with some files replaced (None removes one)."""

    def make(name: str = "plan", **files: str | None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        contents = {**MINIMAL, **{k.replace("_", "."): v for k, v in files.items()}}
        for file, text in contents.items():
            if text is not None:
                (folder / file).write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture(scope="session")
def bundled() -> Callable[[str], Economy]:
    """A bundled example's economy, read once for the whole session.  An
    Economy is immutable, so tests can share it; use :func:`example` for a
    folder a test may change."""
    cache: dict[str, Economy] = {}

    def read(name: str) -> Economy:
        if name not in cache:
            cache[name] = read_folder(Path(str(resources.files("counterplan.examples")
                                                / "data" / name)))
        return cache[name]

    return read


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a bundled example into a temporary folder."""

    def copy(name: str) -> Path:
        return copy_example(name, tmp_path / name)

    return copy


# Property tests are derandomised in CI so that a run is reproducible.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
