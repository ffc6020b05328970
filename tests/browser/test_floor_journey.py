"""The floor and backstage in Chromium, on the production shape (PostgreSQL, Redis, two server
processes): the Mayor of Paris opens the panel cockpit on a phone and finds the video call;
two panelists ask for the floor and a point of order goes ahead; the moderator grants it from
the console; the panel, the audience and the big screen show the same speaker and the same
countdown; a backstage message reaches one panelist and nobody else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect
from test_audience_qa import (
    WAIT,
    join_as,
    moderate,
    moderator_client,
    moderator_link,
    room_url,
    two_servers,
    watch,
)

pytestmark = pytest.mark.browser

WORKSHOP = "Thematic workshop 1"
STAGE = "https://meet.example/workshop-1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def panelist_link(server: Any, note: str) -> str:
    """A panelist invitation ``townhall serve --setup`` printed, found by its note."""
    match = re.search(rf"Panelist — [^\n]*\({re.escape(note)}\):\s+(\S+)", server.log())
    assert match, server.log()
    return match[1]


async def open_invitation(page: Page, link: str) -> None:
    """Redeem an invitation: its page's one button leads to the panel view or the console."""
    await page.goto(link)
    await page.get_by_role("button", name=re.compile(r"^Continue as ")).click()


async def open_moderation(
    context: BrowserContext, server: Any, room_id: int, problems: list[str]
) -> Page:
    """The moderator (Güldem, from ``make run``'s links) in the room's console, connected."""
    console = await context.new_page()
    watch(console, problems)
    await console.goto(moderator_link(server))
    await console.get_by_role("button", name=re.compile(r"^Continue as ")).click()
    await console.goto(room_url(server, room_id) + "/moderate")
    await expect(console.locator("#connection-status")).to_have_attribute(
        "data-connection", "live", timeout=WAIT
    )
    return console


async def share_stage(console: Page, panelist: Page) -> None:
    """The moderator saves the stage link; the panelist's cockpit offers it, in view, at once."""
    await console.get_by_label("Stage URL (video call for the panel and audience)").fill(STAGE)
    await console.get_by_role("button", name="Save links").click()
    call = panelist.get_by_role("link", name="Join the video call")
    await expect(call).to_have_attribute("href", STAGE, timeout=WAIT)
    await expect(call).to_have_attribute("target", "_blank")
    await expect(call).to_be_in_viewport()


def seconds_left(text: str) -> int:
    match = re.search(r"(\d+):(\d\d) left", text)
    assert match, text
    return int(match[1]) * 60 + int(match[2])


async def clock_of(page: Page) -> int:
    return seconds_left(await page.locator("#floor-now .floor-clock").inner_text())


def speaker(page: Page) -> Locator:
    return page.locator("#floor-now .floor-name")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.multiprocess
