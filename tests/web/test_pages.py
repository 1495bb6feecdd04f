"""The server-rendered pages, on SQLite and PostgreSQL: login with its
CSRF token, who may see each page, forms that show the library's verdict at
once, refusals that change nothing, escaping, and the charts' specs."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from counterplan import examples
from counterplan.counter.evaluate import evaluate
from counterplan.counter.proposals import parse_counterplans
from counterplan.web import charts
from counterplan.web.auth import CSRF_COOKIE, FREE_FAILURES, SESSION_COOKIE, add_user
from counterplan.web.models import Poll, Proposal
from counterplan.web.numbers import humane, percent
from counterplan.web.services.versions import economy_of_example

from webtests import PASSWORD, User, Web, count, snapshot

PLAN = "/plans/brazil"
AGRO = f"{PLAN}/units/agro"
#: agriculture needs 9.02 jobs per BRL million; 12 is a worse norm
NORM = {"kind": "norm", "technique": "agriculture", "item": "labour", "value": "-12"}
CAPACITY = {"kind": "capacity", "item": "labour", "period": "2027", "value": "1000000"}
XSS = "<script>alert(1)</script>"


def form(user: User, path: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
    """Send a page's form as the browser does: the CSRF token in the form,
    no header."""
    return user.client.post(path, data={"csrf": user.csrf, **(data or {})}, **kw)


def login_form(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf": token.group(1)}, follow_redirects=False)


def outsider(web: Web) -> TestClient:
    """A logged-in user with no role in the demo plan."""
    with web.app.state.counterplan.tx() as db:
        add_user(db, "outsider", PASSWORD)
    client = web.anonymous()
    assert login_form(client, "outsider").status_code == 303
    return client


def proposal_states(web: Web) -> dict[int, str]:
    with web.app.state.counterplan.tx() as db:
        return {p.id: p.state for p in db.scalars(select(Proposal))}


def made_id(response: Any) -> int:
    found = re.search(r"made=(\d+)", str(response.url))
    assert found is not None, response.url
    return int(found.group(1))


def spec_in(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="spec-{name}">(.*?)</script>',
                      html, re.S)
    assert found is not None, f"no chart {name!r} in the page"
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


# -- logging in -----------------------------------------------------------------------

def test_login_form_double_submit_csrf(web: Web) -> None:
    client = web.anonymous()
    page = client.get("/login")
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None and client.cookies.get(CSRF_COOKIE) == token.group(1)
    done = client.post("/login", data={"name": "agro-member1", "password": PASSWORD,
                                       "csrf": token.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.cookies.get(SESSION_COOKIE)
    home = client.get("/")
    assert home.status_code == 200 and 'href="/plans/brazil"' in home.text
    assert "member of agro" in home.text


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
def test_login_without_the_csrf_token_is_refused(web: Web, sent: str | None) -> None:
    client = web.anonymous()
    client.get("/login")
    before = count(web, "auth_sessions"), count(web, "login_throttle")
    data = {"name": "agro-member1", "password": PASSWORD}
    response = client.post("/login", data=data if sent is None else {**data, "csrf": sent},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "nobody was logged in" in response.text
    assert (count(web, "auth_sessions"), count(web, "login_throttle")) == before
    assert not client.cookies.get(SESSION_COOKIE)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_then_throttled(web: Web) -> None:
    client = web.anonymous()
    for _ in range(FREE_FAILURES["name"]):
        wrong = login_form(client, "agro-member1", "not-the-password")
        assert wrong.status_code == 401
        assert "wrong name or password" in wrong.text and 'name="password"' in wrong.text
    throttled = login_form(client, "agro-member1")  # even the right password, for now
    assert throttled.status_code == 429 and "too many failed logins" in throttled.text
    assert not client.cookies.get(SESSION_COOKIE)


def test_logout(web: Web) -> None:
    client = web.anonymous()
    login_form(client, "agro-member1")
    home = client.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf is not None
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    done = client.post("/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


PAGES = ["/", PLAN, f"{PLAN}/versions/1", AGRO, f"{PLAN}/fulfilment", f"{PLAN}/compare/1/1"]


@pytest.mark.parametrize("path", [*PAGES, f"{PLAN}/rounds/1/outcomes"])
def test_anonymous_visitors_go_to_the_login_page(web: Web, path: str) -> None:
    response = web.anonymous().get(path, follow_redirects=False)
    assert response.status_code == 303  # and back here after logging in
    assert response.headers["location"] == \
        ("/login" if path == "/" else f"/login?next={quote(path, safe='')}")


@pytest.mark.parametrize("next_", ["/plans/brazil/units/agro?page=1",
                                   "https://elsewhere.example/", "//elsewhere.example/"])
def test_a_deep_link_survives_the_login(web: Web, next_: str) -> None:
    client = web.anonymous()
    page = client.get(f"/login?next={quote(next_, safe='')}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    done = client.post("/login", data={"name": "agro-member1", "password": PASSWORD,
                                       "csrf": token.group(1), "next": next_},
                       follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == (next_ if next_.startswith("/plans") else "/")


def test_anonymous_forms_go_to_the_login_page(web: Web) -> None:
    before = snapshot(web)
    response = web.anonymous().post(f"{AGRO}/proposals", data=CAPACITY,
                                    follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert snapshot(web) == before


# -- who sees which page --------------------------------------------------------------

@pytest.mark.parametrize("name", ["agro-member1", "agro-delegate", "office"])
def test_pages_render_for_those_who_may_see_them(web: Web, name: str) -> None:
    user = web.as_(name)
    for path in PAGES:
        response = user.get(path)
        assert response.status_code == 200, (path, response.text)
        assert re.search(r"<h1>[^<]+</h1>", response.text), path
        assert re.search(r'<p class="lede">\s*\S', response.text), path
        assert '<meta name="viewport"' in response.text


def test_the_unit_page_shows_each_role_its_own(web: Web) -> None:
    office = web.as_("office").get(AGRO).text
    assert "Techniques and planned activity" in office
    assert "only its members and delegates see them" in office
    assert 'action="/plans/brazil/units/agro/proposals"' not in office
    member = web.as_("agro-member1").get(AGRO).text
    assert 'action="/plans/brazil/units/agro/proposals"' in member
    assert 'action="/plans/brazil/units/agro/reports"' not in member
    delegate = web.as_("agro-delegate").get(AGRO).text
    assert 'action="/plans/brazil/units/agro/reports"' in delegate
    assert 'action="/plans/brazil/units/agro/polls"' in delegate


def test_the_plan_page_shows_the_office_its_tools(web: Web) -> None:
    office = web.as_("office").get(PLAN).text
    assert 'action="/plans/brazil/members"' in office
    assert 'action="/plans/brazil/rounds/1/reconcile"' in office
    assert office.count('href="/plans/brazil/units/') == 12
    member = web.as_("food-member1").get(PLAN).text
    assert 'action="/plans/brazil/members"' not in member
    assert "/reconcile\"" not in member and "Open a round" not in member
    assert re.findall(r'href="/plans/brazil/units/([^"]+)"', member) == ["food"]


def test_pages_refuse_those_who_may_not_see_them(web: Web) -> None:
    food = web.as_("food-member1")
    response = food.get(AGRO)
    assert response.status_code == 403
    assert "only members of unit &#39;agro&#39; may see the unit&#39;s page" in response.text
    assert 'href="/plans/brazil"' in response.text  # the way back
    assert food.get(f"{PLAN}/rounds/1/outcomes").status_code == 409  # not reconciled
    assert food.get(f"{PLAN}/versions/7").status_code == 404
    stranger = outsider(web)
    for path in PAGES[1:]:
        refused = stranger.get(path)
        assert refused.status_code == 404, path
        assert "no plan called &#39;brazil&#39;" in refused.text


def test_drafts_are_the_offices(web: Web) -> None:
    office = web.as_("office")
    made = form(office, "/plans/example", {"name": "second", "example": "kantorovich-1939",
                                           "title": "A second plan"})
    assert made.status_code == 200 and str(made.url).endswith("/plans/second?done=created")
    assert "A second plan" in made.text and "draft" in made.text
    assert office.get("/plans/second/versions/1").status_code == 200
    assert web.as_("agro-member1").get("/plans/second").status_code == 404
    assert form(office, "/plans/second/members", {"user": "agro-member1", "role": "member",
                                                  "unit": "milling-shop"}).status_code == 200
    assert web.as_("agro-member1").get("/plans/second/versions/1").status_code == 404


def test_a_plan_from_an_uploaded_folder(web: Web, tmp_path: Path) -> None:
    folder = examples.copy_example("textbook", tmp_path / "textbook")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for file in folder.iterdir():
            z.write(file, f"textbook/{file.name}")
    office = web.as_("office")
    done = form(office, "/plans/upload", {"name": "uploaded"},
                files={"file": ("textbook.zip", data.getvalue(), "application/zip")})
    assert done.status_code == 200 and str(done.url).endswith("/plans/uploaded?done=created")
    before = snapshot(web)
    bad = form(office, "/plans/upload", {"name": "broken"},
               files={"file": ("broken.zip", b"not a zip", "application/zip")})
    assert bad.status_code == 422
    assert snapshot(web) == before


# -- forms ----------------------------------------------------------------------------

def test_proposing_shows_the_librarys_verdict_at_once(web: Web) -> None:
    response = form(web.as_("agro-member1"), f"{AGRO}/proposals", NORM)
    assert response.status_code == 200
    economy = economy_of_example("brazil-five-year")
    plans, _ = parse_counterplans(pd.DataFrame([{"id": "x", "unit_id": "agro", **NORM}]),
                                  economy)
    expected = evaluate(economy, plans).verdicts.iloc[0]
    html = response.text
    top = html[html.index('id="made"'):html.index('id="activity"')]
    assert str(escape(humane(expected["reason"]))) in top  # the detail, numbers rounded
    # a worse norm fits but lowers the plan: the badge and the first sentence say so
    assert expected["verdict"] == "accepted"
    fall = (expected["objective_before"] - expected["objective_after"]) / \
        expected["objective_before"]
    assert fall > 0 and "fits, lowers the plan" in top
    assert f"It fits, but the plan gets {percent(fall)} worse" in top
    assert "e+" not in top and "e-0" not in top
    assert f"Your proposal #{made_id(response)}" in top


def test_html_in_a_note_is_shown_escaped(web: Web) -> None:
    made = form(web.as_("agro-member1"), f"{AGRO}/proposals", {**CAPACITY, "note": XSS})
    assert made.status_code == 200
    form(web.as_("agro-delegate"), f"{PLAN}/proposals/{made_id(made)}/submit")
    for html in (made.text, web.as_("agro-member2").get(AGRO).text,
                 web.as_("office").get(PLAN).text):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html


def test_refusal_messages_are_escaped(web: Web) -> None:
    user = web.as_("agro-member1")
    response = user.get("/plans/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 404
    assert "no plan called &#39;&lt;img src=x onerror=alert(1)&gt;&#39;" in response.text
    assert "<img" not in response.text
    assert "<script>alert" not in user.get(f"{PLAN}?done={XSS}").text


def test_a_non_number_is_refused_with_the_librarys_message(web: Web) -> None:
    before = snapshot(web)
    response = form(web.as_("agro-member1"), f"{AGRO}/proposals",
                    {**CAPACITY, "value": "lots"})
    assert response.status_code == 422
    assert "&#39;value&#39; is not a finite number (value &#39;lots&#39;)" in response.text
    assert "nothing was changed" in response.text
    report = form(web.as_("agro-delegate"), f"{AGRO}/reports",
                  {"technique": "livestock", "period": "2026", "activity": "lots"})
    assert report.status_code == 422 and "is not a number" in report.text
    assert snapshot(web) == before


@pytest.mark.parametrize("sent", [None, "forged-token"])
def test_forms_without_the_sessions_csrf_token_are_refused(web: Web, sent: str | None) -> None:
    member = web.as_("agro-member1")
    before = snapshot(web)
    data = dict(CAPACITY) if sent is None else {**CAPACITY, "csrf": sent}
    # the API's header is not enough for a form: the token must be in the form
    response = member.client.post(f"{AGRO}/proposals", data=data,
                                  headers={"X-CSRF-Token": member.csrf})
    assert response.status_code == 403
    assert "security token does not match" in response.text
    assert snapshot(web) == before


def test_a_proposal_of_another_unit_cannot_be_submitted(web: Web) -> None:
    made = made_id(form(web.as_("agro-member1"), f"{AGRO}/proposals", CAPACITY))
    before, states = snapshot(web), proposal_states(web)
    refused = form(web.as_("food-delegate"), f"{PLAN}/proposals/{made}/submit")
    assert refused.status_code == 403
    assert "only a delegate of unit &#39;agro&#39;" in refused.text
    assert form(web.as_("agro-delegate"), f"{PLAN}/proposals/999999/submit"
                ).status_code == 404
    assert (snapshot(web), proposal_states(web)) == (before, states)
    done = form(web.as_("agro-delegate"), f"{PLAN}/proposals/{made}/submit")
    assert done.status_code == 200 and proposal_states(web)[made] == "submitted"


def _poll_of_a_second_plan(web: Web) -> int:
    """A vote open in another plan, where the office is agro's delegate."""
    office = web.as_("office")
    steps = [("/plans/example", {"name": "second", "example": "brazil-five-year"}),
             ("/plans/second/versions/1/publish", {}), ("/plans/second/rounds", {}),
             ("/plans/second/members", {"user": "office", "role": "delegate", "unit": "agro"}),
             ("/plans/second/members", {"user": "office", "role": "member", "unit": "agro"}),
             ("/plans/second/units/agro/proposals", CAPACITY),
             ("/plans/second/units/agro/polls", {})]
    for path, data in steps:
        response = form(office, path, data)
        assert response.status_code == 200, (path, response.text)
    with web.app.state.counterplan.tx() as db:
        poll = db.scalar(select(Poll.id).order_by(Poll.id.desc()))
    assert poll is not None
    return poll


