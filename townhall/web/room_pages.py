"""The live room page: the room's state rendered on the server, kept live by ``room.js``.

Without JavaScript the page still says what the room is doing (and links the stage when it
is open); with it, ``static/js/live.js`` joins the room over ``/ws`` and the page follows its
events. Everything the script needs travels in ``data-*`` attributes: no inline script.

The Q&A panel (``static/js/room_qa.js``) gets the room's question length limits, the viewer's
participant id and name (to tell their own questions apart and say whom they ask as) and the
panelists a question may be addressed to, rendered as ``<option>``s.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import participants, programme, rooms
from townhall.platform.errors import NotFound
from townhall.platform.models import Event, ProgrammeSession
from townhall.platform.seats import people_json
from townhall.realtime.identity import read_identity
from townhall.realtime.messages import wire_time

from .i18n import N_, gettext
from .pages import render
from .services import services_of

STATE_LABELS = {
    "scheduled": N_("Scheduled"),
    "open": N_("Lobby open"),
    "live": N_("Live now"),
    "ended": N_("Ended"),
    "archived": N_("Archived"),
}


def state_label(state: str) -> str:
    return gettext(STATE_LABELS[state]) if state in STATE_LABELS else state


def home_zone(event: Event) -> tuple[str, ZoneInfo]:
    """The event's own zone and the label the programme gives it ("Izmir")."""
    label = next(
        (z["label"] for z in event.reference_zones if z["zone"] == event.timezone),
        event.timezone,
    )
    return label, ZoneInfo(event.timezone)


def clock_time(iso: str | None, zone: ZoneInfo) -> str | None:
    if iso is None:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone).strftime("%H:%M")


def state_detail(room: dict[str, Any], zone_label: str, zone: ZoneInfo) -> str:
    """The sentence under the state label; room.js writes the same sentences."""
    state, session = room["state"], room["session"]
    if state == "scheduled":
        opens = clock_time(room["opens_at"], zone)
        if opens is None:
            return gettext("The time is to be announced.")
        return gettext("The room opens at {time} {zone} time.").format(time=opens, zone=zone_label)
    if state == "open":
        starts = clock_time(session["starts_at"], zone)
        if starts is None:
            return gettext("The lobby is open.")
        return gettext("The lobby is open; the session starts at {time} {zone} time.").format(
            time=starts, zone=zone_label
        )
    if state == "live":
        return gettext("The session is under way.")
    if state == "ended":
        return gettext("The session has ended.")
    return gettext("This room is archived.")


def zone_spans(session: dict[str, Any], zones: list[dict[str, str]]) -> list[dict[str, str]]:
    if not session["starts_at"] or not session["ends_at"]:
        return []
    return [
        {
            "label": z["label"],
            "span": f"{clock_time(session['starts_at'], ZoneInfo(z['zone']))}–"
            f"{clock_time(session['ends_at'], ZoneInfo(z['zone']))}",
        }
        for z in zones
    ]


def other_origin(request: Request, origins: tuple[str, ...]) -> str | None:
    """The page's origin when the WebSocket endpoint would refuse it (e.g. localhost for
    127.0.0.1); None when live updates can work here."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return None if origin in origins else origin


def server_now(request: Request) -> str:
    """The server's time as the page is made (``data-server-now``): live pages count a speaker's
    turn down against it, not against the viewer's clock (static/js/floor.js). ``hello`` and
    every snapshot carry it again, so the offset is set afresh on every (re)connection."""
    return wire_time(services_of(request).clock.now())


def ws_url(request: Request) -> str:
    """The page's own host, so the browser sends the cookie and an Origin the server allows."""
    url = request.url_for("ws")
    return str(url.replace(scheme="wss" if url.scheme == "https" else "ws"))


def addressable_people(slot: ProgrammeSession) -> list[dict[str, Any]]:
    """Whom a question may be put to (:func:`townhall.platform.seats.people_json`); live pages
    follow ``room.people_changed`` from here on."""
    return people_json(slot.appearances)


async def room_page(request: Request) -> Response:
    services = services_of(request)
    minutes = services.settings.room_opens_minutes_before
    identity = read_identity(request.cookies, services.settings.secret_key)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        room = await rooms.get_room(db, room_id=request.path_params["room_id"])
        if room.session.event_id != event.id:
            raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
        state = rooms.room_json(room, room.session, minutes)
        slot = await programme.get_session(db, event_id=event.id, slug=room.session.slug)
        panelists = addressable_people(slot)
        participant_id = identity.participants.get(event.id)
        participant = (
            await participants.find_participant(db, participant_id=participant_id)
            if participant_id
            else None
        )
    zone_label, zone = home_zone(event)
    session = state["session"]
    starts = session["starts_at"]
    return render(
        request,
        "room.html",
        event=event,
        room=state,
        state_label=state_label(state["state"]),
        state_detail=state_detail(state, zone_label, zone),
        day=(
            datetime.fromisoformat(starts.replace("Z", "+00:00")).astimezone(zone)
            if starts
            else None
        ),
        zone_label=zone_label,
        spans=zone_spans(session, event.reference_zones),
        zones_json=json.dumps(event.reference_zones, separators=(",", ":")),
        joined=event.id in identity.participants,
        ws_url=ws_url(request),
        server_now=server_now(request),
        other_origin=other_origin(request, services.settings.origins),
        public_url=services.settings.public_url,
        question_min=room.question_min_length,
        question_max=room.question_max_length,
        panelists=panelists,
        participant=participant,
    )
