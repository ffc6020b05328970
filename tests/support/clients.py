"""Clients of a real server: identities got over HTTP, and a WebSocket client.

:class:`Client` reads in a background task into :attr:`Client.messages` (so no message is lost
while a test waits for another) and tracks each room's last epoch and ``seq``, which
:meth:`Client.resume` sends back as ``since``. Every wait has a timeout and fails with what
arrived instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .room_state import replay
from .servers import ServerProcess
from .summit import EVENT

Message = dict[str, Any]
Position = tuple[str, int]  # (epoch, seq)


_addresses = itertools.count(1)


def forwarded_for() -> str:
    """A distinct documentation address (TEST-NET-1/2/3) to put in ``X-Forwarded-For``.

    The server trusts that header from 127.0.0.1 (uvicorn's proxy headers, as behind a reverse
    proxy), and limits new identities per client address: each test participant comes from an
    address of its own. Nothing is ever sent to these addresses.
    """
    n = next(_addresses)
    net = ("192.0.2", "198.51.100", "203.0.113")[(n // 250) % 3]
    return f"{net}.{n % 250 + 1}"


async def audience_cookie(server: ServerProcess, name: str = "Guest") -> str:
    """Join the Summit's audience; the ``Cookie`` header that carries the participant."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        response = await http.post(
            f"/api/events/{EVENT}/participants",
            json={"display_name": name},
            headers={"Origin": server.origin, "X-Forwarded-For": forwarded_for()},
        )
    assert response.status_code == 201, (response.status_code, response.text)
    return f"townhall_participant={response.cookies['townhall_participant']}"


async def invited_cookie(server: ServerProcess, token: str) -> str:
    """Accept an invitation (POST to its link); the ``Cookie`` header with both cookies."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        response = await http.post(f"/invitations/{token}", headers={"Origin": server.origin})
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return "; ".join(
        f"{name}={response.cookies[name]}" for name in ("townhall_staff", "townhall_participant")
    )


async def programme_rooms(server: ServerProcess) -> dict[str, int]:
    """Session slug -> room id, from ``GET /api/events/{slug}/programme``."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        response = await http.get(f"/api/events/{EVENT}/programme")
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return {s["slug"]: s["room"] for s in response.json()["sessions"] if s["room"] is not None}


def lay_own(state: Message, mine: Message) -> Message:
    """A snapshot's ``mine`` over its ``state`` (``layOwn`` in live.js): lists of objects merge
    by ``id``, anything else is replaced."""
    merged = dict(state)
    for key, value in mine.items():
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            items = {item["id"]: item for item in state.get(key, [])}
            items.update({item["id"]: item for item in value})
            merged[key] = [items[k] for k in sorted(items)]
        else:
            merged[key] = value
    return merged


