"""Shared fixtures: real databases (SQLite file and PostgreSQL), real Redis, the Summit spec.

PostgreSQL and Redis must be running (``make test`` starts them): a missing service fails the
tests that need it, never skips them. Each test gets a fresh database: SQLite in a temporary
file, PostgreSQL cloned from a template migrated once per run.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.migrate import upgrade
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.programme_file import load_programme_file
from townhall.platform.programme_spec import ProgrammeSpec

ROOT = Path(__file__).resolve().parent.parent
SUMMIT_FILE = ROOT / "programmes" / "mayors-summit-2021.toml"
PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEMPLATE_DB = f"townhall_tpl_{os.getpid()}"


def pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _pg_admin_async(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg_admin(sql: str) -> None:
    """Run one admin statement on a thread of its own: callers may be inside the test loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _pg_admin_async(sql)).result()


def _upgrade(url: str) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(upgrade, url).result()


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A PostgreSQL database migrated to head once per run, cloned by every test."""
    _pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{TEMPLATE_DB}"')
    _upgrade(pg_url(TEMPLATE_DB))
    yield TEMPLATE_DB
    _pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def fresh_database_url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "townhall.db"
        target.write_bytes(template.read_bytes())  # noqa: ASYNC240 - a small local file
        return f"sqlite+aiosqlite:///{target}"
    template_name: str = request.getfixturevalue("pg_template")
    name = f"townhall_t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    request.addfinalizer(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return pg_url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database of each supported kind."""
    return await fresh_database_url(request.param, request, tmp_path)


@pytest.fixture
async def pg_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await fresh_database_url("postgresql", request, tmp_path)


@pytest.fixture
async def sqlite_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await fresh_database_url("sqlite", request, tmp_path)


@pytest.fixture
async def sessionmaker(database_url: str):
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def db(sessionmaker) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture(scope="session")
def summit_spec() -> ProgrammeSpec:
    return load_programme_file(SUMMIT_FILE)
