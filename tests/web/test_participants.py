"""Joining an event's audience: admission, validation, rate limits and cross-site refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update

from townhall.app import create_app
from townhall.platform import programme
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import Event
from townhall.settings import Settings

BASE = "http://testserver"
JOIN = "/api/events/mayors-summit-2021/participants"
SAME_SITE = {"Origin": BASE}


@pytest.fixture
async def client(sqlite_database_url, summit_spec):
    engine = make_engine(sqlite_database_url)
    async with make_sessionmaker(engine)() as db:
        await programme.import_programme(db, spec=summit_spec)
        await db.commit()
    settings = Settings(
        database_url=sqlite_database_url,
        public_url=BASE,
        secret_key="k" * 32,
        identities_per_minute=10,
    )
    app = create_app(settings, clock=ManualClock(datetime(2021, 12, 8, 12, 50, tzinfo=UTC)))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
            c.engine = engine
            yield c
    await engine.dispose()


async def set_code(client, code: str | None) -> None:
    async with make_sessionmaker(client.engine)() as db:
        await db.execute(update(Event).values(access_code=code))
        await db.commit()


async def test_open_event_admits_and_sets_a_private_cookie(client) -> None:
    response = await client.post(JOIN, json={"display_name": "  Ana   Lima "}, headers=SAME_SITE)
    body = response.json()
    cookie = response.headers["set-cookie"]
    assert (response.status_code, body["display_name"], body["event"]) == (
        201,
        "Ana Lima",
        "mayors-summit-2021",
    )
    assert body["participant"].startswith("p_")
    assert "townhall_participant=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_event_with_a_code_admits_only_with_it(client) -> None:
    await set_code(client, "IZMIR-2021")
    missing = await client.post(JOIN, json={"display_name": "Bo"}, headers=SAME_SITE)
    wrong = await client.post(JOIN, json={"access_code": "paris"}, headers=SAME_SITE)
    right = await client.post(JOIN, json={"access_code": " izmir-2021 "}, headers=SAME_SITE)
    event = (await client.get("/api/events/mayors-summit-2021")).json()
    assert [missing.status_code, wrong.status_code, right.status_code] == [403, 403, 201]
    assert missing.json()["error"]["code"] == "participant.access_code"
    assert event["admission"] == "code" and "IZMIR" not in str(event)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"display_name": "x" * 61}, "participant.name_too_long"),
        ({"display_name": "bad\u0000name"}, "participant.invalid_name"),
        ({"display_name": 42}, "participant.invalid_name"),
        ({"display_name": "Ana", "admin": True}, "request.unknown_field"),
    ],
)
async def test_bad_bodies_get_typed_errors(client, body, code) -> None:
    response = await client.post(JOIN, json=body, headers=SAME_SITE)
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


async def test_non_json_bodies_are_refused(client) -> None:
    not_json = await client.post(
        JOIN, content=b"{nope", headers={**SAME_SITE, "content-type": "application/json"}
    )
    form = await client.post(JOIN, data={"display_name": "Ana"}, headers=SAME_SITE)
    assert [
        (not_json.status_code, not_json.json()["error"]["code"]),
        (form.status_code, form.json()["error"]["code"]),
    ] == [(422, "request.malformed"), (422, "request.media_type")]


async def test_foreign_origin_is_refused_before_anything_happens(client) -> None:
    foreign = await client.post(JOIN, json={}, headers={"Origin": "https://evil.example"})
    null = await client.post(JOIN, json={}, headers={"Origin": "null"})
    assert [(r.status_code, r.json()["error"]["code"]) for r in (foreign, null)] == [
        (403, "csrf.origin"),
        (403, "csrf.origin"),
    ]


async def test_creating_identities_is_rate_limited(client) -> None:
    statuses = [
        (await client.post(JOIN, json={}, headers=SAME_SITE)).status_code for _ in range(11)
    ]
    limited = await client.post(JOIN, json={}, headers=SAME_SITE)
    assert statuses == [201] * 10 + [429]
    assert limited.json()["error"]["code"] == "identity.rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
