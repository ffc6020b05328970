"""One WebSocket connection: who it is in each room, its command rate, its send budget.

Everything the server sends a connection — live events, resume and repair bursts, snapshots,
replies — goes through :meth:`Connection.send` and counts against one budget of bytes not yet
taken by the kernel (``TOWNHALL_WS_SEND_BUFFER``). A message that would take the connection
past it closes the connection with :data:`CLOSE_TOO_SLOW`; the client reconnects and resumes
from its last ``seq``. A single message larger than the budget still goes to a connection
that holds nothing else, so the bound per connection is the budget plus one message. Sending
never awaits: fan-out writes to every socket in one pass (see :mod:`.transport`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextlib import suppress
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketState

from townhall.metrics import SLOW_CONSUMER_CLOSES
from townhall.platform.viewers import Viewer

from .frames import Outbound
from .messages import CLOSE_TOO_SLOW, encoder
from .transport import DirectWriter, SocketWriter, writer_for

log = logging.getLogger(__name__)


class TokenBucket:
    """Per-connection command rate: ``rate`` per second with bursts up to ``burst``."""

    __slots__ = ("burst", "rate", "tokens", "updated")

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


def outbound(message: Outbound | msgspec.Struct | dict[str, Any]) -> Outbound:
    return message if isinstance(message, Outbound) else Outbound(encoder.encode(message))


class Connection:
    __slots__ = (
        "_closer",
        "_writer",
        "bucket",
        "budget",
        "close_code",
        "closing",
        "id",
        "identity",
        "language",
        "sent",
        "unlisted",
        "viewers",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        *,
        budget: int,
        rate: float,
        burst: int,
        identity: Any = None,
        language: str | None = None,
    ) -> None:
        self.id = secrets.token_urlsafe(9)
        # The interface language of the page that opened it (cookie, else Accept-Language, as
        # the web layer chose it for the handshake): a question sent without one is asked in it.
        self.language = language
        self.websocket = websocket
        self.identity = identity  # what the cookies said (see identity.py)
        self.viewers: dict[int, Viewer] = {}  # room id -> who this connection is in that room
        self.unlisted: set[int] = set()  # rooms it watches without counting in presence
        self.budget = budget
        self.bucket = TokenBucket(rate, burst)
        self.closing = False
        self.close_code: int | None = None
        self.sent = 0
        self._writer: SocketWriter | None = None
        self._closer: asyncio.Task[None] | None = None

    def start(self, *, direct: bool = True) -> None:
        """Once the WebSocket is accepted: choose how bytes reach it."""
        self._writer = writer_for(self.websocket, direct=direct)

    @property
    def direct(self) -> bool:
        """Whether bytes go straight to the transport (see :mod:`.transport`)."""
        return isinstance(self._writer, DirectWriter)

    def pending(self) -> int:
        """Bytes sent to this connection that the kernel has not taken yet."""
        return self._writer.pending() if self._writer is not None else 0

    def send(self, message: Outbound | msgspec.Struct | dict[str, Any]) -> bool:
        """Write without waiting; past the budget, close the connection as too slow."""
        if self.closing or self._writer is None:
            return False
        out = outbound(message)
        pending = self._writer.pending()
        if pending and pending + len(out) > self.budget:
            log.info("connection %s fell behind; closing with %s", self.id, CLOSE_TOO_SLOW)
            SLOW_CONSUMER_CLOSES.inc()
            self.close(CLOSE_TOO_SLOW, "too slow: reconnect and resume")
            return False
        self._writer.write(out)
        self.sent += 1
        return True

    def close(self, code: int, reason: str = "") -> None:
        """Close after what is already written; nothing more is sent from here on."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        # A queued writer sends what came before the close first (a direct one already has).
        for _ in range(50):
            if isinstance(self._writer, DirectWriter) or not self.pending():
                break
            await asyncio.sleep(0.1)
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            with suppress(Exception):
                await self.websocket.close(code, reason[:120])

    async def stop(self) -> None:
        """End the connection's work, letting a close already under way finish first."""
        if self._closer is not None:
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._closer), timeout=6)
        self.closing = True
        if self._writer is not None:
            self._writer.stop()
