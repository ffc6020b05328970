"""The audience's Q&A on the room page, in Chromium: asking, one's own questions, voting.

The embedded journeys drive the moderator over the WebSocket protocol (``support.clients``);
the two-process journey (PostgreSQL + Redis) drives the moderator console page, and follows
the big screen too.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    WebSocketRoute,
    expect,
)
from support.clients import Client

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
WORKSHOP = "Thematic workshop 1"
MODERATOR_LINK = re.compile(
    r"Moderator — Güldem Özdoğan \(moderates Thematic workshop 1\):\s+(\S+)"
)
SCRIPT = "<script>alert(1)</script> How do cities pay for resilience?"
REASON = "Off topic for this workshop"
REDIS_URL = "redis://127.0.0.1:6379/0"
WAIT = 10_000  # ms: every live update below is bounded by this


def two_servers(
    start_live_server: Callable[..., Any], database_url: str, tag: str
) -> tuple[Any, Any]:
    """Two server processes over one PostgreSQL and one Redis (a prefix of their own).

    The first loads the Summit into the empty database; the second finds it there.
    start_live_server picks each port itself, so only the second can list the first's origin
    in advance (each page talks to its own server, whose origin is always allowed)."""
    shared = {
        "TOWNHALL_DATABASE_URL": database_url,
        "TOWNHALL_SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "TOWNHALL_REDIS_URL": REDIS_URL,
        "TOWNHALL_REDIS_PREFIX": f"test-{tag}-{uuid.uuid4().hex[:12]}",
    }
    server_a = start_live_server(shared)
    return server_a, start_live_server({**shared, "TOWNHALL_ALLOWED_ORIGINS": server_a.url})


def room_url(server: Any, room_id: int) -> str:
    return f"{server.url}/events/{SUMMIT}/rooms/{room_id}"


def moderator_link(server: Any) -> str:
    """The moderator invitation ``townhall serve --setup`` printed (Güldem, workshop 1)."""
    match = MODERATOR_LINK.search(server.log())
    assert match, server.log()
    return match[1]


def watch(page: Page, problems: list[str], dialogs: list[str] | None = None) -> None:
    """Collect console errors, uncaught exceptions (CSP violations too) and dialogs."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} at {message.location['url']}")

    async def on_dialog(dialog: Dialog) -> None:
        if dialogs is not None:
            dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", on_dialog)


async def join_as(
    context: BrowserContext,
    url: str,
    name: str,
    problems: list[str],
    dialogs: list[str] | None = None,
) -> Page:
    page = await context.new_page()
    watch(page, problems, dialogs)
    await page.goto(url)
    await page.get_by_label("Display name (optional)").fill(name)
    await page.get_by_role("button", name="Join the room").click()
    await expect(page.locator("#qa")).to_be_visible(timeout=WAIT)
    return page


async def ask(
    page: Page,
    text: str,
    *,
    to: str | None = None,
    anonymous: bool = False,
    language: str | None = None,
) -> None:
    await page.get_by_label("Your question", exact=True).fill(text)
    if to is not None:
        await page.get_by_label("Addressed to").select_option(label=to)
    if language is not None:
        await page.get_by_label("Language of your question").select_option(label=language)
    if anonymous:
        await page.get_by_label("Ask anonymously").check()
    await page.get_by_role("button", name="Send question").click()


async def moderator_client(server: Any, room_id: int) -> Client:
    """Redeem the moderator's invitation over HTTP, then speak the protocol as them."""
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as http:
        response = await http.post(moderator_link(server), headers={"Origin": server.url})
    assert response.status_code == 303, response.text[:500]
    cookie = "; ".join(
        f"{name}={response.cookies[name]}" for name in ("townhall_staff", "townhall_participant")
    )
    client = Client(
        server.url.replace("http://", "ws://", 1) + "/ws",
        origin=server.url,
        cookie=cookie,
        name="moderator",
    )
    await client.connect()
    return client


async def moderate(client: Client, kind: str, **fields: object) -> dict:
    answer = await client.request(kind, **fields)
    assert answer["type"] == "reply", answer
    return answer


