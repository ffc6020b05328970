"""What every resilience scenario asserts at its end: nothing acknowledged is lost.

Each client's received ``(epoch, seq)`` list must equal the database's log after the client's
first snapshot (public events, and those for its own participant, for the audience; all for
staff), and its state folded from those events (:func:`support.room_state.replay`) must equal a
fresh snapshot taken at the end: the room for everyone, and the whole Q&A part (questions,
votes, counters) for the audience members named as ``observers`` (who ask nothing, so hold no
private view of their own). Before comparing, the room must have settled: its log still for a
second and its vote counts announced (votes are counted at once and announced, coalesced, a
moment later; a snapshot already has the counts).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from support.clients import Client, audience_cookie, ok
from support.room_state import replay, sequenced
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from townhall.platform.models import Question, RoomEvent


async def room_log(stack: Stack, room: int) -> list[tuple[int, str, str | None]]:
    """The room's committed log: (seq, visibility, participant the event is for), in order."""
    async with stack.db.sessionmaker() as db:
        return [
            (e.seq, e.visibility, e.participant_id)
            for e in await db.scalars(
                select(RoomEvent).where(RoomEvent.room_id == room).order_by(RoomEvent.seq)
            )
        ]


QA_PART = ("questions", "counters", "on_air", "pinned")


async def converge(clients: list[Client], room: int, seq: int, within: float = 30.0) -> None:
    await asyncio.gather(
        *(c.wait_until(lambda c: c.last_seq(room) == seq, within, f"seq {seq}") for c in clients)
    )


async def votes_announced(stack: Stack, room: int) -> bool:
    """Whether the room's ``question.votes_changed`` events have caught up with the votes
    committed (the vote coalescer logs counts a moment after the votes)."""
    async with stack.db.sessionmaker() as db:
        rows = await db.execute(select(Question.id, Question.votes).where(Question.room_id == room))
        counts = {question: votes for question, votes in rows}
        announced: dict[int, int] = {}
        for data in await db.scalars(
            select(RoomEvent.data)
            .where(RoomEvent.room_id == room, RoomEvent.name == "question.votes_changed")
            .order_by(RoomEvent.seq)
        ):
            announced.update({int(k): v for k, v in data.get("votes", {}).items()})
            if isinstance(data.get("question"), dict):
                announced[data["question"]["id"]] = data["question"]["votes"]
    return all(announced.get(q, 0) == votes for q, votes in counts.items())


async def settled(stack: Stack, room: int, within: float, quiet: float = 1.0) -> tuple[str, int]:
    """Wait until the room's votes are announced and its log has not moved for ``quiet``
    seconds (every process's coalescer has flushed); its position then."""
    deadline = time.monotonic() + within
    position, since = await stack.db.room_position(room), time.monotonic()
    while True:
        await asyncio.sleep(0.1)
        now = await stack.db.room_position(room)
        if now != position:
            position, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet and await votes_announced(stack, room):
            return position
        if time.monotonic() > deadline:
            raise AssertionError(f"room {room} not settled within {within}s (at {position})")


async def assert_nothing_lost(
    stack: Stack,
    room: int,
    clients: list[Client],
    fresh: Client,
    *,
    acked: list[int] = (),  # type: ignore[assignment]
    staff: tuple[Client, ...] = (),
    observers: tuple[Client, ...] = (),
    within: float = 30.0,
) -> int:
    """Wait until every client has the room's last committed ``seq``, then compare each one's
    log and folded state with the database and with ``fresh``'s snapshot; the last ``seq``."""
    epoch, last = await settled(stack, room, within)
    await converge(clients, room, last, within)
    log = await room_log(stack, room)
    logged = [seq for seq, _, _ in log]
    absent = sorted(set(range(logged[0], last + 1)) - set(logged))
    assert (logged[-1], absent) == (last, []), f"a gap in the log: {absent}, last {last}"
    missing = sorted(set(acked) - set(logged))
    assert not missing, f"acknowledged but not in the log: {missing}"
    snapshot = await fresh.join(room)
    assert snapshot["type"] == "room.snapshot" and snapshot["seq"] == last, snapshot
    for client in clients:
        first = client.of_type("room.snapshot")[0]
        seen = [(m["epoch"], m["seq"]) for m in client.events(room)]
        own = None if client in staff or not client.cookie else stack.participant_of(client)
        expected = [
            (epoch, seq)
            for seq, visibility, participant in log
            if seq > first["seq"]
            and (visibility == "public" or client in staff or (own and participant == own))
        ]
        assert seen == expected, (
            f"{client.name}: a gap or a duplicate",
            [m["seq"] for m in client.events(room) if (m["epoch"], m["seq"]) not in expected],
            [seq for _, seq in expected if (epoch, seq) not in seen],
            [seq for _, seq in seen],
            [seq for _, seq in expected],
        )
        folded = replay(first, client.events(room), gaps=client not in staff)
        assert (client.name, folded["seq"], sequenced(folded["state"])["room"]) == (
            client.name,
            last,
            sequenced(snapshot["state"])["room"],
        )
        if client in observers:
            held = {k: folded["state"][k] for k in QA_PART}
            truth = {k: snapshot["state"][k] for k in QA_PART}
            assert held == truth, (client.name, "holds", held, "the database says", truth)
    return last


async def resend_until_answered(
    client: Client, kind: str, /, *, ref: str, give_up_after: float = 60.0, **fields: object
) -> tuple[dict, int]:
    """Send a command, and resend it with the same ``ref`` while it is refused as
    ``unavailable`` (as ``live.js`` keeps a queued command); its last answer and how many
    were refused so."""
    deadline = time.monotonic() + give_up_after
    refused = 0
    while True:
        answer = await client.request(kind, ref=ref, within=20, **fields)
        if answer.get("code") != "unavailable" or time.monotonic() > deadline:
            return answer, refused
        refused += 1
        await asyncio.sleep(min(float(answer["retry_after"]), 0.5))


