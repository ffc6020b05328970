"""The load generator: lean WebSocket clients (``_wsclient.py``) in worker processes, pinned
to their own core.

Each worker runs one uvloop event loop of clients and keeps what they saw: per event ``seq``
an array of arrival instants, the event's name and frame size, and the decoded counts of
``question.votes_changed`` (once per ``seq`` per worker, not per frame). The orchestrator
(``bench/fanout.py``) drives workers through :class:`WorkerHandle`: one command at a time over
a pipe, each answered with plain data.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import resource
import time
from array import array
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any

from _wsclient import Client, SocketIOClient, TownhallClient, upgrade_request
from support.servers import cpu_seconds

NAME = re.compile(rb'"name":"([^"]+)"')
VOTE_NAME = "question.votes_changed"


class Worker:
    """The clients of one process, and what they saw."""

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.arrivals: dict[int, array] = {}
        self.names: dict[int, str] = {}
        self.sizes: dict[int, int] = {}
        self.vote_data: dict[int, dict[str, int]] = {}
        self.disorder = 0
        self.lost_connections = 0
        self.errors: dict[str, int] = {}
        self.vote_index = 0
        self.votes_sent: dict[int, tuple[int, float]] = {}
        self.votes_done: dict[int, tuple[float, int, str | None]] = {}

    def arrive(self, seq: int, at: float, payload: bytes) -> None:
        times = self.arrivals.get(seq)
        if times is None:
            times = self.arrivals[seq] = array("d")
            name = NAME.search(payload)
            self.names[seq] = name.group(1).decode() if name else "action"
            self.sizes[seq] = len(payload)
            if self.names[seq] == VOTE_NAME:
                self.vote_data[seq] = json.loads(payload)["data"]["votes"]
        times.append(at)

    def note_error(self, payload: bytes) -> None:
        code = re.search(rb'"code":"([^"]+)"', payload)
        key = code.group(1).decode() if code else payload[:80].decode(errors="replace")
        self.errors[key] = self.errors.get(key, 0) + 1

    def vote_answered(self, index: int, payload: bytes, at: float) -> None:
        if b'"type":"reply"' in payload:
            votes = json.loads(payload)["data"]["votes"]
            self.votes_done[index] = (at, int(votes), None)
        else:
            code = re.search(rb'"code":"([^"]+)"', payload)
            self.votes_done[index] = (at, -1, code.group(1).decode() if code else "?")

    # ---- commands ---------------------------------------------------------------------
    async def connect(
        self,
        *,
        dialect: str,
        host: str,
        port: int,
        path: str,
        origin: str,
        room: Any,
        cookies: list[str | None],
        concurrency: int,
        within: float,
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)
        durations: list[float] = []
        failures: list[str] = []

        async def one(cookie: str | None) -> None:
            async with gate:
                began = time.monotonic()
                if began >= deadline:
                    failures.append("TimeoutError: not started before the deadline")
                    return
                request = upgrade_request(host, port, path, origin, cookie)
                if dialect == "townhall":
                    make = lambda: TownhallClient(self, request, room)  # noqa: E731
                else:
                    make = lambda: SocketIOClient(self, request, room)  # noqa: E731
                client: Client | None = None
                try:
                    _, client = await asyncio.wait_for(
                        loop.create_connection(make, host, port), deadline - began
                    )
                    await asyncio.wait_for(client.joined, max(0.1, deadline - time.monotonic()))
                    self.clients.append(client)
                    durations.append(time.monotonic() - began)
                except (OSError, TimeoutError, ConnectionError) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}"[:300])
                    if client is not None:
                        client.close()  # not joined in time: it must not join later

        started = time.monotonic()
        deadline = started + within
        await asyncio.gather(*(one(cookie) for cookie in cookies))
        return {
            "started": started,
            "finished": time.monotonic(),
            "joined": len(durations),
            "failed": len(failures),
            "failures": failures[:3],
            "durations": durations,
        }

    async def vote(
        self, *, room: int, questions: list[int], rate: float, duration: float, grace: float
    ) -> dict[str, Any]:
        """``rate`` votes a second for ``duration`` seconds, each a new (client, question)
        pair, so counts only grow; then up to ``grace`` seconds for the last replies."""
        joined = [c for c in self.clients if c.open and c.joined.done()]
        total = int(rate * duration)
        first = self.vote_index
        if not joined or first + total > len(joined) * len(questions):
            return {"error": "not enough (client, question) pairs left to vote"}
        started = time.monotonic()
        sent = 0
        while sent < total:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            while sent < due:
                index = first + sent
                client = joined[index % len(joined)]
                question = questions[(index // len(joined)) % len(questions)]
                self.votes_sent[index] = (question, time.monotonic())
                client.send_text(
                    b'{"type":"question.vote","ref":"v%d","room":%d,"question":%d}'
                    % (index, room, question)
                )
                sent += 1
            await asyncio.sleep(0.005)
        self.vote_index = first + total
        until = time.monotonic() + grace
        while time.monotonic() < until and any(  # noqa: ASYNC110 - polls a bounded wait
            i not in self.votes_done for i in range(first, first + total)
        ):
            await asyncio.sleep(0.02)
        records = []
        for index in range(first, first + total):
            question, at = self.votes_sent.pop(index)
            reply_at, count, code = self.votes_done.pop(index, (math.nan, -1, "no reply"))
            records.append((question, at, reply_at, count, code))
        return {"records": records}

    def report(self, seqs: list[int]) -> dict[str, Any]:
        return {
            "arrivals": {s: self.arrivals[s].tobytes() for s in seqs if s in self.arrivals},
            "names": {s: self.names[s] for s in seqs if s in self.names},
            "sizes": {s: self.sizes[s] for s in seqs if s in self.sizes},
            "vote_data": {s: self.vote_data[s] for s in seqs if s in self.vote_data},
            "disorder": self.disorder,
            "lost_connections": self.lost_connections,
            "open": sum(1 for c in self.clients if c.open),
            "errors": dict(self.errors),
        }

    def seen(self) -> dict[str, Any]:
        """Every seq seen so far, with its name and how many clients got it."""
        return {
            "seqs": {s: (self.names[s], len(t)) for s, t in self.arrivals.items()},
            "vote_data": dict(self.vote_data),
        }

    def clear(self) -> None:
        self.arrivals.clear()
        self.names.clear()
        self.sizes.clear()
        self.vote_data.clear()

    async def close(self) -> None:
        for client in self.clients:
            client.close()
        await asyncio.sleep(0.2)


async def _serve(pipe: Connection) -> None:
    worker = Worker()
    loop = asyncio.get_running_loop()
    while True:
        command, arguments = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            answer: Any = await worker.connect(**arguments)
        elif command == "vote":
            answer = await worker.vote(**arguments)
        elif command == "report":
            answer = worker.report(**arguments)
        elif command == "seen":
            answer = worker.seen()
        elif command == "clear":
            answer = worker.clear()
        elif command == "cpu":
            answer = cpu_seconds()
        elif command == "close":
            await worker.close()
            pipe.send(None)
            return
        else:
            answer = {"error": f"unknown command {command}"}
        pipe.send(answer)


def _worker_main(pipe: Connection, core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.run(_serve(pipe))
    except ImportError:
        asyncio.run(_serve(pipe))


class WorkerHandle:
    """One worker process, seen from the orchestrator."""

    def __init__(self, core: int | None) -> None:
        context = get_context("spawn")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(theirs, core), daemon=True)
        self.process.start()
        theirs.close()
        self._lock = asyncio.Lock()

    async def call(self, command: str, **arguments: Any) -> Any:
        async with self._lock:
            return await asyncio.to_thread(self._exchange, command, arguments)

    def _exchange(self, command: str, arguments: dict[str, Any]) -> Any:
        self.pipe.send((command, arguments))
        return self.pipe.recv()

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.call("close"), 10)
        except Exception:
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


async def on_all(workers: list[WorkerHandle], command: str, **arguments: Any) -> list[Any]:
    return await asyncio.gather(*(w.call(command, **arguments) for w in workers))


def times_of(blob: bytes) -> array:
    out = array("d")
    out.frombytes(blob)
    return out
