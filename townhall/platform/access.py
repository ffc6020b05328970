"""Who may do what: invitations for organizers, moderators and panelists, and the roles they
give in each room.

An invitation is for one event and one role, optionally tied to a programme session and/or a
programme person — or a slot of a session ("Paris (tbc)"): whoever accepts it *is* that slot,
so questions addressed or assigned to the slot reach them (``Viewer.person_id`` is the slot)
and answer credit names whoever is seated in it. A person's invitation follows the programme:
the person listed as moderator of a session moderates its room, a person listed in any other
part of a session sits on its panel, and editing the programme changes what the invitation
allows. Invitations expire and can be revoked; both take effect at once, because roles are
worked out afresh each time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from .audit import list_audit as list_audit
from .audit import record as record
from .errors import Invalid, NotFound
from .models import Appearance, Invitation, Person, ProgrammeSession, Room
from .participants import clean_display_name, create_participant
from .seats import credit_name
from .viewers import Viewer

ROLES = ("organizer", "moderator", "panelist")
DEFAULT_VALIDITY = timedelta(days=30)
MAX_VALIDITY = timedelta(days=365)


@dataclass(frozen=True)
class Grants:
    organizer: bool
    moderates: frozenset[int]
    panelist_in: frozenset[int]
    person_id: int | None
    name: str | None


async def create_invitation(
    db: AsyncSession,
    *,
    event_id: int,
    role: str,
    now: datetime,
    session_id: int | None = None,
    person_id: int | None = None,
    label: str | None = None,
    valid_for: timedelta = DEFAULT_VALIDITY,
    created_by: str | None = None,
) -> Invitation:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r} (known: {', '.join(ROLES)})", code="invitation.role")
    if role != "organizer" and session_id is None and person_id is None:
        raise Invalid(
            f"a {role} invitation needs a session or a person of the programme",
            code="invitation.scope",
        )
    if role == "organizer" and session_id is not None:
        raise Invalid("organizers run the whole event: give no session", code="invitation.scope")
    if not timedelta(minutes=1) <= valid_for <= MAX_VALIDITY:
        raise Invalid("an invitation is valid for 1 minute to 365 days", code="invitation.validity")
    if session_id is not None:
        session = await db.get(ProgrammeSession, session_id)
        if session is None or session.event_id != event_id:
            raise NotFound("no such session in this event", code="session.not_found")
    if person_id is not None:
        person = await db.get(Person, person_id)
        if person is None or person.event_id != event_id:
            raise NotFound("no such person in this event", code="person.not_found")
    if session_id is not None and person_id is not None:
        listed = await db.scalar(
            select(Appearance.id)
            .where(Appearance.session_id == session_id, Appearance.person_id == person_id)
            .limit(1)
        )
        if listed is None:
            raise Invalid(
                "that person or slot is not listed in that session",
                code="invitation.not_in_session",
            )
    invitation = Invitation(
        event_id=event_id,
        role=role,
        session_id=session_id,
        person_id=person_id,
        label=clean_display_name(label) if label else None,
        nonce=secrets.token_urlsafe(8),
        created_at=now,
        expires_at=now + valid_for,
        created_by=created_by,
    )
    db.add(invitation)
    await db.flush()
    return invitation


async def get_invitation(db: AsyncSession, *, invitation_id: int) -> Invitation:
    invitation = await db.scalar(
        select(Invitation)
        .where(Invitation.id == invitation_id)
        .options(selectinload(Invitation.person), selectinload(Invitation.session))
    )
    if invitation is None:
        raise NotFound("no such invitation", code="invitation.not_found")
    return invitation


def invitation_state(invitation: Invitation, now: datetime) -> str:
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return "redeemed" if invitation.redeemed_at is not None else "pending"


async def list_invitations(db: AsyncSession, *, event_id: int) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(Invitation.event_id == event_id)
        .order_by(Invitation.id)
        .options(selectinload(Invitation.person), selectinload(Invitation.session))
    )
    return list((await db.scalars(query)).all())


async def revoke_invitation(db: AsyncSession, *, invitation_id: int, now: datetime) -> Invitation:
    invitation = await get_invitation(db, invitation_id=invitation_id)
    if invitation.revoked_at is None:
        invitation.revoked_at = now
        await db.flush()
    return invitation


async def redeem_invitation(
    db: AsyncSession, *, invitation_id: int, nonce: str, now: datetime
) -> Invitation:
    """Check an invitation can be used now; record its first use and give it a participant."""
    invitation = await get_invitation(db, invitation_id=invitation_id)
    if not secrets.compare_digest(invitation.nonce, nonce):
        raise NotFound("no such invitation", code="invitation.not_found")
    state = invitation_state(invitation, now)
    if state in ("revoked", "expired"):
        raise Invalid(f"this invitation has been {state}", code=f"invitation.{state}")
    if invitation.redeemed_at is None:
        invitation.redeemed_at = now
    if invitation.participant_id is None:
        participant = await create_participant(
            db, event_id=invitation.event_id, display_name=invitation_name(invitation), now=now
        )
        invitation.participant_id = participant.id
    await db.flush()
    return invitation


def invitation_name(invitation: Invitation) -> str:
    """Whom an invitation is for: the person, or the person seated in its slot, or the slot
    itself ("Mayor of Paris") until someone is seated in it."""
    person = invitation.person
    if person is not None and person.name:
        return person.name
    if invitation.label:
        return invitation.label
    if person is not None:
        return credit_name(person)
    return invitation.role.title()


async def grants_of(
    db: AsyncSession, *, event_id: int, invitation_ids: list[int], now: datetime
) -> tuple[Grants, list[Invitation]]:
    """What the usable invitations among ``invitation_ids`` allow in one event, right now."""
    invitations = [
        i
        for i in (
            await db.scalars(
                select(Invitation)
                .where(Invitation.id.in_(invitation_ids), Invitation.event_id == event_id)
                .options(selectinload(Invitation.person))
            )
        ).all()
        if invitation_state(i, now) in ("pending", "redeemed")
    ]
    organizer = any(i.role == "organizer" for i in invitations)
    moderates: set[int] = set()
    panel: set[int] = set()
    rooms_by_session = await _rooms_by_session(db, event_id)
    for invitation in invitations:
        target = moderates if invitation.role == "moderator" else panel
        if invitation.role == "organizer":
            continue
        if invitation.session_id is not None:
            if (room := rooms_by_session.get(invitation.session_id)) is not None:
                target.add(room)
            continue
        for appearance in await _appearances_of(db, invitation.person_id):
            room = rooms_by_session.get(appearance.session_id)
            if room is None:
                continue
            if appearance.role == "moderator" and invitation.role == "moderator":
                moderates.add(room)
            elif appearance.role != "moderator" and invitation.role == "panelist":
                panel.add(room)
    person_id = next((i.person_id for i in invitations if i.person_id is not None), None)
    name = invitation_name(invitations[0]) if invitations else None
    return (
        Grants(organizer, frozenset(moderates), frozenset(panel - moderates), person_id, name),
        invitations,
    )


async def _rooms_by_session(db: AsyncSession, event_id: int) -> dict[int, int]:
    rows = await db.execute(
        select(Room.session_id, Room.id)
        .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
        .where(ProgrammeSession.event_id == event_id)
    )
    return {session_id: room_id for session_id, room_id in rows.all()}


async def _appearances_of(db: AsyncSession, person_id: int | None) -> list[Appearance]:
    if person_id is None:
        return []
    return list(
        (await db.scalars(select(Appearance).where(Appearance.person_id == person_id))).all()
    )


def viewer_with_grants(viewer: Viewer | None, grants: Grants, *, event_id: int) -> Viewer | None:
    if not (grants.organizer or grants.moderates or grants.panelist_in):
        return viewer
    base = viewer or Viewer(event_id=event_id)
    return Viewer(
        participant_id=base.participant_id,
        display_name=grants.name or base.display_name,
        event_id=event_id,
        organizer=grants.organizer,
        moderates=grants.moderates,
        panelist_in=grants.panelist_in,
        person_id=grants.person_id,
        banned=False,  # staff cannot be banned by a moderator; revoke the invitation instead
    )


async def find_person(db: AsyncSession, *, event_id: int, name: str) -> Person:
    """A programme person by key, exact name, or a unique case-insensitive part of the name."""
    people = list((await db.scalars(select(Person).where(Person.event_id == event_id))).all())
    wanted = name.strip().casefold()
    for test in (
        lambda p: p.key == name,
        lambda p: (p.name or "").casefold() == wanted,
        lambda p: wanted in (p.name or p.label or p.city or "").casefold(),
    ):
        matches = [p for p in people if test(p)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(p.name or p.label or p.key for p in matches)
            raise Invalid(f"{name!r} matches several people: {names}", code="person.ambiguous")
    raise NotFound(f"nobody in the programme matches {name!r}", code="person.not_found")
