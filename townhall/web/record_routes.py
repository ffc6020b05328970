"""The session record files of a room, for its moderators and the organizers.

``speakers.csv`` (the speaker log: who, city, kind, granted at, duration), ``airtime.csv``
(seconds per city, the turn under way counted up to now), ``backstage.csv`` (every backstage
message), and all three in one JSON document: ``record.json`` and ``/api/rooms/{id}/record``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from townhall.platform import backstage, floor, programme, rooms
from townhall.platform.errors import NotFound
from townhall.platform.models import Event, Room

from . import openapi, qa_openapi
from .auth import require_room_staff
from .record_exports import (
    AIRTIME_COLUMNS,
    BACKSTAGE_COLUMNS,
    SPEAKER_COLUMNS,
    csv_rows,
    record_document,
)
from .services import services_of

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
FILES = {
    "speakers.csv": ("speakers", SPEAKER_COLUMNS),
    "airtime.csv": ("airtime", AIRTIME_COLUMNS),
    "backstage.csv": ("backstage", BACKSTAGE_COLUMNS),
}


async def _record(request: Request, db: AsyncSession, event: Event, room: Room) -> dict[str, Any]:
    await require_room_staff(request, db, event, room.id)
    now = services_of(request).clock.now()
    return record_document(
        event=event,
        room=room,
        speakers=await floor.list_speaker_log(db, room_id=room.id),
        airtime=await floor.airtime(db, room_id=room.id, now=now),
        backstage=await backstage.list_backstage_log(db, room_id=room.id),
        exported_at=now,
    )


async def _by_slug(db: AsyncSession, request: Request) -> tuple[Event, Room]:
    event = await programme.get_event(db, slug=request.path_params["slug"])
    room = await rooms.get_room(db, room_id=request.path_params["room_id"])
    if room.session.event_id != event.id:
        raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
    return event, room


async def record_json(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _by_slug(db, request)
        document = await _record(request, db, event, room)
    return JSONResponse(document, headers=PRIVATE)


def _csv_file(name: str):
    part, columns = FILES[name]

    async def endpoint(request: Request) -> Response:
        async with services_of(request).db() as db:
            event, room = await _by_slug(db, request)
            document = await _record(request, db, event, room)
        rows = document[part]["cities"] if part == "airtime" else document[part]
        filename = f"{event.slug}-room-{room.id}-{name}"
        return Response(
            csv_rows(columns, rows),
            media_type="text/csv; charset=utf-8",
            headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return endpoint


async def api_record(request: Request) -> Response:
    async with services_of(request).db() as db:
        room = await rooms.get_room(db, room_id=request.path_params["room_id"])
        event = await db.get(Event, room.session.event_id)
        assert event is not None
        document = await _record(request, db, event, room)
    return JSONResponse(document, headers=PRIVATE)


ROOM = "/events/{slug}/rooms/{room_id:int}"
RECORD_ROUTES = [
    Route(f"{ROOM}/record.json", record_json, name="room_record_json"),
    *(
        Route(f"{ROOM}/{name}", _csv_file(name), name=f"room_{name.replace('.', '_')}")
        for name in FILES
    ),
    Route("/api/rooms/{room_id:int}/record", api_record, name="api_room_record"),
]

_NULLABLE_STRING = {"type": ["string", "null"]}
_SECONDS = {"type": ["integer", "null"], "minimum": 0}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


SCHEMAS: dict[str, Any] = {
    "SessionRecord": _object(
        {
            "event": {"type": "string"},
            "room": {"type": "integer"},
            "session": _object({"slug": {"type": "string"}, "title": {"type": "string"}}),
            "exported_at": {"type": "string", "format": "date-time"},
            "speakers": {
                "type": "array",
                "items": _object(
                    {
                        "request": {"type": "integer"},
                        "name": {"type": "string"},
                        "city": _NULLABLE_STRING,
                        "kind": {"enum": list(floor.KINDS)},
                        "granted_at": _INSTANT,
                        "ended_at": {
                            **_INSTANT,
                            "description": "null while the turn is under way",
                        },
                        "limit_seconds": _SECONDS,
                        "seconds": _SECONDS,
                    }
                ),
            },
            "airtime": _object(
                {
                    "people": {
                        "type": "array",
                        "items": _object(
                            {
                                "name": {"type": "string"},
                                "person": _NULLABLE_STRING,
                                "city": _NULLABLE_STRING,
                                "seconds": {"type": "integer"},
                                "turns": {"type": "integer"},
                            }
                        ),
                    },
                    "cities": {
                        "type": "array",
                        "items": _object(
                            {
                                "city": _NULLABLE_STRING,
                                "seconds": {"type": "integer"},
                                "turns": {"type": "integer"},
                            }
                        ),
                    },
                }
            ),
            "backstage": {
                "type": "array",
                "items": _object(
                    {
                        "sent_at": {"type": "string", "format": "date-time"},
                        "from": {"type": "string"},
                        "role": {"enum": ["moderator", "panelist"]},
                        "to": _NULLABLE_STRING,
                        "text": {"type": "string"},
                        "question": {"type": ["integer", "null"]},
                    }
                ),
            },
        }
    )
}
PATHS: dict[str, Any] = {
    "/api/rooms/{room_id}/record": {
        "get": {
            "summary": "A room's session record: speaker log, airtime (per person and per "
            "city, the turn under way counted up to now) and backstage messages (staff only)",
            "operationId": "exportRoomRecord",
            "parameters": [qa_openapi.ROOM_PARAMETER],
            "responses": {
                "200": {
                    "description": "the room's record",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SessionRecord"}
                        }
                    },
                },
                **qa_openapi.STAFF_ERRORS,
            },
        }
    }
}
openapi.extend(PATHS, SCHEMAS)