async def test_floor_journey_across_two_servers(
    start_live_server: Callable[..., Any], pg_database_url: str, browser: Browser
) -> None:
    server_a, server_b = two_servers(start_live_server, pg_database_url, "floor")
    room_id = server_a.room_id(WORKSHOP)
    problems: list[str] = []
    mayor_ctx = await browser.new_context(**PHONE)
    contexts = [mayor_ctx, *[await browser.new_context() for _ in range(4)]]
    _, sameh_ctx, moderator_ctx, ada_ctx, screen_ctx = contexts
    try:
        # The Mayor of Paris, on a phone, on server A: where, when, and the way onto the stage.
        mayor = await mayor_ctx.new_page()
        watch(mayor, problems)
        await open_invitation(
            mayor, panelist_link(server_a, "the Paris seat on Thematic workshop 1's panel")
        )
        await expect(mayor).to_have_url(re.compile(rf"/rooms/{room_id}/panel$"))
        await expect(mayor.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"^Thematic workshop 1")
        )
        await expect(mayor.locator("#room-state-label")).to_have_text("Lobby open", timeout=WAIT)
        await expect(mayor.locator(".cockpit-times")).to_contain_text("Izmir time")
        await expect(mayor.locator("#start-countdown")).to_have_text(
            re.compile(r"^The session starts in \d+:\d\d\.$"), timeout=WAIT
        )
        await expect(mayor.locator("#next-step")).to_have_text(
            "Keep this page open: the video call link will appear here."
        )

        # Sameh Wahba on server B.
        sameh = await sameh_ctx.new_page()
        watch(sameh, problems)
        await open_invitation(sameh, panelist_link(server_b, "introduces Thematic workshop 1"))
        await expect(sameh).to_have_url(re.compile(rf"/rooms/{room_id}/panel$"))

        # The moderator, on server B, shares the stage and goes live.
        console = await open_moderation(moderator_ctx, server_b, room_id, problems)
        await share_stage(console, mayor)
        await expect(mayor.locator("#next-step")).to_have_text(
            "Join the video call now and wait there for the moderator."
        )
        await console.locator("#lifecycle").get_by_role("button", name="Go live").click()
        await expect(mayor.locator("#room-state-label")).to_have_text("Live now", timeout=WAIT)

        # The audience (server A) and the big screen (server B) watch.
        ada = await join_as(ada_ctx, room_url(server_a, room_id), "Ada", problems)
        screen = await screen_ctx.new_page()
        watch(screen, problems)
        await screen.goto(await console.locator("#screen-url").input_value())

        # Sameh asks for the floor; the mayor raises a point of order, which goes first.
        await sameh.get_by_role("button", name="Ask for the floor").click()
        await expect(sameh.locator("#floor-mine")).to_have_text(
            "Your request: number 1 on the list.", timeout=WAIT
        )
        await expect(mayor.get_by_role("button", name="Reply to the speaker")).to_be_disabled()
        await mayor.get_by_role("button", name="Point of order").click()
        await expect(mayor.locator("#floor-mine")).to_have_text(
            "Your request: number 1 on the list.", timeout=WAIT
        )
        await expect(sameh.locator("#floor-mine")).to_have_text(
            "Your request: number 2 on the list.", timeout=WAIT
        )
        queue = console.locator("#floor-queue > li")
        await expect(queue).to_have_count(2, timeout=WAIT)
        await expect(queue.nth(0)).to_contain_text("Mayor of Paris, Paris")
        await expect(queue.nth(0)).to_contain_text("Point of order")
        await expect(queue.nth(1)).to_contain_text("Sameh Wahba")

        # The moderator gives the floor to the head of the list, for two minutes.
        await console.get_by_role("button", name="Grant the floor to the next speaker").click()
        await expect(speaker(console)).to_have_text("Mayor of Paris, Paris", timeout=WAIT)
        await console.get_by_label(re.compile(r"^This turn's limit in minutes")).fill("2")
        await console.get_by_role("button", name="Set the limit").click()
        pages = (console, mayor, sameh, ada, screen)
        for page in pages:
            await expect(speaker(page)).to_have_text("Mayor of Paris, Paris", timeout=WAIT)
            await expect(page.locator("#floor-now .floor-clock")).to_have_text(
                re.compile(r"^[12]:\d\d left$"), timeout=WAIT
            )
        for page in (mayor, ada, screen):
            await expect(page.locator("#floor-now .floor-next")).to_contain_text("Sameh Wahba")
        # One countdown, counted from the server's grant on either server.
        clocks = [await clock_of(page) for page in pages]
        assert max(clocks) - min(clocks) <= 2 and 100 <= min(clocks) <= 120, clocks
        await expect(mayor.locator("#next-step")).to_have_text(
            "You have the floor. When you have finished, press “Yield the floor”."
        )
        await expect(sameh.get_by_role("button", name="Yield the floor")).to_be_hidden()

        # Backstage: one message to Sameh alone, then one to the whole panel.
        await console.get_by_label("To", exact=True).select_option("sameh-wahba")
        await console.get_by_label("Message", exact=True).fill("You are next: 2 minutes")
        await console.get_by_role("button", name="Send backstage").click()
        private = sameh.locator("#backstage-list > li").filter(has_text="You are next: 2 minutes")
        await expect(private).to_contain_text("to you only", timeout=WAIT)
        await console.get_by_label("To", exact=True).select_option(label="The whole panel")
        await console.get_by_label("Message", exact=True).fill("Thank you all")
        await console.get_by_role("button", name="Send backstage").click()
        for page in (mayor, sameh):
            await expect(page.locator("#backstage-list > li").first).to_contain_text(
                "Thank you all", timeout=WAIT
            )
        await expect(mayor.locator("#backstage-list > li")).to_have_count(1)
        for page in (ada, screen):
            assert "You are next" not in await page.content()
            assert "Thank you all" not in await page.content()

        # The mayor yields; Sameh is next in line.
        await mayor.get_by_role("button", name="Yield the floor").click()
        for page in pages:
            await expect(page.locator("#floor-now .floor-idle")).to_have_text(
                "Nobody has the floor.", timeout=WAIT
            )
        await (
            console.locator("#floor-queue > li")
            .filter(has_text="Sameh Wahba")
            .get_by_role("button", name="Grant the floor")
            .click()
        )
        await expect(sameh.get_by_role("button", name="Yield the floor")).to_be_visible(
            timeout=WAIT
        )
        await expect(speaker(ada)).to_have_text(re.compile(r"^Sameh Wahba"), timeout=WAIT)
        await console.get_by_text("Airtime per person and per city").click()
        await expect(console.locator("#airtime-cities")).to_contain_text("Paris")
        assert problems == []
    finally:
        for context in contexts:
            await context.close()


