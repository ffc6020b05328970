"""One WebSocket connection: a send queue drained by its own writer task.

Fan-out only ever puts pre-encoded frames on the queue (never awaits a socket), so one slow
client cannot hold up a room. Live fan-out may fill the queue up to ``queue_size`` frames: a
client that falls that far behind is closed with :data:`CLOSE_TOO_SLOW`, reconnects and
resumes from its last ``seq``. A resume or a gap repair is one bounded burst (at most the
replay window) and may go past the limit, or a client could never catch up.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextlib import suppress
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from townhall.platform.viewers import Viewer

from .messages import CLOSE_TOO_SLOW, encoder

log = logging.getLogger(__name__)


class TokenBucket:
    """Per-connection command rate: ``rate`` per second with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> float:
        """0 if a token was taken, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        *,
        queue_size: int,
        rate: float,
        burst: int,
        identity: Any = None,
    ) -> None:
        self.id = secrets.token_urlsafe(9)
        self.websocket = websocket
        self.identity = identity  # what the cookies said (see identity.py)
        self.viewers: dict[int, Viewer] = {}  # room id -> who this connection is in that room
        self.unlisted: set[int] = set()  # rooms it watches without counting in presence
        self.queue: asyncio.Queue[tuple[str, bool] | None] = asyncio.Queue()
        self.queue_size = queue_size
        self.burst_pending = 0  # catch-up frames queued; they do not count against the limit
        self.bucket = TokenBucket(rate, burst)
        self.closing = False
        self.close_code: int | None = None
        self.sent = 0
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.id}")

    def send(self, message: dict[str, Any] | str, *, burst: bool = False) -> bool:
        """Queue a message without waiting; a full queue closes the connection as too slow.

        ``burst``: part of a bounded catch-up (resume, repair) that may exceed the limit."""
        if self.closing:
            return False
        if not burst and self.queue.qsize() - self.burst_pending >= self.queue_size:
            log.info("connection %s fell behind; closing with %s", self.id, CLOSE_TOO_SLOW)
            self.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume")
            return False
        frame = message if isinstance(message, str) else encoder.encode(message).decode()
        self.burst_pending += burst
        self.queue.put_nowait((frame, burst))
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Close after what is already queued has been written."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if code == CLOSE_TOO_SLOW:
            # Drop the backlog: the client resumes from the log anyway.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.burst_pending = 0
        self.queue.put_nowait(None)
        if self._writer is not None:
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), timeout=5)
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            with suppress(Exception):
                await self.websocket.close(code, reason[:120])

    async def _write(self) -> None:
        try:
            while (item := await self.queue.get()) is not None:
                frame, burst = item
                self.burst_pending -= burst
                await self.websocket.send_text(frame)
                self.sent += 1
        except Exception:
            self.closing = True

    async def stop(self) -> None:
        """End the connection's tasks, letting a close already under way finish first."""
        if self._closer is not None:
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._closer), timeout=6)
        self.closing = True
        if self._writer is not None:
            self._writer.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._writer
