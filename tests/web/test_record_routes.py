"""The session record files: the speaker log, airtime per city and backstage, as JSON (matching
the OpenAPI schema) and CSV, for the room's staff only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import jsonschema
import test_qa_routes
from test_qa_routes import NOW, SLUG, World

from townhall.platform import backstage, floor
from townhall.platform.viewers import Viewer

world = test_qa_routes.world  # the same app, people and invitations as the Q&A routes
SECOND = timedelta(seconds=1)
PARIS = "workshop-1-building-resilience.5"


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def speak(world: World) -> None:
    """The Paris seat speaks a minute, then Sameh Wahba; Sameh writes backstage."""
    async with world.sessionmaker() as db:
        mod = Viewer(None, "Moderator One", world.event_id, moderates=frozenset({world.room}))
        for offset, key in enumerate((PARIS, "sameh-wahba")):
            await floor.add_to_floor(
                db,
                room_id=world.room,
                moderator=mod,
                person=key,
                kind="contribution",
                now=NOW + offset * SECOND,
            )
        await floor.grant_floor(db, room_id=world.room, moderator=mod, now=NOW + 10 * SECOND)
        await floor.grant_floor(db, room_id=world.room, moderator=mod, now=NOW + 70 * SECOND)
        await backstage.send_backstage(
            db,
            room_id=world.room,
            sender=Viewer("p", "Sameh Wahba", world.event_id, panelist_in=frozenset({world.room})),
            text="=HYPERLINK(1) is not a formula here",
            now=NOW + 80 * SECOND,
        )
        await db.commit()


async def test_record_exports_speakers_airtime_and_backstage_to_staff_only(world: World):
    await speak(world)
    room = f"/events/{SLUG}/rooms/{world.room}"
    async with world.client_as("moderator") as client:
        document = (await client.get(f"{room}/record.json")).json()
        api = (await client.get(f"/api/rooms/{world.room}/record")).json()
        schema = (await client.get("/openapi.json")).json()
        files = {
            name: (await client.get(f"{room}/{name}")).content.decode("utf-8-sig")
            for name in ("speakers.csv", "airtime.csv", "backstage.csv")
        }
    async with world.client_as("panelist") as client:
        refused = await client.get(f"{room}/record.json")

    jsonschema.validate(
        document,
        {"$ref": "#/components/schemas/SessionRecord", "components": schema["components"]},
    )
    rows = {name: list(csv.reader(io.StringIO(text))) for name, text in files.items()}
    assert (document == api, refused.status_code) == (True, 403)
    assert {k: document[k] for k in ("speakers", "airtime", "backstage")} == {
        "speakers": [
            {
                "request": document["speakers"][0]["request"],
                "name": "Mayor of Paris",
                "city": "Paris",
                "kind": "contribution",
                "granted_at": utc(NOW + 10 * SECOND),
                "ended_at": utc(NOW + 70 * SECOND),
                "limit_seconds": None,
                "seconds": 60,
            },
            {
                "request": document["speakers"][1]["request"],
                "name": "Sameh Wahba",
                "city": None,
                "kind": "contribution",
                "granted_at": utc(NOW + 70 * SECOND),
                "ended_at": None,
                "limit_seconds": None,
                "seconds": None,
            },
        ],
        # The clock stands at NOW: the turn under way has not started yet, so it counts 0.
        "airtime": {
            "people": [
                {
                    "name": "Mayor of Paris",
                    "person": PARIS,
                    "city": "Paris",
                    "seconds": 60,
                    "turns": 1,
                },
                {
                    "name": "Sameh Wahba",
                    "person": "sameh-wahba",
                    "city": None,
                    "seconds": 0,
                    "turns": 1,
                },
            ],
            "cities": [
                {"city": "Paris", "seconds": 60, "turns": 1},
                {"city": None, "seconds": 0, "turns": 1},
            ],
        },
        "backstage": [
            {
                "sent_at": utc(NOW + 80 * SECOND),
                "from": "Sameh Wahba",
                "role": "panelist",
                "to": None,
                "text": "=HYPERLINK(1) is not a formula here",
                "question": None,
            }
        ],
    }
    assert rows == {
        "speakers.csv": [
            [
                "Request",
                "Name",
                "City",
                "Kind",
                "Floor given at (UTC)",
                "Turn ended at (UTC)",
                "Time limit (seconds)",
                "Seconds",
            ],
            [
                str(document["speakers"][0]["request"]),
                "Mayor of Paris",
                "Paris",
                "contribution",
                utc(NOW + 10 * SECOND),
                utc(NOW + 70 * SECOND),
                "",
                "60",
            ],
            [
                str(document["speakers"][1]["request"]),
                "Sameh Wahba",
                "",
                "contribution",
                utc(NOW + 70 * SECOND),
                "",
                "",
                "",
            ],
        ],
        "airtime.csv": [["City", "Seconds", "Turns"], ["Paris", "60", "1"], ["", "0", "1"]],
        "backstage.csv": [
            ["Sent at (UTC)", "From", "Role", "To", "Text", "Question"],
            [
                utc(NOW + 80 * SECOND),
                "Sameh Wahba",
                "panelist",
                "",
                "'=HYPERLINK(1) is not a formula here",
                "",
            ],
        ],
    }
