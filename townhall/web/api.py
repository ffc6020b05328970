"""The JSON API: events and their programme, served with ETags."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from townhall.platform import participants, programme
from townhall.platform.errors import Forbidden, Invalid, RateLimited
from townhall.realtime.identity import (
    COOKIE_MAX_AGE,
    PARTICIPANT_COOKIE,
    identity_cookie,
    read_identity,
    with_participant,
)

from .programme_json import event_json, session_json
from .services import services_of


def json_with_etag(request: Request, body: Any, *, max_age: int = 0) -> Response:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}, must-revalidate"}
    matches = [
        t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
    ]
    if etag in matches:
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type="application/json", headers=headers)


async def list_events(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        events = await programme.list_events(db)
    base = services.settings.public_url
    return json_with_etag(request, {"events": [event_json(e, base) for e in events]})


async def show_event(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
    return json_with_etag(request, event_json(event, services.settings.public_url))


async def show_programme(request: Request) -> Response:
    services = services_of(request)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        sessions = await programme.list_sessions(db, event_id=event.id)
    base = services.settings.public_url
    body = {
        "event": event_json(event, base),
        "sessions": [session_json(s, base, event.slug) for s in sessions],
    }
    return json_with_etag(request, body)


async def health(request: Request) -> Response:
    services = services_of(request)
    return json_with_etag(request, {"ok": True, **services.hub.health()})


async def join_event(request: Request) -> Response:
    """Create an audience participant for the event and set the identity cookie."""
    services = services_of(request)
    await limit_rate(
        request, "identity", limit=services_of(request).settings.identities_per_minute, window=60
    )
    body = await read_json_object(request, allowed={"display_name", "access_code"})
    name, code = body.get("display_name"), body.get("access_code")
    if name is not None and not isinstance(name, str):
        raise Invalid("display_name must be a string", code="participant.invalid_name")
    if code is not None and not isinstance(code, str):
        raise Invalid("access_code must be a string", code="participant.access_code")
    secret = services.settings.secret_key
    known = read_identity(request.cookies, secret)
    async with services.db() as db:
        event = await programme.get_event(db, slug=request.path_params["slug"])
        participants.check_access_code(event.access_code, code)
        if (previous := known.participants.get(event.id)) is not None:
            earlier = await participants.find_participant(db, participant_id=previous)
            if earlier is not None and earlier.banned_at is not None:
                raise Forbidden("you have been removed from this event", code="participant.banned")
        participant = await participants.create_participant(
            db, event_id=event.id, display_name=name, now=services.clock.now()
        )
        await db.commit()
    identity = with_participant(known, event.id, participant.id)
    response = JSONResponse(
        {
            "participant": participant.id,
            "display_name": participant.display_name,
            "event": event.slug,
        },
        status_code=201,
    )
    response.set_cookie(
        PARTICIPANT_COOKIE,
        identity_cookie(identity, secret),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path="/",
    )
    return response


async def limit_rate(request: Request, scope: str, *, limit: int, window: float) -> None:
    """Count a request against a per-client limit shared by every process (Redis when set)."""
    hub = services_of(request).hub
    client = request.client.host if request.client else "unknown"
    wait = await hub.broker.hit(hub.channels.rate(scope, client), limit=limit, window=window)
    if wait:
        raise RateLimited(
            f"too many requests; try again in {max(1, round(wait))} s",
            retry_after=round(wait, 1),
            code=f"{scope}.rate_limited",
        )


async def read_json_object(request: Request, *, allowed: set[str]) -> dict[str, Any]:
    """The request's JSON body as an object with only ``allowed`` fields, or a typed 4xx."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Invalid(
            "send a JSON body (Content-Type: application/json)", code="request.media_type"
        )
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise Invalid("the body is not valid JSON", code="request.malformed") from None
    except RecursionError:
        raise Invalid("the body nests too deeply", code="request.malformed") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object", code="request.malformed")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}", code="request.unknown_field")
    return body
