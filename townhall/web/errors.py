"""Domain errors and HTTP errors, mapped once: JSON for the API, a page for browsers.

A database outage (:func:`townhall.platform.outage.database_unavailable`) is answered 503 with
``Retry-After`` and the code ``unavailable``, logged in one line; other failures are bugs: 500,
logged with their traceback.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from townhall.metrics import DATABASE_ERRORS, RATE_LIMITED
from townhall.platform.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    InvalidState,
    NotFound,
    RateLimited,
)
from townhall.platform.outage import RETRY_AFTER, database_unavailable, describe

from .i18n import DEFAULT, N_, current_language, gettext
from .services import services_of

log = logging.getLogger(__name__)

STATUS = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    InvalidState: 409,
    Invalid: 422,
    RateLimited: 429,
}

HTTP_CODES = {
    400: "request.bad",
    401: "auth.required",
    403: "forbidden",
    404: "not_found",
    405: "method.not_allowed",
    413: "request.too_large",
    415: "request.media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


# What an error page says, by code, in the reader's language (the JSON API keeps the
# domain's English message: its clients read the code). English pages keep the domain's own,
# more specific sentence ("no event has the slug 'nope'"); the others say it by code. Codes
# whose message says more than its code (room.forbidden: who may do what) stay English for now.
PAGE_MESSAGES = {
    "auth.required": N_("Join the event first."),
    "organizer.required": N_("Only the event's organizers may open this page."),
    "room.not_found": N_("This room does not exist."),
    "event.not_found": N_("There is no such event."),
    "session.not_found": N_("There is no such session."),
    "invitation.not_found": N_("This invitation link is no longer valid."),
    "screen.not_found": N_("There is nothing at this address."),  # a stale key tells nothing
    "participant.banned": N_("You have been removed from this event."),
    "rate_limited": N_("Too many actions at once: try again in a moment."),
    "request.too_large": N_("This message is too large."),
}


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request, status: int, code: str, message: str, details: dict | None = None
) -> Response:
    headers = {}
    if details and "retry_after" in details:
        headers["Retry-After"] = str(max(1, round(float(details["retry_after"]))))
    if wants_json(request):
        body = {"error": {"code": code, "message": message, **(details or {})}}
        return JSONResponse(body, status_code=status, headers=headers)
    if code in PAGE_MESSAGES and current_language() != DEFAULT:
        message = gettext(PAGE_MESSAGES[code])
    template = services_of(request).templates.get_template("error.html")
    html = template.render(request=request, status=status, code=code, message=message)
    return HTMLResponse(html, status_code=status, headers=headers)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    if isinstance(exc, RateLimited):
        RATE_LIMITED.inc(1, exc.code)
    return error_response(request, status, exc.code, exc.message, exc.details)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404 and message == "Not Found":
        message = gettext("There is nothing at this address.")
    response = error_response(request, exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal", gettext("Something went wrong on our side."))


async def on_database_error(request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        return await on_unexpected(request, exc)
    DATABASE_ERRORS.inc(1, "http")
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, describe(exc)
    )
    return unavailable(request)


def unavailable(request: Request) -> Response:
    return error_response(
        request,
        503,
        "unavailable",
        "The service is briefly unavailable; please try again in a few seconds.",
        {"retry_after": RETRY_AFTER},
    )


EXCEPTION_HANDLERS = {
    DomainError: on_domain_error,
    HTTPException: on_http_error,
    # Handled here, not by the catch-all below (which Starlette re-raises after answering).
    sa_exc.DBAPIError: on_database_error,
    sa_exc.TimeoutError: on_database_error,
    OSError: on_database_error,
    Exception: on_unexpected,
}
