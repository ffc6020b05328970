"""The OpenAPI 3.1 document of the JSON API, served at ``/openapi.json``.

Written out by hand, next to the handlers it describes; ``tests/web/test_openapi.py`` checks
that every ``/api`` route is documented and that the documented shapes match real responses.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from townhall import __version__
from townhall.platform.models import MAX_ROW_ID
from townhall.platform.participants import MAX_NAME, REFUSED_CATEGORIES
from townhall.platform.programme_spec import FORMATS, PERSON_TEXT_FIELDS, ROLES, STATUSES

NULLABLE_STRING = {"type": ["string", "null"]}
INSTANT = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _escape(code: int) -> str:
    # Beyond the BMP, regex dialects disagree on escapes (\U, \u{…}); the character itself
    # reads the same in all of them.
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


@functools.cache
def display_name_pattern() -> str:
    """The characters a display name may hold, as the server decides (white space is folded;
    other control, format, private-use and surrogate characters are refused)."""
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        # Surrogates are no characters: regex engines cannot name them (the server refuses
        # the lone-surrogate escapes a JSON text may still carry, as the description says).
        if 0xD800 <= code <= 0xDFFF:
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES and not char.isspace():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    refused = "".join(
        _escape(low) + (f"-{_escape(high)}" if high > low else "") for low, high in ranges
    )
    return f"^[^{refused}]*$"


ROW_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
ROOM = {"name": "room_id", "in": "path", "required": True, "schema": ROW_ID}
UNAVAILABLE = _error(
    "the database does not answer (code unavailable); retry after the Retry-After header's seconds"
) | {"headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}
ETAG = {"ETag": {"schema": {"type": "string"}, "description": "send it back in If-None-Match"}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "examples": ["event.not_found"]},
                    "message": {"type": "string"},
                    "retry_after": {"type": "number"},
                },
            }
        },
    },
    "ReferenceZone": {
        "type": "object",
        "required": ["label", "zone"],
        "properties": {"label": {"type": "string"}, "zone": {"type": "string"}},
    },
    "Event": {
        "type": "object",
        "required": ["slug", "title", "timezone", "reference_zones", "url", "programme_url"],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "short_title": NULLABLE_STRING,
            "description": {"type": "string"},
            "timezone": {"type": "string", "description": "IANA zone of the programme's times"},
            "programme_status": NULLABLE_STRING,
            "website": NULLABLE_STRING,
            "reference_zones": {"type": "array", "items": _ref("ReferenceZone")},
            "admission": {
                "enum": ["open", "code"],
                "description": "code: joining the audience needs the event's access code",
            },
            "parts": {"type": "array", "items": {"type": "object"}},
            "url": {"type": "string"},
            "programme_url": {"type": "string"},
        },
    },
    "Person": {
        "type": "object",
        "required": ["key", "name"],
        "properties": {name: NULLABLE_STRING for name in PERSON_TEXT_FIELDS}
        | {"key": {"type": "string"}},
    },
    "Appearance": {
        "type": "object",
        "required": ["role", "status", "person"],
        "properties": {
            "role": {"enum": list(ROLES)},
            "status": {"enum": list(STATUSES)},
            "segment": NULLABLE_STRING,
            "topic": NULLABLE_STRING,
            "person": _ref("Person"),
            "label": {
                "type": "string",
                "description": 'how pages name the entry: "Ms Anne Hidalgo", "Mayor of Paris '
                '(tbc)" for an unfilled city slot',
            },
        },
    },
    "Session": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "kind",
            "format",
            "day",
            "start",
            "end",
            "time_to_be_announced",
            "people",
            "guiding_questions",
            "room",
        ],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "kind": {"type": "string"},
            "format": {"enum": list(FORMATS)},
            "part": NULLABLE_STRING,
            "day": {"type": "string", "format": "date"},
            "start": INSTANT | {"description": "UTC; null when the time is to be announced"},
            "end": INSTANT,
            "time_to_be_announced": {"type": "boolean"},
            "description": {"type": "string"},
            "guiding_questions": {"type": "array", "items": {"type": "string"}},
            "people": {"type": "array", "items": _ref("Appearance")},
            "room": {"type": ["integer", "null"], "description": "live room id (online sessions)"},
            "room_state": {
                "enum": ["scheduled", "open", "live", "ended", "archived", None],
            },
            "url": {"type": "string"},
            "room_url": NULLABLE_STRING,
        },
    },
    "Participant": {
        "type": "object",
        "required": ["participant", "display_name", "event"],
        "properties": {
            "participant": {"type": "string", "description": "pseudonymous id"},
            "display_name": {"type": "string"},
            "event": {"type": "string"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/events": {
        "get": {
            "summary": "Every event",
            "operationId": "listEvents",
            "responses": {
                "200": _json(
                    "events",
                    {
                        "type": "object",
                        "required": ["events"],
                        "properties": {"events": {"type": "array", "items": _ref("Event")}},
                    },
                )
                | {"headers": ETAG},
                "304": {"description": "not modified (If-None-Match matched the ETag)"},
            },
        }
    },
    "/api/events/{slug}": {
        "get": {
            "summary": "One event",
            "operationId": "showEvent",
            "parameters": [SLUG],
            "responses": {
                "200": _json("the event", _ref("Event")) | {"headers": ETAG},
                "304": {"description": "not modified"},
                "404": _error("no event has this slug (code event.not_found)"),
            },
        }
    },
    "/api/events/{slug}/programme": {
        "get": {
            "summary": "The event's programme: sessions in order, with people and rooms",
            "operationId": "showProgramme",
            "parameters": [SLUG],
            "responses": {
                "200": _json(
                    "the programme",
                    {
                        "type": "object",
                        "required": ["event", "sessions"],
                        "properties": {
                            "event": _ref("Event"),
                            "sessions": {"type": "array", "items": _ref("Session")},
                        },
                    },
                )
                | {"headers": ETAG},
                "304": {"description": "not modified"},
                "404": _error("no event has this slug (code event.not_found)"),
            },
        }
    },
    "/api/events/{slug}/participants": {
        "post": {
            "summary": "Join the event's audience; sets the participant cookie",
            "operationId": "joinEvent",
            "parameters": [SLUG],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "display_name": {
                                    "type": ["string", "null"],
                                    "maxLength": MAX_NAME,
                                    "description": "runs of white space are folded to one "
                                    "space; control, format and private-use characters (and "
                                    "lone surrogate escapes) are refused; empty gets a guest "
                                    "name",
                                },
                                "access_code": {
                                    "type": ["string", "null"],
                                    "description": "required when the event has an access code",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": _json("the new participant", _ref("Participant")),
                "403": _error(
                    "wrong or missing access code (participant.access_code), or the request "
                    "came from another site (csrf.origin)"
                ),
                "404": _error("no event has this slug"),
                "413": _error("the body is over 1 MiB (request.too_large)"),
                "422": _error(
                    "not a JSON object (request.malformed, request.media_type), an unknown "
                    "field (request.unknown_field) or an invalid display name "
                    "(participant.invalid_name, participant.name_too_long)"
                ),
                "429": _error("too many identities from this address; see retry_after"),
            },
        }
    },
}


def extend(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Let route modules document their own API routes next to the handlers."""
    PATHS.update(paths)
    SCHEMAS.update(schemas or {})


def _with_outages(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation reads the database, so any may answer 503 while it is away."""
    return {
        path: {
            method: operation | {"responses": operation["responses"] | {"503": UNAVAILABLE}}
            for method, operation in operations.items()
        }
        for path, operations in paths.items()
    }


def _with_name_pattern(paths: dict[str, Any]) -> dict[str, Any]:
    """The display-name pattern is computed on first use (it scans all of Unicode once)."""
    display_name = paths["/api/events/{slug}/participants"]["post"]["requestBody"]["content"]
    schema = display_name["application/json"]["schema"]["properties"]["display_name"]
    schema["pattern"] = display_name_pattern()
    return paths


def document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Townhall API",
            "version": __version__,
            "description": "Programme and live-room data of Townhall events. The real-time "
            "protocol (WebSocket /ws) is described in docs/protocol.md and docs/asyncapi.yaml.",
        },
        "servers": [{"url": public_url}],
        "paths": _with_name_pattern(_with_outages(PATHS)),
        "components": {"schemas": SCHEMAS},
    }


async def openapi_json(request: Request) -> JSONResponse:
    settings = request.app.state.services.settings
    return JSONResponse(document(settings.public_url))
