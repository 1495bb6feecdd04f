"""Export and restore carry the plan's self-government, on SQLite and
PostgreSQL: rules, terms, elections as totals with who voted, recall
petitions and their signatures, criticism (answered, hidden, and sent
without a name), and the units' votes' closing times.  Export, restore and
export again give the same files; the restored app shows the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from test_govern import PLAN, VARIANTS, _time_passes, _vote

from counterplan.web import archive

from test_archive import (  # noqa: F401
    as_format_2,
    empty_url,
    engine_of,
    engines,
    ok,
    tree,
    web_on,
)
from webtests import Web, snapshot


def make_governance(web: Web) -> None:
    """A closed election and a closed vote on variants; an open recall
    vote, an open petition and an open unit vote; criticism of each kind."""
    ok(web.as_("office").post(f"{PLAN}/rules", json={"recall_share": 0.5, "answer_days": 10}))
    vote = ok(web.as_("agro-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "agro", "candidates": ["agro-member1", "agro-member2"]}),
        201)
    _vote(web, "agro-member1", vote["id"], {1: True})
    _vote(web, "agro-member2", vote["id"], {1: True, 2: True})
    variants = ok(web.as_("office").post(f"{PLAN}/variants", json=VARIANTS), 201)
    _vote(web, "food-member1", variants["id"], {2: True})
    _time_passes(web)
    web.as_("food-member1").get(f"{PLAN}/govern")  # both close: a term and version 4
    petition = ok(web.as_("agro-member2").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "agro", "user": "agro-member1", "reason": "=absent"}), 201)
    ok(web.as_("agro-delegate").post(f"{PLAN}/petitions/{petition['id']}/sign"))
    ok(web.as_("food-member1").post(f"{PLAN}/petitions", json={
        "seat": "delegate", "unit": "food", "user": "food-delegate"}), 201)
    recall = web.as_("agro-member2").get(f"{PLAN}/govern").json()["votes"][0]
    _vote(web, "agro-member2", recall["id"], {1: True})
    made = ok(web.as_("agro-member2").post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}), 201)
    ok(web.as_("agro-member1").post(f"{PLAN}/units/agro/polls"), 201)
    assert made["id"]
    named = ok(web.as_("agro-member1").post(f"{PLAN}/criticism", json={
        "to": "office", "text": "@ the office: where is the plan?"}), 201)
    ok(web.as_("office").post(f"{PLAN}/criticism/{named['id']}/answer", json={
        "text": "Published tomorrow."}))
    hidden = ok(web.as_("agro-member2").post(f"{PLAN}/criticism", json={
        "to": "delegate", "unit": "agro", "text": "Call 555-0100", "anonymous": True}), 201)
    ok(web.as_("office").post(f"{PLAN}/criticism/{hidden['id']}/hide", json={
        "ground": "personal-data", "note": "a telephone number"}))


def views(web: Web) -> dict[str, Any]:
    return {"govern": ok(web.as_("agro-member2").get(f"{PLAN}/govern")),
            "criticism": ok(web.as_("agro-member2").get(f"{PLAN}/criticism")),
            "polls": ok(web.as_("agro-member2").get(f"{PLAN}/units/agro/polls")),
            "versions": ok(web.as_("agro-member2").get(PLAN))["versions"]}


def test_the_self_government_round_trips(web: Web, empty_url: str,  # noqa: F811
                                         tmp_path: Path,
                                         engines: Callable[[str], sa.Engine]  # noqa: F811
                                         ) -> None:
    make_governance(web)
    before = views(web)
    counts = archive.export(engine_of(web), tmp_path / "a")
    assert {t: n for t, n in counts.items() if t != "ballots"} == snapshot(web)
    assert all(counts[t] > 0 for t in ("plan_rules", "terms", "elections", "election_options",
                                       "election_voters", "petitions", "petition_signatures",
                                       "criticisms"))
    assert archive.restore(engines(empty_url), tmp_path / "a") == counts
    archive.export(engines(empty_url), tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    files = tree(tmp_path / "a")
    assert not any("ballot" in path for path in files)
    assert b",,Call 555-0100," in files["plans/brazil/criticisms.csv"]  # no author
    new = web_on(empty_url, engines)
    assert views(new) == before
    # the restored votes go on: one ballot each, new ids after the old
    recall = before["govern"]["votes"][0]
    again = new.as_("agro-member2").post(f"{PLAN}/elections/{recall['id']}/ballot",
                                         json={"choices": {"1": True}})
    assert again.status_code == 409
    _vote(new, "agro-delegate", recall["id"], {1: True})
    made = ok(new.as_("food-member1").post(f"{PLAN}/elections", json={
        "seat": "delegate", "unit": "food", "candidates": ["food-member1"]}), 201)
    assert made["id"] > max(v["id"] for v in before["govern"]["votes"])


def test_an_archive_of_format_2_restores_without_the_self_government(
        web: Web, empty_url: str, tmp_path: Path,  # noqa: F811
        engines: Callable[[str], sa.Engine]) -> None:  # noqa: F811
    """As counterplan wrote it before format 3: no files of the
    self-government, polls.csv without closes_at, 13 tables counted."""
    ok(web.as_("agro-member1").post(f"{PLAN}/units/agro/proposals", json={
        "kind": "capacity", "item": "labour", "period": "2027", "value": "1000"}), 201)
    ok(web.as_("agro-delegate").post(f"{PLAN}/units/agro/polls"), 201)
    archive.export(engine_of(web), tmp_path / "a")
    as_format_2(tmp_path / "a")
    archive.restore(engines(empty_url), tmp_path / "a")
    polls = ok(web_on(empty_url, engines).as_("agro-member1").get(f"{PLAN}/units/agro/polls"))
    assert polls[0]["state"] == "open" and polls[0]["closes_at"] > polls[0]["items"][0][
        "created_at"]
