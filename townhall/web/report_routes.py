"""Session reports: a room's story in charts, for its moderators and the organizers.

- ``/events/{slug}/rooms/{id}/report``: the page, live while the room runs, final once it ended;
- ``…/report.html``: the same as one self-contained file (charts inline, its stylesheet inline
  and allowed by hash, no script, nothing loaded from elsewhere; prints on A4);
- ``…/report.json`` and ``/api/rooms/{id}/report``: every figure; ``…/report/{chart}.csv``: the
  table behind each chart;
- ``/events/{slug}/console/report`` (organizers): every session of the event side by side, and
  ``…/report.csv``.

Figures come from :mod:`townhall.platform.session_report` (the room's event log and presence
samples); this module only checks who asks, and lays them out (:mod:`.report_view`).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from townhall.platform import programme, rooms
from townhall.platform.errors import NotFound
from townhall.platform.models import Event, Room
from townhall.platform.session_report import load_session_report

from . import (
    formats,
    report_openapi,  # noqa: F401 - documents the API route
)
from .auth import require_organizer, require_room_staff
from .charts import Bar, bar_chart
from .i18n import N_, gettext
from .pages import render
from .record_exports import csv_rows
from .report_view import Chart, charts, duration, figures, number, share, tables
from .room_pages import home_zone, state_label
from .services import services_of
from .templating import STATIC

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
ROOM = "/events/{slug}/rooms/{room_id:int}"
SUMMARY_COLUMNS = (
    "session",
    "title",
    "room",
    "state",
    "peak_audience",
    "asked",
    "approved",
    "answered",
    "turns",
    "airtime_seconds",
)


def _csp_for(css: str) -> str:
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'"


def _export_css() -> str:
    return (STATIC / "css" / "report.css").read_text(encoding="utf-8")


async def _event_room(db: AsyncSession, request: Request) -> tuple[Event, Room]:
    event = await programme.get_event(db, slug=request.path_params["slug"])
    room = await rooms.get_room(db, room_id=request.path_params["room_id"])
    if room.session.event_id != event.id:
        raise NotFound(f"room {room.id} is not part of this event", code="room.not_found")
    return event, room


async def _report(request: Request, db: AsyncSession, event: Event, room: Room) -> dict[str, Any]:
    await require_room_staff(request, db, event, room.id)
    now = services_of(request).clock.now()
    report = await load_session_report(db, room_id=room.id, now=now)
    return {
        "event": event.slug,
        "room": room.id,
        "session": {"slug": room.session.slug, "title": room.session.title},
        **report,
    }


def _context(request: Request, event: Event, room: Room, report: dict[str, Any]) -> dict[str, Any]:
    zone_label, zone = home_zone(event)
    base = f"/events/{event.slug}/rooms/{room.id}"
    generated = datetime.fromisoformat(report["generated_at"].replace("Z", "+00:00"))
    return {
        "event": event,
        "session": room.session,
        "report": report,
        "charts": charts(report, zone),
        "state_label": state_label(report["state"]),
        "answered_share": share(report["questions"]["share"]),
        "generated": formats.moment(generated, zone, zone_label),
        "zone_label": zone_label,
        "sample_seconds": services_of(request).settings.presence_sample_seconds,
        "links": {
            "room": base,
            "export": f"{base}/report.html",
            "json": f"{base}/report.json",
            "csv": f"{base}/report",
        },
    }


async def report_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        report = await _report(request, db, event, room)
    response = render(request, "report.html", **_context(request, event, room, report))
    response.headers.update(PRIVATE)
    return response


async def report_export(request: Request) -> Response:
    """One HTML file to keep or send: it loads nothing (its one link goes to the room)."""
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        report = await _report(request, db, event, room)
    context = _context(request, event, room, report)
    room_url = f"{services_of(request).settings.public_url}{context['links']['room']}"
    context["links"] = {"room": room_url, "export": None, "json": None, "csv": None}
    css = _export_css()
    html = (
        services_of(request).templates.get_template("report_export.html").render(css=css, **context)
    )
    filename = f"{event.slug}-{room.session.slug}-report.html"
    return HTMLResponse(
        html,
        headers={
            **PRIVATE,
            "Content-Security-Policy": _csp_for(css),
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


async def report_json(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        report = await _report(request, db, event, room)
    return JSONResponse(report, headers=PRIVATE)


async def report_csv(request: Request) -> Response:
    async with services_of(request).db() as db:
        event, room = await _event_room(db, request)
        report = await _report(request, db, event, room)
    name = request.path_params["chart"]
    table = tables(report).get(name)
    if table is None:
        raise NotFound(f"the report has no chart {name!r}", code="report.unknown_chart")
    return Response(
        csv_rows(table.columns, table.rows),
        media_type="text/csv; charset=utf-8",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="{event.slug}-room-{room.id}-{name}.csv"',
        },
    )


async def api_report(request: Request) -> Response:
    async with services_of(request).db() as db:
        room = await rooms.get_room(db, room_id=request.path_params["room_id"])
        event = await db.get(Event, room.session.event_id)
        assert event is not None
        report = await _report(request, db, event, room)
    return JSONResponse(report, headers=PRIVATE)


# ---- the event: every session side by side ------------------------------------------------
async def _summary_rows(request: Request, db: AsyncSession, event: Event) -> list[dict[str, Any]]:
    await require_organizer(request, db, event)
    now = services_of(request).clock.now()
    rows = []
    for session in await programme.list_sessions(db, event_id=event.id):
        if session.room is None:
            continue
        report = await load_session_report(db, room_id=session.room.id, now=now)
        q, turns = report["questions"], report["floor"]["timeline"]
        rows.append(
            {
                "session": session.slug,
                "title": session.title,
                "room": session.room.id,
                "state": report["state"],
                "peak_audience": report["attendance"]["audience"]["peak"],
                "asked": q["asked"],
                "approved": q["approved"],
                "answered": q["answered"],
                "turns": len(turns),
                "airtime_seconds": sum(turn["seconds"] for turn in turns),
            }
        )
    return rows


def _summary_charts(rows: list[dict[str, Any]]) -> list[Chart]:
    def bars(key: str, shown) -> list[Bar]:
        return [Bar(r["title"], r[key] or 0, shown(r[key])) for r in rows]

    made = []
    for name, title, key, shown in (
        (
            "peak-audience",
            N_("Peak audience per session"),
            "peak_audience",
            lambda v: number(v or 0),
        ),
        ("questions-asked", N_("Questions asked per session"), "asked", number),
        ("airtime", N_("Airtime per session"), "airtime_seconds", duration),
    ):
        summary = figures(bars(key, shown))
        heading = gettext(title)
        made.append(
            Chart(
                name,
                heading,
                bar_chart(
                    chart_id=f"chart-{name}", title=heading, desc=summary, bars=bars(key, shown)
                ),
                summary,
            )
        )
    return made


async def event_report_page(request: Request) -> Response:
    async with services_of(request).db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        rows = await _summary_rows(request, db, event)
    zone_label, zone = home_zone(event)
    for row in rows:
        row["url"] = f"/events/{event.slug}/rooms/{row['room']}/report"
        row["state_label"] = state_label(row["state"])
        row["airtime"] = duration(row["airtime_seconds"])
    response = render(
        request,
        "event_report.html",
        event=event,
        rows=rows,
        charts=_summary_charts(rows),
        totals={
            "sessions": len(rows),
            "asked": sum(r["asked"] for r in rows),
            "answered": sum(r["answered"] for r in rows),
            "airtime": duration(sum(r["airtime_seconds"] for r in rows)),
        },
        generated=formats.moment(services_of(request).clock.now(), zone, zone_label),
        zone_label=zone_label,
        csv_url=f"/events/{event.slug}/console/report.csv",
    )
    response.headers.update(PRIVATE)
    return response


async def event_report_csv(request: Request) -> Response:
    async with services_of(request).db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        rows = await _summary_rows(request, db, event)
    return Response(
        csv_rows(SUMMARY_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={
            **PRIVATE,
            "Content-Disposition": f'attachment; filename="{event.slug}-sessions-report.csv"',
        },
    )


REPORT_ROUTES = [
    Route(f"{ROOM}/report", report_page, name="room_report"),
    Route(f"{ROOM}/report.html", report_export, name="room_report_export"),
    Route(f"{ROOM}/report.json", report_json, name="room_report_json"),
    Route(f"{ROOM}/report/{{chart}}.csv", report_csv, name="room_report_csv"),
    Route("/api/rooms/{room_id:int}/report", api_report, name="api_room_report"),
    Route("/events/{slug}/console/report", event_report_page, name="event_report"),
    Route("/events/{slug}/console/report.csv", event_report_csv, name="event_report_csv"),
]
