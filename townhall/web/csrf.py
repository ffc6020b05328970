"""Cross-site request forgery protection for every state-changing HTTP request.

Browsers send ``Origin`` on every cross-origin request and on same-origin POSTs; a request
that changes state must come from one of our origins (``Referer`` is the fallback for old
browsers). A request with no ``Origin``, no ``Referer`` and no cookie of ours is not a browser
acting for someone (a script or the CLI) and may pass: it carries no ambient authority.
Together with SameSite=Lax cookies this covers forms and fetches alike.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response
from .i18n import gettext

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
OUR_COOKIES = ("townhall_participant", "townhall_staff")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class OriginCheck:
    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.origins = set(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        origin = request.headers.get("origin")
        if origin is None and (referer := request.headers.get("referer")):
            origin = _origin(referer)
        has_cookie = any(name in request.cookies for name in OUR_COOKIES)
        if (origin is None and has_cookie) or (origin is not None and origin not in self.origins):
            response = error_response(
                request,
                403,
                "csrf.origin",
                gettext("This request did not come from this site's pages, so it was refused."),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
