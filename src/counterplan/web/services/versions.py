"""Plans and their versions: create a plan from a plan folder or an example,
read a version, publish it, compare two, and the part of it a unit sees."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counterplan import examples
from counterplan.errors import CounterplanError, InvalidInput
from counterplan.io.folder import read_folder
from counterplan.model import Economy
from counterplan.plan import solve
from counterplan.plan.result import Plan as SolvedPlan
from counterplan.web.models import (
    Election,
    ElectionOption,
    Membership,
    Plan,
    Publication,
    Term,
    User,
    Version,
    now,
)
from counterplan.web.rights import Actor, Refused, need_office, need_unit
from counterplan.web.services.limits import check_text
from counterplan.web.store import Loaded, VersionCache, economy_from_zip, pack

NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def refused_input(exc: CounterplanError) -> Refused:
    """A library error about the user's input, as a refusal listing every problem."""
    if isinstance(exc, InvalidInput):
        problems = [str(p) for p in exc.problems if p.severity.value == "error"]
        return Refused(422, f"{len(problems)} error(s) in the input; nothing was changed",
                       problems)
    return Refused(422, str(exc))


def economy_of_example(name: str) -> Economy:
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return read_folder(examples.copy_example(name, Path(tmp) / name))
    except CounterplanError as exc:
        raise refused_input(exc) from None


def economy_of_upload(data: bytes, filename: str) -> Economy:
    try:
        return economy_from_zip(data, filename)
    except CounterplanError as exc:
        raise refused_input(exc) from None


def check_plan_name(name: str) -> None:
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise Refused(422, f"the plan name {name!r} is not usable: give 1 to 64 lower-case "
                           "letters, digits, '-' or '_'")


@dataclass(frozen=True)
class Solved:
    """A version ready to be kept: the zipped economy and solved plan."""

    economy_zip: bytes
    plan_zip: bytes
    objective: float
    input_hash: str


def solved(economy: Economy, plan: SolvedPlan | None = None) -> Solved:
    """``economy`` with ``plan`` (solved here when not given), packed.  Done
    before any write, so that no database lock is held while HiGHS works."""
    if plan is None:
        try:
            plan = solve(economy)
        except CounterplanError as exc:
            raise Refused(422, f"the plan cannot be solved: {exc}") from None
    economy_zip, plan_zip = pack(economy, plan)
    return Solved(economy_zip, plan_zip, plan.value, economy.content_hash())


def new_version(db: Session, plan: Plan, done: Solved, label: str, by: User | None,
                parent: Version | None = None, round_id: int | None = None) -> Version:
    """Keep ``done`` as the plan's next version (a draft)."""
    number = (db.scalar(select(func.max(Version.number)).where(Version.plan_id == plan.id))
              or 0) + 1
    version = Version(plan_id=plan.id, number=number, label=label,
                      parent_id=None if parent is None else parent.id, round_id=round_id,
                      economy_zip=done.economy_zip, plan_zip=done.plan_zip,
                      objective=done.objective, input_hash=done.input_hash,
                      created_by=None if by is None else by.id)
    db.add(version)
    db.flush()
    return version


def create_plan(db: Session, user: User, name: str, title: str, economy: Economy) -> Plan:
    """A new plan whose office is ``user``, with its first version solved (a draft)."""
    check_plan_name(name)
    if db.scalar(select(Plan).where(Plan.name == name)) is not None:
        raise Refused(409, f"there is already a plan called {name!r}; choose another name")
    title = title.strip()[:200] or economy.name
    check_text("the title", title, len(title))
    check_text("economy.toml's description", economy.description, len(economy.description))
    first = solved(economy)
    plan = Plan(name=name, title=title, description=economy.description)
    db.add(plan)
    db.flush()
    db.add(Membership(plan_id=plan.id, user_id=user.id, role="office", unit_id=""))
    new_version(db, plan, first, "first draft", user)
    return plan


