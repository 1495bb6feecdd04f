"""The mechanisms by name, and running one by name."""

from __future__ import annotations

from collections.abc import Callable

from counterplan.errors import CounterplanError
from counterplan.mechanisms.central import exact
from counterplan.mechanisms.councils import (
    participatory,
)
from counterplan.mechanisms.harmony import harmony_heuristic
from counterplan.mechanisms.result import MechanismResult
from counterplan.mechanisms.twolevel import two_level
from counterplan.model import Economy

MECHANISMS: dict[str, Callable[[Economy], MechanismResult]] = {
    "exact": exact,
    "harmony-heuristic": harmony_heuristic,
    "rounds": two_level,
    "participatory": participatory,
}


class UnknownMechanism(CounterplanError):
    """A mechanism name that is not one of :data:`MECHANISMS`."""


def check_mechanisms(names: list[str]) -> list[str]:
    """The names, or :class:`UnknownMechanism` naming the wrong one and the choices."""
    unknown = [n for n in names if n not in MECHANISMS]
    if unknown or not names:
        raise UnknownMechanism(
            f"unknown mechanism {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"use one or more of {', '.join(MECHANISMS)}")
    return names


def run_mechanism(name: str, economy: Economy) -> MechanismResult:
    """Run one mechanism by name with its default options."""
    return MECHANISMS[check_mechanisms([name])[0]](economy)


