"""Plan fulfilment: units report the activity each technique actually ran
in each period; the app sets it against the plan in force, per unit and
technique, and ranks the units (the competition between brigades) by
fulfilment and by how much their norms improved.

Fulfilment of a unit is the mean, over the cells it has reported, of actual
over planned activity (the latest report of a cell counts; a report with a
date is set against the plan pro rata to the share of the period gone by
that date).  The improvement
of its norms is how much cheaper its techniques have become since the first
published version, costing a unit of each technique's inputs at the first
version's valuations: 1 − Σ cost now / Σ cost then, over the techniques the
unit ran in both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.cycle.reports import period_dates
from counterplan.model import Economy
from counterplan.web.models import Publication, Report, Version
from counterplan.web.rights import Actor, Refused, need_delegate
from counterplan.web.services import cycle
from counterplan.web.services.limits import NOTE_CHARS, check_report, check_text
from counterplan.web.services.versions import in_force, loaded, unit_part
from counterplan.web.store import Loaded, VersionCache


def report(db: Session, cache: VersionCache, a: Actor, unit: str, technique: str,
           period: str, activity: float, note: str = "", date: dt.date | None = None
           ) -> dict[str, Any]:
    """Record the activity ``technique`` ran in ``period`` against the plan in
    force: of the whole period, or with a ``date`` from the period's first day
    to that day (cumulative), which the monitor then watches (services/cycle.py)."""
    need_delegate(a, unit, "report the unit's activity")
    check_text("the note", note, NOTE_CHARS)
    version = in_force(db, a)
    e = loaded(db, cache, version).economy
    techniques = set(e.techniques.index[unit_part(e, unit)])
    if technique not in techniques:
        raise _not_yours(e, unit, technique, techniques)
    if period not in e.periods:
        raise Refused(422, f"period {period!r} is not in the plan; give one of "
                           f"{', '.join(e.periods)}; nothing was changed")
    check_report(activity, technique, loaded(db, cache, version).tables["activity"])
    dated = None if date is None else \
        cycle.check_dated(db, a, e, unit, technique, period, date, float(activity))
    row = Report(version_id=version.id, unit_id=unit, technique=technique, period=period,
                 activity=float(activity), note=note, reported_by=a.user.id, date=date)
    db.add(row)
    db.flush()
    moved = cycle.escalate(db, cache, a, unit, dated) if dated is not None else \
        {"raised": [], "escalated": []}
    return {"id": row.id, "unit": unit, "technique": technique, "period": period,
            "date": None if date is None else date.isoformat(),
            "activity": row.activity, "version": version.number, "exceptions": moved}


def _not_yours(e: Economy, unit: str, technique: str, techniques: set[str]) -> Refused:
    """The refusal of a report of a technique that is not the unit's: unknown,
    or another unit's (named)."""
    mine = ", ".join(sorted(techniques)) or "(none)"
    if technique not in e.techniques.index:
        return Refused(422, f"unknown technique {technique!r}: the plan has no technique of "
                            f"that id; report one of unit {unit!r}'s: {mine}; nothing was "
                            "changed")
    owner = str(e.techniques["unit_id"].fillna("").astype(str)[technique])
    whose = f"unit {owner!r}" if owner else "the planning office"
    return Refused(422, f"technique {technique!r} is not one of unit {unit!r}'s: it is run by "
                        f"{whose}, and a unit reports only its own techniques ({mine}); "
                        "nothing was changed")


def _latest_reports(db: Session, a: Actor) -> pd.DataFrame:
    rows = db.execute(select(Report.unit_id, Report.technique, Report.period, Report.activity,
                             Version.number, Report.date, Report.id)
                      .join(Version, Report.version_id == Version.id)
                      .where(Version.plan_id == a.plan.id).order_by(Report.id)).all()
    frame = pd.DataFrame(rows, columns=["unit", "technique", "period", "actual",
                                        "reported_against", "date", "report"])
    frame = frame.drop_duplicates(["technique", "period"], keep="last")
    frame["share"] = [_share(p, d) for p, d in zip(frame["period"], frame["date"], strict=True)]
    frame["date"] = [None if d is None or pd.isna(d) else d.isoformat() for d in frame["date"]]
    return frame


def _share(period: str, date: dt.date | None) -> float:
    """The share of ``period`` gone by ``date`` (1 for a report of the whole period)."""
    span = None if date is None or pd.isna(date) else period_dates(period)
    if span is None or date is None:
        return 1.0
    return ((date - span[0]).days + 1) / ((span[1] - span[0]).days + 1)


