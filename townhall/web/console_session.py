"""The console's form for one programme session: its fields, its times, its people.

Saving goes through :func:`townhall.platform.programme_edit.update_session`, so the importer's
rules apply; their problems, and the form's own (a time that is not ``HH:MM``), are shown next
to the field they name. Times are wall-clock times in the event's home zone. The form carries
the version of the session it was built from: saving over someone else's newer change asks
first.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import programme, programme_edit, seats
from townhall.platform.errors import Conflict, InvalidState
from townhall.platform.programme_spec import (
    AppearanceSpec,
    PersonSpec,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
)

from .console import Console, open_console, render_console, see_other
from .console_forms import Errors, choices, parse_clock, parse_date, sort_problems
from .i18n import N_, gettext
from .programme_json import display_name
from .room_pages import state_label
from .services import services_of

BLANK_ROWS = 2
BLANK_ROW = {
    "person": "",
    "name": "",
    "role": "",
    "status": "confirmed",
    "segment": "",
    "topic": "",
}
MAX_ROWS = 200


# The seating form's fields (console_seats.py): who fills a slot.
SEAT_FIELDS = ("name", "honorific", "position", "city", "organisation")
SeatFailure = tuple[str, dict[str, str], Errors]  # the slot's key, what was typed, the problems


async def edit_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        return await edit_response(request, console, db, request.path_params["session"])


async def edit_response(
    request: Request,
    console: Console,
    db: AsyncSession,
    slug: str,
    *,
    seat_failure: SeatFailure | None = None,
    status: int = 200,
) -> Response:
    """The session's page as it now is (with a seating form's problems, if one failed)."""
    spec = await programme_edit.spec_from_db(db, console.event.id)
    session = programme_edit.find_session(spec, slug)
    found = await programme.get_session(db, event_id=console.event.id, slug=session.slug)
    return _render_edit(
        request,
        console,
        spec,
        session,
        found.room,
        values=_values_of(session, spec, console),
        rows=_rows_of(session),
        errors=Errors(),
        seat_forms=await seat_forms(db, found.id, seat_failure),
        status=status,
    )


async def seat_forms(
    db: AsyncSession, session_id: int, failure: SeatFailure | None = None
) -> list[dict[str, Any]]:
    """One seating form per slot of the session (entries the programme gives no person)."""
    forms = []
    for slot in await seats.list_slots(db, session_id=session_id):
        person, key = slot.person, slot.person.key
        if failure is not None and failure[0] == key:
            values, errors = failure[1], failure[2]
        else:
            values = {name: getattr(person, name) or "" for name in SEAT_FIELDS}
            values["confirmed"] = ""
            errors = Errors()
        forms.append(
            {
                "key": key,
                "prefix": f"seat-{slot.appearance.position + 1}",
                "label": seats.seat_label(person, slot.appearance.status),
                "filled": slot.filled,
                "fields": values,
                "errors": errors,
            }
        )
    return forms


def _render_edit(
    request: Request,
    console: Console,
    spec: ProgrammeSpec,
    session: SessionSpec,
    room: Any,
    *,
    values: dict[str, str],
    rows: list[dict[str, str]],
    errors: Errors,
    seat_forms: list[dict[str, Any]],
    existing: int | None = None,
    status: int = 200,
) -> Response:
    """``rows`` start with the session's ``existing`` people; empty rows to add more follow."""
    shown = [*rows, *(dict(BLANK_ROW) for _ in range(BLANK_ROWS))]
    return render_console(
        request,
        console,
        "console_session.html",
        section="programme",
        status=status,
        session=session,
        room=room,
        room_state_label=state_label(room.state) if room else "",
        values=values,
        rows=shown,
        existing=len(rows) if existing is None else existing,
        errors=errors,
        people=sorted(spec.people, key=lambda p: display_name(p).casefold()),
        parts=[(p.slug, p.title) for p in spec.event.parts],
        choices=choices(),
        seat_forms=seat_forms,
    )


def _values_of(session: SessionSpec, spec: ProgrammeSpec, console: Console) -> dict[str, str]:
    start = session.starts_at.astimezone(console.zone) if session.starts_at else None
    end = session.ends_at.astimezone(console.zone) if session.ends_at else None
    return {
        "title": session.title,
        "kind": session.kind,
        "format": session.format,
        "part": session.part or "",
        "date": session.day.isoformat(),
        "start": f"{start:%H:%M}" if start else "",
        "end": f"{end:%H:%M}" if end else "",
        "end_date": end.date().isoformat() if end and end.date() != session.day else "",
        "description": session.description,
        "guiding_questions": "\n".join(session.guiding_questions),
        "version": programme_edit.session_version(spec, session.slug),
    }


def _rows_of(session: SessionSpec) -> list[dict[str, str]]:
    return [
        {
            "person": a.person,
            "name": "",
            "role": a.role,
            "status": a.status,
            "segment": a.segment or "",
            "topic": a.topic or "",
        }
        for a in session.appearances
    ]


EDIT_FIELDS = (
    "title",
    "kind",
    "format",
    "part",
    "date",
    "start",
    "end",
    "end_date",
    "description",
    "guiding_questions",
    "version",
)
ROW_FIELDS = ("person", "name", "role", "status", "segment", "topic", "remove")


def _read_edit_form(form: FormData) -> tuple[dict[str, str], list[dict[str, str]], int]:
    """The fields, the people rows (the session's own, then the new ones filled in) and how
    many of the rows are the session's own."""
    values = {name: str(form.get(name, "")) for name in EDIT_FIELDS}
    for name in EDIT_FIELDS:
        if name not in ("description", "guiding_questions"):
            values[name] = values[name].strip()
    count, existing = (_count(form.get(name)) for name in ("rows", "existing"))
    rows = [
        {name: str(form.get(f"people-{i}-{name}", "")).strip() for name in ROW_FIELDS}
        for i in range(count)
    ]
    existing = min(existing, count)
    return values, [*rows[:existing], *filter(_touched, rows[existing:])], existing