async def asked_and_aired(
    page: Page,
    server: Any,
    room_id: int,
    asked: list[tuple[str, bool]],
    *,
    approve: list[str],
    on_air: str,
) -> tuple[Client, dict[str, int]]:
    """``page`` (joined) asks each (text, anonymous); a moderator over the protocol approves
    some and puts one on air. The moderator's client (close it) and the questions' ids."""
    for text, anonymous in asked:
        await ask(page, text, anonymous=anonymous)
        await expect(page.locator("#ask-sent")).to_contain_text("Sent.", timeout=WAIT)
    moderator = await moderator_client(server, room_id)
    snapshot = await moderator.join(room_id)
    ids = {q["text"]: q["id"] for q in snapshot["state"]["questions"]}
    for text in approve:
        await moderate(moderator, "question.approve", room=room_id, question=ids[text])
    await moderate(moderator, "question.put_on_air", room=room_id, question=ids[on_air])
    return moderator, ids


def mine(page: Page, text: str):
    return page.locator("#qa-mine-list > li").filter(has_text=text)


def listed(page: Page, text: str):
    return page.locator("#qa-list > li").filter(has_text=text)


def counters(page: Page):
    return page.locator("#qa-counters [data-counter]")


async def test_audience_qa_ask_moderate_vote_and_dismiss(
    live_server: Any, browser: Browser
) -> None:
    room_id = live_server.room_id(WORKSHOP)
    url = room_url(live_server, room_id)
    first, second = await browser.new_context(), await browser.new_context()
    problems: list[str] = []
    dialogs: list[str] = []
    moderator: Client | None = None
    try:
        ada = await join_as(first, url, "Ada", problems, dialogs)
        options = await ada.get_by_label("Addressed to").locator("option").all_text_contents()
        assert options[0] == "The whole panel"
        assert "Mr. Sameh Wahba" in options and "Ms. Lina Liakou" in options
        assert not any("Güldem" in option for option in options)  # the session's moderator
        await expect(ada.locator("#ask-as")).to_have_text("You ask as Ada.")
        await expect(ada.locator("#ask-anonymous-hint")).to_have_text(
            "Your name is hidden from the audience and panelists; "
            "moderators can still see who asked."
        )

        # The counter follows the trimmed text; the room's limits are checked before sending.
        await ada.get_by_label("Your question", exact=True).fill("  ab  ")
        await expect(ada.locator("#ask-count")).to_have_text("2 / 500")
        await ada.get_by_role("button", name="Send question").click()
        await expect(ada.locator("#ask-error")).to_have_text(
            "Your question is too short: write at least 3 characters."
        )
        await ada.get_by_label("Your question", exact=True).fill("x" * 503)
        await expect(ada.locator("#ask-count")).to_have_text("503 / 500: 3 too many")

        await ask(ada, SCRIPT, to="Mr. Sameh Wahba")
        await expect(ada.locator("#ask-sent")).to_have_text(
            "Sent. It waits for moderation: “Your questions” shows what becomes of it."
        )
        await expect(ada.locator("#ask-error")).to_have_text("")
        await expect(ada.locator("#ask-count")).to_have_text("0 / 500")
        own = mine(ada, SCRIPT)
        await expect(own.locator(".room-qa-text")).to_have_text(SCRIPT)
        await expect(own.locator(".room-qa-status")).to_have_text("Waiting for moderation")
        await expect(own.locator(".room-qa-detail")).to_have_text(
            "Only you and the moderators can see it for now."
        )
        await expect(own.locator(".room-qa-meta")).to_contain_text("Asked as Ada to Sameh Wahba")
        await expect(counters(ada)).to_have_text(["1", "0", "0", "0"])
        await expect(ada.locator("#qa-list > li")).to_have_count(0)

        grace = await join_as(second, url, "Grace", problems)
        await expect(counters(grace)).to_have_text(["1", "0", "0", "0"])
        await expect(grace.locator("#qa-empty")).to_have_text("No questions yet.")
        await expect(grace.locator("#qa-mine")).to_be_hidden()

        # A moderator approves it: Grace sees it arrive, and hears about it.
        moderator = await moderator_client(live_server, room_id)
        snapshot = await moderator.join(room_id)
        pending = [q for q in snapshot["state"]["questions"] if q["status"] == "pending"]
        assert [(q["text"], q["author_name"]) for q in pending] == [(SCRIPT, "Ada")]
        question = pending[0]["id"]
        await moderate(moderator, "question.approve", room=room_id, question=question)

        shown = listed(grace, SCRIPT)
        await expect(shown.locator(".room-qa-text")).to_have_text(SCRIPT, timeout=WAIT)
        await expect(shown.locator(".room-qa-meta")).to_contain_text("Ada · to Sameh Wahba")
        await expect(grace.locator("#qa-announce-polite")).to_have_text(
            f"New question from Ada: {SCRIPT}"
        )
        await expect(counters(grace)).to_have_text(["1", "1", "0", "0"])
        await expect(own.locator(".room-qa-status")).to_have_text("Published")

        # Votes: each toggle is the participant's own; the counts reach every page.
        ada_vote = listed(ada, SCRIPT).get_by_role("button", name=re.compile("^Upvote"))
        grace_vote = shown.get_by_role("button", name=re.compile("^Upvote"))
        await expect(grace_vote).to_have_attribute("aria-pressed", "false")
        await ada_vote.click()
        await expect(ada_vote).to_have_attribute("aria-pressed", "true")
        await expect(grace_vote.locator(".room-qa-votes")).to_have_text("1", timeout=WAIT)
        await expect(grace_vote).to_have_attribute("aria-pressed", "false")
        await grace_vote.click()
        await expect(grace_vote).to_have_attribute("aria-pressed", "true")
        await expect(ada_vote.locator(".room-qa-votes")).to_have_text("2", timeout=WAIT)
        await expect(grace_vote.locator(".room-qa-votes")).to_have_text("2")
        await grace_vote.click()
        await expect(grace_vote).to_have_attribute("aria-pressed", "false")
        await expect(ada_vote.locator(".room-qa-votes")).to_have_text("1", timeout=WAIT)
        await expect(grace_vote.locator(".room-qa-votes")).to_have_text("1")
        await expect(ada_vote).to_have_attribute("aria-pressed", "true")

        # On air: highlighted at the top, announced assertively, out of the open list.
        await moderate(moderator, "question.put_on_air", room=room_id, question=question)
        for page in (ada, grace):
            await expect(page.locator("#qa-onair .room-qa-text")).to_have_text(SCRIPT, timeout=WAIT)
            await expect(page.locator("#qa-announce-assertive")).to_have_text(
                f"On air, from Ada: {SCRIPT}"
            )
            await expect(page.locator("#qa-list > li")).to_have_count(0)
        await expect(own.locator(".room-qa-status")).to_have_text("On air now")

        # Dismissed with a reason: gone for everyone, the reason for its author only.
        await moderate(
            moderator, "question.dismiss", room=room_id, question=question, reason=REASON
        )
        await expect(grace.locator("#qa-onair")).to_be_hidden(timeout=WAIT)
        await expect(counters(grace)).to_have_text(["1", "1", "0", "1"])
        await expect(grace.locator("#qa-empty")).to_have_text("No questions yet.")
        await expect(own.locator(".room-qa-status")).to_have_text("Not published", timeout=WAIT)
        await expect(own.locator(".room-qa-reason")).to_have_text(f"Moderator's reason: {REASON}")
        await expect(ada.locator("#qa-announce-polite")).to_have_text(
            f"Your question was not published: {REASON}"
        )
        assert REASON not in await grace.locator("body").inner_text()

        # The server's typed refusals show inline: five questions a minute at most.
        for n in range(1, 6):
            await ask(
                grace, f"Question number {n} from Grace", language="Türkçe" if n == 4 else None
            )
            await expect(mine(grace, f"Question number {n} from Grace")).to_have_count(1)
        await ask(grace, "A sixth question from Grace")
        await expect(grace.locator("#ask-error")).to_have_text(
            re.compile(r"^You have asked several questions in a row: try again in \d+ s\.$")
        )
        await expect(grace.get_by_label("Your question", exact=True)).to_have_value(
            "A sixth question from Grace"
        )
        await expect(counters(ada)).to_have_text(["6", "1", "0", "1"])

        # Popular or recent first; answered questions in their own tab.
        submitted = {
            m["data"]["question"]["text"]: m["data"]["question"]["id"]
            for m in moderator.events(room_id, "question.submitted")
        }
        # Each records its language: the interface's unless the asker chose another (kept).
        languages = {
            m["data"]["question"]["text"]: m["data"]["question"]["language"]
            for m in moderator.events(room_id, "question.submitted")
        }
        assert [languages[f"Question number {n} from Grace"] for n in range(1, 6)] == [
            "en",
            "en",
            "en",
            "tr",
            "tr",
        ]
        first_id = submitted["Question number 1 from Grace"]
        second_id = submitted["Question number 2 from Grace"]
        for qid in (first_id, second_id):
            await moderate(moderator, "question.approve", room=room_id, question=qid)
        items = ada.locator("#qa-list > li .room-qa-text")
        await expect(items).to_have_text(
            ["Question number 1 from Grace", "Question number 2 from Grace"], timeout=WAIT
        )
        await ada.get_by_role("button", name="Recent").click()
        await expect(ada.get_by_role("button", name="Recent")).to_have_attribute(
            "aria-pressed", "true"
        )
        await expect(items).to_have_text(
            ["Question number 2 from Grace", "Question number 1 from Grace"]
        )
        await listed(ada, "number 1").get_by_role("button", name=re.compile("^Upvote")).click()
        await ada.get_by_role("button", name="Popular").click()
        await expect(items).to_have_text(
            ["Question number 1 from Grace", "Question number 2 from Grace"]
        )
        answer = {"room": room_id, "question": first_id, "by": "sameh-wahba"}
        await moderate(moderator, "question.mark_answered", **answer)
        await expect(items).to_have_text(["Question number 2 from Grace"], timeout=WAIT)
        answered_tab = ada.get_by_role("tab", name=re.compile("^Answered"))
        await expect(answered_tab).to_have_text("Answered 1")
        await answered_tab.click()
        await expect(answered_tab).to_have_attribute("aria-selected", "true")
        await expect(ada.locator("#qa-sort")).to_be_hidden()
        await expect(items).to_have_text(["Question number 1 from Grace"])
        await expect(ada.locator("#qa-list > li .room-qa-meta")).to_have_text(
            re.compile(r"^Grace · 1 vote · answered by Sameh Wahba at ")
        )
        answered = mine(grace, "Question number 1 from Grace")
        await expect(answered.locator(".room-qa-status")).to_have_text("Answered")
        await expect(answered.locator(".room-qa-detail")).to_have_text("Answered by Sameh Wahba.")
        await expect(counters(grace)).to_have_text(["6", "3", "1", "1"])

        # A duplicate is merged into a published question: its author is told where it went.
        third_id = submitted["Question number 3 from Grace"]
        merge = {"room": room_id, "question": third_id, "into": second_id}
        await moderate(moderator, "question.merge", **merge)
        merged = mine(grace, "Question number 3 from Grace")
        await expect(merged.locator(".room-qa-status")).to_have_text(
            "Merged into a similar question", timeout=WAIT
        )
        await expect(merged.locator(".room-qa-detail")).to_have_text(
            "It joined “Question number 2 from Grace”: its votes, yours included, count there now."
        )
        await expect(grace.locator("#qa-announce-polite")).to_have_text(
            "Your question was merged into a similar question."
        )

        # Once the session has ended, the page says so and the server refuses new questions.
        await moderate(moderator, "room.set_state", room=room_id, action="end")
        await expect(ada.locator("#ask-closed")).to_have_text(
            "The session has ended: questions are closed.", timeout=WAIT
        )
        await ask(ada, "Is anyone still there?")
        await expect(ada.locator("#ask-error")).to_have_text(
            "Questions are closed: the room is not open for questions right now."
        )
        assert dialogs == []
        assert problems == []
    finally:
        if moderator is not None:
            await moderator.close()
        await first.close()
        await second.close()


