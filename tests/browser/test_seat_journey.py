"""The Mayor of Paris's seat in Chromium, on the production shape (PostgreSQL, Redis, two server
processes): an organizer seats Anne Hidalgo in the programme's "Paris (tbc)" slot in the console
(on server A) and the audience's *Addressed to* list and the moderator's panelist list follow
at once (on server B); the organizer invites her from the console; she accepts on a phone,
opens the cockpit and finds the video call; a question put to her reaches her cockpit, goes on
air and is answered when the moderator presses *Next question*: the public page and both
question exports credit her, never the moderator.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from test_audience_qa import WAIT, ask, join_as, room_url, two_servers, watch
from test_floor_journey import PHONE, WORKSHOP, open_invitation, open_moderation, share_stage
from test_invite_flow import CONSOLE, accept, organizer_link

pytestmark = pytest.mark.browser

WORKSHOP_1 = "workshop-1-building-resilience"
QUESTION = "How does Paris keep its schools cool in a heatwave?"
MODERATOR = "Güldem Özdoğan"


async def seat_paris(organizer: Page, console_url: str) -> None:
    """The console's seating form for the "Paris (tbc)" slot of Thematic workshop 1."""
    await organizer.goto(f"{console_url}/programme/{WORKSHOP_1}")
    seat = organizer.locator("details.seat-form").filter(
        has_text="Seat someone in “Mayor of Paris (tbc)”"
    )
    await seat.locator("summary").click()
    await seat.get_by_label("Name", exact=True).fill("Anne Hidalgo")
    await seat.get_by_label(re.compile(r"^Honorific")).fill("Ms")
    await seat.get_by_label(re.compile(r"^Position")).fill("Mayor of Paris")
    await seat.get_by_label(re.compile(r"^Confirmed")).check()
    await seat.get_by_role("button", name=re.compile(r"^Seat them in")).click()
    await expect(organizer.get_by_role("status").first).to_contain_text(
        "“Mayor of Paris (tbc)” is now Ms Anne Hidalgo."
    )


async def invite_panelist(organizer: Page, console_url: str, person: str) -> str:
    await organizer.goto(f"{console_url}/invitations")
    await organizer.get_by_role("radio", name=re.compile(r"^Panelist")).check()
    option = organizer.locator("#inv-person option", has_text=person)
    await organizer.get_by_label("Person in the programme").select_option(
        await option.get_attribute("value")
    )
    await organizer.get_by_role("button", name="Create the invitation link").click()
    await expect(organizer.get_by_role("status").first).to_contain_text(
        "Invitation for Anne Hidalgo (panelist) created."
    )
    return await organizer.get_by_label("Invitation link").input_value()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.multiprocess
