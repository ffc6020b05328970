"""A graceful stop (SIGTERM, as an orchestrator sends it) closes every WebSocket with 1001,
the code docs/protocol.md documents and the browser client reconnects on, after what was
already queued for it; the process then exits by itself."""

from __future__ import annotations

import signal

import pytest
from support.stack import Stack
from support.summit import WORKSHOP_1


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
