"""Keyboard alone: the audience room (join, ask, vote), the moderator console (approve, put on
air, dismiss, with its buttons and its shortcut keys) and the panel view (ask for the floor,
withdraw). The pages are driven with ``page.keyboard`` only (Tab, Enter, Space, letters) and
the focus must be visible wherever it lands (:func:`support.accessibility.tab_to`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from support.accessibility import check_accessible, focus_shown, tab_to
from test_audience_qa import WAIT, ask, join_as, moderate, moderator_client, moderator_link, watch
from test_floor_journey import panelist_link

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
WORKSHOP = "Thematic workshop 1"
QUESTION = "Which neighbourhoods flood first, and who warns them?"


def room_of(server: Any) -> tuple[int, str]:
    room_id = server.room_id(WORKSHOP)
    return room_id, f"{server.url}/events/{SUMMIT}/rooms/{room_id}"


async def accept_with_keys(page: Page, link: str) -> None:
    """Open an invitation and accept it with the keyboard."""
    await page.goto(link)
    await tab_to(page, page.locator("main form button[type=submit]"))
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_audience_joins_asks_and_votes_with_the_keyboard(
    live_server: Any, browser: Browser
) -> None:
    room_id, url = room_of(live_server)
    context = await browser.new_context()
    problems: list[str] = []
    moderator = None
    try:
        page = await context.new_page()
        watch(page, problems)
        await page.goto(url)
        await tab_to(page, page.get_by_label("Display name (optional)"))
        await page.keyboard.type("Kai")
        await tab_to(page, page.get_by_role("button", name="Join the room"))
        await page.keyboard.press("Enter")
        await expect(page.locator("#qa")).to_be_visible(timeout=WAIT)
        await expect(page.locator("#ask-as")).to_have_text("You ask as Kai.")

        await tab_to(page, page.get_by_label("Your question", exact=True))
        await page.keyboard.type(QUESTION)
        await tab_to(page, page.get_by_role("button", name="Send question"))
        await page.keyboard.press("Enter")
        mine = page.locator("#qa-mine-list > li").filter(has_text=QUESTION)
        await expect(mine.locator(".room-qa-status")).to_have_text(
            "Waiting for moderation", timeout=WAIT
        )

        moderator = await moderator_client(live_server, room_id)
        snapshot = await moderator.join(room_id)
        [asked] = [q["id"] for q in snapshot["state"]["questions"]]
        await moderate(moderator, "question.approve", room=room_id, question=asked)
        vote = (
            page.locator("#qa-list > li")
            .filter(has_text=QUESTION)
            .get_by_role("button", name=re.compile("^Upvote"))
        )
        await expect(vote).to_have_attribute("aria-pressed", "false", timeout=WAIT)
        await tab_to(page, vote)
        await page.keyboard.press("Space")
        await expect(vote).to_have_attribute("aria-pressed", "true", timeout=WAIT)
        await expect(vote.locator(".room-qa-votes")).to_have_text("1")
        await page.keyboard.press("Enter")  # and back
        await expect(vote).to_have_attribute("aria-pressed", "false", timeout=WAIT)
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        await context.close()


async def test_moderator_approves_puts_on_air_and_dismisses_with_the_keyboard(
    live_server: Any, browser: Browser
) -> None:
    _room_id, url = room_of(live_server)
    audience, staff = await browser.new_context(), await browser.new_context()
    problems: list[str] = []
    questions = [
        "First: how do we fund flood defences?",
        "Second: who maps the heat islands?",
        "Third: can a mayor declare a climate emergency?",
        "Fourth: a question to dismiss",
    ]
    try:
        asker = await join_as(audience, url, "Ada", problems)
        for text in questions:
            await ask(asker, text)
            await expect(asker.locator("#qa-mine-list > li").filter(has_text=text)).to_have_count(
                1, timeout=WAIT
            )

        console = await staff.new_page()
        watch(console, problems)
        await accept_with_keys(console, moderator_link(live_server))
        await console.goto(f"{url}/moderate")
        await expect(console.locator("#connection-status")).to_have_attribute(
            "data-connection", "live", timeout=WAIT
        )
        cards = console.locator("#question-list > li")
        await expect(cards).to_have_count(4, timeout=WAIT)

        # A card's own button, reached with Tab.
        first = cards.filter(has_text=questions[0])
        await tab_to(console, first.get_by_role("button", name="Approve", exact=True))
        await console.keyboard.press("Enter")
        await expect(cards.filter(has_text=questions[0])).to_have_count(0, timeout=WAIT)

        # The shortcut keys: j selects (the focus follows, visibly), a approves.
        await console.keyboard.press("j")
        second = cards.filter(has_text=questions[1])
        await expect(second).to_be_focused()
        assert await focus_shown(second)
        await console.keyboard.press("a")
        await expect(cards.filter(has_text=questions[1])).to_have_count(0, timeout=WAIT)

        # o puts the selected question on air (approving it on the way).
        await console.keyboard.press("j")
        third = cards.filter(has_text=questions[2])
        await expect(third).to_be_focused()
        await console.keyboard.press("o")
        await expect(console.locator("#onair-strip")).to_contain_text(questions[2], timeout=WAIT)
        await expect(asker.locator("#qa-onair .room-qa-text")).to_have_text(
            questions[2], timeout=WAIT
        )

        # d dismisses, through its dialog: a reason typed, confirmed with the keyboard.
        await console.keyboard.press("j")
        fourth = cards.filter(has_text=questions[3])
        await expect(fourth).to_be_focused()
        await console.keyboard.press("d")
        dialog = console.locator("#dismiss-dialog")
        await expect(dialog).to_be_visible()
        await tab_to(console, console.get_by_label("Reason (optional, the asker sees it)"))
        await console.keyboard.type("Already covered")
        await tab_to(console, dialog.get_by_role("button", name="Dismiss", exact=True))
        await console.keyboard.press("Enter")
        await expect(dialog).to_be_hidden()
        await expect(cards.filter(has_text=questions[3])).to_have_count(0, timeout=WAIT)
        own = asker.locator("#qa-mine-list > li").filter(has_text=questions[3])
        await expect(own.locator(".room-qa-reason")).to_have_text(
            "Moderator's reason: Already covered", timeout=WAIT
        )

        # The Live tab (key 2) holds the two approved with the keyboard.
        await console.keyboard.press("2")
        await expect(console.get_by_role("tab", name=re.compile("^Live"))).to_have_attribute(
            "aria-selected", "true"
        )
        for text in questions[:2]:
            await expect(cards.filter(has_text=text)).to_have_count(1, timeout=WAIT)
        await check_accessible(console, "moderator console after keyboard moderation")
        assert problems == []
    finally:
        await audience.close()
        await staff.close()


async def test_panelist_asks_for_the_floor_and_withdraws_with_the_keyboard(
    live_server: Any, browser: Browser
) -> None:
    context = await browser.new_context()
    problems: list[str] = []
    try:
        page = await context.new_page()
        watch(page, problems)
        await accept_with_keys(page, panelist_link(live_server, "introduces Thematic workshop 1"))
        await expect(page).to_have_url(re.compile(r"/panel$"), timeout=WAIT)
        await expect(page.locator("#connection-status")).to_have_attribute(
            "data-connection", "live", timeout=WAIT
        )
        ask_floor = page.get_by_role("button", name="Ask for the floor")
        withdraw = page.get_by_role("button", name="Withdraw my request")
        await tab_to(page, ask_floor)
        await page.keyboard.press("Enter")
        await expect(withdraw).to_be_visible(timeout=WAIT)
        await tab_to(page, withdraw)
        await page.keyboard.press("Space")
        await expect(withdraw).to_be_hidden(timeout=WAIT)
        await expect(ask_floor).to_be_visible()
        assert problems == []
    finally:
        await context.close()