def fulfilment(db: Session, cache: VersionCache, a: Actor) -> dict[str, Any]:
    """Fulfilment per unit, technique and period against the plan in force
    (whatever version each report was made against, which each cell names),
    and the ranking of units."""
    current = in_force(db, a)
    reports = _latest_reports(db, a)
    planned = loaded(db, cache, current).tables["activity"]
    table = reports.merge(planned.rename(columns={"level": "planned"}),
                          on=["technique", "period"], how="left")
    table["planned"] = table["planned"].astype(float) * table["share"]  # pro rata to the date
    with np.errstate(divide="ignore", invalid="ignore"):
        table["ratio"] = np.where(table["planned"] > 0, table["actual"] / table["planned"],
                                  np.nan)
    first = _first_published(db, a)
    e_now = loaded(db, cache, current).economy
    units = list(map(str, e_now.units.index))
    improvements = {} if first is None else \
        norm_improvements(loaded(db, cache, first), e_now, units)
    costs = {} if first is None else norm_costs(loaded(db, cache, first), e_now, units)
    ranking = []
    for unit in units:
        mine = table[table["unit"] == unit]
        ratios = mine["ratio"].dropna()
        ranking.append({
            "unit": unit, "name": str(e_now.units.loc[unit, "name"]),
            "reported": len(mine),
            "fulfilment": float(ratios.mean()) if len(ratios) else None,
            "norm_improvement": improvements.get(unit),
            "reports": [int(r) for r in mine.loc[mine["ratio"].notna(), "report"]],
            "how": _fulfilment_how(len(ratios), len(mine), current.number),
            "norm_how": _norms_how(costs.get(unit), first, current.number)})
    by_fulfilment = sorted(ranking, key=lambda r: -_or(r["fulfilment"], -1.0))
    by_norms = sorted(ranking, key=lambda r: -_or(r["norm_improvement"], 0.0))
    clean = table.astype(object).where(table.notna(), None)
    return {"version": current.number, "cells": clean.to_dict("records"),
            "by_fulfilment": by_fulfilment, "by_norms": by_norms}


def _or(value: object, default: float) -> float:
    return default if value is None else float(value)  # type: ignore[arg-type]


def _first_published(db: Session, a: Actor) -> Version | None:
    return db.scalar(select(Version).join(Publication, Publication.version_id == Version.id)
                     .where(Publication.plan_id == a.plan.id).order_by(Publication.id).limit(1))


def technique_costs(economy: Economy, prices: pd.Series) -> pd.Series:
    """The inputs of one unit of each technique, valued at ``prices`` (by item id)."""
    f = economy.flows
    inputs = f.amount < 0
    ids = economy.items.index.to_numpy(dtype=object)[f.item[inputs]]
    value = -f.amount[inputs] * prices.reindex(ids).fillna(0.0).to_numpy()
    techs = economy.techniques.index.to_numpy(dtype=object)[f.technique[inputs]]
    return pd.Series(value).groupby(techs).sum()


def norm_costs(first: Loaded, now: Economy, units: list[str]
               ) -> dict[str, tuple[float, float, int]]:
    """Per unit: (Σ cost then, Σ cost now, techniques counted), a unit of each
    of its techniques that were in ``first`` costed at ``first``'s mean
    valuations."""
    valuation = pd.concat([first.tables["balance"][["item", "valuation"]],
                           first.tables["resources"][["item", "valuation"]]])
    prices = valuation.groupby("item")["valuation"].mean()
    then = technique_costs(first.economy, prices)
    later = technique_costs(now, prices)
    out = {}
    for unit in units:
        mine = [t for t in now.techniques.index[unit_part(now, unit)] if t in then.index]
        out[unit] = (float(then.reindex(mine).fillna(0.0).sum()),
                     float(later.reindex(mine).fillna(0.0).sum()), len(mine))
    return out


def norm_improvements(first: Loaded, now: Economy, units: list[str]
                      ) -> dict[str, float | None]:
    """Per unit, 1 − cost now / cost then of its techniques, at the first
    version's mean valuations; None when they cost nothing then."""
    return {unit: None if before <= 0 else 1.0 - after / before
            for unit, (before, after, _) in norm_costs(first, now, units).items()}


def _fulfilment_how(counted: int, reported: int, version: int) -> str:
    """How a unit's fulfilment was computed, in words."""
    if not counted:
        return "no report of a planned technique yet" if not reported else \
            f"{reported} report(s), none of a technique the plan in force runs"
    return (f"the mean of actual ÷ planned activity over {counted} reported technique-period "
            f"cell(s) (the latest report of each), planned as in version {version}")


def _norms_how(costs: tuple[float, float, int] | None, first: Version | None,
               version: int) -> str:
    if costs is None or first is None:
        return "no version was published before: nothing to compare"
    before, after, n = costs
    return (f"1 − cost now ÷ cost then = 1 − {after:.6g} ÷ {before:.6g} over {n} "
            f"technique(s): the inputs of one unit of each, in version {first.number} and in "
            f"version {version}, at version {first.number}'s mean valuations")


def activity_of(text: str) -> float:
    """The activity a form sent as text, as a number (report() checks the rest)."""
    try:
        return float(text.strip())
    except ValueError:
        raise Refused(422, f"activity {text.strip()!r} is not a number: give the level the "
                           "technique actually ran at, e.g. 850000 or 8.5e5; nothing was "
                           "changed") from None