def grant(db: Session, a: Actor, user_name: str, role: str, unit: str,
          cache: VersionCache) -> dict[str, str]:
    need_office(a, "give roles")
    if role not in ("office", "delegate", "member"):
        raise Refused(422, f"no role called {role!r}; give office, delegate or member")
    user = db.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise Refused(404, f"no user called {user_name!r}; add it with "
                           "`counterplan users add`")
    unit = "" if role == "office" else unit
    if role != "office":
        units = loaded(db, cache, latest(db, a.plan)).economy.units.index
        if unit not in units:
            raise Refused(422, f"no unit called {unit!r} in this plan; the units are "
                               f"{', '.join(map(str, units))}")
    if role in ("office", "delegate"):
        _refuse_over_election(db, a, role, unit)
    exists = db.scalar(select(Membership).where(
        Membership.plan_id == a.plan.id, Membership.user_id == user.id,
        Membership.role == role, Membership.unit_id == unit))
    if exists is None:
        db.add(Membership(plan_id=a.plan.id, user_id=user.id, role=role, unit_id=unit))
    return {"user": user.name, "role": role, "unit": unit}


def _refuse_over_election(db: Session, a: Actor, role: str, unit: str) -> None:
    """The office appoints to a seat only while nobody holds it by election."""
    elected = db.scalar(select(Term).where(
        Term.plan_id == a.plan.id, Term.role == role, Term.unit_id == unit,
        Term.ended_at.is_(None), Term.ends_at > now()))
    if elected is not None:
        seat = f"unit {unit!r}'s delegate" if role == "delegate" else "the office"
        raise Refused(409, f"{seat} is elected until "
                           f"{elected.ends_at.isoformat(timespec='minutes')} UTC: the seat is "
                           "filled by election and emptied by recall, not by appointment")


def my_plans(db: Session, user: User) -> list[dict[str, Any]]:
    """The plans ``user`` holds a role in, with the roles."""
    rows = db.execute(select(Plan, Membership).join(Membership, Membership.plan_id == Plan.id)
                      .where(Membership.user_id == user.id).order_by(Plan.name)).all()
    out: dict[str, dict[str, Any]] = {}
    for plan, m in rows:
        entry = out.setdefault(plan.name, {"plan": plan.name, "title": plan.title, "roles": []})
        entry["roles"].append({"role": m.role, "unit": m.unit_id})
    return list(out.values())


# -- reading versions -----------------------------------------------------------------

def latest(db: Session, plan: Plan) -> Version:
    version = db.scalar(select(Version).where(Version.plan_id == plan.id)
                        .order_by(Version.number.desc()).limit(1))
    assert version is not None  # a plan is created with its first version
    return version


def published(db: Session, plan: Plan) -> Version | None:
    return db.scalar(select(Version).join(Publication, Publication.version_id == Version.id)
                     .where(Publication.plan_id == plan.id)
                     .order_by(Publication.id.desc()).limit(1))


def published_numbers(db: Session, plan: Plan) -> set[int]:
    return set(db.scalars(select(Version.number).join(
        Publication, Publication.version_id == Version.id).where(
        Publication.plan_id == plan.id)))


def readable_numbers(db: Session, plan: Plan) -> set[int]:
    """The versions everyone in the plan reads: those published, and the
    variants the office put to the members' vote."""
    return published_numbers(db, plan) | set(db.scalars(
        select(Version.number).join(ElectionOption, ElectionOption.version_id == Version.id)
        .join(Election, Election.id == ElectionOption.election_id)
        .where(Election.plan_id == plan.id)))


def in_force(db: Session, a: Actor) -> Version:
    """The published version, or for the office the latest when none is published."""
    version = published(db, a.plan)
    if version is None:
        if a.office:
            return latest(db, a.plan)
        raise Refused(409, f"the office of {a.plan.name!r} has not published a plan yet")
    return version


def version(db: Session, a: Actor, number: int) -> Version:
    """Version ``number``: drafts for the office only."""
    v = db.scalar(select(Version).where(Version.plan_id == a.plan.id,
                                        Version.number == number))
    if v is None or (not a.office and number not in readable_numbers(db, a.plan)):
        raise Refused(404, f"plan {a.plan.name!r} has no published version {number}")
    return v


def loaded(db: Session, cache: VersionCache, v: Version) -> Loaded:
    hit = cache.get(v.id)
    if hit is not None:
        return hit
    row = db.execute(select(Version.economy_zip, Version.plan_zip)
                     .where(Version.id == v.id)).one()
    got = cache.get(v.id, row[0], row[1])
    assert got is not None
    return got


def describe(db: Session, v: Version) -> dict[str, Any]:
    return {"number": v.number, "label": v.label, "objective": v.objective,
            "created_at": v.created_at.isoformat(timespec="seconds"),
            "published": v.number in published_numbers(db, db.get_one(Plan, v.plan_id)),
            "input_hash": v.input_hash}


