"""The plan cycle in the web application: dated reports watched by the
library's monitor (``counterplan.cycle``), exceptions sent first to the unit
and escalated to the office's board, the board itself, and re-planning the
plan in force from the reports received (docs/cycle.md, "In the web
application").

When the monitor runs: at each dated report, over the reporting unit's own
dated reports only (its techniques and its own index; about 0.1 s for a year
of monthly reports of a unit), in the report's transaction; so the count of
reports after an exception is exact and nothing runs when nobody reports.
The office's board runs it once more over every unit when it is viewed (under
a second for the demo's year of reports), to draw the indices; it writes
nothing.

An exception is *the unit's* until one of:

- a delegate or member of the unit acknowledges it with a note
  (``acknowledged``: it stops there);
- the index recovers: at a later report its filtered level is at least the
  fulfilment threshold (0.95) and the forecast of the period's end is not
  likely below it (``recovered``);
- the index has had the plan's number of reports after it (the office's
  setting, default :data:`ESCALATE_AFTER` = 3) without either: it goes to the
  office's board (``escalated``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counterplan.cycle import Monitoring, MonitorOptions, PlanInForce, monitor, replan
from counterplan.cycle.multistate import FilterMemory
from counterplan.cycle.reports import FALLS, NEVER_FALLS, Reports, period_dates, reports_of
from counterplan.errors import CounterplanError
from counterplan.model import Economy
from counterplan.web.models import (
    ESCALATE_AFTER,
    CycleSettings,
    PlanException,
    Report,
    User,
    Version,
    now,
)
from counterplan.web.rights import Actor, Refused, actor, need_office, need_unit_private
from counterplan.web.services.limits import NOTE_CHARS, check_text
from counterplan.web.services.versions import (
    describe,
    in_force,
    loaded,
    new_version,
    published,
    solved,
    unit_part,
)
from counterplan.web.store import Loaded, VersionCache

#: Thresholds of the exceptions: the library's defaults.
OPTIONS = MonitorOptions()
#: each index's filter state, shared by the requests of this process: a dated
#: report filters its unit's indices from their last report on, not from the
#: first (the same result)
FILTERS = FilterMemory()
#: Most reports an office may ask before an exception goes to its board.
MOST_REPORTS = 1000
#: The words and colours of an index's state at its latest report.
STATES = {"on plan": "#2e7d32", "shortfall": "#b7791f", "step": "#c62828",
          "slope": "#d84315", "outlier": "#6a1b9a"}


def escalate_after(db: Session, plan_id: int) -> int:
    row = db.get(CycleSettings, plan_id)
    return ESCALATE_AFTER if row is None else row.escalate_after


def set_escalate_after(db: Session, a: Actor, reports: int) -> dict[str, int]:
    need_office(a, "change when exceptions go to the office's board")
    if not 1 <= reports <= MOST_REPORTS:
        raise Refused(422, f"escalate_after {reports} is not a number of reports from 1 to "
                           f"{MOST_REPORTS}; nothing was changed")
    row = db.get(CycleSettings, a.plan.id)
    if row is None:
        db.add(CycleSettings(plan_id=a.plan.id, escalate_after=reports))
    else:
        row.escalate_after = reports
    return {"escalate_after": reports}


# -- dated reports ---------------------------------------------------------------------

def plan_in_force(got: Loaded) -> PlanInForce:
    """A stored version as the library's plan cycle reads it."""
    e = got.economy
    table = got.tables["activity"]
    t = e.techniques.index.get_indexer(pd.Index(table["technique"]))
    p = pd.Index(e.periods).get_indexer(pd.Index(table["period"]))
    activity = np.zeros((e.n_techniques, e.n_periods))
    activity[t, p] = table["level"].to_numpy(dtype=float)
    return PlanInForce(e, str(got.summary["objective"]["kind"]), activity,
                       got.tables["fulfilment"], got.tables["resources"])


