"""The organizer console in Chromium: invite a moderator, watch them arrive in the live
overview, revoke the invitation and watch the role go, on the page and on the server."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
CONSOLE = f"/events/{SUMMIT}/console"
BEGUM = "Begüm Özden Fırat"
# An audience member's question, sent through the shared live-connection module.
ASK = """async (room) => {
  const { LiveConnection } = await import("/static/js/live.js");
  const live = new LiveConnection().start();
  await live.join(room);
  const text = "How is resilience funded?";
  const reply = await live.send({ type: "question.submit", room, text });
  return reply.status;
}"""


def organizer_link(server) -> str:
    """The organizer link ``townhall serve --setup`` printed."""
    match = re.search(r"Organizer \(the whole event[^)]*\):\s+(\S+)", server.log())
    assert match, server.log()
    return match[1]


def watch_console(page: Page, problems: list[str]) -> None:
    """Collect console errors and uncaught exceptions (CSP violations show up here too)."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} at {message.location['url']}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))


async def accept(page: Page, link: str) -> None:
    await page.goto(link)
    await page.get_by_role("button", name=re.compile(r"^Continue as ")).click()
    await page.wait_for_load_state()


async def test_invite_flow_moderator_gets_and_loses_workshop_3(
    live_server, browser: Browser
) -> None:
    workshop_1 = live_server.room_id("Thematic workshop 1")
    workshop_3 = live_server.room_id("Thematic workshop 3")
    moderate = {
        room: f"{live_server.url}/events/{SUMMIT}/rooms/{room}/moderate"
        for room in (workshop_1, workshop_3)
    }
    organizer = await browser.new_context()
    moderator = await browser.new_context()
    audience = await browser.new_context()
    problems: list[str] = []
    try:
        await organizer.grant_permissions(
            ["clipboard-read", "clipboard-write"], origin=live_server.url
        )
        page = await organizer.new_page()
        watch_console(page, problems)
        await accept(page, organizer_link(live_server))
        await expect(page).to_have_url(live_server.url + CONSOLE)
        await expect(page.locator("#connection-status")).to_have_text(
            "Connected — updates appear as they happen."
        )
        row_3 = page.locator(f"#room-row-{workshop_3}")
        await expect(row_3.locator("[data-field=people]")).to_have_text("Nobody yet")

        # Someone in the audience of workshop 1 (its lobby is open) asks a question: the
        # overview counts them and the question waiting for moderation, live.
        asker = await audience.new_page()
        watch_console(asker, problems)
        await asker.goto(f"{live_server.url}/events/{SUMMIT}")
        joined = await audience.request.post(
            f"{live_server.url}/api/events/{SUMMIT}/participants",
            data={"display_name": "Ada"},
            headers={"Origin": live_server.url},
        )
        assert joined.status == 201
        assert await asker.evaluate(ASK, workshop_1) == "pending"
        row_1 = page.locator(f"#room-row-{workshop_1}")
        await expect(row_1.locator("[data-field=pending]")).to_have_text("1")
        await expect(row_1.locator("[data-field=audience]")).to_have_text("1")

        # Invite Begüm Özden Fırat, the programme's moderator of Thematic workshop 3.
        await (
            page.get_by_role("navigation", name="Console sections")
            .get_by_role("link", name="Invitations")
            .click()
        )
        await page.get_by_role("radio", name=re.compile("^Moderator")).check()
        option = page.locator("#inv-person option", has_text=BEGUM)
        await page.get_by_label("Person in the programme").select_option(
            await option.get_attribute("value")
        )
        await page.get_by_role("button", name="Create the invitation link").click()
        await expect(page.get_by_role("status").first).to_contain_text(
            f"Invitation for {BEGUM} (moderator) created."
        )
        await page.get_by_role("button", name="Copy link").click()
        await expect(page.locator(".copy-status")).to_have_text("Copied.")
        link = await page.evaluate("() => navigator.clipboard.readText()")
        assert link == await page.get_by_label("Invitation link").input_value()
        assert link.startswith(f"{live_server.url}/invitations/")

        # The moderator accepts: workshop 3's moderation console opens, workshop 1's does not.
        guest = await moderator.new_page()
        watch_console(guest, problems)
        await accept(guest, link)
        allowed = await moderator.request.get(moderate[workshop_3])
        refused = await moderator.request.get(moderate[workshop_1])
        assert (allowed.status, refused.status) == (200, 403)

        # The overview sees them arrive in the room, live, as they open its moderation console.
        await page.goto(live_server.url + CONSOLE)
        await guest.goto(moderate[workshop_3])
        await expect(row_3.locator("[data-field=people]")).to_have_text(f"{BEGUM} (moderator)")
        await expect(row_3.locator("[data-field=audience]")).to_have_text("0")

        # Revoke, with the keyboard: the confirmation is a disclosure, then a button.
        await page.goto(live_server.url + CONSOLE + "/invitations")
        # `make run`'s demo invitation of her is listed too, never used.
        row = page.locator("tbody tr", has_text=BEGUM).filter(has_text="Accepted")
        await row.get_by_text("Revoke…").focus()
        await page.keyboard.press("Enter")
        await row.get_by_role("button", name=f"Revoke the invitation of {BEGUM}").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status").first).to_have_text(
            f"Revoked the invitation of {BEGUM}: it no longer gives any access."
        )
        await expect(row.locator(".state-badge")).to_have_text("Revoked")

        # The role is gone: on the server, and in the room the moderator still has open.
        after = await moderator.request.get(moderate[workshop_3])
        assert after.status == 403
        await page.goto(live_server.url + CONSOLE)
        await expect(row_3.locator("[data-field=people]")).to_have_text("Nobody yet")
        await expect(row_3.locator("[data-field=audience]")).to_have_text("1")
        revoked = await moderator.request.get(link)
        assert revoked.status == 410
        assert problems == []
    finally:
        await organizer.close()
        await moderator.close()
        await audience.close()
