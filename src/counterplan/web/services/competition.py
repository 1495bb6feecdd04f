"""Competition in the open: a unit's delegate challenges another unit on a
measure of the plan (its fulfilment, the improvement of its norms, or its
delivery of a product) over a span of periods; the challenged unit's
delegate accepts or declines; the challenge, its rules and its standings are
public within the plan.

Standings are never typed in nor stored: each time they are computed from
the units' reports (the latest report of a technique and period counts) and
from the versions, and each number comes with how it was computed and from
which reports (docs/web.md, "Competition in the open").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counterplan.model import Economy
from counterplan.web.models import MEASURES, Challenge, Report, Version, now
from counterplan.web.rights import Actor, Refused, need_delegate
from counterplan.web.services.limits import NOTE_CHARS, check_text
from counterplan.web.services.reports import technique_costs
from counterplan.web.services.versions import in_force, loaded, unit_part
from counterplan.web.store import Loaded, VersionCache

#: The measures in the pages' words.
MEASURE_WORDS = {"fulfilment": "fulfilment of the plan", "norms": "improvement of the norms",
                 "delivery": "delivery of a product"}


def make(db: Session, cache: VersionCache, a: Actor, challenger: str, challenged: str,
         measure: str, item: str = "", first: str = "", last: str = "", rules: str = ""
         ) -> dict[str, Any]:
    """Unit ``challenger`` challenges unit ``challenged`` (its delegate only)."""
    need_delegate(a, challenger, "challenge another unit in the unit's name")
    version = in_force(db, a)
    e = loaded(db, cache, version).economy
    item, first, last = item.strip(), first.strip(), last.strip()
    units = [str(u) for u in e.units.index]
    if challenged not in units or challenged == challenger:
        raise Refused(422, f"{challenged[:60]!r} is not another unit of the plan; challenge one of "
                           f"{', '.join(u for u in units if u != challenger)}")
    if measure not in MEASURES:
        raise Refused(422, f"no measure called {measure[:60]!r}; give one of "
                           f"{', '.join(MEASURES)}")
    if measure == "norms":
        if first or last or item:
            raise Refused(422, "norm improvement is measured from the version in force now to "
                               "the one in force when it is read, not over periods and not "
                               "for one product: leave the periods and the product empty")
    else:
        _check_span(e, first, last)
    if measure == "delivery":
        makers = {u: _makes(e, u, item) for u in (challenger, challenged)}
        if not all(makers.values()):
            raise Refused(422, f"{item[:60]!r} is not a product that both {challenger} and "
                               f"{challenged} make; give a product each of them makes")
    elif item:
        raise Refused(422, f"a challenge on {MEASURE_WORDS[measure]} names no product: leave "
                           "the product empty")
    check_text("the rules", rules, NOTE_CHARS)
    number = (db.scalar(select(func.max(Challenge.number)).where(
        Challenge.plan_id == a.plan.id)) or 0) + 1
    c = Challenge(plan_id=a.plan.id, number=number, challenger=challenger,
                  challenged=challenged, measure=measure, item=item, first_period=first,
                  last_period=last, rules=rules, version_id=version.id)
    db.add(c)
    db.flush()
    return describe(db, c)


def _check_span(e: Economy, first: str, last: str) -> None:
    periods = list(e.periods)
    for what, p in (("first", first), ("last", last)):
        if p not in periods:
            raise Refused(422, f"the {what} period {p[:60]!r} is not a period of the plan; give "
                               f"one of {', '.join(periods)}")
    if periods.index(first) > periods.index(last):
        raise Refused(422, f"the span {first} to {last} runs backwards; give the first "
                           "period before the last")


def _makes(e: Economy, unit: str, item: str) -> list[str]:
    """The unit's techniques that make ``item`` (a product), by id."""
    if item not in e.items.index or e.items.loc[item, "kind"] != "product":
        return []
    row = e.flow_matrix.tocsr()[e.items.index.get_loc(item)]
    mine = unit_part(e, unit)
    made = np.asarray(row[:, mine].todense()).reshape(-1) > 0
    return [str(t) for t in e.techniques.index[mine[made]]]