def _stored(db: Session, plan_id: int, unit: str | None, dated: bool = True) -> pd.DataFrame:
    query = select(Report.unit_id, Report.technique, Report.period, Report.date,
                   Report.activity).join(Version, Report.version_id == Version.id) \
        .where(Version.plan_id == plan_id).order_by(Report.id)
    if dated:
        query = query.where(Report.date.is_not(None))
    if unit is not None:
        query = query.where(Report.unit_id == unit)
    return pd.DataFrame(db.execute(query).all(),
                        columns=["unit_id", "technique", "period", "date", "activity"])


def _runnable(frame: pd.DataFrame, e: Economy) -> pd.DataFrame:
    """The reports of techniques and periods of ``e``, each under the unit
    ``e`` gives its technique, the latest of each technique and date."""
    owner = e.techniques["unit_id"].fillna("").astype(str)
    keep = frame["technique"].isin(owner.index) & frame["period"].isin(e.periods)
    frame = frame[keep]
    frame = frame[owner.reindex(frame["technique"]).to_numpy() == frame["unit_id"].to_numpy()]
    return frame.drop_duplicates(["technique", "date"], keep="last")


def parse_date(text: str | None) -> dt.date | None:
    """A report's date as sent (ISO, YYYY-MM-DD), None when none was sent."""
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Refused(422, f"date {text.strip()[:40]!r} is not a date: write it as YYYY-MM-DD "
                           "(for example 2026-05-31); nothing was changed") from None


def check_dated(db: Session, a: Actor, e: Economy, unit: str, technique: str, period: str,
                date: dt.date, activity: float) -> Reports:
    """A dated report checked, as the library checks reports.csv, against the
    unit's earlier dated reports: the date within its period, the
    cumulative activity not below the technique's previous report in the
    period nor above its next (a report on a date already reported replaces
    it).  The unit's dated reports with this one: what the monitor reads
    once the report is stored (:func:`escalate`).  The earlier reports were
    each checked so when they were made; only the new one is checked here,
    against its neighbours."""
    span = period_dates(period)
    if span is None:
        raise Refused(422, f"period {period!r} names no dates, so a report in it cannot have "
                           "one: leave the date empty (the report is of the whole period)")
    if not span[0] <= date <= span[1]:
        raise Refused(422, f"date {date.isoformat()} is outside period {period} ({span[0]} to "
                           f"{span[1]}): give a date within the period, or the period the "
                           "date falls in; nothing was changed")
    earlier = _runnable(_stored(db, a.plan.id, unit), e)
    earlier = earlier[~((earlier["technique"] == technique) & (earlier["date"] == date))]
    _between_neighbours(earlier, technique, period, date, activity)
    new = pd.DataFrame([{"unit_id": unit, "technique": technique, "period": period,
                         "date": date, "activity": activity}])
    return reports_of(pd.concat([earlier, new], ignore_index=True), e, "your report")


def _between_neighbours(earlier: pd.DataFrame, technique: str, period: str, date: dt.date,
                        activity: float) -> None:
    """Cumulative activity never falls within a period: the report's is not
    below the technique's previous report nor above its next."""
    mine = earlier[(earlier["technique"] == technique) & (earlier["period"] == period)]
    before, after = mine[mine["date"] < date], mine[mine["date"] > date]
    problems = []
    if not before.empty:
        last = before.sort_values("date").iloc[-1]
        if activity < last["activity"]:
            problems.append(_against(FALLS, last, activity))
    if not after.empty:
        first = after.sort_values("date").iloc[0]
        if activity > first["activity"]:
            problems.append(_against(RISES, first, activity))
    if problems:
        raise Refused(422, "the report does not fit the unit's earlier reports; nothing was "
                           "changed", problems)


#: the counterpart of the library's FALLS, for a report dated before others
RISES = "cumulative activity is higher than at the technique's next report in the period"


