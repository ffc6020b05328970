"""A room's questions as a file for the record: JSON, and CSV for spreadsheet apps.

Every question with its status, votes, timestamps and the moderators' actions on it (from the
audit log). The asker is always named by the pseudonymous participant id; by display name only
when they did not ask anonymously. The CSV starts with a UTF-8 byte order mark (so spreadsheet
apps read it as UTF-8) and neutralises cells a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from townhall.platform.models import AuditEntry, Event, Room

from .export_headers import header_row

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = tuple(
    "id status text language votes anonymous participant author to assigned_to created_at "
    "published_at answered_at updated_at answered_by merged_into pinned flagged dismiss_reason "
    "edited moderator_actions".split()
)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _actions(audit: Iterable[AuditEntry], room_id: int) -> dict[str, list[dict[str, Any]]]:
    """Audit entries on the room's questions, oldest first, by target ("question 12")."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in sorted(audit, key=lambda e: e.id):
        if entry.room_id == room_id and (entry.target or "").startswith("question "):
            data = {k: v for k, v in (entry.data or {}).items() if v is not None}
            found[entry.target or ""].append(
                {"at": _iso(entry.at), "actor": entry.actor, "action": entry.action, "data": data}
            )
    return found


def export_question(question: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": question["id"],
        "status": question["status"],
        "text": question["text"],
        "language": question["language"],
        "votes": question["votes"],
        "anonymous": question["anonymous"],
        "participant": question["participant"],
        "author": None if question["anonymous"] else question["author_name"],
        "to": question["to"],
        "assigned_to": question["assigned_to"],
        "created_at": question["created_at"],
        "published_at": question["published_at"],
        "answered_at": question["answered_at"],
        "updated_at": question["updated_at"],
        "answered_by": question["answered_by"],
        "merged_into": question["merged_into"],
        "pinned": question["pinned"],
        "flagged": question["flagged"],
        "dismiss_reason": question["dismiss_reason"],
        "edited": question["edited"],
        "moderator_actions": actions,
    }


def export_document(
    *,
    event: Event,
    room: Room,
    questions: list[dict[str, Any]],
    audit: Iterable[AuditEntry],
    exported_at: datetime,
) -> dict[str, Any]:
    actions = _actions(audit, room.id)
    return {
        "event": event.slug,
        "room": room.id,
        "session": {"slug": room.session.slug, "title": room.session.title},
        "exported_at": _iso(exported_at),
        "questions": [
            export_question(q, actions.get(f"question {q['id']}", [])) for q in questions
        ],
    }


def safe_cell(value: Any) -> str:
    """A cell as text that no spreadsheet runs: formula starts get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _person(ref: dict[str, Any] | None) -> str | None:
    return None if ref is None else ref["name"] or ref["key"]


def _action_text(action: dict[str, Any]) -> str:
    details = ", ".join(f"{k}: {v}" for k, v in action["data"].items())
    text = f"{action['at']} {action['action']} by {action['actor']}"
    return f"{text} ({details})" if details else text


def csv_body(questions: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header_row(COLUMNS))
    for q in questions:
        row = {
            **q,
            "to": _person(q["to"]),
            "assigned_to": _person(q["assigned_to"]),
            "moderator_actions": "; ".join(_action_text(a) for a in q["moderator_actions"]),
        }
        writer.writerow([safe_cell(row[column]) for column in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
