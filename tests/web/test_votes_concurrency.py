"""Votes under concurrent requests, against a live server on SQLite and on
PostgreSQL: one open vote per unit, one ballot per member, and a ballot and
a close sent at the same moment never both win; a vote still open when the
office reconciles the round is closed with it."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from livehttp import LiveUser, at_once
from liveserver import serve
from webtests import Web

PLAN = "/api/plans/brazil"
CAPACITY = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000000"}
PLEDGE = {"kind": "capacity", "item": "labour", "period": "2028", "value": "500000"}


def _open_polls(db_url: str) -> list[tuple[int, int, str]]:
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT id, round_id, unit_id FROM polls "
                                 "WHERE state = 'open'")).all()
    engine.dispose()
    return [(int(a), int(b), str(c)) for a, b, c in rows]


def test_parallel_opens_make_one_vote_and_parallel_ballots_count_once(db_url: str) -> None:
    with serve(db_url) as base:
        delegate = LiveUser(base, "agro-delegate")
        member = LiveUser(base, "agro-member1")
        made = [delegate.post(f"{PLAN}/units/agro/proposals", body)[1]["id"]
                for body in (CAPACITY, PLEDGE)]
        opened = at_once([lambda: delegate.post(f"{PLAN}/units/agro/polls")] * 8)
        statuses = sorted(status for status, _ in opened)
        assert statuses == [201] + [409] * 7, opened
        assert all("already has an open vote" in body["error"]
                   for status, body in opened if status == 409)
        assert len(_open_polls(db_url)) == 1
        poll = next(body for status, body in opened if status == 201)["id"]
        ballot = {"choices": {str(made[0]): True, str(made[1]): False}}
        cast = at_once([lambda: member.post(f"{PLAN}/polls/{poll}/ballot", ballot)] * 3)
        assert sorted(status for status, _ in cast) == [201, 409, 409], cast
        status, closed = delegate.post(f"{PLAN}/polls/{poll}/close")
        assert status == 200
        tally = {item["id"]: item["tally"] for item in closed["items"]}
        assert tally == {made[0]: {"yes": 1, "no": 0}, made[1]: {"yes": 0, "no": 1}}
        assert closed["voters"] == 1


def test_a_ballot_and_a_close_at_once_one_wins(db_url: str) -> None:
    """Either the ballot is counted and then the vote closes with it, or the
    vote closes first and the ballot is refused: never counted after the
    close, never accepted and lost."""
    outcomes = set()
    with serve(db_url) as base:
        delegate = LiveUser(base, "agro-delegate")
        members = [LiveUser(base, name) for name in ("agro-member1", "agro-member2")]
        made = delegate.post(f"{PLAN}/units/agro/proposals", CAPACITY)[1]["id"]
        for attempt in range(6):
            status, poll = delegate.post(f"{PLAN}/units/agro/polls")
            assert status == 201, poll
            path = f"{PLAN}/polls/{poll['id']}"
            member = members[attempt % 2]
            no = {"choices": {str(made): False}}  # a "no": the proposal stays to vote again
            (cast, _), (shut, closed) = at_once([
                functools.partial(member.post, f"{path}/ballot", no),
                functools.partial(delegate.post, f"{path}/close")])
            assert shut == 200 and cast in (201, 409), (cast, shut)
            counted = closed["items"][0]["tally"]["no"]
            _, after = delegate.get(path)
            assert after["items"][0]["tally"] == closed["items"][0]["tally"]
            assert counted == (1 if cast == 201 else 0)
            assert after["voters"] == counted
            outcomes.add(cast)
    assert outcomes <= {201, 409}


def test_reconciling_the_round_closes_its_votes(web: Web) -> None:
    delegate, member = web.as_("agro-delegate"), web.as_("agro-member1")
    made = delegate.post(f"{PLAN}/units/agro/proposals", json=CAPACITY).json()
    other = web.as_("food-delegate").post(f"{PLAN}/units/food/proposals", json=PLEDGE).json()
    poll = delegate.post(f"{PLAN}/units/agro/polls").json()
    web.as_("food-delegate").post(f"{PLAN}/proposals/{other['id']}/submit")
    assert member.post(f"{PLAN}/polls/{poll['id']}/ballot",
                       json={"choices": {str(made["id"]): True}}).status_code == 201
    done = web.as_("office").post(f"{PLAN}/rounds/1/reconcile")
    assert done.status_code == 200, done.text
    shown = member.get(f"{PLAN}/polls/{poll['id']}").json()
    assert shown["state"] == "closed"
    assert shown["items"][0]["tally"] == {"yes": 1, "no": 0}
    late = web.as_("agro-member2").post(f"{PLAN}/polls/{poll['id']}/ballot",
                                        json={"choices": {str(made["id"]): True}})
    assert late.status_code == 409 and "closed" in late.json()["error"]
    assert delegate.post(f"{PLAN}/polls/{poll['id']}/close").status_code == 409