def the_challenge(db: Session, a: Actor, number: int) -> Challenge:
    c = db.scalar(select(Challenge).where(Challenge.plan_id == a.plan.id,
                                          Challenge.number == number))
    if c is None:
        raise Refused(404, f"plan {a.plan.name!r} has no challenge {number}")
    return c


def answer(db: Session, a: Actor, number: int, accept: bool) -> dict[str, Any]:
    """The challenged unit's delegate accepts or declines, once."""
    c = the_challenge(db, a, number)
    need_delegate(a, c.challenged, "answer a challenge to the unit")
    if c.state != "proposed":
        raise Refused(409, f"challenge {number} is already {c.state}")
    c.state, c.answered_at = ("accepted" if accept else "declined"), now()
    db.flush()
    return describe(db, c)


def describe(db: Session, c: Challenge) -> dict[str, Any]:
    base = db.get_one(Version, c.version_id)
    return {"number": c.number, "challenger": c.challenger, "challenged": c.challenged,
            "measure": c.measure, "measure_words": MEASURE_WORDS[c.measure], "item": c.item,
            "first_period": c.first_period, "last_period": c.last_period, "rules": c.rules,
            "state": c.state, "since_version": base.number,
            "created_at": c.created_at.isoformat(timespec="seconds"),
            "answered_at": None if c.answered_at is None else
            c.answered_at.isoformat(timespec="seconds")}


def challenges(db: Session, cache: VersionCache, a: Actor) -> list[dict[str, Any]]:
    """Every challenge of the plan, newest first; each one not declined with
    its running standings."""
    current = in_force(db, a)
    got = loaded(db, cache, current)
    reports = latest_reports(db, a)
    out = []
    for c in db.scalars(select(Challenge).where(Challenge.plan_id == a.plan.id)
                        .order_by(Challenge.number.desc())):
        row = describe(db, c)
        row["standings"] = [] if c.state == "declined" else \
            standings(db, cache, c, got, current.number, reports)
        out.append(row)
    return out


def latest_reports(db: Session, a: Actor) -> pd.DataFrame:
    """The latest report of every technique and period of the plan: its id,
    unit, technique, period, activity and the version it was made against."""
    rows = db.execute(select(Report.id, Report.unit_id, Report.technique, Report.period,
                             Report.activity, Version.number)
                      .join(Version, Report.version_id == Version.id)
                      .where(Version.plan_id == a.plan.id).order_by(Report.id)).all()
    frame = pd.DataFrame(rows, columns=["report", "unit", "technique", "period", "actual",
                                        "reported_against"])
    return frame.drop_duplicates(["technique", "period"], keep="last")


def standings(db: Session, cache: VersionCache, c: Challenge, got: Loaded, version: int,
              reports: pd.DataFrame) -> list[dict[str, Any]]:
    """Both sides of ``c``, leader first: value, how it was computed, and the
    cells (reports) it was computed from."""
    sides = []
    for unit in (c.challenger, c.challenged):
        if c.measure == "fulfilment":
            side = _fulfilment(got, version, unit, _span(got.economy, c), reports)
        elif c.measure == "delivery":
            side = _delivery(got, version, unit, c.item, _span(got.economy, c), reports)
        else:
            base = db.get_one(Version, c.version_id)
            side = _norms(loaded(db, cache, base), base.number, got.economy, version, unit)
        sides.append({"unit": unit, **side})
    sides.sort(key=lambda s: np.inf if s["value"] is None else -s["value"])  # none: last
    if sides[0]["value"] is not None:
        sides[0]["leads"] = sides[1]["value"] is None or sides[0]["value"] > sides[1]["value"]
    return sides


def _span(e: Economy, c: Challenge) -> list[str]:
    periods = list(e.periods)
    if c.first_period not in periods or c.last_period not in periods:
        return []  # the plan in force no longer has these periods
    return periods[periods.index(c.first_period):periods.index(c.last_period) + 1]


