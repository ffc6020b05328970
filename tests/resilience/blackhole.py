"""A TCP proxy on 127.0.0.1 that can black-hole its connections, or cut them.

After :meth:`BlackHoleProxy.hole`, the connections open at that moment stop forwarding in both
directions without being closed (no FIN, no RST: a silently dead path, as a NAT or firewall
that forgot the flow leaves it). New connections are forwarded normally, so a client that gives
up and reconnects gets through.

After :meth:`BlackHoleProxy.cut`, the server behind it looks down: every open connection is
reset and new ones are refused (nothing listens on the port) until :meth:`BlackHoleProxy.restore`
listens again on the same port."""

from __future__ import annotations

import asyncio
import contextlib

from support.servers import free_port


class _Pair:
    def __init__(self) -> None:
        self.holed = asyncio.Event()
        self.writers: list[asyncio.StreamWriter] = []


class BlackHoleProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.pairs: list[_Pair] = []
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def cut(self) -> int:
        """Refuse new connections and reset the open ones; how many were open."""
        assert self._server is not None
        self._server.close()
        live = [p for p in self.pairs if not all(w.is_closing() for w in p.writers)]
        for pair in live:
            for writer in pair.writers:
                writer.transport.abort()
        await asyncio.wait_for(self._server.wait_closed(), 10)
        return len(live)

    async def restore(self) -> None:
        """Listen again (on the same port)."""
        await self.start()

    def hole(self) -> int:
        """Stop forwarding on every connection open now; how many there were."""
        live = [p for p in self.pairs if not all(w.is_closing() for w in p.writers)]
        for pair in live:
            pair.holed.set()
        return len(live)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        pair = _Pair()
        pair.writers = [writer, up_writer]
        self.pairs.append(pair)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(pair, source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, pair: _Pair, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        try:
            for _ in range(10_000_000):  # bounded: far more chunks than any test sends
                read = asyncio.ensure_future(source.read(65536))
                holed = asyncio.ensure_future(pair.holed.wait())
                await asyncio.wait({read, holed}, return_when=asyncio.FIRST_COMPLETED)
                if pair.holed.is_set():
                    read.cancel()
                    return  # forward nothing more, close nothing: the connection hangs
                holed.cancel()
                data = read.result()
                if not data:
                    break
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        if not pair.holed.is_set():
            for writer in pair.writers:
                writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for pair in self.pairs:
            for writer in pair.writers:
                writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 5)
