"""The peer for the benchmark: Node socket.io + @socket.io/redis-adapter, two processes.

Same shape as Townhall's run: process A holds the audience sockets (``socket.join(room)``),
process B the moderator, whose ``action`` event B broadcasts with ``io.to(room).emit`` through
the Redis adapter to A's sockets. ``bench/peer/`` holds the server and its ``package.json``;
its ``node_modules`` is installed by :func:`ensure_installed` the first time the benchmark
needs it (never by ``make test``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
from _townhall import REDIS_URL, SERVER_CORE
from support.servers import POLL, _Process, free_port
from websockets.asyncio.client import ClientConnection, connect

PEER = Path(__file__).resolve().parent / "peer"
ROOM = "bench"


def ensure_installed() -> None:
    """``npm ci`` into ``bench/peer/node_modules`` unless it is there already."""
    if (PEER / "node_modules" / "socket.io" / "package.json").exists() and (
        PEER / "node_modules" / "@socket.io" / "redis-adapter" / "package.json"
    ).exists():
        return
    print("bench: installing the Node socket.io peer (npm ci in bench/peer)", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(PEER)],
        check=True,
        timeout=600,
    )


class NodeServer(_Process):
    def __init__(self, *, name: str, workdir: Path, prefix: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "node.log"
        self.prefix = prefix

    def start(self) -> None:
        env = dict(os.environ, PORT=str(self.port), REDIS_URL=REDIS_URL, PREFIX=self.prefix)
        argv = ["taskset", "-c", SERVER_CORE, "node", str(PEER / "server.js")]
        self._spawn(argv, env=env, cwd=self.workdir)

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0, trust_env=False) as http:
            response = await http.get("/healthz")
        response.raise_for_status()
        return response.json()

    async def ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.running:
                raise self._dead("exited before answering /healthz")
            try:
                await self.health()
                return
            except (httpx.TransportError, httpx.HTTPStatusError):
                await asyncio.sleep(POLL)
        raise self._dead(f"did not answer /healthz within {within}s")


class PeerTarget:
    """One run of the peer: processes A and B, the moderator on B."""

    name = "socket.io"
    dialect = "socketio"
    path = "/socket.io/?EIO=4&transport=websocket"
    room = ROOM

    def __init__(self, workdir: Path) -> None:
        prefix = f"bench-peer-{uuid.uuid4().hex[:12]}"
        self.a = NodeServer(name=f"{prefix}-a", workdir=workdir, prefix=prefix)
        self.b = NodeServer(name=f"{prefix}-b", workdir=workdir, prefix=prefix)
        self.moderator: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.a.start()
        self.b.start()
        await asyncio.gather(self.a.ready(), self.b.ready())
        self.moderator = await connect(
            f"ws://127.0.0.1:{self.b.port}{self.path}", proxy=None, open_timeout=10
        )
        opening = await asyncio.wait_for(self.moderator.recv(), 10)
        assert str(opening).startswith("0{"), opening
        await self.moderator.send("40")
        connected = await asyncio.wait_for(self.moderator.recv(), 10)
        assert str(connected).startswith("40"), connected
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        """Answer Engine.IO pings so the moderator stays connected."""
        assert self.moderator is not None
        with suppress(Exception):
            async for frame in self.moderator:
                if frame == "2":
                    await self.moderator.send("3")

    @property
    def a_pid(self) -> int:
        assert self.a.popen is not None
        return self.a.popen.pid

    @property
    def b_pid(self) -> int:
        assert self.b.popen is not None
        return self.b.popen.pid

    def endpoint(self) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.a.port,
            "path": self.path,
            "origin": self.a.url,
            "room": self.room,
        }

    def cookies(self, first: int, count: int) -> list[str | None]:
        return [None] * count

    async def act(self, n: int, payload_bytes: int) -> float:
        """Emit ``action`` with ``seq`` n, padded so the clients' frame is ``payload_bytes``."""
        assert self.moderator is not None
        body = {"seq": n, "pad": ""}
        bare = len(f'42["action",{json.dumps(body, separators=(",", ":"))}]')
        body["pad"] = "x" * max(0, payload_bytes - bare)
        frame = "42" + json.dumps(["action", self.room, body], separators=(",", ":"))
        sent = time.monotonic()
        await self.moderator.send(frame)
        return sent

    async def seq_of(self, n: int, within: float = 30.0) -> int:
        return n

    async def health(self) -> dict[str, Any]:
        return await self.a.health()

    async def stop(self) -> None:
        if self.moderator is not None:
            with suppress(Exception):
                await asyncio.wait_for(self.moderator.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with suppress(BaseException):
                await self._reader
        for server in (self.a, self.b):
            await server.stop()

    def log_tail(self) -> str:
        return "\n".join(f"-- {s.name}\n{s.log_tail(20)}" for s in (self.a, self.b))
