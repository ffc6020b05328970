"""Invitation links: a page that says what the invitation is for, and a button to accept it.

Accepting is a POST (a link preview or mail scanner fetching the GET does nothing); it sets the
staff cookie (HttpOnly, SameSite=Lax, Secure over HTTPS) and the participant cookie of the
invitation's own participant, then sends the person where they are needed.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from townhall.platform import access
from townhall.platform.errors import Invalid, NotFound
from townhall.platform.models import Event, Invitation, Room
from townhall.realtime.identity import (
    COOKIE_MAX_AGE,
    PARTICIPANT_COOKIE,
    STAFF_COOKIE,
    identity_cookie,
    read_identity,
    read_invitation_token,
    staff_cookie,
    with_invitation,
    with_participant,
)

from .pages import render
from .room_pages import home_zone
from .services import services_of


async def _load(request: Request) -> tuple[Invitation, str, Event]:
    services = services_of(request)
    parsed = read_invitation_token(request.path_params["token"], services.settings.secret_key)
    if parsed is None:
        raise NotFound("This invitation link is not valid.", code="invitation.not_found")
    invitation_id, nonce = parsed
    async with services.db() as db:
        invitation = await access.get_invitation(db, invitation_id=invitation_id)
        event = await db.get(Event, invitation.event_id)
    if invitation.nonce != nonce or event is None:
        raise NotFound("This invitation link is no longer valid.", code="invitation.not_found")
    return invitation, nonce, event


async def invitation_page(request: Request) -> Response:
    invitation, _, event = await _load(request)
    state = access.invitation_state(invitation, services_of(request).clock.now())
    zone_label, zone = home_zone(event)
    return render(
        request,
        "invitation.html",
        status=200 if state in ("pending", "redeemed") else 410,
        invitation=invitation,
        event=event,
        state=state,
        name=access.invitation_name(invitation),
        zone_label=zone_label,
        zone=zone,
    )


async def accept_invitation(request: Request) -> Response:
    services = services_of(request)
    invitation, nonce, event = await _load(request)
    async with services.db() as db:
        try:
            invitation = await access.redeem_invitation(
                db, invitation_id=invitation.id, nonce=nonce, now=services.clock.now()
            )
        except Invalid:
            return await invitation_page(request)
        await access.record(
            db,
            event_id=event.id,
            actor=access.invitation_name(invitation),
            action="invitation.redeemed",
            target=f"invitation {invitation.id}",
            now=services.clock.now(),
        )
        room_id = None
        if invitation.session_id is not None:
            room = await db.scalar(select(Room).where(Room.session_id == invitation.session_id))
            room_id = room.id if room is not None else None
        elif invitation.role != "organizer":
            # A programme person's invitation: land in the first room the programme gives them.
            grants, _ = await access.grants_of(
                db, event_id=event.id, invitation_ids=[invitation.id], now=services.clock.now()
            )
            room_id = min(grants.moderates or grants.panelist_in, default=None)
        await db.commit()
    secret = services.settings.secret_key
    identity = with_invitation(read_identity(request.cookies, secret), invitation.id)
    assert invitation.participant_id is not None
    identity = with_participant(identity, event.id, invitation.participant_id)
    if invitation.role == "organizer":
        target = f"/events/{event.slug}/console"
    elif room_id is not None and invitation.role == "moderator":
        target = f"/events/{event.slug}/rooms/{room_id}/moderate"
    elif room_id is not None:
        target = f"/events/{event.slug}/rooms/{room_id}/panel"
    else:
        target = f"/events/{event.slug}"
    response = RedirectResponse(target, status_code=303)
    secure = services.settings.secure_cookies
    for name, value in (
        (STAFF_COOKIE, staff_cookie(identity, secret)),
        (PARTICIPANT_COOKIE, identity_cookie(identity, secret)),
    ):
        response.set_cookie(
            name,
            value,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
    return response
