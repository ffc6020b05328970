"""The console's seating form: fill one of a session's slots ("Mayor of Paris (tbc)", "Other
mayors/speakers", "Moderator (tbc)") with a person, as ``townhall seat`` does.

Saving goes through :func:`townhall.platform.seats.seat_person` (the programme importer's
path): the slot keeps its key, role, heading and status ("confirmed" clears "tbc"), so an
invitation made for the slot and the questions put to it now belong to the person seated.
The change is audited (``slot.seated``) and its ``room.people_changed`` event is published
after commit, so open pages rename the seat at once; invitation holders are re-checked
(``access.changed``: their names follow). The form is CSRF-protected like every console form
(the Origin check of :mod:`townhall.web.csrf`); a problem is shown next to its field.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import programme, seats
from townhall.platform.errors import Invalid, NotFound
from townhall.platform.programme_spec import ProgrammeError

from .console import open_console, see_other
from .console_forms import Errors
from .console_session import SEAT_FIELDS, edit_response
from .i18n import gettext
from .services import services_of


def _read(form: Any) -> dict[str, str]:
    values = {name: str(form.get(name, "")).strip() for name in SEAT_FIELDS}
    values["confirmed"] = "1" if form.get("confirmed") else ""
    return values


async def seat(request: Request) -> Response:
    services = services_of(request)
    values = _read(await request.form())
    slug, key = request.path_params["session"], request.path_params["slot"]
    async with services.db() as db:
        console = await open_console(request, db)
        session = await programme.get_session(db, event_id=console.event.id, slug=slug)
        slots = await seats.list_slots(db, session_id=session.id)
        slot = next((s for s in slots if s.person.key == key), None)
        if slot is None:
            raise NotFound(f"the session has no slot {key!r}", code="slot.not_found")
        was = seats.seat_label(slot.person, slot.appearance.status)
        errors = Errors()
        person = seats.SeatedPerson(**{name: values[name] or None for name in SEAT_FIELDS})
        try:
            events = await seats.seat_person(
                db,
                slot_id=slot.person.id,
                person=person,
                confirmed=bool(values["confirmed"]),
                now=services.clock.now(),
            )
        except Invalid as exc:
            errors.add(str(exc.details.get("field", "general")), exc.message)
        except ProgrammeError as exc:
            for problem in exc.problems:
                errors.add("general", problem.partition(": ")[2] or problem)
        if errors:
            await console.rollback(db)
            return await edit_response(
                request, console, db, slug, seat_failure=(key, values, errors), status=422
            )
        await console.record(
            db,
            "slot.seated",
            target=key,
            data={"slot": was, "name": person.name, "confirmed": bool(values["confirmed"])},
        )
        filled = await seats.get_slot(db, slot_id=slot.person.id)
        now_label = seats.seat_label(filled.person, filled.appearance.status)
        await db.commit()
    await console.announce(events, access_changed=True)
    return see_other(
        request,
        console,
        f"{console.base}/programme/{slug}",
        gettext("“{slot}” is now {name}.").format(slot=was, name=now_label),
    )