def test_a_vote_of_another_plan_or_unit_cannot_be_touched(web: Web) -> None:
    other = _poll_of_a_second_plan(web)
    form(web.as_("agro-member1"), f"{AGRO}/proposals", CAPACITY)
    form(web.as_("agro-delegate"), f"{AGRO}/polls")
    with web.app.state.counterplan.tx() as db:
        mine = db.scalar(select(Poll.id).order_by(Poll.id.desc()))
    proposal = proposal_states(web)
    before = snapshot(web)
    member = web.as_("agro-member1")
    yes = {f"vote-{p}": "yes" for p in proposal}
    assert form(member, f"{PLAN}/polls/{other}/ballot", yes).status_code == 404
    assert form(member, f"/plans/second/polls/{other}/ballot", yes).status_code == 404
    assert form(web.as_("agro-delegate"), f"{PLAN}/polls/{other}/close").status_code == 404
    assert form(web.as_("food-member1"), f"{PLAN}/polls/{mine}/ballot", yes
                ).status_code == 403
    assert form(member, f"{PLAN}/polls/{mine}/ballot", {"vote-999999": "yes"}
                ).status_code == 422
    assert form(member, f"{PLAN}/polls/{mine}/ballot", {"vote-1": "maybe"}).status_code == 422
    assert snapshot(web) == before


