"""Who is making an HTTP request, and the checks routes make before acting.

The same identity code as the WebSocket endpoint (``townhall.realtime.identity``): cookies
give an identity, the database says what it may do in one event, right now.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from townhall.platform.errors import Forbidden
from townhall.platform.models import Event
from townhall.platform.viewers import Viewer
from townhall.realtime.identity import read_identity, resolve_viewer

from .services import services_of


async def current_viewer(request: Request, db: AsyncSession, event: Event) -> Viewer | None:
    services = services_of(request)
    identity = read_identity(request.cookies, services.settings.secret_key)
    return await resolve_viewer(db, identity, event_id=event.id, now=services.clock.now())


async def require_organizer(request: Request, db: AsyncSession, event: Event) -> Viewer:
    viewer = await current_viewer(request, db, event)
    if viewer is None:
        raise Forbidden("sign in with your organizer invitation link", code="auth.required")
    if not viewer.organizer:
        raise Forbidden("only the event's organizers may do that", code="organizer.required")
    return viewer


async def require_room_staff(
    request: Request, db: AsyncSession, event: Event, room_id: int
) -> Viewer:
    viewer = await current_viewer(request, db, event)
    if viewer is None:
        raise Forbidden("sign in with your invitation link", code="auth.required")
    if not viewer.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    return viewer


def staff_name(viewer: Viewer) -> str:
    return viewer.display_name or ("organizer" if viewer.organizer else "moderator")
