"""Server-rendered pages: event home (the programme by day) and session pages.

Each page is complete without JavaScript; ``static/js/programme.js`` adds the viewer's own
time zone and keeps the live-status labels current. Pages read the clock once, and hand the
instant to the script (``data-now``) so a rehearsal clock holds in the browser too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from townhall.platform import programme
from townhall.platform.models import Event

from .programme_view import (
    event_parts,
    marks,
    paragraphs,
    programme_days,
    session_view,
    soon_minutes,
    status_labels,
    utc_iso,
)
from .services import services_of


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    services = services_of(request)
    html = services.templates.get_template(template).render(
        request=request, settings=services.settings, **context
    )
    return HTMLResponse(html, status_code=status)


def event_links(event: Event) -> dict[str, str]:
    base = f"/events/{event.slug}"
    return {
        "home": base,
        "ics": f"{base}/programme.ics",
        "xml": f"{base}/schedule.xml",
        "json": f"{base}/schedule.json",
        "api": f"/api/events/{event.slug}/programme",
    }


def clock_context(now: datetime, opens_minutes_before: int) -> dict[str, Any]:
    """What the browser script needs to recompute statuses the way the server does."""
    return {
        "now": now,
        "now_iso": utc_iso(now),
        "soon_minutes": soon_minutes(opens_minutes_before),
        "status_labels": status_labels(),
        "marks": marks(),
    }


async def home(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        events = await programme.list_events(db)
    if len(events) == 1:
        return RedirectResponse(f"/events/{events[0].slug}", status_code=302)
    return render(request, "home.html", events=events)


async def event_page(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        sessions = await programme.list_sessions(db, event_id=event.id)
    now = services.clock.now()
    minutes = services.settings.room_opens_minutes_before
    return render(
        request,
        "event.html",
        event=event,
        days=programme_days(event, sessions, now, minutes),
        description=paragraphs(event.description),
        parts=event_parts(event),
        links=event_links(event),
        **clock_context(now, minutes),
    )


async def session_page(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        session = await programme.get_session(
            db, event_id=event.id, slug=request.path_params["session"]
        )
    now = services.clock.now()
    minutes = services.settings.room_opens_minutes_before
    return render(
        request,
        "session.html",
        event=event,
        item=session_view(event, session, now, minutes),
        links=event_links(event),
        **clock_context(now, minutes),
    )