def _against(message: str, neighbour: pd.Series, activity: float) -> str:
    return (f"{message} ({neighbour['activity']:g} on {neighbour['date'].isoformat()}) "
            f"(value {activity:g}): {NEVER_FALLS}")


def watch(db: Session, e_got: Loaded, plan_id: int, unit: str | None,
          reports: Reports | None = None) -> Monitoring | None:
    """The monitor over the dated reports of ``unit`` (every unit: None)
    against the plan ``e_got``, read from the database unless ``reports``
    gives them already checked; None when there are none it can read."""
    e = e_got.economy
    if any(period_dates(p) is None for p in e.periods):
        return None
    if reports is None:
        frame = _runnable(_stored(db, plan_id, unit), e)
        if frame.empty:
            return None
        reports = reports_of(frame, e, "reports")
    return monitor(plan_in_force(e_got), reports, OPTIONS, FILTERS)


# -- escalation ------------------------------------------------------------------------

def recovered(row: pd.Series) -> bool:
    """An index is back on plan: its filtered level at least the fulfilment
    threshold and its period's end not likely below it."""
    return bool(row["level"] >= OPTIONS.fulfilment and row["p_shortfall"] <= OPTIONS.threshold)


def escalate(db: Session, cache: VersionCache, a: Actor, unit: str,
             reports: Reports | None = None) -> dict[str, list[int]]:
    """Run the monitor over ``unit``'s dated reports against the plan in
    force; keep its new exceptions (the unit's), close those whose index
    recovered and send to the office's board those neither acknowledged nor
    recovered after the plan's number of reports.  The ids raised and
    escalated now.  ``reports``: the unit's dated reports, checked
    (:func:`check_dated`), when the caller has them."""
    version = in_force(db, a)
    seen = watch(db, loaded(db, cache, version), a.plan.id, unit, reports)
    if seen is None:
        return {"raised": [], "escalated": []}
    kept = {(x.technique, x.date, x.kind): x for x in db.scalars(
        select(PlanException).where(PlanException.plan_id == a.plan.id,
                                    PlanException.unit_id == unit))}
    raised = []
    for r in seen.exceptions.to_dict("records"):
        key = (str(r["technique"]), dt.date.fromisoformat(str(r["date"])), str(r["kind"]))
        if key in kept:
            continue
        row = PlanException(plan_id=a.plan.id, version_id=version.id, unit_id=unit,
                            technique=key[0], date=key[1], kind=key[2],
                            probability=float(r["probability"]),
                            forecast=_number(r["forecast"]),
                            reason=str(r["reason"]), state="unit", reports_since=0, note="")
        try:
            with db.begin_nested():  # a report of the unit at the same moment kept it first
                db.add(row)
        except IntegrityError:
            continue
        kept[key] = row
        raised.append(row)
    db.flush()
    return {"raised": [x.id for x in raised],
            "escalated": _move_on(list(kept.values()), seen.indices,
                                  escalate_after(db, a.plan.id))}


def _move_on(exceptions: list[PlanException], indices: pd.DataFrame, after: int) -> list[int]:
    """Count each open exception's reports after it; close it when its index
    recovered, escalate it when ``after`` reports came without that."""
    series = {key: rows for key, rows in indices.groupby(["unit_id", "technique"], sort=False)}
    escalated = []
    for x in exceptions:
        if x.state != "unit":
            continue
        rows = series.get((x.unit_id, x.technique))
        later = rows[rows["date"] > x.date.isoformat()] if rows is not None else None
        if later is None or later.empty:
            continue
        x.reports_since = len(later)
        if recovered(later.iloc[-1]):
            x.state, x.closed_at = "recovered", now()
        elif len(later) >= after:
            x.state, x.escalated_at = "escalated", now()
            escalated.append(x.id)
    return escalated


