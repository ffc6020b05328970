"""``GET /ws``: the one WebSocket endpoint.

Order of business: check the Origin before accepting (CORS does not apply to WebSockets, so
this is what stops cross-site WebSocket hijacking), read the identity from the cookies, say
hello, then read frames: size limit, typed decoding, rate limit, dispatch. Errors become typed
``error`` messages; a client that keeps sending junk is closed with 1008.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from townhall.log_format import CONNECTION_ID
from townhall.metrics import DATABASE_ERRORS, RATE_LIMITED
from townhall.platform.errors import DomainError, RateLimited
from townhall.platform.outage import RETRY_AFTER, database_unavailable, describe

from .commands import NO_REPLY, dispatch
from .connection import Connection
from .hub import Hub
from .identity import read_identity
from .messages import (
    CLOSE_POLICY,
    Ping,
    ProtocolError,
    decode_command,
    error,
    hello,
    reply,
)
from .rate_limits import participant_commands, participant_key
from .transport import LANGUAGE

log = logging.getLogger(__name__)

JUNK_WINDOW = 10.0


async def websocket_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    settings = hub.settings
    origin = websocket.headers.get("origin")
    if origin not in settings.origins:
        log.info("refused WebSocket from origin %r", origin)
        await websocket.close(code=CLOSE_POLICY)
        return
    if hub.draining:
        # Stopping: refuse the handshake (503), so a proxy retries it on another process.
        await websocket.send_denial_response(
            Response("stopping: connect again", status_code=503, headers={"Retry-After": "1"})
        )
        return
    identity = read_identity(websocket.cookies, settings.secret_key)
    await websocket.accept()
    connection = Connection(
        websocket,
        budget=settings.ws_send_buffer,
        rate=settings.ws_commands_per_second,
        burst=settings.ws_command_burst,
        identity=identity,
        language=websocket.scope.get(LANGUAGE),
    )
    CONNECTION_ID.set(connection.id)  # on every log line of this connection's task
    connection.start(direct=settings.ws_direct_writes)
    hub.register(connection)
    connection.send(
        hello(connection.id, {"events": sorted(identity.participants)}, hub.clock.now())
    )
    junk: deque[float] = deque()
    who = participant_key(identity.participants)
    try:
        while not connection.closing:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text")
            if frame is None:
                frame = (message.get("bytes") or b"").decode("utf-8", errors="replace")
            try:
                if len(frame.encode()) > settings.ws_max_message_bytes:
                    raise ProtocolError(
                        "message.too_large",
                        f"Messages are limited to {settings.ws_max_message_bytes} bytes.",
                    )
                command = decode_command(frame)
            except ProtocolError as exc:
                connection.send(error(exc.ref, exc.code, exc.message))
                now = time.monotonic()
                junk.append(now)
                while junk and junk[0] < now - JUNK_WINDOW:
                    junk.popleft()
                if len(junk) >= settings.ws_junk_limit:
                    log.info("closing with %s: too many invalid messages", CLOSE_POLICY)
                    connection.close(CLOSE_POLICY, "too many invalid messages")
                continue
            wait = connection.bucket.take()
            if not wait and who is not None and not isinstance(command, Ping):
                wait = await participant_commands(
                    hub.broker.hit,
                    hub.channels.rate("commands", who),
                    rate=settings.ws_commands_per_second,
                    burst=settings.ws_command_burst,
                )
            if wait:
                exc = RateLimited("too many messages; slow down", retry_after=round(wait, 3))
                RATE_LIMITED.inc(1, exc.code)
                connection.send(
                    error(command.ref, exc.code, exc.message, retry_after=exc.retry_after)
                )
                continue
            try:
                data = await dispatch(hub, connection, command)
            except DomainError as exc:
                if isinstance(exc, RateLimited):
                    RATE_LIMITED.inc(1, exc.code)
                connection.send(error(command.ref, exc.code, exc.message, **exc.details))
                continue
            except Exception as exc:
                if database_unavailable(exc):  # an outage, not a bug: the client retries
                    DATABASE_ERRORS.inc(1, "websocket")
                    log.warning(
                        "%s: database unavailable: %s", command.__class__.__name__, describe(exc)
                    )
                    connection.send(
                        error(
                            command.ref,
                            "unavailable",
                            "The service is briefly unavailable; retry shortly.",
                            retry_after=RETRY_AFTER,
                        )
                    )
                    continue
                log.exception("command %s failed", type(command).__name__)
                connection.send(error(command.ref, "internal", "Something went wrong on our side."))
                continue
            if data is not NO_REPLY:
                connection.send(reply(command.ref, data))
    except WebSocketDisconnect:
        pass
    finally:
        await hub.unregister(connection)
        await connection.stop()
