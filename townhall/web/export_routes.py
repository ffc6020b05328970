"""Routes serving the programme exports: iCalendar files and the c3voc schedule.

They come before the session page in the route table, so ``/sessions/{session}.ics`` is an
export and never a session whose slug ends in ".ics" (slugs cannot contain a dot anyway).
Calendar apps poll subscriptions, so every file carries an ETag and answers 304 when unchanged.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from townhall.platform import programme

from .exports import render_export, session_ics
from .services import services_of

CALENDAR = "text/calendar; charset=utf-8"
MEDIA_TYPES = {"ics": CALENDAR, "xml": "application/xml", "json": "application/json"}


def file_response(
    request: Request, body: bytes, media_type: str, *, filename: str | None = None
) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=0, must-revalidate"}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    sent = request.headers.get("if-none-match", "")
    if etag in (tag.strip().removeprefix("W/") for tag in sent.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def _programme_file(request: Request, fmt: str) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        sessions = await programme.list_sessions(db, event_id=event.id)
    body = render_export(fmt, event, sessions, services.settings.public_url)
    filename = f"{event.slug}.ics" if fmt == "ics" else None
    return file_response(request, body, MEDIA_TYPES[fmt], filename=filename)


async def programme_ics(request: Request) -> Response:
    return await _programme_file(request, "ics")


async def schedule_xml(request: Request) -> Response:
    return await _programme_file(request, "xml")


async def schedule_json(request: Request) -> Response:
    return await _programme_file(request, "json")


async def one_session_ics(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        session = await programme.get_session(
            db, event_id=event.id, slug=request.path_params["session"]
        )
    body = session_ics(event, session, services.settings.public_url)
    return file_response(request, body, CALENDAR, filename=f"{event.slug}-{session.slug}.ics")


EXPORT_ROUTES = [
    Route("/events/{slug}/programme.ics", programme_ics, name="programme_ics"),
    Route("/events/{slug}/sessions/{session}.ics", one_session_ics, name="session_ics"),
    Route("/events/{slug}/schedule.xml", schedule_xml, name="schedule_xml"),
    Route("/events/{slug}/schedule.json", schedule_json, name="schedule_json"),
]