def _count(raw: object) -> int:
    try:
        return max(0, min(int(str(raw)), MAX_ROWS))
    except ValueError:
        return 0


async def save_session(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    values, rows, existing = _read_edit_form(form)
    slug = request.path_params["session"]
    async with services.db() as db:
        console = await open_console(request, db)
        before = await programme_edit.spec_from_db(db, console.event.id)
        current = programme_edit.find_session(before, slug)
        errors = Errors()
        changes, kept = _changes(values, rows, before, errors)
        if errors:  # the form's own problems, and the importer's about everything else
            changed = programme_edit.with_session_changes(before, slug, changes)
            sort_problems(programme_edit.problems_of(changed), errors, rows=kept, known=True)
        else:
            try:
                people_before = await seats.people_by_room(db, event_id=console.event.id)
                events = await programme_edit.update_session(
                    db,
                    event_id=console.event.id,
                    slug=slug,
                    changes=changes,
                    now=services.clock.now(),
                    expected_version=values["version"] or None,
                )
                events += await seats.log_people_changes(
                    db, event_id=console.event.id, before=people_before, now=services.clock.now()
                )
            except ProgrammeError as exc:
                sort_problems(exc.problems, errors, rows=kept)
            except Conflict:
                errors.add("general", gettext(CONFLICT))
                values["version"] = programme_edit.session_version(before, slug)
        if errors:
            await console.rollback(db)
            found = await programme.get_session(db, event_id=console.event.id, slug=slug)
            return _render_edit(
                request,
                console,
                before,
                current,
                found.room,
                values=values,
                rows=rows,
                existing=existing,
                errors=errors,
                seat_forms=await seat_forms(db, found.id),
                status=422,
            )
        after = programme_edit.find_session(
            await programme_edit.spec_from_db(db, console.event.id), slug
        )
        await console.record(db, "session.updated", target=slug, data=_diff(current, after))
        await db.commit()
    await console.announce(events, access_changed=True)
    return see_other(
        request,
        console,
        f"{console.base}/programme/{slug}",
        gettext("Saved “{title}”.").format(title=after.title),
    )


CONFLICT = N_(
    "Someone else saved this session while you were editing it. Your changes are below; "
    "saving again replaces theirs (open the session again to see them)."
)


def _touched(row: dict[str, str]) -> bool:
    """A new row counts once anything is chosen or typed in it (its status has a default)."""
    return any(row[name] for name in ("person", "name", "role", "segment", "topic"))


def _changes(
    values: dict[str, str], rows: list[dict[str, str]], spec: ProgrammeSpec, errors: Errors
) -> tuple[dict[str, Any], list[int]]:
    """The form as ``update_session`` changes; ``kept[n]`` is the form row of appearance n."""
    day = parse_date(values["date"], "date", errors, required=True)
    taken = {p.key for p in spec.people}
    appearances, new_people, kept = [], [], []
    for index, row in enumerate(rows):
        if row["remove"]:
            continue
        person = row["person"]
        if row["name"] and person:
            errors.add(f"people-{index}-name", "choose a person or type a new name, not both")
            continue
        if not (person or row["name"]):
            errors.add(f"people-{index}-person", "choose who (or tick “Remove”)")
            continue
        if not person:
            person = programme_edit.new_person_key(row["name"], taken)
            taken.add(person)
            new_people.append(PersonSpec(key=person, name=row["name"]))
        appearances.append(
            AppearanceSpec(
                person=person,
                role=row["role"],
                status=row["status"] or "confirmed",
                segment=row["segment"] or None,
                topic=row["topic"] or None,
            )
        )
        kept.append(index)
    changes: dict[str, Any] = {
        "title": values["title"],
        "kind": values["kind"],
        "format": values["format"],
        "part": values["part"] or None,
        "start": parse_clock(values["start"], "start", errors),
        "end": parse_clock(values["end"], "end", errors),
        "end_day": parse_date(values["end_date"], "end_date", errors),
        "description": values["description"],
        "guiding_questions": tuple(values["guiding_questions"].splitlines()),
        "appearances": tuple(appearances),
        "new_people": tuple(new_people),
    }
    if day is not None:
        changes["day"] = day
    return changes, kept


def _diff(before: SessionSpec, after: SessionSpec) -> dict[str, Any]:
    names = [f.name for f in dataclasses.fields(SessionSpec)]
    changed = [n for n in names if getattr(before, n) != getattr(after, n)]
    data: dict[str, Any] = {"changed": changed}
    if "starts_at" in changed or "ends_at" in changed:
        data["from"] = [_iso(before.starts_at), _iso(before.ends_at)]
        data["to"] = [_iso(after.starts_at), _iso(after.ends_at)]
    return data


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def remove(request: Request) -> Response:
    services = services_of(request)
    slug = request.path_params["session"]
    async with services.db() as db:
        console = await open_console(request, db)
        try:
            events = await programme_edit.remove_session(
                db, event_id=console.event.id, slug=slug, now=services.clock.now()
            )
        except InvalidState as exc:
            await console.rollback(db)
            url = f"{console.base}/programme/{slug}"
            return see_other(
                request,
                console,
                url,
                gettext("Not removed: {reason}.").format(reason=exc.message),
                kind="error",
            )
        await console.record(db, "session.removed", target=slug)
        await db.commit()
    await console.announce(events, access_changed=True)
    return see_other(
        request,
        console,
        f"{console.base}/programme",
        gettext("Removed the session {slug}.").format(slug=slug),
    )
