"""Server-rendered pages: event home (the programme by day) and session pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from townhall.platform import programme

from .programme_view import programme_days, session_view
from .services import services_of


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    services = services_of(request)
    html = services.templates.get_template(template).render(
        request=request, settings=services.settings, **context
    )
    return HTMLResponse(html, status_code=status)


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
    days = programme_days(event, sessions, now, services.settings.room_opens_minutes_before)
    return render(request, "event.html", event=event, days=days, now=now)


async def session_page(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        session = await programme.get_session(
            db, event_id=event.id, slug=request.path_params["session"]
        )
    now = services.clock.now()
    view = session_view(event, session, now, services.settings.room_opens_minutes_before)
    return render(request, "session.html", event=event, item=view, now=now)
