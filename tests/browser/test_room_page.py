"""The live room page in Chromium: joining, presence, a dropped network and the resume."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from townhall.platform import rooms
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.realtime.identity import PARTICIPANT_COOKIE, Identity, identity_cookie

pytestmark = pytest.mark.browser

SUMMIT = "mayors-summit-2021"
STAGE = "https://stage.example.org/workshop-1"
# Keeps every text the connection banner showed, in order, so a state that passes quickly
# (Reconnecting…) can still be asserted after the fact. Playwright's evaluate is not bound
# by the page's Content-Security-Policy.
RECORD_BANNER = """() => {
  window.bannerLog = [];
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const n of m.addedNodes) window.bannerLog.push(n.textContent);
  }).observe(document.getElementById("connection-status"), { childList: true });
}"""


def room_url(server, room_id: int) -> str:
    return f"{server.url}/events/{SUMMIT}/rooms/{room_id}"


def watch_console(page: Page, problems: list[str]) -> None:
    """Collect console errors and uncaught exceptions (CSP violations show up here too)."""

    def on_console(message: ConsoleMessage) -> None:
        # The site has no favicon yet; Chromium asks for one on every first visit.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(f"{message.text} at {message.location['url']}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))


async def join_as(context: BrowserContext, url: str, name: str, problems: list[str]) -> Page:
    page = await context.new_page()
    watch_console(page, problems)
    await page.goto(url)
    await expect(page.locator("#join-form")).to_be_visible()
    await page.get_by_label("Display name (optional)").fill(name)
    await page.get_by_role("button", name="Join the room").click()
    await expect(page.locator("#join-form")).to_be_hidden()
    return page


async def set_stage_url(server, room_id: int, url: str) -> None:
    """A moderator's change, committed straight to the log; the server's sweep publishes it."""
    engine = make_engine(server.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            await rooms.update_room(
                db, room_id=room_id, changes={"stage_url": url}, now=datetime.now(UTC)
            )
            await db.commit()
    finally:
        await engine.dispose()


async def test_room_page_live_presence_and_resume_after_offline(
    live_server, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    url = room_url(live_server, room_id)
    first, second = await browser.new_context(), await browser.new_context()
    problems: list[str] = []
    try:
        page = await join_as(first, url, "Ada", problems)
        banner = page.get_by_role("status")
        await expect(banner).to_have_text("Connected — updates appear as they happen.")
        await expect(page.locator("#room-state-label")).to_have_text("Lobby open")
        await expect(page.locator("#room-state-detail")).to_have_text(
            "The lobby is open; the session starts at 16:00 Izmir time."
        )
        await expect(page.locator("#presence-audience")).to_have_text("1")
        await expect(page.locator("#room-presence")).to_contain_text("1 person in the audience")

        other = await join_as(second, url, "Grace", problems)
        await expect(other.locator("#presence-audience")).to_have_text("2")
        await expect(page.locator("#presence-audience")).to_have_text("2")

        await page.evaluate(RECORD_BANNER)
        await first.set_offline(True)
        await expect(banner).to_have_text("You are offline. Reconnecting when the network is back…")
        await set_stage_url(live_server, room_id, STAGE)
        # The page still online receives the change live; the offline one has missed it.
        await expect(other.get_by_role("link", name="Join the stage")).to_have_attribute(
            "href", STAGE
        )
        # In a new tab: the Q&A stays open beside the call.
        await expect(other.get_by_role("link", name="Join the stage")).to_have_attribute(
            "target", "_blank"
        )
        await expect(page.get_by_role("link", name="Join the stage")).to_have_count(0)

        await first.set_offline(False)
        await expect(banner).to_have_text("You were offline — caught up (1 missed update).")
        await expect(page.get_by_role("link", name="Join the stage")).to_have_attribute(
            "href", STAGE
        )
        await expect(page.locator("#presence-audience")).to_have_text("2")
        shown = await page.evaluate("() => window.bannerLog")
        assert shown == [
            "You are offline. Reconnecting when the network is back…",
            "Reconnecting…",
            "You were offline — caught up (1 missed update).",
        ]
        assert problems == []
    finally:
        await first.close()
        await second.close()


async def test_room_page_asks_again_when_the_cookie_names_an_unknown_participant(
    live_server, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(room_url(live_server, room_id))
        event_id = int(await page.locator("#room").get_attribute("data-event-id") or "")
        # Signed with the server's key, but naming a participant the database does not have.
        secret = live_server.env["TOWNHALL_SECRET_KEY"]
        stale = identity_cookie(Identity(participants={event_id: "p_gone"}), secret)
        await context.add_cookies(
            [{"name": PARTICIPANT_COOKIE, "value": stale, "url": live_server.url}]
        )
        await page.reload()
        await expect(page.locator("#room")).to_have_attribute("data-joined", "true")
        await expect(page.locator("#join-form")).to_be_visible()
        await expect(page.get_by_role("status")).to_have_text("")
        await page.get_by_role("button", name="Join the room").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Connected — updates appear as they happen."
        )
        await expect(page.locator("#presence-audience")).to_have_text("1")
    finally:
        await context.close()


async def test_room_page_without_javascript_shows_server_rendered_state(
    live_server, browser: Browser
) -> None:
    room_id = live_server.room_id("Thematic workshop 1")
    context = await browser.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(room_url(live_server, room_id))
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Thematic workshop 1: Building resilience in cities"
        )
        await expect(page.locator("#room-state")).to_have_text(
            "Lobby open The lobby is open; the session starts at 16:00 Izmir time."
        )
        await expect(page.locator("#room-zones li")).to_have_text(
            ["Izmir 16:00–17:30", "Paris 14:00–15:30", "Montréal 08:00–09:30"]
        )
        await expect(page.locator("#join-form")).to_be_hidden()
        await expect(page.locator("#room-presence")).to_be_hidden()
        await expect(page.get_by_role("note")).to_have_count(0)

        # The WebSocket refuses other origins, so the page says where live updates work.
        await page.goto(room_url(live_server, room_id).replace("127.0.0.1", "localhost"))
        await expect(page.get_by_role("note")).to_contain_text(
            f"Live updates only work at this site's own address: {room_url(live_server, room_id)}"
        )
    finally:
        await context.close()


# live.js against a scripted socket: the rules of docs/protocol.md, with no server involved.
LIVE_RULES = """async () => {
  const live = await import("/static/js/live.js");
  const sockets = [];
  class FakeSocket {
    constructor(url) { this.url = url; this.readyState = 1; this.sent = []; sockets.push(this); }
    send(frame) { this.sent.push(JSON.parse(frame)); }
    close() { this.readyState = 3; }
    serve(message) { this.onmessage({ data: JSON.stringify(message) }); }
  }
  const host = { navigator: { onLine: true }, addEventListener() {}, removeEventListener() {} };
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const until = async (test) => { for (let i = 0; i < 2000 && !test(); i++) await tick(); };
  const room = { id: 3, state: "open", opens_at: "2021-12-08T12:45:00Z",
    session: { starts_at: "2021-12-08T13:00:00Z", ends_at: "2021-12-08T14:30:00Z" } };
  const out = {};

  const before = { room, questions: [] };
  const moved = live.applyRoomEvent(before, { name: "room.schedule_changed",
    data: { starts_at: "2021-12-08T14:00:00Z", ends_at: "2021-12-08T15:00:00Z" } });
  out.reducer = { before, opens: moved.room.opens_at, kept: moved.questions === before.questions,
    unknown: live.applyRoomEvent(before, { name: "question.approved", data: {} }) === before };
  out.backoff = [0, 3, 10].map((n) => live.backoffDelay(n, { random: () => 0.999 }));

  const options = { url: "ws://test/ws", WebSocketImpl: FakeSocket, host };
  const connection = new live.LiveConnection(options);
  const states = [];
  const applied = [];
  const caught = [];
  connection.on("state", (s) => states.push(s.state));
  connection.on("event", (e) => applied.push(e.event.seq));
  connection.on("caughtup", (c) => caught.push(c));
  connection.start();
  const joined = connection.join(3);
  const first = sockets[0];
  first.serve({ type: "hello", protocol: 1, connection: "a", identity: { events: [1] } });
  await until(() => first.sent.length === 1);
  const join = first.sent[0];
  first.serve({ type: "room.snapshot", room: 3, epoch: "e1", seq: 5, state: { room } });
  first.serve({ type: "reply", ref: join.ref, data: { room: 3, tier: "audience" } });
  out.joinReply = await joined;
  await until(() => connection.state === "live");
  for (const seq of [6, 6, 4, 9]) {
    first.serve({ type: "event", room: 3, epoch: "e1", seq, name: "room.updated",
      data: { changes: { stage_url: `https://s/${seq}` } } });
  }
  out.applied = [...applied];
  out.stage = connection.room(3).room.stage_url;
  const ok = connection.send({ type: "room.update", room: 3, premoderation: false });
  const refused = connection.send({ type: "room.set_state", room: 3, action: "end" });
  const [okRef, refusedRef] = first.sent.slice(-2).map((m) => m.ref);
  first.serve({ type: "error", ref: refusedRef, code: "room.forbidden", message: "no" });
  first.serve({ type: "reply", ref: okRef, data: { seq: 10 } });
  out.reply = await ok;
  out.error = await refused.then(() => null, (e) => e.code);

  first.onclose({ code: 4008, reason: "too slow" });
  await until(() => sockets.length === 2);
  const second = sockets[1];
  second.serve({ type: "hello", protocol: 1, connection: "b", identity: { events: [1] } });
  await until(() => second.sent.length === 1);
  out.resumeJoin = second.sent[0];
  second.serve({ type: "room.resumed", room: 3, epoch: "e1", from: 9, seq: 12, missed: 1 });
  second.serve({ type: "event", room: 3, epoch: "e1", seq: 11, name: "room.updated",
    data: { changes: { stage_url: "https://s/11" } } });
  second.serve({ type: "reply", ref: second.sent[0].ref, data: { room: 3, tier: "audience" } });
  await until(() => connection.state === "live" && caught.length === 1);
  out.caught = caught.map(({ missed, snapshot }) => ({ missed, snapshot }));
  out.afterResume = connection.rooms.get(3).seq;

  second.onclose({ code: 4003, reason: "" });
  out.states = states;
  out.sockets = sockets.length;

  // Keep-alive: an answered ping keeps the socket, an unanswered one replaces it.
  const quiet = new live.LiveConnection({ ...options, pingEveryMs: 5, pingTimeoutMs: 30 });
  quiet.start();
  const q = sockets.at(-1);
  const pings = () => q.sent.filter((m) => m.type === "ping");
  q.serve({ type: "hello", protocol: 1, connection: "q", identity: { events: [] } });
  await until(() => pings().length === 1);
  q.serve({ type: "pong", ref: pings()[0].ref });
  await until(() => sockets.at(-1) !== q);
  out.keepalive = { pings: pings().length, replaced: sockets.at(-1) !== q, state: quiet.state };
  quiet.stop();

  // 1008: say why and come back much later, not at once.
  const strict = new live.LiveConnection(options);
  let last = null;
  strict.on("state", (s) => { last = s; });
  strict.start();
  sockets.at(-1).onclose({ code: 1008, reason: "too many invalid messages" });
  out.policy = { state: last.state, retryIn: last.retryIn, reason: last.reason };
  strict.stop();
  return out;
}"""


async def test_live_connection_follows_the_protocol_rules(live_server, browser: Browser) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(live_server.url + "/")
        result = await page.evaluate(LIVE_RULES)
    finally:
        await context.close()
    prefix, _, number = result["resumeJoin"]["ref"].rpartition("-")
    assert (len(prefix) >= 4, number) == (True, "4")
    assert result == {
        "reducer": {
            "before": result["reducer"]["before"],
            "opens": "2021-12-08T13:45:00Z",  # the room still opens 15 minutes before
            "kept": True,
            "unknown": True,
        },
        "backoff": [499, 3996, 14985],
        "joinReply": {"room": 3, "tier": "audience"},
        "applied": [6, 9],  # the duplicate and the stale event are dropped
        "stage": "https://s/9",
        "reply": {"seq": 10},
        "error": "room.forbidden",
        "resumeJoin": {
            "type": "room.join",
            "room": 3,
            "since": {"epoch": "e1", "seq": 9},
            # Refs are unique per page load (a random prefix): the fourth command of this one.
            "ref": result["resumeJoin"]["ref"],
        },
        "caught": [{"missed": 1, "snapshot": None}],
        "afterResume": 12,
        "states": ["connecting", "live", "reconnecting", "reconnecting", "live", "stopped"],
        "sockets": 2,
        "keepalive": {"pings": 2, "replaced": True, "state": "reconnecting"},
        "policy": {
            "state": "reconnecting",
            "retryIn": 300_000,
            "reason": "too many invalid messages",
        },
    }
    assert result["reducer"]["before"]["room"]["opens_at"] == "2021-12-08T12:45:00Z"
