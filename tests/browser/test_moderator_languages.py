"""The moderator console filters the queue by the language each question was asked in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from test_audience_qa import WAIT, ask, join_as, moderator_link, room_url, watch

pytestmark = pytest.mark.browser


async def test_moderator_filters_questions_by_language(live_server: Any, browser: Browser) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    url = room_url(live_server, room_id)
    problems: list[str] = []
    audience = await browser.new_context()
    staff = await browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        ada = await join_as(audience, url, "Ada", problems)
        await ask(ada, "How do cities pay for resilience?")
        await expect(ada.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)
        await ask(ada, "Comment les villes financent-elles la résilience ?", language="Français")
        await expect(ada.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)

        console = await staff.new_page()
        watch(console, problems)
        await console.goto(moderator_link(live_server))
        await console.get_by_role("button", name=re.compile(r"^Continue as ")).click()
        await console.goto(f"{url}/moderate")
        cards = console.locator("#question-list > li .qa-question-text")
        await expect(cards).to_have_count(2, timeout=WAIT)
        languages = console.get_by_label("Language of the questions")
        await expect(languages.locator("option")).to_have_text(
            ["All languages", "English", "French"]
        )
        await languages.select_option(label="French")
        await expect(cards).to_have_text(["Comment les villes financent-elles la résilience ?"])
        await expect(console.get_by_role("tab", name=re.compile("^Incoming"))).to_have_text(
            "Incoming 1"
        )
        await expect(console.locator("#question-list .qa-badge-language")).to_have_text(["French"])
        await languages.select_option(label="All languages")
        await expect(cards).to_have_count(2)
        assert problems == []
    finally:
        await audience.close()
        await staff.close()
