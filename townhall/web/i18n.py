"""The interface languages: English, French and Turkish, from gettext catalogues.

The catalogues are the committed ``locale/{fr,tr}/LC_MESSAGES/messages.po`` files (English is
the source language, its msgids). They are read with Babel when the app is built — no compile
step, so an edited ``.po`` is what the next start serves. Each request gets one language, by
:class:`LanguageMiddleware`: the ``townhall_lang`` cookie the switcher sets, else the best match
of ``Accept-Language``, else English. The choice lives in a context variable for the request,
so :func:`gettext` works in templates, views and labels alike without passing it around.

The messages the JavaScript modules use (those whose source location is a ``.js`` file) also
travel to the browser as a JSON block; ``static/js/labels.js`` is their one entry point.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from babel import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LANGUAGES = {"en": "English", "fr": "Français", "tr": "Türkçe"}
DEFAULT = "en"
COOKIE = "townhall_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Catalogue:
    """One language's translations, and the part of them the browser scripts need."""

    language: str
    translations: stdlib_gettext.NullTranslations = field(
        default_factory=stdlib_gettext.NullTranslations
    )
    script: dict[str, str | list[str]] = field(default_factory=dict)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as fp:
        return read_po(fp, locale=language, domain=DOMAIN)


def is_script_message(locations: Iterable[tuple[str, int | None]]) -> bool:
    return any(path.endswith(".js") for path, _ in locations)


def catalogue_from(catalog: Catalog, language: str) -> Catalogue:
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as gettext does
    buffer.seek(0)
    script: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not is_script_message(message.locations):
            continue
        if message.pluralizable:
            forms = list(message.string)
            if all(forms):
                script[message.id[0]] = forms
        elif message.string:
            script[message.id] = message.string
    return Catalogue(language, stdlib_gettext.GNUTranslations(buffer), script)


def load_catalogues() -> dict[str, Catalogue]:
    """Every language's catalogue, read from the .po files (called once, when the app is built)."""
    return {
        language: SOURCE
        if language == DEFAULT
        else catalogue_from(read_catalog(language), language)
        for language in LANGUAGES
    }


# Outside a request (the CLI, a test calling a view directly) the source language holds.
SOURCE = Catalogue(DEFAULT)
_current: ContextVar[Catalogue | None] = ContextVar("townhall_catalogue", default=None)


def _catalogue() -> Catalogue:
    return _current.get() or SOURCE


@contextmanager
def use_catalogue(catalogue: Catalogue) -> Iterator[None]:
    """Speak ``catalogue``'s language for a while outside a request (a test, the CLI)."""
    token = _current.set(catalogue)
    try:
        yield
    finally:
        _current.reset(token)


def current_language() -> str:
    return _catalogue().language


def script_catalogue() -> dict[str, str | list[str]]:
    return _catalogue().script


def gettext(message: str, /) -> str:
    return _catalogue().translations.gettext(message)


def ngettext(singular: str, plural: str, n: int, /) -> str:
    return _catalogue().translations.ngettext(singular, plural, n)


def pgettext(context: str, message: str, /) -> str:
    """A message whose translation depends on where it is shown ("Answered" as a tab of
    questions, plural in French, or as one question's status)."""
    return _catalogue().translations.pgettext(context, message)


def N_(message: str, /) -> str:
    """Marks a message for extraction where it is defined; gettext translates it where shown."""
    return message


_ = gettext


def preferred_languages(header: str) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first."""
    ranked = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        tag = tag.strip()
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for *_rank, tag in sorted(ranked)]


def choose_language(cookie: str | None, accept_language: str) -> str:
    if cookie in LANGUAGES:
        return cookie
    match = negotiate_locale(preferred_languages(accept_language), list(LANGUAGES), sep="-")
    return match if match in LANGUAGES else DEFAULT


def scope_language(scope: Scope) -> str:
    """The language of a request or WebSocket handshake: the cookie, else Accept-Language."""
    connection = HTTPConnection(scope)
    return choose_language(
        connection.cookies.get(COOKIE), connection.headers.get("accept-language", "")
    )


class LanguageMiddleware:
    """Sets the request's language (pages, API messages and WebSocket handshakes alike) and
    says so in ``Content-Language``; ``Vary`` tells caches what chose it."""

    def __init__(self, app: ASGIApp, *, catalogues: dict[str, Catalogue]) -> None:
        self.app = app
        self.catalogues = catalogues

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        language = scope_language(scope)
        token = _current.set(self.catalogues[language])

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                extra = [(b"content-language", language.encode())]
                if "vary" not in headers:
                    extra.append((b"vary", b"Accept-Language, Cookie"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language if scope["type"] == "http" else send)
        finally:
            _current.reset(token)
