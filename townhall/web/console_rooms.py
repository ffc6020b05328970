"""The console's room settings: pre-moderation, question limits and word filter, the stage and
stream links, when the room opens and each speaker's time. Each room's card also offers its
links: the moderator console, the room page, the report and the big screen (whose key is made
on the first visit here, as on the moderator console's).

One form per room. A save goes through the platform's own verbs (``rooms.update_room``,
``questions.update_room_questions_settings``, ``programme_edit.update_room_timing``) in one
transaction, and ends with the ``room.updated`` that ``update_room`` logs, so the room's
clients see the change at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import programme, programme_edit, questions, rooms
from townhall.platform.errors import Invalid, NotFound
from townhall.platform.models import Room

from .console import Console, open_console, render_console, see_other
from .i18n import gettext
from .qa_routes import ensure_screen_key, screen_url
from .room_pages import state_label
from .services import services_of

INTEGER_FIELDS = (
    "question_min_length",
    "question_max_length",
    "opens_minutes_before",
    "speaking_time_minutes",
)
TEXT_FIELDS = ("stage_url", "stream_url", "word_filter")
# Which form field a refusal of the platform belongs next to.
FIELD_OF_CODE = {
    "room.invalid_limits": "question_max_length",
    "room.invalid_filter": "word_filter",
}


def settings_of(room: Room) -> dict[str, Any]:
    return {
        "premoderation": room.premoderation,
        "question_min_length": room.question_min_length,
        "question_max_length": room.question_max_length,
        "word_filter": list(room.word_filter or []),
        "stage_url": room.stage_url,
        "stream_url": room.stream_url,
        "opens_minutes_before": room.opens_minutes_before,
        "speaking_time_minutes": room.speaking_time_minutes,
    }


def _form_values(room: Room) -> dict[str, str]:
    values = settings_of(room)
    return {
        **{k: "" if values[k] is None else str(values[k]) for k in INTEGER_FIELDS},
        "stage_url": room.stage_url or "",
        "stream_url": room.stream_url or "",
        "word_filter": "\n".join(values["word_filter"]),
        "premoderation": "on" if room.premoderation else "",
    }


async def rooms_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        for session in await programme.list_sessions(db, event_id=console.event.id):
            if session.room is not None:
                await ensure_screen_key(db, session.room)
        return await _page(request, console, db, edited=None)


async def _page(
    request: Request, console: Console, db: Any, *, edited: dict[str, Any] | None, status: int = 200
) -> Response:
    default = console.services.settings.room_opens_minutes_before
    cards = []
    for session in await programme.list_sessions(db, event_id=console.event.id):
        room = session.room
        if room is None:
            continue
        mine = edited is not None and edited["room"] == room.id
        cards.append(
            {
                "room": room,
                "session": session,
                "state_label": state_label(room.state),
                "screen_url": screen_url(request, console.event, room),
                "values": edited["values"] if mine else _form_values(room),
                "errors": edited["errors"] if mine else {},
            }
        )
    return render_console(
        request,
        console,
        "console_rooms.html",
        section="rooms",
        status=status,
        cards=cards,
        default_opens=default,
    )


async def save_room(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in (*INTEGER_FIELDS, *TEXT_FIELDS)}
    values["premoderation"] = "on" if form.get("premoderation") else ""
    room_id = request.path_params["room_id"]
    async with services.db() as db:
        console = await open_console(request, db)
        room = await rooms.get_room(db, room_id=room_id)
        if room.session.event_id != console.event.id:
            raise NotFound(f"room {room_id} is not part of this event", code="room.not_found")
        before = settings_of(room)
        errors: dict[str, list[str]] = {}
        numbers = _numbers(values, errors)
        events = []
        if not errors:
            try:
                events = await _apply(console, db, room, values, numbers)
            except Invalid as exc:
                field = str(exc.details.get("field") or FIELD_OF_CODE.get(exc.code, "general"))
                errors.setdefault(field, []).append(exc.message)
        if errors:
            await console.rollback(db)
            edited = {"room": room_id, "values": values, "errors": errors}
            return await _page(request, console, db, edited=edited, status=422)
        after = settings_of(room)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        await console.record(
            db,
            "room.settings_changed",
            room_id=room.id,
            target=room.session.title,
            data={"changed": changed},
        )
        await db.commit()
    await console.announce(events)
    return see_other(
        request,
        console,
        f"{console.base}/rooms#room-{room_id}",
        gettext("Saved the settings of “{title}”.").format(title=room.session.title),
    )


def _numbers(values: dict[str, str], errors: dict[str, list[str]]) -> dict[str, int | None]:
    numbers: dict[str, int | None] = {}
    for name in INTEGER_FIELDS:
        raw = values[name]
        if not raw:
            numbers[name] = None
            continue
        try:
            numbers[name] = int(raw)
        except ValueError:
            errors.setdefault(name, []).append(f"expected a whole number, got {raw!r}")
    for name in ("question_min_length", "question_max_length"):
        if name in numbers and numbers[name] is None:
            errors.setdefault(name, []).append("required")
    return numbers


async def _apply(
    console: Console, db: Any, room: Room, values: dict[str, str], numbers: dict[str, int | None]
) -> list[Any]:
    default_minutes = console.services.settings.room_opens_minutes_before
    before = (await rooms.room_snapshot(db, room_id=room.id, default_minutes=default_minutes))[
        "room"
    ]
    await programme_edit.update_room_timing(
        db,
        room_id=room.id,
        opens_minutes_before=numbers["opens_minutes_before"],
        speaking_time_minutes=numbers["speaking_time_minutes"],
    )
    await questions.update_room_questions_settings(
        db,
        room_id=room.id,
        minimum=numbers["question_min_length"],
        maximum=numbers["question_max_length"],
        word_filter=[w for line in values["word_filter"].splitlines() for w in line.split(",")],
    )
    return await rooms.update_room(
        db,
        room_id=room.id,
        changes={
            "stage_url": values["stage_url"],
            "stream_url": values["stream_url"],
            "premoderation": bool(values["premoderation"]),
        },
        now=console.services.clock.now(),
        default_minutes=default_minutes,
        before=before,
    )
