"""Townhall in production mode for the benchmark: PostgreSQL + Redis, two server processes.

Process A holds the audience sockets, process B the moderator, so every delivery crosses Redis.
The Summit, the audience participants (signed cookies, made directly in the database as the
tests' support code does: the join route is rate limited per address), an approved question
set and the moderator's invitation are written once into a template database; every run gets
a fresh clone of it (``CREATE DATABASE … TEMPLATE``) and a Redis prefix of its own.

Workshop 1's room is put live by a moderator's override before the servers start, with the
rehearsal clock at noon on the Summit's second day, hours before the programme would move it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select
from support.clients import Client, invited_cookie
from support.servers import ServerProcess
from support.summit import EVENT, MORNING, MORNING_UTC, WORKSHOP_1, SummitDatabase

from townhall.migrate import upgrade
from townhall.platform import programme, questions, rooms
from townhall.platform.models import Room
from townhall.platform.viewers import Viewer
from townhall.realtime.identity import read_identity

SECRET_KEY = "bench-fanout-secret-key-0123456789"
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SERVER_CORE = "0"


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class PinnedServer(ServerProcess):
    """``python -m townhall serve`` started under ``taskset`` (every thread on one core)."""

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
        env.update(self.settings, PYTHONUNBUFFERED="1")
        argv = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "townhall", "serve"]
        self._spawn(argv, env=env, cwd=self.workdir)


class TownhallTemplate:
    """The template database: migrated, the Summit, participants, questions, an invitation."""

    def __init__(self, *, participants: int, questions: int) -> None:
        self.name = f"townhall_bench_tpl_{os.getpid()}"
        self.participants = participants
        self.questions = questions
        self.cookies: list[str] = []
        self.question_ids: list[int] = []
        self.room = 0
        self.token = ""

    async def create(self) -> None:
        await pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        await pg_admin(f'CREATE DATABASE "{self.name}"')
        await asyncio.to_thread(upgrade, pg_url(self.name))
        db = SummitDatabase(pg_url(self.name))
        try:
            await db.load()
            self.cookies = await db.audience_cookies(SECRET_KEY, self.participants, now=MORNING_UTC)
            self.token = await db.invitation_token(
                SECRET_KEY, role="moderator", session=WORKSHOP_1, label="Bench moderator"
            )
            async with db.sessionmaker() as session:
                event = await programme.get_event(session, slug=EVENT)
                slot = await programme.get_session(session, event_id=event.id, slug=WORKSHOP_1)
                self.room = await session.scalar(select(Room.id).where(Room.session_id == slot.id))
                await rooms.set_room_state(
                    session, room_id=self.room, action="go_live", now=MORNING_UTC
                )
                await session.commit()
            await self._ask(db, event.id)
        finally:
            await db.close()

    async def _ask(self, db: SummitDatabase, event_id: int) -> None:
        """Approved questions, each asked by a participant of its own (the first ones)."""
        authors = [read_participant(cookie) for cookie in self.cookies[: self.questions]]
        moderator = Viewer(
            display_name="Bench", event_id=event_id, moderates=frozenset({self.room})
        )
        async with db.sessionmaker() as session:
            for n, author in enumerate(authors):
                viewer = Viewer(participant_id=author, display_name=f"Bench {n}", event_id=event_id)
                question, _ = await questions.submit_question(
                    session,
                    room_id=self.room,
                    viewer=viewer,
                    text=f"Bench question {n}: how will the city keep every neighbourhood heard "
                    "when the budget for participation is cut next year?",
                    anonymous=n % 3 == 0,
                    now=MORNING_UTC,
                )
                if question.status == "pending":
                    await questions.approve_question(
                        session,
                        room_id=self.room,
                        question_id=question.id,
                        moderator=moderator,
                        now=MORNING_UTC,
                    )
                self.question_ids.append(question.id)
            await session.commit()

    async def drop(self) -> None:
        await pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def read_participant(cookie: str) -> str:
    name, _, value = cookie.partition("=")
    [participant] = read_identity({name: value}, SECRET_KEY).participants.values()
    return participant


class TownhallTarget:
    """One run: a clone of the template, processes A and B, the moderator on B."""

    name = "Townhall"
    dialect = "townhall"
    path = "/ws"

    def __init__(self, template: TownhallTemplate, workdir: Path) -> None:
        self.template = template
        self.database = f"townhall_bench_{uuid.uuid4().hex[:12]}"
        self.workdir = workdir
        self.prefix = f"bench{uuid.uuid4().hex[:12]}"
        self.a: PinnedServer | None = None
        self.b: PinnedServer | None = None
        self.moderator: Client | None = None
        self.refs: dict[int, str] = {}

    @property
    def room(self) -> int:
        return self.template.room

    async def start(self) -> None:
        await pg_admin(f'CREATE DATABASE "{self.database}" TEMPLATE "{self.template.name}"')
        common: dict[str, Any] = {
            "workdir": self.workdir,
            "database_url": pg_url(self.database),
            "secret_key": SECRET_KEY,
            "redis_url": REDIS_URL,
            "redis_prefix": self.prefix,
            "now": MORNING,
            "settings": {"TOWNHALL_LOG_LEVEL": "warning"},
        }
        self.a = PinnedServer(name=f"{self.database}-a", **common)
        self.b = PinnedServer(name=f"{self.database}-b", **common)
        self.a.start()
        self.b.start()
        await asyncio.gather(self.a.ready(), self.b.ready())
        cookie = await invited_cookie(self.b, self.template.token)
        self.moderator = Client.of(self.b, cookie, "moderator")
        await self.moderator.connect()
        joined = await self.moderator.join(self.room)
        assert joined["type"] == "room.snapshot", joined

    @property
    def a_pid(self) -> int:
        assert self.a is not None and self.a.popen is not None
        return self.a.popen.pid

    @property
    def b_pid(self) -> int:
        assert self.b is not None and self.b.popen is not None
        return self.b.popen.pid

    def endpoint(self) -> dict[str, Any]:
        assert self.a is not None
        return {
            "host": "127.0.0.1",
            "port": self.a.port,
            "path": self.path,
            "origin": self.a.origin,
            "room": self.room,
        }

    def cookies(self, first: int, count: int) -> list[str | None]:
        cookies = self.template.cookies[first : first + count]
        assert len(cookies) == count, "not enough participants in the template"
        return list(cookies)

    async def act(self, n: int, payload_bytes: int) -> float:
        """A moderator action: a new stage URL. The instant it was sent."""
        assert self.moderator is not None
        ref = f"a{n}"
        self.refs[n] = ref
        frame = {
            "type": "room.update",
            "ref": ref,
            "room": self.room,
            "stage_url": f"https://stage.example/bench/{n}",
        }
        sent = time.monotonic()
        await self.moderator.send(frame)
        return sent

    async def seq_of(self, n: int, within: float = 30.0) -> int:
        assert self.moderator is not None
        ref = self.refs[n]
        answer = await self.moderator.wait_for(
            lambda m: m["type"] in ("reply", "error") and m.get("ref") == ref, within
        )
        if answer["type"] != "reply":
            raise RuntimeError(f"moderator action {n} refused: {answer}")
        return int(answer["data"]["seq"])

    async def health(self) -> dict[str, Any]:
        assert self.a is not None
        return await self.a.health()

    async def stop(self) -> None:
        if self.moderator is not None:
            try:
                await asyncio.wait_for(self.moderator.close(), 5)
            except Exception:
                pass
        for server in (self.a, self.b):
            if server is not None:
                await server.stop()
        await pg_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def log_tail(self) -> str:
        return "\n".join(
            f"-- {s.name}\n{s.log_tail(20)}" for s in (self.a, self.b) if s is not None
        )
