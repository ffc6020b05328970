"""The composition root: builds the engine, broker, hub and clock, and wires the web app.

Nothing is created at import time; :func:`create_app` takes explicit settings (tests build
their own) and everything long-lived is made in the lifespan and closed after it.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from townhall import logging_filters
from townhall.gc_pauses import GcPauses
from townhall.platform.clock import Clock, OffsetClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.rehearsal import anchor_offset
from townhall.realtime import access_watch, floor_commands, qa
from townhall.realtime.broker import Broker, MemoryBroker
from townhall.realtime.channels import Channels
from townhall.realtime.control import Control
from townhall.realtime.endpoint import websocket_endpoint
from townhall.realtime.feeds import Feeds
from townhall.realtime.hub import Hub
from townhall.realtime.lifecycle import Lifecycle
from townhall.realtime.presence import PresenceService
from townhall.realtime.presence_samples import PresenceSamples
from townhall.realtime.redis_broker import RedisBroker
from townhall.realtime.snapshots import Snapshots
from townhall.realtime.transport import WebSocketLane
from townhall.realtime.viewer_resolution import ViewerResolution
from townhall.settings import Settings, load_settings
from townhall.shutdown import close_sockets_first
from townhall.web.csrf import OriginCheck
from townhall.web.errors import EXCEPTION_HANDLERS
from townhall.web.i18n import LanguageMiddleware, load_catalogues
from townhall.web.request_ids import RequestIds
from townhall.web.routes import build_routes
from townhall.web.security import SecurityHeaders
from townhall.web.services import Services
from townhall.web.templating import make_templates

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def make_broker(settings: Settings) -> Broker:
    if settings.redis_url:
        return RedisBroker(
            settings.redis_url, prefix=settings.redis_prefix, cluster=settings.redis_cluster
        )
    return MemoryBroker()


def process_id(settings: Settings) -> str:
    return settings.process_name or (f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}")


def build_hub(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    broker: Broker,
    clock: Clock,
) -> Hub:
    """The realtime services, each with one job, and the hub that fronts them."""
    channels = Channels(settings.redis_prefix)
    me = process_id(settings)
    control = Control(broker=broker, channels=channels, process_id=me)
    snapshots = Snapshots(sessionmaker, opens_minutes_before=settings.room_opens_minutes_before)
    feeds = Feeds(
        sessionmaker=sessionmaker,
        broker=broker,
        channels=channels,
        snapshots=snapshots,
        replay_window=settings.replay_window,
        clock=clock,
    )
    presence = PresenceService(
        broker=broker,
        channels=channels,
        process_id=me,
        ttl=float(settings.presence_ttl_seconds),
        members=feeds.members,
        announce=lambda room_id: control.publish("presence", room=room_id),
    )
    control.listen("presence", lambda body: presence.changed_elsewhere(body["room"]))
    hub = Hub(
        settings=settings,
        sessionmaker=sessionmaker,
        broker=broker,
        clock=clock,
        channels=channels,
        process_id=me,
        control=control,
        feeds=feeds,
        presence=presence,
        viewers=ViewerResolution(sessionmaker),
    )
    lifecycle = Lifecycle(
        sessionmaker=sessionmaker,
        clock=clock,
        opens_minutes_before=settings.room_opens_minutes_before,
        publish=hub.publish,
    )
    hub.add_loop(feeds.sweep, "sweep")
    hub.add_loop(lifecycle.run, "lifecycle")
    hub.add_loop(presence.run, "presence")
    samples = PresenceSamples(
        sessionmaker=sessionmaker,
        broker=broker,
        channels=channels,
        clock=clock,
        process_id=me,
        interval=settings.presence_sample_seconds,
        rooms=presence.rooms_with_people,
    )
    feeds.event_listeners.append(samples.on_event)
    hub.add_loop(samples.run, "presence-samples")
    qa.install(hub)
    floor_commands.install(hub)
    access_watch.install(hub)
    return hub


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, close_on_signal: bool = False
) -> Starlette:
    """``close_on_signal``: SIGTERM/SIGINT close WebSockets with 1001 before the server stops
    (:mod:`townhall.shutdown`); only for the process that serves."""
    settings = settings or load_settings()
    logging_filters.install()
    gc_pauses = GcPauses()
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
        hub = build_hub(settings, sessionmaker, make_broker(settings), event_clock)
        hub.services["gc"] = gc_pauses
        hub.add_loop(lambda: gc_pauses.run(lambda: len(hub.connections)), "gc")
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
        gc_pauses.install()
        try:
            with close_sockets_first(hub) if close_on_signal else nullcontext():
                yield
        finally:
            gc_pauses.uninstall()
            await hub.stop()
            await engine.dispose()

    return Starlette(
        routes=build_routes(),
        middleware=[
            Middleware(
                WebSocketLane,
                endpoint=websocket_endpoint,
                allowed_hosts=list(settings.allowed_hosts),
            ),
            Middleware(RequestIds),
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
    return create_app(load_settings(), close_on_signal=True)
