"""The Jinja2 environment: autoescaping everywhere, static URLs with cache-busting hashes, and
gettext (``{% trans %}``, ``_()``) bound to the request's language (see :mod:`.i18n`)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from . import formats, i18n
from .programme_json import display_name

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@cache
def _static_hash(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    return f"/static/{path}?v={_static_hash(path)}"


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Whitespace inside {% trans %} is layout, not part of the message.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, pgettext=i18n.pgettext, newstyle=True
    )
    env.globals["current_language"] = i18n.current_language
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["script_catalogue"] = i18n.script_catalogue
    env.filters["long_date"] = formats.long_date
    env.filters["short_date"] = formats.short_date
    env.filters["moment"] = formats.moment
    env.filters["number"] = formats.number
    env.globals["static_url"] = static_url
    env.filters["display_name"] = display_name
    return env
