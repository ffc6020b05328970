"""Input that once escaped the typed-error path: ids beyond the id columns' 32 bits, page
numbers beyond 64 bits, JSON nested a thousand deep, display names the API document allows.

Each is answered with a typed 4xx on SQLite and PostgreSQL, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import jsonschema
import pytest
from starlette.convertors import IntegerConvertor
from starlette.routing import Route

from townhall.app import create_app
from townhall.platform import access, programme
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.realtime.identity import invitation_token
from townhall.settings import Settings

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
SLUG = "mayors-summit-2021"
JOIN = f"/api/events/{SLUG}/participants"
SECRET = "b" * 32
NOW = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
# Beyond 32 bits, beyond 64 bits, and beyond the 4,300 digits Python's int() reads from text.
HUGE_IDS = [str(2**31), str(2**63), str(2**70), "9" * 5000]


@pytest.fixture
async def organizer(
    database_url: str, summit_spec: ProgrammeSpec
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as the Summit's organizer; server errors come back as 500s."""
    engine = make_engine(database_url)
    async with make_sessionmaker(engine)() as db:
        await programme.import_programme(db, spec=summit_spec)
        event = await programme.get_event(db, slug=SLUG)
        invitation = await access.create_invitation(
            db, event_id=event.id, now=NOW - timedelta(days=1), role="organizer", label="Olga"
        )
        await db.commit()
        token = invitation_token(invitation.id, invitation.nonce, SECRET)
    await engine.dispose()
    settings = Settings(database_url=database_url, public_url=BASE, secret_key=SECRET)
    app = create_app(settings, clock=ManualClock(NOW))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            signed_in = await client.post(f"/invitations/{token}", headers=ORIGIN)
            assert signed_in.status_code == 303, signed_in.text[:300]
            client.app = app
            yield client


def id_routes(app) -> list[tuple[str, str, list[str]]]:
    """(method, path template, names of its integer parameters) of every route with one."""
    found = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        ints = [n for n, c in route.param_convertors.items() if isinstance(c, IntegerConvertor)]
        if ints:
            found += [(m, route.path, ints) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


async def test_every_route_with_an_id_answers_huge_ids_with_404(organizer) -> None:
    answers, expected = {}, {}
    for method, template, ints in id_routes(organizer.app):
        for huge in HUGE_IDS:
            path = template.replace("{slug}", SLUG)
            for name in ints:
                path = path.replace(f"{{{name}:int}}", huge)
            path = re.sub(r"\{[a-z_]+\}", "x", path)
            response = await organizer.request(method, path, headers=ORIGIN, data={})
            answers[(method, path)] = response.status_code
            expected[(method, path)] = 404

    assert len(answers) >= 3 * 10  # ten routes or more carry an id
    assert answers == expected


@pytest.mark.parametrize("huge", HUGE_IDS, ids=["32-bit", "64-bit", "70-bit", "5000-digit"])
async def test_api_routes_with_huge_room_ids_give_typed_404(organizer, huge: str) -> None:
    questions = await organizer.get(f"/api/rooms/{huge}/questions")
    rotate = await organizer.post(f"/api/rooms/{huge}/screen-key", headers=ORIGIN)

    assert [(r.status_code, r.json()["error"]["code"]) for r in (questions, rotate)] == [
        (404, "room.not_found"),
        (404, "room.not_found"),
    ]


@pytest.mark.parametrize("huge", HUGE_IDS, ids=["32-bit", "64-bit", "70-bit", "5000-digit"])
async def test_invitation_for_a_huge_session_id_is_refused_in_the_form(organizer, huge) -> None:
    response = await organizer.post(
        f"/events/{SLUG}/console/invitations",
        data={"role": "moderator", "session": huge, "person": "", "label": "M", "days": "30"},
        headers=ORIGIN,
    )

    assert (response.status_code, "no such session in this event" in response.text) == (422, True)


async def test_audit_page_beyond_the_last_possible_page_is_a_bad_request(organizer) -> None:
    beyond = await organizer.get(f"/events/{SLUG}/console/audit?page={2**64 + 1}")
    first = await organizer.get(f"/events/{SLUG}/console/audit?page=1")

    assert (beyond.status_code, first.status_code) == (400, 200)
    assert f"There is no page {2**64 + 1}: pages go up to 42949672." in beyond.text


async def test_json_nested_a_thousand_deep_is_malformed(organizer) -> None:
    deep = b'{"display_name": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    response = await organizer.post(
        JOIN, content=deep, headers={**ORIGIN, "content-type": "application/json"}
    )

    assert len(deep) < 2100
    assert (response.status_code, response.json()["error"]["code"]) == (422, "request.malformed")


NAMES = [
    "Ana\tLima",
    "Çiğdem  Öztürk\n",
    "\x1cseparated\x1f",
    "x" * 60,
    "x" * 61,
    "bad\x00name",
    "zero\u200bwidth",
    "\u202eevil",
    "\x7f",
    "private\ue000use",
    "plane\U000f0001fifteen",
    "مرحبا",
    "",
]


async def test_display_names_the_api_document_allows_are_accepted(organizer) -> None:
    document = (await organizer.get("/openapi.json")).json()
    operation = document["paths"][JOIN.replace(SLUG, "{slug}")]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    allowed, accepted = {}, {}
    for name in NAMES:
        allowed[name] = jsonschema.Draft202012Validator(schema).is_valid({"display_name": name})
        response = await organizer.post(JOIN, json={"display_name": name}, headers=ORIGIN)
        accepted[name] = response.status_code == 201
        assert response.status_code in (201, 422), response.text

    assert accepted == allowed
    assert [n for n in NAMES if not allowed[n]] == [
        "x" * 61,
        "bad\x00name",
        "zero\u200bwidth",
        "\u202eevil",
        "\x7f",
        "private\ue000use",
        "plane\U000f0001fifteen",
    ]