async def test_audience_qa_question_resent_after_a_lost_reply_is_asked_once(
    live_server: Any, browser: Browser
) -> None:
    """The reply to ``question.submit`` is lost with the connection: the page sends the same
    ``ref`` again after reconnecting, and the server answers with the first question."""
    room_id = live_server.room_id(WORKSHOP)
    context = await browser.new_context()
    problems: list[str] = []
    submits: list[dict] = []
    dropped: list[dict] = []

    async def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_page(frame: str | bytes) -> None:
            message = json.loads(frame)
            if message.get("type") == "question.submit":
                submits.append(message)
            server_side.send(frame)

        async def from_server(frame: str | bytes) -> None:
            message = json.loads(frame)
            if message.get("type") == "reply" and not dropped and submits:
                if message.get("ref") == submits[0]["ref"]:
                    dropped.append(message)
                    await page_side.close(code=1012, reason="restarting")
                    return
            page_side.send(frame)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    try:
        await context.route_web_socket(re.compile(r"/ws$"), route)
        page = await join_as(context, room_url(live_server, room_id), "Ada", problems)
        await ask(page, "What did the pandemic teach cities?")
        await expect(page.locator("#ask-sent")).to_have_text(
            "Sent. It waits for moderation: “Your questions” shows what becomes of it.",
            timeout=WAIT,
        )
        await expect(page.locator("#qa-mine-list > li")).to_have_count(1)
        await expect(counters(page)).to_have_text(["1", "0", "0", "0"])
        assert [m["ref"] for m in submits] == [submits[0]["ref"]] * 2
        assert dropped[0]["data"]["duplicate"] is False

        # A fresh page load (a snapshot from the database) agrees: one question.
        await page.reload()
        await expect(page.locator("#qa-mine-list > li")).to_have_count(1, timeout=WAIT)
        await expect(counters(page)).to_have_text(["1", "0", "0", "0"])
        assert problems == []
    finally:
        await context.close()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.multiprocess