def versions(db: Session, a: Actor) -> list[dict[str, Any]]:
    shown = db.scalars(select(Version).where(Version.plan_id == a.plan.id)
                       .order_by(Version.number)).all()
    done = readable_numbers(db, a.plan)
    return [describe(db, v) for v in shown if a.office or v.number in done]


def publish(db: Session, a: Actor, number: int) -> dict[str, Any]:
    need_office(a, "publish a version")
    v = version(db, a, number)
    current = published(db, a.plan)
    if current is not None and current.id == v.id:
        raise Refused(409, f"version {number} is already the published plan")
    db.add(Publication(plan_id=a.plan.id, version_id=v.id, by=a.user.id))
    return describe(db, v)


def numeraire(got: Loaded) -> dict[str, Any] | None:
    """The resource that valuations are shown in, so that people can read
    them: labour when the plan has it, else the resource worth most in all.
    Its valuation per period; None when no resource is valued."""
    resources = got.tables["resources"]
    e = got.economy
    kinds = e.items["kind"].reindex(resources["item"]).to_numpy()
    valued = resources[(kinds == "resource") & (resources["valuation"] > 0)]
    if valued.empty:
        return None
    worth = (valued["valuation"] * valued["available"]).groupby(valued["item"]).sum()
    item = "labour" if "labour" in worth.index else str(worth.idxmax())
    mine = valued[valued["item"] == item]
    return {"item": item, "unit": str(e.items.loc[item, "unit"]),
            "valuation": {str(p): float(v) for p, v in zip(mine["period"], mine["valuation"],
                                                           strict=True)}}


def in_numeraire(rows: list[dict[str, Any]], money: dict[str, Any] | None
                 ) -> list[dict[str, Any]]:
    """Each row's valuation also as ``worth``: how many units of the
    numeraire one unit is worth to the plan in that period."""
    for r in rows:
        base = None if money is None else money["valuation"].get(str(r["period"]))
        r["worth"] = None if not base or r.get("valuation") is None else r["valuation"] / base
    return rows


def detail(db: Session, cache: VersionCache, a: Actor, number: int) -> dict[str, Any]:
    """A version's summary, fulfilment per period and the valuations."""
    v = version(db, a, number)
    got = loaded(db, cache, v)
    fulfilment = got.tables["fulfilment"]
    per_period = fulfilment.groupby("period", sort=False)["ratio"].mean()
    balance = got.tables["balance"]
    money = numeraire(got)
    return {**describe(db, v), "summary": got.summary, "numeraire": money,
            "fulfilment": [{"period": p, "ratio": float(r)} for p, r in per_period.items()],
            "valuations": in_numeraire(_records(balance[["item", "period", "valuation"]]),
                                       money),
            "resources": _records(got.tables["resources"])}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.replace([np.inf, -np.inf], np.nan).astype(object)
    return clean.where(clean.notna(), None).to_dict("records")  # type: ignore[return-value]


def compare(db: Session, cache: VersionCache, a: Actor, first: int, second: int
            ) -> dict[str, Any]:
    """Two versions side by side: objectives, fulfilment per period, and the
    techniques whose activity changed most."""
    va, vb = version(db, a, first), version(db, a, second)
    la, lb = loaded(db, cache, va), loaded(db, cache, vb)
    # a re-plan covers the remaining periods only: compare the periods both have
    shared = set(la.economy.periods) & set(lb.economy.periods)
    act = la.tables["activity"].merge(lb.tables["activity"], on=["technique", "period"],
                                      how="outer", suffixes=("_a", "_b")).fillna(0.0)
    act = act[act["period"].isin(shared)]
    act["change"] = act["level_b"] - act["level_a"]
    moved = act.reindex(act["change"].abs().sort_values(ascending=False).index).head(20)
    return {"a": detail(db, cache, a, first), "b": detail(db, cache, a, second),
            "changes": _records(moved), "norms_changed": _norms_changed(la.economy, lb.economy)}


def _norms_changed(ea: Economy, eb: Economy) -> list[dict[str, Any]]:
    def flows(e: Economy) -> pd.Series:
        f = e.flows
        return pd.DataFrame({
            "technique": e.techniques.index.to_numpy(dtype=object)[f.technique],
            "item": e.items.index.to_numpy(dtype=object)[f.item], "amount": f.amount,
        }).groupby(["technique", "item"])["amount"].sum()
    fa, fb = flows(ea), flows(eb)
    both = pd.concat([fa, fb], axis=1, keys=["a", "b"]).fillna(0.0)
    changed = both[(both["a"] - both["b"]).abs() > 1e-12].reset_index()
    return _records(changed.head(50))