def described(x: PlanException, names: dict[int, str]) -> dict[str, Any]:
    return {"id": x.id, "unit": x.unit_id, "technique": x.technique, "date": x.date.isoformat(),
            "kind": x.kind, "probability": x.probability, "forecast": x.forecast,
            "reason": x.reason, "state": x.state, "reports_since": x.reports_since,
            "raised_at": x.raised_at.isoformat(timespec="seconds"),
            "escalated_at": None if x.escalated_at is None
            else x.escalated_at.isoformat(timespec="seconds"),
            "note": x.note, "acknowledged_by": names.get(x.acknowledged_by or -1),
            "acknowledged_at": None if x.acknowledged_at is None
            else x.acknowledged_at.isoformat(timespec="seconds")}


def _names(db: Session, rows: list[PlanException]) -> dict[int, str]:
    ids = {x.acknowledged_by for x in rows if x.acknowledged_by is not None}
    return {u.id: u.name for u in db.scalars(select(User).where(User.id.in_(ids)))} if ids \
        else {}


def _newest_first(query: Any) -> Any:
    return query.order_by(PlanException.date.desc(), PlanException.id.desc())


def unit_exceptions(db: Session, a: Actor, unit: str) -> list[dict[str, Any]]:
    """The unit's exceptions, newest first: its own (the office sees those
    escalated, on its board)."""
    need_unit_private(a, unit, "see the unit's exceptions")
    rows = list(db.scalars(_newest_first(select(PlanException).where(
        PlanException.plan_id == a.plan.id, PlanException.unit_id == unit))))
    names = _names(db, rows)
    return [described(x, names) for x in rows]


def acknowledge(db: Session, a: Actor, exception_id: int, note: str) -> dict[str, Any]:
    """A delegate or member of the exception's unit says the unit deals with it."""
    x = db.get(PlanException, exception_id)
    if x is None or x.plan_id != a.plan.id:
        raise Refused(404, f"plan {a.plan.name!r} has no exception {exception_id}")
    need_unit_private(a, x.unit_id, "acknowledge the unit's exceptions")
    note = note.strip()
    if not note:
        raise Refused(422, "say in a note what the unit does about the exception (or why it "
                           "needs nothing); nothing was changed")
    check_text("the note", note, NOTE_CHARS)
    if x.state not in ("unit", "escalated"):
        raise Refused(409, f"exception {exception_id} is already {x.state}: nothing to "
                           "acknowledge")
    x.state, x.note, x.acknowledged_by, x.acknowledged_at = "acknowledged", note, a.user.id, now()
    return described(x, {a.user.id: a.user.name})


# -- the office's board ----------------------------------------------------------------

def state_of(row: pd.Series) -> str:
    """An index's state at a report, in the board's words."""
    if row["p_change"] > OPTIONS.threshold:
        return str(row["change_kind"])
    if row["p_shortfall"] > OPTIONS.threshold:
        return "shortfall"
    return "on plan"


def indices(seen: Monitoring | None, e: Economy, units: list[str]) -> list[dict[str, Any]]:
    """Per unit: its own index, then its techniques', each with its points
    (date, interval index, filtered level) and its state at the latest report."""
    out = []
    table = pd.DataFrame() if seen is None else seen.indices
    for unit in units:
        mine = table[table["unit_id"] == unit] if not table.empty else table
        series = []
        order = [""] + [str(t) for t in e.techniques.index[unit_part(e, unit)]]
        for technique in order:
            rows = mine[mine["technique"] == technique] if not mine.empty else mine
            if rows.empty:
                continue
            last = rows.iloc[-1]
            series.append({
                "technique": technique, "state": state_of(last),
                "date": str(last["date"]), "index": float(last["index"]),
                "level": float(last["level"]), "forecast": _number(last["forecast"]),
                "points": [(str(d), _number(y), _number(m)) for d, y, m in zip(
                    rows["date"], rows["interval_index"], rows["level"], strict=True)]})
        out.append({"unit": unit, "name": str(e.units.loc[unit, "name"]), "series": series})
    return out


