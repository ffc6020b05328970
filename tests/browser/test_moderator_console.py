"""The moderator console's frictions, in Chromium: undoing a dismissal, choosing a merge target,
cards that name the asker once in the event's time (the floor's times too), and the question
on air out of Next up."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from test_audience_qa import WAIT, ask, join_as, moderator_link, room_url, watch

pytestmark = pytest.mark.browser

FUNDS = "Who funds the resilience officers?"
FUND = "Who will fund the resilience officers, and for how long?"
OTHER = "When does the workshop end?"


def card(console: Page, text: str):
    return console.locator("#question-list > li").filter(has_text=text)


async def open_console(page: Page, server: Any, room_id: int) -> None:
    await page.goto(moderator_link(server))
    await page.get_by_role("button", name=re.compile(r"^Continue as ")).click()
    await page.goto(room_url(server, room_id) + "/moderate")


async def test_moderator_console_undoes_dismissals_and_shows_cards_plainly(
    live_server: Any, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    problems: list[str] = []
    audience = await browser.new_context()
    # The moderator's browser is in Montréal; the console speaks Izmir time, as the
    # organizer console does.
    staff = await browser.new_context(
        viewport={"width": 1100, "height": 900}, timezone_id="America/Montreal"
    )
    try:
        ada = await join_as(audience, room_url(live_server, room_id), "Ada", problems)
        for text, anonymous in ((OTHER, False), (FUNDS, True), (FUND, False)):
            await ask(ada, text, anonymous=anonymous)
            await expect(ada.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)

        console = await staff.new_page()
        watch(console, problems)
        await open_console(console, live_server, room_id)
        anonymous = card(console, FUNDS)
        await expect(anonymous.locator(".qa-question-meta")).to_have_text(
            "Ada (anonymous) · 0 votes", timeout=WAIT
        )
        # Rehearsal clock from 15:50 in Izmir (07:50 in Montréal); no internal ids.
        await expect(anonymous.locator(".qa-staff-meta")).to_have_text(
            re.compile(r"^asked 15:5\d \(Izmir\)$")
        )
        assert (await anonymous.inner_text()).count("Ada") == 1
        assert re.search(r"#\d|p_", await anonymous.inner_text()) is None

        # Merging: no target chosen in advance; the most similar question is offered first.
        await card(console, FUNDS).get_by_text("More").click()
        await card(console, FUNDS).get_by_role("button", name="Merge into…").click()
        merge_into = console.get_by_label("Merge into", exact=True)
        await expect(merge_into).to_have_value("")
        await expect(merge_into.locator("option")).to_have_text(
            [
                "Choose the question it repeats…",
                f"{FUND} (pending, 0 votes)",
                f"{OTHER} (pending, 0 votes)",
            ]
        )
        await console.locator("#merge-dialog").get_by_role("button", name="Cancel").click()

        # Approved, voted once: "1 vote".
        await anonymous.get_by_role("button", name="Approve", exact=True).click()
        await console.get_by_role("tab", name=re.compile("^Live")).click()
        vote = ada.locator("#qa-list > li").filter(has_text=FUNDS).get_by_role("button")
        await vote.click(timeout=WAIT)
        await expect(card(console, FUNDS).locator(".qa-question-meta")).to_have_text(
            "Ada (anonymous) · 1 vote", timeout=WAIT
        )

        # Dismissed by mistake: the toast's Undo brings it back, published as before.
        await card(console, FUNDS).get_by_role("button", name="Dismiss").click()
        await console.locator("#dismiss-dialog").get_by_role("button", name="Dismiss").click()
        await expect(console.locator("#notice-text")).to_have_text("Dismissed.")
        await expect(card(console, FUNDS)).to_have_count(0, timeout=WAIT)
        await expect(ada.locator("#qa-list > li").filter(has_text=FUNDS)).to_have_count(0)
        await console.locator("#notice").get_by_role("button", name="Undo").click()
        await expect(card(console, FUNDS)).to_have_count(1, timeout=WAIT)
        await expect(ada.locator("#qa-list > li").filter(has_text=FUNDS)).to_have_count(
            1, timeout=WAIT
        )

        # Any dismissed question can be restored later, from its tab.
        await card(console, FUNDS).get_by_role("button", name="Dismiss").click()
        await console.locator("#dismiss-dialog").get_by_role("button", name="Dismiss").click()
        await expect(card(console, FUNDS)).to_have_count(0, timeout=WAIT)
        await console.get_by_role("tab", name=re.compile("^Dismissed")).click()
        await card(console, FUNDS).get_by_role("button", name="Restore").click()
        await expect(card(console, FUNDS)).to_have_count(0, timeout=WAIT)
        await console.get_by_role("tab", name=re.compile("^Live")).click()
        await expect(card(console, FUNDS).locator(".qa-badges")).to_contain_text("Approved")

        # Pinned, then on air: it leaves Next up (no "Put on air" for what is on air).
        await card(console, FUNDS).get_by_role("button", name="Pin to next up").click()
        await expect(console.locator("#next-up-list > li")).to_have_count(1, timeout=WAIT)
        await card(console, FUNDS).get_by_role("button", name="Put on air").click()
        await expect(console.locator("#onair-strip .qa-question-text")).to_have_text(
            FUNDS, timeout=WAIT
        )
        await expect(console.locator("#next-up")).to_be_hidden()

        # The floor's times are the event's too.
        await console.get_by_label("Add a panelist").select_option(index=0)
        await console.get_by_role("button", name="Add to the list").click()
        await expect(console.locator("#floor-queue li")).to_contain_text(
            re.compile(r"asked at 15:5\d \(Izmir\)"), timeout=WAIT
        )
        assert problems == []
    finally:
        await audience.close()
        await staff.close()
