"""The audience room before joining, on a phone in Montréal (Toronto's zone): the Q&A is
there to read, live; the name is asked for only to ask or vote; the question on air comes
first; "your time"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from support.clients import Client
from test_audience_qa import WAIT, ask, asked_and_aired, join_as, listed, moderate, room_url, watch

pytestmark = pytest.mark.browser

ON_AIR = "How do our two cities share what works?"
PUBLISHED = "Who funds the resilience officers?"
WAITING = "Still waiting for the moderators?"
LATER = "Approved while the visitor watches?"
PHONE = {"width": 390, "height": 844}


async def test_visitor_reads_the_questions_live_and_joins_to_vote(
    live_server: Any, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    url = room_url(live_server, room_id)
    problems: list[str] = []
    asker = await browser.new_context()
    phone = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="America/Toronto"
    )
    moderator: Client | None = None
    try:
        ada = await join_as(asker, url, "Ada", problems)
        moderator, _ = await asked_and_aired(
            ada,
            live_server,
            room_id,
            [(ON_AIR, True), (PUBLISHED, False), (WAITING, False)],
            approve=[ON_AIR, PUBLISHED],
            on_air=ON_AIR,
        )

        visitor = await phone.new_page()
        watch(visitor, problems)
        await visitor.goto(url)
        # No name given, and yet the question on air and the published ones are there.
        await expect(visitor.locator("#qa-onair .room-qa-text")).to_have_text(ON_AIR, timeout=WAIT)
        await expect(visitor.locator("#qa-onair .room-qa-meta")).to_have_text(
            re.compile(r"^Anonymous · 0[78]:5\d \(UTC-5\)$")
        )
        await expect(visitor.locator("#qa-list .room-qa-text")).to_have_text([PUBLISHED])
        await expect(visitor.locator("#ask-form")).to_be_hidden()
        await expect(visitor.locator("#join-form")).to_be_visible()
        await expect(visitor.locator("#qa-counters [data-counter]")).to_have_text(
            ["3", "2", "0", "0"]
        )
        # The room's times in the event's zones, and the viewer's own, named.
        await expect(visitor.locator("#room-zones li")).to_have_text(
            [
                "Izmir 16:00–17:30",
                "Paris 14:00–15:30",
                "Montréal 08:00–09:30",
                "Your time 08:00–09:30 (UTC-5, America/Toronto)",
            ]
        )
        # On a phone the question on air is the first thing under the title, above the fold.
        onair = await visitor.locator("#qa-onair").bounding_box()
        stage = await visitor.locator("#room-stage").bounding_box()
        title = await visitor.locator("#room-title").bounding_box()
        assert title["y"] < onair["y"] < stage["y"]
        assert onair["y"] + 80 < PHONE["height"]

        # Live while reading: a question approved now arrives; the waiting one never does.
        await ask(ada, LATER)
        await expect(ada.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)
        later = await moderator.wait_for(
            lambda m: (
                m.get("name") == "question.submitted" and m["data"]["question"]["text"] == LATER
            ),
            within=10,
        )
        await moderate(
            moderator, "question.approve", room=room_id, question=later["data"]["question"]["id"]
        )
        await expect(listed(visitor, LATER)).to_have_count(1, timeout=WAIT)
        await expect(visitor.get_by_text(WAITING)).to_have_count(0)

        # Voting asks for the name first, then counts once they joined.
        vote = listed(visitor, PUBLISHED).get_by_role("button", name=re.compile("^Upvote"))
        await vote.click()
        await expect(visitor.get_by_label("Display name (optional)")).to_be_focused()
        await expect(visitor.locator("#join-error")).to_have_text(
            "Join the room to vote: a name is optional."
        )
        await expect(listed(visitor, PUBLISHED).locator(".room-qa-votes")).to_have_text("0")
        await visitor.get_by_label("Display name (optional)").fill("Lin")
        await visitor.get_by_role("button", name="Join the room").click()
        await expect(visitor.locator("#ask-form")).to_be_visible(timeout=WAIT)
        await expect(visitor.locator("#join-form")).to_be_hidden()
        await expect(visitor.locator("#ask-as")).to_have_text("You ask as Lin.")
        await listed(visitor, PUBLISHED).get_by_role("button", name=re.compile("^Upvote")).click()
        await expect(listed(visitor, PUBLISHED).locator(".room-qa-votes")).to_have_text(
            "1", timeout=WAIT
        )
        await expect(listed(ada, PUBLISHED).locator(".room-qa-votes")).to_have_text(
            "1", timeout=WAIT
        )
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        await asker.close()
        await phone.close()
