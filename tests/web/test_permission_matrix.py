"""The permission matrix of the HTTP routes: every route of the app, for every identity, answers
exactly what ``docs/security.md`` allows.

:data:`MATRIX` has one row per (method, path template) and one column per identity of
:mod:`support.identities`. An entry is the status an allowed request gets (with a valid body,
so that the outcome measured is the permission check's), or ``"403 <code>"`` for a refusal.
The route table is read from the app itself: a new route fails
:func:`test_route_table_every_route_is_classified` until it has a row here.

Refusals are checked in both forms the docs promise: the typed JSON error for ``/api/…`` and
``*.json``, the 403 page for everything else (whose code is read from the same request asking
for JSON); a refusal writes nothing to the database. One app and one SQLite database serve the
whole module; rows run in table order and change the database only the way an allowed request
would (the organizer adds a session, removes workshop 2, rotates the screen key …).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from support.identities import (
    EVENT,
    IDENTITIES,
    WORKSHOP_1,
    WORKSHOP_2,
    WORKSHOP_3,
    Issued,
    invite,
    issue_invitations,
    participant_of,
    sign_in,
    spoil,
)

from townhall.app import create_app
from townhall.platform import programme
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import (
    AuditEntry,
    Invitation,
    Participant,
    Person,
    ProgrammeSession,
    Room,
)
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.realtime.identity import read_identity, resolve_viewer
from townhall.settings import Settings

BASE = "http://testserver"
SECRET = "permission-matrix-secret-key"
NOW = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)  # 15:50 in Izmir: workshop 1's lobby is open
KEY = "screen-key-of-workshop-1"

# ---- the matrix ------------------------------------------------------------------------
A = "403 auth.required"  # no identity in the event
O = "403 organizer.required"  # noqa: E741 - an identity, but not an organizer
F = "403 room.forbidden"  # an identity, but not allowed in this room
B = "403 participant.banned"  # removed from the event
WS = "tests/realtime/test_command_permissions.py"  # classified, tested with a real server

EVENT_ = "/events/{slug}"
ROOM = "/events/{slug}/rooms/{room_id}"
CONSOLE = "/events/{slug}/console"
SESSION = f"{CONSOLE}/programme/{{session}}"

#                                                   anon aud  ban  pan  mod  mod3 org  exp  rev
MATRIX: dict[tuple[str, str], tuple[int | str, ...] | str] = {
    # public pages, exports and the JSON API: everyone
    ("GET", "/"):                                  (302, 302, 302, 302, 302, 302, 302, 302, 302),
    ("GET", "/healthz"):                           (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/livez"):                             (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/readyz"):                            (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Prometheus scrapes the app port; the proxy does not route /metrics from outside.
    ("GET", "/metrics"):                           (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # the language switcher: anyone, from our own pages (the origin check)
    ("POST", "/language"):                         (303, 303, 303, 303, 303, 303, 303, 303, 303),
    ("GET", "/openapi.json"):                      (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/events"):                        (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/events/{slug}"):                 (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/events/{slug}/programme"):       (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # a banned browser cannot come back as a new participant
    ("POST", "/api/events/{slug}/participants"):   (201, 201, B, 201, 201, 201, 201, 201, 201),
    ("GET", EVENT_):                               (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{EVENT_}/programme.ics"):            (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{EVENT_}/sessions/{{session}}.ics"): (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{EVENT_}/schedule.xml"):             (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{EVENT_}/schedule.json"):            (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{EVENT_}/sessions/{{session}}"):     (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", ROOM):                                 (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{ROOM}/summary"):                    (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # the room's Q&A: staff (the organizer, the room's moderators); the panel view for the
    # panel too; the big screen for anyone with its key
    ("GET", f"{ROOM}/moderate"):                   (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/panel"):                      (A,   F,   F,   200, 200, F,   200, F,   F),
    ("GET", f"{ROOM}/screen/{{key}}"):             (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", f"{ROOM}/questions.csv"):              (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/questions.json"):             (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", "/api/rooms/{room_id}/questions"):     (A,   F,   F,   F,   200, F,   200, F,   F),
    # the session record (speakers, airtime, backstage): staff
    ("GET", f"{ROOM}/record.json"):                (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/speakers.csv"):               (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/airtime.csv"):                (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/backstage.csv"):              (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", "/api/rooms/{room_id}/record"):        (A,   F,   F,   F,   200, F,   200, F,   F),
    # the session report (charts, its export and the data behind them): staff
    ("GET", f"{ROOM}/report"):                     (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/report.html"):                (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/report.json"):                (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", f"{ROOM}/report/{{chart}}.csv"):       (A,   F,   F,   F,   200, F,   200, F,   F),
    ("GET", "/api/rooms/{room_id}/report"):        (A,   F,   F,   F,   200, F,   200, F,   F),
    ("POST", "/api/rooms/{room_id}/screen-key"):   (A,   F,   F,   F,   200, F,   200, F,   F),
    # the organizer console: organizers only
    ("GET", CONSOLE):                              (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", f"{CONSOLE}/admission"):              (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", f"{CONSOLE}/programme"):               (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", f"{CONSOLE}/programme"):              (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", f"{CONSOLE}/programme.toml"):          (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", f"{CONSOLE}/people"):                 (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", SESSION):                              (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", SESSION):                             (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("POST", f"{SESSION}/remove"):                 (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("POST", f"{SESSION}/seats/{{slot}}"):         (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", f"{CONSOLE}/rooms"):                   (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", f"{CONSOLE}/rooms/{{room_id}}"):      (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("POST", f"{CONSOLE}/rooms/{{room_id}}/summary"): (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", f"{CONSOLE}/invitations"):             (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("POST", f"{CONSOLE}/invitations"):            (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("POST", f"{CONSOLE}/invitations/{{id}}/resend"): (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("POST", f"{CONSOLE}/invitations/{{id}}/revoke"): (A,   O,   O,   O,   O,   O,   303, O,   O),
    ("GET", f"{CONSOLE}/audit"):                   (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("GET", f"{CONSOLE}/audit.csv"):               (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("GET", f"{CONSOLE}/audit.json"):              (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("GET", f"{CONSOLE}/report"):                  (A,   O,   O,   O,   O,   O,   200, O,   O),
    ("GET", f"{CONSOLE}/report.csv"):              (A,   O,   O,   O,   O,   O,   200, O,   O),
    # invitation links: anyone holding the link may read and accept it
    ("GET", "/invitations/{token}"):               (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "/invitations/{token}"):              (303, 303, 303, 303, 303, 303, 303, 303, 303),
    # the live endpoint: every command for every identity, with a real server
    ("WEBSOCKET", "/ws"):                           WS,
}  # fmt: skip
HTTP_ROWS = [row for row, expected in MATRIX.items() if expected != WS]

# Path parameters of the rows (default: the Summit, workshop 1, its room).
PARAMS = {
    ("POST", f"{SESSION}/remove"): {"session": WORKSHOP_2},
    ("POST", f"{SESSION}/seats/{{slot}}"): {"slot": f"{WORKSHOP_1}.5"},  # "Paris (tbc)"
    ("GET", f"{ROOM}/report/{{chart}}.csv"): {"chart": "speaker-timeline"},
    ("POST", f"{CONSOLE}/invitations/{{id}}/resend"): {"id": "resend"},
    ("POST", f"{CONSOLE}/invitations/{{id}}/revoke"): {"id": "revoke"},
}


# ---- the world ---------------------------------------------------------------------------
@dataclass
class World:
    app: Starlette
    sessionmaker: async_sessionmaker[AsyncSession]
    event_id: int
    rooms: dict[str, int]
    cookies: dict[str, dict[str, str]]
    spares: dict[str, Issued]  # invitations the rows act on: "link", "resend", "revoke"

    def client(self, identity: str) -> httpx.AsyncClient:
        """A browser holding ``identity``'s cookies, from an address of its own (new audience
        identities are rate limited per address)."""
        address = f"192.0.2.{IDENTITIES.index(identity) + 1}"
        transport = httpx.ASGITransport(
            app=self.app, client=(address, 50000), raise_app_exceptions=False
        )
        return httpx.AsyncClient(
            transport=transport, base_url=BASE, cookies=self.cookies.get(identity, {})
        )

    async def send(
        self, identity: str, method: str, path: str, body: dict[str, Any], **headers: str
    ) -> httpx.Response:
        """One request; unsafe methods come from our own pages (``Origin``), as a browser's."""
        if method != "GET":
            headers["Origin"] = BASE
        async with self.client(identity) as http:
            return await http.request(method, path, headers=headers, **body)

    async def footprint(self) -> dict[str, int]:
        """How many rows the tables a request could write to hold."""
        async with self.sessionmaker() as db:
            return {
                model.__tablename__: await db.scalar(select(func.count()).select_from(model))
                for model in (AuditEntry, Participant, Invitation, Person, ProgrammeSession)
            }

    async def path_of(self, method: str, template: str) -> str:
        params: dict[str, Any] = {
            "slug": EVENT,
            "session": WORKSHOP_1,
            "room_id": self.rooms[WORKSHOP_1],
            "token": self.spares["link"].token,
        }
        if "{key}" in template:  # read now: an allowed row rotates it
            async with self.sessionmaker() as db:
                room = await db.get(Room, self.rooms[WORKSHOP_1])
                params["key"] = room.screen_key if room is not None else None
        params.update(PARAMS.get((method, template), {}))
        if "id" in params:
            params["id"] = self.spares[params["id"]].id
        return template.format(**params)


