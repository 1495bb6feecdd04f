"""Nothing is lost: a request's writes land together or not at all, and a
reconciliation that fails part-way leaves the published plan untouched."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from counterplan.web.models import Outcome, Report

from webtests import Web, snapshot

PLAN = "/api/plans/brazil"
CAPACITY = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}


class Interrupted(RuntimeError):
    """Stands for the process dying part-way through a write."""


@contextmanager
def failing_insert(model: Any) -> Iterator[None]:
    """Make the database write of ``model`` rows fail, as a crash would."""
    def fail(*_: Any) -> None:
        raise Interrupted(f"interrupted while writing {model.__tablename__}")
    event.listen(model, "before_insert", fail)
    try:
        yield
    finally:
        event.remove(model, "before_insert", fail)


def test_an_interrupted_reconciliation_changes_nothing(web: Web) -> None:
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    made = delegate.post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    delegate.post(f"{PLAN}/proposals/{made['id']}/submit")
    before = snapshot(web)
    published = office.get(PLAN).json()["published"]
    with failing_insert(Outcome), pytest.raises(Interrupted):
        office.post(f"{PLAN}/rounds/1/reconcile")  # the version row was already flushed
    assert snapshot(web) == before
    plan = office.get(PLAN).json()
    assert plan["published"] == published
    assert [r["state"] for r in plan["rounds"]] == ["open"]
    assert [v["number"] for v in plan["versions"]] == [1]
    again = office.post(f"{PLAN}/rounds/1/reconcile")  # and it can be done afterwards
    assert again.status_code == 200, again.text


def test_an_interrupted_report_is_not_half_written(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    before = snapshot(web)
    with failing_insert(Report), pytest.raises(Interrupted):
        delegate.post(f"{PLAN}/units/agro/reports", json={
            "technique": "agriculture", "period": "2026", "activity": 5.0})
    assert snapshot(web) == before


def test_a_file_of_counterplans_lands_whole_or_not_at_all(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    good = "a,capacity,,labour,2027,10\n"
    bad = "b,pledge,agriculture,,2027,-1\n"  # a negative pledge: the library refuses it
    header = "id,kind,technique,item,period,value\n"
    before = snapshot(web)
    response = delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", (header + good + bad).encode(), "text/csv")})
    assert response.status_code == 422
    assert snapshot(web) == before
    response = delegate.post(f"{PLAN}/units/agro/proposals/upload", files={
        "file": ("counterplan.csv", (header + good + good.replace("a,", "c,")).encode(),
                 "text/csv")})
    assert response.status_code == 201
    assert snapshot(web)["proposals"] == before["proposals"] + 2


def test_a_round_reconciled_while_judging_keeps_nothing(web: Web) -> None:
    """Judging holds no transaction; the verdict is kept only if the round is
    still open when it is written."""
    import sqlalchemy as sa

    from counterplan.web.models import User
    from counterplan.web.rights import Refused
    from counterplan.web.services import rounds

    delegate, office = web.as_("agro-delegate"), web.as_("office")
    made = delegate.post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    delegate.post(f"{PLAN}/proposals/{made['id']}/submit")
    state = web.app.state.counterplan
    with state.tx() as db:
        user = db.scalar(sa.select(User).where(User.name == "agro-member1"))
    calls = 0

    @contextmanager
    def tx() -> Iterator[Any]:
        nonlocal calls
        calls += 1
        if calls == 2:  # after the round was read and the counter-plan judged
            assert office.post(f"{PLAN}/rounds/1/reconcile").status_code == 200
        with state.tx() as db:
            yield db

    frame = rounds.form_rows("agro", "capacity", "", "labour", "2028", "10", "")
    before = snapshot(web)
    with pytest.raises(Refused) as refused:
        rounds.propose(tx, state.cache, user, "brazil", "agro", frame)
    assert refused.value.status == 409
    assert "reconciled while the counter-plan was judged" in refused.value.message
    after = snapshot(web)
    assert after["proposals"] == before["proposals"]
    assert after["versions"] == before["versions"] + 1  # the reconciliation itself landed
