"""The public summary of an ended room, and the organizers' choice of what it shows.

``/events/{slug}/rooms/{id}/summary`` is public: once the room has ended it lists the answered
questions (with who answered), the most voted ones left unanswered and the session's speakers
(:mod:`townhall.platform.public_summary`). Organizers see, on the same page, buttons that post
to ``/events/{slug}/console/rooms/{id}/summary`` to hide or show the summary or one question.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from townhall.platform import programme, public_summary, rooms
from townhall.platform.errors import Invalid, NotFound

from .auth import current_viewer
from .console import open_console
from .i18n import N_, gettext
from .pages import render
from .room_pages import state_label
from .services import services_of

ROOM = "/events/{slug}/rooms/{room_id:int}"
# The statuses a question in the organizers' table can have, named as the moderators' badges
# name them (static/js/labels.js).
QUESTION_STATUS_LABELS = {"approved": N_("Approved"), "answered": N_("Answered")}


def question_status_label(status: str) -> str:
    return gettext(QUESTION_STATUS_LABELS[status]) if status in QUESTION_STATUS_LABELS else status


async def summary_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        room = await rooms.get_room(db, room_id=request.path_params["room_id"])
        if room.session.event_id != event.id:
            raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
        summary = await public_summary.public_summary(db, room_id=room.id)
        viewer = await current_viewer(request, db, event)
        organizer = viewer is not None and viewer.organizer
        curation = (
            await public_summary.list_summary_questions(db, room_id=room.id) if organizer else []
        )
    return render(
        request,
        "room_summary.html",
        event=event,
        room=room,
        session=room.session,
        state_label=state_label(room.state),
        summary=summary,
        organizer=organizer,
        curation=curation,
        status_label=question_status_label,
        action=f"/events/{event.slug}/console/rooms/{room.id}/summary",
    )


def _flag(raw: object) -> bool:
    if raw not in ("on", "off"):
        raise Invalid("hidden must be on or off", code="summary.invalid_flag")
    return raw == "on"


async def save_summary_choice(request: Request) -> Response:
    """Hide or show the summary (``hidden``) or one question (``question`` and ``hidden``)."""
    form = await request.form()
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        room = await rooms.get_room(db, room_id=request.path_params["room_id"])
        if room.session.event_id != console.event.id:
            raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
        hidden, now = _flag(form.get("hidden")), console.services.clock.now()
        question = str(form.get("question") or "")
        if question:
            if not question.isdigit():
                raise Invalid("question must be a question id", code="question.not_found")
            await public_summary.set_question_hidden_from_summary(
                db,
                room_id=room.id,
                question_id=int(question),
                hidden=hidden,
                organizer=console.viewer,
                now=now,
            )
        else:
            await public_summary.set_summary_hidden(
                db, room_id=room.id, hidden=hidden, organizer=console.viewer, now=now
            )
        await db.commit()
    return RedirectResponse(
        f"/events/{console.event.slug}/rooms/{room.id}/summary", status_code=303
    )


SUMMARY_ROUTES = [
    Route(f"{ROOM}/summary", summary_page, name="room_summary"),
    Route(
        "/events/{slug}/console/rooms/{room_id:int}/summary",
        save_summary_choice,
        methods=["POST"],
        name="console_room_summary",
    ),
]