def test_a_secret_vote_through_the_pages(web: Web) -> None:
    first = made_id(form(web.as_("agro-member1"), f"{AGRO}/proposals", CAPACITY))
    second = made_id(form(web.as_("agro-member2"), f"{AGRO}/proposals", NORM))
    opened = form(web.as_("agro-delegate"), f"{AGRO}/polls")
    assert opened.status_code == 200 and "The vote is open" in opened.text
    assert "Cast my secret ballot" in opened.text  # the delegate is a member too
    for name in ("agro-member1", "agro-member2"):
        page = web.as_(name).get(AGRO).text
        poll = re.search(r'action="/plans/brazil/polls/(\d+)/ballot"', page)
        assert poll is not None
        cast = form(web.as_(name), f"{PLAN}/polls/{poll.group(1)}/ballot",
                    {f"vote-{first}": "yes", f"vote-{second}": "no"})
        assert cast.status_code == 200 and "Your ballot is counted" in cast.text
        assert "You have voted in this vote" in cast.text
    again = form(web.as_("agro-member1"), f"{PLAN}/polls/{poll.group(1)}/ballot",
                 {f"vote-{first}": "no"})
    assert again.status_code == 409 and "one member, one vote" in again.text
    closed = form(web.as_("agro-delegate"), f"{PLAN}/polls/{poll.group(1)}/close")
    assert closed.status_code == 200 and "The vote is closed" in closed.text
    assert proposal_states(web) == {first: "submitted", second: "proposed"}
    tallies = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', closed.text)
    assert tallies[-2:] == [("2", "0"), ("0", "2")]


