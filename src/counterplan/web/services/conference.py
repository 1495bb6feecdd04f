"""Production conferences in the web application: a unit's better norm,
once adopted (its counter-plan reconciled into a version the office
published), is offered to every unit whose technique is comparable and
worse, with the gain the plan would have (the library's
:mod:`counterplan.counter.conference` finds them); and the best norm of
every product, with who holds it, for the plan page.

Nothing is stored: the offers are read from the published versions, the
outcomes of their rounds and the plan in force, so they change as the plan
does (a unit that matches the norm gets no more offers for it)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.counter.conference import Adopted, best_norms, candidates, exact_gains
from counterplan.counter.proposals import replaced_rows
from counterplan.model import Economy
from counterplan.web.models import Outcome, Proposal, Publication, Version
from counterplan.web.rights import Actor, Refused, need_unit
from counterplan.web.services.versions import in_force, latest, loaded, published
from counterplan.web.store import Loaded, VersionCache

#: Most characters of the note a one-step proposal carries (the limit of a note).
NOTE_CHARS = 2000


def adopted(db: Session, a: Actor, economy: Economy, upto: int) -> list[Adopted]:
    """The norms of counter-plans reconciled into published versions up to
    number ``upto`` that ``economy`` (the plan in force) still holds."""
    shown = select(Version.id).join(Publication, Publication.version_id == Version.id).where(
        Publication.plan_id == a.plan.id, Version.number <= upto,
        Version.round_id.is_not(None))
    rows = db.execute(select(Proposal).join(Outcome, Outcome.proposal_id == Proposal.id)
                      .where(Outcome.version_id.in_(shown), Outcome.verdict != "rejected")
                      .order_by(Proposal.id)).scalars().unique()
    out = []
    for p in rows:
        for row in json.loads(p.rows):
            if str(row.get("kind", "")).strip() != "norm":
                continue
            technique, item = str(row.get("technique", "")).strip(), \
                str(row.get("item", "")).strip()
            if _holds(economy, technique, item, str(row.get("value", ""))):
                out.append(Adopted(f"proposal {p.id}", technique, item, p.note))
    return out


def _holds(economy: Economy, technique: str, item: str, value: str) -> bool:
    """Does the economy's flow of ``item`` in ``technique`` stand at ``value``
    (the rows a norm of that value replaces)?"""
    try:
        number = float(value)
        j, i = economy.techniques.index.get_loc(technique), economy.items.index.get_loc(item)
    except (ValueError, KeyError):
        return False
    f = economy.flows
    amounts = f.amount[(f.technique == j) & (f.item == i)]
    picked = amounts[replaced_rows(amounts, number)]
    return len(picked) > 0 and bool(np.isclose(picked.sum(), number, rtol=1e-12, atol=0))


def valuations(got: Loaded) -> pd.DataFrame:
    """item, period, valuation of every product, resource and stock."""
    return pd.concat([got.tables["balance"][["item", "period", "valuation"]],
                      got.tables["resources"][["item", "period", "valuation"]]],
                     ignore_index=True)


def offers(db: Session, cache: VersionCache, a: Actor, unit: str, exact: bool = False
           ) -> list[dict[str, Any]]:
    """The better norms offered to ``unit``'s techniques, each with the value
    to propose, the estimated gain and, with ``exact``, the exact gain."""
    need_unit(a, unit, "see the unit's offers of better norms")
    v = in_force(db, a)
    got = loaded(db, cache, v)
    if unit not in got.economy.units.index:
        raise Refused(404, f"no unit called {unit!r} in plan {a.plan.name!r}")
    table = candidates(got.economy, valuations(got), got.tables["activity"],
                       adopted(db, a, got.economy, v.number))
    table = table[table["unit"] == unit].reset_index(drop=True)
    gains: list[float | None] = [None] * len(table)
    if exact and len(table):
        with got.evaluator() as judge:
            gains = [float(g) for g in exact_gains(got.economy, table, judge)]
    rows = []
    for row, gain in zip(_plain(table), gains, strict=True):
        rows.append({**row, "exact_gain": gain, "proposal_note": proposal_note(row)})
    return rows


def _plain(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``table`` with Python numbers and strings (for JSON and pages)."""
    return [{str(k): (float(x) if isinstance(x, float | np.floating) else
                      int(x) if isinstance(x, int | np.integer) else str(x))
             for k, x in row.items()} for row in table.to_dict("records")]


def proposal_note(row: dict[str, Any]) -> str:
    """The note of the one-step proposal: whose norm it matches, and their note."""
    text = (f"Matching the better norm of {row['holder_unit']} ({row['holder_technique']}: "
            f"{float(row['better_norm']):.6g} {row['input']} per {row['product']}, "
            f"ours {float(row['norm']):.6g}), from a production conference.")
    if row["note"]:
        text += f" How they did it: {row['note']}"
    return text[:NOTE_CHARS]


def best(db: Session, cache: VersionCache, a: Actor) -> list[dict[str, Any]]:
    """The best norm of every product made by more than one technique, in the
    plan in force (for the office, the latest version when none is published)."""
    v = published(db, a.plan) or (latest(db, a.plan) if a.office else None)
    if v is None:
        return []
    return _plain(best_norms(loaded(db, cache, v).economy))
