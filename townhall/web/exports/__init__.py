"""Programme exports: iCalendar files and the c3voc conference schedule (XML and JSON).

Pure functions from loaded models (an event, and its sessions as ``list_sessions`` returns
them, people and rooms loaded) to bytes; the routes in ``townhall.web.export_routes`` and the
``townhall programme export`` command serve them. May import ``townhall.platform`` and the
rest of ``townhall.web``, never ``townhall.app``.
"""

from __future__ import annotations

from townhall.platform.models import Event, ProgrammeSession

from .c3voc import schedule_json, schedule_xml
from .ical import programme_ics, session_ics

__all__ = ["FORMATS", "render_export", "session_ics"]

FORMATS = {"ics": programme_ics, "xml": schedule_xml, "json": schedule_json}


def render_export(fmt: str, event: Event, sessions: list[ProgrammeSession], base_url: str) -> bytes:
    """The programme in ``fmt`` ("ics", "xml" or "json")."""
    try:
        render = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r} (known: ics, xml, json)") from None
    return render(event, sessions, base_url)
