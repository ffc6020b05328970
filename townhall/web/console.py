"""What every page of the organizer console shares: who may use it, messages, announcements.

Only the event's organizers get in (:func:`townhall.web.auth.require_organizer`); everyone
else gets the 403 page. Forms POST and redirect (post/redirect/get); the ``OriginCheck``
middleware refuses a POST that did not come from our own pages, which is the console's CSRF
protection. A one-off message after a redirect ("Saved", a new invitation link) travels in a
short-lived signed cookie scoped to the console and is cleared when shown, so a link is shown
once. Every change is written to the audit log in the transaction that makes it; after the
commit its room events are published and, when roles may have changed, every process is told
to re-check live connections (``access.changed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from townhall.platform import access, programme
from townhall.platform.models import Event
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer

from .auth import require_organizer, staff_name
from .i18n import N_, gettext
from .pages import render
from .room_pages import home_zone
from .services import Services, services_of

FLASH_COOKIE = "townhall_console_flash"
FLASH_MAX_AGE = 120
SECTIONS = (
    ("overview", N_("Overview"), ""),
    ("programme", N_("Programme"), "/programme"),
    ("rooms", N_("Rooms"), "/rooms"),
    ("invitations", N_("Invitations"), "/invitations"),
    ("audit", N_("Audit log"), "/audit"),
)
NO_STORE = {"Cache-Control": "no-store"}


@dataclass
class Console:
    """One console request: the event, the organizer, and where things are."""

    services: Services
    event: Event
    viewer: Viewer

    @property
    def actor(self) -> str:
        return staff_name(self.viewer)

    @property
    def base(self) -> str:
        return f"/events/{self.event.slug}/console"

    @property
    def zone(self) -> ZoneInfo:
        return home_zone(self.event)[1]

    @property
    def zone_label(self) -> str:
        return home_zone(self.event)[0]

    async def record(self, db: AsyncSession, action: str, **details: Any) -> None:
        await access.record(
            db,
            event_id=self.event.id,
            actor=self.actor,
            action=action,
            now=self.services.clock.now(),
            **details,
        )

    async def rollback(self, db: AsyncSession) -> None:
        """Undo the request's writes, keeping the event readable for the page that follows."""
        await db.rollback()
        await db.refresh(self.event)

    async def announce(
        self, events: Iterable[LoggedEvent] = (), *, access_changed: bool = False
    ) -> None:
        """After commit: room events to their rooms, and a re-check of live connections."""
        events = list(events)
        if events:
            await self.services.hub.publish(events)
        if access_changed:
            await self.services.hub.publish_control("access.changed", event=self.event.id)


async def open_console(request: Request, db: AsyncSession) -> Console:
    services = services_of(request)
    event = await programme.get_event(db, slug=request.path_params["slug"])
    viewer = await require_organizer(request, db, event)
    return Console(services, event, viewer)


def _flash_serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        services_of(request).settings.secret_key, salt="townhall.console.flash"
    )


def see_other(request: Request, console: Console, url: str, message: str, **extra: str) -> Response:
    """Redirect after a POST, carrying a message (and e.g. a new link) to the next page."""
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    response.set_cookie(
        FLASH_COOKIE,
        _flash_serializer(request).dumps({"message": message, **extra}),
        max_age=FLASH_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=console.services.settings.secure_cookies,
        path=console.base,
    )
    return response


def _take_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        value = _flash_serializer(request).loads(raw, max_age=FLASH_MAX_AGE)
    except BadSignature:
        return None
    return value if isinstance(value, dict) else None


def render_console(
    request: Request,
    console: Console,
    template: str,
    *,
    section: str,
    status: int = 200,
    **context: Any,
) -> Response:
    """A console page: navigation, the pending message (shown once), never cached."""
    flash = _take_flash(request)
    response = render(
        request,
        template,
        status=status,
        event=console.event,
        console=console,
        section=section,
        sections=[(key, gettext(label), console.base + path) for key, label, path in SECTIONS],
        flash=flash,
        **context,
    )
    response.headers.update(NO_STORE)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=console.base)
    return response
