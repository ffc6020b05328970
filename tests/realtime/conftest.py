"""Fixtures of the realtime suite: a :class:`Stack` (a database holding the Summit, a Redis or
none, the servers and clients of one test) in its two supported shapes.

- ``embedded``: SQLite and the in-process broker, one server process.
- ``production``: PostgreSQL and Redis (the shared server on 6379, under a prefix unique to the
  test), one or more server processes.

When a test fails, the log tails of the servers it ran are added to its report.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from support.servers import ServerProcess
from support.stack import RUNNING, Stack

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN_DSN = os.environ.get(
    "TOWNHALL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


PRODUCTION = pytest.param("production", marks=[pytest.mark.postgres, pytest.mark.redis])
DATABASE_FIXTURE = {"embedded": "sqlite_database_url", "production": "pg_database_url"}


def _database(request: pytest.FixtureRequest, kind: str) -> tuple[str, str]:
    # A plain function: async fixtures can only be looked up from a synchronous one.
    return kind, request.getfixturevalue(DATABASE_FIXTURE[kind])


async def _stack(database: tuple[str, str], workdir: Path) -> Stack:
    kind, url = database
    made = Stack(
        kind=kind,
        database_url=url,
        redis_url=REDIS_URL if kind == "production" else None,
        workdir=workdir,
    )
    await made.db.load()
    return made


@pytest.fixture
def production_database(request: pytest.FixtureRequest) -> tuple[str, str]:
    return _database(request, "production")


@pytest.fixture
def embedded_database(request: pytest.FixtureRequest) -> tuple[str, str]:
    return _database(request, "embedded")


@pytest.fixture(params=["embedded", PRODUCTION])
def any_database(request: pytest.FixtureRequest) -> tuple[str, str]:
    return _database(request, request.param)


@pytest.fixture
async def production(production_database: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """PostgreSQL + Redis. Mark the test ``postgres`` and ``redis``."""
    made = await _stack(production_database, tmp_path)
    yield made
    await made.close()


@pytest.fixture
async def embedded(embedded_database: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """SQLite + the in-process broker, one process."""
    made = await _stack(embedded_database, tmp_path)
    yield made
    await made.close()


@pytest.fixture
async def stack(any_database: tuple[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """Each supported shape in turn (embedded, then production), for one-process tests."""
    made = await _stack(any_database, tmp_path)
    yield made
    await made.close()


@pytest.fixture(scope="module")
async def shared_production(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Stack, ServerProcess]]:
    """One PostgreSQL + Redis server for a whole module of tests that each use their own
    connections and leave nothing behind that the next test could notice."""
    template = request.getfixturevalue("pg_template")
    name = f"townhall_rt_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    server_dsn = PG_ADMIN_DSN.rsplit("/", 1)[0]
    url = f"{server_dsn.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    made = Stack(
        kind="production",
        database_url=url,
        redis_url=REDIS_URL,
        workdir=tmp_path_factory.mktemp("rt"),
    )
    try:
        await made.db.load()
        server = made.server("a")
        await made.start(server)
        yield made, server
    finally:
        await made.close()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed:
        for process in RUNNING:
            report.sections.append(
                (f"log of {process.name} ({process.log_path})", process.log_tail(80))
            )
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run cut short (Ctrl-C, a crash in a fixture) still leaves no server behind."""
    for process in RUNNING:
        process.kill()
