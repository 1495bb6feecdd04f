"""The flow in a real browser: headless Chromium (Debian's) driven by
Playwright against the app on 127.0.0.1.  A delegate logs in, proposes a
counter-plan and sees its verdict and reason; the office reconciles and
publishes; everyone sees what was adopted.  Screenshots are kept in
test-artifacts/ (CI's artefacts)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from liveserver import screenshot, serve
from webtests import PASSWORD

expect.set_options(timeout=20_000)  # CI machines are shared: a page may take a while


@pytest.fixture
def site(demo_copy: Path) -> Iterator[str]:
    """The demo on a fresh SQLite copy, served on 127.0.0.1."""
    with serve(f"sqlite:///{demo_copy}") as url:
        yield url


class Session:
    """One person at one browser, with the console errors it saw."""

    def __init__(self, browser: Browser, site: str, name: str, phone: bool = False):
        size = {"width": 390, "height": 844} if phone else {"width": 1200, "height": 900}
        self.context = browser.new_context(viewport=size)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.site = site
        self.page.goto(f"{site}/login")
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.get_by_role("link", name="Log out").or_(
            self.page.get_by_role("button", name="Log out"))).to_be_visible()

    def go(self, path: str) -> Page:
        self.page.goto(self.site + path)
        return self.page

    def shot(self, name: str) -> Path:
        return screenshot(self.page, name)

    def charts_drawn(self) -> int:
        """Wait until every chart of the page is drawn; return how many."""
        charts = self.page.locator("figure.chart div.vega")
        n = charts.count()
        for k in range(n):
            expect(charts.nth(k).locator("canvas, svg").first).to_be_visible()
        return n


def test_a_delegate_proposes_and_sees_the_verdict(browser: Browser, site: str) -> None:
    delegate = Session(browser, site, "agro-delegate")
    page = delegate.go("/plans/brazil/units/agro")
    assert delegate.charts_drawn() >= 3
    form = page.locator("form", has=page.get_by_role("button",
                                                     name="Propose and see the verdict"))
    form.locator("select[name=kind]").select_option("norm")
    form.locator("select[name=technique]").select_option("agriculture")
    form.locator("input[name=item]").fill("labour")
    form.locator("input[name=value]").fill("-8.5")
    form.locator("textarea[name=note]").fill("New harvesters <b>save</b> labour")
    form.get_by_role("button", name="Propose and see the verdict").click()
    verdict = page.locator("#made")
    expect(verdict).to_be_visible()
    expect(verdict.locator(".reason")).to_contain_text("accepted: it fits")
    expect(verdict.locator(".reason")).to_contain_text("objective rises")
    expect(verdict).to_contain_text("New harvesters <b>save</b> labour")  # shown, not run
    delegate.shot("delegate-verdict")
    assert delegate.errors == []


def test_the_office_reconciles_and_publishes(browser: Browser, site: str) -> None:
    delegate = Session(browser, site, "agro-delegate")
    page = delegate.go("/plans/brazil/units/agro")
    form = page.locator("form", has=page.get_by_role("button",
                                                     name="Propose and see the verdict"))
    form.locator("select[name=kind]").select_option("capacity")
    form.locator("input[name=item]").fill("labour")
    form.locator("select[name=period]").select_option("2027")
    form.locator("input[name=value]").fill("1000000")
    form.get_by_role("button", name="Propose and see the verdict").click()
    expect(page.locator("#made")).to_contain_text("accepted")
    page.get_by_role("button", name="Submit to the office").first.click()
    expect(page.get_by_text("submitted").first).to_be_visible()

    office = Session(browser, site, "office")
    plan = office.go("/plans/brazil")
    plan.get_by_role("button", name="Reconcile round 1").click()
    expect(plan.get_by_role("cell", name="adopted", exact=True)).to_be_visible()
    office.shot("office-reconciled")
    plan = office.go("/plans/brazil")
    expect(plan.get_by_text("reconciled from round 1").first).to_be_visible()
    plan.get_by_role("button", name="Publish").first.click()
    expect(plan.get_by_text("Version 2 is the plan in force")).to_be_visible()

    outcomes = delegate.go("/plans/brazil/rounds/1/outcomes")
    expect(outcomes.get_by_role("cell", name="adopted", exact=True)).to_be_visible()
    delegate.charts_drawn()
    delegate.shot("outcomes")
    assert office.errors == [] and delegate.errors == []


def test_a_delegate_reports_and_the_ranking_shows_it(browser: Browser, site: str) -> None:
    delegate = Session(browser, site, "agro-delegate")
    page = delegate.go("/plans/brazil/units/agro")
    form = page.locator("form", has=page.get_by_role("button", name="Report"))
    form.locator("select[name=technique]").select_option("livestock")
    form.locator("select[name=period]").select_option("2026")
    form.locator("input[name=activity]").fill("264202.2")  # 90 % of the plan's 293,558
    form.get_by_role("button", name="Report").click()
    ranking = delegate.go("/plans/brazil/fulfilment")
    expect(ranking.get_by_role("row").filter(has_text="livestock").first).to_contain_text("90.0")
    assert delegate.charts_drawn() >= 1
    delegate.shot("fulfilment")
    assert delegate.errors == []


@pytest.mark.parametrize("path", ["/plans/brazil/units/agro", "/plans/brazil/versions/1",
                                  "/plans/brazil"])
def test_pages_read_on_a_phone(browser: Browser, site: str, path: str) -> None:
    member = Session(browser, site, "agro-member1", phone=True)
    page = member.go(path)
    member.charts_drawn()
    width: Any = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # nothing wider than the phone: tables scroll inside
    member.shot("phone" + path.replace("/", "-"))
    assert member.errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_verdicts_norms_and_charts_read_for_people(browser: Browser, site: str,
                                                   width: int) -> None:
    """A pledge far beyond capacity: a short first sentence with the share as
    a percentage, numbers without scientific notation, details folded; the
    unit's norms beside the form; valuations in labour; the deep link kept
    through the login; a refused report keeps what was typed."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{site}/plans/brazil/units/agro#propose")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Name").fill("agro-delegate")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/plans/brazil/units/agro"))  # the deep link kept
    expect(page.locator("details.norms")).to_contain_text("agriculture")
    expect(page.locator("#valuations figcaption")).to_contain_text("worth to the plan in labour")
    form = page.locator("form", has=page.get_by_role("button",
                                                     name="Propose and see the verdict"))
    form.locator("select[name=kind]").select_option("pledge")
    form.locator("select[name=technique]").select_option("agriculture")
    form.locator("select[name=period]").select_option("2027")
    form.locator("input[name=value]").fill("5000000")
    form.get_by_role("button", name="Propose and see the verdict").click()
    verdict = page.locator("#made")
    expect(verdict.locator(".badge")).to_contain_text("fits in part")
    headline = verdict.locator(".headline")
    expect(headline).to_contain_text(re.compile(r"Only [0-9.]+ % of it fits"))
    expect(verdict.locator("details .reason")).to_be_hidden()  # folded
    text = verdict.inner_text()
    assert not re.search(r"\d[eE][+-]?\d", text), text  # no 1e+06 for people
    screenshot(page, f"verdict-{width}")

    report = page.locator("form", has=page.get_by_role("button", name="Report"))
    report.locator("input[name=activity]").fill("1e308")
    report.get_by_role("button", name="Report").click()
    expect(page.locator("#report-refusal")).to_contain_text("more than 100 times")
    expect(page.locator("form", has=page.get_by_role("button", name="Report"))
           .locator("input[name=activity]")).to_have_value("1e308")
    width_used: Any = page.evaluate("document.documentElement.scrollWidth")
    assert width_used <= width + 1
    screenshot(page, f"report-refused-{width}")
    context.close()
