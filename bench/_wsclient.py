"""The load generator's WebSocket clients: just enough of RFC 6455, and two dialects.

Plain ``asyncio.Protocol`` clients: the upgrade, unmasked server frames (fragments joined),
masked client frames, ping and close. A live frame is never JSON-decoded: an event's ``seq``
is found with a byte search and handed, with the instant the bytes arrived
(``time.monotonic()``, CLOCK_MONOTONIC, comparable across processes), to the worker that keeps
what every client of the process saw (``_loadgen.Worker``). Two dialects:

- :class:`TownhallClient`: ``/ws`` with a participant cookie; on ``hello`` it sends
  ``room.join`` with ``ref`` ``"j"``; events are ``{"type":"event",…,"seq":N,…}``; vote replies
  carry ``ref`` ``"v<index>"``.
- :class:`SocketIOClient`: Engine.IO v4 / Socket.IO v5 over a raw WebSocket: ``0{…}`` open,
  send ``40``, ``40{…}`` connected, send ``420["join",…]``, ``430[…]`` the join's ack, ``2``
  ping answered ``3``, events ``42["action",{"seq":N,…}]``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from typing import Protocol

SEQ = re.compile(rb'"seq":(\d+)')
REF = re.compile(rb'"ref":"([^"]*)"')


class Sink(Protocol):
    """What clients report to (``_loadgen.Worker``)."""

    disorder: int
    lost_connections: int

    def arrive(self, seq: int, at: float, payload: bytes) -> None: ...
    def note_error(self, payload: bytes) -> None: ...
    def vote_answered(self, index: int, payload: bytes, at: float) -> None: ...


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (RFC 6455 §5.3: every client frame is masked)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    if not n:
        return head + key
    stream = (key * (n // 4 + 1))[:n]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")
    return head + key + masked.to_bytes(n, "big")


class Client(asyncio.Protocol):
    """One WebSocket connection. ``worker`` keeps what every client of the process saw."""

    def __init__(self, worker: Sink, request: bytes) -> None:
        self.worker = worker
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.upgraded = False
        self.joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_seq = 0
        self.open = False

    # ---- transport ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.open = True
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open and self.joined.done():
            self.worker.lost_connections += 1
        self.open = False
        self.fail("connection closed before joining")

    def fail(self, why: str) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(why))

    def send_text(self, text: bytes) -> None:
        if self.transport is not None and self.open:
            self.transport.write(client_frame(0x1, text))

    def close(self) -> None:
        if not self.joined.done():
            self.joined.cancel()
        if self.transport is not None and self.open:
            self.transport.write(client_frame(0x8, (1000).to_bytes(2, "big")))
            self.open = False
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        at = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.fail(bytes(buffer[: min(end, 200)]).decode(errors="replace"))
                self.transport.close()  # type: ignore[union-attr]
                return
            del buffer[: end + 4]
            self.upgraded = True
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            first, length, head = buffer[pos], buffer[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buffer[pos + head : pos + head + length])
            pos += head + length
            opcode = first & 0x0F
            if opcode in (0x0, 0x1, 0x2):
                if not first & 0x80:  # a fragment: wait for the final one
                    self.fragments.append(payload)
                    continue
                if self.fragments:
                    payload = b"".join([*self.fragments, payload])
                    self.fragments.clear()
                self.on_text(payload, at)
            elif opcode == 0x9:
                self.transport.write(client_frame(0xA, payload))  # type: ignore[union-attr]
            elif opcode == 0x8:
                self.open = False
                self.transport.close()  # type: ignore[union-attr]
                return
        del buffer[:pos]

    # ---- what arrives -----------------------------------------------------------------
    def on_event(self, payload: bytes, at: float) -> None:
        seq = int(SEQ.search(payload).group(1))  # type: ignore[union-attr]
        if seq <= self.last_seq:
            self.worker.disorder += 1
        self.last_seq = seq
        self.worker.arrive(seq, at, payload)

    def on_text(self, payload: bytes, at: float) -> None:
        raise NotImplementedError


class TownhallClient(Client):
    def __init__(self, worker: Sink, request: bytes, room: int) -> None:
        super().__init__(worker, request)
        self.room = room

    def on_text(self, payload: bytes, at: float) -> None:
        if b'"type":"event"' in payload:
            self.on_event(payload, at)
        elif b'"type":"reply"' in payload or b'"type":"error"' in payload:
            ref = REF.search(payload)
            name = ref.group(1) if ref else b""
            if name == b"j":
                if b'"type":"reply"' in payload:
                    self.joined.set_result(None)
                else:
                    self.fail(payload[:300].decode(errors="replace"))
            elif name.startswith(b"v"):
                self.worker.vote_answered(int(name[1:]), payload, at)
            elif b'"type":"error"' in payload:
                self.worker.note_error(payload)
        elif b'"type":"hello"' in payload:
            self.send_text(b'{"type":"room.join","ref":"j","room":%d}' % self.room)
        elif b'"type":"room.snapshot"' in payload:
            found = SEQ.search(payload)
            self.last_seq = int(found.group(1)) if found else self.last_seq


class SocketIOClient(Client):
    def __init__(self, worker: Sink, request: bytes, room: str) -> None:
        super().__init__(worker, request)
        self.join = b'420["join",%s]' % json.dumps(room).encode()

    def on_text(self, payload: bytes, at: float) -> None:
        kind = payload[:2]
        if kind == b"42":
            self.on_event(payload, at)
        elif payload == b"2":
            self.send_text(b"3")
        elif kind == b"43":
            if not self.joined.done():
                self.joined.set_result(None)
        elif kind == b"40":
            self.send_text(self.join)
        elif kind == b"44":
            self.fail(payload[:300].decode(errors="replace"))
        elif payload[:1] == b"0":
            self.send_text(b"40")


def upgrade_request(host: str, port: int, path: str, origin: str, cookie: str | None) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
