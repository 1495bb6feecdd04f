"""Shared fixtures: bundled examples copied to a temporary folder, and a
builder for small hand-written plan folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from counterplan.examples import copy_example

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


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a bundled example into a temporary folder."""

    def copy(name: str) -> Path:
        return copy_example(name, tmp_path / name)

    return copy


# Property tests are derandomised in CI so that a run is reproducible.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