def test_reconcile_publish_compare_and_outcomes(web: Web) -> None:
    delegate, office = web.as_("agro-delegate"), web.as_("office")
    made = made_id(form(delegate, f"{AGRO}/proposals", CAPACITY))
    assert form(delegate, f"{PLAN}/proposals/{made}/submit").status_code == 200
    inbox = office.get(PLAN).text
    assert "Inbox: counter-plans submitted in round 1" in inbox and "rises by 1000000" in inbox
    outcomes = form(office, f"{PLAN}/rounds/1/reconcile")
    assert outcomes.status_code == 200 and str(outcomes.url).endswith("/rounds/1/outcomes")
    assert "adopted" in outcomes.text and spec_in(outcomes.text, "by-unit")["data"] == {
        "values": [{"unit": "agro", "outcome": "adopted", "count": 1}]}
    assert delegate.get(f"{PLAN}/rounds/1/outcomes").status_code == 403  # not yet published
    assert delegate.get(f"{PLAN}/versions/2").status_code == 404  # a draft
    published = form(office, f"{PLAN}/versions/2/publish")
    assert published.status_code == 200 and "it is now the plan in force" in published.text
    assert delegate.get(f"{PLAN}/rounds/1/outcomes").status_code == 200
    compared = office.get(f"{PLAN}/compare?first=1&second=2")
    assert compared.status_code == 200 and str(compared.url).endswith("/compare/1/2")
    fulfilment = spec_in(compared.text, "fulfilment")["data"]["values"]
    assert {r["version"] for r in fulfilment} == {"version 1", "version 2"}
    assert spec_in(compared.text, "changes")["data"]["values"]  # more labour moves activity
    again = form(office, f"{PLAN}/versions/2/publish")
    assert again.status_code == 409 and "already the published plan" in again.text


