"""Which failures are a database outage (answered "unavailable, retry") and which are bugs.

Each exception is produced for real: a PostgreSQL port nobody listens on, a database that does
not exist, an SQLite file in a folder that does not exist; and, as bugs, a missing table, a
broken constraint, a plain programming error.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from townhall.platform.db import make_engine
from townhall.platform.outage import database_unavailable


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def failure_of(url: str, statement: str = "SELECT 1") -> BaseException:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    except Exception as exc:
        return exc
    finally:
        await engine.dispose()
    raise AssertionError(f"{statement!r} on {url} did not fail")


async def test_outages_are_told_from_bugs(pg_database_url: str, tmp_path: Path) -> None:
    pg_server = pg_database_url.rsplit("/", 1)[0]
    sqlite_gone = f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'townhall.db'}"
    failures = {
        "postgresql refuses connections": await failure_of(
            f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/townhall"
        ),
        "postgresql database missing": await failure_of(f"{pg_server}/townhall_no_such_db"),
        "sqlite file cannot open": await failure_of(sqlite_gone),
        "postgresql missing table": await failure_of(pg_database_url, "SELECT * FROM nope"),
        "sqlite missing table": await failure_of(
            f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", "SELECT * FROM nope"
        ),
        "postgresql bad statement": await failure_of(pg_database_url, "SELEC 1"),
        "a plain bug": KeyError("room"),
        "a missing file": FileNotFoundError("templates/nope.html"),
    }

    assert {what: database_unavailable(exc) for what, exc in failures.items()} == {
        "postgresql refuses connections": True,
        "postgresql database missing": True,
        "sqlite file cannot open": True,
        "postgresql missing table": False,
        "sqlite missing table": False,
        "postgresql bad statement": False,
        "a plain bug": False,
        "a missing file": False,
    }


@pytest.mark.parametrize("wrapped", [True, False])
def test_outage_is_found_in_the_cause_chain(wrapped: bool) -> None:
    try:
        try:
            raise ConnectionResetError("connection reset by peer")
        except ConnectionResetError as reset:
            if wrapped:
                raise RuntimeError("while loading the room") from reset
            raise
    except Exception as exc:
        assert database_unavailable(exc) is True