# -- a unit's part --------------------------------------------------------------------

def unit_part(economy: Economy, unit: str) -> np.ndarray:
    owners = economy.techniques["unit_id"].astype(str).to_numpy()
    return np.flatnonzero(owners == unit)


def unit_view(db: Session, cache: VersionCache, a: Actor, unit: str) -> dict[str, Any]:
    """The unit's techniques and their planned activity, its share of each
    balance it takes part in, the targets of what it makes, the valuations."""
    need_unit(a, unit, "see the unit's page")
    v = in_force(db, a)
    got = loaded(db, cache, v)
    e = got.economy
    if unit not in e.units.index:
        raise Refused(404, f"no unit called {unit!r} in plan {a.plan.name!r}")
    mine = unit_part(e, unit)
    activity = got.tables["activity"]
    tech_ids = e.techniques.index.to_numpy(dtype=object)[mine]
    techniques = activity[activity["technique"].isin(tech_ids)]
    levels = techniques["level"].to_numpy().reshape(len(mine), e.n_periods)
    supply = np.asarray(e.output_matrix[:, mine] @ levels)  # the unit's columns only
    use = np.asarray(e.input_matrix[:, mine] @ levels)
    balance = got.tables["balance"].copy()
    products = e.products
    total_supply = balance["supply"].to_numpy().reshape(len(products), e.n_periods)
    total_use = balance["use"].to_numpy().reshape(len(products), e.n_periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_supply = np.where(total_supply > 0, supply[products] / total_supply, 0.0)
        share_use = np.where(total_use > 0, use[products] / total_use, 0.0)
    balance["unit_supply"] = supply[products].reshape(-1)
    balance["unit_use"] = use[products].reshape(-1)
    balance["share_of_supply"] = share_supply.reshape(-1)
    balance["share_of_use"] = share_use.reshape(-1)
    part = balance[(balance["unit_supply"] > 0) | (balance["unit_use"] > 0)]
    made = set(e.items.index[products[(supply[products] > 0).any(axis=1)]])
    targets = got.tables["fulfilment"]
    money = numeraire(got)
    return {
        "numeraire": money, "norms": _norms(e, mine),
        "unit": unit, "name": str(e.units.loc[unit, "name"]),
        "version": describe(db, v), "periods": list(e.periods),
        "techniques": [{"id": t, "name": str(e.techniques.loc[t, "name"])} for t in tech_ids],
        "activity": _records(techniques),
        "balance": in_numeraire(_records(part[["item", "period", "supply", "use",
                                               "unit_supply", "unit_use", "share_of_supply",
                                               "share_of_use", "valuation"]]), money),
        "targets": _records(targets[targets["item"].isin(made)]),
        "items": [str(i) for i in e.items.index],
    }


def _norms(e: Economy, techniques: np.ndarray) -> list[dict[str, Any]]:
    """The flows per unit of activity of ``techniques`` (codes): outputs
    first, then inputs, each with the item's unit."""
    f = e.flows
    keep = np.isin(f.technique, techniques)
    table = pd.DataFrame({
        "technique": e.techniques.index.to_numpy(dtype=object)[f.technique[keep]],
        "item": e.items.index.to_numpy(dtype=object)[f.item[keep]],
        "amount": f.amount[keep],
        "unit": e.items["unit"].to_numpy(dtype=object)[f.item[keep]]})
    table["side"] = np.where(table["amount"] > 0, "output", "input")
    table = table.sort_values(["technique", "side", "amount"], ascending=[True, False, True],
                              kind="stable")
    return _records(table)


def units(db: Session, cache: VersionCache, a: Actor) -> list[dict[str, Any]]:
    """The plan's units (of the published version; for the office, of the
    latest when none is published), each saying whether ``a`` may open its
    page: the office every unit, others the units they belong to."""
    v = published(db, a.plan) or (latest(db, a.plan) if a.office else None)
    if v is None:
        return []
    e = loaded(db, cache, v).economy
    return [{"unit": str(u), "name": str(e.units.loc[u, "name"]),
             "yours": a.in_unit(str(u)), "may_see": a.office or a.in_unit(str(u))}
            for u in e.units.index]
