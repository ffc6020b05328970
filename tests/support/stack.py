"""A test's whole deployment: a database holding the Summit, a Redis or none, and the server
processes and clients it started, all closed together at the end.

``embedded`` is SQLite with the in-process broker (one process); ``production`` is PostgreSQL
with Redis (any number of processes). :data:`RUNNING` lists every process not yet closed, so a
failing test's report can carry their logs.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from townhall.realtime.identity import read_identity

from .clients import Client, audience_cookie, invited_cookie, programme_rooms
from .servers import RedisServer, ServerProcess, free_port
from .summit import WORKSHOP_1, SummitDatabase

SECRET_KEY = "realtime-tests-secret-key-not-for-production"

RUNNING: list[ServerProcess | RedisServer] = []  # every process of a stack not yet closed


class Stack:
    """What one test's servers share, and everything it started (closed at teardown)."""

    def __init__(
        self, *, kind: str, database_url: str, redis_url: str | None, workdir: Path
    ) -> None:
        self.kind = kind
        self.database_url = database_url
        self.redis_url = redis_url
        self.redis_prefix = f"t{uuid.uuid4().hex[:12]}"
        self.workdir = workdir
        self.db = SummitDatabase(database_url)
        self.processes: list[ServerProcess | RedisServer] = []
        self.clients: list[Client] = []
        self.rooms: dict[str, int] = {}

    def server(self, name: str = "a", **options: object) -> ServerProcess:
        """A server of this stack (not started). ``options`` as for :class:`ServerProcess`."""
        options.setdefault("redis_url", self.redis_url)
        server = ServerProcess(
            name=name,
            workdir=self.workdir,
            database_url=self.database_url,
            secret_key=SECRET_KEY,
            redis_prefix=self.redis_prefix,
            **options,  # type: ignore[arg-type]
        )
        self._track(server)
        return server

    def servers(self, *names: str, **options: object) -> list[ServerProcess]:
        """Servers on ports of their own, each accepting WebSockets from every one's origin
        (a client that fails over keeps the Origin of the page it was opened from)."""
        ports = [free_port() for _ in names]
        origins = tuple(f"http://127.0.0.1:{port}" for port in ports)
        return [
            self.server(name, port=port, allowed_origins=origins, **options)
            for name, port in zip(names, ports, strict=True)
        ]

    def redis_server(self) -> RedisServer:
        redis_server = RedisServer(workdir=self.workdir)
        self._track(redis_server)
        return redis_server

    def _track(self, process: ServerProcess | RedisServer) -> None:
        self.processes.append(process)
        RUNNING.append(process)

    async def start(self, *servers: ServerProcess) -> None:
        """Start servers together and wait until all answer; learn the room ids."""
        for server in servers:
            server.start()
        await asyncio.gather(*(server.ready() for server in servers))
        if not self.rooms:
            self.rooms = await programme_rooms(servers[0])

    async def client(self, server: ServerProcess, cookie: str | None, name: str) -> Client:
        client = Client.of(server, cookie, name)
        self.clients.append(client)
        await client.connect()
        return client

    async def audience(self, server: ServerProcess, name: str = "Guest") -> Client:
        """A connected audience member (a new participant)."""
        return await self.client(server, await audience_cookie(server, name), name)

    async def moderator(
        self, server: ServerProcess, name: str = "Güldem Özdoğan", session: str = WORKSHOP_1
    ) -> Client:
        """A connected moderator of ``session``'s room (a new invitation, accepted)."""
        token = await self.db.invitation_token(
            SECRET_KEY, role="moderator", session=session, label=name
        )
        return await self.client(server, await invited_cookie(server, token), name)

    async def panelist(self, server: ServerProcess, person: str, name: str | None = None) -> Client:
        """A connected panelist: the programme person (or slot) ``person`` (a key), through an
        invitation for that person, accepted."""
        token = await self.db.invitation_token(SECRET_KEY, role="panelist", person=person)
        return await self.client(server, await invited_cookie(server, token), name or person)

    def participant_of(self, client: Client) -> str:
        """The participant id the client's cookie carries for the Summit."""
        cookies = dict(part.split("=", 1) for part in (client.cookie or "").split("; "))
        identity = read_identity(cookies, SECRET_KEY)
        [participant] = identity.participants.values()
        return participant

    async def close(self) -> None:
        for client in self.clients:
            if client.is_open:
                try:
                    await asyncio.wait_for(client.close(), timeout=3)
                except Exception:
                    pass
        for process in self.processes:
            process.kill()
            if process in RUNNING:
                RUNNING.remove(process)
        await self.db.close()
