"""The interface in English, French and Turkish: how a page picks its language, the
switcher every page carries, and what a French or Turkish visitor reads (words, dates, the
labels handed to the scripts)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree.ElementTree import Element

import httpx
import pytest
from test_pages import EVENT_URL, client_for, document_problems, load, parse, text

from townhall.platform.programme_spec import ProgrammeSpec
from townhall.web.i18n import choose_language, preferred_languages

WORKSHOP_1 = "workshop-1-building-resilience"


@pytest.fixture
async def rooms(
    sqlite_template: Path, tmp_path: Path, summit_spec: ProgrammeSpec
) -> tuple[str, dict[str, int]]:
    """The Summit in a fresh SQLite database (the language is no database matter)."""
    target = tmp_path / "townhall.db"
    target.write_bytes(sqlite_template.read_bytes())  # noqa: ASYNC240 - a small local file
    url = f"sqlite+aiosqlite:///{target}"
    return url, await load(url, summit_spec)


@pytest.fixture
async def client(rooms: tuple[str, dict[str, int]]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(rooms[0]) as client:
        yield client


def by_id(doc: Element, id_: str) -> Element:
    return next(el for el in doc.iter() if el.get("id") == id_)


def labels_of(doc: Element) -> dict[str, str | list[str]]:
    block = by_id(doc, "townhall-labels")
    return json.loads(block.text or "")


def test_preferred_languages_orders_by_quality() -> None:
    header = "en;q=0.5, fr-CA, tr;q=0.8, *;q=0.1, de;q=0"
    assert preferred_languages(header) == ["fr-CA", "tr", "en"]


def test_choose_language_cookie_first_then_accept_language_then_english() -> None:
    assert [
        choose_language(None, "fr-CA,fr;q=0.9,en;q=0.5"),
        choose_language(None, "tr-TR"),
        choose_language(None, "de, es;q=0.5"),
        choose_language(None, ""),
        choose_language("tr", "fr"),
        choose_language("xx", "fr"),
    ] == ["fr", "tr", "en", "en", "tr", "fr"]


def switcher(doc: Element) -> list[tuple[str | None, ...]]:
    form = next(el for el in doc.iter("form") if el.get("action") == "/language")
    return [
        (b.get("value"), b.get("lang"), text(b), b.get("aria-current")) for b in form.iter("button")
    ]


async def test_event_page_follows_accept_language(client: httpx.AsyncClient) -> None:
    response = await client.get(EVENT_URL, headers={"accept-language": "fr-CA,fr;q=0.9"})
    doc = parse(response.text)
    help_text = text(next(el for el in doc.iter("aside")))
    labels = labels_of(doc)
    assert (
        doc.get("lang"),
        response.headers["content-language"],
        response.headers["vary"],
        text(doc.find(".//h2")),
        help_text.split(". ")[0],
        switcher(doc),
        labels["Connecting…"],
        labels["{count} vote"],
    ) == (
        "fr",
        "fr",
        "Accept-Language, Cookie",
        "mardi 7 décembre 2021",
        "Les heures sont indiquées pour Izmir, Paris, Montréal et UTC",
        [
            ("en", "en", "English", None),
            ("fr", "fr", "Français", "true"),
            ("tr", "tr", "Türkçe", None),
        ],
        "Connexion…",
        ["{count} vote", "{count} votes", "{count} votes"],
    )
    assert [p for p in document_problems(response.text) if "lang=" not in p] == []


async def test_english_page_carries_no_catalogue(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)
    assert (doc.get("lang"), labels_of(doc)) == ("en", {})


async def test_room_page_in_turkish(
    client: httpx.AsyncClient, rooms: tuple[str, dict[str, int]]
) -> None:
    url = f"{EVENT_URL}/rooms/{rooms[1][WORKSHOP_1]}"
    doc = parse((await client.get(url, headers={"accept-language": "tr"})).text)
    assert (
        doc.get("lang"),
        text(by_id(doc, "room-day")),
        text(by_id(doc, "room-state")),
        text(by_id(doc, "ask-heading")),
        [text(tab) for tab in doc.iter("button") if tab.get("role") == "tab"],
        text(by_id(doc, "qa-counters")),
        by_id(doc, "ask-text").get("dir"),
    ) == (
        "tr",
        "8 Aralık 2021 Çarşamba",
        "Lobi açık Lobi açık; oturumun başlangıç saati: 16:00 (Izmir saati).",
        "Soru sorun",
        ["Açık 0", "Yanıtlanan 0"],
        "0 alındı 0 onaylandı 0 yanıtlandı 0 reddedildi",
        "auto",
    )


@pytest.mark.parametrize(("accept", "chosen"), [("fr", "fr"), ("tr", "tr"), ("de", "en")])
async def test_ask_form_offers_the_question_languages_defaulting_to_the_interface(
    client: httpx.AsyncClient, rooms: tuple[str, dict[str, int]], accept: str, chosen: str
) -> None:
    url = f"{EVENT_URL}/rooms/{rooms[1][WORKSHOP_1]}"
    doc = parse((await client.get(url, headers={"accept-language": accept})).text)
    select = by_id(doc, "ask-language")
    options = [(o.get("value"), o.get("lang"), text(o)) for o in select.iter("option")]
    selected = [o.get("value") for o in select.iter("option") if o.get("selected") is not None]
    label = next(el for el in doc.iter("label") if el.get("for") == "ask-language")
    assert (options, selected, select.get("data-default"), bool(text(label))) == (
        [("en", "en", "English"), ("fr", "fr", "Français"), ("tr", "tr", "Türkçe")],
        [chosen],
        chosen,
        True,
    )


async def test_language_switch_remembers_the_choice(client: httpx.AsyncClient) -> None:
    back = f"{EVENT_URL}?day=2"
    response = await client.post(
        "/language",
        data={"language": "tr", "next": back},
        headers={"origin": "http://testserver"},
    )
    cookie = response.headers["set-cookie"]
    page = await client.get(EVENT_URL, headers={"accept-language": "fr"})
    assert (
        response.status_code,
        response.headers["location"],
        cookie.split(";")[0],
        "HttpOnly" in cookie and "SameSite=lax" in cookie,
        parse(page.text).get("lang"),
    ) == (303, back, "townhall_lang=tr", True, "tr")


async def test_language_switch_refuses_other_sites_unknown_languages_and_far_redirects(
    client: httpx.AsyncClient,
) -> None:
    async def post(language: str, next_: str, origin: str) -> httpx.Response:
        return await client.post(
            "/language",
            data={"language": language, "next": next_},
            headers={"origin": origin, "accept": "application/json"},
        )

    foreign = await post("fr", "/", "https://evil.example")
    unknown = await post("de", "/", "http://testserver")
    far = await post("fr", "//evil.example/phish", "http://testserver")
    assert (
        (foreign.status_code, foreign.json()["error"]["code"]),
        (unknown.status_code, unknown.json()["error"]["code"]),
        (far.status_code, far.headers["location"]),
    ) == ((403, "csrf.origin"), (422, "language.unknown"), (303, "/"))


async def test_error_page_in_french(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get("/nowhere", headers={"accept-language": "fr"})).text)
    assert [text(el) for el in doc.find(".//main").iter("p")] == [
        "Erreur 404",
        "Il n’y a rien à cette adresse.",
        "Retour à la page d’accueil",
    ]


async def test_error_page_words_a_domain_error_by_its_code(client: httpx.AsyncClient) -> None:
    english = parse((await client.get("/events/nope")).text)
    turkish = parse((await client.get("/events/nope", headers={"accept-language": "tr"})).text)
    assert [text(doc.find(".//main").findall(".//p")[1]) for doc in (english, turkish)] == [
        "no event has the slug 'nope'",
        "Böyle bir etkinlik yok.",
    ]
