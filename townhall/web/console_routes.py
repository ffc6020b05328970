"""The organizer console's route table and its overview page (``/events/{slug}/console``).

The overview lists every live room of the event; ``static/js/console.js`` joins them all over
one WebSocket (organizers are staff in every room) and keeps state, audience, pending questions
and who is on the floor current. See :mod:`townhall.web.console` for what the pages share.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from townhall.platform import access, programme

from . import (
    console_admission,
    console_audit,
    console_invitations,
    console_programme,
    console_rooms,
    console_seats,
    console_session,
)
from .audit_actions import action_label
from .console import open_console, render_console
from .formats import short_date
from .i18n import gettext
from .programme_json import display_name
from .room_pages import state_label, ws_url
from .services import services_of

# ---- overview --------------------------------------------------------------------------


async def overview(request: Request) -> Response:
    services = services_of(request)
    now = services.clock.now()
    async with services.db() as db:
        console = await open_console(request, db)
        sessions = await programme.list_sessions(db, event_id=console.event.id)
        invitations = await access.list_invitations(db, event_id=console.event.id)
        recent = await access.list_audit(db, event_id=console.event.id, limit=5)
    rooms = [
        {
            "id": s.room.id,
            "title": s.title,
            "slug": s.slug,
            "state": s.room.state,
            "state_label": state_label(s.room.state),
            "when": _when(s, console.zone),
            "moderators": [
                display_name(a.person) + ("" if a.status == "confirmed" else f" ({a.status})")
                for a in s.appearances
                if a.role == "moderator"
            ],
        }
        for s in sessions
        if s.room is not None
    ]
    states = [access.invitation_state(i, now) for i in invitations]
    return render_console(
        request,
        console,
        "console.html",
        section="overview",
        rooms=rooms,
        ws_url=ws_url(request),
        me=console.viewer.participant_id or "",
        counts={
            "sessions": len(sessions),
            "tba": sum(1 for s in sessions if s.starts_at is None),
            "tbc": sum(1 for s in sessions for a in s.appearances if a.status != "confirmed"),
            "pending": states.count("pending"),
            "redeemed": states.count("redeemed"),
        },
        recent=[(entry, action_label(entry.action)) for entry in recent],
    )


def _when(session: Any, zone: ZoneInfo) -> str:
    if session.starts_at is None or session.ends_at is None:
        return f"{short_date(session.day)} · {gettext('time to be announced')}"
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    return f"{short_date(start.date())} · {start:%H:%M}–{end:%H:%M}"


def _routes() -> list[Route]:
    base = "/events/{slug}/console"
    post = ["POST"]
    return [
        Route(base, overview, name="console"),
        Route(f"{base}/admission", console_admission.save_admission, methods=post),
        Route(f"{base}/programme", console_programme.programme_page, name="console_programme"),
        Route(f"{base}/programme", console_programme.add_session, methods=post),
        Route(f"{base}/programme.toml", console_programme.download, name="console_toml"),
        Route(f"{base}/people", console_programme.add_person, methods=post),
        Route(f"{base}/programme/{{session}}", console_session.edit_page, name="console_session"),
        Route(f"{base}/programme/{{session}}", console_session.save_session, methods=post),
        Route(f"{base}/programme/{{session}}/remove", console_session.remove, methods=post),
        Route(f"{base}/programme/{{session}}/seats/{{slot}}", console_seats.seat, methods=post),
        Route(f"{base}/rooms", console_rooms.rooms_page, name="console_rooms"),
        Route(f"{base}/rooms/{{room_id:int}}", console_rooms.save_room, methods=post),
        Route(f"{base}/invitations", console_invitations.page, name="console_invitations"),
        Route(f"{base}/invitations", console_invitations.issue, methods=post),
        Route(f"{base}/invitations/{{id:int}}/resend", console_invitations.resend, methods=post),
        Route(f"{base}/invitations/{{id:int}}/revoke", console_invitations.revoke, methods=post),
        Route(f"{base}/audit", console_audit.page, name="console_audit"),
        Route(f"{base}/audit.csv", console_audit.export_csv, name="console_audit_csv"),
        Route(f"{base}/audit.json", console_audit.export_json, name="console_audit_json"),
    ]


CONSOLE_ROUTES = _routes()
