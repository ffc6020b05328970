"""The audit log as organizers read it: actions in words (in their language) naming the
question by its text, values in event time with the zone named, nothing of Python showing;
filters by room, person and action, combinable and kept in the page links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element

from test_console import (
    CONSOLE,
    NEW_SESSION,
    NOW,
    ORIGIN,
    WORKSHOP_1,
    WORKSHOP_2,
    WORKSHOP_3,
    World,
    add_audit,
    form_fields,
    parse,
    text_of,
)
from test_console import world as world  # the fixture

from townhall.platform.models import Question
from townhall.platform.participants import create_participant

QUESTION = "How do cities keep their water running when the river floods?"


async def ask(world: World, room: int, text: str) -> int:
    async with world.sessionmaker() as db:
        asker = await create_participant(db, event_id=world.event_id, display_name="Ada", now=NOW)
        question = Question(
            room_id=room, participant_id=asker.id, author_name="Ada", text=text, status="approved"
        )
        db.add(question)
        await db.commit()
        return question.id


def table_rows(doc: Element) -> list[list[str]]:
    return [
        [text_of(cell) for cell in row.findall("td")] for row in doc.iter("tr") if row.findall("td")
    ]


async def test_audit_log_names_questions_and_speaks_event_time(world: World) -> None:
    room = world.rooms[WORKSHOP_1]
    asked = await ask(world, room, QUESTION)
    duplicate = await ask(world, room, "Floods and water?")
    await add_audit(world, 1, action="question.on_air", room_id=room, target=f"question {asked}")
    await add_audit(
        world,
        1,
        action="question.assigned",
        room_id=room,
        target=f"question {asked}",
        data={"to": "sameh-wahba"},
    )
    await add_audit(
        world,
        1,
        action="question.merged",
        room_id=room,
        target=f"question {duplicate}",
        data={"into": asked},
    )
    await add_audit(
        world,
        1,
        action="session.updated",
        target=WORKSHOP_3,
        data={
            "changed": ["starts_at", "ends_at"],
            "from": ["2021-12-08T13:00:00Z", "2021-12-08T14:30:00Z"],
            "to": ["2021-12-08T13:30:00Z", "2021-12-08T15:00:00Z"],
        },
    )
    await add_audit(  # as the command line writes it
        world,
        1,
        actor="command line",
        action="invitation.created",
        target="invitation 1",
        data={"role": "panelist", "session": None, "person": "Sameh Wahba", "slot": None},
    )
    await add_audit(
        world,
        1,
        action="room.settings_changed",
        room_id=room,
        target="Thematic workshop 1: Building resilience in cities",
        data={"changed": {"premoderation": [True, False], "stage_url": [None, "https://x.org"]}},
    )
    async with world.client_as("organizer") as client:
        english = (await client.get(f"{CONSOLE}/audit")).text
        client.cookies.set("townhall_lang", "fr")
        french = (await client.get(f"{CONSOLE}/audit")).text

    rows = table_rows(parse(english))
    workshop_1 = "Thematic workshop 1: Building resilience in cities"
    assert [row[1:] for row in rows[1:7]] == [  # after the organizer accepting
        [
            "Someone",
            "Changed a room's settings",
            workshop_1,
            "Changed: pre-moderation: yes → no; stage link: — → https://x.org",
        ],
        [
            "command line",
            "Created an invitation",
            "Test organizer",
            "Role: panelist; Person: Sameh Wahba",
        ],
        [
            "Someone",
            "Changed a session",
            "Thematic workshop 3: Promoting dialogue and solidarity",
            "Changed: start, end; "
            "Previously: 8 Dec 2021, 16:00 (Izmir), 8 Dec 2021, 17:30 (Izmir); "
            "Now: 8 Dec 2021, 16:30 (Izmir), 8 Dec 2021, 18:00 (Izmir)",
        ],
        [
            "Someone",
            "Merged a question into another",
            f"“Floods and water?” {workshop_1}",
            f"Into: “{QUESTION}”",
        ],
        [
            "Someone",
            "Assigned a question to a panelist",
            f"“{QUESTION}” {workshop_1}",
            "To: Mr. Sameh Wahba",
        ],
        ["Someone", "Put a question on air", f"“{QUESTION}” {workshop_1}", ""],
    ]
    assert rows[0][0].endswith("(Izmir)")
    shown = text_of(parse(english).find(".//main"))
    leaks = ("None", "True", "False", "T13:00", "question.", "invitation 1", "question 1")
    assert [leak for leak in leaks if leak in shown] == []
    assert [row[2] for row in table_rows(parse(french))[1:3]] == [
        "A modifié les réglages d’une salle",
        "A créé une invitation",
    ]


async def test_audit_log_filters_by_room_person_and_action_across_pages(world: World) -> None:
    room_1, room_3 = world.rooms[WORKSHOP_1], world.rooms[WORKSHOP_3]
    await add_audit(world, 60, actor="Güldem", action="question.approved", room_id=room_1)
    await add_audit(world, 3, actor="Güldem", action="question.approved", room_id=room_3)
    await add_audit(world, 2, actor="Begüm", action="question.approved", room_id=room_1)
    await add_audit(world, 4, actor="Güldem", action="question.dismissed", room_id=room_1)
    async with world.client_as("organizer") as client:
        query = {"room": room_1, "person": "Güldem", "action": "question.approved"}
        first = parse((await client.get(f"{CONSOLE}/audit", params=query)).text)
        [older] = [a.get("href") for a in first.iter("a") if a.get("rel") == "next"]
        second = parse((await client.get(f"{CONSOLE}/audit{older}")).text)
        [newer] = [a.get("href") for a in second.iter("a") if a.get("rel") == "prev"]
        by_target = parse(
            (await client.get(f"{CONSOLE}/audit", params={"person": "Test organizer"})).text
        )
        nothing = parse(
            (await client.get(f"{CONSOLE}/audit", params={"person": "Begüm", "room": room_3})).text
        )

    selected = {
        s.get("name"): [
            o.get("value", o.text) for o in s.iter("option") if o.get("selected") is not None
        ]
        for s in first.iter("select")
    }
    assert (
        len(table_rows(first)),
        len(table_rows(second)),
        {k: v for k, v in parse_qs(urlsplit(older).query).items()},
        parse_qs(urlsplit(newer).query),
        {row[1] for row in table_rows(first) + table_rows(second)},
        {row[2] for row in table_rows(first) + table_rows(second)},
        selected,
    ) == (
        50,
        10,
        {
            "room": [str(room_1)],
            "person": ["Güldem"],
            "action": ["question.approved"],
            "page": ["2"],
        },
        {"room": [str(room_1)], "person": ["Güldem"], "action": ["question.approved"]},
        {"Güldem"},
        {"Approved a question"},
        {"room": [str(room_1)], "person": ["Güldem"], "action": ["question.approved"]},
    )
    # The person as the one an entry concerns: the invitation they accepted.
    assert [row[2:3] for row in table_rows(by_target)] == [["Accepted an invitation"]]
    assert table_rows(nothing) == [] and "Nothing recorded matches these filters." in text_of(
        nothing.find(".//main")
    )


# ---- every mutating HTTP route writes the audit log --------------------------------------
# Not staff actions (nothing to audit): choosing a language, joining the audience. Accepting an
# invitation is audited (``invitation.redeemed``): the organizer of this test accepts theirs.
ROUTE = "/events/{slug}/console"
NOT_STAFF = {"/language", "/api/events/{slug}/participants", "/invitations/{token}"}


def post_routes(app: object) -> set[str]:
    return {
        route.path
        for route in app.routes  # type: ignore[attr-defined]
        if "POST" in (getattr(route, "methods", None) or ())
    }


async def test_every_mutating_route_writes_the_audit_log(world: World) -> None:
    room = world.rooms[WORKSHOP_1]
    question = await ask(world, room, QUESTION)
    async with world.client_as("organizer") as client:
        edit = form_fields(parse((await client.get(f"{CONSOLE}/programme/{WORKSHOP_1}")).text), "")
        rooms = parse((await client.get(f"{CONSOLE}/rooms")).text)
        settings = form_fields(rooms, f"{CONSOLE}/rooms/{room}") | {"stage_url": "https://x.org"}
        # (route, path, form, the action it records)
        posts = [
            (ROUTE + "/admission", "/admission", {"admission": "open"}, "event.admission_changed"),
            (ROUTE + "/programme", "/programme", NEW_SESSION, "session.created"),
            (ROUTE + "/people", "/people", {"name": "Ada Lovelace"}, "person.created"),
            (
                ROUTE + "/programme/{session}",
                f"/programme/{WORKSHOP_1}",
                edit | {"title": "Resilient cities"},
                "session.updated",
            ),
            (
                ROUTE + "/programme/{session}/seats/{slot}",
                f"/programme/{WORKSHOP_1}/seats/{WORKSHOP_1}.5",
                {"name": "Anne Hidalgo", "city": "Paris", "confirmed": "on"},
                "slot.seated",
            ),
            (
                ROUTE + "/programme/{session}/remove",
                f"/programme/{WORKSHOP_2}/remove",
                {},
                "session.removed",
            ),
            (ROUTE + "/rooms/{room_id:int}", f"/rooms/{room}", settings, "room.settings_changed"),
            (
                ROUTE + "/invitations",
                "/invitations",
                {"role": "organizer", "days": "3"},
                "invitation.created",
            ),
            (
                ROUTE + "/invitations/{id:int}/resend",
                "/invitations/2/resend",
                {},
                "invitation.resent",
            ),
            (
                ROUTE + "/invitations/{id:int}/revoke",
                "/invitations/2/revoke",
                {},
                "invitation.revoked",
            ),
            (
                ROUTE + "/rooms/{room_id:int}/summary",
                f"/rooms/{room}/summary",
                {"hidden": "on"},
                "summary.hidden",
            ),
            (
                ROUTE + "/rooms/{room_id:int}/summary",
                f"/rooms/{room}/summary",
                {"hidden": "on", "question": str(question)},
                "summary.question_hidden",
            ),
            (
                "/api/rooms/{room_id:int}/screen-key",
                f"/api/rooms/{room}/screen-key",
                None,
                "room.screen_key_rotated",
            ),
        ]
        written = []
        for _, path, form, _ in posts:
            before = len(await world.audit())
            url = path if path.startswith("/api/") else CONSOLE + path
            response = await client.post(url, data=form, headers=ORIGIN)
            assert response.status_code in (200, 303), (path, response.text[:300])
            written.append([action for _, action, _ in (await world.audit())[: -before or None]])

    assert (post_routes(world.app) - NOT_STAFF, written) == (
        {route for route, *_ in posts},
        [[action] for *_, action in posts],
    )