@dataclass
class LiveRoom:
    """Workshop 1, live, under two processes: its moderator on ``a``, audience members who
    only watch on each process (``observers``)."""

    a: ServerProcess
    b: ServerProcess
    room: int
    moderator: Client
    observers: list[TimedClient]


async def live_room(stack: Stack, observers_each: int) -> LiveRoom:
    a, b = stack.servers("a", "b", now=MORNING)
    await stack.start(a, b)
    room = stack.rooms[WORKSHOP_1]
    await stack.db.set_room_state(room, "go_live", now=MORNING_UTC)
    moderator = await stack.moderator(a)
    assert (await moderator.join(room))["type"] == "room.snapshot"
    observers = [
        *await timed_audience(stack, a, room, [f"A {n}" for n in range(observers_each)]),
        *await timed_audience(stack, b, room, [f"B {n}" for n in range(observers_each)]),
    ]
    return LiveRoom(a, b, room, moderator, observers)


async def approved_question(stack: Stack, server, moderator: Client, room: int, text: str) -> int:
    """A question asked by a new audience member on ``server`` (approved by ``moderator`` if the
    room holds it for moderation): its id, open to votes."""
    asker = await stack.audience(server, "Asker")
    assert (await asker.join(room))["type"] == "room.snapshot"
    asked = await ok(asker, "question.submit", room=room, text=text)
    if asked["status"] == "pending":
        await ok(moderator, "question.approve", room=room, question=asked["question"])
    return asked["question"]


async def one_participant(stack: Stack, servers: list, room: int, name: str, sockets: int):
    """``sockets`` joined connections of one new participant, alternating over ``servers``."""
    cookie = await audience_cookie(servers[0], name)
    made = []
    for n in range(sockets):
        client = await stack.client(servers[n % len(servers)], cookie, f"{name} {n}")
        assert (await client.join(room))["type"] == "room.snapshot"
        made.append(client)
    return made


async def gather_audience(
    stack: Stack, server, room: int, cookies: list[str], tag: str, batch: int = 50
) -> list[Client]:
    """Joined clients on ``server``, one per cookie, ``batch`` handshakes at a time."""
    clients = [Client.of(server, cookie, f"{tag} {n}") for n, cookie in enumerate(cookies)]
    stack.clients.extend(clients)

    async def one(client: Client) -> None:
        await client.connect(within=20)
        assert (await client.join(room, within=20))["type"] == "room.snapshot"

    for start in range(0, len(clients), batch):
        await asyncio.gather(*(one(c) for c in clients[start : start + batch]))
    return clients


async def fail_over(client: Client, survivor, room: int, within: float = 60.0) -> tuple[float, str]:
    """Wait for the close, jitter, connect to the survivor and resume; (seconds, answer)."""
    await client.closed(within=30)
    closed_at = time.monotonic()
    await asyncio.sleep(random.uniform(0.0, 0.5))
    client.url = survivor.ws_url
    deadline = closed_at + within
    while True:
        try:
            await client.connect(within=10)
            answer = await client.resume(room, within=20)
            return time.monotonic() - closed_at, answer["type"]
        except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, AssertionError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.2f} s, p99 {percentile(values, 0.99):.2f} s, "
        f"max {max(values):.2f} s"
    )


async def until(condition: Callable[[], Awaitable[object]], what: str, within: float = 30.0):
    """Poll ``condition()`` until it returns something truthy; that value."""
    deadline = time.monotonic() + within
    while not (found := await condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {within}s")
        await asyncio.sleep(0.1)
    return found


class TimedClient(Client):
    """A client that notes when each event arrived (monotonic clock), by ``seq``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.arrived: dict[int, float] = {}

    def _track(self, message: dict) -> None:
        super()._track(message)
        if message.get("type") == "event":
            self.arrived.setdefault(message["seq"], time.monotonic())


async def timed_audience(stack: Stack, server, room: int, names: list[str]) -> list[TimedClient]:
    """Joined audience members on ``server`` (participants made over HTTP)."""
    from support.clients import audience_cookie

    made = []
    for name in names:
        client = TimedClient.of(server, await audience_cookie(server, name), name)
        stack.clients.append(client)
        await client.connect()
        assert (await client.join(room))["type"] == "room.snapshot"
        made.append(client)
    return made


class Writer:
    """A moderator changing the room's stage URL every ``every`` seconds until stopped; what
    was acknowledged, with when (monotonic), and when each acknowledged change was sent."""

    def __init__(self, moderator: Client, room: int, tag: str, every: float = 0.2) -> None:
        self.moderator, self.room, self.tag, self.every = moderator, room, tag, every
        self.acked: dict[int, float] = {}
        self.sent: dict[int, float] = {}
        self.refused: list[dict] = []
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        for n in range(5000):  # bounded
            if self.stop.is_set():
                return
            sent = time.monotonic()
            answer = await self.moderator.request(
                "room.update",
                room=self.room,
                stage_url=f"https://stage.example/{self.tag}/{n}",
                within=20,
            )
            if answer["type"] == "reply":
                self.acked[answer["data"]["seq"]] = time.monotonic()
                self.sent[answer["data"]["seq"]] = sent
            else:
                self.refused.append(answer)
            await asyncio.sleep(self.every)

    async def finish(self) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)


def rss_kib(pid: int) -> int:
    """A process's resident memory (KiB), from ``/proc``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")
