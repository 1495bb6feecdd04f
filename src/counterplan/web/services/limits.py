"""Bounds on what people send, in terms a planner would accept.

A number must be finite and, where it is an amount, not negative (the
library's validation says so); here, a number far beyond the plan's own
scale is refused as a slip of the keyboard, saying what the plan's scale is:

- a report of activity more than ``REPORT_BEYOND`` times the largest level
  the plan in force sets for that technique in any period (or, for a
  technique the plan does not run, the largest level of any technique);
- a counter-plan whose pledge, capacity or flow is more than ``BEYOND``
  times the plan's own number for it: the technique's largest planned level,
  the item's largest availability, the largest flow of the economy.

An upload holds at most ``MAX_ROWS`` rows and ``MAX_COUNTERPLANS``
counter-plans; long lists are shown ``PAGE`` at a time.

Text is held to the forms' limits on every path (form, JSON, CSV upload): a
note at most ``NOTE_CHARS`` characters, any other cell of a counter-plan
``TEXT_CHARS``, and no NUL character anywhere (PostgreSQL cannot store one).
A new technique's id may not begin as a spreadsheet formula does
(``FORMULA_START``): it is written as is in the archive's counterplan.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from counterplan.counter.proposals import COLUMNS, CounterPlan
from counterplan.model import Economy
from counterplan.web.numbers import number
from counterplan.web.rights import Refused

REPORT_BEYOND = 100
BEYOND = 1000
MAX_ROWS = 1000
MAX_COUNTERPLANS = 100
PAGE = 50
NOTE_CHARS = 2000
TEXT_CHARS = 200
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _largest(values: object, fallback: float = 1.0) -> float:
    array = np.abs(np.asarray(values, dtype=float))
    array = array[np.isfinite(array)]
    top = float(array.max()) if array.size else 0.0
    return top if top > 0 else fallback


def planned_scale(activity: pd.DataFrame, technique: str) -> float:
    """The largest planned level of ``technique`` in any period; of any
    technique when the plan does not run it."""
    overall = _largest(activity["level"])
    return _largest(activity.loc[activity["technique"] == technique, "level"], overall)


def check_report(activity: float, technique: str, planned: pd.DataFrame) -> None:
    if not np.isfinite(activity) or activity < 0:
        raise Refused(422, f"activity {number(activity)} is not a number >= 0; give the level "
                           "the technique actually ran at; nothing was changed")
    scale = planned_scale(planned, technique)
    if activity > REPORT_BEYOND * scale:
        raise Refused(422, f"activity {number(activity)} is more than {REPORT_BEYOND} times "
                           f"the most the plan asks of {technique} in a period "
                           f"({number(scale)}): a report so far beyond the plan is taken for "
                           "a slip and not kept. Check the number and its unit")


def check_counterplans(plans: list[CounterPlan], economy: Economy, planned: pd.DataFrame
                       ) -> None:
    """Refuse every change far beyond the plan's scale, naming each."""
    techniques = economy.techniques.index
    items = economy.items.index
    available = economy.availability
    flows = _largest(economy.flows.amount)
    problems = []
    for plan in plans:
        for change in plan.changes:
            if change.kind == "pledge":
                name = str(techniques[change.technique])
                scale, what = planned_scale(planned, name), f"the largest planned level of {name}"
            elif change.kind == "capacity":
                name = str(items[change.item])
                scale = _largest(available.amount[available.item == change.item],
                                 _largest(available.amount))
                what = f"the most of {name} available in a period"
            else:
                scale, what = flows, "the largest flow of any technique"
            if abs(change.value) > BEYOND * scale:
                problems.append(f"counter-plan {plan.id!r}: {change.kind} {number(change.value)}"
                                f" is more than {BEYOND} times {what} ({number(scale)})")
        for tech in plan.techniques:
            big = [a for a in tech.amounts if abs(a) > BEYOND * flows]
            if big:
                problems.append(f"counter-plan {plan.id!r}: new technique {tech.id!r} has a "
                                f"flow of {number(big[0])}, more than {BEYOND} times the "
                                f"largest flow of any technique ({number(flows)})")
    if problems:
        raise Refused(422, "a number is far beyond the plan's scale, so it is taken for a slip "
                           "and nothing was kept: check it and its unit", problems)


def check_upload_size(rows: int, counterplans: int, filename: str) -> None:
    if rows > MAX_ROWS:
        raise Refused(413, f"{filename}: {rows:,} rows; give at most {MAX_ROWS:,} per upload "
                           "(split the file)")
    if counterplans > MAX_COUNTERPLANS:
        raise Refused(413, f"{filename}: {counterplans:,} counter-plans; give at most "
                           f"{MAX_COUNTERPLANS} per upload (split the file): each is judged "
                           "against the whole plan")


def page_of(rows: list[dict[str, object]], page: int) -> tuple[list[dict[str, object]], int]:
    """Rows of page ``page`` (from 1) and how many pages there are."""
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * PAGE: page * PAGE], pages


def check_text(what: str, text: str, most: int) -> None:
    """Refuse a text of more than ``most`` characters, or with a NUL in it."""
    if "\x00" in text:
        raise Refused(422, f"{what} contains a NUL character (code 0), which no text here may "
                           "hold: remove it; nothing was kept")
    if len(text) > most:
        raise Refused(422, f"{what} has {len(text):,} characters; at most {most:,} are kept: "
                           "shorten it; nothing was kept")


def check_rows(frame: pd.DataFrame, file: str) -> None:
    """Refuse a counter-plan table (from the form, JSON or an uploaded CSV)
    whose text is beyond the forms' limits, naming the row and the column
    (of those a counter-plan keeps: the columns of counterplan.csv)."""
    for column in (c for c in frame.columns if str(c).strip() in COLUMNS):
        most = NOTE_CHARS if str(column).strip() == "note" else TEXT_CHARS
        for k, value in enumerate(frame[column].astype(str)):
            check_text(_cell(file, k, column), value, most)
    if "kind" not in frame.columns or "technique" not in frame.columns:
        return
    for k, (kind, name) in enumerate(zip(frame["kind"], frame["technique"], strict=True)):
        if str(kind).strip().lower() == "technique" and str(name).strip().startswith(
                FORMULA_START):
            raise Refused(422, f"{_cell(file, k, 'technique')}: the new technique's id "
                               f"{str(name).strip()!r} begins as a spreadsheet formula does; "
                               "begin it with a letter or a digit")


def _cell(file: str, k: int, column: str) -> str:
    return f"the {column}" if file == "form" else f"{file}:{k + 2}: column {column}"
