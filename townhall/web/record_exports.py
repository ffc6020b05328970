"""A session's record beyond its questions: who spoke (the floor), airtime, and backstage.

Rows come from the domain (``platform/floor.py``, ``platform/backstage.py``); this module lays
them out as one JSON document and as CSV files, with the same safeguards as the question
exports (a UTF-8 byte order mark, formula-looking cells neutralised).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from townhall.platform.models import Event, Room

from .export_headers import header_row
from .question_exports import safe_cell

SPEAKER_COLUMNS = "request name city kind granted_at ended_at limit_seconds seconds".split()
AIRTIME_COLUMNS = ("city", "seconds", "turns")
BACKSTAGE_COLUMNS = ("sent_at", "from", "role", "to", "text", "question")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record_document(
    *,
    event: Event,
    room: Room,
    speakers: list[dict[str, Any]],
    airtime: dict[str, Any],
    backstage: list[dict[str, Any]],
    exported_at: datetime,
) -> dict[str, Any]:
    return {
        "event": event.slug,
        "room": room.id,
        "session": {"slug": room.session.slug, "title": room.session.title},
        "exported_at": _iso(exported_at),
        "speakers": speakers,
        "airtime": airtime,
        "backstage": backstage,
    }


def csv_rows(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header_row(columns))
    for row in rows:
        writer.writerow([safe_cell(row[column]) for column in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
