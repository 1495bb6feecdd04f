"""A production conference in a real browser (Debian's Chromium through
Playwright), at 1280 px and at 390 px: the north bakery's delegate proposes
a better flour norm and submits it; the office reconciles, publishes and
opens the next round; a member of the south bakery finds the better norm on
the unit's page with its note and gains, asks for the exact gain, and
proposes the same norm for the unit's own technique in one step, getting the
verdict at once.  Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app

from conferences import NOTE, create
from liveserver import screenshot, serve
from webtests import PASSWORD, Web

expect.set_options(timeout=20_000)


@pytest.fixture
def site(demo_copy: Path) -> Iterator[str]:
    """The demo on a fresh SQLite copy with the bakeries plan (version 1
    published, round 1 open), served on 127.0.0.1."""
    url = f"sqlite:///{demo_copy}"
    engine = database.connect(url)
    create(Web(create_app(Settings(db_url=url), engine)))
    engine.dispose()
    with serve(url) as address:
        yield address


def log_in(browser: Browser, site: str, name: str, width: int) -> tuple[Page, list[str]]:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log out").or_(
        page.get_by_role("button", name="Log out"))).to_be_visible()
    return page, errors


def fits(page: Page, width: int) -> None:
    used: Any = page.evaluate("document.documentElement.scrollWidth")
    assert used <= width + 1  # tables scroll inside, the page does not


@pytest.mark.parametrize("width", [1280, 390])
def test_a_better_norm_travels_from_adoption_to_a_proposal(browser: Browser, site: str,
                                                          width: int) -> None:
    # north's delegate proposes the better norm and submits it
    north, north_errors = log_in(browser, site, "food-delegate", width)
    north.goto(f"{site}/plans/bakeries/units/north")
    form = north.locator("form", has=north.get_by_role("button",
                                                       name="Propose and see the verdict"))
    form.locator("select[name=kind]").select_option("norm")
    form.locator("select[name=technique]").select_option("bake-north")
    form.locator("input[name=item]").fill("flour")
    form.locator("input[name=value]").fill("-0.5")
    form.locator("textarea[name=note]").fill(NOTE)
    form.get_by_role("button", name="Propose and see the verdict").click()
    expect(north.locator("#made")).to_contain_text("fits the plan")
    north.get_by_role("button", name="Submit to the office").first.click()
    expect(north.get_by_text("submitted").first).to_be_visible()

    # the office adopts it: reconcile, publish, open the next round
    office, office_errors = log_in(browser, site, "office", width)
    office.goto(f"{site}/plans/bakeries")
    office.get_by_role("button", name="Reconcile round 1").click()
    expect(office.get_by_role("cell", name="adopted", exact=True)).to_be_visible()
    office.goto(f"{site}/plans/bakeries")
    office.get_by_role("button", name="Publish").first.click()
    expect(office.get_by_text("Version 2 is the plan in force")).to_be_visible()
    office.get_by_role("button", name="Open a round").click()
    expect(office.get_by_text("A round is open")).to_be_visible()
    best = office.locator("#best-norms")
    expect(best.get_by_role("row").filter(has_text="flour").first).to_contain_text("north")
    screenshot(office, f"conference-plan-best-norms-{width}")
    fits(office, width)

    # a south member sees the offer, asks for the exact gain, proposes in one step
    south, south_errors = log_in(browser, site, "agro-member1", width)
    south.goto(f"{site}/plans/bakeries/units/south")
    offer = south.locator("#conference").get_by_role("row").filter(has_text="bake-south")
    expect(offer).to_contain_text("flour per bread")
    expect(offer).to_contain_text(NOTE)
    expect(offer).to_contain_text("north")
    offer.get_by_role("link", name="compute").click()
    expect(south).to_have_url(f"{site}/plans/bakeries/units/south?exact=1#conference")
    offer = south.locator("#conference").get_by_role("row").filter(has_text="bake-south")
    expect(offer.get_by_role("link", name="compute")).to_have_count(0)
    screenshot(south, f"conference-offer-{width}")
    fits(south, width)
    offer.get_by_role("button", name="Propose this norm for bake-south").click()
    made = south.locator("#made")
    expect(made).to_contain_text("fits the plan")
    expect(made).to_contain_text("bake-south")
    expect(made).to_contain_text("Matching the better norm of north")
    screenshot(south, f"conference-proposed-{width}")
    fits(south, width)
    assert north_errors == [] and office_errors == [] and south_errors == []
