"""The composition root: builds the engine, broker, hub and clock, and wires the web app.

Nothing is created at import time; :func:`create_app` takes explicit settings (tests build
their own) and everything long-lived is made in the lifespan and closed after it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from townhall import logging_filters
from townhall.platform.clock import Clock, OffsetClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.rehearsal import anchor_offset
from townhall.realtime import access_watch, qa
from townhall.realtime.broker import make_broker
from townhall.realtime.hub import Hub
from townhall.settings import Settings, load_settings
from townhall.web.csrf import OriginCheck
from townhall.web.errors import EXCEPTION_HANDLERS
from townhall.web.i18n import LanguageMiddleware, load_catalogues
from townhall.web.routes import build_routes
from townhall.web.security import SecurityHeaders
from townhall.web.services import Services
from townhall.web.templating import make_templates

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or load_settings()
    logging_filters.install()
    catalogues = load_catalogues()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        sessionmaker = make_sessionmaker(engine)
        event_clock = clock
        if event_clock is None:
            event_clock = OffsetClock()
            if settings.now is not None:
                async with sessionmaker() as db:
                    event_clock.set_offset(await anchor_offset(db, requested=settings.now))
                    await db.commit()
        broker = make_broker(settings)
        hub = Hub(settings=settings, sessionmaker=sessionmaker, broker=broker, clock=event_clock)
        qa.install(hub)
        access_watch.install(hub)
        app.state.services = Services(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            clock=event_clock,
            templates=make_templates(),
            hub=hub,
        )
        app.state.hub = hub
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            await engine.dispose()

    return Starlette(
        routes=build_routes(),
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)),
            Middleware(SecurityHeaders, origins=settings.origins),
            Middleware(LanguageMiddleware, catalogues=catalogues),
            Middleware(OriginCheck, origins=settings.origins),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )


def app_from_environment() -> Starlette:
    """Uvicorn factory (``townhall.app:app_from_environment``) used by ``townhall serve``."""
    return create_app(load_settings())
