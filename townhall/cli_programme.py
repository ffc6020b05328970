"""What the ``townhall programme`` and ``townhall serve --setup`` commands do."""

from __future__ import annotations

import sys
from pathlib import Path

from townhall.cli_access import demo_links
from townhall.platform import programme
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.programme_file import load_programme_file
from townhall.platform.programme_spec import ProgrammeError, ProgrammeSpec
from townhall.settings import Settings

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
            result = await programme.import_programme(
                db, spec=spec, opens_minutes_before=settings.room_opens_minutes_before
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
            lines = [f"Townhall is starting on {settings.public_url}"]
            if settings.now is not None:
                lines.append(f"Event clock (rehearsal) starts at {settings.now.isoformat()}")
            for event in events:
                lines.append(f"  {event.title}: {settings.public_url}/events/{event.slug}")
            if events:
                lines.append("Role links (open each in its own browser or private window):")
                lines.extend(await demo_links(db, settings, events[0].slug))
            print("\n".join(lines), flush=True)
    finally:
        await engine.dispose()
