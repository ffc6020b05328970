"""The audit log in the console: every organizer and moderator action, newest first, in pages,
and the whole log as CSV or JSON.

The CSV opens safely in spreadsheets: it starts with a UTF-8 byte order mark (so Excel reads
the accents right), and a cell that a spreadsheet would run as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from townhall.platform import access
from townhall.platform.models import MAX_ROW_ID, AuditEntry

from .audit_actions import action_label
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


def details_text(data: dict[str, Any]) -> str:
    """A short, readable rendering of an entry's data for the table."""
    parts = []
    for key, value in data.items():
        if value is None:
            value = "—"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


async def page(request: Request) -> Response:
    try:
        number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        number = 1
    if number > MAX_PAGE:
        raise HTTPException(400, f"There is no page {number}: pages go up to {MAX_PAGE}.")
    async with services_of(request).db() as db:
        console = await open_console(request, db)
        # One more than the page shows, to know whether an older page exists.
        entries = await access.list_audit(
            db, event_id=console.event.id, limit=number * PAGE_SIZE + 1
        )
    shown = entries[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    rows = [
        {
            "entry": e,
            "action": action_label(e.action),
            "details": details_text(e.data or {}),
        }
        for e in shown
    ]
    return render_console(
        request,
        console,
        "console_audit.html",
        section="audit",
        rows=rows,
        page=number,
        newer=number > 1,
        older=len(entries) > number * PAGE_SIZE,
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
