"""The big screen in Chromium at projector sizes: a long question is whole, the page fits.

A question of the room's maximum length is put on air; at 1280×720 and 1920×1080 the screen
shows every word of it (no "…", no clamp, nothing past its box), the page has nothing past the
viewport, the QR code and the join link are whole, and empty parts take no room.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from test_audience_qa import (
    WAIT,
    asked_and_aired,
    join_as,
    moderate,
    moderator_link,
    room_url,
    watch,
)

pytestmark = pytest.mark.browser

# 500 characters (the room's maximum), words of every length, the last ones telling.
LONG = (
    "Considering that the municipal resilience officers funded through the international "
    "partnership programme will need sustained multi-year budgets, how do the panelists "
    "propose that medium-sized cities without access to capital markets finance flood "
    "defences, heat-wave shelters and early-warning systems, and which instruments — green "
    "bonds, intermunicipal pooling, national guarantees — have worked in Izmir, Montréal "
    "and Ouagadougou, so that we can adopt them at home before the next disaster?"
)
SHORT = "Who funds the resilience officers?"
SIZES = [(1280, 720), (1920, 1080)]

# Where each part of the screen is, and whether anything overflows, in CSS pixels.
MEASURE = """() => {
  const box = (node) => {
    if (!node || node.closest("[hidden]")) return null;
    const r = node.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  };
  const question = document.querySelector("#onair .qa-screen-question");
  const style = question && getComputedStyle(question);
  return {
    viewport: { width: innerWidth, height: innerHeight },
    page: {
      width: document.documentElement.scrollWidth,
      height: document.documentElement.scrollHeight,
    },
    body: { width: document.body.scrollWidth, height: document.body.scrollHeight },
    parts: Object.fromEntries(
      [...document.querySelectorAll("#screen > header, #screen > section, #screen > aside")]
        .filter((part) => !part.hidden)
        .map((part) => [part.className, box(part)]),
    ),
    onair: box(document.querySelector(".qa-screen-onair")),
    question: box(question),
    questionText: question?.textContent ?? null,
    questionOverflow: question ? question.scrollHeight - question.clientHeight : null,
    clamp: style ? style.webkitLineClamp : null,
    fontSize: style ? parseFloat(style.fontSize) : null,
    qr: box(document.querySelector(".qa-screen-qr svg")),
    link: box(document.querySelector(".qa-screen-link")),
    linkOverflow: (() => {
      const link = document.querySelector(".qa-screen-link");
      return link.scrollWidth - link.clientWidth;
    })(),
    top: document.querySelector(".qa-screen-top").hidden,
    topVisible: document.querySelector(".qa-screen-top").getClientRects().length > 0,
    floorVisible: document.querySelector("#screen-floor").getClientRects().length > 0,
  };
}"""


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["top"] >= outer["top"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def fits(measured: dict[str, Any]) -> list[str]:
    """What is past the viewport (or cut in its box), by name; empty when all is whole."""
    width, height = measured["viewport"]["width"], measured["viewport"]["height"]
    screen = {"left": 0, "top": 0, "right": width, "bottom": height}
    problems = []
    for name in ("page", "body"):
        if measured[name]["width"] > width or measured[name]["height"] > height:
            problems.append(f"{name} outgrows the viewport: {measured[name]}")
    for name, part in measured["parts"].items():
        if not inside(part, screen):
            problems.append(f"{name} is past the viewport: {part}")
    for name in ("qr", "link"):
        if not inside(measured[name], screen):
            problems.append(f"{name} is past the viewport: {measured[name]}")
    if measured["linkOverflow"] > 0:
        problems.append("the join link is cut")
    if measured["question"] is not None:
        if not inside(measured["question"], measured["onair"]):
            problems.append(f"the question leaves its box: {measured['question']}")
        if measured["questionOverflow"] > 0 or measured["clamp"] not in ("none", ""):
            problems.append("the question is clamped")
    return problems


async def screen_link(page: Page, server: Any, room_id: int) -> str:
    """The big-screen link, as the moderator console offers it."""
    await page.goto(moderator_link(server))
    await page.get_by_role("button", name=re.compile(r"^Continue as ")).click()
    await page.goto(room_url(server, room_id) + "/moderate")
    return await page.locator("#screen-url").input_value()


async def test_big_screen_fits_a_long_question_at_projector_sizes(
    live_server: Any, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    problems: list[str] = []
    audience = await browser.new_context()
    staff = await browser.new_context()
    wall = await browser.new_context(viewport={"width": 1280, "height": 720})
    moderator = None
    try:
        link = await screen_link(await staff.new_page(), live_server, room_id)
        screen = await wall.new_page()
        watch(screen, problems)
        await screen.goto(link)
        await expect(screen.locator("#connection-status")).to_have_attribute(
            "data-connection", "live", timeout=WAIT
        )
        # Nothing asked yet: no empty "Top questions", no floor, everything in sight.
        empty = await screen.evaluate(MEASURE)
        assert (empty["top"], empty["topVisible"], empty["floorVisible"], fits(empty)) == (
            True,
            False,
            False,
            [],
        )

        ada = await join_as(audience, room_url(live_server, room_id), "Ada", problems)
        moderator, ids = await asked_and_aired(
            ada,
            live_server,
            room_id,
            [(LONG, False), (SHORT, False)],
            approve=[LONG, SHORT],
            on_air=LONG,
        )
        await expect(screen.locator("#onair .qa-screen-question")).to_have_text(LONG, timeout=WAIT)
        await expect(screen.locator("#top li")).to_have_count(1, timeout=WAIT)

        measured = {}
        for width, height in SIZES:
            await screen.set_viewport_size({"width": width, "height": height})
            await expect(screen.locator("#screen")).to_have_attribute(
                "data-fitted", f"{width}x{height}", timeout=WAIT
            )
            measured[width] = await screen.evaluate(MEASURE)
            assert fits(measured[width]) == [], (width, height, measured[width])
            assert measured[width]["questionText"] == LONG
            assert measured[width]["topVisible"] is True
        # Read from the back of the hall: large type, larger on the larger screen.
        assert 24 <= measured[1280]["fontSize"] < measured[1920]["fontSize"]

        # A short question gets larger type than the long one, and still fits.
        await moderate(moderator, "question.put_on_air", room=room_id, question=ids[SHORT])
        await expect(screen.locator("#onair .qa-screen-question")).to_have_text(SHORT, timeout=WAIT)
        await expect(screen.locator("#top li")).to_have_count(1, timeout=WAIT)
        await expect(screen.locator("#screen")).to_have_attribute(
            "data-fitted", "1920x1080", timeout=WAIT
        )
        short = await screen.evaluate(MEASURE)
        assert fits(short) == []
        assert short["fontSize"] > measured[1920]["fontSize"]
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        for context in (audience, staff, wall):
            await context.close()
