"""Q&A pages and files: the moderator console, the panelists' view, the big screen, exports.

The pages are shells: ``static/js/{moderate,panel,screen}.js`` join the room over ``/ws`` and
render the questions from the room's snapshot and events (``static/js/qa.js``). What a script
needs from the server travels in ``data-*`` attributes; nothing is inlined.

The big screen is for stream overlays, with no staff login: its link carries the room's
``screen_key``, made on the first visit of the console and rotated from it. It joins the room
as an ordinary audience participant named "Big screen", so it sees what the audience sees.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from townhall.platform import access, participants, programme, questions, rooms
from townhall.platform.errors import Forbidden, NotFound
from townhall.platform.models import Event, Person, Room
from townhall.realtime.identity import (
    COOKIE_MAX_AGE,
    PARTICIPANT_COOKIE,
    identity_cookie,
    read_identity,
    with_participant,
)

from . import openapi, qa_openapi, qrcode
from .api import limit_rate
from .auth import current_viewer, require_room_staff, staff_name
from .pages import render
from .programme_json import display_name
from .question_exports import csv_body, export_document
from .room_pages import (
    addressable_people,
    home_zone,
    server_now,
    state_detail,
    state_label,
    ws_url,
    zone_spans,
)
from .services import services_of

SCREEN_NAME = "Big screen"
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


async def _event_room(db: AsyncSession, request: Request) -> tuple[Event, Room]:
    event = await programme.get_event(db, slug=request.path_params["slug"])
    room = await rooms.get_room(db, room_id=request.path_params["room_id"])
    if room.session.event_id != event.id:
        raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
    return event, room


async def _room_event(db: AsyncSession, room_id: int) -> tuple[Event, Room]:
    room = await rooms.get_room(db, room_id=room_id)
    event = await db.get(Event, room.session.event_id)
    assert event is not None
    return event, room


def _json_attr(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def screen_url(request: Request, event: Event, room: Room) -> str:
    """The room's big-screen link ("" while it has no key yet)."""
    base = services_of(request).settings.public_url.rstrip("/")
    path = f"/events/{event.slug}/rooms/{room.id}/screen/{room.screen_key}"
    return f"{base}{path}" if room.screen_key else ""


def _urls(request: Request, event: Event, room: Room) -> dict[str, str]:
    base = services_of(request).settings.public_url.rstrip("/")
    room_path = f"/events/{event.slug}/rooms/{room.id}"
    return {
        "room": room_path,
        "join": f"{base}{room_path}",
        "screen": screen_url(request, event, room),
        "csv": f"{room_path}/questions.csv",
        "json": f"{room_path}/questions.json",
        "rotate": f"/api/rooms/{room.id}/screen-key",
    }


async def ensure_screen_key(db: AsyncSession, room: Room) -> str:
    """The room's big-screen key, made now if it has none (two first visits agree on one)."""
    if room.screen_key is None:
        await db.execute(
            update(Room)
            .where(Room.id == room.id, Room.screen_key.is_(None))
            .values(screen_key=secrets.token_urlsafe(16))
            .execution_options(synchronize_session=False)
        )
        await db.commit()
        await db.refresh(room, ["screen_key"])
    assert room.screen_key is not None
    return room.screen_key


# ---- pages ------------------------------------------------------------------------------
async def moderate_page(request: Request) -> Response:
    services = services_of(request)
    minutes = services.settings.room_opens_minutes_before
    async with services.db() as db:
        event, room = await _event_room(db, request)
        viewer = await require_room_staff(request, db, event, room.id)
        await ensure_screen_key(db, room)
        session = await programme.get_session(db, event_id=event.id, slug=room.session.slug)
        state = rooms.room_json(room, room.session, minutes)
        urls = _urls(request, event, room)
    response = render(
        request,
        "moderate.html",
        event=event,
        room=state,
        state_label=state_label(state["state"]),
        zone_label=home_zone(event)[0],
        panelists=addressable_people(session),
        panelists_json=_json_attr(addressable_people(session)),
        urls=urls,
        ws_url=ws_url(request),
        server_now=server_now(request),
        moderator=staff_name(viewer),
    )
    response.headers.update(PRIVATE)
    return response


