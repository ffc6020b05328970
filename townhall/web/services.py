"""What the composition root hands the web layer: settings, database, clock, hub, templates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from townhall.platform.clock import Clock
from townhall.settings import Settings

if TYPE_CHECKING:
    from townhall.realtime.hub import Hub


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    templates: Environment
    hub: Hub

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as db:
            yield db


def services_of(connection: HTTPConnection) -> Services:
    return connection.app.state.services
