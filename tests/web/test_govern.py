"""The rules of the plan's self-government, on SQLite and PostgreSQL:
delegates and the office elected for a term and recallable, a recall that
needs its share of signatures, a recalled delegate's open vote, criticism
that must be answered (overdue past its deadline, hidden only on a stated
ground, never removed), plan variants chosen by every member, and every
vote's closing time.

Time passes by moving a vote's closing time (or a criticism's deadline)
into the past in the database, as the clock would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from test_pages import form

from counterplan.web.auth import add_user
from counterplan.web.models import Membership, Plan

from webtests import PASSWORD, Web

PLAN = "/api/plans/brazil"
PAST = dt.datetime(2000, 1, 1)


def _sql(web: Web, statement: str, **params: Any) -> list[Any]:
    with web.app.state.counterplan.engine.begin() as c:
        result = c.execute(sa.text(statement), params)
        return list(result) if result.returns_rows else []


def _time_passes(web: Web, table: str = "elections", column: str = "closes_at") -> None:
    _sql(web, f"UPDATE {table} SET {column} = :past", past=PAST)


def _roles(web: Web, name: str) -> set[tuple[str, str]]:
    return {(r, u) for r, u in _sql(
        web, "SELECT m.role, m.unit_id FROM memberships m JOIN users u ON u.id = m.user_id "
             "WHERE u.name = :n", n=name)}


def _add_members(web: Web, unit: str, names: list[str]) -> None:
    with web.app.state.counterplan.tx() as db:
        plan = db.scalar(sa.select(Plan).where(Plan.name == "brazil"))
        assert plan is not None
        for name in names:
            user = add_user(db, name, PASSWORD)
            db.add(Membership(plan_id=plan.id, user_id=user.id, role="member", unit_id=unit))


def _vote(web: Web, name: str, vote: int, choices: dict[int, bool]) -> None:
    cast = web.as_(name).post(f"{PLAN}/elections/{vote}/ballot",
                              json={"choices": {str(k): v for k, v in choices.items()}})
    assert cast.status_code == 201, cast.text


def _elect(web: Web, unit: str, winner: str, others: list[str]) -> dict[str, Any]:
    """Elect ``winner`` as ``unit``'s delegate with every member's approval."""
    opened = web.as_(winner).post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": unit, "candidates": [winner, *others]})
    assert opened.status_code == 201, opened.text
    vote = opened.json()["id"]
    for name in (f"{unit}-member1", f"{unit}-member2", f"{unit}-delegate"):
        _vote(web, name, vote, {1: True})
    _time_passes(web)
    return dict(web.as_("office").get(f"{PLAN}/elections/{vote}").json())


def test_a_delegate_is_elected_in_secret_for_the_plans_term(web: Web) -> None:
    opened = web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member1", "agro-member2"]})
    assert opened.status_code == 201, opened.text
    vote = opened.json()
    assert vote["closes_at"] > vote["opened_at"]  # every vote has a closing time
    _vote(web, "agro-member1", vote["id"], {1: True})
    _vote(web, "agro-member2", vote["id"], {2: True})
    _vote(web, "agro-delegate", vote["id"], {2: True, 1: False})
    again = web.as_("agro-member2").post(f"{PLAN}/elections/{vote['id']}/ballot",
                                         json={"choices": {"1": True}})
    assert again.status_code == 409  # one ballot each
    outsider = web.as_("food-member1").post(f"{PLAN}/elections/{vote['id']}/ballot",
                                            json={"choices": {"1": True}})
    assert outsider.status_code == 403
    running = web.as_("food-member1").get(f"{PLAN}/elections/{vote['id']}").json()
    assert running["turnout"] is None and all("approve" not in o for o in running["options"])
    assert ("delegate", "agro") in _roles(web, "agro-delegate")  # nothing changes before

    _time_passes(web)
    done = web.as_("food-member1").get(f"{PLAN}/elections/{vote['id']}").json()
    assert done["state"] == "closed" and done["turnout"] == 3
    assert [(o["label"], o["approve"]) for o in done["options"]] == [
        ("agro-member1", 1), ("agro-member2", 2)]
    assert "agro-member2 is elected with 2 approvals of 3 ballots" in done["outcome"]
    assert ("delegate", "agro") in _roles(web, "agro-member2")  # at once
    assert ("delegate", "agro") not in _roles(web, "agro-delegate")
    terms = web.as_("agro-member1").get(f"{PLAN}/govern").json()["terms"]
    assert [(t["user"], t["end"]) for t in terms] == [("agro-member2", "")]
    ends = dt.datetime.fromisoformat(terms[0]["ends_at"])
    started = dt.datetime.fromisoformat(terms[0]["started_at"])
    assert (ends - started).days == 365  # the plan's term
    # while the term runs: no new election, no appointment over it
    early = web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member1"]})
    assert early.status_code == 409 and "elected until" in early.json()["error"]
    appoint = web.as_("office").post(f"{PLAN}/members", json={
        "user": "agro-member1", "role": "delegate", "unit": "agro"})
    assert appoint.status_code == 409 and "by election" in appoint.json()["error"]


def test_a_tie_or_an_empty_vote_changes_nothing(web: Web) -> None:
    opened = web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member1", "agro-member2"]})
    vote = opened.json()["id"]
    _vote(web, "agro-member1", vote, {1: True})
    _vote(web, "agro-member2", vote, {2: True})
    _time_passes(web)
    done = web.as_("agro-member1").get(f"{PLAN}/elections/{vote}").json()
    assert done["outcome"].startswith("a tie between agro-member1, agro-member2")
    assert ("delegate", "agro") in _roles(web, "agro-delegate")


def test_a_petition_below_its_share_starts_no_recall_vote(web: Web) -> None:
    _add_members(web, "agro", ["agro-a", "agro-b", "agro-c"])  # six members: 2 must sign
    started = web.as_("agro-member1").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-delegate", "reason": "absent"})
    assert started.status_code == 201, started.text
    petition = started.json()
    assert (petition["signatures"], petition["needed"], petition["vote"]) == (1, 2, None)
    assert _sql(web, "SELECT count(*) FROM elections")[0][0] == 0  # no vote
    twice = web.as_("agro-member1").post(f"{PLAN}/petitions/{petition['id']}/sign")
    assert twice.status_code == 409
    other_unit = web.as_("food-member1").post(f"{PLAN}/petitions/{petition['id']}/sign")
    assert other_unit.status_code == 403
    assert _sql(web, "SELECT count(*) FROM elections")[0][0] == 0
    _sql(web, "UPDATE petitions SET closes_at = :past", past=PAST)  # 30 days pass
    lapsed = web.as_("agro-a").post(f"{PLAN}/petitions/{petition['id']}/sign")
    assert lapsed.status_code == 409 and "30 days" in lapsed.json()["error"]
    assert _sql(web, "SELECT count(*) FROM elections")[0][0] == 0


def test_a_petition_that_reaches_its_share_opens_the_recall_vote(web: Web) -> None:
    _add_members(web, "agro", ["agro-a", "agro-b", "agro-c"])
    petition = web.as_("agro-member1").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-delegate"}).json()
    signed = web.as_("agro-a").post(f"{PLAN}/petitions/{petition['id']}/sign").json()
    assert signed["signatures"] == 2 and signed["state"] == "vote" and signed["vote"]
    vote = web.as_("agro-b").get(f"{PLAN}/elections/{signed['vote']}").json()
    assert vote["kind"] == "recall" and vote["subject"] == "agro-delegate"
    assert vote["electorate"] == 6 and vote["state"] == "open"
    late = web.as_("agro-b").post(f"{PLAN}/petitions/{petition['id']}/sign")
    assert late.status_code == 409  # the vote is open: signing is over


def test_a_recalled_delegate_loses_the_seat_at_once_and_their_open_vote_runs_on(
        web: Web) -> None:
    elected = _elect(web, "agro", "agro-member1", [])
    assert ("delegate", "agro") in _roles(web, "agro-member1")
    # the delegate opens a unit vote on a proposal
    made = web.as_("agro-member2").post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}).json()
    poll = web.as_("agro-member1").post(f"{PLAN}/units/agro/polls").json()
    ballot = web.as_("agro-member2").post(f"{PLAN}/polls/{poll['id']}/ballot",
                                          json={"choices": {str(made["id"]): True}})
    assert ballot.status_code == 201
    # three members: one signature (a third) opens the recall vote
    petition = web.as_("agro-member2").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-member1"}).json()
    assert petition["needed"] == 1 and petition["vote"]
    _vote(web, "agro-member2", petition["vote"], {1: True})
    _vote(web, "agro-delegate", petition["vote"], {1: True})
    _vote(web, "agro-member1", petition["vote"], {1: False})
    _sql(web, "UPDATE elections SET closes_at = :past WHERE id = :id", past=PAST,
         id=petition["vote"])
    recall = web.as_("agro-member2").get(f"{PLAN}/elections/{petition['vote']}").json()
    assert recall["outcome"].startswith("recalled: 2 yes against 1 no")
    assert ("delegate", "agro") not in _roles(web, "agro-member1")  # at once
    assert ("member", "agro") in _roles(web, "agro-member1")  # still a member
    terms = web.as_("agro-member2").get(f"{PLAN}/govern").json()["terms"]
    assert [(t["user"], t["end"], t["election"]) for t in terms] == [
        ("agro-member1", "recalled", elected["id"])]
    # their open vote runs on: ballots still count, they can no longer close it
    assert web.as_("agro-member1").post(f"{PLAN}/polls/{poll['id']}/close").status_code == 403
    assert web.as_("agro-delegate").post(f"{PLAN}/polls/{poll['id']}/ballot", json={
        "choices": {str(made["id"]): True}}).status_code == 201
    _time_passes(web, "polls")
    closed = web.as_("agro-member2").get(f"{PLAN}/polls/{poll['id']}").json()
    assert closed["state"] == "closed"
    assert closed["items"][0]["tally"] == {"yes": 2, "no": 0}
    assert closed["items"][0]["state"] == "submitted"  # as the delegate's close would
    # the seat is free: the members elect again at once
    again = web.as_("agro-member2").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member2"]})
    assert again.status_code == 201, again.text


def test_a_recall_that_fails_keeps_the_holder(web: Web) -> None:
    petition = web.as_("agro-member2").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-delegate"}).json()
    _vote(web, "agro-member2", petition["vote"], {1: True})
    _vote(web, "agro-member1", petition["vote"], {1: False})
    _time_passes(web)
    recall = web.as_("agro-member2").get(f"{PLAN}/elections/{petition['vote']}").json()
    assert recall["outcome"] == "not recalled: 1 yes against 1 no"
    assert ("delegate", "agro") in _roles(web, "agro-delegate")


def test_the_members_elect_and_recall_the_office(web: Web) -> None:
    opened = web.as_("food-member1").post(f"{PLAN}/elections", json={
        "seat": "office", "candidates": ["agro-member1", "office"]})
    assert opened.status_code == 201, opened.text
    vote = opened.json()
    assert vote["electorate"] == 36  # every member of the plan's twelve units
    assert web.as_("office").post(f"{PLAN}/elections/{vote['id']}/ballot", json={
        "choices": {"2": True}}).status_code == 403  # the office is not a member
    for name in ("food-member1", "agro-member2", "mining-member1"):
        _vote(web, name, vote["id"], {1: True})
    _time_passes(web)
    web.as_("food-member1").get(f"{PLAN}/govern")
    assert ("office", "") in _roles(web, "agro-member1")
    assert ("office", "") not in _roles(web, "office")  # replaced
    # a recall of the office: 12 of 36 members sign, then the vote
    names = [n for (n,) in _sql(web, "SELECT DISTINCT u.name FROM users u JOIN memberships m "
                                     "ON m.user_id = u.id WHERE m.role = 'member' "
                                     "ORDER BY u.name")][:12]
    first = web.as_(names[0]).post(f"{PLAN}/petitions", json={
        "seat": "office", "user": "agro-member1"}).json()
    assert first["needed"] == 12
    for name in names[1:]:
        signed = web.as_(name).post(f"{PLAN}/petitions/{first['id']}/sign").json()
    assert signed["vote"]
    for name in names[:3]:
        _vote(web, name, signed["vote"], {1: True})
    _time_passes(web)
    web.as_("food-member1").get(f"{PLAN}/govern")
    assert ("office", "") not in _roles(web, "agro-member1")


def test_the_rules_can_give_the_office_to_the_delegates(web: Web) -> None:
    bad = web.as_("office").post(f"{PLAN}/rules", json={"recall_share": 0.9,
                                                        "office_electorate": "anyone"})
    assert bad.status_code == 422 and len(bad.json()["problems"]) == 2
    done = web.as_("office").post(f"{PLAN}/rules", json={"office_electorate": "delegates",
                                                         "vote_days": 3})
    assert done.status_code == 200 and done.json()["vote_days"] == 3
    vote = web.as_("agro-delegate").post(f"{PLAN}/elections", json={
        "seat": "office", "candidates": ["office"]}).json()
    assert vote["electorate"] == 12  # one delegate per unit
    opened = dt.datetime.fromisoformat(vote["opened_at"])
    assert (dt.datetime.fromisoformat(vote["closes_at"]) - opened).days == 3
    assert web.as_("agro-member1").post(f"{PLAN}/elections/{vote['id']}/ballot", json={
        "choices": {"1": True}}).status_code == 403


def test_a_unit_vote_closes_itself_at_its_closing_time(web: Web) -> None:
    made = web.as_("agro-member1").post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}).json()
    poll = web.as_("agro-delegate").post(f"{PLAN}/units/agro/polls").json()
    opened = dt.datetime.fromisoformat(poll["closes_at"])
    assert opened > dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=6)
    _time_passes(web, "polls")
    late = web.as_("agro-member1").post(f"{PLAN}/polls/{poll['id']}/ballot",
                                        json={"choices": {str(made["id"]): True}})
    assert late.status_code == 409 and "closed" in late.json()["error"]
    shown = web.as_("agro-member1").get(f"{PLAN}/units/agro/polls").json()
    assert shown[0]["state"] == "closed" and shown[0]["items"][0]["state"] == "proposed"


# -- criticism ------------------------------------------------------------------------

def test_criticism_must_be_answered_or_it_is_overdue(web: Web) -> None:
    made = web.as_("agro-member1").post(f"{PLAN}/criticism", json={
        "to": "delegate", "unit": "agro", "text": "The vote was opened without notice."})
    assert made.status_code == 201, made.text
    c = made.json()
    assert c["author"] == "agro-member1" and not c["overdue"]
    written = dt.date.fromisoformat(c["written_on"])
    assert dt.datetime.fromisoformat(c["due_at"]).date() == written + dt.timedelta(days=15)
    assert web.as_("food-member1").get(f"{PLAN}/criticism").json()[0]["text"] == c["text"]
    assert web.as_("food-delegate").post(f"{PLAN}/criticism/{c['id']}/answer", json={
        "text": "not mine"}).status_code == 403
    _time_passes(web, "criticisms", "due_at")
    late = web.as_("food-member1").get(f"{PLAN}/criticism").json()[0]
    assert late["overdue"] and late["answer"] is None
    page = web.as_("food-member1").get("/plans/brazil")
    assert f'id="criticism-{c["id"]}"' in page.text
    assert '<span class="badge rejected">1 overdue</span>' in page.text
    answered = web.as_("agro-delegate").post(f"{PLAN}/criticism/{c['id']}/answer", json={
        "text": "Next time a week ahead."}).json()
    assert answered["answered_late"] and not answered["overdue"]
    assert web.as_("agro-delegate").post(f"{PLAN}/criticism/{c['id']}/answer", json={
        "text": "again"}).status_code == 409


def test_criticism_is_hidden_only_on_a_stated_ground_and_never_removed(web: Web) -> None:
    c = web.as_("agro-member1").post(f"{PLAN}/criticism", json={
        "to": "office", "text": "Call me at 555-0100", "anonymous": True}).json()
    assert c["author"] is None
    bad = web.as_("office").post(f"{PLAN}/criticism/{c['id']}/hide", json={
        "ground": "we-dislike-it", "note": "rude"})
    assert bad.status_code == 422 and "only when" in bad.json()["error"]
    hidden = web.as_("office").post(f"{PLAN}/criticism/{c['id']}/hide", json={
        "ground": "personal-data", "note": "a telephone number"}).json()
    assert hidden["text"] is None
    assert hidden["hidden"]["by"] == "office" and hidden["hidden"]["note"] == "a telephone number"
    seen = web.as_("food-member1").get(f"{PLAN}/criticism").json()[0]
    assert seen["hidden"]["rule"].startswith("it gives private details")
    assert seen["text"] is None and seen["answer"] is None  # the answer is still owed
    assert web.as_("office").client.delete(f"{PLAN}/criticism/{c['id']}", headers={
        "X-CSRF-Token": web.as_("office").csrf}).status_code in (404, 405)
    assert _sql(web, "SELECT text FROM criticisms")[0][0] == "Call me at 555-0100"  # kept
    assert web.as_("agro-member1").post(f"{PLAN}/criticism", json={
        "to": "office", "text": "  "}).status_code == 422


# -- plan variants --------------------------------------------------------------------

VARIANTS = {"variants": [{"name": "invest for 2030", "changes": "weight 2030 3"},
                         {"name": "more food now", "changes": "target agriculture 1.05"}]}


def test_the_members_choose_the_next_version_among_solved_variants(web: Web) -> None:
    made = web.as_("office").post(f"{PLAN}/variants", json=VARIANTS)
    assert made.status_code == 201, made.text
    vote = made.json()
    numbers = [o["version"] for o in vote["options"]]
    assert numbers == [2, 3]
    for n in numbers:  # every member reads and compares them
        assert web.as_("food-member1").get(f"{PLAN}/versions/{n}").status_code == 200
    both = web.as_("food-member1").get(f"{PLAN}/compare/2/3").json()
    assert both["a"]["objective"] != both["b"]["objective"]
    _vote(web, "food-member1", vote["id"], {1: True, 2: True})
    _vote(web, "agro-member1", vote["id"], {2: True})
    _vote(web, "agro-delegate", vote["id"], {2: True})  # a member of agro too
    assert web.as_("office").post(f"{PLAN}/elections/{vote['id']}/ballot", json={
        "choices": {"1": True}}).status_code == 403  # members vote
    running = web.as_("food-member1").get(f"{PLAN}/elections/{vote['id']}").json()
    assert running["turnout"] is None and "approve" not in running["options"][0]
    _time_passes(web)
    done = web.as_("food-member1").get(f"{PLAN}/elections/{vote['id']}").json()
    assert done["turnout"] == 3 and done["electorate"] == 36
    assert [o["approve"] for o in done["options"]] == [1, 3]
    assert "more food now is chosen with 3 approvals of 3 ballots" in done["outcome"]
    versions = web.as_("office").get(PLAN).json()["versions"]
    assert versions[-1]["number"] == 4
    assert versions[-1]["label"] == "chosen by the members: more food now"
    assert versions[-1]["input_hash"] == versions[2]["input_hash"]  # the variant itself
    assert web.as_("office").post(f"{PLAN}/versions/4/publish").status_code == 200


def test_variants_are_checked_before_anything_is_solved(web: Web) -> None:
    bad = web.as_("office").post(f"{PLAN}/variants", json={"variants": [
        {"name": "a", "changes": "target nothing 2\nweight 1999 2"},
        {"name": "b", "changes": "double everything"}]})
    assert bad.status_code == 422
    problems = bad.json()["problems"]
    assert len(problems) == 3 and "no item 'nothing'" in problems[0]
    one = web.as_("office").post(f"{PLAN}/variants", json={"variants": [
        {"name": "a", "changes": ""}]})
    assert one.status_code == 422 and "2 to" in one.json()["error"]
    assert _sql(web, "SELECT count(*) FROM versions")[0][0] == 1


# -- the pages' forms -----------------------------------------------------------------

def test_criticism_on_the_plan_page_from_sending_to_answer(web: Web) -> None:
    """The forms of the plan page, as a browser sends them: a criticism
    without a name, the office's refusal to answer the delegate's, the
    delegate's answer, a hiding on a ground; a refusal is a page, not a
    traceback."""
    member, delegate = web.as_("agro-member1"), web.as_("agro-delegate")
    sent = form(member, "/plans/brazil/criticism", {
        "to": "delegate:agro", "text": "Tell us <b>before</b> the vote.", "anonymous": "yes"})
    assert sent.status_code == 200 and "Your criticism is public" in sent.text
    assert "without a name" in sent.text
    assert "Tell us &lt;b&gt;before&lt;/b&gt; the vote." in sent.text  # shown, not run
    item = _sql(web, "SELECT id, author_id FROM criticisms")[0]
    assert item[1] is None
    office = form(web.as_("office"), f"/plans/brazil/criticism/{item[0]}/answer",
                  {"text": "not ours"})
    assert office.status_code == 403 and "only a delegate of unit &#39;agro&#39;" in office.text
    answered = form(delegate, f"/plans/brazil/criticism/{item[0]}/answer",
                    {"text": "A week ahead from now on."})
    assert answered.status_code == 200 and "A week ahead from now on." in answered.text
    hidden = form(web.as_("office"), f"/plans/brazil/criticism/{item[0]}/hide",
                  {"ground": "not-about-the-plan", "note": "testing the form"})
    assert "Hidden by office" in hidden.text and "testing the form" in hidden.text
    assert "Tell us" not in hidden.text
    empty = form(member, "/plans/brazil/criticism", {"to": "office", "text": ""})
    assert empty.status_code == 422 and "the criticism is empty" in empty.text


def test_the_who_decides_page_and_its_forms(web: Web) -> None:
    member = web.as_("agro-member1")
    page = member.get("/plans/brazil/govern")
    assert page.status_code == 200 and "the delegate of unit &#39;agro&#39;" in page.text
    opened = form(member, "/plans/brazil/elections", {
        "seat": "delegate", "unit": "agro", "candidates": "agro-member1\nagro-member2\n"})
    assert opened.status_code == 200 and "The election is open" in opened.text
    vote = _sql(web, "SELECT id FROM elections")[0][0]
    bad = form(member, f"/plans/brazil/elections/{vote}/ballot", {"choice-1": "maybe"})
    assert bad.status_code == 422 and "nothing was counted" in bad.text
    cast = form(member, f"/plans/brazil/elections/{vote}/ballot", {"choice-2": "yes"})
    assert "Your ballot is counted" in cast.text and "You have voted in this vote" in cast.text
    rules = form(web.as_("office"), "/plans/brazil/rules", {
        "term_days": "400", "recall_share": "0.6", "answer_days": "10", "vote_days": "5",
        "office_electorate": "members"})
    assert rules.status_code == 422 and "recall_share 0.6" in rules.text
    assert form(member, "/plans/brazil/rules", {
        "term_days": "400", "recall_share": "0.25", "answer_days": "10", "vote_days": "5",
        "office_electorate": "members"}).status_code == 403
