"""The bundled example economies, shipped as plan folders inside the package."""

from __future__ import annotations

import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from counterplan.errors import CounterplanError
from counterplan.io.atomic import staged_folder


def _root() -> Traversable:
    return resources.files("counterplan.examples") / "data"


def names() -> list[str]:
    """Names of the bundled examples."""
    return sorted(p.name for p in _root().iterdir() if (p / "economy.toml").is_file())


def describe(name: str) -> str:
    """The example's one-paragraph description from its economy.toml."""
    manifest = tomllib.loads((_folder(name) / "economy.toml").read_text(encoding="utf-8"))
    return " ".join(str(manifest.get("description", "")).split())


def _folder(name: str) -> Traversable:
    if name not in names():
        raise CounterplanError(
            f"no example called {name!r}; the examples are: {', '.join(names())}"
        )
    return _root() / name


def copy_example(name: str, destination: str | Path) -> Path:
    """Write the plan folder of example ``name`` to ``destination``."""
    source = _folder(name)
    destination = Path(destination)
    with staged_folder(destination) as tmp:
        for file in source.iterdir():
            if file.is_file():
                (tmp / file.name).write_bytes(file.read_bytes())
    return destination


__all__ = ["copy_example", "describe", "names"]
