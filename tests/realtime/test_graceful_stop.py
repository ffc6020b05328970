"""A graceful stop (SIGTERM, as an orchestrator sends it) closes every WebSocket with 1001,
the code docs/protocol.md documents and the browser client reconnects on, after what was
already queued for it; the process then exits by itself."""

from __future__ import annotations

import signal
from datetime import UTC, datetime

import httpx
import pytest
from support.stack import Stack
from support.summit import WORKSHOP_1

from townhall.app import create_app
from townhall.platform.clock import ManualClock
from townhall.settings import Settings


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_sigterm_closes_websockets_with_1001(production: Stack, workers: str) -> None:
    server = production.server("a", settings={"TOWNHALL_WORKERS": workers})
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    watching = [await production.audience(server, f"Viewer {n}") for n in range(3)]
    idle = await production.audience(server, "Idle Ida")
    for client in watching:
        assert (await client.join(room))["type"] == "room.snapshot"

    exit_status = await server.stop(within=30)
    codes = [await client.closed(within=10) for client in [*watching, idle]]

    assert codes == [1001, 1001, 1001, 1001]
    # Uvicorn exits 0 (a supervisor of workers) or ends by the signal it re-raises; never
    # killed (-9) for outliving the 30 s the test grants.
    assert exit_status in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log()


async def test_a_stopping_process_refuses_new_websockets_with_503(sqlite_database_url) -> None:
    # While it closes its sockets, a stopping process answers new handshakes 503 (a proxy then
    # tries another process) and /readyz 503, rather than accept sockets it is about to close.
    settings = Settings(
        database_url=sqlite_database_url, public_url="http://testserver", secret_key="s" * 32
    )
    app = create_app(settings, clock=ManualClock(datetime(2021, 12, 8, 12, 50, tzinfo=UTC)))
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}},
    }
    async with app.router.lifespan_context(app):
        app.state.hub.draining = True
        await app(scope, receive, send)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            ready = await http.get("/readyz")

    assert [(m["type"], m.get("status")) for m in sent] == [
        ("websocket.http.response.start", 503),
        ("websocket.http.response.body", None),
    ]
    assert (ready.status_code, ready.json()["checks"]["process"]) == (
        503,
        {"ok": False, "error": "stopping"},
    )
