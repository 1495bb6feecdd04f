"""The self-government in a real browser (Debian's Chromium), at 1280 px and
390 px: members recall their delegate (petition, secret ballot, the seat
empty at once) and choose the plan's next version among variants the office
solved (approval ballot, turnout and tally once closed, the chosen variant
the next draft).  Time passes by moving the votes' closing times in the
database.  Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from liveserver import screenshot, serve
from webtests import PASSWORD

expect.set_options(timeout=20_000)
WIDTHS = [1280, 390]


@pytest.fixture
def site(demo_copy: Path) -> Iterator[tuple[str, Path]]:
    """The demo on a fresh SQLite copy, served on 127.0.0.1, and its file."""
    with serve(f"sqlite:///{demo_copy}") as url:
        yield url, demo_copy


class Person:
    """One person logged in at one browser of ``width``."""

    def __init__(self, browser: Browser, url: str, name: str, width: int):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url, self.width = url, width
        self.page.goto(f"{url}/login")
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("button", name="Log out")).to_be_visible()

    def go(self, path: str) -> Page:
        self.page.goto(self.url + path)
        return self.page

    def shot(self, name: str) -> None:
        screenshot(self.page, f"{name}-{self.width}")
        used: Any = self.page.evaluate("document.documentElement.scrollWidth")
        assert used <= self.width + 1  # nothing wider than the screen: tables scroll inside


def _time_passes(db: Path) -> None:
    with sqlite3.connect(db) as c:
        c.execute("UPDATE elections SET closes_at = '2000-01-01 00:00:00.000000' "
                  "WHERE state = 'open'")


@pytest.mark.parametrize("width", WIDTHS)
def test_members_recall_their_delegate(browser: Browser, site: tuple[str, Path],
                                       width: int) -> None:
    url, db = site
    member = Person(browser, url, "agro-member1", width)
    page = member.go("/plans/brazil")
    page.get_by_role("link", name="Who decides").click()
    seat = page.locator("#seat-delegate-agro")
    expect(seat).to_contain_text("agro-delegate")
    seat.get_by_text("Petition to recall agro-delegate", exact=True).click()
    seat.locator("textarea[name=reason]").fill("Missed every meeting since spring.")
    seat.get_by_role("button", name="Start the petition to recall agro-delegate").click()
    petition = page.locator("#petition-1")
    expect(petition).to_contain_text("vote opened")  # one of three members is a third
    expect(petition.locator(".signatures")).to_have_text("1 of 1")
    vote = page.locator(".vote").filter(has_text="the recall of the delegate of unit 'agro'")
    expect(vote).to_contain_text("Turnout and tallies are shown when it closes")
    vote.get_by_label("yes, recall").check()
    vote.get_by_role("button", name="Cast my secret ballot").click()
    expect(page.get_by_role("status")).to_contain_text("Your ballot is counted")
    expect(vote).to_contain_text("You have voted in this vote")
    member.shot("recall-voted")

    other = Person(browser, url, "agro-member2", width)
    ballot = other.go("/plans/brazil/govern").locator(".vote").filter(has_text="recall")
    ballot.get_by_label("yes, recall").check()
    ballot.get_by_role("button", name="Cast my secret ballot").click()
    expect(other.page.get_by_role("status")).to_contain_text("Your ballot is counted")

    _time_passes(db)
    page = member.go("/plans/brazil/govern")
    closed = page.locator(".vote").filter(has_text="recall")
    expect(closed.locator(".outcome")).to_contain_text("recalled: 2 yes against 0 no")
    expect(closed.locator(".turnout")).to_have_text("2 of 3")
    expect(page.locator("#seat-delegate-agro")).to_contain_text("nobody")  # at once
    member.shot("recall-closed")
    delegate = Person(browser, url, "agro-delegate", width)
    unit = delegate.go("/plans/brazil/units/agro")
    expect(unit.get_by_role("button", name="Open a vote on the waiting proposals")
           ).to_have_count(0)  # no longer the delegate
    assert member.errors == [] and other.errors == [] and delegate.errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_members_choose_the_next_version_among_variants(browser: Browser,
                                                        site: tuple[str, Path],
                                                        width: int) -> None:
    url, db = site
    office = Person(browser, url, "office", width)
    page = office.go("/plans/brazil/govern#variants")
    form = page.locator("#variants form")
    form.locator("input[name=name-1]").fill("invest for 2030")
    form.locator("textarea[name=changes-1]").fill("weight 2030 3")
    form.locator("input[name=name-2]").fill("more food now")
    form.locator("textarea[name=changes-2]").fill("target agriculture 1.05")
    form.get_by_role("button", name="Solve the variants and open the vote").click()
    expect(page.get_by_role("status")).to_contain_text("put to the vote of every member")
    office.shot("variants-published")

    member = Person(browser, url, "agro-member1", width)
    page = member.go("/plans/brazil/govern")
    vote = page.locator(".vote").filter(has_text="the plan's variants")
    vote.get_by_role("link", name="version 2 with 3").click()  # the compare page exists
    expect(page.locator("h1")).to_contain_text("version 2 and version 3")
    page = member.go("/plans/brazil/govern")
    vote = page.locator(".vote").filter(has_text="the plan's variants")
    vote.get_by_label(re.compile("more food now")).check()
    vote.get_by_role("button", name="Cast my secret ballot").click()
    expect(page.get_by_role("status")).to_contain_text("Your ballot is counted")
    expect(vote).not_to_contain_text("Approved")  # no tally while it is open
    member.shot("variants-voted")

    _time_passes(db)
    page = member.go("/plans/brazil/govern")
    closed = page.locator(".vote").filter(has_text="the plan's variants")
    expect(closed.locator(".outcome")).to_contain_text(
        "more food now is chosen with 1 approval of 1 ballot; it is now draft version 4")
    expect(closed.locator(".turnout")).to_have_text("1 of 36")
    member.shot("variants-closed")
    plan = office.go("/plans/brazil")
    expect(plan.get_by_role("row").filter(has_text="chosen by the members: more food now")
           ).to_contain_text("draft")
    assert office.errors == [] and member.errors == []
