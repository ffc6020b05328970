"""Every main page, in English, French and Turkish, passes axe-core with no serious or critical
violation: the programme, a session, the audience room before and after joining (with a
question asked, published and on air), the moderator console, the panel view, the big screen,
the organizer console's pages, an invitation and the session report.

The English run also saves the screenshots the README shows (``docs/screenshots/``): the
programme, the audience room on a phone, the moderator console, the panel view, the big screen
at 1280×720 and the organizer console.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from support.accessibility import check_accessible
from test_audience_qa import WAIT, moderate, moderator_client, watch
from test_floor_journey import panelist_link
from test_invite_flow import organizer_link

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
WORKSHOP = "Thematic workshop 1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LOCALES = {"en": "en-GB", "fr": "fr-FR", "tr": "tr-TR"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
SCREEN = {"viewport": {"width": 1280, "height": 720}}
QUESTION = "How do cities keep their water running when the river floods?"


def screen_link(server: Any) -> str:
    """The big-screen link ``townhall serve --setup`` printed for Thematic workshop 1."""
    match = re.search(r"— the big screen \(for the hall's projector\):\s+(\S+)", server.log())
    assert match, server.log()
    return match[1]


async def accept(page: Page, link: str) -> None:
    """Open an invitation (checked: the invitation page) and accept it."""
    await page.goto(link)
    await check_accessible(page, "invitation")
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_load_state()


async def shot(page: Page, language: str, name: str) -> None:
    if language == "en":
        await page.evaluate("() => window.scrollTo(0, 0)")  # the view as it opens
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / f"{name}.png")


@pytest.mark.parametrize("language", list(LOCALES))
async def test_every_main_page_is_accessible(
    live_server: Any, browser: Browser, language: str
) -> None:
    room_id = live_server.room_id(WORKSHOP)
    room = f"{live_server.url}/events/{SUMMIT}/rooms/{room_id}"
    locale = {"locale": LOCALES[language], "timezone_id": "Europe/Paris"}
    contexts: list[BrowserContext] = []
    problems: list[str] = []
    moderator = None

    async def open_page(**options: Any) -> Page:
        context = await browser.new_context(**locale, **options)
        contexts.append(context)
        page = await context.new_page()
        watch(page, problems)
        return page

    try:
        visitor = await open_page(**DESKTOP)
        await visitor.goto(f"{live_server.url}/events/{SUMMIT}")
        await expect(visitor.locator("html")).to_have_attribute("lang", language)
        await check_accessible(visitor, "programme")
        await shot(visitor, language, "programme")
        await visitor.goto(f"{live_server.url}/events/{SUMMIT}/sessions/mayors-dialogue")
        await check_accessible(visitor, "session")

        audience = await open_page(**PHONE)
        await audience.goto(room)
        await expect(audience.locator("#join-form")).to_be_visible()
        await check_accessible(audience, "audience room before joining")
        await audience.locator("#join-form input[type=text]").first.fill("Ada")
        await audience.locator("#join-form button[type=submit]").click()
        await expect(audience.locator("#qa")).to_be_visible(timeout=WAIT)
        await check_accessible(audience, "audience room, joined")
        await audience.locator("#ask-form textarea").fill(QUESTION)
        await audience.locator("#ask-form button[type=submit]").click()
        await expect(audience.locator("#qa-mine-list > li")).to_have_count(1, timeout=WAIT)
        await check_accessible(audience, "audience room, a question waiting")

        moderator = await moderator_client(live_server, room_id)
        snapshot = await moderator.join(room_id)
        [asked] = [q["id"] for q in snapshot["state"]["questions"]]
        await moderate(moderator, "question.put_on_air", room=room_id, question=asked)
        await expect(audience.locator("#qa-onair .room-qa-text")).to_have_text(
            QUESTION, timeout=WAIT
        )
        await check_accessible(audience, "audience room, a question on air")
        await shot(audience, language, "audience-room-phone")

        console = await open_page(**DESKTOP)
        await accept(console, organizer_link(live_server))
        await expect(console.locator("#connection-status")).not_to_be_empty(timeout=WAIT)
        await check_accessible(console, "organizer console")
        await shot(console, language, "organizer-console")
        for path in ("programme", "programme/workshop-1-building-resilience", "rooms"):
            await console.goto(f"{live_server.url}/events/{SUMMIT}/console/{path}")
            await check_accessible(console, f"organizer console: {path}")
        for path in ("invitations", "audit", "report"):
            await console.goto(f"{live_server.url}/events/{SUMMIT}/console/{path}")
            await check_accessible(console, f"organizer console: {path}")
        await console.goto(f"{room}/moderate")
        await expect(console.locator("#connection-status")).not_to_be_empty(timeout=WAIT)
        await check_accessible(console, "moderator console")
        await shot(console, language, "moderator-console")
        await console.goto(f"{room}/report")
        await check_accessible(console, "session report")

        panelist = await open_page(**DESKTOP)
        await accept(panelist, panelist_link(live_server, "introduces Thematic workshop 1"))
        await expect(panelist).to_have_url(re.compile(r"/panel$"), timeout=WAIT)
        await expect(panelist.locator("#connection-status")).not_to_be_empty(timeout=WAIT)
        await check_accessible(panelist, "panel view")
        await shot(panelist, language, "panel-view")

        screen = await open_page(**SCREEN)
        await screen.goto(screen_link(live_server))
        await expect(screen.locator("#onair .qa-screen-question")).to_have_text(
            QUESTION, timeout=WAIT
        )
        await check_accessible(screen, "big screen")
        await shot(screen, language, "big-screen")
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        for context in contexts:
            await context.close()
