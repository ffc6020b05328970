"""How bytes reach a socket: written straight to the transport, or through the ASGI ``send``.

Fan-out writes the same framed bytes to thousands of sockets. Through ASGI each write is a
coroutine per socket (Starlette's state checks, the server's ``send``, which frames the text
again); uvicorn's ``websockets-sansio`` protocol owns an asyncio transport that takes the
bytes directly, as the ``websockets`` library's own ``broadcast()`` does. So when the socket
is served by that protocol with no extension negotiated (no compression: the frame bytes are
the same for every client), :class:`DirectWriter` writes to the transport in one call and
asks the transport how much it still holds. Anything else gets :class:`QueuedWriter`: the
same byte accounting in front of one writer task that awaits ``send``.

The ASGI ``send`` uvicorn hands the application is a bound method of its protocol, but
Starlette's exception middleware wraps it before the endpoint sees it; :class:`WebSocketLane`,
the outermost middleware, keeps the unwrapped one in the scope.

A WebSocket lives as long as its connection, and every middleware between the server and the
endpoint keeps a suspended coroutine frame for all that time: per socket, for hours. The
middleware acts on HTTP (security headers, CSRF, language, request ids); the one check a
WebSocket handshake needs from it, the host, :class:`WebSocketLane` makes itself, then calls the
endpoint directly. The endpoint checks the Origin. The handshake's interface language (chosen by
the web layer's rule, handed in by the app) goes into the scope: questions sent without one are
asked in it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.protocol import State

from .frames import Outbound

RAW_SEND = "townhall.raw_send"
LANGUAGE = "townhall.language"  # the handshake's interface language ("en", "fr", "tr")


Endpoint = Callable[[WebSocket], Awaitable[None]]


class WebSocketLane:
    """ASGI middleware, outermost: remember the server's own ``send`` of a WebSocket in its
    scope, and take ``path`` straight to ``endpoint`` when the Host is allowed (anything else
    goes down the stack, whose host check refuses it)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        endpoint: Endpoint | None = None,
        path: str = "/ws",
        allowed_hosts: Sequence[str] = ("*",),
        language: Callable[[Scope], str] | None = None,
    ) -> None:
        self.app = app
        self.language = language
        self.endpoint = endpoint
        self.path = path
        self.any_host = "*" in allowed_hosts
        self.hosts = frozenset(h for h in allowed_hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in allowed_hosts if h.startswith("*."))

    def host_allowed(self, scope: Scope) -> bool:
        if self.any_host:
            return True
        host = Headers(scope=scope).get("host", "").split(":")[0]
        return host in self.hosts or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
            if (
                self.endpoint is not None
                and scope["path"] == self.path
                and self.host_allowed(scope)
            ):
                if self.language is not None:
                    scope[LANGUAGE] = self.language(scope)
                await self.endpoint(WebSocket(scope, receive, send))
                return
        await self.app(scope, receive, send)


class SocketWriter(Protocol):
    def write(self, message: Outbound) -> None: ...

    def pending(self) -> int:
        """Bytes accepted for this socket and not yet handed to the kernel."""
        ...

    def stop(self) -> None: ...


class DirectWriter:
    __slots__ = ("_conn", "_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._conn = protocol.conn
        self._transport = protocol.transport

    def write(self, message: Outbound) -> None:
        # No data frame after a close frame, in either direction.
        if self._protocol.close_sent or self._conn.state is not State.OPEN:
            return
        if not self._transport.is_closing():
            self._transport.write(message.wire)

    def pending(self) -> int:
        return self._transport.get_write_buffer_size()

    def stop(self) -> None:
        pass


class QueuedWriter:
    """One task per socket awaiting the ASGI ``send``; bytes counted until they are sent."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._queue: deque[Outbound] = deque()
        self._bytes = 0
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    def write(self, message: Outbound) -> None:
        self._queue.append(message)
        self._bytes += len(message)
        self._wake.set()

    def pending(self) -> int:
        return self._bytes

    def stop(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    message = self._queue.popleft()
                    self._bytes -= len(message)
                    await self._websocket.send_text(message.payload.decode())


def writer_for(websocket: WebSocket, *, direct: bool = True) -> SocketWriter:
    protocol = getattr(websocket.scope.get(RAW_SEND), "__self__", None)
    conn = getattr(protocol, "conn", None)
    if (
        direct
        and conn is not None
        and getattr(protocol, "transport", None) is not None
        and hasattr(protocol, "close_sent")
        and not getattr(conn, "extensions", None)
    ):
        return DirectWriter(protocol)
    return QueuedWriter(websocket)
