"""After the session, in Chromium: a rehearsed Thematic workshop 1 (two people in the
audience, questions, two turns on the floor) ends; its report page shows the charts with the
right figures, the HTML export opens offline, and the public summary shows what was answered.

Turns on the floor are given with the domain verbs on the server's database (the floor's
WebSocket commands are not wired yet); everything else goes through the pages and the
protocol. Set ``TOWNHALL_SCREENSHOTS`` to a directory to keep the screenshots (docs/ holds
those of the last run).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import func, select
from support.accessibility import check_accessible
from test_audience_qa import (
    WAIT,
    ask,
    join_as,
    moderate,
    moderator_client,
    moderator_link,
    room_url,
    watch,
)

from townhall.platform import floor
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import PresenceSample
from townhall.platform.viewers import Viewer

pytestmark = pytest.mark.browser

WORKSHOP = "Thematic workshop 1"
ANSWERED = "How do cities pay for resilience?"
OPEN = "What about small towns?"
START = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)  # the server's TOWNHALL_NOW


@pytest.fixture
def live_server_env() -> dict[str, str]:
    return {"TOWNHALL_PRESENCE_SAMPLE_SECONDS": "5"}


async def give_turns(server: Any, room_id: int) -> None:
    """Paris speaks 90 s, then Sameh Wahba 45 s."""
    engine = make_engine(server.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            mod = Viewer(None, "Güldem", 1, moderates=frozenset({room_id}))
            for key in ("workshop-1-building-resilience.5", "sameh-wahba"):
                await floor.add_to_floor(
                    db, room_id=room_id, moderator=mod, person=key, kind="contribution", now=START
                )
            await floor.grant_floor(db, room_id=room_id, moderator=mod, now=START)
            await floor.grant_floor(
                db, room_id=room_id, moderator=mod, now=START + timedelta(seconds=90)
            )
            await floor.end_turn(
                db, room_id=room_id, viewer=mod, now=START + timedelta(seconds=135)
            )
            await db.commit()
    finally:
        await engine.dispose()


async def largest_audience_sampled(server: Any, room_id: int, *, within: float = 60.0) -> int:
    """Wait (generously) until a presence sample counts both audience members; the largest
    audience sampled. A sample taken before the second member's presence reached the broker
    counts one: the report's peak comes from the samples, so the test waits for the one it
    needs rather than for any."""
    engine = make_engine(server.database_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while True:
            async with make_sessionmaker(engine)() as db:
                largest = (
                    await db.scalar(
                        select(func.max(PresenceSample.audience)).where(
                            PresenceSample.room_id == room_id
                        )
                    )
                    or 0
                )
            if largest >= 2 or loop.time() > deadline:
                return largest
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


def keep(shots: Path) -> None:
    target = os.environ.get("TOWNHALL_SCREENSHOTS")
    if target:
        for shot in shots.glob("*.png"):
            shutil.copy(shot, Path(target) / shot.name)


async def test_session_ends_then_report_export_and_summary(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    room_id = live_server.room_id(WORKSHOP)
    url = room_url(live_server, room_id)
    problems: list[str] = []
    audience = [await browser.new_context(), await browser.new_context()]
    staff = await browser.new_context(viewport={"width": 1000, "height": 900})
    offline = await browser.new_context(offline=True)
    moderator = None
    try:
        ada = await join_as(audience[0], url, "Ada", problems)
        bo = await join_as(audience[1], url, "Bo", problems)
        await ask(ada, ANSWERED)
        await ask(bo, OPEN)
        for page in (ada, bo):
            await expect(page.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)
        moderator = await moderator_client(live_server, room_id)
        snapshot = await moderator.join(room_id)
        pending = {
            q["text"]: q["id"] for q in snapshot["state"]["questions"] if q["status"] == "pending"
        }
        for text in (ANSWERED, OPEN):
            await moderate(moderator, "question.approve", room=room_id, question=pending[text])
        await moderate(
            moderator,
            "question.mark_answered",
            room=room_id,
            question=pending[ANSWERED],
            by="sameh-wahba",
        )
        await give_turns(live_server, room_id)
        # A presence sample every 5 s here: wait for one that counts Ada and Bo.
        assert await largest_audience_sampled(live_server, room_id) == 2
        await moderate(moderator, "room.set_state", room=room_id, action="end")

        # The report, for the session's moderator.
        report = await staff.new_page()
        watch(report, problems)
        await report.goto(moderator_link(live_server))
        await report.get_by_role("button", name=re.compile(r"^Continue as ")).click()
        await report.goto(f"{url}/report")
        await expect(report.get_by_role("heading", level=1)).to_contain_text(WORKSHOP)
        await expect(report.locator(".report-meta").first).to_contain_text("Final")
        await expect(report.locator("svg[role=img]")).to_have_count(9)
        figures = report.locator(".report-figures li")
        await expect(figures).to_have_text(
            [
                "2 peak audience",
                "2 questions asked",
                "1 answered (50 %)",
                "2 turns on the floor",
            ]
        )
        await expect(report.locator("#airtime-cities figcaption")).to_contain_text(
            "Paris: 1 min 30 s; No city given: 45 s"
        )
        # Both asked from English pages: the room page sends the interface language.
        await expect(report.locator("#questions-per-language figcaption")).to_contain_text(
            "English: 2 asked, 1 answered"
        )
        await expect(report.locator("#speaker-timeline figcaption")).to_contain_text(
            "2 turns by 2 speakers."
        )
        await check_accessible(report, "session report, final")
        await report.screenshot(path=tmp_path / "session-report.png", full_page=True)

        # The export: downloaded, then opened with the network off.
        async with report.expect_download() as download_info:
            await report.get_by_role("link", name="Download as one HTML file").click()
        download = await download_info.value
        exported = tmp_path / "report.html"
        await download.save_as(exported)
        page = await offline.new_page()
        watch(page, problems)
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        await page.goto(exported.as_uri())
        await expect(page.locator("svg[role=img]")).to_have_count(9)
        await expect(page.locator(".report-figures li").nth(2)).to_have_text("1 answered (50 %)")
        assert requests == [exported.as_uri()]
        await check_accessible(page, "session report, exported file")
        await page.screenshot(path=tmp_path / "session-report-export.png", full_page=True)
        pdf = await page.pdf(format="A4", print_background=True)
        # Printed on A4: three pages (charts are never cut across pages: break-inside avoid).
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 3

        # The public summary, for the audience: linked from the room page once it has ended.
        await ada.reload()
        await ada.get_by_role("link", name="Read the session summary").click()
        await expect(ada).to_have_url(f"{url}/summary")
        answered = ada.locator("section[aria-labelledby=answered-heading] li")
        await expect(answered).to_have_count(1, timeout=WAIT)
        await expect(answered).to_contain_text(ANSWERED)
        await expect(answered).to_contain_text("answered by Sameh Wahba")
        await expect(ada.locator("section[aria-labelledby=unanswered-heading] li")).to_contain_text(
            OPEN
        )
        await check_accessible(ada, "public summary")
        await ada.screenshot(path=tmp_path / "session-summary.png", full_page=True)
        keep(tmp_path)
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        for context in (*audience, staff, offline):
            await context.close()