@pytest.fixture(scope="module")
async def world(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, summit_spec: ProgrammeSpec
) -> AsyncIterator[World]:
    target = tmp_path_factory.mktemp("permission-matrix") / "townhall.db"
    shutil.copyfile(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as db:
        await programme.import_programme(db, spec=summit_spec)
        event = await programme.get_event(db, slug=EVENT)
        sessions = {s.slug: s for s in await programme.list_sessions(db, event_id=event.id)}
        rooms = {slug: s.room.id for slug, s in sessions.items() if s.room is not None}
        room = await db.get(Room, rooms[WORKSHOP_1])
        assert room is not None
        room.screen_key = KEY
        await db.commit()
        issued = await issue_invitations(
            db, event_id=event.id, now=NOW - timedelta(days=1), secret=SECRET
        )
        workshop_3 = sessions[WORKSHOP_3].id  # not workshop 2, which a row removes
        spares = {
            name: await invite(
                db,
                event_id=event.id,
                role="panelist",
                session_id=workshop_3,
                now=NOW,
                secret=SECRET,
            )
            for name in ("link", "resend", "revoke")
        }
    settings = Settings(database_url=url, public_url=BASE, secret_key=SECRET)
    app = create_app(settings, clock=ManualClock(NOW))
    try:
        async with app.router.lifespan_context(app):
            made = World(app, sessionmaker, event.id, rooms, {}, spares)
            for identity in IDENTITIES:
                async with made.client(identity) as http:
                    made.cookies[identity] = await sign_in(http, identity, issued, origin=BASE)
            async with sessionmaker() as db:
                banned = participant_of(made.cookies["banned"], SECRET)
                await spoil(db, issued=issued, banned_participant=banned, now=NOW)
            yield made
    finally:
        await engine.dispose()


# ---- valid bodies ------------------------------------------------------------------------
def parse(html: str) -> Element:
    return html5lib.HTMLParser(namespaceHTMLElements=False).parse(html)


def form_fields(html: str, action: str | None) -> dict[str, str]:
    """What a browser submits for the first form whose ``action`` is ``action`` (None: has no
    action attribute)."""
    form = next(f for f in parse(html).iter("form") if f.get("action") == action)
    fields: dict[str, str] = {}
    for element in form.iter():
        name = element.get("name")
        if name is None:
            continue
        if element.tag == "input":
            if element.get("type") in ("checkbox", "radio") and element.get("checked") is None:
                continue
            fields[name] = element.get("value") or ""
        elif element.tag == "textarea":
            fields[name] = (element.text or "").removeprefix("\n")
        elif element.tag == "select":
            options = list(element.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            fields[name] = (chosen[0].get("value") or "") if chosen else ""
    return fields


async def organizer_form(world: World, page: str, action: str | None) -> dict[str, Any]:
    """The form as the organizer's browser would submit it now (a fresh version field)."""
    async with world.client("organizer") as http:
        response = await http.get(page.format(slug=EVENT, session=WORKSHOP_1))
    assert response.status_code == 200, response.text[:300]
    return {"data": form_fields(response.text, action)}


async def no_body(world: World) -> dict[str, Any]:
    return {}


def static(**body: Any) -> Callable[[World], Awaitable[dict[str, Any]]]:
    async def make(world: World) -> dict[str, Any]:
        return body

    return make


async def save_room_form(world: World) -> dict[str, Any]:
    room = world.rooms[WORKSHOP_1]
    return await organizer_form(world, f"{CONSOLE}/rooms", f"/events/{EVENT}/console/rooms/{room}")


async def save_session_form(world: World) -> dict[str, Any]:
    return await organizer_form(world, SESSION, None)


BODIES: dict[tuple[str, str], Callable[[World], Awaitable[dict[str, Any]]]] = {
    ("POST", "/api/events/{slug}/participants"): static(json={"display_name": "Matrix"}),
    ("POST", f"{CONSOLE}/programme"): static(
        data={
            "slug": "matrix-extra",
            "title": "Matrix extra",
            "kind": "panel",
            "format": "online",
            "date": "2021-12-09",
            "start": "10:00",
            "end": "11:00",
        }
    ),
    ("POST", "/language"): static(data={"language": "fr", "next": "/"}),
    ("POST", f"{CONSOLE}/admission"): static(data={"admission": "open"}),  # keeps it open
    ("POST", f"{CONSOLE}/rooms/{{room_id}}/summary"): static(data={"hidden": "off"}),  # shown
    ("POST", f"{CONSOLE}/people"): static(data={"name": "Matrix Person"}),
    ("POST", f"{SESSION}/seats/{{slot}}"): static(data={"name": "Matrix Mayor"}),
    ("POST", SESSION): save_session_form,
    ("POST", f"{CONSOLE}/rooms/{{room_id}}"): save_room_form,
    ("POST", f"{CONSOLE}/invitations"): static(data={"role": "organizer", "days": "3"}),
}


# ---- outcomes ----------------------------------------------------------------------------
ERROR_PAGE = ('<p class="eyebrow">Error 403</p>', '<h1 id="error-title">Something went wrong</h1>')


def expects_json(path: str) -> bool:
    """Where docs/security.md promises a JSON error rather than the 403 page."""
    return path.startswith("/api/") or path.endswith(".json")


async def outcome(
    world: World, identity: str, method: str, template: str, problems: list[str]
) -> int | str:
    """The status of an allowed request, or ``"403 <code>"``; a refusal in the wrong form
    adds to ``problems``."""
    path = await world.path_of(method, template)
    body = await BODIES.get((method, template), no_body)(world)
    before = await world.footprint()
    response = await world.send(identity, method, path, body)
    if response.status_code not in (401, 403):
        return response.status_code
    where = f"{method} {path} as {identity}"
    if (after := await world.footprint()) != before:
        problems.append(f"{where}: refused, yet it wrote to the database: {before} -> {after}")
    if expects_json(path):
        typed = response
    else:
        typed = await world.send(identity, method, path, body, Accept="application/json")
        page, kind = response.text, response.headers.get("content-type")
        if kind != "text/html; charset=utf-8":
            problems.append(f"{where}: the refusal is not the 403 page but {kind}")
        elif not all(mark in page for mark in ERROR_PAGE):
            problems.append(f"{where}: the refusal page is not the 403 page: {page[:200]!r}")
    if typed.headers.get("content-type") != "application/json":
        problems.append(
            f"{where}: the refusal is not a JSON error but {typed.headers.get('content-type')}"
        )
        return f"{response.status_code} (untyped)"
    error = typed.json().get("error", {})
    if set(typed.json()) != {"error"} or set(error) != {"code", "message"}:
        problems.append(f"{where}: not a typed error body: {typed.json()}")
    if not expects_json(path) and escape(error.get("message", "")) not in response.text:
        problems.append(f"{where}: the 403 page does not say {error.get('message')!r}")
    return f"{response.status_code} {error.get('code')}"


# ---- tests -------------------------------------------------------------------------------
def app_routes(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path template) of every route, Mounts expanded (static files excepted).
    ``HEAD`` is left out: Starlette answers it with the ``GET`` handler."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            if route.path != "/static":
                found |= app_routes(route.routes, prefix + route.path_format)
        elif isinstance(route, WebSocketRoute):
            found.add(("WEBSOCKET", prefix + route.path_format))
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"ANY"}):
                if method != "HEAD":
                    found.add((method, prefix + route.path_format))
        else:
            found.add((type(route).__name__, prefix + getattr(route, "path", repr(route))))
    return found