def _cells(got: Loaded, unit: str, span: list[str], reports: pd.DataFrame) -> pd.DataFrame:
    e = got.economy
    techniques = set(map(str, e.techniques.index[unit_part(e, unit)]))
    mine = reports[reports["technique"].isin(techniques) & reports["period"].isin(span)]
    planned = got.tables["activity"].rename(columns={"level": "planned"})
    return mine.merge(planned, on=["technique", "period"], how="left")


def _fulfilment(got: Loaded, version: int, unit: str, span: list[str],
                reports: pd.DataFrame) -> dict[str, Any]:
    cells = _cells(got, unit, span, reports)
    cells = cells[cells["planned"] > 0].copy()
    cells["ratio"] = cells["actual"] / cells["planned"]
    value = float(cells["ratio"].mean()) if len(cells) else None
    how = (f"the mean of actual ÷ planned activity over the {len(cells)} technique-period "
           f"cell(s) of {', '.join(span)} that {unit} reported (the latest report of each "
           f"counts; planned as in version {version}, the plan in force)") if len(cells) else \
        f"{unit} has reported no activity of a planned technique in {', '.join(span) or '-'}"
    return {"value": value, "how": how, "cells": _records(cells)}


def _delivery(got: Loaded, version: int, unit: str, item: str, span: list[str],
              reports: pd.DataFrame) -> dict[str, Any]:
    e = got.economy
    makers = _makes(e, unit, item)
    i = e.items.index.get_loc(item) if item in e.items.index else None
    per = {t: float(e.flow_matrix[i, e.techniques.index.get_loc(t)]) for t in makers} \
        if i is not None else {}
    activity = got.tables["activity"]
    plan = activity[activity["technique"].isin(makers) & activity["period"].isin(span)]
    planned = float((plan["level"] * plan["technique"].map(per)).sum())
    cells = _cells(got, unit, span, reports)
    cells = cells[cells["technique"].isin(makers)].copy()
    cells["made"] = cells["actual"] * cells["technique"].map(per)
    made = float(cells["made"].sum())
    value = made / planned if planned > 0 else None
    how = (f"{item} made as reported ({made:.6g}: each reported activity × the {item} a unit "
           f"of the technique makes) ÷ {item} planned ({planned:.6g}) for {unit}'s "
           f"techniques {', '.join(makers)} over {', '.join(span)}, planned as in version "
           f"{version}; a technique and period not reported counts as nothing made")
    return {"value": value, "how": how, "cells": _records(cells)}


def _norms(base: Loaded, base_number: int, now_economy: Economy, version: int, unit: str
           ) -> dict[str, Any]:
    valuation = pd.concat([base.tables["balance"][["item", "valuation"]],
                           base.tables["resources"][["item", "valuation"]]])
    prices = valuation.groupby("item")["valuation"].mean()
    then = technique_costs(base.economy, prices)
    later = technique_costs(now_economy, prices)
    mine = [str(t) for t in now_economy.techniques.index[unit_part(now_economy, unit)]
            if t in then.index]
    cells = pd.DataFrame({"technique": mine,
                          "cost_then": then.reindex(mine).fillna(0.0).to_numpy(),
                          "cost_now": later.reindex(mine).fillna(0.0).to_numpy()})
    before, after = float(cells["cost_then"].sum()), float(cells["cost_now"].sum())
    value = None if before <= 0 else 1.0 - after / before
    how = (f"1 − cost now ÷ cost then = 1 − {after:.6g} ÷ {before:.6g}, over {unit}'s "
           f"{len(mine)} technique(s): the inputs of one unit of each, in version {base_number} "
           f"(when the challenge was made) and in version {version} (in force), valued at "
           f"version {base_number}'s mean valuations; no reports are needed")
    return {"value": value, "how": how, "cells": _records(cells)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.replace([np.inf, -np.inf], np.nan).astype(object)
    return clean.where(clean.notna(), None).to_dict("records")  # type: ignore[return-value]
