"""Fan-out smoke figure: one embedded Townhall process (SQLite, in-process broker), 1,000 local
WebSocket clients in one room, and a moderator changing the room.

For each round it times, from the moment the moderator's ``room.update`` is sent, when every
client receives the resulting ``event``: the time to the last client, and the per-client
latencies (p50, p99, max over all rounds). The clients run in this one Python process, on the
same 2 cores as the server, so the figures include their own decoding. Prints figures; it is
not a test.

    .venv/bin/python bench/fanout_smoke.py [--clients 1000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.clients import Client, invited_cookie, programme_rooms  # noqa: E402
from support.servers import ServerProcess  # noqa: E402
from support.summit import MORNING, WORKSHOP_1, SummitDatabase  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from townhall.migrate import upgrade  # noqa: E402

SECRET_KEY = "fanout-smoke-secret-key-0123456789"
CONNECT_AT_ONCE = 50
TIMEOUT = 30.0


class Listener:
    """A bare client: joins the room, then notes when each event ``seq`` arrives."""

    def __init__(self, url: str, origin: str, cookie: str) -> None:
        self.url, self.origin, self.cookie = url, origin, cookie
        self.arrivals: dict[int, float] = {}
        self.joined = asyncio.Event()
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, room: int) -> None:
        self.ws = await connect(
            self.url,
            origin=self.origin,
            additional_headers={"Cookie": self.cookie},
            proxy=None,
            open_timeout=TIMEOUT,
        )
        self.task = asyncio.create_task(self.read())
        await self.ws.send(json.dumps({"type": "room.join", "ref": "join", "room": room}))
        await asyncio.wait_for(self.joined.wait(), TIMEOUT)

    async def read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            at = time.perf_counter()
            message = json.loads(frame)
            if message["type"] == "event":
                self.arrivals[message["seq"]] = at
            elif message["type"] == "reply" and message["ref"] == "join":
                self.joined.set()
            elif message["type"] == "error":
                raise RuntimeError(f"refused: {message}")


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(clients: int, rounds: int, workdir: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await asyncio.to_thread(upgrade, database_url)
    db = SummitDatabase(database_url)
    await db.load()
    cookies = await db.audience_cookies(SECRET_KEY, clients, now=datetime.now(UTC))
    token = await db.invitation_token(
        SECRET_KEY, role="moderator", session=WORKSHOP_1, label="Bench"
    )
    server = ServerProcess(
        name="bench",
        workdir=workdir,
        database_url=database_url,
        secret_key=SECRET_KEY,
        now=MORNING,
        settings={"TOWNHALL_LOG_LEVEL": "warning"},
    )
    server.start()
    listeners: list[Listener] = []
    try:
        await server.ready()
        room = (await programme_rooms(server))[WORKSHOP_1]
        moderator = Client.of(server, await invited_cookie(server, token), "moderator")
        await moderator.connect()
        await moderator.join(room)

        assert server.popen is not None
        await asyncio.sleep(1.0)
        rss_before = rss_kib(server.popen.pid)
        started = time.perf_counter()
        listeners = [Listener(server.ws_url, server.origin, cookie) for cookie in cookies]
        for first in range(0, clients, CONNECT_AT_ONCE):
            await asyncio.gather(
                *(listener.open(room) for listener in listeners[first : first + CONNECT_AT_ONCE])
            )
        connected = time.perf_counter() - started
        await asyncio.sleep(2.0)  # let the presence pushes of all those joins settle
        rss_after = rss_kib(server.popen.pid)

        to_last: list[float] = []
        latencies: list[float] = []
        for n in range(rounds):
            sent = time.perf_counter()
            answer = await moderator.request(
                "room.update",
                room=room,
                stage_url=f"https://stage.example/round/{n}",
                within=TIMEOUT,
            )
            assert answer["type"] == "reply", answer
            seq = answer["data"]["seq"]
            deadline = sent + TIMEOUT
            while any(seq not in listener.arrivals for listener in listeners):
                assert time.perf_counter() < deadline, f"round {n}: not every client got seq {seq}"
                await asyncio.sleep(0.002)
            round_latencies = [listener.arrivals[seq] - sent for listener in listeners]
            to_last.append(max(round_latencies))
            latencies.extend(round_latencies)
            await asyncio.sleep(0.5)

        ms = 1000
        print(f"fan-out smoke: {clients} WebSocket clients in one room, one embedded process")
        print(f"  connect + join {clients} clients: {connected:.2f} s")
        print(
            f"  server RSS: {rss_before / 1024:.1f} MiB idle, {rss_after / 1024:.1f} MiB with"
            f" {clients} connections held:"
            f" {(rss_after - rss_before) / clients:.1f} KiB per connection"
        )
        print(
            "  command -> last client, per round (ms): "
            + ", ".join(f"{t * ms:.0f}" for t in to_last)
        )
        median = statistics.median(to_last) * ms
        print(f"  command -> last client, median of {rounds} rounds: {median:.0f} ms")
        p50, p99 = percentile(latencies, 0.5) * ms, percentile(latencies, 0.99) * ms
        print(
            f"  per-client latency over {len(latencies)} deliveries: p50 {p50:.0f} ms,"
            f" p99 {p99:.0f} ms, max {max(latencies) * ms:.0f} ms"
        )
        await moderator.close()
    finally:
        for listener in listeners:
            if listener.ws is not None:
                await listener.ws.close()
        await server.stop()
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * args.clients + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # the server inherits it too
    workdir = Path(tempfile.mkdtemp(prefix="townhall-fanout-"))
    try:
        asyncio.run(run(args.clients, args.rounds, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