async def test_floor_conflict_shows_the_fresh_floor_in_the_console(
    live_server: Any, browser: Browser
) -> None:
    """Two moderators grant at once: the console that saw an older floor (its floor events held
    back here) is refused with ``floor.conflict`` and shows the floor the refusal carries."""
    room_id = live_server.room_id(WORKSHOP)
    context = await browser.new_context()
    problems: list[str] = []
    hold = {"floor": False}
    sent: list[dict] = []

    async def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_page(frame: str | bytes) -> None:
            sent.append(json.loads(frame))
            server_side.send(frame)

        def from_server(frame: str | bytes) -> None:
            message = json.loads(frame)
            held = message.get("type") == "event" and message["name"].startswith("floor.")
            if not (hold["floor"] and held):
                page_side.send(frame)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    other = None
    try:
        await context.route_web_socket(re.compile(r"/ws$"), route)
        console = await open_moderation(context, live_server, room_id, problems)
        await console.get_by_label("Add a panelist").select_option("sameh-wahba")
        await console.get_by_role("button", name="Add to the list").click()
        queued = console.locator("#floor-queue > li").filter(has_text="Sameh Wahba")
        await expect(queued).to_have_count(1, timeout=WAIT)

        # Another moderator grants the floor; this console does not hear of it.
        hold["floor"] = True
        other = await moderator_client(live_server, room_id)
        await other.join(room_id)
        await moderate(other, "floor.grant", room=room_id)
        await queued.get_by_role("button", name="Grant the floor").click()

        await expect(console.locator("#alert")).to_have_text(
            "Another moderator changed the list of speakers first; here it is now.", timeout=WAIT
        )
        await expect(speaker(console)).to_have_text(re.compile(r"^Sameh Wahba"))
        await expect(console.locator("#floor-queue > li")).to_have_count(0)
        grants = [m for m in sent if m.get("type") in ("floor.add", "floor.grant")]
        assert [(m["type"], m["version"]) for m in grants] == [
            ("floor.add", grants[0]["version"]),
            ("floor.grant", grants[0]["version"] + 1),
        ]
        assert problems == []
    finally:
        if other is not None:
            await other.close()
        await context.close()
