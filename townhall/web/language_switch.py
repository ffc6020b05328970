"""The language switcher every page carries: a POST that remembers the choice in a cookie.

A POST (not a link) so that only our own pages can change someone's language: the origin
check of :mod:`.csrf` covers it like any other form. The page to go back to must be a path
of this site, so the form cannot be turned into an open redirect.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .errors import error_response
from .i18n import COOKIE, LANGUAGES, gettext
from .services import services_of

ONE_YEAR = 365 * 24 * 3600


def safe_next(value: str) -> str:
    """A local path to go back to; anything else (another site, a scheme) goes home."""
    if value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value:
        return value
    return "/"


async def switch_language(request: Request) -> Response:
    form = await request.form()
    language = str(form.get("language", ""))
    if language not in LANGUAGES:
        return error_response(
            request, 422, "language.unknown", gettext("This language is not available.")
        )
    response = RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(
        COOKIE,
        language,
        max_age=ONE_YEAR,
        path="/",
        httponly=True,
        samesite="lax",
        secure=services_of(request).settings.secure_cookies,
    )
    return response
