"""What the ``townhall programme`` and ``townhall serve --setup`` commands do."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.cli_access import WORKSHOP_1, demo_links
from townhall.platform import programme, rehearsal, seats
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.errors import DomainError
from townhall.platform.models import Event
from townhall.platform.programme_file import load_programme_file
from townhall.platform.programme_spec import ProgrammeError, ProgrammeSpec
from townhall.settings import Settings
from townhall.web.formats import moment
from townhall.web.qa_routes import ensure_screen_key
from townhall.web.room_pages import home_zone

ROOT = Path(__file__).resolve().parent.parent
SUMMIT_FILE = ROOT / "programmes" / "mayors-summit-2021.toml"


def read_programme(path: Path) -> ProgrammeSpec:
    if path.suffix.lower() == ".json":
        from townhall.platform.pretalx import load_schedule_json

        return load_schedule_json(path)
    return load_programme_file(path)


async def import_file(settings: Settings, path: Path) -> int:
    try:
        spec = read_programme(path)
    except ProgrammeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: not imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            known = await programme.find_event(db, slug=spec.event.slug)
            people_before = await seats.people_by_room(db, event_id=known.id) if known else {}
            result = await programme.import_programme(
                db, spec=spec, opens_minutes_before=settings.room_opens_minutes_before
            )
            if known is not None:  # open screens follow changed people (the server's sweep)
                clock = await rehearsal.event_clock(db, requested=settings.now)
                await seats.log_people_changes(
                    db, event_id=known.id, before=people_before, now=clock.now()
                )
            await db.commit()
    finally:
        await engine.dispose()
    print(
        f"{spec.event.slug}: {len(result.created)} session(s) created, "
        f"{len(result.updated)} updated, {len(result.removed)} removed"
    )
    return 0


async def export_programme(settings: Settings, fmt: str, event_slug: str | None) -> int:
    from townhall.web.exports import render_export

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            events = await programme.list_events(db)
            if event_slug is None and len(events) != 1:
                slugs = ", ".join(e.slug for e in events) or "none"
                print(f"give --event (events: {slugs})", file=sys.stderr)
                return 2
            event = await programme.get_event(db, slug=event_slug or events[0].slug)
            sessions = await programme.list_sessions(db, event_id=event.id)
    finally:
        await engine.dispose()
    body = render_export(fmt, event, sessions, settings.public_url)
    sys.stdout.buffer.write(body)
    return 0


async def setup_demo(settings: Settings) -> None:
    """Load the Summit into an empty database and print where to go."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            events = await programme.list_events(db)
            if not events:
                await programme.import_programme(
                    db,
                    spec=load_programme_file(SUMMIT_FILE),
                    opens_minutes_before=settings.room_opens_minutes_before,
                )
                await db.commit()
                events = await programme.list_events(db)
            # The clock the server is about to run (a restart resumes it; see rehearsal.py).
            clock = await rehearsal.event_clock(db, requested=settings.now)
            await db.commit()
            lines = [f"Townhall is starting on {settings.public_url}"]
            if events and settings.now is not None:
                lines.append(clock_line(events[0], settings.now, clock.now()))
            for event in events:
                lines.append(f"  {event.title}: {settings.public_url}/events/{event.slug}")
            if events:
                lines.extend(await workshop_links(db, settings, events[0]))
                lines.append("Role links (open each in its own browser or private window):")
                lines.extend(await demo_links(db, settings, events[0].slug, clock))
            print("\n".join(lines), flush=True)
    finally:
        await engine.dispose()


RESUMED_AFTER = timedelta(seconds=5)


def clock_line(event: Event, requested: datetime, now: datetime) -> str:
    """The rehearsal clock in the event's own time, its zone named; after a restart within
    the anchor's reuse window the clock has run on, and the line says so."""
    label, zone = home_zone(event)
    if now - requested < RESUMED_AFTER:
        at = moment(requested, zone, label, style="moment_seconds")
        return f"Event clock (rehearsal): starts at {at} and runs on from there"
    began = moment(requested, zone, label)
    at = moment(now, zone, label, style="moment_seconds")
    return f"Event clock (rehearsal, resumed): it is {at}; the rehearsal began at {began}"


async def workshop_links(db: AsyncSession, settings: Settings, event: Event) -> list[str]:
    """Thematic workshop 1's room and its big-screen page (for the hall's projector)."""
    try:
        session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    except DomainError:
        return []
    if session.room is None:
        return []
    key = await ensure_screen_key(db, session.room)
    room = f"{settings.public_url}/events/{event.slug}/rooms/{session.room.id}"
    return [
        f"  {session.title} — its room (audience Q&A):\n    {room}",
        f"  {session.title} — the big screen (for the hall's projector):\n    {room}/screen/{key}",
    ]
