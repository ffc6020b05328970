"""The organizer console through the ASGI app: who gets in, forms that round-trip, the
importer's problems next to their fields, invitations issued, resent and revoked, room
settings, and the audit log with its exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element

import html5lib
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.app import create_app
from townhall.platform import access, programme, rooms
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import Room, RoomEvent
from townhall.platform.programme_edit import spec_from_db
from townhall.platform.programme_file import parse_programme
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.realtime.identity import invitation_token, read_identity, resolve_viewer
from townhall.settings import Settings

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
SLUG = "mayors-summit-2021"
CONSOLE = f"/events/{SLUG}/console"
WORKSHOP_1 = "workshop-1-building-resilience"
WORKSHOP_2 = "workshop-2-diversity-equity-inclusion"
WORKSHOP_3 = "workshop-3-dialogue-solidarity"
NOW = datetime(2021, 12, 8, 9, 0, tzinfo=UTC)  # 12:00 in Izmir: every workshop is ahead
SECRET = "s" * 32


@dataclass
class World:
    app: object
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    event_id: int
    rooms: dict[str, int]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    async def invite(self, role: str, **scope: int) -> str:
        """A link token for a new invitation of ``role``."""
        async with self.sessionmaker() as db:
            invitation = await access.create_invitation(
                db, event_id=self.event_id, role=role, now=NOW, label=f"Test {role}", **scope
            )
            await db.commit()
        return invitation_token(invitation.id, invitation.nonce, SECRET)

    @asynccontextmanager
    async def client_as(self, role: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client with the cookies of ``role``: anonymous, audience, moderator, organizer."""
        async with self.client() as client:
            if role == "audience":
                response = await client.post(
                    f"/api/events/{SLUG}/participants", json={"display_name": "Ada"}, headers=ORIGIN
                )
                assert response.status_code == 201, response.text
            elif role != "anonymous":
                scope = (
                    {"session_id": await self.session_id(WORKSHOP_1)} if role != "organizer" else {}
                )
                token = await self.invite(role, **scope)
                response = await client.post(f"/invitations/{token}", headers=ORIGIN)
                assert response.status_code == 303, response.text[:500]
            yield client

    async def session_id(self, slug: str) -> int:
        async with self.sessionmaker() as db:
            return (await programme.get_session(db, event_id=self.event_id, slug=slug)).id

    async def spec(self) -> ProgrammeSpec:
        async with self.sessionmaker() as db:
            return await spec_from_db(db, self.event_id)

    async def audit(self) -> list[tuple[str, str, str | None]]:
        async with self.sessionmaker() as db:
            entries = await access.list_audit(db, event_id=self.event_id)
        return [(e.actor, e.action, e.target) for e in entries]

    async def logged(self, room_id: int) -> list[str]:
        async with self.sessionmaker() as db:
            rows = await db.scalars(
                select(RoomEvent.name).where(RoomEvent.room_id == room_id).order_by(RoomEvent.seq)
            )
            return list(rows)


@pytest.fixture
async def world(database_url: str, summit_spec: ProgrammeSpec) -> AsyncIterator[World]:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as db:
        await programme.import_programme(db, spec=summit_spec)
        await db.commit()
        event = await programme.get_event(db, slug=SLUG)
        sessions = await programme.list_sessions(db, event_id=event.id)
    room_ids = {s.slug: s.room.id for s in sessions if s.room is not None}
    settings = Settings(database_url=database_url, public_url=BASE, secret_key=SECRET)
    app = create_app(settings, clock=ManualClock(NOW))
    try:
        async with app.router.lifespan_context(app):
            yield World(app, settings, sessionmaker, event.id, room_ids)
    finally:
        await engine.dispose()


# ---- reading pages ---------------------------------------------------------------------