class Client:
    """One WebSocket connection to ``/ws``."""

    _refs = itertools.count(1)

    def __init__(
        self, url: str, *, origin: str | None, cookie: str | None = None, name: str = "client"
    ) -> None:
        self.url = url
        self.origin = origin
        self.cookie = cookie
        self.name = name
        self.headers: dict[str, str] = {}  # more handshake headers (Accept-Language …)
        self.ws: ClientConnection | None = None
        self.messages: list[Message] = []
        self.positions: dict[int, Position] = {}
        self.hello: Message | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._cursor = 0
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, server: ServerProcess, cookie: str | None = None, name: str = "client") -> Client:
        return cls(server.ws_url, origin=server.origin, cookie=cookie, name=name)

    # ---- connection --------------------------------------------------------------------
    async def connect(
        self, *, reader: bool = True, within: float = 5.0, **options: Any
    ) -> Message | None:
        """Open the connection; with ``reader`` (the default) wait for and return ``hello``."""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        headers |= self.headers
        self.ws = await connect(
            self.url,
            origin=self.origin,
            additional_headers=headers,
            open_timeout=within,
            proxy=None,
            **options,
        )
        # Messages of earlier connections stay in ``messages``: a test sees the whole story.
        self._cursor, self.close_code, self.close_reason = len(self.messages), None, None
        if not reader:
            return None
        self.start_reading()
        self.hello = await self.recv_until(lambda m: m["type"] == "hello", within)
        return self.hello

    def start_reading(self) -> None:
        """Read in the background (``connect`` does this unless told not to)."""
        self._reader = asyncio.create_task(self._read(), name=f"reader-{self.name}")

    async def pause_reading(self) -> None:
        """Stop reading: frames pile up in the library's buffer (``max_queue``), then in the
        socket, then on the server."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def close(self) -> None:
        if self.ws is not None:
            await asyncio.wait_for(self.ws.close(), timeout=5)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, timeout=5)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                message = json.loads(frame)
                if message.get("type") == "room.snapshot":
                    # As live.js does: the viewer's own part laid over the shared state.
                    message["state"] = lay_own(message["state"], message.pop("mine", {}))
                self._track(message)
                async with self._arrived:
                    self.messages.append(message)
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        except asyncio.CancelledError:
            return  # paused: the connection is still open
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            async with self._arrived:
                self._arrived.notify_all()

    def _track(self, message: Message) -> None:
        kind, room = message.get("type"), message.get("room")
        if kind in ("room.snapshot", "event"):
            self.positions[room] = (message["epoch"], message["seq"])
        elif kind == "room.resumed":
            self.positions[room] = (message["epoch"], message["from"])

    @property
    def is_open(self) -> bool:
        return self._reader is not None and not self._reader.done()

    # ---- sending -----------------------------------------------------------------------
    async def send(self, payload: Message | str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(payload) if isinstance(payload, dict) else payload)

    async def request(self, kind: str, /, *, within: float = 5.0, **fields: Any) -> Message:
        """Send a command with a fresh ``ref`` (or the ``ref`` given: a resend); its ``reply``
        or ``error``. (``kind`` is positional only: ``floor.request`` has a field of that
        name.)"""
        ref = fields.pop("ref", None) or f"{self.name}-{next(self._refs)}"
        sent_at = len(self.messages)
        await self.send({"type": kind, "ref": ref, **fields})
        return await self.wait_for(
            lambda m: m["type"] in ("reply", "error", "pong") and m.get("ref") == ref,
            within,
            after=sent_at,
        )

    async def join(self, room: int, since: Position | None = None, within: float = 5.0) -> Message:
        """Join a room; the ``room.snapshot`` or ``room.resumed`` it answered with (an
        ``error`` if it refused)."""
        start = len(self.messages)
        fields: dict[str, Any] = {"room": room}
        if since is not None:
            fields["since"] = {"epoch": since[0], "seq": since[1]}
        answer = await self.request("room.join", within=within, **fields)
        if answer["type"] == "error":
            return answer
        return next(
            m
            for m in self.messages[start:]
            if m["type"] in ("room.snapshot", "room.resumed") and m["room"] == room
        )

    async def resume(self, room: int, within: float = 5.0) -> Message:
        """Join with ``since`` = the last position this client saw in the room."""
        return await self.join(room, since=self.positions[room], within=within)

    # ---- receiving ---------------------------------------------------------------------
    async def _wait(self, find: Callable[[], Any], within: float, what: str) -> Any:
        deadline = time.monotonic() + within
        async with self._arrived:
            while True:
                found = find()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or not self.is_open:
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), timeout=left)
                except TimeoutError:
                    pass
        state = "open" if self.is_open else f"closed with {self.close_code} {self.close_reason!r}"
        tail = json.dumps(self.messages[-8:], indent=None)[:3000]
        raise AssertionError(
            f"{self.name}: no {what} within {within}s (connection {state}); last messages: {tail}"
        )

    async def wait_for(
        self, pred: Callable[[Message], bool], within: float = 5.0, *, after: int = 0
    ) -> Message:
        """The first message so far (or still to come) that matches ``pred``; with ``after``,
        only messages from that index of :attr:`messages` on."""
        scanned = after

        def find() -> Message | None:
            nonlocal scanned
            for index in range(scanned, len(self.messages)):
                if pred(self.messages[index]):
                    return self.messages[index]
            scanned = len(self.messages)
            return None

        return await self._wait(find, within, "matching message")

    async def recv_until(self, pred: Callable[[Message], bool], within: float = 5.0) -> Any:
        """The next message after the previous ``recv_until`` that matches ``pred``."""

        def find() -> Message | None:
            for index in range(self._cursor, len(self.messages)):
                if pred(self.messages[index]):
                    self._cursor = index + 1
                    return self.messages[index]
            return None

        return await self._wait(find, within, "matching message")

    async def wait_until(
        self, condition: Callable[[Client], bool], within: float = 5.0, what: str = "condition"
    ) -> None:
        await self._wait(lambda: True if condition(self) else None, within, what)

    async def eventually(self, condition: Callable[[Client], bool], within: float = 5.0) -> bool:
        """Whether ``condition`` comes to hold within ``within`` seconds (for tests that then
        assert on the whole outcome rather than fail at the first wait)."""
        try:
            await self.wait_until(condition, within)
        except AssertionError:
            return False
        return True

    async def closed(self, within: float = 5.0) -> int | None:
        """Wait until the server has closed the connection; its close code."""
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), timeout=within)
            except TimeoutError:
                raise AssertionError(f"{self.name}: still open after {within}s") from None
        return self.close_code

    # ---- what arrived ------------------------------------------------------------------
    def events(self, room: int, name: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages
            if m["type"] == "event" and m["room"] == room and (name is None or m["name"] == name)
        ]

    def seqs(self, room: int) -> list[int]:
        return [m["seq"] for m in self.events(room)]

    def last_seq(self, room: int) -> int | None:
        position = self.positions.get(room)
        return position[1] if position else None

    def of_type(self, kind: str) -> list[Message]:
        return [m for m in self.messages if m["type"] == kind]


async def update_stage(moderator: Client, room: int, count: int, *, tag: str = "talk") -> list[int]:
    """``count`` ``room.update`` commands (new stage URLs), one after the other; the ``seq`` of
    each reply. Fails on the first refusal."""
    seqs = []
    for n in range(count):
        answer = await moderator.request(
            "room.update", room=room, stage_url=f"https://stage.example/{tag}/{n}"
        )
        assert answer["type"] == "reply", answer
        seqs.append(answer["data"]["seq"])
    return seqs


async def ok(client: Client, kind: str, /, **fields: Any) -> dict[str, Any]:
    """A command that must succeed; its reply's data."""
    answer = await client.request(kind, **fields)
    assert answer["type"] == "reply", (client.name, kind, fields, answer)
    return answer["data"]


def refusal(answer: Message) -> dict[str, Any]:
    """An error without its prose and ref: its code and details."""
    assert answer["type"] == "error", answer
    return {k: v for k, v in answer.items() if k not in ("type", "ref", "message")}


def held(client: Client, room: int) -> Message:
    """What ``client`` holds of ``room``: its last snapshot with every event after it applied
    (events it is not sent leave gaps in ``seq``)."""
    snapshots = [m for m in client.messages if m["type"] == "room.snapshot" and m["room"] == room]
    last = snapshots[-1]
    after = client.messages[client.messages.index(last) + 1 :]
    events = [m for m in after if m["type"] == "event" and m["room"] == room]
    return replay(last, events, gaps=True)


def floor_of(client: Client, room: int) -> dict[str, Any]:
    """The floor ``client`` holds in ``room``."""
    return held(client, room)["state"]["floor"]