def test_reports_through_the_form(web: Web) -> None:
    delegate = web.as_("agro-delegate")
    planned = next(r for r in delegate.get("/api/plans/brazil/units/agro").json()["activity"]
                   if r["technique"] == "livestock" and r["period"] == "2026")["level"]
    done = form(delegate, f"{AGRO}/reports", {"technique": "livestock", "period": "2026",
                                              "activity": str(0.9 * planned)})
    assert done.status_code == 200 and "The report is saved" in done.text
    assert form(web.as_("agro-member1"), f"{AGRO}/reports", {
        "technique": "livestock", "period": "2026", "activity": "1"}).status_code == 403
    page = web.as_("food-member1").get(f"{PLAN}/fulfilment").text
    assert ">90.0 %<" in page
    cells = spec_in(page, "cells")["data"]["values"]
    assert [(c["unit"], c["technique"]) for c in cells] == [("agro", "livestock")]
    assert cells[0]["ratio"] == pytest.approx(0.9)
    assert count(web, "reports") == 1


def test_a_counterplan_file_through_the_form(web: Web) -> None:
    csv = b"id,kind,item,period,value,note\na,capacity,labour,2027,1000,more\n" \
          b"b,capacity,labour,2028,2000,\n"
    done = form(web.as_("agro-member1"), f"{AGRO}/proposals/upload",
                files={"file": ("counterplan.csv", csv, "text/csv")})
    assert done.status_code == 200
    assert done.text.count('class="verdict accepted"') == 2
    assert count(web, "proposals") == 2
    before = snapshot(web)
    other = form(web.as_("agro-member1"), f"{AGRO}/proposals/upload", files={
        "file": ("counterplan.csv", b"id,unit_id,kind,item,period,value\n"
                                    b"a,food,capacity,labour,2027,1\n", "text/csv")})
    assert other.status_code == 403 and "a unit proposes only for itself" in other.text
    assert snapshot(web) == before


# -- the pages' make-up ---------------------------------------------------------------

