"""Visitors: a connection with no identity in the event follows the public Q&A read-only.

Before giving a name, a visitor sees the question on air and the published questions live,
exactly as the audience sees them — never a pending question, never who asked anonymously —
is not counted as present, and is told ``auth.required`` when it asks or votes. An event that
needs an access code shows visitors nothing.
"""

from __future__ import annotations

from sqlalchemy import update
from support.clients import Message
from support.stack import Stack
from support.summit import WORKSHOP_1

from townhall.platform.models import Event

LOBBY_OPEN = "2021-12-08T15:50:00+03:00"  # workshop 1 opens at 15:45, starts at 16:00


def questions_seen(messages: list[Message]) -> list[dict]:
    """Every question view in what a client received (snapshots and events alike)."""
    seen = []
    for message in messages:
        if message["type"] == "room.snapshot":
            seen += message["state"]["questions"]
        if message["type"] == "event" and isinstance(message["data"].get("question"), dict):
            seen.append(message["data"]["question"])
    return seen


async def test_visitor_follows_the_public_questions_and_may_not_ask(embedded: Stack) -> None:
    server = embedded.server("a", now=LOBBY_OPEN)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    visitor = await embedded.client(server, None, "visitor")
    joined = await visitor.request("room.join", room=room)
    ada = await embedded.audience(server, "Ada")
    await ada.join(room)
    moderator = await embedded.moderator(server)
    await moderator.join(room)

    asked = []
    for anonymous in (True, False):
        reply = await ada.request(
            "question.submit", room=room, text=f"Anonymous {anonymous}?", anonymous=anonymous
        )
        asked.append(reply["data"]["question"])
    await moderator.request("question.approve", room=room, question=asked[0])
    await moderator.request("question.put_on_air", room=room, question=asked[0])
    await visitor.wait_for(lambda m: m.get("name") == "question.on_air", within=10)
    submit = await visitor.request(
        "question.submit", room=room, text="May I ask without a name?", anonymous=False
    )
    vote = await visitor.request("question.vote", room=room, question=asked[0])
    counted = await visitor.eventually(
        lambda c: bool(c.of_type("presence")) and c.of_type("presence")[-1]["audience"] == 1,
        within=10,
    )

    seen = questions_seen(visitor.messages)
    assert (
        joined["data"],
        {q["id"] for q in seen},
        {key for q in seen for key in q} & {"participant", "author_name", "dismiss_reason"},
        {q["author"] for q in seen},
        (submit["code"], vote["code"], visitor.is_open),
        (counted, max(p["audience"] for p in visitor.of_type("presence"))),
    ) == (
        {"room": room, "tier": "audience"},
        {asked[0]},  # the published one only: the pending one never reached the visitor
        set(),
        {None},  # asked anonymously: no name on the wire
        ("auth.required", "auth.required", True),
        (True, 1),  # Ada; never the visitor (nor the moderator: staff)
    )


async def test_visitor_of_an_event_with_an_access_code_must_join_first(embedded: Stack) -> None:
    async with embedded.db.sessionmaker() as db:
        await db.execute(update(Event).values(access_code="izmir-2021"))
        await db.commit()
    server = embedded.server("a", now=LOBBY_OPEN)
    await embedded.start(server)
    visitor = await embedded.client(server, None, "visitor")

    refused = await visitor.request("room.join", room=embedded.rooms[WORKSHOP_1])

    assert (refused["type"], refused["code"], visitor.is_open) == (
        "error",
        "auth.required",
        True,
    )
