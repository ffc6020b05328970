"""The audit log in the console: every organizer and moderator action, newest first, in pages,
filtered by room, person (who acted, or whom it concerned) and action, the filters kept in the
page links; and the whole log as CSV or JSON, with its stable codes and raw values.

The CSV opens safely in spreadsheets: it starts with a UTF-8 byte order mark (so Excel reads
the accents right), and a cell that a spreadsheet would run as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import access, audit
from townhall.platform.audit import AuditFilter
from townhall.platform.models import MAX_ROW_ID, AuditEntry

from .audit_actions import action_label, describe, look_up
from .console import open_console, render_console
from .services import services_of

PAGE_SIZE = 50
MAX_PAGE = MAX_ROW_ID // PAGE_SIZE  # entries have 32-bit ids: no log has more pages
EVERYTHING = 10**9
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("id", "at", "actor", "action", "room", "target", "details")


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat().replace("+00:00", "Z"),
        "actor": entry.actor,
        "action": entry.action,
        "room": entry.room_id,
        "target": entry.target,
        "details": entry.data,
    }


def _filter(request: Request, invitations: dict[int, str]) -> AuditFilter:
    """The filters of the query string (room id, person, action); bad values are ignored."""
    params = request.query_params
    room = params.get("room", "")
    person = params.get("person", "").strip() or None
    return AuditFilter(
        room_id=int(room) if room.isdigit() and int(room) <= MAX_ROW_ID else None,
        person=person,
        action=params.get("action", "").strip() or None,
        also_targets=[f"invitation {i}" for i, name in invitations.items() if name == person],
    )


def _query(where: AuditFilter, page: int) -> str:
    """A page's link, keeping the filters."""
    params = {
        "room": where.room_id,
        "person": where.person,
        "action": where.action,
        "page": page if page > 1 else None,
    }
    return "?" + urlencode({k: v for k, v in params.items() if v is not None})


async def page(request: Request) -> Response:
    try:
        number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    if number > MAX_PAGE:
        raise HTTPException(400, f"There is no page {number}: pages go up to {MAX_PAGE}.")
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        event = console.event
        everyone = await access.list_invitations(db, event_id=event.id)
        invitations = {i.id: access.invitation_name(i) for i in everyone}
        where = _filter(request, invitations)
        # One more than the page shows, to know whether an older page exists.
        entries = await audit.list_audit(
            db,
            event_id=event.id,
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
            where=where,
        )
        shown = entries[:PAGE_SIZE]
        subjects = await look_up(db, event, shown, console.zone, console.zone_label)
        facets = await audit.audit_facets(db, event_id=event.id)
    rooms = sorted(
        ((i, subjects.rooms.get(i, str(i))) for i in facets.room_ids), key=lambda r: r[1]
    )
    people = sorted(set(facets.actors) | set(invitations.values()), key=str.casefold)
    actions = sorted(
        ((a, action_label(a) or a) for a in facets.actions), key=lambda a: a[1].casefold()
    )
    return render_console(
        request,
        console,
        "console_audit.html",
        section="audit",
        rows=[describe(e, subjects) for e in shown],
        page=number,
        filters=where,
        filtered=bool(where.room_id or where.person or where.action),
        choices={"rooms": rooms, "people": people, "actions": actions},
        newer=_query(where, number - 1) if number > 1 else None,
        older=_query(where, number + 1) if len(entries) > PAGE_SIZE else None,
        first=_query(where, 1),
    )


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def audit_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        row = entry_json(entry)
        row["details"] = json.dumps(entry.data or {}, ensure_ascii=False, sort_keys=True)
        writer.writerow([spreadsheet_safe(row[c]) for c in COLUMNS])
    return "\ufeff" + out.getvalue()


async def _entries(request: Request) -> tuple[str, list[AuditEntry]]:
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        entries = await access.list_audit(db, event_id=console.event.id, limit=EVERYTHING)
    return console.event.slug, entries


def _attachment(slug: str, extension: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{slug}-audit-log.{extension}"',
        "Cache-Control": "no-store",
    }


async def export_csv(request: Request) -> Response:
    slug, entries = await _entries(request)
    return Response(
        audit_csv(entries).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(slug, "csv"),
    )


async def export_json(request: Request) -> Response:
    slug, entries = await _entries(request)
    body = {"event": slug, "entries": [entry_json(e) for e in entries]}
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"),
        media_type="application/json",
        headers=_attachment(slug, "json"),
    )
