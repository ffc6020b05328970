"""Q&A routes through the ASGI app: who may open the moderator console, the panel view, the
big screen and the exports; what the pages embed; and exports of hostile questions."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.app import create_app
from townhall.platform import access, programme, questions
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import AuditEntry, Participant, Room
from townhall.platform.participants import create_participant
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.platform.viewers import Viewer
from townhall.realtime.identity import invitation_token
from townhall.settings import Settings

BASE = "http://testserver"
ORIGIN = {"Origin": BASE}
SLUG = "mayors-summit-2021"
WORKSHOP_1 = "workshop-1-building-resilience"
WORKSHOP_2 = "workshop-2-diversity-equity-inclusion"
NOW = datetime(2021, 12, 8, 15, 50, tzinfo=ZoneInfo("Europe/Istanbul"))  # 12:50Z
KEY = "screen-key-of-workshop-1"
SECRET = "s" * 32


@dataclass
class World:
    app: object
    sessionmaker: async_sessionmaker[AsyncSession]
    event_id: int
    room: int
    other_room: int
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    @asynccontextmanager
    async def client_as(self, role: str) -> AsyncIterator[httpx.AsyncClient]:
        """A client holding the cookies of ``role`` (anonymous: none)."""
        async with self.client() as client:
            if role == "audience":
                response = await client.post(
                    f"/api/events/{SLUG}/participants", json={"display_name": "Ada"}, headers=ORIGIN
                )
                assert response.status_code == 201, response.text
            elif role != "anonymous":
                response = await client.post(f"/invitations/{self.tokens[role]}", headers=ORIGIN)
                assert response.status_code == 303, response.text[:500]
            yield client


@pytest.fixture
async def world(database_url: str, summit_spec: ProgrammeSpec) -> AsyncIterator[World]:
    engine = make_engine(database_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as db:
        await programme.import_programme(db, spec=summit_spec)
        event = await programme.get_event(db, slug=SLUG)
        mine = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
        theirs = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_2)
        assert mine.room is not None and theirs.room is not None
        mine.room.state, mine.room.screen_key = "live", KEY
        panelist = next(a.person for a in mine.appearances if a.person.key == "sameh-wahba")
        grants = {
            "panelist": {"role": "panelist", "person_id": panelist.id},
            "other_moderator": {"role": "moderator", "session_id": theirs.id},
            "moderator": {"role": "moderator", "session_id": mine.id, "label": "Moderator One"},
            "organizer": {"role": "organizer", "label": "Olga Organizer"},
        }
        tokens = {}
        for role, grant in grants.items():
            invitation = await access.create_invitation(
                db, event_id=event.id, now=NOW - timedelta(days=1), **grant
            )
            tokens[role] = invitation_token(invitation.id, invitation.nonce, SECRET)
        await db.commit()
        ids = (event.id, mine.room.id, theirs.room.id)
    settings = Settings(database_url=database_url, public_url=BASE, secret_key=SECRET)
    app = create_app(settings, clock=ManualClock(NOW))
    async with app.router.lifespan_context(app):
        yield World(app, sessionmaker, *ids, tokens=tokens)
    await engine.dispose()


# ---- access control ----------------------------------------------------------------------
def route_table(world: World) -> dict[str, tuple[str, str]]:
    room = f"/events/{SLUG}/rooms/{world.room}"
    return {  # rotating the key comes last: it changes the screen link
        "moderate": ("GET", f"{room}/moderate"),
        "panel": ("GET", f"{room}/panel"),
        "screen": ("GET", f"{room}/screen/{KEY}"),
        "screen_wrong_key": ("GET", f"{room}/screen/{KEY}x"),
        "csv": ("GET", f"{room}/questions.csv"),
        "json": ("GET", f"{room}/questions.json"),
        "api": ("GET", f"/api/rooms/{world.room}/questions"),
        "rotate": ("POST", f"/api/rooms/{world.room}/screen-key"),
    }


OUTSIDER = {
    "moderate": 403,
    "panel": 403,
    "screen": 200,
    "screen_wrong_key": 404,
    "csv": 403,
    "json": 403,
    "api": 403,
    "rotate": 403,
}
STAFF = {
    "moderate": 200,
    "panel": 200,
    "screen": 200,
    "screen_wrong_key": 404,
    "csv": 200,
    "json": 200,
    "api": 200,
    "rotate": 200,
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", OUTSIDER),
        ("audience", OUTSIDER),
        ("panelist", {**OUTSIDER, "panel": 200}),
        ("other_moderator", OUTSIDER),
        ("moderator", STAFF),
        ("organizer", STAFF),
    ],
)
async def test_qa_routes_answer_each_role(world: World, role: str, expected: dict[str, int]):
    async with world.client_as(role) as client:
        statuses = {}
        for name, (method, path) in route_table(world).items():
            response = await client.request(method, path, headers=ORIGIN)
            statuses[name] = response.status_code

    assert statuses == expected


async def test_moderate_page_forbidden_is_an_error_page(world: World):
    async with world.client_as("audience") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/moderate")

    assert (
        response.status_code,
        response.headers["content-type"],
        "room.forbidden" in response.text,
        "only the room&#39;s moderators may do that" in response.text,
    ) == (
        403,
        "text/html; charset=utf-8",
        False,
        True,
    )


async def test_moderate_page_of_a_room_of_another_event_path_is_not_found(world: World):
    async with world.client_as("moderator") as client:
        response = await client.get(f"/events/no-such-event/rooms/{world.room}/moderate")

    assert response.status_code == 404


# ---- what the pages carry ----------------------------------------------------------------
def data_attribute(page: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', page)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


async def test_moderate_page_embeds_panelists_and_screen_link(world: World):
    async with world.client_as("moderator") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/moderate")
    page = response.text

    assert (
        json.loads(data_attribute(page, "data-panelists")),
        f'value="{BASE}/events/{SLUG}/rooms/{world.room}/screen/{KEY}"' in page,
        response.headers["cache-control"],
    ) == (
        [
            {
                "key": "sameh-wahba",
                "name": "Mr. Sameh Wahba",
                "credit": "Sameh Wahba",
                "city": None,
            },
            {
                "key": "lina-liakou",
                "name": "Ms. Lina Liakou",
                "credit": "Lina Liakou",
                "city": None,
            },
            {
                "key": f"{WORKSHOP_1}.4",
                "name": "Mayor of Rabat (tbc)",
                "credit": "Mayor of Rabat",
                "city": "Rabat",
            },
            {
                "key": f"{WORKSHOP_1}.5",
                "name": "Mayor of Paris (tbc)",
                "credit": "Mayor of Paris",
                "city": "Paris",
            },
            {
                "key": f"{WORKSHOP_1}.6",
                "name": "Mayor of Namur (tbc)",
                "credit": "Mayor of Namur",
                "city": "Namur",
            },
            {
                "key": f"{WORKSHOP_1}.7",
                "name": "Mayor of Glasgow (tbc)",
                "credit": "Mayor of Glasgow",
                "city": "Glasgow",
            },
            {
                "key": "rusen-keles",
                "name": "Mr. Prof. Dr. Ruşen Keleş (tbc)",
                "credit": "Ruşen Keleş",
                "city": None,
            },
        ],
        True,
        "no-store",
    )


async def test_moderate_page_makes_a_screen_key_once(world: World):
    async with world.sessionmaker() as db:
        room = await db.get(Room, world.room)
        room.screen_key = None
        await db.commit()

    async with world.client_as("moderator") as client:
        keyless = await client.get(f"/events/{SLUG}/rooms/{world.room}/screen/None")
        first = await client.get(f"/events/{SLUG}/rooms/{world.room}/moderate")
        second = await client.get(f"/events/{SLUG}/rooms/{world.room}/moderate")
    async with world.sessionmaker() as db:
        key = (await db.get(Room, world.room)).screen_key

    link = f"{BASE}/events/{SLUG}/rooms/{world.room}/screen/{key}"
    assert (keyless.status_code, len(key or ""), link in first.text, link in second.text) == (
        404,
        22,
        True,
        True,
    )


async def test_panel_page_embeds_the_panelists_person_key(world: World):
    async with world.client_as("panelist") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/panel")

    assert data_attribute(response.text, "data-person-key") == "sameh-wahba"


async def test_panel_page_says_where_the_session_stands_in_the_servers_time(world: World):
    async with world.sessionmaker() as db:
        room = await db.get(Room, world.room)
        room.stage_url = "https://meet.example/w1"
        await db.commit()
    async with world.client_as("panelist") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/panel")

    # The clock the cockpit's countdowns run against is the server's (here, the test's).
    assert (
        data_attribute(response.text, "data-server-now"),
        data_attribute(response.text, "data-zone-label"),
        '<a class="cockpit-stage-link" href="https://meet.example/w1" target="_blank"'
        in response.text,
        "Izmir time</span> 16:00–17:30" in response.text,
    ) == ("2021-12-08T12:50:00.000Z", "Izmir", True, True)


async def count_participants(world: World, name: str) -> int:
    async with world.sessionmaker() as db:
        return await db.scalar(
            select(func.count()).select_from(Participant).where(Participant.display_name == name)
        )


async def test_screen_page_gives_the_browser_a_big_screen_participant_once(world: World):
    path = f"/events/{SLUG}/rooms/{world.room}/screen/{KEY}"
    async with world.client() as client:
        first = await client.get(path)
        second = await client.get(path)

    assert (
        first.status_code,
        "townhall_participant" in first.headers.get("set-cookie", ""),
        "set-cookie" in second.headers,
        await count_participants(world, "Big screen"),
        first.headers["referrer-policy"],
        f'aria-label="QR code of {BASE}/events/{SLUG}/rooms/{world.room}"' in first.text,
        f'<p class="qa-screen-link">{BASE}/events/{SLUG}/rooms/{world.room}</p>' in first.text,
    ) == (200, True, False, 1, "no-referrer", True, True)


async def test_screen_page_hides_top_questions_until_there_are_some(world: World):
    async with world.client() as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/screen/{KEY}")

    # screen.js shows the section with its first question; an empty heading never shows.
    assert (
        '<section class="qa-screen-top" aria-labelledby="screen-top-heading" hidden>'
        in response.text
    )


async def test_screen_page_keeps_an_existing_participant(world: World):
    async with world.client_as("audience") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/screen/{KEY}")

    assert (
        response.status_code,
        "set-cookie" in response.headers,
        await count_participants(world, "Big screen"),
    ) == (200, False, 0)


async def test_screen_key_rotation_retires_the_old_link(world: World):
    room = f"/events/{SLUG}/rooms/{world.room}"
    async with world.client_as("moderator") as client:
        rotated = await client.post(f"/api/rooms/{world.room}/screen-key", headers=ORIGIN)
        new_link = rotated.json()["screen_url"]
        old = await client.get(f"{room}/screen/{KEY}")
        new = await client.get(new_link.removeprefix(BASE))
    async with world.sessionmaker() as db:
        audit = (
            await db.scalars(
                select(AuditEntry).where(AuditEntry.action == "room.screen_key_rotated")
            )
        ).all()

    assert (
        rotated.status_code,
        new_link.startswith(f"{BASE}{room}/screen/") and KEY not in new_link,
        old.status_code,
        new.status_code,
        [(a.actor, a.room_id, a.target) for a in audit],
    ) == (200, True, 404, 200, [("Moderator One", world.room, f"room {world.room}")])


async def test_screen_key_rotation_needs_a_same_site_origin(world: World):
    async with world.client_as("moderator") as client:
        response = await client.post(
            f"/api/rooms/{world.room}/screen-key", headers={"Origin": "https://evil.example"}
        )

    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf.origin")


# ---- exports -----------------------------------------------------------------------------
MINUTE = timedelta(minutes=1)
SCRIPT = '<script>alert("x")</script> How will cities pay for resilience?'
FORMULA = '=HYPERLINK("http://evil.example","click")'


async def hostile_questions(world: World) -> dict[str, object]:
    """Three questions: a named one with a script, an anonymous formula, a pending '+1'."""
    moderator = Viewer(
        participant_id=None,
        display_name="Moderator One",
        event_id=world.event_id,
        moderates=frozenset({world.room}),
    )
    async with world.sessionmaker() as db:
        people = {}
        for name in ("Alice <b>", "Bob", "@bob"):
            participant = await create_participant(
                db, event_id=world.event_id, display_name=name, now=NOW
            )
            people[name] = Viewer(
                participant_id=participant.id, display_name=name, event_id=world.event_id
            )
        script, _ = await questions.submit_question(
            db,
            room_id=world.room,
            viewer=people["Alice <b>"],
            text=SCRIPT,
            anonymous=False,
            to="sameh-wahba",
            language="fr",
            now=NOW,
        )
        formula, _ = await questions.submit_question(
            db,
            room_id=world.room,
            viewer=people["Bob"],
            text=FORMULA,
            anonymous=True,
            language="tr",
            now=NOW + MINUTE,
        )
        plus, _ = await questions.submit_question(
            db,
            room_id=world.room,
            viewer=people["@bob"],
            text="+1 to the above",
            anonymous=False,
            now=NOW + 2 * MINUTE,
        )
        await questions.approve_question(
            db, room_id=world.room, question_id=script.id, moderator=moderator, now=NOW + 3 * MINUTE
        )
        await questions.dismiss_question(
            db,
            room_id=world.room,
            question_id=formula.id,
            moderator=moderator,
            now=NOW + 4 * MINUTE,
            reason="-spam",
        )
        await questions.mark_answered(
            db,
            room_id=world.room,
            question_id=script.id,
            moderator=moderator,
            now=NOW + 5 * MINUTE,
            by="sameh-wahba",
        )
        await db.commit()
        return {
            "ids": (script.id, formula.id, plus.id),
            "participants": {n: v.participant_id for n, v in people.items()},
        }


def z(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


async def test_questions_json_export_has_every_question_with_its_history(world: World):
    made = await hostile_questions(world)
    script, formula, plus = made["ids"]
    p = made["participants"]
    async with world.client_as("moderator") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/questions.json")
        api = await client.get(f"/api/rooms/{world.room}/questions")

    sameh = {"key": "sameh-wahba", "name": "Sameh Wahba", "city": None}
    base = {
        "to": None,
        "assigned_to": None,
        "answered_at": None,
        "answered_by": None,
        "merged_into": None,
        "pinned": None,
        "flagged": None,
        "dismiss_reason": None,
        "edited": False,
        "votes": 0,
        "published_at": None,
        "language": None,
    }
    assert (
        response.status_code,
        response.headers["cache-control"],
        response.json(),
        api.json(),
    ) == (
        200,
        "no-store",
        {
            "event": SLUG,
            "room": world.room,
            "session": {
                "slug": WORKSHOP_1,
                "title": "Thematic workshop 1: Building resilience in cities",
            },
            "exported_at": z(NOW),
            "questions": [
                {
                    **base,
                    "id": script,
                    "status": "answered",
                    "text": SCRIPT,
                    "language": "fr",
                    "anonymous": False,
                    "participant": p["Alice <b>"],
                    "author": "Alice <b>",
                    "to": sameh,
                    "created_at": z(NOW),
                    "published_at": z(NOW + 3 * MINUTE),
                    "answered_at": z(NOW + 5 * MINUTE),
                    "updated_at": z(NOW + 5 * MINUTE),
                    "answered_by": "Sameh Wahba",
                    "moderator_actions": [
                        {
                            "at": z(NOW + 3 * MINUTE),
                            "actor": "Moderator One",
                            "action": "question.approved",
                            "data": {},
                        },
                        {
                            "at": z(NOW + 5 * MINUTE),
                            "actor": "Moderator One",
                            "action": "question.answered",
                            "data": {"by": "Sameh Wahba"},
                        },
                    ],
                },
                {
                    **base,
                    "id": formula,
                    "status": "dismissed",
                    "text": FORMULA,
                    "language": "tr",
                    "anonymous": True,
                    "participant": p["Bob"],
                    "author": None,
                    "dismiss_reason": "-spam",
                    "created_at": z(NOW + MINUTE),
                    "updated_at": z(NOW + 4 * MINUTE),
                    "moderator_actions": [
                        {
                            "at": z(NOW + 4 * MINUTE),
                            "actor": "Moderator One",
                            "action": "question.dismissed",
                            "data": {"reason": "-spam"},
                        },
                    ],
                },
                {
                    **base,
                    "id": plus,
                    "status": "pending",
                    "text": "+1 to the above",
                    "anonymous": False,
                    "participant": p["@bob"],
                    "author": "@bob",
                    "created_at": z(NOW + 2 * MINUTE),
                    "updated_at": z(NOW + 2 * MINUTE),
                    "moderator_actions": [],
                },
            ],
        },
        response.json(),
    )


async def test_questions_csv_export_is_spreadsheet_safe(world: World):
    made = await hostile_questions(world)
    script, formula, plus = made["ids"]
    p = made["participants"]
    async with world.client_as("organizer") as client:
        response = await client.get(f"/events/{SLUG}/rooms/{world.room}/questions.csv")
    body = response.content

    assert body.startswith("\ufeff".encode()), "the CSV starts with a UTF-8 byte order mark"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8").removeprefix("\ufeff"))))
    assert (response.headers["content-type"], response.headers["content-disposition"], rows) == (
        "text/csv; charset=utf-8",
        f'attachment; filename="{SLUG}-room-{world.room}-questions.csv"',
        [
            [
                "id",
                "status",
                "text",
                "language",
                "votes",
                "anonymous",
                "participant",
                "author",
                "to",
                "assigned_to",
                "created_at",
                "published_at",
                "answered_at",
                "updated_at",
                "answered_by",
                "merged_into",
                "pinned",
                "flagged",
                "dismiss_reason",
                "edited",
                "moderator_actions",
            ],
            [
                str(script),
                "answered",
                SCRIPT,
                "fr",
                "0",
                "no",
                p["Alice <b>"],
                "Alice <b>",
                "Sameh Wahba",
                "",
                z(NOW),
                z(NOW + 3 * MINUTE),
                z(NOW + 5 * MINUTE),
                z(NOW + 5 * MINUTE),
                "Sameh Wahba",
                "",
                "",
                "",
                "",
                "no",
                f"{z(NOW + 3 * MINUTE)} question.approved by Moderator One; "
                f"{z(NOW + 5 * MINUTE)} question.answered by Moderator One (by: Sameh Wahba)",
            ],
            [
                str(formula),
                "dismissed",
                "'" + FORMULA,
                "tr",
                "0",
                "yes",
                p["Bob"],
                "",
                "",
                "",
                z(NOW + MINUTE),
                "",
                "",
                z(NOW + 4 * MINUTE),
                "",
                "",
                "",
                "",
                "'-spam",
                "no",
                f"{z(NOW + 4 * MINUTE)} question.dismissed by Moderator One (reason: -spam)",
            ],
            [
                str(plus),
                "pending",
                "'+1 to the above",
                "",
                "0",
                "no",
                p["@bob"],
                "'@bob",
                "",
                "",
                z(NOW + 2 * MINUTE),
                "",
                "",
                z(NOW + 2 * MINUTE),
                "",
                "",
                "",
                "",
                "",
                "no",
                "",
            ],
        ],
    )


async def test_qa_api_answers_match_the_openapi_document(world: World):
    await hostile_questions(world)
    async with world.client_as("moderator") as client:
        document = (await client.get("/openapi.json")).json()
        questions_answer = (await client.get(f"/api/rooms/{world.room}/questions")).json()
        rotated = (await client.post(f"/api/rooms/{world.room}/screen-key", headers=ORIGIN)).json()
        refused = await client.get(f"/api/rooms/{world.other_room}/questions")

    def check(name: str, value: object) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        jsonschema.validate(value, schema)

    check("QuestionExport", questions_answer)
    check("ScreenLink", rotated)
    check("Error", refused.json())
    assert (len(questions_answer["questions"]), refused.status_code) == (3, 403)
