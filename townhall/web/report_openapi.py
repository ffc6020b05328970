"""The session report in the OpenAPI document: ``GET /api/rooms/{id}/report`` and its schema."""

from __future__ import annotations

from typing import Any

from . import openapi, qa_openapi

_INSTANT = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}


def _object(properties: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    made = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    return {**made, "description": description} if description else made


_PEAK = _object(
    {
        "peak": {"type": ["integer", "null"]},
        "peak_at": {"type": ["string", "null"], "format": "date-time"},
        "median": _NULLABLE_NUMBER,
    }
)
_WAIT = _object(
    {"count": _COUNT, "median_seconds": _NULLABLE_NUMBER, "p90_seconds": _NULLABLE_NUMBER},
    "seconds from submission, over the questions that got there (p90: nearest rank)",
)
_QUESTION = _object(
    {
        "id": {"type": "integer"},
        "text": {"type": "string"},
        "author": {**_NULLABLE_STRING, "description": "null when asked anonymously"},
        "votes": _COUNT,
        "status": {"type": "string"},
        "answered_by": _NULLABLE_STRING,
    }
)
_AIRTIME_ENTRY = {"seconds": _COUNT, "turns": _COUNT}

SCHEMAS: dict[str, Any] = {
    "SessionReport": _object(
        {
            "event": {"type": "string"},
            "room": {"type": "integer"},
            "session": _object({"slug": {"type": "string"}, "title": {"type": "string"}}),
            "final": {"type": "boolean", "description": "the room has ended (or is archived)"},
            "state": {"type": "string"},
            "generated_at": _INSTANT,
            "states": {
                "type": "array",
                "items": _object({"at": _INSTANT, "state": {"type": "string"}}),
            },
            "attendance": _object(
                {
                    "samples": {
                        "type": "array",
                        "items": _object(
                            {"at": _INSTANT, "audience": _COUNT, "panel": _COUNT, "staff": _COUNT}
                        ),
                    },
                    "audience": _PEAK,
                    "panel": _PEAK,
                    "staff": _PEAK,
                }
            ),
            "questions": _object(
                {
                    "asked": _COUNT,
                    "approved": _COUNT,
                    "answered": _COUNT,
                    "share": {**_NULLABLE_NUMBER, "description": "answered / approved"},
                    "per_minute": {
                        "type": "array",
                        "items": _object(
                            {
                                "minute": _INSTANT,
                                "asked": _COUNT,
                                "approved": _COUNT,
                                "answered": _COUNT,
                            }
                        ),
                    },
                    "per_language": {
                        "type": "array",
                        "description": "by the language asked in, most asked first",
                        "items": _object(
                            {
                                "language": {
                                    **_NULLABLE_STRING,
                                    "description": "a BCP 47 tag; null: not said",
                                },
                                "asked": _COUNT,
                                "approved": _COUNT,
                                "answered": _COUNT,
                            }
                        ),
                    },
                    "to_approval": _WAIT,
                    "to_answer": _WAIT,
                    "top": {"type": "array", "items": _QUESTION},
                    "top_unanswered": {"type": "array", "items": _QUESTION},
                    "answered_questions": {"type": "array", "items": _QUESTION},
                }
            ),
            "floor": _object(
                {
                    "timeline": {
                        "type": "array",
                        "items": _object(
                            {
                                "request": {"type": "integer"},
                                "name": {"type": "string"},
                                "person": _NULLABLE_STRING,
                                "city": _NULLABLE_STRING,
                                "kind": {"type": "string"},
                                "start": _INSTANT,
                                "end": {**_INSTANT, "description": "now, for a turn under way"},
                                "seconds": _COUNT,
                                "ongoing": {"type": "boolean"},
                            }
                        ),
                    },
                    "airtime": _object(
                        {
                            "people": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "name": {"type": "string"},
                                        "person": _NULLABLE_STRING,
                                        "city": _NULLABLE_STRING,
                                        **_AIRTIME_ENTRY,
                                    }
                                ),
                            },
                            "cities": {
                                "type": "array",
                                "items": _object({"city": _NULLABLE_STRING, **_AIRTIME_ENTRY}),
                            },
                        }
                    ),
                }
            ),
        }
    )
}
PATHS: dict[str, Any] = {
    "/api/rooms/{room_id}/report": {
        "get": {
            "summary": "A room's session report: attendance from presence samples, questions, "
            "waiting times, votes, the speaker timeline and airtime, all from the room's event "
            "log (staff only; live until the room ends, then final)",
            "operationId": "getSessionReport",
            "parameters": [qa_openapi.ROOM_PARAMETER],
            "responses": {
                "200": {
                    "description": "the report's figures",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SessionReport"}
                        }
                    },
                },
                **qa_openapi.STAFF_ERRORS,
            },
        }
    }
}
openapi.extend(PATHS, SCHEMAS)
