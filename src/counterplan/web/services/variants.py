"""Plan variants chosen by every member: the office puts two or more
variants of the next version to a vote, each the plan in force with changed
targets or period weights, each solved; every member approves any number in
a secret ballot (services/governance.py); the one approved most becomes the
plan's next draft version when the vote closes."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from counterplan.model import Economy, Entries, Objective
from counterplan.web.models import Election
from counterplan.web.rights import Actor, Refused, need_office
from counterplan.web.services.governance import (
    LABEL_CHARS,
    MOST_VARIANTS,
    REASON_CHARS,
    _open,
    election_dict,
    electorate,
    settle,
)
from counterplan.web.services.limits import check_text
from counterplan.web.services.rules import vote_closes
from counterplan.web.services.versions import loaded, new_version, published, solved
from counterplan.web.store import VersionCache


def variant_economy(base: Economy, changes: str, where: str) -> Economy:
    """``base`` with ``changes``, one a line: ``target ITEM FACTOR`` (that
    product's targets times FACTOR in every period) or ``weight PERIOD W``
    (the period's weight in the objective: weighting later periods more
    favours investment over consumption now)."""
    factors = dict.fromkeys(range(base.n_items), 1.0)
    weights = dict(base.objective.weights)
    items = {str(i): k for k, i in enumerate(base.items.index)}
    problems = []
    for line_no, line in enumerate(changes.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) != 3 or words[0] not in ("target", "weight"):
            problems.append(f"{where}, line {line_no} {line.strip()[:60]!r}: write "
                            "'target ITEM FACTOR' or 'weight PERIOD WEIGHT'")
            continue
        try:
            number = float(words[2])
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not 0 < number <= 100:
            problems.append(f"{where}, line {line_no}: {words[2][:40]!r} is not a number "
                            "above 0 and at most 100")
        elif words[0] == "target" and words[1] not in items:
            problems.append(f"{where}, line {line_no}: the plan has no item {words[1][:60]!r}")
        elif words[0] == "weight" and words[1] not in base.periods:
            problems.append(f"{where}, line {line_no}: the plan has no period "
                            f"{words[1][:60]!r}; its periods are {', '.join(base.periods)}")
        elif words[0] == "target":
            factors[items[words[1]]] = number
        else:
            weights[words[1]] = number
    if problems:
        raise Refused(422, "the variants were not published", problems)
    t = base.targets
    scale = [factors[int(i)] for i in t.item]
    targets = Entries(t.item, t.period, t.amount * scale, t.weight)
    objective = Objective(base.objective.kind, weights, base.objective.resources)
    return dataclasses.replace(base, targets=targets, objective=objective)


def publish_variants(db: Session, cache: VersionCache, a: Actor,
                     variants: list[tuple[str, str]]) -> dict[str, Any]:
    """The office puts 2 to MOST_VARIANTS variants of the next version, each
    solved, to a vote of every member of the plan."""
    need_office(a, "publish variants of the plan")
    settle(db, a.plan.id)
    base = published(db, a.plan)
    if base is None:
        raise Refused(409, "publish a version first: variants vary the plan in force")
    variants = [(label.strip(), changes) for label, changes in variants
                if label.strip() or changes.strip()]
    if not 2 <= len(variants) <= MOST_VARIANTS:
        raise Refused(422, f"give 2 to {MOST_VARIANTS} variants, each with a name")
    problems = [f"variant {k}: give it a name of at most {LABEL_CHARS} characters"
                for k, (label, _) in enumerate(variants, start=1)
                if not label or len(label) > LABEL_CHARS or "\x00" in label]
    if problems:
        raise Refused(422, "the variants were not published", problems)
    for _, changes in variants:
        check_text("a variant's changes", changes, REASON_CHARS)
    voters = electorate(db, a.plan.id, "", "")
    if not voters:
        raise Refused(409, "the plan has no members to choose between variants")
    economy = loaded(db, cache, base).economy
    economies, problems = [], []
    for label, changes in variants:  # every variant's problems at once
        try:
            economies.append(variant_economy(economy, changes, f"variant {label!r}"))
        except Refused as exc:
            problems += exc.problems
    if problems:
        raise Refused(422, "the variants were not published", problems)
    made = [(label, solved(e)) for (label, _), e in zip(variants, economies, strict=True)]
    if db.scalar(select(Election).where(Election.plan_id == a.plan.id,
                                        Election.kind == "variants",
                                        Election.state == "open")) is not None:
        raise Refused(409, "a vote on variants is already open; wait for it to close")
    options: list[tuple[str, int | None, int | None]] = []
    for label, done in made:
        v = new_version(db, a.plan, done, f"variant: {label}", a.user, parent=base)
        options.append((label, None, v.id))
    e = _open(db, a, Election(plan_id=a.plan.id, kind="variants", role="", unit_id="",
                              base_version_id=base.id, electorate=len(voters),
                              opened_by=a.user.id, closes_at=vote_closes(db, a.plan.id)),
              options)
    return election_dict(db, e, a)