async def test_audience_qa_across_two_servers_with_the_big_screen(
    start_live_server: Callable[..., Any], pg_database_url: str, browser: Browser
) -> None:
    """The issue's journey on the production shape: PostgreSQL, Redis, two processes."""
    server_a, server_b = two_servers(start_live_server, pg_database_url, "qa")
    room_id = server_a.room_id(WORKSHOP)
    assert server_b.room_id(WORKSHOP) == room_id
    q1 = "How will our two cities share what works?"
    q2 = "Who funds the resilience officers?"

    contexts = [await browser.new_context() for _ in range(5)]
    ada_ctx, grace_ctx, lin_ctx, moderator_ctx, screen_ctx = contexts
    problems: list[str] = []
    try:
        ada = await join_as(ada_ctx, room_url(server_a, room_id), "Ada", problems)
        grace = await join_as(grace_ctx, room_url(server_b, room_id), "Grace", problems)
        lin = await join_as(lin_ctx, room_url(server_a, room_id), "Lin", problems)
        await ask(ada, q1, anonymous=True)
        await expect(mine(ada, q1).locator(".room-qa-status")).to_have_text(
            "Waiting for moderation"
        )
        await expect(mine(ada, q1).locator(".room-qa-meta")).to_contain_text("Asked anonymously")
        await ask(grace, q2)
        await expect(mine(grace, q2).locator(".room-qa-status")).to_have_text(
            "Waiting for moderation"
        )

        # The moderator, on server B, uses the console.
        console = await moderator_ctx.new_page()
        watch(console, problems)
        await console.goto(moderator_link(server_b))
        await console.get_by_role("button", name=re.compile(r"^Continue as ")).click()
        await console.goto(room_url(server_b, room_id) + "/moderate")
        for text in (q1, q2):
            card = console.locator("#question-list > li").filter(has_text=text)
            await card.get_by_role("button", name="Approve", exact=True).click(timeout=WAIT)
            await expect(card).to_have_count(0, timeout=WAIT)
        await console.get_by_role("tab", name=re.compile("^Live")).click()
        live_card = console.locator("#question-list > li").filter(has_text=q1)
        await live_card.get_by_role("button", name="Put on air", exact=True).click()
        screen_url = await console.locator("#screen-url").input_value()
        assert screen_url.startswith(f"{server_b.url}/events/{SUMMIT}/rooms/{room_id}/screen/")

        screen = await screen_ctx.new_page()
        watch(screen, problems)
        await screen.goto(screen_url)

        # On air everywhere: both servers' audiences and the big screen.
        for page in (ada, grace, lin):
            await expect(page.locator("#qa-onair .room-qa-text")).to_have_text(q1, timeout=WAIT)
            await expect(page.locator("#qa-onair .room-qa-meta")).to_contain_text("Anonymous")
            await expect(listed(page, q2)).to_have_count(1, timeout=WAIT)
            await expect(counters(page)).to_have_text(["2", "2", "0", "0"])
        await expect(screen.locator("#onair .qa-screen-question")).to_have_text(q1, timeout=WAIT)
        await expect(screen.locator("#onair .qa-screen-by")).to_have_text("Asked anonymously")
        await expect(mine(ada, q1).locator(".room-qa-status")).to_have_text("On air now")
        await expect(mine(grace, q2).locator(".room-qa-status")).to_have_text("Published")

        # Three participants on two servers vote for the second question.
        for page in (ada, grace, lin):
            button = listed(page, q2).get_by_role("button", name=re.compile("^Upvote"))
            await button.click()
            await expect(button).to_have_attribute("aria-pressed", "true")
        for page in (ada, grace, lin):
            await expect(listed(page, q2).locator(".room-qa-votes")).to_have_text("3", timeout=WAIT)
        await expect(screen.locator("#top li").filter(has_text=q2)).to_contain_text(
            "3 votes", timeout=WAIT
        )
        await expect(screen.get_by_role("heading", name="Top questions")).to_be_visible()
        await expect(console.locator("#question-list > li").filter(has_text=q2)).to_contain_text(
            "3 votes", timeout=WAIT
        )
        assert problems == []
    finally:
        for context in contexts:
            await context.close()
