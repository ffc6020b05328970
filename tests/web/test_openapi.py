"""The OpenAPI document covers every /api route, and real responses match it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jsonschema
from starlette.routing import Route

from townhall.app import create_app
from townhall.platform import programme
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.settings import Settings

BASE = "http://testserver"


async def _client_for(database_url: str, summit_spec):
    engine = make_engine(database_url)
    async with make_sessionmaker(engine)() as db:
        await programme.import_programme(db, spec=summit_spec)
        await db.commit()
    await engine.dispose()
    settings = Settings(database_url=database_url, public_url=BASE, secret_key="s" * 32)
    return create_app(settings, clock=ManualClock(datetime(2021, 12, 8, 12, 50, tzinfo=UTC)))


def _validate(document: dict, name: str, value: object) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    jsonschema.validate(value, schema)


async def test_openapi_documents_every_api_route(sqlite_database_url, summit_spec) -> None:
    app = await _client_for(sqlite_database_url, summit_spec)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE
        ) as client:
            document = (await client.get("/openapi.json")).json()
    routes = {
        (route.path.replace(":int", ""), method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes - documented == set(), "undocumented API routes"
    assert documented - routes == set(), "documented routes that do not exist"
    assert document["openapi"] == "3.1.0"


async def test_api_responses_match_the_openapi_schemas(sqlite_database_url, summit_spec) -> None:
    app = await _client_for(sqlite_database_url, summit_spec)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE
        ) as client:
            document = (await client.get("/openapi.json")).json()
            events = (await client.get("/api/events")).json()
            event = (await client.get("/api/events/mayors-summit-2021")).json()
            listing = (await client.get("/api/events/mayors-summit-2021/programme")).json()
            missing = await client.get("/api/events/nope")
            joined = await client.post(
                "/api/events/mayors-summit-2021/participants",
                json={"display_name": "Ana"},
                headers={"Origin": BASE},
            )
    for item in events["events"]:
        _validate(document, "Event", item)
    _validate(document, "Event", event)
    for session in listing["sessions"]:
        _validate(document, "Session", session)
    _validate(document, "Error", missing.json())
    _validate(document, "Participant", joined.json())
    assert (missing.status_code, missing.json()["error"]["code"], joined.status_code) == (
        404,
        "event.not_found",
        201,
    )