async def panel_page(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event, room = await _event_room(db, request)
        viewer = await current_viewer(request, db, event)
        if viewer is None:
            raise Forbidden("sign in with your invitation link", code="auth.required")
        if viewer.tier(room.id) not in ("panel", "staff"):
            raise Forbidden("only the session's panelists may see this", code="room.forbidden")
        person = await db.get(Person, viewer.person_id) if viewer.person_id else None
        urls = _urls(request, event, room)
        state = rooms.room_json(room, room.session, services.settings.room_opens_minutes_before)
    zone_label, zone = home_zone(event)
    response = render(
        request,
        "panel.html",
        event=event,
        room=room,
        state=state,
        state_label=state_label(state["state"]),
        state_detail=state_detail(state, zone_label, zone),
        zone_label=zone_label,
        spans=zone_spans(state["session"], event.reference_zones),
        person_key=person.key if person else "",
        person_name=display_name(person) if person else (viewer.display_name or ""),
        urls=urls,
        ws_url=ws_url(request),
        server_now=server_now(request),
    )
    response.headers.update(PRIVATE)
    return response


async def screen_page(request: Request) -> Response:
    services = services_of(request)
    secret = services.settings.secret_key
    identity = read_identity(request.cookies, secret)
    async with services.db() as db:
        event, room = await _event_room(db, request)
        key = room.screen_key
        if key is None or not secrets.compare_digest(key, request.path_params["key"]):
            raise NotFound("There is nothing at this address.", code="screen.not_found")
        participant_id = identity.participants.get(event.id)
        known = participant_id and await participants.find_participant(
            db, participant_id=participant_id
        )
        created = None
        if not known:
            await limit_rate(
                request,
                "identity",
                limit=services_of(request).settings.identities_per_minute,
                window=60,
            )
            created = await participants.create_participant(
                db, event_id=event.id, display_name=SCREEN_NAME, now=services.clock.now()
            )
            await db.commit()
        urls = _urls(request, event, room)
    response = render(
        request,
        "screen.html",
        event=event,
        room=room,
        urls=urls,
        qr_svg=qrcode.svg(urls["join"], label=f"QR code of {urls['join']}"),
        ws_url=ws_url(request),
        server_now=server_now(request),
    )
    response.headers.update({**PRIVATE, "Referrer-Policy": "no-referrer"})
    if created is not None:
        response.set_cookie(
            PARTICIPANT_COOKIE,
            identity_cookie(with_participant(identity, event.id, created.id), secret),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=services.settings.secure_cookies,
            path="/",
        )
    return response


async def rotate_screen_key(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event, room = await _room_event(db, request.path_params["room_id"])
        viewer = await require_room_staff(request, db, event, room.id)
        room.screen_key = secrets.token_urlsafe(16)
        await access.record(
            db,
            event_id=event.id,
            actor=staff_name(viewer),
            action="room.screen_key_rotated",
            room_id=room.id,
            target=f"room {room.id}",
            now=services.clock.now(),
        )
        await db.commit()
        urls = _urls(request, event, room)
    return JSONResponse({"room": room.id, "screen_url": urls["screen"]}, headers=PRIVATE)


# ---- exports ----------------------------------------------------------------------------
async def _export(request: Request, db: AsyncSession, event: Event, room: Room) -> dict[str, Any]:
    await require_room_staff(request, db, event, room.id)
    listed = await questions.list_room_questions(db, room_id=room.id)
    audit = await access.list_audit(db, event_id=event.id, limit=1_000_000)
    return export_document(
        event=event,
        room=room,
        questions=listed,
        audit=audit,
        exported_at=services_of(request).clock.now(),
    )


async def questions_csv(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        document = await _export(request, db, event, room)
    filename = f"{event.slug}-room-{room.id}-questions.csv"
    return Response(
        csv_body(document["questions"]),
        media_type="text/csv; charset=utf-8",
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def questions_json(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        document = await _export(request, db, event, room)
    return JSONResponse(document, headers=PRIVATE)


async def api_questions(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _room_event(db, request.path_params["room_id"])
        document = await _export(request, db, event, room)
    return JSONResponse(document, headers=PRIVATE)


ROOM = "/events/{slug}/rooms/{room_id:int}"
QA_ROUTES = [
    Route(f"{ROOM}/moderate", moderate_page, name="room_moderate"),
    Route(f"{ROOM}/panel", panel_page, name="room_panel"),
    Route(f"{ROOM}/screen/{{key}}", screen_page, name="room_screen"),
    Route(f"{ROOM}/questions.csv", questions_csv, name="room_questions_csv"),
    Route(f"{ROOM}/questions.json", questions_json, name="room_questions_json"),
    Route("/api/rooms/{room_id:int}/questions", api_questions, name="api_room_questions"),
    Route(
        "/api/rooms/{room_id:int}/screen-key",
        rotate_screen_key,
        methods=["POST"],
        name="api_room_screen_key",
    ),
]


openapi.extend(qa_openapi.PATHS, qa_openapi.SCHEMAS)