def test_no_inline_script_and_charts_from_the_spec_functions(web: Web) -> None:
    user = web.as_("agro-delegate")
    page = user.get(f"{PLAN}/versions/1").text
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    detail = user.get("/api/plans/brazil/versions/1").json()
    assert spec_in(page, "fulfilment") == charts.fulfilment_per_period(detail["fulfilment"])
    assert spec_in(page, "valuations") == charts.top_valuations(detail["valuations"],
                                                                money=detail["numeraire"])
    unit = user.get(AGRO).text
    view = user.get("/api/plans/brazil/units/agro").json()
    assert spec_in(unit, "activity") == charts.planned_activity(view["activity"],
                                                                view["techniques"])
    for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js"):
        assert re.search(rf'src="/static/vendor/{re.escape(script)}\?v=[0-9a-f]{{16}}"', unit)
        assert user.get(f"/static/vendor/{script}").status_code == 200
    assert "vegaEmbed" in user.get("/static/app.js").text


STATIC = Path(__file__).parents[2] / "src" / "counterplan" / "web" / "static"


def test_static_files_are_kept_until_they_change(web: Web, tmp_path: Path) -> None:
    """Each static file a page names carries the digest of the file's bytes
    (SHA-256, read here from the source tree), and is answered with a year's
    Cache-Control; asked for without it, or with another digest, the browser
    must ask again (no-cache); a missing file is a plain 404."""
    user = web.as_("agro-delegate")
    named = re.findall(r'(?:src|href)="(/static/[^"?]+)\?v=([0-9a-f]+)"', user.get(AGRO).text)
    assert {path for path, _ in named} == {
        "/static/app.css", "/static/app.js", "/static/vendor/vega.min.js",
        "/static/vendor/vega-lite.min.js", "/static/vendor/vega-embed.min.js"}
    for path, digest in named:
        content = (STATIC / path.removeprefix("/static/")).read_bytes()
        assert digest == hashlib.sha256(content).hexdigest()[:16], path
        kept = user.get(f"{path}?v={digest}")
        assert kept.status_code == 200 and kept.content == content
        assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
        for other in (path, f"{path}?v={'0' * 16}", f"{path}?v={digest}&x=1"):
            assert user.get(other).headers["cache-control"] == "no-cache", other
    missing = user.get("/static/nothing.js?v=0123456789abcdef")
    assert missing.status_code == 404 and "immutable" not in missing.headers.get(
        "cache-control", "")


# -- charts.py ------------------------------------------------------------------------

def _valid(spec: dict[str, Any]) -> None:
    json.dumps(spec, allow_nan=False)  # plain JSON: no NaN or infinity for the browser
    assert spec["$schema"].endswith("/vega-lite/v5.json") and spec["description"]
    assert spec["width"] == "container" and isinstance(spec["height"], int)
    assert "mark" in spec or "layer" in spec


def test_fulfilment_chart() -> None:
    rows = [{"period": "2026", "ratio": 1.02}, {"period": "2027", "ratio": None},
            {"period": "2028", "ratio": math.nan}, {"period": "2029", "ratio": 0.9}]
    spec = charts.fulfilment_per_period(rows)
    _valid(spec)
    assert spec["data"]["values"] == [rows[0], rows[3]]  # absence stays absent, not zero
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["2026", "2029"]
    assert spec["layer"][1]["encoding"]["y"] == {"datum": 1}


def test_top_valuations_chart_keeps_the_highest() -> None:
    rows = [{"item": f"p{k}", "period": t, "valuation": float(k) + (t == "2027")}
            for k in range(20) for t in ("2026", "2027")]
    rows.append({"item": "p99", "period": "2026", "valuation": math.inf})
    spec = charts.top_valuations(rows, n=3)
    _valid(spec)
    assert {r["item"] for r in spec["data"]["values"]} == {"p19", "p18", "p17"}
    assert spec["encoding"]["color"]["sort"] == ["p19", "p18", "p17"]
    assert len(spec["data"]["values"]) == 6


