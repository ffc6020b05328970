"""The French and Turkish catalogues are complete and match what the sources ask for.

- Every message marked in a template, a Python module or a JS module (babel.cfg) is in both
  catalogues, and nothing stale is left in them (``make messages`` refreshes them).
- Every entry is translated (every plural form), not fuzzy, and keeps its placeholders.
- No template shows text outside ``{% trans %}``/``_()``, and no JS module builds a sentence
  outside ``t()``/``tn()``: an unmarked string would stay English in every language.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from jinja2 import Environment

from townhall.web.i18n import DEFAULT, LANGUAGES, read_catalog
from townhall.web.templating import TEMPLATES, make_templates

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "townhall" / "web" / "static" / "js"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
    "t": None,
    "tn": (1, 2),
}
TRANSLATED = sorted(set(LANGUAGES) - {DEFAULT})
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")

# Words a page may show as they are: the product's name, zone and file names, key names.
AS_IS = {"Townhall", "UTC", "https", "programme.ics", "schedule.xml", "schedule.json", "TOML"}
# Attributes people read (or hear).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


def extracted() -> list[tuple[str | None, str | tuple[str, ...]]]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    return [
        (context, message)
        for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    ]


def source_messages() -> set[tuple[str | None, str]]:
    """Each message's context and msgid (a plural message's singular)."""
    return {(c, m[0] if isinstance(m, tuple) else m) for c, m in extracted()}


def catalogue_entries(language: str) -> dict[tuple[str | None, str], Message]:
    return {
        (message.context, message.id if isinstance(message.id, str) else message.id[0]): message
        for message in read_catalog(language)
        if message.id
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_has_every_source_message_and_no_stale_one(language: str) -> None:
    expected = source_messages()
    held = set(catalogue_entries(language))
    assert (sorted(expected - held), sorted(held - expected)) == ([], []), (
        "run `make messages` and translate the new entries"
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_translates_every_message_with_its_placeholders(language: str) -> None:
    problems = []
    for (_context, msgid), message in catalogue_entries(language).items():
        forms = list(message.string) if message.pluralizable else [message.string]
        if message.fuzzy or not all(forms):
            problems.append(f"untranslated: {msgid!r}")
            continue
        sources = list(message.id) if message.pluralizable else [message.id]
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) - wanted:
                problems.append(f"unknown placeholder in {form!r} for {msgid!r}")
        # Plural forms may leave out the count ("one vote"); singular messages keep all.
        if not message.pluralizable and set(PLACEHOLDER.findall(forms[0])) != wanted:
            problems.append(f"placeholders differ: {msgid!r} -> {forms[0]!r}")
    assert problems == []


# ---- templates ------------------------------------------------------------------------


class TextFinder(HTMLParser):
    """Collects the human-readable text of an HTML fragment and of its read attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "kbd", "code"):
            self.skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.found.append(value)
        if tag == "meta" and dict(attrs).get("name") == "description":
            self.found.append(dict(attrs).get("content") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "kbd", "code") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.found.append(data)


def untranslated_text(env: Environment, source: str) -> list[str]:
    """Text of a template outside trans blocks and expressions, as a browser would show it."""
    html, in_trans, previous = [], False, None
    for _line, kind, value in env.lex(source):
        if kind == "name" and previous == "block_begin" and value in ("trans", "endtrans"):
            in_trans = value == "trans"
        if kind == "data" and not in_trans:
            html.append(value)
        elif kind in ("variable_begin", "block_begin"):
            html.append("\ue000")  # an expression: not text of the template's own
        if kind != "whitespace":
            previous = kind
    finder = TextFinder()
    finder.feed("".join(html))
    problems = []
    for text in finder.found:
        words = [w for w in re.findall(r"[^\s\ue000]+", text) if re.search(r"[A-Za-z]{2}", w)]
        # (attribute syntax a macro writes outside a tag, aria-invalid="true", is not text)
        # (as are paths and addresses)
        if [w for w in words if not {"=", "/"} & set(w) and w.strip("().,:;·—–") not in AS_IS]:
            problems.append(text.replace("\ue000", "").strip())
    return problems


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_template_text_is_all_marked_for_translation(name: str) -> None:
    assert untranslated_text(make_templates(), (TEMPLATES / name).read_text()) == []


def test_untranslated_text_finds_bare_text_and_attributes() -> None:
    source = (
        '<p title="Hello there">{% trans %}Marked{% endtrans %} Bare words {{ x }}'
        "<kbd>j</kbd> Townhall {{ _('Also marked') }}</p>"
    )
    assert untranslated_text(make_templates(), source) == ["Hello there", "Bare words"]


# ---- JS modules -----------------------------------------------------------------------

STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`')
# Where a marked message stands: t("…"), tn("…", or tn's plural after its singular.
MARKED_AT = re.compile(r'\b(?:t|tn)\(\s*$|\btn\(\s*"(?:[^"\\]|\\.)*",\s*$')
# A sentence or a label: a capital then lower case ("Connected"), or words ending in
# punctuation ("try again.") — not a class list, an event name or a selector.
PROSE = re.compile(r"^[A-Z][a-z]+|[a-z]{2,} [a-z]{2,}.*[.…:!?]$")
TECHNICAL = ("console.", "querySelector", "closest(", "Content-Type", "Accept", "this.name =")


def unmarked_js_strings(path: Path, marked: set[str]) -> list[str]:
    problems = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.strip()
        if code.startswith(("//", "*", "/*")) or any(t in code for t in TECHNICAL):
            continue
        before, _sep, _comment = line.partition(" // ")
        if before.count('"') % 2 == 0 and before.count("`") % 2 == 0:
            line = before  # a trailing comment is not shown to anyone
        for match in STRING.finditer(line):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            bare = re.sub(r"\$\{[^}]*\}", "", text)
            if not PROSE.search(bare.strip()):
                continue
            if text in marked and MARKED_AT.search(line[: match.start()]):
                continue
            problems.append(f"{path.name}:{number}: {text}")
    return problems


def test_js_modules_take_every_sentence_from_the_catalogue() -> None:
    marked = {form for _c, m in extracted() for form in (m if isinstance(m, tuple) else (m,))}
    problems = [p for path in sorted(JS.glob("*.js")) for p in unmarked_js_strings(path, marked)]
    assert problems == []


def test_unmarked_js_strings_finds_a_bare_sentence(tmp_path: Path) -> None:
    module = tmp_path / "sample.js"
    module.write_text(
        'banner.textContent = t("Connected.");\n'
        'status.textContent = "Reconnecting…";\n'
        "line.textContent = `Could not join: ${reason}`;\n"
        'node.className = "qa-button qa-primary";\n'
        'other.textContent = "Connected."; // a catalogue message, but not asked for with t()\n'
        'plural.textContent = tn("{count} vote", "{count} votes", n);\n'
    )
    marked = {"Connected.", "{count} vote", "{count} votes"}
    assert unmarked_js_strings(module, marked) == [
        "sample.js:2: Reconnecting…",
        "sample.js:3: Could not join: ${reason}",
        "sample.js:5: Connected.",
    ]
