"""Fixtures of the resilience suite (issue 11): a :class:`Stack` on PostgreSQL and a Redis, as
in ``tests/realtime``; the scenarios start their own ``redis-server`` where they take it away.

When a scenario fails, the log tails of the processes it ran are added to its report, and a
run cut short leaves no process behind (each is killed by its pid).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.stack import RUNNING, Stack

REDIS_URL = os.environ.get("TOWNHALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def production(pg_database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    """PostgreSQL + Redis (the shared one under a prefix of the test's own). Mark the test
    ``postgres`` and ``redis``."""
    made = Stack(
        kind="production", database_url=pg_database_url, redis_url=REDIS_URL, workdir=tmp_path
    )
    await made.db.load()
    yield made
    await made.close()


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
    for process in RUNNING:
        process.kill()
