"""The console's invitations: issue one for a role, list them with their state, resend (a new
link; the old one stops working) and revoke.

A new link is shown once, on the page the organizer lands on after issuing or resending it;
Townhall keeps only the invitation's nonce, never the link. Revoking (and any change of who
holds which role) is announced with ``access.changed``, so live connections lose the role at
once on every process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import access, programme, seats
from townhall.platform.errors import Invalid, InvalidState, NotFound
from townhall.platform.invitation_links import resend_invitation
from townhall.platform.models import MAX_ROW_ID, Invitation
from townhall.realtime.identity import invitation_token

from .console import Console, open_console, render_console, see_other
from .i18n import N_, gettext
from .programme_json import display_name
from .services import services_of

ROLE_CHOICES = (
    ("moderator", N_("Moderator"), N_("Runs the room and its questions.")),
    ("panelist", N_("Panelist"), N_("Sits on the panel and sees the questions put to them.")),
    ("organizer", N_("Organizer"), N_("Runs the whole event, this console included.")),
)
ROLE_NAMES = {
    "moderator": N_("moderator"),
    "panelist": N_("panelist"),
    "organizer": N_("organizer"),
}
DEFAULT_DAYS = 30
ISSUE_FIELDS = ("role", "session", "person", "label", "days")
FIELD_OF_CODE = {
    "invitation.role": "role",
    "invitation.scope": "session",
    "invitation.validity": "days",
    "session.not_found": "session",
    "person.not_found": "person",
    "invitation.not_in_session": "person",
}
STATE_LABELS = {
    "pending": N_("Not used yet"),
    "redeemed": N_("Accepted"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
}


def invitation_link(console: Console, invitation: Invitation) -> str:
    settings = console.services.settings
    token = invitation_token(invitation.id, invitation.nonce, settings.secret_key)
    return f"{settings.public_url}/invitations/{token}"


async def page(request: Request) -> Response:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        return await _page(request, console, db, values={"days": str(DEFAULT_DAYS)}, errors={})


async def _page(
    request: Request,
    console: Console,
    db: Any,
    *,
    values: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> Response:
    now = console.services.clock.now()
    await db.refresh(console.event, ["people"])
    invitations = await access.list_invitations(db, event_id=console.event.id)
    sessions = await programme.list_sessions(db, event_id=console.event.id)
    people = sorted(
        (p for p in console.event.people if p.name), key=lambda p: display_name(p).casefold()
    )
    # A slot nobody fills yet ("Mayor of Paris (tbc)"): whoever accepts its invitation is it.
    slots = [
        (
            slot.person.id,
            f"{seats.seat_label(slot.person, slot.appearance.status)} — {slot.session.title}",
        )
        for slot in await seats.list_open_slots(db, event_id=console.event.id)
    ]
    rows = [
        {
            "invitation": i,
            "name": access.invitation_name(i),
            "state": (state := access.invitation_state(i, now)),
            "state_label": gettext(STATE_LABELS[state]),
            "role_name": gettext(ROLE_NAMES.get(i.role, i.role)),
            "scope": _scope(i),
        }
        for i in reversed(invitations)
    ]
    return render_console(
        request,
        console,
        "console_invitations.html",
        section="invitations",
        status=status,
        rows=rows,
        sessions=sessions,
        people=people,
        slots=slots,
        roles=[(value, gettext(text), gettext(hint)) for value, text, hint in ROLE_CHOICES],
        values=values,
        errors=errors,
    )


def _scope(invitation: Invitation) -> str:
    if invitation.role == "organizer":
        return gettext("The whole event")
    if invitation.session is not None:
        return invitation.session.title
    return gettext("The sessions the programme lists them for")


async def issue(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ISSUE_FIELDS}
    async with services.db() as db:
        console = await open_console(request, db)
        errors: dict[str, list[str]] = {}
        invitation = None
        try:
            days = int(values["days"] or DEFAULT_DAYS)
        except ValueError:
            errors["days"] = [f"expected a number of days, got {values['days']!r}"]
        else:
            try:
                invitation = await access.create_invitation(
                    db,
                    event_id=console.event.id,
                    role=values["role"],
                    now=services.clock.now(),
                    session_id=_id(values["session"]),
                    person_id=_id(values["person"]),
                    label=values["label"] or None,
                    valid_for=timedelta(days=days),
                    created_by=console.actor,
                )
            except (Invalid, NotFound) as exc:
                errors.setdefault(FIELD_OF_CODE.get(exc.code, "general"), []).append(exc.message)
        if invitation is None:
            await console.rollback(db)
            return await _page(request, console, db, values=values, errors=errors, status=422)
        invitation = await access.get_invitation(db, invitation_id=invitation.id)
        name = access.invitation_name(invitation)
        await console.record(
            db,
            "invitation.created",
            target=f"invitation {invitation.id}",
            data={"role": invitation.role, "for": name, "scope": _scope(invitation), "days": days},
        )
        await db.commit()
    return see_other(
        request,
        console,
        f"{console.base}/invitations",
        gettext("Invitation for {name} ({role}) created. Send them this link:").format(
            name=name, role=gettext(ROLE_NAMES.get(invitation.role, invitation.role))
        ),
        link=invitation_link(console, invitation),
    )


def _id(raw: str) -> int | None:
    if not (raw.isascii() and raw.isdigit()):
        return None
    if len(raw.lstrip("0")) > len(str(MAX_ROW_ID)):
        return 0
    number = int(raw)
    return number if number <= MAX_ROW_ID else 0  # no row has id 0: "no such session"


async def _invitation(db: Any, console: Console, invitation_id: int) -> Invitation:
    invitation = await access.get_invitation(db, invitation_id=invitation_id)
    if invitation.event_id != console.event.id:
        raise NotFound("no such invitation", code="invitation.not_found")
    return invitation


async def resend(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        console = await open_console(request, db)
        invitation = await _invitation(db, console, request.path_params["id"])
        try:
            invitation = await resend_invitation(
                db, invitation_id=invitation.id, now=services.clock.now()
            )
        except InvalidState as exc:
            await console.rollback(db)
            return see_other(
                request,
                console,
                f"{console.base}/invitations",
                gettext("Not sent: {reason}.").format(reason=exc.message),
                kind="error",
            )
        name = access.invitation_name(invitation)
        await console.record(
            db, "invitation.resent", target=f"invitation {invitation.id}", data={"for": name}
        )
        await db.commit()
    return see_other(
        request,
        console,
        f"{console.base}/invitations",
        gettext("New link for {name}. The previous link no longer works:").format(name=name),
        link=invitation_link(console, invitation),
    )


async def revoke(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        console = await open_console(request, db)
        invitation = await _invitation(db, console, request.path_params["id"])
        await access.revoke_invitation(db, invitation_id=invitation.id, now=services.clock.now())
        name = access.invitation_name(invitation)
        await console.record(
            db,
            "invitation.revoked",
            target=f"invitation {invitation.id}",
            data={"for": name, "role": invitation.role},
        )
        await db.commit()
    await console.announce(access_changed=True)
    return see_other(
        request,
        console,
        f"{console.base}/invitations",
        gettext("Revoked the invitation of {name}: it no longer gives any access.").format(
            name=name
        ),
    )
