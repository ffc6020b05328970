"""The console's programme page: the sessions by day, adding a session or a person, and the
programme file to download. One session's form is :mod:`townhall.web.console_session`.

Every change goes through :mod:`townhall.platform.programme_edit`, so it is checked by the
importer's own rules; its problems (``ProgrammeError.problems``) are shown next to the field
they name. Times are wall-clock times in the event's home zone, as in the programme file.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import programme, programme_edit
from townhall.platform.programme_spec import (
    PersonSpec,
    ProgrammeError,
    SessionSpec,
    local_to_utc,
)

from .console import Console, open_console, render_console, see_other
from .console_forms import Errors, choices, parse_clock, parse_date, sort_problems
from .i18n import gettext
from .programme_json import display_name
from .programme_view import format_label, kind_label, long_date
from .services import services_of

PERSON_FIELDS = ("name", "honorific", "position", "organisation", "city", "country", "label")


async def programme_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        return await _programme_page(request, console, db)


async def _programme_page(
    request: Request, console: Console, db: Any, *, status: int = 200, **forms: Any
) -> Response:
    sessions = await programme.list_sessions(db, event_id=console.event.id)
    spec = await programme_edit.spec_from_db(db, console.event.id)
    days: dict[date, list[dict[str, Any]]] = {}
    for session in sessions:
        days.setdefault(session.day, []).append(
            {
                "session": session,
                "when": _span(session.starts_at, session.ends_at, console),
                "people": len(session.appearances),
                "unconfirmed": sum(1 for a in session.appearances if a.status != "confirmed"),
                "kind_label": kind_label(session.kind),
                "format_label": format_label(session.format),
            }
        )
    return render_console(
        request,
        console,
        "console_programme.html",
        section="programme",
        status=status,
        days=[(long_date(day), items) for day, items in sorted(days.items())],
        people=sorted(spec.people, key=lambda p: display_name(p).casefold()),
        choices=choices(),
        new_session=forms.get("new_session") or {"values": {}, "errors": Errors()},
        new_person=forms.get("new_person") or {"values": {}, "errors": Errors()},
    )


def _span(starts_at: Any, ends_at: Any, console: Console) -> str:
    if starts_at is None or ends_at is None:
        return gettext("Time to be announced")
    start, end = starts_at.astimezone(console.zone), ends_at.astimezone(console.zone)
    return f"{start:%H:%M}–{end:%H:%M}"


async def add_session(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in NEW_SESSION_FIELDS}
    async with services.db() as db:
        console = await open_console(request, db)
        errors = Errors()
        session = _new_session(values, console, errors)
        if session is not None:
            try:
                events = await programme_edit.add_session(
                    db, event_id=console.event.id, session=session, now=services.clock.now()
                )
            except ProgrammeError as exc:
                sort_problems(exc.problems, errors, rows=[])
        if errors:
            await console.rollback(db)
            new = {"values": values, "errors": errors}
            return await _programme_page(request, console, db, status=422, new_session=new)
        assert session is not None
        await console.record(
            db, "session.created", target=session.slug, data={"title": session.title}
        )
        await db.commit()
    await console.announce(events, access_changed=True)
    url = f"{console.base}/programme/{session.slug}"
    return see_other(
        request,
        console,
        url,
        gettext("Added “{title}”. Now add its people.").format(title=session.title),
    )


NEW_SESSION_FIELDS = ("slug", "title", "kind", "format", "date", "start", "end")


def _new_session(values: dict[str, str], console: Console, errors: Errors) -> SessionSpec | None:
    day = parse_date(values["date"], "date", errors, required=True)
    start = parse_clock(values["start"], "start", errors)
    end = parse_clock(values["end"], "end", errors)
    if day is None or errors:
        return None
    return SessionSpec(
        slug=values["slug"],
        title=values["title"],
        kind=values["kind"],
        format=values["format"],
        day=day,
        starts_at=local_to_utc(day, start, console.zone) if start else None,
        ends_at=local_to_utc(day, end, console.zone) if end else None,
    )


async def add_person(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in PERSON_FIELDS}
    async with services.db() as db:
        console = await open_console(request, db)
        person = PersonSpec(key="", **{k: v or None for k, v in values.items()})
        try:
            await programme_edit.add_person(
                db, event_id=console.event.id, person=person, now=services.clock.now()
            )
        except ProgrammeError as exc:
            await console.rollback(db)
            errors = Errors()
            for problem in exc.problems:
                errors.add("general", problem.partition(": ")[2].partition(": ")[2] or problem)
            new = {"values": values, "errors": errors}
            return await _programme_page(request, console, db, status=422, new_person=new)
        await console.record(db, "person.created", target=display_name(person))
        await db.commit()
    return see_other(
        request,
        console,
        f"{console.base}/programme",
        gettext("Added {name}.").format(name=display_name(person)),
    )


async def download(request: Request) -> Response:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        spec = await programme_edit.spec_from_db(db, console.event.id)
    return Response(
        programme_edit.export_programme_file(spec),
        media_type="application/toml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{console.event.slug}.toml"',
            "Cache-Control": "no-store",
        },
    )