async def test_route_table_every_route_is_classified(world: World) -> None:
    served = app_routes(world.app.routes)
    unclassified = sorted(served - MATRIX.keys())
    stale = sorted(MATRIX.keys() - served)
    assert (unclassified, stale) == ([], []), (
        "every (method, path) the app serves needs a row in MATRIX (who may use it), and "
        "every row a route"
    )


async def test_identities_hold_the_roles_they_stand_for(world: World) -> None:
    """The columns are who they say: tiers in workshops 1 and 3, and the ban."""
    w1, w3 = world.rooms[WORKSHOP_1], world.rooms[WORKSHOP_3]
    held = {}
    async with world.sessionmaker() as db:
        for identity in IDENTITIES:
            identity_ = read_identity(world.cookies[identity], SECRET)
            viewer = await resolve_viewer(db, identity_, event_id=world.event_id, now=NOW)
            held[identity] = viewer and (viewer.tier(w1), viewer.tier(w3), viewer.banned)

    assert held == {
        "anonymous": None,
        "audience": ("audience", "audience", False),
        "banned": ("audience", "audience", True),
        "panelist": ("panel", "audience", False),
        "moderator": ("staff", "audience", False),
        "moderator_w3": ("audience", "staff", False),
        "organizer": ("staff", "staff", False),
        "expired": ("audience", "audience", False),
        "revoked": ("audience", "audience", False),
    }


@pytest.mark.parametrize(("method", "template"), HTTP_ROWS, ids=[f"{m} {t}" for m, t in HTTP_ROWS])
async def test_route_answers_each_identity_as_the_matrix_says(
    world: World, method: str, template: str
) -> None:
    problems: list[str] = []
    observed = {
        identity: await outcome(world, identity, method, template, problems)
        for identity in IDENTITIES
    }

    assert (observed, problems) == (
        dict(zip(IDENTITIES, MATRIX[(method, template)], strict=True)),
        [],
    )
