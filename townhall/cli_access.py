"""``townhall invite``, ``townhall seat`` and the demo links ``make run`` prints.

Each stamps what it records (audit entries, an invitation's validity) on the event clock the
server uses: with ``TOWNHALL_NOW`` set, the rehearsal clock anchored in the database
(:func:`townhall.platform.rehearsal.event_clock`), so one log never mixes two clocks.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import access, programme, rehearsal, seats
from townhall.platform.clock import Clock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.errors import DomainError, Invalid
from townhall.platform.models import Invitation
from townhall.realtime.identity import invitation_token
from townhall.settings import Settings


def invitation_link(settings: Settings, invitation: Invitation) -> str:
    token = invitation_token(invitation.id, invitation.nonce, settings.secret_key)
    return f"{settings.public_url}/invitations/{token}"


async def issue_invitation(
    db: AsyncSession,
    *,
    role: str,
    event_slug: str,
    session_slug: str | None,
    person_name: str | None,
    days: int,
    created_by: str,
    clock: Clock,
    slot: str | None = None,
) -> Invitation:
    event = await programme.get_event(db, slug=event_slug)
    session_id = person_id = None
    if session_slug:
        session_id = (await programme.get_session(db, event_id=event.id, slug=session_slug)).id
    if person_name:
        person_id = (await access.find_person(db, event_id=event.id, name=person_name)).id
    if slot:
        if session_id is None:
            raise Invalid("--slot needs --session", code="invitation.scope")
        person_id = (await seats.find_slot(db, session_id=session_id, slot=slot)).person.id
    now = clock.now()
    invitation = await access.create_invitation(
        db,
        event_id=event.id,
        role=role,
        now=now,
        session_id=session_id,
        person_id=person_id,
        valid_for=timedelta(days=days),
        created_by=created_by,
    )
    await access.record(
        db,
        event_id=event.id,
        actor=created_by,
        action="invitation.created",
        target=f"invitation {invitation.id}",
        now=now,
        data={"role": role, "session": session_slug, "person": person_name, "slot": slot},
    )
    return await access.get_invitation(db, invitation_id=invitation.id)


async def invite(
    settings: Settings,
    role: str,
    event: str,
    session: str | None,
    person: str | None,
    days: int,
    slot: str | None = None,
) -> int:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            try:
                invitation = await issue_invitation(
                    db,
                    role=role,
                    event_slug=event,
                    session_slug=session,
                    person_name=person,
                    days=days,
                    created_by="command line",
                    clock=await rehearsal.event_clock(db, requested=settings.now),
                    slot=slot,
                )
            except DomainError as exc:
                print(f"townhall invite: {exc.message}", file=sys.stderr)
                return 1
            await db.commit()
            name = access.invitation_name(invitation)
            print(f"{role} invitation for {name}, valid {days} days:")
            print(invitation_link(settings, invitation))
    finally:
        await engine.dispose()
    return 0


# Who `make run` invites, so a newcomer can try every role at once.
async def seat(settings: Settings, args: argparse.Namespace) -> int:
    """Seat a person in a slot of a session (as an organizer would in the console)."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            try:
                event = await programme.get_event(db, slug=args.event)
                session = await programme.get_session(db, event_id=event.id, slug=args.session)
                slot = await seats.find_slot(db, session_id=session.id, slot=args.slot)
                key, was = slot.person.key, seats.seat_label(slot.person, slot.appearance.status)
                person = seats.SeatedPerson(
                    name=args.name,
                    honorific=args.honorific,
                    postnominals=args.postnominals,
                    position=args.position,
                    city=args.city,
                    organisation=args.organisation,
                )
                clock = await rehearsal.event_clock(db, requested=settings.now)
                now = clock.now()
                await seats.seat_person(
                    db, slot_id=slot.person.id, person=person, confirmed=args.confirmed, now=now
                )
                await access.record(
                    db,
                    event_id=event.id,
                    actor="command line",
                    action="slot.seated",
                    target=key,
                    now=now,
                    data={"slot": was, "name": person.name, "confirmed": args.confirmed},
                )
                filled = await seats.get_slot(db, slot_id=slot.person.id)
            except DomainError as exc:
                print(f"townhall seat: {exc.message}", file=sys.stderr)
                return 1
            await db.commit()
            label = seats.seat_label(filled.person, filled.appearance.status)
            print(f"{key}: {was} is now {label}")
    finally:
        await engine.dispose()
    return 0


# (role, session, person, slot, note)
WORKSHOP_1 = "workshop-1-building-resilience"
DEMO_INVITATIONS = (
    ("organizer", None, None, None, "Organizer"),
    ("moderator", None, "Güldem Özdoğan", None, "moderates Thematic workshop 1"),
    ("panelist", None, "Sameh Wahba", None, "introduces Thematic workshop 1"),
    ("panelist", None, "Lina Liakou", None, "introduces Thematic workshop 1"),
    ("panelist", WORKSHOP_1, None, "Paris", "the Paris seat on Thematic workshop 1's panel"),
    ("moderator", None, "Begüm Özden Fırat", None, "moderates Thematic workshop 3"),
    ("panelist", None, "Eric Rosand", None, "introduces Thematic workshop 3"),
)


async def demo_links(
    db: AsyncSession, settings: Settings, event_slug: str, clock: Clock
) -> list[str]:
    """Links for the demo roles, reusing the invitations of an earlier run."""
    event = await programme.get_event(db, slug=event_slug)
    existing = await access.list_invitations(db, event_id=event.id)
    now = clock.now()
    lines = []
    for role, session, person, slot, note in DEMO_INVITATIONS:
        try:
            person_id = (
                (await access.find_person(db, event_id=event.id, name=person)).id
                if person
                else None
            )
            if slot and session:
                found = await programme.get_session(db, event_id=event.id, slug=session)
                person_id = (await seats.find_slot(db, session_id=found.id, slot=slot)).person.id
        except DomainError:
            continue
        invitation = next(
            (
                i
                for i in existing
                if i.role == role
                and i.person_id == person_id
                and i.created_by == "make run"
                and access.invitation_state(i, now) in ("pending", "redeemed")
            ),
            None,
        )
        if invitation is None:
            invitation = await issue_invitation(
                db,
                role=role,
                event_slug=event_slug,
                session_slug=session,
                person_name=person,
                days=30,
                created_by="make run",
                clock=clock,
                slot=slot,
            )
        if role == "organizer":
            label = "Organizer (the whole event, with the console)"
        else:
            label = f"{role.title()} — {access.invitation_name(invitation)} ({note})"
        lines.append(f"  {label}:\n    {invitation_link(settings, invitation)}")
    await db.commit()
    return lines
