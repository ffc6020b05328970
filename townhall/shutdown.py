"""A graceful stop that closes WebSockets with the documented code, 1001 ("going away").

Uvicorn's own shutdown, on SIGTERM or SIGINT, stops listening and then closes every open
WebSocket itself with 1012 ("service restart") *before* the application's lifespan shutdown
runs, so closes made there come too late. :func:`close_sockets_first` puts a step in front:
the signal first closes every connection with 1001 (after what is queued for it) and waits up to
``grace`` seconds for the closing handshakes, then hands the signal to uvicorn, which stops as
before. A second signal during that wait goes to uvicorn at once (a forced quit stays possible).

Only ``townhall serve`` installs it (through :func:`townhall.app.app_from_environment`): signal
handlers belong to the process that runs the server, not to tests that build the app in-process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from townhall.realtime.hub import Hub
from townhall.realtime.messages import CLOSE_GOING_AWAY

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL = 0.05


@contextmanager
def close_sockets_first(hub: Hub, *, grace: float = 5.0) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; nothing to put in front of
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    draining: list[asyncio.Task[None]] = []  # holds the drain task, and says one has begun

    def hand_on(sig: int, frame: FrameType | None) -> None:
        handler = previous[signal.Signals(sig)]
        if callable(handler):
            handler(sig, frame)
        else:  # SIG_DFL or SIG_IGN: as if this step were not here
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    async def drain_then_hand_on(sig: int, frame: FrameType | None) -> None:
        try:
            await drain(hub, grace)
        finally:
            hand_on(sig, frame)

    def start_draining(sig: int, frame: FrameType | None) -> None:
        draining.append(loop.create_task(drain_then_hand_on(sig, frame)))

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal signalled
        if signalled:  # a second signal: let uvicorn force the exit
            hand_on(sig, frame)
            return
        signalled = True
        log.info("stopping: closing WebSockets with %s first", CLOSE_GOING_AWAY)
        loop.call_soon_threadsafe(start_draining, sig, frame)

    signalled = False

    for sig in SIGNALS:
        signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def drain(hub: Hub, grace: float) -> None:
    """Close every connection with 1001 until none is left or ``grace`` ends; handshakes that
    arrive meanwhile are refused with 503 (and any that slipped in are closed too)."""
    deadline = time.monotonic() + grace
    hub.draining = True  # new WebSockets get 503 (a proxy tries another process); /readyz 503
    while connections := hub.connections_where(lambda _connection: True):
        for connection in connections:
            connection.close(CLOSE_GOING_AWAY, "server restarting: reconnect")
        if time.monotonic() > deadline:
            log.info("%d connection(s) still closing after %.0f s", len(connections), grace)
            return
        await asyncio.sleep(POLL)