async def test_seat_journey_mayor_of_paris_seated_invited_and_credited(
    start_live_server: Callable[..., Any], pg_database_url: str, browser: Browser
) -> None:
    server_a, server_b = two_servers(start_live_server, pg_database_url, "seat")
    room_id = server_a.room_id(WORKSHOP)
    problems: list[str] = []
    mayor_ctx = await browser.new_context(**PHONE)
    contexts = [mayor_ctx, *[await browser.new_context() for _ in range(3)]]
    _, organizer_ctx, moderator_ctx, ada_ctx = contexts
    try:
        # Ada, in the audience on server B, may address the panel's unfilled seats.
        ada = await join_as(ada_ctx, room_url(server_b, room_id), "Ada", problems)
        addressed = ada.get_by_label("Addressed to")
        await expect(addressed.locator("option", has_text="Mayor of Paris (tbc)")).to_have_count(1)

        # The moderator's console, on server B.
        console = await open_moderation(moderator_ctx, server_b, room_id, problems)
        add_person = console.locator("#floor-add-person option")
        await expect(add_person.filter(has_text="Mayor of Paris (tbc)")).to_have_count(1)

        # The organizer, on server A, seats Anne Hidalgo in the Paris slot: open pages on
        # server B rename the seat without a reload.
        organizer = await organizer_ctx.new_page()
        watch(organizer, problems)
        await accept(organizer, organizer_link(server_a))
        await seat_paris(organizer, server_a.url + CONSOLE)
        await expect(addressed.locator("option", has_text="Ms Anne Hidalgo")).to_have_count(
            1, timeout=WAIT
        )
        await expect(addressed.locator("option", has_text="Mayor of Paris")).to_have_count(0)
        await expect(add_person.filter(has_text="Ms Anne Hidalgo")).to_have_count(1, timeout=WAIT)

        # ... and invites her from the console; she accepts on her phone, on server B.
        link = await invite_panelist(organizer, server_a.url + CONSOLE, "Ms Anne Hidalgo")
        mayor = await mayor_ctx.new_page()
        watch(mayor, problems)
        await open_invitation(mayor, link.replace(server_a.url, server_b.url, 1))
        await expect(mayor).to_have_url(re.compile(rf"/rooms/{room_id}/panel$"))
        await expect(mayor.locator("#panel-person-name")).to_have_text("Ms Anne Hidalgo")
        await expect(mayor.locator("#room-state-label")).to_have_text("Lobby open", timeout=WAIT)

        # The moderator shares the stage: the mayor's way onto it appears, in view on a phone.
        await share_stage(console, mayor)
        await console.locator("#lifecycle").get_by_role("button", name="Go live").click()
        await expect(mayor.locator("#room-state-label")).to_have_text("Live now", timeout=WAIT)

        # Ada asks the mayor; once approved, it is in the mayor's "Put to you".
        await ask(ada, QUESTION, to="Ms Anne Hidalgo")
        incoming = console.locator("li").filter(has_text=QUESTION).first
        await incoming.get_by_role("button", name="Approve", exact=True).click(timeout=WAIT)
        put_to_her = mayor.locator("#mine > li").filter(has_text=QUESTION)
        await expect(put_to_her).to_have_count(1, timeout=WAIT)
        await expect(put_to_her).to_contain_text("Anne Hidalgo")

        # Next question puts it on air; the mayor is told it is hers to answer.
        next_question = console.get_by_role("button", name=re.compile(r"^Next question"))
        await next_question.click()
        await expect(mayor.locator("#onair")).to_contain_text(QUESTION, timeout=WAIT)
        await expect(mayor.locator("#next-step")).to_have_text(
            "The question on air is for you: answer when the moderator gives you the floor."
        )

        # Next again: answered, and credited to the mayor — on the public page and the exports.
        await next_question.click()
        await expect(mayor.locator("#onair")).not_to_contain_text(QUESTION, timeout=WAIT)
        answered_tab = ada.get_by_role("tab", name=re.compile(r"^Answered"))
        await answered_tab.click()
        await expect(ada.locator("#qa-list > li .room-qa-meta")).to_have_text(
            re.compile(r"^Ada · to Anne Hidalgo, Paris · 0 votes · answered by Anne Hidalgo at "),
            timeout=WAIT,
        )
        exported = await moderator_ctx.request.get(room_url(server_b, room_id) + "/questions.json")
        as_json = next(q for q in (await exported.json())["questions"] if q["text"] == QUESTION)
        table = await moderator_ctx.request.get(room_url(server_a, room_id) + "/questions.csv")
        rows = csv.DictReader(io.StringIO((await table.text()).lstrip("\ufeff")))
        as_csv = next(row for row in rows if row["Text"] == QUESTION)
        assert (as_json["status"], as_json["answered_by"], as_csv["Answered by"]) == (
            "answered",
            "Anne Hidalgo",
            "Anne Hidalgo",
        ), "answer credit names the mayor seated in the slot, never the moderator"
        assert as_json["to"]["key"] == f"{WORKSHOP_1}.5"
        assert MODERATOR not in json.dumps([as_json["answered_by"], as_csv["Answered by"]])
        assert problems == []
    finally:
        for context in contexts:
            await context.close()