def parse(html: str) -> Element:
    """The document, or a failure at the first parse error (html5lib's strict mode)."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


def text_of(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def element_by_id(doc: Element, id_: str) -> Element | None:
    return next((el for el in doc.iter() if el.get("id") == id_), None)


def form_fields(doc: Element, action: str | None = None) -> dict[str, str]:
    """What a browser would submit for the (first) form posting to ``action``."""
    form = next(f for f in doc.iter("form") if action is None or (f.get("action") or "") == action)
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
            # Browsers drop the newline that directly follows <textarea>.
            fields[name] = (element.text or "").removeprefix("\n")
        elif element.tag == "select":
            options = list(element.iter("option"))
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            fields[name] = chosen[0].get("value") or "" if chosen else ""
    return fields


def flash_link(html: str) -> str:
    field = element_by_id(parse(html), "new-link")
    assert field is not None, "no link on the page"
    return field.get("value") or ""


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


# ---- who gets in -----------------------------------------------------------------------

READS = [
    "",
    "/programme",
    f"/programme/{WORKSHOP_1}",
    "/programme.toml",
    "/rooms",
    "/invitations",
    "/audit",
    "/audit.csv",
    "/audit.json",
]


@pytest.mark.parametrize("role", ["anonymous", "audience", "moderator"])
async def test_console_routes_non_organizers_get_403(world: World, role: str) -> None:
    room = world.rooms[WORKSHOP_1]
    writes = [
        "/programme",
        "/people",
        f"/programme/{WORKSHOP_1}",
        f"/programme/{WORKSHOP_2}/remove",
        f"/rooms/{room}",
        "/invitations",
        "/invitations/1/resend",
        "/invitations/1/revoke",
    ]
    code = "auth.required" if role == "anonymous" else "organizer.required"
    before = await world.spec()
    async with world.client_as(role) as client:
        statuses = {}
        for path in READS:
            response = await client.get(CONSOLE + path)
            statuses[f"GET {path}"] = response.status_code
        for path in writes:
            response = await client.post(CONSOLE + path, data={"title": "x"}, headers=ORIGIN)
            statuses[f"POST {path}"] = response.status_code
        page = await client.get(CONSOLE)
        exported = await client.get(f"{CONSOLE}/audit.json")

    assert statuses == {key: 403 for key in statuses}
    assert '<h1 id="error-title">Something went wrong</h1>' in page.text
    assert exported.json()["error"]["code"] == code
    assert await world.spec() == before


# A session the console's "new session" form adds (a day after the Summit's last).
NEW_SESSION = {
    "slug": "extra",
    "title": "Extra",
    "kind": "panel",
    "format": "online",
    "date": "2021-12-09",
    "start": "10:00",
    "end": "11:00",
}


async def test_console_routes_organizer_gets_pages_and_redirects(world: World) -> None:
    async with world.client_as("organizer") as client:
        pages = {path: await client.get(CONSOLE + path) for path in READS}
        edit = parse(pages[f"/programme/{WORKSHOP_1}"].text)
        rooms = parse(pages["/rooms"].text)
        room = world.rooms[WORKSHOP_1]
        posts = {
            "/programme": NEW_SESSION,
            "/people": {"name": "Ada Lovelace"},
            f"/programme/{WORKSHOP_1}": form_fields(edit, ""),
            f"/rooms/{room}": form_fields(rooms, f"{CONSOLE}/rooms/{room}"),
            "/invitations": {"role": "organizer", "days": "3"},
            "/invitations/2/resend": {},  # the one just issued (1 is ours)
            "/invitations/2/revoke": {},
            f"/programme/{WORKSHOP_2}/remove": {},
        }
        answers = {}
        for path, form in posts.items():
            response = await client.post(CONSOLE + path, data=form, headers=ORIGIN)
            answers[path] = (response.status_code, response.headers.get("location"))

    for page in pages.values():
        if page.headers["content-type"].startswith("text/html"):
            parse(page.text)  # well-formed HTML, every page
    assert {path: r.status_code for path, r in pages.items()} == {path: 200 for path in READS}
    assert answers == {
        "/programme": (303, f"{CONSOLE}/programme/extra"),
        "/people": (303, f"{CONSOLE}/programme"),
        f"/programme/{WORKSHOP_1}": (303, f"{CONSOLE}/programme/{WORKSHOP_1}"),
        f"/rooms/{room}": (303, f"{CONSOLE}/rooms#room-{room}"),
        "/invitations": (303, f"{CONSOLE}/invitations"),
        "/invitations/2/resend": (303, f"{CONSOLE}/invitations"),
        "/invitations/2/revoke": (303, f"{CONSOLE}/invitations"),
        f"/programme/{WORKSHOP_2}/remove": (303, f"{CONSOLE}/programme"),
    }


async def test_console_form_post_without_origin_is_refused(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(
            f"{CONSOLE}/invitations",
            data={"role": "organizer"},
            headers={"Accept": "application/json"},
        )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf.origin"
    assert [a for _, a, _ in await world.audit() if a == "invitation.created"] == []


async def test_console_invitation_of_another_event_is_not_found(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(f"{CONSOLE}/invitations/999/revoke", headers=ORIGIN)

    assert response.status_code == 404


# ---- the programme --------------------------------------------------------------------


async def test_console_programme_edit_unchanged_form_changes_nothing(world: World) -> None:
    before = await world.spec()
    async with world.client_as("organizer") as client:
        page = await client.get(f"{CONSOLE}/programme/{WORKSHOP_3}")
        response = await client.post(
            f"{CONSOLE}/programme/{WORKSHOP_3}",
            data=form_fields(parse(page.text), ""),
            headers=ORIGIN,
        )

    assert response.status_code == 303
    assert await world.spec() == before
    assert await world.logged(world.rooms[WORKSHOP_3]) == []


async def test_console_programme_edit_round_trip(world: World) -> None:
    url = f"{CONSOLE}/programme/{WORKSHOP_1}"
    async with world.client_as("organizer") as client:
        form = form_fields(parse((await client.get(url)).text), "")
        form.update(
            {
                "title": "Thematic workshop 1: resilience",
                "start": "16:30",
                "end": "18:00",
                "guiding_questions": "First question?\r\nSecond question?\r\n",
                "people-0-status": "confirmed",
                "people-1-remove": "1",
                "people-8-name": "Ada Lovelace",
                "people-8-role": "discussant",
                "people-8-status": "tbc",
            }
        )
        response = await client.post(url, data=form, headers=ORIGIN)
        shown = await client.get(url)
        again = await client.get(url)

    session = next(s for s in (await world.spec()).sessions if s.slug == WORKSHOP_1)
    doc = parse(shown.text)
    assert response.status_code == 303
    assert text_of(next(e for e in doc.iter("div") if "flash" in (e.get("class") or ""))) == (
        "Saved “Thematic workshop 1: resilience”."
    )
    assert "flash" not in again.text.split('class="console-nav"')[1].split("</nav>")[1][:200]
    assert form_fields(doc, "")["start"] == "16:30"
    assert (session.title, session.starts_at, session.ends_at, session.guiding_questions) == (
        "Thematic workshop 1: resilience",
        datetime(2021, 12, 8, 13, 30, tzinfo=UTC),
        datetime(2021, 12, 8, 15, 0, tzinfo=UTC),
        ("First question?", "Second question?"),
    )
    assert next((a.person, a.role, a.status) for a in session.appearances) == (
        "guldem-ozdogan",
        "moderator",
        "confirmed",
    )
    assert session.appearances[-1] == type(session.appearances[-1])(
        person="ada-lovelace", role="discussant", status="tbc"
    )
    assert len(session.appearances) == 8  # one removed, one added
    # Open screens follow: the room's people list (addressees, panel names) is logged anew.
    assert await world.logged(world.rooms[WORKSHOP_1]) == [
        "room.schedule_changed",
        "room.people_changed",
    ]
    async with world.sessionmaker() as db:
        people = await db.scalar(
            select(RoomEvent.data)
            .where(RoomEvent.room_id == world.rooms[WORKSHOP_1])
            .order_by(RoomEvent.seq.desc())
            .limit(1)
        )
    assert people["people"][-1] == {
        "key": "ada-lovelace",
        "name": "Ada Lovelace (tbc)",
        "credit": "Ada Lovelace",
        "city": None,
    }
    assert (await world.audit())[0][1:] == ("session.updated", WORKSHOP_1)


async def test_console_programme_edit_problems_shown_next_to_their_fields(world: World) -> None:
    url = f"{CONSOLE}/programme/{WORKSHOP_1}"
    before = await world.spec()
    async with world.client_as("organizer") as client:
        form = form_fields(parse((await client.get(url)).text), "")
        form.update(
            {
                "start": "17:00",
                "end": "16:00",
                "title": "",
                "people-2-role": "",
                "people-9-role": "panelist",  # a new row: a role, but nobody chosen
            }
        )
        response = await client.post(url, data=form, headers=ORIGIN)
        form.update({"end": "4pm", "people-9-role": "", "people-8-name": "Ada Lovelace"})
        unreadable = await client.post(url, data=form, headers=ORIGIN)

    doc = parse(response.text)
    errors = {
        field: text_of(element_by_id(doc, f"f-{field}-error"))
        for field in ("title", "end", "people-2-role", "people-8-person", "start")
    }
    assert response.status_code == 422
    assert errors == {
        "title": "Error: field 'title': must not be empty",
        "end": "Error: field 'end': the session ends before it starts",
        "people-2-role": "Error: field 'role': expected one of welcome, keynote, moderator, "
        "introduction, panelist, discussant, special_message, presenter",
        "people-8-person": "Error: choose who (or tick “Remove”)",
        "start": "",
    }
    assert element_by_id(doc, "f-end").get("aria-invalid") == "true"
    assert form_fields(doc, "")["start"] == "17:00"  # what was typed stays
    assert form_fields(doc, "")["people-8-role"] == "panelist"
    again = parse(unreadable.text)
    assert [text_of(element_by_id(again, f"f-{f}-error")) for f in ("end", "people-8-role")] == [
        "Error: field 'end': expected a time \"HH:MM\", got '4pm'",
        "Error: field 'role': expected one of welcome, keynote, moderator, "
        "introduction, panelist, discussant, special_message, presenter",
    ]
    assert form_fields(again, "")["people-8-name"] == "Ada Lovelace"
    assert await world.spec() == before


async def test_console_programme_edit_stale_form_is_a_conflict(world: World) -> None:
    url = f"{CONSOLE}/programme/{WORKSHOP_1}"
    async with world.client_as("organizer") as client:
        stale = form_fields(parse((await client.get(url)).text), "")
        first = await client.post(url, data={**stale, "title": "First"}, headers=ORIGIN)
        second = await client.post(url, data={**stale, "title": "Second"}, headers=ORIGIN)
        third = await client.post(url, data=form_fields(parse(second.text), ""), headers=ORIGIN)

    assert (first.status_code, second.status_code, third.status_code) == (303, 422, 303)
    assert "Someone else saved this session" in second.text
    assert next(s.title for s in (await world.spec()).sessions if s.slug == WORKSHOP_1) == "Second"


async def test_console_programme_file_download_imports_back_equal(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.get(f"{CONSOLE}/programme.toml")

    assert response.headers["content-disposition"] == f'attachment; filename="{SLUG}.toml"'
    assert parse_programme(response.text) == await world.spec()


async def test_console_new_session_problems_are_shown(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(
            f"{CONSOLE}/programme",
            data={
                "slug": "Bad Slug",
                "title": "T",
                "kind": "panel",
                "format": "online",
                "date": "2021-12-09",
                "start": "10:00",
                "end": "",
            },
            headers=ORIGIN,
        )

    doc = parse(response.text)
    assert response.status_code == 422
    assert [text_of(element_by_id(doc, f"ns-{f}-error")) for f in ("slug", "end")] == [
        "Error: field 'slug': 'Bad Slug' is not a slug (a-z, 0-9, -)",
        "Error: give both 'start' and 'end', or neither (time to be announced)",
    ]


# ---- rooms -----------------------------------------------------------------------------


async def test_console_room_settings_saved_and_logged(world: World) -> None:
    room_id = world.rooms[WORKSHOP_1]
    action = f"{CONSOLE}/rooms/{room_id}"
    async with world.sessionmaker() as db:
        before = await rooms.room_snapshot(
            db, room_id=room_id, default_minutes=world.settings.room_opens_minutes_before
        )
    async with world.client_as("organizer") as client:
        form = form_fields(parse((await client.get(f"{CONSOLE}/rooms")).text), action)
        form.update(
            {
                "stage_url": "https://stage.example.org/w1",
                "question_max_length": "280",
                "word_filter": "spam\r\nbuy now",
                "opens_minutes_before": "30",
                "speaking_time_minutes": "4",
            }
        )
        del form["premoderation"]
        response = await client.post(action, data=form, headers=ORIGIN)

    async with world.sessionmaker() as db:
        room = await db.get(Room, room_id)
    assert response.status_code == 303
    assert room is not None
    assert (
        room.stage_url,
        room.premoderation,
        room.question_max_length,
        room.word_filter,
        room.opens_minutes_before,
        room.speaking_time_minutes,
    ) == ("https://stage.example.org/w1", False, 280, ["buy now", "spam"], 30, 4)
    assert await world.logged(room_id) == ["room.updated"]
    assert (await world.audit())[0][1] == "room.settings_changed"
    # What clients apply (room.updated's changes laid over the room) is what a new snapshot shows.
    async with world.sessionmaker() as db:
        event = await db.scalar(select(RoomEvent).where(RoomEvent.room_id == room_id))
        snapshot = await rooms.room_snapshot(
            db, room_id=room_id, default_minutes=world.settings.room_opens_minutes_before
        )
    assert event is not None and {**before["room"], **event.data["changes"]} == snapshot["room"]
    assert before["room"]["opens_at"] != snapshot["room"]["opens_at"]  # 30, not 15, minutes


async def test_console_rooms_offer_each_room_big_screen_link(world: World) -> None:
    screen = re.compile(r'href="([^"]*/rooms/(\d+)/screen/[^"]+)" target="_blank" rel="noopener')
    async with world.client_as("organizer") as client:
        links = {
            int(room): link
            for link, room in screen.findall((await client.get(f"{CONSOLE}/rooms")).text)
        }
        moderated = (
            await client.get(f"/events/{SLUG}/rooms/{world.rooms[WORKSHOP_1]}/moderate")
        ).text
        shown = await client.get(links[world.rooms[WORKSHOP_1]].removeprefix(BASE))

    assert (
        sorted(links) == sorted(world.rooms.values()),
        f'value="{links[world.rooms[WORKSHOP_1]]}"' in moderated,
        shown.status_code,
        'id="screen"' in shown.text,
    ) == (True, True, 200, True)


async def test_console_room_settings_bad_values_named_and_nothing_saved(world: World) -> None:
    room_id = world.rooms[WORKSHOP_1]
    action = f"{CONSOLE}/rooms/{room_id}"
    async with world.client_as("organizer") as client:
        form = form_fields(parse((await client.get(f"{CONSOLE}/rooms")).text), action)
        bad_url = await client.post(
            action, data={**form, "stage_url": "javascript:alert(1)"}, headers=ORIGIN
        )
        bad_number = await client.post(
            action, data={**form, "speaking_time_minutes": "lots"}, headers=ORIGIN
        )

    prefix = f"r{room_id}"
    assert (bad_url.status_code, bad_number.status_code) == (422, 422)
    assert text_of(element_by_id(parse(bad_url.text), f"{prefix}-stage_url-error")) == (
        "Error: stage_url must be an http(s) URL of at most 1000 characters"
    )
    assert text_of(
        element_by_id(parse(bad_number.text), f"{prefix}-speaking_time_minutes-error")
    ) == ("Error: expected a whole number, got 'lots'")
    assert await world.logged(room_id) == []


# ---- invitations -----------------------------------------------------------------------


async def test_console_invitation_issue_resend_revoke(world: World) -> None:
    room_id = world.rooms[WORKSHOP_3]
    moderate = f"/events/{SLUG}/rooms/{room_id}/moderate"
    async with world.sessionmaker() as db:
        begum = await access.find_person(db, event_id=world.event_id, name="Begüm Özden Fırat")
    async with world.client_as("organizer") as organizer, world.client() as moderator:
        issued = await organizer.post(
            f"{CONSOLE}/invitations",
            data={"role": "moderator", "person": str(begum.id), "session": "", "days": "30"},
            headers=ORIGIN,
        )
        page = await organizer.get(f"{CONSOLE}/invitations")
        link = flash_link(page.text)
        page_again = await organizer.get(f"{CONSOLE}/invitations")
        accepted = await moderator.post(f"/invitations/{token_of(link)}", headers=ORIGIN)
        allowed = await moderator.get(moderate)

        invitation_id = int(re.findall(r'id="invitation-(\d+)"', page.text)[0])
        await organizer.post(f"{CONSOLE}/invitations/{invitation_id}/resend", headers=ORIGIN)
        new_link = flash_link((await organizer.get(f"{CONSOLE}/invitations")).text)
        old_page = await moderator.get(f"/invitations/{token_of(link)}")
        new_page = await moderator.get(f"/invitations/{token_of(new_link)}")
        still_allowed = await moderator.get(moderate)

        await organizer.post(f"{CONSOLE}/invitations/{invitation_id}/revoke", headers=ORIGIN)
        listed = parse((await organizer.get(f"{CONSOLE}/invitations")).text)
        revoked_page = await moderator.get(f"/invitations/{token_of(new_link)}")
        refused = await moderator.get(moderate)
        async with world.sessionmaker() as db:
            viewer = await resolve_viewer(
                db,
                read_identity(dict(moderator.cookies), SECRET),
                event_id=world.event_id,
                now=NOW,
            )

    assert issued.status_code == 303
    assert link.startswith(f"{BASE}/invitations/")
    assert element_by_id(parse(page_again.text), "new-link") is None  # shown once
    assert (accepted.status_code, allowed.status_code) == (303, 200)
    assert new_link != link
    assert (old_page.status_code, new_page.status_code, still_allowed.status_code) == (
        404,
        200,
        200,
    )
    assert element_by_id(listed, f"invitation-{invitation_id}").get("data-state") == "revoked"
    assert revoked_page.status_code == 410
    assert "This invitation has been revoked" in revoked_page.text
    assert refused.status_code == 403
    assert viewer is not None and (viewer.organizer, viewer.moderates, viewer.panelist_in) == (
        False,
        frozenset(),
        frozenset(),
    )
    assert [(action, target) for _, action, target in await world.audit()][:4] == [
        ("invitation.revoked", f"invitation {invitation_id}"),
        ("invitation.resent", f"invitation {invitation_id}"),
        ("invitation.redeemed", f"invitation {invitation_id}"),
        ("invitation.created", f"invitation {invitation_id}"),
    ]


async def test_console_invitation_without_scope_is_refused_next_to_the_field(
    world: World,
) -> None:
    async with world.client_as("organizer") as client:
        response = await client.post(
            f"{CONSOLE}/invitations", data={"role": "moderator", "days": "30"}, headers=ORIGIN
        )

    assert response.status_code == 422
    assert text_of(element_by_id(parse(response.text), "inv-session-error")) == (
        "Error: a moderator invitation needs a session or a person of the programme"
    )


# ---- the audit log ---------------------------------------------------------------------


async def add_audit(world: World, count: int, **fields: object) -> None:
    async with world.sessionmaker() as db:
        for number in range(count):
            await access.record(
                db,
                event_id=world.event_id,
                now=NOW + timedelta(seconds=number),
                **{"actor": "Someone", "action": f"test.action_{number}", **fields},
            )
        await db.commit()


async def test_console_audit_csv_neutralises_formulas(world: World) -> None:
    await add_audit(
        world,
        1,
        actor='=HYPERLINK("http://evil")',
        action="question.edited",
        target="+1 @SUM(A1)",
        data={"text": "-2+3", "name": "Zoë"},
    )
    await add_audit(world, 1, actor="@cmd", action="x", target=" =1", data={})
    async with world.client_as("organizer") as client:
        response = await client.get(f"{CONSOLE}/audit.csv")

    body = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert body.startswith("\ufeffid,at,actor,action,room,target,details\r\n")
    assert [row[2:7] for row in rows[2:4]] == [  # after the organizer signing in
        ["'@cmd", "x", "", "' =1", "{}"],
        [
            '\'=HYPERLINK("http://evil")',
            "question.edited",
            "",
            "'+1 @SUM(A1)",
            '{"name": "Zoë", "text": "-2+3"}',
        ],
    ]


async def test_console_audit_json_has_every_entry_newest_first(world: World) -> None:
    await add_audit(world, 3)
    async with world.client_as("organizer") as client:
        response = await client.get(f"{CONSOLE}/audit.json")

    body = response.json()
    assert body["event"] == SLUG
    assert [e["action"] for e in body["entries"]][:4] == [
        "invitation.redeemed",
        "test.action_2",
        "test.action_1",
        "test.action_0",
    ]
    assert body["entries"][1] == {
        "id": body["entries"][1]["id"],
        "at": "2021-12-08T09:00:02Z",
        "actor": "Someone",
        "action": "test.action_2",
        "room": None,
        "target": None,
        "details": {},
    }


async def test_console_audit_page_pages_newest_first(world: World) -> None:
    await add_audit(world, 60)
    async with world.client_as("organizer") as client:
        first = parse((await client.get(f"{CONSOLE}/audit")).text)
        second = parse((await client.get(f"{CONSOLE}/audit?page=2")).text)

    def actions(doc: Element) -> list[str]:
        return [text_of(row.findall("td")[2]) for row in doc.iter("tr") if row.findall("td")]

    # Known actions in plain words; one the log's table does not know, as its code.
    assert len(actions(first)) == 50 and actions(first)[0] == "Accepted an invitation"
    assert actions(first)[1] == "test.action_59"
    assert actions(second)[-1] == "test.action_0" and len(actions(second)) == 11
    assert [a.get("rel") for a in first.iter("a") if a.get("rel")] == ["next"]
    assert [a.get("rel") for a in second.iter("a") if a.get("rel")] == ["prev"]


# ---- the overview ----------------------------------------------------------------------


async def test_console_overview_lists_every_live_room(world: World) -> None:
    async with world.client_as("organizer") as client:
        doc = parse((await client.get(CONSOLE)).text)

    table = element_by_id(doc, "live-overview")
    assert table is not None and table.get("data-ws-url") == "ws://testserver/ws"
    assert sorted(
        int(r.get("data-room-id")) for r in table.iter("tr") if r.get("data-room-id")
    ) == (sorted(world.rooms.values()))
    scripts = [s.get("src").split("?")[0] for s in doc.iter("script") if s.get("src")]
    assert scripts == ["/static/js/console.js"]


async def test_console_pages_are_never_cached(world: World) -> None:
    async with world.client_as("organizer") as client:
        response = await client.get(f"{CONSOLE}/invitations")

    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_console_admission_sets_and_clears_the_access_code(world: World) -> None:
    base = f"/events/{SLUG}/console"
    join = f"/api/events/{SLUG}/participants"
    async with world.client_as("organizer") as client:
        short = await client.post(
            f"{base}/admission", data={"admission": "code", "access_code": "ab"}, headers=ORIGIN
        )
        coded = await client.post(
            f"{base}/admission",
            data={"admission": "code", "access_code": "Izmir 2021"},
            headers=ORIGIN,
        )
        refused = await client.post(join, json={}, headers=ORIGIN)
        admitted = await client.post(join, json={"access_code": "izmir 2021"}, headers=ORIGIN)
        opened = await client.post(f"{base}/admission", data={"admission": "open"}, headers=ORIGIN)
        anyone = await client.post(join, json={}, headers=ORIGIN)
    assert [r.status_code for r in (short, coded, refused, admitted, opened, anyone)] == [
        303,
        303,
        403,
        201,
        303,
        201,
    ]
    assert [a for a in await world.audit() if a[1] == "event.admission_changed"] != []


async def test_console_overview_names_latest_actions_in_plain_words(world: World) -> None:
    await add_audit(world, 1)
    async with world.client_as("organizer") as client:
        doc = parse((await client.get(CONSOLE)).text)

    recent = next(el for el in doc.iter("ol") if el.get("class") == "recent-list")
    # A known action in words; one the table does not know keeps its code.
    assert [text_of(li).split(" ", 4)[4] for li in recent.iter("li")] == [
        "Test organizer Accepted an invitation Test organizer",
        "Someone test.action_0",
    ]