def unit_indices(db: Session, cache: VersionCache, a: Actor, unit: str
                 ) -> list[dict[str, Any]]:
    """The unit's own indices, as the board draws them (for its members)."""
    need_unit_private(a, unit, "see the unit's indices")
    got = loaded(db, cache, in_force(db, a))
    if unit not in got.economy.units.index:
        return []
    return indices(watch(db, got, a.plan.id, unit), got.economy, [unit])[0]["series"]


def _number(value: Any) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def board(db: Session, cache: VersionCache, a: Actor) -> dict[str, Any]:
    """The office's board: every unit's indices, and the exceptions escalated
    to it, newest first."""
    need_office(a, "see the office's board")
    version = in_force(db, a)
    got = loaded(db, cache, version)
    e = got.economy
    units = [str(u) for u in e.units.index]
    rows = list(db.scalars(_newest_first(select(PlanException).where(
        PlanException.plan_id == a.plan.id, PlanException.escalated_at.is_not(None)))))
    names = _names(db, rows)
    return {"version": describe(db, version), "escalate_after": escalate_after(db, a.plan.id),
            "exceptions": [described(x, names) for x in rows],
            "units": indices(watch(db, got, a.plan.id, None), e, units),
            "periods": list(e.periods), "published": published(db, a.plan) is not None}


# -- re-planning the plan in force -----------------------------------------------------

def _actuals(db: Session, plan_id: int, e: Economy) -> pd.DataFrame:
    """Every report, dated or not: a report of a whole period counts as one
    dated at the period's last day, where the technique has no dated report
    in that period."""
    every = _stored(db, plan_id, None, dated=False)
    dated = every[every["date"].notna()]
    whole = every[every["date"].isna()].drop_duplicates(["technique", "period"], keep="last")
    whole = whole[~whole.set_index(["technique", "period"]).index.isin(
        dated.set_index(["technique", "period"]).index)]
    ends = {p: span[1] for p in e.periods if (span := period_dates(p)) is not None}
    whole = whole.loc[whole["period"].isin(list(ends)).to_numpy(dtype=bool)]
    whole = whole.assign(date=[ends[p] for p in whole["period"]])
    return _runnable(pd.concat([dated, whole], ignore_index=True), e)


def replan_version(tx: Callable[[], AbstractContextManager[Session]], cache: VersionCache,
                   user: User, plan: str, period: str) -> dict[str, Any]:
    """A new draft version: the plan in force re-planned from ``period`` on
    by the library's :func:`counterplan.cycle.replan` from the reports
    received.  Solved outside any transaction (HiGHS holds no lock)."""
    with tx() as db:
        a = actor(db, user, plan)
        need_office(a, "re-plan the plan in force")
        current = published(db, a.plan)
        if current is None:
            raise Refused(409, "no version is published: publish one before re-planning it")
        got = loaded(db, cache, current)
        e = got.economy
        if any(period_dates(p) is None for p in e.periods):
            raise Refused(422, "the plan's periods name no dates (1, 2, ...), so reports "
                               "cannot place the actual state in time; re-plan it from the "
                               "command line with `counterplan replan`")
        frame = _actuals(db, a.plan.id, e)
        parent_id = current.id
    if period not in e.periods[1:]:
        raise Refused(422, f"re-plan from {period!r}: give a period after the first, one of "
                           f"{', '.join(e.periods[1:]) or '(none: the plan has one period)'}")
    try:
        again = replan(plan_in_force(got), reports_of(frame, e, "reports"), period)
    except CounterplanError as exc:
        raise Refused(422, f"the plan cannot be re-planned from {period}: {exc}") from None
    done = solved(again.plan.economy, again.plan)
    with tx() as db:
        a = actor(db, user, plan)
        need_office(a, "re-plan the plan in force")
        parent = db.get_one(Version, parent_id)
        made = new_version(db, a.plan, done, f"re-planned from {period} on the reports "
                           f"received, from version {parent.number}", user, parent)
        return {"version": made.number, "from": period, "in_force": parent.number,
                "reports": len(frame), "objective": made.objective}
