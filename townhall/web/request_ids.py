"""A request id for every HTTP request: the proxy's ``X-Request-ID`` when it is a sane token
(letters, digits, ``._-``, at most 64), else a new one; echoed in the response and put on
every log line written while the request is served (:mod:`townhall.log_format`)."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from townhall.log_format import REQUEST_ID

SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if SANE.fullmatch(given) else secrets.token_hex(8)
        # Not reset afterwards: uvicorn serves each request in a task of its own, and its
        # access line (written when the response starts) and error lines belong to it too.
        REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)
