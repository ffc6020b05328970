"""The Q&A API routes (exports, big-screen link) as ``townhall.web.openapi`` documents them.

``qa_routes`` hands these to :func:`townhall.web.openapi.extend`; ``tests/web/test_openapi.py``
checks every ``/api`` route is documented, ``tests/web/test_qa_routes.py`` that real answers
match these schemas.
"""

from __future__ import annotations

from typing import Any

from townhall.platform.models import MAX_ROW_ID

_NULLABLE_STRING = {"type": ["string", "null"]}
_INSTANT = {"type": ["string", "null"], "format": "date-time"}
_PERSON = {
    "type": ["object", "null"],
    "required": ["key", "name", "city"],
    "properties": {"key": {"type": "string"}, "name": _NULLABLE_STRING, "city": _NULLABLE_STRING},
}
_QUESTION_FIELDS: dict[str, Any] = {
    "id": {"type": "integer"},
    "status": {"enum": ["pending", "approved", "answered", "dismissed", "archived", "merged"]},
    "text": {"type": "string"},
    "language": {
        **_NULLABLE_STRING,
        "description": "the BCP 47 tag it was asked in (en, fr, tr, …); null: not said",
    },
    "votes": {"type": "integer"},
    "anonymous": {"type": "boolean"},
    "participant": {"type": "string", "description": "pseudonymous participant id"},
    "author": {**_NULLABLE_STRING, "description": "display name; null when asked anonymously"},
    "to": _PERSON,
    "assigned_to": _PERSON,
    "created_at": _INSTANT,
    "published_at": _INSTANT,
    "answered_at": _INSTANT,
    "updated_at": _INSTANT,
    "answered_by": _NULLABLE_STRING,
    "merged_into": {"type": ["integer", "null"]},
    "pinned": {"type": ["integer", "null"]},
    "flagged": _NULLABLE_STRING,
    "dismiss_reason": _NULLABLE_STRING,
    "edited": {"type": "boolean"},
    "moderator_actions": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["at", "actor", "action", "data"],
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "actor": {"type": "string"},
                "action": {"type": "string"},
                "data": {"type": "object"},
            },
        },
    },
}
_STAFF_ERRORS = {
    "403": {
        "description": "not a moderator of this room nor an organizer (room.forbidden, "
        "auth.required), or the request came from another site (csrf.origin)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "404": {
        "description": "no such room (room.not_found)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}
_ROOM_PARAMETER = {
    "name": "room_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
    "description": "a room id; any other number is answered 404",
}
# Shared with the other staff-only room exports (``record_routes``).
STAFF_ERRORS, ROOM_PARAMETER = _STAFF_ERRORS, _ROOM_PARAMETER


def _json_body(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


PATHS: dict[str, Any] = {
    "/api/rooms/{room_id}/questions": {
        "get": {
            "summary": "Every question of a room with its moderation history (staff only)",
            "operationId": "exportRoomQuestions",
            "parameters": [_ROOM_PARAMETER],
            "responses": {
                "200": _json_body("the room's questions", "QuestionExport"),
                **_STAFF_ERRORS,
            },
        }
    },
    "/api/rooms/{room_id}/screen-key": {
        "post": {
            "summary": "Make a new big-screen link; the old one stops opening (staff only)",
            "operationId": "rotateScreenKey",
            "parameters": [_ROOM_PARAMETER],
            "responses": {"200": _json_body("the new link", "ScreenLink"), **_STAFF_ERRORS},
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "ExportedQuestion": {
        "type": "object",
        "required": list(_QUESTION_FIELDS),
        "properties": _QUESTION_FIELDS,
    },
    "QuestionExport": {
        "type": "object",
        "required": ["event", "room", "session", "exported_at", "questions"],
        "properties": {
            "event": {"type": "string"},
            "room": {"type": "integer"},
            "session": {
                "type": "object",
                "required": ["slug", "title"],
                "properties": {"slug": {"type": "string"}, "title": {"type": "string"}},
            },
            "exported_at": {"type": "string", "format": "date-time"},
            "questions": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/ExportedQuestion"},
            },
        },
    },
    "ScreenLink": {
        "type": "object",
        "required": ["room", "screen_url"],
        "properties": {"room": {"type": "integer"}, "screen_url": {"type": "string"}},
    },
}
