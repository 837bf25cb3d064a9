"""The dashboard in a real headless Chromium against a running gateway with a real store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from b2b_gateway.api.users import Role
from tests.ops.browser import chromium
from tests.ops.helpers import ADMIN_PASSWORD
from tests.ops.live import Live, live_gateway

pytestmark = pytest.mark.slow


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with live_gateway(tmp_path / "gw") as gateway:
        yield gateway


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "profile") as context:
        yield context


async def log_in(page: Page, live: Live, user: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    await page.goto(f"{live.url}/")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def test_login(live: Live, browser: BrowserContext) -> None:
    page = await browser.new_page()
    await log_in(page, live, password="not the password")
    await expect(page.get_by_role("alert")).to_have_text("wrong user name or password")
    await page.fill("#username", "admin")
    await page.fill("#password", ADMIN_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("Overview")
    await expect(page.locator("#dead-letters .value")).to_have_text("0")
    await expect(page.locator("#overdue tbody tr")).to_have_count(2)
    await expect(page.locator("#expiring")).to_contain_text("mockedi")
    cookies = await browser.cookies()
    session = next(c for c in cookies if c["name"] == "b2b_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    await page.click("text=Log out")
    await expect(page).to_have_url(re.compile(r"/login$"))


async def test_search_by_order_number(live: Live, browser: BrowserContext) -> None:
    page = await browser.new_page()
    await log_in(page, live)
    await page.click("nav >> text=Messages")
    await expect(page.locator("table.messages tbody tr")).to_have_count(20)
    await page.fill("input[name=q]", "PO-2026-0007")
    await page.press("input[name=q]", "Enter")
    rows = page.locator("table.messages tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("PO-2026-0007")
    await expect(page).to_have_url(re.compile(r"q=PO-2026-0007"))
    await page.select_option("select[name=state]", "rejected")
    await page.fill("input[name=q]", "INV-2026")
    await page.press("input[name=q]", "Enter")
    await expect(rows).to_have_count(2)
    await rows.first.locator("a.key").click()
    await expect(page.locator("#errors")).to_contain_text("BR-CO-15")
    await expect(page.locator("#canonical")).to_contain_text('"document_number": "INV-2026-')


async def test_replay_click(live: Live, browser: BrowserContext) -> None:
    page = await browser.new_page()
    await log_in(page, live)
    original = live.ids["broken1"]
    await page.goto(f"{live.url}/messages/{original}")
    await expect(page.locator("#state")).to_have_text("rejected")
    await page.click("button[data-action=replay]")
    result = page.locator("#action-result")
    await expect(result).to_contain_text("Replay done")
    await page.click("#replayed")
    await expect(page.locator(".timeline li").first).to_contain_text("replay")
    await expect(page.locator(".timeline li").first).to_contain_text("admin")
    await page.goto(f"{live.url}/messages/{original}")
    await expect(page.locator(".timeline li").last).to_contain_text("replay")
    await expect(page.locator(".timeline li").last).to_contain_text("admin")
    assert any(r.replay_of == original for r in await live.repo.list_messages())


async def test_conversation_of_an_order_number(live: Live, browser: BrowserContext) -> None:
    page = await browser.new_page()
    await log_in(page, live)
    await page.goto(f"{live.url}/messages/{live.ids['outbound1']}")
    await page.click("#conversation-link")
    await expect(page.locator("h1")).to_contain_text("PO-2026-0501")
    await expect(page.locator("#conversation li")).to_have_count(1)
    await expect(page.locator("#conversation")).to_contain_text("no acknowledgment, deadline")


async def test_a_viewer_cannot_act(live: Live, browser: BrowserContext) -> None:
    live.auth.users.add("vera", Role.VIEWER, "viewer-password")
    page = await browser.new_page()
    await log_in(page, live, "vera", "viewer-password")
    await page.goto(f"{live.url}/messages/{live.ids['quarantined']}")
    await expect(page.locator("text=can look but not act")).to_be_visible()
    await expect(page.locator("button[data-action]")).to_have_count(0)