def test_balance_share_chart_means_over_periods() -> None:
    rows = [{"item": "grain", "period": "1", "share_of_supply": 1.0, "share_of_use": 0.0},
            {"item": "grain", "period": "2", "share_of_supply": 0.5, "share_of_use": 0.0},
            {"item": "labour", "period": "1", "share_of_supply": 0.0, "share_of_use": 0.2},
            {"item": "labour", "period": "2", "share_of_supply": 0.0, "share_of_use": 0.4}]
    spec = charts.balance_shares(rows)
    _valid(spec)
    values = {(r["item"], r["side"]): r["share"] for r in spec["data"]["values"]}
    assert values == {("grain", "of what is made"): 0.75,
                      ("labour", "of what is used"): pytest.approx(0.3)}
    assert spec["encoding"]["y"]["sort"] == ["grain", "labour"]


def test_outcome_charts_count_and_pair() -> None:
    rows = [{"id": 1, "unit": "agro", "outcome": "adopted", "share": 1.0, "outcome_share": 1.0},
            {"id": 2, "unit": "agro", "outcome": "refused", "share": 1.0, "outcome_share": 0.0},
            {"id": 3, "unit": "food", "outcome": "adopted", "share": 0.5,
             "outcome_share": 0.25}]
    by_unit = charts.outcomes_by_unit(rows)
    _valid(by_unit)
    assert by_unit["data"]["values"] == [
        {"unit": "agro", "outcome": "adopted", "count": 1},
        {"unit": "agro", "outcome": "refused", "count": 1},
        {"unit": "food", "outcome": "adopted", "count": 1}]
    assert by_unit["encoding"]["x"]["axis"]["values"] == [0, 1, 2]
    shares = charts.outcome_shares(rows)
    _valid(shares)
    assert [(r["proposal"], r["stage"], r["share"]) for r in shares["data"]["values"]][-2:] \
        == [("#3 food", "judged alone", 0.5), ("#3 food", "adopted", 0.25)]


def test_ranking_and_cells_leave_out_units_without_numbers() -> None:
    rows = [{"unit": "agro", "name": "A", "fulfilment": 0.9},
            {"unit": "food", "name": "F", "fulfilment": None}]
    spec = charts.ranking(rows, "fulfilment", "Fulfilment")
    _valid(spec)
    assert spec["data"]["values"] == [rows[0]] and spec["height"] == 60
    cells = charts.fulfilment_cells([
        {"unit": "agro", "technique": "t", "period": "1", "ratio": 0.5},
        {"unit": "agro", "technique": "u", "period": "1", "ratio": None}])
    _valid(cells)
    assert [c["cell"] for c in cells["data"]["values"]] == ["agro · t"]


def test_activity_charts() -> None:
    activity = [{"technique": "t", "period": "1", "level": 2.0},
                {"technique": "t", "period": "2", "level": 3.0}]
    spec = charts.planned_activity(activity, [{"id": "t", "name": "Threshing"}])
    _valid(spec)
    assert [r["name"] for r in spec["data"]["values"]] == ["Threshing", "Threshing"]
    changes = charts.activity_changes([
        {"technique": "t", "period": "1", "level_a": 1.0, "level_b": 3.0, "change": 2.0},
        {"technique": "u", "period": "1", "level_a": 2.0, "level_b": 1.0, "change": -1.0}],
        n=1)
    _valid(changes)
    assert [r["cell"] for r in changes["data"]["values"]] == ["t · 1"]


def test_a_refused_proposal_keeps_what_was_typed(web: Web) -> None:
    """A delegate who mistypes a number loses neither the note nor the rest."""
    delegate = web.as_("agro-delegate")
    before = snapshot(web)
    page = delegate.client.get("/plans/brazil/units/agro")
    assert page.status_code == 200
    response = delegate.client.post("/plans/brazil/units/agro/proposals", data={
        "csrf": delegate.csrf, "kind": "norm", "technique": "livestock", "item": "labour",
        "period": "", "value": "eight", "note": "our new milking <shed>"},
        follow_redirects=False)
    assert response.status_code == 422
    html = response.text
    assert "Nothing was proposed" in html and "is not a finite number" in html
    assert 'value="eight"' in html and ">our new milking &lt;shed&gt;</textarea>" in html
    assert '<option value="norm" selected>' in html
    assert '<option value="livestock" selected>' in html
    assert snapshot(web) == before
