"""The console's audience admission: open to anyone, or with an access code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from townhall.platform.errors import Invalid
from townhall.platform.participants import normalise_access_code

from .console import open_console, see_other
from .i18n import gettext
from .services import services_of


async def save_admission(request: Request) -> Response:
    services = services_of(request)
    form = await request.form()
    mode = str(form.get("admission", "open"))
    async with services.db() as db:
        console = await open_console(request, db)
        try:
            code = (
                normalise_access_code(str(form.get("access_code", ""))) if mode == "code" else None
            )
            if mode == "code" and code is None:
                raise Invalid(
                    "give the access code the audience will use", code="event.invalid_access_code"
                )
        except Invalid as exc:
            return see_other(
                request,
                console,
                console.base,
                gettext("Not saved: {reason}").format(reason=exc.message),
            )
        console.event.access_code = code
        await console.record(db, "event.admission_changed", data={"admission": mode})
        await db.commit()
    message = (
        gettext("The event now needs its access code.")
        if code
        else gettext("The event is open to anyone.")
    )
    return see_other(request, console, console.base, message)
