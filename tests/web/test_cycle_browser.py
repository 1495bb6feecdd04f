"""The plan cycle in a real browser (Debian's Chromium through Playwright),
at 1280 and 390 pixels wide: the mining unit's delegate reports a dated
month through the form, sees the unit's exceptions and its indices and
acknowledges one with a note; the office sees its board, every unit's
indices drawn and the exceptions escalated to it, newest first.
Screenshots go to test-artifacts/ (cycle-unit-*.jpg, cycle-board-*.jpg)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from counterplan.web import db as database
from counterplan.web.app import Settings, create_app

from cycletests import post_month, year_of_reports
from liveserver import screenshot, serve
from webtests import PASSWORD, Web

expect.set_options(timeout=20_000)


@pytest.fixture
def site(demo_copy: Path) -> Iterator[str]:
    """The demo on a fresh SQLite copy with the mining unit's reports of
    January to September (its step down in May: exceptions with the unit,
    some escalated), served on 127.0.0.1."""
    url = f"sqlite:///{demo_copy}"
    engine = database.connect(url)
    web = Web(create_app(Settings(db_url=url), engine))
    months = year_of_reports("mining")
    for date in list(months)[:9]:
        post_month(web, months[date])
    engine.dispose()
    with serve(url) as live:
        yield live


def log_in(browser: Browser, site: str, name: str, width: int) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page, errors


def fits(page: Page, width: int) -> None:
    used: Any = page.evaluate("document.documentElement.scrollWidth")
    assert used <= width + 1, used  # nothing wider than the screen: tables scroll inside


@pytest.mark.parametrize("width", [1280, 390])
def test_a_unit_acknowledges_an_exception(browser: Browser, site: str, width: int) -> None:
    page, errors = log_in(browser, site, "mining-delegate", width)
    page.goto(f"{site}/plans/brazil/units/mining")
    report = page.locator("form", has=page.get_by_role("button", name="Report"))
    report.locator("select[name=technique]").select_option("iron_ore_mining")
    report.locator("select[name=period]").select_option("2026")
    october = next(r for r in year_of_reports("mining")["2026-10-31"]
                   if r["technique"] == "iron_ore_mining")
    report.locator("input[name=date]").fill("2026-10-31")
    report.locator("input[name=activity]").fill(october["activity"])  # the example's October
    report.get_by_role("button", name="Report").click()
    expect(page.get_by_role("status").first).to_contain_text("saved")
    section = page.locator("#exceptions")
    expect(section.locator("svg.index").first).to_be_visible()
    assert section.locator("svg.index").count() == 5  # the unit and its four techniques
    waiting = section.locator("tr", has_text="with the unit").first
    expect(waiting).to_be_visible()
    ident = waiting.get_attribute("id")
    waiting.locator("input[name=note]").fill("The crusher is down: repaired by November.")
    waiting.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status").first).to_contain_text("acknowledged")
    row = page.locator(f"#{ident}")
    expect(row).to_contain_text("acknowledged by mining-delegate")
    expect(row).to_contain_text("repaired by November")
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    fits(page, width)
    screenshot(page, f"cycle-unit-{width}")
    assert errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_offices_board(browser: Browser, site: str, width: int) -> None:
    page, errors = log_in(browser, site, "office", width)
    page.goto(f"{site}/plans/brazil")
    page.get_by_role("link", name=re.compile("The office's board")).click()
    expect(page).to_have_url(re.compile(r"/plans/brazil/board$"))
    rows = page.locator("#escalated article.exception")
    expect(rows.first).to_be_visible()
    dates = [rows.nth(k).get_attribute("data-date") or "" for k in range(rows.count())]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 2  # newest first
    expect(rows.first).to_contain_text("Not acknowledged after 3 report(s)")
    mining = page.locator("#unit-mining")
    assert mining.locator("svg.index").count() == 5
    expect(mining.locator(".state").first).to_have_text(re.compile("step|shortfall"))
    expect(page.locator("#no-reports")).to_contain_text("agro")
    fits(page, width)
    screenshot(page, f"cycle-board-{width}")
    assert errors == []
